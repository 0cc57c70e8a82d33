#!/bin/sh
# `hedgehog audit verify` and `hedgehog audit show` on a store database:
# a clean chain verifies; each kind of tampering (edit, re-hash, delete,
# reorder, changed hash, tail truncation, a row appended outside the
# writer) is caught at exactly the record tampered with; an independent
# implementation of the documented hash encoding (Python, when present)
# re-verifies the chain; usage and unreadable files exit 2.
. "$HH_ROOT/tests/integration/lib.sh"
hh_setup_tmp
[ -d "${T:-}" ] || { not_ok "temporary directory"; exit 1; }
W=$HH_BUILD/tools/store_crashwriter

# 30 units: audit seq 1..20 (units 2,3,5,6,8,9,…: one audit row each).
"$W" write --db "$T/base.db" --run 1 --count 30 >/dev/null || { not_ok "fixture"; exit 1; }
sqlite3 "$T/base.db" "PRAGMA wal_checkpoint(TRUNCATE);" >/dev/null

check "verify: a clean chain is OK" "$HH" audit verify --db "$T/base.db"
"$HH" audit verify --db "$T/base.db" >"$T/out" 2>&1
contains "verify prints the count and head" "$T/out" "audit: OK, 20 records, head seq 20 hash "

"$HH" audit show --db "$T/base.db" >"$T/show" 2>&1
equals "show prints one line per row" 20 "$(grep -c '' "$T/show")"
"$HH" audit show --db "$T/base.db" --correlation r1u3 >"$T/show1" 2>&1
equals "show --correlation prints that trade's history" 1 "$(grep -c '' "$T/show1")"
contains "show: seq, IST time, kind, correlation id, payload" "$T/show1" \
    '2 2025-01-02T09:25:00.003+05:30 ORDER_FILLED r1u3 {"order_id":1000000003,"unit":3}'

# tamper NAME SQL: a copy of base.db with SQL applied (triggers dropped
# first, as an attacker would), verified; expect exit 1 and TEXT.
tamper() {
    name=$1 sql=$2 want=$3
    cp "$T/base.db" "$T/$name.db"
    sqlite3 "$T/$name.db" "DROP TRIGGER audit_no_update; DROP TRIGGER audit_no_delete;
                           DROP TRIGGER audit_head_no_delete; $sql" || {
        not_ok "$name: tampering SQL"; return; }
    "$HH" audit verify --db "$T/$name.db" >"$T/$name.out" 2>&1
    rc=$?
    if [ $rc -eq 1 ] && grep -qF -- "$want" "$T/$name.out"; then ok "verify catches $name: $want"
    else not_ok "verify catches $name: wanted exit 1 and '$want', got exit $rc:"
        sed 's/^/    /' "$T/$name.out"; fi
}

tamper edit      "UPDATE audit SET payload = '{\"qty\":5000}' WHERE seq = 5" \
                 "FAILED at seq 5: hash mismatch"
tamper kind      "UPDATE audit SET kind = 'ORDER_CANCELLED' WHERE seq = 12" \
                 "FAILED at seq 12: hash mismatch"
tamper hash      "UPDATE audit SET hash = replace(hash, substr(hash, 1, 1), 'f') WHERE seq = 10" \
                 "FAILED at seq 10: hash mismatch"
tamper prevhash  "UPDATE audit SET prev_hash = (SELECT hash FROM audit WHERE seq = 1) WHERE seq = 4" \
                 "FAILED at seq 4: broken link"
tamper delete    "DELETE FROM audit WHERE seq = 7" \
                 "FAILED at seq 7: record missing: seq 6 is followed by seq 8"
tamper first     "DELETE FROM audit WHERE seq = 1" \
                 "FAILED at seq 1: record missing"
tamper swap      "UPDATE audit SET seq = -3 WHERE seq = 3; UPDATE audit SET seq = 3 WHERE seq = 12;
                  UPDATE audit SET seq = 12 WHERE seq = -3;" \
                 "FAILED at seq 3: broken link"
