#!/bin/sh
# The operations API of `hedgehog run --mode paper` (SPEC §12), driven with
# the real `hedgehog api` client, curl and openssl: health, status,
# positions, orders, trades, metrics (promtool check metrics); a signal and
# a multi-leg group posted and decided; the refusal matrix (foreign address,
# missing auth, unknown key, stale timestamp, bad signature, replayed nonce,
# a key removed by SIGHUP), each refusal audited API_REFUSED by the engine;
# the kill switch (pause keeps the signals file's new lines waiting, resume
# takes them, a request left by `hedgehog kill` beside the running engine is
# applied, flatten buys the group's short back before selling its wing and
# says `flat` once the broker confirms it); a halted engine restarts halted;
# the daily report written at the end.
. "$HH_ROOT/tests/integration/lib.sh"
. "$HH_ROOT/tests/integration/api_lib.sh"
api_setup
cd "$T" || exit 1
q() { sqlite3 "$1" "$2"; }

cat > instruments.csv <<'EOF'
symbol,exchange,type,underlying,expiry,strike,option_type,lot_size,tick_size,freeze_qty
XYZ,NSE,EQ,XYZ,,,,1,0.05,
NIFTY,NSE,INDEX,NIFTY,,,,1,0.05,
NIFTY24JUN24000CE,NSE,OPT,NIFTY,2024-06-27,24000,CE,25,0.05,
NIFTY24JUN24500CE,NSE,OPT,NIFTY,2024-06-27,24500,CE,25,0.05,
EOF
# an hour of flat ticks every second (a stock, NIFTY, two calls), replayed at
# 20x: about three minutes at most
awk 'BEGIN { print "ts,symbol,price,qty"
    for (s = 0; s < 3600; s++) { t = 33300 + s
        ts = sprintf("2024-06-10T%02d:%02d:%02d+05:30", t / 3600, t / 60 % 60, t % 60)
        printf "%s,XYZ,100.00,100\n%s,NIFTY,23200.00,0\n", ts, ts
        printf "%s,NIFTY24JUN24000CE,50.00,1000\n%s,NIFTY24JUN24500CE,10.00,1000\n", ts, ts } }' \
    > ticks.csv
api_keys keys ops spare
openssl rand -hex 16 > token
chmod 600 token
mkdir reports
cat > cfg.yaml <<EOF
capital: 1000000
instruments: instruments.csv
entry: {mode: touch}
risk: {max_open_trades: 5}
reconcile: {poll_s: 2}
api:
  listen: "127.0.0.1:0"
  keys_file: keys
  read_token_file: token
  allow: ["127.0.0.1/32"]
report:
  dir: reports
EOF
: > sig.jsonl

start_run() {   # start_run NAME: $PORT, $RUN_PID
    "$HH" run --config cfg.yaml --mode paper --ticks ticks.csv --speed 20 --signals sig.jsonl \
        --db run.db 2>"$1.log" &
    RUN_PID=$!
    echo "$RUN_PID" > "$T/run.pid"
    wait_for 20 grep -q '"event":"api_listening"' "$1.log"
    PORT=$(sed -n 's/.*"event":"api_listening".*(port \([0-9]*\)).*/\1/p' "$1.log" | head -1)
    URL="http://127.0.0.1:$PORT"
}
api() { "$HH" api "$@" --key-file keys --url "$URL"; }
get() { curl -s -H "Authorization: Bearer $(cat token)" "$URL$1"; }
field() { get "$1" | sed -n "s/.*\"$2\":\"\{0,1\}\([^,\"}]*\).*/\1/p"; }
stop_run() {    # $RC: the engine's exit status (wait works in this shell only)
    kill -TERM "$RUN_PID"
    wait "$RUN_PID"
    RC=$?
    rm -f "$T/run.pid"
}

start_run first
check "the engine listens (api_listening names the port)" test -n "$PORT"
equals "GET /health/live" '{"status":"UP"}' "$(curl -s "$URL/health/live")"
# (the documents follow the engine within 250 ms: wait for its first tick)
wait_for 10 sh -c "curl -s -H 'Authorization: Bearer $(cat token)' $URL/api/v1/status | grep -q '\"engine_time\":\"'"
equals "status: trading ACTIVE" ACTIVE "$(field /api/v1/status trading_state)"
equals "status: mode paper" paper "$(field /api/v1/status mode)"
equals "a read without the token: 401" 401 \
    "$(curl -s -o /dev/null -w '%{http_code}' "$URL/api/v1/status")"

