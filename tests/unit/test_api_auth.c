/*
 * test_api_auth.c — who may ask (SPEC §12): the allowlist (CIDR, IPv4,
 * IPv6, IPv4-mapped), the signature against vectors computed with the
 * openssl command line, the refusal matrix of signed requests in its
 * order (each code, and the first code winning when a request has several
 * defects), the nonce spent only by a good signature, the window's edges,
 * the read token, and that secrets are compared with CRYPTO_memcmp over
 * their whole length (this program interposes CRYPTO_memcmp to watch).
 */
#include "apitest.h"

#include "api/api_int.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <netinet/in.h>
#include <openssl/crypto.h>

/* ---- CRYPTO_memcmp, watched --------------------------------------------- */

static _Atomic int ct_calls;
static size_t ct_last_len;

int CRYPTO_memcmp(const void *in_a, const void *in_b, size_t len)
{
    const volatile unsigned char *a = in_a, *b = in_b;
    unsigned char x = 0;

    for (size_t i = 0; i < len; i++)
        x |= a[i] ^ b[i];
    atomic_fetch_add(&ct_calls, 1);
    ct_last_len = len;
    return x;
}

/* ---- the allowlist ----------------------------------------------------- */

static struct sockaddr_storage v4(const char *s)
{
    struct sockaddr_storage ss = { 0 };
    struct sockaddr_in *a = (struct sockaddr_in *)&ss;

    a->sin_family = AF_INET;
    inet_pton(AF_INET, s, &a->sin_addr);
    return ss;
}

static struct sockaddr_storage v6(const char *s)
{
    struct sockaddr_storage ss = { 0 };
    struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;

    a->sin6_family = AF_INET6;
    inet_pton(AF_INET6, s, &a->sin6_addr);
    return ss;
}

static bool allows(const char *const *cidrs, int n, struct sockaddr_storage ss)
{
    struct hh_api__net nets[8];

    for (int i = 0; i < n; i++)
        assert_int_equal(hh_api__net_parse(cidrs[i], &nets[i]), HH_OK);
    return hh_api__net_allows(nets, (size_t)n, (struct sockaddr *)&ss);
}

static void test_cidr_parse(void **state)
{
    static const char *const good[] = { "127.0.0.1/32", "10.0.0.0/8", "0.0.0.0/0", "::1/128",
                                        "fd00::/8", "::/0", "192.168.1.7", "2001:db8::1" };
    static const char *const bad[] = { "", "/8", "10.0.0.0/", "10.0.0.0/33", "::1/129",
                                       "10.0.0.0/8x", "10.0.0/8", "localhost", "1.2.3.4/-1",
                                       "::1/1000", "1.2.3.4 /8" };
    struct hh_api__net n;

    (void)state;
    for (size_t i = 0; i < sizeof good / sizeof *good; i++)
        assert_int_equal(hh_api__net_parse(good[i], &n), HH_OK);
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        if (hh_api__net_parse(bad[i], &n) == HH_OK)
            fail_msg("'%s' parsed", bad[i]);
    }
    assert_int_equal(hh_api__net_parse("10.1.2.3/8", &n), HH_OK);
    assert_int_equal(n.prefix, 8);
    assert_int_equal(n.addr[1], 0);                  /* host bits cleared */
    assert_int_equal(hh_api__net_parse("192.168.1.7", &n), HH_OK);
    assert_int_equal(n.prefix, 32);
}

static void test_cidr_allows(void **state)
{
    static const char *const lo[] = { "127.0.0.1/32", "::1/128" };
    static const char *const lan[] = { "10.1.2.3/8", "fd00:1:2::/48" };
    static const char *const odd[] = { "192.168.1.0/25" };
    static const char *const any4[] = { "0.0.0.0/0" };

    (void)state;
    assert_true(allows(lo, 2, v4("127.0.0.1")));
    assert_false(allows(lo, 2, v4("127.0.0.2")));
    assert_true(allows(lo, 2, v6("::1")));
    assert_false(allows(lo, 2, v6("::2")));
    assert_true(allows(lo, 2, v6("::ffff:127.0.0.1")));  /* mapped: as IPv4 */
    assert_false(allows(lo, 2, v6("::ffff:127.0.0.2")));
    assert_true(allows(lan, 2, v4("10.255.0.9")));
    assert_false(allows(lan, 2, v4("11.0.0.1")));
    assert_true(allows(lan, 2, v6("fd00:1:2:ffff::5")));
    assert_false(allows(lan, 2, v6("fd00:1:3::5")));
    assert_true(allows(odd, 1, v4("192.168.1.127")));
    assert_false(allows(odd, 1, v4("192.168.1.128")));
    assert_true(allows(any4, 1, v4("8.8.8.8")));
    assert_false(allows(any4, 1, v6("2001:db8::1")));    /* other family */
    assert_false(allows(lo, 0, v4("127.0.0.1")));        /* empty list: nobody */
    assert_false(hh_api__net_allows(NULL, 0, NULL));
}

