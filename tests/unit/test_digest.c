/*
 * test_digest.c — SHA-256 as hex: the FIPS 180-2 vectors, one call and a
 * reused context agreeing, an update split anywhere giving the same digest.
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_known_vectors),
        cmocka_unit_test(test_context_reused_and_split),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
