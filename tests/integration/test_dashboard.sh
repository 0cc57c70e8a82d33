#!/bin/sh
# The live dashboard (GET /) in headless Chromium against api_fakecore:
# tests/tools/check_dashboard.js connects with the read token and a key,
# compares what is shown with the read endpoints, drives the kill switch,
# and keeps a screenshot in $HH_BUILD/artifacts/dashboard.png (CI artifact).
. "$HH_ROOT/tests/integration/lib.sh"
. "$HH_ROOT/tests/integration/api_lib.sh"
api_setup

api_keys "$T/keys" k1
openssl rand -hex 20 > "$T/token"
chmod 600 "$T/token"
fake_start core --listen 127.0.0.1:0 --allow 127.0.0.1/32 --keys "$T/keys" \
    --token "$T/token" --nonces "$T/n.nonces"
mkdir -p "$HH_BUILD/artifacts"
rm -f "$HH_BUILD/artifacts/dashboard.png"
node "$HH_ROOT/tests/tools/check_dashboard.js" "http://127.0.0.1:$PORT" --token "$(cat "$T/token")" \
    --key-id k1 --secret "$SECRET_k1" --screenshot "$HH_BUILD/artifacts/dashboard.png"
check "a screenshot was kept (build/artifacts/dashboard.png)" test -s "$HH_BUILD/artifacts/dashboard.png"
fake_stop core
