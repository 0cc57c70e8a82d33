#!/bin/sh
# `hedgehog backtest --db FILE` (journal/journal.h): the run persisted.
#
# On every tests/data/bt scenario, the demo (examples/) and the multi-leg
# group backtest (tests/data/group_bt): the outputs in --out are
# byte-identical with and without --db (summary.json and report.html but
# for the elapsed time); `db check` and `audit verify` pass; the database's
# fills, trades and signals match the CSVs line for line; rejected lines +
# risk rejections = rejected.jsonl; the last checkpoint is the final state
# (ENGINE_STOP's state hash); two runs give identical databases (the whole
# SQL dump: nothing depends on the wall clock).  `audit show --correlation`
# tells a trade's history.  Bad locations: a read-only directory, a file
# that is not a database, a full file system (at open and during the run:
# the run stops, exit 1) — each with a clear message.
. "$HH_ROOT/tests/integration/lib.sh"
hh_setup_tmp
EX=$HH_ROOT/examples

q() { sqlite3 "$1" "$2"; }

# no_elapsed FILE: the file without its elapsed-time figures
no_elapsed() {
    sed -e 's/"elapsed_s": [0-9.]*//' -e 's|Elapsed (s)</th><td class="n">[0-9.]*|Elapsed|' "$1"
}

# persisted NAME OUT DB: the checks of one persisted run against its outputs
persisted() {
    name=$1; out=$2; db=$3
    check "$name: db check passes" "$HH" db check --db "$db"
    check "$name: audit verify passes" "$HH" audit verify --db "$db"
    equals "$name: fills in the db = fills.csv" "$(($(wc -l < "$out/fills.csv") - 1))" \
        "$(q "$db" 'SELECT count(*) FROM fills')"
    equals "$name: trades in the db = trades.csv" "$(($(wc -l < "$out/trades.csv") - 1))" \
        "$(q "$db" 'SELECT count(*) FROM trades')"
    received=$(sed -n 's/.*"signals_received": \([0-9]*\).*/\1/p' "$out/summary.json")
    equals "$name: one signals row per line received" "$received" \
        "$(q "$db" 'SELECT count(*) FROM signals')"
    equals "$name: rejected lines + risk rejections = rejected.jsonl" \
        "$(wc -l < "$out/rejected.jsonl" | tr -d ' ')" \
        "$(q "$db" "SELECT (SELECT count(*) FROM signals WHERE decision = 'REJECTED') +
                           (SELECT count(*) FROM audit WHERE kind = 'RISK_REJECTED')")"
    # the fills as fills.csv has them (ids, symbol, side, qty, reason)
    awk -F, 'NR > 1 { print $2 "|" $3 "|" $4 "|" $5 "|" $6 "|" $7 "|" $9 }' "$out/fills.csv" \
        > "$T/csv.fills"
    q "$db" "SELECT order_id, trade_id, signal_id, symbol, side, qty, reason FROM fills
             ORDER BY id" > "$T/db.fills"
    same_file "$name: the fills in the db are fills.csv's" "$T/csv.fills" "$T/db.fills"
    awk -F, 'NR > 1 { print $1 "|" $2 "|" $3 "|" $4 "|" $5 "|" $10 }' "$out/trades.csv" \
        > "$T/csv.trades"
    q "$db" "SELECT trade_id, signal_id, symbol, side, qty, exit_reason FROM trades
             ORDER BY id" > "$T/db.trades"
    same_file "$name: the trades in the db are trades.csv's" "$T/csv.trades" "$T/db.trades"
    equals "$name: every fill has an ORDER_FILLED audit row" \
        "$(q "$db" 'SELECT count(*) FROM fills')" \
        "$(q "$db" "SELECT count(*) FROM audit WHERE kind = 'ORDER_FILLED'")"
    equals "$name: every closed trade is CLOSED in trade_state" \
        "$(q "$db" 'SELECT count(*) FROM trades')" \
        "$(q "$db" "SELECT count(*) FROM trade_state WHERE state = 'CLOSED'")"
    equals "$name: the last checkpoint is the final state (ENGINE_STOP's hash)" \
        "$(q "$db" "SELECT state_hash FROM checkpoints ORDER BY seq DESC, id DESC LIMIT 1")" \
        "$(q "$db" "SELECT json_extract(payload, '$.state_hash') FROM audit
                    WHERE kind = 'ENGINE_STOP'")"
    equals "$name: the configuration is on record with its SHA-256" \
        "$(sha256sum "$cfg" | cut -d' ' -f1)" \
        "$(q "$db" "SELECT json_extract(payload, '$.sha256') FROM audit
                    WHERE kind = 'CONFIG_LOADED'")"
    equals "$name: no audit row of a signal without its correlation id" 0 \
        "$(q "$db" "SELECT count(*) FROM audit WHERE correlation_id = '' AND kind NOT IN
                    ('CONFIG_LOADED', 'ENGINE_START', 'ENGINE_STOP', 'SIGNAL_REJECTED')")"
}

# dump DB: the whole database as SQL text (checkpoint blobs included: the
# engine's state is byte-identical from run to run).
dump() {
    q "$1" .dump
}

