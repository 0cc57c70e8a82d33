/*
 * cmd_audit.c — `hedgehog audit`: verify and show the audit trail of a
 * store database, and start keying it (src/store/store.h, docs/STORE.md).
 *
 *   hedgehog audit verify --db FILE [--key-file KEY ...]
 *       Re-walks the hash chain (and compares its end with the recorded
 *       head), checking keyed records' MACs with the keys given (one
 *       --key-file per key the chain was keyed with; each KEY_ROTATED
 *       record names the key id that follows it).  Prints "audit: OK, N
 *       records, head seq N hash H" (and, for a keyed chain, a line saying
 *       since when and with which keys) and exits 0; "audit: FAILED at seq
 *       K: why" naming the first bad record, or "audit: UNVERIFIED from seq
 *       K: ..." when records are keyed with a key not given, and exits 1.
 *       With a key given, a chain that ends unkeyed fails: rewritten
 *       without the key, or never keyed.
 *   hedgehog audit show --db FILE [--correlation ID]
 *       One line per audit row, in seq order: seq, IST time, kind,
 *       correlation id ("-" when none), payload.
 *   hedgehog audit key --db FILE --key-file KEY
 *       Start keying the chain with KEY (a KEY_ROTATED record), or rotate
 *       to it; nothing when the chain already ends with it.  Needs the
 *       writer lock: not while an engine runs on the database (set
 *       audit.key_file and restart it instead: it rotates at start).
 *
 * Key files are secret files (mode 0600 or stricter, one line of 64-256
 * hex digits): anything else is refused naming the file, never its
 * content.  Exit codes (SPEC §6): 0 done; 1 the chain is broken or not
 * proven; 2 bad usage, an unusable key file, or the database is missing,
 * unreadable, not a hedgehog database, too new or open for writing.
 */
#include "app/cmd.h"
#include "app/common.h"
#include "core/time.h"
#include "store/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char hh_usage_audit[] =
    "usage: hedgehog audit verify --db FILE [--key-file KEY ...]\n"
    "       hedgehog audit show --db FILE [--correlation ID]\n"
    "       hedgehog audit key --db FILE --key-file KEY\n";
#define USAGE hh_usage_audit

#define KEYS_MAX 16

static int open_db(const char *sub, const char *path, struct hh_store_reader **r)
{
    struct hh_diag d = { { 0 } };

    if (hh_store_reader_open(path, r, &d) != HH_OK) {
        fprintf(stderr, "hedgehog audit %s: %s\n", sub, d.msg);
        return HH_EXIT_USAGE;
    }
    return HH_EXIT_OK;
}

/* Read the key files named by every "--key-file F" of argv into keys,
 * removing those arguments (argv keeps the rest, for hh_app_parse). */
static int take_keys(int *argc, char **argv, struct hh_store_audit_key *keys, size_t *n)
{
    struct hh_diag d = { { 0 } };
    int out = 1;

    *n = 0;
    for (int i = 1; i < *argc; i++) {
        if (strcmp(argv[i], "--key-file")) {
            argv[out++] = argv[i];
            continue;
        }
        if (i + 1 >= *argc || *n == KEYS_MAX)
            return hh_app_say("audit", USAGE, HH_EXIT_USAGE, "%s", i + 1 >= *argc
                              ? "option needs a value: --key-file"
                              : "at most 16 --key-file");
        if (hh_store_audit_key_read(argv[++i], &keys[(*n)++], &d))
            return hh_app_say("audit", NULL, HH_EXIT_USAGE, "%s", d.msg);
    }
    *argc = out;
    return HH_EXIT_OK;
}

static void wipe_keys(struct hh_store_audit_key *keys, size_t n)
{
    for (size_t i = 0; i < n; i++)
        hh_store_audit_key_wipe(&keys[i]);
}

/* The verdict: 0 proven, 1 not. */
static int print_verdict(const struct hh_store_verify *v, size_t nkeys)
{
    if (!v->ok) {
        printf("audit: FAILED at seq %llu: %s\n", (unsigned long long)v->bad_seq, v->why);
        return HH_EXIT_FAIL;
    }
    if (v->unverified) {
        printf("audit: UNVERIFIED from seq %llu: keyed with key id %s%s; %llu keyed "
               "records link up, but their MACs need their keys (--key-file)\n",
               (unsigned long long)v->first_unverified, v->unverified_key,
               nkeys ? ", which no key given has" : "", (unsigned long long)v->unverified);
        return HH_EXIT_FAIL;
    }
    printf("audit: OK, %llu records, head seq %llu hash %s\n", (unsigned long long)v->count,
           (unsigned long long)v->head_seq, v->head_hash);
    if (v->keyed_since)
        printf("audit: keyed since seq %llu (%llu key rotations), last key id %s; %llu MACs "
               "checked\n", (unsigned long long)v->keyed_since,
               (unsigned long long)v->rotations, v->head_key, (unsigned long long)v->macs);
    return HH_EXIT_OK;
}

