/* SPDX-License-Identifier: Apache-2.0 */
/* The agent's policy client: theory of operation.
 *
 * Place: inside vfabd's agent thread, between the datapath's misses and
 * vfab-policyd.  It owns the translation cache (policy-cache.c) and three
 * kinds of HTTP transfers, all on one libcurl multi handle (keep-alive
 * connections are reused between them):
 *
 *     SYNC   GET /v1/hosts/HOST/vnics (or /healthz without a host):
 *            empties the cache, learns the local VNICs and the version
 *     FEED   GET /v1/changes?since=V&timeout=T: one long-poll at a time;
 *            each record drops what it kills, V advances to "next"
 *     XLATE  POST /v1/translate: up to batch_max queued translations,
 *            at most max_in_flight batches at once
 *
 * State machine of the feed:
 *
 *     start ──► SYNC ──200──► FEED ──200──► FEED (since = next) ...
 *                ▲             │ 410 (too old / server history differs)
 *                └─────────────┘
 *     any failure: back off (retry_min doubling to retry_max), then retry
 *     the same step; the feed resumes from V, so nothing is missed.
 *
 * With a host token the server sends only the records this host needs
 * (policy-api.c, "Feed scope": its tenants' records, the VNICs placed on
 * or taken from it, other hosts' underlay moves), so versions in a feed
 * answer have gaps; "next" moves past the withheld ones, and nothing
 * here assumes contiguous versions.  A record without a kind (one the
 * server could not attribute) drops the whole cache.
 *
 * Ordering: a translation answered at version A may cross change records
 * the client already applied (V > A): the answer might predate a change
 * that kills it, so it is not cached but queued again.  An answer newer
 * than V is cached; records up to its version will arrive later and may
 * drop it needlessly (safe).
 *
 * Reachability: a transport failure or a 5xx marks the server
 * unreachable (remembering since when) and lets the cache serve expired
 * entries; any answer marks it reachable again.  Queued translations are
 * given up (callback with -ETIMEDOUT) after request_timeout.
 *
 * libcurl integration: a socket callback keeps the set of descriptors
 * curl wants (exported by policy_client_wait()), a timer callback its
 * next deadline (real monotonic time; translated into the caller's 'now'
 * base).  policy_client_run() polls those descriptors with a zero timeout
 * (no blocking) and feeds the ready ones to curl_multi_socket_action(). */
#include "policy/policy-client.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "net/addr.h"
#include "policy/model-hash.h"
#include "policy/model.h"
#include "util/buf.h"
#include "util/hash.h"
#include "util/jsonw.h"
#include "util/log.h"
#include "util/vtime.h"

VF_LOG_MODULE(policy_client);

#define PC_MAX_RESPONSE (64u << 20)
#define PC_CONNECT_TIMEOUT_MS 3000
#define PC_CACHE_RUN_NS VF_NSEC_PER_SEC   /* pcache_run() at least this
                                           * often. */

enum pc_kind { PC_SYNC, PC_FEED, PC_XLATE };

/* A queued or in-flight translation. */
struct pc_item {
    struct model_hnode node;    /* In 'pending', by (src, key). */
    struct pc_item *next;       /* In 'queue' while not sent. */
    char src[MODEL_NAME_MAX + 1];
    struct pcache_key key;
    int64_t queued_at;
    unsigned int retries;
    bool sent;
};

struct pc_transfer {
    struct pc_transfer *next, *prev;  /* In 'transfers'. */
    enum pc_kind kind;
    CURL *easy;
    struct curl_slist *headers;
    struct vf_buf resp;
    bool too_big;
    struct pc_item **items;     /* PC_XLATE */
    size_t n_items;
};

struct pc_sock {
    curl_socket_t fd;
    short events;
};

struct policy_client {
    char *url;
    char *token;
    char *host;
    struct policy_client_config cfg;
    CURLM *multi;
    struct pcache *cache;
    struct pc_transfer *transfers;    /* Active, for destroy. */

    struct pc_sock *socks;
    size_t n_socks, cap_socks;
    int64_t curl_deadline;      /* Real monotonic ns; INT64_MAX: none. */

    /* Feed. */
    bool synced;
    bool sync_busy;
    bool feed_busy;
    uint64_t version;
    int64_t feed_retry_at;
    int64_t feed_backoff;

    /* Translations. */
    struct model_hash pending;
    struct pc_item *queue_head, *queue_tail;
    size_t n_pending;
    unsigned int n_xlate_busy;
    int64_t xlate_retry_at;
    int64_t xlate_backoff;

    int64_t now;                /* Of the current run. */
    int64_t next_cache_run;
    struct policy_client_status st;
};

/* ---- curl plumbing. ---- */

