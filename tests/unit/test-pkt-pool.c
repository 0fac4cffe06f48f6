/* SPDX-License-Identifier: Apache-2.0 */
#include "harness.h"

#include <pthread.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pkt/pkt-batch.h"
#include "pkt/pkt-pool.h"

static struct pkt_pool *
make_pool(uint32_t n_mtu, uint32_t n_gso)
{
    struct pkt_pool_config cfg = {"test", {n_mtu, n_gso}, 16};
    struct pkt_pool *pool = pkt_pool_create(&cfg);
    VF_VERIFY(pool);
    return pool;
}

static void
test_layout_and_headroom(void)
{
    struct pkt_pool *pool = make_pool(4, 1);
    struct pkt *p = pkt_alloc(NULL, pool, PKT_CLASS_MTU, 0);
    CHECK(p);
    CHECK(pkt_headroom(p) >= 128);
    CHECK_EQ_U(pkt_tailroom(p), PKT_MTU_ROOM);
    CHECK_EQ_U((uintptr_t) p % 64, 0);
    uint8_t *d = pkt_put(p, 9000);
    CHECK(d);
    memset(d, 0xab, 9000);
    uint8_t *front = pkt_push(p, 50);
    CHECK(front == pkt_data(p));
    CHECK_EQ_U(p->size, 9050);
    CHECK(pkt_push(p, PKT_HEADROOM) == NULL);   /* Only 206 left. */
    CHECK(pkt_pull(p, 50));
    CHECK_EQ_U(pkt_data(p)[0], 0xab);
    CHECK(pkt_pull(p, 9001) == NULL);
    pkt_free(NULL, p);

    struct pkt *g = pkt_alloc(NULL, pool, PKT_CLASS_GSO, 0);
    CHECK(g);
    CHECK(pkt_put(g, 65549));   /* 14 + 65535 */
    pkt_free(NULL, g);
    pkt_pool_destroy(pool);
}

static void
test_quota_denies_with_edquot(void)
{
    struct pkt_pool *pool = make_pool(64, 2);
    struct pkt *pkts[32];
    CHECK_EQ_I(pkt_pool_set_quota(pool, 3, 10), 0);
    CHECK_EQ_I(pkt_pool_set_quota(pool, 0, 10), -EINVAL);
    CHECK_EQ_I(pkt_pool_set_quota(pool, 99, 10), -EINVAL);

    /* A burst of 32 gets only the 10 the quota allows. */
    int n = pkt_alloc_burst(NULL, pool, PKT_CLASS_MTU, 3, pkts, 32);
    CHECK_EQ_I(n, 10);
    struct pkt *extra;
    CHECK_EQ_I(pkt_alloc_burst(NULL, pool, PKT_CLASS_MTU, 3, &extra, 1),
               -EDQUOT);
    /* Other owners are unaffected. */
    struct pkt *other = pkt_alloc(NULL, pool, PKT_CLASS_MTU, 4);
    CHECK(other);

    struct pkt_owner_stats st;
    CHECK_EQ_I(pkt_pool_owner_stats(pool, 3, &st), 0);
    CHECK_EQ_U(st.in_use, 10);
    CHECK_EQ_U(st.peak, 10);
    CHECK_EQ_U(st.denials, 1);
    CHECK(pkt_pool_owner_over_quota(pool, 3, PKT_CLASS_MTU));

    pkt_free_burst(NULL, pkts, 4);
    CHECK_EQ_I(pkt_pool_owner_stats(pool, 3, &st), 0);
    CHECK_EQ_U(st.in_use, 6);
    CHECK_EQ_U(st.peak, 10);
    CHECK(!pkt_pool_owner_over_quota(pool, 3, PKT_CLASS_MTU));
    /* A GSO buffer costs PKT_GSO_CHARGE units: 6 + 8 > 10. */
    errno = 0;
    CHECK(pkt_alloc(NULL, pool, PKT_CLASS_GSO, 3) == NULL);
    CHECK_EQ_I(errno, EDQUOT);
    pkt_free_burst(NULL, pkts + 4, 6);
    struct pkt *g = pkt_alloc(NULL, pool, PKT_CLASS_GSO, 3);
    CHECK(g);
    CHECK_EQ_I(pkt_pool_owner_stats(pool, 3, &st), 0);
    CHECK_EQ_U(st.in_use, PKT_GSO_CHARGE);
    pkt_free(NULL, g);
    pkt_free(NULL, other);
    CHECK_EQ_I(pkt_pool_owner_stats(pool, 3, &st), 0);
    CHECK_EQ_U(st.in_use, 0);
    pkt_pool_destroy(pool);
}

