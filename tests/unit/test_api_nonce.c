/*
 * test_api_nonce.c — spent nonces: a replay within the window refused, a
 * nonce reusable once it expired, the file surviving a reopen (a restart
 * reopens no replay), a torn last line skipped, expired lines dropped when
 * the file is compacted (at open and once it has grown), and the table
 * growing and purging.
 */
#include "apitest.h"

#include "api/api_int.h"

#define T0 1717390800000LL

static const char *nonce_path(void)
{
    static char p[512];

    snprintf(p, sizeof p, "/tmp/hh-unit-%d/n.nonces", (int)getpid());
    return p;
}

static int lines_in(const char *path)
{
    FILE *f = fopen(path, "r");
    int n = 0, c;

    if (!f)
        return -1;
    while ((c = fgetc(f)) != EOF)
        n += c == '\n';
    fclose(f);
    return n;
}

static void fresh(struct hh_api__nonces *ns, int64_t now)
{
    struct hh_diag d = { { 0 } };

    tu_write_file(0, "n.nonces", "");
    if (hh_api__nonces_open(ns, nonce_path(), now, &d) != HH_OK)
        fail_msg("open: %s", d.msg);
}

static void test_claim_replay_expiry(void **state)
{
    struct hh_api__nonces ns;
    struct hh_api__nonce c1, c2;

    (void)state;
    fresh(&ns, T0);
    assert_int_equal(hh_api__nonces_claim(&ns, "nonce-aaaaaaaaaaaa", T0 + 1000, T0, &c1), HH_OK);
    assert_int_equal(c1.expiry_ms, T0 + 1000);
    assert_int_equal(hh_api__nonces_claim(&ns, "nonce-aaaaaaaaaaaa", T0 + 5000, T0 + 999, &c2),
                     HH_EEXIST);
    assert_int_equal(hh_api__nonces_claim(&ns, "nonce-bbbbbbbbbbbb", T0 + 1000, T0, &c2), HH_OK);
    assert_memory_not_equal(c1.d, c2.d, 16);
    /* expired at T0 + 1000: spendable again, with its new expiry */
    assert_int_equal(hh_api__nonces_claim(&ns, "nonce-aaaaaaaaaaaa", T0 + 9000, T0 + 1000, &c1),
                     HH_OK);
    assert_int_equal(hh_api__nonces_claim(&ns, "nonce-aaaaaaaaaaaa", T0 + 9000, T0 + 8999, &c1),
                     HH_EEXIST);
    hh_api__nonces_close(&ns);
}

static void test_survives_reopen(void **state)
{
    struct hh_api__nonces ns;
    struct hh_api__nonce v[3];
    struct hh_diag d = { { 0 } };

    (void)state;
    fresh(&ns, T0);
    assert_int_equal(hh_api__nonces_claim(&ns, "nonce-000000000001", T0 + 1000, T0, &v[0]), 0);
    assert_int_equal(hh_api__nonces_claim(&ns, "nonce-000000000002", T0 + 2000, T0, &v[1]), 0);
    assert_int_equal(hh_api__nonces_claim(&ns, "nonce-000000000003", T0 + 3000, T0, &v[2]), 0);
    assert_int_equal(hh_api__nonces_write(&ns, v, 3, T0, &d), HH_OK);
    hh_api__nonces_close(&ns);
    assert_int_equal(lines_in(nonce_path()), 3);
    /* a restart 1.5 s later: the first expired, the others still spent */
    assert_int_equal(hh_api__nonces_open(&ns, nonce_path(), T0 + 1500, &d), HH_OK);
    assert_int_equal(lines_in(nonce_path()), 2);                  /* compacted */
    assert_int_equal(hh_api__nonces_claim(&ns, "nonce-000000000001", T0 + 9000, T0 + 1500,
                                          &v[0]), HH_OK);
    assert_int_equal(hh_api__nonces_claim(&ns, "nonce-000000000002", T0 + 9000, T0 + 1500,
                                          &v[0]), HH_EEXIST);
    assert_int_equal(hh_api__nonces_claim(&ns, "nonce-000000000003", T0 + 9000, T0 + 1500,
                                          &v[0]), HH_EEXIST);
    hh_api__nonces_close(&ns);
}

