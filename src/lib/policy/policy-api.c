/* SPDX-License-Identifier: Apache-2.0 */
/* REST handlers: theory of operation.
 *
 * Place: between the HTTP layer (src/policyd/http.c, or a test, or the
 * fuzzer) and the model (model.c), translations (xlate.c) and the store
 * (store.h).  One request in, one response out, no HTTP library here.
 *
 * Request flow:
 *
 *     authenticate (Bearer token: admin, or host "vfh.NAME.HEX")
 *        │ 401 no/unknown token
 *     route (path segments, method)         404 / 405
 *        │
 *     authorize (a host token acts only as its host)          403
 *        │
 *     validate query arguments and body (unknown → 400)       4xx
 *        │
 *     reads: format from the model          writes: see below
 *
 * Writes are all-or-nothing (the "nothing half-written" rule):
 *   1. model_parse() checks the complete new object against the live
 *      model and returns a detached copy; the model is untouched;
 *   2. the object's canonical document, the change record and the new
 *      version go to the store in one store_commit() (one transaction);
 *   3. only then model_put()/model_delete() apply it in memory, which
 *      cannot fail, and the change record joins the in-memory log.
 * A failure at 1 is a 4xx, at 2 a 503; in both cases model, store and
 * version are as before.  A PATCH that changes nothing is answered 200
 * without a commit, so agents may re-assert state freely.
 *
 * Versions and the change feed: the model version counts writes; each
 * write is exactly one change record {version, time_ms, op, kind, name,
 * object, previous}: the new and old public documents, from which an
 * agent derives which translations died (a VNIC's old and new MAC/IPs,
 * a policy's old and new selectors, a host's old underlay IP).  The last
 * 'change_retention' records stay in memory (a ring, loaded from the
 * store at start) and in the store (trimmed every TRIM_EVERY commits).
 * A client asking for changes since a version older than the ring, or
 * newer than the model (the server's history differs), gets 410 and
 * re-syncs.
 *
 * Feed scope (what a host token sees of the feed): the admin token
 * reads every record; a host token only what its agent needs to keep its
 * translation cache and its VNIC set correct, and nothing of tenants it
 * does not serve.  The agent (policy-client.c, vfabd's fabric-agent.c)
 * uses a record to drop the translations of its local VNICs that it
 * kills, and to (re)bind the VNICs placed on it.  A translation of a
 * local VNIC only ever names a destination of the same tenant, so:
 *
 *   tenant, network, policy and vnic records: sent in full if the record
 *     is about a tenant that had a VNIC placed on this host at some time
 *     between the request's 'since' and now ("served": a VNIC there now,
 *     per the 'placements' index, or a vnic record of the tail whose
 *     object or previous is placed here); vnic records that place a VNIC
 *     here or take one away are always sent;
 *   host records: this host's own in full; another host's only when it
 *     changes that host's underlay IP (the only host field a translation
 *     carries), reduced to {name, underlay_ip}; creations and deletions
 *     of other hosts are not needed (no translation can name a host
 *     without VNICs, and placing a VNIC on it is a vnic record);
 *   a record the server cannot attribute (cannot happen with a sound
 *     store) is sent as {"version": V} only, which makes the agent drop
 *     its whole cache: safe in both directions.
 *
 * Why "some time between since and now" suffices: a record at version R
 * matters to the host only if a tenant VNIC was placed there at R (its
 * cache could hold that tenant's translations).  If it still is, the
 * index says so; if it left after R, the vnic record that took it away
 * is in the tail (R < it <= now) and names this host in 'previous'.
 * Withheld records are skipped, not renumbered: 'next' still moves past
 * them, so a client resuming from 'next' misses nothing it may see (the
 * client needs no contiguous versions).  'limit' counts records sent;
 * the scan over withheld ones is bounded by the retained history.  A
 * host's long-poll with only withheld records new stays parked (the HTTP
 * layer keeps its first deadline when it parks it again) and at the
 * deadline answers an empty list whose 'next' is the current version.
 *
 * Each log entry carries its scope, derived from the record when it is
 * logged: kind, tenant, the hosts a vnic record places the VNIC on, and
 * the reduced form of a host record.  A vnic document names its network,
 * not its tenant; at commit the tenant comes from the model, at load
 * (network names may have been reused by another tenant since) from the
 * 'previous' of the next network record of that name, else from the live
 * network (see scope_resolve_vnics()).
 *
 * Tokens: the admin token comes from the daemon's configuration; a
 * host token is generated when the admin registers the host (returned
 * once) and only its SHA-256 is kept, inside the host's document.
 * Comparisons take constant time. */
#include "policy/policy-api.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <jansson.h>

#include "policy/model-hash.h"
#include "policy/model.h"
#include "policy/store.h"
#include "policy/xlate.h"
#include "util/hash.h"
#include "util/jsonw.h"

#define TRIM_EVERY 256          /* Commits between store trims. */
#define CHANGES_MAX_LIMIT 1000  /* Records per /v1/changes answer. */
#define HOST_TOKEN_PREFIX "vfh."
#define HOST_TOKEN_HEX 64

/* One change record and its scope (see "Feed scope" above). */
struct change_entry {
    uint64_t version;
    char *json;                 /* The record, as the admin sees it. */
    int kind;                   /* enum model_kind; -1: unattributable. */
    char *tenant;               /* Tenant it is about; NULL for hosts, or
                                 * not known yet (vnic, at load). */
    char *hosts[2];             /* vnic: object's, previous' host; host:
                                 * its name in [0].  NULL: none. */
    char *host_json;            /* host: the reduced record other hosts
                                 * see; NULL: they see nothing. */
};

/* Ring of the most recent change records, oldest at 'head'. */
struct change_log {
    struct change_entry *ring;
    size_t cap;
    size_t head;
    size_t n;
};

/* How many VNICs of 'tenant' are placed on 'host' (entries with a count
 * of zero are freed).  Names, not pointers: the model replaces objects on
 * every write. */
struct placement {
    struct model_hnode node;    /* In 'placements'. */
    char *host;
    char *tenant;
    size_t n_vnics;
};

struct policy_api {
    struct store *store;
    struct model *model;
    struct policy_api_config cfg;
    char *admin_token;
    struct change_log log;
    struct model_hash placements;     /* struct placement, by (host,
                                       * tenant). */
    struct policy_api_stats stats;
    unsigned int commits_since_trim;
};

struct principal {
    bool admin;
    const struct model_host *host;    /* Host token: the host. */
};

/* One request being handled. */
struct ctx {
    struct policy_api *api;
    const struct policy_api_request *req;
    struct policy_api_response *resp;
    struct principal who;
    const char *segs[6];
    size_t n_segs;
    char *path_copy;
};

/* ---- Change log. ---- */

static void
log_init(struct change_log *log, size_t cap)
{
    log->cap = cap ? cap : 1;
    log->ring = vf_xcalloc(log->cap, sizeof *log->ring);
    log->head = log->n = 0;
}

static void
entry_uninit(struct change_entry *e)
{
    free(e->json);
    free(e->tenant);
    free(e->hosts[0]);
    free(e->hosts[1]);
    free(e->host_json);
}

static void
log_uninit(struct change_log *log)
{
    for (size_t i = 0; i < log->n; i++) {
        entry_uninit(&log->ring[(log->head + i) % log->cap]);
    }
    free(log->ring);
}

static struct change_entry *
log_at(const struct change_log *log, size_t i)
{
    return &log->ring[(log->head + i) % log->cap];
}

/* Appends (taking 'json') with an empty scope (scope_set() fills it);
 * drops the oldest record when full.  Returns the new entry. */
static struct change_entry *
log_push(struct change_log *log, uint64_t version, char *json)
{
    if (log->n == log->cap) {
        entry_uninit(&log->ring[log->head]);
        log->head = (log->head + 1) % log->cap;
        log->n--;
    }
    struct change_entry *e = log_at(log, log->n);
    *e = (struct change_entry){.version = version, .json = json,
                               .kind = -1};
    log->n++;
    return e;
}

/* Index of the first record with a version above 'since' (n if none). */
static size_t
log_find_after(const struct change_log *log, uint64_t since)
{
    size_t lo = 0, hi = log->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (log_at(log, mid)->version <= since) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return lo;
}

/* ---- Feed scope (see the theory block). ---- */

