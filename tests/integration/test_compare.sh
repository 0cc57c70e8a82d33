# `hedgehog compare` (SPEC §10b) on small hand-made output directories: a run
# against itself has no difference; a resting-stop run against a held-stop run
# shows each difference trade by trade with its cause, and the totals from
# the summaries; bad input exits 2 naming the file.
. "$HH_ROOT/tests/integration/lib.sh"
hh_setup_tmp
A=$T/resting
B=$T/held
mkdir "$A" "$B"

FH=ts,order_id,trade_id,signal_id,symbol,side,qty,price,reason,charges
TH=trade_id,signal_id,symbol,side,qty,entry_ts,entry_price,exit_ts,avg_exit_price,exit_reason,gross_pnl,charges,net_pnl,r_multiple

# summary DIR TRADES WINS NET DRAWDOWN
summary() {
    printf '{\n  "trades": %s,\n  "wins": %s,\n  "net_pnl": %s,\n  "max_drawdown": %s,\n  "elapsed_s": 0.001\n}\n' \
        "$2" "$3" "$4" "$5" > "$1/summary.json"
}

# The resting run: s1 a target, s2 a stop at its level, s3 squared off, s4 and
# s5 traded here only, s6 a target.
cat > "$A/trades.csv" <<EOF
$TH
1,s1,NIFTY,BUY,75,2024-06-07T09:16:00+05:30,22810.80,2024-06-07T09:59:00+05:30,22957.85,TARGET1,11028.75,150.00,10878.75,1.00
2,s2,NIFTY,BUY,325,2024-06-19T09:32:00+05:30,23570.40,2024-06-19T10:13:00+05:30,23568.31,STOP,-680.00,2086.76,-2766.76,-0.27
3,s3,NIFTY,SELL,75,2024-06-20T09:18:00+05:30,23528.25,2024-06-20T15:15:00+05:30,23566.30,SQUAREOFF,-2853.75,511.74,-3365.49,-0.38
4,s4,NIFTY,BUY,25,2024-06-21T09:20:00+05:30,23500.00,2024-06-21T09:40:00+05:30,23520.00,TARGET1,500.00,10.00,490.00,0.50
5,s5,NIFTY,BUY,25,2024-06-24T09:20:00+05:30,23500.00,2024-06-24T09:40:00+05:30,23520.00,TARGET1,500.00,10.00,490.00,0.50
6,s6,NIFTY,SELL,50,2024-06-25T10:00:00+05:30,23600.00,2024-06-25T10:30:00+05:30,23500.00,TARGET1,5000.00,20.00,4980.00,1.00
EOF
cat > "$A/fills.csv" <<EOF
$FH
2024-06-07T09:16:00+05:30,1,1,s1,NIFTY,BUY,75,22810.80,ENTRY,10.00
2024-06-19T09:32:00+05:30,2,2,s2,NIFTY,BUY,325,23570.40,ENTRY,10.00
2024-06-20T09:18:00+05:30,3,3,s3,NIFTY,SELL,75,23528.25,ENTRY,10.00
2024-06-21T09:20:00+05:30,4,4,s4,NIFTY,BUY,25,23500.00,ENTRY,5.00
2024-06-24T09:20:00+05:30,5,5,s5,NIFTY,BUY,25,23500.00,ENTRY,5.00
2024-06-25T10:00:00+05:30,6,6,s6,NIFTY,SELL,50,23600.00,ENTRY,5.00
EOF
summary "$A" 6 4 9706.50 6132.25

# The held run: s2's stop fills a minute later and lower, s3 is squared off a
# second later, s4 never entered, s5 entered but was still open at the end,
# s6 stopped out instead of reaching its target, s7 traded here only.
cat > "$B/trades.csv" <<EOF
$TH
1,s1,NIFTY,BUY,75,2024-06-07T09:16:00+05:30,22810.80,2024-06-07T09:59:00+05:30,22957.85,TARGET1,11028.75,150.00,10878.75,1.00
2,s2,NIFTY,BUY,325,2024-06-19T09:32:00+05:30,23570.40,2024-06-19T10:14:00+05:30,23550.00,STOP,-6630.00,2100.00,-8730.00,-0.80
3,s3,NIFTY,SELL,75,2024-06-20T09:18:00+05:30,23528.25,2024-06-20T15:15:01+05:30,23567.00,SQUAREOFF,-2906.25,511.80,-3418.05,-0.39
4,s6,NIFTY,SELL,50,2024-06-25T10:00:00+05:30,23600.00,2024-06-25T10:12:00+05:30,23650.00,STOP,-2500.00,20.00,-2520.00,-1.00
5,s7,NIFTY,BUY,25,2024-06-26T09:20:00+05:30,23700.00,2024-06-26T09:50:00+05:30,23720.00,TARGET1,500.00,10.00,490.00,0.50
EOF
cat > "$B/fills.csv" <<EOF
$FH
2024-06-07T09:16:00+05:30,1,1,s1,NIFTY,BUY,75,22810.80,ENTRY,10.00
2024-06-19T09:32:00+05:30,2,2,s2,NIFTY,BUY,325,23570.40,ENTRY,10.00
2024-06-20T09:18:00+05:30,3,3,s3,NIFTY,SELL,75,23528.25,ENTRY,10.00
2024-06-24T09:20:00+05:30,5,5,s5,NIFTY,BUY,25,23500.00,ENTRY,5.00
2024-06-25T10:00:00+05:30,6,6,s6,NIFTY,SELL,50,23600.00,ENTRY,5.00
2024-06-26T09:20:00+05:30,7,7,s7,NIFTY,BUY,25,23700.00,ENTRY,5.00
EOF
summary "$B" 5 2 -3299.30 12250.05

