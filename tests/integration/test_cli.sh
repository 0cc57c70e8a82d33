#!/bin/sh
# The command line itself: `hedgehog --version` / `-V` (version and build
# id, exit 0); `--help` everywhere (the usage on stdout, exit 0); every
# command prints its usage on an argument error (stderr, exit 2); the
# top-level usage lists run's real options; `run --db-sync` works.
. "$HH_ROOT/tests/integration/lib.sh"
hh_setup_tmp
cd "$T" || exit 1

# ---- --version ----------------------------------------------------------------------
for v in --version -V; do
    "$HH" $v >ver.out 2>ver.err
    equals "$v: exit 0" 0 $?
    if grep -Eq '^hedgehog [0-9]+\.[0-9]+\.[0-9]+ \(build [0-9a-f]{40}\)$' ver.out; then
        ok "$v: prints the version and the build id"
    else not_ok "$v: prints '$(cat ver.out)'"; fi
    equals "$v: nothing on stderr" "" "$(cat ver.err)"
done
if command -v readelf >/dev/null 2>&1; then
    equals "the build id is the binary's GNU build-id" \
        "$(readelf -n "$HH" | sed -n 's/.*Build ID: *//p')" \
        "$(sed -n 's/.*(build \(.*\))$/\1/p' ver.out)"
fi

# ---- the top-level usage ---------------------------------------------------------------
check "--help: exit 0" "$HH" --help
"$HH" --help >help.out
for opt in --bars --db-sync --out --log-level; do
    contains "--help: run's usage lists $opt" help.out "hedgehog run --config FILE"
    if grep '^  hedgehog run ' help.out | grep -qF -- "$opt"; then ok "... with $opt"; else
        not_ok "run's line lacks $opt"; fi
done
contains "--help: names --version" help.out "hedgehog --version"
check_exit "no command: exit 2" 2 "$HH"
"$HH" 2>none.err
contains "no command: the usage on stderr" none.err "usage: hedgehog COMMAND"
check_exit "an unknown command: exit 2" 2 "$HH" frobnicate

# ---- every command: --help (stdout, exit 0), an unknown argument (usage, exit 2) ----------
for cmd in backtest run validate candles compare margin price-options config audit kill report db \
    api; do
    "$HH" $cmd --help >h.out 2>h.err
    equals "$cmd --help: exit 0" 0 $?
    contains "$cmd --help: its usage on stdout" h.out "usage: hedgehog $cmd"
    equals "$cmd --help: nothing on stderr" "" "$(cat h.err)"
    "$HH" $cmd --no-such-option x >b.out 2>b.err
    equals "$cmd --no-such-option: exit 2" 2 $?
    contains "$cmd --no-such-option: the usage on stderr" b.err "usage: hedgehog $cmd"
done
for sub in "audit verify" "audit show" "db backup" "db check"; do
    # shellcheck disable=SC2086
    "$HH" $sub --help >h.out 2>&1
    equals "$sub --help: exit 0" 0 $?
    contains "$sub --help: the usage" h.out "usage: hedgehog ${sub%% *}"
done
"$HH" run --config c.yaml --mode paper --help >h.out 2>&1
equals "--help after other options: exit 0" 0 $?
contains "--help after other options: the usage" h.out "usage: hedgehog run"

# ---- argument values: the usage too ------------------------------------------------------
cat > instruments.csv <<'EOF'
symbol,exchange,type,underlying,expiry,strike,option_type,lot_size,tick_size,freeze_qty
XYZ,NSE,EQ,XYZ,,,,1,0.05,
EOF
echo "instruments: instruments.csv" > c.yaml
awk 'BEGIN { print "ts,symbol,price,qty"
    for (s = 0; s < 60; s++) printf "2025-01-02T09:15:%02d+05:30,XYZ,100.00,100\n", s }' > t.csv
: > s.jsonl
bad() {   # bad DESC ARGS...: exit 2 with the usage
    desc=$1; shift
    "$@" >bad.out 2>bad.err
    rc=$?
    if [ $rc -eq 2 ] && grep -q "^usage: hedgehog" bad.err; then ok "$desc: exit 2 with the usage"
    else not_ok "$desc: exit $rc"; sed 's/^/    /' bad.err | head -5; fi
}
bad "run --mode real" "$HH" run --config c.yaml --mode real --ticks t.csv --db r.db
bad "run --speed fast" "$HH" run --config c.yaml --mode paper --ticks t.csv --speed fast --db r.db
bad "run --db-sync sometimes" "$HH" run --config c.yaml --mode paper --ticks t.csv \
    --db-sync sometimes --db r.db
bad "run --log-level loud" "$HH" run --config c.yaml --mode paper --ticks t.csv \
    --log-level loud --db r.db
bad "run without market data" "$HH" run --config c.yaml --mode paper --db r.db
bad "run with --ticks and --bars" "$HH" run --config c.yaml --mode paper --ticks t.csv \
    --bars t.csv --db r.db
bad "run --config without a value" "$HH" run --config
equals "run: a bad argument creates no database" "" "$(ls r.db* 2>/dev/null)"
bad "backtest with --ticks and --bars" "$HH" backtest --config c.yaml --ticks t.csv \
    --bars t.csv --signals s.jsonl --out o
bad "backtest --db-sync without --db" "$HH" backtest --config c.yaml --ticks t.csv \
    --signals s.jsonl --out o --db-sync full
bad "backtest --db-sync sometimes" "$HH" backtest --config c.yaml --ticks t.csv \
    --signals s.jsonl --out o --db b.db --db-sync sometimes
equals "backtest: a bad argument touches no output" "" "$(ls o b.db* 2>/dev/null)"
bad "candles --tf 7m" "$HH" candles --ticks t.csv --tf 7m --out c.csv
for a in "--spot x" "--iv 900" "--available -5" "--rate 3" "--as-of yesterday"; do
    set -- --spot 100 --iv 0.2 --available 1000
    case "$a" in --spot*) set -- --iv 0.2 --available 1000 ;; --iv*) set -- --spot 100 --available 1000 ;;
                 --available*) set -- --spot 100 --iv 0.2 ;; esac
    # shellcheck disable=SC2086
    bad "margin $a" "$HH" margin --config c.yaml --legs none.json "$@" $a
done
bad "config with neither option" "$HH" config
bad "audit without a subcommand" "$HH" audit
bad "db with an unknown subcommand" "$HH" db vacuum

# ---- run --db-sync works --------------------------------------------------------------
"$HH" run --config c.yaml --mode paper --ticks t.csv --speed 0 --signals s.jsonl \
    --db full.db --db-sync full 2>full.log
equals "run --db-sync full: exit 0" 0 $?
contains "run --db-sync full: the start says it" full.log "db_sync=full"
check "run --db-sync full: the database is sound" "$HH" db check --db full.db
