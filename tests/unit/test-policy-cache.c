/* SPDX-License-Identifier: Apache-2.0 */
/* The agent's translation cache, with time passed in: hits, misses,
 * lifetimes and stale serving, LRU eviction (second chance), partition
 * growth and shrinking within a global budget (reclaiming from cold
 * partitions), invalidation by key, destination, source network and
 * policy selectors, ACL evaluation, and a reader thread looking entries
 * up under RCU while the writer inserts, replaces, invalidates, resizes
 * and removes partitions. */
#include "harness.h"

#include <pthread.h>

#include "policy/policy-cache.h"
#include "util/buf.h"
#include "util/vtime.h"

#define SEC VF_NSEC_PER_SEC

static struct pcache_key
ipkey(uint32_t n)
{
    struct pcache_key k;
    memset(&k, 0, sizeof k);
    k.type = PCACHE_KEY_IPV4;
    k.addr[0] = 10;
    k.addr[1] = (uint8_t) (n >> 16);
    k.addr[2] = (uint8_t) (n >> 8);
    k.addr[3] = (uint8_t) n;
    return k;
}

static struct pcache_entry *
entry(uint32_t n, int64_t expires, const char *net, const char *host,
      const char *group)
{
    struct pcache_entry *e = pcache_entry_alloc(0);
    e->key = ipkey(n);
    e->status = PCACHE_OK;
    e->verdict = PCACHE_ALLOW;
    e->vni = n;
    e->expires_ns = expires;
    e->dst_network = net ? vf_xstrdup(net) : NULL;
    e->dst_host = host ? vf_xstrdup(host) : NULL;
    char name[16];
    snprintf(name, sizeof name, "v%u", n);
    e->dst_vnic = vf_xstrdup(name);
    if (group) {
        e->dst_groups = vf_xcalloc(1, sizeof *e->dst_groups);
        e->dst_groups[0] = vf_xstrdup(group);
        e->n_dst_groups = 1;
    }
    return e;
}

static bool
has(struct pcache_part *p, uint32_t n, int64_t now)
{
    struct pcache_key k = ipkey(n);
    return pcache_lookup(p, &k, now, NULL) != NULL;
}

static struct pcache_part_stats
stats(const struct pcache_part *p)
{
    struct pcache_part_stats s;
    pcache_part_get_stats(p, &s);
    return s;
}

static void
test_lookup_lifetime_stale(void)
{
    vf_rcu_register_thread();
    struct pcache_config cfg = {.stale_keep_ns = 5 * SEC};
    struct pcache *c = pcache_create(&cfg);
    struct pcache_part *p = pcache_part_get(c, "vm1");
    CHECK(pcache_part_get(c, "vm1") == p);
    CHECK(pcache_part_find(c, "vm1") == p);
    CHECK(pcache_part_find(c, "vm2") == NULL);
    pcache_insert(c, p, entry(1, 10 * SEC, "n1", "h1", NULL), 0);
    enum pcache_result r;
    struct pcache_key k = ipkey(1);
    const struct pcache_entry *e = pcache_lookup(p, &k, 5 * SEC, &r);
    CHECK(e && r == PCACHE_HIT && e->vni == 1);
    CHECK(!has(p, 2, 5 * SEC));
    /* Expired: a miss... */
    CHECK(pcache_lookup(p, &k, 10 * SEC, &r) == NULL);
    CHECK_EQ_I(r, PCACHE_MISS);
    /* ...that the sweep keeps for stale_keep_ns, in case the agent learns
     * only later that the server is down... */
    pcache_run(c, 12 * SEC);
    CHECK_EQ_U(stats(p).entries, 1);
    /* ...and then serves stale. */
    pcache_set_stale_ok(c, true);
    e = pcache_lookup(p, &k, 20 * SEC, &r);
    CHECK(e && r == PCACHE_HIT_STALE);
    pcache_run(c, 20 * SEC);          /* The sweep keeps it. */
    CHECK_EQ_U(stats(p).entries, 1);
    pcache_set_stale_ok(c, false);
    pcache_run(c, 21 * SEC);
    CHECK_EQ_U(stats(p).entries, 0);
    struct pcache_part_stats s = stats(p);
    CHECK_EQ_U(s.hits, 1);
    CHECK_EQ_U(s.stale_hits, 1);
    CHECK_EQ_U(s.misses, 2);
    CHECK_EQ_U(s.expired, 1);

    /* Replacing an entry keeps one entry for the key. */
    pcache_insert(c, p, entry(3, 100 * SEC, NULL, NULL, NULL), 22 * SEC);
    struct pcache_entry *e3 = entry(3, 100 * SEC, NULL, NULL, NULL);
    e3->vni = 333;
    pcache_insert(c, p, e3, 23 * SEC);
    k = ipkey(3);
    CHECK_EQ_U(pcache_lookup(p, &k, 24 * SEC, NULL)->vni, 333);
    CHECK_EQ_U(stats(p).entries, 1);

    CHECK(pcache_part_remove(c, "vm1"));
    CHECK(!pcache_part_remove(c, "vm1"));
    CHECK_EQ_U(pcache_n_parts(c), 0);
    CHECK_EQ_U(pcache_total_capacity(c), 0);
    pcache_destroy(c);
    vf_rcu_barrier();
}

