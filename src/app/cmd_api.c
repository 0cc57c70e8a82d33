/*
 * cmd_api.c — `hedgehog api`: one signed request to a running engine's
 * operations API (SPEC §12), so nobody computes a signature by hand.
 *
 *   hedgehog api METHOD PATH [--body JSON] --key-file FILE [--key ID]
 *                --url http://HOST:PORT [--timeout SECONDS]
 *
 * The request carries X-HH-Key, X-HH-Timestamp (now, ms), X-HH-Nonce (18
 * random bytes from the OpenSSL generator, base64url: 24 characters) and
 * X-HH-Signature over exactly the method, path and body sent (libcurl is
 * told not to rewrite the path).  The answer's body goes to stdout.
 *
 * Exit codes: 0 a 2xx answer; 1 another HTTP status, or no answer
 * (connection refused, timeout); 2 bad usage, an unreadable or unsafe
 * keys file, an unknown key.
 */
#include "api/api.h"
#include "app/cmd.h"
#include "app/common.h"

#include <curl/curl.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

const char hh_usage_api[] =
    "usage: hedgehog api METHOD PATH [--body JSON] --key-file FILE [--key ID] "
    "--url http://HOST:PORT [--timeout SECONDS]\n";
#define USAGE hh_usage_api

struct api_args {
    const char *method, *path, *body, *key_file, *key_id, *url, *timeout;
    long timeout_s;
};

struct answer {
    char *p;
    size_t len;
};

static size_t on_data(char *data, size_t size, size_t n, void *ctx)
{
    struct answer *a = ctx;
    char *p = realloc(a->p, a->len + size * n + 1);

    if (!p)
        return 0;
    memcpy(p + a->len, data, size * n);
    a->p = p;
    a->len += size * n;
    a->p[a->len] = '\0';
    return size * n;
}

