/*
 * bench_group.c — multi-leg group execution latency in engine time, and the
 * core's speed while executing groups.
 *
 * One run = a 4-leg NIFTY iron condor (long 23500 PE, short 23700 PE, short
 * 24300 CE, long 24500 CE; one lot of 75 each) given to the trade manager
 * at 10:00 IST, executed against the simulated exchange in leg-priority
 * order (longs first, each short only for what its protection filled).
 * Every leg and the index tick on their own, at seeded random intervals of
 * 5-15 ms.  The
 * figure is the engine time from acceptance to the group being OPEN (every
 * leg filled), p50/p99/max over RUNS seeded runs, for three exchanges:
 *
 *   instant    no latency, full fills
 *   lat50      50 ms from placement to the order reaching the market
 *   lat50_part 50 ms and partial fills (each tick fills at most its own
 *              volume, 10-60 units: a leg needs several ticks)
 *
 * Engine time is what a trader's exposure window is made of: by
 * construction it does not depend on this machine.  The wall-clock figure
 * (groups/s, market events/s through the core during execution) does.
 * Prints "name: value unit" lines; double is fine for statistics.
 */
#include "broker/simex.h"
#include "trade/trade.h"

#include "benchutil.h"

#define RUNS 2000
#define NLEG 4
#define NSYM (NLEG + 1)   /* the legs, then the index (the group's spot) */
#define MS HH_NS_PER_MS

static const char *const sym[NSYM] = {
    "NIFTY25JAN23500PE", "NIFTY25JAN23700PE", "NIFTY25JAN24300CE", "NIFTY25JAN24500CE", "NIFTY",
};
static const enum hh_side leg_side[NLEG] = { HH_BUY, HH_SELL, HH_SELL, HH_BUY };
static const int strike[NLEG] = { 23500, 23700, 24300, 24500 };
static const hh_price_t price[NSYM] = { 40 * HH_FX_SCALE, 80 * HH_FX_SCALE, 70 * HH_FX_SCALE,
                                        35 * HH_FX_SCALE, 24000 * HH_FX_SCALE };

struct scenario {
    const char *name;
    int64_t latency;
    bool partial;
};

static struct hh_instruments *instruments(hh_iid_t *id)
{
    struct hh_instruments *inst = hh_inst_new();

    for (int k = 0; inst && k < NSYM; k++) {
        struct hh_instrument in;

        memset(&in, 0, sizeof in);
        snprintf(in.symbol, sizeof in.symbol, "%s", sym[k]);
        snprintf(in.underlying, sizeof in.underlying, "NIFTY");
        in.exch = HH_EXCH_NSE;
        if (k < NLEG) {
            in.seg = HH_SEG_OPT;
            in.type = HH_INST_OPT;
            in.opt = k < 2 ? HH_OPT_PE : HH_OPT_CE;
            in.strike = strike[k] * HH_FX_SCALE;
            in.expiry = hh_date_from_ymd(2025, 1, 30);
            in.lot_size = 75;
        } else {
            in.seg = HH_SEG_CASH;
            in.type = HH_INST_INDEX;
            in.expiry = HH_DATE_NONE;
            in.lot_size = 1;
        }
        in.tick = 500;
        in.known = true;
        if (hh_inst_add(inst, &in, &id[k]) != HH_OK) {
            hh_inst_free(inst);
            return NULL;
        }
    }
    return inst;
}

static struct hh_tm_config engine_config(void)
{
    return (struct hh_tm_config){
        .capital = 10000000 * HH_RUPEE,
        .risk_per_trade = HH_RATIO_SCALE / 100,
        .size_scale = HH_RATIO_SCALE,
        .max_lots_per_trade = 100,
        .max_open_trades = 1,
        .volume_lookback = 20,
        .fees = hh_charges_find("zero"),
        .exposure_check = 100 * MS,
        .hedge_debounce = 500 * MS,
        .leg_timeout = 60000 * MS,
        .margin_buffer = 9 * HH_RATIO_SCALE / 10,
        .variance_limit = HH_RATIO_SCALE / 10,
    };
}

static int add_condor(struct hh_tm *tm, struct hh_clock *clock,
                      const struct hh_instruments *inst, hh_time_t t0)
{
    struct hh_strat_group g;
    struct hh_signal hdr;

    hh_strat_init(&g, HH_STRAT_CUSTOM);
    for (int k = 0; k < NLEG; k++)
        if (hh_strat_add_leg(&g, inst, sym[k], leg_side[k], 1, NULL) != HH_OK)
            return -1;
    memset(&hdr, 0, sizeof hdr);
    snprintf(hdr.id, sizeof hdr.id, "ic");
    hdr.ts = hdr.received_at = t0;
    hdr.valid_until = t0 + 3600 * HH_NS_PER_S;
    hdr.group = true;
    hdr.iid = g.legs[0].iid;
    hh_clock_advance(clock, t0);
    return hh_tm_group(tm, &hdr, &g, 0, 0);
}

