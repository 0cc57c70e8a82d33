# hedgehog price-options: option bars priced from the underlying's bars
# (Black-76, flat IV).  Input: the last four trading days of the real NIFTY
# 1-minute bars of June 2024 (25th-28th; the monthly expiry is Thursday the
# 27th).  Checked: row counts and order, symbols (monthly and weekly forms),
# prices on the tick and never below it, put-call parity at every bar and
# strike, an independent Black-76 value, calls rising and puts falling with
# the underlying, the OHLC mapping, options stopping at the expiry close,
# the instruments file, determinism, and the exit codes.
. "$HH_ROOT/tests/integration/lib.sh"
hh_setup_tmp
SRC=$HH_ROOT/examples/nifty50_1min_2024-06.csv
HOL=$HH_ROOT/examples/holidays.csv

awk -F, 'NR == 1 || substr($1, 1, 10) >= "2024-06-25"' "$SRC" > "$T/nifty.csv"
nbars=$(($(wc -l < "$T/nifty.csv") - 1))
equals "input slice: 4 days of 375 bars" 1500 "$nbars"

po() {
    "$HH" price-options --bars "$T/nifty.csv" --underlying NIFTY --expiry 2024-06-27 \
        --holidays "$HOL" "$@"
}

check "price-options runs" po --strikes 24000,23500,24500 --iv 0.14 \
    --out "$T/bars.csv" --instruments "$T/inst.csv"
po --strikes 24000,23500,24500 --iv 0.14 --out "$T/bars.csv" 2>"$T/err"
contains "summary line on stderr" "$T/err" \
    "1500 bars of NIFTY, 6750 option bars (3 strikes x CE/PE, monthly symbols), 375 bars at or after the expiry close without options, 8250 rows written"

# ---- rows -------------------------------------------------------------------------
equals "header" "ts,symbol,open,high,low,close,volume" "$(head -1 "$T/bars.csv")"
equals "rows: 1500 underlying + 3 days x 375 x 6 options" 8251 "$(wc -l < "$T/bars.csv")"
equals "underlying rows are the input rows, unchanged" "$(tail -n +2 "$T/nifty.csv" | md5sum)" \
    "$(grep ',NIFTY,' "$T/bars.csv" | md5sum)"
equals "rows in time order, each bar's options right after it with its ts" ok "$(awk -F, '
    NR == 1 { next }
    $2 == "NIFTY" { if ($1 < ts) bad = 1; ts = $1; next }
    $1 != ts { bad = 1 }
    END { print bad ? "bad" : "ok" }' "$T/bars.csv")"
equals "symbols per bar: strikes ascending, CE then PE (monthly form)" \
    "NIFTY NIFTY24JUN23500CE NIFTY24JUN23500PE NIFTY24JUN24000CE NIFTY24JUN24000PE NIFTY24JUN24500CE NIFTY24JUN24500PE" \
    "$(awk -F, 'NR > 1 && NR <= 8 { printf "%s%s", (NR > 2 ? " " : ""), $2 }' "$T/bars.csv")"
equals "option volume: 10000 units per bar" 0 \
    "$(awk -F, 'NR > 1 && $2 != "NIFTY" && $7 != 10000' "$T/bars.csv" | wc -l)"

# ---- expiry -------------------------------------------------------------------------
equals "no option rows after the expiry close (28 June)" 0 \
    "$(awk -F, 'NR > 1 && $2 != "NIFTY" && substr($1, 1, 10) > "2024-06-27"' "$T/bars.csv" | wc -l)"
equals "the underlying keeps coming on 28 June" 375 \
    "$(grep -c '^2024-06-28T.*,NIFTY,' "$T/bars.csv")"
equals "options priced up to the expiry day's last bar (15:29)" 6 \
    "$(grep -c '^2024-06-27T15:29:00+05:30,NIFTY24' "$T/bars.csv")"
# one minute before expiry an option is worth its intrinsic value (at the tick)
equals "at 15:29 on expiry day: 24000 CE = close - 24000 (24036.10)" \
    "2024-06-27T15:29:00+05:30,NIFTY24JUN24000CE,36.10" \
    "$(grep '^2024-06-27T15:29:00+05:30,NIFTY24JUN24000CE,' "$T/bars.csv" | cut -d, -f1,2,6)"

# ---- prices -------------------------------------------------------------------------
equals "every option price on the 0.05 tick" 0 "$(awk -F, '
    NR > 1 && $2 != "NIFTY" { for (i = 3; i <= 6; i++) { split($i, a, "."); if ((a[2] + 0) % 5) n++ } }
    END { print n + 0 }' "$T/bars.csv")"
