# hedgehog margin (SPEC §9): the worst-case margin check of a group signal.
#
# tests/data/margin/ holds a config, a small instruments CSV with NIFTY and
# BANKNIFTY option contracts, and three groups: an iron condor (explicit
# legs, with ts), a bull put spread (builder form, 2 lots) and a naked
# short straddle (builder form on a weekly expiry, no ts).  The verdict must
# flip with --available around each group's peak requirement; exit 0 for
# OK and REJECT alike, 2 for bad usage and bad input.
. "$HH_ROOT/tests/integration/lib.sh"
T=$(mktemp -d /tmp/hh-it.XXXXXX)
trap 'rm -rf "$T"' EXIT
M=$DATA/margin
CFG=$M/config.yaml

margin() {
    "$HH" margin --config "$CFG" "$@"
}

# json_get FILE EXPR: evaluate a JavaScript expression on the parsed output
# (o); prints "BADJSON" when the file is not one JSON object.
json_get() {
    node -e '
        const fs = require("fs");
        let o;
        try { o = JSON.parse(fs.readFileSync(process.argv[1], "utf8")); }
        catch (e) { console.log("BADJSON"); process.exit(0); }
        console.log(String(eval(process.argv[2])));' "$1" "$2"
}
have_node=false
command -v node >/dev/null 2>&1 && have_node=true

# verdict FILE: the verdict string, without node.
verdict() {
    sed -n 's/^  "verdict": "\([A-Z]*\)".*/\1/p' "$1"
}

# ---- iron condor (explicit legs) -------------------------------------------------
margin --legs "$M/iron_condor.json" --spot 24000 --iv 0.15 --available 100000 >"$T/ic_ok.json" 2>"$T/err"
equals "iron condor, enough margin: exit 0" 0 "$?"
equals "iron condor, enough margin: OK" OK "$(verdict "$T/ic_ok.json")"
margin --legs "$M/iron_condor.json" --spot 24000 --iv 0.15 --available 80000 >"$T/ic_rej.json" 2>"$T/err"
equals "iron condor, too little margin: exit 0 (the verdict is the answer)" 0 "$?"
equals "iron condor, too little margin: REJECT" REJECT "$(verdict "$T/ic_rej.json")"
contains "reject names the reason" "$T/ic_rej.json" '"reason": "MARGIN_WORST_CASE"'
contains "reject names the scenario" "$T/ic_rej.json" 'worst scenario: price '
contains "as_of from the signal's ts" "$T/ic_ok.json" '"as_of": "2025-01-20T10:00:00+05:30"'
contains "as_of_source ts" "$T/ic_ok.json" '"as_of_source": "ts"'
contains "27 scenarios listed (last one)" "$T/ic_ok.json" '{"price_shock": 0.03, "iv_shift": 0.5, "spread_mult": 2, "loss": '
contains "exposure margin: 2% of 24000 x 75 on two shorts" "$T/ic_ok.json" '"exposure_margin": 72000.00'
contains "execution order: longs first" "$T/ic_ok.json" \
    '"execution_order": ["NIFTY25JAN23500PE", "NIFTY25JAN24500CE", "NIFTY25JAN23700PE", "NIFTY25JAN24300CE"]'
contains "margin buffer from the config" "$T/ic_ok.json" '"margin_buffer": 0.9,'
contains "limit = 90% of available" "$T/ic_ok.json" '"limit": 90000.00,'

if $have_node; then
    equals "output is one JSON object" object "$(json_get "$T/ic_ok.json" 'typeof o')"
    equals "27 scenarios" 27 "$(json_get "$T/ic_ok.json" 'o.scenarios.length')"
    equals "worst case is the largest scenario loss" true \
        "$(json_get "$T/ic_ok.json" 'o.worst_case.loss === Math.max(...o.scenarios.map(s => s.loss))')"
    equals "every shock combination once" 27 \
        "$(json_get "$T/ic_ok.json" 'new Set(o.scenarios.map(s => [s.price_shock, s.iv_shift, s.spread_mult].join())).size')"
    equals "required = worst loss + exposure" true \
        "$(json_get "$T/ic_ok.json" 'Math.abs(o.required_margin - (o.worst_case.loss + o.exposure_margin)) < 0.005')"
    equals "peak margin >= every step" true \
        "$(json_get "$T/ic_ok.json" 'o.peak_margin.steps.every(s => s.required <= o.peak_margin.margin)')"
    equals "verdict consistent with peak and limit" true \
        "$(json_get "$T/ic_rej.json" 'o.peak_margin.margin > o.limit && o.verdict === "REJECT"')"
    equals "payoff: iron condor breakevens" 2 "$(json_get "$T/ic_ok.json" 'o.payoff.breakevens.length')"
else
    not_ok "node is needed to parse the JSON output (scripts/deps.sh installs it)"
fi

# Same input, same output; --iv as a percentage is the same volatility.
margin --legs "$M/iron_condor.json" --spot 24000 --iv 15% --available 100000 >"$T/ic_pct.json" 2>&1
same_file "--iv 15% equals --iv 0.15, byte for byte" "$T/ic_ok.json" "$T/ic_pct.json"

# ---- bull put (builder form) ---------------------------------------------------------
margin --legs "$M/bull_put.json" --spot 24000 --iv 0.15 --available 120000 \
    --as-of 2025-01-29T09:15:00+05:30 >"$T/bp_ok.json" 2>&1
equals "bull put, enough margin: OK" OK "$(verdict "$T/bp_ok.json")"
margin --legs "$M/bull_put.json" --spot 24000 --iv 0.15 --available 100000 \
    --as-of 2025-01-29T09:15:00+05:30 >"$T/bp_rej.json" 2>&1
