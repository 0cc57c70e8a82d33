#!/bin/sh
# `hedgehog db backup` and `hedgehog db check`, and the store's bad inputs:
# online backups taken while a writer commits as fast as it can are
# consistent and pass their checks; check reports corruption, a damaged
# schema and a broken chain (exit 1) and refuses what it cannot read
# (exit 2: missing, not SQLite, foreign, newer schema); a full disk (a size
# cap, and a small tmpfs when mounting is allowed) fails the writer with a
# clear message and leaves a consistent database; a read-only directory is
# refused with a clear message and nothing created.
. "$HH_ROOT/tests/integration/lib.sh"
hh_setup_tmp
[ -d "${T:-}" ] || { not_ok "temporary directory"; exit 1; }
W=$HH_BUILD/tools/store_crashwriter

"$W" write --db "$T/base.db" --run 1 --count 3000 >/dev/null || { not_ok "fixture"; exit 1; }
sqlite3 "$T/base.db" "PRAGMA wal_checkpoint(TRUNCATE);" >/dev/null

"$HH" db check --db "$T/base.db" >"$T/out" 2>&1
equals "check: a good database exits 0" 0 $?
contains "check: integrity" "$T/out" "integrity: ok"
contains "check: schema version" "$T/out" "schema: version 6 (this hedgehog writes 6) ok"
contains "check: audit chain" "$T/out" "audit: OK, 2000 records, head seq 2000"
contains "check: verdict" "$T/out" "check: OK"

# ---- online backup while a writer runs ------------------------------------------------
: >"$T/live.acked"   # exists before the writer's shell opens it (no race with the poll)
"$W" write --db "$T/live.db" --run 2 --seconds 20 >>"$T/live.acked" 2>"$T/live.err" &
wpid=$!
n=0
while [ "$(grep -c '' "$T/live.acked")" -lt 3000 ] && [ $n -lt 400 ]; do
    sleep 0.05; n=$((n + 1))
done
prev=0 bad=0
for k in 1 2 3; do
    if ! "$HH" db backup --db "$T/live.db" --to "$T/backup$k.db" >"$T/b.out" 2>&1; then
        bad=1; not_ok "backup $k while writing"; sed 's/^/    /' "$T/b.out"; continue
    fi
    "$HH" db check --db "$T/backup$k.db" >"$T/c.out" 2>&1 || {
        bad=1; not_ok "backup $k passes db check"; sed 's/^/    /' "$T/c.out"; }
    "$W" check --db "$T/backup$k.db" >"$T/g.out" 2>&1 || {
        bad=1; not_ok "backup $k has no half-written group"; sed 's/^/    /' "$T/g.out"; }
    cnt=$(sqlite3 "$T/backup$k.db" "SELECT count(*) FROM audit")
    [ "$cnt" -ge "$prev" ] || { bad=1; not_ok "backup $k grows ($prev then $cnt)"; }
    prev=$cnt
done
running=0; kill -0 $wpid 2>/dev/null && running=1
kill $wpid 2>/dev/null; wait $wpid 2>/dev/null
[ $bad -eq 0 ] && ok "3 backups while writing: each consistent, checked, growing (last $prev audit rows)"
equals "the writer was still writing during the backups" 1 "$running"
equals "a backup is one self-contained file (rollback journal)" delete \
    "$(sqlite3 "$T/backup3.db" 'PRAGMA journal_mode')"
check "the live database passes db check after the writer died" "$HH" db check --db "$T/live.db"

"$HH" db backup --db "$T/base.db" --to "$T/backup1.db" >"$T/out" 2>&1
equals "backup never overwrites (exit 2)" 2 $?
contains "... saying so" "$T/out" "already exists"
check_exit "backup of a missing database exits 2" 2 "$HH" db backup --db "$T/nope.db" --to "$T/x.db"
check_exit "backup without --to is bad usage" 2 "$HH" db backup --db "$T/base.db"
check_exit "unknown db subcommand is bad usage" 2 "$HH" db vacuum --db "$T/base.db"

# ---- check: findings (exit 1) ------------------------------------------------------------
cp "$T/base.db" "$T/corrupt.db"
head -c 8192 /dev/zero | tr '\0' 'Z' | dd of="$T/corrupt.db" bs=4096 seek=6 conv=notrunc 2>/dev/null
"$HH" db check --db "$T/corrupt.db" >"$T/out" 2>&1
equals "check: a corrupted page exits 1" 1 $?
contains "... naming the integrity failure" "$T/out" "integrity: FAILED"

cp "$T/base.db" "$T/trig.db"
sqlite3 "$T/trig.db" "DROP TRIGGER audit_no_update"
"$HH" db check --db "$T/trig.db" >"$T/out" 2>&1
equals "check: a dropped append-only trigger exits 1" 1 $?
contains "... naming it" "$T/out" "trigger audit_no_update missing"

cp "$T/base.db" "$T/chain.db"
sqlite3 "$T/chain.db" "DROP TRIGGER audit_no_update; UPDATE audit SET payload = '{}' WHERE seq = 77"
"$HH" db check --db "$T/chain.db" >"$T/out" 2>&1
equals "check: a tampered audit row exits 1" 1 $?
contains "... naming the record" "$T/out" "audit: FAILED at seq 77: hash mismatch"

