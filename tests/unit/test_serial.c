/*
 * test_serial.c — the binary write buffer and read cursor: integers
 * little-endian whatever the host, round trips, sticky errors (a read past
 * the end yields zeros from then on), growth past the first allocation.
 */
#include "testutil.h"

#include "core/serial.h"

static void test_layout_is_little_endian(void **state)
{
    static const unsigned char want[] = {
        0x04, 0x03, 0x02, 0x01,                           /* u32 */
        0x08, 0x07, 0x06, 0x05, 0x04, 0x03, 0x02, 0x01,   /* u64 */
        0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,   /* i64 -2 */
        'a', 'b',
    };
    struct hh_ser_w w = { 0 };

    (void)state;
    hh_ser_put_u32(&w, 0x01020304u);
    hh_ser_put_u64(&w, 0x0102030405060708ull);
    hh_ser_put_i64(&w, -2);
    hh_ser_put(&w, "ab", 2);
    hh_ser_put(&w, NULL, 0);
    assert_false(w.oom);
    assert_int_equal(w.n, sizeof want);
    assert_memory_equal(w.p, want, sizeof want);
    free(w.p);
}

static void test_round_trip_and_end(void **state)
{
    struct hh_ser_w w = { 0 };
    struct hh_ser_r r;
    char two[2];

    (void)state;
    hh_ser_put_u32(&w, 7);
    hh_ser_put_i64(&w, INT64_MIN);
    hh_ser_put_u64(&w, UINT64_MAX);
    hh_ser_put(&w, "xy", 2);
    r = hh_ser_reader(w.p, w.n);
    assert_int_equal(hh_ser_left(&r), 22);
    assert_int_equal(hh_ser_get_u32(&r), 7);
    assert_true(hh_ser_get_i64(&r) == INT64_MIN);
    assert_true(hh_ser_get_u64(&r) == UINT64_MAX);
    hh_ser_get(&r, two, 2);
    assert_memory_equal(two, "xy", 2);
    hh_ser_get(&r, NULL, 0);
    assert_false(r.bad);
    assert_int_equal(r.at, r.n);
    assert_int_equal(hh_ser_get_u32(&r), 0);   /* past the end */
    assert_true(r.bad);
    assert_int_equal(hh_ser_left(&r), 0);
    free(w.p);
}

static void test_short_read_is_sticky(void **state)
{
    static const unsigned char three[] = { 1, 2, 3 };
    struct hh_ser_r r = hh_ser_reader(three, sizeof three);

    (void)state;
    assert_int_equal(hh_ser_get_u32(&r), 0);   /* 4 bytes wanted, 3 there */
    assert_true(r.bad);
    assert_int_equal(r.at, 0);
    assert_int_equal(hh_ser_get_u32(&r), 0);   /* and nothing more after */
}

static void test_grows(void **state)
{
    struct hh_ser_w w = { 0 };

    (void)state;
    for (uint64_t i = 0; i < 10000; i++)
        hh_ser_put_u64(&w, i);
    assert_false(w.oom);
    assert_int_equal(w.n, 80000);
    assert_true(w.cap >= w.n);
    {
        struct hh_ser_r r = hh_ser_reader(w.p, w.n);

        for (uint64_t i = 0; i < 10000; i++)
            assert_true(hh_ser_get_u64(&r) == i);
        assert_false(r.bad);
    }
    free(w.p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_layout_is_little_endian),
        cmocka_unit_test(test_round_trip_and_end),
        cmocka_unit_test(test_short_read_is_sticky),
        cmocka_unit_test(test_grows),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
