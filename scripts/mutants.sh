#!/bin/sh
# make mutants: every safety invariant the property and crash tests guard
# must be able to fail.  Each tests/mutants/NAME.patch is a deliberate
# defect (its header says which invariant it breaks and, on its "tests:"
# line, which tests must catch it).  For each one, on a copy of the tree:
# apply it, rebuild, run its tests — at least one must fail (the mutant is
# "killed") — and revert.  A mutant that survives, does not apply or does
# not build fails the run.  Prints each mutant's verdict and time, then the
# kill count.
#
#   scripts/mutants.sh [NAME ...]     (default: every patch)
#
# The property tests run with fewer schedules than `make test`
# (HH_MUTANT_SCHEDULES, default 3000): enough for every mutant here.
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
SCHED=${HH_MUTANT_SCHEDULES:-3000}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/hh-mutants.XXXXXX") || exit 1
trap 'rm -rf "$WORK"' EXIT INT TERM

say() { printf '%s\n' "$*"; }

# The tree as git sees it (tracked and new files, not ignored ones): the
# copy builds like a clean clone, without the original's build/.
( cd "$ROOT" && git ls-files -z --cached --others --exclude-standard |
    xargs -0 cp --parents -t "$WORK" ) || { say "mutants: cannot copy the tree"; exit 1; }
# The dependencies are this machine's, already checked (make test): the copy
# does not run scripts/deps.sh (nor npm) again.
mkdir -p "$WORK/build" && touch "$WORK/build/.deps-ok"

if [ $# -gt 0 ]; then
    set -- $(for n in "$@"; do printf '%s ' "$ROOT/tests/mutants/$n.patch"; done)
else
    set -- "$ROOT"/tests/mutants/*.patch
fi

say "mutants: building the unmutated tree once"
if ! make -C "$WORK" -j2 build/hedgehog >"$WORK/base.log" 2>&1; then
    tail -20 "$WORK/base.log"; say "mutants: the tree does not build"; exit 1
fi

# run_test NAME: 0 when it passes, 125 when it does not build.  A unit test
# binary (tests/unit/NAME.c) or an integration test (tests/integration/NAME.sh).
run_test() {
    if [ -f "$WORK/tests/unit/$1.c" ]; then
        make -C "$WORK" -j2 "build/tests/$1" >>"$WORK/build.log" 2>&1 || return 125
        ( cd "$WORK" && HH_LIVE_SCHEDULES=$SCHED HH_GROUP_SCHEDULES=$SCHED \
            HH_LIVE_GROUP_SCHEDULES=$SCHED timeout 900 "build/tests/$1" ) >"$WORK/$1.out" 2>&1
    else
        make -C "$WORK" -j2 test-tools >>"$WORK/build.log" 2>&1 || return 125
        ( cd "$WORK" && HH_RUN_KILLS=10 BUILD=build timeout 900 tests/run.sh "$1" ) \
            >"$WORK/$1.out" 2>&1
    fi
}

total=0 killed=0 bad=0
for p in "$@"; do
    name=$(basename "$p" .patch)
    tests=$(sed -n 's/^# tests: //p' "$p")
    total=$((total + 1))
    start=$(date +%s)
    if [ -z "$tests" ] || ! ( cd "$WORK" && patch -p1 --quiet --forward <"$p" ) >/dev/null 2>&1
    then
        say "  $name: does not apply (or names no tests)"
        bad=$((bad + 1))
        continue
    fi
    : >"$WORK/build.log"
    verdict=SURVIVED
    if ! make -C "$WORK" -j2 build/hedgehog >>"$WORK/build.log" 2>&1; then
        verdict="DOES NOT BUILD"
    else
        for t in $tests; do
            run_test "$t"
            case $? in
                0) ;;
                125) verdict="DOES NOT BUILD ($t)"; break ;;
                *) verdict="killed by $t"; break ;;
            esac
        done
    fi
    ( cd "$WORK" && patch -p1 --quiet --reverse <"$p" ) || { say "mutants: cannot revert $name"; exit 1; }
    say "  $name: $verdict ($(($(date +%s) - start)) s)"
    case $verdict in
        killed*) killed=$((killed + 1)) ;;
        *) bad=$((bad + 1)); tail -5 "$WORK/build.log" 2>/dev/null | sed 's/^/      /' ;;
    esac
done
say "mutants: $killed of $total killed"
[ "$bad" -eq 0 ] && [ "$total" -gt 0 ]
