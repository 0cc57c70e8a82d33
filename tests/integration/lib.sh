# Shared helpers for integration tests (POSIX sh).  Each test script prints
# TAP-style lines: "ok - what" or "not ok - what"; tests/run.sh counts them.
#
#   . "$HH_ROOT/tests/integration/lib.sh"
#   hh_setup_tmp                      # $T: a fresh directory, removed on exit
#   check "backtest exits 0" "$HH" backtest ...
#   same_file "fills match" expected.csv "$T/out/fills.csv"

: "${HH:?run through make test (HH is the hedgehog binary)}"
: "${HH_ROOT:?}"
DATA=$HH_ROOT/tests/data

# Set T to a fresh temporary directory removed when the script exits.  (Not
# a function returning the name: $(...) runs in a subshell, whose EXIT trap
# would remove the directory at once.)
hh_setup_tmp() {
    T=$(mktemp -d /tmp/hh-it.XXXXXX)
    trap 'rm -rf "$T"' EXIT INT TERM
}

ok() { echo "ok - $*"; }
not_ok() { echo "not ok - $*"; }

# check DESC CMD...: CMD exits 0.
check() {
    desc=$1; shift
    if "$@" >/tmp/hh-check.$$ 2>&1; then ok "$desc"; else
        not_ok "$desc (exit $?)"; sed 's/^/    /' /tmp/hh-check.$$ | tail -20; fi
    rm -f /tmp/hh-check.$$
}

# check_exit DESC CODE CMD...: CMD exits with CODE.
check_exit() {
    desc=$1; code=$2; shift 2
    "$@" >/tmp/hh-check.$$ 2>&1
    rc=$?
    if [ "$rc" -eq "$code" ]; then ok "$desc"; else
        not_ok "$desc (exit $rc, wanted $code)"; sed 's/^/    /' /tmp/hh-check.$$ | tail -20; fi
    rm -f /tmp/hh-check.$$
}

# same_file DESC EXPECTED ACTUAL: byte-identical, else show the diff.
same_file() {
    if cmp -s "$2" "$3"; then ok "$1"; else
        not_ok "$1"; diff "$2" "$3" 2>&1 | head -30 | sed 's/^/    /'; fi
}

# contains DESC FILE TEXT: FILE contains the fixed string TEXT.
contains() {
    if grep -qF -- "$3" "$2"; then ok "$1"; else
        not_ok "$1 ('$3' not in $2)"; head -20 "$2" | sed 's/^/    /'; fi
}

# equals DESC WANT GOT
equals() {
    if [ "$2" = "$3" ]; then ok "$1"; else not_ok "$1 (wanted '$2', got '$3')"; fi
}
