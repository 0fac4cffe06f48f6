/* SPDX-License-Identifier: Apache-2.0 */
/* The agent's policy client against a real HTTP server in this process
 * (libmicrohttpd, thread per connection, in front of policy-api): sync of
 * the host's VNICs, batched translations into the cache, invalidation by
 * the change feed, the server going away (stale serving, "unreachable
 * since", queued translations given up), coming back (the feed resumes
 * from its version and delivers what changed meanwhile), a full
 * re-sync when the server no longer has the changes since that version,
 * and a host token's scoped feed (other tenants' records withheld, the
 * cursor moving past them). */
#include "harness.h"

#include <pthread.h>
#include <unistd.h>

#include <microhttpd.h>

#include "policy/policy-api.h"
#include "policy/policy-client.h"
#include "policy/store.h"
#include "util/buf.h"
#include "util/vtime.h"

#define ADMIN "test-admin-token-0123456789"

/* ---- A small server: policy-api behind MHD, one thread per connection,
 * long-polls served by re-asking the API every 10 ms. ---- */

struct server {
    struct MHD_Daemon *mhd;
    struct policy_api *api;
    pthread_mutex_t mu;
    uint16_t port;
    atomic_bool stopping;
};

struct request {
    struct vf_buf body;
};

static enum MHD_Result
collect_arg(void *aux, enum MHD_ValueKind kind, const char *key,
            const char *value)
{
    struct policy_api_request *req = aux;
    struct policy_api_arg *args = (struct policy_api_arg *) req->args;
    (void) kind;
    if (req->n_args < 8) {
        args[req->n_args].key = key;
        args[req->n_args++].value = value ? value : "";
    }
    return MHD_YES;
}

static enum MHD_Result
on_request(void *s_, struct MHD_Connection *mc, const char *url,
           const char *method, const char *version, const char *data,
           size_t *size, void **con_cls)
{
    struct server *s = s_;
    struct request *r = *con_cls;
    (void) version;
    if (!r) {
        *con_cls = calloc(1, sizeof *r);
        return MHD_YES;
    }
    if (*size) {
        vf_buf_put(&r->body, data, *size);
        *size = 0;
        return MHD_YES;
    }
    struct policy_api_arg args[8];
    struct policy_api_request req = {
        .method = method,
        .path = url,
        .args = args,
        .authorization = MHD_lookup_connection_value(mc, MHD_HEADER_KIND,
                                                     "Authorization"),
        .content_type = MHD_lookup_connection_value(mc, MHD_HEADER_KIND,
                                                    "Content-Type"),
        .body = r->body.data,
        .body_size = r->body.len,
    };
    MHD_get_connection_values(mc, MHD_GET_ARGUMENT_KIND, collect_arg, &req);
    struct policy_api_response resp;
    int64_t deadline = INT64_MAX;
    for (;;) {
        req.now_ms = vf_time_wall_ms();
        req.final = req.now_ms >= deadline || atomic_load(&s->stopping);
        pthread_mutex_lock(&s->mu);
        policy_api_handle(s->api, &req, &resp);
        pthread_mutex_unlock(&s->mu);
        if (!resp.wait) {
            break;
        }
        deadline = VF_MIN(deadline, resp.wait_until_ms);
        usleep(10000);
    }
    struct MHD_Response *mr = MHD_create_response_from_buffer(
        resp.body_size, resp.body, MHD_RESPMEM_MUST_FREE);
    MHD_add_response_header(mr, "Content-Type", "application/json");
    enum MHD_Result ret = MHD_queue_response(mc, (unsigned) resp.status, mr);
    MHD_destroy_response(mr);
    return ret;
}

static void
on_completed(void *s_, struct MHD_Connection *mc, void **con_cls,
             enum MHD_RequestTerminationCode toe)
{
    struct request *r = *con_cls;
    (void) s_;
    (void) mc;
    (void) toe;
    if (r) {
        vf_buf_uninit(&r->body);
        free(r);
    }
}

static void
server_start(struct server *s)
{
    atomic_store(&s->stopping, false);
    s->mhd = MHD_start_daemon(
        MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD
            | MHD_USE_ERROR_LOG,
        s->port, NULL, NULL, on_request, s, MHD_OPTION_NOTIFY_COMPLETED,
        on_completed, s, MHD_OPTION_LISTENING_ADDRESS_REUSE, 1u,
        MHD_OPTION_END);
    VF_VERIFY(s->mhd != NULL);
    s->port = MHD_get_daemon_info(s->mhd, MHD_DAEMON_INFO_BIND_PORT)->port;
}