static uint32_t
placement_hash(const char *host, const char *tenant)
{
    return vf_hash_string(tenant, vf_hash_string(host, 0));
}

static struct placement *
placement_find(const struct policy_api *api, const char *host,
               const char *tenant)
{
    struct placement *p;
    MODEL_HASH_FOR_EACH_WITH_HASH (p, node, placement_hash(host, tenant),
                                   &api->placements) {
        if (!strcmp(p->host, host) && !strcmp(p->tenant, tenant)) {
            return p;
        }
    }
    return NULL;
}

/* Counts 'vnic' (NULL or unplaced: nothing) as placed ('delta' 1) or no
 * longer placed (-1) on its host. */
static void
placement_add(struct policy_api *api, const struct model_obj *obj, int delta)
{
    const struct model_vnic *v = obj ? VF_CONTAINER_OF(obj, struct model_vnic,
                                                       obj)
                                     : NULL;
    if (!v || !v->host) {
        return;
    }
    const char *host = v->host->obj.name;
    const char *tenant = v->network->tenant->obj.name;
    struct placement *p = placement_find(api, host, tenant);
    if (delta > 0) {
        if (!p) {
            p = vf_xcalloc(1, sizeof *p);
            p->host = vf_xstrdup(host);
            p->tenant = vf_xstrdup(tenant);
            model_hash_insert(&api->placements, &p->node,
                              placement_hash(host, tenant));
        }
        p->n_vnics++;
    } else if (VF_ALWAYS(p && p->n_vnics) && !--p->n_vnics) {
        model_hash_remove(&api->placements, &p->node);
        free(p->host);
        free(p->tenant);
        free(p);
    }
}

static void
placements_destroy(struct policy_api *api)
{
    size_t n = 0;
    struct placement *p;
    struct placement **all = vf_xmalloc((api->placements.n + 1)
                                        * sizeof *all);
    MODEL_HASH_FOR_EACH (p, node, &api->placements) {
        all[n++] = p;
    }
    for (size_t i = 0; i < n; i++) {
        free(all[i]->host);
        free(all[i]->tenant);
        free(all[i]);
    }
    free(all);
    model_hash_destroy(&api->placements);
}

static char *
dup_str_field(const json_t *doc, const char *key)
{
    const char *s = json_string_value(json_object_get(doc, key));
    return s ? vf_xstrdup(s) : NULL;
}

static void
write_host_reduced(struct vf_jw *w, const char *key, const json_t *doc)
{
    vf_jw_key(w, key);
    if (!doc) {
        vf_jw_null(w);
        return;
    }
    vf_jw_obj_begin(w);
    vf_jw_kstr(w, "name", json_string_value(json_object_get(doc, "name")));
    vf_jw_kstr(w, "underlay_ip",
               json_string_value(json_object_get(doc, "underlay_ip")));
    vf_jw_obj_end(w);
}

/* The record other hosts see of host record 'rec': NULL unless it
 * changes the host's underlay IP, else the record with both documents
 * reduced to name and underlay IP. */
static char *
host_reduced_record(const json_t *rec, const json_t *obj, const json_t *prev)
{
    const char *ip = json_string_value(json_object_get(obj, "underlay_ip"));
    const char *old = json_string_value(json_object_get(prev, "underlay_ip"));
    if (!ip || !old || !strcmp(ip, old)
        || !json_string_value(json_object_get(obj, "name"))
        || !json_string_value(json_object_get(prev, "name"))) {
        return NULL;
    }
    struct vf_buf b = VF_BUF_INITIALIZER;
    struct vf_jw w;
    vf_jw_init(&w, &b);
    vf_jw_obj_begin(&w);
    vf_jw_ku64(&w, "version",
               (uint64_t) json_integer_value(json_object_get(rec,
                                                             "version")));
    vf_jw_ki64(&w, "time_ms",
               json_integer_value(json_object_get(rec, "time_ms")));
    vf_jw_kstr(&w, "op", "update");
    vf_jw_kstr(&w, "kind", "host");
    vf_jw_kstr(&w, "name", json_string_value(json_object_get(rec, "name")));
    write_host_reduced(&w, "object", obj);
    write_host_reduced(&w, "previous", prev);
    vf_jw_obj_end(&w);
    return vf_buf_steal(&b);
}

/* Fills the scope of 'e' from its record.  'tenant' is a vnic record's
 * tenant when the caller knows it (NULL: scope_resolve_vnics() finds it
 * later).  A record that does not parse stays unattributable. */
static void
scope_set(struct change_entry *e, const char *tenant)
{
    json_t *rec = json_loads(e->json, 0, NULL);
    struct model_change_view v;
    model_change_view(rec, &v);
    const char *kind = v.kind, *name = v.name;
    json_t *obj = v.object, *prev = v.previous;
    const json_t *doc = obj ? obj : prev;
    int k = -1;
    for (int i = 0; kind && name && doc && i < MODEL_N_KINDS; i++) {
        k = !strcmp(kind, model_kind_name(i)) ? i : k;
    }
    switch (k) {
    case MODEL_TENANT:
        e->tenant = vf_xstrdup(name);
        break;
    case MODEL_NETWORK:
    case MODEL_POLICY:
        e->tenant = dup_str_field(doc, "tenant");
        k = e->tenant ? k : -1;
        break;
    case MODEL_VNIC:
        e->tenant = tenant ? vf_xstrdup(tenant) : NULL;
        e->hosts[0] = obj ? dup_str_field(obj, "host") : NULL;
        e->hosts[1] = prev ? dup_str_field(prev, "host") : NULL;
        break;
    case MODEL_HOST:
        e->hosts[0] = vf_xstrdup(name);
        e->host_json = host_reduced_record(rec, obj, prev);
        break;
    default:
        break;
    }
    e->kind = k;
    json_decref(rec);
}

/* A network's tenant as a vnic record at some version saw it. */
struct net_tenant {
    struct model_hnode node;
    const char *network;
    const char *tenant;         /* NULL: the network did not exist. */
};

/* Finds the tenants of the vnic records loaded from the store (the
 * theory block says how).  Runs once, at creation: one backward pass,
 * remembering for each network name the tenant it had just before its
 * next record. */
static void
scope_resolve_vnics(struct policy_api *api)
{
    struct change_log *log = &api->log;
    struct model_hash seen;
    struct net_tenant *nts = vf_xcalloc(log->n + 1, sizeof *nts);
    json_t **docs = vf_xcalloc(log->n + 1, sizeof *docs);
    size_t n_nts = 0;
    model_hash_init(&seen);
    for (size_t i = log->n; i-- > 0;) {
        struct change_entry *e = log_at(log, i);
        if (e->kind != MODEL_NETWORK
            && (e->kind != MODEL_VNIC || e->tenant)) {
            continue;
        }
        json_t *rec = json_loads(e->json, 0, NULL);
        const char *name = json_string_value(json_object_get(rec, "name"));
        const json_t *obj = json_object_get(rec, "object");
        const json_t *prev = json_object_get(rec, "previous");
        const char *network = e->kind == MODEL_NETWORK
            ? name
            : json_string_value(json_object_get(
                  json_is_object(obj) ? obj : prev, "network"));
        if (!network) {
            json_decref(rec);
            continue;
        }
        docs[i] = rec;
        uint32_t hash = vf_hash_string(network, 0);
        struct net_tenant *nt = NULL, *it;
        MODEL_HASH_FOR_EACH_WITH_HASH (it, node, hash, &seen) {
            if (!strcmp(it->network, network)) {
                nt = it;
            }
        }
        if (e->kind == MODEL_NETWORK) {
            if (!nt) {
                nt = &nts[n_nts++];
                nt->network = network;
                model_hash_insert(&seen, &nt->node, hash);
            }
            /* Before a creation the name was free; before an update or
             * a deletion it was this tenant's (tenants are immutable). */
            nt->tenant = json_is_object(prev) ? e->tenant : NULL;
            continue;
        }
        const char *tenant = NULL;
        if (nt) {
            tenant = nt->tenant;
        } else {
            const struct model_obj *o = model_lookup(api->model,
                                                     MODEL_NETWORK, network);
            tenant = o ? VF_CONTAINER_OF(o, struct model_network, obj)
                             ->tenant->obj.name
                       : NULL;
        }
        if (tenant) {
            e->tenant = vf_xstrdup(tenant);
        }
        /* Else (only with a damaged history) hosts get it opaque. */
    }
    for (size_t i = 0; i < log->n; i++) {
        json_decref(docs[i]);
    }
    free(docs);
    free(nts);
    model_hash_destroy(&seen);
}