static void test_torn_and_foreign_lines(void **state)
{
    struct hh_api__nonces ns;
    struct hh_api__nonce v;
    struct hh_diag d = { { 0 } };
    char text[512];

    (void)state;
    fresh(&ns, T0);
    assert_int_equal(hh_api__nonces_claim(&ns, "nonce-kept-000001", T0 + 5000, T0, &v), 0);
    assert_int_equal(hh_api__nonces_write(&ns, &v, 1, T0, &d), HH_OK);
    hh_api__nonces_close(&ns);
    {
        FILE *f = fopen(nonce_path(), "a");

        fputs("garbage\n1717390805000 ZZ00000000000000000000000000000000\n", f);
        fputs("1717390805000 0011223344556677", f);          /* torn: no newline */
        fclose(f);
    }
    assert_int_equal(hh_api__nonces_open(&ns, nonce_path(), T0, &d), HH_OK);
    assert_int_equal(ns.n, 1);
    assert_int_equal(lines_in(nonce_path()), 1);
    assert_int_equal(hh_api__nonces_claim(&ns, "nonce-kept-000001", T0 + 5000, T0, &v),
                     HH_EEXIST);
    hh_api__nonces_close(&ns);
    {
        FILE *f = fopen(nonce_path(), "r");

        assert_non_null(fgets(text, sizeof text, f));
        fclose(f);
    }
    assert_int_equal(strlen(text), 14 + 32 + 1);                /* "EXPIRY HEX32\n" */
    assert_int_equal(strncmp(text, "1717390805000 ", 14), 0);
}

static void test_table_grows_and_purges(void **state)
{
    struct hh_api__nonces ns;
    struct hh_api__nonce v;
    char n[40];

    (void)state;
    fresh(&ns, T0);
    for (int i = 0; i < 20000; i++) {
        snprintf(n, sizeof n, "nonce-grow-%08d", i);
        assert_int_equal(hh_api__nonces_claim(&ns, n, T0 + 1000, T0, &v), HH_OK);
    }
    assert_int_equal(ns.n, 20000);
    assert_true(ns.cap >= 40000);
    for (int i = 0; i < 20000; i += 997) {
        snprintf(n, sizeof n, "nonce-grow-%08d", i);
        assert_int_equal(hh_api__nonces_claim(&ns, n, T0 + 1000, T0 + 1, &v), HH_EEXIST);
    }
    /* all expired: the next rebuild drops them instead of growing */
    for (int i = 0; i < 30000; i++) {
        snprintf(n, sizeof n, "nonce-late-%08d", i);
        assert_int_equal(hh_api__nonces_claim(&ns, n, T0 + 9000, T0 + 2000, &v), HH_OK);
    }
    assert_true(ns.n <= 30000 + ns.cap / 2);
    assert_true(ns.n < 50000);
    hh_api__nonces_close(&ns);
}

static void test_compaction_while_running(void **state)
{
    struct hh_api__nonces ns;
    struct hh_api__nonce v[1000];
    struct hh_diag d = { { 0 } };
    char n[40];
    int64_t now = T0;

    (void)state;
    fresh(&ns, now);
    /* 25 batches of 1000 short-lived nonces: ~1.3 MB of lines, nearly all
     * expired by the last batch */
    for (int b = 0; b < 25; b++, now += 1000) {
        for (int i = 0; i < 1000; i++) {
            snprintf(n, sizeof n, "nonce-run-%03d-%05d", b, i);
            assert_int_equal(hh_api__nonces_claim(&ns, n, now + 500, now, &v[i]), HH_OK);
        }
        assert_int_equal(hh_api__nonces_write(&ns, v, 1000, now, &d), HH_OK);
    }
    assert_true(ns.file_bytes < (1u << 20));
    assert_true(lines_in(nonce_path()) <= 20000);
    hh_api__nonces_close(&ns);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_claim_replay_expiry),
        cmocka_unit_test(test_survives_reopen),
        cmocka_unit_test(test_torn_and_foreign_lines),
        cmocka_unit_test(test_table_grows_and_purges),
        cmocka_unit_test(test_compaction_while_running),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);

    tu_cleanup();
    return rc;
}
