/*
 * test_lines.c — the buffered line reader and CSV splitting: line numbers,
 * CRLF, missing final newline, over-long lines skipped without losing their
 * neighbours, follow mode, zero-copy consumption of buffered lines and the
 * pad after them, quoted CSV fields, headers.
 */
#include "testutil.h"

#include "core/csv.h"
#include "core/lines.h"

#include <fcntl.h>

static void test_basic_lines(void **state)
{
    const char *p = tu_write_file(0, "a.txt", "one\r\n\ntwo\nlast");
    struct hh_lines *lr;
    const char *l;
    size_t n;

    (void)state;
    assert_int_equal(hh_lines_open(&lr, p, 0, NULL), HH_OK);
    assert_int_equal(hh_lines_next(lr, &l, &n), 1);
    assert_int_equal(n, 3);
    assert_memory_equal(l, "one", 3);
    assert_int_equal(hh_lines_lineno(lr), 1);
    assert_int_equal(hh_lines_next(lr, &l, &n), 1);
    assert_int_equal(n, 0);
    assert_int_equal(hh_lines_next(lr, &l, &n), 1);
    assert_memory_equal(l, "two", 3);
    assert_int_equal(hh_lines_next(lr, &l, &n), 1);
    assert_int_equal(n, 4);
    assert_memory_equal(l, "last", 4);
    assert_int_equal(hh_lines_lineno(lr), 4);
    assert_int_equal(hh_lines_next(lr, &l, &n), 0);
    assert_int_equal(hh_lines_next(lr, &l, &n), 0);
    assert_int_equal(hh_lines_offset(lr), 14);
    hh_lines_close(lr);
}

/* Lines taken with hh_lines_buffered()/hh_lines_consume() count like
 * hh_lines_next()'s, mixed freely; the pad after the data is readable. */
static void test_buffered_consume(void **state)
{
    const char *p = tu_write_file(0, "b.txt", "ab\ncde\r\nf\ngh");
    struct hh_lines *lr;
    const char *l, *buf;
    size_t n;

    (void)state;
    assert_int_equal(hh_lines_open(&lr, p, 0, NULL), HH_OK);
    assert_int_equal(hh_lines_buffered(lr, &buf), 0);         /* nothing read yet */
    assert_int_equal(hh_lines_next(lr, &l, &n), 1);
    assert_memory_equal(l, "ab", 2);
    assert_int_equal(hh_lines_buffered(lr, &buf), 9);
    assert_memory_equal(buf, "cde\r\nf\ngh", 9);
    for (size_t i = 9; i < 9 + HH_LINES_PAD; i++)
        assert_int_equal(buf[i], 0);                           /* zeroed, in bounds */
    hh_lines_consume(lr, 5, 1);
    assert_int_equal(hh_lines_lineno(lr), 2);
    assert_int_equal(hh_lines_offset(lr), 8);
    assert_int_equal(hh_lines_next(lr, &l, &n), 1);
    assert_memory_equal(l, "f", 1);
    assert_int_equal(hh_lines_lineno(lr), 3);
    assert_int_equal(hh_lines_buffered(lr, &buf), 2);
    assert_int_equal(hh_lines_next(lr, &l, &n), 1);
    assert_memory_equal(l, "gh", 2);
    assert_int_equal(hh_lines_next(lr, &l, &n), 0);
    assert_int_equal(hh_lines_offset(lr), 12);
    hh_lines_close(lr);
}

static void test_overlong_line(void **state)
{
    size_t big = 3u << 20;   /* 3 MiB line with a 64 KiB limit */
    char *text = malloc(big + 64);
    struct hh_lines *lr;
    struct hh_diag d;
    const char *l, *p;
    size_t n;
    int rc;

    (void)state;
    strcpy(text, "before\n");
    memset(text + 7, 'x', big);
    strcpy(text + 7 + big, "\nafter\n");
    p = tu_write_file(1, "big.txt", text);
    free(text);
    assert_int_equal(hh_lines_open(&lr, p, 65536, NULL), HH_OK);
    assert_int_equal(hh_lines_next(lr, &l, &n), 1);
    assert_memory_equal(l, "before", 6);
    assert_int_equal(rc = hh_lines_next(lr, &l, &n), HH_EFULL);
    assert_int_equal(hh_lines_lineno(lr), 2);
    /* a loader that rejects the whole file names the line */
    assert_int_equal(hh_lines_end(lr, rc, "big.txt", &d), HH_ESYNTAX);
    assert_string_equal(d.msg, "big.txt:2: line too long");
    assert_int_equal(hh_lines_end(lr, 0, "big.txt", &d), HH_OK);
    assert_int_equal(hh_lines_next(lr, &l, &n), 1);
    assert_memory_equal(l, "after", 5);
    assert_int_equal(hh_lines_lineno(lr), 3);
    assert_int_equal(hh_lines_next(lr, &l, &n), 0);
    hh_lines_close(lr);
}

