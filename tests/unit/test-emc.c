/* SPDX-License-Identifier: Apache-2.0 */
/* emc: hits and misses, invalidation by every kind of change, bounded size
 * and probabilistic insertion, the cache compared with no cache on random
 * rule sets under churn (STYLE.md P10), and coherence under concurrency: a
 * writer keeps changing the rule that a reader's hot keys hit in the
 * cache; no lookup that starts after a change has returned may see what
 * the change replaced (and, under ASan, no stale rule is ever touched). */
#include "harness.h"

#include <pthread.h>
#include <stdatomic.h>

#include "cls/cls-text.h"
#include "cls/emc.h"
#include "test-cls-gen.h"
#include "util/rcu.h"

static struct cls *
new_cls(void)
{
    struct cls_config cfg = {.n_tables = 4, .seed = 3};
    return cls_create(&cfg);
}

static const struct cls_rule *
add(struct cls *cls, const char *text)
{
    struct cls_rule_spec spec;
    const struct cls_rule *r = NULL;
    VF_VERIFY(!cls_text_parse_rule(text, NULL, &spec, NULL));
    VF_VERIFY(cls_add(cls, &spec, 0, &r, NULL) >= 0);
    return r;
}

static struct flow_key
key_to(const char *dst)
{
    struct flow_key k;
    memset(&k, 0, sizeof k);
    k.in_port = 1;
    k.dl_type = VF_BE16(ETH_TYPE_IPV4);
    k.nw_proto = IP_PROTO_UDP;
    VF_VERIFY(!ipv4_parse(dst, &k.nw_dst));
    return k;
}

static uint32_t
port_of(const struct cls_rule *r)
{
    return r ? r->actions[0].arg : 0;
}

/* One lookup through the cache, as the datapath does it. */
static const struct cls_rule *
classify(struct emc *emc, const struct cls *cls, unsigned int table,
         const struct flow_key *k)
{
    const struct cls_rule *r;
    vf_rcu_read_lock();
    emc_classify_batch(emc, cls, table, &k, NULL, 1, &r);
    vf_rcu_read_unlock();
    return r;
}

static const struct cls_rule *
cached(struct emc *emc, const struct cls *cls, unsigned int table,
       const struct flow_key *k)
{
    vf_rcu_read_lock();
    const struct cls_rule *r = emc_lookup(emc, cls, table, k,
                                          emc_hash(k, table));
    vf_rcu_read_unlock();
    return r;
}

static void
test_hit_miss(void)
{
    test_rcu_thread();
    struct cls *cls = new_cls();
    add(cls, "priority=1,ip,nw_dst=10.0.0.0/8,actions=output:1");
    struct emc *emc = emc_create(64, 1, 1);
    CHECK_EQ_U(emc_size(emc), 64);
    struct flow_key k = key_to("10.1.2.3");
    uint32_t h = emc_hash(&k, 0);
    CHECK_EQ_U(h, emc_hash(&k, 0));
    CHECK(cached(emc, cls, 0, &k) == NULL);
    CHECK_EQ_U(port_of(classify(emc, cls, 0, &k)), 1);
    CHECK_EQ_U(port_of(cached(emc, cls, 0, &k)), 1);
    /* Same key, other table: a different entry. */
    CHECK(cached(emc, cls, 1, &k) == NULL);
    k.nw_ttl = 1;                       /* Every bit of the key counts. */
    CHECK(cached(emc, cls, 0, &k) == NULL);
    CHECK(classify(emc, cls, 0, &(struct flow_key) {0}) == NULL);
    struct emc_stats st;
    emc_get_stats(emc, &st);
    CHECK_EQ_U(st.hits, 1);
    CHECK_EQ_U(st.inserts, 1);
    emc_flush(emc);
    CHECK(cached(emc, cls, 0, &(struct flow_key) {0}) == NULL);
    k.nw_ttl = 0;
    CHECK(cached(emc, cls, 0, &k) == NULL);
    emc_destroy(emc);
    emc_destroy(NULL);
    cls_destroy(cls);
}