# run NAME CONFIG MDOPT MDFILE SIGNALS: with and without --db, twice with
run() {
    name=$1; cfg=$2; mdopt=$3; md=$4; sig=$5
    o=$T/$name
    check "$name: backtest --db runs" "$HH" backtest --config "$cfg" "$mdopt" "$md" \
        --signals "$sig" --out "$o/db" --db "$o.db"
    "$HH" backtest --config "$cfg" "$mdopt" "$md" --signals "$sig" --out "$o/plain" \
        >/dev/null 2>&1
    for f in fills.csv trades.csv rejected.jsonl; do
        same_file "$name: $f identical with and without --db" "$o/plain/$f" "$o/db/$f"
    done
    for f in summary.json report.html; do
        no_elapsed "$o/plain/$f" > "$T/a"; no_elapsed "$o/db/$f" > "$T/b"
        same_file "$name: $f identical with and without --db (but elapsed)" "$T/a" "$T/b"
    done
    persisted "$name" "$o/db" "$o.db"
    "$HH" backtest --config "$cfg" "$mdopt" "$md" --signals "$sig" --out "$o/again" \
        --db "$o.again.db" >/dev/null 2>&1
    dump "$o.db" > "$T/dump1"; dump "$o.again.db" > "$T/dump2"
    same_file "$name: two --db runs give identical databases" "$T/dump1" "$T/dump2"
}