static void test_overlong_line_within_one_read(void **state)
{
    const char *p = tu_write_file(4, "short.txt", "ok\n0123456789abcdef\nend\n");
    struct hh_lines *lr;
    const char *l;
    size_t n;

    (void)state;
    /* a 16-byte line with an 8-byte limit, all inside the first read */
    assert_int_equal(hh_lines_open(&lr, p, 8, NULL), HH_OK);
    assert_int_equal(hh_lines_next(lr, &l, &n), 1);
    assert_int_equal(hh_lines_next(lr, &l, &n), HH_EFULL);
    assert_int_equal(hh_lines_lineno(lr), 2);
    assert_int_equal(hh_lines_next(lr, &l, &n), 1);
    assert_memory_equal(l, "end", 3);
    hh_lines_close(lr);
}

static void test_many_lines_across_reads(void **state)
{
    size_t count = 300000, i;
    FILE *f;
    char path[600];
    struct hh_lines *lr;
    const char *l;
    size_t n;
    char want[32];

    (void)state;
    snprintf(path, sizeof path, "%s", tu_write_file(2, "many.txt", ""));
    f = fopen(path, "w");
    for (i = 0; i < count; i++)
        fprintf(f, "line-%zu\n", i);
    fclose(f);
    assert_int_equal(hh_lines_open(&lr, path, 0, NULL), HH_OK);
    for (i = 0; i < count; i++) {
        assert_int_equal(hh_lines_next(lr, &l, &n), 1);
        snprintf(want, sizeof want, "line-%zu", i);
        assert_int_equal(n, strlen(want));
        assert_memory_equal(l, want, n);
    }
    assert_int_equal(hh_lines_next(lr, &l, &n), 0);
    hh_lines_close(lr);
}

static void test_missing_file(void **state)
{
    struct hh_lines *lr;
    struct hh_diag d;

    (void)state;
    assert_int_equal(hh_lines_open(&lr, "/nonexistent/x.csv", 0, &d), HH_EIO);
    assert_non_null(strstr(d.msg, "/nonexistent/x.csv: cannot open"));
    assert_int_equal(hh_lines_open(&lr, "/tmp", 0, &d), HH_EIO);
    assert_non_null(strstr(d.msg, "directory"));
}

static void test_follow(void **state)
{
    const char *p = tu_write_file(3, "follow.txt", "a\nparti");
    struct hh_lines *lr;
    const char *l;
    size_t n;
    FILE *f;

    (void)state;
    assert_int_equal(hh_lines_open(&lr, p, 0, NULL), HH_OK);
    hh_lines_set_follow(lr, true);
    assert_int_equal(hh_lines_next(lr, &l, &n), 1);
    assert_int_equal(hh_lines_next(lr, &l, &n), 0);   /* partial held back */
    f = fopen(p, "a");
    fputs("al\nb\n", f);
    fclose(f);
    assert_int_equal(hh_lines_next(lr, &l, &n), 1);
    assert_int_equal(n, 7);
    assert_memory_equal(l, "partial", 7);
    assert_int_equal(hh_lines_next(lr, &l, &n), 1);
    assert_memory_equal(l, "b", 1);
    assert_int_equal(hh_lines_next(lr, &l, &n), 0);
    assert_int_equal(hh_lines_lineno(lr), 3);
    hh_lines_close(lr);
}

static void test_csv_split(void **state)
{
    struct hh_field f[8];
    char scratch[128];
    const char *plain = "a,,b c,";
    const char *quoted = "\"x,y\",\"he said \"\"hi\"\"\",z";

    (void)state;
    assert_int_equal(hh_csv_split(plain, strlen(plain), f, 8, NULL), 4);
    assert_true(hh_field_eq(f[0], "a"));
    assert_int_equal(f[1].n, 0);
    assert_true(hh_field_eq(f[2], "b c"));
    assert_int_equal(f[3].n, 0);
    assert_int_equal(hh_csv_split(quoted, strlen(quoted), f, 8, scratch), 3);
    assert_true(hh_field_eq(f[0], "x,y"));
    assert_true(hh_field_eq(f[1], "he said \"hi\""));
    assert_true(hh_field_eq(f[2], "z"));
    assert_int_equal(hh_csv_split("\"open", 5, f, 8, scratch), HH_ESYNTAX);
    assert_int_equal(hh_csv_split("a\"b", 3, f, 8, scratch), HH_ESYNTAX);
    assert_int_equal(hh_csv_split("a,b,c", 5, f, 2, NULL), 3);   /* counts all */
    assert_true(hh_field_eq(hh_field_trim((struct hh_field){ " \tv \t", 5 }), "v"));
}

static void test_csv_header(void **state)
{
    static const char *const names[] = { "ts", "symbol", "price", "qty", "bid" };
    const char *h = "\xEF\xBB\xBF" "TS, symbol ,qty,price,extra";
    int idx[5];

    (void)state;
    assert_int_equal(hh_csv_header(h, strlen(h), names, 5, idx), 5);
    assert_int_equal(idx[0], 0);
    assert_int_equal(idx[1], 1);
    assert_int_equal(idx[2], 3);
    assert_int_equal(idx[3], 2);
    assert_int_equal(idx[4], -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_basic_lines),
        cmocka_unit_test(test_buffered_consume),
        cmocka_unit_test(test_overlong_line),
        cmocka_unit_test(test_overlong_line_within_one_read),
        cmocka_unit_test(test_many_lines_across_reads),
        cmocka_unit_test(test_missing_file),
        cmocka_unit_test(test_follow),
        cmocka_unit_test(test_csv_split),
        cmocka_unit_test(test_csv_header),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);

    tu_cleanup();
    return rc;
}
