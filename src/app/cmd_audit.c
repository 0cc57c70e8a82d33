/*
 * cmd_audit.c — `hedgehog audit`: verify and show the audit trail of a
 * store database (src/store/store.h, docs/STORE.md).
 *
 *   hedgehog audit verify --db FILE
 *       Re-walks the hash chain (and compares its end with the recorded
 *       head).  Prints "audit: OK, N records, head seq N hash H" and exits
 *       0, or "audit: FAILED at seq K: why" naming the first bad record
 *       and exits 1.
 *   hedgehog audit show --db FILE [--correlation ID]
 *       One line per audit row, in seq order: seq, IST time, kind,
 *       correlation id ("-" when none), payload.
 *
 * Exit codes (SPEC §6): 0 done; 1 the chain is broken; 2 bad usage, or the
 * file is missing, unreadable, not a hedgehog database or too new.
 */
#include "app/cmd.h"
#include "app/common.h"
#include "core/time.h"
#include "store/store.h"

#include <stdio.h>
#include <string.h>

const char hh_usage_audit[] =
    "usage: hedgehog audit verify --db FILE\n"
    "       hedgehog audit show --db FILE [--correlation ID]\n";
#define USAGE hh_usage_audit

static int open_db(const char *sub, const char *path, struct hh_store_reader **r)
{
    struct hh_diag d = { { 0 } };

    if (hh_store_reader_open(path, r, &d) != HH_OK) {
        fprintf(stderr, "hedgehog audit %s: %s\n", sub, d.msg);
        return HH_EXIT_USAGE;
    }
    return HH_EXIT_OK;
}

static int verify(int argc, char **argv)
{
    const char *db;
    const struct hh_opt opts[] = { { "--db", &db, true, false } };
    struct hh_store_reader *r;
    struct hh_store_verify v;
    struct hh_diag d = { { 0 } };
    int rc;

    if (hh_app_parse("audit verify", USAGE, argc, argv, opts, 1))
        return HH_EXIT_USAGE;
    rc = open_db("verify", db, &r);
    if (rc)
        return rc;
    rc = hh_store_audit_verify(r, &v, &d);
    hh_store_reader_close(r);
    if (rc) {
        fprintf(stderr, "hedgehog audit verify: %s\n", d.msg);
        return HH_EXIT_USAGE;
    }
    if (!v.ok) {
        printf("audit: FAILED at seq %llu: %s\n", (unsigned long long)v.bad_seq, v.why);
        return HH_EXIT_FAIL;
    }
    printf("audit: OK, %llu records, head seq %llu hash %s\n", (unsigned long long)v.count,
           (unsigned long long)v.head_seq, v.head_hash);
    return HH_EXIT_OK;
}

static int show_row(void *ctx, const struct hh_store_audit_row *a)
{
    char ts[40];

    (void)ctx;
    hh_time_format(a->at, ts, sizeof ts);
    printf("%llu %s %s %s %s\n", (unsigned long long)a->seq, ts, a->kind,
           *a->correlation_id ? a->correlation_id : "-", a->payload);
    return 0;
}

static int show(int argc, char **argv)
{
    const char *db, *corr;
    const struct hh_opt opts[] = {
        { "--db", &db, true, false },
        { "--correlation", &corr, false, false },
    };
    struct hh_store_reader *r;
    struct hh_diag d = { { 0 } };
    int rc;

    if (hh_app_parse("audit show", USAGE, argc, argv, opts, 2))
        return HH_EXIT_USAGE;
    rc = open_db("show", db, &r);
    if (rc)
        return rc;
    rc = hh_store_read_audit(r, corr, show_row, NULL, &d);
    hh_store_reader_close(r);
    if (fflush(stdout) != 0 || rc) {
        fprintf(stderr, "hedgehog audit show: %s\n", rc ? d.msg : "write error on stdout");
        return HH_EXIT_FAIL;
    }
    return HH_EXIT_OK;
}

int hh_cmd_audit(int argc, char **argv)
{
    if (argc >= 2 && !strcmp(argv[1], "verify"))
        return verify(argc - 1, argv + 1);
    if (argc >= 2 && !strcmp(argv[1], "show"))
        return show(argc - 1, argv + 1);
    fprintf(stderr, "hedgehog audit: %s%s\n%s", argc >= 2 ? "unknown subcommand " : "missing subcommand",
            argc >= 2 ? argv[1] : "", USAGE);
    return HH_EXIT_USAGE;
}
