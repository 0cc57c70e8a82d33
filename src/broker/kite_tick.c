/*
 * kite_tick.c — Kite's binary tick frames into fixed-point packets.
 *
 * Frame: u16 packet count, then per packet a u16 length and the packet, all
 * big-endian.  Packet layouts (byte offsets; every field 4 bytes unless
 * said):
 *   ltp    8   token 0, last 4
 *   index 28   token, last 4, high 8, low 12, open 16, close 20, change 24
 *   index 32   ... + exchange time 28
 *   quote 44   token, last 4, last qty 8, average 12, volume 16, buy qty 20,
 *              sell qty 24, open 28, high 32, low 36, close 40
 *   full 184   ... + last trade time 44, oi 48, oi high 52, oi low 56,
 *              exchange time 60, depth 64: 10 x (qty 4, price 4, orders 2,
 *              pad 2), five bids then five asks
 * Prices are integers in 1/100 rupee, 1/10^7 for CDS (token segment 3) and
 * 1/10^4 for BCD (6); the segment is the token's low byte.  Every read is
 * bounds-checked against the frame: a frame is never trusted.
 */
#include "broker/kite_int.h"

#include <string.h>

enum { SEG_CDS = 3, SEG_BCD = 6, SEG_INDICES = 9 };

static inline uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline uint16_t be16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

/* A price field into fixed-point (1/10,000 rupee); false when the value is
 * negative (allow_neg aside) or finer than the fixed-point holds. */
static inline bool price_at(const uint8_t *p, uint32_t seg, bool allow_neg, hh_price_t *out)
{
    int64_t raw = (int32_t)be32(p);

    if (raw < 0 && !allow_neg)
        return false;
    switch (seg) {
    case SEG_CDS:           /* 1e-7 rupee: exact only in whole 1e-4 */
        if (raw % 1000)
            return false;
        *out = raw / 1000;
        return true;
    case SEG_BCD:           /* 1e-4 rupee: our unit */
        *out = raw;
        return true;
    default:                /* paise */
        *out = raw * HH_PAISA;
        return true;
    }
}

static bool parse_index(const uint8_t *p, size_t n, uint32_t seg, struct hh_kite_packet *o)
{
    o->index = true;
    o->mode = n == 28 ? HH_KITE_QUOTE : HH_KITE_FULL;
    if (!price_at(p + 4, seg, false, &o->last) || !price_at(p + 8, seg, false, &o->high) ||
        !price_at(p + 12, seg, false, &o->low) || !price_at(p + 16, seg, false, &o->open) ||
        !price_at(p + 20, seg, false, &o->close) || !price_at(p + 24, seg, true, &o->change))
        return false;
    if (n == 32)
        o->exch_time = be32(p + 28);
    return true;
}

static bool parse_depth(const uint8_t *p, uint32_t seg, struct hh_kite_packet *o)
{
    for (int i = 0; i < 10; i++) {
        hh_price_t px;

        if (!price_at(p + 12 * i + 4, seg, false, &px))
            return false;
        if (i == 0) {
            o->bid = px;
            o->bid_qty = be32(p + 12 * i);
        } else if (i == 5) {
            o->ask = px;
            o->ask_qty = be32(p + 12 * i);
        }
    }
    return true;
}

static bool parse_quote(const uint8_t *p, size_t n, uint32_t seg, struct hh_kite_packet *o)
{
    o->mode = n == 44 ? HH_KITE_QUOTE : HH_KITE_FULL;
    if (!price_at(p + 4, seg, false, &o->last) || !price_at(p + 12, seg, false, &o->avg) ||
        !price_at(p + 28, seg, false, &o->open) || !price_at(p + 32, seg, false, &o->high) ||
        !price_at(p + 36, seg, false, &o->low) || !price_at(p + 40, seg, false, &o->close))
        return false;
    o->last_qty = be32(p + 8);
    o->volume = be32(p + 16);
    o->buy_qty = be32(p + 20);
    o->sell_qty = be32(p + 24);
    if (n == 44)
        return true;
    o->last_trade_time = be32(p + 44);
    o->oi = be32(p + 48);
    o->oi_high = be32(p + 52);
    o->oi_low = be32(p + 56);
    o->exch_time = be32(p + 60);
    return parse_depth(p + 64, seg, o);
}

/* One packet of a known length; false when a field is invalid. */
static bool parse_packet(const uint8_t *p, size_t n, struct hh_kite_packet *o)
{
    uint32_t seg;

    memset(o, 0, sizeof *o);
    o->token = be32(p);
    seg = o->token & 0xff;
    switch (n) {
    case 8:
        o->mode = HH_KITE_LTP;
        o->index = seg == SEG_INDICES;
        return price_at(p + 4, seg, false, &o->last);
    case 28:
    case 32:
        return parse_index(p, n, seg, o);
    default:
        return parse_quote(p, n, seg, o);
    }
}

static int fail(const char **why, const char *what, int rc)
{
    *why = what;
    return rc;
}

static bool known_length(size_t n)
{
    return n == 8 || n == 28 || n == 32 || n == 44 || n == 184;
}

int hh_kite_parse_ticks(const uint8_t *buf, size_t len, struct hh_kite_packet *out,
                        size_t cap, size_t *n, size_t *skipped, bool *heartbeat,
                        const char **why)
{
    size_t count, off = 2;

    *n = 0;
    *skipped = 0;
    *heartbeat = len == 1;
    if (len == 1)
        return HH_OK;
    if (len < 2)
        return fail(why, "empty frame", HH_ESYNTAX);
    count = be16(buf);
    for (size_t i = 0; i < count; i++) {
        size_t plen;

        if (len - off < 2)
            return fail(why, "truncated: packet length missing", HH_ESYNTAX);
        plen = be16(buf + off);
        off += 2;
        if (len - off < plen)
            return fail(why, "truncated: packet shorter than its length", HH_ESYNTAX);
        if (!known_length(plen)) {
            ++*skipped;
        } else if (*n == cap) {
            return fail(why, "more packets than room", HH_EFULL);
        } else if (!parse_packet(buf + off, plen, &out[*n])) {
            return fail(why, "negative or unrepresentable price", HH_ESYNTAX);
        } else {
            ++*n;
        }
        off += plen;
    }
    if (off != len)
        return fail(why, "bytes after the last packet", HH_ESYNTAX);
    return HH_OK;
}
