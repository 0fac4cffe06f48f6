/* SPDX-License-Identifier: Apache-2.0 */
/* The REST handlers without HTTP: authentication and host-token limits,
 * CRUD with versions, a table of bad requests (each a 4xx naming its
 * field, with the version unmoved), clashes (409), translations, the
 * change feed (since, long-poll, limit, 410) and what a host token sees
 * of it (its tenants only, across reloads), store failure (503, nothing
 * changed, through a failing store backend) and reloading from a file. */
#include "harness.h"

#include <unistd.h>

#include <jansson.h>

#include "policy/policy-api.h"
#include "policy/store-provider.h"
#include "util/compiler.h"

#define ADMIN "admin-token-0123456789"

static int64_t now_ms = 1000;

struct reply {
    int status;
    json_t *json;
    bool wait;
    int64_t wait_until;
};

/* Calls METHOD PATH[?QUERY] with 'token' (NULL: none) and 'body' (NULL:
 * none) as application/json. */
static struct reply
call_ct(struct policy_api *api, const char *method, const char *path,
        const char *token, const char *body, const char *ct, bool final)
{
    char pathbuf[512], auth[512];
    struct policy_api_arg args[8];
    size_t n_args = 0;
    snprintf(pathbuf, sizeof pathbuf, "%s", path);
    char *q = strchr(pathbuf, '?');
    if (q) {
        *q++ = '\0';
        for (char *save, *kv = strtok_r(q, "&", &save); kv;
             kv = strtok_r(NULL, "&", &save)) {
            char *eq = strchr(kv, '=');
            if (eq) {
                *eq = '\0';
            }
            args[n_args].key = kv;
            args[n_args++].value = eq ? eq + 1 : "";
        }
    }
    if (token) {
        snprintf(auth, sizeof auth, "Bearer %s", token);
    }
    struct policy_api_request req = {
        .method = method,
        .path = pathbuf,
        .args = args,
        .n_args = n_args,
        .authorization = token ? auth : NULL,
        .content_type = ct,
        .body = body,
        .body_size = body ? strlen(body) : 0,
        .now_ms = now_ms,
        .final = final,
    };
    struct policy_api_response resp;
    policy_api_handle(api, &req, &resp);
    struct reply r = {.status = resp.status, .wait = resp.wait,
                      .wait_until = resp.wait_until_ms};
    if (resp.body) {
        json_error_t jerr;
        r.json = json_loads(resp.body, 0, &jerr);
        if (!r.json) {
            fprintf(stderr, "not JSON: %s\n", resp.body);
            abort();
        }
    }
    policy_api_response_uninit(&resp);
    return r;
}

static struct reply
call(struct policy_api *api, const char *method, const char *path,
     const char *token, const char *body)
{
    return call_ct(api, method, path, token, body,
                   body ? "application/json" : NULL, false);
}

static const char *
jstr(const struct reply *r, const char *key)
{
    const char *s = json_string_value(json_object_get(r->json, key));
    return s ? s : "(absent)";
}

static uint64_t
jint(const json_t *j, const char *key)
{
    return (uint64_t) json_integer_value(json_object_get(j, key));
}

#define EXPECT(API, STATUS, METHOD, PATH, TOKEN, BODY)                    \
    do {                                                                  \
        struct reply r__ = call(API, METHOD, PATH, TOKEN, BODY);          \
        if (r__.status != (STATUS)) {                                     \
            char *s__ = json_dumps(r__.json, JSON_COMPACT);               \
            TEST_FAIL__("%s %s: %d, want %d: %s", METHOD, PATH,           \
                        r__.status, STATUS, s__);                         \
        }                                                                 \
        json_decref(r__.json);                                            \
    } while (0)

static struct policy_api *
api_open_retention(const char *location, size_t retention)
{
    char *err = NULL;
    struct store *s = store_open(location, &err);
    if (!s) {
        fprintf(stderr, "store: %s\n", err);
        abort();
    }
    struct policy_api_config cfg = {.admin_token = ADMIN,
                                    .change_retention = retention,
                                    .max_batch = 16};
    struct policy_api *api = policy_api_create(s, &cfg, &err);
    if (!api) {
        fprintf(stderr, "api: %s\n", err);
        abort();
    }
    return api;
}

static struct policy_api *
api_open(const char *location)
{
    return api_open_retention(location, 8);
}

/* Fills 'path' with a new temporary file name from 'tmpl' (ending in
 * XXXXXX), the file itself removed for the store to create. */
static void
temp_store_path(char *path, size_t size, const char *tmpl)
{
    snprintf(path, size, "%s", tmpl);
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    close(fd);
    unlink(path);
}

/* Removes the store file at 'path' and its write-ahead log. */
static void
remove_store(const char *path)
{
    unlink(path);
    char wal[80];
    snprintf(wal, sizeof wal, "%s-wal", path);
    unlink(wal);
}

static char h1_token[256];

static void
populate(struct policy_api *api)
{
    EXPECT(api, 201, "POST", "/v1/tenants", ADMIN, "{\"name\":\"t1\"}");
    EXPECT(api, 201, "POST", "/v1/tenants", ADMIN, "{\"name\":\"t2\"}");
    EXPECT(api, 201, "POST", "/v1/networks", ADMIN,
           "{\"name\":\"n1\",\"tenant\":\"t1\",\"vni\":100,"
           "\"subnets\":[\"10.0.0.0/24\"]}");
    EXPECT(api, 201, "POST", "/v1/networks", ADMIN,
           "{\"name\":\"n2\",\"tenant\":\"t2\",\"vni\":200,"
           "\"subnets\":[\"10.0.0.0/24\"]}");
    struct reply r = call(api, "POST", "/v1/hosts", ADMIN,
                          "{\"name\":\"h1\",\"underlay_ip\":\"192.0.2.1\"}");
    CHECK_EQ_I(r.status, 201);
    snprintf(h1_token, sizeof h1_token, "%s", jstr(&r, "token"));
    CHECK(!strncmp(h1_token, "vfh.h1.", 7));
    CHECK(json_object_get(r.json, "token_hash") == NULL);
    json_decref(r.json);
    EXPECT(api, 201, "POST", "/v1/hosts", ADMIN,
           "{\"name\":\"h2\",\"underlay_ip\":\"192.0.2.2\"}");
    EXPECT(api, 201, "POST", "/v1/vnics", ADMIN,
           "{\"name\":\"a\",\"network\":\"n1\",\"mac\":\"02:00:00:00:00:0a\","
           "\"ips\":[\"10.0.0.10\"],\"host\":\"h1\"}");
    EXPECT(api, 201, "POST", "/v1/vnics", ADMIN,
           "{\"name\":\"b\",\"network\":\"n1\",\"mac\":\"02:00:00:00:00:0b\","
           "\"ips\":[\"10.0.0.11\"],\"host\":\"h2\"}");
    EXPECT(api, 201, "POST", "/v1/vnics", ADMIN,
           "{\"name\":\"c\",\"network\":\"n1\",\"mac\":\"02:00:00:00:00:0c\","
           "\"ips\":[\"10.0.0.12\"]}");
    EXPECT(api, 201, "POST", "/v1/vnics", ADMIN,
           "{\"name\":\"z\",\"network\":\"n2\",\"mac\":\"02:00:00:00:00:0a\","
           "\"ips\":[\"10.0.0.10\"],\"host\":\"h2\"}");
}

