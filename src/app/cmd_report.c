/*
 * cmd_report.c — `hedgehog report`: the end-of-day report of one day, made
 * offline from a database (src/daily/daily.h; docs/OPERATIONS.md "The
 * daily report").
 *
 *   hedgehog report --db FILE --date YYYY-MM-DD --out DIR
 *       Writes DIR/YYYY-MM-DD.json and DIR/YYYY-MM-DD.html (DIR created
 *       when missing) and prints their paths and the headline figures.
 *       Read-only: safe while an engine writes the database.
 *
 * Exit codes (SPEC §6): 0 written; 1 writing failed; 2 bad usage, a
 * malformed date, or the database is missing, unreadable, not hedgehog's
 * or too new.
 */
#include "app/cmd.h"
#include "app/common.h"
#include "daily/daily.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char hh_usage_report[] =
    "usage: hedgehog report --db FILE --date YYYY-MM-DD --out DIR\n";
#define USAGE hh_usage_report

/* A string member of the report's JSON text, for the headline. */
static void headline(const char *json, const char *key)
{
    char pat[64];
    const char *p;

    snprintf(pat, sizeof pat, "\"%s\": ", key);
    p = strstr(json, pat);
    if (p)
        printf(" %s %.*s", key, (int)strcspn(p + strlen(pat), ",\n"), p + strlen(pat));
}

int hh_cmd_report(int argc, char **argv)
{
    const char *db, *date, *out;
    const struct hh_opt opts[] = {
        { "--db", &db, true, false },
        { "--date", &date, true, false },
        { "--out", &out, true, false },
    };
    struct hh_store_reader *r = NULL;
    struct hh_diag d = { { 0 } };
    char *json = NULL;
    int rc;

    if (hh_app_parse("report", USAGE, argc, argv, opts, 3))
        return HH_EXIT_USAGE;
    /* what is unusable as given exits 2 before anything is written */
    rc = hh_store_reader_open(db, &r, &d);
    hh_store_reader_close(r);
    if (rc)
        return hh_app_say("report", NULL, HH_EXIT_USAGE, "%s", d.msg);
    rc = hh_daily_write(db, date, out, &json, &d);
    if (rc)
        return hh_app_say("report", rc == HH_EINVAL ? USAGE : NULL,
                          rc == HH_EINVAL ? HH_EXIT_USAGE : HH_EXIT_FAIL, "%s", d.msg);
    printf("report %s:", date);
    headline(json, "signals_received");
    headline(json, "trades");
    headline(json, "net_pnl");
    headline(json, "max_drawdown");
    printf("\nreport: %s/%.10s.json %s/%.10s.html\n", out, date, out, date);
    free(json);
    return fflush(stdout) ? HH_EXIT_FAIL : HH_EXIT_OK;
}
