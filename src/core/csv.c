/*
 * csv.c — CSV field splitting.
 */
#include "core/csv.h"

#include <string.h>
#include <strings.h>

static int split_quoted(const char *line, size_t len, struct hh_field *f, int max,
                        char *scratch)
{
    size_t i = 0, out = 0;
    int nf = 0;

    for (;;) {
        const char *start;
        size_t n;

        if (i < len && line[i] == '"') {
            start = scratch + out;
            i++;
            for (;;) {
                if (i >= len)
                    return HH_ESYNTAX;
                if (line[i] == '"') {
                    if (i + 1 < len && line[i + 1] == '"') {
                        scratch[out++] = '"';
                        i += 2;
                        continue;
                    }
                    i++;
                    break;
                }
                scratch[out++] = line[i++];
            }
            n = (size_t)(scratch + out - start);
            if (i < len && line[i] != ',')
                return HH_ESYNTAX;
        } else {
            const char *c = memchr(line + i, ',', len - i);
            size_t e = c ? (size_t)(c - line) : len;

            start = line + i;
            n = e - i;
            if (memchr(start, '"', n))
                return HH_ESYNTAX;
            i = e;
        }
        if (nf < max) {
            f[nf].p = start;
            f[nf].n = n;
        }
        nf++;
        if (i >= len)
            return nf;
        i++; /* the comma */
    }
}

int hh_csv_split(const char *line, size_t len, struct hh_field *f, int max,
                 char *scratch)
{
    const char *p = line, *end = line + len;
    int nf = 0;

    if (memchr(line, '"', len)) {
        if (!scratch)
            return HH_ESYNTAX;
        return split_quoted(line, len, f, max, scratch);
    }
    for (;;) {
        const char *c = memchr(p, ',', (size_t)(end - p));
        const char *e = c ? c : end;

        if (nf < max) {
            f[nf].p = p;
            f[nf].n = (size_t)(e - p);
        }
        nf++;
        if (!c)
            return nf;
        p = c + 1;
    }
}

bool hh_field_eq(struct hh_field f, const char *s)
{
    size_t n = strlen(s);

    return f.n == n && memcmp(f.p, s, n) == 0;
}

struct hh_field hh_field_trim(struct hh_field f)
{
    while (f.n && (f.p[0] == ' ' || f.p[0] == '\t'))
        f.p++, f.n--;
    while (f.n && (f.p[f.n - 1] == ' ' || f.p[f.n - 1] == '\t'))
        f.n--;
    return f;
}

#define HEADER_MAX_FIELDS 64

int hh_csv_header(const char *line, size_t len, const char *const *names, int n,
                  int *idx)
{
    struct hh_field f[HEADER_MAX_FIELDS];
    char scratch[4096];
    int nf;

    /* A UTF-8 byte-order mark before the first name is not part of it. */
    if (len >= 3 && memcmp(line, "\xEF\xBB\xBF", 3) == 0)
        line += 3, len -= 3;
    nf = hh_csv_split(line, len, f, HEADER_MAX_FIELDS,
                      len <= sizeof scratch ? scratch : NULL);
    if (nf < 0)
        return nf;
    for (int i = 0; i < n; i++) {
        idx[i] = -1;
        for (int k = 0; k < nf && k < HEADER_MAX_FIELDS; k++) {
            struct hh_field t = hh_field_trim(f[k]);

            if (t.n == strlen(names[i]) && strncasecmp(t.p, names[i], t.n) == 0) {
                idx[i] = k;
                break;
            }
        }
    }
    return nf;
}
