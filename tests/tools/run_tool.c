/*
 * run_tool.c — helpers of the `hedgehog run` integration tests.
 *
 *   run_tool gen DIR SEED MINUTES     deterministic test data in DIR:
 *                                     instruments.csv, ticks.csv (3 symbols,
 *                                     a random walk with gaps, one tick every
 *                                     0.3-1.2 s from 09:15), signals.jsonl
 *   run_tool paper CONFIG FILE        the paper broker's saved state (<db>.paper):
 *                                     one line per net position
 *                                     "position SYMBOL QTY", then
 *                                     "orders N", "placed N", "dup_client_ids N",
 *                                     "fills N", "double_exits N" (trades whose
 *                                     exits executed more than their entries,
 *                                     from the engine's client ids
 *                                     h<serial><code><n>), "markets_early N"
 *                                     (hybrid-stop market orders whose
 *                                     stop-limit was not terminal)
 *
 * The paper file is read with the instruments of CONFIG (hh_paper_load).
 */
#include "app/common.h"
#include "broker/paper.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t rnd(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ULL);

    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

static int rn(uint64_t *s, int n)
{
    return (int)(rnd(s) % (uint64_t)n);
}

static void ist(char *b, size_t cap, int64_t ms)   /* ms since 09:15 on 2025-01-02 */
{
    int64_t s = 9 * 3600 + 15 * 60 + ms / 1000;

    snprintf(b, cap, "2025-01-02T%02d:%02d:%02d.%03d+05:30", (int)(s / 3600),
             (int)(s / 60 % 60), (int)(s % 60), (int)(ms % 1000));
}

static int gen(const char *dir, uint64_t seed, int minutes)
{
    static const char *const syms[3] = { "AAA", "BBB", "CCC" };
    int64_t px[3] = { 100000, 250000, 50000 };   /* paise x 10: 0.05 ticks = 5 */
    char path[1024], ts[64];
    uint64_t r = seed * 0x2545F4914F6CDD1DULL + 7;
    FILE *f;
    int64_t t = 0, end = (int64_t)minutes * 60 * 1000;
    int nsig = 0;
    FILE *sg;

    snprintf(path, sizeof path, "%s/instruments.csv", dir);
    if (!(f = fopen(path, "w")))
        return 1;
    fputs("symbol,exchange,type,underlying,expiry,strike,option_type,lot_size,tick_size,"
          "freeze_qty\n", f);
    for (int k = 0; k < 3; k++)
        fprintf(f, "%s,NSE,EQ,%s,,,,1,0.05,\n", syms[k], syms[k]);
    fclose(f);
    snprintf(path, sizeof path, "%s/ticks.csv", dir);
    if (!(f = fopen(path, "w")))
        return 1;
    snprintf(path, sizeof path, "%s/signals.jsonl", dir);
    if (!(sg = fopen(path, "w"))) {
        fclose(f);
        return 1;
    }
    fputs("ts,symbol,price,qty\n", f);
    while (t < end) {
        int k = rn(&r, 3);
        int move = rn(&r, 200);

        t += 300 + rn(&r, 900);
        if (move == 0)
            px[k] += (rn(&r, 2) ? 1 : -1) * px[k] / 60;   /* a gap */
        else
            px[k] += (rn(&r, 5) - 2) * 5;
        px[k] -= px[k] % 5;
        if (px[k] < 10000)
            px[k] = 10000;
        ist(ts, sizeof ts, t);
        fprintf(f, "%s,%s,%lld.%02lld,%d\n", ts, syms[k], (long long)(px[k] / 100),
                (long long)(px[k] % 100), 1 + rn(&r, 40));
        if (rn(&r, 40) == 0 && t < end - 120000) {
            int buy = rn(&r, 2);
            int64_t e = px[k] + (rn(&r, 5) - 2) * 5, risk = px[k] / 150 + rn(&r, 4) * 5;

            e -= e % 5;
            risk -= risk % 5;
            if (risk < 5)
                risk = 5;
            {
                int64_t at = t - rn(&r, 3000);

                ist(ts, sizeof ts, at < 0 ? 0 : at);
            }
            fprintf(sg, "{\"id\":\"sig-%d\",\"ts\":\"%s\",\"symbol\":\"%s\",\"side\":\"%s\","
                    "\"entry\":\"%lld.%02lld\",\"stop\":\"%lld.%02lld\",\"targets\":"
                    "[\"%lld.%02lld\",\"%lld.%02lld\"],\"lots\":%d}\n", nsig++, ts, syms[k],
                    buy ? "BUY" : "SELL", (long long)(e / 100), (long long)(e % 100),
                    (long long)((buy ? e - risk : e + risk) / 100),
                    (long long)((buy ? e - risk : e + risk) % 100),
                    (long long)((buy ? e + 2 * risk : e - 2 * risk) / 100),
                    (long long)((buy ? e + 2 * risk : e - 2 * risk) % 100),
                    (long long)((buy ? e + 3 * risk : e - 3 * risk) / 100),
                    (long long)((buy ? e + 3 * risk : e - 3 * risk) % 100), 1 + rn(&r, 30));
            if (rn(&r, 15) == 0)   /* a genuine repeat of an id: DUPLICATE */
                fprintf(sg, "{\"id\":\"sig-%d\",\"ts\":\"%s\",\"symbol\":\"%s\",\"side\":\"BUY\","
                        "\"entry\":1,\"stop\":0.5,\"targets\":[2]}\n", nsig - 1, ts, syms[k]);
        }
    }
    fclose(f);
    fclose(sg);
    printf("signals %d\n", nsig);
    return 0;
}

