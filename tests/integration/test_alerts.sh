#!/bin/sh
# The alert rules: deploy/prometheus/alerts.yml passes `promtool check
# rules`, its unit tests (tests/prometheus/*.yml) pass `promtool test
# rules`, the example Prometheus configuration passes `promtool check
# config`, and every hedgehog_ metric a rule reads is one the API exposes.
. "$HH_ROOT/tests/integration/lib.sh"
. "$HH_ROOT/tests/integration/api_lib.sh"
api_setup

RULES=$HH_ROOT/deploy/prometheus/alerts.yml
check "promtool check rules deploy/prometheus/alerts.yml" promtool check rules "$RULES"
for t in "$HH_ROOT"/tests/prometheus/*.yml; do
    check "promtool test rules $(basename "$t")" promtool test rules "$t"
done
for a in HedgehogUnhedgedExposure HedgehogMarginUtilisationHigh HedgehogHedgeLagHigh \
         HedgehogReconcileMismatch HedgehogStopLossMarketFallback HedgehogEngineDown \
         HedgehogBreakerOpen HedgehogMarketDataStale HedgehogStoreFailing \
         HedgehogKillSwitchEngaged; do
    contains "rule $a exists" "$RULES" "alert: $a"
    contains "rule $a is unit-tested" "$HH_ROOT/tests/prometheus/alerts_test.yml" "alertname: $a"
done

mkdir -p "$T/prom"
cp "$RULES" "$T/prom/alerts.yml"
echo token-for-the-check-only > "$T/prom/hedgehog.token"
sed "s|/etc/prometheus/hedgehog.token|$T/prom/hedgehog.token|" \
    "$HH_ROOT/deploy/prometheus/prometheus.yml" > "$T/prom/prometheus.yml"
check "promtool check config deploy/prometheus/prometheus.yml" promtool check config "$T/prom/prometheus.yml"

fake_start core --listen 127.0.0.1:0 --allow 127.0.0.1/32
curl -s "http://127.0.0.1:$PORT/metrics" > "$T/metrics.txt"
grep -o 'hedgehog_[a-z_]*' "$RULES" | sed 's/_\(bucket\|count\|sum\)$//' | sort -u > "$T/used"
while read -r m; do
    contains "$m (read by a rule) is exposed" "$T/metrics.txt" "# TYPE $m "
done < "$T/used"
fake_stop core
