#!/bin/sh
# A failed command never leaves a mixture of old and new outputs in its
# --out directory (SPEC §10a "Outputs"): a good backtest writes DIR; then
# backtests that fail — on their inputs (before DIR is touched), while
# loading the signals, while running (a database filling up), and when one
# output cannot replace the old one (a directory in its place) — leave
# every old file byte for byte as it was and no temporary file behind.
# `run --out` the same.
. "$HH_ROOT/tests/integration/lib.sh"
hh_setup_tmp
cd "$T" || exit 1
EX=$HH_ROOT/examples
BT="backtest --config $EX/demo.yaml --bars $EX/nifty50_1min_2024-06.csv"
SIG=$EX/signals_pivots_2024-06.jsonl
FILES="fills.csv trades.csv rejected.jsonl summary.json report.html"

sums() { (cd "$1" && for f in $FILES; do [ -f "$f" ] && cksum "$f"; done); }
no_temps() {   # no_temps DESC DIR: nothing but the outputs in DIR
    extra=$(ls -A "$2" | grep -v -x -e fills.csv -e trades.csv -e rejected.jsonl \
            -e summary.json -e report.html)
    equals "$1: no temporary file left" "" "$extra"
}
intact() {   # intact DESC DIR SUMS
    equals "$1: every old output intact" "$3" "$(sums "$2")"
    no_temps "$1" "$2"
}

# shellcheck disable=SC2086
check "a good backtest into out/" "$HH" $BT --signals "$SIG" --out out
old=$(sums out)
equals "... five outputs" 5 "$(echo "$old" | grep -c .)"
head -3 "$SIG" > fewer.jsonl   # a different run: different outputs

# ---- failing on its inputs: out/ is not touched ------------------------------------
# shellcheck disable=SC2086
"$HH" backtest --config "$EX/demo.yaml" --bars missing.csv --signals fewer.jsonl --out out \
    2>/dev/null
equals "a missing bars file: exit 2" 2 $?
intact "a missing bars file" out "$old"
# shellcheck disable=SC2086
"$HH" $BT --signals missing.jsonl --out fresh 2>/dev/null
equals "a missing signals file: exit 2" 2 $?
equals "... the output directory is not even created" "" "$(ls -d fresh 2>/dev/null)"

# ---- failing while it loads the signals (a directory, not a file) ------------------
mkdir sigdir
# shellcheck disable=SC2086
"$HH" $BT --signals sigdir --out out 2>sigdir.err
rc=$?
if [ $rc -eq 1 ] || [ $rc -eq 2 ]; then ok "signals unreadable while loading: exit $rc"; else
    not_ok "signals unreadable while loading: exit $rc"; fi
intact "signals unreadable while loading" out "$old"

# ---- one output cannot replace the old one: nothing is replaced -----------------------
cp -r out blocked
rm blocked/report.html
mkdir blocked/report.html
touch blocked/report.html/keep
blocked_old=$(sums blocked)
# shellcheck disable=SC2086
"$HH" $BT --signals fewer.jsonl --out blocked >/dev/null 2>blocked.err
equals "report.html is a directory: exit 1" 1 $?
contains "... saying which" blocked.err "blocked/report.html: a directory"
equals "... fills, trades, dead letters and summary are the old ones" "$blocked_old" \
    "$(sums blocked)"
equals "... no temporary file left" "keep" "$(ls -A blocked/report.html)"
equals "... nothing but the old files" "fills.csv rejected.jsonl report.html summary.json trades.csv" \
    "$(ls -A blocked | tr '\n' ' ' | sed 's/ $//')"

# ---- failing while it runs: the database fills up ---------------------------------------
mkdir mnt
trap 'umount "$T/mnt" 2>/dev/null; rm -rf "$T"' EXIT INT TERM
if mount -t tmpfs -o size=1m tmpfs mnt 2>/dev/null; then
    dd if=/dev/zero of=mnt/filler bs=4k count=200 2>/dev/null
    # shellcheck disable=SC2086
    "$HH" $BT --signals "$SIG" --out out --db mnt/f.db >/dev/null 2>full.err
    equals "the database filling up during the run: exit 1" 1 $?
    intact "the database filling up" out "$old"
    umount mnt
else
    ok "the database filling up # SKIP mount not permitted here"
fi

# ---- a good run replaces them all -----------------------------------------------------
# shellcheck disable=SC2086
check "a good backtest again" "$HH" $BT --signals fewer.jsonl --out out
if [ "$(sums out)" != "$old" ]; then ok "... every output replaced"; else
    not_ok "... the outputs did not change"; fi
no_temps "a good backtest again" out

# ---- run --out: the same files, the same rule ----------------------------------------
cp -r out runout
run_old=$(sums runout)
"$HH" run --config "$EX/demo.yaml" --mode paper --bars missing.csv --speed 0 \
    --signals fewer.jsonl --db r.db --out runout 2>/dev/null
equals "run --out, a missing bars file: exit 2" 2 $?
intact "run --out, a missing bars file" runout "$run_old"
rm -r runout/report.html && mkdir runout/report.html
run_old=$(sums runout)
"$HH" run --config "$EX/demo.yaml" --mode paper --bars "$EX/nifty50_1min_2024-06.csv" \
    --speed 0 --signals fewer.jsonl --db r2.db --out runout 2>runout.err
equals "run --out, report.html a directory: exit 1" 1 $?
equals "... the old outputs are left as they were" "$run_old" "$(sums runout)"