/* The tenants served in a request's tail (sorted, for bsearch). */
struct tenant_set {
    const char **names;
    size_t n;
};

static int
cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *) a, *(const char *const *) b);
}

static bool
str_eq(const char *a, const char *b)
{
    return a && b && !strcmp(a, b);
}

/* Collects the tenants of the vnic records from index 'first' on that
 * place a VNIC on 'me' or take one away. */
static void
tail_tenants(const struct change_log *log, size_t first,
             const struct model_host *me, struct tenant_set *set)
{
    set->names = vf_xmalloc((log->n - first + 1) * sizeof *set->names);
    set->n = 0;
    for (size_t i = first; i < log->n; i++) {
        const struct change_entry *e = log_at(log, i);
        if (e->kind == MODEL_VNIC && e->tenant
            && (str_eq(e->hosts[0], me->obj.name)
                || str_eq(e->hosts[1], me->obj.name))) {
            set->names[set->n++] = e->tenant;
        }
    }
    qsort(set->names, set->n, sizeof *set->names, cmp_str);
}

enum scope {
    SCOPE_HIDDEN,               /* Not sent. */
    SCOPE_FULL,                 /* The record as the admin sees it. */
    SCOPE_REDUCED,              /* 'host_json'. */
    SCOPE_OPAQUE,               /* {"version": V}: drop everything. */
};

/* What host 'me' sees of 'e' (see the theory block); 'tail' from
 * tail_tenants(). */
static enum scope
scope_for_host(const struct policy_api *api, const struct model_host *me,
               const struct change_entry *e, const struct tenant_set *tail)
{
    const char *name = me->obj.name;
    switch (e->kind) {
    case MODEL_HOST:
        return str_eq(e->hosts[0], name) ? SCOPE_FULL
               : e->host_json            ? SCOPE_REDUCED
                                         : SCOPE_HIDDEN;
    case MODEL_VNIC:
        if (str_eq(e->hosts[0], name) || str_eq(e->hosts[1], name)) {
            return SCOPE_FULL;
        }
        if (!e->tenant) {
            return SCOPE_OPAQUE;
        }
        /* Fall through. */
    case MODEL_TENANT:
    case MODEL_NETWORK:
    case MODEL_POLICY:
        return placement_find(api, name, e->tenant)
                       || bsearch(&e->tenant, tail->names, tail->n,
                                  sizeof *tail->names, cmp_str)
                   ? SCOPE_FULL
                   : SCOPE_HIDDEN;
    default:
        return SCOPE_OPAQUE;
    }
}

/* ---- Responses. ---- */

static void
respond_buf(struct ctx *c, int status, struct vf_buf *b)
{
    c->resp->status = status;
    c->resp->body_size = b->len;
    c->resp->body = vf_buf_steal(b);
}

static void
respond_str(struct ctx *c, int status, const char *json)
{
    struct vf_buf b = VF_BUF_INITIALIZER;
    vf_buf_puts(&b, json);
    respond_buf(c, status, &b);
}

static void
respond_error_field(struct ctx *c, int status, const char *field,
                    const char *msg)
{
    struct vf_buf b = VF_BUF_INITIALIZER;
    struct vf_jw w;
    vf_jw_init(&w, &b);
    vf_jw_obj_begin(&w);
    vf_jw_kstr(&w, "error", msg);
    if (field) {
        vf_jw_kstr(&w, "field", field);
    }
    vf_jw_ku64(&w, "status", (uint64_t) status);
    vf_jw_ku64(&w, "version", c->api->model->version);
    vf_jw_obj_end(&w);
    respond_buf(c, status, &b);
    if (status == 401) {
        /* Counted by the caller (missing vs invalid). */
    } else if (status == 403) {
        c->api->stats.auth_forbidden++;
    } else if (status >= 400 && status < 500) {
        c->api->stats.client_errors++;
    }
}

static void VF_PRINTF(4, 5)
respond_error(struct ctx *c, int status, const char *field, const char *fmt,
              ...)
{
    va_list args;
    va_start(args, fmt);
    struct vf_buf msg = VF_BUF_INITIALIZER;
    vf_buf_vprintf(&msg, fmt, args);
    va_end(args);
    respond_error_field(c, status, field, vf_buf_cstr(&msg));
    vf_buf_uninit(&msg);
}

static int
errno_to_status(int error)
{
    switch (error) {
    case -EINVAL:
        return 400;
    case -EPERM:
        return 403;
    case -ENOENT:
        return 404;
    case -EEXIST:
    case -EBUSY:
    case -ESTALE:
        return 409;
    case -ENXIO:
        return 422;
    case -E2BIG:
        return 413;
    default:
        return 500;
    }
}

/* Responds with the errp message 'msg' (freed) for 'error'. */
static void
respond_errp(struct ctx *c, int error, char *msg)
{
    char *field = model_error_field(msg);
    respond_error_field(c, errno_to_status(error), field,
                        msg ? msg : "error");
    free(field);
    free(msg);
}

static char *
format_obj(const struct model_obj *obj, unsigned int flags)
{
    struct vf_buf b = VF_BUF_INITIALIZER;
    struct vf_jw w;
    vf_jw_init(&w, &b);
    model_obj_format(obj, flags, &w);
    return vf_buf_steal(&b);
}

/* ---- Tokens. ---- */

static bool
const_time_equal(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    unsigned char diff = (unsigned char) (la != lb);
    size_t n = la < lb ? la : lb;
    for (size_t i = 0; i < n; i++) {
        diff |= (unsigned char) (a[i] ^ b[i]);
    }
    return diff == 0;
}

static void
sha256_hex(const char *s, char hex[65])
{
    unsigned char digest[32];
    VF_VERIFY(gnutls_hash_fast(GNUTLS_DIG_SHA256, s, strlen(s), digest)
              == 0);
    for (int i = 0; i < 32; i++) {
        snprintf(hex + 2 * i, 3, "%02x", digest[i]);
    }
}

int
policy_api_new_host_token(const char *name, char *token, size_t size,
                          char hash[65])
{
    unsigned char rnd[HOST_TOKEN_HEX / 2];
    size_t got = 0;
    while (got < sizeof rnd) {
        ssize_t n = getrandom(rnd + got, sizeof rnd - got, 0);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            return -errno;
        }
        got += (size_t) n;
    }
    struct vf_buf b = VF_BUF_INITIALIZER;
    vf_buf_printf(&b, HOST_TOKEN_PREFIX "%s.", name);
    for (size_t i = 0; i < sizeof rnd; i++) {
        vf_buf_printf(&b, "%02x", rnd[i]);
    }
    if (b.len + 1 > size) {
        vf_buf_uninit(&b);
        return -ENOSPC;
    }
    memcpy(token, b.data, b.len + 1);
    vf_buf_uninit(&b);
    sha256_hex(token, hash);
    return 0;
}

/* Identifies the caller; responds 401 and returns false if it cannot. */
static bool
authenticate(struct ctx *c)
{
    const char *h = c->req->authorization;
    struct policy_api *api = c->api;
    if (!h || strncmp(h, "Bearer ", 7) || !h[7]) {
        api->stats.auth_missing++;
        respond_error(c, 401, NULL, "authentication required: send "
                      "\"Authorization: Bearer TOKEN\"");
        return false;
    }
    const char *token = h + 7;
    if (const_time_equal(token, api->admin_token)) {
        c->who.admin = true;
        return true;
    }
    size_t len = strlen(token), plen = strlen(HOST_TOKEN_PREFIX);
    if (len > plen + 1 + HOST_TOKEN_HEX && len < 200
        && !strncmp(token, HOST_TOKEN_PREFIX, plen)
        && token[len - HOST_TOKEN_HEX - 1] == '.') {
        char name[200];
        size_t nlen = len - plen - HOST_TOKEN_HEX - 1;
        memcpy(name, token + plen, nlen);
        name[nlen] = '\0';
        const struct model_obj *o = model_lookup(api->model, MODEL_HOST,
                                                 name);
        const struct model_host *host = o ? VF_CONTAINER_OF(
                                                o, struct model_host, obj)
                                          : NULL;
        if (host && host->token_hash) {
            char hash[65];
            sha256_hex(token, hash);
            if (const_time_equal(hash, host->token_hash)) {
                c->who.host = host;
                return true;
            }
        }
    }
    api->stats.auth_invalid++;
    respond_error(c, 401, NULL, "invalid token");
    return false;
}

