/*
 * detail.c — printing untrusted text and exact numbers into rejection
 * details (signal.c).
 */
#include "signal/signal_int.h"

#include "core/fixed.h"
#include "core/time.h"

#include <stdio.h>

/* A printable excerpt of untrusted text: ASCII 0x20-0x7e kept, other
 * bytes shown as '?', cut to 40 characters with "...". */
const char *hh_sig__show(char *buf, size_t cap, const char *s, size_t n)
{
    size_t i, lim = n > 40 ? 37 : n, o = 0;

    for (i = 0; i < lim && o + 1 < cap; i++)
        buf[o++] = s[i] >= 0x20 && s[i] < 0x7f ? s[i] : '?';
    if (lim < n)
        for (i = 0; i < 3 && o + 1 < cap; i++)
            buf[o++] = '.';
    buf[o] = '\0';
    return buf;
}

/* A fixed-point price with the fewest places >= 2 that show it exactly. */
const char *hh_sig__show_fx(char *buf, size_t cap, int64_t v)
{
    int places = HH_FX_DIGITS;

    while (places > 2 && v % 10 == 0) {
        v /= 10;
        places--;
    }
    hh_dec_format(buf, cap, v, places, places);
    return buf;
}

/* A ratio (1e-9 scale) with no trailing zeros. */
const char *hh_sig__show_ratio(char *buf, size_t cap, hh_ratio_t r)
{
    int places = HH_RATIO_DIGITS;

    while (places > 0 && r % 10 == 0) {
        r /= 10;
        places--;
    }
    hh_dec_format(buf, cap, r, places, places);
    return buf;
}

/* A duration in seconds, exact: "3600 s", "2.001 s", "0.0000005 s". */
const char *hh_sig__show_secs(char *buf, size_t cap, __int128 ns)
{
    bool neg = ns < 0;
    __int128 mag = neg ? -ns : ns;
    long long sec = (long long)(mag / HH_NS_PER_S);
    long long frac = (long long)(mag % HH_NS_PER_S);
    int places = 9;

    if (!frac) {
        snprintf(buf, cap, "%s%lld s", neg ? "-" : "", sec);
        return buf;
    }
    while (frac % 10 == 0) {
        frac /= 10;
        places--;
    }
    snprintf(buf, cap, "%s%lld.%0*lld s", neg ? "-" : "", sec, places, frac);
    return buf;
}
