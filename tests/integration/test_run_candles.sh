#!/bin/sh
# test_run_candles.sh — a restart in the middle of a candle, with ticks from
# Kite's socket (nothing is replayed after a restart): the candle continues.
#
# A BUY retest signal (entry 2949.00) is received at 09:20:5x, so the first
# candle of entry.timeframe (1m) that counts is 09:21.  During it the socket
# trades RELIANCE at 2948.xx (under the entry); the run is killed (kill -9)
# at about 09:21:10 and started again against a server whose ticks are at
# 2950.xx.  The 09:21 candle completes at 09:22:00 with low 2948.xx (before
# the kill) and close 2950.xx (after it): the retest is met and the entry is
# placed — only because the restored checkpoint held the candle (with an
# empty candle builder its low is 2950.xx and no candle ever retests).
# Then a restart with the clock three minutes on: the gap is logged and
# nothing is invented.  About 75 s: the candles are real minutes.
. "$HH_ROOT/tests/integration/lib.sh"
hh_setup_tmp
SRV=$HH_BUILD/kite/kite_server
cd "$T" || exit 1
mkdir secrets
(umask 077; echo testkey > secrets/api_key; echo testtoken > secrets/access_token)
cp "$DATA/kite/instruments.csv" instruments.csv

# ticks PRICE FILE: RELIANCE around PRICE (+0.00..+0.50), a row each 50 ms
ticks() {
    awk -v p="$1" 'BEGIN { print "ts,symbol,price,qty,bid,ask"
        for (i = 0; i < 40; i++) { r = p + (i % 3) * 0.25
            printf "2026-01-05T09:15:%02d.%03d+05:30,RELIANCE,%.2f,10,%.2f,%.2f\n", i / 20,
                i % 20 * 50, r, r - 0.05, r + 0.05 } }' > "$2"
}
ticks 2948.00 low.csv
ticks 2950.00 high.csv

SPID=
RPID=
stop_run() {
    if [ -n "$RPID" ]; then kill -TERM "$RPID" 2>/dev/null; wait "$RPID" 2>/dev/null; fi
    RPID=
}
stop_server() {
    if [ -n "$SPID" ]; then kill "$SPID" 2>/dev/null; wait "$SPID" 2>/dev/null; fi
    SPID=
}
trap 'stop_run; stop_server; rm -rf "$T"' EXIT INT TERM

# start_server TICKS: a fresh server on a free port; sets PORT, writes c.yaml
start_server() {
    rm -f port
    "$SRV" --instruments instruments.csv --ticks "$1" --tick-ms 50 --port-file port \
        --max-seconds 200 >>server.log 2>&1 &
    SPID=$!
    i=0
    while [ ! -s port ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
    PORT=$(cat port 2>/dev/null)
    [ -n "$PORT" ] || { not_ok "the server starts"; cat server.log; exit 1; }
    cat > c.yaml <<EOF
instruments: instruments.csv
risk: {min_rr: 0.1}
entry: {mode: retest, timeframe: 1m}
signals: {max_live_age_s: 86400}
broker:
  kind: kite
  account: AB1234
  kite:
    api_url: "http://127.0.0.1:$PORT"
    ws_url: "ws://127.0.0.1:$PORT"
    api_key_file: secrets/api_key
    access_token_file: secrets/access_token
reconcile: {poll_s: 1}
market_data: {kind: kite, symbols: [RELIANCE]}
EOF
}
entries() { sqlite3 live.db "SELECT count(*) FROM fills WHERE reason = 'ENTRY'"; }
placements() { curl -s "http://127.0.0.1:$PORT/_ctl/check" | sed -n 's/.*"placements":\([0-9]*\).*/\1/p'; }

# The rehearsal clock: 09:20:50 when the script begins, then the wall's pace.
ms() { echo $(( $(date +%s%N) / 1000000 )); }
BASE=$(ms)
SKEW=0                            # ms the clock is set ahead (a gap)
now_at() {
    awk -v m=$(( $(ms) - BASE + 50000 + SKEW )) 'BEGIN { t = int(m / 1000) + 9 * 3600 + 20 * 60
        printf "2026-01-05T%02d:%02d:%02d.%03d+05:30", t / 3600, t / 60 % 60, t % 60, m % 1000 }'
}
# wait_clock SECONDS: until the rehearsal clock is 09:20:00 + SECONDS
wait_clock() { while [ $(( $(ms) - BASE + 50000 )) -lt $(( $1 * 1000 )) ]; do sleep 0.1; done; }
start_run() {
    "$HH" run --config c.yaml --mode live --signals sig.jsonl --db live.db \
        --clock-start "$(now_at)" 2>> "$1" &
    RPID=$!
}

echo '{"id":"r1","ts":"2026-01-05T09:20:00+05:30","symbol":"RELIANCE","side":"BUY","entry":2949.00,"stop":2940.00,"targets":[2960.00],"lots":1}' > sig.jsonl

start_server low.csv
start_run run1.log
wait_clock 70                     # 09:21:10: the 09:21 candle traded under the entry
kill -9 "$RPID"; wait "$RPID" 2>/dev/null; RPID=
stop_server
contains "the signal was accepted before the candle" run1.log "signal_accepted"

start_server high.csv
start_run run2.log
wait_clock 124                    # 09:22:04: the 09:21 candle completed
contains "the restart resumed the checkpoint" run2.log "restored state_hash="
equals "no gap inside the candle's own period" 0 "$(grep -c candle_gap run2.log)"
placed=$(placements)
stop_run
equals "the retest on the continued candle entered" 1 "$(entries)"
equals "... its entry and target orders went to Kite" 2 "$placed"

# A gap: stopped at 09:22:0x, started again with the clock at 09:25:1x: the
# 09:22 period ended unseen (its candle closed as it was, not judged), 09:23
# and 09:24 were missed whole (no candle invented).
SKEW=180000
start_run run3.log
i=0
while [ $i -lt 100 ] && ! grep -qs candle_gap run3.log; do sleep 0.1; i=$((i + 1)); done
contains "the gap is logged" run3.log "candle_gap"
contains "... with the periods ended unseen and missed whole" run3.log \
    "3 candle period(s) ended unseen, 2 of them missing whole"
stop_run
equals "one entry, nothing more" 1 "$(entries)"
stop_server
exit 0