static void
test_pool_exhaustion_is_enobufs(void)
{
    struct pkt_pool *pool = make_pool(8, 0);
    struct pkt *pkts[16];
    CHECK_EQ_I(pkt_alloc_burst(NULL, pool, PKT_CLASS_MTU, 1, pkts, 16), 8);
    struct pkt *p;
    CHECK_EQ_I(pkt_alloc_burst(NULL, pool, PKT_CLASS_MTU, 1, &p, 1),
               -ENOBUFS);
    CHECK_EQ_I(pkt_alloc_burst(NULL, pool, PKT_CLASS_GSO, 1, &p, 1),
               -ENOBUFS);
    /* The failed allocations charged nothing. */
    struct pkt_owner_stats st;
    pkt_pool_owner_stats(pool, 1, &st);
    CHECK_EQ_U(st.in_use, 8);
    CHECK_EQ_U(st.denials, 0);
    pkt_free_burst(NULL, pkts, 8);
    CHECK_EQ_U(pkt_pool_n_free(pool, PKT_CLASS_MTU), 8);
    pkt_pool_destroy(pool);
}

static void
test_generation_cookie_detects_stale_reference(void)
{
    struct pkt_pool *pool = make_pool(1, 0);
    struct pkt *p = pkt_alloc(NULL, pool, PKT_CLASS_MTU, 0);
    uint32_t gen = p->gen;
    CHECK(pkt_ref_valid(p, gen));
    pkt_free(NULL, p);
    CHECK(!pkt_ref_valid(p, gen));
    /* The same buffer comes back with a new generation. */
    struct pkt *q = pkt_alloc(NULL, pool, PKT_CLASS_MTU, 0);
    CHECK(q == p);
    CHECK(!pkt_ref_valid(p, gen));
    CHECK(pkt_ref_valid(q, q->gen));
    pkt_free(NULL, q);
    pkt_pool_destroy(pool);
}

/* Runs 'fn' in a child; returns its wait status. */
static int
in_child(void (*fn)(void))
{
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        fn();
        _exit(0);
    }
    int status;
    waitpid(pid, &status, 0);
    return status;
}

static void
double_free_child(void)
{
    /* ASan would report the deliberately bad accesses below as errors of
     * the test itself; the cookie must catch them first. */
    struct pkt_pool *pool = make_pool(2, 0);
    struct pkt *p = pkt_alloc(NULL, pool, PKT_CLASS_MTU, 0);
    pkt_free(NULL, p);
    pkt_free(NULL, p);          /* Debug: abort.  Release: ignored. */
    /* Release: the free list must still hold exactly 2 buffers. */
    _exit(pkt_pool_n_free(pool, PKT_CLASS_MTU) == 2 ? 0 : 3);
}

static void
stale_batch_child(void)
{
    struct pkt_pool *pool = make_pool(2, 0);
    struct pkt_batch b;
    pkt_batch_init(&b);
    struct pkt *p = pkt_alloc(NULL, pool, PKT_CLASS_MTU, 0);
    pkt_batch_add(&b, p);
    pkt_batch_verify(&b, "before");
    pkt_free(NULL, p);
    pkt_batch_verify(&b, "after-free");   /* Debug: abort. */
    _exit(0);
}

static void
test_cookie_checks_on_free_and_handoff(void)
{
    int st = in_child(double_free_child);
#ifdef VFAB_DEBUG_CHECKS
    CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGABRT);
    st = in_child(stale_batch_child);
    CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGABRT);
#else
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    st = in_child(stale_batch_child);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
#endif
}

struct thread_arg {
    struct pkt_pool *pool;
    int iterations;
    int failures;
};

static void *
cache_worker(void *arg_)
{
    struct thread_arg *arg = arg_;
    struct pkt_cache *cache = pkt_cache_create(arg->pool);
    struct pkt *pkts[32];
    for (int i = 0; i < arg->iterations; i++) {
        int n = pkt_alloc_burst(cache, arg->pool, PKT_CLASS_MTU,
                                (uint16_t) (1 + i % 3), pkts, 32);
        if (n <= 0) {
            arg->failures++;
            continue;
        }
        for (int j = 0; j < n; j++) {
            pkts[j]->size = 64;
            pkt_data(pkts[j])[0] = (uint8_t) j;
        }
        pkt_free_burst(cache, pkts, (uint32_t) n);
    }
    pkt_cache_destroy(cache);
    return NULL;
}

