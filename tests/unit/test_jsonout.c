/*
 * test_jsonout.c — the JSON writer: compact and spaced layouts, members on
 * lines of their own and single breaks, the one escaping rule (named
 * escapes, control characters and DEL, invalid UTF-8, the HTML-safe
 * escapes), numbers, growth past the caller's buffer, flushing.
 */
#include "testutil.h"

#include "core/err.h"
#include "core/jsonout.h"

static void test_compact(void **state)
{
    struct hh_json w;

    (void)state;
    hh_json_init(&w, 0, NULL, 0);
    assert_string_equal(hh_json_text(&w), "");
    hh_json_begin_object(&w, NULL, false);
    hh_json_str(&w, "id", "a1");
    hh_json_str(&w, "none", NULL);
    hh_json_int(&w, "n", -3);
    hh_json_uint(&w, "u", UINT64_MAX);
    hh_json_int(&w, "m", INT64_MIN);
    hh_json_uint(&w, "z", 0);
    hh_json_raw(&w, "r", "[1,2.50]", 8);
    hh_json_bool(&w, "t", true);
    hh_json_begin_array(&w, "xs", false);
    hh_json_fx(&w, NULL, 123456, 2);
    hh_json_begin_object(&w, NULL, false);
    hh_json_end_object(&w);
    hh_json_begin_array(&w, NULL, false);
    hh_json_end_array(&w);
    hh_json_end_array(&w);
    hh_json_time(&w, "at", HH_TIME_NONE);
    hh_json_end_object(&w);
    hh_json_verbatim(&w, "\n");
    assert_int_equal(hh_json_status(&w), HH_OK);
    assert_string_equal(hh_json_text(&w),
                        "{\"id\":\"a1\",\"none\":null,\"n\":-3,\"u\":18446744073709551615,"
                        "\"m\":-9223372036854775808,\"z\":0,\"r\":[1,2.50],"
                        "\"t\":true,\"xs\":[12.35,{},[]],\"at\":null}\n");
    hh_json_free(&w);
}

static void test_spaced_lines_and_breaks(void **state)
{
    struct hh_json w;

    (void)state;
    hh_json_init(&w, HH_JSON_SPACED, NULL, 0);
    hh_json_begin_object(&w, NULL, true);
    hh_json_int(&w, "a", 1);
    hh_json_begin_object(&w, "inline", false);
    hh_json_int(&w, "x", 1);
    hh_json_int(&w, "y", 2);
    hh_json_break(&w);
    hh_json_begin_array(&w, "z", false);
    hh_json_int(&w, NULL, 3);
    hh_json_int(&w, NULL, 4);
    hh_json_end_array(&w);
    hh_json_end_object(&w);
    hh_json_begin_array(&w, "rows", true);
    hh_json_begin_object(&w, NULL, false);
    hh_json_end_object(&w);
    hh_json_begin_object(&w, NULL, false);
    hh_json_str(&w, "k", "v");
    hh_json_end_object(&w);
    hh_json_end_array(&w);
    hh_json_begin_array(&w, "empty", true);
    hh_json_end_array(&w);
    hh_json_end_object(&w);
    assert_string_equal(hh_json_text(&w),
                        "{\n"
                        "  \"a\": 1,\n"
                        "  \"inline\": {\"x\": 1, \"y\": 2,\n"
                        "    \"z\": [3, 4]},\n"
                        "  \"rows\": [\n"
                        "    {},\n"
                        "    {\"k\": \"v\"}\n"
                        "  ],\n"
                        "  \"empty\": [\n"
                        "  ]\n"
                        "}");
    hh_json_free(&w);
}

static void test_compact_breaks_are_not_indented(void **state)
{
    struct hh_json w;

    (void)state;
    hh_json_init(&w, 0, NULL, 0);
    hh_json_begin_array(&w, NULL, false);
    for (int i = 0; i < 3; i++) {
        hh_json_break(&w);
        hh_json_int(&w, NULL, i);
    }
    hh_json_end_array(&w);
    assert_string_equal(hh_json_text(&w), "[\n0,\n1,\n2]");
    hh_json_free(&w);
}