static void
test_auth(void)
{
    struct policy_api *api = api_open(":memory:");
    populate(api);
    EXPECT(api, 401, "GET", "/v1/tenants", NULL, NULL);
    EXPECT(api, 401, "GET", "/v1/tenants", "wrong-token-xxxxxxxxxxxx", NULL);
    EXPECT(api, 401, "GET", "/v1/tenants", "vfh.h1.00000000000000000000000"
           "00000000000000000000000000000000000000000", NULL);
    EXPECT(api, 200, "GET", "/healthz", NULL, NULL);
    /* A host token acts only as its host. */
    EXPECT(api, 200, "GET", "/v1/hosts/h1", h1_token, NULL);
    EXPECT(api, 403, "GET", "/v1/hosts/h2", h1_token, NULL);
    EXPECT(api, 200, "GET", "/v1/hosts/h1/vnics", h1_token, NULL);
    EXPECT(api, 403, "GET", "/v1/hosts/h2/vnics", h1_token, NULL);
    EXPECT(api, 403, "GET", "/v1/vnics", h1_token, NULL);
    EXPECT(api, 403, "POST", "/v1/tenants", h1_token, "{\"name\":\"t3\"}");
    EXPECT(api, 403, "DELETE", "/v1/vnics/a", h1_token, NULL);
    EXPECT(api, 200, "GET", "/v1/vnics/a", h1_token, NULL);
    EXPECT(api, 403, "GET", "/v1/vnics/b", h1_token, NULL);
    EXPECT(api, 200, "GET", "/v1/changes?since=9", h1_token, NULL);

    uint64_t v = policy_api_version(api);
    /* Claiming: an unplaced vnic yes, another host's no, other fields
     * no, placing on another host no. */
    struct reply r = call(api, "PATCH", "/v1/vnics/b", h1_token,
                          "{\"host\":\"h1\"}");
    CHECK_EQ_I(r.status, 403);
    CHECK_STR(jstr(&r, "field"), "host");
    json_decref(r.json);
    r = call(api, "PATCH", "/v1/vnics/a", h1_token,
             "{\"mac\":\"02:00:00:00:00:99\"}");
    CHECK_EQ_I(r.status, 403);
    CHECK_STR(jstr(&r, "field"), "mac");
    json_decref(r.json);
    EXPECT(api, 403, "PATCH", "/v1/vnics/c", h1_token, "{\"host\":\"h2\"}");
    EXPECT(api, 403, "PATCH", "/v1/hosts/h1", h1_token,
           "{\"underlay_ip\":\"192.0.2.9\"}");
    CHECK_EQ_U(policy_api_version(api), v);
    EXPECT(api, 200, "PATCH", "/v1/vnics/c", h1_token, "{\"host\":\"h1\"}");
    EXPECT(api, 200, "PATCH", "/v1/hosts/h1", h1_token,
           "{\"state_format\":3,\"capabilities\":[\"vxlan\"]}");
    CHECK_EQ_U(policy_api_version(api), v + 2);
    EXPECT(api, 200, "PATCH", "/v1/vnics/c", h1_token, "{\"host\":null}");

    /* Translations: a source on another host is refused per item. */
    r = call(api, "POST", "/v1/translate", h1_token,
             "{\"requests\":[{\"src_vnic\":\"a\",\"dst_ip\":\"10.0.0.11\"},"
             "{\"src_vnic\":\"b\",\"dst_ip\":\"10.0.0.10\"}]}");
    CHECK_EQ_I(r.status, 200);
    json_t *res = json_object_get(r.json, "results");
    CHECK_STR(json_string_value(
                  json_object_get(json_array_get(res, 0), "status")), "ok");
    CHECK_STR(json_string_value(
                  json_object_get(json_array_get(res, 1), "status")),
              "forbidden");
    CHECK(json_object_get(json_array_get(res, 1), "underlay_ip") == NULL);
    json_decref(r.json);

    /* Rotating the token retires the old one. */
    char old[256];
    snprintf(old, sizeof old, "%s", h1_token);
    r = call(api, "POST", "/v1/hosts/h1/token", ADMIN, NULL);
    CHECK_EQ_I(r.status, 200);
    snprintf(h1_token, sizeof h1_token, "%s", jstr(&r, "token"));
    json_decref(r.json);
    EXPECT(api, 401, "GET", "/v1/hosts/h1", old, NULL);
    EXPECT(api, 200, "GET", "/v1/hosts/h1", h1_token, NULL);

    struct policy_api_stats st;
    policy_api_get_stats(api, &st);
    CHECK_EQ_U(st.auth_missing, 1);
    CHECK(st.auth_invalid >= 3);
    CHECK(st.auth_forbidden >= 10);
    policy_api_destroy(api);
}

