/*
 * test_api_routes.c — the server's routes against docs/openapi.yaml (read
 * with libyaml): every documented path and method is in the route table
 * and answered by a running server (never 405, nor 404 NOT_FOUND),
 * nothing the table holds is undocumented, and every other method on a
 * documented path is 405.  Run from the repository root (tests/run.sh) or with HH_ROOT set.
 */
#include "apitest.h"

#include "api/api_int.h"

#include <ctype.h>
#include <yaml.h>

#define MAX_OPS 64

struct op {
    char method[8];
    char path[128];
};

static yaml_node_t *map_get(yaml_document_t *doc, yaml_node_t *map, const char *key)
{
    if (!map || map->type != YAML_MAPPING_NODE)
        return NULL;
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
         p++) {
        yaml_node_t *k = yaml_document_get_node(doc, p->key);

        if (k->type == YAML_SCALAR_NODE && !strcmp((char *)k->data.scalar.value, key))
            return yaml_document_get_node(doc, p->value);
    }
    return NULL;
}

/* Every (METHOD, path) of the document's `paths`. */
static int documented(struct op *ops)
{
    static const char *const methods[] = { "get", "post", "put", "delete", "patch", "head",
                                           "options", "trace" };
    const char *root = getenv("HH_ROOT");
    char path[1024];
    yaml_parser_t parser;
    yaml_document_t doc;
    yaml_node_t *paths;
    FILE *f;
    int n = 0;

    snprintf(path, sizeof path, "%s/docs/openapi.yaml", root ? root : ".");
    f = fopen(path, "r");
    assert_non_null(f);
    yaml_parser_initialize(&parser);
    yaml_parser_set_input_file(&parser, f);
    assert_int_equal(yaml_parser_load(&parser, &doc), 1);
    paths = map_get(&doc, yaml_document_get_root_node(&doc), "paths");
    assert_non_null(paths);
    for (yaml_node_pair_t *p = paths->data.mapping.pairs.start; p < paths->data.mapping.pairs.top;
         p++) {
        yaml_node_t *k = yaml_document_get_node(&doc, p->key);
        yaml_node_t *v = yaml_document_get_node(&doc, p->value);

        for (size_t m = 0; m < sizeof methods / sizeof *methods; m++) {
            if (!map_get(&doc, v, methods[m]))
                continue;
            assert_true(n < MAX_OPS);
            for (size_t i = 0; i <= strlen(methods[m]); i++)
                ops[n].method[i] = (char)toupper((unsigned char)methods[m][i]);
            snprintf(ops[n].path, sizeof ops[n].path, "%s", (char *)k->data.scalar.value);
            n++;
        }
    }
    yaml_document_delete(&doc);
    yaml_parser_delete(&parser);
    fclose(f);
    return n;
}

static void test_table_matches_document(void **state)
{
    struct op ops[MAX_OPS];
    int n = documented(ops);

    (void)state;
    assert_int_equal((size_t)n, hh_api__nroutes);
    for (int i = 0; i < n; i++) {
        bool found = false;

        for (size_t r = 0; r < hh_api__nroutes; r++)
            found |= !strcmp(hh_api__routes[r].method, ops[i].method) &&
                     !strcmp(hh_api__routes[r].path, ops[i].path);
        if (!found)
            fail_msg("documented but not served: %s %s", ops[i].method, ops[i].path);
    }
    for (size_t r = 0; r < hh_api__nroutes; r++) {
        bool found = false;

        for (int i = 0; i < n; i++)
            found |= !strcmp(hh_api__routes[r].method, ops[i].method) &&
                     !strcmp(hh_api__routes[r].path, ops[i].path);
        if (!found)
            fail_msg("served but not documented: %s %s", hh_api__routes[r].method,
                     hh_api__routes[r].path);
    }
}

/* The documented path with {id} filled in. */
static void concrete(const char *path, char *out, size_t cap)
{
    const char *id = strstr(path, "{id}");

    if (id)
        snprintf(out, cap, "%.*s1%s", (int)(id - path), path, id + 4);
    else
        snprintf(out, cap, "%s", path);
}

static void test_server_answers_every_documented_route(void **state)
{
    static const char *const allow[] = { "127.0.0.1/32" };
    static const char *const others[] = { "GET", "POST", "PUT", "DELETE", "PATCH" };
    const char *token[] = { "Authorization: Bearer " AT_TOKEN, NULL };
    struct hh_api_config cfg = {
        .listen = "127.0.0.1:0", .allow = allow, .nallow = 1,
        .keys_file = at_file(0, "keys", "k1 " AT_SECRET1 "\n", 0600),
        .read_token_file = at_file(1, "token", AT_TOKEN "\n", 0600),
        .nonce_file = tu_write_file(2, "n.nonces", ""), .answer_timeout_ms = 2000,
    };
    struct hh_api_key k1 = at_key("k1", AT_SECRET1);
    struct op ops[MAX_OPS];
    struct hh_diag d = { { 0 } };
    struct hh_api *api;
    struct at_core core;
    struct at_resp r;
    int n = documented(ops), port;

    (void)state;
    assert_int_equal(hh_api_new(&cfg, &api, &d), HH_OK);
    assert_int_equal(hh_api_start(api, &d), HH_OK);
    port = hh_api_port(api);
    at_core_start(&core, api);
    for (int i = 0; i < n; i++) {
        char target[160];
        long st;

        concrete(ops[i].path, target, sizeof target);
        st = !strcmp(ops[i].method, "POST")
                 ? at_signed(port, &k1, "POST", target, strstr(target, "kill")
                                                            ? "{\"action\":\"pause\"}" : "{}",
                             &r)
                 : at_http(port, ops[i].method, target, NULL, token, &r);
        /* 404 from the route table says NOT_FOUND (NO_REPORT is the report's) */
        if (st == 0 || st == 405 || (st == 404 && strstr(r.body, "\"NOT_FOUND\"")))
            fail_msg("%s %s: %ld", ops[i].method, target, st);
        for (size_t m = 0; m < sizeof others / sizeof *others; m++) {
            if (!strcmp(others[m], ops[i].method))
                continue;
            st = at_http(port, others[m], target, NULL, token, &r);
            if (st != 405)
                fail_msg("%s %s: %ld, wanted 405", others[m], target, st);
        }
    }
    at_core_stop(&core);
    hh_api_free(api);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table_matches_document),
        cmocka_unit_test(test_server_answers_every_documented_route),
    };
    int rc;

    curl_global_init(CURL_GLOBAL_DEFAULT);
    rc = cmocka_run_group_tests(tests, NULL, NULL);
    curl_global_cleanup();
    tu_cleanup();
    return rc;
}
