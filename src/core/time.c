/*
 * time.c — civil-date arithmetic (Howard Hinnant's days-from-civil
 * algorithm, re-derived here), ISO-8601 parsing and IST formatting.
 */
#include "core/time.h"

#include "core/err.h"

#include <string.h>

static const char *const month_abbr[12] = {
    "jan", "feb", "mar", "apr", "may", "jun",
    "jul", "aug", "sep", "oct", "nov", "dec",
};

hh_date_t hh_date_from_ymd(int y, int m, int d)
{
    /* Shift the year to start in March so the leap day is the year's last. */
    int64_t yy = (int64_t)y - (m <= 2);
    int64_t era = hh_time__floor_div(yy, 400);
    int64_t yoe = yy - era * 400;
    int64_t mp = (m + 9) % 12;
    int64_t doy = (153 * mp + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;

    return (hh_date_t)(era * 146097 + doe - 719468);
}

void hh_date_to_ymd(hh_date_t date, int *y, int *m, int *d)
{
    int64_t z = (int64_t)date + 719468;
    int64_t era = hh_time__floor_div(z, 146097);
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    int64_t dd = doy - (153 * mp + 2) / 5 + 1;
    int64_t mm = mp < 10 ? mp + 3 : mp - 9;

    *y = (int)(yoe + era * 400 + (mm <= 2));
    *m = (int)mm;
    *d = (int)dd;
}

static bool is_leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

int hh_days_in_month(int y, int m)
{
    static const int dim[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

    return m == 2 && is_leap(y) ? 29 : dim[m - 1];
}

bool hh_date_valid_ymd(int y, int m, int d)
{
    return y >= 1 && y <= 9999 && m >= 1 && m <= 12 && d >= 1 &&
           d <= hh_days_in_month(y, m);
}

int hh_date_weekday(hh_date_t date)
{
    /* 1970-01-01 was a Thursday (ISO 4). */
    int64_t w = hh_time__floor_div((int64_t)date + 3, 7);

    return (int)((int64_t)date + 3 - w * 7) + 1;
}

/* Parse exactly `n` digits at s; -1 when any is not a digit. */
static int num(const char *s, size_t n)
{
    int v = 0;

    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

static int month_from_abbr(const char *s)
{
    char low[3];

    for (int i = 0; i < 3; i++)
        low[i] = (char)(s[i] >= 'A' && s[i] <= 'Z' ? s[i] + 32 : s[i]);
    for (int i = 0; i < 12; i++)
        if (memcmp(low, month_abbr[i], 3) == 0)
            return i + 1;
    return -1;
}

int hh_date_parse(const char *s, size_t n, hh_date_t *out)
{
    int y, m, d;

    if (n == 10 && s[4] == '-' && s[7] == '-') {          /* YYYY-MM-DD */
        y = num(s, 4), m = num(s + 5, 2), d = num(s + 8, 2);
    } else if (n == 10 && s[2] == '-' && s[5] == '-') {   /* DD-MM-YYYY */
        d = num(s, 2), m = num(s + 3, 2), y = num(s + 6, 4);
    } else if (n == 11 && s[2] == '-' && s[6] == '-') {   /* DD-Mon-YYYY */
        d = num(s, 2), m = month_from_abbr(s + 3), y = num(s + 7, 4);
    } else {
        return HH_ESYNTAX;
    }
    if (!hh_date_valid_ymd(y, m, d))
        return HH_ESYNTAX;
    *out = hh_date_from_ymd(y, m, d);
    return HH_OK;
}

static void put2(char *p, int v)
{
    p[0] = (char)('0' + v / 10);
    p[1] = (char)('0' + v % 10);
}

size_t hh_date_format(hh_date_t date, char *buf, size_t cap)
{
    char tmp[11];
    int y, m, d;

    hh_date_to_ymd(date, &y, &m, &d);
    put2(tmp, y / 100);
    put2(tmp + 2, y % 100);
    tmp[4] = '-';
    put2(tmp + 5, m);
    tmp[7] = '-';
    put2(tmp + 8, d);
    tmp[10] = '\0';
    if (cap) {
        size_t c = cap - 1 < 10 ? cap - 1 : 10;

        memcpy(buf, tmp, c);
        buf[c] = '\0';
    }
    return 10;
}

static int fail(const char **why, const char *text)
{
    if (why)
        *why = text;
    return HH_ESYNTAX;
}

/* Parse the offset at s[0..n): Z, +HH:MM, +HHMM; ns east of UTC. */
static int parse_offset(const char *s, size_t n, int64_t *off, const char **why)
{
    int sign, hh, mm;

    if (n == 0)
        return fail(why, "no UTC offset (need Z or +HH:MM)");
    if (n == 1 && (s[0] == 'Z' || s[0] == 'z')) {
        *off = 0;
        return HH_OK;
    }
    if (s[0] != '+' && s[0] != '-')
        return fail(why, "bad UTC offset");
    sign = s[0] == '-' ? -1 : 1;
    if (n == 6 && s[3] == ':')
        hh = num(s + 1, 2), mm = num(s + 4, 2);
    else if (n == 5)
        hh = num(s + 1, 2), mm = num(s + 3, 2);
    else
        return fail(why, "bad UTC offset");
    if (hh < 0 || hh > 23 || mm < 0 || mm > 59)
        return fail(why, "bad UTC offset");
    *off = sign * (hh * HH_NS_PER_HOUR + mm * HH_NS_PER_MIN);
    return HH_OK;
}

/* The date part s[0..10) as a day number: from the memo when it holds the
 * same text; else parsed, checked and (when valid) remembered.  Returns
 * HH_OK, or HH_ESYNTAX with the reason of hh_time_parse(). */
static int parse_date_part(struct hh_time_memo *m, const char *s, int h, int mi,
                           hh_date_t *date, const char **why)
{
    int y, mo, d;

    if (m && m->valid && memcmp(s, m->ymd, 10) == 0) {
        if (h < 0 || h > 23 || mi < 0 || mi > 59)
            return fail(why, "date or time out of range");
        *date = m->date;
        return HH_OK;
    }
    y = num(s, 4), mo = num(s + 5, 2), d = num(s + 8, 2);
    if (!hh_date_valid_ymd(y, mo, d) || h < 0 || h > 23 || mi < 0 || mi > 59)
        return fail(why, "date or time out of range");
    /* ns since 1970 in int64 spans 1677-09-21 .. 2262-04-11: stay inside. */
    if (y < HH_TIME_YEAR_MIN || y > HH_TIME_YEAR_MAX)
        return fail(why, "year out of range (1678-2261)");
    *date = hh_date_from_ymd(y, mo, d);
    if (m) {
        memcpy(m->ymd, s, 10);
        m->date = *date;
        m->valid = true;
    }
    return HH_OK;
}

int hh_time_parse(const char *s, size_t n, hh_time_t *out, const char **why)
{
    return hh_time_parse_memo(NULL, s, n, out, why);
}

int hh_time_parse_memo(struct hh_time_memo *memo, const char *s, size_t n, hh_time_t *out,
                       const char **why)
{
    int h, mi, sec = 0;
    int64_t frac = 0, off;
    hh_date_t date;
    size_t i;
    int rc;

    if (n < 16 || s[4] != '-' || s[7] != '-' || s[13] != ':')
        return fail(why, "not an ISO-8601 date-time");
    if (s[10] != 'T' && s[10] != 't' && s[10] != ' ')
        return fail(why, "not an ISO-8601 date-time");
    h = num(s + 11, 2), mi = num(s + 14, 2);
    rc = parse_date_part(memo, s, h, mi, &date, why);
    if (rc)
        return rc;
    i = 16;
    if (i < n && s[i] == ':') {
        if (i + 3 > n || (sec = num(s + i + 1, 2)) < 0 || sec > 59)
            return fail(why, "bad seconds");
        i += 3;
        if (i < n && s[i] == '.') {
            int64_t scale = HH_NS_PER_S;
            size_t nd = 0;

            i++;
            while (i < n && s[i] >= '0' && s[i] <= '9') {
                if (++nd > 9)
                    return fail(why, "more than 9 fractional digits");
                scale /= 10;
                frac += (s[i] - '0') * scale;
                i++;
            }
            if (nd == 0)
                return fail(why, "empty fraction of a second");
        }
    }
    rc = parse_offset(s + i, n - i, &off, why);
    if (rc)
        return rc;
    *out = hh_time_from_utc(date, h * HH_NS_PER_HOUR + mi * HH_NS_PER_MIN +
                                      sec * HH_NS_PER_S + frac) - off;
    return HH_OK;
}

size_t hh_time_format(hh_time_t t, char *buf, size_t cap)
{
    char tmp[40];
    size_t len;
    int64_t tod = hh_time_ist_tod(t);
    int64_t sub = tod % HH_NS_PER_S;
    int64_t secs = tod / HH_NS_PER_S;

    hh_date_format(hh_time_ist_date(t), tmp, sizeof tmp);
    tmp[10] = 'T';
    put2(tmp + 11, (int)(secs / 3600));
    tmp[13] = ':';
    put2(tmp + 14, (int)(secs / 60 % 60));
    tmp[16] = ':';
    put2(tmp + 17, (int)(secs % 60));
    len = 19;
    if (sub) {
        int places = sub % HH_NS_PER_MS == 0 ? 3 : sub % 1000 == 0 ? 6 : 9;
        int64_t v = sub;

        for (int k = 9; k > places; k--)
            v /= 10;
        tmp[len++] = '.';
        for (int k = places - 1; k >= 0; k--) {
            tmp[len + (size_t)k] = (char)('0' + v % 10);
            v /= 10;
        }
        len += (size_t)places;
    }
    memcpy(tmp + len, "+05:30", 7);
    len += 6;
    if (cap) {
        size_t c = len < cap - 1 ? len : cap - 1;

        memcpy(buf, tmp, c);
        buf[c] = '\0';
    }
    return len;
}

void hh_time_put(FILE *f, hh_time_t t)
{
    char b[40];

    fwrite(b, 1, hh_time_format(t, b, sizeof b), f);
}
