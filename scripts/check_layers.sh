#!/bin/sh
# Check every #include "folder/..." in src/ against src/LAYERS.  Prints one
# `ok` / `not ok` line per source file (TAP-like, as the integration tests
# do) naming each forbidden include; exits 1 on any violation.
set -u
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root" || exit 2
rules=src/LAYERS
bad=0
n=0
allowed() {   # allowed FROM TO
    [ "$1" = "$2" ] && return 0
    [ "$2" = core ] && return 0
    awk -v f="$1" -v t="$2" '!/^#/ && $1 == f { for (i = 2; i <= NF; i++) if ($i == t) ok = 1 }
        END { exit ok ? 0 : 1 }' "$rules"
}
for file in $(find src -name '*.[ch]' | sort); do
    from=$(echo "$file" | cut -d/ -f2)
    n=$((n + 1))
    viol=""
    for to in $(sed -n 's|^#include "\([a-z_]*\)/.*|\1|p' "$file" | sort -u); do
        allowed "$from" "$to" || viol="$viol $to"
    done
    if [ -n "$viol" ]; then
        bad=$((bad + 1))
        echo "not ok $n - $file includes$viol (src/LAYERS: $from may include: $(awk -v f="$from" '$1 == f { $1 = ""; print }' "$rules"))"
    else
        echo "ok $n - $file"
    fi
done
[ "$bad" -eq 0 ]
