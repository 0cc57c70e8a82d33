#!/bin/sh
# Signals from Kafka (SPEC §14, issue 15) with real clients: librdkafka's
# mock cluster (tests/tools/kafka_mock), kcat as the independent producer
# of the signals and consumer of the dead-letter and events topics, and
# `hedgehog run --mode paper` with `signals.source: kafka`.
#
#   1. a clean run: valid, invalid, poison (not JSON, not UTF-8, empty,
#      over 1 MiB), repeated ids, with and without correlation_id headers;
#   2. kill -9 at random moments (seeded: HH_KAFKA_SEED replays,
#      HH_KAFKA_KILLS sets the count) while waves are produced, with
#      broker errors injected (produce errors, a broker down and up, the
#      dead-letter topic refusing writes for a while), restarts;
#   3. two engines in one group (two databases): a second joins, takes
#      partitions, and leaves with SIGTERM; the first takes every partition
#      back (none left orphaned).
# After each: every message produced is decided exactly once (the
# databases' signals rows per partition and offset), every rejection is on
# the dead-letter topic (dedup by partition and offset), nothing else is.
. "$HH_ROOT/tests/integration/lib.sh"
hh_setup_tmp; [ -n "${HH_KEEP:-}" ] && { trap - EXIT INT TERM; echo "# kept $T"; }
MOCK=$HH_BUILD/tools/kafka_mock
KILLS=${HH_KAFKA_KILLS:-6}
SEED=${HH_KAFKA_SEED:-$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')}
echo "# seed $SEED, $KILLS kills (HH_KAFKA_SEED=$SEED replays)"
cd "$T" || exit 1
command -v kcat >/dev/null || { not_ok "kcat is installed (scripts/deps.sh)"; exit 1; }

PIDS=""
stop_all() {
    for p in $PIDS; do kill -9 "$p" 2>/dev/null; done
    [ -n "${MPID:-}" ] && kill "$MPID" 2>/dev/null && wait "$MPID" 2>/dev/null
    exec 3>&- 2>/dev/null
}
trap 'stop_all; rm -rf "$T"' EXIT INT TERM
[ -n "${HH_KEEP:-}" ] && trap 'stop_all' EXIT INT TERM

# ---- the cluster: 3 brokers; a control channel on fd 3 ---------------------------
mkfifo ctl
"$MOCK" 3 sig1:4 dlq1:2 ev1:2 sig2:4 dlq2:2 ev2:2 sig3:4 dlq3:2 ev3:2 <ctl >mock.out 2>mock.err &
MPID=$!
exec 3>ctl
i=0; while [ ! -s mock.out ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
BS=$(head -1 mock.out)
case "$BS" in 127.0.0.1:*) ok "the mock cluster answers at $BS" ;;
    *) not_ok "the mock cluster started"; cat mock.err; exit 1 ;; esac
ctl() {   # one control command, its answer awaited (bounded)
    n=$(grep -c . mock.out); echo "$*" >&3
    i=0; while [ "$(grep -c . mock.out)" -le "$n" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
}

cat > instruments.csv <<'EOF'
symbol,exchange,type,underlying,expiry,strike,option_type,lot_size,tick_size,freeze_qty
XYZ,NSE,EQ,XYZ,,,,1,0.05,
EOF
# an engine day at 09:15 IST, flat at 100.50 (entries touch at once)
awk 'BEGIN { print "ts,symbol,price,qty"; for (s = 0; s < 6 * 3600; s++) { t = 33300 + s
    printf "2025-01-02T%02d:%02d:%02d+05:30,XYZ,100.50,100\n", t / 3600, t / 60 % 60, t % 60 } }' \
    > ticks.csv
config() {   # config FILE GROUP N: topics sigN, dlqN, evN (one set per scenario)
    TOPIC=sig$3 DLQ=dlq$3 EV=ev$3
    cat > "$1" <<EOF
instruments: instruments.csv
signals:
  max_live_age_s: 3600
  source: kafka
  kafka:
    brokers: "$BS"
    topic: $TOPIC
    group: $2
    dlq_topic: $DLQ
    events_topic: $EV
    client: {topic.metadata.refresh.interval.ms: "2000"}
entry: {mode: touch}
risk: {max_open_trades: 3}
EOF
}

