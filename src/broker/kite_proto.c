/*
 * kite_proto.c — the pure pieces of the Kite protocol: tags and slices,
 * statuses, error mapping, form bodies, prices as text, exchanges, URLs.
 * No I/O, no state: everything here is a function of its arguments (and is
 * tested as such in tests/unit/test_kite_proto.c).
 */
#include "broker/kite_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- tags ------------------------------------------------------------- */

static bool lower_alnum(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

bool hh_kite__cid_valid(const char *cid)
{
    size_t n = strnlen(cid, HH_CLIENT_ID_MAX);

    if (n < 1 || n > HH_KITE_TAG_MAX)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!lower_alnum(cid[i]))
            return false;
    return true;
}

int hh_kite__slice_tag(const char *cid, int k, char out[HH_CLIENT_ID_MAX])
{
    int n;

    if (k < 1 || k > HH_KITE_SLICES_MAX || !hh_kite__cid_valid(cid))
        return HH_ERANGE;
    n = k == 1 ? snprintf(out, HH_CLIENT_ID_MAX, "%s", cid)
               : snprintf(out, HH_CLIENT_ID_MAX, "%sS%d", cid, k);
    return n > 0 && n <= HH_KITE_TAG_MAX ? HH_OK : HH_ERANGE;
}

bool hh_kite__tag_split(const char *tag, char cid[HH_CLIENT_ID_MAX], int *k)
{
    size_t n = strnlen(tag, HH_CLIENT_ID_MAX), i = 0;
    int v = 0;

    while (i < n && lower_alnum(tag[i]))
        i++;
    if (i == 0 || n > HH_KITE_TAG_MAX)
        return false;
    if (i < n) {
        /* "S" and 2..99 without a leading zero: the form slice_tag writes */
        if (tag[i] != 'S' || n - i < 2 || n - i > 3 || tag[i + 1] == '0')
            return false;
        for (size_t j = i + 1; j < n; j++) {
            if (tag[j] < '0' || tag[j] > '9')
                return false;
            v = v * 10 + (tag[j] - '0');
        }
        if (v < 2)
            return false;
    }
    memcpy(cid, tag, i);
    cid[i] = '\0';
    *k = i < n ? v : 1;
    return true;
}

/* ---- statuses --------------------------------------------------------- */

/* Kite's statuses (DOMAIN §8) and how each reads.  WORKING is OPEN or
 * PARTIAL by quantity; RECEIVED: the broker has it, the exchange not yet. */
enum st_kind { ST_RECEIVED, ST_WORKING, ST_CANCELLING, ST_FILLED, ST_CANCELLED, ST_REJECTED };

static const struct {
    const char *name;
    enum st_kind kind;
} statuses[] = {
    { "PUT ORDER REQ RECEIVED", ST_RECEIVED },
    { "VALIDATION PENDING", ST_RECEIVED },
    { "OPEN PENDING", ST_RECEIVED },
    { "AMO REQ RECEIVED", ST_RECEIVED },
    { "OPEN", ST_WORKING },
    { "TRIGGER PENDING", ST_WORKING },
    { "MODIFY VALIDATION PENDING", ST_WORKING },
    { "MODIFY PENDING", ST_WORKING },
    { "MODIFIED", ST_WORKING },
    { "UPDATE", ST_WORKING },         /* socket updates of a partial fill */
    { "CANCEL PENDING", ST_CANCELLING },
    { "COMPLETE", ST_FILLED },
    { "CANCELLED", ST_CANCELLED },
    { "REJECTED", ST_REJECTED },
};

enum hh_ord_state hh_kite__state(const char *status, hh_qty_t qty, hh_qty_t filled,
                                 bool *known)
{
    enum st_kind kind = ST_WORKING;

    *known = false;
    for (size_t i = 0; i < sizeof statuses / sizeof statuses[0]; i++) {
        if (strcmp(status, statuses[i].name) == 0) {
            kind = statuses[i].kind;
            *known = true;
            break;
        }
    }
    switch (kind) {
    case ST_RECEIVED:
        return filled > 0 ? HH_OS_PARTIAL : HH_OS_SENT;
    case ST_CANCELLING:
        return HH_OS_CANCEL_PENDING;
    case ST_FILLED:
        return HH_OS_FILLED;
    case ST_CANCELLED:
        return HH_OS_CANCELLED;
    case ST_REJECTED:
        return HH_OS_REJECTED;
    case ST_WORKING:
        break;
    }
    /* OPEN with everything filled is a COMPLETE on its way: still working
     * here; the fill report (filled == qty) ends the order. */
    (void)qty;
    return filled > 0 ? HH_OS_PARTIAL : HH_OS_OPEN;
}

