#!/bin/sh
# bench_run_api.sh — the operations API of a real `hedgehog run --mode
# paper` (bench_api.c measures the server with a thread playing the core):
#
#   run_tick_*       the core's tick throughput: 2,000,000 ticks replayed
#                    at --speed 0, without an API, with an idle API, and with
#                    the API serving 100 req/s of mixed reads; best of
#                    HH_BENCH_RUN_REPS (default 5), in turn runs each, ticks/s of the
#                    whole process (start to exit), and ticks per second of the
#                    core thread's CPU time (`core CPU` in its engine_stop
#                    line: what the engine itself spends, apart from the other
#                    threads and processes sharing the machine's two cores).
#                    Target: with the API serving, within 5 % of without.
#   run_health_live_* wrk on GET /health/live (bench_api --what live, 4 s
#                    saturated then 4 s paced: HH_BENCH_API_LIVE_S) while
#                    the engine replays the same ticks at --speed 40 (about
#                    8,000 ticks/s).  Target (paced): >= 20,000 req/s, p99 < 5 ms.
#   run_mixed_reads_* 100 req/s over the read endpoints, same engine, for
#                    HH_BENCH_API_MIXED_S (default here 8) s.  Target: p95 < 250 ms.
#   run_signed_{rejected,accepted}_* signed POST /api/v1/signals for 3 s
#                    (32 connections) to an engine at --speed 1: each decided,
#                    durable, then answered 200; signals it rejects, then
#                    signals it accepts (each a waiting trade: the state
#                    checkpointed at every step grows).  Target: >= 5,000
#                    decisions/s.
#
# Each figure is a `name: value unit` line.  Bounded: about 55 s.
set -u
: "${HH:?run through bench/run.sh (HH is the hedgehog binary)}"
BUILD=${BUILD:-build}
BAPI=$(cd "$(dirname "$0")/.." && pwd)/$BUILD/bench/bench_api
REPS=${HH_BENCH_RUN_REPS:-5}
D=$(mktemp -d "${TMPDIR:-/tmp}/hh-bench-run.XXXXXX")
trap 'for p in "$D"/*.pid; do [ -f "$p" ] && kill "$(cat "$p")" 2>/dev/null; done; rm -rf "$D"' EXIT INT TERM
cd "$D" || exit 1
"$BAPI" --secrets "$D" || exit 1

cat > instruments.csv <<'EOF'
symbol,exchange,type,underlying,expiry,strike,option_type,lot_size,tick_size,freeze_qty
XYZ,NSE,EQ,XYZ,,,,1,0.05,
EOF
# 2 M ticks 5 ms apart from 09:15 (about 2 h 47 min of a day), a saw-tooth price
awk 'BEGIN { print "ts,symbol,price,qty"
    for (s = 0; s < 2000000; s++) { t = 33300000 + s * 5
        printf "2025-01-02T%02d:%02d:%02d.%03d+05:30,XYZ,%.2f,100\n", t / 3600000, t / 60000 % 60,
            t / 1000 % 60, t % 1000, 100 + (s % 20) * 0.05 } }' > ticks.csv
# a tick a second for the signed run (waiting trades are judged on each)
awk 'BEGIN { print "ts,symbol,price,qty"
    for (s = 0; s < 3600; s++) { t = 33300 + s
        printf "2025-01-02T%02d:%02d:%02d+05:30,XYZ,100.00,100\n", t / 3600, t / 60 % 60, t % 60 } }' \
    > slow.csv
printf 'instruments: instruments.csv\n' > plain.yaml
cat > api.yaml <<'EOF'
instruments: instruments.csv
api:
  listen: "127.0.0.1:0"
  keys_file: keys
  read_token_file: token
EOF

now_ms() { date +%s%3N; }

# A port nothing answers on (curl: connection refused), for the engine that
# is served while timed: its load starts before it, outside the timing.
FIXED=$((20000 + $$ % 20000))
while curl -s -o /dev/null "http://127.0.0.1:$FIXED/"; [ $? -ne 7 ]; do FIXED=$((FIXED + 1)); done
sed "s/127.0.0.1:0/127.0.0.1:$FIXED/" api.yaml > served.yaml

# start NAME CONFIG TICKS SPEED: the engine in the background, $PORT its API's
start() {
    rm -f "$1".db*
    "$HH" run --config "$2" --mode paper --ticks "$3" --speed "$4" --db "$1.db" 2>"$1.log" &
    echo $! > "$1.pid"
    PORT=
    n=200
    while [ -z "$PORT" ] && [ $n -gt 0 ] && [ "$2" != plain.yaml ]; do
        PORT=$(sed -n 's/.*"event":"api_listening".*(port \([0-9]*\)).*/\1/p' "$1.log" 2>/dev/null | head -1)
        [ -n "$PORT" ] || sleep 0.05
        n=$((n - 1))
    done
}