# wave NAME FROM TO: signals s<FROM>..s<TO-1> (every 7th inverted: rejected),
# half of them with a correlation_id header, plus a repeated id and a
# poison message
sig() { printf '{"id":"%s","ts":"2025-01-02T09:15:00+05:30","symbol":"XYZ","side":"BUY","entry":100.5,"stop":%s,"targets":[102.5]}\n' "$1" "$2"; }
wave() {
    : > "$1.a"; : > "$1.b"
    n=$2; while [ "$n" -lt "$3" ]; do
        stop=99.5; [ $((n % 7)) -eq 3 ] && stop=101.5
        if [ $((n % 2)) -eq 0 ]; then sig "s$n" $stop >> "$1.a"; else sig "s$n" $stop >> "$1.b"; fi
        n=$((n + 1))
    done
    sig "s$2" 99.5 >> "$1.b"            # repeated: DUPLICATE
    echo "not json at all {" >> "$1.b"  # poison: PARSE_ERROR
    timeout 30 kcat -b "$BS" -P -t "$TOPIC" -H "correlation_id=corr-$1" -l "$1.a" 2>>kcat.err &&
    timeout 30 kcat -b "$BS" -P -t "$TOPIC" -l "$1.b" 2>>kcat.err
}
produced() { timeout 30 kcat -b "$BS" -C -t "$TOPIC" -e -q -f '%p %o\n' 2>/dev/null | sort -n -k1,1 -k2,2; }
dlq() { timeout 30 kcat -b "$BS" -C -t "$DLQ" -e -q -f '%s\n' 2>/dev/null; }

run_bg() {   # run_bg CONFIG DB LOG [SPEED]: the engine, its pid in $EPID
    "$HH" run --config "$1" --mode paper --ticks ticks.csv --speed "${4:-1}" --db "$2" 2>>"$3" &
    EPID=$!
    PIDS="$PIDS $EPID"
}
decided() {   # the (partition, offset) rows of the databases given
    for db in "$@"; do
        sqlite3 "$db" "SELECT kafka_partition, kafka_offset FROM signals WHERE topic = '$TOPIC'"
    done | tr '|' ' ' | sort -n -k1,1 -k2,2
}
wait_decided() {   # wait_decided N DB...: until N messages are decided (bounded: 90 s)
    want=$1; shift; i=0
    while [ "$(decided "$@" | grep -c .)" -lt "$want" ] && [ $i -lt 450 ]; do
        sleep 0.2; i=$((i + 1)); done
}
stop_engine() {   # SIGTERM, then wait (bounded: 40 s)
    kill -TERM "$1" 2>/dev/null; i=0
    while kill -0 "$1" 2>/dev/null && [ $i -lt 200 ]; do sleep 0.2; i=$((i + 1)); done
    kill -9 "$1" 2>/dev/null; wait "$1" 2>/dev/null
}
# exactly_once WHAT DB...: the checks every scenario ends with
exactly_once() {
    what=$1; shift
    produced > all.txt
    decided "$@" > dec.txt
    same_file "$what: every message decided exactly once ($(grep -c . all.txt) messages)" \
        all.txt dec.txt
    for db in "$@"; do
        sqlite3 "$db" "SELECT kafka_partition, kafka_offset FROM signals
                       WHERE topic = '$TOPIC' AND decision = 'REJECTED'"
    done | tr '|' ' ' | sort -n -k1,1 -k2,2 > rej.txt
    dlq | sed -n 's/.*"partition":\([0-9]*\),"offset":\([0-9]*\).*/\1 \2/p' \
        | sort -n -k1,1 -k2,2 -u > dl.txt
    same_file "$what: every rejection on the dead-letter topic, nothing else ($(grep -c . rej.txt))" \
        rej.txt dl.txt
}

# ---- 1. a clean run: every kind of message ---------------------------------------
config c1.yaml g1 1
echo '{}' > lines.jsonl
check_exit "--signals with signals.source kafka: exit 2 (one source)" 2 \
    "$HH" run --config c1.yaml --mode paper --ticks ticks.csv --signals lines.jsonl --db no.db
wave w0 0 40
printf '\377\376{"id":"bin"}' > bin.dat      # not UTF-8
head -c 1100000 /dev/zero | tr '\0' 'x' > big.dat   # over 1 MiB
timeout 30 kcat -b "$BS" -P -t "$TOPIC" -X message.max.bytes=2000000 \
    -H correlation_id=corr-bin bin.dat big.dat 2>>kcat.err