static void
test_crud_versions(void)
{
    struct policy_api *api = api_open(":memory:");
    populate(api);
    uint64_t v = policy_api_version(api);
    CHECK_EQ_U(v, 10);

    struct reply r = call(api, "GET", "/v1/vnics?network=n1", ADMIN, NULL);
    CHECK_EQ_I(r.status, 200);
    CHECK_EQ_U(json_array_size(json_object_get(r.json, "vnics")), 3);
    CHECK_EQ_U(jint(r.json, "version"), v);
    json_decref(r.json);
    r = call(api, "GET", "/v1/vnics?host=h2&tenant=t2", ADMIN, NULL);
    CHECK_EQ_U(json_array_size(json_object_get(r.json, "vnics")), 1);
    json_decref(r.json);

    r = call(api, "PATCH", "/v1/vnics/a", ADMIN,
             "{\"ips\":[\"10.0.0.20\",\"10.0.0.21\"],\"host\":null}");
    CHECK_EQ_I(r.status, 200);
    CHECK_EQ_U(jint(r.json, "version"), v + 1);
    CHECK(json_object_get(r.json, "host") == NULL);
    json_decref(r.json);
    /* The same PATCH again changes nothing and bumps nothing. */
    EXPECT(api, 200, "PATCH", "/v1/vnics/a", ADMIN,
           "{\"ips\":[\"10.0.0.20\",\"10.0.0.21\"],\"host\":null}");
    CHECK_EQ_U(policy_api_version(api), v + 1);
    /* Optimistic concurrency with "version". */
    EXPECT(api, 409, "PATCH", "/v1/vnics/a", ADMIN,
           "{\"version\":3,\"host\":\"h1\"}");
    char body[64];
    snprintf(body, sizeof body, "{\"version\":%llu,\"host\":\"h1\"}",
             (unsigned long long) (v + 1));
    EXPECT(api, 200, "PATCH", "/v1/vnics/a", ADMIN, body);

    EXPECT(api, 201, "POST", "/v1/policies", ADMIN,
           "{\"name\":\"p1\",\"tenant\":\"t1\",\"action\":\"deny\","
           "\"src\":\"any\",\"dst\":{\"network\":\"n1\"},"
           "\"protocol\":\"tcp\",\"ports\":\"22\"}");
    r = call(api, "GET", "/v1/policies/p1", ADMIN, NULL);
    CHECK_STR(jstr(&r, "ports"), "22");
    CHECK_EQ_U(jint(r.json, "priority"), 100);
    json_decref(r.json);
    EXPECT(api, 409, "DELETE", "/v1/networks/n1", ADMIN, NULL);
    EXPECT(api, 409, "DELETE", "/v1/tenants/t1", ADMIN, NULL);
    EXPECT(api, 200, "DELETE", "/v1/policies/p1", ADMIN, NULL);
    EXPECT(api, 404, "GET", "/v1/policies/p1", ADMIN, NULL);
    EXPECT(api, 404, "DELETE", "/v1/policies/p1", ADMIN, NULL);
    EXPECT(api, 200, "DELETE", "/v1/vnics/z", ADMIN, NULL);
    EXPECT(api, 200, "DELETE", "/v1/networks/n2", ADMIN, NULL);
    EXPECT(api, 200, "DELETE", "/v1/tenants/t2", ADMIN, NULL);
    CHECK_EQ_U(policy_api_version(api), v + 7);

    r = call(api, "GET", "/v1/hosts/h1/vnics", ADMIN, NULL);
    json_t *list = json_object_get(r.json, "vnics");
    CHECK_EQ_U(json_array_size(list), 1);
    CHECK_EQ_U(jint(json_array_get(list, 0), "vni"), 100);
    CHECK_STR(json_string_value(json_object_get(
                  json_object_get(json_array_get(list, 0), "vnic"), "name")),
              "a");
    json_decref(r.json);
    policy_api_destroy(api);
}

struct bad_request {
    const char *method;
    const char *path;
    const char *body;
    const char *ct;             /* NULL: application/json if body. */
    int status;
    const char *field;          /* NULL: none expected. */
};

