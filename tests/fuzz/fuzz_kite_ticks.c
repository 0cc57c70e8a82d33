/*
 * fuzz_kite_ticks.c — arbitrary bytes as a Kite binary tick frame.
 *
 * The parser must never read outside the frame and must keep its promises
 * on anything: at most `cap` packets; the packets it returns are those of
 * known lengths before the first defect; every price is non-negative (the
 * index net change aside) and exact; a 1-byte frame is a heartbeat with no
 * packet; a failure names its reason.  The frame is copied into a buffer of
 * exactly its size so AddressSanitizer catches any read past the end.
 */
#include "broker/kite.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_packet(const struct hh_kite_packet *p)
{
    const hh_price_t px[] = { p->last, p->avg, p->open, p->high, p->low, p->close,
                              p->bid, p->ask };

    for (size_t i = 0; i < sizeof px / sizeof px[0]; i++)
        if (px[i] < 0)
            abort();
    if (p->mode != HH_KITE_LTP && p->mode != HH_KITE_QUOTE && p->mode != HH_KITE_FULL)
        abort();
    if (!p->index && p->change != 0)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct hh_kite_packet out[64];
    uint8_t *frame = malloc(size ? size : 1);
    size_t n = 99, skipped = 99, cap = size % 5 ? 64 : 2;   /* sometimes too small */
    const char *why = NULL;
    bool hb = false;
    int rc;

    if (!frame)
        return 0;
    memcpy(frame, data, size);
    rc = hh_kite_parse_ticks(frame, size, out, cap, &n, &skipped, &hb, &why);
    if (n > cap || (rc != HH_OK && !why) || (hb && (size != 1 || n != 0)) ||
        (rc != HH_OK && rc != HH_ESYNTAX && rc != HH_EFULL))
        abort();
    for (size_t i = 0; i < n; i++)
        check_packet(&out[i]);
    free(frame);
    return 0;
}
