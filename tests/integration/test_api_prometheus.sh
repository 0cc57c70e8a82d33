#!/bin/sh
# A real Prometheus (Debian's) scraping the API of api_fakecore with the
# read token and evaluating deploy/prometheus/alerts.yml: the target is up,
# the values it stores are the ones the core fed, the unhedged-exposure
# alert fires (the fake core reports 150 NIFTY units), and a kill switch
# engaged through `hedgehog api` raises HedgehogKillSwitchEngaged.
. "$HH_ROOT/tests/integration/lib.sh"
. "$HH_ROOT/tests/integration/api_lib.sh"
api_setup

api_keys "$T/keys" k1
openssl rand -hex 20 > "$T/token"
chmod 600 "$T/token"
fake_start core --listen 127.0.0.1:0 --allow 127.0.0.1/32 --keys "$T/keys" \
    --token "$T/token" --nonces "$T/n.nonces" --exposure 150
CORE=$PORT

# a free port for Prometheus: one nothing answers on, and another if it
# turns out taken when Prometheus binds it (another test got there first)
PROM=$((20000 + $$ % 20000))
next_port() {
    PROM=$((PROM + 1))
    while curl -s -o /dev/null "http://127.0.0.1:$PROM/"; [ $? -ne 7 ]; do PROM=$((PROM + 1)); done
}
next_port

cat > "$T/prometheus.yml" <<CFG
global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files:
  - $HH_ROOT/deploy/prometheus/alerts.yml
scrape_configs:
  - job_name: hedgehog
    authorization:
      type: Bearer
      credentials_file: $T/token
    static_configs:
      - targets: ["127.0.0.1:$CORE"]
CFG
for attempt in 1 2 3 4 5; do
    prometheus --config.file="$T/prometheus.yml" --storage.tsdb.path="$T/tsdb" \
        --web.listen-address="127.0.0.1:$PROM" --log.level=warn 2>"$T/prom.log" &
    echo $! > "$T/prom.pid"
    wait_for 10 sh -c "curl -sf http://127.0.0.1:$PROM/-/ready >/dev/null || grep -q 'address already in use' '$T/prom.log'"
    grep -q 'address already in use' "$T/prom.log" || break
    kill "$(cat "$T/prom.pid")" 2>/dev/null; wait "$(cat "$T/prom.pid")" 2>/dev/null
    next_port
done

query() {
    curl -s -G "http://127.0.0.1:$PROM/api/v1/query" --data-urlencode "query=$1" > "$T/q.json"
}
# has QUERY TEXT: the query's result contains TEXT
has() {
    query "$1" && grep -q -- "$2" "$T/q.json"
}
firing() {
    has "ALERTS{alertname=\"$1\",alertstate=\"firing\"}" "\"alertname\":\"$1\""
}

if wait_for 15 curl -sf "http://127.0.0.1:$PROM/-/ready"; then ok "prometheus is ready"; else
    not_ok "prometheus is ready"; sed 's/^/    /' "$T/prom.log" | tail -20; fi
if wait_for 30 has 'up{job="hedgehog"}' '"1"\]'; then ok "the hedgehog target is up (token accepted)"; else
    not_ok "the hedgehog target is up"; cat "$T/q.json"; fi
if wait_for 10 has 'hedgehog_unhedged_exposure_units{underlying="NIFTY"}' '"150"\]'; then
    ok "the stored exposure is the fed 150 units"; else not_ok "the stored exposure"; cat "$T/q.json"; fi
if has 'hedgehog_build_info' '"version":"fakecore"'; then ok "build info scraped"; else
    not_ok "build info scraped"; cat "$T/q.json"; fi
if wait_for 45 firing HedgehogUnhedgedExposure; then ok "HedgehogUnhedgedExposure fires"; else
    not_ok "HedgehogUnhedgedExposure fires"; cat "$T/q.json"; fi
contains "... labelled critical" "$T/q.json" '"severity":"critical"'
contains "... for NIFTY" "$T/q.json" '"underlying":"NIFTY"'
if grep -q '"underlying":"BANKNIFTY"' "$T/q.json"; then not_ok "... and not for BANKNIFTY (0 units)"; else
    ok "... and not for BANKNIFTY (0 units)"; fi
if firing HedgehogKillSwitchEngaged; then not_ok "no kill-switch alert while ACTIVE"; else
    ok "no kill-switch alert while ACTIVE"; fi
check "halt through hedgehog api" "$HH" api POST /api/v1/kill --body '{"action":"halt","reason":"drill"}' \
    --key-file "$T/keys" --url "http://127.0.0.1:$CORE"
if wait_for 30 firing HedgehogKillSwitchEngaged; then ok "HedgehogKillSwitchEngaged fires after the halt"; else
    not_ok "HedgehogKillSwitchEngaged fires after the halt"; cat "$T/q.json"; fi
contains "... in state HALTED" "$T/q.json" '"state":"HALTED"'
if firing HedgehogEngineDown; then not_ok "HedgehogEngineDown quiet while up"; else ok "HedgehogEngineDown quiet while up"; fi

fake_stop prom
fake_stop core
