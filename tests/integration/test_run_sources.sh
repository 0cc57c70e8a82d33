#!/bin/sh
# `hedgehog run` follows its inputs like tail -F (SPEC §10a), end to end on
# the real binary:
#   - a signals file truncated, replaced (mv) or truncated and written again
#     longer while running is read again from line 1 (source_rotated), ids
#     already seen stay DUPLICATE;
#   - a ticks or bars file replaced or truncated while running is read again
#     from its first row (source_rotated): a new day's data under the same
#     name is traded;
#   - on restart a file resumes at its recorded line only when it is the
#     same file (first line identical, that many lines); a new day's files
#     under the same names are read whole (source_new): nothing skipped;
#   - no line waits behind another: a future `ts` typo is FUTURE_TIMESTAMP
#     at once and the lines after it trade; a line whose received_at is
#     earlier arrives before an earlier line's later received_at.
# Each run replays at most a few minutes of data at speed 60-600 and stops
# itself at the end of its data (timeout as a backstop).
. "$HH_ROOT/tests/integration/lib.sh"
hh_setup_tmp
cd "$T" || exit 1
q() { sqlite3 "$1" "$2"; }

cat > instruments.csv <<'EOF'
symbol,exchange,type,underlying,expiry,strike,option_type,lot_size,tick_size,freeze_qty
XYZ,NSE,EQ,XYZ,,,,1,0.05,
AAA,NSE,EQ,AAA,,,,1,0.05,
EOF
cat > c.yaml <<'EOF'
instruments: instruments.csv
risk: {max_open_trades: 2}
entry: {mode: touch}
exits: {squareoff: null}
EOF

# ticks FILE DAY SECONDS: one flat tick a second per symbol from 09:15 on 2025-01-DAY
ticks() {
    awk -v d="$2" -v n="$3" 'BEGIN {
        print "ts,symbol,price,qty"
        for (s = 0; s < n; s++) {
            t = 9 * 3600 + 15 * 60 + s
            printf "2025-01-%sT%02d:%02d:%02d+05:30,XYZ,100.00,100\n", d, t / 3600, t / 60 % 60, t % 60
            printf "2025-01-%sT%02d:%02d:%02d+05:30,AAA,200.00,100\n", d, t / 3600, t / 60 % 60, t % 60
        }
    }' > "$1"
}
# bars FILE DAY MINUTES: flat one-minute bars of both symbols
bars() {
    awk -v d="$2" -v n="$3" 'BEGIN {
        print "ts,symbol,open,high,low,close,volume"
        for (m = 0; m < n; m++) {
            t = 9 * 60 + 15 + m
            printf "2025-01-%sT%02d:%02d:00+05:30,XYZ,100,100.5,99.5,100,1000\n", d, t / 60, t % 60
            printf "2025-01-%sT%02d:%02d:00+05:30,AAA,200,200.5,199.5,200,1000\n", d, t / 60, t % 60
        }
    }' > "$1"
}
# sig ID TS [SYMBOL [EXTRA]]: a BUY at 100 (touch: enters on the next tick)
sig() {
    sym=${3:-XYZ}; px=100; [ "$sym" = AAA ] && px=200
    printf '{"id":"%s","ts":"%s","symbol":"%s","side":"BUY","entry":%s,"stop":%s,"targets":[%s],"lots":1%s}\n' \
        "$1" "$2" "$sym" "$px" $((px - 1)) $((px + 2)) "${4:-}"
}
# until_log FILE TEXT: wait (at most 10 s) until FILE has TEXT
until_log() {
    i=0
    while [ $i -lt 100 ] && ! grep -qF -- "$2" "$1" 2>/dev/null; do sleep 0.1; i=$((i + 1)); done
}
run_bg() {   # run_bg DB LOG ARGS...: hedgehog run in the background, $pid
    db=$1 log=$2; shift 2
    timeout 60 "$HH" run --config c.yaml --mode paper --db "$db" "$@" 2>"$log" &
    pid=$!
}
entered() { q "$1" "SELECT count(*) FROM fills WHERE reason = 'ENTRY' AND signal_id = '$2'"; }

