/*
 * test_api_keys.c — the secret files: modes refused (naming the file and
 * the mode), syntax errors naming the line and never the secret, several
 * keys valid at once, rotation by a changed file (rewritten in place or
 * renamed over) and by hh_api_reload, a removed key refused from the next
 * check, a bad file failing closed, and the read token's file.
 */
#include "apitest.h"

#include "api/api_int.h"

#include <stdio.h>

#define K1 "k1 " AT_SECRET1 "\n"
#define K2 "k2 " AT_SECRET2 "\n"

static void assert_no_secret(const char *msg)
{
    if (strstr(msg, AT_SECRET1) || strstr(msg, AT_SECRET2) || strstr(msg, "0001020304") ||
        strstr(msg, AT_TOKEN))
        fail_msg("a secret in the message: %s", msg);
}

static int parse(const char *text, mode_t mode, struct hh_diag *d, size_t *n)
{
    const char *p = at_file(0, "keys", text, mode);
    struct hh_api_key *keys = NULL;
    int rc;

    *n = 0;
    memset(d, 0, sizeof *d);
    rc = hh_api__keys_parse(p, &keys, n, NULL, d);
    hh_api__keys_wipe(keys, *n);
    assert_no_secret(d->msg);
    return rc;
}

static void test_modes(void **state)
{
    static const mode_t refused[] = { 0644, 0640, 0604, 0620, 0602, 0660 };
    struct hh_diag d;
    size_t n;

    (void)state;
    for (size_t i = 0; i < sizeof refused / sizeof *refused; i++) {
        char want[16];

        assert_int_equal(parse(K1, refused[i], &d, &n), HH_ECONFIG);
        snprintf(want, sizeof want, "mode %04o", (unsigned)refused[i]);
        assert_non_null(strstr(d.msg, want));
        assert_non_null(strstr(d.msg, "/keys"));                 /* names the file */
    }
    assert_int_equal(parse(K1, 0600, &d, &n), HH_OK);
    assert_int_equal(parse(K1, 0400, &d, &n), HH_OK);
    assert_int_equal(n, 1);
    memset(&d, 0, sizeof d);
    assert_int_equal(hh_api__keys_parse("/nonexistent/keys", NULL, &n, NULL, &d), HH_EIO);
    assert_non_null(strstr(d.msg, "/nonexistent/keys"));
}

static void test_syntax(void **state)
{
    static const struct {
        const char *text, *why;
    } bad[] = {
        { "k1\n", "line 1: expected KEY_ID SECRET_HEX" },
        { K1 "k2 " AT_SECRET2 " extra\n", "line 2: expected" },
        { "# c\nk/1 " AT_SECRET1 "\n", "line 2: key id" },
        { "k1 000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e\n",
          "line 1: secret must be 64-256 hex digits" },                /* 31 bytes */
        { "k1 000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1\n",
          "line 1: secret must be 64-256" },                           /* odd */
        { "k1 0g0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n",
          "line 1: secret must be hex digits" },
        { K1 "\n" K2 "k1 " AT_SECRET2 "\n", "line 4: key id repeated" },
    };
    struct hh_diag d;
    size_t n;

    (void)state;
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        assert_int_equal(parse(bad[i].text, 0600, &d, &n), HH_ECONFIG);
        if (!strstr(d.msg, bad[i].why))
            fail_msg("case %zu: '%s' not in '%s'", i, bad[i].why, d.msg);
    }
    assert_int_equal(parse("# keys\r\n\r\n  " "k1 " AT_SECRET1 "\r\n\tk.2-x_y " AT_SECRET2
                           "  \n", 0600, &d, &n), HH_OK);
    assert_int_equal(n, 2);
    assert_int_equal(parse("", 0600, &d, &n), HH_OK);
    assert_int_equal(n, 0);
}

static void test_key_read(void **state)
{
    const char *p = at_file(0, "keys", K1 K2, 0600);
    struct hh_api_key k;
    struct hh_diag d = { { 0 } };

    (void)state;
    assert_int_equal(hh_api_key_read(p, NULL, &k, &d), HH_OK);
    assert_string_equal(k.id, "k1");
    assert_int_equal(k.secret_len, 32);
    assert_int_equal(k.secret[31], 0x1f);
    assert_int_equal(hh_api_key_read(p, "k2", &k, &d), HH_OK);
    assert_int_equal(k.secret[0], 0xf0);
    assert_int_equal(hh_api_key_read(p, "k3", &k, &d), HH_ENOTFOUND);
    assert_non_null(strstr(d.msg, "no key k3"));
    chmod(p, 0644);
    assert_int_equal(hh_api_key_read(p, "k1", &k, &d), HH_ECONFIG);
}

static struct hh_api *make_api(const char *keys_text, struct hh_diag *d)
{
    const char *keys = at_file(0, "keys", keys_text, 0600);
    const char *token = at_file(1, "token", AT_TOKEN "\n", 0600);
    struct hh_api_config cfg = { .listen = "127.0.0.1:0", .keys_file = keys,
                                 .read_token_file = token,
                                 .nonce_file = tu_write_file(2, "n.nonces", "") };
    struct hh_api *a = NULL;

    memset(d, 0, sizeof *d);
    hh_api_new(&cfg, &a, d);
    return a;
}

static bool has(struct hh_api *a, const char *id)
{
    struct hh_api_key k;

    hh_api__keys_sync(&a->keys);
    return hh_api__keys_get(&a->keys, id, &k);
}