/* ---- errors ----------------------------------------------------------- */

int hh_kite__map_error(long http, const char *error_type, enum hh_kite__call call)
{
    static const char *const refusals[] = {
        "InputException", "OrderException", "MarginException", "UserException",
        "PermissionException",
    };
    const char *t = error_type ? error_type : "";

    if (strcmp(t, "TokenException") == 0 || (!*t && http == 403))
        return HH_EAUTH;
    for (size_t i = 0; i < sizeof refusals / sizeof refusals[0]; i++)
        if (strcmp(t, refusals[i]) == 0)
            return HH_EBROKER;
    /* A 4xx without a known type was still refused by the broker. */
    if (!*t && http >= 400 && http < 500)
        return HH_EBROKER;
    /* Network/Data/GeneralException, 5xx, anything unknown: the broker may
     * have acted (DOMAIN §8) — for an order call the outcome is unknown. */
    return hh_kite__is_order_call(call) ? HH_ETIMEOUT : HH_EUNAVAIL;
}

int hh_kite__map_transport(bool timed_out, bool sent, enum hh_kite__call call)
{
    if (!sent)
        return HH_EUNAVAIL;
    if (hh_kite__is_order_call(call) || timed_out)
        return HH_ETIMEOUT;
    return HH_EUNAVAIL;
}

/* ---- forms ------------------------------------------------------------ */

void hh_kite__form_init(struct hh_kite__form *f)
{
    f->n = 0;
    f->overflow = false;
    f->buf[0] = '\0';
}

static void form_put(struct hh_kite__form *f, const char *s, size_t n)
{
    if (f->overflow || f->n + n >= sizeof f->buf) {
        f->overflow = true;
        return;
    }
    memcpy(f->buf + f->n, s, n);
    f->n += n;
    f->buf[f->n] = '\0';
}

/* Percent-encode per the form encoding: unreserved bytes stay, space is '+'. */
static void form_escape(struct hh_kite__form *f, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";

    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        char e[3];

        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
            c == '-' || c == '.' || c == '_' || c == '~') {
            form_put(f, (const char *)&c, 1);
        } else if (c == ' ') {
            form_put(f, "+", 1);
        } else {
            e[0] = '%';
            e[1] = hex[c >> 4];
            e[2] = hex[c & 15];
            form_put(f, e, 3);
        }
    }
}

void hh_kite__form_add(struct hh_kite__form *f, const char *key, const char *val)
{
    if (f->n)
        form_put(f, "&", 1);
    form_escape(f, key);
    form_put(f, "=", 1);
    form_escape(f, val);
}

void hh_kite__form_int(struct hh_kite__form *f, const char *key, int64_t v)
{
    char buf[24];

    snprintf(buf, sizeof buf, "%lld", (long long)v);
    hh_kite__form_add(f, key, buf);
}

size_t hh_kite__price_text(hh_price_t v, char *buf, size_t cap)
{
    size_t n = hh_fx_format(buf, cap, v, HH_FX_DIGITS);

    /* exact with four places; drop trailing zeros and a bare point */
    while (n > 0 && buf[n - 1] == '0' && memchr(buf, '.', n))
        buf[--n] = '\0';
    if (n > 0 && buf[n - 1] == '.')
        buf[--n] = '\0';
    return n;
}

void hh_kite__form_price(struct hh_kite__form *f, const char *key, hh_price_t v)
{
    char buf[32];

    hh_kite__price_text(v, buf, sizeof buf);
    hh_kite__form_add(f, key, buf);
}

/* ---- exchanges -------------------------------------------------------- */

const char *hh_kite__exchange(const struct hh_instrument *in)
{
    bool deriv = in->seg == HH_SEG_FUT || in->seg == HH_SEG_OPT;

    if (in->type == HH_INST_INDEX)
        return NULL;
    switch (in->exch) {
    case HH_EXCH_NSE:
        if (in->seg == HH_SEG_CURRENCY)
            return "CDS";
        if (in->seg == HH_SEG_COMMODITY || in->seg == HH_SEG_AGRI)
            return "NCO";
        return deriv ? "NFO" : "NSE";
    case HH_EXCH_BSE:
        if (in->seg == HH_SEG_CURRENCY)
            return "BCD";
        return deriv ? "BFO" : "BSE";
    case HH_EXCH_MCX:
        return "MCX";
    case HH_EXCH_COUNT:
        break;
    }
    return NULL;
}