static void test_escaping(void **state)
{
    struct hh_json w;

    (void)state;
    hh_json_init(&w, 0, NULL, 0);
    hh_json_str(&w, NULL, "q\" b\\ n\n r\r t\t \x01 \x1f \x7f <&> \xc3\xa9 \xe2\x82\xac");
    assert_string_equal(hh_json_text(&w), "\"q\\\" b\\\\ n\\n r\\r t\\t \\u0001 \\u001f "
                                          "\\u007f <&> \xc3\xa9 \xe2\x82\xac\"");
    hh_json_reset(&w);
    /* a lone continuation byte, an overlong form, a truncated sequence */
    hh_json_strn(&w, NULL, "a\x80" "b\xc0\xaf" "c\xe2\x82", 8);
    assert_string_equal(hh_json_text(&w), "\"a\\ufffdb\\ufffd\\ufffdc\\ufffd\\ufffd\"");
    hh_json_free(&w);
    hh_json_init(&w, HH_JSON_HTML, NULL, 0);
    hh_json_str(&w, "<k>", "</script> & <!--");
    assert_string_equal(hh_json_text(&w),
                        "\"\\u003ck\\u003e\":\"\\u003c/script\\u003e \\u0026 \\u003c!--\"");
    hh_json_free(&w);
}

static void test_numbers(void **state)
{
    struct hh_json w;

    (void)state;
    hh_json_init(&w, 0, NULL, 0);
    hh_json_begin_array(&w, NULL, false);
    hh_json_dec(&w, NULL, 25000, HH_FX_DIGITS, 4, 2);     /* 2.5000 -> 2.50 */
    hh_json_dec(&w, NULL, 25001, HH_FX_DIGITS, 4, 2);     /* kept */
    hh_json_dec(&w, NULL, -300, HH_FX_DIGITS, 4, 0);      /* -0.0300 -> -0.03 */
    hh_json_dec(&w, NULL, 0, HH_RATIO_DIGITS, HH_RATIO_DIGITS, 0);
    hh_json_dec(&w, NULL, 15000, HH_FX_DIGITS, 4, 0);     /* 1.5 */
    hh_json_fx(&w, NULL, -50, 2);                         /* -0.005: ties away from 0 */
    hh_json_num(&w, NULL, "%.3f", 1.25);
    hh_json_time(&w, NULL, 0);
    hh_json_end_array(&w);
    assert_string_equal(hh_json_text(&w),
                        "[2.50,2.5001,-0.03,0,1.5,-0.01,1.250,"
                        "\"1970-01-01T05:30:00+05:30\"]");
    hh_json_free(&w);
}

static void test_grows_past_the_callers_buffer(void **state)
{
    char small[8];
    struct hh_json w;
    char want[4096] = "[";

    (void)state;
    hh_json_init(&w, 0, small, sizeof small);
    hh_json_begin_array(&w, NULL, false);
    hh_json_int(&w, NULL, 1);
    assert_ptr_equal(w.buf, small);              /* fits: no allocation */
    for (int i = 2; i <= 500; i++)
        hh_json_int(&w, NULL, i);
    hh_json_end_array(&w);
    assert_ptr_not_equal(w.buf, small);
    for (int i = 1; i <= 500; i++)
        snprintf(want + strlen(want), sizeof want - strlen(want), "%s%d", i > 1 ? "," : "", i);
    strcat(want, "]");
    assert_string_equal(hh_json_text(&w), want);
    hh_json_free(&w);
    hh_json_free(NULL);
}

static void test_flush_and_put_str(void **state)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    struct hh_json w;

    (void)state;
    assert_non_null(f);
    hh_json_init(&w, 0, NULL, 0);
    hh_json_begin_array(&w, "xs", false);
    hh_json_int(&w, NULL, 1);
    assert_int_equal(hh_json_flush(&w, f), HH_OK);
    assert_string_equal(hh_json_text(&w), "");
    hh_json_int(&w, NULL, 2);                    /* the separator survives the flush */
    hh_json_end_array(&w);
    assert_int_equal(hh_json_flush(&w, f), HH_OK);
    fputc(' ', f);
    hh_json_put_str(f, "a<b");
    fclose(f);
    assert_string_equal(text, "\"xs\":[1,2] \"a\\u003cb\"");
    free(text);
    hh_json_free(&w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_compact),
        cmocka_unit_test(test_spaced_lines_and_breaks),
        cmocka_unit_test(test_compact_breaks_are_not_indented),
        cmocka_unit_test(test_escaping),
        cmocka_unit_test(test_numbers),
        cmocka_unit_test(test_grows_past_the_callers_buffer),
        cmocka_unit_test(test_flush_and_put_str),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
