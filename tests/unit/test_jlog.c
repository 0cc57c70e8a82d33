/*
 * test_jlog.c — structured log lines: valid JSON with engine time in IST,
 * escaping, null correlation, level filtering before formatting.
 */
#include "testutil.h"

#include "app/jlog.h"

static int formatted;

static const char *count(void)
{
    formatted++;
    return "x";
}

static void test_lines(void **state)
{
    char buf[4096] = "";
    FILE *f = fmemopen(buf, sizeof buf, "w");
    struct hh_jlog log = { f, HH_LOG_INFO };
    hh_time_t t = hh_time_from_ist(hh_date_from_ymd(2025, 1, 2), HH_TOD(9, 15));
    enum hh_jlog_level lv;

    (void)state;
    HH_JLOG(&log, HH_LOG_INFO, t, "order_sent", "sig-1", "BUY %d at \"mkt\"\n", 75);
    HH_JLOG(&log, HH_LOG_WARN, HH_TIME_NONE, "stream_silent", NULL, "no updates");
    HH_JLOG(&log, HH_LOG_DEBUG, t, "tick", "c", "%s", count());   /* filtered: not formatted */
    fclose(f);
    assert_string_equal(buf,
        "{\"ts\":\"2025-01-02T09:15:00+05:30\",\"level\":\"info\",\"event\":\"order_sent\","
        "\"correlation_id\":\"sig-1\",\"msg\":\"BUY 75 at \\\"mkt\\\"\\n\"}\n"
        "{\"ts\":null,\"level\":\"warn\",\"event\":\"stream_silent\",\"correlation_id\":null,"
        "\"msg\":\"no updates\"}\n");
    assert_int_equal(formatted, 0);
    assert_true(hh_jlog_level_parse("error", &lv));
    assert_int_equal(lv, HH_LOG_ERROR);
    assert_false(hh_jlog_level_parse("loud", &lv));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lines),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
