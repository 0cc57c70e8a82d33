/*
 * test_digest.c — SHA-256 as hex: the FIPS 180-2 vectors, one call and a
 * reused context agreeing, an update split anywhere giving the same digest;
 * HMAC-SHA256: the RFC 4231 vectors (a key longer than the block among
 * them), a keyed context reused and split, a key refused when empty.
 */
#include "testutil.h"

#include "core/digest.h"
#include "core/err.h"

#define EMPTY "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define ABC "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
#define TWO_BLOCKS "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"
#define TWO_BLOCKS_TEXT "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"

static void test_known_vectors(void **state)
{
    char hex[HH_DIGEST_HEX];

    (void)state;
    assert_int_equal(hh_digest_hex(NULL, 0, hex), HH_OK);
    assert_string_equal(hex, EMPTY);
    assert_int_equal(hh_digest_hex("abc", 3, hex), HH_OK);
    assert_string_equal(hex, ABC);
    assert_int_equal(hh_digest_hex(TWO_BLOCKS_TEXT, strlen(TWO_BLOCKS_TEXT), hex), HH_OK);
    assert_string_equal(hex, TWO_BLOCKS);
}

static void test_context_reused_and_split(void **state)
{
    const char *text = TWO_BLOCKS_TEXT;
    size_t n = strlen(text);
    struct hh_digest h;
    char hex[HH_DIGEST_HEX];

    (void)state;
    assert_int_equal(hh_digest_init(&h), HH_OK);
    assert_int_equal(hh_digest_blob(&h, "abc", 3, hex), HH_OK);
    assert_string_equal(hex, ABC);
    for (size_t cut = 0; cut <= n; cut++) {
        assert_int_equal(hh_digest_begin(&h), HH_OK);
        hh_digest_update(&h, text, cut);
        hh_digest_update(&h, text + cut, n - cut);
        assert_int_equal(hh_digest_end(&h, hex), HH_OK);
        assert_string_equal(hex, TWO_BLOCKS);
    }
    assert_int_equal(hh_digest_blob(&h, "", 0, hex), HH_OK);
    assert_string_equal(hex, EMPTY);
    hh_digest_free(&h);
    hh_digest_free(&h);   /* twice: harmless */
    hh_digest_free(NULL);
}

/* HMAC of text with key, through a fresh keyed context. */
static void hmac_is(const void *key, size_t klen, const char *text, size_t n, const char *want)
{
    struct hh_digest h;
    char hex[HH_DIGEST_HEX];

    assert_int_equal(hh_digest_init_keyed(&h, key, klen), HH_OK);
    assert_int_equal(hh_digest_blob(&h, text, n, hex), HH_OK);
    assert_string_equal(hex, want);
    hh_digest_free(&h);
}

static void test_hmac_rfc4231(void **state)
{
    unsigned char k1[20], k6[131];
    const char *t6 = "Test Using Larger Than Block-Size Key - Hash Key First";

    (void)state;
    memset(k1, 0x0b, sizeof k1);
    hmac_is(k1, sizeof k1, "Hi There", 8,
            "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
    hmac_is("Jefe", 4, "what do ya want for nothing?", 28,
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    memset(k6, 0xaa, sizeof k6);
    hmac_is(k6, sizeof k6, t6, strlen(t6),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
}

static void test_hmac_reused_and_split(void **state)
{
    const char *text = "what do ya want for nothing?";
    size_t n = strlen(text);
    struct hh_digest h;
    char hex[HH_DIGEST_HEX];

    (void)state;
    assert_int_equal(hh_digest_init_keyed(&h, "Jefe", 4), HH_OK);
    for (size_t cut = 0; cut <= n; cut++) {
        assert_int_equal(hh_digest_begin(&h), HH_OK);
        hh_digest_update(&h, text, cut);
        hh_digest_update(&h, text + cut, n - cut);
        assert_int_equal(hh_digest_end(&h, hex), HH_OK);
        assert_string_equal(hex,
                            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    }
    /* keyed is not plain: the same context never falls back to SHA-256 */
    assert_int_equal(hh_digest_blob(&h, "abc", 3, hex), HH_OK);
    assert_string_not_equal(hex, ABC);
    hh_digest_free(&h);
    hh_digest_free(&h);
    assert_int_equal(hh_digest_init_keyed(&h, "", 0), HH_EINVAL);
    assert_int_equal(hh_digest_init_keyed(&h, NULL, 4), HH_EINVAL);
    hh_digest_free(&h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_known_vectors),
        cmocka_unit_test(test_context_reused_and_split),
        cmocka_unit_test(test_hmac_rfc4231),
        cmocka_unit_test(test_hmac_reused_and_split),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