# ---- signals truncated while running ---------------------------------------------
ticks t.csv 02 300
{ sig a1 2025-01-02T09:15:01+05:30; sig a2 2025-01-02T09:15:02+05:30 AAA; } > trunc.jsonl
run_bg trunc.db trunc.log --ticks t.csv --speed 60 --signals trunc.jsonl
until_log trunc.log '"id=a2 line=2'
: > trunc.jsonl
sleep 0.3
{ sig a1 2025-01-02T09:15:00+05:30; sig b1 2025-01-02T09:15:00+05:30 AAA; } >> trunc.jsonl
wait "$pid"
equals "truncated: the run exits 0" 0 $?
contains "truncated: source_rotated names the file" trunc.log \
    '"event":"source_rotated","correlation_id":null,"msg":"trunc.jsonl: truncated or replaced'
equals "truncated: the new first line is read (its repeated id DUPLICATE)" \
    "1|a1|REJECTED|DUPLICATE" \
    "$(q trunc.db "SELECT line, signal_id, decision, reason FROM signals WHERE id = 3")"
equals "truncated: the new second line is accepted" "2|b1|ACCEPTED" \
    "$(q trunc.db "SELECT line, signal_id, decision FROM signals WHERE signal_id = 'b1'")"
equals "truncated: every line recorded once (4 lines)" 4 "$(q trunc.db 'SELECT count(*) FROM signals')"

# ---- signals replaced (mv) while running -------------------------------------------
sig m1 2025-01-02T09:15:01+05:30 > mv.jsonl
run_bg mv.db mv.log --ticks t.csv --speed 60 --signals mv.jsonl
until_log mv.log '"id=m1 line=1'
sig m2 2025-01-02T09:15:00+05:30 AAA > mv.new
mv mv.new mv.jsonl
wait "$pid"
contains "replaced: source_rotated" mv.log '"event":"source_rotated"'
equals "replaced: the new file's line 1 is taken and entered" "1|1|1" \
    "$(q mv.db "SELECT line, decision = 'ACCEPTED' FROM signals WHERE signal_id = 'm2'")|$(entered mv.db m2)"

# ---- truncated and written again longer between two looks (same inode) ----------
sig w1 2025-01-02T09:15:01+05:30 > rw.jsonl
run_bg rw.db rw.log --ticks t.csv --speed 60 --signals rw.jsonl
until_log rw.log '"id=w1 line=1'
{ sig w2-a-much-longer-identifier 2025-01-02T09:15:00+05:30 AAA; sig w3 2025-01-02T09:15:00+05:30; } \
    > rw.new
cat rw.new > rw.jsonl   # one truncate, then more bytes than before
wait "$pid"
contains "rewritten longer: source_rotated" rw.log '"event":"source_rotated"'
equals "rewritten longer: read from its first line, no fragment" \
    "w1:1:ACCEPTED w2-a-much-longer-identifier:1:ACCEPTED w3:2:ACCEPTED" \
    "$(q rw.db "SELECT group_concat(coalesce(signal_id, 'null') || ':' || line || ':' || decision, ' ')
                FROM (SELECT * FROM signals ORDER BY id)")"

# ---- market data replaced (mv) while running: the new day's rows are traded --------
ticks day1.csv 02 600
ticks day2.csv 03 60
cp day1.csv md.csv
{ sig d1 2025-01-02T09:15:01+05:30; sig d2 2025-01-03T09:15:10+05:30 AAA; } > md.jsonl
run_bg md.db md.log --ticks md.csv --speed 60 --signals md.jsonl
until_log md.log 'reason=ENTRY'
mv day2.csv md.csv
wait "$pid"
equals "ticks replaced: the run exits 0" 0 $?
contains "ticks replaced: source_rotated names the file" md.log \
    '"event":"source_rotated","correlation_id":null,"msg":"md.csv: truncated or replaced'
equals "ticks replaced: the new day's signal entered on the new day's ticks" 1 "$(entered md.db d2)"
equals "ticks replaced: ... at its first tick after 09:15:10 on 2025-01-03" \
    "2025-01-03 09:15:11" \
    "$(q md.db "SELECT datetime(ts / 1000000000, 'unixepoch', '+330 minutes') FROM fills
                WHERE signal_id = 'd2' AND reason = 'ENTRY'")"
contains "ticks replaced: the end of the new file ends the run" md.log \
    '"ts":"2025-01-03T09:15:59+05:30","level":"info","event":"shutdown"'

