#!/bin/sh
# `hedgehog report --db F --date D --out DIR` (src/daily/daily.h): the
# end-of-day report from the database alone.  On every tests/data/bt
# scenario and the demo (examples/, June 2024), backtested with --db: the
# reports of all the run's days add up exactly to summary.json (signals
# received and rejected, trades, wins, losses, gross and net P&L, charges),
# and a one-day run's report is summary.json's figures (win rate and max
# drawdown included).  On a `run --mode paper` with a broker outage: the
# breaker's openings, the BROKER_UNAVAILABLE rejections, the orders'
# latencies, a kill-switch event on its day.  A recorded signal latency
# gives its mean and p99.  The same database gives the same bytes; the page
# is self-contained (no script, nothing fetched); bad usage exits 2 and
# writes nothing, an unwritable DIR exits 1.
. "$HH_ROOT/tests/integration/lib.sh"
hh_setup_tmp
cd "$T" || exit 1
EX=$HH_ROOT/examples
q() { sqlite3 "$1" "$2"; }

# key FILE KEY: the value of "KEY": in a report or summary (first match)
key() {
    sed -n "s/^ *\"$2\": \([^,]*\),*$/\1/p" "$1" | head -1
}
# cents TEXT: a money figure as an integer of paise (exact sums in sh)
cents() {
    echo "$1" | sed 's/\.//; s/^-0*/-/; s/^0*\([0-9]\)/\1/'
}
# days DB: every IST day the database has something on
days() {
    q "$1" "SELECT DISTINCT date(t / 1000000000 + 19800, 'unixepoch') FROM (
              SELECT coalesce(decided_at, received_at) AS t FROM signals UNION ALL
              SELECT exit_ts FROM trades UNION ALL SELECT created_at FROM orders UNION ALL
              SELECT at FROM audit) WHERE t IS NOT NULL AND t > 0 ORDER BY 1"
}

# sums NAME DB SUMMARY: the reports of all the run's days add up to the summary
sums() {
    name=$1 db=$2 sum=$3
    rm -rf "$name.rep"
    rec=0 rej=0 tr=0 wins=0 losses=0 gross=0 net=0 ch=0 bad=0
    for day in $(days "$db"); do
        "$HH" report --db "$db" --date "$day" --out "$name.rep" > /dev/null 2>&1 || bad=1
        f=$name.rep/$day.json
        rec=$((rec + $(key "$f" signals_received)))
        rej=$((rej + $(key "$f" signals_rejected)))
        tr=$((tr + $(key "$f" trades)))
        wins=$((wins + $(key "$f" wins)))
        losses=$((losses + $(key "$f" losses)))
        gross=$((gross + $(cents "$(key "$f" gross_pnl)")))
        net=$((net + $(cents "$(key "$f" net_pnl)")))
        ch=$((ch + $(cents "$(key "$f" charges)")))
    done
    equals "$name: a report for every day" 0 "$bad"
    equals "$name: the days' figures add up to summary.json's" \
        "$(key "$sum" signals_received) $(key "$sum" signals_rejected) $(key "$sum" trades) $(key "$sum" wins) $(key "$sum" losses) $(cents "$(key "$sum" gross_pnl)") $(cents "$(key "$sum" net_pnl)") $(cents "$(key "$sum" charges)")" \
        "$rec $rej $tr $wins $losses $gross $net $ch"
}

# ---- backtests ---------------------------------------------------------------------
for dir in "$HH_ROOT"/tests/data/bt/s*/; do
    name=$(basename "$dir")
    md="--bars $dir/bars.csv"
    [ -f "$dir/bars.csv" ] || md="--ticks $dir/ticks.csv"
    "$HH" backtest --config "$dir/config.yaml" $md \
        --signals "$dir/signals.jsonl" --out "$name.out" --db "$name.db" > /dev/null 2>&1 ||
        { not_ok "$name: backtest --db"; continue; }
    sums "$name" "$name.db" "$name.out/summary.json"
done
S=s1_target_with_fees
day=$(days $S.db | tail -1)
equals "s1: a one-day run" 1 "$(days $S.db | grep -c '')"
for k in signals_received signals_accepted signals_rejected trades wins losses win_rate \
         gross_pnl charges net_pnl max_drawdown; do
    equals "s1: the day's $k is summary.json's" "$(key $S.out/summary.json $k)" \
        "$(key "$S.rep/$day.json" $k)"
done
equals "s1: rejected by reason as summary.json" \
    "$(key $S.out/summary.json rejected_by_reason)" "$(key "$S.rep/$day.json" rejected_by_reason)"
equals "s1: a backtest measures no signal latency" "null" \
    "$(sed -n 's/.*"signal_processing": \([a-z]*\).*/\1/p' "$S.rep/$day.json")"

"$HH" backtest --config "$EX/demo.yaml" --bars "$EX/nifty50_1min_2024-06.csv" \
    --signals "$EX/signals_pivots_2024-06.jsonl" --out demo.out --db demo.db > /dev/null 2>&1 ||
    not_ok "demo: backtest --db"
sums demo demo.db demo.out/summary.json
equals "demo: a day with a trade lists it in the page" \
    "$(key demo.rep/2024-06-07.json trades)" \
    "$(grep -c '^<tr><td class="n">' demo.rep/2024-06-07.html)"