static int
sock_cb(CURL *easy, curl_socket_t fd, int what, void *pc_, void *sockp)
{
    struct policy_client *pc = pc_;
    (void) easy;
    (void) sockp;
    size_t i;
    for (i = 0; i < pc->n_socks && pc->socks[i].fd != fd; i++) {
        continue;
    }
    if (what == CURL_POLL_REMOVE) {
        if (i < pc->n_socks) {
            pc->socks[i] = pc->socks[--pc->n_socks];
        }
        return 0;
    }
    if (i == pc->n_socks) {
        if (pc->n_socks == pc->cap_socks) {
            pc->cap_socks = pc->cap_socks ? 2 * pc->cap_socks : 4;
            pc->socks = vf_xrealloc(pc->socks,
                                    pc->cap_socks * sizeof *pc->socks);
        }
        pc->socks[pc->n_socks++].fd = fd;
    }
    pc->socks[i].events = (short) (((what & CURL_POLL_IN) ? POLLIN : 0)
                                   | ((what & CURL_POLL_OUT) ? POLLOUT : 0));
    return 0;
}

static int
timer_cb(CURLM *multi, long timeout_ms, void *pc_)
{
    struct policy_client *pc = pc_;
    (void) multi;
    pc->curl_deadline = timeout_ms < 0
                            ? INT64_MAX
                            : vf_time_monotonic_ns()
                                  + timeout_ms * VF_NSEC_PER_MSEC;
    return 0;
}

static size_t
collect(char *data, size_t size, size_t n, void *t_)
{
    struct pc_transfer *t = t_;
    if (t->resp.len + size * n > PC_MAX_RESPONSE) {
        t->too_big = true;
        return 0;
    }
    vf_buf_put(&t->resp, data, size * n);
    return size * n;
}

