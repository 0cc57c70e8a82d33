#!/bin/sh
# A database belongs to one run (SPEC §10a), end to end:
#   - `run` refuses (exit 2, naming both) a database first started in
#     another mode, and a backtest's database — saying it is a backtest's;
#     the database is left as it was;
#   - `backtest --db` refuses a database that holds a run, or already a
#     backtest (a second one would duplicate trades and signals), before it
#     touches --out;
#   - on restart a changed configuration file is logged (config_changed,
#     naming the keys that differ) and recorded (CONFIG_LOADED: its SHA-256,
#     its text, the keys changed) and applies from that start — except
#     `capital`, fixed by the first start (capital_fixed).
. "$HH_ROOT/tests/integration/lib.sh"
hh_setup_tmp
cd "$T" || exit 1
q() { sqlite3 "$1" "$2"; }

cat > instruments.csv <<'EOF'
symbol,exchange,type,underlying,expiry,strike,option_type,lot_size,tick_size,freeze_qty
XYZ,NSE,EQ,XYZ,,,,1,0.05,
EOF
cat > c.yaml <<'EOF'
instruments: instruments.csv
entry: {mode: touch}
EOF
awk 'BEGIN { print "ts,symbol,price,qty"
    for (s = 0; s < 120; s++) printf "2025-01-02T09:%02d:%02d+05:30,XYZ,100.00,100\n", 15 + int(s / 60), s % 60 }' \
    > t.csv
echo '{"id":"a","ts":"2025-01-02T09:15:01+05:30","symbol":"XYZ","side":"BUY","entry":100,"stop":99,"targets":[102],"lots":1}' \
    > s.jsonl
run() { "$HH" run --config "$1" --mode "$2" --ticks t.csv --speed 0 --signals s.jsonl --db "$3"; }
bt() { "$HH" backtest --config c.yaml --ticks t.csv --signals s.jsonl --out "$2" --db "$1"; }
audits() { q "$1" 'SELECT count(*) FROM audit'; }

# ---- one mode per database -------------------------------------------------------
check "paper: the first start" run c.yaml paper p.db
n=$(audits p.db)
run c.yaml shadow p.db 2>shadow.err
equals "shadow on a paper database: exit 2" 2 $?
contains "... naming the database's mode and account" shadow.err \
    "p.db: belongs to mode paper, account paper; this run is mode shadow, account paper"
equals "... and leaving the database as it was" "$n" "$(audits p.db)"
equals "... and the paper broker's state too (no shadow book)" "" "$(ls p.db.shadow 2>/dev/null)"
check "paper again on it: fine" run c.yaml paper p.db
equals "the first start recorded the owner" "paper|paper|1000000.0" \
    "$(q p.db "SELECT json_extract(payload, '$.mode'), json_extract(payload, '$.account'),
               json_extract(payload, '$.capital') FROM audit WHERE kind = 'ENGINE_START'
               ORDER BY seq LIMIT 1")"
check "shadow: its own database" run c.yaml shadow sh.db
run c.yaml paper sh.db 2>paper.err
equals "paper on a shadow database: exit 2" 2 $?
contains "... naming both" paper.err "belongs to mode shadow, account paper; this run is mode paper"

# ---- a backtest's database is a backtest's --------------------------------------------
check "backtest --db: the first" bt b.db o1
n=$(audits b.db)
run c.yaml paper b.db 2>runbt.err
equals "run on a backtest's database: exit 2" 2 $?
contains "... saying it is a backtest's" runbt.err "b.db: a backtest's database"
equals "... never 'another build'" 0 "$(grep -c 'another build' runbt.err)"
equals "... the database untouched" "$n" "$(audits b.db)"
bt b.db o2 2>bt2.err
equals "backtest --db twice: exit 2" 2 $?
contains "... it already holds a backtest" bt2.err "b.db: already holds a backtest"
equals "... no second run in it (one ENGINE_START, signals once)" "1|1" \
    "$(q b.db "SELECT (SELECT count(*) FROM audit WHERE kind = 'ENGINE_START'),
               (SELECT count(*) FROM signals)")"
