# hedgehog validate (SPEC §6): dead letters and accepted lines compared byte
# for byte with expected files, the summary line, and the exit codes.
#
# tests/data/signals_validate.jsonl has one line per reason code of SPEC §4
# (but SIZE_TOO_SMALL), blank lines, a CRLF line and a last line without a
# newline; tests/data/validate/config.yaml points at the shared instrument
# and holiday tables.
. "$HH_ROOT/tests/integration/lib.sh"
hh_setup_tmp
CFG=$DATA/validate/config.yaml
SIG=$DATA/signals_validate.jsonl
EXP=$DATA/validate/signals_validate

# ---- the main file --------------------------------------------------------
"$HH" validate --config "$CFG" --signals "$SIG" --out "$T/a/b" >"$T/stdout" 2>"$T/stderr"
rc=$?
equals "validate exits 0" 0 "$rc"
equals "last stdout line" "accepted 7 rejected 29" "$(tail -n 1 "$T/stdout")"
same_file "rejected.jsonl matches" "$EXP.rejected.expected.jsonl" "$T/a/b/rejected.jsonl"
same_file "accepted.jsonl matches" "$EXP.accepted.expected.jsonl" "$T/a/b/accepted.jsonl"

# Every dead letter is one JSON object with the keys in order.
bad=$(grep -cv '^{"id":\(null\|"[A-Za-z0-9._:-]*"\),"line":[0-9]*,"reason":"[A-Z_]*","detail":".*","received_at":\(null\|"[^"]*"\)}$' \
      "$T/a/b/rejected.jsonl")
equals "dead letters have the SPEC §4 shape" 0 "$bad"

# Same input, same output (determinism), into an existing directory.
"$HH" validate --config "$CFG" --signals "$SIG" --out "$T/a/b" >/dev/null 2>&1
same_file "second run is byte-identical" "$EXP.rejected.expected.jsonl" "$T/a/b/rejected.jsonl"

# ---- stdin, over-long lines, an empty file -----------------------------------
# Lines over 1 MiB are PARSE_ERROR whether or not the reader buffered them.
{
    head -n 1 "$SIG"
    awk 'BEGIN { printf "{\"id\":\""; for (i = 0; i < 1100000; i++) printf "x"; print "\"}" }'
    awk 'BEGIN { printf "{\"id\":\""; for (i = 0; i < 3000000; i++) printf "x"; print "\"}" }'
    printf '{"id":"after-long","ts":"2025-01-02T10:00:00+05:30","symbol":"RELIANCE","side":"BUY","entry":4120,"stop":4100,"targets":[4150]}\n'
} >"$T/long.jsonl"
"$HH" validate --config "$CFG" --signals - --out "$T/long" <"$T/long.jsonl" >"$T/stdout" 2>&1
equals "over-long line: exit 0" 0 "$?"
equals "over-long line: summary" "accepted 2 rejected 2" "$(tail -n 1 "$T/stdout")"
equals "over-long lines: PARSE_ERROR dead letters with their numbers" \
    '{"id":null,"line":2,"reason":"PARSE_ERROR","detail":"line longer than 1048576 bytes","received_at":null}
{"id":null,"line":3,"reason":"PARSE_ERROR","detail":"line longer than 1048576 bytes","received_at":null}' \
    "$(cat "$T/long/rejected.jsonl")"

: >"$T/empty.jsonl"
"$HH" validate --config "$CFG" --signals "$T/empty.jsonl" --out "$T/empty" >"$T/stdout" 2>&1
equals "empty file: exit 0" 0 "$?"
equals "empty file: summary" "accepted 0 rejected 0" "$(tail -n 1 "$T/stdout")"
equals "empty file: outputs exist and are empty" "00" \
    "$(wc -c <"$T/empty/accepted.jsonl" | tr -d ' ')$(wc -c <"$T/empty/rejected.jsonl" | tr -d ' ')"

# ---- exit 2 ---------------------------------------------------------------------
check_exit "no arguments: exit 2" 2 "$HH" validate
check_exit "missing --signals: exit 2" 2 "$HH" validate --config "$CFG" --out "$T/x"
check_exit "missing --out: exit 2" 2 "$HH" validate --config "$CFG" --signals "$SIG"
check_exit "missing --config: exit 2" 2 "$HH" validate --signals "$SIG" --out "$T/x"
check_exit "unknown option: exit 2" 2 "$HH" validate --config "$CFG" --signals "$SIG" --out "$T/x" --fast
check_exit "option without value: exit 2" 2 "$HH" validate --config "$CFG" --signals "$SIG" --out
check_exit "unreadable signals file: exit 2" 2 "$HH" validate --config "$CFG" --signals "$T/nope.jsonl" --out "$T/x"
check_exit "unreadable config: exit 2" 2 "$HH" validate --config "$T/nope.yaml" --signals "$SIG" --out "$T/x"

printf 'risk:\n  min_rr: 1.5\n  min_rrr: 2\n' >"$T/badkey.yaml"
"$HH" validate --config "$T/badkey.yaml" --signals "$SIG" --out "$T/x" >/dev/null 2>"$T/err"
equals "unknown config key: exit 2" 2 "$?"
contains "unknown config key: message names the key" "$T/err" "min_rrr"
contains "unknown config key: message names the file" "$T/err" "badkey.yaml"

printf 'instruments: missing.csv\n' >"$T/badinst.yaml"
check_exit "missing instruments file: exit 2" 2 "$HH" validate --config "$T/badinst.yaml" --signals "$SIG" --out "$T/x"

: >"$T/file"
check_exit "output path is a file: exit 2" 2 "$HH" validate --config "$CFG" --signals "$SIG" --out "$T/file"
check_exit "output below a file: exit 2" 2 "$HH" validate --config "$CFG" --signals "$SIG" --out "$T/file/sub"

# ---- exit 1: a write error during the run ---------------------------------------
if [ -w /dev/full ]; then
    mkdir -p "$T/full"
    ln -sf /dev/full "$T/full/rejected.jsonl"
    check_exit "write error mid-run: exit 1" 1 "$HH" validate --config "$CFG" --signals "$SIG" --out "$T/full"
fi