/* Replace the keys file by renaming a new one over it. */
static void rename_over(const char *text)
{
    const char *tmp = at_file(3, "keys.new", text, 0600);
    char dst[512];

    snprintf(dst, sizeof dst, "/tmp/hh-unit-%d/keys", (int)getpid());
    assert_int_equal(rename(tmp, dst), 0);
}

static void test_rotation_by_change(void **state)
{
    struct hh_diag d;
    struct hh_api *a = make_api(K1 K2, &d);

    (void)state;
    assert_non_null(a);
    assert_true(has(a, "k1"));                    /* several keys valid at once */
    assert_true(has(a, "k2"));
    rename_over(K2 "k3 " AT_SECRET1 "\n");        /* k1 removed, k3 added */
    assert_false(has(a, "k1"));
    assert_true(has(a, "k2"));
    assert_true(has(a, "k3"));
    at_file(0, "keys", K2, 0600);                 /* rewritten in place, shorter */
    assert_false(has(a, "k3"));
    assert_true(has(a, "k2"));
    hh_api_free(a);
}

static void test_reload_and_fail_closed(void **state)
{
    struct hh_diag d;
    struct hh_api *a = make_api(K1 K2, &d);
    struct hh_api_key k;

    (void)state;
    at_file(0, "keys", K2, 0600);
    assert_int_equal(hh_api_reload(a, &d), HH_OK);
    /* no sync here: the reload alone dropped k1 */
    assert_false(hh_api__keys_get(&a->keys, "k1", &k));
    assert_true(hh_api__keys_get(&a->keys, "k2", &k));
    at_file(0, "keys", K2 "bad line\n", 0600);
    assert_int_equal(hh_api_reload(a, &d), HH_ECONFIG);
    assert_non_null(strstr(d.msg, "line 2"));
    assert_no_secret(d.msg);
    assert_false(hh_api__keys_get(&a->keys, "k2", &k));     /* failed closed */
    assert_false(hh_api__token_ok(&a->keys, AT_TOKEN));
    at_file(0, "keys", K1, 0644);                            /* fixed, but loose */
    assert_int_equal(hh_api_reload(a, &d), HH_ECONFIG);
    assert_false(hh_api__keys_get(&a->keys, "k1", &k));
    at_file(0, "keys", K1, 0600);
    assert_int_equal(hh_api_reload(a, &d), HH_OK);
    assert_true(hh_api__keys_get(&a->keys, "k1", &k));
    assert_true(hh_api__token_ok(&a->keys, AT_TOKEN));
    hh_api_free(a);
}

static void test_start_refuses_loose_files(void **state)
{
    struct hh_diag d;
    struct hh_api *a;
    const char *keys = at_file(0, "keys", K1, 0600);
    const char *token = at_file(1, "token", AT_TOKEN "\n", 0644);
    struct hh_api_config cfg = { .listen = "127.0.0.1:0", .keys_file = keys,
                                 .read_token_file = token,
                                 .nonce_file = tu_write_file(2, "n.nonces", "") };

    (void)state;
    memset(&d, 0, sizeof d);
    assert_int_equal(hh_api_new(&cfg, &a, &d), HH_ECONFIG);
    assert_null(a);
    assert_non_null(strstr(d.msg, "read token file"));
    assert_non_null(strstr(d.msg, token));
    assert_no_secret(d.msg);
    chmod(token, 0600);
    chmod(keys, 0640);
    assert_int_equal(hh_api_new(&cfg, &a, &d), HH_ECONFIG);
    assert_non_null(strstr(d.msg, "keys file"));
    assert_non_null(strstr(d.msg, "mode 0640"));
    assert_no_secret(d.msg);
    chmod(keys, 0600);
    assert_int_equal(hh_api_new(&cfg, &a, &d), HH_OK);
    hh_api_free(a);
    cfg.nonce_file = NULL;                    /* keys without a nonce file */
    assert_int_equal(hh_api_new(&cfg, &a, &d), HH_ECONFIG);
    assert_non_null(strstr(d.msg, "nonce"));
}

static void test_token_file(void **state)
{
    static const char *const bad[] = { "short\n", "read-token-0123456789\nsecond-line-012345\n",
                                       "\n\n", "token with spaces inside\n" };
    struct hh_api_config cfg = { .listen = "127.0.0.1:0" };
    struct hh_diag d;
    struct hh_api *a;

    (void)state;
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        cfg.read_token_file = at_file(1, "token", bad[i], 0600);
        memset(&d, 0, sizeof d);
        assert_int_equal(hh_api_new(&cfg, &a, &d), HH_ECONFIG);
        assert_non_null(strstr(d.msg, "read token file"));
        assert_null(strstr(d.msg, "0123456789"));
    }
    cfg.read_token_file = at_file(1, "token", "\n" AT_TOKEN "\n\n", 0600);
    assert_int_equal(hh_api_new(&cfg, &a, &d), HH_OK);
    assert_true(hh_api__token_ok(&a->keys, AT_TOKEN));
    at_file(1, "token", "another-token-0123456789\n", 0600);    /* rotated */
    hh_api__keys_sync(&a->keys);
    assert_false(hh_api__token_ok(&a->keys, AT_TOKEN));
    assert_true(hh_api__token_ok(&a->keys, "another-token-0123456789"));
    hh_api_free(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_modes),
        cmocka_unit_test(test_syntax),
        cmocka_unit_test(test_key_read),
        cmocka_unit_test(test_rotation_by_change),
        cmocka_unit_test(test_reload_and_fail_closed),
        cmocka_unit_test(test_start_refuses_loose_files),
        cmocka_unit_test(test_token_file),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);

    tu_cleanup();
    return rc;
}
