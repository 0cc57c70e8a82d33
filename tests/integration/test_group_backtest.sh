# Multi-leg groups through `hedgehog backtest` (SPEC §8): iron condors and
# credit spreads on the real NIFTY 1-minute bars of June 2024, with option
# bars priced by `hedgehog price-options` (expiry 2024-06-27, the monthly
# expiry then; IV 14 %).  tests/data/group_bt/ has the configs, the signals
# (explicit legs and builder form, a naked strangle and an oversized condor
# that must be rejected) and check_fills.awk, which checks the invariants
# of SPEC §8 on fills.csv, trades.csv and summary.json (see its header).
#
# Runs: the plain run (unlimited liquidity, no faults); a run with a
# latency longer than a bar; the faults config (latency, 0.5 % of each
# bar's volume, 20 % rejections); a sweep of fault seeds.  The invariants
# must hold in every run and groups must roll back (KILL) under faults.
. "$HH_ROOT/tests/integration/lib.sh"
hh_setup_tmp
G=$DATA/group_bt
CHECK=$G/check_fills.awk

STRIKES=22500,22800,23000,23200,23500,23800,24000,24200,24500
check "price-options: option bars for 9 strikes from the June 2024 NIFTY bars" \
    "$HH" price-options --bars "$HH_ROOT/examples/nifty50_1min_2024-06.csv" --underlying NIFTY \
    --expiry 2024-06-27 --strikes "$STRIKES" --iv 0.14 --holidays "$HH_ROOT/examples/holidays.csv" \
    --out "$T/bars.csv" --instruments "$T/instruments.csv"
same_file "the committed instruments.csv is what price-options writes" \
    "$G/instruments.csv" "$T/instruments.csv"

# invariants RUN OUTDIR [awk -v ...]: the checker's TAP lines for one run
invariants() {
    name=$1; dir=$2; shift 2
    awk -v name="$name: " "$@" -f "$CHECK" "$G/instruments.csv" "$T/bars.csv" \
        "$dir/fills.csv" "$dir/trades.csv" "$dir/summary.json"
}

bt() {
    "$HH" backtest --config "$1" --bars "$T/bars.csv" --signals "$G/signals.jsonl" --out "$2"
}

# ---- the plain run --------------------------------------------------------------------
check "plain: backtest runs" bt "$G/config.yaml" "$T/plain"
P=$T/plain
invariants plain "$P"
contains "plain: 8 signals received" "$P/summary.json" '"signals_received": 8,'
contains "plain: the naked strangle and the oversized condor are rejected" "$P/summary.json" \
    '"rejected_by_reason": {"UNHEDGED_GROUP": 1, "MARGIN_WORST_CASE": 1},'
contains "plain: UNHEDGED_GROUP dead letter for the strangle" "$P/rejected.jsonl" \
    '{"id":"ss-0613","line":5,"reason":"UNHEDGED_GROUP"'
contains "plain: MARGIN_WORST_CASE dead letter names the scenario" "$P/rejected.jsonl" \
    '"reason":"MARGIN_WORST_CASE","detail":"worst-case margin '
contains "plain: six groups traded" "$P/summary.json" '"trades": 6,'
contains "plain: group figures in the summary, never an unhedged short" "$P/summary.json" \
    '"groups_filled": 6,'
contains "plain: no unhedged exposure, no hedge needed" "$P/summary.json" \
    '"emergency_hedges": 0,
  "emergency_hedge_qty": 0,
  "max_unhedged_exposure_ms": 0,'
contains "plain: nothing open or waiting at the end" "$P/summary.json" '"waiting_at_end": 0,
  "open_at_end": 0,'
equals "plain: one trade_id per group, the same on every fill of the group" 6 \
    "$(awk -F, 'NR > 1 { print $3, $4 }' "$P/fills.csv" | sort -u | awk '{ print $1 }' | sort -u | wc -l)"
equals "plain: exit reasons per group (explicit legs and builders)" \
    "bc-0612 EXPIRY
bp-0606 TARGET1
bp-0624 EXPIRY
ic-0603 STOP
ic-0610 EXPIRY
ic-0619 TARGET1" "$(awk -F, 'NR > 1 { print $2, $10 }' "$P/trades.csv" | sort)"
equals "plain: entry legs 4 + 2 + 4 + 2 + 4 + 2, all filled at once (unlimited liquidity)" 18 \
    "$(grep -c ',ENTRY,' "$P/fills.csv")"
