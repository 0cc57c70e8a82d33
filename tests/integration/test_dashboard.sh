#!/bin/sh
# The live dashboard (GET /) in headless Chromium, driven by
# tests/tools/check_dashboard.js, against a real `hedgehog run --mode paper`
# holding a position (a signal posted through `hedgehog api` and filled, the
# price moved since): it connects with the read token and a key, compares
# what it shows with the read endpoints (positions and P&L as
# /api/v1/positions has them), finds no JavaScript error, and a kill-switch
# button asks for confirmation before it halts; the screenshot is kept in
# $HH_BUILD/artifacts/dashboard.png (CI artifact).  Then, against
# api_fakecore, what a real engine cannot publish: an alert carrying markup
# is shown as text and never run.
. "$HH_ROOT/tests/integration/lib.sh"
. "$HH_ROOT/tests/integration/api_lib.sh"
api_setup
cd "$T" || exit 1

cat > instruments.csv <<'EOF'
symbol,exchange,type,underlying,expiry,strike,option_type,lot_size,tick_size,freeze_qty
XYZ,NSE,EQ,XYZ,,,,1,0.05,
EOF
# an hour of ticks every second, replayed at 20x: 100.00 for the first
# minute, 100.50 for half a minute (the entry at 100.50 fills), 101.00 after
awk 'BEGIN { print "ts,symbol,price,qty"
    for (s = 0; s < 3600; s++) { t = 33300 + s
        printf "2025-01-02T%02d:%02d:%02d+05:30,XYZ,%s,100\n", t / 3600, t / 60 % 60, t % 60,
            s < 60 ? "100.00" : s < 90 ? "100.50" : "101.00" } }' > ticks.csv
api_keys keys k1
openssl rand -hex 20 > token
chmod 600 token
cat > cfg.yaml <<'EOF'
instruments: instruments.csv
entry: {mode: touch}
reconcile: {poll_s: 2}
api:
  listen: "127.0.0.1:0"
  keys_file: keys
  read_token_file: token
EOF
"$HH" run --config cfg.yaml --mode paper --ticks ticks.csv --speed 20 --db run.db 2>run.log &
echo $! > "$T/run.pid"
wait_for 20 grep -q '"event":"api_listening"' run.log
PORT=$(sed -n 's/.*"event":"api_listening".*(port \([0-9]*\)).*/\1/p' run.log | head -1)
URL="http://127.0.0.1:$PORT"
get() { curl -s -H "Authorization: Bearer $(cat token)" "$URL$1"; }
wait_for 10 sh -c "curl -s -H 'Authorization: Bearer $(cat token)' $URL/api/v1/status | grep -q '\"engine_time\":\"'"
now=$(get /api/v1/status | sed -n 's/.*"engine_time":"\([^"]*\)".*/\1/p')
"$HH" api POST /api/v1/signals --key-file keys --url "$URL" \
    --body "{\"id\":\"dash-1\",\"ts\":\"$now\",\"symbol\":\"XYZ\",\"side\":\"BUY\",\"entry\":\"100.50\",\"stop\":99,\"targets\":[105],\"lots\":5}" \
    > post.out
contains "a signal posted through hedgehog api: ACCEPTED" post.out '"decision":"ACCEPTED"'
# held, and the price moved (after 09:16:30): P&L to show
if wait_for 20 sh -c "curl -s -H 'Authorization: Bearer $(cat token)' $URL/api/v1/positions | grep -q '\"engine_qty\":5,\"broker_qty\":5,.*\"last_price\":101.00'"; then
    ok "the entry filled: 5 XYZ held, last price 101.00"; else
    not_ok "the entry filled"; get /api/v1/positions; fi

mkdir -p "$HH_BUILD/artifacts"
rm -f "$HH_BUILD/artifacts/dashboard.png"
node "$HH_ROOT/tests/tools/check_dashboard.js" "$URL" --token "$(cat token)" \
    --key-id k1 --secret "$SECRET_k1" --screenshot "$HH_BUILD/artifacts/dashboard.png"
check "a screenshot was kept (build/artifacts/dashboard.png)" test -s "$HH_BUILD/artifacts/dashboard.png"
check "the halt from the page is audited (KILL_SWITCH by api:k1)" test \
    "$(sqlite3 run.db "SELECT count(*) FROM audit WHERE kind = 'KILL_SWITCH' AND payload LIKE '%api:k1%'")" -ge 1
fake_stop run

# ---- what a real engine cannot publish: markup in an alert --------------------------------
fake_start core --listen 127.0.0.1:0 --allow 127.0.0.1/32 --keys keys --token token \
    --nonces n.nonces
node "$HH_ROOT/tests/tools/check_dashboard.js" "http://127.0.0.1:$PORT" --token "$(cat token)" \
    --key-id k1 --secret "$SECRET_k1" --markup
fake_stop core