static void
forbid(struct ctx *c, const char *field, const char *what)
{
    respond_error(c, 403, field, "%s%shost token of '%s' may not %s",
                  field ? field : "", field ? ": " : "",
                  c->who.host->obj.name, what);
}

/* ---- Arguments and bodies. ---- */

/* Checks that every query argument is one of 'allowed' (NULL-terminated)
 * and none repeats; responds 400 otherwise. */
static bool
check_args(struct ctx *c, const char *const *allowed)
{
    for (size_t i = 0; i < c->req->n_args; i++) {
        const char *key = c->req->args[i].key;
        bool ok = false;
        for (size_t j = 0; allowed[j]; j++) {
            ok = ok || !strcmp(key, allowed[j]);
        }
        if (!ok) {
            char safe[64];
            snprintf(safe, sizeof safe, "%s", key);
            for (char *p = safe; *p; p++) {
                if ((unsigned char) *p < 0x20 || *p == ':' || *p == ' ') {
                    *p = '?';
                }
            }
            respond_error(c, 400, safe, "%s: unknown query argument", safe);
            return false;
        }
        for (size_t j = 0; j < i; j++) {
            if (!strcmp(key, c->req->args[j].key)) {
                respond_error(c, 400, key, "%s: given twice", key);
                return false;
            }
        }
    }
    return true;
}

static const char *
get_arg(const struct ctx *c, const char *key)
{
    for (size_t i = 0; i < c->req->n_args; i++) {
        if (!strcmp(c->req->args[i].key, key)) {
            return c->req->args[i].value;
        }
    }
    return NULL;
}

/* Parses argument 'key' as a decimal in [min, max]; 'dflt' if absent.
 * Responds 400 and returns false if bad. */
static bool
get_uint_arg(struct ctx *c, const char *key, uint64_t min, uint64_t max,
             uint64_t dflt, bool required, uint64_t *out)
{
    const char *s = get_arg(c, key);
    if (!s) {
        if (required) {
            respond_error(c, 400, key, "%s: is required", key);
            return false;
        }
        *out = dflt;
        return true;
    }
    uint64_t v = 0;
    size_t len = strlen(s);
    bool ok = len > 0 && len <= 20;
    for (size_t i = 0; ok && i < len; i++) {
        unsigned d = (unsigned char) s[i] - '0';
        ok = d <= 9 && v <= (UINT64_MAX - d) / 10;
        v = v * 10 + d;
    }
    if (!ok || v < min || v > max) {
        respond_error(c, 400, key, "%s: must be an integer %" PRIu64
                      "..%" PRIu64, key, min, max);
        return false;
    }
    *out = v;
    return true;
}

static bool
no_body(struct ctx *c)
{
    if (c->req->body_size) {
        respond_error(c, 400, "body", "body: %s %s takes no body",
                      c->req->method, c->req->path);
        return false;
    }
    return true;
}

/* Parses the JSON body (an object); responds 4xx and returns NULL if it
 * is not one. */
static json_t *
parse_body(struct ctx *c)
{
    const char *ct = c->req->content_type;
    if (!ct || strncmp(ct, "application/json", 16)
        || (ct[16] && ct[16] != ';' && ct[16] != ' ')) {
        respond_error(c, 415, "Content-Type", "Content-Type: must be "
                      "application/json");
        return NULL;
    }
    if (!c->req->body_size) {
        respond_error(c, 400, "body", "body: a JSON object is required");
        return NULL;
    }
    json_error_t jerr;
    json_t *j = json_loadb(c->req->body, c->req->body_size,
                           JSON_REJECT_DUPLICATES, &jerr);
    if (!j) {
        respond_error(c, 400, "body", "body: invalid JSON at line %d column "
                      "%d: %s", jerr.line, jerr.column, jerr.text);
        return NULL;
    }
    if (!json_is_object(j)) {
        json_decref(j);
        respond_error(c, 400, "body", "body: must be a JSON object");
        return NULL;
    }
    return j;
}

/* ---- Writes. ---- */

enum write_op { OP_CREATE, OP_UPDATE, OP_DELETE };

static const char *const op_names[] = {"create", "update", "delete"};

static char *
build_record(uint64_t version, int64_t time_ms, enum write_op op,
             const struct model_obj *target, const char *object,
             const char *previous)
{
    struct vf_buf b = VF_BUF_INITIALIZER;
    struct vf_jw w;
    vf_jw_init(&w, &b);
    vf_jw_obj_begin(&w);
    vf_jw_ku64(&w, "version", version);
    vf_jw_ki64(&w, "time_ms", time_ms);
    vf_jw_kstr(&w, "op", op_names[op]);
    vf_jw_kstr(&w, "kind", model_kind_name(target->kind));
    vf_jw_kstr(&w, "name", target->name);
    vf_jw_key(&w, "object");
    if (object) {
        vf_jw_raw(&w, object);
    } else {
        vf_jw_null(&w);
    }
    vf_jw_key(&w, "previous");
    if (previous) {
        vf_jw_raw(&w, previous);
    } else {
        vf_jw_null(&w);
    }
    vf_jw_obj_end(&w);
    return vf_buf_steal(&b);
}

/* Commits one write: 'obj' (detached, taken) replaces 'old' (either may
 * be NULL, not both).  Responds 'ok_status' with the new object (plus
 * "token" if not NULL), or the deletion; 503 if the store fails. */
static void
commit_write(struct ctx *c, enum write_op op, struct model_obj *old,
             struct model_obj *obj, int ok_status, const char *token)
{
    struct policy_api *api = c->api;
    struct model *m = api->model;
    uint64_t version = m->version + 1;
    const struct model_obj *target = obj ? obj : old;
    int kind = (int) target->kind;
    char *name = vf_xstrdup(target->name);
    char *previous = old ? format_obj(old, 0) : NULL;
    char *doc = NULL, *object = NULL;
    if (obj) {
        obj->version = version;
        doc = format_obj(obj, MODEL_F_INTERNAL);
        object = format_obj(obj, 0);
    }
    char *record = build_record(version, c->req->now_ms, op, target, object,
                                previous);
    struct store_write w = {.kind = kind, .name = name, .doc = doc};
    char *err = NULL;
    int error = store_commit(api->store, version, &w, 1, record,
                             c->req->now_ms, &err);
    if (error) {
        api->stats.commit_errors++;
        respond_error(c, 503, NULL, "store: %s", err ? err : "error");
        free(err);
        model_obj_free(obj);
        free(record);
        goto out;
    }
    api->stats.commits++;
    char *tenant = NULL;
    if (kind == MODEL_VNIC) {
        const struct model_vnic *v = VF_CONTAINER_OF(target,
                                                     struct model_vnic, obj);
        tenant = vf_xstrdup(v->network->tenant->obj.name);
        placement_add(api, old, -1);
        placement_add(api, obj, 1);
    }
    if (obj) {
        model_put(m, obj, old, version);
    } else {
        model_delete(m, old, version);
    }
    scope_set(log_push(&api->log, version, record), tenant);
    free(tenant);
    if (++api->commits_since_trim >= TRIM_EVERY && api->log.n) {
        api->commits_since_trim = 0;
        /* Failure to trim costs disk space only. */
        store_trim_changes(api->store, log_at(&api->log, 0)->version, NULL);
    }

    struct vf_buf b = VF_BUF_INITIALIZER;
    if (op == OP_DELETE) {
        struct vf_jw jw;
        vf_jw_init(&jw, &b);
        vf_jw_obj_begin(&jw);
        vf_jw_kstr(&jw, "deleted", name);
        vf_jw_kstr(&jw, "kind", model_kind_name(kind));
        vf_jw_ku64(&jw, "version", version);
        vf_jw_obj_end(&jw);
    } else if (token) {
        /* {"token": T, ...object fields...} */
        vf_buf_printf(&b, "{\"token\":");
        vf_json_escape(&b, token, strlen(token));
        vf_buf_printf(&b, ",%s", object + 1);
    } else {
        vf_buf_puts(&b, object);
    }
    respond_buf(c, ok_status, &b);

out:
    free(name);
    free(previous);
    free(doc);
    free(object);
}

