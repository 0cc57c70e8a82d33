#!/bin/sh
# The keyed audit chain end to end (docs/STORE.md "Keyed chain"):
# `backtest --db` with audit.key_file keys the chain from its first record;
# `audit verify` proves it with the key, says UNVERIFIED without it or with
# another key, and FAILED for a chain rewritten without the key (records
# edited and re-hashed unkeyed with sqlite3 + SHA-256, as someone with the
# file could); an independent verifier (node's crypto,
# tests/tools/audit_chain.js) re-walks the documented encoding; a key file
# others may read is refused naming the file, never its content; `audit
# key` starts keying an existing database (a `run --mode paper` one, and an
# old version-3 one, migrated), rotates, refuses a broken chain and a
# database a writer holds; `run` refuses a keyed database without its key.
. "$HH_ROOT/tests/integration/lib.sh"
hh_setup_tmp
cd "$T" || exit 1
BT=$HH_ROOT/tests/data/bt/s1_target_with_fees
W=$HH_BUILD/tools/store_crashwriter
CHAIN="node $HH_ROOT/tests/tools/audit_chain.js"
q() { sqlite3 "$1" "$2"; }
# rows DB WHERE: audit rows as JSON for audit_chain.js
rows() {
    sqlite3 -json "$1" "SELECT seq, CAST(at AS TEXT) AS at, kind, correlation_id AS corr,
                        payload, prev_hash, hash, key_id FROM audit WHERE $2 ORDER BY seq"
}
# triggers DB: put back the append-only triggers an attacker dropped (the
# writer refuses a damaged schema; verify does not care)
triggers() {
    q "$1" "CREATE TRIGGER IF NOT EXISTS audit_no_update BEFORE UPDATE ON audit
            BEGIN SELECT RAISE(ABORT, 'audit is append-only'); END;
            CREATE TRIGGER IF NOT EXISTS audit_no_delete BEFORE DELETE ON audit
            BEGIN SELECT RAISE(ABORT, 'audit is append-only'); END;"
}
# secret WHAT FILE: FILE does not show the key k1
secret() {
    if grep -qF "$(cut -c1-16 k1)" "$2"; then not_ok "$1"; else ok "$1"; fi
}

umask 077
openssl rand -hex 32 > k1
openssl rand -hex 32 > k2
openssl rand -hex 32 > other
K1=$($CHAIN kid k1)

# ---- backtest --db with a key ----------------------------------------------------
sed "s|\.\./|$HH_ROOT/tests/data/bt/|" "$BT/config.yaml" > bt.yaml
printf 'audit:\n  key_file: %s/k1\n' "$T" >> bt.yaml
check "backtest --db with audit.key_file runs" "$HH" backtest --config bt.yaml \
    --bars "$BT/bars.csv" --signals "$BT/signals.jsonl" --out out --db bt.db
equals "the first record starts the key" "KEY_ROTATED" \
    "$(q bt.db "SELECT kind FROM audit WHERE seq = 1")"
equals "every record carries the key id: the first 8 hex digits of SHA-256(key)" "$K1" \
    "$(q bt.db "SELECT group_concat(DISTINCT coalesce(key_id, 'NULL')) FROM audit")"
"$HH" audit verify --db bt.db --key-file k1 > v.out 2>&1
equals "verify with the key: exit 0" 0 $?
contains "... OK" v.out "audit: OK, "
contains "... keyed since seq 1" v.out "audit: keyed since seq 1 (1 key rotations), last key id $K1"
"$HH" audit verify --db bt.db > v.out 2>&1
equals "verify without the key: exit 1" 1 $?
contains "... UNVERIFIED, naming the key id" v.out "audit: UNVERIFIED from seq 1: keyed with key id $K1"
"$HH" audit verify --db bt.db --key-file other > v.out 2>&1
equals "verify with another key: exit 1" 1 $?
contains "... which no key given has" v.out "which no key given has"
check "db check passes without the key (links only)" "$HH" db check --db bt.db
"$HH" db check --db bt.db > c.out 2>&1
contains "... saying the MACs need the key" c.out "need their keys: hedgehog audit verify --key-file"
check "a backup of a keyed database is checked" "$HH" db backup --db bt.db --to copy.db
check "... and verifies with the key" "$HH" audit verify --db copy.db --key-file k1
rows bt.db 1 > rows.json
check "an independent verifier (node crypto) re-walks the keyed chain" \
    $CHAIN verify rows.json k1

# ---- key files -------------------------------------------------------------------
cp k1 loose && chmod 644 loose
"$HH" audit verify --db bt.db --key-file loose > v.out 2>&1
equals "a key file readable by others: exit 2" 2 $?
contains "... naming the file and its mode" v.out \
    "loose: readable or writable by group or others (mode 0644)"