# ---- market data truncated and written again (same inode) ---------------------------
ticks day2.csv 03 60
cp day1.csv tr.csv
{ sig e1 2025-01-02T09:15:01+05:30; sig e2 2025-01-03T09:15:10+05:30 AAA; } > tr.jsonl
run_bg tr.db tr.log --ticks tr.csv --speed 60 --signals tr.jsonl
until_log tr.log 'reason=ENTRY'
: > tr.csv              # truncated; the new day's rows come a moment later
sleep 0.05
cat day2.csv >> tr.csv
wait "$pid"
contains "ticks truncated: source_rotated" tr.log '"event":"source_rotated"'
equals "ticks truncated: the new day's signal entered" 1 "$(entered tr.db e2)"

# ---- bars replaced while running (between two instants) ------------------------------
bars b1.csv 02 120
bars b2.csv 03 5
cp b1.csv bars.csv
cat > cb.yaml <<'EOF'
instruments: instruments.csv
risk: {max_open_trades: 2}
exits: {squareoff: null}
EOF
{ sig f1 2025-01-02T09:15:00+05:30; sig f2 2025-01-03T09:14:00+05:30 AAA; } > bars.jsonl
timeout 60 "$HH" run --config cb.yaml --mode paper --db bars.db --bars bars.csv --speed 600 \
    --signals bars.jsonl 2>bars.log &
pid=$!
until_log bars.log 'reason=ENTRY'
mv b2.csv bars.csv
wait "$pid"
equals "bars replaced: the run exits 0" 0 $?
contains "bars replaced: source_rotated" bars.log '"event":"source_rotated"'
equals "bars replaced: the new day's bars are traded (its signal entered on 2025-01-03)" \
    "2025-01-03" \
    "$(q bars.db "SELECT date(ts / 1000000000, 'unixepoch', '+330 minutes') FROM fills
                  WHERE signal_id = 'f2' AND reason = 'ENTRY'")"

# ---- restart on a new day's files under the same names: nothing skipped --------------
cat > cr.yaml <<'EOF'
instruments: instruments.csv
risk: {max_open_trades: 2}
entry: {mode: touch}
EOF
ticks day.csv 02 120
{ sig r1 2025-01-02T09:15:01+05:30; sig r2 2025-01-02T09:15:02+05:30 AAA; } > day.jsonl
check "day 1: the run exits 0" "$HH" run --config cr.yaml --mode paper --db day.db \
    --ticks day.csv --speed 0 --signals day.jsonl
ticks day.csv 03 120
{ sig n1 2025-01-03T09:15:01+05:30; sig r1 2025-01-03T09:15:02+05:30 AAA;
  sig n2 2025-01-03T09:15:03+05:30 AAA; } > day.jsonl
"$HH" run --config cr.yaml --mode paper --db day.db --ticks day.csv --speed 0 \
    --signals day.jsonl 2>day2.log
equals "day 2 (same names): the restart exits 0" 0 $?
contains "day 2: the signals file is new (source_new)" day2.log \
    '"event":"source_new","correlation_id":null,"msg":"day.jsonl: not the file'
contains "day 2: the ticks file is new (source_new)" day2.log \
    '"event":"source_new","correlation_id":null,"msg":"day.csv: not the file'
equals "day 2: every line read from line 1 (n1 ACCEPTED, r1 DUPLICATE, n2 ACCEPTED)" \
    "1:n1:ACCEPTED 2:r1:DUPLICATE 3:n2:ACCEPTED" \
    "$(q day.db "SELECT group_concat(line || ':' || signal_id || ':' ||
                 coalesce(reason, decision), ' ') FROM (SELECT * FROM signals WHERE id > 2
                 ORDER BY id)")"
equals "day 2: the whole day's ticks were traded (240 processed)" \
    "240" "$(sed -n 's/.*"engine_stop".*ticks \([0-9]*\),.*/\1/p' day2.log)"
equals "day 2: the new day's signal entered" 1 "$(entered day.db n1)"

# ---- restart on the same first line with fewer lines: a new file ------------------
{ sig n1 2025-01-03T09:15:01+05:30; } > day.jsonl
"$HH" run --config cr.yaml --mode paper --db day.db --ticks day.csv --speed 0 \
    --signals day.jsonl 2>day3.log