static void
test_invalidation(void)
{
    test_rcu_thread();
    struct cls *cls = new_cls();
    struct emc *emc = emc_create(64, 1, 1);
    struct flow_key k = key_to("10.1.2.3");
    add(cls, "priority=10,ip,nw_dst=10.0.0.0/8,actions=output:1");
    CHECK_EQ_U(port_of(classify(emc, cls, 0, &k)), 1);

    /* Replacement. */
    add(cls, "priority=10,ip,nw_dst=10.0.0.0/8,actions=output:2");
    vf_rcu_barrier();                    /* The old rule is freed now. */
    CHECK_EQ_U(port_of(classify(emc, cls, 0, &k)), 2);

    /* A better rule elsewhere shadows the cached one. */
    add(cls, "priority=20,udp,actions=output:3");
    CHECK_EQ_U(port_of(classify(emc, cls, 0, &k)), 3);

    /* Modification in place. */
    struct cls_filter f;
    VF_VERIFY(!cls_text_parse_filter("udp", NULL, false, &f, NULL));
    struct action a;
    action_init(&a, ACTION_OUTPUT, 4);
    CHECK_EQ_I(cls_modify_actions(cls, &f, &a, 1, NULL), 1);
    vf_rcu_barrier();
    CHECK_EQ_U(port_of(classify(emc, cls, 0, &k)), 4);

    /* Removal: back to the older rule, then to nothing. */
    CHECK_EQ_U(cls_remove(cls, &f, NULL, NULL), 1);
    vf_rcu_barrier();
    CHECK_EQ_U(port_of(classify(emc, cls, 0, &k)), 2);
    cls_filter_init(&f);
    CHECK_EQ_U(cls_remove(cls, &f, NULL, NULL), 1);
    vf_rcu_barrier();
    CHECK(cached(emc, cls, 0, &k) == NULL);
    CHECK(classify(emc, cls, 0, &k) == NULL);

    /* Expiry. */
    add(cls, "priority=1,hard_timeout=1,ip,actions=output:5");
    CHECK_EQ_U(port_of(classify(emc, cls, 0, &k)), 5);
    CHECK_EQ_U(cls_expire(cls, 2000000000, 0, NULL, NULL), 1);
    vf_rcu_barrier();
    CHECK(classify(emc, cls, 0, &k) == NULL);

    /* A change in another table leaves this table's entries valid. */
    add(cls, "priority=1,ip,actions=output:6");
    CHECK_EQ_U(port_of(classify(emc, cls, 0, &k)), 6);
    add(cls, "table=2,priority=1,actions=drop");
    struct emc_stats st0, st1;
    emc_get_stats(emc, &st0);
    CHECK_EQ_U(port_of(classify(emc, cls, 0, &k)), 6);
    emc_get_stats(emc, &st1);
    CHECK_EQ_U(st1.hits, st0.hits + 1);
    emc_destroy(emc);
    cls_destroy(cls);
}

static void
test_bounded_probabilistic(void)
{
    test_rcu_thread();
    struct cls *cls = new_cls();
    add(cls, "priority=1,ip,actions=output:1");
    struct emc *emc = emc_create(100, 100, 9);
    CHECK_EQ_U(emc_size(emc), 128);
    struct emc *always = emc_create(128, 1, 9);
    struct flow_key k = key_to("10.0.0.0");
    for (uint32_t i = 0; i < 20000; i++) {
        k.nw_src = vf_htonl(i);
        CHECK_EQ_U(port_of(classify(emc, cls, 0, &k)), 1);
        CHECK_EQ_U(port_of(classify(always, cls, 0, &k)), 1);
    }
    struct emc_stats st, sta;
    emc_get_stats(emc, &st);
    emc_get_stats(always, &sta);
    /* The cache fills (at most its size of free entries), then an
     * insertion over a live entry succeeds about once in 100. */
    CHECK(st.inserts > 128 && st.inserts < 128 + 2 * 20000 / 100);
    CHECK_EQ_U(st.inserts + st.skipped, 20000);
    CHECK_EQ_U(sta.inserts, 20000);
    CHECK_EQ_U(sta.skipped, 0);
    emc_destroy(emc);
    emc_destroy(always);
    /* Default and maximum sizes. */
    emc = emc_create(0, 0, 0);
    CHECK_EQ_U(emc_size(emc), EMC_DEFAULT_ENTRIES);
    emc_destroy(emc);
    emc = emc_create(SIZE_MAX, 0, 0);
    CHECK_EQ_U(emc_size(emc), EMC_MAX_ENTRIES);
    emc_destroy(emc);
    cls_destroy(cls);
}

/* The cache compared with no cache: random rules, hot keys, churn. */
static void
test_same_as_no_cache(void)
{
    test_rcu_thread();
    struct vf_random rng;
    vf_random_init(&rng, 5);
    struct cls *cls = new_cls();
    struct emc *emc = emc_create(256, 4, 5);
    enum { N_RULES = 300, N_HOT = 64 };
    struct cls_rule_spec *specs = calloc(N_RULES, sizeof *specs);
    for (int i = 0; i < N_RULES; i++) {
        gen_spec(&rng, &specs[i], gen_r(&rng, 2), i + 1, true);
        cls_add(cls, &specs[i], 0, NULL, NULL);
    }
    struct flow_key *hot = calloc(N_HOT, sizeof *hot);
    for (int i = 0; i < N_HOT; i++) {
        gen_key_in(&rng, &specs[gen_r(&rng, N_RULES)].match, &hot[i]);
    }
    uint64_t n_checked = 0;
    for (int round = 0; round < 2000; round++) {
        const struct flow_key *kp[CLS_BATCH];
        const struct cls_rule *with[CLS_BATCH], *without[CLS_BATCH];
        unsigned int table = gen_r(&rng, 2);
        for (int i = 0; i < CLS_BATCH; i++) {
            kp[i] = &hot[gen_r(&rng, N_HOT)];
        }
        vf_rcu_read_lock();
        emc_classify_batch(emc, cls, table, kp, NULL, CLS_BATCH, with);
        cls_lookup_batch(cls, table, kp, CLS_BATCH, without);
        vf_rcu_read_unlock();
        for (int i = 0; i < CLS_BATCH; i++) {
            CHECK(with[i] == without[i]);
        }
        n_checked += CLS_BATCH;
        if (round % 16 == 0) {
            /* Churn: replace, re-add with another priority, or remove. */
            struct cls_rule_spec *s = &specs[gen_r(&rng, N_RULES)];
            switch (gen_r(&rng, 3)) {
            case 0:
                s->actions[0].arg++;
                cls_add(cls, s, 0, NULL, NULL);
                break;
            case 1:
                cls_remove_strict(cls, s->table, &s->match, s->priority);
                s->priority = gen_priority(&rng, true);
                cls_add(cls, s, 0, NULL, NULL);
                break;
            default:
                cls_remove_strict(cls, s->table, &s->match, s->priority);
                break;
            }
        }
    }
    struct emc_stats st;
    emc_get_stats(emc, &st);
    CHECK(st.hits > n_checked / 4);      /* The cache was really used. */
    free(hot);
    free(specs);
    emc_destroy(emc);
    cls_destroy(cls);
}

