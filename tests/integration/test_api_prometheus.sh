#!/bin/sh
# A real Prometheus (Debian's) scraping the API of api_fakecore with the
# read token and evaluating deploy/prometheus/alerts.yml: what a paper run
# of single trades cannot show (test_run_prometheus.sh has the real engine:
# breaker, reconciliation, kill switch) — the unhedged-exposure alert
# fires for the underlying the core reports 150 units of, and only for it.
. "$HH_ROOT/tests/integration/lib.sh"
. "$HH_ROOT/tests/integration/api_lib.sh"
api_setup

api_keys "$T/keys" k1
openssl rand -hex 20 > "$T/token"
chmod 600 "$T/token"
fake_start core --listen 127.0.0.1:0 --allow 127.0.0.1/32 --keys "$T/keys" \
    --token "$T/token" --nonces "$T/n.nonces" --exposure 150
prom_start "$PORT" "$T/token"

if wait_for 15 curl -sf "http://127.0.0.1:$PROM/-/ready"; then ok "prometheus is ready"; else
    not_ok "prometheus is ready"; sed 's/^/    /' "$T/prom.log" | tail -20; fi
if wait_for 30 prom_has 'up{job="hedgehog"}' '"1"\]'; then ok "the hedgehog target is up (token accepted)"; else
    not_ok "the hedgehog target is up"; cat "$T/q.json"; fi
if wait_for 10 prom_has 'hedgehog_unhedged_exposure_units{underlying="NIFTY"}' '"150"\]'; then
    ok "the stored exposure is the fed 150 units"; else not_ok "the stored exposure"; cat "$T/q.json"; fi
if wait_for 45 prom_firing HedgehogUnhedgedExposure; then ok "HedgehogUnhedgedExposure fires"; else
    not_ok "HedgehogUnhedgedExposure fires"; cat "$T/alerts.json"; fi
contains "... labelled critical" "$T/alerts.json" '"severity":"critical"'
contains "... for NIFTY" "$T/alerts.json" '"underlying":"NIFTY"'
if grep -q '"underlying":"BANKNIFTY"' "$T/alerts.json"; then not_ok "... and not for BANKNIFTY (0 units)"; else
    ok "... and not for BANKNIFTY (0 units)"; fi

fake_stop prom
fake_stop core
