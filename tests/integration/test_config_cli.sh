# `hedgehog config`: the printed defaults, the README's blocks and the
# refusals.  The README's YAML blocks under "## Configuration" must each load
# as pasted and, put together, be exactly `config --defaults` — so the
# documented defaults are the table's and cannot drift.  Bad files are
# refused with exit 2 naming the file, the line and the key.
. "$HH_ROOT/tests/integration/lib.sh"
hh_setup_tmp
EX=$HH_ROOT/examples

# A directory with the reference files a pasted block names.
mkdir "$T/c"
cp "$EX/instruments.csv" "$EX/holidays.csv" "$T/c/"

check "config --defaults exits 0" sh -c '"$HH" config --defaults > "$1"' _ "$T/defaults.yaml"
contains "the defaults are grouped by section, with comments" "$T/defaults.yaml" \
    "risk:
  risk_per_trade: 0.01        # share of equity risked per trade"
cp "$T/defaults.yaml" "$T/c/all.yaml"
equals "the printed defaults load as printed" "ok" "$("$HH" config --check "$T/c/all.yaml" 2>&1)"

# ---- the README's blocks ----------------------------------------------------------------
awk -v dir="$T/c" '
    /^## / { inside = ($0 == "## Configuration") }
    inside && /^```yaml$/ { n++; out = dir "/readme" n ".yaml"; next }
    inside && /^```$/ && out { close(out); out = ""; next }
    out { print > out }
' "$HH_ROOT/README.md"
equals "the README's Configuration section has three YAML blocks" 3 \
    "$(ls "$T/c"/readme*.yaml | wc -l | tr -d ' ')"
for f in "$T/c"/readme*.yaml; do
    equals "README block $(basename "$f" .yaml) loads as pasted" "ok" \
        "$("$HH" config --check "$f" 2>&1)"
done
cat "$T/c"/readme1.yaml "$T/c"/readme2.yaml "$T/c"/readme3.yaml > "$T/readme.yaml"
same_file "the README's blocks are config --defaults (regenerate them from it)" \
    "$T/defaults.yaml" "$T/readme.yaml"

# ---- refusals -----------------------------------------------------------------------------
# refused DESC YAML TEXT: `config --check` exits 2 and says TEXT.
refused() {
    printf '%s\n' "$2" > "$T/c/bad.yaml"
    "$HH" config --check "$T/c/bad.yaml" > "$T/out" 2>&1
    rc=$?
    if [ "$rc" -eq 2 ] && grep -qF -- "$3" "$T/out"; then ok "$1"; else
        not_ok "$1 (exit $rc, wanted 2 and '$3')"; sed 's/^/    /' "$T/out"; fi
}
B=$T/c/bad.yaml
refused "an unknown key names file, line and key" "risk:
  max_lots: 3" "$B:2: key 'risk.max_lots': unknown key"
refused "an unknown nested key" "broker:
  kite:
    token_file: x" "$B:3: key 'broker.kite.token_file': unknown key"
refused "an out-of-range value" "paper:
  faults:
    reject_pct: 101" "$B:3: key 'paper.faults.reject_pct': 101 is out of range"
refused "orders_per_minute below orders_per_second" "broker:
  kite:
    orders_per_second: 20
    orders_per_minute: 15" \
    "$B:4: key 'broker.kite.orders_per_minute' is below 'broker.kite.orders_per_second'"
refused "a negative market_protection below -1" "broker: {kite: {market_protection: -5}}" \
    "key 'broker.kite.market_protection': -5 is out of range"
refused "a bad CIDR" "api:
  allow:
    - 127.0.0.1/32
    - 10.0.0.0/40" "$B:4: key 'api.allow': '10.0.0.0/40' is not a CIDR"
refused "a CIDR with host bits set" "api: {allow: [\"192.168.1.7/24\"]}" \
    "'192.168.1.7/24' has address bits set beyond /24"
refused "http:// off loopback" "broker:
  kite:
    api_url: \"http://api.kite.trade\"" \
    "$B:3: key 'broker.kite.api_url': 'http://api.kite.trade': http:// is allowed only on a loopback host"
refused "ws:// off loopback" "broker: {kite: {ws_url: \"ws://192.168.0.9:9000\"}}" \
    "ws:// is allowed only on a loopback host"
refused "an unknown external action" "paper:
  faults:
    external:
      - {at: \"10:05:00\", action: explode, symbol: NIFTY}" \
    "$B:4: key 'paper.faults.external[0].action': 'explode' is not one of: close_position | cancel_orders | reject_next"
refused "an unknown field of an external action" "paper:
  faults:
    external:
      - {at: \"10:05:00\", action: reject_next, symbol: NIFTY, qty: 1}" \
    "$B:4: key 'paper.faults.external[0].qty': unknown field"
refused "an unknown stop policy" "exits: {stop_orders: trailing}" \
    "key 'exits.stop_orders': 'trailing' is not one of: resting | held"
refused "an unknown charge schedule" "execution:
  fees: nse_fo" "$B:2: key 'execution.fees': unknown schedule 'nse_fo' (known: zero"
refused "both slippage keys non-zero, naming both" "execution:
  slippage_ticks: 1
  slippage_bps: 5" "$B:3: keys 'execution.slippage_ticks' and 'execution.slippage_bps' are both non-zero"
refused "a named instruments file that does not exist" "instruments: nowhere.csv" \
    "$B:1: key 'instruments': $T/c/nowhere.csv: No such file or directory"
equals "both slippage keys, one of them zero, load" "ok" \
    "$(printf 'execution:\n  slippage_ticks: 2\n  slippage_bps: 0\n' > "$T/c/s.yaml";
       "$HH" config --check "$T/c/s.yaml" 2>&1)"
check_exit "config without an option is bad usage" 2 "$HH" config
check_exit "config with both options is bad usage" 2 "$HH" config --defaults --check "$B"
check_exit "config --check of a missing file exits 2" 2 "$HH" config --check "$T/none.yaml"

# ---- instruments.csv and holidays.csv next to the file are the defaults ------------------
mkdir "$T/d"
printf 'capital: 1000000\n' > "$T/d/cfg.yaml"
"$HH" validate --config "$T/d/cfg.yaml" --signals "$EX/signals_pivots_2024-06.jsonl" \
    --out "$T/d/none" > "$T/d/none.txt" 2>&1
contains "without instruments.csv next to it no instruments file is used" "$T/d/none.txt" \
    "names no instruments file"
equals "... and its signals are UNKNOWN_SYMBOL" "$(wc -l < "$T/d/none/rejected.jsonl")" \
    "$(grep -c UNKNOWN_SYMBOL "$T/d/none/rejected.jsonl")"
cp "$EX/instruments.csv" "$EX/holidays.csv" "$T/d/"
"$HH" validate --config "$T/d/cfg.yaml" --signals "$EX/signals_pivots_2024-06.jsonl" \
    --out "$T/d/with" > "$T/d/with.txt" 2>&1
equals "with instruments.csv next to it, the signals know their symbols" "0" \
    "$(grep -c UNKNOWN_SYMBOL "$T/d/with/rejected.jsonl")"
