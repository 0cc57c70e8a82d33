#!/bin/sh
# `hedgehog run` (SPEC §10) end to end: usage and modes; seed scenario 3
# (broker failure and recovery through the circuit breaker); seed scenario 7
# (two signals ready at the same instant, one slot); seed scenario 8
# (graceful shutdown with an open trade, restart resumes it); shadow mode;
# a restart that resumes the inputs where they stopped.
. "$HH_ROOT/tests/integration/lib.sh"
hh_setup_tmp
TOOL=$HH_BUILD/tools/run_tool
cd "$T" || exit 1
q() { sqlite3 "$1" "$2"; }

cat > instruments.csv <<'EOF'
symbol,exchange,type,underlying,expiry,strike,option_type,lot_size,tick_size,freeze_qty
XYZ,NSE,EQ,XYZ,,,,1,0.05,
AAA,NSE,EQ,AAA,,,,1,0.05,
EOF

# ticks FILE FROM_S TO_S STEP_S SYMBOL PRICE_EXPR: seconds from 09:15:00,
# price an awk expression of s (seconds)
ticks() {
    awk -v from="$2" -v to="$3" -v step="$4" -v sym="$5" -v expr="$6" 'BEGIN {
        print "ts,symbol,price,qty"
        for (s = from; s < to; s += step) {
            t = 9 * 3600 + 15 * 60 + s
            p = 0; if (expr == "flat") p = 100; else if (expr == "up") p = 100 + int(s / 30) * 0.05
            else if (expr == "down") p = 100 - int(s / 20) * 0.05
            printf "2025-01-02T%02d:%02d:%02d+05:30,%s,%.2f,100\n", t / 3600, t / 60 % 60, t % 60, sym, p
        }
    }' > "$1"
}

# ---- usage and modes ----------------------------------------------------------
cat > base.yaml <<'EOF'
instruments: instruments.csv
EOF
ticks flat.csv 0 600 2 XYZ flat
check_exit "--mode live without broker.kind: kite: exit 2" 2 \
    "$HH" run --config base.yaml --mode live --ticks flat.csv --db live.db
"$HH" run --config base.yaml --mode live --ticks flat.csv --db live.db 2>live.err
contains "--mode live says why" live.err "--mode live needs broker.kind: kite"
equals "--mode live creates nothing" "" "$(ls live.db* 2>/dev/null)"
check_exit "an unknown mode: exit 2" 2 "$HH" run --config base.yaml --mode real --ticks flat.csv
check_exit "no market data: exit 2" 2 "$HH" run --config base.yaml --mode paper --db x.db
check_exit "a missing ticks file: exit 2" 2 \
    "$HH" run --config base.yaml --mode paper --ticks nope.csv --db x.db
check_exit "a bad --speed: exit 2" 2 \
    "$HH" run --config base.yaml --mode paper --ticks flat.csv --speed fast --db x.db

# ---- seed scenario 3: broker failure and recovery -------------------------------
cat > s3.yaml <<'EOF'
instruments: instruments.csv
risk: {max_open_trades: 1}
entry: {mode: touch}
broker:
  retry: {attempts: 3, base_ms: 1000, max_ms: 8000, jitter: 0.2}
  breaker: {failures: 5, window_s: 30, cool_off_s: 20}
paper:
  faults:
    unavailable: ["09:16:00-09:18:00"]
EOF
ticks s3.csv 0 900 1 XYZ flat
: > s3.jsonl
for s in 70 80 90 100 110 120; do   # inside the outage (09:16:00-09:18:00)
    t=$((9 * 3600 + 15 * 60 + s))
    printf '{"id":"out-%d","ts":"2025-01-02T%02d:%02d:%02d+05:30","symbol":"XYZ","side":"BUY","entry":100,"stop":99,"targets":[102],"lots":1}\n' \
        "$s" $((t / 3600)) $((t / 60 % 60)) $((t % 60)) >> s3.jsonl
done
echo '{"id":"after","ts":"2025-01-02T09:20:00+05:30","symbol":"XYZ","side":"BUY","entry":100,"stop":99,"targets":[102],"lots":1}' >> s3.jsonl
check "scenario 3: the run exits 0" "$HH" run --config s3.yaml --mode paper --ticks s3.csv \
    --speed 0 --signals s3.jsonl --db s3.db --log-level debug