equals "no option price below one tick" 0 "$(awk -F, '
    NR > 1 && $2 != "NIFTY" { for (i = 3; i <= 6; i++) if ($i < 0.05) n++ } END { print n + 0 }' \
    "$T/bars.csv")"
equals "far out of the money, prices stop at the one-tick floor (24500 CE)" yes \
    "$(awk -F, '$2 == "NIFTY24JUN24500CE" && $6 == "0.05" { f = 1 } END { print f ? "yes" : "no" }' \
      "$T/bars.csv")"
equals "OHLC consistent: high >= max(open, close), low <= min(open, close)" 0 "$(awk -F, '
    NR > 1 && $2 != "NIFTY" && ($4 < $3 || $4 < $6 || $5 > $3 || $5 > $6)' "$T/bars.csv" | wc -l)"
# put-call parity at r = 0: C - P = S - K, per price of the bar (each side
# rounded half-up to the tick, -0.025..+0.025, or raised to the one-tick
# floor, +0.05 at most: |error| < 0.075).  High/low pair crosswise: the
# call's high and the put's low both come from the underlying's high.
equals "put-call parity (r = 0) at every bar, strike and price" 0 "$(awk -F, '
    function abs(x) { return x < 0 ? -x : x }
    NR == 1 { next }
    $2 == "NIFTY" { o = $3; h = $4; l = $5; c = $6; next }
    { k = substr($2, 11, length($2) - 12) + 0; t = substr($2, length($2) - 1) }
    t == "CE" { co = $3; ch = $4; cl = $5; cc = $6; next }
    { if (abs(co - $3 - (o - k)) > 0.0751 || abs(ch - $5 - (h - k)) > 0.0751 ||
          abs(cl - $4 - (l - k)) > 0.0751 || abs(cc - $6 - (c - k)) > 0.0751) n++ }
    END { print n + 0 }' "$T/bars.csv")"
# calls move with the underlying, puts against it (consecutive bars of a day,
# closes, moves of 10 points or more: time decay over a minute is smaller)
equals "calls rise and fall with the underlying, puts against it" 0 "$(awk -F, '
    NR == 1 { next }
    $2 == "NIFTY" { d = substr($1, 1, 10); ds = (d == pd) ? $6 - ps : 0; pd = d; ps = $6; next }
    { key = $2; if ((key in last) && (ds >= 10 || ds <= -10)) {
          dc = $6 - last[key]; up = substr(key, length(key) - 1) == "CE" ? 1 : -1
          if (dc * ds * up < 0) n++; else m++ }
      last[key] = $6 }
    END { print (m > 100 ? n + 0 : "too few moves: " m) }' "$T/bars.csv")"
# an independent Black-76 value: 25 June 09:15, S = open, K 24000, T to
# 27 June 15:30 = 2 days 6 h 15 min (ACT/365), sigma 0.14, r 0; the normal
# CDF by Abramowitz-Stegun 26.2.17 (|error| < 7.5e-8)
equals "24000 CE open on 25 June equals an independent Black-76 value" ok "$(awk -F, '
    function N(x,   t, z, p, q) { z = x < 0 ? -x : x; t = 1 / (1 + 0.2316419 * z)
        q = t * (0.319381530 + t * (-0.356563782 + t * (1.781477937 + t * (-1.821255978 + t * 1.330274429))))
        p = 1 - exp(-z * z / 2) / sqrt(2 * 3.141592653589793) * q
        return x < 0 ? 1 - p : p }
    NR == 2 { S = $3 }
    $1 == "2024-06-25T09:15:00+05:30" && $2 == "NIFTY24JUN24000CE" { got = $3 }
    END { K = 24000; T = (2 * 86400 + 6 * 3600 + 15 * 60) / (365 * 86400); s = 0.14
        d1 = (log(S / K) + s * s * T / 2) / (s * sqrt(T)); d2 = d1 - s * sqrt(T)
        want = S * N(d1) - K * N(d2); want = int(want / 0.05 + 0.5) * 0.05
        print (got - want < 0.051 && want - got < 0.051) ? "ok" : "got " got " want " want }' \
    "$T/bars.csv")"