static const struct bad_request bad_requests[] = {
    {"GET", "/v2/tenants", NULL, NULL, 404, NULL},
    {"GET", "/v1/things", NULL, NULL, 404, NULL},
    {"GET", "/v1/vnics/a/b/c", NULL, NULL, 404, NULL},
    {"GET", "/v1/vnics//", NULL, NULL, 404, NULL},
    {"GET", "/v1/vnics/nope", NULL, NULL, 404, NULL},
    {"GET", "/v1/vnics/bad name", NULL, NULL, 404, NULL},
    {"PUT", "/v1/vnics/a", "{}", NULL, 405, NULL},
    {"POST", "/v1/vnics/a", "{}", NULL, 405, NULL},
    {"GET", "/v1/translate", NULL, NULL, 405, NULL},
    {"GET", "/v1/vnics?colour=red", NULL, NULL, 400, "colour"},
    {"GET", "/v1/vnics?network=n1&network=n2", NULL, NULL, 400, "network"},
    {"GET", "/v1/vnics?network=-x", NULL, NULL, 400, "network"},
    {"GET", "/v1/tenants", "{}", NULL, 400, "body"},
    {"POST", "/v1/tenants", "{\"name\":\"t9\"}", "text/plain", 415,
     "Content-Type"},
    {"POST", "/v1/tenants", NULL, "application/json", 400, "body"},
    {"POST", "/v1/tenants", "{\"name\":", NULL, 400, "body"},
    {"POST", "/v1/tenants", "[1]", NULL, 400, "body"},
    {"POST", "/v1/tenants", "{\"name\":\"t9\",\"name\":\"t8\"}", NULL, 400,
     "body"},
    {"POST", "/v1/tenants", "{\"name\":\"t9\",\"x\":1}", NULL, 400, "x"},
    {"POST", "/v1/tenants", "{\"name\":\"t1\"}", NULL, 409, "name"},
    {"POST", "/v1/networks", "{\"name\":\"n9\",\"tenant\":\"t1\","
     "\"vni\":100}", NULL, 409, "vni"},
    {"POST", "/v1/networks", "{\"name\":\"n9\",\"tenant\":\"t7\"}", NULL,
     422, "tenant"},
    {"POST", "/v1/networks", "{\"name\":\"n9\",\"tenant\":\"t1\","
     "\"subnets\":[\"10.0.0.0/8\"]}", NULL, 409, "subnets[0]"},
    {"POST", "/v1/vnics", "{\"name\":\"v9\",\"network\":\"n1\","
     "\"mac\":\"02:00:00:00:00:0a\"}", NULL, 409, "mac"},
    {"POST", "/v1/vnics", "{\"name\":\"v9\",\"network\":\"n1\","
     "\"mac\":\"02:00:00:00:00:99\",\"ips\":[\"10.0.0.11\"]}", NULL, 409,
     "ips[0]"},
    {"POST", "/v1/vnics", "{\"name\":\"v9\",\"network\":\"n1\","
     "\"mac\":\"2:0:0:0:0:99\"}", NULL, 400, "mac"},
    {"POST", "/v1/vnics", "{\"name\":\"v9\",\"network\":\"n1\","
     "\"mac\":\"02:00:00:00:00:99\",\"ips\":[\"10.0.0.1/24\"]}", NULL, 400,
     "ips[0]"},
    {"POST", "/v1/hosts", "{\"name\":\"h9\",\"underlay_ip\":\"x\"}", NULL,
     400, "underlay_ip"},
    {"PATCH", "/v1/vnics/a", "{\"network\":\"n2\"}", NULL, 400, "network"},
    {"PATCH", "/v1/vnics/a", "{\"name\":\"b\"}", NULL, 400, "name"},
    {"PATCH", "/v1/vnics/a", "{\"host\":\"h9\"}", NULL, 422, "host"},
    {"PATCH", "/v1/vnics/a", "{\"bogus\":true}", NULL, 400, "bogus"},
    {"PATCH", "/v1/vnics/nope", "{\"host\":\"h1\"}", NULL, 404, NULL},
    {"DELETE", "/v1/vnics/a", "{}", NULL, 400, "body"},
    {"DELETE", "/v1/hosts/h1", NULL, NULL, 409, NULL},
    {"POST", "/v1/translate", "{}", NULL, 400, "requests"},
    {"POST", "/v1/translate", "{\"requests\":{}}", NULL, 400, "requests"},
    {"POST", "/v1/translate", "{\"requests\":[],\"x\":1}", NULL, 400, "x"},
    {"POST", "/v1/translate", "{\"requests\":[{\"src_vnic\":\"a\","
     "\"dst_ip\":\"10.0.0.300\"}]}", NULL, 400, "requests[0].dst_ip"},
    {"POST", "/v1/translate", "{\"requests\":[{\"src_vnic\":\"a\","
     "\"dst_ip\":\"10.0.0.3\"},{\"src_vnic\":\"a\"}]}", NULL, 400,
     "requests[1].dst_mac"},
    {"POST", "/v1/translate", "{\"requests\":[1,2,3,4,5,6,7,8,9,10,11,12,"
     "13,14,15,16,17]}", NULL, 413, "requests"},
    {"GET", "/v1/changes", NULL, NULL, 400, "since"},
    {"GET", "/v1/changes?since=-1", NULL, NULL, 400, "since"},
    {"GET", "/v1/changes?since=1x", NULL, NULL, 400, "since"},
    {"GET", "/v1/changes?since=99999999999999999999999", NULL, NULL, 400,
     "since"},
    {"GET", "/v1/changes?since=0&timeout=999", NULL, NULL, 400, "timeout"},
    {"GET", "/v1/changes?since=0&limit=0", NULL, NULL, 400, "limit"},
    {"GET", "/v1/changes?since=0&wait=1", NULL, NULL, 400, "wait"},
    {"GET", "/v1/changes?since=999", NULL, NULL, 410, "since"},
};

static void
test_bad_requests(void)
{
    struct policy_api *api = api_open(":memory:");
    populate(api);
    uint64_t v = policy_api_version(api);
    for (size_t i = 0; i < VF_ARRAY_SIZE(bad_requests); i++) {
        const struct bad_request *b = &bad_requests[i];
        struct reply r = call_ct(api, b->method, b->path, ADMIN, b->body,
                                 b->ct ? b->ct
                                       : b->body ? "application/json"
                                                 : NULL,
                                 false);
        json_t *field = json_object_get(r.json, "field");
        bool ok = r.status == b->status
                  && json_is_string(json_object_get(r.json, "error"))
                  && (b->field ? json_is_string(field)
                                     && !strcmp(json_string_value(field),
                                                b->field)
                               : field == NULL)
                  && jint(r.json, "status") == (uint64_t) b->status;
        if (!ok) {
            char *s = json_dumps(r.json, JSON_COMPACT);
            TEST_FAIL__("case %zu: %s %s %s: got %d %s; want %d field %s", i,
                        b->method, b->path, b->body ? b->body : "",
                        r.status, s, b->status, b->field ? b->field : "-");
        }
        json_decref(r.json);
        CHECK_EQ_U(policy_api_version(api), v);
    }
    policy_api_destroy(api);
}

static void
test_translate(void)
{
    struct policy_api *api = api_open(":memory:");
    populate(api);
    /* Overlapping subnets and MACs in two tenants. */
    EXPECT(api, 201, "POST", "/v1/vnics", ADMIN,
           "{\"name\":\"y\",\"network\":\"n2\",\"mac\":\"02:00:00:00:00:0b\","
           "\"ips\":[\"10.0.0.11\"],\"host\":\"h1\"}");
    struct reply r = call(
        api, "POST", "/v1/translate", ADMIN,
        "{\"requests\":[{\"src_vnic\":\"a\",\"dst_ip\":\"10.0.0.11\"},"
        "{\"src_vnic\":\"z\",\"dst_ip\":\"10.0.0.11\"},"
        "{\"src_vnic\":\"a\",\"dst_mac\":\"02:00:00:00:00:0c\"},"
        "{\"src_vnic\":\"a\",\"dst_ip\":\"10.0.0.99\"},"
        "{\"src_vnic\":\"q\",\"dst_ip\":\"10.0.0.11\"}]}");
    CHECK_EQ_I(r.status, 200);
    json_t *res = json_object_get(r.json, "results");
    CHECK_EQ_U(json_array_size(res), 5);
    json_t *a = json_array_get(res, 0), *z = json_array_get(res, 1);
    CHECK_STR(json_string_value(json_object_get(a, "dst_vnic")), "b");
    CHECK_STR(json_string_value(json_object_get(a, "underlay_ip")),
              "192.0.2.2");
    CHECK_EQ_U(jint(a, "vni"), 100);
    CHECK_EQ_U(jint(a, "lifetime"), 300);
    CHECK_STR(json_string_value(json_object_get(z, "dst_vnic")), "y");
    CHECK_STR(json_string_value(json_object_get(z, "underlay_ip")),
              "192.0.2.1");
    CHECK_EQ_U(jint(z, "vni"), 200);
    CHECK_STR(json_string_value(json_object_get(json_array_get(res, 2),
                                                "status")), "unplaced");
    CHECK_STR(json_string_value(json_object_get(json_array_get(res, 3),
                                                "status")), "not_found");
    CHECK_EQ_U(jint(json_array_get(res, 3), "lifetime"), 30);
    CHECK_STR(json_string_value(json_object_get(json_array_get(res, 4),
                                                "status")), "no_such_src");
    json_decref(r.json);
    EXPECT(api, 200, "POST", "/v1/translate", ADMIN, "{\"requests\":[]}");
    struct policy_api_stats st;
    policy_api_get_stats(api, &st);
    CHECK_EQ_U(st.translations[0], 2);
    CHECK_EQ_U(st.translate_batches, 2);
    policy_api_destroy(api);
}

