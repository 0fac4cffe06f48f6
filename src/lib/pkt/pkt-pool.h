/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VFAB_PKT_PKT_POOL_H
#define VFAB_PKT_PKT_POOL_H 1

/* Packet buffer pools with per-owner quotas and per-thread caches.
 *
 * A pool holds fixed-size buffers of two size classes (pkt.h): MTU buffers
 * for frames up to 9216 bytes and GSO buffers for 64 KiB super-frames.
 * Every allocation is charged to an owner (a VNIC id, 0 = the system, which
 * has no quota) in charge units: an MTU buffer is 1 unit, a GSO buffer
 * PKT_GSO_CHARGE units.  An owner over its quota is refused with -EDQUOT,
 * distinct from -ENOBUFS (pool empty), so the caller can stop polling that
 * owner until its buffers drain (the seeds' per-target memory allocation,
 * US 2008/0019365).
 *
 * Threads: each datapath thread allocates and frees through its own
 * struct pkt_cache, which touches no shared state except in bulk refills and
 * flushes (PKT_CACHE_BULK buffers under the pool's lock).  The control thread
 * may pass a NULL cache.  Owner counters are atomics updated once per burst.
 * Theory: pkt-pool.c. */

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>

#include "pkt/pkt.h"

struct pkt_pool;
struct pkt_cache;

#define PKT_OWNER_SYSTEM 0       /* Unlimited; used by control paths. */
#define PKT_GSO_CHARGE 8         /* Units charged for one GSO buffer. */
#define PKT_CACHE_SIZE 512       /* Buffers a thread cache holds at most. */
#define PKT_CACHE_BULK 128       /* Buffers moved per refill/flush. */

struct pkt_pool_config {
    const char *name;
    uint32_t n_bufs[PKT_N_CLASSES]; /* Buffers per class (0 allowed). */
    uint32_t max_owners;            /* Owner ids are 0..max_owners-1. */
};

struct pkt_owner_stats {
    uint64_t in_use;             /* Charge units held now. */
    uint64_t peak;               /* Highest 'in_use' seen. */
    uint64_t denials;            /* Allocations refused for quota. */
    uint64_t quota;              /* Limit in charge units, 0 = none. */
};

/* Creates a pool as 'cfg' describes.  Returns it, or NULL with errno set
 * (EINVAL for a bad config, ENOMEM).  Control thread. */
struct pkt_pool *pkt_pool_create(const struct pkt_pool_config *cfg);

/* Frees 'pool'.  Every buffer must have come back (checked: a leak aborts
 * in debug builds, is logged otherwise).  NULL is a no-op. */
void pkt_pool_destroy(struct pkt_pool *pool);

/* Sets the quota of 'owner' to 'quota' charge units (0 = unlimited).
 * Returns 0 or -EINVAL if 'owner' is out of range or is the system owner.
 * Lowering a quota below what is in use denies new allocations until
 * enough is freed; nothing already allocated is taken back. */
int pkt_pool_set_quota(struct pkt_pool *pool, uint16_t owner, uint64_t quota);

/* Fills 'stats' for 'owner'.  Returns 0 or -EINVAL.  Any thread. */
int pkt_pool_owner_stats(const struct pkt_pool *pool, uint16_t owner,
                         struct pkt_owner_stats *stats);

/* Resets the peak and denial counters of 'owner'. */
void pkt_pool_owner_reset(struct pkt_pool *pool, uint16_t owner);

/* True if 'owner' has no quota left for one more buffer of class 'cls'. */
bool pkt_pool_owner_over_quota(const struct pkt_pool *pool, uint16_t owner,
                               enum pkt_class cls);

/* Number of free buffers of 'cls' in the shared part of the pool (thread
 * caches not included). */
uint32_t pkt_pool_n_free(struct pkt_pool *pool, enum pkt_class cls);

/* Total buffers of 'cls'. */
uint32_t pkt_pool_n_bufs(const struct pkt_pool *pool, enum pkt_class cls);

/* Creates a cache for one thread.  NULL with errno on failure. */
struct pkt_cache *pkt_cache_create(struct pkt_pool *pool);

/* Returns the cache's buffers to the pool and frees it.  NULL: no-op. */
void pkt_cache_destroy(struct pkt_cache *cache);

/* Allocates up to 'n' buffers of class 'cls' charged to 'owner' into
 * 'pkts' (burst: as many as the quota and the pool allow).  Each buffer has
 * its metadata reset (pkt_reset_meta) and its owner set.
 *
 * Returns the number allocated (> 0), or, when none could be:
 *   -EDQUOT   'owner' is at its quota (counted as a denial);
 *   -ENOBUFS  the pool has no free buffer of class 'cls';
 *   -EINVAL   bad owner or class, or n == 0.
 * 'cache' may be NULL (control thread: slower, takes the pool lock). */
int pkt_alloc_burst(struct pkt_cache *cache, struct pkt_pool *pool,
                    enum pkt_class cls, uint16_t owner, struct pkt **pkts,
                    uint32_t n);

/* Allocates one buffer; NULL with errno EDQUOT/ENOBUFS/EINVAL. */
struct pkt *pkt_alloc(struct pkt_cache *cache, struct pkt_pool *pool,
                      enum pkt_class cls, uint16_t owner);

/* Frees 'n' buffers (takes them), un-charging their owners.  In debug
 * builds a buffer that is not live (double free, stale reference) aborts
 * with a message.  'cache' may be NULL. */
void pkt_free_burst(struct pkt_cache *cache, struct pkt **pkts, uint32_t n);

static inline void
pkt_free(struct pkt_cache *cache, struct pkt *p)
{
    if (p) {
        pkt_free_burst(cache, &p, 1);
    }
}

/* Copies 'p' into a new buffer of the same class charged to 'owner' (for
 * flooding to several ports).  NULL with errno on failure. */
struct pkt *pkt_clone(struct pkt_cache *cache, const struct pkt *p,
                      uint16_t owner);

/* Moves the charge of 'p' to 'owner' (e.g. from the receiving VNIC to a
 * queue's owner).  Returns 0 or -EDQUOT (unchanged). */
int pkt_recharge(struct pkt *p, uint16_t owner);

#endif /* pkt/pkt-pool.h */