# ---- instruments ------------------------------------------------------------------------
cat > "$T/inst.expected" <<'EOF'
symbol,exchange,type,underlying,expiry,strike,option_type,lot_size,tick_size,freeze_qty
NIFTY,NSE,INDEX,NIFTY,,,,1,0.05,
NIFTY24JUN23500CE,NSE,OPT,NIFTY,2024-06-27,23500,CE,25,0.05,
NIFTY24JUN23500PE,NSE,OPT,NIFTY,2024-06-27,23500,PE,25,0.05,
NIFTY24JUN24000CE,NSE,OPT,NIFTY,2024-06-27,24000,CE,25,0.05,
NIFTY24JUN24000PE,NSE,OPT,NIFTY,2024-06-27,24000,PE,25,0.05,
NIFTY24JUN24500CE,NSE,OPT,NIFTY,2024-06-27,24500,CE,25,0.05,
NIFTY24JUN24500PE,NSE,OPT,NIFTY,2024-06-27,24500,PE,25,0.05,
EOF
same_file "instruments: the contracts (lot 25) and the index (lot 1)" "$T/inst.expected" "$T/inst.csv"
printf 'instruments: inst.csv\n' > "$T/cfg.yaml"
printf '{"id":"bp","ts":"2024-06-25T10:00:00+05:30","type":"GROUP","build":"bull_put","underlying":"NIFTY","expiry":"2024-06-27","strikes":[23500,24000]}\n' \
    > "$T/sig.jsonl"
check "a config loads them and a group resolves (hedgehog validate)" \
    "$HH" validate --config "$T/cfg.yaml" --signals "$T/sig.jsonl" --out "$T/val"

# ---- options ---------------------------------------------------------------------------------
po --strikes 24000 --iv 14% --out "$T/pct.csv" 2>/dev/null
equals "--iv 14% equals --iv 0.14" "$(grep 24000 "$T/bars.csv" | md5sum)" \
    "$(grep 24000 "$T/pct.csv" | md5sum)"
po --strikes 24000 --iv 0.14 --rate 0.10 --tick 0.10 --lot 50 --volume 500 \
    --out "$T/r.csv" --instruments "$T/r_inst.csv" 2>/dev/null
equals "--tick 0.10: every price on the 0.10 grid" 0 "$(awk -F, '
    NR > 1 && $2 != "NIFTY" { for (i = 3; i <= 6; i++) { split($i, a, "."); if ((a[2] + 0) % 10) n++ } }
    END { print n + 0 }' "$T/r.csv")"
equals "--rate 0.10 makes the call dearer (F = S e^rT)" yes "$(awk -F, '
    FNR == 1 { f++ } $2 == "NIFTY24JUN24000CE" && $1 == "2024-06-25T09:15:00+05:30" { v[f] = $3 }
    END { print (v[2] > v[1] ? "yes" : "no (" v[1] " " v[2] ")") }' "$T/bars.csv" "$T/r.csv")"
equals "--volume 500" 500 "$(awk -F, '$2 == "NIFTY24JUN24000PE" { print $7; exit }' "$T/r.csv")"
contains "--lot 50 and --tick 0.10 in the instruments" "$T/r_inst.csv" \
    "NIFTY24JUN24000PE,NSE,OPT,NIFTY,2024-06-27,24000,PE,50,0.10,"
"$HH" price-options --bars "$T/nifty.csv" --underlying NIFTY --expiry 2024-06-20 --strikes 24000 \
    --iv 0.14 --holidays "$HOL" --out "$T/w.csv" 2>/dev/null
equals "a weekly expiry (20 June) gives weekly symbols, already expired here" \
    "1500 0" "$(wc -l < "$T/w.csv" | awk '{print $1 - 1}') $(grep -c 'NIFTY24620' "$T/w.csv")"
awk -F, 'NR == 1 || substr($1, 1, 10) == "2024-06-19"' "$SRC" > "$T/d19.csv"
"$HH" price-options --bars "$T/d19.csv" --underlying NIFTY --expiry 2024-06-20 --strikes 23500.5 \
    --iv 0.14 --holidays "$HOL" --out "$T/w.csv" --instruments "$T/w_inst.csv" 2>/dev/null
equals "weekly symbol NIFTY24620<strike>CE, fractional strike" 375 \
    "$(grep -c ',NIFTY2462023500.5CE,' "$T/w.csv")"
contains "weekly contract in the instruments" "$T/w_inst.csv" \
    "NIFTY2462023500.5PE,NSE,OPT,NIFTY,2024-06-20,23500.5,PE,25,0.05,"
# other symbols in the input are ignored (and counted)
{ head -1 "$T/nifty.csv"; tail -n +2 "$T/nifty.csv" | head -20 | awk -F, -v OFS=, '{ print; $2 = "BANKNIFTY"; print }'; } \
    > "$T/mixed.csv"