equals "bull put, too little margin: REJECT" REJECT "$(verdict "$T/bp_rej.json")"
contains "bull put: as_of from --as-of" "$T/bp_ok.json" '"as_of_source": "--as-of"'
contains "bull put: built legs (sell the higher put)" "$T/bp_ok.json" \
    '"symbol": "NIFTY25JAN23700PE", "side": "SELL", "lots": 2, "qty": 150'
contains "bull put: a credit spread" "$T/bp_ok.json" '"hedged": true'
if $have_node; then
    equals "bull put: credit (net premium > 0)" true "$(json_get "$T/bp_ok.json" 'o.payoff.net_premium > 0')"
    equals "bull put: bounded loss" false "$(json_get "$T/bp_ok.json" 'o.payoff.loss_unbounded')"
fi

# ---- naked short straddle --------------------------------------------------------------
margin --legs "$M/short_straddle.json" --spot 24000 --iv 0.15 --available 140000 >"$T/ss_ok.json" 2>&1
equals "straddle, enough margin: exit 0" 0 "$?"
equals "straddle, enough margin: OK" OK "$(verdict "$T/ss_ok.json")"
margin --legs "$M/short_straddle.json" --spot 24000 --iv 0.15 --available 120000 >"$T/ss_rej.json" 2>&1
equals "straddle, too little margin: REJECT" REJECT "$(verdict "$T/ss_rej.json")"
contains "straddle: reported naked" "$T/ss_ok.json" '"naked_qty": 150'
contains "straddle: default as_of = 09:15 the trading day before expiry" "$T/ss_ok.json" \
    '"as_of": "2025-01-22T09:15:00+05:30"'
contains "straddle: as_of_source default" "$T/ss_ok.json" '"as_of_source": "default"'
contains "straddle: weekly symbols" "$T/ss_ok.json" '"symbol": "NIFTY2512324000CE"'
if $have_node; then
    equals "straddle: unbounded loss" true "$(json_get "$T/ss_ok.json" 'o.payoff.loss_unbounded && o.payoff.max_loss === null')"
    equals "straddle worse than the condor" true \
        "$(json_get "$T/ss_ok.json" "o.worst_case.loss > $(json_get "$T/ic_ok.json" 'o.worst_case.loss')")"
fi
# --rate: F = S e^(rT), printed back.
margin --legs "$M/short_straddle.json" --spot 24000 --iv 0.15 --available 140000 --rate 7% >"$T/ss_r.json" 2>&1
contains "--rate 7% accepted" "$T/ss_r.json" '"rate": 0.07,'
check_exit "--rate 200%: exit 2" 2 margin --legs "$M/short_straddle.json" --spot 24000 --iv 0.15 --available 1 --rate 200%

# ---- exit 2: usage and input -------------------------------------------------------------
check_exit "no arguments: exit 2" 2 "$HH" margin
check_exit "missing --available: exit 2" 2 margin --legs "$M/iron_condor.json" --spot 24000 --iv 0.15
check_exit "unknown option: exit 2" 2 margin --legs "$M/iron_condor.json" --spot 24000 --iv 0.15 --available 1 --foo 1
check_exit "--iv 15 (not a fraction): exit 2" 2 margin --legs "$M/iron_condor.json" --spot 24000 --iv 15 --available 1
check_exit "--iv abc: exit 2" 2 margin --legs "$M/iron_condor.json" --spot 24000 --iv abc --available 1
check_exit "--spot 0: exit 2" 2 margin --legs "$M/iron_condor.json" --spot 0 --iv 0.15 --available 1
check_exit "--available -5: exit 2" 2 margin --legs "$M/iron_condor.json" --spot 24000 --iv 0.15 --available -5
check_exit "--as-of without offset: exit 2" 2 margin --legs "$M/iron_condor.json" --spot 24000 --iv 0.15 --available 1 --as-of 2025-01-20T10:00
check_exit "missing legs file: exit 2" 2 margin --legs "$T/nope.json" --spot 24000 --iv 0.15 --available 1
check_exit "bad config: exit 2" 2 "$HH" margin --config "$T/nope.yaml" --legs "$M/iron_condor.json" --spot 24000 --iv 0.15 --available 1

printf '{"type":"GROUP","legs":[' >"$T/broken.json"
margin --legs "$T/broken.json" --spot 24000 --iv 0.15 --available 1 >"$T/out" 2>"$T/err"
equals "invalid JSON: exit 2" 2 "$?"
contains "invalid JSON: message names the file and reason" "$T/err" "broken.json: PARSE_ERROR"

printf '{"type":"GROUP","legs":[{"symbol":"NIFTY25JAN23550PE","side":"BUY"}]}' >"$T/unknown.json"
margin --legs "$T/unknown.json" --spot 24000 --iv 0.15 --available 1 >"$T/out" 2>"$T/err"
equals "unknown symbol: exit 2" 2 "$?"
contains "unknown symbol: named" "$T/err" "UNKNOWN_SYMBOL: leg 1: unknown symbol NIFTY25JAN23550PE"

printf '{"type":"GROUP","legs":[{"symbol":"NIFTY25JAN23500PE","side":"BUY","lots":"x"}]}' >"$T/badlots.json"
margin --legs "$T/badlots.json" --spot 24000 --iv 0.15 --available 1 >"$T/out" 2>"$T/err"
equals "bad field: exit 2" 2 "$?"
contains "bad field: named" "$T/err" "BAD_TYPE: leg 1: field 'lots'"

margin --legs "$M/iron_condor.json" --spot 24000 --iv 0.15 --available 1 --as-of 2025-02-03T10:00:00+05:30 >"$T/out" 2>"$T/err"
equals "expired group: exit 2" 2 "$?"
contains "expired group: named" "$T/err" "INSTRUMENT_EXPIRED"
