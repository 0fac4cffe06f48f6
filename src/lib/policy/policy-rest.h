/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VFAB_POLICY_POLICY_REST_H
#define VFAB_POLICY_POLICY_REST_H 1

/* Blocking REST calls to vfab-policyd (libcurl's easy interface), for
 * vfabctl, tests and benchmarks.  The agent uses the non-blocking client
 * (policy-client.h) instead.  Any thread; each call is independent. */

#include <stddef.h>

struct policy_rest_reply {
    long status;                /* HTTP status. */
    char *body;                 /* NUL-terminated; owned. */
    size_t body_size;
};

/* Sends 'method' 'base_url''path' with bearer 'token' (NULL: none) and
 * JSON 'body' (NULL: none), waiting at most 'timeout_ms'.  Returns 0 with
 * '*reply' filled (any HTTP status), or -EIO/-ETIMEDOUT/-ECONNREFUSED and a
 * message through 'errp' when no answer came.  Free the reply with
 * policy_rest_reply_uninit(). */
int policy_rest_call(const char *base_url, const char *token,
                     const char *method, const char *path, const char *body,
                     long timeout_ms, struct policy_rest_reply *reply,
                     char **errp);

void policy_rest_reply_uninit(struct policy_rest_reply *reply);

/* Percent-encodes 's' for a URL path segment or query value (caller
 * frees). */
char *policy_rest_escape(const char *s);

#endif /* policy/policy-rest.h */