printf '  ' > blank.dat                       # nothing but blanks
timeout 30 kcat -b "$BS" -P -t "$TOPIC" blank.dat 2>>kcat.err
total=$(produced | grep -c .)
run_bg c1.yaml one.db one.log 20
wait_decided "$total" one.db
i=0   # engine minutes go by: entries fill (events), their dead letters and events go out
while [ "$(sqlite3 one.db "SELECT count(*) FROM outbox WHERE kind = 'EVENT' AND sent = 1
                           AND payload LIKE '{\"type\":\"fill\"%'")" -eq 0 ] && [ $i -lt 300 ]; do
    sleep 0.2; i=$((i + 1)); done
stop_engine "$EPID"
exactly_once "clean run" one.db
equals "the clean run exits 0 and says it stopped" 1 "$(grep -c '"engine_stop".*database saved' one.log)"
q() { sqlite3 one.db "$1"; }
equals "repeated id: DUPLICATE" 1 "$(q "SELECT count(*) FROM signals WHERE reason = 'DUPLICATE'")"
equals "inverted levels: INVERTED_LEVELS" 6 \
    "$(q "SELECT count(*) FROM signals WHERE reason = 'INVERTED_LEVELS'")"
equals "poison (not JSON, not UTF-8, blank, over 1 MiB): PARSE_ERROR" 4 \
    "$(q "SELECT count(*) FROM signals WHERE reason = 'PARSE_ERROR'")"
equals "the header is the correlation id when the signal names none" 20 \
    "$(q "SELECT count(*) FROM signals WHERE correlation_id = 'corr-w0'")"
equals "without a header the correlation id is the signal id" 1 \
    "$(q "SELECT count(*) FROM signals WHERE signal_id = 's1' AND correlation_id = 's1'")"
equals "the header follows the signal into the audit trail" 20 \
    "$(q "SELECT count(*) FROM audit WHERE kind = 'SIGNAL_ACCEPTED' AND correlation_id = 'corr-w0'
          OR kind = 'SIGNAL_REJECTED' AND correlation_id = 'corr-w0'")"
dlq > dl1.txt
contains "a dead letter carries reason, topic, partition, offset and the value" dl1.txt \
    '"reason":"INVERTED_LEVELS"'
contains "a poison dead letter keeps the bytes (hex)" dl1.txt '"value_hex":"fffe7b'
contains "an over-long one its size" dl1.txt '"value_bytes":1100000'
timeout 30 kcat -b "$BS" -C -t "$DLQ" -e -q -f '%h\n' 2>/dev/null > dlh.txt
contains "dead letters have the reason header" dlh.txt "reason=PARSE_ERROR"
contains "... and the correlation_id header" dlh.txt "correlation_id=corr-bin"
equals "every dead letter acknowledged is marked sent" 0 \
    "$(q "SELECT count(*) FROM outbox WHERE sent = 0")"
timeout 30 kcat -b "$BS" -C -t "$EV" -e -q -f '%k %s\n' 2>/dev/null > ev.txt
evs=$(q "SELECT count(*) FROM outbox WHERE kind = 'EVENT'")
equals "events: every one recorded is on the topic (by event id)" "$evs" \
    "$(sed -n 's/.*"event_id":"\([^"]*\)".*/\1/p' ev.txt | sort -u | grep -c .)"
contains "events are keyed by symbol and carry type and correlation id" ev.txt \
    'XYZ {"type":"fill","event_id":'
check "db check passes" "$HH" db check --db one.db

# ---- 2. kill -9 at random moments, broker errors, restarts -----------------------
config c2.yaml g2 2
r=$SEED
rnd() { r=$(( (r * 1103515245 + 12345) % 2147483648 )); RND=$(( $1 + r % $2 )); }
k=0; next=100
while [ "$k" -lt "$KILLS" ]; do
    wave "k$k" "$next" $((next + 30)); next=$((next + 30))
    case $((k % 3)) in
        0) ctl errors 0 5 6 ;;                     # Produce: NOT_LEADER_FOR_PARTITION x5
        1) ctl down 2 ;;
        2) ctl topic-error "$DLQ" 29 ;;            # the DLQ refuses writes
    esac
    run_bg c2.yaml two.db two.log
    rnd 2000 7000; ms=$RND
    echo "# incarnation $k: killed after $ms ms"
    sleep "$(awk -v m="$ms" 'BEGIN { printf "%.3f", m / 1000 }')"
    ctl up 2; ctl topic-error "$DLQ" 0
    kill -9 "$EPID" 2>/dev/null; wait "$EPID" 2>/dev/null
    k=$((k + 1))