static void
test_changes(void)
{
    struct policy_api *api = api_open(":memory:");
    /* Empty model: nothing since 0, and a long-poll waits. */
    struct reply r = call(api, "GET", "/v1/changes?since=0&timeout=5", ADMIN,
                          NULL);
    CHECK(r.wait);
    CHECK_EQ_I(r.wait_until, now_ms + 5000);
    r = call_ct(api, "GET", "/v1/changes?since=0&timeout=5", ADMIN, NULL,
                NULL, true);
    CHECK_EQ_I(r.status, 200);
    CHECK_EQ_U(json_array_size(json_object_get(r.json, "changes")), 0);
    json_decref(r.json);

    populate(api);      /* Versions 1..10; retention 8 keeps 3..10. */
    r = call(api, "GET", "/v1/changes?since=1", ADMIN, NULL);
    CHECK_EQ_I(r.status, 410);
    CHECK_EQ_U(jint(r.json, "oldest"), 3);
    json_decref(r.json);
    r = call(api, "GET", "/v1/changes?since=2&limit=3", ADMIN, NULL);
    CHECK_EQ_I(r.status, 200);
    json_t *ch = json_object_get(r.json, "changes");
    CHECK_EQ_U(json_array_size(ch), 3);
    CHECK_EQ_U(jint(json_array_get(ch, 0), "version"), 3);
    CHECK(json_is_true(json_object_get(r.json, "more")));
    CHECK_EQ_U(jint(r.json, "next"), 5);
    json_decref(r.json);

    /* Exactly what changed: a move says where from and where to. */
    now_ms = 5555;
    EXPECT(api, 200, "PATCH", "/v1/vnics/a", ADMIN, "{\"host\":\"h2\"}");
    r = call(api, "GET", "/v1/changes?since=10&timeout=5", ADMIN, NULL);
    CHECK_EQ_I(r.status, 200);
    ch = json_object_get(r.json, "changes");
    CHECK_EQ_U(json_array_size(ch), 1);
    json_t *c = json_array_get(ch, 0);
    CHECK_EQ_U(jint(c, "version"), 11);
    CHECK_EQ_U(jint(c, "time_ms"), 5555);
    CHECK_STR(json_string_value(json_object_get(c, "op")), "update");
    CHECK_STR(json_string_value(json_object_get(c, "kind")), "vnic");
    CHECK_STR(json_string_value(json_object_get(json_object_get(c, "object"),
                                                "host")), "h2");
    CHECK_STR(json_string_value(json_object_get(
                  json_object_get(c, "previous"), "host")), "h1");
    CHECK(json_is_false(json_object_get(r.json, "more")));
    CHECK_EQ_U(jint(r.json, "next"), 11);
    json_decref(r.json);
    /* Host tokens' secrets never appear in the feed. */
    r = call(api, "POST", "/v1/hosts/h1/token", ADMIN, NULL);
    json_decref(r.json);
    r = call(api, "GET", "/v1/changes?since=11", ADMIN, NULL);
    char *dump = json_dumps(r.json, 0);
    CHECK(strstr(dump, "token") == NULL);
    free(dump);
    json_decref(r.json);
    /* Up to date: waits; ahead: 410. */
    r = call(api, "GET", "/v1/changes?since=12&timeout=1", ADMIN, NULL);
    CHECK(r.wait);
    EXPECT(api, 410, "GET", "/v1/changes?since=13", ADMIN, NULL);
    policy_api_destroy(api);
}

/* GET /v1/changes?since=SINCE[&limit=LIMIT] with 'token'; returns the
 * records as "kind:name ..." (an opaque record as "?"), the answer's next
 * in '*next' and its raw body (caller frees) in '*dump' if not NULL. */
static char *
feed(struct policy_api *api, const char *token, uint64_t since,
     unsigned int limit, uint64_t *next, char **dump)
{
    char path[128];
    if (limit) {
        snprintf(path, sizeof path, "/v1/changes?since=%llu&limit=%u",
                 (unsigned long long) since, limit);
    } else {
        snprintf(path, sizeof path, "/v1/changes?since=%llu",
                 (unsigned long long) since);
    }
    struct reply r = call(api, "GET", path, token, NULL);
    CHECK_EQ_I(r.status, 200);
    struct vf_buf b = VF_BUF_INITIALIZER;
    size_t i;
    json_t *c;
    uint64_t last = since;
    json_array_foreach (json_object_get(r.json, "changes"), i, c) {
        const char *kind = json_string_value(json_object_get(c, "kind"));
        const char *name = json_string_value(json_object_get(c, "name"));
        vf_buf_printf(&b, "%s%s%s%s", b.len ? " " : "", kind ? kind : "?",
                      kind ? ":" : "", kind ? name : "");
        CHECK(jint(c, "version") > last);     /* Ascending. */
        last = jint(c, "version");
    }
    if (next) {
        *next = jint(r.json, "next");
    }
    if (dump) {
        *dump = json_dumps(r.json, JSON_COMPACT);
    }
    json_decref(r.json);
    vf_buf_puts(&b, "");
    return vf_buf_steal(&b);
}