"$HH" run --config s3.yaml --mode paper --ticks s3.csv --speed 0 --signals s3.jsonl \
    --db s3b.db --log-level debug 2>s3.log
equals "scenario 3: no order reached the broker during the outage" 0 \
    "$(q s3b.db "SELECT count(*) FROM orders WHERE created_at >= 1735789560000000000
                 AND created_at < 1735789680000000000 AND order_id IS NOT NULL")"
equals "scenario 3: the entries during the outage are dead letters BROKER_UNAVAILABLE" 6 \
    "$(q s3b.db "SELECT count(*) FROM audit WHERE kind = 'RISK_REJECTED' AND
                 json_extract(payload, '$.reason') = 'BROKER_UNAVAILABLE'")"
equals "scenario 3: ... and their trades are DROPPED with that reason" 6 \
    "$(q s3b.db "SELECT count(*) FROM trade_state WHERE state = 'DROPPED' AND
                 detail = 'BROKER_UNAVAILABLE'")"
contains "scenario 3: retries with backoff were logged" s3.log '"RETRY'
contains "scenario 3: the breaker opened with an alert" s3.log \
    "ALERT: broker circuit breaker CLOSED -> OPEN"
contains "scenario 3: an entry gave up after its retries" s3.log "entry not placed"
contains "scenario 3: entries refused at once while open" s3.log "entry refused at once, not sent"
contains "scenario 3: half-open after the cool-off" s3.log "OPEN -> HALF_OPEN"
contains "scenario 3: the probe closed it" s3.log "HALF_OPEN -> CLOSED (probe succeeded)"
equals "scenario 3: the breaker's transitions are in the audit trail" \
    "$(grep -c '"event":"breaker"' s3.log)" \
    "$(q s3b.db "SELECT count(*) FROM audit WHERE kind = 'BREAKER'")"
equals "scenario 3: trading resumed (the later signal entered)" 1 \
    "$(q s3b.db "SELECT count(*) FROM fills WHERE signal_id = 'after' AND reason = 'ENTRY'")"
check "scenario 3: audit verify" "$HH" audit verify --db s3b.db
equals "the log is JSON lines only (stderr)" 0 \
    "$(grep -vc '^{"ts":.*,"level":"[a-z]*","event":"[a-z_]*","correlation_id":.*,"msg":".*"}$' s3.log)"

# ---- seed scenario 7: two signals ready at one instant, one slot -----------------
cat > s7.yaml <<'EOF'
instruments: instruments.csv
risk: {max_open_trades: 1}
EOF
cat > s7.csv <<'EOF'
ts,symbol,price,qty
2025-01-02T09:15:00+05:30,XYZ,100.50,10
2025-01-02T09:15:00+05:30,AAA,200.50,10
2025-01-02T09:15:20+05:30,XYZ,99.80,10
2025-01-02T09:15:20+05:30,AAA,199.80,10
2025-01-02T09:15:40+05:30,XYZ,100.40,10
2025-01-02T09:15:40+05:30,AAA,200.40,10
2025-01-02T09:16:00+05:30,XYZ,100.40,10
2025-01-02T09:16:00+05:30,AAA,200.40,10
2025-01-02T09:16:30+05:30,XYZ,100.45,10
2025-01-02T09:16:30+05:30,AAA,200.45,10
EOF
cat > s7.jsonl <<'EOF'
{"id":"nifty","ts":"2025-01-02T09:14:00+05:30","symbol":"XYZ","side":"BUY","entry":100,"stop":98,"targets":[104],"lots":1}
{"id":"banknifty","ts":"2025-01-02T09:14:00+05:30","symbol":"AAA","side":"BUY","entry":200,"stop":196,"targets":[208],"lots":1}
EOF
check "scenario 7: the run exits 0" "$HH" run --config s7.yaml --mode paper --ticks s7.csv \
    --speed 0 --signals s7.jsonl --db s7.db
equals "scenario 7: exactly one entry" 1 \
    "$(q s7.db "SELECT count(*) FROM fills WHERE reason = 'ENTRY'")"
equals "scenario 7: exactly one entry order" 1 \
    "$(q s7.db "SELECT count(*) FROM orders WHERE client_id LIKE 'h%e%'")"