/* ---- URLs ------------------------------------------------------------- */

/* Loopback: 127.0.0.0/8, ::1, localhost (SPEC §13: tests only). */
static bool loopback_host(const char *h)
{
    unsigned a, b, c, d;
    char tail;

    if (strcasecmp(h, "localhost") == 0 || strcmp(h, "::1") == 0)
        return true;
    return sscanf(h, "%u.%u.%u.%u%c", &a, &b, &c, &d, &tail) == 4 && a == 127 && b < 256 &&
           c < 256 && d < 256;
}

static int url_scheme(const char *url, bool ws, bool *tls, const char **rest,
                      struct hh_diag *d)
{
    const char *secure = ws ? "wss://" : "https://", *plain = ws ? "ws://" : "http://";

    if (strncasecmp(url, secure, strlen(secure)) == 0) {
        *tls = true;
        *rest = url + strlen(secure);
    } else if (strncasecmp(url, plain, strlen(plain)) == 0) {
        *tls = false;
        *rest = url + strlen(plain);
    } else {
        return hh_diag_set(d, HH_ECONFIG, "%s: '%.80s' is not a %s URL",
                           ws ? "ws_url" : "api_url", url, ws ? "wss://" : "https://");
    }
    return HH_OK;
}

/* host[:port] or [v6][:port] from s[0..n). */
static int url_authority(const char *s, size_t n, struct hh_kite__url *out, const char *key,
                         struct hh_diag *d)
{
    const char *colon = NULL;
    size_t hn;

    if (n && s[0] == '[') {
        const char *end = memchr(s, ']', n);

        if (!end)
            return hh_diag_set(d, HH_ECONFIG, "%s: unterminated [address]", key);
        hn = (size_t)(end - s - 1);
        if (hn == 0 || hn >= sizeof out->host)
            return hh_diag_set(d, HH_ECONFIG, "%s: bad host", key);
        memcpy(out->host, s + 1, hn);
        out->host[hn] = '\0';
        if (end + 1 < s + n) {
            if (end[1] != ':')
                return hh_diag_set(d, HH_ECONFIG, "%s: bad host", key);
            colon = end + 1;
        }
    } else {
        colon = memchr(s, ':', n);
        hn = colon ? (size_t)(colon - s) : n;
        if (hn == 0 || hn >= sizeof out->host)
            return hh_diag_set(d, HH_ECONFIG, "%s: bad host", key);
        memcpy(out->host, s, hn);
        out->host[hn] = '\0';
    }
    if (colon) {
        char *e;
        long p = strtol(colon + 1, &e, 10);

        if (e != s + n || e == colon + 1 || p < 1 || p > 65535)
            return hh_diag_set(d, HH_ECONFIG, "%s: bad port", key);
        out->port = (int)p;
    }
    return HH_OK;
}

int hh_kite__url_parse(const char *url, bool ws, struct hh_kite__url *out,
                       struct hh_diag *d)
{
    const char *key = ws ? "ws_url" : "api_url", *rest = NULL, *slash;
    size_t n;
    int rc;

    memset(out, 0, sizeof *out);
    if (!url || !*url)
        return hh_diag_set(d, HH_ECONFIG, "%s: empty", key);
    if ((rc = url_scheme(url, ws, &out->tls, &rest, d)))
        return rc;
    slash = strchr(rest, '/');
    n = slash ? (size_t)(slash - rest) : strlen(rest);
    if (memchr(rest, '?', n) || memchr(rest, '@', n))
        return hh_diag_set(d, HH_ECONFIG, "%s: no user or query before the path", key);
    out->port = out->tls ? 443 : 80;
    if ((rc = url_authority(rest, n, out, key, d)))
        return rc;
    if (snprintf(out->path, sizeof out->path, "%s", slash ? slash : "/") >=
        (int)sizeof out->path)
        return hh_diag_set(d, HH_ECONFIG, "%s: path too long", key);
    if (!out->tls && !loopback_host(out->host))
        return hh_diag_set(d, HH_ECONFIG,
                           "%s: %s:// is allowed only on a loopback address, not '%s'", key,
                           ws ? "ws" : "http", out->host);
    return HH_OK;
}

/* ---- exec ids --------------------------------------------------------- */

uint64_t hh_kite__exec_id(uint64_t id, hh_qty_t cum)
{
    uint64_t x = id * 0x9E3779B97F4A7C15ull ^ (uint64_t)cum;

    /* splitmix64's finaliser: distinct inputs scatter over 63 bits */
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
    x ^= x >> 31;
    return x | (1ull << 63);
}