#define CHECK_FEED(API, TOKEN, SINCE, WANT)                              \
    do {                                                                  \
        char *got__ = feed(API, TOKEN, SINCE, 0, NULL, NULL);             \
        CHECK_STR(got__, WANT);                                           \
        free(got__);                                                      \
    } while (0)

static void
new_host(struct policy_api *api, const char *name, const char *ip,
         char *token, size_t size)
{
    char body[128];
    snprintf(body, sizeof body, "{\"name\":\"%s\",\"underlay_ip\":\"%s\"}",
             name, ip);
    struct reply r = call(api, "POST", "/v1/hosts", ADMIN, body);
    CHECK_EQ_I(r.status, 201);
    snprintf(token, size, "%s", jstr(&r, "token"));
    json_decref(r.json);
}

static void
renew_token(struct policy_api *api, const char *host, char *token,
            size_t size)
{
    char path[64];
    snprintf(path, sizeof path, "/v1/hosts/%s/token", host);
    struct reply r = call(api, "POST", path, ADMIN, NULL);
    CHECK_EQ_I(r.status, 200);
    snprintf(token, size, "%s", jstr(&r, "token"));
    json_decref(r.json);
}

/* What a host token sees of the feed: only tenants it serves (a VNIC
 * there now, or at some time since 'since'), its own host, other hosts'
 * underlay moves reduced; pagination and long-polls over withheld
 * records; the admin sees everything. */
static void
test_changes_host_scope(void)
{
    struct policy_api *api = api_open_retention(":memory:", 100);
    populate(api);      /* v1..10: t1 t2 n1 n2 h1 h2 a(h1) b(h2) c z(h2) */
    char h2_token[256], h3_token[256], *dump;
    renew_token(api, "h2", h2_token, sizeof h2_token);         /* v11 */
    new_host(api, "h3", "192.0.2.3", h3_token, sizeof h3_token); /* v12 */

    /* h1 serves t1 only: nothing of t2 (n2, z), nor of other hosts. */
    uint64_t next;
    char *got = feed(api, h1_token, 0, 0, &next, &dump);
    CHECK_STR(got, "tenant:t1 network:n1 host:h1 vnic:a vnic:b vnic:c");
    CHECK_EQ_U(next, 12);
    CHECK(!strstr(dump, "\"z\"") && !strstr(dump, "n2")
          && !strstr(dump, "t2") && !strstr(dump, "h3")
          && !strstr(dump, "192.0.2.2") && !strstr(dump, "token"));
    free(got);
    free(dump);
    /* h2 serves both; h3 nothing but itself. */
    CHECK_FEED(api, h2_token, 0,
               "tenant:t1 tenant:t2 network:n1 network:n2 host:h2 vnic:a "
               "vnic:b vnic:c vnic:z host:h2");
    CHECK_FEED(api, h3_token, 0, "host:h3");
    got = feed(api, ADMIN, 0, 0, &next, NULL);
    CHECK_STR(got, "tenant:t1 tenant:t2 network:n1 network:n2 host:h1 "
              "host:h2 vnic:a vnic:b vnic:c vnic:z host:h2 host:h3");
    CHECK_EQ_U(next, 12);
    free(got);

    /* Another host's underlay move: reduced to name and underlay IP;
     * its other changes: withheld. */
    EXPECT(api, 200, "PATCH", "/v1/hosts/h2", ADMIN,
           "{\"underlay_ip\":\"192.0.2.22\",\"description\":\"rack 9\"}");
    EXPECT(api, 200, "PATCH", "/v1/hosts/h2", ADMIN,
           "{\"capabilities\":[\"geneve\"]}");                  /* v14 */
    got = feed(api, h1_token, 12, 0, &next, &dump);
    CHECK_STR(got, "host:h2");
    CHECK_EQ_U(next, 14);
    CHECK(strstr(dump, "\"object\":{\"name\":\"h2\",\"underlay_ip\":"
                       "\"192.0.2.22\"}"));
    CHECK(strstr(dump, "\"previous\":{\"name\":\"h2\",\"underlay_ip\":"
                       "\"192.0.2.2\"}"));
    CHECK(!strstr(dump, "rack") && !strstr(dump, "geneve"));
    free(got);
    free(dump);
    CHECK_FEED(api, h2_token, 12, "host:h2 host:h2");

    /* A long-poll woken by withheld writes waits again; at its deadline
     * it answers nothing, with next past them. */
    struct reply r = call(api, "GET", "/v1/changes?since=14&timeout=5",
                          h1_token, NULL);
    CHECK(r.wait);
    EXPECT(api, 201, "POST", "/v1/policies", ADMIN,
           "{\"name\":\"p2\",\"tenant\":\"t2\",\"action\":\"deny\","
           "\"src\":\"any\",\"dst\":{\"network\":\"n2\"}}");    /* v15 */
    r = call(api, "GET", "/v1/changes?since=14&timeout=5", h1_token, NULL);
    CHECK(r.wait);
    CHECK_EQ_U(r.wait_until, now_ms + 5000);
    r = call_ct(api, "GET", "/v1/changes?since=14&timeout=5", h1_token, NULL,
                NULL, true);
    CHECK_EQ_I(r.status, 200);
    CHECK_EQ_U(json_array_size(json_object_get(r.json, "changes")), 0);
    CHECK_EQ_U(jint(r.json, "next"), 15);
    CHECK(json_is_false(json_object_get(r.json, "more")));
    json_decref(r.json);
    /* ... and a relevant write answers it. */
    EXPECT(api, 201, "POST", "/v1/policies", ADMIN,
           "{\"name\":\"p1\",\"tenant\":\"t1\",\"action\":\"deny\","
           "\"src\":\"any\",\"dst\":{\"network\":\"n1\"}}");    /* v16 */
    r = call(api, "GET", "/v1/changes?since=15&timeout=5", h1_token, NULL);
    CHECK_EQ_I(r.status, 200);
    CHECK_EQ_U(json_array_size(json_object_get(r.json, "changes")), 1);
    json_decref(r.json);

    /* A tenant served for a while in the window: h3 gets c (t1) placed,
     * t1 changes, c leaves again.  From before, h3 sees all of it;
     * from after, nothing. */
    EXPECT(api, 200, "PATCH", "/v1/vnics/c", h3_token,
           "{\"host\":\"h3\"}");                                 /* v17 */
    EXPECT(api, 200, "PATCH", "/v1/policies/p1", ADMIN,
           "{\"priority\":7}");                                   /* v18 */
    EXPECT(api, 200, "PATCH", "/v1/policies/p2", ADMIN,
           "{\"priority\":7}");                                   /* v19 */
    EXPECT(api, 200, "PATCH", "/v1/vnics/c", h3_token,
           "{\"host\":null}");                                    /* v20 */
    EXPECT(api, 200, "PATCH", "/v1/policies/p1", ADMIN,
           "{\"priority\":8}");                                   /* v21 */
    CHECK_FEED(api, h3_token, 14, "policy:p1 vnic:c policy:p1 vnic:c "
               "policy:p1");
    CHECK_FEED(api, h3_token, 20, "");
    CHECK_FEED(api, h1_token, 16, "vnic:c policy:p1 vnic:c policy:p1");

    /* Pagination: limit counts records sent; next skips withheld ones;
     * every visible record once. */
    struct vf_buf all = VF_BUF_INITIALIZER;
    uint64_t cursor = 0;
    for (int i = 0; i < 100; i++) {
        got = feed(api, h1_token, cursor, 2, &next, NULL);
        if (*got) {
            vf_buf_printf(&all, "%s%s", all.len ? " " : "", got);
        }
        free(got);
        CHECK(next > cursor || next == policy_api_version(api));
        if (next == cursor) {
            break;
        }
        cursor = next;
    }
    CHECK_EQ_U(cursor, policy_api_version(api));
    got = feed(api, h1_token, 0, 0, NULL, NULL);
    CHECK_STR(vf_buf_cstr(&all), got);
    free(got);
    vf_buf_uninit(&all);
    /* The admin still gets every record. */
    r = call(api, "GET", "/v1/changes?since=0", ADMIN, NULL);
    CHECK_EQ_U(json_array_size(json_object_get(r.json, "changes")),
               policy_api_version(api));
    json_decref(r.json);
    policy_api_destroy(api);
}