stop() {
    kill "$(cat "$1.pid")" 2>/dev/null
    wait "$(cat "$1.pid")" 2>/dev/null
    rm -f "$1.pid"
}

# timed NAME CONFIG: ms of one --speed 0 replay, start to exit; with
# served.yaml, 100 req/s of mixed reads while it runs (started 0.3 s before
# it, for 2 s: longer than the replay; waited for)
timed() {
    if [ "$2" = served.yaml ]; then
        HH_BENCH_API_MIXED_S=2 "$BAPI" --port "$FIXED" --what mixed > /dev/null 2>&1 &
        echo $! > load.pid
        sleep 0.3
    fi
    t0=$(now_ms)
    start "$1" "$2" ticks.csv 0
    wait "$(cat "$1.pid")"
    t1=$(now_ms)
    rm -f "$1.pid"
    if [ -f load.pid ]; then
        wait "$(cat load.pid)"
        rm -f load.pid
    fi
    echo $((t1 - t0))
}

# The core thread's CPU time of the last run NAME, in ms
core_ms() {
    sed -n 's/.*"event":"engine_stop".*core CPU \([0-9.]*\) s.*/\1/p' "$1.log" |
        awk '{ printf "%d", $1 * 1000 }'
}

# The three variants in turn, REPS times (drift on a shared machine hits
# each alike); each one's fastest run, in ms of wall time ($plain $idle
# $serving) and of the core's CPU time ($cplain $cidle $cserving)
plain= idle= serving= cplain= cidle= cserving=
faster() { [ -z "$1" ] || [ "$2" -lt "$1" ] && echo "$2" || echo "$1"; }
i=0
while [ $i -lt "$REPS" ]; do
    plain=$(faster "$plain" "$(timed tick plain.yaml)")
    cplain=$(faster "$cplain" "$(core_ms tick)")
    idle=$(faster "$idle" "$(timed tick api.yaml)")
    cidle=$(faster "$cidle" "$(core_ms tick)")
    serving=$(faster "$serving" "$(timed tick served.yaml)")
    cserving=$(faster "$cserving" "$(core_ms tick)")
    i=$((i + 1))
done
rate() { awk -v ms="$1" 'BEGIN { printf "%.0f", 2000000 / (ms / 1000) }'; }
echo "run_tick_no_api: $(rate "$plain") ticks/s ($(rate "$cplain") per core CPU second)"
echo "run_tick_api_idle: $(rate "$idle") ticks/s ($(rate "$cidle") per core CPU second)"
echo "run_tick_api_serving_100_req_s: $(rate "$serving") ticks/s ($(rate "$cserving") per core CPU second)"
awk -v a="$plain" -v b="$serving" -v ca="$cplain" -v cb="$cserving" 'BEGIN {
    d = (b - a) * 100 / a; c = (cb - ca) * 100 / ca
    printf "run_tick_api_serving_slowdown: %.1f %% of the wall time, %.1f %% of the core'"'"'s CPU time\n", d, c
    printf "run_tick_target_within_5pct: %s (core CPU), %s (wall)\n", c <= 5 ? "met" : "NOT MET",
        d <= 5 ? "met" : "NOT MET" }'

start replay api.yaml ticks.csv 40
HH_BENCH_API_LIVE_S=${HH_BENCH_API_LIVE_S:-4} "$BAPI" --port "$PORT" --what live
HH_BENCH_API_MIXED_S=${HH_BENCH_API_MIXED_S:-8} "$BAPI" --port "$PORT" --what mixed
if kill -0 "$(cat replay.pid)" 2>/dev/null; then
    echo "run_replaying_throughout: yes"
else
    echo "run_replaying_throughout: NO (the replay ended before the loads)"
fi
stop replay

# signed signals to an engine at --speed 1, ts a second into its replay:
# first ones it rejects (an unknown symbol: a decision like any other,
# durable), then ones it accepts and keeps waiting (BUY above 200 with the
# price at 100): each adds a trade to the state checkpointed with every step
signed() {   # signed NAME SYMBOL
    start "$1" api.yaml slow.csv 1
    sleep 1
    "$BAPI" --port "$PORT" --what signed --signal "{\"id\":\"@ID@\",\"ts\":\"2025-01-02T09:15:01+05:30\",\"symbol\":\"$2\",\"side\":\"BUY\",\"entry\":200,\"stop\":190,\"targets\":[220],\"lots\":1}" |
        sed "s/^run_signed_signals_/run_signed_$1_/"
    stop "$1"
    echo "run_signed_$1_decisions_durable: $(sqlite3 "$1.db" "SELECT count(*) FROM signals") ($(sqlite3 "$1.db" "SELECT group_concat(decision || ' ' || n, ', ') FROM (SELECT decision, count(*) n FROM signals GROUP BY 1)"))"
}
signed rejected NOPE
signed accepted XYZ
