/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VFAB_POLICY_POLICY_CLIENT_H
#define VFAB_POLICY_POLICY_CLIENT_H 1

/* The agent's side of vfab-policyd (used by vfabd's agent thread).
 *
 * It asks for translations in batches, keeps their answers in the
 * translation cache (policy-cache.h: one partition per local VNIC, read
 * by datapath threads without locks), follows the server's change feed
 * to drop exactly the translations that changes kill, resumes the feed
 * from its last version after a reconnect, re-syncs fully when the server
 * says that version is too old, and keeps the cache serving (stale
 * entries included) while the server is unreachable, reporting since
 * when.  Theory of operation: policy-client.c.
 *
 * Non-blocking, run/wait pattern (STYLE.md P12): the agent's loop calls
 *
 *     n = policy_client_wait(pc, fds, max, now, &deadline);
 *     poll(fds, n, until deadline);          // with its other fds
 *     policy_client_run(pc, now);
 *
 * Nothing here ever blocks the caller: HTTP runs on libcurl's multi
 * interface.  All functions are for the agent (control) thread only,
 * which must be registered with RCU (util/rcu.h rule 1: the cache frees
 * through vf_rcu_call()), except that datapath threads may read
 * policy_client_cache() under RCU.
 * 'now' is monotonic nanoseconds (the agent's clock, which tests warp). */

#include <poll.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "policy/policy-cache.h"

struct policy_client;

/* A translation answered (entry != NULL, already in the cache, valid only
 * during the call), or given up (entry == NULL, 'error' a negative
 * errno: -ETIMEDOUT if the server stayed unreachable for the request
 * timeout, -EPROTO for a malformed answer, -EACCES for 401/403, -EAGAIN
 * if every answer predated change records already applied). */
typedef void policy_client_xlate_cb(void *aux, const char *src_vnic,
                                    const struct pcache_key *dst,
                                    const struct pcache_entry *entry,
                                    int error);

/* A change record was applied (the cache already dropped what it
 * killed).  'record' is the server's JSON (docs/rest-api.md). */
typedef void policy_client_change_cb(void *aux, const json_t *record);

/* A full (re)sync finished: 'vnics' is GET /v1/hosts/HOST/vnics's
 * answer (NULL without a host), the cache was emptied. */
typedef void policy_client_sync_cb(void *aux, const json_t *vnics);

struct policy_client_config {
    const char *server_url;     /* "http://127.0.0.1:8470" (required). */
    const char *token;          /* Host (or admin) token (required). */
    const char *host;           /* This host's name, or NULL. */
    struct pcache_config cache; /* Zeros: defaults. */
    unsigned int batch_max;     /* Translations per request (256). */
    unsigned int max_in_flight; /* Concurrent translate requests (2). */
    size_t max_pending;         /* Queued translations (8192). */
    unsigned int poll_timeout_s;      /* Long-poll timeout (30). */
    int64_t request_timeout_ns; /* Per request and per queued
                                 * translation (10 s). */
    int64_t retry_min_ns;       /* Backoff after a failure (100 ms) ... */
    int64_t retry_max_ns;       /* ... doubling up to this (5 s). */
    policy_client_xlate_cb *on_xlate;
    policy_client_change_cb *on_change;
    policy_client_sync_cb *on_sync;
    void *aux;
};

/* Creates a client (nothing is sent before the first run).  Returns it,
 * or NULL with a message through 'errp'. */
struct policy_client *policy_client_create(
    const struct policy_client_config *cfg, char **errp);

/* Aborts transfers and frees everything; the cache's memory goes after a
 * grace period.  Datapath readers must be gone.  NULL is a no-op. */
void policy_client_destroy(struct policy_client *pc);

/* The cache the datapath reads (lifetime: the client's). */
struct pcache *policy_client_cache(struct policy_client *pc);

/* Queues a translation of 'dst' for local VNIC 'src_vnic' (batched with
 * others, sent by the next run).  Returns 0 if queued or already pending,
 * -EINVAL for a bad name, -ENOBUFS if max_pending translations wait. */
int policy_client_request(struct policy_client *pc, const char *src_vnic,
                          const struct pcache_key *dst, int64_t now);

/* Drops VNIC 'name''s partition (it left this host).  Returns true if it
 * had one. */
bool policy_client_forget_vnic(struct policy_client *pc, const char *name);

/* Does what is due: finished transfers, change records, new batches, the
 * feed, retries, cache housekeeping.  Bounded; never blocks. */
void policy_client_run(struct policy_client *pc, int64_t now);

/* Fills up to 'max' entries of 'fds' with the descriptors to poll and
 * returns how many it needs (if more than 'max', poll the first 'max' and
 * call run soon).  '*deadline' receives the latest 'now' at which run must
 * be called even if nothing is readable (INT64_MAX: none). */
size_t policy_client_wait(struct policy_client *pc, struct pollfd *fds,
                          size_t max, int64_t now, int64_t *deadline);

struct policy_client_status {
    bool reachable;             /* Last exchange with the server worked. */
    int64_t unreachable_since;  /* 'now' of the first failure, if not. */
    int64_t unreachable_since_wall_ms;  /* The same, wall clock. */
    bool synced;                /* Following the feed. */
    uint64_t version;           /* Model version the cache reflects. */
    char last_error[256];
    size_t pending;             /* Translations queued or in flight. */
    uint64_t requests;          /* HTTP requests sent. */
    uint64_t failures;          /* ... that got no usable answer. */
    uint64_t translations;      /* Answers put in the cache. */
    uint64_t discarded;         /* Answers older than the feed (retried). */
    uint64_t changes;           /* Change records applied. */
    uint64_t invalidated;       /* Cache entries they removed. */
    uint64_t resyncs;           /* Full re-syncs (410 or first start). */
};

void policy_client_get_status(const struct policy_client *pc,
                              struct policy_client_status *st);

#endif /* policy/policy-client.h */
