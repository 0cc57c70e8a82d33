#!/bin/sh
# The operations API end to end: api_fakecore (the real server in front of
# a thread playing the core) driven by the real `hedgehog api` client and
# by curl with signatures computed by the openssl command line: the client's
# exit codes, the refusal matrix (each code audited and counted), a key
# removed then SIGHUP, a replay after a restart, bad input, answer timeouts,
# and `promtool check metrics` on /metrics.
. "$HH_ROOT/tests/integration/lib.sh"
. "$HH_ROOT/tests/integration/api_lib.sh"
api_setup

api_keys "$T/keys" k1 k2
openssl rand -hex 20 > "$T/token"
chmod 600 "$T/token"
TOKEN=$(cat "$T/token")
fake_start core --listen 127.0.0.1:0 --allow 127.0.0.1/32 --keys "$T/keys" \
    --token "$T/token" --nonces "$T/run.db.nonces" --audit "$T/audit.jsonl"
URL=http://127.0.0.1:$PORT
equals "the server listens" 200 "$(curl -s -o /dev/null -w '%{http_code}' "$URL/health/live")"

# --- the client ------------------------------------------------------------
check "hedgehog api GET /api/v1/status exits 0" "$HH" api GET /api/v1/status --key-file "$T/keys" --url "$URL"
"$HH" api GET /api/v1/status --key-file "$T/keys" --url "$URL" > "$T/status.json"
contains "the status is printed" "$T/status.json" '"trading_state":"ACTIVE"'
"$HH" api POST /api/v1/signals --body '{"id":"it-1","symbol":"NIFTY24JUNFUT"}' \
    --key-file "$T/keys" --url "$URL" > "$T/sig1.json"
contains "a signal is decided (ACCEPTED)" "$T/sig1.json" '"decision":"ACCEPTED"'
"$HH" api POST /api/v1/signals --body '{"id":"it-1","symbol":"NIFTY24JUNFUT"}' \
    --key-file "$T/keys" --key k2 --url "$URL" > "$T/sig2.json"
contains "the same id again is a DUPLICATE (signed by k2)" "$T/sig2.json" '"reason":"DUPLICATE"'
check_exit "a 404 from the engine exits 1" 1 "$HH" api POST /api/v1/trades/9/exit --key-file "$T/keys" --url "$URL"
check_exit "a 400 (malformed JSON) exits 1" 1 "$HH" api POST /api/v1/signals --body '{"id":' --key-file "$T/keys" --url "$URL"
check_exit "no --key-file exits 2" 2 "$HH" api GET /api/v1/status --url "$URL"
check_exit "an unknown --key exits 2" 2 "$HH" api GET /api/v1/status --key-file "$T/keys" --key nobody --url "$URL"
check_exit "a bad METHOD exits 2" 2 "$HH" api DELETE /api/v1/status --key-file "$T/keys" --url "$URL"
cp "$T/keys" "$T/loose"
chmod 644 "$T/loose"
"$HH" api GET /api/v1/status --key-file "$T/loose" --url "$URL" > /dev/null 2> "$T/loose.err"
equals "a key file readable by others exits 2" 2 $?
contains "... and the message names the file and its mode" "$T/loose.err" "$T/loose: readable or writable by group or others (mode 0644)"
if grep -q "$SECRET_k1" "$T/loose.err"; then not_ok "the message holds no secret"; else ok "the message holds no secret"; fi
check_exit "nobody listening exits 1" 1 "$HH" api GET /health/live --key-file "$T/keys" --url http://127.0.0.1:1 --timeout 5

# --- the refusal matrix (signatures from openssl) --------------------------
equals "openssl's signature is the server's (kill halt: 200)" 200 \
    "$(scurl k1 "$SECRET_k1" POST /api/v1/kill '{"action":"halt","reason":"it"}')"
contains "... and the engine halted" "$T/body" '"trading_state":"HALTED"'
code=$(curl -s -o "$T/body" -w '%{http_code}' --interface 127.0.0.2 "$URL/health/live")
equals "FORBIDDEN_ADDRESS: 403 for 127.0.0.2" "403 {\"error\":\"FORBIDDEN_ADDRESS\"}" "$code $(cat "$T/body")"
code=$(curl -s -o "$T/body" -w '%{http_code}' -X POST "$URL/api/v1/resume")
equals "MISSING_AUTH: 401" "401 {\"error\":\"MISSING_AUTH\"}" "$code $(cat "$T/body")"
equals "UNKNOWN_KEY: 401" 401 "$(scurl k9 "$SECRET_k1" POST /api/v1/resume '{}')"
contains "... with its code" "$T/body" UNKNOWN_KEY
equals "STALE_TIMESTAMP: 401 (6 minutes old)" 401 \
    "$(scurl k1 "$SECRET_k1" POST /api/v1/resume '{}' $(($(now_ms) - 360000)))"
contains "... with its code" "$T/body" STALE_TIMESTAMP
ts=$(now_ms)
s=$(sig "$SECRET_k1" "$ts" nonce-other-body-0001 POST /api/v1/kill '{"action":"pause"}')
code=$(curl -s -o "$T/body" -w '%{http_code}' -X POST -H "X-HH-Key: k1" -H "X-HH-Timestamp: $ts" \
    -H "X-HH-Nonce: nonce-other-body-0001" -H "X-HH-Signature: $s" \
    --data-binary '{"action":"flatten"}' "$URL/api/v1/kill")
