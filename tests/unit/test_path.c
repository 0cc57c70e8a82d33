/*
 * test_path.c — `mkdir -p`: nested directories created, an existing one
 * accepted, a file in the way and an empty path refused with the path named.
 */
#include "testutil.h"

#include "core/err.h"
#include "core/path.h"

#include <sys/stat.h>

static void test_mkdirs(void **state)
{
    struct hh_diag d = { "" };
    char base[128], deep[640];
    const char *file;
    struct stat st;

    (void)state;
    file = tu_write_file(0, "plain", "x");
    assert_non_null(file);
    snprintf(base, sizeof base, "/tmp/hh-unit-%d", (int)getpid());
    snprintf(deep, sizeof deep, "%s/a/b//c/", base);
    assert_int_equal(hh_path_mkdirs(deep, &d), HH_OK);
    assert_int_equal(stat(deep, &st), 0);
    assert_true(S_ISDIR(st.st_mode));
    assert_int_equal(hh_path_mkdirs(deep, &d), HH_OK);       /* already there */
    assert_int_equal(hh_path_mkdirs(file, &d), HH_EIO);
    assert_non_null(strstr(d.msg, "plain: not a directory"));
    snprintf(deep, sizeof deep, "%s/sub", file);
    assert_int_equal(hh_path_mkdirs(deep, &d), HH_EIO);
    assert_non_null(strstr(d.msg, "cannot create directory"));
    assert_int_equal(hh_path_mkdirs("", &d), HH_EINVAL);
    tu_cleanup();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mkdirs),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
