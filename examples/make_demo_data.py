#!/usr/bin/env python3
"""How examples/nifty50_1min_2024-06.csv and examples/signals_pivots_2024-06.jsonl
were made (run once, by hand, from a checkout that has ../shared; the build,
tests and demo never run it).

Bars: NIFTY 50 spot index 1-minute bars, 2024-06-03 .. 2024-06-28, from the
shared data set (see SOURCES.md), rewritten in hedgehog's bars format: IST
timestamps with an explicit +05:30 offset, symbol NIFTY, volume 0 (an index
has none).  The vendor labels each bar by its start, as hedgehog does.

Signals: a classic floor-pivot retest strategy, one BUY and one SELL per
trading day from the previous day's high, low and close:
  P = (H + L + C) / 3, R1 = 2P - L, S1 = 2P - H, R2 = P + (H - L), S2 = P - (H - L)
  BUY  entry P, stop S1, targets [R1, R2]
  SELL entry P, stop R1, targets [S1, S2]
levels rounded half-up to the 0.05 tick, generated at 09:00 IST.
"""
import csv
import json
from decimal import Decimal, ROUND_HALF_UP

SRC = "../../shared/data/bars/nifty50_index_1min_2024-01-01_to_2024-08-23.csv"
FIRST, LAST = "20240603", "20240628"
TICK = Decimal("0.05")


def tick(x):
    return (x / TICK).quantize(Decimal(1), rounding=ROUND_HALF_UP) * TICK


def main():
    days = {}
    with open(SRC) as f, open("nifty50_1min_2024-06.csv", "w") as out:
        out.write("ts,symbol,open,high,low,close,volume\n")
        for row in csv.DictReader(f):
            d = row["Date"]
            if not (FIRST <= d <= LAST):
                continue
            ts = f"{d[:4]}-{d[4:6]}-{d[6:]}T{row['Time']}:00+05:30"
            o, h, l, c = (Decimal(row[k]) for k in ("Open", "High", "Low", "Close"))
            out.write(f"{ts},NIFTY,{row['Open']},{row['High']},{row['Low']},{row['Close']},0\n")
            day = days.setdefault(d, [o, h, l, c])
            day[1], day[2], day[3] = max(day[1], h), min(day[2], l), c
    order = sorted(days)
    with open("signals_pivots_2024-06.jsonl", "w") as out:
        for prev, d in zip(order, order[1:]):
            _, h, l, c = days[prev]
            p = (h + l + c) / 3
            r1, s1 = 2 * p - l, 2 * p - h
            r2, s2 = p + (h - l), p - (h - l)
            ts = f"{d[:4]}-{d[4:6]}-{d[6:]}T09:00:00+05:30"
            for side, stop, targets in (("BUY", s1, [r1, r2]), ("SELL", r1, [s1, s2])):
                sig = {"id": f"piv-{d}-{side.lower()}", "ts": ts, "symbol": "NIFTY",
                       "side": side, "entry": str(tick(p)), "stop": str(tick(stop)),
                       "targets": [str(tick(t)) for t in targets], "confidence": 0.8,
                       "strategy": "floor-pivot-retest"}
                out.write(json.dumps(sig, separators=(",", ":")) + "\n")


if __name__ == "__main__":
    main()