equals "... --out untouched" "" "$(ls o2 2>/dev/null)"
check "... db check still OK" "$HH" db check --db b.db
bt p.db o3 2>bt3.err
equals "backtest --db on a run's database: exit 2" 2 $?
contains "... it holds a run" bt3.err "p.db: already holds a run (mode paper)"

# ---- configuration changed on restart -------------------------------------------------
cat > cfg.yaml <<'EOF'
instruments: instruments.csv
capital: 1000000
entry: {mode: touch}
EOF
check "config: the first start" run cfg.yaml paper cfg.db
sha1=$(sha256sum cfg.yaml | cut -d' ' -f1)
cat > cfg.yaml <<'EOF'
instruments: instruments.csv
capital: 2500000
entry: {mode: touch}
risk: {min_rr: 2.5}
exits: {squareoff: "14:00"}
EOF
sha2=$(sha256sum cfg.yaml | cut -d' ' -f1)
"$HH" run --config cfg.yaml --mode paper --ticks t.csv --speed 0 --signals s.jsonl \
    --db cfg.db --out out2 2>cfg2.log
equals "config changed: the restart exits 0" 0 $?
contains "config changed: logged as config_changed" cfg2.log '"event":"config_changed"'
contains "... naming the keys that differ" cfg2.log \
    "3 key(s) differ: capital risk.min_rr exits.squareoff; they apply from this start"
contains "... with both SHA-256s" cfg2.log "(sha256 $sha1 -> $sha2)"
equals "each start's SHA-256 is recorded (CONFIG_LOADED)" "$sha1 $sha2" \
    "$(q cfg.db "SELECT group_concat(json_extract(payload, '$.sha256'), ' ') FROM
                 (SELECT payload FROM audit WHERE kind = 'CONFIG_LOADED' ORDER BY seq)")"
equals "... with the keys changed" "capital risk.min_rr exits.squareoff" \
    "$(q cfg.db "SELECT json_extract(payload, '$.changed') FROM audit
                 WHERE kind = 'CONFIG_LOADED' ORDER BY seq DESC LIMIT 1")"
equals "... and the file's text" "$(cat cfg.yaml)" \
    "$(q cfg.db "SELECT json_extract(payload, '$.text') FROM audit
                 WHERE kind = 'CONFIG_LOADED' ORDER BY seq DESC LIMIT 1")"
contains "capital: the first start's is kept, and said" cfg2.log \
    '"event":"capital_fixed","correlation_id":null,"msg":"cfg.yaml says capital 2500000.00; the database'"'"'s first start fixed 1000000.00: 1000000.00 applies"'
contains "... the run's summary says the capital applied" out2/summary.json '"capital": 1000000.00'
echo '{"id":"b","ts":"2025-01-02T09:16:00+05:30","symbol":"XYZ","side":"BUY","entry":100,"stop":99,"targets":[102],"lots":1}' \
    >> s.jsonl
"$HH" run --config cfg.yaml --mode paper --ticks t.csv --speed 0 --signals s.jsonl \
    --db cfg.db 2>cfg3.log
equals "the changed keys apply from that start (min_rr 2.5: RR 2 is RR_TOO_LOW)" \
    "REJECTED|RR_TOO_LOW" "$(q cfg.db "SELECT decision, reason FROM signals WHERE signal_id = 'b'")"
equals "the same file again: no config_changed" 0 "$(grep -c '"config_changed"' cfg3.log)"
contains "... capital_fixed still says so" cfg3.log '"event":"capital_fixed"'
printf '# only a comment added\n' >> cfg.yaml
"$HH" run --config cfg.yaml --mode paper --ticks t.csv --speed 0 --signals s.jsonl \
    --db cfg.db 2>cfg4.log
contains "a comment only: changed, but no key differs" cfg4.log \
    "no key's value differs (comments or layout only)"
check "the database is sound after all that" "$HH" db check --db cfg.db