equals "plain: the condor's long legs fill first (10:01), its short call a bar later" \
    "2024-06-03T10:01:00+05:30 NIFTY24JUN22500PE BUY
2024-06-03T10:01:00+05:30 NIFTY24JUN23000PE SELL
2024-06-03T10:01:00+05:30 NIFTY24JUN24500CE BUY
2024-06-03T10:02:00+05:30 NIFTY24JUN24000CE SELL" \
    "$(awk -F, '$4 == "ic-0603" && $9 == "ENTRY" { print $1, $5, $6 }' "$P/fills.csv")"
contains "plain: the short 23800 CE settles at 236.10 (NIFTY closed 24036.10 on 27 June)" \
    "$P/fills.csv" "2024-06-27T15:30:00+05:30,0,3,ic-0610,NIFTY24JUN23800CE,BUY,25,236.10,EXPIRY,0.00"
contains "plain: the STOP exit of the 3 June condor (the 4 June crash)" "$P/trades.csv" \
    ",ic-0603,NIFTY,SELL,25,2024-06-03T10:01:00+05:30,"
bt "$G/config.yaml" "$T/plain2" >/dev/null 2>&1
for f in fills.csv trades.csv rejected.jsonl; do
    same_file "plain: $f identical on a second run" "$P/$f" "$T/plain2/$f"
done
echo "# plain: $(grep -E '"(trades|wins|losses|gross_pnl|charges|net_pnl|max_drawdown)"' \
    "$P/summary.json" | tr -d ' \n')"

# ---- latency longer than a bar ---------------------------------------------------------------------
# configs resolve paths relative to themselves: variants in $T get absolute ones
mkcfg() {   # mkcfg NAME: $T/NAME.yaml from stdin
    sed -e "s#^instruments: instruments.csv#instruments: $G/instruments.csv#" \
        -e "s#^  holidays: ../holidays.csv#  holidays: $DATA/holidays.csv#" > "$T/$1.yaml"
}
# (exec.leg_timeout_ms as in the faults config: the default 5 s counts from
# the first bar after placement, before a 61 s order has reached the market)
{ cat "$G/config.yaml"; printf 'exec:\n  leg_timeout_ms: 180000\npaper:\n  latency_ms: 61000\n'; } |
    mkcfg latency
check "latency: backtest runs" bt "$T/latency.yaml" "$T/latency"
invariants latency "$T/latency"
equals "latency: orders reach the market 61 s later, so legs fill a bar later (10:02)" \
    "2024-06-03T10:02:00+05:30" \
    "$(awk -F, '$4 == "ic-0603" { print $1; exit }' "$T/latency/fills.csv")"

# ---- faults ---------------------------------------------------------------------------------------------
check "faults: backtest runs" bt "$G/config_faults.yaml" "$T/faults"
F=$T/faults
invariants faults "$F"
equals "faults: some groups roll back (KILL fills)" yes \
    "$(grep -q ',KILL,' "$F/fills.csv" && echo yes || echo no)"
equals "faults: liquidity: no fill above 0.5 % of the bar's 10,000 units" 0 \
    "$(awk -F, 'NR > 1 && $2 != 0 && $7 > 50' "$F/fills.csv" | wc -l)"
equals "faults: partial fills: a 75-unit leg fills in pieces" yes "$(awk -F, '
    $4 == "ic-0619" && $9 == "ENTRY" && $7 < 75 { p = 1 } END { print p ? "yes" : "no" }' "$F/fills.csv")"
equals "faults: a rolled-back group is flat (its KILL fills undo its ENTRY fills)" ok "$(awk -F, '
    NR > 1 { q = ($6 == "BUY" ? $7 : -$7); pos[$3 SUBSEP $5] += q; if ($9 == "KILL") k[$3] = 1 }
    END { for (x in pos) { split(x, a, SUBSEP); if ((a[1] in k) && pos[x] != 0) bad = 1 }
          print bad ? "bad" : "ok" }' "$F/fills.csv")"