equals "scenario 7: the other one still waits" "WAITING" \
    "$(q s7.db "SELECT state FROM trade_state WHERE trade_key =
                (SELECT signal_id FROM signals WHERE signal_id NOT IN
                 (SELECT signal_id FROM fills)) ORDER BY id DESC LIMIT 1")"

# ---- seed scenario 8: SIGTERM with an open trade; restart resumes it ------------
cat > s8.yaml <<'EOF'
instruments: instruments.csv
entry: {mode: touch}
exits: {squareoff: "09:45"}
EOF
ticks s8.csv 0 1800 1 XYZ up
echo '{"id":"s8","ts":"2025-01-02T09:15:05+05:30","symbol":"XYZ","side":"BUY","entry":100,"stop":99,"targets":[102],"lots":10}' > s8.jsonl
"$HH" run --config s8.yaml --mode paper --ticks s8.csv --speed 60 --signals s8.jsonl \
    --db s8.db 2>s8a.log &
pid=$!
i=0
while [ $i -lt 100 ] && ! grep -q '"reason=ENTRY\|reason=ENTRY' s8a.log 2>/dev/null; do
    sleep 0.1; i=$((i + 1))
done
sleep 0.5
start=$(date +%s)
kill -TERM "$pid"
wait "$pid"
rc=$?
took=$(($(date +%s) - start))
equals "scenario 8: SIGTERM -> exit 0" 0 "$rc"
if [ "$took" -le 30 ]; then ok "scenario 8: stopped within 30 s ($took s)"; else
    not_ok "scenario 8: took $took s"; fi
contains "scenario 8: the shutdown is logged" s8a.log '"event":"shutdown"'
contains "scenario 8: the open position is logged" s8a.log \
    '"msg":"symbol=XYZ engine=10 broker=10"'
equals "scenario 8: the trade is OPEN in the database" OPEN \
    "$(q s8.db "SELECT state FROM trade_state WHERE trade_key = 's8' ORDER BY id DESC LIMIT 1")"
equals "scenario 8: the position is in the database" 10 \
    "$(q s8.db "SELECT qty FROM positions WHERE symbol = 'XYZ'")"
equals "scenario 8: ... and at the paper broker" "position XYZ 10" \
    "$("$TOOL" paper s8.yaml s8.db.paper | grep '^position')"
last=$(q s8.db "SELECT json_extract(payload, '$.state_hash') FROM audit WHERE kind = 'ENGINE_STOP'")
equals "scenario 8: the final checkpoint is the stopped state" "$last" \
    "$(q s8.db "SELECT state_hash FROM checkpoints ORDER BY seq DESC, id DESC LIMIT 1")"
"$HH" run --config s8.yaml --mode paper --ticks s8.csv --speed 0 --signals s8.jsonl \
    --db s8.db 2>s8b.log
equals "scenario 8: the restart exits 0 at the end of the data" 0 $?
contains "scenario 8: it restored the stopped state (same state hash)" s8b.log \
    "restored state_hash=$last"
contains "scenario 8: it resumed the ticks after the last one processed" s8b.log \
    "resume: market row"
equals "scenario 8: the resumed trade closed at its target" TARGET1 \
    "$(q s8.db "SELECT exit_reason FROM trades WHERE signal_id = 's8'")"
equals "scenario 8: the signal was not taken again" 1 \
    "$(q s8.db "SELECT count(*) FROM signals WHERE signal_id = 's8'")"
equals "scenario 8: flat at the end, engine and broker" "" \
    "$("$TOOL" paper s8.yaml s8.db.paper | grep '^position')"
check "scenario 8: audit verify" "$HH" audit verify --db s8.db

# a second signal forces a faster exit, still persisting
"$HH" run --config s8.yaml --mode paper --ticks s8.csv --speed 1 --signals s8.jsonl \
    --db s8c.db 2>s8c.log &
pid=$!
sleep 1.5
kill -TERM "$pid"; kill -TERM "$pid"
wait "$pid"
equals "two signals: exit 0" 0 $?
contains "two signals: the final checkpoint is written" s8c.log '"event":"engine_stop"'
equals "two signals: ENGINE_STOP is in the audit trail" 1 \
    "$(q s8c.db "SELECT count(*) FROM audit WHERE kind = 'ENGINE_STOP'")"

# ---- shadow mode: every order it would place, filled on the simulated exchange ------
check "shadow: exit 0" "$HH" run --config s7.yaml --mode shadow --ticks s7.csv --speed 0 \
    --signals s7.jsonl --db sh.db
