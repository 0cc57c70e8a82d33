#!/bin/sh
# make demo: the main job on bundled data — a backtest of floor-pivot retest
# signals on real NIFTY 50 1-minute bars of June 2024 (examples/, sources in
# examples/SOURCES.md).  Writes build/demo/{fills.csv,trades.csv,
# rejected.jsonl,summary.json,report.html} and prints the headline figures.
set -eu
BUILD=${BUILD:-build}
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
out=$BUILD/demo
echo "hedgehog demo: backtesting examples/signals_pivots_2024-06.jsonl on NIFTY 1-minute bars (June 2024)"
"$BUILD/hedgehog" backtest --config examples/demo.yaml \
    --bars examples/nifty50_1min_2024-06.csv \
    --signals examples/signals_pivots_2024-06.jsonl --out "$out"
echo "open $root/$out/report.html in a browser for the chart, equity curve and trades"
