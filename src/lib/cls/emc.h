/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VFAB_CLS_EMC_H
#define VFAB_CLS_EMC_H 1

/* The exact-match cache: a per-datapath-thread cache in front of the
 * classifier (DESIGN.md "The data path", step 3), mapping (table, whole
 * flow key) to the rule a classifier lookup returned.
 *
 * Each datapath thread owns one; no locks, nothing shared but reads of the
 * classifier's table versions.  The size is fixed at creation (a power of
 * two, each key has two candidate entries).  An insertion that would evict
 * a live entry happens only with probability 1/inv_prob (from the cache's
 * own seeded struct vf_random), so a churn of short flows cannot push a
 * stable hot set out; an empty or stale entry is always taken.
 *
 * Coherence.  Every entry carries the version of its table at the time the
 * classifier was consulted, read before the lookup; a hit requires that
 * version to equal the table's current version.  Any change of a table
 * (add, replace, modify, remove, expire, miss policy) bumps its version,
 * so after a change returns, no thread's cache answers with what the
 * change superseded; and an entry's rule pointer is dereferenced only
 * while its version is current, when the rule is still in the table (or
 * within the read-side section that found it), so it is never freed
 * memory.  The proof is in emc.c.
 *
 * Threads: every function is for the owning datapath thread, called inside
 * vf_rcu_read_lock() (emc_create/destroy/flush excepted, which may be
 * called outside it).  The classifier must outlive the cache's use of it;
 * after cls_destroy() the cache must be flushed or destroyed. */

#include <stddef.h>
#include <stdint.h>

#include "cls/cls.h"
#include "net/flow-key.h"
#include "util/compiler.h"
#include "util/hash.h"

#if defined(__SSE4_2__)
#include <nmmintrin.h>
#endif

#define EMC_DEFAULT_ENTRIES 8192     /* As Open vSwitch's EMC; 1.1 MiB. */
#define EMC_MAX_ENTRIES (1u << 18)     /* 36 MiB. */
#define EMC_DEFAULT_INV_PROB 100     /* As OVS emc-insert-inv-prob. */

struct emc;

struct emc_stats {
    uint64_t hits;               /* Answered by the cache. */
    uint64_t misses;             /* Went to the classifier. */
    uint64_t inserts;            /* Entries written. */
    uint64_t skipped;            /* Insertions the coin refused. */
};

/* Creates a cache of 'n_entries' entries (rounded up to a power of two,
 * at most EMC_MAX_ENTRIES; 0: EMC_DEFAULT_ENTRIES) that inserts over a live
 * entry with probability 1/'inv_prob' (0: EMC_DEFAULT_INV_PROB; 1:
 * always), drawing from a vf_random seeded with 'seed'.  Returns NULL with
 * errno ENOMEM. */
struct emc *emc_create(size_t n_entries, uint32_t inv_prob, uint64_t seed);

/* Frees 'emc'.  NULL: no-op. */
void emc_destroy(struct emc *emc);

/* Empties 'emc'. */
void emc_flush(struct emc *emc);

/* Number of entries. */
size_t emc_size(const struct emc *emc);

void emc_get_stats(const struct emc *emc, struct emc_stats *stats);

/* The cache's hash of 'key' for 'table': every word of the key. */
static inline uint32_t
emc_hash(const struct flow_key *key, unsigned int table)
{
    const uint64_t *w = flow_key_words(key);
#if defined(__SSE4_2__)
    /* Three independent CRC32C chains: a third of the latency of one. */
    uint64_t a = table, b = 0x9e3779b9u, c = 0x85ebca6bu;
    for (int i = 0; i < 5; i++) {
        a = _mm_crc32_u64(a, w[i]);
        b = _mm_crc32_u64(b, w[i + 5]);
        c = _mm_crc32_u64(c, w[i + 10]);
    }
    return (uint32_t) a ^ vf_hash_rot((uint32_t) b, 11)
           ^ vf_hash_rot((uint32_t) c, 22);
#else
    return vf_hash_words64(w, FLOW_KEY_N_WORDS, table);
#endif
}

/* Returns the rule cached for ('table', 'key') with 'hash' =
 * emc_hash(key, table), or NULL.  Counts a hit or a miss. */
const struct cls_rule *emc_lookup(struct emc *emc, const struct cls *cls,
                                  unsigned int table,
                                  const struct flow_key *key, uint32_t hash);

/* Caches 'rule' for ('table', 'key') with 'hash', where 'version' is
 * cls_table_version(cls, table) read before the classifier lookup that
 * returned 'rule' (read after, a concurrent change could be cached as
 * current).  'rule' must not be NULL. */
void emc_insert(struct emc *emc, const struct cls *cls, unsigned int table,
                uint64_t version, const struct flow_key *key, uint32_t hash,
                const struct cls_rule *rule);

/* The whole fast path for a batch: looks each of the 'n' keys up in the
 * cache, the misses in the classifier (cls_lookup_batch), and caches what
 * the classifier found.  'hashes' holds emc_hash(keys[i], table), or is
 * NULL to compute them.  Writes the rule or NULL into 'results[i]' and
 * returns the number of non-NULL results. */
size_t emc_classify_batch(struct emc *emc, const struct cls *cls,
                          unsigned int table,
                          const struct flow_key *const keys[],
                          const uint32_t hashes[], size_t n,
                          const struct cls_rule *results[]);

#endif /* cls/emc.h */