static void
server_stop(struct server *s)
{
    atomic_store(&s->stopping, true);
    MHD_stop_daemon(s->mhd);
    s->mhd = NULL;
}

/* Calls the API directly (as the admin), under the server's lock. */
static json_t *
admin(struct server *s, const char *method, const char *path,
      const char *body, int want)
{
    struct policy_api_request req = {
        .method = method,
        .path = path,
        .authorization = "Bearer " ADMIN,
        .content_type = "application/json",
        .body = body,
        .body_size = body ? strlen(body) : 0,
        .now_ms = vf_time_wall_ms(),
    };
    struct policy_api_response resp;
    pthread_mutex_lock(&s->mu);
    policy_api_handle(s->api, &req, &resp);
    pthread_mutex_unlock(&s->mu);
    if (resp.status != want) {
        fprintf(stderr, "%s %s: %d %s\n", method, path, resp.status,
                resp.body);
        abort();
    }
    json_t *j = json_loads(resp.body, 0, NULL);
    policy_api_response_uninit(&resp);
    return j;
}

static char h1_token[256];

static void
server_create(struct server *s, size_t retention)
{
    char *err = NULL;
    memset(s, 0, sizeof *s);
    pthread_mutex_init(&s->mu, NULL);
    struct policy_api_config cfg = {.admin_token = ADMIN,
                                    .change_retention = retention};
    s->api = policy_api_create(store_open(":memory:", &err), &cfg, &err);
    VF_VERIFY(s->api != NULL);
    json_decref(admin(s, "POST", "/v1/tenants", "{\"name\":\"t\"}", 201));
    json_decref(admin(s, "POST", "/v1/networks",
                      "{\"name\":\"n\",\"tenant\":\"t\",\"vni\":42,"
                      "\"subnets\":[\"10.0.0.0/24\"]}", 201));
    json_t *h = admin(s, "POST", "/v1/hosts",
                      "{\"name\":\"h1\",\"underlay_ip\":\"192.0.2.1\"}", 201);
    snprintf(h1_token, sizeof h1_token, "%s",
             json_string_value(json_object_get(h, "token")));
    json_decref(h);
    json_decref(admin(s, "POST", "/v1/hosts",
                      "{\"name\":\"h2\",\"underlay_ip\":\"192.0.2.2\"}", 201));
    json_decref(admin(s, "POST", "/v1/vnics",
                      "{\"name\":\"a\",\"network\":\"n\",\"mac\":"
                      "\"02:00:00:00:00:0a\",\"ips\":[\"10.0.0.10\"],"
                      "\"host\":\"h1\",\"security_groups\":[\"web\"]}",
                      201));
    json_decref(admin(s, "POST", "/v1/vnics",
                      "{\"name\":\"b\",\"network\":\"n\",\"mac\":"
                      "\"02:00:00:00:00:0b\",\"ips\":[\"10.0.0.11\"],"
                      "\"host\":\"h2\",\"security_groups\":[\"db\"]}", 201));
    json_decref(admin(s, "POST", "/v1/vnics",
                      "{\"name\":\"c\",\"network\":\"n\",\"mac\":"
                      "\"02:00:00:00:00:0c\",\"ips\":[\"10.0.0.12\"],"
                      "\"host\":\"h1\"}", 201));
    server_start(s);
}

static void
server_destroy(struct server *s)
{
    if (s->mhd) {
        server_stop(s);
    }
    policy_api_destroy(s->api);
    pthread_mutex_destroy(&s->mu);
}

/* ---- The agent side. ---- */

static int64_t warp;            /* Added to the real clock. */
static int n_answers, n_failures, last_error, n_changes, n_syncs;

static int64_t
now_ns(void)
{
    return vf_time_monotonic_ns() + warp;
}

static void
on_xlate(void *aux, const char *src, const struct pcache_key *dst,
         const struct pcache_entry *e, int error)
{
    (void) aux;
    (void) src;
    (void) dst;
    if (e) {
        n_answers++;
    } else {
        n_failures++;
        last_error = error;
    }
}

static void
on_change(void *aux, const json_t *rec)
{
    (void) aux;
    (void) rec;
    n_changes++;
}

static void
on_sync(void *aux, const json_t *vnics)
{
    (void) aux;
    VF_VERIFY(vnics != NULL);
    n_syncs++;
}