static void
test_thread_caches_balance(void)
{
    /* Enough buffers that each thread's cache can fill completely. */
    struct pkt_pool *pool = make_pool(4 * PKT_CACHE_SIZE, 0);
    pthread_t th[4];
    struct thread_arg args[4];
    for (int i = 0; i < 4; i++) {
        args[i] = (struct thread_arg) {pool, 20000, 0};
        pthread_create(&th[i], NULL, cache_worker, &args[i]);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        CHECK_EQ_I(args[i].failures, 0);
    }
    CHECK_EQ_U(pkt_pool_n_free(pool, PKT_CLASS_MTU), 4 * PKT_CACHE_SIZE);
    for (uint16_t o = 1; o <= 3; o++) {
        struct pkt_owner_stats st;
        pkt_pool_owner_stats(pool, o, &st);
        CHECK_EQ_U(st.in_use, 0);
        CHECK(st.peak >= 32);
    }
    pkt_pool_destroy(pool);
}

static void
test_cache_takes_shared_lock_rarely(void)
{
    /* With a cache, 100 alloc/free rounds of 32 leave the shared stack
     * short by at most one cache's worth. */
    struct pkt_pool *pool = make_pool(2048, 0);
    struct pkt_cache *cache = pkt_cache_create(pool);
    struct pkt *pkts[32];
    for (int i = 0; i < 100; i++) {
        int n = pkt_alloc_burst(cache, pool, PKT_CLASS_MTU, 0, pkts, 32);
        CHECK_EQ_I(n, 32);
        pkt_free_burst(cache, pkts, 32);
    }
    CHECK(pkt_pool_n_free(pool, PKT_CLASS_MTU) >= 2048 - PKT_CACHE_SIZE);
    pkt_cache_destroy(cache);
    CHECK_EQ_U(pkt_pool_n_free(pool, PKT_CLASS_MTU), 2048);
    pkt_pool_destroy(pool);
}

static void
test_clone_and_recharge(void)
{
    struct pkt_pool *pool = make_pool(8, 0);
    pkt_pool_set_quota(pool, 2, 1);
    struct pkt *p = pkt_alloc(NULL, pool, PKT_CLASS_MTU, 1);
    memcpy(pkt_put(p, 5), "hello", 5);
    p->rss_hash = 77;
    struct pkt *c = pkt_clone(NULL, p, 2);
    CHECK(c);
    CHECK_EQ_U(c->size, 5);
    CHECK_MEM(pkt_data(c), "hello", 5);
    CHECK_EQ_U(c->rss_hash, 77);
    CHECK_EQ_U(c->owner, 2);
    CHECK_EQ_I(pkt_recharge(p, 2), -EDQUOT);   /* Owner 2 is full. */
    CHECK_EQ_U(p->owner, 1);
    pkt_free(NULL, c);
    CHECK_EQ_I(pkt_recharge(p, 2), 0);
    struct pkt_owner_stats st;
    pkt_pool_owner_stats(pool, 1, &st);
    CHECK_EQ_U(st.in_use, 0);
    pkt_free(NULL, p);
    pkt_pool_destroy(pool);
}

static void
test_bad_config_is_rejected(void)
{
    struct pkt_pool_config cfg = {"x", {0, 0}, 4};
    errno = 0;
    CHECK(pkt_pool_create(&cfg) == NULL);
    CHECK_EQ_I(errno, EINVAL);
    cfg.n_bufs[0] = 4;
    cfg.max_owners = 0;
    CHECK(pkt_pool_create(&cfg) == NULL);
    CHECK(pkt_pool_create(NULL) == NULL);
    pkt_pool_destroy(NULL);
    pkt_cache_destroy(NULL);
}

static const struct test_case cases[] = {
    TEST(test_layout_and_headroom),
    TEST(test_quota_denies_with_edquot),
    TEST(test_pool_exhaustion_is_enobufs),
    TEST(test_generation_cookie_detects_stale_reference),
    TEST(test_cookie_checks_on_free_and_handoff),
    TEST(test_thread_caches_balance),
    TEST(test_cache_takes_shared_lock_rarely),
    TEST(test_clone_and_recharge),
    TEST(test_bad_config_is_rejected),
};

TEST_MAIN(cases)
