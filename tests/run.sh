#!/bin/sh
# Run every test: unit programs (cmocka) and integration scripts.
# Prints one line per test program/script and ends with "N passed, N failed"
# counting individual test cases; exits non-zero on any failure.
#
#   BUILD=build tests/run.sh [filter]     filter: substring of the test name
set -u
BUILD=${BUILD:-build}
filter=${1:-}
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root" || exit 2
export HH=$root/$BUILD/hedgehog HH_BUILD=$root/$BUILD HH_ROOT=$root
passed=0 failed=0
log=$(mktemp -d)
trap 'rm -rf "$log"' EXIT

for t in "$BUILD"/tests/test_*; do
    [ -x "$t" ] || continue
    name=$(basename "$t")
    case "$name" in *"$filter"*) ;; *) continue ;; esac
    out="$log/$name.out"
    CMOCKA_MESSAGE_OUTPUT=stdout timeout 600 "$t" >"$out" 2>&1
    rc=$?
    p=$(grep -c '^\[       OK \]' "$out")
    f=$(grep '^\[  FAILED  \]' "$out" | grep -vc 'test(s)')
    # A crash or a failure cmocka could not report still counts as one.
    if [ $rc -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
    passed=$((passed + p)); failed=$((failed + f))
    if [ $rc -eq 0 ]; then
        printf 'ok    %-40s %d tests\n' "$name" "$p"
    else
        printf 'FAIL  %-40s (exit %d)\n' "$name" "$rc"
        sed 's/^/      /' "$out" | grep -v '^      \[ RUN' | tail -40
    fi
done

for t in tests/integration/test_*.sh; do
    [ -f "$t" ] || continue
    name=$(basename "$t" .sh)
    case "$name" in *"$filter"*) ;; *) continue ;; esac
    out="$log/$name.out"
    timeout 900 sh "$t" >"$out" 2>&1
    rc=$?
    p=$(grep -c '^ok ' "$out")
    f=$(grep -c '^not ok ' "$out")
    if [ $rc -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
    passed=$((passed + p)); failed=$((failed + f))
    if [ $rc -eq 0 ] && [ "$f" -eq 0 ]; then
        printf 'ok    %-40s %d checks\n' "$name" "$p"
    else
        printf 'FAIL  %-40s (exit %d)\n' "$name" "$rc"
        grep -v '^ok ' "$out" | sed 's/^/      /' | tail -40
    fi
done

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