secret "... never printing the key" v.out
sed "s|$T/k1|$T/loose|" bt.yaml > loose.yaml
"$HH" backtest --config loose.yaml --bars "$BT/bars.csv" --signals "$BT/signals.jsonl" \
    --out out2 --db loose.db > b.out 2>&1
equals "backtest with a loose audit.key_file: exit 2" 2 $?
contains "... naming it" b.out "audit key file $T/loose: readable or writable by group or others"
secret "... never printing it" b.out
equals "... before creating the database" "" "$(ls loose.db* 2>/dev/null)"
echo "nothex" > bad && chmod 600 bad
check_exit "a key file that is not hex: exit 2" 2 "$HH" audit verify --db bt.db --key-file bad

# ---- rewritten without the key -----------------------------------------------------
# The whole chain: the rotation dropped, fills edited, every record re-hashed
# unkeyed and the head moved.
cp bt.db rewritten.db
q rewritten.db "DROP TRIGGER audit_no_update; DROP TRIGGER audit_no_delete;
                DELETE FROM audit WHERE kind = 'KEY_ROTATED';
                UPDATE audit SET payload = replace(payload, '\"qty\":', '\"qty\":9')
                WHERE kind = 'ORDER_FILLED';"
rows rewritten.db 1 > rows.json
$CHAIN rewrite rows.json > rewrite.sql && q rewritten.db ".read rewrite.sql"
triggers rewritten.db
check "the rewritten chain is a valid unkeyed chain" "$HH" audit verify --db rewritten.db
"$HH" audit verify --db rewritten.db --key-file k1 > v.out 2>&1
equals "... but verify with the key fails it: exit 1" 1 $?
contains "... the chain ends unkeyed" v.out "ends unkeyed"
# Only the first records re-hashed unkeyed, the rotation among them.
cp bt.db part.db
q part.db "DROP TRIGGER audit_no_update"
rows part.db "seq <= 3" > rows.json
$CHAIN rewrite rows.json > rewrite.sql && q part.db ".read rewrite.sql"
triggers part.db
"$HH" audit verify --db part.db --key-file k1 > v.out 2>&1
equals "keyed records re-hashed unkeyed: exit 1" 1 $?
contains "... caught at the first" v.out "FAILED at seq 1: key rotation without a valid key id"
# One keyed record edited, its MAC left.
cp bt.db edit.db
q edit.db "DROP TRIGGER audit_no_update; UPDATE audit SET payload = '{}' WHERE seq = 4"
"$HH" audit verify --db edit.db --key-file k1 > v.out 2>&1
contains "an edited keyed record: MAC mismatch at it" v.out "FAILED at seq 4: MAC mismatch"

# ---- audit key on a paper run's database; rotation -------------------------------
cat > instruments.csv <<'EOF'
symbol,exchange,type,underlying,expiry,strike,option_type,lot_size,tick_size,freeze_qty
XYZ,NSE,EQ,XYZ,,,,1,0.05,
EOF
printf 'instruments: instruments.csv\nentry: {mode: touch}\n' > run.yaml
awk 'BEGIN { print "ts,symbol,price,qty"
    for (s = 0; s < 600; s++) { t = 9 * 3600 + 15 * 60 + s
        printf "2025-01-02T%02d:%02d:%02d+05:30,XYZ,%.2f,100\n", t / 3600, t / 60 % 60,
               t % 60, 100 + int(s / 30) * 0.05 } }' > ticks.csv
echo '{"id":"s1","ts":"2025-01-02T09:15:05+05:30","symbol":"XYZ","side":"BUY","entry":100,"stop":99,"targets":[100.5],"lots":1}' > sig.jsonl
check "run --mode paper --db" "$HH" run --config run.yaml --mode paper --ticks ticks.csv \
    --speed 0 --signals sig.jsonl --db run.db
n=$(q run.db "SELECT count(*) FROM audit")
"$HH" audit key --db run.db --key-file k1 > a.out 2>&1
equals "audit key on an unkeyed run database: exit 0" 0 $?
contains "... a KEY_ROTATED record after the unkeyed chain" a.out \
    "seq $((n + 1)) KEY_ROTATED: key id $K1 follows the unkeyed chain"
check "... which verifies with the key" "$HH" audit verify --db run.db --key-file k1
"$HH" audit key --db run.db --key-file k1 > a.out 2>&1
contains "audit key again with the same key: nothing to do" a.out "already ends keyed"
check "audit key with a second key: a rotation" "$HH" audit key --db run.db --key-file k2
check "... verified with both keys" "$HH" audit verify --db run.db --key-file k2 --key-file k1
"$HH" audit verify --db run.db --key-file k2 > v.out 2>&1
contains "... the first key's records unverified with the second alone" v.out \
    "UNVERIFIED from seq $((n + 1))"