# ---- check: what it cannot read (exit 2) ---------------------------------------------
cp "$T/base.db" "$T/header.db"
printf 'this is no header' | dd of="$T/header.db" bs=1 conv=notrunc 2>/dev/null
"$HH" db check --db "$T/header.db" >"$T/out" 2>&1
equals "check: a clobbered header exits 2" 2 $?
contains "... not a SQLite database" "$T/out" "not a SQLite database"

sqlite3 "$T/foreign.db" "CREATE TABLE customers (id INTEGER); INSERT INTO customers VALUES (1);"
"$HH" db check --db "$T/foreign.db" >"$T/out" 2>&1
equals "check: a foreign database exits 2" 2 $?
contains "... not hedgehog's" "$T/out" "not a hedgehog database (it has 1 table(s), e.g. 'customers'"
"$W" write --db "$T/foreign.db" --run 1 --count 3 >/dev/null 2>"$T/out"
equals "the writer refuses a foreign database (exit 2)" 2 $?
equals "... and leaves it as it was" "customers" \
    "$(sqlite3 "$T/foreign.db" "SELECT group_concat(name) FROM sqlite_master")"
equals "... with no file of ours next to it" "" "$(ls "$T" | grep '^foreign.db-')"

cp "$T/base.db" "$T/newer.db"
sqlite3 "$T/newer.db" "PRAGMA user_version = 7"
"$HH" db check --db "$T/newer.db" >"$T/out" 2>&1
equals "check: a newer schema exits 2" 2 $?
contains "... upgrade hedgehog" "$T/out" \
    "database schema version 7 is newer than this hedgehog (6): upgrade hedgehog"
"$W" write --db "$T/newer.db" --run 1 --count 3 >/dev/null 2>"$T/out"
equals "the writer refuses a newer schema (exit 2)" 2 $?

check_exit "check: a missing file exits 2" 2 "$HH" db check --db "$T/nope.db"
check_exit "check: bad usage exits 2" 2 "$HH" db check --database "$T/base.db"

# ---- a full disk ------------------------------------------------------------------------
# (1) a size cap: SQLITE_FULL from max_page_count.
"$W" write --db "$T/full.db" --run 1 --count 1000000 --max-pages 60 >"$T/full.acked" 2>"$T/out"
equals "a full database fails the writer (exit 1)" 1 $?
contains "... saying the disk is full, naming the file" "$T/out" "$T/full.db"
contains "... database or disk is full" "$T/out" "database or disk is full"
check "... every acked unit is there, no half group" \
    "$W" check --db "$T/full.db" --run 1 --acked "$T/full.acked"
check "... and the database passes db check" "$HH" db check --db "$T/full.db"
check "... and takes writes again once there is room" \
    "$W" write --db "$T/full.db" --run 2 --count 30

# (2) a real full file system: a 1 MiB tmpfs, when this machine lets us mount.
mkdir "$T/mnt"
trap 'umount "$T/mnt" 2>/dev/null; rm -rf "$T"' EXIT INT TERM
if mount -t tmpfs -o size=1m tmpfs "$T/mnt" 2>/dev/null; then
    "$W" write --db "$T/mnt/f.db" --run 1 --count 1000000 >"$T/tmpfs.acked" 2>"$T/out"
    equals "a full tmpfs fails the writer (exit 1)" 1 $?
    if grep -qE "full|No space" "$T/out"; then ok "... saying the disk is full"
    else not_ok "... saying the disk is full"; sed 's/^/    /' "$T/out"; fi
    check "... every acked unit is there, chain ok, no half group" \
        "$W" check --db "$T/mnt/f.db" --run 1 --acked "$T/tmpfs.acked"
    umount "$T/mnt"
else
    ok "full tmpfs # SKIP mount not permitted here"
fi

# ---- a read-only directory ------------------------------------------------------------------
# As nobody when root.  nobody may not reach the checkout at all (a private directory,
# such as one mktemp -d made): it runs copies of the programs, in $T.
mkdir -p "$T/pub/ro" "$T/pub/bin"
"$HH" db backup --db "$T/base.db" --to "$T/pub/src.db" >/dev/null 2>&1
cp "$HH" "$W" "$T/pub/bin/"
chmod -R a+rX "$T/pub"; chmod 0755 "$T"; chmod 0555 "$T/pub/ro"; chmod 0644 "$T/pub/src.db"
AS=""
if [ "$(id -u)" -eq 0 ]; then AS="setpriv --reuid=65534 --regid=65534 --clear-groups"; fi
$AS "$T/pub/bin/store_crashwriter" write --db "$T/pub/ro/new.db" --run 1 --count 3 \
    >/dev/null 2>"$T/out"
equals "the writer refuses a read-only directory (exit 2)" 2 $?
contains "... saying so" "$T/out" "is the directory writable?"
equals "... and creates nothing there" "" "$(ls "$T/pub/ro")"
$AS "$T/pub/bin/hedgehog" db backup --db "$T/pub/src.db" --to "$T/pub/ro/b.db" >"$T/out" 2>&1
equals "backup into a read-only directory fails (exit 1)" 1 $?
contains "... naming the file" "$T/out" "$T/pub/ro/b.db"
equals "... and leaves nothing behind" "" "$(ls "$T/pub/ro")"
chmod 0755 "$T/pub/ro"
exit 0