/* ---- Handlers: objects. ---- */

static struct model_obj *
lookup_or_404(struct ctx *c, enum model_kind kind, const char *name)
{
    struct model_obj *obj = model_name_valid(name)
                                ? model_lookup(c->api->model, kind, name)
                                : NULL;
    if (!obj) {
        respond_error(c, 404, NULL, "no such %s '%.64s'",
                      model_kind_name(kind), name);
    }
    return obj;
}

static bool
admin_only(struct ctx *c, const char *what)
{
    if (!c->who.admin) {
        forbid(c, NULL, what);
        return false;
    }
    return true;
}

static void
handle_create(struct ctx *c, enum model_kind kind)
{
    static const char *const none[] = {NULL};
    if (!admin_only(c, "create objects") || !check_args(c, none)) {
        return;
    }
    json_t *doc = parse_body(c);
    if (!doc) {
        return;
    }
    struct model_obj *obj;
    char *err = NULL;
    int error = model_parse(c->api->model, kind, doc, NULL, 0, &obj, &err);
    json_decref(doc);
    if (error) {
        respond_errp(c, error, err);
        return;
    }
    if (kind == MODEL_HOST) {
        char token[256], hash[65];
        error = policy_api_new_host_token(obj->name, token, sizeof token,
                                          hash);
        if (error) {
            model_obj_free(obj);
            respond_error(c, 500, NULL, "cannot generate a token: %s",
                          strerror(-error));
            return;
        }
        model_host_set_token_hash(VF_CONTAINER_OF(obj, struct model_host,
                                                  obj),
                                  hash);
        commit_write(c, OP_CREATE, NULL, obj, 201, token);
        return;
    }
    commit_write(c, OP_CREATE, NULL, obj, 201, NULL);
}

static bool
obj_passes_filter(const struct ctx *c, const struct model_obj *obj)
{
    const char *tenant = get_arg(c, "tenant");
    const char *network = get_arg(c, "network");
    const char *host = get_arg(c, "host");
    switch (obj->kind) {
    case MODEL_NETWORK: {
        const struct model_network *n = VF_CONTAINER_OF(
            obj, struct model_network, obj);
        return !tenant || !strcmp(n->tenant->obj.name, tenant);
    }
    case MODEL_VNIC: {
        const struct model_vnic *v = VF_CONTAINER_OF(obj, struct model_vnic,
                                                     obj);
        return (!tenant || !strcmp(v->network->tenant->obj.name, tenant))
               && (!network || !strcmp(v->network->obj.name, network))
               && (!host || (v->host && !strcmp(v->host->obj.name, host)));
    }
    case MODEL_POLICY: {
        const struct model_policy *p = VF_CONTAINER_OF(
            obj, struct model_policy, obj);
        return !tenant || !strcmp(p->tenant->obj.name, tenant);
    }
    case MODEL_TENANT:
    case MODEL_HOST:
    case MODEL_N_KINDS:
    default:
        return true;
    }
}

static void
handle_list(struct ctx *c, enum model_kind kind)
{
    static const char *const by_kind[MODEL_N_KINDS][4] = {
        [MODEL_TENANT] = {NULL},
        [MODEL_NETWORK] = {"tenant", NULL},
        [MODEL_HOST] = {NULL},
        [MODEL_VNIC] = {"tenant", "network", "host", NULL},
        [MODEL_POLICY] = {"tenant", NULL},
    };
    if (!admin_only(c, "list objects") || !no_body(c)
        || !check_args(c, by_kind[kind])) {
        return;
    }
    for (size_t i = 0; i < c->req->n_args; i++) {
        if (!model_name_valid(c->req->args[i].value)) {
            respond_error(c, 400, c->req->args[i].key, "%s: not a valid "
                          "name", c->req->args[i].key);
            return;
        }
    }
    size_t n;
    struct model_obj **objs = model_list(c->api->model, kind, &n);
    struct vf_buf b = VF_BUF_INITIALIZER;
    struct vf_jw w;
    vf_jw_init(&w, &b);
    vf_jw_obj_begin(&w);
    vf_jw_ku64(&w, "version", c->api->model->version);
    vf_jw_key(&w, model_kind_plural(kind));
    vf_jw_arr_begin(&w);
    for (size_t i = 0; i < n; i++) {
        if (obj_passes_filter(c, objs[i])) {
            model_obj_format(objs[i], 0, &w);
        }
    }
    vf_jw_arr_end(&w);
    vf_jw_obj_end(&w);
    free(objs);
    respond_buf(c, 200, &b);
}

/* May the caller read 'obj'? */
static bool
may_read(struct ctx *c, const struct model_obj *obj)
{
    if (c->who.admin) {
        return true;
    }
    const struct model_host *me = c->who.host;
    if (obj->kind == MODEL_HOST && obj == &me->obj) {
        return true;
    }
    if (obj->kind == MODEL_VNIC) {
        const struct model_vnic *v = VF_CONTAINER_OF(obj, struct model_vnic,
                                                     obj);
        return v->host == me;
    }
    return false;
}

static void
handle_get(struct ctx *c, enum model_kind kind, const char *name)
{
    static const char *const none[] = {NULL};
    if (!no_body(c) || !check_args(c, none)) {
        return;
    }
    struct model_obj *obj = lookup_or_404(c, kind, name);
    if (!obj) {
        return;
    }
    if (!may_read(c, obj)) {
        forbid(c, NULL, "read this object");
        return;
    }
    char *s = format_obj(obj, 0);
    respond_str(c, 200, s);
    free(s);
}

static void
handle_delete(struct ctx *c, enum model_kind kind, const char *name)
{
    static const char *const none[] = {NULL};
    if (!admin_only(c, "delete objects") || !no_body(c)
        || !check_args(c, none)) {
        return;
    }
    struct model_obj *obj = lookup_or_404(c, kind, name);
    if (!obj) {
        return;
    }
    char *err = NULL;
    int error = model_check_delete(c->api->model, obj, &err);
    if (error) {
        respond_errp(c, error, err);
        return;
    }
    commit_write(c, OP_DELETE, obj, NULL, 200, NULL);
}

/* Host tokens may change only their own host's capabilities, state
 * format and description, and a VNIC's location between "unplaced" and
 * themselves. */
static bool
host_may_patch(struct ctx *c, const struct model_obj *old,
               const json_t *patch)
{
    const struct model_host *me = c->who.host;
    const char *key;
    json_t *v;
    if (old->kind == MODEL_HOST) {
        if (old != &me->obj) {
            forbid(c, NULL, "change another host");
            return false;
        }
        json_object_foreach ((json_t *) patch, key, v) {
            if (strcmp(key, "capabilities") && strcmp(key, "state_format")
                && strcmp(key, "description") && strcmp(key, "version")) {
                forbid(c, model_name_valid(key) ? key : NULL,
                       "change fields other than capabilities, "
                       "state_format and description");
                return false;
            }
        }
        return true;
    }
    if (old->kind != MODEL_VNIC) {
        forbid(c, NULL, "change this object");
        return false;
    }
    const struct model_vnic *vnic = VF_CONTAINER_OF(old, struct model_vnic,
                                                    obj);
    json_object_foreach ((json_t *) patch, key, v) {
        if (strcmp(key, "host") && strcmp(key, "version")) {
            forbid(c, model_name_valid(key) ? key : NULL,
                   "change a vnic's fields other than its host");
            return false;
        }
    }
    json_t *h = json_object_get(patch, "host");
    if (!h) {
        return true;
    }
    if (json_is_null(h)) {
        if (vnic->host != me) {
            forbid(c, "host", "unplace a vnic it does not hold");
            return false;
        }
        return true;
    }
    const char *name = json_string_value(h);
    if (!name || strcmp(name, me->obj.name)) {
        forbid(c, "host", "place a vnic on another host");
        return false;
    }
    if (vnic->host && vnic->host != me) {
        forbid(c, "host", "take a vnic placed on another host (unplace it "
               "there first, or ask the admin)");
        return false;
    }
    return true;
}

