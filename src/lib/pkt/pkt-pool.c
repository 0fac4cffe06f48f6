/* SPDX-License-Identifier: Apache-2.0 */
/* Packet buffer pools: theory of operation.
 *
 * Memory.  Each size class is one anonymous mmap()ed region cut into
 * buffers of a fixed stride: 128 bytes of struct pkt, then PKT_HEADROOM,
 * then the class's data room.  Pages are faulted in lazily, so a pool of
 * thousands of jumbo buffers costs resident memory only for the cache lines
 * the datapath touches (a 64-byte frame touches 3 lines of a 9600-byte
 * buffer).
 *
 * Free buffers live in two tiers:
 *
 *     thread A: pkt_cache ----+                +---- pkt_cache :thread B
 *      (no lock, up to        |  bulk moves of |      (no lock)
 *       PKT_CACHE_SIZE)       v  PKT_CACHE_BULK v
 *                     shared free stack per class (pool->lock)
 *
 * A thread allocates from and frees into its own cache; only when the cache
 * runs dry (or overflows) does it take the pool lock, once per
 * PKT_CACHE_BULK buffers.  A buffer freed by another thread than the one
 * that allocated it simply lands in that thread's cache: it never leaves its
 * pool (STYLE.md P8).
 *
 * Charging.  Owners are VNIC ids.  Each owner has an atomic 'in_use' in
 * charge units and an optional quota.  A burst reserves its charge with one
 * compare-and-swap (taking fewer buffers if the quota allows only part of
 * the burst), then takes buffers; buffers it could not get are un-charged.
 * Frees un-charge per run of equal owners, so a batch of one VNIC's
 * packets costs one atomic operation.
 *
 * Cookies.  Every buffer carries a generation, bumped on free, and a state
 * word (LIVE/FREE).  Free checks the state: a double free or a free through
 * a stale reference aborts in debug and sanitizer builds and is counted and
 * ignored in release builds (the free list stays intact either way).  Under
 * AddressSanitizer the data room of a free buffer is poisoned, so any read
 * or write through a stale pointer is reported at the faulting access.
 *
 * Concurrency rules:
 *   1. A struct pkt_cache is used by one thread only.
 *   2. pool->lock protects the shared free stacks; it is held for at most
 *      PKT_CACHE_BULK pointer moves.
 *   3. Owner counters are atomics; quotas are written by the control thread
 *      and read by any thread (relaxed: a late view of a new quota only
 *      delays its effect by one burst). */
#include "pkt/pkt-pool.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "pkt/pkt-batch.h"
#include "util/compiler.h"
#include "util/log.h"

#if defined(__SANITIZE_ADDRESS__)
#define PKT_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define PKT_ASAN 1
#endif
#endif
#ifdef PKT_ASAN
#include <sanitizer/asan_interface.h>
#define PKT_POISON(p, n) ASAN_POISON_MEMORY_REGION((p), (n))
#define PKT_UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION((p), (n))
#else
#define PKT_POISON(p, n) ((void) (p), (void) (n))
#define PKT_UNPOISON(p, n) ((void) (p), (void) (n))
#endif

VF_LOG_MODULE(pkt_pool);

struct pkt_owner {
    _Atomic uint64_t in_use;     /* atomic */
    _Atomic uint64_t peak;       /* atomic */
    _Atomic uint64_t denials;    /* atomic */
    _Atomic uint64_t quota;      /* atomic: written by ctl. */
} VF_CACHE_ALIGNED;

struct pkt_class_area {
    uint8_t *mem;                /* const: mmap()ed region. */
    size_t mem_size;             /* const */
    uint32_t stride;             /* const: bytes per buffer. */
    uint32_t room;               /* const: headroom + data room. */
    uint32_t n_bufs;             /* const */
    uint32_t n_free;             /* lock */
    struct pkt **free_stack;     /* lock: n_free entries. */
};

struct pkt_pool {
    char name[32];                                /* const */
    pthread_mutex_t lock;
    struct pkt_class_area areas[PKT_N_CLASSES];   /* see fields */
    uint32_t max_owners;                          /* const */
    struct pkt_owner *owners;                     /* see fields */
    _Atomic uint64_t n_bad_frees;                 /* atomic */
};