contains "fewer lines than recorded: source_new" day3.log \
    '"event":"source_new","correlation_id":null,"msg":"day.jsonl: not the file'
equals "fewer lines: its line 1 is read again (DUPLICATE), not skipped" "1:DUPLICATE" \
    "$(q day.db "SELECT line || ':' || reason FROM signals ORDER BY id DESC LIMIT 1")"

# ---- restart on the same file with lines appended: resumes after the last line --------
sig n3 2025-01-03T09:15:30+05:30 >> day.jsonl
"$HH" run --config cr.yaml --mode paper --db day.db --ticks day.csv --speed 0 \
    --signals day.jsonl 2>day4.log
equals "same file, appended: no source_new for the signals" 0 \
    "$(grep -c '"source_new","correlation_id":null,"msg":"day.jsonl' day4.log)"
equals "same file, appended: only the new line is read" "2:n3:ACCEPTED" \
    "$(q day.db "SELECT group_concat(line || ':' || signal_id || ':' || decision, ' ')
                 FROM (SELECT * FROM signals WHERE id > 6 ORDER BY id)")"

# ---- a future ts (a typo) never blocks the lines after it --------------------------
ticks fut.csv 02 300
: > fut.jsonl
run_bg fut.db fut.log --ticks fut.csv --speed 60 --signals fut.jsonl
until_log fut.log '"event":"reconcile_startup"'
sleep 0.5
sig typo 2025-01-20T09:15:01+05:30 >> fut.jsonl   # the day mistyped
until_log fut.log '"id=typo line=1'
now=$(sed -n 's/.*"ts":"\(2025-01-02T[0-9:]*\).*"id=typo line=1.*/\1/p' fut.log)
sig next "$now+05:30" AAA >> fut.jsonl
wait "$pid"
equals "future ts: the typo is FUTURE_TIMESTAMP at once" "REJECTED|FUTURE_TIMESTAMP" \
    "$(q fut.db "SELECT decision, reason FROM signals WHERE signal_id = 'typo'")"
contains "future ts: ... logged as a rejection" fut.log \
    '"event":"signal_rejected","correlation_id":"typo","msg":"id=typo line=1 reason=FUTURE_TIMESTAMP'
equals "future ts: the line after it was accepted and entered" "ACCEPTED|1" \
    "$(q fut.db "SELECT decision FROM signals WHERE signal_id = 'next'")|$(entered fut.db next)"
equals "future ts: received at the engine time it was read, not at its ts" "2025-01-02" \
    "$(q fut.db "SELECT date(received_at / 1000000000, 'unixepoch', '+330 minutes')
                 FROM signals WHERE signal_id = 'typo'")"

# ---- received_at: a later line received earlier is never held back ----------------
{ sig late 2025-01-02T09:15:00+05:30 XYZ ',"received_at":"2025-01-02T09:16:30+05:30"'
  sig early 2025-01-02T09:15:00+05:30 AAA ',"received_at":"2025-01-02T09:15:40+05:30"'
} > rec.jsonl
{ sig far 2025-01-02T09:15:00+05:30 XYZ ',"received_at":"2025-01-20T09:15:00+05:30"'
  sig after 2025-01-02T09:15:00+05:30 AAA ',"received_at":"2025-01-02T09:16:00+05:30"'
} > rec2.jsonl
check "received_at: the run exits 0" "$HH" run --config c.yaml --mode paper --db rec.db \
    --ticks fut.csv --speed 0 --signals rec.jsonl
equals "received_at: each entered at its first tick after its received_at, in that order" \
    "early 09:15:41 late 09:16:31" \
    "$(q rec.db "SELECT group_concat(signal_id || ' ' || time(ts / 1000000000, 'unixepoch',
                 '+330 minutes'), ' ') FROM (SELECT * FROM fills WHERE reason = 'ENTRY'
                 ORDER BY ts, id)")"
"$HH" run --config c.yaml --mode paper --db rec2.db --ticks fut.csv --speed 0 \
    --signals rec2.jsonl 2>/dev/null
equals "received_at: a line received far in the future holds the next one back not at all" \
    "after 09:16:01" \
    "$(q rec2.db "SELECT signal_id || ' ' || time(ts / 1000000000, 'unixepoch', '+330 minutes')
                  FROM fills WHERE reason = 'ENTRY'")"