/* Starts a transfer of 'kind': 'method' on 'path' with JSON 'body'. */
static struct pc_transfer *
transfer_start(struct policy_client *pc, enum pc_kind kind,
               const char *method, const char *path, const char *body,
               long timeout_ms)
{
    struct pc_transfer *t = vf_xcalloc(1, sizeof *t);
    t->kind = kind;
    t->easy = curl_easy_init();
    VF_VERIFY(t->easy != NULL);
    char *url = vf_xasprintf("%s%s", pc->url, path);
    char *auth = vf_xasprintf("Authorization: Bearer %s", pc->token);
    t->headers = curl_slist_append(NULL, auth);
    t->headers = curl_slist_append(t->headers, "Expect:");
    free(auth);
    if (body) {
        t->headers = curl_slist_append(t->headers,
                                       "Content-Type: application/json");
        curl_easy_setopt(t->easy, CURLOPT_COPYPOSTFIELDS, body);
    }
    curl_easy_setopt(t->easy, CURLOPT_URL, url);
    curl_easy_setopt(t->easy, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(t->easy, CURLOPT_HTTPHEADER, t->headers);
    curl_easy_setopt(t->easy, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(t->easy, CURLOPT_WRITEDATA, t);
    curl_easy_setopt(t->easy, CURLOPT_PRIVATE, t);
    curl_easy_setopt(t->easy, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(t->easy, CURLOPT_TIMEOUT_MS, timeout_ms);
    curl_easy_setopt(t->easy, CURLOPT_CONNECTTIMEOUT_MS,
                     (long) PC_CONNECT_TIMEOUT_MS);
    curl_easy_setopt(t->easy, CURLOPT_TCP_KEEPALIVE, 1L);
    free(url);
    VF_VERIFY(curl_multi_add_handle(pc->multi, t->easy) == CURLM_OK);
    t->next = pc->transfers;
    if (t->next) {
        t->next->prev = t;
    }
    pc->transfers = t;
    pc->st.requests++;
    return t;
}

static void
transfer_free(struct policy_client *pc, struct pc_transfer *t)
{
    if (t->prev) {
        t->prev->next = t->next;
    } else {
        pc->transfers = t->next;
    }
    if (t->next) {
        t->next->prev = t->prev;
    }
    curl_multi_remove_handle(pc->multi, t->easy);
    curl_easy_cleanup(t->easy);
    curl_slist_free_all(t->headers);
    vf_buf_uninit(&t->resp);
    free(t->items);
    free(t);
}

/* Lets curl work on ready descriptors and due timers, without blocking. */
static void
drive_curl(struct policy_client *pc)
{
    int running;
    if (pc->n_socks) {
        size_t n = pc->n_socks;
        struct pollfd *fds = vf_xmalloc(n * sizeof *fds);
        for (size_t i = 0; i < n; i++) {
            fds[i] = (struct pollfd){.fd = pc->socks[i].fd,
                                     .events = pc->socks[i].events};
        }
        if (poll(fds, n, 0) > 0) {
            for (size_t i = 0; i < n; i++) {
                short r = fds[i].revents;
                if (!r) {
                    continue;
                }
                int mask = ((r & POLLIN) ? CURL_CSELECT_IN : 0)
                           | ((r & POLLOUT) ? CURL_CSELECT_OUT : 0)
                           | ((r & (POLLERR | POLLHUP | POLLNVAL))
                                  ? CURL_CSELECT_ERR
                                  : 0);
                curl_multi_socket_action(pc->multi, fds[i].fd, mask,
                                         &running);
            }
        }
        free(fds);
    }
    if (vf_time_monotonic_ns() >= pc->curl_deadline) {
        pc->curl_deadline = INT64_MAX;
        curl_multi_socket_action(pc->multi, CURL_SOCKET_TIMEOUT, 0,
                                 &running);
    }
}

/* ---- Reachability. ---- */

static void VF_PRINTF(2, 3)
server_down(struct policy_client *pc, const char *fmt, ...)
{
    va_list args;
    va_start(args, fmt);
    vsnprintf(pc->st.last_error, sizeof pc->st.last_error, fmt, args);
    va_end(args);
    pc->st.failures++;
    if (pc->st.reachable) {
        pc->st.reachable = false;
        pc->st.unreachable_since = pc->now;
        pc->st.unreachable_since_wall_ms = vf_time_wall_ms();
        pcache_set_stale_ok(pc->cache, true);
        VF_LOG_WARN(policy_client, "policy server %s unreachable: %s",
                    pc->url, pc->st.last_error);
    }
}

static void
server_up(struct policy_client *pc)
{
    if (!pc->st.reachable) {
        pc->st.reachable = true;
        pcache_set_stale_ok(pc->cache, false);
        VF_LOG_INFO(policy_client, "policy server %s reachable again",
                    pc->url);
    }
}

static int64_t
next_backoff(const struct policy_client *pc, int64_t backoff)
{
    return backoff ? VF_MIN(backoff * 2, pc->cfg.retry_max_ns)
                   : pc->cfg.retry_min_ns;
}

/* ---- Translations. ---- */

static uint32_t
item_hash(const char *src, const struct pcache_key *key)
{
    return vf_hash_bytes(key, sizeof *key, vf_hash_string(src, 0));
}

static struct pc_item *
pending_find(const struct policy_client *pc, const char *src,
             const struct pcache_key *key)
{
    struct pc_item *it;
    MODEL_HASH_FOR_EACH_WITH_HASH (it, node, item_hash(src, key),
                                   &pc->pending) {
        if (!strcmp(it->src, src) && !memcmp(&it->key, key, sizeof *key)) {
            return it;
        }
    }
    return NULL;
}

static void
queue_push(struct policy_client *pc, struct pc_item *it)
{
    it->sent = false;
    it->next = NULL;
    if (pc->queue_tail) {
        pc->queue_tail->next = it;
    } else {
        pc->queue_head = it;
    }
    pc->queue_tail = it;
}

int
policy_client_request(struct policy_client *pc, const char *src_vnic,
                      const struct pcache_key *dst, int64_t now)
{
    if (!model_name_valid(src_vnic)) {
        return -EINVAL;
    }
    if (pending_find(pc, src_vnic, dst)) {
        return 0;
    }
    if (pc->n_pending >= pc->cfg.max_pending) {
        return -ENOBUFS;
    }
    struct pc_item *it = vf_xcalloc(1, sizeof *it);
    snprintf(it->src, sizeof it->src, "%s", src_vnic);
    it->key = *dst;
    it->queued_at = now;
    model_hash_insert(&pc->pending, &it->node, item_hash(src_vnic, dst));
    pc->n_pending++;
    queue_push(pc, it);
    return 0;
}

/* Ends 'it' (answered or given up) and tells the agent. */
static void
item_done(struct policy_client *pc, struct pc_item *it,
          const struct pcache_entry *e, int error)
{
    model_hash_remove(&pc->pending, &it->node);
    pc->n_pending--;
    if (pc->cfg.on_xlate) {
        pc->cfg.on_xlate(pc->cfg.aux, it->src, &it->key, e, error);
    }
    free(it);
}

static void
start_xlate(struct policy_client *pc)
{
    struct vf_buf b = VF_BUF_INITIALIZER;
    struct vf_jw w;
    char addr[64];
    size_t n = 0;
    struct pc_item **items = vf_xmalloc(pc->cfg.batch_max * sizeof *items);
    vf_jw_init(&w, &b);
    vf_jw_obj_begin(&w);
    vf_jw_key(&w, "requests");
    vf_jw_arr_begin(&w);
    while (pc->queue_head && n < pc->cfg.batch_max) {
        struct pc_item *it = pc->queue_head;
        pc->queue_head = it->next;
        if (!pc->queue_head) {
            pc->queue_tail = NULL;
        }
        it->sent = true;
        items[n++] = it;
        vf_jw_obj_begin(&w);
        vf_jw_kstr(&w, "src_vnic", it->src);
        vf_jw_kstr(&w, it->key.type == PCACHE_KEY_MAC ? "dst_mac" : "dst_ip",
                   pcache_key_format(&it->key, addr));
        vf_jw_obj_end(&w);
    }
    vf_jw_arr_end(&w);
    vf_jw_obj_end(&w);
    struct pc_transfer *t = transfer_start(
        pc, PC_XLATE, "POST", "/v1/translate", vf_buf_cstr(&b),
        (long) (pc->cfg.request_timeout_ns / VF_NSEC_PER_MSEC));
    t->items = items;
    t->n_items = n;
    pc->n_xlate_busy++;
    vf_buf_uninit(&b);
}

static enum pcache_status
parse_status(const char *s)
{
    static const char *const names[] = {"ok", "not_found", "unplaced",
                                        "no_such_src", "forbidden"};
    for (size_t i = 0; s && i < VF_ARRAY_SIZE(names); i++) {
        if (!strcmp(s, names[i])) {
            return (enum pcache_status) i;
        }
    }
    return PCACHE_FORBIDDEN + 1;
}

static char *
dup_or_null(const json_t *v)
{
    const char *s = json_string_value(v);
    return s ? vf_xstrdup(s) : NULL;
}

/* Builds a cache entry from result 'r' for 'it'; NULL if malformed. */
static struct pcache_entry *
entry_from_json(struct policy_client *pc, const struct pc_item *it,
                const json_t *r)
{
    enum pcache_status status = parse_status(
        json_string_value(json_object_get(r, "status")));
    json_t *acl = json_object_get(r, "acl");
    json_t *lifetime = json_object_get(r, "lifetime");
    json_t *version = json_object_get(r, "version");
    if (status > PCACHE_FORBIDDEN || !json_is_integer(lifetime)
        || !json_is_integer(version) || json_integer_value(lifetime) < 0
        || (acl && !json_is_array(acl))) {
        return NULL;
    }
    struct pcache_entry *e = pcache_entry_alloc(json_array_size(acl));
    e->key = it->key;
    e->status = status;
    e->version = (uint64_t) json_integer_value(version);
    e->expires_ns = pc->now
                    + json_integer_value(lifetime) * VF_NSEC_PER_SEC;
    const char *verdict = json_string_value(json_object_get(r, "verdict"));
    e->verdict = !verdict                       ? PCACHE_DENY
                 : !strcmp(verdict, "allow")    ? PCACHE_ALLOW
                 : !strcmp(verdict, "filtered") ? PCACHE_FILTERED
                                                : PCACHE_DENY;
    const char *dflt = json_string_value(json_object_get(r, "default"));
    e->dflt_allow = dflt && !strcmp(dflt, "allow");
    for (size_t i = 0; i < e->n_acl; i++) {
        json_t *rule = json_array_get(acl, i);
        uint8_t proto = 0;
        const char *action = json_string_value(json_object_get(rule,
                                                               "action"));
        json_t *lo = json_object_get(rule, "port_min");
        json_t *hi = json_object_get(rule, "port_max");
        if (model_protocol_parse(json_object_get(rule, "protocol"), &proto)
            || !action) {
            pcache_entry_free(e);
            return NULL;
        }
        e->acl[i] = (struct pcache_acl_rule){
            .protocol = proto,
            .allow = !strcmp(action, "allow"),
            .port_min = lo ? (uint16_t) json_integer_value(lo) : 0,
            .port_max = hi ? (uint16_t) json_integer_value(hi) : 65535,
        };
    }
    e->vni = (uint32_t) json_integer_value(json_object_get(r, "vni"));
    const char *mac = json_string_value(json_object_get(r, "dst_mac"));
    if (mac) {
        eth_addr_parse(mac, &e->dst_mac);
    }
    const char *ul = json_string_value(json_object_get(r, "underlay_ip"));
    struct model_addr ua;
    if (ul && !model_addr_parse(ul, &ua)) {
        e->underlay_family = ua.family;
        memcpy(e->underlay_ip, ua.bytes, 16);
    }
    e->local = json_is_true(json_object_get(r, "local"));
    e->dst_vnic = dup_or_null(json_object_get(r, "dst_vnic"));
    e->dst_network = dup_or_null(json_object_get(r, "dst_network"));
    e->dst_host = dup_or_null(json_object_get(r, "dst_host"));
    json_t *groups = json_object_get(r, "dst_groups");
    if (json_is_array(groups) && json_array_size(groups)) {
        e->dst_groups = vf_xcalloc(json_array_size(groups),
                                   sizeof *e->dst_groups);
        for (size_t i = 0; i < json_array_size(groups); i++) {
            const char *g = json_string_value(json_array_get(groups, i));
            if (g) {
                e->dst_groups[e->n_dst_groups++] = vf_xstrdup(g);
            }
        }
    }
    return e;
}

/* Puts items of a failed batch back at the front of the queue. */
static void
requeue_items(struct policy_client *pc, struct pc_transfer *t)
{
    for (size_t i = t->n_items; i-- > 0;) {
        struct pc_item *it = t->items[i];
        it->sent = false;
        it->next = pc->queue_head;
        pc->queue_head = it;
        if (!pc->queue_tail) {
            pc->queue_tail = it;
        }
    }
}

static void
xlate_done(struct policy_client *pc, struct pc_transfer *t, long status,
           json_t *j)
{
    pc->n_xlate_busy--;
    if (status != 200) {
        /* The server refused the batch (4xx): give its items up. */
        int error = status == 401 || status == 403 ? -EACCES : -EPROTO;
        snprintf(pc->st.last_error, sizeof pc->st.last_error,
                 "translate: HTTP %ld", status);
        for (size_t i = 0; i < t->n_items; i++) {
            item_done(pc, t->items[i], NULL, error);
        }
        return;
    }
    json_t *results = json_object_get(j, "results");
    if (json_array_size(results) != t->n_items) {
        for (size_t i = 0; i < t->n_items; i++) {
            item_done(pc, t->items[i], NULL, -EPROTO);
        }
        return;
    }
    pc->xlate_backoff = 0;
    for (size_t i = 0; i < t->n_items; i++) {
        struct pc_item *it = t->items[i];
        struct pcache_entry *e = entry_from_json(pc, it,
                                                 json_array_get(results, i));
        if (!e) {
            item_done(pc, it, NULL, -EPROTO);
            continue;
        }
        if (e->version < pc->version) {
            /* Older than change records already applied: it may predate
             * a change that kills it.  Ask again (a few times). */
            pcache_entry_free(e);
            pc->st.discarded++;
            if (++it->retries > 3) {
                item_done(pc, it, NULL, -EAGAIN);
            } else {
                queue_push(pc, it);
            }
            continue;
        }
        struct pcache_part *part = pcache_part_get(pc->cache, it->src);
        pcache_insert(pc->cache, part, e, pc->now);
        pc->st.translations++;
        item_done(pc, it, e, 0);
    }
}

/* Gives up translations queued longer than the request timeout while the
 * server does not answer. */
static void
expire_pending(struct policy_client *pc)
{
    struct pc_item **pp = &pc->queue_head, *prev = NULL;
    while (*pp) {
        struct pc_item *it = *pp;
        if (pc->now - it->queued_at >= pc->cfg.request_timeout_ns) {
            *pp = it->next;
            if (pc->queue_tail == it) {
                pc->queue_tail = prev;
            }
            item_done(pc, it, NULL, -ETIMEDOUT);
        } else {
            prev = it;
            pp = &it->next;
        }
    }
}

/* ---- Change feed. ---- */

static void
invalidate_vnic_keys(struct policy_client *pc, const json_t *obj)
{
    struct pcache_key k;
    const char *mac = json_string_value(json_object_get(obj, "mac"));
    if (mac && !pcache_key_parse(mac, &k)) {
        pc->st.invalidated += pcache_invalidate_key(pc->cache, &k);
    }
    size_t i;
    json_t *ip;
    json_array_foreach (json_object_get(obj, "ips"), i, ip) {
        const char *s = json_string_value(ip);
        if (s && !pcache_key_parse(s, &k)) {
            pc->st.invalidated += pcache_invalidate_key(pc->cache, &k);
        }
    }
}

static void
set_part_src(struct pcache_part *part, const char *tenant,
             const json_t *vnic)
{
    json_t *groups = json_object_get(vnic, "security_groups");
    size_t n = json_array_size(groups);
    char **g = vf_xcalloc(n ? n : 1, sizeof *g);
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        const char *s = json_string_value(json_array_get(groups, i));
        if (s) {
            g[k++] = (char *) s;
        }
    }
    pcache_part_set_src(part, tenant,
                        json_string_value(json_object_get(vnic, "network")),
                        g, k);
    free(g);
}

static bool
on_this_host(const struct policy_client *pc, const json_t *vnic)
{
    const char *h = json_string_value(json_object_get(vnic, "host"));
    return pc->host && h && !strcmp(h, pc->host);
}

static void
apply_vnic_change(struct policy_client *pc, const char *name,
                  const json_t *obj, const json_t *prev)
{
    if (obj) {
        invalidate_vnic_keys(pc, obj);
    }
    if (prev) {
        invalidate_vnic_keys(pc, prev);
    }
    struct pcache_part *part = pcache_part_find(pc->cache, name);
    if (part) {
        /* The VNIC itself changed (groups, addresses, place): every
         * verdict it holds may have changed. */
        pc->st.invalidated += pcache_invalidate_part(pc->cache, part);
        if (obj && on_this_host(pc, obj)) {
            /* The tenant is the network's; unknown here, so the
             * partition conservatively matches every tenant. */
            set_part_src(part, NULL, obj);
        }
    }
}

static bool
selector_from_json(const json_t *v, struct pcache_selector *s)
{
    if (json_is_string(v)) {
        s->type = PCACHE_SEL_ANY;
        s->name = NULL;
        return true;
    }
    const char *net = json_string_value(json_object_get(v, "network"));
    const char *grp = json_string_value(json_object_get(v, "group"));
    if (net) {
        s->type = PCACHE_SEL_NETWORK;
        s->name = net;
        return true;
    }
    if (grp) {
        s->type = PCACHE_SEL_GROUP;
        s->name = grp;
        return true;
    }
    return false;
}

static void
apply_policy(struct policy_client *pc, const json_t *p)
{
    struct pcache_selector src, dst;
    if (selector_from_json(json_object_get(p, "src"), &src)
        && selector_from_json(json_object_get(p, "dst"), &dst)) {
        pc->st.invalidated += pcache_invalidate_policy(
            pc->cache, json_string_value(json_object_get(p, "tenant")), &src,
            &dst);
    } else {
        pc->st.invalidated += pcache_invalidate_all(pc->cache);
    }
}

/* Drops what record 'rec' kills (see the theory block). */
static void
apply_change(struct policy_client *pc, const json_t *rec)
{
    struct model_change_view v;
    model_change_view(rec, &v);
    const char *kind = v.kind, *name = v.name;
    json_t *obj = v.object, *prev = v.previous;
    if (!kind || !name) {
        pc->st.invalidated += pcache_invalidate_all(pc->cache);
    } else if (!strcmp(kind, "vnic")) {
        apply_vnic_change(pc, name, obj, prev);
    } else if (!strcmp(kind, "network")) {
        pc->st.invalidated += pcache_invalidate_dst(pc->cache, "network",
                                                    name);
        pc->st.invalidated += pcache_invalidate_src_network(pc->cache, name);
    } else if (!strcmp(kind, "host")) {
        pc->st.invalidated += pcache_invalidate_dst(pc->cache, "host", name);
    } else if (!strcmp(kind, "policy")) {
        if (obj) {
            apply_policy(pc, obj);
        }
        if (prev) {
            apply_policy(pc, prev);
        }
    }
    pc->st.changes++;
    if (pc->cfg.on_change) {
        pc->cfg.on_change(pc->cfg.aux, rec);
    }
}

static void
feed_failed(struct policy_client *pc)
{
    pc->feed_backoff = next_backoff(pc, pc->feed_backoff);
    pc->feed_retry_at = pc->now + pc->feed_backoff;
}

static void
feed_done(struct policy_client *pc, long status, json_t *j)
{
    pc->feed_busy = false;
    if (status == 410) {
        VF_LOG_INFO(policy_client, "change feed: version %" PRIu64 " is "
                    "too old for the server; re-syncing", pc->version);
        pc->synced = false;
        pc->feed_backoff = 0;
        return;
    }
    json_t *changes = json_object_get(j, "changes");
    json_t *next = json_object_get(j, "next");
    if (status != 200 || !json_is_array(changes) || !json_is_integer(next)) {
        snprintf(pc->st.last_error, sizeof pc->st.last_error,
                 "changes: HTTP %ld", status);
        feed_failed(pc);
        return;
    }
    size_t i;
    json_t *rec;
    json_array_foreach (changes, i, rec) {
        uint64_t v = (uint64_t) json_integer_value(json_object_get(rec,
                                                                   "version"));
        if (v > pc->version) {
            apply_change(pc, rec);
        }
    }
    pc->version = (uint64_t) json_integer_value(next);
    pc->feed_backoff = 0;
}

static void
sync_done(struct policy_client *pc, long status, json_t *j)
{
    pc->sync_busy = false;
    json_t *version = json_object_get(j, "version");
    if (status != 200 || !json_is_integer(version)) {
        snprintf(pc->st.last_error, sizeof pc->st.last_error,
                 "sync: HTTP %ld", status);
        feed_failed(pc);
        return;
    }
    pc->st.invalidated += pcache_invalidate_all(pc->cache);
    size_t i;
    json_t *v;
    json_array_foreach (json_object_get(j, "vnics"), i, v) {
        json_t *vnic = json_object_get(v, "vnic");
        const char *name = json_string_value(json_object_get(vnic, "name"));
        if (name && model_name_valid(name)) {
            set_part_src(pcache_part_get(pc->cache, name),
                         json_string_value(json_object_get(v, "tenant")),
                         vnic);
        }
    }
    pc->version = (uint64_t) json_integer_value(version);
    pc->synced = true;
    pc->st.resyncs++;
    pc->feed_backoff = 0;
    if (pc->cfg.on_sync) {
        pc->cfg.on_sync(pc->cfg.aux, pc->host ? j : NULL);
    }
}

/* ---- Completions and new work. ---- */

static void
transfer_done(struct policy_client *pc, struct pc_transfer *t, CURLcode rc)
{
    long status = 0;
    json_t *j = NULL;
    if (rc == CURLE_OK) {
        curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &status);
        j = json_loadb(t->resp.data ? t->resp.data : "", t->resp.len, 0,
                       NULL);
    }
    if (rc != CURLE_OK || status >= 500 || !j) {
        if (rc != CURLE_OK) {
            server_down(pc, "%s", curl_easy_strerror(rc));
        } else {
            server_down(pc, "HTTP %ld%s", status, j ? "" : " (not JSON)");
        }
        if (t->kind == PC_XLATE) {
            pc->n_xlate_busy--;
            requeue_items(pc, t);
            pc->xlate_backoff = next_backoff(pc, pc->xlate_backoff);
            pc->xlate_retry_at = pc->now + pc->xlate_backoff;
        } else {
            *(t->kind == PC_FEED ? &pc->feed_busy : &pc->sync_busy) = false;
            feed_failed(pc);
        }
        json_decref(j);
        return;
    }
    server_up(pc);
    switch (t->kind) {
    case PC_SYNC:
        sync_done(pc, status, j);
        break;
    case PC_FEED:
        feed_done(pc, status, j);
        break;
    case PC_XLATE:
        xlate_done(pc, t, status, j);
        break;
    }
    json_decref(j);
}

static void
collect_done(struct policy_client *pc)
{
    CURLMsg *msg;
    int left;
    while ((msg = curl_multi_info_read(pc->multi, &left))) {
        if (msg->msg != CURLMSG_DONE) {
            continue;
        }
        struct pc_transfer *t;
        curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **) &t);
        CURLcode rc = msg->data.result;
        transfer_done(pc, t, rc);
        transfer_free(pc, t);
    }
}

