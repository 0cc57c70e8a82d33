#!/bin/sh
# hedgehog candles: bars from ticks, byte for byte against hand-written
# expectations; the reorder across segments (MCX 09:00 vs NSE 09:15 with a
# cut last bar); a real day of NIFTY per-second values; exit codes.
. "$HH_ROOT/tests/integration/lib.sh"
hh_setup_tmp
EX=$HH_ROOT/examples

# --- small files, hand-written expectations ----------------------------------
check "5m candles exit 0" "$HH" candles --ticks "$DATA/ticks_basic.csv" --tf 5m \
    --out "$T/basic5.csv"
same_file "5m candles match" "$DATA/ticks_basic.5m.expected.csv" "$T/basic5.csv"

"$HH" candles --ticks "$DATA/ticks_basic.csv" --tf 1h --out "$T/basic1h.csv" 2>"$T/err1h"
equals "1h candles exit 0" 0 $?
same_file "1h candles match (last bar cut at 15:30)" "$DATA/ticks_basic.1h.expected.csv" \
    "$T/basic1h.csv"
contains "summary counts rows, candles, skips by reason, out of session" "$T/err1h" \
    "candles: 13 rows, 5 candles written, 2 rows skipped (order 1, field 1, ohlc 0), 2 ticks out of session"
contains "skipped row named with file, line and field" "$T/err1h" \
    "ticks_basic.csv:6: skipped: field 'price': not a number"
contains "out-of-order row named" "$T/err1h" "ticks_basic.csv:8: skipped: out of order"

check "config: MCX future and NIFTY (and a holiday on their day), 1h" "$HH" candles --config "$DATA/ticks_mcx_config.yaml" \
    --ticks "$DATA/ticks_mcx.csv" --tf 1h --out "$T/mcx1h.csv"
same_file "MCX aligns to 09:00, output sorted by ts across segments" \
    "$DATA/ticks_mcx.1h.expected.csv" "$T/mcx1h.csv"

# Two segments over a whole day (MCX 09:00-23:55, NSE 09:15-15:30, cut
# bars at both closes): for every timeframe the output is sorted and holds
# one bar per (symbol, bucket) with trades.
awk 'BEGIN {
    print "ts,symbol,price,qty"
    for (s = 9 * 3600; s < 24 * 3600; s += 7) {
        sym = (s % 3 == 0) ? "NIFTY" : "CRUDEOIL25JANFUT"
        printf "2025-01-02T%02d:%02d:%02d+05:30,%s,%d.%02d,%d\n", s / 3600, s / 60 % 60, s % 60,
            sym, 6000 + s % 97, s % 100, 1 + s % 5
    }
}' > "$T/mixed.csv"
for tf in 1m 3m 5m 15m 30m 1h; do
    "$HH" candles --config "$DATA/ticks_mcx_config.yaml" --ticks "$T/mixed.csv" --tf $tf \
        --out "$T/mixed.out" 2>/dev/null
    equals "two segments, --tf $tf: exit 0" 0 $?
    tail -n +2 "$T/mixed.out" > "$T/mixed.body"
    LC_ALL=C sort -t, -k1,1 -k2,2 "$T/mixed.body" > "$T/mixed.sorted"
    same_file "two segments, --tf $tf: sorted by ts, symbol" "$T/mixed.body" "$T/mixed.sorted"
done
equals "two segments, 1h: 15 MCX bars, 7 NSE bars" "15 7" \
    "$(grep -c CRUDEOIL "$T/mixed.out") $(grep -c NIFTY "$T/mixed.out")"

# The same run twice gives identical bytes.
"$HH" candles --ticks "$DATA/ticks_basic.csv" --tf 5m --out "$T/again.csv" 2>/dev/null
same_file "deterministic output" "$T/basic5.csv" "$T/again.csv"

# Every timeframe runs and yields a header plus sorted rows.
for tf in 1m 3m 15m 30m; do
    "$HH" candles --ticks "$DATA/ticks_basic.csv" --tf $tf --out "$T/tf.csv" 2>/dev/null
    equals "--tf $tf exits 0" 0 $?
    tail -n +2 "$T/tf.csv" > "$T/tf.body"
    LC_ALL=C sort -t, -k1,1 -k2,2 "$T/tf.body" > "$T/tf.sorted"
    same_file "--tf $tf output sorted by ts, symbol" "$T/tf.body" "$T/tf.sorted"
done

# --- a real day: NIFTY 50 per-second values of 2022-11-29 --------------------
"$HH" candles --ticks "$EX/nifty50_ticks_2022-11-29.csv" --tf 5m --out "$T/nifty5.csv" \
    2>"$T/nifty.err"
