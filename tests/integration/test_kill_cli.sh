#!/bin/sh
# `hedgehog kill` (SPEC §12, for when the API is down): with no engine on
# the database the request and its KILL_SWITCH audit row are written in one
# transaction (keyed with --key-file on a keyed chain; without the key the
# request alone, for the engine to audit); beside a writer committing flat
# out, and beside a running `hedgehog run --mode paper`, the request goes
# in through a connection of its own and disturbs neither (their chains
# verify, every acknowledged unit is there); `--status` tells the latest
# request; bad usage and unusable databases exit 2 and create nothing.
. "$HH_ROOT/tests/integration/lib.sh"
hh_setup_tmp
cd "$T" || exit 1
BT=$HH_ROOT/tests/data/bt/s1_target_with_fees
W=$HH_BUILD/tools/store_crashwriter
q() { sqlite3 "$1" "$2"; }
me="cli:$(id -un)"

"$HH" backtest --config "$BT/config.yaml" --bars "$BT/bars.csv" --signals "$BT/signals.jsonl" \
    --out out --db bt.db > /dev/null 2>&1 || not_ok "fixture: backtest --db"

# ---- no engine: recorded and audited ---------------------------------------------
"$HH" kill --db bt.db --status > s.out 2>&1
equals "status of a database without requests: exit 0" 0 $?
contains "... ACTIVE" s.out "kill switch: ACTIVE (no request recorded)"
"$HH" kill --db bt.db --action halt --reason "broker incident" > k.out 2>&1
equals "kill --action halt: exit 0" 0 $?
contains "... recorded and audited" k.out "kill switch: HALTED (halt) recorded and audited"
equals "... one kill_switch row: action, state, reason, who, pending" \
    "halt|HALTED|broker incident|$me|1" \
    "$(q bt.db "SELECT action, state, reason, requested_by, applied_at IS NULL FROM kill_switch")"
equals "... its KILL_SWITCH audit row" \
    "halt|HALTED|broker incident|$me|0" \
    "$(q bt.db "SELECT json_extract(payload, '$.action'), json_extract(payload, '$.state'),
                json_extract(payload, '$.reason'), json_extract(payload, '$.by'),
                json_extract(payload, '$.applied') FROM audit WHERE kind = 'KILL_SWITCH'")"
equals "... at the request's time" \
    "$(q bt.db "SELECT requested_at FROM kill_switch")" \
    "$(q bt.db "SELECT at FROM audit WHERE kind = 'KILL_SWITCH'")"
check "... the chain verifies" "$HH" audit verify --db bt.db
"$HH" kill --db bt.db --status > s.out 2>&1
contains "status: the latest request" s.out "kill switch: HALTED (halt), request 1 at "
contains "... who and why" s.out "by $me: \"broker incident\""
contains "... pending until an engine applies it" s.out "kill switch: pending"
check "kill --action flatten" "$HH" kill --db bt.db --action flatten
check "kill --action resume" "$HH" kill --db bt.db --action resume --reason "all clear"
"$HH" kill --db bt.db --status > s.out 2>&1
contains "status: the latest wins" s.out "kill switch: ACTIVE (resume), request 3"
equals "three requests, three audit rows" "3|3" \
    "$(q bt.db "SELECT (SELECT count(*) FROM kill_switch) || '|' ||
                (SELECT count(*) FROM audit WHERE kind = 'KILL_SWITCH')")"

# ---- a keyed chain -----------------------------------------------------------------
umask 077
openssl rand -hex 32 > k1
cp bt.db keyed.db
"$HH" audit key --db keyed.db --key-file k1 > /dev/null 2>&1 || not_ok "fixture: audit key"
n=$(q keyed.db "SELECT count(*) FROM audit")
"$HH" kill --db keyed.db --action pause > k.out 2>&1
equals "keyed chain, no key: exit 0" 0 $?
contains "... the request alone, for the engine to audit" k.out \
    "requested, request 4: an engine holds the database, or its audit trail is keyed"