/* ---- signing ------------------------------------------------------------ */

static void test_sign_known_answers(void **state)
{
    struct hh_api_key k = at_key("k1", AT_SECRET1);
    char sig[65];

    (void)state;
    /* printf 'TS\nNONCE\nMETHOD\nTARGET\nBODYHASH' | openssl dgst -sha256 -mac HMAC
     *   -macopt hexkey:SECRET */
    assert_int_equal(hh_api_sign(&k, "1717390800000", "abcdefghijklmnop_-", "POST",
                                 "/api/v1/kill", "{\"action\":\"halt\",\"reason\":\"test\"}",
                                 33, sig), HH_OK);
    assert_string_equal(sig, "8c9d75cb523d7ad235b4f068a85678fef182368fa6df3d69eccf9ea227a7f2bc");
    assert_int_equal(hh_api_sign(&k, "1717390800000", "abcdefghijklmnop_-", "GET",
                                 "/api/v1/report/daily?date=2024-06-03", NULL, 0, sig), HH_OK);
    assert_string_equal(sig, "7c7eeea305f281e1e255bfa2e5be0ecf503437bb6535eb8f6b35b2a36bc4af90");
}

/* ---- the refusal matrix ------------------------------------------------- */

static int64_t fake_now = 1717390800000;

static int64_t fake_clock(void *ctx)
{
    (void)ctx;
    return fake_now;
}

static struct hh_api *make_api(void)
{
    const char *keys = at_file(0, "keys", "# two keys\nk1 " AT_SECRET1 "\n\nk2 " AT_SECRET2
                               "\n", 0600);
    const char *token = at_file(1, "token", AT_TOKEN "\n", 0600);
    const char *nonces = tu_write_file(2, "n.nonces", "");
    struct hh_api_config cfg = { .listen = "127.0.0.1:0", .keys_file = keys,
                                 .read_token_file = token, .nonce_file = nonces,
                                 .window_s = 300, .clock = fake_clock };
    struct hh_diag d = { { 0 } };
    struct hh_api *a = NULL;

    if (hh_api_new(&cfg, &a, &d) != HH_OK)
        fail_msg("hh_api_new: %s", d.msg);
    return a;
}

struct req {
    const char *key, *ts, *nonce, *sig, *method, *target, *body;
    char tsbuf[24], sigbuf[65];
};

/* A well-formed request signed with `secret` at `ts`. */
static struct req good(const char *key, const char *secret, int64_t ts, const char *nonce,
                       const char *body)
{
    struct req r = { key, NULL, nonce, NULL, "POST", "/api/v1/kill", body, { 0 }, { 0 } };
    struct hh_api_key k = at_key(key, secret);

    snprintf(r.tsbuf, sizeof r.tsbuf, "%lld", (long long)ts);
    hh_api_sign(&k, r.tsbuf, nonce, r.method, r.target, body, strlen(body), r.sigbuf);
    return r;
}

static int verify(struct hh_api *a, struct req *r)
{
    struct hh_api__sigreq s = { r->key, r->ts ? r->ts : r->tsbuf, r->nonce,
                                r->sig ? r->sig : r->sigbuf, r->method, r->target, r->body,
                                strlen(r->body) };
    char key_id[HH_API_KEY_ID_MAX + 1] = "";
    struct hh_api__nonce claim;

    return hh_api__verify(a, &s, fake_now, key_id, &claim);
}

#define BODY "{\"action\":\"halt\"}"
#define N1   "nonce-0000000001"

