/* SPDX-License-Identifier: Apache-2.0 */
/* cmap: single-threaded semantics, then a reader thread that must always
 * find a stable set of nodes while the writer inserts and removes others
 * (forcing many grows, shrinks and tombstone rebuilds). */
#include "harness.h"

#include <pthread.h>
#include <stdatomic.h>

#include "util/cmap.h"
#include "util/hash.h"
#include "util/random.h"
#include "util/rcu.h"

struct node {
    uint32_t key;
    struct rcu_head rcu;
};

static uint32_t
hash_key(uint32_t key)
{
    /* Deliberately weak (many collisions) to exercise probe chains. */
    return vf_hash_u32(key % 5000, 0);
}

static struct node *
find(const struct cmap *map, uint32_t key)
{
    struct cmap_cursor c = cmap_find(map, hash_key(key));
    struct node *n;
    while ((n = cmap_next(&c))) {
        if (n->key == key) {
            return n;
        }
    }
    return NULL;
}

static void
test_insert_find_remove(void)
{
    vf_rcu_register_thread();
    struct cmap map;
    cmap_init(&map);
    CHECK(find(&map, 1) == NULL);
    static struct node nodes[20000];
    for (uint32_t i = 0; i < 20000; i++) {
        nodes[i].key = i;
        CHECK_EQ_I(cmap_insert(&map, &nodes[i], hash_key(i)), 0);
    }
    CHECK_EQ_U(cmap_count(&map), 20000);
    for (uint32_t i = 0; i < 20000; i++) {
        CHECK(find(&map, i) == &nodes[i]);
    }
    CHECK(find(&map, 20001) == NULL);
    size_t walked = 0;
    struct node *n;
    CMAP_FOR_EACH (n, c, &map) {
        walked++;
    }
    CHECK_EQ_U(walked, 20000);
    for (uint32_t i = 0; i < 20000; i += 2) {
        CHECK(cmap_remove(&map, &nodes[i], hash_key(i)));
    }
    CHECK(!cmap_remove(&map, &nodes[0], hash_key(0)));
    CHECK_EQ_U(cmap_count(&map), 10000);
    for (uint32_t i = 0; i < 20000; i++) {
        CHECK((find(&map, i) != NULL) == (i % 2 == 1));
    }
    struct node repl = {.key = 1};
    CHECK(cmap_replace(&map, &nodes[1], &repl, hash_key(1)));
    CHECK(find(&map, 1) == &repl);
    for (uint32_t i = 1; i < 20000; i += 2) {
        cmap_remove(&map, i == 1 ? &repl : &nodes[i], hash_key(i));
    }
    CHECK_EQ_U(cmap_count(&map), 0);
    cmap_destroy(&map);
    vf_rcu_barrier();
    vf_rcu_unregister_thread();
}

#define N_STABLE 2000
#define N_CHURN 30000

struct shared {
    struct cmap map;
    struct node stable[N_STABLE];
    atomic_bool stop;
    atomic_ulong misses;
    atomic_ulong lookups;
};

static void *
reader(void *arg)
{
    struct shared *sh = arg;
    vf_rcu_register_thread();
    while (!atomic_load(&sh->stop)) {
        vf_rcu_read_lock();
        for (uint32_t i = 0; i < N_STABLE; i++) {
            if (find(&sh->map, sh->stable[i].key) != &sh->stable[i]) {
                atomic_fetch_add(&sh->misses, 1);
            }
        }
        vf_rcu_read_unlock();
        atomic_fetch_add(&sh->lookups, N_STABLE);
    }
    vf_rcu_unregister_thread();
    return NULL;
}

static void
free_node_rcu(struct rcu_head *h)
{
    free(VF_CONTAINER_OF(h, struct node, rcu));
}

static void
test_readers_never_miss_stable_nodes(void)
{
    vf_rcu_register_thread();
    struct shared *sh = calloc(1, sizeof *sh);
    cmap_init(&sh->map);
    for (uint32_t i = 0; i < N_STABLE; i++) {
        sh->stable[i].key = 1000000 + i;
        cmap_insert(&sh->map, &sh->stable[i], hash_key(sh->stable[i].key));
    }
    pthread_t th;
    pthread_create(&th, NULL, reader, sh);
    struct vf_random rng;
    vf_random_init(&rng, 3);
    struct node **live = calloc(N_CHURN, sizeof *live);
    for (int round = 0; round < 6; round++) {
        /* Grow to N_CHURN extra nodes, then remove them in random order. */
        for (uint32_t i = 0; i < N_CHURN; i++) {
            live[i] = malloc(sizeof *live[i]);
            live[i]->key = i;
            cmap_insert(&sh->map, live[i], hash_key(i));
        }
        for (uint32_t i = N_CHURN; i > 0; i--) {
            uint32_t j = vf_random_range(&rng, i);
            struct node *n = live[j];
            live[j] = live[i - 1];
            cmap_remove(&sh->map, n, hash_key(n->key));
            vf_rcu_call(&n->rcu, free_node_rcu);
        }
    }
    atomic_store(&sh->stop, true);
    pthread_join(th, NULL);
    CHECK(atomic_load(&sh->lookups) > 0);
    CHECK_EQ_U(atomic_load(&sh->misses), 0);
    CHECK_EQ_U(cmap_count(&sh->map), N_STABLE);
    cmap_destroy(&sh->map);
    free(live);
    vf_rcu_barrier();
    free(sh);
    vf_rcu_unregister_thread();
}

static const struct test_case cases[] = {
    TEST(test_insert_find_remove),
    TEST(test_readers_never_miss_stable_nodes),
};

TEST_MAIN(cases)
