/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: vfab-policyd's REST handlers (policy-api.c) over an
 * in-memory SQLite store holding a small model.
 *
 * Input: requests separated by a line "%%"; each is a first line
 * "METHOD PATH[?QUERY] [admin|host|other|none]" (the caller: the admin
 * token, host h1's token, host h2's token, no token) and a body (the rest,
 * possibly empty).  Invariants beyond "no crash, no leak": every answer is
 * a JSON object with a status in 200..599 (or a long-poll wait); errors
 * carry "error"; a non-2xx answer leaves the model version where it was;
 * a 2xx answer moves it by at most one. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "policy/policy-api.h"
#include "policy/store.h"
#include "util/compiler.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define ADMIN "fuzz-admin-token-0123456789"
#define MAX_REQUESTS 16

static char h1_token[256], h2_token[256];

static int
handle(struct policy_api *api, const char *method, const char *path,
       const char *query, const char *auth, const char *body,
       size_t body_size)
{
    struct policy_api_arg args[16];
    size_t n_args = 0;
    char qbuf[512];
    snprintf(qbuf, sizeof qbuf, "%s", query ? query : "");
    char *save = NULL;
    for (char *kv = query ? strtok_r(qbuf, "&", &save) : NULL;
         kv && n_args < 16; kv = strtok_r(NULL, "&", &save)) {
        char *eq = strchr(kv, '=');
        if (eq) {
            *eq = '\0';
        }
        args[n_args].key = kv;
        args[n_args++].value = eq ? eq + 1 : "";
    }
    struct policy_api_request req = {
        .method = method,
        .path = path,
        .args = args,
        .n_args = n_args,
        .authorization = auth,
        .content_type = "application/json",
        .body = body,
        .body_size = body_size,
        .now_ms = 1000,
    };
    uint64_t before = policy_api_version(api);
    struct policy_api_response resp;
    policy_api_handle(api, &req, &resp);
    if (resp.wait) {
        req.final = true;
        policy_api_handle(api, &req, &resp);
    }
    if (resp.wait || resp.status < 200 || resp.status > 599 || !resp.body) {
        abort();
    }
    json_t *j = json_loads(resp.body, 0, NULL);
    if (!json_is_object(j)) {
        abort();
    }
    uint64_t after = policy_api_version(api);
    bool ok = resp.status >= 200 && resp.status < 300;
    if (!ok && (after != before || !json_object_get(j, "error"))) {
        abort();
    }
    if (ok && after > before + 1) {
        abort();
    }
    int status = resp.status;
    if (status == 201 && !strcmp(path, "/v1/hosts")) {
        /* Keep the newest token of h1/h2 usable by later requests. */
        const char *t = json_string_value(json_object_get(j, "token"));
        const char *n = json_string_value(json_object_get(j, "name"));
        if (t && n && !strcmp(n, "h1")) {
            snprintf(h1_token, sizeof h1_token, "Bearer %s", t);
        } else if (t && n && !strcmp(n, "h2")) {
            snprintf(h2_token, sizeof h2_token, "Bearer %s", t);
        }
    }
    json_decref(j);
    policy_api_response_uninit(&resp);
    return status;
}

static const char *const setup[][3] = {
    {"POST", "/v1/tenants", "{\"name\":\"t\"}"},
    {"POST", "/v1/tenants", "{\"name\":\"u\"}"},
    {"POST", "/v1/networks",
     "{\"name\":\"n\",\"tenant\":\"t\",\"vni\":10,\"subnets\":"
     "[\"10.0.0.0/24\",\"fd00::/64\"]}"},
    {"POST", "/v1/networks",
     "{\"name\":\"m\",\"tenant\":\"u\",\"subnets\":[\"10.0.0.0/24\"]}"},
    {"POST", "/v1/hosts", "{\"name\":\"h1\",\"underlay_ip\":\"192.0.2.1\"}"},
    {"POST", "/v1/hosts", "{\"name\":\"h2\",\"underlay_ip\":\"192.0.2.2\"}"},
    {"POST", "/v1/vnics",
     "{\"name\":\"a\",\"network\":\"n\",\"mac\":\"02:00:00:00:00:01\","
     "\"ips\":[\"10.0.0.1\"],\"host\":\"h1\",\"security_groups\":[\"g\"]}"},
    {"POST", "/v1/vnics",
     "{\"name\":\"b\",\"network\":\"n\",\"mac\":\"02:00:00:00:00:02\","
     "\"ips\":[\"10.0.0.2\",\"fd00::2\"],\"host\":\"h2\"}"},
    {"POST", "/v1/vnics",
     "{\"name\":\"c\",\"network\":\"m\",\"mac\":\"02:00:00:00:00:01\","
     "\"ips\":[\"10.0.0.1\"]}"},
    {"POST", "/v1/policies",
     "{\"name\":\"p\",\"tenant\":\"t\",\"action\":\"deny\",\"src\":"
     "{\"group\":\"g\"},\"dst\":\"any\",\"protocol\":\"tcp\",\"ports\":22}"},
};

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *err = NULL;
    struct store *store = store_open(":memory:", &err);
    struct policy_api_config cfg = {.admin_token = ADMIN,
                                    .change_retention = 32,
                                    .max_batch = 64};
    struct policy_api *api = policy_api_create(store, &cfg, &err);
    if (!api) {
        abort();
    }
    for (size_t i = 0; i < sizeof setup / sizeof setup[0]; i++) {
        if (handle(api, setup[i][0], setup[i][1], NULL, "Bearer " ADMIN,
                   setup[i][2], strlen(setup[i][2])) != 201) {
            abort();
        }
    }

    char *text = malloc(size + 1);
    memcpy(text, data, size);
    text[size] = '\0';
    char *p = text;
    const char *end = text + size;
    for (int n = 0; p < end && n < MAX_REQUESTS; n++) {
        char *sep = strstr(p, "\n%%\n");
        char *req_end = sep ? sep : text + size;
        char *nl = memchr(p, '\n', (size_t) (req_end - p));
        char *line_end = nl ? nl : req_end;
        char line[600];
        size_t llen = (size_t) (line_end - p);
        snprintf(line, sizeof line, "%.*s", (int) VF_MIN(llen, 599), p);
        char *save = NULL;
        char *method = strtok_r(line, " ", &save);
        char *target = strtok_r(NULL, " ", &save);
        char *who = strtok_r(NULL, " ", &save);
        if (method && target) {
            char *q = strchr(target, '?');
            if (q) {
                *q++ = '\0';
            }
            const char *auth = !who || !strcmp(who, "admin")
                                   ? "Bearer " ADMIN
                               : !strcmp(who, "host")  ? h1_token
                               : !strcmp(who, "other") ? h2_token
                                                       : NULL;
            const char *body = nl ? nl + 1 : req_end;
            handle(api, method, target, q, auth, body,
                   (size_t) (req_end - body));
        }
        p = sep ? sep + 4 : text + size;
    }
    free(text);
    policy_api_destroy(api);
    return 0;
}