"$HH" run --config run.yaml --mode paper --ticks ticks.csv --speed 0 --signals sig.jsonl \
    --db run.db > r.out 2>&1
equals "run on a keyed database without its key: exit 2" 2 $?
contains "... saying the audit trail is keyed" r.out "the audit trail is keyed (key id"
check "... the chain untouched" "$HH" audit verify --db run.db --key-file k2 --key-file k1
printf 'instruments: instruments.csv\nentry: {mode: touch}\naudit: {key_file: k2}\n' > run2.yaml
n=$(q run.db "SELECT count(*) FROM audit")
"$HH" run --config run2.yaml --mode paper --ticks ticks.csv --speed 0 --signals sig.jsonl \
    --db run.db > r.out 2>&1
equals "run with audit.key_file (the chain's key): exit 0" 0 $?
check "... its records keyed with it (verify with both keys)" \
    "$HH" audit verify --db run.db --key-file k2 --key-file k1
equals "... every record it wrote carries the key's id" 0 \
    "$(q run.db "SELECT count(*) FROM audit WHERE seq > $n AND key_id IS NOT '$(q run.db "SELECT key_id FROM audit ORDER BY seq DESC LIMIT 1")'")"
openssl rand -hex 32 > k3
printf 'instruments: instruments.csv\nentry: {mode: touch}\naudit: {key_file: k3}\n' > run3.yaml
check "run with a new audit.key_file: the key rotates at start" \
    "$HH" run --config run3.yaml --mode paper --ticks ticks.csv --speed 0 --signals sig.jsonl --db run.db
equals "... one KEY_ROTATED record more" 1 \
    "$(q run.db "SELECT count(*) FROM audit WHERE kind = 'KEY_ROTATED' AND seq > $n")"
check "... verified with the three keys" \
    "$HH" audit verify --db run.db --key-file k3 --key-file k2 --key-file k1
secret "... the run's log never shows the key" r.out

# a broken chain is never keyed
cp run.db broken.db
q broken.db "DROP TRIGGER audit_no_update; UPDATE audit SET payload = '{}' WHERE seq = 2"
triggers broken.db
"$HH" audit key --db broken.db --key-file other > a.out 2>&1
equals "audit key on a broken chain: exit 1" 1 $?
contains "... it would vouch for it" a.out "keying it would vouch for it"

# not while a writer holds the database
"$W" write --db busy.db --run 1 --count 50 > /dev/null
"$W" write --db busy.db --run 2 --seconds 3 > /dev/null &
wpid=$!
sleep 0.5
"$HH" audit key --db busy.db --key-file k1 > a.out 2>&1
equals "audit key while a writer runs: exit 2" 2 $?
contains "... the database is already open for writing" a.out "already open for writing"
wait $wpid

# ---- an old (version 3) database, migrated then keyed ----------------------------
"$HH" backtest --config "$BT/config.yaml" --bars "$BT/bars.csv" --signals "$BT/signals.jsonl" \
    --out out3 --db old.db > /dev/null 2>&1
q old.db "DROP TABLE checkpoint_chunks; DELETE FROM checkpoints;
          DROP INDEX signals_by_message; DROP TABLE outbox; ALTER TABLE signals DROP COLUMN topic;
          ALTER TABLE signals DROP COLUMN kafka_partition; ALTER TABLE signals DROP COLUMN kafka_offset;
          DROP TABLE kill_switch; ALTER TABLE audit DROP COLUMN key_id;
          ALTER TABLE signals DROP COLUMN decided_at; ALTER TABLE signals DROP COLUMN latency_ns;
          PRAGMA user_version = 3;"
check "a version-3 database verifies" "$HH" audit verify --db old.db
"$HH" db check --db old.db > c.out 2>&1
contains "... db check says it will be migrated" c.out \
    "schema: version 3 (this hedgehog writes 6; migrated"
check "audit key migrates and keys it" "$HH" audit key --db old.db --key-file k1
equals "... now version 6" 6 "$(q old.db "PRAGMA user_version")"
check "... and it verifies with the key" "$HH" audit verify --db old.db --key-file k1
equals "... its old records unkeyed, pinned by the first keyed one" \
    "$(($(q old.db "SELECT count(*) FROM audit") - 1))" \
    "$(q old.db "SELECT count(*) FROM audit WHERE key_id IS NULL")"

check_exit "audit key without --key-file: exit 2" 2 "$HH" audit key --db old.db
check_exit "audit key of a missing database: exit 2" 2 "$HH" audit key --db nope.db --key-file k1
equals "... which it does not create" "" "$(ls nope.db* 2>/dev/null)"
exit 0