static void
test_lru(void)
{
    struct pcache_config cfg = {.min_capacity = 4};
    struct pcache *c = pcache_create(&cfg);
    struct pcache_part *p = pcache_part_get(c, "vm");
    int64_t t = SEC;
    for (uint32_t i = 0; i < 4; i++) {
        pcache_insert(c, p, entry(i, 1000 * SEC, NULL, NULL, NULL), t++);
    }
    CHECK(has(p, 0, t++));              /* 0 is now the most recent. */
    pcache_insert(c, p, entry(4, 1000 * SEC, NULL, NULL, NULL), t++);
    CHECK(has(p, 0, t++));
    CHECK(!has(p, 1, t++));             /* 1 was the least recent. */
    CHECK(has(p, 2, t++));
    pcache_insert(c, p, entry(5, 1000 * SEC, NULL, NULL, NULL), t++);
    CHECK(!has(p, 3, t++));
    CHECK(has(p, 0, t) && has(p, 2, t) && has(p, 4, t) && has(p, 5, t));
    CHECK_EQ_U(stats(p).evictions, 2);
    CHECK_EQ_U(stats(p).entries, 4);
    pcache_destroy(c);
    vf_rcu_barrier();
}

/* Looks up keys [0, n) once each and inserts the misses, as an agent
 * would; 'now' advances by 1 ms per lookup. */
static void
workload(struct pcache *c, struct pcache_part *p, uint32_t n,
         int64_t *now)
{
    for (uint32_t i = 0; i < n; i++) {
        if (!has(p, i, *now)) {
            pcache_insert(c, p, entry(i, *now + 1000 * SEC, NULL, NULL,
                                      NULL), *now);
        }
        *now += VF_NSEC_PER_MSEC;
    }
}

static void
test_grow_and_shrink(void)
{
    struct pcache_config cfg = {.min_capacity = 16, .max_capacity = 256,
                                .budget = 1024, .idle_ns = 10 * SEC};
    struct pcache *c = pcache_create(&cfg);
    struct pcache_part *p = pcache_part_get(c, "busy");
    int64_t now = 0;
    pcache_run(c, now);
    /* A working set of 100 destinations: the partition doubles until it
     * fits (16 → 32 → 64 → 128) and then stays. */
    size_t caps[8];
    for (int round = 0; round < 8; round++) {
        workload(c, p, 100, &now);
        workload(c, p, 100, &now);
        now += SEC;
        pcache_run(c, now);
        caps[round] = stats(p).capacity;
    }
    CHECK_EQ_U(caps[0], 32);
    CHECK_EQ_U(caps[1], 64);
    CHECK_EQ_U(caps[2], 128);
    CHECK_EQ_U(caps[7], 128);
    CHECK_EQ_U(stats(p).grows, 3);
    CHECK_EQ_U(stats(p).entries, 100);
    struct pcache_part_stats before = stats(p);
    workload(c, p, 100, &now);
    CHECK_EQ_U(stats(p).hits - before.hits, 100);    /* All fit now. */

    /* Idle: it halves every interval down to the minimum. */
    for (int i = 0; i < 20; i++) {
        now += SEC;
        pcache_run(c, now);
    }
    CHECK_EQ_U(stats(p).capacity, 16);
    CHECK(stats(p).entries <= 16);
    CHECK(stats(p).shrinks >= 3);
    CHECK_EQ_U(pcache_total_capacity(c), 16);
    pcache_destroy(c);
    vf_rcu_barrier();
}

