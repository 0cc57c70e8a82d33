#!/bin/sh
# The configuration meets its inputs (SPEC §5a, §7; README "Configuration"):
#   - without `instruments` / `calendar.holidays` keys, instruments.csv and
#     holidays.csv next to the configuration file are used (not next to the
#     working directory): signals resolve, a holiday is closed — in
#     backtest, validate and run;
#   - with --bars, entry.timeframe must equal the bars' period: otherwise
#     exit 2 naming both, before any output or database is written.
. "$HH_ROOT/tests/integration/lib.sh"
hh_setup_tmp
cd "$T" || exit 1
q() { sqlite3 "$1" "$2"; }

mkdir cfg work
cat > cfg/instruments.csv <<'EOF'
symbol,exchange,type,underlying,expiry,strike,option_type,lot_size,tick_size,freeze_qty
XYZ,NSE,EQ,XYZ,,,,1,0.05,
EOF
cat > cfg/holidays.csv <<'EOF'
date,exchange,description
2025-01-03,NSE,a test holiday
EOF
cat > cfg/c.yaml <<'EOF'
entry: {mode: touch}
EOF
awk 'BEGIN { print "ts,symbol,price,qty"
    for (d = 2; d <= 3; d++) for (s = 0; s < 60; s++)
        printf "2025-01-0%dT09:15:%02d+05:30,XYZ,100.00,100\n", d, s }' > work/t.csv
cat > work/s.jsonl <<'EOF'
{"id":"trading-day","ts":"2025-01-02T09:15:01+05:30","symbol":"XYZ","side":"BUY","entry":100,"stop":99,"targets":[102],"lots":1}
{"id":"holiday","ts":"2025-01-03T09:15:01+05:30","symbol":"XYZ","side":"BUY","entry":100,"stop":99,"targets":[102],"lots":1}
EOF
cd work || exit 1

# ---- the default instruments and holidays, next to the configuration ------------
check "backtest: exit 0" "$HH" backtest --config ../cfg/c.yaml --ticks t.csv --signals s.jsonl \
    --out bt
equals "backtest: the symbol resolves (no UNKNOWN_SYMBOL)" 0 "$(grep -c UNKNOWN_SYMBOL bt/rejected.jsonl)"
equals "backtest: the holiday is closed" "holiday MARKET_CLOSED" \
    "$(sed -n 's/.*"id":"\([a-z-]*\)".*"reason":"\([A-Z_]*\)".*/\1 \2/p' bt/rejected.jsonl)"
contains "backtest: the trading day's signal entered" bt/fills.csv ",trading-day,XYZ,BUY,"
"$HH" validate --config ../cfg/c.yaml --signals s.jsonl --out val >val.out
equals "validate: exit 0" 0 $?
equals "validate: accepted 1 rejected 1" "accepted 1 rejected 1" "$(tail -1 val.out)"
contains "validate: the holiday is MARKET_CLOSED" val/rejected.jsonl '"reason":"MARKET_CLOSED"'
"$HH" run --config ../cfg/c.yaml --mode paper --ticks t.csv --speed 0 --signals s.jsonl \
    --db run.db 2>run.log
equals "run: exit 0" 0 $?
equals "run: the same decisions" "holiday|MARKET_CLOSED trading-day|" \
    "$(q run.db "SELECT group_concat(signal_id || '|' || coalesce(reason, ''), ' ') FROM
                 (SELECT * FROM signals ORDER BY signal_id)")"
equals "run: the trading day's signal entered" 1 \
    "$(q run.db "SELECT count(*) FROM fills WHERE signal_id = 'trading-day' AND reason = 'ENTRY'")"
printf 'instruments: null\ncalendar: {holidays: null}\n' > ../cfg/none.yaml
check "null keys: no instruments, no holidays (exit 0)" "$HH" backtest --config ../cfg/none.yaml \
    --ticks t.csv --signals s.jsonl --out none
equals "null keys: every signal UNKNOWN_SYMBOL" 2 "$(grep -c UNKNOWN_SYMBOL none/rejected.jsonl)"

# ---- entry.timeframe against the bars' period ------------------------------------------
awk 'BEGIN { print "ts,symbol,open,high,low,close,volume"
    for (m = 0; m < 60; m += 5) printf "2025-01-02T%02d:%02d:00+05:30,XYZ,100,100.5,99.5,100,1000\n",
        9 + int((15 + m) / 60), (15 + m) % 60 }' > b5.csv
"$HH" backtest --config ../cfg/c.yaml --bars b5.csv --signals s.jsonl --out tf 2>tf.err
equals "backtest, 5m bars, timeframe 1m: exit 2" 2 $?
contains "... naming both" tf.err \
    "b5.csv: the bars come every 5m, but entry.timeframe is 1m (../cfg/c.yaml)"
equals "... before any output" "" "$(ls tf 2>/dev/null)"
"$HH" run --config ../cfg/c.yaml --mode paper --bars b5.csv --speed 0 --signals s.jsonl \
    --db tf.db --out tfrun 2>tfrun.err
equals "run, 5m bars, timeframe 1m: exit 2" 2 $?
contains "... naming both" tfrun.err "the bars come every 5m, but entry.timeframe is 1m"
equals "... before any database or output" "" "$(ls tf.db* tfrun 2>/dev/null)"
printf 'entry: {mode: touch, timeframe: 5m}\n' > ../cfg/c5.yaml
check "backtest, 5m bars, timeframe 5m: exit 0" "$HH" backtest --config ../cfg/c5.yaml \
    --bars b5.csv --signals s.jsonl --out tf5
check "run, 5m bars, timeframe 5m: exit 0" "$HH" run --config ../cfg/c5.yaml --mode paper \
    --bars b5.csv --speed 0 --signals s.jsonl --db tf5.db
printf 'ts,symbol,open,high,low,close,volume\n2025-01-02T09:15:00+05:30,XYZ,100,100.5,99.5,100,1000\n' \
    > one.csv
check "a single bar says no period: accepted" "$HH" backtest --config ../cfg/c.yaml \
    --bars one.csv --signals s.jsonl --out one