static int verify(int argc, char **argv)
{
    const char *db;
    const struct hh_opt opts[] = { { "--db", &db, true, false } };
    struct hh_store_audit_key keys[KEYS_MAX];
    struct hh_store_reader *r;
    struct hh_store_verify v;
    struct hh_diag d = { { 0 } };
    size_t nkeys = 0;
    int rc = take_keys(&argc, argv, keys, &nkeys);

    if (!rc && hh_app_parse("audit verify", USAGE, argc, argv, opts, 1))
        rc = HH_EXIT_USAGE;
    if (!rc)
        rc = open_db("verify", db, &r);
    if (rc) {
        wipe_keys(keys, nkeys);
        return rc;
    }
    rc = hh_store_audit_verify_keys(r, keys, nkeys, &v, &d);
    hh_store_reader_close(r);
    wipe_keys(keys, nkeys);
    if (rc) {
        fprintf(stderr, "hedgehog audit verify: %s\n", d.msg);
        return HH_EXIT_USAGE;
    }
    return print_verdict(&v, nkeys);
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

/* The chain walked without keys, to say what `key` did. */
static int head_of(const char *db, struct hh_store_verify *v)
{
    struct hh_store_reader *r;
    struct hh_diag d = { { 0 } };
    int rc = open_db("key", db, &r);

    if (rc)
        return rc;
    rc = hh_store_audit_verify(r, v, &d);
    hh_store_reader_close(r);
    return rc ? hh_app_say("audit key", NULL, HH_EXIT_USAGE, "%s", d.msg) : HH_EXIT_OK;
}

/* Open the store with the key (the writer rotates at open) and close it. */
static int key(int argc, char **argv)
{
    const char *db;
    const struct hh_opt opts[] = { { "--db", &db, true, false } };
    struct hh_store_audit_key k[KEYS_MAX];
    struct hh_store_opts o;
    struct hh_store *st = NULL;
    struct hh_store_verify before, after;
    struct hh_diag d = { { 0 } };
    size_t n = 0;
    int rc = take_keys(&argc, argv, k, &n);

    if (!rc && hh_app_parse("audit key", USAGE, argc, argv, opts, 1))
        rc = HH_EXIT_USAGE;
    if (!rc && n != 1)
        rc = hh_app_say("audit key", USAGE, HH_EXIT_USAGE, "give exactly one --key-file");
    if (!rc)
        rc = head_of(db, &before);
    if (rc) {
        wipe_keys(k, n);
        return rc;
    }
    hh_store_opts_default(&o);
    o.no_create = true;
    o.audit_key = &k[0];
    rc = hh_store_open(db, &o, &st, &d);
    if (!rc)
        rc = hh_store_close(st, &d);
    wipe_keys(k, n);
    /* a broken chain (HH_ETAMPER) is a finding; anything else is the
     * database being unusable as given */
    if (rc)
        return hh_app_say("audit key", NULL, rc == HH_ETAMPER ? HH_EXIT_FAIL : HH_EXIT_USAGE,
                          "%s", d.msg);
    rc = head_of(db, &after);
    if (rc)
        return rc;
    if (after.count == before.count)
        printf("audit key: the chain already ends keyed with key id %s (seq %llu)\n",
               after.head_key, (unsigned long long)after.head_seq);
    else
        printf("audit key: seq %llu KEY_ROTATED: key id %s follows %s\n",
               (unsigned long long)after.head_seq, after.head_key,
               *before.head_key ? before.head_key : "the unkeyed chain");
    return HH_EXIT_OK;
}

int hh_cmd_audit(int argc, char **argv)
{
    if (argc >= 2 && !strcmp(argv[1], "verify"))
        return verify(argc - 1, argv + 1);
    if (argc >= 2 && !strcmp(argv[1], "show"))
        return show(argc - 1, argv + 1);
    if (argc >= 2 && !strcmp(argv[1], "key"))
        return key(argc - 1, argv + 1);
    fprintf(stderr, "hedgehog audit: %s%s\n%s", argc >= 2 ? "unknown subcommand " : "missing subcommand",
            argc >= 2 ? argv[1] : "", USAGE);
    return HH_EXIT_USAGE;
}