# ---- a signal posted, decided, entered -----------------------------------------------
now=$(field /api/v1/status engine_time)
api POST /api/v1/signals --body "{\"id\":\"api-1\",\"ts\":\"$now\",\"symbol\":\"XYZ\",\"side\":\"BUY\",\"entry\":100,\"stop\":99,\"targets\":[105],\"lots\":5}" > post.out
contains "POST /api/v1/signals: ACCEPTED once durable" post.out '"decision":"ACCEPTED"'
equals "... its row in the database" 1 \
    "$(q run.db "SELECT count(*) FROM signals WHERE signal_id = 'api-1' AND decision = 'ACCEPTED'")"
wait_for 20 sh -c "curl -s -H 'Authorization: Bearer $(cat token)' $URL/api/v1/positions | grep -q '\"engine_qty\":5'"
get /api/v1/positions > pos.out
contains "positions: the engine holds 5 XYZ, the broker too" pos.out \
    '"engine_qty":5,"broker_qty":5'
get /api/v1/orders > ord.out
contains "orders: the entry filled, its target works" ord.out \
    '"state":"FILLED"'
get /api/v1/trades > tr.out
contains "trades: the trade is open" tr.out '"state":"OPEN"'
# ---- a multi-leg group posted: a bear call spread ---------------------------------------
now=$(field /api/v1/status engine_time)
api POST /api/v1/signals --body "{\"id\":\"grp-1\",\"ts\":\"$now\",\"type\":\"GROUP\",\"strategy\":\"bear_call\",\"legs\":[{\"symbol\":\"NIFTY24JUN24000CE\",\"side\":\"SELL\",\"lots\":1},{\"symbol\":\"NIFTY24JUN24500CE\",\"side\":\"BUY\",\"lots\":1}]}" > grp.out
contains "POST a GROUP signal: ACCEPTED" grp.out '"decision":"ACCEPTED"'
wait_for 20 sh -c "curl -s -H 'Authorization: Bearer $(cat token)' $URL/api/v1/positions | grep -q '\"engine_qty\":-25'"
get /api/v1/positions > gpos.out
contains "positions: the short call, engine and broker" gpos.out '"engine_qty":-25,"broker_qty":-25'
contains "positions: the long call, engine and broker" gpos.out '"engine_qty":25,"broker_qty":25'

api POST /api/v1/signals --body '{"id":"api-bad","ts":"2024-06-10T09:15:00+05:30","symbol":"NOPE","side":"BUY","entry":100,"stop":99,"targets":[105],"lots":5}' > bad.out
contains "a bad signal: REJECTED with its reason" bad.out '"reason":"UNKNOWN_SYMBOL"'

# ---- a burst: decided in one step, each answered once that step is durable ----------------
i=0 pids=
while [ $i -lt 16 ]; do
    api POST /api/v1/signals --body "{\"id\":\"burst-$i\",\"ts\":\"$now\",\"symbol\":\"XYZ\",\"side\":\"BUY\",\"entry\":200,\"stop\":190,\"targets\":[220],\"lots\":1}" \
        > "burst-$i.out" &
    pids="$pids $!"
    i=$((i + 1))
done
for p in $pids; do wait "$p"; done
equals "a burst of 16 concurrent POSTs: 16 decisions answered" 16 "$(cat burst-*.out | grep -c '"decision":')"
equals "... each durable when answered (its row)" 16 \
    "$(q run.db "SELECT count(*) FROM signals WHERE signal_id LIKE 'burst-%'")"