equals "BAD_SIGNATURE: a signature over a different body" "401 {\"error\":\"BAD_SIGNATURE\"}" "$code $(cat "$T/body")"
ts=$(now_ms)
equals "a fresh nonce is accepted" 200 "$(scurl k2 "$SECRET_k2" POST /api/v1/resume '{}' "$ts" nonce-replay-00000001)"
equals "REPLAYED_NONCE: the same request again" 401 "$(scurl k2 "$SECRET_k2" POST /api/v1/resume '{}' "$ts" nonce-replay-00000001)"
contains "... with its code" "$T/body" REPLAYED_NONCE
wait_for 5 test "$(grep -c API_REFUSED "$T/audit.jsonl")" -ge 6
for c in FORBIDDEN_ADDRESS MISSING_AUTH UNKNOWN_KEY STALE_TIMESTAMP BAD_SIGNATURE REPLAYED_NONCE; do
    contains "$c audited (API_REFUSED with code)" "$T/audit.jsonl" "\"code\":\"$c\""
done
contains "the audit names method, path and client" "$T/audit.jsonl" \
    '"event":"API_REFUSED","method":"POST","path":"/api/v1/kill","client":"127.0.0.1","key":"","code":"BAD_SIGNATURE"'
if grep -q -e "$SECRET_k1" -e "$SECRET_k2" -e "$TOKEN" "$T/audit.jsonl" "$T/core.err"; then
    not_ok "no secret in the audit or the log"; else ok "no secret in the audit or the log"; fi
curl -s -H "Authorization: Bearer $TOKEN" "$URL/metrics" > "$T/metrics.txt"
for c in FORBIDDEN_ADDRESS MISSING_AUTH UNKNOWN_KEY STALE_TIMESTAMP BAD_SIGNATURE REPLAYED_NONCE; do
    contains "$c counted" "$T/metrics.txt" "hedgehog_api_refused_total{code=\"$c\"} 1"
done
check "promtool check metrics accepts /metrics" sh -c "promtool check metrics < '$T/metrics.txt'"
code=$(curl -s -o /dev/null -w '%{http_code}' "$URL/metrics")
equals "/metrics wants the read token when one is configured" 401 "$code"

# --- key rotation: k2 removed, SIGHUP ----------------------------------------
grep '^k1 ' "$T/keys" > "$T/keys.new"
chmod 600 "$T/keys.new"
mv "$T/keys.new" "$T/keys"
kill -HUP "$(cat "$T/core.pid")"
wait_for 5 grep -q api_keys_loaded "$T/core.err"
contains "SIGHUP re-read the keys" "$T/core.err" "api_keys_loaded"
equals "the removed key is refused (UNKNOWN_KEY)" 401 "$(scurl k2 "$SECRET_k2" GET /api/v1/status)"
contains "... with its code" "$T/body" UNKNOWN_KEY
equals "the kept key still works" 200 "$(scurl k1 "$SECRET_k1" GET /api/v1/status)"

# --- a restart reopens no replay ----------------------------------------------
ts=$(now_ms)
equals "a request before the restart" 200 "$(scurl k1 "$SECRET_k1" POST /api/v1/resume '{}' "$ts" nonce-before-restart-1)"
fake_stop core
fake_start core --listen 127.0.0.1:0 --allow 127.0.0.1/32 --keys "$T/keys" \
    --token "$T/token" --nonces "$T/run.db.nonces" --audit "$T/audit.jsonl"
URL=http://127.0.0.1:$PORT
equals "the same request after the restart: 401" 401 "$(scurl k1 "$SECRET_k1" POST /api/v1/resume '{}' "$ts" nonce-before-restart-1)"
contains "... REPLAYED_NONCE" "$T/body" REPLAYED_NONCE

# --- bad input ------------------------------------------------------------------
head -c 70000 /dev/zero | tr '\0' 'x' > "$T/big"
code=$(curl -s -o "$T/body" -w '%{http_code}' -X POST --data-binary @"$T/big" "$URL/api/v1/signals")
equals "a 70000-byte body: 413" 413 "$code"
equals "an unknown path: 404" 404 "$(curl -s -o /dev/null -w '%{http_code}' "$URL/api/v1/nothing")"
equals "a wrong method: 405" 405 "$(curl -s -o /dev/null -w '%{http_code}' -X PUT "$URL/api/v1/status")"
equals "malformed JSON, signed: 400" 400 "$(scurl k1 "$SECRET_k1" POST /api/v1/signals '{"id":"x",}')"
equals "a kill without action: 400" 400 "$(scurl k1 "$SECRET_k1" POST /api/v1/kill '{"reason":"x"}')"

# --- the engine does not answer ------------------------------------------------
fake_stop core
fake_start mute --listen 127.0.0.1:0 --allow 127.0.0.1/32 --keys "$T/keys" \
    --nonces "$T/mute.nonces" --no-answer --answer-timeout-ms 500
"$HH" api POST /api/v1/kill --body '{"action":"pause"}' --key-file "$T/keys" \
    --url "http://127.0.0.1:$PORT" > "$T/mute.out" 2>&1
equals "no answer from the engine: exit 1" 1 $?
contains "... 503 TIMEOUT, outcome unknown" "$T/mute.out" "outcome is unknown"
fake_stop mute
