/*
 * cmd_db.c — `hedgehog db`: operations on a store database
 * (src/store/store.h, docs/STORE.md).
 *
 *   hedgehog db backup --db FILE --to FILE
 *       Online backup (SQLite backup API, one consistent snapshot; safe
 *       while the engine writes).  The copy is checked (integrity, audit
 *       chain) before it is renamed into place; an existing --to file is
 *       never overwritten.
 *   hedgehog db check --db FILE
 *       PRAGMA integrity_check, the schema version and objects, the audit
 *       chain, the latest checkpoint read back whole (its chunks against
 *       their digests); one line each, then "check: OK" or "check: FAILED".  A keyed
 *       chain is checked without its key: links and key ids, not MACs
 *       (`hedgehog audit verify --key-file` does those).
 *
 * Exit codes (SPEC §6): 0 done / all good; 1 problems found, or the backup
 * failed; 2 bad usage, or the file is missing, unreadable, not a SQLite or
 * hedgehog database, or too new.
 */
#include "app/cmd.h"
#include "app/common.h"
#include "store/store.h"

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

const char hh_usage_db[] =
    "usage: hedgehog db backup --db FILE --to FILE\n"
    "       hedgehog db check --db FILE\n";
#define USAGE hh_usage_db

static int backup(int argc, char **argv)
{
    const char *db, *to;
    const struct hh_opt opts[] = {
        { "--db", &db, true, false },
        { "--to", &to, true, false },
    };
    struct hh_store_reader *r;
    struct hh_diag d = { { 0 } };
    struct stat sb;
    double t0;
    int rc;

    if (hh_app_parse("db backup", USAGE, argc, argv, opts, 2))
        return HH_EXIT_USAGE;
    /* Source or destination unusable as given: usage (2); a copy that
     * fails on the way: the run failed (1). */
    if (stat(to, &sb) == 0) {
        fprintf(stderr, "hedgehog db backup: %s: already exists (a backup never "
                "overwrites)\n", to);
        return HH_EXIT_USAGE;
    }
    if (hh_store_reader_open(db, &r, &d) != HH_OK) {
        fprintf(stderr, "hedgehog db backup: %s\n", d.msg);
        return HH_EXIT_USAGE;
    }
    hh_store_reader_close(r);
    t0 = hh_app_seconds();
    rc = hh_store_backup(db, to, &d);
    if (rc) {
        fprintf(stderr, "hedgehog db backup: %s\n", d.msg);
        return HH_EXIT_FAIL;
    }
    printf("backup: %s -> %s (checked) in %.2f s\n", db, to, hh_app_seconds() - t0);
    return HH_EXIT_OK;
}

/* The latest checkpoint read back whole (each chunk against its digest):
 * one line; 1 when it fails. */
static int check_checkpoint(struct hh_store_reader *r)
{
    struct hh_store_checkpoint_row row;
    struct hh_diag d = { { 0 } };
    bool found = false;
    int rc = hh_store_read_checkpoint(r, &row, &found, &d);

    if (rc) {
        printf("checkpoint: FAILED (%s)\n", d.msg);
        return 1;
    }
    if (!found)
        printf("checkpoint: none\n");
    else if (row.ndigests)
        printf("checkpoint: OK, seq %llu, %zu chunks, %zu bytes\n",
               (unsigned long long)row.seq, row.ndigests, row.state_len);
    else
        printf("checkpoint: OK, seq %llu, one blob of %zu bytes\n",
               (unsigned long long)row.seq, row.state_len);
    hh_store_checkpoint_row_free(&row);
    return 0;
}

static int check(int argc, char **argv)
{
    const char *db;
    const struct hh_opt opts[] = { { "--db", &db, true, false } };
    struct hh_store_reader *r;
    struct hh_store_check c;
    struct hh_diag d = { { 0 } };
    int rc, problems = 0;

    if (hh_app_parse("db check", USAGE, argc, argv, opts, 1))
        return HH_EXIT_USAGE;
    rc = hh_store_reader_open(db, &r, &d);
    if (rc) {
        fprintf(stderr, "hedgehog db check: %s\n", d.msg);
        /* A file damaged beyond opening is a finding; anything else is
         * not something we can check. */
        if (rc == HH_ETAMPER) {
            printf("integrity: FAILED (%s)\ncheck: FAILED\n", d.msg);
            return HH_EXIT_FAIL;
        }
        return HH_EXIT_USAGE;
    }
    rc = hh_store_check(r, &c, &d);
    if (rc) {
        hh_store_reader_close(r);
        fprintf(stderr, "hedgehog db check: %s\n", d.msg);
        return HH_EXIT_USAGE;
    }
    problems += !c.integrity_ok + !c.schema_ok + !c.audit.ok;
    printf("integrity: %s%s%s\n", c.integrity_ok ? "ok" : "FAILED (",
           c.integrity_ok ? "" : c.integrity, c.integrity_ok ? "" : ")");
    printf("schema: version %d (this hedgehog writes %d%s)%s%s\n", c.schema_version,
           HH_STORE_SCHEMA_VERSION,
           c.schema_version < HH_STORE_SCHEMA_VERSION ? "; migrated when the engine opens it"
                                                      : "",
           c.schema_ok ? " ok" : " FAILED: ", c.schema_ok ? "" : c.schema);
    if (c.audit.ok && c.audit.unverified)
        printf("audit: links OK, %llu records, head seq %llu; the MACs of %llu keyed "
               "records (from seq %llu, key id %s) need their keys: hedgehog audit verify "
               "--key-file\n", (unsigned long long)c.audit.count,
               (unsigned long long)c.audit.head_seq, (unsigned long long)c.audit.unverified,
               (unsigned long long)c.audit.first_unverified, c.audit.unverified_key);
    else if (c.audit.ok)
        printf("audit: OK, %llu records, head seq %llu\n", (unsigned long long)c.audit.count,
               (unsigned long long)c.audit.head_seq);
    else if (c.audit.bad_seq)
        printf("audit: FAILED at seq %llu: %s\n", (unsigned long long)c.audit.bad_seq,
               c.audit.why);
    else
        printf("audit: FAILED: %s\n", c.audit.why);
    if (c.schema_ok)
        problems += check_checkpoint(r);
    hh_store_reader_close(r);
    printf("check: %s\n", problems ? "FAILED" : "OK");
    return problems ? HH_EXIT_FAIL : HH_EXIT_OK;
}

int hh_cmd_db(int argc, char **argv)
{
    if (argc >= 2 && !strcmp(argv[1], "backup"))
        return backup(argc - 1, argv + 1);
    if (argc >= 2 && !strcmp(argv[1], "check"))
        return check(argc - 1, argv + 1);
    fprintf(stderr, "hedgehog db: %s%s\n%s", argc >= 2 ? "unknown subcommand " : "missing subcommand",
            argc >= 2 ? argv[1] : "", USAGE);
    return HH_EXIT_USAGE;
}