static void
start_work(struct policy_client *pc)
{
    if (!pc->synced && !pc->sync_busy && !pc->feed_busy
        && pc->now >= pc->feed_retry_at) {
        char *path = pc->host ? vf_xasprintf("/v1/hosts/%s/vnics", pc->host)
                              : vf_xstrdup("/healthz");
        transfer_start(pc, PC_SYNC, "GET", path, NULL,
                       (long) (pc->cfg.request_timeout_ns
                               / VF_NSEC_PER_MSEC));
        pc->sync_busy = true;
        free(path);
    } else if (pc->synced && !pc->feed_busy
               && pc->now >= pc->feed_retry_at) {
        char path[96];
        snprintf(path, sizeof path, "/v1/changes?since=%" PRIu64
                 "&timeout=%u", pc->version, pc->cfg.poll_timeout_s);
        transfer_start(pc, PC_FEED, "GET", path, NULL,
                       (long) pc->cfg.poll_timeout_s * 1000
                           + (long) (pc->cfg.request_timeout_ns
                                     / VF_NSEC_PER_MSEC));
        pc->feed_busy = true;
    }
    while (pc->queue_head && pc->n_xlate_busy < pc->cfg.max_in_flight
           && pc->now >= pc->xlate_retry_at) {
        start_xlate(pc);
    }
}

