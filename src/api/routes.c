/*
 * routes.c — every path the API answers, with its method, authentication
 * and handler.  One method per path.  Paths are matched on the request
 * target as sent (no percent-decoding), which is also what a signature
 * covers: what is routed is what was signed.  docs/openapi.yaml documents
 * exactly this table (tests/unit/test_api_routes.c compares them).
 */
#include "api/api_int.h"

#include <string.h>

#define R(m, p, n, au, h, d) { m, p, n, HH_API__AUTH_##au, HH_API__H_##h, HH_API_DOC_##d }

const struct hh_api__route hh_api__routes[] = {
    R("GET",  "/health/live",              "health_live",  NONE,    LIVE,    STATUS),
    R("GET",  "/health/ready",             "health_ready", NONE,    READY,   STATUS),
    R("GET",  "/metrics",                  "metrics",      METRICS, METRICS, STATUS),
    R("GET",  "/",                         "dashboard",    NONE,    PAGE,    STATUS),
    R("GET",  "/api/v1/status",            "status",       READ,    DOC,     STATUS),
    R("GET",  "/api/v1/positions",         "positions",    READ,    DOC,     POSITIONS),
    R("GET",  "/api/v1/orders",            "orders",       READ,    DOC,     ORDERS),
    R("GET",  "/api/v1/trades",            "trades",       READ,    DOC,     TRADES),
    R("GET",  "/api/v1/fills",             "fills",        READ,    DOC,     FILLS),
    R("GET",  "/api/v1/alerts",            "alerts",       READ,    DOC,     ALERTS),
    R("GET",  "/api/v1/report/daily",      "report_daily", READ,    REPORT,  STATUS),
    R("POST", "/api/v1/signals",           "signals",      SIGNED,  SIGNAL,  STATUS),
    R("POST", "/api/v1/kill",              "kill",         SIGNED,  KILL,    STATUS),
    R("POST", "/api/v1/resume",            "resume",       SIGNED,  RESUME,  STATUS),
    R("POST", "/api/v1/trades/{id}/exit",  "trade_exit",   SIGNED,  EXIT,    STATUS),
};

const size_t hh_api__nroutes = sizeof hh_api__routes / sizeof hh_api__routes[0];

/* Does path[0..len) match pattern?  A "{id}" segment takes 1-19 digits. */
static bool match(const char *pattern, const char *path, size_t len, uint64_t *id)
{
    const char *p = path, *end = path + len;

    while (*pattern) {
        if (!strncmp(pattern, "{id}", 4)) {
            uint64_t v = 0;
            int digits = 0;

            for (; p < end && *p >= '0' && *p <= '9' && digits < 19; p++, digits++)
                v = v * 10 + (uint64_t)(*p - '0');
            if (!digits)
                return false;
            *id = v;
            pattern += 4;
            continue;
        }
        if (p == end || *p != *pattern)
            return false;
        p++, pattern++;
    }
    return p == end;
}

const struct hh_api__route *hh_api__route_find(const char *method, const char *path,
                                               size_t len, bool *path_known,
                                               const char **allow, uint64_t *id)
{
    *path_known = false;
    for (size_t i = 0; i < hh_api__nroutes; i++) {
        const struct hh_api__route *r = &hh_api__routes[i];

        if (!match(r->path, path, len, id))
            continue;
        if (!strcmp(r->method, method))
            return r;
        *path_known = true;
        *allow = r->method;
    }
    return NULL;
}
