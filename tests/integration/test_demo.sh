#!/bin/sh
# The demo backtest (examples/: real NIFTY 1-minute bars of June 2024 and
# pivot signals) end to end through the CLI: exit 0, every output written,
# the summary consistent with trades.csv, and report.html opened in headless
# Chromium: no JavaScript error, one marker per fill, one row per trade.
. "$HH_ROOT/tests/integration/lib.sh"
hh_setup_tmp
EX=$HH_ROOT/examples

check "demo backtest exits 0" "$HH" backtest --config "$EX/demo.yaml" \
    --bars "$EX/nifty50_1min_2024-06.csv" --signals "$EX/signals_pivots_2024-06.jsonl" \
    --out "$T/demo"
for f in fills.csv trades.csv rejected.jsonl summary.json report.html; do
    check "demo wrote $f" test -s "$T/demo/$f"
done
trades=$(($(wc -l < "$T/demo/trades.csv") - 1))
fills=$(($(wc -l < "$T/demo/fills.csv") - 1))
contains "summary counts the trades of trades.csv" "$T/demo/summary.json" "\"trades\": $trades,"
contains "36 signals received" "$T/demo/summary.json" '"signals_received": 36,'
# Net P&L in the summary equals the sum of trades.csv's net_pnl column
# (exact: paise are integers).
sum=$(awk -F, 'NR > 1 { split($13, p, "."); s += p[1] * 100 + (substr($13, 1, 1) == "-" ? -1 : 1) * p[2] }
    END { printf "%s%d.%02d", s < 0 ? "-" : "", (s < 0 ? -s : s) / 100, (s < 0 ? -s : s) % 100 }' "$T/demo/trades.csv")
contains "summary net_pnl is the sum of trades" "$T/demo/summary.json" "\"net_pnl\": $sum,"
if command -v node >/dev/null 2>&1 && [ -x "${CHROMIUM:-/usr/bin/chromium}" ]; then
    timeout 180 node "$HH_ROOT/tests/tools/check_report.js" "$T/demo/report.html" \
        --markers "$fills" --trades "$trades" --label "demo report: "
else
    not_ok "demo report: node and chromium are needed (scripts/deps.sh installs them)"
fi