void
policy_client_run(struct policy_client *pc, int64_t now)
{
    pc->now = now;
    drive_curl(pc);
    collect_done(pc);
    expire_pending(pc);
    start_work(pc);
    drive_curl(pc);             /* Start what was just added. */
    collect_done(pc);
    if (now >= pc->next_cache_run) {
        pcache_run(pc->cache, now);
        pc->next_cache_run = now + PC_CACHE_RUN_NS;
    }
}

size_t
policy_client_wait(struct policy_client *pc, struct pollfd *fds, size_t max,
                   int64_t now, int64_t *deadline)
{
    for (size_t i = 0; i < pc->n_socks && i < max; i++) {
        fds[i] = (struct pollfd){.fd = pc->socks[i].fd,
                                 .events = pc->socks[i].events};
    }
    int64_t d = pc->next_cache_run;
    if (pc->curl_deadline != INT64_MAX) {
        int64_t in = pc->curl_deadline - vf_time_monotonic_ns();
        d = VF_MIN(d, now + VF_MAX(in, 0));
    }
    if (!pc->feed_busy && !pc->sync_busy) {
        d = VF_MIN(d, pc->feed_retry_at);
    }
    if (pc->queue_head) {
        if (pc->n_xlate_busy < pc->cfg.max_in_flight) {
            d = VF_MIN(d, pc->xlate_retry_at);
        }
        d = VF_MIN(d, pc->queue_head->queued_at
                          + pc->cfg.request_timeout_ns);
    }
    *deadline = VF_MAX(d, now);
    return pc->n_socks;
}