# ---- pause: new lines wait; resume: they are taken ---------------------------------------
api POST /api/v1/kill --body '{"action":"pause","reason":"lunch"}' > kill.out
contains "kill pause: 200 PAUSED" kill.out '"trading_state":"PAUSED"'
taken=$(field /api/v1/status signals_taken)
now=$(field /api/v1/status engine_time)
echo "{\"id\":\"line-1\",\"ts\":\"$now\",\"symbol\":\"XYZ\",\"side\":\"BUY\",\"entry\":100,\"stop\":99,\"targets\":[105],\"lots\":1}" >> sig.jsonl
sleep 2
equals "paused: the new line waits in its file" "$taken" "$(field /api/v1/status signals_taken)"
check_exit "paused: a posted signal is refused (409)" 1 \
    api POST /api/v1/signals --body '{"id":"api-2","symbol":"XYZ"}'
get /metrics > m1.out
contains "metrics: hedgehog_kill_switch_state PAUSED 1" m1.out \
    'hedgehog_kill_switch_state{state="PAUSED"} 1'
api POST /api/v1/resume --body '{"reason":"back"}' > res.out
contains "resume: ACTIVE" res.out '"trading_state":"ACTIVE"'
wait_for 10 sh -c "test \"\$(curl -s -H 'Authorization: Bearer $(cat token)' $URL/api/v1/status | sed -n 's/.*\"signals_taken\":\([0-9]*\).*/\1/p')\" -gt $taken"
check "resumed: the line is taken" test "$(field /api/v1/status signals_taken)" -gt "$taken"

# ---- the refusal matrix, each refusal audited by the engine --------------------------------
secret=$SECRET_ops
code=$(curl -s -o body -w '%{http_code}' --interface 127.0.0.2 "$URL/api/v1/status")
equals "FORBIDDEN_ADDRESS: 403 for 127.0.0.2" "403 {\"error\":\"FORBIDDEN_ADDRESS\"}" "$code $(cat body)"
code=$(curl -s -o body -w '%{http_code}' -X POST "$URL/api/v1/kill")
equals "MISSING_AUTH: 401" "401 {\"error\":\"MISSING_AUTH\"}" "$code $(cat body)"
equals "UNKNOWN_KEY: 401" 401 "$(scurl nobody "$secret" POST /api/v1/kill '{"action":"halt"}')"
equals "STALE_TIMESTAMP: 401 (6 minutes old)" 401 \
    "$(scurl ops "$secret" POST /api/v1/kill '{"action":"halt"}' $(($(now_ms) - 360000)))"
ts=$(now_ms)
s=$(sig "$secret" "$ts" nonce-other-body-0001 POST /api/v1/kill '{"action":"pause"}')
code=$(curl -s -o body -w '%{http_code}' -X POST -H "X-HH-Key: ops" -H "X-HH-Timestamp: $ts" \
    -H "X-HH-Nonce: nonce-other-body-0001" -H "X-HH-Signature: $s" \
    --data-binary '{"action":"halt"}' "$URL/api/v1/kill")
equals "BAD_SIGNATURE: a signature over another body" 401 "$code"
ts=$(now_ms)
equals "a signed GET with a fresh nonce: 200" 200 \
    "$(scurl ops "$secret" GET /api/v1/status '' "$ts" nonce-replay-00000001)"
equals "REPLAYED_NONCE: the same request again" 401 \
    "$(scurl ops "$secret" GET /api/v1/status '' "$ts" nonce-replay-00000001)"
codes="SELECT count(DISTINCT json_extract(payload, '\$.code')) FROM audit WHERE kind = 'API_REFUSED'"
wait_for 10 test "$(q run.db "$codes")" -ge 6
for c in FORBIDDEN_ADDRESS MISSING_AUTH UNKNOWN_KEY STALE_TIMESTAMP BAD_SIGNATURE REPLAYED_NONCE; do
    equals "$c audited (API_REFUSED)" 1 "$(q run.db "SELECT count(*) > 0 FROM audit
        WHERE kind = 'API_REFUSED' AND json_extract(payload, '\$.code') = '$c'")"
done
get /metrics > m2.out
contains "refusals counted (BAD_SIGNATURE)" m2.out 'hedgehog_api_refused_total{code="BAD_SIGNATURE"} 1'
check "promtool check metrics accepts the engine's /metrics" sh -c "promtool check metrics < m2.out"
equals "still ACTIVE: no refused request acted" ACTIVE "$(field /api/v1/status trading_state)"

