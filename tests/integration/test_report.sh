# report.html in a real browser: pages written through hh_rep_* by
# build/tools/mkreport (synthetic runs) are opened in headless Debian
# Chromium by tests/tools/check_report.js (playwright-core), which fails on
# any JavaScript error or network request and checks that the candlestick
# and equity charts drew, with the expected marker and candle counts.
#
# Chromium, Node.js and playwright-core are test dependencies
# (scripts/deps.sh installs them): when one is missing the test fails.
. "$HH_ROOT/tests/integration/lib.sh"

: "${HH_BUILD:=$(dirname "$HH")}"
MK=$HH_BUILD/tools/mkreport
LIB=$HH_BUILD/share/hedgehog/lightweight-charts.js
CHECK=$HH_ROOT/tests/tools/check_report.js
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
export CHROMIUM

missing=""
[ -x "$CHROMIUM" ] || missing="$missing chromium ($CHROMIUM; apt package chromium, scripts/deps.sh)"
command -v node >/dev/null 2>&1 || missing="$missing node"
[ -f "$HH_ROOT/node_modules/playwright-core/package.json" ] ||
    missing="$missing playwright-core (npm ci, scripts/deps.sh)"
[ -x "$MK" ] || missing="$missing $MK (make test builds it)"
[ -f "$LIB" ] || missing="$missing $LIB (make copies it from node_modules)"
if [ -n "$missing" ]; then
    not_ok "browser test prerequisites present: missing$missing"
    exit 1
fi
ok "browser test prerequisites present"

hh_setup_tmp

# browse NAME [mkreport args] -- [check_report args]: write a page with
# mkreport, then check it in the browser against the counts mkreport printed.
browse() {
    name=$1; shift
    mkargs=""
    while [ $# -gt 0 ] && [ "$1" != "--" ]; do mkargs="$mkargs $1"; shift; done
    [ $# -gt 0 ] && shift
    # shellcheck disable=SC2086
    if ! counts=$(HH_CHARTS_JS=${CHARTS:-$LIB} timeout 60 "$MK" "$T/$name.html" $mkargs 2>"$T/$name.err"); then
        not_ok "$name: mkreport writes the page"; sed 's/^/    /' "$T/$name.err"
        return
    fi
    ok "$name: mkreport writes the page ($counts)"
    markers=$(echo "$counts" | sed -n 's/.*markers=\([0-9]*\).*/\1/p')
    candles=$(echo "$counts" | sed -n 's/.*candles=\([0-9]*\).*/\1/p')
    trades=$(echo "$counts" | sed -n 's/.*trades=\([0-9]*\).*/\1/p')
    if [ "${CHARTS:-}" ]; then
        set -- --no-charts "$@"
    else
        set -- --markers "$markers" --candles "$candles" "$@"
    fi
    timeout 180 node "$CHECK" "$T/$name.html" --label "$name" --timeout 30000 \
        --trades "$trades" "$@" 2>&1 ||
        not_ok "$name: browser check exits 0"
}

browse basic --symbols 2 --days 3
browse many-symbols --symbols 10 --days 2 --tf 15
browse merged --symbols 2 --days 300 --tf 5
browse escaping --symbols 2 --days 2 --evil

# The library missing: the page is still written, with a note, and works.
CHARTS=/nonexistent/lightweight-charts.js browse nolib --symbols 1 --days 2
contains "nolib: warning on stderr" "$T/nolib.err" "chart library not found"
contains "nolib: the page says so" "$T/nolib.html" 'id="hh-nolib"'

contains "merged: the page notes the merging" "$T/merged.html" "consecutive candles make one"
contains "many-symbols: uncharted symbols are listed" "$T/many-symbols.html" 'id="hh-uncharted"'
