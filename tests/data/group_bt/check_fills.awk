# check_fills.awk — SPEC §8 invariants of a group backtest, from its outputs.
#
#   awk [-v name="run: "] \
#       -f check_fills.awk instruments.csv bars.csv fills.csv trades.csv summary.json
#
# Prints TAP-style lines ("ok - …" / "not ok - …") for tests/run.sh, and
# "# …" notes.  Files are told apart by their headers, so their order above
# is the only requirement (instruments and bars before fills).  Money is
# compared exactly, in paise.
#
# Checks, per group (trade_id), fills taken in file order:
#  1. hedge balance: in each bucket (option type + expiry) the open short
#     quantity never exceeds the open long quantity (legs + hedges) after
#     any fill — fills at one timestamp are ordered in the file, longs first;
#  2. exits (reason other than ENTRY): no long is sold while any short of
#     the group is still open (shorts are closed before longs);
#  3. every group with a trades.csv row is flat at the end; summary
#     open_at_end is a count (at most signals_accepted) no smaller than the
#     number of groups with fills but no trades.csv row;
#  4. EXPIRY fills are at intrinsic value against the underlying's last
#     close of the expiry day (from bars.csv);
#  5. trades.csv rows agree with the fills: gross = sell value − buy value,
#     charges = Σ fill charges, net = gross − charges, entry_ts = first
#     fill, exit_ts = last fill, exit_reason = reason of the last fill;
#  6. summary.json agrees with trades.csv: trades, wins, losses, win_rate,
#     gross_pnl, charges, net_pnl, final_equity = capital + net,
#     max_drawdown of realised equity in closing order.

BEGIN { FS = ","; fails = 0 }

