#!/bin/sh
# One engine for every mode (SPEC §10b): `run --mode paper --speed 0` with
# exits.stop_orders: resting, no latency and no faults, writes byte-identical
# fills.csv, trades.csv and rejected.jsonl to `backtest` on the same config,
# market data and signals — on every tick and bar scenario of tests/data/bt,
# the multi-leg groups of tests/data/group_bt and the demo data.  With the
# default `held` stops the fills may differ; `hedgehog compare` explains
# every difference (each carries a cause).
. "$HH_ROOT/tests/integration/lib.sh"
hh_setup_tmp
cp -r "$DATA/bt" "$T/bt"
mkdir -p "$T/demo" "$T/group"
cp "$HH_ROOT/examples/demo.yaml" "$HH_ROOT/examples/instruments.csv" \
    "$HH_ROOT/examples/holidays.csv" "$T/demo/"
cp "$DATA/group_bt/config.yaml" "$DATA/group_bt/instruments.csv" "$T/group/"
cp "$DATA/holidays.csv" "$T/holidays.csv"

# with_stops SRC DST POLICY: SRC with exits.stop_orders set to POLICY.
with_stops() {
    if grep -q '^exits:' "$1"; then
        sed "s/^exits:.*/exits:\n  stop_orders: $3/" "$1" > "$2"
    else
        { cat "$1"; printf 'exits:\n  stop_orders: %s\n' "$3"; } > "$2"
    fi
}

# parity NAME DIR CONFIG MDFLAG MDFILE SIGNALS: backtest and run on the same
# inputs; the three files must be byte-identical.
parity() {
    name=$1 dir=$2 cfg=$3 mdflag=$4 md=$5 sig=$6
    with_stops "$dir/$cfg" "$dir/resting.yaml" resting
    "$HH" backtest --config "$dir/resting.yaml" "$mdflag" "$md" --signals "$sig" \
        --out "$T/$name.bt" >/dev/null 2>"$T/$name.bt.err" ||
        { not_ok "$name: backtest ran"; sed 's/^/    /' "$T/$name.bt.err"; return; }
    if ! "$HH" run --config "$dir/resting.yaml" --mode paper --speed 0 "$mdflag" "$md" \
        --signals "$sig" --db "$T/$name.db" --out "$T/$name.run" 2>"$T/$name.run.log"; then
        not_ok "$name: run ran"; tail -5 "$T/$name.run.log" | sed 's/^/    /'; return
    fi
    for f in fills.csv trades.csv rejected.jsonl; do
        same_file "$name: run --mode paper --speed 0 (resting) = backtest: $f" \
            "$T/$name.bt/$f" "$T/$name.run/$f"
    done
}

for d in "$T"/bt/s*/; do
    name=$(basename "$d")
    if [ -f "$d/ticks.csv" ]; then md=--ticks file=ticks.csv; else md=--bars file=bars.csv; fi
    parity "$name" "$d" config.yaml "$md" "$d/$file" "$d/signals.jsonl"
done
parity demo "$T/demo" demo.yaml --bars "$HH_ROOT/examples/nifty50_1min_2024-06.csv" \
    "$HH_ROOT/examples/signals_pivots_2024-06.jsonl"

# multi-leg groups on option bars priced from the June 2024 NIFTY bars
"$HH" price-options --bars "$HH_ROOT/examples/nifty50_1min_2024-06.csv" --underlying NIFTY \
    --expiry 2024-06-27 --strikes 22500,22800,23000,23200,23500,23800,24000,24200,24500 \
    --iv 0.14 --holidays "$HH_ROOT/examples/holidays.csv" --out "$T/group/bars.csv" \
    --instruments "$T/group/priced.csv" >/dev/null 2>&1
sed 's|\.\./holidays.csv|../holidays.csv|' "$T/group/config.yaml" > "$T/group/c.yaml"
parity groups "$T/group" c.yaml --bars "$T/group/bars.csv" "$DATA/group_bt/signals.jsonl"

# ---- held stops: the differences are explained ------------------------------------------
d=$T/demo
with_stops "$d/demo.yaml" "$d/held.yaml" held
"$HH" run --config "$d/held.yaml" --mode paper --speed 0 \
    --bars "$HH_ROOT/examples/nifty50_1min_2024-06.csv" \
    --signals "$HH_ROOT/examples/signals_pivots_2024-06.jsonl" --db "$T/held.db" \
    --out "$T/held.run" 2>"$T/held.log"
equals "demo with held stops: run exits 0" 0 $?
"$HH" compare --a "$T/demo.bt" --b "$T/held.run" --out "$T/cmp.json" >"$T/cmp.txt" 2>&1
equals "compare resting vs held exits 0" 0 $?
contains "compare reports the totals" "$T/cmp.txt" "net"
if grep -q '"cause": *null' "$T/cmp.json"; then
    not_ok "every difference between resting and held stops has a cause"
    grep -n '"cause": *null' "$T/cmp.json" | head -5 | sed 's/^/    /'
else
    ok "every difference between resting and held stops has a cause"
fi