static bool parse_cid(const char *cid, unsigned *serial, char *code, unsigned *n)
{
    const char *p = cid;
    char *end;

    if (*p++ != 'h')
        return false;
    *serial = (unsigned)strtoul(p, &end, 10);
    if (end == p || !*end)
        return false;
    *code = *end++;
    *n = (unsigned)strtoul(end, NULL, 10);
    return true;
}

#define MAXSER 100000

static int paper(const char *config, const char *file)
{
    struct hh_world w;
    struct hh_diag d;
    struct hh_clock clock;
    struct hh_paper_config pc;
    struct hh_paper *p = NULL;
    const struct hh_paper_stats *st;
    hh_qty_t *in, *out;
    size_t n;
    int double_exits = 0, early = 0;

    if (hh_world_load(&w, config, &d)) {
        fprintf(stderr, "run_tool: %s\n", d.msg);
        return 2;
    }
    hh_clock_init(&clock, true);
    hh_paper_config_defaults(&pc);
    if (hh_paper_load(w.inst, &clock, &pc, file, &p, &d) || !p) {
        fprintf(stderr, "run_tool: %s: %s\n", file, p ? d.msg : "no such file");
        hh_world_free(&w);
        return 2;
    }
    for (hh_iid_t i = 0; i < hh_inst_count(w.inst); i++)
        if (hh_paper_position(p, i))
            printf("position %s %lld\n", hh_inst_get(w.inst, i)->symbol,
                   (long long)hh_paper_position(p, i));
    in = calloc(MAXSER, sizeof *in);
    out = calloc(MAXSER, sizeof *out);
    n = hh_paper_order_count(p);
    for (size_t id = 1; id <= n; id++) {
        struct hh_broker_order b;
        unsigned s, k;
        char c;

        if (hh_paper_peek(p, id, &b))
            continue;
        for (size_t j = 1; j < id; j++) {
            struct hh_broker_order o;

            if (!hh_paper_peek(p, j, &o) && b.client_id[0] && !strcmp(o.client_id, b.client_id))
                printf("dup %s orders %zu and %zu\n", b.client_id, j, id);
        }
        if (!parse_cid(b.client_id, &s, &c, &k) || s >= MAXSER)
            continue;
        if (c == 'e')
            in[s] += b.filled;
        else
            out[s] += b.filled;
        if (c == 'm') {   /* its stop-limit "h<s>l<k-1>" must be terminal */
            char lim[HH_CLIENT_ID_MAX];

            snprintf(lim, sizeof lim, "h%ul%u", s, k - 1);
            for (size_t j = 1; j < id; j++) {
                struct hh_broker_order l;

                if (!hh_paper_peek(p, j, &l) && !strcmp(l.client_id, lim) &&
                    !hh_ord_state_terminal(l.state))
                    early++;
            }
        }
    }
    for (unsigned s = 0; s < MAXSER; s++) {
        if (out[s] > in[s])
            printf("double_exit h%u: exits %lld > entries %lld\n", s, (long long)out[s],
                   (long long)in[s]);
        double_exits += out[s] > in[s];
    }
    st = hh_paper_stats(p);
    printf("orders %zu\nplaced %llu\ndup_client_ids %llu\nfills %llu\ndouble_exits %d\n"
           "markets_early %d\n", n, (unsigned long long)st->placed,
           (unsigned long long)st->dup_client_ids, (unsigned long long)st->fills, double_exits,
           early);
    free(in);
    free(out);
    hh_paper_free(p);
    hh_world_free(&w);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 5 && !strcmp(argv[1], "gen"))
        return gen(argv[2], strtoull(argv[3], NULL, 10), atoi(argv[4]));
    if (argc == 4 && !strcmp(argv[1], "paper"))
        return paper(argv[2], argv[3]);
    fprintf(stderr, "usage: run_tool gen DIR SEED MINUTES | run_tool paper CONFIG FILE\n");
    return 2;
}
