/*
 * deadletter.c — a rejection as one JSON line (SPEC §4 dead letters),
 * written with the engine's JSON writer (core/jsonout.h).
 *
 * Invariant: a dead letter is written with ONE fwrite, so a line is never
 * torn by a write error half way.
 */
#include "signal/signal.h"

#include "core/jsonout.h"

#include <stdio.h>
#include <string.h>

int hh_sig_write_dead_letter(FILE *f, uint64_t lineno, const struct hh_sig_reject *rej)
{
    char buf[2048];
    struct hh_json w;
    int rc;

    hh_json_init(&w, 0, buf, sizeof buf);
    hh_json_begin_object(&w, NULL, false);
    if (rej->id_known)
        hh_json_strn(&w, "id", rej->id, strnlen(rej->id, sizeof rej->id));
    else
        hh_json_null(&w, "id");
    hh_json_uint(&w, "line", lineno);
    hh_json_str(&w, "reason", hh_sig_reason_name(rej->reason));
    hh_json_strn(&w, "detail", rej->detail, strnlen(rej->detail, sizeof rej->detail));
    hh_json_time(&w, "received_at", rej->received_at);
    hh_json_end_object(&w);
    hh_json_verbatim(&w, "\n");
    rc = hh_json_status(&w);
    if (!rc && fwrite(w.buf, 1, w.len, f) != w.len)
        rc = HH_EIO;
    hh_json_free(&w);
    return rc;
}