"$HH" report --db demo.db --date 2024-06-07 --out again > /dev/null 2>&1
same_file "the same database gives the same JSON" demo.rep/2024-06-07.json again/2024-06-07.json
same_file "... and the same page" demo.rep/2024-06-07.html again/2024-06-07.html
unsafe=""
for f in demo.rep/*.html; do
    if grep -qiE '<script|https?://|src=|<link' "$f"; then unsafe=$f; fi
done
equals "the pages are self-contained: no script, nothing fetched" "" "$unsafe"
contains "the page has the summary table" demo.rep/2024-06-07.html "<th>Net P&amp;L</th>"

# ---- a paper run with a broker outage ---------------------------------------------
cat > instruments.csv <<'EOF'
symbol,exchange,type,underlying,expiry,strike,option_type,lot_size,tick_size,freeze_qty
XYZ,NSE,EQ,XYZ,,,,1,0.05,
EOF
cat > s3.yaml <<'EOF'
instruments: instruments.csv
risk: {max_open_trades: 1}
entry: {mode: touch}
paper:
  latency_ms: 40
  faults:
    unavailable: ["09:16:00-09:18:00"]
EOF
awk 'BEGIN { print "ts,symbol,price,qty"
    for (s = 0; s < 900; s++) { t = 9 * 3600 + 15 * 60 + s
        printf "2025-01-02T%02d:%02d:%02d+05:30,XYZ,%.2f,100\n", t / 3600, t / 60 % 60,
               t % 60, 100 + int(s / 30) * 0.05 } }' > s3.csv
: > s3.jsonl
for s in 70 80 90 100 110 120 200; do
    t=$((9 * 3600 + 15 * 60 + s))
    printf '{"id":"out-%d","ts":"2025-01-02T%02d:%02d:%02d+05:30","symbol":"XYZ","side":"BUY","entry":100,"stop":99,"targets":[102],"lots":1}\n' \
        "$s" $((t / 3600)) $((t / 60 % 60)) $((t % 60)) >> s3.jsonl
done
echo '{"id":"bad","ts":"2025-01-02T09:20:00+05:30","symbol":"XYZ","side":"BUY","entry":100,"stop":101,"targets":[102],"lots":1}' >> s3.jsonl
check "paper run with an outage" "$HH" run --config s3.yaml --mode paper --ticks s3.csv \
    --speed 0 --signals s3.jsonl --db s3.db
"$HH" report --db s3.db --date 2025-01-02 --out s3.rep > r.out 2>&1
equals "report of the run's day: exit 0" 0 $?
contains "... prints the files" r.out "report: s3.rep/2025-01-02.json s3.rep/2025-01-02.html"
R=s3.rep/2025-01-02.json
equals "breaker openings: the BREAKER rows to OPEN" \
    "$(q s3.db "SELECT count(*) FROM audit WHERE kind = 'BREAKER' AND
                json_extract(payload, '$.to') = 'OPEN'")" "$(key $R breaker_openings)"
contains "rejections by reason: the outage's entries and the bad line" $R \
    '"rejected_by_reason": {"INVERTED_LEVELS": 1, "BROKER_UNAVAILABLE": 6}'
equals "signals: received 8, accepted 1, rejected 7" "8 1 7" \
    "$(key $R signals_received) $(key $R signals_accepted) $(key $R signals_rejected)"
equals "operator alerts: the ALERT rows flagged for an operator" \
    "$(q s3.db "SELECT count(*) FROM audit WHERE kind = 'ALERT' AND
                json_extract(payload, '$.operator_alert')")" "$(key $R operator_alerts)"
contains "order acknowledgement latency from the ACK reports" $R \
    "\"order_ack\": {\"count\": $(q s3.db "SELECT count(*) FROM order_events WHERE kind = 'ACK'")"
contains "market order fill latency" $R '"market_order_fill": {"count": 1,'
equals "orders of the day" "$(q s3.db "SELECT count(*) FROM orders")" "$(key $R orders)"

# a kill-switch event is on the day it was asked (wall clock, IST)
"$HH" kill --db s3.db --action halt --reason "end of drill" > /dev/null 2>&1 ||
    not_ok "kill --action halt"
kday=$(q s3.db "SELECT date(requested_at / 1000000000 + 19800, 'unixepoch') FROM kill_switch")
"$HH" report --db s3.db --date "$kday" --out s3.rep > /dev/null 2>&1
contains "a kill-switch event in its day's report" "s3.rep/$kday.json" \
    '"action": "halt", "state": "HALTED", "reason": "end of drill"'
contains "... and its page" "s3.rep/$kday.html" "<td>end of drill</td>"

# a run that measures signal latency (recorded as hh_journal_signal_latency does)
cp s3.db lat.db
q lat.db "UPDATE signals SET latency_ns = id * 1000000"
"$HH" report --db lat.db --date 2025-01-02 --out lat.rep > /dev/null 2>&1
contains "signal processing latency: mean and nearest-rank p99" lat.rep/2025-01-02.json \
    '"signal_processing": {"count": 8, "avg": 4.500, "p99": 8.000}'

# while an engine writes: read-only, consistent
"$HH" run --config s3.yaml --mode paper --ticks s3.csv --speed 200 --signals s3.jsonl \
    --db live.db 2> /dev/null &
rpid=$!
sleep 1
check "report while an engine writes the database" \
    "$HH" report --db live.db --date 2025-01-02 --out live.rep
wait $rpid

# ---- usage and failures ------------------------------------------------------------
check_exit "a malformed date: exit 2" 2 "$HH" report --db s3.db --date 2025-1-2 --out u1
equals "... nothing written" "" "$(ls -d u1 2>/dev/null)"
check_exit "a missing database: exit 2" 2 "$HH" report --db nope.db --date 2025-01-02 --out u2
equals "... nothing written, nothing created" "" "$(ls -d u2 nope.db* 2>/dev/null)"
check_exit "no --out: exit 2" 2 "$HH" report --db s3.db --date 2025-01-02
: > afile
check_exit "an --out that cannot be a directory: exit 1" 1 \
    "$HH" report --db s3.db --date 2025-01-02 --out afile/sub
exit 0
