/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VFAB_POLICY_POLICY_API_H
#define VFAB_POLICY_POLICY_API_H 1

/* vfab-policyd's REST handlers, independent of any HTTP library.
 *
 * The HTTP layer (src/policyd/http.c) turns each request into a struct
 * policy_api_request, calls policy_api_handle() and sends the response it
 * gets; unit tests and the fuzzer call policy_api_handle() directly.  The
 * API is documented in docs/rest-api.md; theory of operation in
 * policy-api.c.
 *
 * Long-poll: GET /v1/changes with a timeout and nothing new answers with
 * 'wait' set instead of a status.  The caller parks the request and calls
 * policy_api_handle() again with the same request once
 * policy_api_version() > 'wait_version' (it answers with the changes, or,
 * for a host token whose new records are all withheld from it, asks to
 * wait again: the caller then keeps the first 'wait_until_ms'), or at
 * 'wait_until_ms' with 'final' set (it answers with an empty list).
 *
 * Threads: everything from one thread (the server's main loop). */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"

struct store;
struct policy_api;

struct policy_api_config {
    const char *admin_token;    /* Required, >= 16 characters. */
    uint32_t lifetime_s;        /* Of allowed translations (default 300). */
    uint32_t negative_lifetime_s;     /* Of the others (default 30). */
    size_t change_retention;    /* Change records kept (default 10000). */
    size_t max_batch;           /* Items per translate (default 1024). */
    uint32_t max_wait_s;        /* Longest long-poll (default 60). */
};

/* One query-string argument. */
struct policy_api_arg {
    const char *key;
    const char *value;          /* "" if given without a value. */
};

struct policy_api_request {
    const char *method;         /* "GET", "POST", "PATCH", "DELETE"... */
    const char *path;           /* Decoded, without the query string. */
    const struct policy_api_arg *args;
    size_t n_args;
    const char *authorization;  /* The Authorization header, or NULL. */
    const char *content_type;   /* The Content-Type header, or NULL. */
    const char *body;           /* Need not be NUL-terminated. */
    size_t body_size;
    int64_t now_ms;             /* Wall clock, for change records. */
    bool final;                 /* Long-poll deadline reached: no wait. */
};

struct policy_api_response {
    int status;                 /* HTTP status; 0 if 'wait'. */
    char *body;                 /* Owned; NUL-terminated JSON. */
    size_t body_size;
    const char *allow;          /* For 405: the "Allow" header. */
    bool wait;                  /* Long-poll: see above. */
    uint64_t wait_version;
    int64_t wait_until_ms;
};

/* Statistics (also in policy_api_format_metrics()). */
struct policy_api_stats {
    uint64_t requests;
    uint64_t translations[5];   /* Indexed by enum xlate_status. */
    uint64_t verdicts[3];       /* Indexed by enum xlate_verdict (ok). */
    uint64_t translate_batches;
    uint64_t commits;
    uint64_t commit_errors;
    uint64_t auth_missing;      /* 401: no token. */
    uint64_t auth_invalid;      /* 401: unknown token. */
    uint64_t auth_forbidden;    /* 403. */
    uint64_t client_errors;     /* Other 4xx. */
};

/* Creates the API over 'store' (which it takes, and closes at destroy),
 * loading the model and the recent change records from it.  Returns the
 * API or NULL with a message through 'errp' (the store is closed then). */
struct policy_api *policy_api_create(struct store *store,
                                     const struct policy_api_config *cfg,
                                     char **errp);

/* Frees 'api' and closes its store.  NULL is a no-op. */
void policy_api_destroy(struct policy_api *api);

/* Handles 'req' and fills 'resp' (the caller frees it with
 * policy_api_response_uninit()).  Never fails: errors are responses
 * ({"error": MESSAGE, "field": FIELD, "status": CODE}).  Nothing changes
 * unless the status is 2xx. */
void policy_api_handle(struct policy_api *api,
                       const struct policy_api_request *req,
                       struct policy_api_response *resp);

void policy_api_response_uninit(struct policy_api_response *resp);

/* The model version (bumped by every write). */
uint64_t policy_api_version(const struct policy_api *api);

void policy_api_get_stats(const struct policy_api *api,
                          struct policy_api_stats *stats);

/* Appends the API's Prometheus metrics (text format 0.0.4). */
void policy_api_format_metrics(const struct policy_api *api,
                               struct vf_buf *out);

/* A label for metrics: "translate", "changes", "vnics", ... or "other". */
const char *policy_api_endpoint(const char *path);

/* Host tokens: "vfh.NAME.HEX" (64 hex digits of getrandom()).  Writes a new
 * token for host 'name' into 'token' ('size' >= 4 + 63 + 1 + 64 + 1) and
 * its SHA-256 (hex) into 'hash' (65 bytes).  Returns 0 or -errno. */
int policy_api_new_host_token(const char *name, char *token, size_t size,
                              char hash[65]);

#endif /* policy/policy-api.h */
