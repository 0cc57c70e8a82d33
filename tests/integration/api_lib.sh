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
#   prom_start TARGET_PORT TOKEN_FILE
#                                   a real Prometheus (Debian's) on a free port
#                                   ($PROM) scraping 127.0.0.1:TARGET_PORT every
#                                   second with the read token, evaluating
#                                   deploy/prometheus/alerts.yml every second
#   prom_query QUERY                its answer into $T/q.json
#   prom_has QUERY TEXT             the answer contains TEXT
#   prom_firing ALERTNAME           the alert is firing (GET /api/v1/alerts,
#                                   the answer left in $T/alerts.json)

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

# A port nothing answers on (curl exit 7: connection refused), from $PROM + 1.
prom_next_port() {
    PROM=$((PROM + 1))
    while curl -s -o /dev/null "http://127.0.0.1:$PROM/"; [ $? -ne 7 ]; do PROM=$((PROM + 1)); done
}

# Another test may take the port between the probe and the bind: then the
# next one (bounded).
prom_start() {
    PROM=$((20000 + $$ % 20000))
    prom_next_port
    cat > "$T/prometheus.yml" <<CFG
global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files:
  - $HH_ROOT/deploy/prometheus/alerts.yml
scrape_configs:
  - job_name: hedgehog
    authorization:
      type: Bearer
      credentials_file: $2
    static_configs:
      - targets: ["127.0.0.1:$1"]
CFG
    for attempt in 1 2 3 4 5; do
        prometheus --config.file="$T/prometheus.yml" --storage.tsdb.path="$T/tsdb" \
            --web.listen-address="127.0.0.1:$PROM" --log.level=warn 2>"$T/prom.log" &
        echo $! > "$T/prom.pid"
        wait_for 10 sh -c "curl -sf http://127.0.0.1:$PROM/-/ready >/dev/null || grep -q 'address already in use' '$T/prom.log'"
        grep -q 'address already in use' "$T/prom.log" || break
        kill "$(cat "$T/prom.pid")" 2>/dev/null; wait "$(cat "$T/prom.pid")" 2>/dev/null
        prom_next_port
    done
}

prom_query() {
    curl -s -G "http://127.0.0.1:$PROM/api/v1/query" --data-urlencode "query=$1" > "$T/q.json"
}

prom_has() {
    prom_query "$1" && grep -q -- "$2" "$T/q.json"
}

prom_firing() {
    curl -s "http://127.0.0.1:$PROM/api/v1/alerts" > "$T/alerts.json" &&
        node -e 'const [f, name] = process.argv.slice(1);
            const a = JSON.parse(require("fs").readFileSync(f)).data.alerts;
            process.exit(a.some((x) => x.labels.alertname === name && x.state === "firing") ? 0 : 1)' \
            "$T/alerts.json" "$1"
}