function paise(s,    neg, n, a, frac) {
    gsub(/[ "]/, "", s)
    neg = substr(s, 1, 1) == "-"
    if (neg) s = substr(s, 2)
    n = split(s, a, ".")
    frac = substr((n > 1 ? a[2] : "") "00", 1, 2)
    return (neg ? -1 : 1) * (a[1] * 100 + frac)
}

function rupees(p,    s) {
    s = p < 0 ? "-" : ""
    if (p < 0) p = -p
    return sprintf("%s%d.%02d", s, int(p / 100), p % 100)
}

function report(ok, what, detail) {
    if (ok) print "ok - " name what
    else { print "not ok - " name what; if (detail != "") print "    " detail; fails++ }
}

# one failure message per check kept (the first), all counted
function bad(check, msg) {
    nbad[check]++
    if (!(check in first)) first[check] = msg
}

function note(msg) {
    nnote++
    if (nnote <= 2) notes = notes "\n#   " msg
}

FNR == 1 {
    kind = ""
    if ($1 == "symbol" && $3 == "type") kind = "inst"
    else if ($1 == "ts" && $2 == "symbol" && $3 == "open") kind = "bars"
    else if ($1 == "ts" && $2 == "order_id") kind = "fills"
    else if ($1 == "trade_id") kind = "trades"
    else if ($0 ~ /^\{/) kind = "summary"
    if (kind != "summary") next
}

kind == "inst" {
    if ($3 == "OPT") { opt[$1] = $7; strike[$1] = paise($6); expiry[$1] = $5; und[$1] = $4 }
    else if ($3 == "INDEX" || $3 == "EQ") isund[$1] = 1
    next
}

kind == "bars" {
    if ($2 in isund) lastclose[$2 "|" substr($1, 1, 10)] = paise($6)
    next
}

# long and short open quantity of trade t per bucket; check 1
function check_balance(t, where,    k, a, L, S, bk) {
    split("", L); split("", S)
    for (k in pos) {
        split(k, a, SUBSEP)
        if (a[1] != t) continue
        bk = bucket[a[2]]
        if (pos[k] > 0) L[bk] += pos[k]
        else if (pos[k] < 0) S[bk] += -pos[k]
    }
    for (bk in S)
        if (S[bk] > L[bk] + 0) {
            bad("balance", "trade " t " " where ": bucket " bk " short " S[bk] " > long " (L[bk] + 0))
            return 0
        }
    return 1
}

function shorts_open(t,    k, a) {
    for (k in pos) {
        split(k, a, SUBSEP)
        if (a[1] == t && pos[k] < 0) return 1
    }
    return 0
}

function flat(t,    k, a) {
    for (k in pos) {
        split(k, a, SUBSEP)
        if (a[1] == t && pos[k] != 0) return 0
    }
    return 1
}

kind == "fills" {
    ts = $1; t = $3; sym = $5; side = $6; q = $7 + 0; px = paise($8); why = $9
    nfills++
    hasfill[t] = 1
    bucket[sym] = (sym in opt) ? opt[sym] " " expiry[sym] : "?" sym
    if (!(sym in opt)) bad("inst", "fill of " sym " (not an option of the instruments file)")
    k = t SUBSEP sym
    before = pos[k] + 0
    pos[k] = before + (side == "BUY" ? q : -q)
    if (side == "BUY") buyv[t] += px * q; else sellv[t] += px * q
    chg[t] += paise($10)
    if (!(t in fts)) fts[t] = ts
    lts[t] = ts; lwhy[t] = why
    if (why == "KILL" && !(t in kills)) { kills[t] = 1; nkilled++ }
    if (why == "EXPIRY") {
        nexpiry++
        u = und[sym] "|" expiry[sym]
        if (!(u in lastclose)) bad("expiry", "no bar of " und[sym] " on " expiry[sym])
        else {
            s = lastclose[u]
            iv = opt[sym] == "CE" ? s - strike[sym] : strike[sym] - s
            if (iv < 0) iv = 0
            if (px != iv)
                bad("expiry", ts " " sym " settled at " rupees(px) ", intrinsic at close " \
                    rupees(s) " is " rupees(iv))
        }
    }
    # 2: exits sell longs only when every short of the group is flat
    selling_long = side == "SELL" && before > 0
    if (why != "ENTRY" && selling_long && shorts_open(t))
        bad("order", "trade " t " " ts " " why ": long " sym " sold while a short is open")
    # 1: balance after each fill
    check_balance(t, ts " " why " " sym)
    next
}

kind == "trades" {
    t = $1
    ntrades++
    row[t] = 1
    g = paise($11); c = paise($12); n = paise($13)
    sg += g; sc += c; sn += n
    if (n > 0) wins++
    if (n < 0) losses++
    eq += n
    if (eq > peak) peak = eq
    if (peak - eq > mdd) mdd = peak - eq
    if (!flat(t)) bad("flat", "trade " t " (" $2 "): not flat at the end")
    if (g != sellv[t] - buyv[t])
        bad("rows", "trade " t ": gross " rupees(g) " but fills give " rupees(sellv[t] - buyv[t]))
    if (c != chg[t]) bad("rows", "trade " t ": charges " rupees(c) " but fills give " rupees(chg[t]))
    if (n != g - c) bad("rows", "trade " t ": net " rupees(n) " != gross - charges")
    if ($6 != fts[t]) bad("rows", "trade " t ": entry_ts " $6 " but first fill " fts[t])
    if ($8 != lts[t]) bad("rows", "trade " t ": exit_ts " $8 " but last fill " lts[t])
    if ($10 != lwhy[t]) bad("rows", "trade " t ": exit_reason " $10 " but last fill " lwhy[t])
    reason[$10]++
    next
}

kind == "summary" {
    line = $0
    if (match(line, /"[a-z_]+": [-0-9.]+/)) {
        kv = substr(line, RSTART + 1, RLENGTH - 1)
        key = substr(kv, 1, index(kv, "\"") - 1)
        val = substr(kv, index(kv, ": ") + 2)
        summ[key] = val
    }
    next
}

END {
    unclosed = 0
    for (t in hasfill)
        if (!(t in row)) unclosed++
    if (!("open_at_end" in summ) || summ["open_at_end"] !~ /^[0-9]+$/ ||
        length(summ["open_at_end"]) > 9 || summ["open_at_end"] + 0 > summ["signals_accepted"] + 0)
        bad("open", "summary open_at_end " summ["open_at_end"] " is not a count of open groups " \
            "(at most signals_accepted " summ["signals_accepted"] ")")
    else if (summ["open_at_end"] + 0 < unclosed)
        bad("open", unclosed " groups have fills but no trades.csv row; open_at_end is " \
            summ["open_at_end"])
    report(nfills > 0, "fills.csv has fills (" nfills ")", "")
    report(!nbad["inst"], "every fill is of a known option", first["inst"])
    report(!nbad["balance"], "per group and bucket, short never above long (file order)",
           first["balance"] (nbad["balance"] > 1 ? " (and " nbad["balance"] - 1 " more)" : ""))
    report(!nbad["order"], "on exits, shorts are closed before longs",
           first["order"] (nbad["order"] > 1 ? " (and " nbad["order"] - 1 " more)" : ""))
    report(!nbad["flat"], "every closed group is flat at the end", first["flat"])
    report(!nbad["open"], "summary open_at_end counts the groups left open", first["open"])
    report(!nbad["expiry"], "EXPIRY fills at intrinsic value against the underlying's close (" \
           nexpiry + 0 " fills)", first["expiry"])
    report(!nbad["rows"], "trades.csv rows agree with fills.csv", first["rows"])
    wr = ntrades ? int(wins * 100000000 / ntrades) : 0
    wr = sprintf("%d.%04d", int((wr + 5000) / 100000000), int((wr + 5000) / 10000) % 10000)
    cap = paise(summ["capital"])
    d = ""
    if (summ["trades"] + 0 != ntrades) d = d " trades " summ["trades"] "!=" ntrades
    if (summ["wins"] + 0 != wins + 0) d = d " wins " summ["wins"] "!=" wins + 0
    if (summ["losses"] + 0 != losses + 0) d = d " losses " summ["losses"] "!=" losses + 0
    if (summ["win_rate"] != wr) d = d " win_rate " summ["win_rate"] "!=" wr
    if (paise(summ["gross_pnl"]) != sg) d = d " gross_pnl " summ["gross_pnl"] "!=" rupees(sg)
    if (paise(summ["charges"]) != sc) d = d " charges " summ["charges"] "!=" rupees(sc)
    if (paise(summ["net_pnl"]) != sn) d = d " net_pnl " summ["net_pnl"] "!=" rupees(sn)
    if (paise(summ["final_equity"]) != cap + sn)
        d = d " final_equity " summ["final_equity"] "!=" rupees(cap + sn)
    if (paise(summ["max_drawdown"]) != mdd + 0)
        d = d " max_drawdown " summ["max_drawdown"] "!=" rupees(mdd)
    report(d == "", "summary.json agrees with trades.csv", d)
    if (nnote) print "# " name "note: " nnote " file-order findings inside EXPIRY settlements" notes
    rs = ""
    for (r in reason) rs = rs " " r "=" reason[r]
    print "# " name "trades " ntrades " (exit reasons:" rs "), net " rupees(sn) ", groups with KILL fills " nkilled + 0
    exit fails ? 1 : 0
}