/* Runs the client's loop until 'cond' holds or 'ms' pass. */
#define PUMP_UNTIL(PC, COND, MS)                                          \
    do {                                                                  \
        int64_t end__ = vf_time_monotonic_ns() + (MS) * VF_NSEC_PER_MSEC; \
        while (!(COND) && vf_time_monotonic_ns() < end__) {               \
            pump_once(PC);                                                \
        }                                                                 \
        if (!(COND)) {                                                    \
            TEST_FAIL__("timed out waiting for %s", #COND);               \
        }                                                                 \
    } while (0)

static void
pump_once(struct policy_client *pc)
{
    struct pollfd fds[16];
    int64_t deadline, now = now_ns();
    size_t n = policy_client_wait(pc, fds, 16, now, &deadline);
    int64_t ms = (deadline - now) / VF_NSEC_PER_MSEC;
    poll(fds, VF_MIN(n, 16), (int) VF_MAX(VF_MIN(ms, 20), 0));
    policy_client_run(pc, now_ns());
}

static struct policy_client *
client(struct server *s, int64_t request_timeout_ns)
{
    char url[64], *err = NULL;
    snprintf(url, sizeof url, "http://127.0.0.1:%u/", s->port);
    struct policy_client_config cfg = {
        .server_url = url,
        .token = h1_token,
        .host = "h1",
        .poll_timeout_s = 1,
        .request_timeout_ns = request_timeout_ns,
        .retry_min_ns = 20 * VF_NSEC_PER_MSEC,
        .retry_max_ns = 200 * VF_NSEC_PER_MSEC,
        .on_xlate = on_xlate,
        .on_change = on_change,
        .on_sync = on_sync,
    };
    struct policy_client *pc = policy_client_create(&cfg, &err);
    VF_VERIFY(pc != NULL);
    n_answers = n_failures = n_changes = n_syncs = 0;
    warp = 0;
    return pc;
}

static struct policy_client_status
status(const struct policy_client *pc)
{
    struct policy_client_status st;
    policy_client_get_status(pc, &st);
    return st;
}

static const struct pcache_entry *
lookup(struct policy_client *pc, const char *src, const char *dst,
       enum pcache_result *res)
{
    struct pcache_key k;
    VF_VERIFY(!pcache_key_parse(dst, &k));
    struct pcache_part *p = pcache_part_find(policy_client_cache(pc), src);
    return p ? pcache_lookup(p, &k, now_ns(), res) : NULL;
}

static void
request(struct policy_client *pc, const char *src, const char *dst)
{
    struct pcache_key k;
    VF_VERIFY(!pcache_key_parse(dst, &k));
    CHECK_EQ_I(policy_client_request(pc, src, &k, now_ns()), 0);
}

/* A server keeping 'retention' changes and a client of it, synced, with
 * one answered translation: a -> 'dst'. */
static struct policy_client *
answered_client(struct server *s, size_t retention,
                int64_t request_timeout_ns, const char *dst)
{
    server_create(s, retention);
    struct policy_client *pc = client(s, request_timeout_ns);
    PUMP_UNTIL(pc, status(pc).synced, 5000);
    request(pc, "a", dst);
    PUMP_UNTIL(pc, n_answers == 1, 5000);
    return pc;
}

static void
test_sync_translate_invalidate(void)
{
    vf_rcu_register_thread();
    struct server s;
    server_create(&s, 1000);
    struct policy_client *pc = client(&s, 5 * VF_NSEC_PER_SEC);
    PUMP_UNTIL(pc, status(pc).synced, 5000);
    CHECK_EQ_I(n_syncs, 1);
    CHECK_EQ_U(status(pc).version, policy_api_version(s.api));
    /* The local VNICs got partitions. */
    struct pcache *cache = policy_client_cache(pc);
    CHECK(pcache_part_find(cache, "a") && pcache_part_find(cache, "c"));
    CHECK(pcache_part_find(cache, "b") == NULL);

    request(pc, "a", "10.0.0.11");
    request(pc, "a", "02:00:00:00:00:0c");
    request(pc, "a", "10.0.0.99");
    request(pc, "a", "10.0.0.11");          /* Deduplicated. */
    CHECK_EQ_U(status(pc).pending, 3);
    PUMP_UNTIL(pc, n_answers == 3, 5000);
    CHECK_EQ_U(status(pc).pending, 0);
    enum pcache_result res;
    const struct pcache_entry *e = lookup(pc, "a", "10.0.0.11", &res);
    CHECK(e && res == PCACHE_HIT);
    CHECK_EQ_U(e->vni, 42);
    CHECK_EQ_U(e->underlay_family, 4);
    CHECK_EQ_U(e->underlay_ip[3], 2);
    CHECK_EQ_U(e->dst_mac.ea[5], 0x0b);
    CHECK(!e->local);
    CHECK(pcache_entry_allows(e, 6, 80));
    e = lookup(pc, "a", "02:00:00:00:00:0c", &res);
    CHECK(e && e->local);
    e = lookup(pc, "a", "10.0.0.99", &res);
    CHECK(e && e->status == PCACHE_NOT_FOUND);

    /* b moves to h1: the feed drops a→b, a new answer says local. */
    uint64_t changes = status(pc).changes;
    json_decref(admin(&s, "PATCH", "/v1/vnics/b", "{\"host\":\"h1\"}", 200));
    PUMP_UNTIL(pc, status(pc).changes > changes, 5000);
    CHECK(lookup(pc, "a", "10.0.0.11", NULL) == NULL);
    CHECK(lookup(pc, "a", "02:00:00:00:00:0c", NULL) != NULL);
    request(pc, "a", "10.0.0.11");
    PUMP_UNTIL(pc, n_answers == 4, 5000);
    e = lookup(pc, "a", "10.0.0.11", NULL);
    CHECK(e && e->local);

    /* A policy between groups web and db drops a's entry to b (web→db)
     * and leaves a's entry to c (no group) alone. */
    changes = status(pc).changes;
    json_decref(admin(&s, "POST", "/v1/policies",
                      "{\"name\":\"p\",\"tenant\":\"t\",\"action\":\"deny\","
                      "\"src\":{\"group\":\"web\"},\"dst\":{\"group\":"
                      "\"db\"},\"protocol\":\"tcp\",\"ports\":22}", 201));
    PUMP_UNTIL(pc, status(pc).changes > changes, 5000);
    CHECK(lookup(pc, "a", "10.0.0.11", NULL) == NULL);
    CHECK(lookup(pc, "a", "02:00:00:00:00:0c", NULL) != NULL);
    request(pc, "a", "10.0.0.11");
    PUMP_UNTIL(pc, n_answers == 5, 5000);
    e = lookup(pc, "a", "10.0.0.11", NULL);
    CHECK(e && e->verdict == PCACHE_FILTERED);
    CHECK(!pcache_entry_allows(e, 6, 22));
    CHECK(pcache_entry_allows(e, 6, 80));

    /* A source on another host is refused (negative entry). */
    request(pc, "z", "10.0.0.10");
    PUMP_UNTIL(pc, n_answers == 6, 5000);
    e = lookup(pc, "z", "10.0.0.10", NULL);
    CHECK(e && e->status == PCACHE_NO_SRC);
    CHECK_EQ_I(policy_client_request(pc, "bad name", &e->key, now_ns()),
               -EINVAL);

    policy_client_destroy(pc);
    server_destroy(&s);
    vf_rcu_barrier();
}

static void
test_server_down_and_back(void)
{
    struct server s;
    struct policy_client *pc = answered_client(&s, 1000, 2 * VF_NSEC_PER_SEC,
                                               "10.0.0.11");
    CHECK(status(pc).reachable);

    server_stop(&s);
    /* Changes made while the server is unreachable for the client. */
    json_decref(admin(&s, "PATCH", "/v1/vnics/b", "{\"host\":\"h1\"}", 200));
    int64_t before = now_ns();
    PUMP_UNTIL(pc, !status(pc).reachable, 5000);
    struct policy_client_status st = status(pc);
    CHECK(st.unreachable_since >= before);
    CHECK(st.unreachable_since_wall_ms > 0);
    CHECK(st.last_error[0] != '\0');
    /* Past its lifetime the entry is still served, as stale. */
    warp += 400 * VF_NSEC_PER_SEC;
    enum pcache_result res;
    const struct pcache_entry *e = lookup(pc, "a", "10.0.0.11", &res);
    CHECK(e && res == PCACHE_HIT_STALE);
    CHECK(!e->local);           /* It does not know about the move. */
    /* A new translation waits, then is given up. */
    request(pc, "a", "10.0.0.12");
    PUMP_UNTIL(pc, n_failures == 1, 5000);
    CHECK_EQ_I(last_error, -ETIMEDOUT);
    warp += 3 * VF_NSEC_PER_SEC;
    PUMP_UNTIL(pc, n_failures == 1, 10);

    /* Back: the feed resumes from its version and delivers the move. */
    uint64_t changes = status(pc).changes;
    server_start(&s);
    PUMP_UNTIL(pc, status(pc).reachable && status(pc).changes > changes,
               5000);
    CHECK_EQ_I(n_syncs, 1);         /* Resumed, not re-synced. */
    CHECK(lookup(pc, "a", "10.0.0.11", NULL) == NULL);
    request(pc, "a", "10.0.0.11");
    PUMP_UNTIL(pc, n_answers == 2, 5000);
    e = lookup(pc, "a", "10.0.0.11", &res);
    CHECK(e && res == PCACHE_HIT && e->local);
    policy_client_destroy(pc);
    server_destroy(&s);
    vf_rcu_barrier();
}

static void
test_resync_when_too_old(void)
{
    struct server s;
    struct policy_client *pc = answered_client(&s, 16, 5 * VF_NSEC_PER_SEC,
                                               "10.0.0.12");
    server_stop(&s);
    /* More changes than the server keeps. */
    for (int i = 0; i < 20; i++) {
        char body[64];
        snprintf(body, sizeof body, "{\"description\":\"rev %d\"}", i);
        json_decref(admin(&s, "PATCH", "/v1/tenants/t", body, 200));
    }
    PUMP_UNTIL(pc, !status(pc).reachable, 5000);
    server_start(&s);
    PUMP_UNTIL(pc, n_syncs == 2 && status(pc).synced, 5000);
    CHECK_EQ_U(status(pc).resyncs, 2);
    CHECK_EQ_U(status(pc).version, policy_api_version(s.api));
    /* A re-sync empties the cache: the entry may predate lost changes. */
    CHECK(lookup(pc, "a", "10.0.0.12", NULL) == NULL);
    CHECK(pcache_part_find(policy_client_cache(pc), "a") != NULL);
    policy_client_destroy(pc);
    server_destroy(&s);
    vf_rcu_barrier();
}

/* With a host token the feed withholds other tenants' records: they
 * neither reach the agent nor drop its entries (tenant u's VNIC has b's
 * address), the cursor still moves past them, and the host's own
 * tenant's changes still arrive. */
static void
test_feed_scope(void)
{
    struct server s;
    struct policy_client *pc = answered_client(&s, 1000, 5 * VF_NSEC_PER_SEC,
                                               "10.0.0.11");
    uint64_t changes = status(pc).changes;
    json_decref(admin(&s, "POST", "/v1/tenants", "{\"name\":\"u\"}", 201));
    json_decref(admin(&s, "POST", "/v1/networks",
                      "{\"name\":\"m\",\"tenant\":\"u\",\"subnets\":"
                      "[\"10.0.0.0/24\"]}", 201));
    json_decref(admin(&s, "POST", "/v1/vnics",
                      "{\"name\":\"x\",\"network\":\"m\",\"mac\":"
                      "\"02:00:00:00:00:0b\",\"ips\":[\"10.0.0.11\"],"
                      "\"host\":\"h2\"}", 201));
    json_decref(admin(&s, "PATCH", "/v1/vnics/x",
                      "{\"ips\":[\"10.0.0.12\"]}", 200));
    uint64_t v = policy_api_version(s.api);
    PUMP_UNTIL(pc, status(pc).version == v, 5000);
    CHECK_EQ_U(status(pc).changes, changes);
    CHECK_EQ_I(n_changes, (int) changes);
    CHECK(lookup(pc, "a", "10.0.0.11", NULL) != NULL);
    /* The host's own tenant: delivered, and it drops a's entry to b. */
    json_decref(admin(&s, "PATCH", "/v1/vnics/b",
                      "{\"ips\":[\"10.0.0.21\"]}", 200));
    PUMP_UNTIL(pc, status(pc).changes == changes + 1, 5000);
    CHECK_EQ_U(status(pc).version, policy_api_version(s.api));
    CHECK(lookup(pc, "a", "10.0.0.11", NULL) == NULL);
    CHECK_EQ_U(status(pc).resyncs, 1);
    policy_client_destroy(pc);
    server_destroy(&s);
    vf_rcu_barrier();
}

static void
test_config_errors(void)
{
    char *err = NULL;
    struct policy_client_config cfg = {.server_url = "ftp://x",
                                       .token = "t"};
    CHECK(policy_client_create(&cfg, &err) == NULL);
    CHECK(strstr(err, "http"));
    free(err);
    err = NULL;
    cfg.server_url = "http://127.0.0.1:1";
    cfg.token = NULL;
    CHECK(policy_client_create(&cfg, &err) == NULL);
    free(err);
    err = NULL;
    cfg.token = "t";
    cfg.host = "no such";
    CHECK(policy_client_create(&cfg, &err) == NULL);
    free(err);
}

static const struct test_case cases[] = {
    TEST(test_sync_translate_invalidate),
    TEST(test_server_down_and_back),
    TEST(test_resync_when_too_old),
    TEST(test_feed_scope),
    TEST(test_config_errors),
};

TEST_MAIN(cases)