static void
handle_patch(struct ctx *c, enum model_kind kind, const char *name)
{
    static const char *const none[] = {NULL};
    if (!check_args(c, none)) {
        return;
    }
    struct model_obj *old = lookup_or_404(c, kind, name);
    if (!old) {
        return;
    }
    json_t *patch = parse_body(c);
    if (!patch) {
        return;
    }
    if (!c->who.admin && !host_may_patch(c, old, patch)) {
        json_decref(patch);
        return;
    }
    json_t *doc = model_obj_to_json(old, 0);
    json_object_update(doc, patch);
    json_decref(patch);
    struct model_obj *obj;
    char *err = NULL;
    int error = model_parse(c->api->model, kind, doc, old, 0, &obj, &err);
    json_decref(doc);
    if (error) {
        respond_errp(c, error, err);
        return;
    }
    obj->version = old->version;
    char *a = format_obj(obj, MODEL_F_INTERNAL);
    char *b = format_obj(old, MODEL_F_INTERNAL);
    bool same = !strcmp(a, b);
    free(a);
    free(b);
    if (same) {
        model_obj_free(obj);
        char *s = format_obj(old, 0);
        respond_str(c, 200, s);
        free(s);
        return;
    }
    commit_write(c, OP_UPDATE, old, obj, 200, NULL);
}

static void
handle_host_vnics(struct ctx *c, const char *name)
{
    static const char *const none[] = {NULL};
    if (!no_body(c) || !check_args(c, none)) {
        return;
    }
    struct model_obj *hobj = lookup_or_404(c, MODEL_HOST, name);
    if (!hobj) {
        return;
    }
    if (!c->who.admin && hobj != &c->who.host->obj) {
        forbid(c, NULL, "read another host's vnics");
        return;
    }
    size_t n;
    struct model_obj **objs = model_list(c->api->model, MODEL_VNIC, &n);
    struct vf_buf b = VF_BUF_INITIALIZER;
    struct vf_jw w;
    vf_jw_init(&w, &b);
    vf_jw_obj_begin(&w);
    vf_jw_ku64(&w, "version", c->api->model->version);
    vf_jw_kstr(&w, "host", name);
    vf_jw_key(&w, "vnics");
    vf_jw_arr_begin(&w);
    for (size_t i = 0; i < n; i++) {
        const struct model_vnic *v = VF_CONTAINER_OF(objs[i],
                                                     struct model_vnic, obj);
        if (!v->host || &v->host->obj != hobj) {
            continue;
        }
        vf_jw_obj_begin(&w);
        vf_jw_key(&w, "vnic");
        model_obj_format(&v->obj, 0, &w);
        vf_jw_ku64(&w, "vni", v->network->vni);
        vf_jw_kstr(&w, "tenant", v->network->tenant->obj.name);
        /* The agent's distributed router needs the subnets (gateways). */
        vf_jw_key(&w, "subnets");
        vf_jw_arr_begin(&w);
        for (size_t k = 0; k < v->network->n_subnets; k++) {
            char a[64], cidr[80];
            const struct model_prefix *px = &v->network->subnets[k];
            snprintf(cidr, sizeof cidr, "%s/%u",
                     model_addr_format(&px->addr, a), px->plen);
            vf_jw_str(&w, cidr);
        }
        vf_jw_arr_end(&w);
        vf_jw_obj_end(&w);
    }
    vf_jw_arr_end(&w);
    vf_jw_obj_end(&w);
    free(objs);
    respond_buf(c, 200, &b);
}

static void
handle_host_token(struct ctx *c, const char *name)
{
    static const char *const none[] = {NULL};
    if (!admin_only(c, "issue tokens") || !no_body(c)
        || !check_args(c, none)) {
        return;
    }
    struct model_obj *old = lookup_or_404(c, MODEL_HOST, name);
    if (!old) {
        return;
    }
    json_t *doc = model_obj_to_json(old, MODEL_F_INTERNAL);
    struct model_obj *obj;
    char *err = NULL;
    int error = model_parse(c->api->model, MODEL_HOST, doc, old,
                            MODEL_F_INTERNAL, &obj, &err);
    json_decref(doc);
    if (error) {
        respond_errp(c, error, err);
        return;
    }
    char token[256], hash[65];
    error = policy_api_new_host_token(name, token, sizeof token, hash);
    if (error) {
        model_obj_free(obj);
        respond_error(c, 500, NULL, "cannot generate a token: %s",
                      strerror(-error));
        return;
    }
    model_host_set_token_hash(VF_CONTAINER_OF(obj, struct model_host, obj),
                              hash);
    commit_write(c, OP_UPDATE, old, obj, 200, token);
}

/* ---- Handlers: translations and changes. ---- */

static void
handle_translate(struct ctx *c)
{
    static const char *const none[] = {NULL};
    struct policy_api *api = c->api;
    if (!check_args(c, none)) {
        return;
    }
    json_t *body = parse_body(c);
    if (!body) {
        return;
    }
    const char *key;
    json_t *v;
    json_object_foreach (body, key, v) {
        if (strcmp(key, "requests")) {
            char safe[64];
            snprintf(safe, sizeof safe, "%s", key);
            json_decref(body);
            respond_error(c, 400, model_name_valid(safe) ? safe : NULL,
                          "%s: unknown field", model_name_valid(safe) ? safe
                                                                      : "?");
            return;
        }
    }
    json_t *reqs = json_object_get(body, "requests");
    if (!json_is_array(reqs)) {
        json_decref(body);
        respond_error(c, 400, "requests", "requests: must be an array");
        return;
    }
    size_t n = json_array_size(reqs);
    if (n > api->cfg.max_batch) {
        json_decref(body);
        respond_error(c, 413, "requests", "requests: %zu items; at most %zu "
                      "per batch", n, api->cfg.max_batch);
        return;
    }
    struct xlate_query *qs = vf_xmalloc((n ? n : 1) * sizeof *qs);
    for (size_t i = 0; i < n; i++) {
        char prefix[32], *err = NULL;
        snprintf(prefix, sizeof prefix, "requests[%zu].", i);
        if (xlate_query_parse(json_array_get(reqs, i), prefix, &qs[i],
                              &err)) {
            json_decref(body);
            free(qs);
            respond_errp(c, -EINVAL, err);
            return;
        }
    }
    json_decref(body);

    const struct model *m = api->model;
    struct xlate_result *r = vf_xmalloc(sizeof *r);
    struct vf_buf b = VF_BUF_INITIALIZER;
    struct vf_jw w;
    vf_buf_reserve(&b, 512 * (n ? n : 1));
    vf_jw_init(&w, &b);
    vf_jw_obj_begin(&w);
    vf_jw_ku64(&w, "version", m->version);
    vf_jw_key(&w, "results");
    vf_jw_arr_begin(&w);
    for (size_t i = 0; i < n; i++) {
        const struct model_obj *so = model_lookup(m, MODEL_VNIC,
                                                  qs[i].src_vnic);
        const struct model_vnic *src = so ? VF_CONTAINER_OF(
                                                so, struct model_vnic, obj)
                                          : NULL;
        xlate_translate(m, src, &qs[i], r);
        if (src && !c->who.admin && src->host != c->who.host) {
            r->status = XLATE_FORBIDDEN;
            r->dst = NULL;
        }
        api->stats.translations[r->status]++;
        if (r->status == XLATE_OK) {
            api->stats.verdicts[r->verdict]++;
        }
        bool positive = r->status == XLATE_OK && r->verdict != XLATE_DENY;
        xlate_result_format(&qs[i], r, m->version,
                            positive ? api->cfg.lifetime_s
                                     : api->cfg.negative_lifetime_s,
                            &w);
    }
    vf_jw_arr_end(&w);
    vf_jw_obj_end(&w);
    api->stats.translate_batches++;
    free(r);
    free(qs);
    respond_buf(c, 200, &b);
}