tamper truncate  "DELETE FROM audit WHERE seq > 15" \
                 "FAILED at seq 16: record missing: records 16..20 cut off the tail"
tamper head      "DELETE FROM audit_head" \
                 "FAILED at seq 21: the audit head record is missing"

if command -v python3 >/dev/null 2>&1 && python3 -c 'import sqlite3, hashlib' 2>/dev/null; then
    # The attacker who knows the encoding: edit row 8 and recompute its hash;
    # the next row's link catches it.  Then an independent verifier of the
    # documented encoding re-walks the clean chain.
    cat >"$T/audit.py" <<'EOF'
import hashlib, sqlite3, struct, sys

def record_hash(seq, at, kind, corr, payload, prev_hex):
    b = b"HHAUDIT1" + struct.pack(">Qq", seq, at)
    for field in (kind, corr, payload):
        f = field.encode("utf-8")
        b += struct.pack(">I", len(f)) + f
    return hashlib.sha256(b + bytes.fromhex(prev_hex)).hexdigest()

db = sqlite3.connect(sys.argv[2])
if sys.argv[1] == "rehash":
    db.execute("DROP TRIGGER audit_no_update")
    seq, at, kind, corr, payload, prev = db.execute(
        "SELECT seq, at, kind, correlation_id, payload, prev_hash FROM audit WHERE seq = 8").fetchone()
    payload = payload.replace("\"unit\":", "\"unit\":9")
    db.execute("UPDATE audit SET payload = ?, hash = ? WHERE seq = 8",
               (payload, record_hash(seq, at, kind, corr, payload, prev)))
    db.commit()
else:
    prev, n = "0" * 64, 0
    for seq, at, kind, corr, payload, prev_hash, h in db.execute(
            "SELECT seq, at, kind, correlation_id, payload, prev_hash, hash FROM audit ORDER BY seq"):
        n += 1
        if seq != n or prev_hash != prev or record_hash(seq, at, kind, corr, payload, prev) != h:
            print("bad at", seq); sys.exit(1)
        prev = h
    head = db.execute("SELECT seq, hash FROM audit_head").fetchone()
    if head != (n, prev):
        print("head mismatch"); sys.exit(1)
    print("python: OK", n)
EOF
    check "an independent verifier (Python) re-walks the chain" python3 "$T/audit.py" verify "$T/base.db"
    cp "$T/base.db" "$T/rehash.db"
    python3 "$T/audit.py" rehash "$T/rehash.db"
    "$HH" audit verify --db "$T/rehash.db" >"$T/rehash.out" 2>&1
    rc=$?
    if [ $rc -eq 1 ] && grep -qF "FAILED at seq 9: broken link" "$T/rehash.out"; then
        ok "an edited and re-hashed row breaks the next link"
    else not_ok "an edited and re-hashed row breaks the next link (exit $rc)"
        sed 's/^/    /' "$T/rehash.out"; fi
else
    ok "independent verifier # SKIP python3 not available"
fi

# Append-only in normal use: the triggers refuse edits.
cp "$T/base.db" "$T/trig.db"
if sqlite3 "$T/trig.db" "UPDATE audit SET payload = 'x' WHERE seq = 1" 2>"$T/trig.err"; then
    not_ok "the audit table refuses UPDATE"
else contains "the audit table refuses UPDATE" "$T/trig.err" "audit is append-only"; fi

check_exit "verify without --db is bad usage" 2 "$HH" audit verify
check_exit "unknown audit subcommand is bad usage" 2 "$HH" audit frobnicate --db "$T/base.db"
check_exit "verify of a missing file exits 2" 2 "$HH" audit verify --db "$T/nope.db"
printf 'not a database at all, just text that is long enough to be a header\n' >"$T/text.db"
"$HH" audit verify --db "$T/text.db" >"$T/text.out" 2>&1
equals "verify of a non-SQLite file exits 2" 2 $?
contains "... saying so" "$T/text.out" "not a SQLite database"
check_exit "show of a missing file exits 2" 2 "$HH" audit show --db "$T/nope.db"
exit 0