/* 24 characters of [A-Za-z0-9_-] from 18 random bytes. */
static int make_nonce(char out[25])
{
    static const char b64[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    unsigned char r[18];

    if (RAND_bytes(r, sizeof r) != 1)
        return HH_EIO;
    for (int i = 0, o = 0; i < 18; i += 3) {
        unsigned v = (unsigned)r[i] << 16 | (unsigned)r[i + 1] << 8 | r[i + 2];

        for (int k = 3; k >= 0; k--)
            out[o++] = b64[(v >> (6 * k)) & 63];
    }
    out[24] = '\0';
    return HH_OK;
}

static int parse_args(int argc, char **argv, struct api_args *a)
{
    const struct hh_opt opts[] = {
        { "--body", &a->body, false, false },
        { "--key-file", &a->key_file, true, false },
        { "--key", &a->key_id, false, false },
        { "--url", &a->url, true, false },
        { "--timeout", &a->timeout, false, false },
    };
    char *end = NULL;

    if (argc < 3 || argv[1][0] == '-' || argv[2][0] == '-') {
        fprintf(stderr, "hedgehog api: METHOD and PATH come first\n%s", USAGE);
        return HH_EINVAL;
    }
    a->method = argv[1], a->path = argv[2];
    if (hh_app_parse("api", USAGE, argc - 2, argv + 2, opts, 5))
        return HH_EINVAL;
    a->timeout_s = a->timeout ? strtol(a->timeout, &end, 10) : 30;
    if ((strcmp(a->method, "GET") && strcmp(a->method, "POST")) || a->path[0] != '/' ||
        strncmp(a->url, "http://", 7) || (end && (*end || a->timeout_s < 1))) {
        fprintf(stderr, "hedgehog api: METHOD is GET or POST, PATH starts with '/', "
                "--url with http://, --timeout a positive number of seconds\n%s", USAGE);
        return HH_EINVAL;
    }
    return HH_OK;
}

/* The four X-HH headers for this request. */
static struct curl_slist *auth_headers(const struct api_args *a, const struct hh_api_key *k)
{
    struct curl_slist *h = NULL;
    struct timespec now;
    char ts[24], nonce[25], sig[65], line[160];
    size_t blen = a->body ? strlen(a->body) : 0;

    clock_gettime(CLOCK_REALTIME, &now);
    snprintf(ts, sizeof ts, "%lld", (long long)now.tv_sec * 1000 + now.tv_nsec / 1000000);
    if (make_nonce(nonce) != HH_OK ||
        hh_api_sign(k, ts, nonce, a->method, a->path, a->body, blen, sig) != HH_OK)
        return NULL;
    snprintf(line, sizeof line, "X-HH-Key: %s", k->id);
    h = curl_slist_append(h, line);
    snprintf(line, sizeof line, "X-HH-Timestamp: %s", ts);
    h = curl_slist_append(h, line);
    snprintf(line, sizeof line, "X-HH-Nonce: %s", nonce);
    h = curl_slist_append(h, line);
    snprintf(line, sizeof line, "X-HH-Signature: %s", sig);
    h = curl_slist_append(h, line);
    h = curl_slist_append(h, "Expect:");
    if (a->body)
        h = curl_slist_append(h, "Content-Type: application/json");
    OPENSSL_cleanse(sig, sizeof sig);
    return h;
}

/* Send the request; *status the HTTP status.  HH_EIO when no answer. */
static int send_request(const struct api_args *a, struct curl_slist *h, struct answer *ans,
                        long *status)
{
    size_t n = strlen(a->url);
    char *url = malloc(n + strlen(a->path) + 1);
    CURL *c = curl_easy_init();
    CURLcode cc = CURLE_OUT_OF_MEMORY;

    if (url && c) {
        sprintf(url, "%.*s%s", (int)(n && a->url[n - 1] == '/' ? n - 1 : n), a->url, a->path);
        curl_easy_setopt(c, CURLOPT_URL, url);
        curl_easy_setopt(c, CURLOPT_PATH_AS_IS, 1L);
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
        curl_easy_setopt(c, CURLOPT_TIMEOUT, a->timeout_s);
        curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
        curl_easy_setopt(c, CURLOPT_WRITEDATA, ans);
        curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
        if (!strcmp(a->method, "POST")) {
            curl_easy_setopt(c, CURLOPT_POSTFIELDS, a->body ? a->body : "");
            curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)(a->body ? strlen(a->body) : 0));
        }
        cc = curl_easy_perform(c);
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, status);
    }
    if (cc != CURLE_OK)
        fprintf(stderr, "hedgehog api: %s%s: %s\n", a->url, a->path, curl_easy_strerror(cc));
    curl_easy_cleanup(c);
    free(url);
    return cc == CURLE_OK ? HH_OK : HH_EIO;
}

int hh_cmd_api(int argc, char **argv)
{
    struct api_args a = { 0 };
    struct hh_api_key key;
    struct hh_diag d = { { 0 } };
    struct answer ans = { NULL, 0 };
    struct curl_slist *h;
    long status = 0;
    int rc;

    if (parse_args(argc, argv, &a) != HH_OK)
        return HH_EXIT_USAGE;
    if (hh_api_key_read(a.key_file, a.key_id, &key, &d) != HH_OK) {
        fprintf(stderr, "hedgehog api: %s\n", d.msg);
        return HH_EXIT_USAGE;
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);
    h = auth_headers(&a, &key);
    OPENSSL_cleanse(&key, sizeof key);
    if (!h)
        fprintf(stderr, "hedgehog api: cannot sign the request (random generator or HMAC)\n");
    rc = h ? send_request(&a, h, &ans, &status) : HH_EIO;
    curl_slist_free_all(h);
    curl_global_cleanup();
    if (ans.p)
        printf("%s%s", ans.p, ans.len && ans.p[ans.len - 1] == '\n' ? "" : "\n");
    free(ans.p);
    if (rc != HH_OK)
        return HH_EXIT_FAIL;
    if (status < 200 || status > 299) {
        fprintf(stderr, "hedgehog api: HTTP %ld\n", status);
        return HH_EXIT_FAIL;
    }
    return HH_EXIT_OK;
}