static void
respond_gone(struct ctx *c, uint64_t since)
{
    const struct change_log *log = &c->api->log;
    uint64_t v = c->api->model->version;
    uint64_t oldest = log->n ? log_at(log, 0)->version : v + 1;
    struct vf_buf b = VF_BUF_INITIALIZER;
    struct vf_jw w;
    char msg[160];
    if (since > v) {
        snprintf(msg, sizeof msg, "since: %" PRIu64 " is ahead of the "
                 "server's version %" PRIu64 "; re-sync", since, v);
    } else {
        snprintf(msg, sizeof msg, "since: changes after %" PRIu64 " are no "
                 "longer kept (oldest kept %" PRIu64 "); re-sync", since,
                 oldest);
    }
    vf_jw_init(&w, &b);
    vf_jw_obj_begin(&w);
    vf_jw_kstr(&w, "error", msg);
    vf_jw_kstr(&w, "field", "since");
    vf_jw_ku64(&w, "status", 410);
    vf_jw_ku64(&w, "version", v);
    vf_jw_ku64(&w, "oldest", oldest);
    vf_jw_obj_end(&w);
    respond_buf(c, 410, &b);
}

static void
handle_changes(struct ctx *c)
{
    static const char *const allowed[] = {"since", "timeout", "limit", NULL};
    struct policy_api *api = c->api;
    uint64_t since, timeout, limit;
    if (!no_body(c) || !check_args(c, allowed)
        || !get_uint_arg(c, "since", 0, INT64_MAX, 0, true, &since)
        || !get_uint_arg(c, "timeout", 0, api->cfg.max_wait_s, 0, false,
                         &timeout)
        || !get_uint_arg(c, "limit", 1, CHANGES_MAX_LIMIT, CHANGES_MAX_LIMIT,
                         false, &limit)) {
        return;
    }
    const struct change_log *log = &api->log;
    uint64_t v = api->model->version;
    if (since > v
        || (since < v && (!log->n || log_at(log, 0)->version > since + 1))) {
        respond_gone(c, since);
        return;
    }
    size_t first = log_find_after(log, since);
    const struct model_host *me = c->who.admin ? NULL : c->who.host;
    struct tenant_set tail = {NULL, 0};
    size_t i = first;
    if (me) {
        /* Skip what this host may not see; wait if that is all. */
        tail_tenants(log, first, me, &tail);
        while (i < log->n
               && scope_for_host(api, me, log_at(log, i), &tail)
                      == SCOPE_HIDDEN) {
            i++;
        }
    }
    if (i == log->n && timeout && !c->req->final) {
        free(tail.names);
        c->resp->wait = true;
        c->resp->wait_version = v;
        c->resp->wait_until_ms = c->req->now_ms + (int64_t) timeout * 1000;
        return;
    }
    struct vf_buf b = VF_BUF_INITIALIZER;
    struct vf_jw w;
    vf_jw_init(&w, &b);
    vf_jw_obj_begin(&w);
    vf_jw_ku64(&w, "version", v);
    vf_jw_key(&w, "changes");
    vf_jw_arr_begin(&w);
    uint64_t n_sent = 0;
    for (i = first; i < log->n; i++) {
        const struct change_entry *e = log_at(log, i);
        enum scope scope = me ? scope_for_host(api, me, e, &tail)
                              : SCOPE_FULL;
        if (scope == SCOPE_HIDDEN) {
            continue;
        }
        if (n_sent == limit) {
            break;              /* 'more': a record to send remains. */
        }
        n_sent++;
        if (scope == SCOPE_FULL) {
            vf_jw_raw(&w, e->json);
        } else if (scope == SCOPE_REDUCED) {
            vf_jw_raw(&w, e->host_json);
        } else {
            vf_jw_obj_begin(&w);
            vf_jw_ku64(&w, "version", e->version);
            vf_jw_obj_end(&w);
        }
    }
    vf_jw_arr_end(&w);
    /* Records skipped before the first unsent one count as read. */
    bool more = i < log->n;
    vf_jw_kbool(&w, "more", more);
    vf_jw_ku64(&w, "next", more ? log_at(log, i - 1)->version : v);
    vf_jw_obj_end(&w);
    free(tail.names);
    respond_buf(c, 200, &b);
}

static void
handle_healthz(struct ctx *c)
{
    struct vf_buf b = VF_BUF_INITIALIZER;
    struct vf_jw w;
    vf_jw_init(&w, &b);
    vf_jw_obj_begin(&w);
    vf_jw_kstr(&w, "status", "ok");
    vf_jw_ku64(&w, "version", c->api->model->version);
    vf_jw_kstr(&w, "store", store_backend(c->api->store));
    vf_jw_obj_end(&w);
    respond_buf(c, 200, &b);
}

/* ---- Routing. ---- */

static bool
split_path(struct ctx *c)
{
    const char *path = c->req->path;
    if (!path || path[0] != '/' || strlen(path) > 1024) {
        return false;
    }
    c->path_copy = vf_xstrdup(path + 1);
    char *p = c->path_copy;
    for (;;) {
        char *slash = strchr(p, '/');
        if (!*p || c->n_segs == VF_ARRAY_SIZE(c->segs)) {
            return false;
        }
        c->segs[c->n_segs++] = p;
        if (!slash) {
            return true;
        }
        *slash = '\0';
        p = slash + 1;
    }
}

static bool
method_is(const struct ctx *c, const char *m)
{
    return !strcmp(c->req->method, m);
}

static void
not_allowed(struct ctx *c, const char *allow)
{
    c->resp->allow = allow;
    respond_error(c, 405, NULL, "method %.16s is not allowed on %.128s "
                  "(allowed: %s)", c->req->method, c->req->path, allow);
}

static void
route_objects(struct ctx *c, enum model_kind kind)
{
    if (c->n_segs == 2) {
        if (method_is(c, "GET")) {
            handle_list(c, kind);
        } else if (method_is(c, "POST")) {
            handle_create(c, kind);
        } else {
            not_allowed(c, "GET, POST");
        }
        return;
    }
    const char *name = c->segs[2];
    if (c->n_segs == 3) {
        if (method_is(c, "GET")) {
            handle_get(c, kind, name);
        } else if (method_is(c, "PATCH")) {
            handle_patch(c, kind, name);
        } else if (method_is(c, "DELETE")) {
            handle_delete(c, kind, name);
        } else {
            not_allowed(c, "GET, PATCH, DELETE");
        }
        return;
    }
    if (c->n_segs == 4 && kind == MODEL_HOST
        && !strcmp(c->segs[3], "vnics")) {
        if (method_is(c, "GET")) {
            handle_host_vnics(c, name);
        } else {
            not_allowed(c, "GET");
        }
        return;
    }
    if (c->n_segs == 4 && kind == MODEL_HOST
        && !strcmp(c->segs[3], "token")) {
        if (method_is(c, "POST")) {
            handle_host_token(c, name);
        } else {
            not_allowed(c, "POST");
        }
        return;
    }
    respond_error(c, 404, NULL, "no such resource: %.128s", c->req->path);
}

static void
route(struct ctx *c)
{
    if (!split_path(c)) {
        respond_error(c, 404, NULL, "no such resource: %.128s",
                      c->req->path ? c->req->path : "");
        return;
    }
    if (c->n_segs == 1 && !strcmp(c->segs[0], "healthz")) {
        if (method_is(c, "GET")) {
            handle_healthz(c);
        } else {
            not_allowed(c, "GET");
        }
        return;
    }
    if (strcmp(c->segs[0], "v1") || c->n_segs < 2) {
        respond_error(c, 404, NULL, "no such resource: %.128s",
                      c->req->path);
        return;
    }
    if (!authenticate(c)) {
        return;
    }
    const char *what = c->segs[1];
    if (!strcmp(what, "translate") && c->n_segs == 2) {
        if (method_is(c, "POST")) {
            handle_translate(c);
        } else {
            not_allowed(c, "POST");
        }
        return;
    }
    if (!strcmp(what, "changes") && c->n_segs == 2) {
        if (method_is(c, "GET")) {
            handle_changes(c);
        } else {
            not_allowed(c, "GET");
        }
        return;
    }
    int kind = model_kind_from_plural(what);
    if (kind < 0 || c->n_segs > 4) {
        respond_error(c, 404, NULL, "no such resource: %.128s",
                      c->req->path);
        return;
    }
    route_objects(c, (enum model_kind) kind);
}

void
policy_api_handle(struct policy_api *api, const struct policy_api_request *req,
                  struct policy_api_response *resp)
{
    memset(resp, 0, sizeof *resp);
    struct ctx c = {.api = api, .req = req, .resp = resp};
    api->stats.requests++;
    if (!req->method) {
        respond_error(&c, 400, NULL, "no method");
        return;
    }
    route(&c);
    free(c.path_copy);
    VF_VERIFY(resp->wait || resp->body);
}