/* ---- Life cycle. ---- */

struct policy_client *
policy_client_create(const struct policy_client_config *cfg, char **errp)
{
    if (!cfg->server_url || strncmp(cfg->server_url, "http", 4)) {
        *errp = vf_xstrdup("the server URL must start with http:// or "
                           "https://");
        return NULL;
    }
    if (!cfg->token || !*cfg->token) {
        *errp = vf_xstrdup("a token is required");
        return NULL;
    }
    if (cfg->host && !model_name_valid(cfg->host)) {
        *errp = vf_xasprintf("'%s' is not a valid host name", cfg->host);
        return NULL;
    }
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        *errp = vf_xstrdup("cannot initialise libcurl");
        return NULL;
    }
    struct policy_client *pc = vf_xcalloc(1, sizeof *pc);
    pc->cfg = *cfg;
    pc->url = vf_xstrdup(cfg->server_url);
    size_t len = strlen(pc->url);
    while (len && pc->url[len - 1] == '/') {
        pc->url[--len] = '\0';
    }
    pc->token = vf_xstrdup(cfg->token);
    pc->host = cfg->host ? vf_xstrdup(cfg->host) : NULL;
    pc->cfg.server_url = pc->cfg.token = pc->cfg.host = NULL;
    struct policy_client_config *c = &pc->cfg;
    c->batch_max = c->batch_max ? c->batch_max : 256;
    c->max_in_flight = c->max_in_flight ? c->max_in_flight : 2;
    c->max_pending = c->max_pending ? c->max_pending : 8192;
    c->poll_timeout_s = c->poll_timeout_s ? c->poll_timeout_s : 30;
    c->request_timeout_ns = c->request_timeout_ns ? c->request_timeout_ns
                                                  : 10 * VF_NSEC_PER_SEC;
    c->retry_min_ns = c->retry_min_ns ? c->retry_min_ns
                                      : 100 * VF_NSEC_PER_MSEC;
    c->retry_max_ns = c->retry_max_ns ? c->retry_max_ns
                                      : 5 * VF_NSEC_PER_SEC;
    pc->cache = pcache_create(&cfg->cache);
    pc->multi = curl_multi_init();
    VF_VERIFY(pc->multi != NULL);
    curl_multi_setopt(pc->multi, CURLMOPT_SOCKETFUNCTION, sock_cb);
    curl_multi_setopt(pc->multi, CURLMOPT_SOCKETDATA, pc);
    curl_multi_setopt(pc->multi, CURLMOPT_TIMERFUNCTION, timer_cb);
    curl_multi_setopt(pc->multi, CURLMOPT_TIMERDATA, pc);
    pc->curl_deadline = INT64_MAX;
    model_hash_init(&pc->pending);
    pc->st.reachable = true;
    pc->feed_retry_at = INT64_MIN;
    pc->xlate_retry_at = INT64_MIN;
    pc->next_cache_run = INT64_MIN;
    return pc;
}

