#!/bin/sh
# `hedgehog run` survives what a long-lived process meets (SPEC §10a):
# SIGHUP is logged and never stops it; SIGPIPE is ignored, so a log pipe
# closed early (`| head -1`) is survived; it still stops gracefully on
# SIGTERM with exit 0 (final checkpoint, ENGINE_STOP).  Every run replays
# ten minutes of ticks at speed 60 (10 s at most) and is stopped by SIGTERM.
. "$HH_ROOT/tests/integration/lib.sh"
hh_setup_tmp
cd "$T" || exit 1
q() { sqlite3 "$1" "$2"; }

cat > instruments.csv <<'EOF'
symbol,exchange,type,underlying,expiry,strike,option_type,lot_size,tick_size,freeze_qty
XYZ,NSE,EQ,XYZ,,,,1,0.05,
EOF
echo "instruments: instruments.csv" > c.yaml
awk 'BEGIN { print "ts,symbol,price,qty"
    for (s = 0; s < 600; s++) { t = 9 * 3600 + 15 * 60 + s
        printf "2025-01-02T%02d:%02d:%02d+05:30,XYZ,100.00,100\n", t / 3600, t / 60 % 60, t % 60 } }' \
    > ticks.csv
echo '{"id":"s1","ts":"2025-01-02T09:15:01+05:30","symbol":"XYZ","side":"BUY","entry":100,"stop":99,"targets":[102],"lots":1}' \
    > signals.jsonl
ARGS="run --config c.yaml --mode paper --ticks ticks.csv --speed 60 --signals signals.jsonl"

alive() { kill -0 "$1" 2>/dev/null; }
# until_log FILE TEXT: wait (at most 10 s) until FILE has TEXT
until_log() {
    i=0
    while [ $i -lt 100 ] && ! grep -qF -- "$2" "$1" 2>/dev/null; do sleep 0.1; i=$((i + 1)); done
}
stop_and_check() {   # stop_and_check WHAT PID DB
    kill -TERM "$2"
    wait "$2"
    equals "$1: SIGTERM then stops it with exit 0" 0 $?
    equals "$1: ... with its final checkpoint (ENGINE_STOP)" 1 \
        "$(q "$3" "SELECT count(*) FROM audit WHERE kind = 'ENGINE_STOP'")"
}

# ---- SIGHUP and SIGPIPE ------------------------------------------------------------
# shellcheck disable=SC2086
"$HH" $ARGS --db hup.db 2>hup.log &
pid=$!
until_log hup.log '"event":"reconcile_startup"'
kill -HUP "$pid"
until_log hup.log '"event":"sighup"'
sleep 0.3
if alive "$pid"; then ok "SIGHUP: still running"; else not_ok "SIGHUP killed it"; fi
contains "SIGHUP: logged, saying it goes on" hup.log '"event":"sighup"'
contains "SIGHUP: ... still running" hup.log "still running"
kill -PIPE "$pid"
sleep 0.3
if alive "$pid"; then ok "SIGPIPE: still running"; else not_ok "SIGPIPE killed it"; fi
kill -HUP "$pid"
sleep 0.3
if alive "$pid"; then ok "a second SIGHUP: still running"; else not_ok "a second SIGHUP killed it"; fi
stop_and_check "after SIGHUP and SIGPIPE" "$pid" hup.db

# ---- the log pipe closed early (`2>&1 | head -1`) ------------------------------------
mkfifo logpipe
head -1 < logpipe > first.txt &
head_pid=$!
# shellcheck disable=SC2086
"$HH" $ARGS --db pipe.db >logpipe 2>&1 &
pid=$!
wait "$head_pid"   # the reader is gone: every later log line meets a closed pipe
contains "closed pipe: the first log line was read" first.txt '"event":"engine_start"'
i=0
while [ $i -lt 50 ] && [ "$(q pipe.db "SELECT count(*) FROM fills" 2>/dev/null)" != 1 ]; do
    sleep 0.1; i=$((i + 1))
done
if alive "$pid"; then ok "closed pipe: still running after writing to it"; else
    not_ok "closed pipe: it died"; fi
equals "closed pipe: it went on trading (the entry filled)" 1 \
    "$(q pipe.db "SELECT count(*) FROM fills WHERE reason = 'ENTRY'")"
stop_and_check "closed pipe" "$pid" pipe.db
check "closed pipe: audit verify" "$HH" audit verify --db pipe.db
