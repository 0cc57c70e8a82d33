/*
 * testutil.h — shared helpers for cmocka unit tests.
 *
 * Each tests/unit/test_<module>.c is one program built by `make test`
 * (linked with libhh.a and cmocka) and run by tests/run.sh.
 * Use value-printing assertions: assert_int_equal, assert_string_equal.
 */
#ifndef HH_TESTUTIL_H
#define HH_TESTUTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Write `text` into a fresh file under a per-process temp directory and
 * return its path (static storage, overwritten by the next call with the
 * same slot 0..7). */
static inline const char *tu_write_file(int slot, const char *name, const char *text)
{
    static char paths[8][512];
    char dir[256];
    FILE *f;

    snprintf(dir, sizeof dir, "/tmp/hh-unit-%d", (int)getpid());
    if (access(dir, F_OK) != 0) {
        char cmd[300];
        snprintf(cmd, sizeof cmd, "mkdir -p '%s'", dir);
        if (system(cmd) != 0)
            return NULL;
    }
    snprintf(paths[slot], sizeof paths[slot], "%s/%s", dir, name);
    unlink(paths[slot]);   /* a fresh file: the last one may be read-only (a user's
                              fopen "w" fails on it; root's would not) */
    f = fopen(paths[slot], "w");
    if (!f)
        return NULL;
    fputs(text, f);
    fclose(f);
    return paths[slot];
}

/* Remove the per-process temp directory (call from main before exit). */
static inline void tu_cleanup(void)
{
    char cmd[300];

    snprintf(cmd, sizeof cmd, "rm -rf /tmp/hh-unit-%d", (int)getpid());
    if (system(cmd) != 0)
        fprintf(stderr, "warning: could not remove temp dir\n");
}

#endif