equals "... no audit row written" "$n" "$(q keyed.db "SELECT count(*) FROM audit")"
"$HH" kill --db keyed.db --action halt --key-file k1 > k.out 2>&1
contains "keyed chain with its key: recorded and audited" k.out "recorded and audited"
check "... keyed: verifies with the key" "$HH" audit verify --db keyed.db --key-file k1
chmod 644 k1
check_exit "a loose key file: exit 2" 2 "$HH" kill --db keyed.db --action halt --key-file k1
chmod 600 k1

# ---- beside a writer committing flat out ---------------------------------------------
"$W" write --db busy.db --run 1 --count 30 > /dev/null
"$W" write --db busy.db --run 2 --seconds 4 > acked.txt &
wpid=$!
sleep 1
"$HH" kill --db busy.db --action pause --reason "writer busy" > k.out 2>&1
equals "kill while a writer commits: exit 0" 0 $?
contains "... a request beside it" k.out "kill switch: PAUSED (pause) requested, request 1"
wait $wpid
equals "... the writer finished cleanly" 0 $?
check "... every acknowledged unit is there, the chain verifies" \
    "$W" check --db busy.db --run 2 --acked acked.txt
equals "... the request is there, pending" "pause|PAUSED|1" \
    "$(q busy.db "SELECT action, state, applied_at IS NULL FROM kill_switch")"

# ---- beside a running paper engine ---------------------------------------------------
cat > instruments.csv <<'EOF'
symbol,exchange,type,underlying,expiry,strike,option_type,lot_size,tick_size,freeze_qty
XYZ,NSE,EQ,XYZ,,,,1,0.05,
EOF
printf 'instruments: instruments.csv\nentry: {mode: touch}\n' > run.yaml
awk 'BEGIN { print "ts,symbol,price,qty"
    for (s = 0; s < 900; s++) { t = 9 * 3600 + 15 * 60 + s
        printf "2025-01-02T%02d:%02d:%02d+05:30,XYZ,%.2f,100\n", t / 3600, t / 60 % 60,
               t % 60, 100 + int(s / 30) * 0.05 } }' > ticks.csv
echo '{"id":"s1","ts":"2025-01-02T09:15:05+05:30","symbol":"XYZ","side":"BUY","entry":100,"stop":99,"targets":[101],"lots":1}' > sig.jsonl
"$HH" run --config run.yaml --mode paper --ticks ticks.csv --speed 300 --signals sig.jsonl \
    --db run.db 2> run.log &
rpid=$!
i=0
while [ $i -lt 50 ] && ! [ -f run.db-lock ]; do sleep 0.1; i=$((i + 1)); done
sleep 0.5
"$HH" kill --db run.db --action flatten --reason "drill" > k.out 2>&1
equals "kill while hedgehog run holds the database: exit 0" 0 $?
contains "... a request beside the engine" k.out "kill switch: HALTED (flatten) requested"
wait $rpid
equals "... the run went on and stopped cleanly" 0 $?
check "... its chain verifies" "$HH" audit verify --db run.db
check "... db check passes" "$HH" db check --db run.db
"$HH" kill --db run.db --status > s.out 2>&1
contains "... the request is the latest" s.out "kill switch: HALTED (flatten), request 1"

# ---- bad usage and unusable databases ------------------------------------------------
check_exit "no --action nor --status: exit 2" 2 "$HH" kill --db bt.db
check_exit "both: exit 2" 2 "$HH" kill --db bt.db --action halt --status
check_exit "an unknown action: exit 2" 2 "$HH" kill --db bt.db --action stop
long=$(awk 'BEGIN { while (n++ < 300) printf "x" }')
check_exit "a reason over 256 bytes: exit 2" 2 "$HH" kill --db bt.db --action halt --reason "$long"
check_exit "a missing database: exit 2" 2 "$HH" kill --db nope.db --action halt
equals "... not created" "" "$(ls nope.db* 2>/dev/null)"
printf 'not a database, just text long enough to fill a header of sorts\n' > text.db
check_exit "a file that is not a database: exit 2" 2 "$HH" kill --db text.db --action halt
check_exit "status of a missing database: exit 2" 2 "$HH" kill --db nope.db --status
exit 0