/* One run; the engine time to OPEN in *lat, market events fed in *events.
 * Returns 0, or -1 when the group did not open within a minute. */
static int one_run(const struct scenario *sc, uint64_t seed, const struct hh_instruments *inst,
                   const hh_iid_t *id, hh_time_t *lat, uint64_t *events)
{
    struct hh_simex_config xc = { .latency = sc->latency, .liquidity = sc->partial,
                                  .fill_ratio = HH_RATIO_SCALE, .seed = seed };
    struct hh_tm_config cfg = engine_config();
    struct hh_tm_sink sink = { 0 };
    struct hh_tm_group_view v;
    struct hh_clock clock;
    struct hh_simex *ex;
    struct hh_tm *tm;
    hh_time_t t0 = hh_time_from_ist(hh_date_from_ymd(2025, 1, 2), HH_TOD(10, 0));
    hh_time_t next[NSYM];
    uint64_t s = seed * 2654435761u + 7;
    int rc = -1;

    hh_clock_init(&clock, true);
    ex = hh_simex_new(inst, &clock, &xc);
    tm = ex ? hh_tm_new(&cfg, inst, NULL, &clock, hh_simex_broker(ex), &sink) : NULL;
    if (!tm || add_condor(tm, &clock, inst, t0) != HH_OK)
        goto out;
    for (int k = 0; k < NSYM; k++)
        next[k] = t0 + (hh_time_t)(1 + bu_rnd(&s) % 10) * MS;
    for (;;) {
        int k = 0;
        struct hh_tick x;

        for (int j = 1; j < NSYM; j++)
            if (next[j] < next[k])
                k = j;
        if (next[k] > t0 + 60 * HH_NS_PER_S)
            break;
        while (hh_tm_next_timer(tm) <= next[k]) {
            hh_time_t d = hh_tm_next_timer(tm);

            hh_clock_advance(&clock, d);
            hh_tm_fire_timers(tm, d);
        }
        hh_clock_advance(&clock, next[k]);
        x = (struct hh_tick){ next[k], id[k], price[k],
                              sc->partial ? (hh_qty_t)(10 + bu_rnd(&s) % 51) : 1000, 0, 0 };
        hh_tm_tick(tm, &x);
        (*events)++;
        if (hh_tm_group_view(tm, 0, &v) == HH_OK && !strcmp(v.state, "OPEN")) {
            *lat = next[k] - t0;
            rc = 0;
            break;
        }
        next[k] += (hh_time_t)(5 + bu_rnd(&s) % 11) * MS;
    }
out:
    hh_tm_free(tm);
    hh_simex_free(ex);
    return rc;
}

static int cmp_time(const void *a, const void *b)
{
    hh_time_t x = *(const hh_time_t *)a, y = *(const hh_time_t *)b;

    return (x > y) - (x < y);
}

static int run_scenario(const struct scenario *sc, const struct hh_instruments *inst,
                        const hh_iid_t *id)
{
    static hh_time_t lat[RUNS];
    uint64_t events = 0;
    double t = bu_now();

    for (int i = 0; i < RUNS; i++)
        if (one_run(sc, (uint64_t)i + 1, inst, id, &lat[i], &events)) {
            fprintf(stderr, "bench_group: %s: seed %d did not open\n", sc->name, i + 1);
            return 1;
        }
    t = bu_now() - t;
    qsort(lat, RUNS, sizeof *lat, cmp_time);
    printf("group_%s_open_p50: %.1f ms engine time\n", sc->name, (double)lat[RUNS / 2] / MS);
    printf("group_%s_open_p99: %.1f ms engine time\n", sc->name,
           (double)lat[RUNS * 99 / 100] / MS);
    printf("group_%s_open_max: %.1f ms engine time\n", sc->name, (double)lat[RUNS - 1] / MS);
    printf("group_%s_groups_per_s: %.0f groups/s (wall, engine created per group)\n", sc->name,
           RUNS / t);
    printf("group_%s_events_per_s: %.2f M market events/s (wall, while executing)\n", sc->name,
           (double)events / t / 1e6);
    return 0;
}

int main(void)
{
    static const struct scenario sc[] = {
        { "instant", 0, false },
        { "lat50", 50 * MS, false },
        { "lat50_part", 50 * MS, true },
    };
    hh_iid_t id[NSYM];
    struct hh_instruments *inst = instruments(id);
    int rc = 0;

    if (!inst) {
        fprintf(stderr, "bench_group: cannot build the instruments\n");
        return 1;
    }
    printf("group_runs: %d per scenario (iron condor, 4 legs x 75)\n", RUNS);
    for (size_t i = 0; i < sizeof sc / sizeof *sc; i++)
        rc |= run_scenario(&sc[i], inst, id);
    hh_inst_free(inst);
    return rc;
}
