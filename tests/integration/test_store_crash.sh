#!/bin/sh
# Crash consistency of the store: a writer (build/tools/store_crashwriter)
# submits single records and atomic groups of 3 with audit rows as fast as
# it can and prints every unit whose ack it received; we SIGKILL it after a
# random delay, reopen the database and check (store_crashwriter check):
#   - PRAGMA integrity_check is ok,
#   - the audit chain verifies (and ends at its recorded head),
#   - every unit acknowledged before the kill is present,
#   - no atomic group is present in part.
# HH_CRASH_KILLS (default 50) kills; HH_CRASH_SEED replays a run (the seed
# is printed).  A fresh database every 10 kills, so kills also land while a
# database is being created; odd kills run synchronous=NORMAL, even FULL.
. "$HH_ROOT/tests/integration/lib.sh"
hh_setup_tmp
[ -d "${T:-}" ] || { not_ok "temporary directory"; exit 1; }
W=$HH_BUILD/tools/store_crashwriter
KILLS=${HH_CRASH_KILLS:-50}
SEED=${HH_CRASH_SEED:-$(od -An -N2 -tu2 /dev/urandom | tr -d ' ')}
echo "# $KILLS kills, seed $SEED (replay: HH_CRASH_SEED=$SEED HH_CRASH_KILLS=$KILLS)"

[ -x "$W" ] || { not_ok "store_crashwriter is built"; exit 1; }

# Kill delays in ms, 2..400, skewed short: many kills early in a run (during
# open, migration, the first commits), some after WAL checkpoints began.
delays=$(awk -v s="$SEED" -v n="$KILLS" 'BEGIN { srand(s);
    for (i = 0; i < n; i++) printf "%d ", 2 + int(rand() * rand() * 398) }')

i=0 bad=0 acked_total=0 with_acks=0 start=$(date +%s)
for ms in $delays; do
    i=$((i + 1))
    db=$T/crash$(( (i - 1) / 10 )).db
    sync=normal; [ $((i % 2)) -eq 0 ] && sync=full
    : > "$T/acked"   # a kill before the writer's redirection: nothing acked, not the last run's
    "$W" write --db "$db" --run "$i" --sync $sync --seconds 30 >"$T/acked" 2>"$T/err" &
    pid=$!
    sleep "$(awk -v m="$ms" 'BEGIN { printf "%.3f", m / 1000 }')"
    kill -9 "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    n=$(grep -c '' "$T/acked")
    acked_total=$((acked_total + n))
    [ "$n" -gt 0 ] && with_acks=$((with_acks + 1))
    if ! "$W" check --db "$db" --run "$i" --acked "$T/acked" >"$T/check" 2>&1; then
        bad=$((bad + 1))
        not_ok "kill $i after $ms ms (sync $sync, $n acks): database inconsistent"
        sed 's/^/    /' "$T/check" "$T/err" | head -20
    fi
done
elapsed=$(( $(date +%s) - start ))
echo "# $i kills in ${elapsed} s; $acked_total acknowledged units checked; $with_acks kills had acks"

if [ "$bad" -eq 0 ]; then ok "$i kills: integrity, audit chain, acked records, atomic groups"; fi
# The test only means something if most kills hit a writer that was writing.
if [ "$with_acks" -ge $((KILLS / 2)) ]; then ok "most kills landed mid-write ($with_acks/$KILLS)"
else not_ok "most kills landed mid-write ($with_acks/$KILLS)"; fi

# After all that, every database opens for writing again and continues.
for db in "$T"/crash*.db; do
    if "$W" write --db "$db" --run 9999 --count 30 >/dev/null 2>"$T/err" &&
       "$HH" db check --db "$db" >"$T/check" 2>&1; then :; else
        not_ok "$(basename "$db") reopens, continues and checks"
        sed 's/^/    /' "$T/err" "$T/check" | head -10
        bad=$((bad + 1))
    fi
done
[ "$bad" -eq 0 ] && ok "every crashed database reopens for writing and passes db check"
exit 0
