# Helpers for the API integration tests (POSIX sh), sourced after lib.sh.
#
#   api_setup                       $T as hh_setup_tmp; processes started with
#                                   fake_start are killed on exit
#   api_keys FILE ID...             a keys file (mode 0600) with a fresh
#                                   secret per id; $SECRET_<ID> holds each
#   fake_start NAME ARGS...         start api_fakecore; $PORT its port
#   fake_stop NAME                  SIGTERM and wait (bounded)
#   sig SECRET TS NONCE METHOD TARGET BODY
#                                   the SPEC §12 signature computed with the
#                                   openssl command line (independent of src/)
#   scurl KEY SECRET METHOD TARGET [BODY [TS [NONCE]]]
#                                   a signed request with curl; prints the
#                                   status, the body lands in $T/body

FAKE=$HH_BUILD/tools/api_fakecore

api_setup() {
    T=$(mktemp -d /tmp/hh-it.XXXXXX)
    trap 'for p in "$T"/*.pid; do [ -f "$p" ] && kill "$(cat "$p")" 2>/dev/null; done; rm -rf "$T"' EXIT INT TERM
}

api_keys() {
    f=$1; shift
    : > "$f"
    chmod 600 "$f"
    for id in "$@"; do
        s=$(openssl rand -hex 32)
        echo "$id $s" >> "$f"
        eval "SECRET_$id=$s"
    done
}

# wait_for SECONDS CMD...: poll CMD every 0.1 s until it succeeds.
wait_for() {
    n=$(($1 * 10)); shift
    while [ "$n" -gt 0 ]; do
        "$@" >/dev/null 2>&1 && return 0
        sleep 0.1
        n=$((n - 1))
    done
    return 1
}

fake_start() {
    name=$1; shift
    rm -f "$T/$name.port"
    "$FAKE" --port-file "$T/$name.port" "$@" 2>"$T/$name.err" &
    echo $! > "$T/$name.pid"
    wait_for 10 test -s "$T/$name.port"
    PORT=$(cat "$T/$name.port" 2>/dev/null)
}

fake_stop() {
    pid=$(cat "$T/$1.pid")
    kill "$pid" 2>/dev/null
    n=100
    while kill -0 "$pid" 2>/dev/null && [ $n -gt 0 ]; do sleep 0.1; n=$((n - 1)); done
    rm -f "$T/$1.pid"
}

now_ms() { date +%s%3N; }

sig() {
    bh=$(printf '%s' "$6" | openssl dgst -sha256 -r | cut -d' ' -f1)
    printf '%s\n%s\n%s\n%s\n%s' "$2" "$3" "$4" "$5" "$bh" |
        openssl dgst -sha256 -mac HMAC -macopt "hexkey:$1" -r | cut -d' ' -f1
}

scurl() {
    key=$1 secret=$2 method=$3 target=$4 body=${5:-} ts=${6:-$(now_ms)}
    nonce=${7:-$(openssl rand -hex 12)}
    s=$(sig "$secret" "$ts" "$nonce" "$method" "$target" "$body")
    if [ -n "$body" ]; then
        curl -s -o "$T/body" -w '%{http_code}' -X "$method" -H "X-HH-Key: $key" \
            -H "X-HH-Timestamp: $ts" -H "X-HH-Nonce: $nonce" -H "X-HH-Signature: $s" \
            -H 'Content-Type: application/json' --data-binary "$body" \
            "http://127.0.0.1:$PORT$target"
    else
        curl -s -o "$T/body" -w '%{http_code}' -X "$method" -H "X-HH-Key: $key" \
            -H "X-HH-Timestamp: $ts" -H "X-HH-Nonce: $nonce" -H "X-HH-Signature: $s" \
            "http://127.0.0.1:$PORT$target"
    fi
}
