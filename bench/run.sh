#!/bin/sh
# Run every benchmark program (build/bench/bench_*, then bench/bench_*.sh)
# and print its figures.
# Each program documents what it measures; all of them print one block of
# "name: value unit" lines.  Machine facts are printed first so the figures
# can be compared.
set -u
BUILD=${BUILD:-build}
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root" || exit 2
export HH=$root/$BUILD/hedgehog HH_ROOT=$root
echo "== machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')"
echo "== load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
rc=0
for b in "$BUILD"/bench/bench_*; do
    [ -x "$b" ] || continue
    echo "== $(basename "$b")"
    "$b" || rc=1
done
for b in bench/bench_*.sh; do   # benchmarks of the binary as a process
    echo "== $(basename "$b")"
    BUILD=$BUILD sh "$b" || rc=1
done
echo "== load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
exit $rc