void
policy_api_response_uninit(struct policy_api_response *resp)
{
    free(resp->body);
    resp->body = NULL;
}

const char *
policy_api_endpoint(const char *path)
{
    static const char *const names[] = {
        "translate", "changes", "tenants", "networks", "hosts", "vnics",
        "policies",
    };
    if (!path) {
        return "other";
    }
    if (!strcmp(path, "/healthz")) {
        return "healthz";
    }
    if (!strcmp(path, "/metrics")) {
        return "metrics";
    }
    if (strncmp(path, "/v1/", 4)) {
        return "other";
    }
    const char *p = path + 4;
    size_t len = strcspn(p, "/");
    for (size_t i = 0; i < VF_ARRAY_SIZE(names); i++) {
        if (strlen(names[i]) == len && !strncmp(p, names[i], len)) {
            return names[i];
        }
    }
    return "other";
}

/* ---- Creation and loading. ---- */

static int
load_object(void *api_, int kind, const char *name, const char *doc,
            char **errp)
{
    struct policy_api *api = api_;
    if (kind < 0 || kind >= MODEL_N_KINDS) {
        *errp = vf_xasprintf("store: object '%s' has unknown kind %d", name,
                             kind);
        return -EPROTO;
    }
    json_error_t jerr;
    json_t *j = json_loads(doc, JSON_REJECT_DUPLICATES, &jerr);
    if (!j) {
        *errp = vf_xasprintf("store: %s '%s': invalid JSON: %s",
                             model_kind_name(kind), name, jerr.text);
        return -EPROTO;
    }
    struct model_obj *obj;
    char *err = NULL;
    int error = model_parse(api->model, kind, j, NULL, MODEL_F_INTERNAL,
                            &obj, &err);
    json_decref(j);
    if (!error && strcmp(obj->name, name)) {
        model_obj_free(obj);
        err = vf_xasprintf("name: document says '%s'", obj->name);
        error = -EPROTO;
    }
    if (error) {
        *errp = vf_xasprintf("store: %s '%s': %s", model_kind_name(kind),
                             name, err);
        free(err);
        return error;
    }
    model_put(api->model, obj, NULL, obj->version);
    return 0;
}

static int
load_change(void *api_, uint64_t version, int64_t time_ms, const char *record,
            char **errp)
{
    struct policy_api *api = api_;
    (void) time_ms;
    (void) errp;
    scope_set(log_push(&api->log, version, vf_xstrdup(record)), NULL);
    return 0;
}

struct policy_api *
policy_api_create(struct store *store, const struct policy_api_config *cfg,
                  char **errp)
{
    if (!cfg->admin_token || strlen(cfg->admin_token) < 16) {
        *errp = vf_xstrdup("the admin token must have at least 16 "
                           "characters");
        store_close(store);
        return NULL;
    }
    struct policy_api *api = vf_xcalloc(1, sizeof *api);
    api->store = store;
    api->cfg = *cfg;
    api->cfg.lifetime_s = cfg->lifetime_s ? cfg->lifetime_s : 300;
    api->cfg.negative_lifetime_s = cfg->negative_lifetime_s
                                       ? cfg->negative_lifetime_s
                                       : 30;
    api->cfg.change_retention = cfg->change_retention
                                    ? cfg->change_retention
                                    : 10000;
    api->cfg.max_batch = cfg->max_batch ? cfg->max_batch : 1024;
    api->cfg.max_wait_s = cfg->max_wait_s ? cfg->max_wait_s : 60;
    api->cfg.admin_token = NULL;
    api->admin_token = vf_xstrdup(cfg->admin_token);
    api->model = model_create();
    log_init(&api->log, api->cfg.change_retention);
    model_hash_init(&api->placements);

    uint64_t version;
    int error = store_load_objects(store, load_object, api, errp);
    if (!error) {
        error = store_get_version(store, &version, errp);
    }
    if (!error) {
        api->model->version = version;
        uint64_t after = version > api->cfg.change_retention
                             ? version - api->cfg.change_retention
                             : 0;
        error = store_load_changes(store, after, load_change, api, errp);
    }
    if (error) {
        policy_api_destroy(api);
        return NULL;
    }
    scope_resolve_vnics(api);
    size_t n;
    struct model_obj **vnics = model_list(api->model, MODEL_VNIC, &n);
    for (size_t i = 0; i < n; i++) {
        placement_add(api, vnics[i], 1);
    }
    free(vnics);
    return api;
}

void
policy_api_destroy(struct policy_api *api)
{
    if (!api) {
        return;
    }
    store_close(api->store);
    model_destroy(api->model);
    log_uninit(&api->log);
    placements_destroy(api);
    free(api->admin_token);
    free(api);
}

uint64_t
policy_api_version(const struct policy_api *api)
{
    return api->model->version;
}

void
policy_api_get_stats(const struct policy_api *api,
                     struct policy_api_stats *stats)
{
    *stats = api->stats;
}

void
policy_api_format_metrics(const struct policy_api *api, struct vf_buf *out)
{
    const struct policy_api_stats *s = &api->stats;
    vf_buf_printf(out,
                  "# HELP vfab_policyd_model_version Version of the logical "
                  "model (bumped by every write).\n"
                  "# TYPE vfab_policyd_model_version gauge\n"
                  "vfab_policyd_model_version %" PRIu64 "\n"
                  "# HELP vfab_policyd_objects Objects in the model.\n"
                  "# TYPE vfab_policyd_objects gauge\n",
                  api->model->version);
    for (int k = 0; k < MODEL_N_KINDS; k++) {
        vf_buf_printf(out, "vfab_policyd_objects{kind=\"%s\"} %zu\n",
                      model_kind_name(k), model_count(api->model, k));
    }
    vf_buf_printf(out, "# HELP vfab_policyd_translations_total "
                       "Translations answered, by status.\n"
                       "# TYPE vfab_policyd_translations_total counter\n");
    for (int i = 0; i < 5; i++) {
        vf_buf_printf(out, "vfab_policyd_translations_total{status=\"%s\"} "
                      "%" PRIu64 "\n", xlate_status_name(i),
                      s->translations[i]);
    }
    vf_buf_printf(out, "# HELP vfab_policyd_translation_verdicts_total "
                       "Verdicts of translations with status ok.\n"
                       "# TYPE vfab_policyd_translation_verdicts_total "
                       "counter\n");
    for (int i = 0; i < 3; i++) {
        vf_buf_printf(out, "vfab_policyd_translation_verdicts_total"
                      "{verdict=\"%s\"} %" PRIu64 "\n",
                      xlate_verdict_name(i), s->verdicts[i]);
    }
    vf_buf_printf(
        out,
        "# HELP vfab_policyd_translate_batches_total Batched translate "
        "requests.\n"
        "# TYPE vfab_policyd_translate_batches_total counter\n"
        "vfab_policyd_translate_batches_total %" PRIu64 "\n"
        "# HELP vfab_policyd_store_commits_total Writes committed.\n"
        "# TYPE vfab_policyd_store_commits_total counter\n"
        "vfab_policyd_store_commits_total %" PRIu64 "\n"
        "# HELP vfab_policyd_store_commit_errors_total Writes the store "
        "refused (503).\n"
        "# TYPE vfab_policyd_store_commit_errors_total counter\n"
        "vfab_policyd_store_commit_errors_total %" PRIu64 "\n"
        "# HELP vfab_policyd_auth_failures_total Requests refused by "
        "authentication or authorization.\n"
        "# TYPE vfab_policyd_auth_failures_total counter\n"
        "vfab_policyd_auth_failures_total{reason=\"missing\"} %" PRIu64 "\n"
        "vfab_policyd_auth_failures_total{reason=\"invalid\"} %" PRIu64 "\n"
        "vfab_policyd_auth_failures_total{reason=\"forbidden\"} %" PRIu64
        "\n"
        "# HELP vfab_policyd_change_log_records Change records kept for the "
        "change feed.\n"
        "# TYPE vfab_policyd_change_log_records gauge\n"
        "vfab_policyd_change_log_records %zu\n",
        s->translate_batches, s->commits, s->commit_errors, s->auth_missing,
        s->auth_invalid, s->auth_forbidden, api->log.n);
}