static void test_each_refusal(void **state)
{
    struct hh_api *a = make_api();
    struct req r;

    (void)state;
    r = good("k1", AT_SECRET1, fake_now, N1, BODY);
    r.key = NULL;
    assert_int_equal(verify(a, &r), HH_API_REF_MISSING_AUTH);
    r = good("k1", AT_SECRET1, fake_now, N1, BODY);
    r.ts = "";
    assert_int_equal(verify(a, &r), HH_API_REF_MISSING_AUTH);
    r = good("k1", AT_SECRET1, fake_now, N1, BODY);
    r.sig = NULL, r.sigbuf[0] = '\0';
    assert_int_equal(verify(a, &r), HH_API_REF_MISSING_AUTH);
    r = good("k1", AT_SECRET1, fake_now, "short", BODY);            /* < 16 characters */
    assert_int_equal(verify(a, &r), HH_API_REF_MISSING_AUTH);
    r = good("k1", AT_SECRET1, fake_now, "nonce with spaces", BODY);
    assert_int_equal(verify(a, &r), HH_API_REF_MISSING_AUTH);
    r = good("k9", AT_SECRET1, fake_now, N1, BODY);
    assert_int_equal(verify(a, &r), HH_API_REF_UNKNOWN_KEY);
    r = good("k1", AT_SECRET1, fake_now - 300001, N1, BODY);
    assert_int_equal(verify(a, &r), HH_API_REF_STALE_TIMESTAMP);
    r = good("k1", AT_SECRET1, fake_now + 300001, N1, BODY);
    assert_int_equal(verify(a, &r), HH_API_REF_STALE_TIMESTAMP);
    r = good("k1", AT_SECRET1, fake_now, N1, BODY);
    r.ts = "17173908e5";
    assert_int_equal(verify(a, &r), HH_API_REF_STALE_TIMESTAMP);
    r = good("k1", AT_SECRET2, fake_now, N1, BODY);                 /* another key's secret */
    assert_int_equal(verify(a, &r), HH_API_REF_BAD_SIGNATURE);
    r = good("k1", AT_SECRET1, fake_now, N1, BODY);
    r.body = "{\"action\":\"flatten\"}";                            /* signed another body */
    assert_int_equal(verify(a, &r), HH_API_REF_BAD_SIGNATURE);
    r = good("k1", AT_SECRET1, fake_now, N1, BODY);
    r.target = "/api/v1/resume";                                    /* another path */
    assert_int_equal(verify(a, &r), HH_API_REF_BAD_SIGNATURE);
    r = good("k1", AT_SECRET1, fake_now, N1, BODY);
    for (char *p = r.sigbuf; *p; p++)
        *p = (char)toupper((unsigned char)*p);                      /* not lowercase hex */
    assert_int_equal(verify(a, &r), HH_API_REF_BAD_SIGNATURE);
    r = good("k1", AT_SECRET1, fake_now, N1, BODY);
    r.sigbuf[63] = '\0';                                            /* truncated */
    assert_int_equal(verify(a, &r), HH_API_REF_BAD_SIGNATURE);
    r = good("k1", AT_SECRET1, fake_now, N1, BODY);
    assert_int_equal(verify(a, &r), HH_API__VERIFY_OK);
    assert_int_equal(verify(a, &r), HH_API_REF_REPLAYED_NONCE);
    hh_api_free(a);
}

static void test_first_defect_wins(void **state)
{
    struct hh_api *a = make_api();
    struct req r;

    (void)state;
    /* unknown key, stale, bad signature: UNKNOWN_KEY */
    r = good("nobody", AT_SECRET2, fake_now - 999999, N1, BODY);
    assert_int_equal(verify(a, &r), HH_API_REF_UNKNOWN_KEY);
    /* bad nonce and unknown key: MISSING_AUTH */
    r = good("nobody", AT_SECRET1, fake_now, "x", BODY);
    assert_int_equal(verify(a, &r), HH_API_REF_MISSING_AUTH);
    /* stale and bad signature: STALE_TIMESTAMP */
    r = good("k1", AT_SECRET2, fake_now - 999999, N1, BODY);
    assert_int_equal(verify(a, &r), HH_API_REF_STALE_TIMESTAMP);
    /* bad signature with a spent nonce: BAD_SIGNATURE, and it spends nothing */
    r = good("k2", AT_SECRET2, fake_now, "nonce-spent-000001", BODY);
    assert_int_equal(verify(a, &r), HH_API__VERIFY_OK);
    r = good("k2", AT_SECRET1, fake_now, "nonce-spent-000001", BODY);
    assert_int_equal(verify(a, &r), HH_API_REF_BAD_SIGNATURE);
    hh_api_free(a);
}

static void test_nonce_spent_only_by_good_signature(void **state)
{
    struct hh_api *a = make_api();
    struct req r;

    (void)state;
    for (int i = 0; i < 3; i++) {
        r = good("k1", AT_SECRET2, fake_now, "nonce-unspent-0001", BODY);
        assert_int_equal(verify(a, &r), HH_API_REF_BAD_SIGNATURE);
        r = good("k1", AT_SECRET1, fake_now - 400000, "nonce-unspent-0001", BODY);
        assert_int_equal(verify(a, &r), HH_API_REF_STALE_TIMESTAMP);
    }
    r = good("k1", AT_SECRET1, fake_now, "nonce-unspent-0001", BODY);
    assert_int_equal(verify(a, &r), HH_API__VERIFY_OK);
    /* spent for every key, not only the one that spent it */
    r = good("k2", AT_SECRET2, fake_now, "nonce-unspent-0001", BODY);
    assert_int_equal(verify(a, &r), HH_API_REF_REPLAYED_NONCE);
    hh_api_free(a);
}