# ---- the scenarios, the demo, the groups -----------------------------------------------
for dir in "$DATA"/bt/*/; do
    [ -f "$dir/config.yaml" ] || continue
    if [ -f "$dir/bars.csv" ]; then set -- --bars "$dir/bars.csv"; else set -- --ticks "$dir/ticks.csv"; fi
    run "$(basename "$dir")" "$dir/config.yaml" "$1" "$2" "$dir/signals.jsonl"
done

run demo "$EX/demo.yaml" --bars "$EX/nifty50_1min_2024-06.csv" "$EX/signals_pivots_2024-06.jsonl"
D=$T/demo.db
id=$(q "$D" "SELECT signal_id FROM trades ORDER BY id LIMIT 1")
"$HH" audit show --db "$D" --correlation "$id" > "$T/history"
for k in SIGNAL_ACCEPTED ORDER_SENT ORDER_FILLED; do
    contains "demo: audit show --correlation $id has $k" "$T/history" " $k $id "
done
equals "demo: ... every line of the history is the trade's" "$(wc -l < "$T/history" | tr -d ' ')" \
    "$(grep -c " $id " "$T/history")"
equals "demo: ... in order: accepted, sent, filled (entry)" "SIGNAL_ACCEPTED ORDER_SENT ORDER_FILLED" \
    "$(awk '{ print $3 }' "$T/history" | head -3 | tr '\n' ' ' | sed 's/ $//')"
contains "demo: ... the entry fill names its reason" "$T/history" '"reason":"ENTRY"'
equals "demo: the trade's life in trade_state" "WAITING>OPEN>CLOSED" \
    "$(q "$D" "SELECT group_concat(state, '>') FROM (SELECT state FROM trade_state
               WHERE trade_key = '$id' ORDER BY id)")"
equals "demo: net positions are flat at the end, realised = the trades' gross" \
    "0|$(q "$D" 'SELECT sum(gross_pnl) FROM trades')" \
    "$(q "$D" 'SELECT sum(qty), sum(realised) FROM positions')"
equals "demo: rejected lines keep their raw text" 0 \
    "$(q "$D" "SELECT count(*) FROM signals WHERE raw NOT LIKE '{%'")"
"$HH" db check --db "$D" > "$T/check.out" 2>&1
contains "demo: db check reads the last checkpoint back from its chunks" "$T/check.out" \
    "checkpoint: OK, seq"
equals "demo: only the last checkpoint keeps its state" 1 \
    "$(q "$D" "SELECT count(*) FROM checkpoints WHERE length(state) > 0")"
cp "$D" "$T/chunk.db"
q "$T/chunk.db" "UPDATE checkpoint_chunks SET bytes = X'01' || substr(bytes, 2)
                  WHERE rowid = (SELECT min(rowid) FROM checkpoint_chunks)"
"$HH" db check --db "$T/chunk.db" > "$T/check.out" 2>&1
equals "demo: db check finds a tampered checkpoint chunk (exit 1)" 1 $?
contains "... naming it" "$T/check.out" "checkpoint: FAILED ("

G=$DATA/group_bt
if "$HH" price-options --bars "$EX/nifty50_1min_2024-06.csv" --underlying NIFTY \
    --expiry 2024-06-27 --strikes 22500,22800,23000,23200,23500,23800,24000,24200,24500 \
    --iv 0.14 --holidays "$EX/holidays.csv" --out "$T/gbars.csv" \
    --instruments "$T/ginst.csv" >/dev/null 2>&1; then
    run groups "$G/config.yaml" --bars "$T/gbars.csv" "$G/signals.jsonl"
    equals "groups: one group_exec row per group accepted" \
        "$(q "$T/groups.db" "SELECT count(*) FROM signals WHERE decision = 'ACCEPTED'")" \
        "$(q "$T/groups.db" 'SELECT count(*) FROM group_exec')"
    equals "groups: one OPEN per group traded (not one per leg)" \
        "$(q "$T/groups.db" 'SELECT count(*) FROM trades')" \
        "$(q "$T/groups.db" "SELECT count(*) FROM trade_state WHERE state = 'OPEN'")"
    equals "groups: the oversized condor is DROPPED for its margin" "ic-big|MARGIN_WORST_CASE" \
        "$(q "$T/groups.db" "SELECT trade_key, detail FROM trade_state WHERE state = 'DROPPED'")"
else
    not_ok "groups: price-options failed"
fi

# ---- options and bad locations ------------------------------------------------------------
S=$DATA/bt/s1_target_with_fees
bt() {
    "$HH" backtest --config "$S/config.yaml" --bars "$S/bars.csv" --signals "$S/signals.jsonl" \
        "$@"
}
check "--db-sync full works" bt --out "$T/full" --db "$T/full.db" --db-sync full
check_exit "--db-sync with a bad value exits 2" 2 bt --out "$T/x" --db "$T/x.db" --db-sync fast
check_exit "--db-sync without --db exits 2" 2 bt --out "$T/x" --db-sync full

bt --out "$T/x" --db "$S/signals.jsonl" >/dev/null 2>"$T/err"
equals "a file that is not a database exits 2" 2 $?
contains "... saying so" "$T/err" "not a SQLite database"

# a read-only directory (as nobody when root: root writes anywhere).  nobody may not
# reach the checkout at all (a private directory, such as one mktemp -d made): it runs a
# copy of the binary (with its chart library) on a copy of the scenario, in $T.
P=$T/pub
mkdir -p "$P/ro" "$P/out" "$P/bin/share/hedgehog" "$P/bt/s1"
cp "$HH" "$P/bin/"
cp "$HH_BUILD/share/hedgehog/lightweight-charts.js" "$P/bin/share/hedgehog/"
cp "$DATA/bt/instruments.csv" "$DATA/bt/holidays.csv" "$P/bt/"
cp "$S/config.yaml" "$S/bars.csv" "$S/signals.jsonl" "$P/bt/s1/"
chmod -R a+rX "$P"; chmod 0755 "$T"; chmod 0555 "$P/ro"; chmod 0777 "$P/out"
AS=""
if [ "$(id -u)" -eq 0 ]; then AS="setpriv --reuid=65534 --regid=65534 --clear-groups"; fi
$AS "$P/bin/hedgehog" backtest --config "$P/bt/s1/config.yaml" --bars "$P/bt/s1/bars.csv" \
    --signals "$P/bt/s1/signals.jsonl" --out "$P/out/o" --db "$P/ro/r.db" >/dev/null 2>"$T/err"
equals "a read-only directory exits 2" 2 $?
contains "... saying the directory is not writable" "$T/err" "is the directory writable?"
equals "... and creates nothing there" "" "$(ls "$P/ro")"
chmod 0755 "$P/ro"

# a full file system: a 1 MiB tmpfs, when this machine lets us mount
mkdir "$T/mnt"
trap 'umount "$T/mnt" 2>/dev/null; rm -rf "$T"' EXIT INT TERM
if mount -t tmpfs -o size=1m tmpfs "$T/mnt" 2>/dev/null; then
    dd if=/dev/zero of="$T/mnt/filler" bs=4k 2>/dev/null
    "$HH" backtest --config "$EX/demo.yaml" --bars "$EX/nifty50_1min_2024-06.csv" \
        --signals "$EX/signals_pivots_2024-06.jsonl" --out "$T/f1" --db "$T/mnt/f.db" \
        >/dev/null 2>"$T/err"
    rc=$?
    if [ $rc -eq 1 ] || [ $rc -eq 2 ]; then ok "a full file system at open exits $rc"
    else not_ok "a full file system at open exits $rc (wanted 1 or 2)"; fi
    contains "... saying the disk is full" "$T/err" "database or disk is full"
    rm -f "$T/mnt/"*
    # room for the schema and a few transactions, not for the run
    dd if=/dev/zero of="$T/mnt/filler" bs=4k count=200 2>/dev/null
    "$HH" backtest --config "$EX/demo.yaml" --bars "$EX/nifty50_1min_2024-06.csv" \
        --signals "$EX/signals_pivots_2024-06.jsonl" --out "$T/f2" --db "$T/mnt/f.db" \
        >/dev/null 2>"$T/err"
    equals "a disk filling up during the run stops it (exit 1)" 1 $?
    contains "... never trading without memory" "$T/err" "never trade without memory"
    contains "... saying the disk is full" "$T/err" "database or disk is full"
    rm -f "$T/mnt/filler"
    check "... what was committed passes db check" "$HH" db check --db "$T/mnt/f.db"
    umount "$T/mnt"
else
    ok "full tmpfs # SKIP mount not permitted here"
fi
exit 0