static void
test_budget_reclaim(void)
{
    struct pcache_config cfg = {.min_capacity = 16, .max_capacity = 1024,
                                .budget = 128, .idle_ns = 1000 * SEC};
    struct pcache *c = pcache_create(&cfg);
    struct pcache_part *a = pcache_part_get(c, "a");
    int64_t now = 0;
    pcache_run(c, now);
    /* Alone, 'a' may use the whole budget for its 100 destinations. */
    for (int round = 0; round < 4; round++) {
        workload(c, a, 100, &now);
        workload(c, a, 100, &now);
        now += SEC;
        pcache_run(c, now);
    }
    CHECK_EQ_U(stats(a).capacity, 128);
    CHECK_EQ_U(pcache_total_capacity(c), 128);

    /* 'b' arrives (its minimum is granted beyond the budget) and needs
     * 50: below its fair share (64) it takes from 'a', which is above
     * its share, down to the share and no further. */
    struct pcache_part *b = pcache_part_get(c, "b");
    CHECK_EQ_U(pcache_total_capacity(c), 144);
    pcache_run(c, now);
    for (int round = 0; round < 4; round++) {
        workload(c, a, 100, &now);
        workload(c, a, 100, &now);
        workload(c, b, 50, &now);
        workload(c, b, 50, &now);
        now += SEC;
        pcache_run(c, now);
    }
    CHECK_EQ_U(stats(a).capacity, 64);
    CHECK_EQ_U(stats(b).capacity, 64);
    CHECK(stats(a).shrinks >= 1);
    CHECK_EQ_U(pcache_total_capacity(c), 128);
    /* 'a' still wants more but is at its share: denied, stable. */
    CHECK(stats(a).grow_denied > 0);
    CHECK_EQ_U(stats(b).entries, 50);

    /* When 'b' goes idle it shrinks, and 'a' grows into the free budget. */
    for (int round = 0; round < 8; round++) {
        workload(c, a, 100, &now);
        workload(c, a, 100, &now);
        now += 300 * SEC;
        pcache_run(c, now);
    }
    CHECK_EQ_U(stats(b).capacity, 16);
    CHECK_EQ_U(stats(a).capacity, 112);
    CHECK(pcache_total_capacity(c) <= pcache_budget(c));
    pcache_destroy(c);
    vf_rcu_barrier();
}

static void
test_invalidation(void)
{
    struct pcache_config cfg = {.min_capacity = 64};
    struct pcache *c = pcache_create(&cfg);
    struct pcache_part *web = pcache_part_get(c, "web1");
    struct pcache_part *db = pcache_part_get(c, "db1");
    struct pcache_part *unknown = pcache_part_get(c, "other");
    char *web_groups[] = {"web"};
    char *db_groups[] = {"db"};
    pcache_part_set_src(web, "t1", "front", web_groups, 1);
    pcache_part_set_src(db, "t1", "back", db_groups, 1);
    struct pcache_part *parts[] = {web, db, unknown};
    for (size_t i = 0; i < 3; i++) {
        pcache_insert(c, parts[i], entry(1, 100 * SEC, "back", "h1", "db"),
                      0);
        pcache_insert(c, parts[i], entry(2, 100 * SEC, "front", "h2", "web"),
                      0);
        pcache_insert(c, parts[i], entry(3, 100 * SEC, "front", "h1", NULL),
                      0);
        struct pcache_entry *nf = entry(4, 100 * SEC, NULL, NULL, NULL);
        nf->status = PCACHE_NOT_FOUND;
        pcache_insert(c, parts[i], nf, 0);
    }
    /* A policy web → db in t1: entries to db-group destinations in
     * partitions of web-group sources (and of unknown ones). */
    struct pcache_selector src = {PCACHE_SEL_GROUP, "web"};
    struct pcache_selector dst = {PCACHE_SEL_GROUP, "db"};
    CHECK_EQ_U(pcache_invalidate_policy(c, "t1", &src, &dst), 2);
    CHECK(!has(web, 1, 1) && has(db, 1, 1) && !has(unknown, 1, 1));
    CHECK(has(web, 4, 1));      /* Negative answers stay. */
    /* Another tenant's policy spares known partitions of t1. */
    struct pcache_selector any = {PCACHE_SEL_ANY, NULL};
    CHECK_EQ_U(pcache_invalidate_policy(c, "t2", &any, &any), 2);
    CHECK(has(web, 2, 1) && !has(unknown, 2, 1));
    /* By destination host, network, key. */
    CHECK_EQ_U(pcache_invalidate_dst(c, "host", "h2"), 2);
    CHECK(!has(web, 2, 1) && !has(db, 2, 1));
    CHECK_EQ_U(pcache_invalidate_dst(c, "network", "front"), 2);
    struct pcache_key k4 = ipkey(4);
    CHECK_EQ_U(pcache_invalidate_key(c, &k4), 3);
    CHECK_EQ_U(pcache_invalidate_src_network(c, "back"), 1);
    CHECK_EQ_U(stats(db).entries, 0);
    CHECK_EQ_U(stats(db).invalidations, 4);
    pcache_insert(c, db, entry(9, 100 * SEC, NULL, NULL, NULL), 0);
    CHECK_EQ_U(pcache_invalidate_all(c), 1);
    pcache_destroy(c);
    vf_rcu_barrier();
}