void
policy_client_destroy(struct policy_client *pc)
{
    if (!pc) {
        return;
    }
    /* Abort transfers (their items are freed below, from 'pending'). */
    while (pc->transfers) {
        transfer_free(pc, pc->transfers);
    }
    struct pc_item *it;
    struct pc_item **items = vf_xmalloc((pc->n_pending + 1) * sizeof *items);
    size_t n = 0;
    MODEL_HASH_FOR_EACH (it, node, &pc->pending) {
        items[n++] = it;
    }
    for (size_t i = 0; i < n; i++) {
        free(items[i]);
    }
    free(items);
    model_hash_destroy(&pc->pending);
    curl_multi_cleanup(pc->multi);
    pcache_destroy(pc->cache);
    free(pc->socks);
    free(pc->url);
    free(pc->token);
    free(pc->host);
    free(pc);
    curl_global_cleanup();
}

struct pcache *
policy_client_cache(struct policy_client *pc)
{
    return pc->cache;
}

bool
policy_client_forget_vnic(struct policy_client *pc, const char *name)
{
    return pcache_part_remove(pc->cache, name);
}

void
policy_client_get_status(const struct policy_client *pc,
                         struct policy_client_status *st)
{
    *st = pc->st;
    st->synced = pc->synced;
    st->version = pc->version;
    st->pending = pc->n_pending;
}