# ---- a run against itself ---------------------------------------------------------------
check "compare A with A exits 0" sh -c '"$HH" compare --a "$1" --b "$1" --out "$2" > "$3"' _ \
    "$A" "$T/same.json" "$T/same.txt"
contains "identical runs: every trade identical" "$T/same.txt" \
    "trades: 6 in both (6 identical, 0 different), 0 only in A, 0 only in B"
equals "identical runs: no difference and no cause" 0 "$(grep -c '^\*\|cause' "$T/same.txt")"
contains "identical runs: totals differ by nothing" "$T/same.txt" \
    "  net_pnl               9706.50        9706.50           0.00"
contains "identical runs, JSON: nothing different" "$T/same.json" '"different": 0,'

# ---- resting against held ---------------------------------------------------------------
check "compare resting with held exits 0 (differences are not failures)" \
    sh -c '"$HH" compare --a "$1" --b "$2" --out "$3" > "$4"' _ "$A" "$B" "$T/diff.json" \
    "$T/diff.txt"
contains "counts: in both, identical, different, only in one" "$T/diff.txt" \
    "trades: 4 in both (1 identical, 3 different), 2 only in A, 1 only in B"
contains "s1 is identical" "$T/diff.txt" "=   s1 "
contains "s2: both sides shown" "$T/diff.txt" \
    "*B  s2                       NIFTY        BUY      325  2024-06-19T09:32:00+05:30   23570.40  2024-06-19T10:14:00+05:30   23550.00  STOP          -8730.00"
contains "s2: B - A, exact" "$T/diff.txt" \
    "    B - A: qty 0, entry 0 s 0.00, exit +60 s -18.31, net -5963.24"
contains "s2: the held stop filled later" "$T/diff.txt" \
    "    cause STOP_LATER: B's stop filled 60 s later than A's, at 23550.00 (A 23568.31): a held stop executes after its level trades, a resting stop fills at it"
contains "s3: the square-off a second later" "$T/diff.txt" \
    "    cause SQUAREOFF: B's square-off filled 1 s later, at 23567.00 (A 23566.30)"
contains "s4: B never entered" "$T/diff.txt" \
    "    cause NO_ENTRY: B never entered (no ENTRY fill for the signal)"
contains "s5: B still open at the end" "$T/diff.txt" \
    "    cause OPEN_AT_END: B entered but had not closed the trade by the end"
contains "s6: a target in A, the stop in B" "$T/diff.txt" \
    "    cause EXIT_REASON: exit reason TARGET1 in A, STOP in B"
contains "s7: only in B, A never entered" "$T/diff.txt" \
    "    cause NO_ENTRY: A never entered (no ENTRY fill for the signal)"
contains "totals: trades and wins, each side and B - A" "$T/diff.txt" \
    "  wins                        4              2             -2"
contains "totals: net P&L exact" "$T/diff.txt" \
    "  net_pnl               9706.50       -3299.30      -13005.80"
contains "totals: max drawdown" "$T/diff.txt" \
    "  max_drawdown          6132.25       12250.05       +6117.80"
contains "JSON: the counts" "$T/diff.json" '"in_both": 4,
 "identical": 1,
 "different": 3,
 "only_a": 2,
 "only_b": 1,'
contains "JSON: s2 with its difference" "$T/diff.json" \
    '"difference": {"qty": 0, "entry_s": 0, "entry_price": 0.00, "exit_s": 60, "avg_exit_price": -18.31, "net_pnl": -5963.24}'
contains "JSON: s2's cause" "$T/diff.json" '"causes": [{"code": "STOP_LATER", "text": "B'"'"'s stop'
contains "JSON: s4 only in A" "$T/diff.json" '{"signal_id": "s4", "status": "only_a"'
contains "JSON: totals" "$T/diff.json" \
    '"difference": {"trades": -1, "wins": -2, "net_pnl": -13005.80, "max_drawdown": 6117.80}'
if command -v python3 >/dev/null 2>&1; then
    check "JSON: the document parses" python3 -m json.tool "$T/diff.json"
fi

# ---- bad input ----------------------------------------------------------------------------
mkdir "$T/bad"
cp "$A/fills.csv" "$A/summary.json" "$T/bad/"
check_exit "a directory without trades.csv exits 2" 2 "$HH" compare --a "$A" --b "$T/bad"
"$HH" compare --a "$A" --b "$T/bad" > /dev/null 2> "$T/err"
contains "... naming the file" "$T/err" "$T/bad/trades.csv"
sed 's/23568.31/23568.3x/' "$A/trades.csv" > "$T/bad/trades.csv"
"$HH" compare --a "$A" --b "$T/bad" > /dev/null 2> "$T/err"
contains "a malformed price names file, line and column" "$T/err" \
    "$T/bad/trades.csv:3: column 'avg_exit_price': '23568.3x' is not an exact number"
cp "$A/trades.csv" "$T/bad/trades.csv"
printf '{"trades": 6, "wins": 4, "net_pnl": 1.5}\n' > "$T/bad/summary.json"
"$HH" compare --a "$A" --b "$T/bad" > /dev/null 2> "$T/err"
contains "a summary without max_drawdown is refused" "$T/err" \
    "$T/bad/summary.json: no number 'max_drawdown'"
printf 'signal_id,qty\n' > "$T/bad/trades.csv"
check_exit "trades.csv without its columns exits 2" 2 "$HH" compare --a "$A" --b "$T/bad"
check_exit "compare without --b is bad usage" 2 "$HH" compare --a "$A"
