/*
 * fuzz_signal.c — libFuzzer target for the signal parser and validator.
 *
 * The input is split into lines; each non-blank line goes through
 * hh_sig_process (alternately with and without an engine clock) against a
 * small fixed instrument table and calendar, and every rejection is written
 * as a dead letter to /dev/null.  Checked invariants: a rejection carries a
 * real reason code and a NUL-terminated detail and id; an accepted signal
 * is internally consistent (levels ordered for its side, 1-3 targets,
 * confidence in [0, 1], prices multiples of the tick).  Each line also goes
 * through a second validator made to take the full road (gate + json-c)
 * every time: the two must agree byte for byte — decision, reason, detail,
 * id and every field of the signal — which is what lets the fast scanner
 * (sigscan.c) stand in for json-c on the lines it accepts.
 *
 * Seed corpus: tests/fuzz/corpus/signal/.
 */
#include "signal/signal.h"
#include "signal/signal_int.h"

#include <stdlib.h>
#include <string.h>

static void add(struct hh_instruments *t, const char *sym, enum hh_inst_type type,
                enum hh_exch exch, enum hh_segment seg, hh_date_t expiry, hh_price_t tick)
{
    struct hh_instrument in;

    memset(&in, 0, sizeof in);
    strcpy(in.symbol, sym);
    strcpy(in.underlying, "NIFTY");
    in.exch = exch;
    in.seg = seg;
    in.type = type;
    in.expiry = expiry;
    in.lot_size = 1;
    in.tick = tick;
    if (hh_inst_add(t, &in, NULL) != HH_OK)
        abort();
}

/* Invariants of an accepted signal. */
static void check_signal(const struct hh_signal *s, const struct hh_instruments *t)
{
    const struct hh_instrument *in = hh_inst_get(t, s->iid);
    hh_price_t lv[5] = { s->stop, s->entry, s->targets[0], s->targets[1], s->targets[2] };

    if (s->ntargets < 1 || s->ntargets > 3 || s->confidence < 0 ||
        s->confidence > HH_RATIO_SCALE || s->lots < 0 || !in || !in->known ||
        s->id[0] == '\0' || memchr(s->id, '\0', sizeof s->id) == NULL)
        abort();
    for (int i = 0; i + 1 < 2 + s->ntargets; i++)
        if (s->side == HH_BUY ? lv[i] >= lv[i + 1] : lv[i] <= lv[i + 1])
            abort();
    for (int i = 0; i < 2 + s->ntargets; i++)
        if (lv[i] <= 0 || lv[i] % in->tick != 0)
            abort();
}

static void check_reject(const struct hh_sig_reject *r)
{
    if (r->reason <= HH_SIG_NONE || r->reason > HH_SIG_MARKET_CLOSED ||
        !memchr(r->detail, '\0', sizeof r->detail) || !memchr(r->id, '\0', sizeof r->id))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const struct hh_sig_rules rules = {
        .min_rr = 1500000000LL, .min_confidence = 600000000LL,
        .max_live_age = 120 * HH_NS_PER_S, .max_clock_skew = 2 * HH_NS_PER_S,
    };
    struct hh_instruments *t = hh_inst_new();
    struct hh_calendar *cal = hh_cal_new();
    struct hh_sig_validator *v, *full;
    FILE *devnull = fopen("/dev/null", "w");
    const char *p = (const char *)data, *end = p + size;
    uint64_t lineno = 0;

    if (!t || !cal || !devnull)
        abort();
    add(t, "NIFTY25JANFUT", HH_INST_FUT, HH_EXCH_NSE, HH_SEG_FUT,
        hh_date_from_ymd(2025, 1, 30), 500);
    add(t, "RELIANCE", HH_INST_EQ, HH_EXCH_NSE, HH_SEG_CASH, HH_DATE_NONE, 500);
    add(t, "CRUDEOIL25FEBFUT", HH_INST_FUT, HH_EXCH_MCX, HH_SEG_COMMODITY,
        hh_date_from_ymd(2025, 2, 19), 10000);
    hh_cal_add_holiday(cal, hh_date_from_ymd(2025, 2, 26), HH_EXCH_NSE);
    v = hh_sig_validator_new(t, cal, &rules);
    full = hh_sig_validator_new(t, cal, &rules);
    if (!v || !full)
        abort();
    hh_sig__full_road_only(full, true);
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t len = (size_t)((nl ? nl : end) - p);
        hh_time_t now = lineno & 1 ? hh_time_from_ist(hh_date_from_ymd(2025, 1, 2), HH_TOD(10, 0))
                                   : HH_TIME_NONE;
        struct hh_signal s, s2;
        struct hh_sig_reject r, r2;

        lineno++;
        if (!hh_sig_line_blank(p, len)) {
            bool ok = hh_sig_process(v, p, len, lineno, now, &s, &r);

            if (hh_sig_process(full, p, len, lineno, now, &s2, &r2) != ok ||
                memcmp(&s, &s2, sizeof s) != 0 || memcmp(&r, &r2, sizeof r) != 0)
                abort();
            if (ok)
                check_signal(&s, t);
            else {
                check_reject(&r);
                hh_sig_write_dead_letter(devnull, lineno, &r);
            }
        }
        if (!nl)
            break;
        p = nl + 1;
    }
    hh_sig_validator_free(v);
    hh_sig_validator_free(full);
    hh_cal_free(cal);
    hh_inst_free(t);
    fclose(devnull);
    return 0;
}
