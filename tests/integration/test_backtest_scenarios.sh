#!/bin/sh
# Backtest scenarios with hand-computed expectations (tests/data/bt/*/):
# run the CLI, compare fills.csv, trades.csv and rejected.jsonl byte for
# byte, and the listed summary.json figures.  Then determinism: a second
# run gives byte-identical files (summary.json differs only in elapsed_s).
. "$HH_ROOT/tests/integration/lib.sh"
hh_setup_tmp

for dir in "$DATA"/bt/*/; do
    name=$(basename "$dir")
    [ -f "$dir/config.yaml" ] || continue
    if [ -f "$dir/bars.csv" ]; then md="--bars $dir/bars.csv"; else md="--ticks $dir/ticks.csv"; fi
    out="$T/$name"
    # shellcheck disable=SC2086
    check "$name: backtest runs" "$HH" backtest --config "$dir/config.yaml" $md \
        --signals "$dir/signals.jsonl" --out "$out"
    for f in fills.csv trades.csv rejected.jsonl; do
        [ -f "$dir/expected/$f" ] && same_file "$name: $f" "$dir/expected/$f" "$out/$f"
    done
    if [ -f "$dir/expected/summary.keys" ]; then
        while read -r key value; do
            [ -n "$key" ] || continue
            contains "$name: summary $key" "$out/summary.json" "\"$key\": $value"
        done < "$dir/expected/summary.keys"
    fi
    # Determinism: the same inputs twice give byte-identical outputs.
    # shellcheck disable=SC2086
    "$HH" backtest --config "$dir/config.yaml" $md --signals "$dir/signals.jsonl" \
        --out "$out.again" >/dev/null 2>&1
    for f in fills.csv trades.csv rejected.jsonl; do
        same_file "$name: $f identical on a second run" "$out/$f" "$out.again/$f"
    done
    grep -v elapsed_s "$out/summary.json" > "$T/a.json"
    grep -v elapsed_s "$out.again/summary.json" > "$T/b.json"
    same_file "$name: summary.json identical but for elapsed_s" "$T/a.json" "$T/b.json"
done