done
wave kz "$next" $((next + 30))   # decided by the last run, whose first dead
ctl errors 0 3 29                # letters the cluster refuses: DLQ down, then up
total=$(produced | grep -c .)
run_bg c2.yaml two.db two.log
wait_decided "$total" two.db
i=0   # the dead letters of the last incarnations go out too
while [ "$(sqlite3 two.db "SELECT count(*) FROM outbox WHERE sent = 0")" -gt 0 ] && [ $i -lt 150 ]; do
    sleep 0.2; i=$((i + 1)); done
stop_engine "$EPID"
exactly_once "after $KILLS kills" two.db
equals "no outbox row left unsent" 0 "$(sqlite3 two.db "SELECT count(*) FROM outbox WHERE sent = 0")"
check "db check passes after the kills" "$HH" db check --db two.db
contains "a refused dead letter pauses consumption (dlq_down)" two.log '"dlq_down"'
contains "... until one is written again (dlq_up)" two.log '"dlq_up"'
echo "# $(grep -c '"outbox_resume"' two.log) outbox resumes"

# ---- 3. two engines in one group: a rebalance -------------------------------------
config c3.yaml g3 3
wave r0 500 540
run_bg c3.yaml a.db a.log; A=$EPID
wait_decided "$(produced | grep -c .)" a.db
# The mock refuses commits while its group rebalances (a Kafka broker takes
# the revocation's commit): let the first engine's commit cadence (100 ms)
# pass before the second one joins.
sleep 1
run_bg c3.yaml b.db b.log; B=$EPID
# The split must have settled before the next wave: a member's first join
# may be redone (the mock answers a follower's late SyncGroup "invalid
# request" and it joins again, 10-15 s under load), so wait until the last
# rebalance of each says it holds partitions, 4 between them, twice 1 s apart.
parts() { grep '"kafka_rebalance"' "$1" 2>/dev/null | tail -1 | sed -n 's/.*partitions now \([0-9]*\).*/\1/p'; }
split() { a=$(parts a.log) b=$(parts b.log)
    [ "${a:-0}" -gt 0 ] && [ "${b:-0}" -gt 0 ] && [ $((a + b)) -eq 4 ]; }
i=0; settled=0
while [ $settled -lt 2 ] && [ $i -lt 90 ]; do
    if split; then settled=$((settled + 1)); else settled=0; fi
    sleep 1; i=$((i + 1)); done
contains "the second engine got partitions" b.log '"kafka_rebalance"'
equals "... the four split between the two engines" 2 "$settled"
wave r1 540 600
wait_decided "$(produced | grep -c .)" a.db b.db
stop_engine "$B"
wave r2 600 640
wait_decided "$(produced | grep -c .)" a.db b.db
last_rebalance() { grep '"kafka_rebalance"' a.log | tail -1 | sed -n 's/.*\(partitions now [0-9]*\).*/\1/p'; }
i=0   # the member left alone takes every partition back (bounded: 60 s)
while [ "$(last_rebalance)" != "partitions now 4" ] && [ $i -lt 300 ]; do
    sleep 0.2; i=$((i + 1)); done
equals "the first engine, alone again, holds all 4 partitions (none orphaned)" \
    "partitions now 4" "$(last_rebalance)"
equals "... and never went without a partition for long (kafka_unassigned)" 0 \
    "$(grep -c '"kafka_unassigned"' a.log)"
stop_engine "$A"
exactly_once "two engines through a rebalance" a.db b.db
equals "the second engine decided some" 1 \
    "$([ "$(sqlite3 b.db "SELECT count(*) FROM signals")" -gt 0 ] && echo 1)"
equals "the first took its partitions back (it decided the last wave)" 1 \
    "$([ "$(sqlite3 a.db "SELECT count(*) FROM signals WHERE signal_id >= 's600'")" -gt 0 ] && echo 1)"
