/*
 * history.c — what a database's earlier starts recorded (contract in
 * journal.h, hh_journal_history): the first ENGINE_START (the database's
 * owner: its mode, broker account and capital), the latest ENGINE_START
 * (the build that wrote the last checkpoint), the latest CONFIG_LOADED
 * (the configuration of the last start, its SHA-256 and its bytes).
 *
 * Invariant: the database is only read, through a reader connection of its
 * own; a row's missing member (a database from before it was recorded)
 * leaves the field empty, never an error.
 */
#include "journal/journal_int.h"

#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* What the rows' callbacks fill. */
struct hist_ctx {
    struct hh_journal_history *h;
    struct hh_diag *d;
};

/* The string member `key` of obj into buf ("" when absent or not a string). */
static void member_str(json_object *obj, const char *key, char *buf, size_t cap)
{
    json_object *v;

    buf[0] = '\0';
    if (json_object_object_get_ex(obj, key, &v) && json_object_is_type(v, json_type_string))
        snprintf(buf, cap, "%s", json_object_get_string(v));
}

/* A payload as a JSON object (NULL, with an error in c->d, when it is not). */
static json_object *payload(struct hist_ctx *c, const struct hh_store_audit_row *a)
{
    json_object *obj = json_tokener_parse(a->payload);

    if (obj && json_object_is_type(obj, json_type_object))
        return obj;
    json_object_put(obj);
    hh_diag_set(c->d, HH_ETAMPER, "audit row %llu (%s): its payload is not a JSON object",
                (unsigned long long)a->seq, a->kind);
    return NULL;
}

static int first_start(void *ctx, const struct hh_store_audit_row *a)
{
    struct hist_ctx *c = ctx;
    struct hh_journal_history *h = c->h;
    json_object *obj = payload(c, a), *v;
    const char *cap;

    if (!obj)
        return HH_ETAMPER;
    h->started = true;
    member_str(obj, "mode", h->mode, sizeof h->mode);
    member_str(obj, "account", h->account, sizeof h->account);
    /* money is written as a JSON number, parsed here from its text */
    if (json_object_object_get_ex(obj, "capital", &v) &&
        (cap = json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN)) &&
        hh_dec_parse(cap, strlen(cap), HH_FX_DIGITS, 0, &h->capital))
        h->capital = 0;
    json_object_put(obj);
    return HH_OK;
}

static int last_start(void *ctx, const struct hh_store_audit_row *a)
{
    struct hist_ctx *c = ctx;
    json_object *obj = payload(c, a);

    if (!obj)
        return HH_ETAMPER;
    member_str(obj, "build", c->h->build, sizeof c->h->build);
    json_object_put(obj);
    return HH_OK;
}

static int last_config(void *ctx, const struct hh_store_audit_row *a)
{
    struct hist_ctx *c = ctx;
    struct hh_journal_history *h = c->h;
    json_object *obj = payload(c, a), *v;

    if (!obj)
        return HH_ETAMPER;
    member_str(obj, "sha256", h->config_sha256, sizeof h->config_sha256);
    if (json_object_object_get_ex(obj, "text", &v) && json_object_is_type(v, json_type_string)) {
        size_t n = (size_t)json_object_get_string_len(v);

        h->config_text = malloc(n + 1);
        if (!h->config_text) {
            json_object_put(obj);
            return hh_diag_set(c->d, HH_ENOMEM, "out of memory");
        }
        memcpy(h->config_text, json_object_get_string(v), n);
        h->config_text[n] = '\0';
        h->config_len = n;
    }
    json_object_put(obj);
    return HH_OK;
}

int hh_journal_history(const char *path, struct hh_journal_history *out, struct hh_diag *d)
{
    struct hist_ctx c = { out, d };
    struct hh_store_reader *r;
    int rc;

    memset(out, 0, sizeof *out);
    if (access(path, F_OK) != 0)
        return HH_OK;   /* a new database */
    if ((rc = hh_store_reader_open(path, &r, d)))
        return rc == HH_ENOTFOUND ? HH_OK : rc;   /* no hedgehog schema yet: new too */
    rc = hh_store_read_audit_kind(r, HH_AUDIT_ENGINE_START, false, first_start, &c, d);
    if (!rc && out->started)
        rc = hh_store_read_audit_kind(r, HH_AUDIT_ENGINE_START, true, last_start, &c, d);
    if (!rc)
        rc = hh_store_read_audit_kind(r, HH_AUDIT_CONFIG_LOADED, true, last_config, &c, d);
    hh_store_reader_close(r);
    if (rc)
        hh_journal_history_free(out);
    return rc;
}

void hh_journal_history_free(struct hh_journal_history *h)
{
    if (!h)
        return;
    free(h->config_text);
    h->config_text = NULL;
    h->config_len = 0;
}