# ---- `hedgehog kill` beside the running engine -------------------------------------------------
check "hedgehog kill --action pause while the engine runs" \
    "$HH" kill --db run.db --action pause --reason "from the desk"
wait_for 10 sh -c "curl -s -H 'Authorization: Bearer $(cat token)' $URL/api/v1/status | grep -q '\"trading_state\":\"PAUSED\"'"
equals "... the engine takes it up" PAUSED "$(field /api/v1/status trading_state)"

# ---- flatten: closed at market, flat once the broker confirms ---------------------------------
api POST /api/v1/kill --body '{"action":"flatten","reason":"end of day"}' > fl.out
contains "kill flatten: HALTED, flattening" fl.out '"flattening":true'
wait_for 20 sh -c "curl -s -H 'Authorization: Bearer $(cat token)' $URL/api/v1/status | grep -q '\"flat\":true'"
get /api/v1/status > st.out
contains "status says flat" st.out '"flat":true'
get /api/v1/positions > pos2.out
check "... positions: none left at the broker" sh -c "grep -q '\"positions\":\[' pos2.out && ! grep -q '\"broker_qty\":[1-9]' pos2.out"
contains "... logged once the broker's positions confirm it" first.log \
    "flat: every position is closed, the broker's positions confirm it"
buyback=$(grep -n 'order_sent.*BUY 25 NIFTY24JUN24000CE MARKET' first.log | tail -1 | cut -d: -f1)
sellwing=$(grep -n 'order_sent.*SELL 25 NIFTY24JUN24500CE MARKET' first.log | tail -1 | cut -d: -f1)
check "the group's short leg is bought back before its long wing is sold" \
    test "${buyback:-0}" -gt 0 -a "${sellwing:-0}" -gt "${buyback:-0}"

# ---- SIGHUP: a rotated key ---------------------------------------------------------------------
cp keys keys.old
api_keys keys.new ops2
cat keys.new > keys
kill -HUP "$RUN_PID"
wait_for 10 grep -q 'read again' first.log
check "after SIGHUP the new key signs" "$HH" api GET /api/v1/status --key-file keys --key ops2 --url "$URL"
check_exit "... and the removed one is refused" 1 \
    "$HH" api GET /api/v1/status --key-file keys.old --key ops --url "$URL"
wait_for 10 test "$(q run.db "SELECT count(*) FROM audit WHERE kind = 'API_REFUSED'
    AND json_extract(payload, '\$.code') = 'UNKNOWN_KEY' AND json_extract(payload, '\$.method') = 'GET'")" -ge 1
equals "... audited as UNKNOWN_KEY (GET /api/v1/status)" 1 "$(q run.db "SELECT count(*) > 0 FROM audit
    WHERE kind = 'API_REFUSED' AND json_extract(payload, '\$.code') = 'UNKNOWN_KEY'
    AND json_extract(payload, '\$.path') = '/api/v1/status'")"
cp keys.old keys
kill -HUP "$RUN_PID"
wait_for 10 sh -c "grep -c 'read again' first.log | grep -q 2"

stop_run
equals "SIGTERM: exit 0" 0 "$RC"
check "the audit trail verifies" "$HH" audit verify --db run.db
check "KILL_SWITCH rows: pause, resume, the desk's pause, flatten" test \
    "$(q run.db "SELECT count(*) FROM audit WHERE kind = 'KILL_SWITCH'")" -ge 4
check "API_REFUSED audited (code, method, path, client)" test \
    "$(q run.db "SELECT count(*) FROM audit WHERE kind = 'API_REFUSED' AND payload LIKE '%BAD_SIGNATURE%'")" -ge 1
equals "the request from the desk is marked applied" 0 \
    "$(q run.db "SELECT count(*) FROM kill_switch WHERE applied_at IS NULL")"
check "the day's report was written at the end" test -s reports/2024-06-10.json

# ---- a halted engine restarts halted -----------------------------------------------------------
start_run second
wait_for 10 sh -c "curl -s -H 'Authorization: Bearer $(cat token)' $URL/api/v1/status | grep -q trading_state"
equals "restarted: still HALTED" HALTED "$(field /api/v1/status trading_state)"
stop_run
equals "SIGTERM: exit 0" 0 "$RC"
exit 0