"$HH" price-options --bars "$T/mixed.csv" --underlying NIFTY --expiry 2024-06-27 --strikes 24000 \
    --iv 0.14 --out "$T/m.csv" 2>"$T/err"
equals "  ... and only NIFTY's 20 bars are priced (20 + 20 x CE/PE rows)" 60 "$(tail -n +2 "$T/m.csv" | wc -l)"
contains "other symbols ignored and counted" "$T/err" "other symbols 20"

# ---- determinism ---------------------------------------------------------------------------------
po --strikes 23500,24000,24500 --iv 0.14 --out "$T/again.csv" 2>/dev/null
same_file "same inputs, byte-identical output" "$T/bars.csv" "$T/again.csv"

# ---- exit codes -----------------------------------------------------------------------------------
printf 'ts,sym,open\n' > "$T/badheader.csv"
check_exit "missing --iv: exit 2" 2 po --strikes 24000 --out "$T/x.csv"
check_exit "unknown option: exit 2" 2 po --strikes 24000 --iv 0.14 --out "$T/x.csv" --fast
check_exit "bars file missing: exit 2" 2 "$HH" price-options --bars "$T/none.csv" \
    --underlying NIFTY --expiry 2024-06-27 --strikes 24000 --iv 0.14 --out "$T/x.csv"
check_exit "bars header without the columns: exit 2" 2 "$HH" price-options \
    --bars "$T/badheader.csv" --underlying NIFTY --expiry 2024-06-27 --strikes 24000 --iv 0.14 \
    --out "$T/x.csv"
check_exit "expiry on a holiday (17 June 2024): exit 2" 2 "$HH" price-options --bars "$T/nifty.csv" \
    --underlying NIFTY --expiry 2024-06-17 --strikes 24000 --iv 0.14 --holidays "$HOL" --out "$T/x.csv"
check_exit "expiry on a Saturday: exit 2" 2 "$HH" price-options --bars "$T/nifty.csv" \
    --underlying NIFTY --expiry 2024-06-29 --strikes 24000 --iv 0.14 --out "$T/x.csv"
check_exit "expiry not a date: exit 2" 2 "$HH" price-options --bars "$T/nifty.csv" \
    --underlying NIFTY --expiry 2024-06-31 --strikes 24000 --iv 0.14 --out "$T/x.csv"
check_exit "strike not a number: exit 2" 2 po --strikes 24000,abc --iv 0.14 --out "$T/x.csv"
check_exit "strike repeated: exit 2" 2 po --strikes 24000,24000 --iv 0.14 --out "$T/x.csv"
check_exit "strike zero: exit 2" 2 po --strikes 0 --iv 0.14 --out "$T/x.csv"
check_exit "empty strike list: exit 2" 2 po --strikes 24000, --iv 0.14 --out "$T/x.csv"
check_exit "iv 0: exit 2" 2 po --strikes 24000 --iv 0 --out "$T/x.csv"
check_exit "iv above 5: exit 2" 2 po --strikes 24000 --iv 6 --out "$T/x.csv"
check_exit "lot 0: exit 2" 2 po --strikes 24000 --iv 0.14 --lot 0 --out "$T/x.csv"
check_exit "tick 0: exit 2" 2 po --strikes 24000 --iv 0.14 --tick 0 --out "$T/x.csv"
check_exit "holidays file missing: exit 2" 2 "$HH" price-options --bars "$T/nifty.csv" \
    --underlying NIFTY --expiry 2024-06-27 --strikes 24000 --iv 0.14 --holidays "$T/none.csv" \
    --out "$T/x.csv"
check_exit "no bar of the underlying: exit 2" 2 "$HH" price-options --bars "$T/nifty.csv" \
    --underlying BANKNIFTY --expiry 2024-06-27 --strikes 24000 --iv 0.14 --out "$T/x.csv"
check_exit "output directory missing: exit 2" 2 po --strikes 24000 --iv 0.14 --out "$T/no/dir/x.csv"
if [ -w /dev/full ]; then
    check_exit "write error (/dev/full): exit 1" 1 po --strikes 24000 --iv 0.14 --out /dev/full
fi
"$HH" price-options >/dev/null 2>"$T/err"
contains "usage names every option" "$T/err" "--instruments OUT.csv"
"$HH" --help > "$T/help"
contains "listed in hedgehog --help" "$T/help" "hedgehog price-options --bars FILE"