struct pkt_cache {
    struct pkt_pool *pool;                        /* const */
    uint32_t n[PKT_N_CLASSES];
    struct pkt *bufs[PKT_N_CLASSES][PKT_CACHE_SIZE];
};

static const uint32_t class_room[PKT_N_CLASSES] = {
    PKT_HEADROOM + PKT_MTU_ROOM,
    PKT_HEADROOM + PKT_GSO_ROOM,
};

static const uint32_t class_charge[PKT_N_CLASSES] = {1, PKT_GSO_CHARGE};

static int
area_init(struct pkt_pool *pool, enum pkt_class cls, uint32_t n_bufs)
{
    struct pkt_class_area *a = &pool->areas[cls];
    a->room = class_room[cls];
    a->stride = (uint32_t) VF_ROUND_UP(sizeof(struct pkt) + a->room,
                                       VF_CACHE_LINE);
    a->n_bufs = n_bufs;
    if (!n_bufs) {
        return 0;
    }
    a->mem_size = (size_t) a->stride * n_bufs;
    a->mem = mmap(NULL, a->mem_size, PROT_READ | PROT_WRITE,
                  MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (a->mem == MAP_FAILED) {
        a->mem = NULL;
        return -ENOMEM;
    }
    a->free_stack = calloc(n_bufs, sizeof *a->free_stack);
    if (!a->free_stack) {
        return -ENOMEM;
    }
    /* Push in reverse so the first allocations come from the region's
     * start (sequential page faults, friendlier to the TLB). */
    for (uint32_t i = 0; i < n_bufs; i++) {
        struct pkt *p = (struct pkt *) (void *) (a->mem
                                                 + (size_t) a->stride
                                                   * (n_bufs - 1 - i));
        p->base = (uint8_t *) (p + 1);
        p->room = a->room;
        p->pool = pool;
        p->cls = (uint8_t) cls;
        p->gen = 0;
        p->state = PKT_STATE_FREE;
        p->owner = PKT_OWNER_SYSTEM;
        PKT_POISON(p->base, p->room);
        a->free_stack[i] = p;
    }
    a->n_free = n_bufs;
    return 0;
}

struct pkt_pool *
pkt_pool_create(const struct pkt_pool_config *cfg)
{
    if (!cfg || !cfg->max_owners || cfg->max_owners > UINT16_MAX + 1u
        || (!cfg->n_bufs[PKT_CLASS_MTU] && !cfg->n_bufs[PKT_CLASS_GSO])) {
        errno = EINVAL;
        return NULL;
    }
    struct pkt_pool *pool = calloc(1, sizeof *pool);
    if (!pool) {
        errno = ENOMEM;
        return NULL;
    }
    snprintf(pool->name, sizeof pool->name, "%s",
             cfg->name ? cfg->name : "pool");
    pthread_mutex_init(&pool->lock, NULL);
    pool->max_owners = cfg->max_owners;
    pool->owners = aligned_alloc(VF_CACHE_LINE,
                                 sizeof *pool->owners * cfg->max_owners);
    if (!pool->owners) {
        goto err;
    }
    memset(pool->owners, 0, sizeof *pool->owners * cfg->max_owners);
    for (int c = 0; c < PKT_N_CLASSES; c++) {
        if (area_init(pool, (enum pkt_class) c, cfg->n_bufs[c])) {
            goto err;
        }
    }
    return pool;

err:
    pkt_pool_destroy(pool);
    errno = ENOMEM;
    return NULL;
}

void
pkt_pool_destroy(struct pkt_pool *pool)
{
    if (!pool) {
        return;
    }
    for (int c = 0; c < PKT_N_CLASSES; c++) {
        struct pkt_class_area *a = &pool->areas[c];
        if (a->mem && a->n_free != a->n_bufs) {
            VF_LOG_ERR(pkt_pool, "%s: destroyed with %u of %u class-%d "
                       "buffers still out", pool->name,
                       a->n_bufs - a->n_free, a->n_bufs, c);
            (void) VF_ALWAYS(a->n_free == a->n_bufs);
        }
        if (a->mem) {
            PKT_UNPOISON(a->mem, a->mem_size);
            munmap(a->mem, a->mem_size);
        }
        free(a->free_stack);
    }
    free(pool->owners);
    pthread_mutex_destroy(&pool->lock);
    free(pool);
}

int
pkt_pool_set_quota(struct pkt_pool *pool, uint16_t owner, uint64_t quota)
{
    if (owner == PKT_OWNER_SYSTEM || owner >= pool->max_owners) {
        return -EINVAL;
    }
    atomic_store_explicit(&pool->owners[owner].quota, quota,
                          memory_order_relaxed);
    return 0;
}

int
pkt_pool_owner_stats(const struct pkt_pool *pool, uint16_t owner,
                     struct pkt_owner_stats *stats)
{
    if (owner >= pool->max_owners) {
        return -EINVAL;
    }
    struct pkt_owner *o = &pool->owners[owner];
    stats->in_use = atomic_load_explicit(&o->in_use, memory_order_relaxed);
    stats->peak = atomic_load_explicit(&o->peak, memory_order_relaxed);
    stats->denials = atomic_load_explicit(&o->denials, memory_order_relaxed);
    stats->quota = atomic_load_explicit(&o->quota, memory_order_relaxed);
    return 0;
}

void
pkt_pool_owner_reset(struct pkt_pool *pool, uint16_t owner)
{
    if (owner < pool->max_owners) {
        struct pkt_owner *o = &pool->owners[owner];
        atomic_store(&o->peak, atomic_load(&o->in_use));
        atomic_store(&o->denials, 0);
    }
}

bool
pkt_pool_owner_over_quota(const struct pkt_pool *pool, uint16_t owner,
                          enum pkt_class cls)
{
    if (owner >= pool->max_owners) {
        return true;
    }
    struct pkt_owner *o = &pool->owners[owner];
    uint64_t quota = atomic_load_explicit(&o->quota, memory_order_relaxed);
    uint64_t in_use = atomic_load_explicit(&o->in_use, memory_order_relaxed);
    return quota && in_use + class_charge[cls] > quota;
}

uint32_t
pkt_pool_n_free(struct pkt_pool *pool, enum pkt_class cls)
{
    pthread_mutex_lock(&pool->lock);
    uint32_t n = pool->areas[cls].n_free;
    pthread_mutex_unlock(&pool->lock);
    return n;
}

uint32_t
pkt_pool_n_bufs(const struct pkt_pool *pool, enum pkt_class cls)
{
    return pool->areas[cls].n_bufs;
}

struct pkt_cache *
pkt_cache_create(struct pkt_pool *pool)
{
    struct pkt_cache *cache = aligned_alloc(VF_CACHE_LINE,
                                            VF_ROUND_UP(sizeof *cache,
                                                        VF_CACHE_LINE));
    if (!cache) {
        errno = ENOMEM;
        return NULL;
    }
    memset(cache, 0, sizeof *cache);
    cache->pool = pool;
    return cache;
}

/* Moves up to 'n' buffers of 'cls' from the shared stack to 'out'. */
static uint32_t
pool_take(struct pkt_pool *pool, enum pkt_class cls, struct pkt **out,
          uint32_t n)
{
    struct pkt_class_area *a = &pool->areas[cls];
    pthread_mutex_lock(&pool->lock);
    uint32_t take = VF_MIN(n, a->n_free);
    a->n_free -= take;
    memcpy(out, &a->free_stack[a->n_free], take * sizeof *out);
    pthread_mutex_unlock(&pool->lock);
    return take;
}

/* Returns 'n' buffers of 'cls' at 'in' to the shared stack. */
static void
pool_give(struct pkt_pool *pool, enum pkt_class cls, struct pkt *const *in,
          uint32_t n)
{
    struct pkt_class_area *a = &pool->areas[cls];
    pthread_mutex_lock(&pool->lock);
    VF_VERIFY(a->n_free + n <= a->n_bufs);
    memcpy(&a->free_stack[a->n_free], in, n * sizeof *in);
    a->n_free += n;
    pthread_mutex_unlock(&pool->lock);
}

void
pkt_cache_destroy(struct pkt_cache *cache)
{
    if (!cache) {
        return;
    }
    for (int c = 0; c < PKT_N_CLASSES; c++) {
        if (cache->n[c]) {
            pool_give(cache->pool, (enum pkt_class) c, cache->bufs[c],
                      cache->n[c]);
        }
    }
    free(cache);
}

/* Reserves up to 'n' buffers' worth of charge for 'owner'.  Returns the
 * number of buffers reserved, 0 if the quota allows none. */
static uint32_t
owner_charge(struct pkt_pool *pool, uint16_t owner, enum pkt_class cls,
             uint32_t n)
{
    struct pkt_owner *o = &pool->owners[owner];
    uint64_t unit = class_charge[cls];
    uint64_t quota = atomic_load_explicit(&o->quota, memory_order_relaxed);
    uint64_t cur = atomic_load_explicit(&o->in_use, memory_order_relaxed);
    uint64_t take;
    do {
        if (quota) {
            uint64_t avail = quota > cur ? (quota - cur) / unit : 0;
            take = VF_MIN((uint64_t) n, avail);
            if (!take) {
                atomic_fetch_add_explicit(&o->denials, 1,
                                          memory_order_relaxed);
                return 0;
            }
        } else {
            take = n;
        }
    } while (!atomic_compare_exchange_weak_explicit(
        &o->in_use, &cur, cur + take * unit, memory_order_relaxed,
        memory_order_relaxed));

    uint64_t now = cur + take * unit;
    uint64_t peak = atomic_load_explicit(&o->peak, memory_order_relaxed);
    while (now > peak
           && !atomic_compare_exchange_weak_explicit(
               &o->peak, &peak, now, memory_order_relaxed,
               memory_order_relaxed)) {
        continue;
    }
    return (uint32_t) take;
}

static void
owner_uncharge(struct pkt_pool *pool, uint16_t owner, uint64_t units)
{
    if (units) {
        atomic_fetch_sub_explicit(&pool->owners[owner].in_use, units,
                                  memory_order_relaxed);
    }
}

/* Takes 'n' buffers of 'cls' from 'cache' (refilling it) or, without a
 * cache, from the pool.  Returns how many it got. */
static uint32_t
cache_take(struct pkt_cache *cache, struct pkt_pool *pool,
           enum pkt_class cls, struct pkt **out, uint32_t n)
{
    if (!cache) {
        return pool_take(pool, cls, out, n);
    }
    if (cache->n[cls] < n) {
        uint32_t want = VF_MIN((uint32_t) PKT_CACHE_BULK,
                               PKT_CACHE_SIZE - cache->n[cls]);
        cache->n[cls] += pool_take(pool, cls,
                                   &cache->bufs[cls][cache->n[cls]], want);
    }
    uint32_t take = VF_MIN(n, cache->n[cls]);
    cache->n[cls] -= take;
    memcpy(out, &cache->bufs[cls][cache->n[cls]], take * sizeof *out);
    return take;
}

int
pkt_alloc_burst(struct pkt_cache *cache, struct pkt_pool *pool,
                enum pkt_class cls, uint16_t owner, struct pkt **pkts,
                uint32_t n)
{
    if (!n || (unsigned) cls >= PKT_N_CLASSES || owner >= pool->max_owners
        || (cache && cache->pool != pool)) {
        return -EINVAL;
    }
    if (!pool->areas[cls].n_bufs) {
        return -ENOBUFS;
    }
    uint32_t charged = owner_charge(pool, owner, cls, n);
    if (!charged) {
        return -EDQUOT;
    }
    uint32_t got = cache_take(cache, pool, cls, pkts, charged);
    owner_uncharge(pool, owner, (uint64_t) (charged - got)
                                    * class_charge[cls]);
    if (!got) {
        return -ENOBUFS;
    }
    for (uint32_t i = 0; i < got; i++) {
        struct pkt *p = pkts[i];
        PKT_UNPOISON(p->base, p->room);
        p->state = PKT_STATE_LIVE;
        p->owner = owner;
        pkt_reset_meta(p);
    }
    return (int) got;
}

struct pkt *
pkt_alloc(struct pkt_cache *cache, struct pkt_pool *pool,
          enum pkt_class cls, uint16_t owner)
{
    struct pkt *p;
    int n = pkt_alloc_burst(cache, pool, cls, owner, &p, 1);
    if (n < 0) {
        errno = -n;
        return NULL;
    }
    return p;
}

/* Puts one freed buffer into 'cache' (or the pool). */
static void
cache_put(struct pkt_cache *cache, struct pkt_pool *pool, struct pkt *p)
{
    enum pkt_class cls = (enum pkt_class) p->cls;
    if (!cache || cache->pool != pool) {
        pool_give(pool, cls, &p, 1);
        return;
    }
    if (cache->n[cls] == PKT_CACHE_SIZE) {
        cache->n[cls] -= PKT_CACHE_BULK;
        pool_give(pool, cls, &cache->bufs[cls][cache->n[cls]],
                  PKT_CACHE_BULK);
    }
    cache->bufs[cls][cache->n[cls]++] = p;
}

void
pkt_free_burst(struct pkt_cache *cache, struct pkt **pkts, uint32_t n)
{
    struct pkt_pool *run_pool = NULL;
    uint16_t run_owner = 0;
    uint64_t run_units = 0;

    for (uint32_t i = 0; i < n; i++) {
        struct pkt *p = pkts[i];
        if (!p) {
            continue;
        }
        if (VF_NEVER(p->state != PKT_STATE_LIVE)) {
            /* Double free or stale reference: leave the buffer alone. */
            atomic_fetch_add(&p->pool->n_bad_frees, 1);
            continue;
        }
        if (p->pool != run_pool || p->owner != run_owner) {
            if (run_pool) {
                owner_uncharge(run_pool, run_owner, run_units);
            }
            run_pool = p->pool;
            run_owner = p->owner;
            run_units = 0;
        }
        run_units += class_charge[p->cls];
        p->state = PKT_STATE_FREE;
        p->gen++;
        PKT_POISON(p->base, p->room);
        cache_put(cache, p->pool, p);
    }
    if (run_pool) {
        owner_uncharge(run_pool, run_owner, run_units);
    }
}

struct pkt *
pkt_clone(struct pkt_cache *cache, const struct pkt *p, uint16_t owner)
{
    struct pkt *c = pkt_alloc(cache, p->pool, (enum pkt_class) p->cls,
                              owner);
    if (!c) {
        return NULL;
    }
    c->data_ofs = p->data_ofs;
    c->size = p->size;
    memcpy(pkt_data(c), pkt_data(p), p->size);
    c->rss_hash = p->rss_hash;
    c->in_port = p->in_port;
    c->flags = p->flags;
    c->l2_ofs = p->l2_ofs;
    c->l3_ofs = p->l3_ofs;
    c->l4_ofs = p->l4_ofs;
    c->inner_l2_ofs = p->inner_l2_ofs;
    c->offload = p->offload;
    c->tun_vni = p->tun_vni;
    c->tun_src = p->tun_src;
    c->tun_dst = p->tun_dst;
    c->mark = p->mark;
    memcpy(c->md, p->md, sizeof c->md);
    return c;
}

int
pkt_recharge(struct pkt *p, uint16_t owner)
{
    struct pkt_pool *pool = p->pool;
    if (owner >= pool->max_owners) {
        return -EINVAL;
    }
    if (owner == p->owner) {
        return 0;
    }
    if (!owner_charge(pool, owner, (enum pkt_class) p->cls, 1)) {
        return -EDQUOT;
    }
    owner_uncharge(pool, p->owner, class_charge[p->cls]);
    p->owner = owner;
    return 0;
}

void
pkt_batch_verify__(const struct pkt_batch *b, const char *stage)
{
    for (uint32_t i = 0; i < b->count; i++) {
        const struct pkt *p = b->pkts[i];
        if (!pkt_ref_valid(p, b->gens[i])) {
            fprintf(stderr, "pkt: stale buffer %p in batch at stage '%s' "
                    "(slot %u: state %#x gen %u, expected gen %u)\n",
                    (const void *) p, stage, i, p->state, p->gen,
                    b->gens[i]);
            abort();
        }
    }
}