static void test_window_edges_and_expiry(void **state)
{
    struct hh_api *a = make_api();
    struct hh_api__sigreq s;
    struct hh_api__nonce claim;
    char key_id[HH_API_KEY_ID_MAX + 1] = "";
    struct req r;

    (void)state;
    r = good("k2", AT_SECRET2, fake_now - 300000, "nonce-edge-old-01", BODY);
    assert_int_equal(verify(a, &r), HH_API__VERIFY_OK);
    r = good("k2", AT_SECRET2, fake_now + 300000, "nonce-edge-new-01", BODY);
    s = (struct hh_api__sigreq){ r.key, r.tsbuf, r.nonce, r.sigbuf, r.method, r.target,
                                 r.body, strlen(r.body) };
    assert_int_equal(hh_api__verify(a, &s, fake_now, key_id, &claim), HH_API__VERIFY_OK);
    assert_string_equal(key_id, "k2");
    /* kept until a request from the future stops passing the check */
    assert_int_equal(claim.expiry_ms, fake_now + 300000 + 300000);
    /* the old one expires with its timestamp's window: reusable after it */
    fake_now += 300001;
    r = good("k2", AT_SECRET2, fake_now, "nonce-edge-old-01", BODY);
    assert_int_equal(verify(a, &r), HH_API__VERIFY_OK);
    r = good("k2", AT_SECRET2, fake_now, "nonce-edge-new-01", BODY);
    assert_int_equal(verify(a, &r), HH_API_REF_REPLAYED_NONCE);
    fake_now -= 300001;
    hh_api_free(a);
}

/* ---- constant-time comparisons and the token --------------------------- */

static void test_secrets_compared_in_constant_time(void **state)
{
    struct hh_api *a = make_api();
    struct req r;
    int before;

    (void)state;
    r = good("k1", AT_SECRET1, fake_now, "nonce-ct-00000001", BODY);
    r.sigbuf[0] = r.sigbuf[0] == 'a' ? 'b' : 'a';             /* first character wrong */
    before = atomic_load(&ct_calls);
    assert_int_equal(verify(a, &r), HH_API_REF_BAD_SIGNATURE);
    assert_int_equal(atomic_load(&ct_calls), before + 1);
    assert_int_equal(ct_last_len, 64);                         /* the whole signature */
    r.sig = "abc";                                             /* short: still 64 compared */
    before = atomic_load(&ct_calls);
    assert_int_equal(verify(a, &r), HH_API_REF_BAD_SIGNATURE);
    assert_int_equal(atomic_load(&ct_calls), before + 1);
    assert_int_equal(ct_last_len, 64);
    before = atomic_load(&ct_calls);
    assert_false(hh_api__token_ok(&a->keys, "x"));
    assert_int_equal(atomic_load(&ct_calls), before + 1);
    assert_int_equal(ct_last_len, 32);                         /* digests, not the token */
    hh_api_free(a);
}

static void test_read_token(void **state)
{
    struct hh_api *a = make_api();
    struct hh_api *b;
    struct hh_api_config cfg = { .listen = "127.0.0.1:0" };
    struct hh_diag d;

    (void)state;
    assert_true(hh_api__token_configured(&a->keys));
    assert_true(hh_api__token_ok(&a->keys, AT_TOKEN));
    assert_false(hh_api__token_ok(&a->keys, AT_TOKEN "x"));
    assert_false(hh_api__token_ok(&a->keys, "read-token-0123456789abcdeF"));
    assert_false(hh_api__token_ok(&a->keys, ""));
    hh_api_free(a);
    assert_int_equal(hh_api_new(&cfg, &b, &d), HH_OK);
    assert_false(hh_api__token_configured(&b->keys));
    assert_false(hh_api__token_ok(&b->keys, ""));
    hh_api_free(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cidr_parse),
        cmocka_unit_test(test_cidr_allows),
        cmocka_unit_test(test_sign_known_answers),
        cmocka_unit_test(test_each_refusal),
        cmocka_unit_test(test_first_defect_wins),
        cmocka_unit_test(test_nonce_spent_only_by_good_signature),
        cmocka_unit_test(test_window_edges_and_expiry),
        cmocka_unit_test(test_secrets_compared_in_constant_time),
        cmocka_unit_test(test_read_token),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);

    tu_cleanup();
    return rc;
}