/* ---- Coherence under concurrency. ----
 *
 * The writer owns rule R (ip,nw_dst=10.0.0.0/8).  Step n (n = 1, 2, ...)
 * makes R's action output:n (a replacement; every 7th step a removal
 * followed, at the next step, by a fresh add) and then publishes
 * state = 2n + removed with a release store.  The reader loads the state
 * (acquire) before each batch and again after.  Every result must be R
 * with a port >= n of the state before (no older action once a change has
 * returned), or NULL only if R was removed, or being removed, at some
 * point of the lookup. */

struct coherence {
    struct cls *cls;
    _Atomic uint64_t state;
    _Atomic bool stop;
    uint64_t n_lookups;
    uint64_t n_stale;
    uint64_t n_bad_null;
};

static void *
coherence_reader(void *arg)
{
    struct coherence *c = arg;
    struct emc *emc = emc_create(1024, 1, 77);
    struct flow_key keys[CLS_BATCH];
    const struct flow_key *kp[CLS_BATCH];
    const struct cls_rule *res[CLS_BATCH];
    for (int i = 0; i < CLS_BATCH; i++) {
        keys[i] = key_to("10.0.0.1");
        keys[i].nw_src = vf_htonl((uint32_t) i);
        kp[i] = &keys[i];
    }
    vf_rcu_register_thread();
    while (!atomic_load(&c->stop)) {
        uint64_t s0 = atomic_load_explicit(&c->state, memory_order_acquire);
        vf_rcu_read_lock();
        emc_classify_batch(emc, c->cls, 0, kp, NULL, CLS_BATCH, res);
        uint64_t s1 = atomic_load_explicit(&c->state, memory_order_acquire);
        for (int i = 0; i < CLS_BATCH; i++) {
            if (!res[i]) {
                /* Fine while R is removed, or being removed (the state
                 * says so only once the removal has returned). */
                bool may_be_absent = (s0 & 1) || s1 != s0
                                     || (s0 / 2 + 1) % 7 == 0;
                c->n_bad_null += !may_be_absent;
            } else if (res[i]->actions[0].arg < s0 / 2) {
                c->n_stale++;
            }
        }
        vf_rcu_read_unlock();
        c->n_lookups += CLS_BATCH;
    }
    vf_rcu_unregister_thread();
    emc_destroy(emc);
    return NULL;
}

static void
test_coherence_concurrent(void)
{
    test_rcu_thread();
    struct coherence c = {.cls = new_cls()};
    struct cls_rule_spec spec;
    VF_VERIFY(!cls_text_parse_rule("priority=5,ip,nw_dst=10.0.0.0/8,"
                                   "actions=output:1", NULL, &spec, NULL));
    cls_add(c.cls, &spec, 0, NULL, NULL);
    atomic_store(&c.state, 2);
    pthread_t reader;
    pthread_create(&reader, NULL, coherence_reader, &c);
    bool removed = false;
    for (uint32_t n = 2; n < 40000; n++) {
        if (!removed && n % 7 == 0) {
            VF_VERIFY(!cls_remove_strict(c.cls, 0, &spec.match, 5));
            removed = true;
        } else {
            spec.actions[0].arg = n;
            VF_VERIFY(cls_add(c.cls, &spec, 0, NULL, NULL) == !removed);
            removed = false;
        }
        atomic_store_explicit(&c.state, 2 * (uint64_t) n + removed,
                              memory_order_release);
    }
    atomic_store(&c.stop, true);
    pthread_join(reader, NULL);
    printf("  coherence: %" PRIu64 " lookups during 40000 changes\n",
           c.n_lookups);
    CHECK(c.n_lookups > 0);
    CHECK_EQ_U(c.n_stale, 0);
    CHECK_EQ_U(c.n_bad_null, 0);
    cls_destroy(c.cls);
    vf_rcu_barrier();
}

static const struct test_case cases[] = {
    TEST(test_hit_miss),
    TEST(test_invalidation),
    TEST(test_bounded_probabilistic),
    TEST(test_same_as_no_cache),
    TEST(test_coherence_concurrent),
};

TEST_MAIN(cases)
