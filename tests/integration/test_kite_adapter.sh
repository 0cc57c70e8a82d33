#!/bin/sh
# The Kite adapter (src/broker/kite*.c) against the local Kite server
# (build/kite/kite_server), one driver scenario per server
# (build/tools/kite_drive), each judged by the server's own records: no tag
# placed twice, at most 10 order calls in any second, every MARKET/SL-M with
# market_protection, positions equal.  Scenarios: orders and queries; a
# burst of 100; faults (429, 503, placements that time out, are cut or
# answer 5xx although the order exists; dropped, duplicated and reordered
# updates; book lag; transient statuses); an expiring token; the broker
# cancelling and a position closed by hand; ticks, gaps and reconnects;
# freeze-quantity slices; a restart; HTTPS with a test CA made here (openssl)
# and refused without it or for another name; refused configurations.
# Loopback only; every process started here is stopped by its PID; the
# server also stops itself (--max-seconds).
. "$HH_ROOT/tests/integration/lib.sh"
hh_setup_tmp
SRV=$HH_BUILD/kite/kite_server
DRV=$HH_BUILD/tools/kite_drive
KD=$DATA/kite
cd "$T" || exit 1
mkdir secrets
(umask 077; echo testkey > secrets/api_key; echo testtoken > secrets/access_token)

PID=
stop_server() {
    if [ -n "$PID" ]; then
        kill "$PID" 2>/dev/null
        wait "$PID" 2>/dev/null
        src=$?
        PID=
        [ $src -eq 0 ] || { not_ok "the server exited $src"; tail -5 server.log; }
    fi
}
trap 'stop_server; rm -rf "$T"' EXIT INT TERM

# start_server [ARGS...]: a fresh server on a free port; sets PORT.
start_server() {
    rm -f port
    "$SRV" --instruments "$KD/instruments.csv" --instruments "$KD/freeze.csv" \
        --ticks "$KD/ticks.csv" --tick-ms 50 --port-file port --max-seconds 300 "$@" \
        >server.log 2>&1 &
    PID=$!
    i=0
    while [ ! -s port ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
    PORT=$(cat port 2>/dev/null)
    [ -n "$PORT" ] || { not_ok "the server starts"; cat server.log; exit 1; }
}

# drive SCENARIO SCHEME [DRIVER ARGS...]: the driver's TAP lines pass through;
# a driver that dies before its summary line (a crash, a sanitizer) fails.
drive() {
    sc=$1; scheme=$2; shift 2
    (umask 077; echo testtoken > secrets/access_token)
    timeout 240 "$DRV" "$sc" --url "$scheme://127.0.0.1:$PORT" --dir "$T/secrets" \
        --instruments "$KD/instruments.csv" --instruments "$KD/freeze.csv" "$@" \
        >drive.out 2>&1
    rc=$?
    cat drive.out
    grep -q "^# $sc: " drive.out || not_ok "$sc: the driver ended early (exit $rc)"
    [ $rc -le 1 ] || not_ok "$sc: the driver exited $rc (a sanitizer's report?)"
}

for sc in basic burst token external ticks slices restart config; do
    start_server
    drive "$sc" http
    stop_server
done

FAULTS="--fault p429=10 --fault p503=5 --fault place_timeout=8 --fault place_drop=8
        --fault place_5xx=8 --fault ws_drop=30 --fault ws_dup=20 --fault ws_reorder=20
        --fault book_lag_ms=300 --fault transient_ms=100 --fault hold_ms=2500"
for seed in 3 11; do
    # shellcheck disable=SC2086
    start_server --seed "$seed" $FAULTS
    drive faults http
    stop_server
done
# the socket cut every 1.5 s while orders fill
start_server --fault ws_cut_every_ms=1500 --fault ws_drop=50
drive cuts http
stop_server

# ---- TLS: a CA and certificates made now, never committed --------------------
if command -v openssl >/dev/null 2>&1; then
    mkcert() {   # mkcert NAME SAN
        openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
            -keyout "$1.key" -out "$1.csr" -subj "/CN=$1" 2>/dev/null &&
        printf 'subjectAltName=%s\nbasicConstraints=CA:FALSE\n' "$2" > "$1.cnf" &&
        openssl x509 -req -in "$1.csr" -CA ca.pem -CAkey ca.key -CAcreateserial \
            -out "$1.pem" -days 1 -extfile "$1.cnf" 2>/dev/null
    }
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
        -keyout ca.key -out ca.pem -days 1 -subj "/CN=hedgehog test CA" 2>/dev/null &&
        mkcert srv "DNS:localhost,IP:127.0.0.1" && mkcert wrong "DNS:wronghost"
    check "a test CA and two certificates made" test -s srv.pem -a -s wrong.pem
    start_server --tls-cert srv.pem --tls-key srv.key
    drive https https --ca "$T/ca.pem"
    stop_server
    start_server --tls-cert wrong.pem --tls-key wrong.key
    drive badname https --ca "$T/ca.pem"
    stop_server
else
    not_ok "openssl is needed for the HTTPS checks (scripts/deps.sh installs it)"
fi