static void
test_acl(void)
{
    struct pcache_entry *e = pcache_entry_alloc(2);
    e->status = PCACHE_OK;
    e->verdict = PCACHE_FILTERED;
    e->dflt_allow = false;
    e->acl[0] = (struct pcache_acl_rule){6, false, 22, 22};
    e->acl[1] = (struct pcache_acl_rule){6, true, 0, 1023};
    CHECK(pcache_entry_allows(e, 6, 80));
    CHECK(!pcache_entry_allows(e, 6, 22));
    CHECK(!pcache_entry_allows(e, 6, 8080));
    CHECK(!pcache_entry_allows(e, 17, 80));
    e->dflt_allow = true;
    CHECK(pcache_entry_allows(e, 17, 80));
    e->verdict = PCACHE_DENY;
    CHECK(!pcache_entry_allows(e, 6, 80));
    e->verdict = PCACHE_ALLOW;
    e->status = PCACHE_NOT_FOUND;
    CHECK(!pcache_entry_allows(e, 6, 80));
    pcache_entry_free(e);

    struct pcache_key k;
    char buf[64];
    CHECK_EQ_I(pcache_key_parse("02:00:00:00:00:01", &k), 0);
    CHECK_EQ_U(k.type, PCACHE_KEY_MAC);
    CHECK_STR(pcache_key_format(&k, buf), "02:00:00:00:00:01");
    CHECK_EQ_I(pcache_key_parse("fd00::1", &k), 0);
    CHECK_STR(pcache_key_format(&k, buf), "fd00::1");
    CHECK_EQ_I(pcache_key_parse("10.0.0.300", &k), -EINVAL);
}

/* ---- Concurrency. ---- */

#define N_KEYS 512

struct reader_state {
    struct pcache *c;
    atomic_bool stop;
    uint64_t lookups;
    uint64_t hits;
    uint64_t bad;
};

static void *
reader_main(void *arg)
{
    struct reader_state *st = arg;
    vf_rcu_register_thread();
    uint32_t i = 0;
    while (!atomic_load(&st->stop)) {
        vf_rcu_read_lock();
        struct pcache_part *p = pcache_part_find(st->c, (i & 1) ? "a" : "b");
        for (int j = 0; p && j < 32; j++, i++) {
            struct pcache_key k = ipkey(i % N_KEYS);
            const struct pcache_entry *e = pcache_lookup(p, &k, 1, NULL);
            st->lookups++;
            if (e) {
                st->hits++;
                /* Entries are immutable: key and payload agree. */
                if (memcmp(&e->key, &k, sizeof k)
                    || e->vni % N_KEYS != i % N_KEYS
                    || e->dst_mac.ea[5] != (uint8_t) e->vni) {
                    st->bad++;
                }
            }
        }
        vf_rcu_read_unlock();
        i++;
    }
    vf_rcu_unregister_thread();
    return NULL;
}

static void
test_concurrent_reader(void)
{
    struct pcache_config cfg = {.min_capacity = 16, .max_capacity = 256,
                                .budget = 512, .resize_interval_ns = 1,
                                .idle_ns = 3};
    struct pcache *c = pcache_create(&cfg);
    struct reader_state st = {.c = c};
    pthread_t thread;
    pcache_part_get(c, "a");
    pcache_part_get(c, "b");
    CHECK_EQ_I(pthread_create(&thread, NULL, reader_main, &st), 0);
    int64_t now = 10;
    for (uint32_t round = 0; round < 40000; round++) {
        const char *name = (round & 1) ? "a" : "b";
        struct pcache_part *p = pcache_part_get(c, name);
        uint32_t n = (round * 7919u) % N_KEYS;
        struct pcache_entry *e = entry(n + N_KEYS * (round % 5), INT64_MAX,
                                       "net", "h", NULL);
        e->key = ipkey(n);
        e->dst_mac.ea[5] = (uint8_t) e->vni;
        pcache_insert(c, p, e, now);
        if (round % 97 == 0) {
            struct pcache_key k = ipkey(n / 2);
            pcache_invalidate_key(c, &k);
        }
        if (round % 1009 == 0) {
            pcache_invalidate_dst(c, "network", "net");
        }
        if (round % 4999 == 0) {
            pcache_part_remove(c, name);
        }
        if (round % 64 == 0) {
            now += 2;
            pcache_run(c, now);
        }
    }
    atomic_store(&st.stop, true);
    pthread_join(thread, NULL);
    CHECK_EQ_U(st.bad, 0);
    CHECK(st.lookups > 0);
    printf("  reader: %llu lookups, %llu hits\n",
           (unsigned long long) st.lookups, (unsigned long long) st.hits);
    CHECK(pcache_total_capacity(c) <= 512);
    pcache_destroy(c);
    vf_rcu_barrier();
}

static const struct test_case cases[] = {
    TEST(test_lookup_lifetime_stale),
    TEST(test_lru),
    TEST(test_grow_and_shrink),
    TEST(test_budget_reclaim),
    TEST(test_invalidation),
    TEST(test_acl),
    TEST(test_concurrent_reader),
};

TEST_MAIN(cases)