equals "real day: exit 0" 0 $?
equals "real day: 75 five-minute bars, 09:15 to 15:25" 75 "$(tail -n +2 "$T/nifty5.csv" | wc -l | tr -d ' ')"
equals "real day: first bar starts 09:15" "2022-11-29T09:15:00+05:30" \
    "$(sed -n 2p "$T/nifty5.csv" | cut -d, -f1)"
equals "real day: last bar starts 15:25" "2022-11-29T15:25:00+05:30" \
    "$(tail -n 1 "$T/nifty5.csv" | cut -d, -f1)"
# The first in-session price, padded to two places as text (no floating point).
first_in_session=$(awk -F, 'NR > 1 && $1 >= "2022-11-29T09:15:00" {
        p = $3; if (index(p, ".") == 0) p = p ".";
        while (length(p) - index(p, ".") < 2) p = p "0"; print p; exit }' \
    "$EX/nifty50_ticks_2022-11-29.csv")
equals "real day: 09:15 bar opens at the first in-session tick" "$first_in_session" \
    "$(sed -n 2p "$T/nifty5.csv" | cut -d, -f3)"
equals "real day: volumes add up to the in-session seconds" 22500 \
    "$(awk -F, 'NR > 1 { v += $7 } END { print v }' "$T/nifty5.csv")"
contains "real day: pre-open and post-close ticks counted" "$T/nifty.err" \
    "0 rows skipped (order 0, field 0, ohlc 0), 969 ticks out of session"
"$HH" candles --ticks "$EX/nifty50_ticks_2022-11-29.csv" --tf 1h --out "$T/nifty1h.csv" 2>/dev/null
equals "real day: 1h bars end with 15:15 (cut at 15:30)" "7 2022-11-29T15:15:00+05:30" \
    "$(tail -n +2 "$T/nifty1h.csv" | wc -l | tr -d ' ') $(tail -n 1 "$T/nifty1h.csv" | cut -d, -f1)"

# --- exit codes ---------------------------------------------------------------
check_exit "missing ticks file: exit 2" 2 "$HH" candles --ticks "$T/nope.csv" --tf 5m \
    --out "$T/x.csv"
"$HH" candles --ticks "$T/nope.csv" --tf 5m --out "$T/x.csv" 2>"$T/err" >/dev/null
contains "missing file named" "$T/err" "$T/nope.csv"
check_exit "bad header: exit 2" 2 "$HH" candles --ticks "$DATA/ticks_badheader.csv" --tf 5m \
    --out "$T/x.csv"
"$HH" candles --ticks "$DATA/ticks_badheader.csv" --tf 5m --out "$T/x.csv" 2>"$T/err"
contains "bad header names file and column" "$T/err" "ticks_badheader.csv: line 1: header lacks column 'price'"
check_exit "bad --tf: exit 2" 2 "$HH" candles --ticks "$DATA/ticks_basic.csv" --tf 2m \
    --out "$T/x.csv"
check_exit "missing --out: exit 2" 2 "$HH" candles --ticks "$DATA/ticks_basic.csv" --tf 5m
check_exit "missing --ticks: exit 2" 2 "$HH" candles --tf 5m --out "$T/x.csv"
check_exit "missing --tf: exit 2" 2 "$HH" candles --ticks "$DATA/ticks_basic.csv" --out "$T/x.csv"
check_exit "option without value: exit 2" 2 "$HH" candles --ticks
check_exit "unknown option: exit 2" 2 "$HH" candles --ticks "$DATA/ticks_basic.csv" --tf 5m \
    --out "$T/x.csv" --speed 1
printf 'instrumentz: x\n' > "$T/bad.yaml"
"$HH" candles --config "$T/bad.yaml" --ticks "$DATA/ticks_basic.csv" --tf 5m \
    --out "$T/x.csv" 2>"$T/err"
equals "unknown config key: exit 2" 2 $?
contains "unknown config key named" "$T/err" "instrumentz"
check_exit "missing config: exit 2" 2 "$HH" candles --config "$T/nope.yaml" \
    --ticks "$DATA/ticks_basic.csv" --tf 5m --out "$T/x.csv"
check_exit "unwritable output: exit 2" 2 "$HH" candles --ticks "$DATA/ticks_basic.csv" --tf 5m \
    --out "$T/no/such/dir/x.csv"
check_exit "directory as ticks: exit 2" 2 "$HH" candles --ticks "$T" --tf 5m --out "$T/x.csv"
