#!/bin/sh
# `hedgehog run --mode paper` killed with SIGKILL at random instants under a
# fault schedule, restarted each time (issue 6's crash campaign).
#
# The data (tests/tools/run_tool gen: three symbols, three hours of ticks with
# gaps, ~300 signals with a few genuinely repeated ids) is replayed at
# --speed 300 (every third run flat out, --speed 0) against a paper broker that drops and delays updates, answers
# 503 in a window, times out placements that nevertheless exist, rejects
# some, fills partially and has latency.  Each incarnation is SIGKILLed
# after a random 0.05-0.9 s (10-60 ms when flat out; seeded: the seed is printed; HH_CRASH_SEED
# replays, HH_RUN_KILLS sets the count, default 30); a last one runs to the
# end of the data and exits 0.  Then:
#   - positions: the engine's (the database's positions table and the final
#     log) equal the paper broker's (its saved state, <db>.paper);
#   - no client order id was ever placed twice (paper stats);
#   - no position was exited twice: for every trade, its exits executed at
#     the broker no more than its entry (client ids h<serial><code><n>), and
#     the same in the database's fills; no position had to be adopted;
#   - every accepted signal is accounted for (it has a trade state) and
#     every signal line was recorded exactly once across the restarts;
#   - the database is sound (db check, audit verify), and every restart
#     restored the state its last checkpoint recorded (ENGINE_START's
#     restored_state_hash is a checkpoint's hash).
. "$HH_ROOT/tests/integration/lib.sh"
hh_setup_tmp; [ -n "${HH_KEEP:-}" ] && { trap - EXIT INT TERM; echo "# kept $T"; }
TOOL=$HH_BUILD/tools/run_tool
KILLS=${HH_RUN_KILLS:-30}
SEED=${HH_CRASH_SEED:-$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')}
echo "# crash campaign: seed $SEED, $KILLS kills (HH_CRASH_SEED=$SEED replays)"

cd "$T" || exit 1
"$TOOL" gen . "$SEED" 180 >/dev/null
cat > config.yaml <<'EOF'
instruments: instruments.csv
risk:
  max_open_trades: 2
entry:
  mode: touch
exits:
  squareoff: "11:55"
broker:
  breaker: {failures: 4, window_s: 30, cool_off_s: 10}
paper:
  latency_ms: 50
  fill_ratio: 0.5
  faults:
    seed: 7
    drop_update_pct: 15
    delay_update_ms: 300
    reject_pct: 3
    timeout_pct: 15
    unavailable: ["09:25:00-09:26:30", "10:10:00-10:10:40"]
    disconnect: ["09:35:00-09:35:30"]
EOF

# a tiny seeded PRNG for the kill delays (ms)
r=$SEED
next_delay() {
    r=$(( (r * 1103515245 + 12345) % 2147483648 ))
    echo $(( 50 + r % 850 ))
}

ARGS="run --config config.yaml --mode paper --ticks ticks.csv
      --signals signals.jsonl --db run.db"

i=0
starts=0
while [ "$i" -lt "$KILLS" ]; do
    ms=$(next_delay)
    speed=300
    if [ $((i % 3)) -eq 2 ]; then
        # flat out: the kill lands in the middle of the work (steps,
        # broker calls, commits), not while the replay waits for time
        speed=0
        ms=$((10 + ms % 50))
    fi
    # shellcheck disable=SC2086
    "$HH" $ARGS --speed $speed 2>>log.txt &
    pid=$!   # hedgehog itself, not a subshell: the kill must reach it
    sleep "$(awk -v m="$ms" 'BEGIN { printf "%.3f", m / 1000 }')"
    kill -9 "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    i=$((i + 1))
    starts=$((starts + 1))
done
# shellcheck disable=SC2086
"$HH" $ARGS --speed 0 2>final.txt
rc=$?
cat final.txt >> log.txt
equals "the last run finishes the data and exits 0" 0 "$rc"
equals "no run found the database held by another" 0 "$(grep -c 'already open' log.txt)"
contains "it says it stopped at the end of the data" final.txt "end of market data"

"$TOOL" paper config.yaml run.db.paper > paper.txt
equals "no client order id placed twice" "dup_client_ids 0" "$(grep dup_client_ids paper.txt)"
for cid in $(awk '/^dup / { print $2 }' paper.txt); do   # what happened to it
    echo "# $cid:"; grep -F "client_id=$cid " log.txt | head -20 | sed 's/^/#   /'
done
grep '^double_exit ' paper.txt | sed 's/^/# /'
equals "no position exited twice" "double_exits 0" "$(grep double_exits paper.txt)"
equals "no stop market order beside a live stop-limit" "markets_early 0" \
    "$(grep markets_early paper.txt)"
grep '^position' paper.txt | awk '{ print $2, $3 }' | sort > broker.pos
sqlite3 run.db "SELECT symbol, qty FROM positions WHERE qty != 0 ORDER BY symbol" | tr '|' ' ' \
    > engine.pos
same_file "the engine's positions (database) are the paper broker's" broker.pos engine.pos
equals "no trade's exit fills exceed its entry fills (database)" "" \
    "$(sqlite3 run.db "SELECT signal_id FROM fills GROUP BY signal_id HAVING
        sum(CASE WHEN reason = 'ENTRY' THEN qty ELSE 0 END) <
        sum(CASE WHEN reason != 'ENTRY' THEN qty ELSE 0 END)")"
equals "no position the engine did not open itself (nothing adopted)" 0 \
    "$(sqlite3 run.db "SELECT count(*) FROM fills WHERE signal_id LIKE 'adopted-%'")"
equals "the final log shows no position differing from the broker's" 0 \
    "$(grep '"open_position"' final.txt | grep -c 'differ')"
equals "every accepted signal has a trade state" 0 \
    "$(sqlite3 run.db "SELECT count(*) FROM signals s WHERE decision = 'ACCEPTED' AND
                       NOT EXISTS (SELECT 1 FROM trade_state t WHERE t.trade_key = s.signal_id)")"
equals "every signal line recorded exactly once over $starts restarts" \
    "$(grep -c . signals.jsonl)" "$(sqlite3 run.db 'SELECT count(DISTINCT line) FROM signals')"
equals "no signal line recorded twice" "" \
    "$(sqlite3 run.db 'SELECT line FROM signals GROUP BY line HAVING count(*) > 1')"
equals "the repeated ids are DUPLICATE, nothing else is" \
    "$(awk '/"entry":1,/ { n++ } END { print n + 0 }' signals.jsonl)" \
    "$(sqlite3 run.db "SELECT count(*) FROM signals WHERE reason = 'DUPLICATE'")"
equals "every restart restored a recorded checkpoint" 0 \
    "$(sqlite3 run.db "SELECT count(*) FROM audit WHERE kind = 'ENGINE_START' AND
        json_extract(payload, '$.restored_state_hash') IS NOT NULL AND
        json_extract(payload, '$.restored_state_hash') NOT IN
        (SELECT state_hash FROM checkpoints WHERE state_hash IS NOT NULL)")"
check "db check passes" "$HH" db check --db run.db
check "audit verify passes" "$HH" audit verify --db run.db
contains "faults happened: placements timed out and were found" log.txt "PLACE_FOUND"
echo "# $(grep -c '"engine_start"' log.txt) starts, $(grep -c '"reconcile_divergence"' log.txt) divergences adopted, $(grep placed paper.txt)"