bt "$G/config_faults.yaml" "$T/faults2" >/dev/null 2>&1
same_file "faults: seeded, so fills.csv is identical on a second run" "$F/fills.csv" "$T/faults2/fills.csv"

# a sweep of seeds and rejection rates: the invariants hold in every run
kills=0
for seed in 1 2 3 4; do
    for rej in 10 30; do
        sed -e "s/^    seed: .*/    seed: $seed/" -e "s/^    reject_pct: .*/    reject_pct: $rej/" \
            -e "s/^  fill_ratio: .*/  fill_ratio: 0.0025/" "$G/config_faults.yaml" | mkcfg "s$seed-$rej"
        check "sweep seed $seed reject $rej%: backtest runs" bt "$T/s$seed-$rej.yaml" "$T/s$seed-$rej"
        invariants "sweep seed $seed reject $rej%" "$T/s$seed-$rej"
        grep -q ',KILL,' "$T/s$seed-$rej/fills.csv" && kills=$((kills + 1))
    done
done
equals "sweep: groups rolled back in every run" 8 "$kills"

# broker-stream faults the backtest's exchange does not model are said, not ignored silently
{ cat "$G/config.yaml"; printf 'paper:\n  faults:\n    timeout_pct: 5\n'; } | mkcfg note
bt "$T/note.yaml" "$T/note" >/dev/null 2>"$T/note.err"
contains "unmodelled faults (timeout_pct) are named on stderr" "$T/note.err" "no effect in backtests"

# ---- the trader's example (examples/condor.yaml, docs/OPTIONS_BACKTEST.md) ---------------------------------
same_file "example: price-options writes examples/instruments_nifty_options_2024-06.csv" \
    "$HH_ROOT/examples/instruments_nifty_options_2024-06.csv" "$T/instruments.csv"
check "example: backtest runs" "$HH" backtest --config "$HH_ROOT/examples/condor.yaml" \
    --bars "$T/bars.csv" --signals "$HH_ROOT/examples/signals_condors_2024-06.jsonl" --out "$T/example"
invariants example "$T/example"
contains "example: all six groups accepted and closed" "$T/example/summary.json" '"trades": 6,'

# ---- the checker catches what it should --------------------------------------------------------------------
# mutate the plain run's files; each mutation must fail its check
mutant() {   # mutant DESC EXPECTED-NOT-OK-TEXT: run the checker on $T/m
    invariants m "$T/m" >"$T/m.out"
    if grep -qF "not ok - m: $2" "$T/m.out"; then ok "checker: $1"; else
        not_ok "checker: $1 (no 'not ok - m: $2')"; sed 's/^/    /' "$T/m.out" | head -20; fi
}
mk_m() { rm -rf "$T/m"; cp -r "$P" "$T/m"; }
mk_m; grep -v 'ic-0603,NIFTY24JUN22500PE,BUY,25,95.05,ENTRY' "$P/fills.csv" > "$T/m/fills.csv"
mutant "a short filled without its protection" "per group and bucket, short never above long"
mk_m; awk -F, '$4 == "ic-0603" && $9 == "STOP" && $5 == "NIFTY24JUN23000PE" { held = $0; next }
    { print } held != "" && $4 == "ic-0603" && $5 == "NIFTY24JUN24500CE" { print held; held = "" }' \
    "$P/fills.csv" > "$T/m/fills.csv"
mutant "a long sold before the shorts are closed" "on exits, shorts are closed before longs"
mk_m; sed 's/NIFTY24JUN23800CE,BUY,25,236.10,EXPIRY/NIFTY24JUN23800CE,BUY,25,236.00,EXPIRY/' \
    "$P/fills.csv" > "$T/m/fills.csv"
mutant "a settlement away from intrinsic value" "EXPIRY fills at intrinsic value"
mk_m; sed 's/^  "net_pnl": .*/  "net_pnl": 1.00,/' "$P/summary.json" > "$T/m/summary.json"
mutant "a summary that disagrees with trades.csv" "summary.json agrees with trades.csv"
mk_m; sed 's/^  "open_at_end": .*/  "open_at_end": 18446744073709551615,/' "$P/summary.json" \
    > "$T/m/summary.json"
mutant "an open_at_end that underflowed" "summary open_at_end counts the groups left open"