"$HH" run --config s7.yaml --mode shadow --ticks s7.csv --speed 0 --signals s7.jsonl \
    --db sh2.db 2>sh.log
contains "shadow: the order it would place is logged" sh.log '"event":"order_shadowed"'
equals "shadow: ... and audited" 1 \
    "$(q sh2.db "SELECT count(*) FROM audit WHERE kind = 'ORDER_SENT'
                 AND json_extract(payload, '$.side') = 'BUY'")"
equals "shadow: its book is <db>.shadow, no paper broker" "sh2.db.shadow" \
    "$(ls sh2.db.shadow sh2.db.paper 2>/dev/null)"
contains "shadow: ENGINE_START says shadow" sh.log "mode=shadow"
# a rising market: three signals on one symbol, each entered and exited in turn
awk 'BEGIN { print "ts,symbol,price,qty"
    for (s = 0; s < 300; s++) { t = 9 * 3600 + 15 * 60 + s
        printf "2025-01-02T%02d:%02d:%02d+05:30,XYZ,%.2f,100\n", t / 3600, t / 60 % 60, t % 60,
               100 + int(s / 2) * 0.05 } }' > up.csv
cat > up.jsonl <<'EOF'
{"id":"u1","ts":"2025-01-02T09:15:05+05:30","symbol":"XYZ","side":"BUY","entry":100.10,"stop":99.80,"targets":[100.60],"lots":1}
{"id":"u2","ts":"2025-01-02T09:16:00+05:30","symbol":"XYZ","side":"BUY","entry":101.50,"stop":101.20,"targets":[102.00],"lots":1}
{"id":"u3","ts":"2025-01-02T09:17:00+05:30","symbol":"XYZ","side":"BUY","entry":103.00,"stop":102.70,"targets":[103.50],"lots":1}
EOF
cat > up.yaml <<'EOF'
instruments: instruments.csv
entry: {mode: touch}
EOF
"$HH" run --config up.yaml --mode shadow --ticks up.csv --speed 0 --signals up.jsonl \
    --db upsh.db 2>upsh.log
"$HH" run --config up.yaml --mode paper --ticks up.csv --speed 0 --signals up.jsonl \
    --db uppp.db 2>/dev/null
equals "shadow: every order of the session is shown (3 entries, 3 targets)" 6 \
    "$(grep -c '"event":"order_shadowed"' upsh.log)"
equals "shadow: they fill exactly as in paper mode" \
    "$(q uppp.db 'SELECT signal_id, reason, qty, price, ts FROM fills ORDER BY id')" \
    "$(q upsh.db 'SELECT signal_id, reason, qty, price, ts FROM fills ORDER BY id')"
equals "shadow: three trades closed at their targets" "u1 TARGET1 u2 TARGET1 u3 TARGET1" \
    "$(q upsh.db "SELECT group_concat(signal_id || ' ' || exit_reason, ' ') FROM trades")"
equals "shadow: every audit row is marked shadow" \
    "$(q upsh.db 'SELECT count(*) FROM audit')" \
    "$(q upsh.db "SELECT count(*) FROM audit WHERE json_extract(payload, '$.shadow') = 1")"
equals "paper: no audit row is marked shadow" 0 \
    "$(q uppp.db "SELECT count(*) FROM audit WHERE json_extract(payload, '$.shadow') IS NOT NULL")"
check "shadow: the audit chain verifies" "$HH" audit verify --db upsh.db
equals "shadow: no paper broker state, nothing sent" "upsh.db.shadow" \
    "$(ls upsh.db.shadow upsh.db.paper 2>/dev/null)"

# ---- signals appended while running are picked up (tail -f) --------------------
ticks follow.csv 0 120 1 XYZ flat
: > follow.jsonl
"$HH" run --config s3.yaml --mode paper --ticks follow.csv --speed 20 --signals follow.jsonl \
    --db follow.db 2>follow.log &
pid=$!
sleep 1
echo '{"id":"late","ts":"2025-01-02T09:15:20+05:30","symbol":"XYZ","side":"BUY","entry":100,"stop":99,"targets":[102],"lots":1}' >> follow.jsonl
wait "$pid"
equals "a line appended to the followed file was taken" 1 \
    "$(q follow.db "SELECT count(*) FROM signals WHERE signal_id = 'late'")"