/* After a restart the scope is the same, including vnic records of a
 * network whose name a second tenant took later. */
static void
test_changes_host_scope_reload(void)
{
    char path[64];
    temp_store_path(path, sizeof path, "/tmp/pol-test-scope.XXXXXX");
    struct policy_api *api = api_open_retention(path, 100);
    populate(api);      /* h1 serves t1 (a); h2 serves t1 (b), t2 (z). */
    char h2_token[256], h3_token[256];
    renew_token(api, "h2", h2_token, sizeof h2_token);
    new_host(api, "h3", "192.0.2.3", h3_token, sizeof h3_token);
    EXPECT(api, 201, "POST", "/v1/tenants", ADMIN, "{\"name\":\"t3\"}");
    EXPECT(api, 201, "POST", "/v1/networks", ADMIN,
           "{\"name\":\"nx\",\"tenant\":\"t1\",\"subnets\":"
           "[\"10.7.0.0/24\"]}");
    EXPECT(api, 201, "POST", "/v1/vnics", ADMIN,
           "{\"name\":\"vx\",\"network\":\"nx\",\"mac\":"
           "\"02:00:00:00:07:01\",\"ips\":[\"10.7.0.1\"]}");
    EXPECT(api, 200, "DELETE", "/v1/vnics/vx", ADMIN, NULL);
    EXPECT(api, 200, "DELETE", "/v1/networks/nx", ADMIN, NULL);
    EXPECT(api, 201, "POST", "/v1/networks", ADMIN,
           "{\"name\":\"nx\",\"tenant\":\"t3\",\"subnets\":"
           "[\"10.7.0.0/24\"]}");
    EXPECT(api, 201, "POST", "/v1/vnics", ADMIN,
           "{\"name\":\"vy\",\"network\":\"nx\",\"mac\":"
           "\"02:00:00:00:07:02\",\"ips\":[\"10.7.0.2\"],\"host\":\"h3\"}");
    EXPECT(api, 201, "POST", "/v1/vnics", ADMIN,
           "{\"name\":\"vz\",\"network\":\"nx\",\"mac\":"
           "\"02:00:00:00:07:03\",\"ips\":[\"10.7.0.3\"]}");
    static const char want_h1[] =
        "tenant:t1 network:n1 host:h1 vnic:a vnic:b vnic:c network:nx "
        "vnic:vx vnic:vx network:nx";
    static const char want_h3[] =
        "host:h3 tenant:t3 network:nx vnic:vy vnic:vz";
    CHECK_FEED(api, h1_token, 0, want_h1);
    CHECK_FEED(api, h3_token, 0, want_h3);
    char *before = feed(api, h2_token, 0, 0, NULL, NULL);
    policy_api_destroy(api);

    api = api_open_retention(path, 100);
    CHECK_FEED(api, h1_token, 0, want_h1);
    CHECK_FEED(api, h3_token, 0, want_h3);
    CHECK_FEED(api, h2_token, 0, before);
    free(before);
    /* The placements were rebuilt: h3 still serves t3. */
    EXPECT(api, 200, "PATCH", "/v1/tenants/t3", ADMIN,
           "{\"description\":\"x\"}");
    CHECK_FEED(api, h3_token, policy_api_version(api) - 1, "tenant:t3");
    CHECK_FEED(api, h1_token, policy_api_version(api) - 1, "");
    policy_api_destroy(api);
    remove_store(path);
}

/* A store backend that wraps SQLite and fails commits on demand. */
struct failing_store {
    struct store up;
    struct store *inner;
    bool fail;
};

static struct failing_store *
failing(struct store *s)
{
    return VF_CONTAINER_OF(s, struct failing_store, up);
}

static void
fs_close(struct store *s)
{
    store_close(failing(s)->inner);
    free(failing(s));
}

static int
fs_load_objects(struct store *s, store_object_cb *cb, void *aux, char **errp)
{
    return store_load_objects(failing(s)->inner, cb, aux, errp);
}

static int
fs_load_changes(struct store *s, uint64_t after, store_change_cb *cb,
                void *aux, char **errp)
{
    return store_load_changes(failing(s)->inner, after, cb, aux, errp);
}

static int
fs_get_version(struct store *s, uint64_t *v, char **errp)
{
    return store_get_version(failing(s)->inner, v, errp);
}

static int
fs_commit(struct store *s, uint64_t version, const struct store_write *w,
          size_t n, const char *record, int64_t time_ms, char **errp)
{
    if (failing(s)->fail) {
        *errp = strdup("disk on fire");
        return -EIO;
    }
    return store_commit(failing(s)->inner, version, w, n, record, time_ms,
                        errp);
}

static int
fs_trim(struct store *s, uint64_t first, char **errp)
{
    return store_trim_changes(failing(s)->inner, first, errp);
}

static int
fs_schema(struct store *s)
{
    return store_schema_version(failing(s)->inner);
}

static const struct store_class failing_class = {
    .name = "failing",
    .close = fs_close,
    .load_objects = fs_load_objects,
    .load_changes = fs_load_changes,
    .get_version = fs_get_version,
    .commit = fs_commit,
    .trim_changes = fs_trim,
    .schema_version = fs_schema,
};

static void
test_store_failure(void)
{
    struct failing_store *fs = calloc(1, sizeof *fs);
    char *err = NULL;
    fs->up.class = &failing_class;
    fs->inner = store_open(":memory:", &err);
    struct policy_api_config cfg = {.admin_token = ADMIN};
    struct policy_api *api = policy_api_create(&fs->up, &cfg, &err);
    CHECK(api != NULL);
    populate(api);
    uint64_t v = policy_api_version(api);
    fs->fail = true;
    struct reply r = call(api, "PATCH", "/v1/vnics/a", ADMIN,
                          "{\"host\":\"h2\"}");
    CHECK_EQ_I(r.status, 503);
    CHECK(strstr(jstr(&r, "error"), "disk on fire"));
    json_decref(r.json);
    EXPECT(api, 503, "DELETE", "/v1/vnics/a", ADMIN, NULL);
    EXPECT(api, 503, "POST", "/v1/tenants", ADMIN, "{\"name\":\"t5\"}");
    CHECK_EQ_U(policy_api_version(api), v);
    r = call(api, "GET", "/v1/vnics/a", ADMIN, NULL);
    CHECK_STR(jstr(&r, "host"), "h1");
    json_decref(r.json);
    EXPECT(api, 404, "GET", "/v1/tenants/t5", ADMIN, NULL);
    r = call(api, "GET", "/v1/changes?since=0", ADMIN, NULL);
    CHECK_EQ_U(json_array_size(json_object_get(r.json, "changes")), v);
    json_decref(r.json);
    fs->fail = false;
    EXPECT(api, 201, "POST", "/v1/tenants", ADMIN, "{\"name\":\"t5\"}");
    CHECK_EQ_U(policy_api_version(api), v + 1);
    policy_api_destroy(api);
}

static void
test_reload(void)
{
    char path[64];
    temp_store_path(path, sizeof path, "/tmp/pol-test-api.XXXXXX");
    struct policy_api *api = api_open(path);
    populate(api);
    EXPECT(api, 201, "POST", "/v1/policies", ADMIN,
           "{\"name\":\"p1\",\"tenant\":\"t1\",\"action\":\"allow\","
           "\"src\":{\"group\":\"g\"},\"dst\":{\"network\":\"n1\"}}");
    uint64_t v = policy_api_version(api);
    struct reply before = call(api, "GET", "/v1/vnics", ADMIN, NULL);
    policy_api_destroy(api);

    api = api_open(path);
    CHECK_EQ_U(policy_api_version(api), v);
    struct reply after = call(api, "GET", "/v1/vnics", ADMIN, NULL);
    CHECK(json_equal(before.json, after.json));
    json_decref(before.json);
    json_decref(after.json);
    /* Host tokens survive (only their hashes are stored). */
    EXPECT(api, 200, "GET", "/v1/hosts/h1", h1_token, NULL);
    /* The change feed resumes where it was. */
    struct reply r = call(api, "GET", "/v1/changes?since=9", ADMIN, NULL);
    CHECK_EQ_I(r.status, 200);
    CHECK_EQ_U(json_array_size(json_object_get(r.json, "changes")), 2);
    json_decref(r.json);
    EXPECT(api, 409, "DELETE", "/v1/networks/n1", ADMIN, NULL);
    policy_api_destroy(api);
    remove_store(path);
}

static void
test_metrics_and_misc(void)
{
    struct policy_api *api = api_open(":memory:");
    populate(api);
    struct vf_buf b = VF_BUF_INITIALIZER;
    policy_api_format_metrics(api, &b);
    CHECK(strstr(vf_buf_cstr(&b), "vfab_policyd_model_version 10\n"));
    CHECK(strstr(vf_buf_cstr(&b), "vfab_policyd_objects{kind=\"vnic\"} 4\n"));
    vf_buf_uninit(&b);
    CHECK_STR(policy_api_endpoint("/v1/vnics/a"), "vnics");
    CHECK_STR(policy_api_endpoint("/v1/translate"), "translate");
    CHECK_STR(policy_api_endpoint("/v1/vnicsx"), "other");
    CHECK_STR(policy_api_endpoint("/metrics"), "metrics");
    policy_api_destroy(api);

    char *err = NULL;
    struct policy_api_config cfg = {.admin_token = "short"};
    CHECK(policy_api_create(store_open(":memory:", &err), &cfg, &err)
          == NULL);
    CHECK(strstr(err, "16"));
    free(err);
}

static const struct test_case cases[] = {
    TEST(test_auth),
    TEST(test_crud_versions),
    TEST(test_bad_requests),
    TEST(test_translate),
    TEST(test_changes),
    TEST(test_changes_host_scope),
    TEST(test_changes_host_scope_reload),
    TEST(test_store_failure),
    TEST(test_reload),
    TEST(test_metrics_and_misc),
};

TEST_MAIN(cases)
