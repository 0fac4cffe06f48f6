/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VFAB_CLS_CLS_PRIVATE_H
#define VFAB_CLS_CLS_PRIVATE_H 1

/* Structures shared by the files of the classifier (cls.c: control path,
 * cls-lookup.c: data path, emc.c).  Not for other parts (STYLE.md P2).
 * Theory of operation: cls.c.  Field protections: util/compiler.h. */

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "cls/cls.h"
#include "util/cmap.h"
#include "util/compiler.h"
#include "util/hash.h"
#include "util/rcu.h"

#if defined(__SSE4_2__)
#include <nmmintrin.h>
#endif

/* A rule with its private part.  Allocated as one block: this struct, then
 * 'n_words' value words, then the actions. */
struct cls_rule_priv {
    struct cls_rule up;                  /* Public part. */
    uint64_t rank;                       /* const: see cls.c "Ranks". */
    struct cls_rule_priv *next;          /* ctl: same value, lower rank. */
    struct cls_subtable *subtable;       /* ctl */
    struct cls_rule_priv *exp_prev;      /* ctl: expiry list. */
    struct cls_rule_priv *exp_next;      /* ctl */
    uint32_t heap_idx;                   /* ctl: index in subtable heap. */
    struct rcu_head rcu;
    uint64_t words[];                    /* const: masked value. */
};

static inline struct cls_rule_priv *
cls_rule_priv(const struct cls_rule *rule)
{
    return VF_CONTAINER_OF((struct cls_rule *) rule, struct cls_rule_priv,
                           up);
}

/* What a subtable's hash table points to: one distinct masked value and
 * the highest-ranked rule with it.  Immutable once published; a change of
 * head publishes a new node. */
struct cls_node {
    uint64_t rank;                       /* const: rank of 'head'. */
    const struct cls_rule_priv *head;    /* const */
    uint32_t hash;                       /* const: of 'words'. */
    struct rcu_head rcu;
    uint64_t words[];                    /* const: masked value. */
};

/* A subtable's hash table (theory in cls-htab.c) is two arrays indexed by
 * bucket: 16-byte signature blocks, four to a cache line, which probes
 * read, and 64-byte slot blocks, which only signature matches read. */
#define CLS_BUCKET_SLOTS 7
struct cls_sigs {
    uint16_t sig[CLS_BUCKET_SLOTS];      /* ctl (atomic): 0: empty. */
    uint16_t overflow;                   /* ctl (atomic): probes go on. */
} __attribute__((aligned(16)));
VF_BUILD_ASSERT(sizeof(struct cls_sigs) == 16);

struct cls_slots {
    struct cls_node *node[CLS_BUCKET_SLOTS];     /* ctl (atomic) */
    uint64_t pad;
} VF_CACHE_ALIGNED;
VF_BUILD_ASSERT(sizeof(struct cls_slots) == VF_CACHE_LINE);

struct cls_htab {
    uint32_t mask;               /* const: buckets - 1. */
    uint32_t n_nodes;            /* ctl */
    uint32_t n_overflow;         /* ctl: buckets flagged overflow. */
    uint32_t n_overflow_base;    /* ctl: n_overflow after the rebuild. */
    struct cls_sigs *sigs;       /* const: the arrays. */
    struct cls_slots *slots;     /* const */
    struct rcu_head rcu;
};

/* The signature of a hash: never 0 (empty). */
static inline uint16_t
cls_sig(uint32_t hash)
{
    return (uint16_t) (hash >> 16) | 1;
}

static inline const struct cls_node *
cls_slot_node(const struct cls_slots *s, int i)
{
    return __atomic_load_n(&s->node[i], __ATOMIC_ACQUIRE);
}

/* A batched lookup's two specialised steps for one subtable
 * (cls-lookup.c): which code a subtable uses is chosen at its creation
 * from its number of mask words. */
struct stage;
struct group;
struct cls_htab;
struct cls_lookup_impl {
    void (*probe)(struct stage *, const struct cls_subtable *,
                  const struct flow_key *const keys[], uint32_t live);
    void (*verify)(struct stage *, struct group *);
    void (*direct)(const struct cls_subtable *, const struct cls_htab *,
                   struct group *, uint32_t live);
};

/* The implementation for masks of 'n_words' words; 'generic' forces the
 * generic one. */
const struct cls_lookup_impl *cls_lookup_impl_select(unsigned int n_words,
                                                     bool generic);

struct cls_heap_entry {
    uint64_t rank;
    struct cls_rule_priv *rule;
};

/* All rules of one table with one mask. */
struct cls_subtable {
    /* Read by lookups; const after creation except 'htab'. */
    struct cls_htab *_Atomic htab;       /* ctl: replaced under RCU. */
    const struct cls_lookup_impl *impl;  /* const */
    uint32_t basis;                      /* const: hash basis. */
    uint8_t n_words;                     /* const: mask's nonzero words. */
    uint8_t idx[FLOW_KEY_N_WORDS];       /* const: their indexes. */
    uint64_t mul;                        /* const: odd hash multiplier. */
    uint64_t mask[FLOW_KEY_N_WORDS];     /* const: their mask words. */

    /* Control thread only. */
    struct flow_key full_mask;           /* const */
    uint32_t mask_hash;                  /* const: key in table registry. */
    struct cls_heap_entry *heap;         /* ctl: max-heap by rank. */
    uint32_t n_rules;                    /* ctl: heap size. */
    uint32_t heap_cap;                   /* ctl */
    uint64_t pub_max_rank;               /* ctl: max_rank in the pvec. */
    struct rcu_head rcu;
};

/* A table's subtables in lookup order, published as a whole. */
struct cls_pvec_entry {
    uint64_t max_rank;           /* >= rank of every rule readers see. */
    struct cls_subtable *st;
};

struct cls_pvec {
    uint32_t n;
    struct rcu_head rcu;
    struct cls_pvec_entry e[];   /* Decreasing max_rank. */
};

struct cls_table {
    struct cls_pvec *_Atomic pvec;       /* ctl: replaced under RCU. */
    _Atomic uint64_t version;            /* atomic: release on bump. */
    _Atomic int miss;                    /* atomic: enum cls_miss. */
    struct cmap subtables;               /* ctl: by mask hash. */
    size_t n_rules;                      /* ctl */
} VF_CACHE_ALIGNED;

/* Subtables with fewer buckets (so at most 4x as many nodes: 80 KiB of
 * signatures and slots) are probed key by key without the batch pipeline:
 * bench/run classifier showed the pipeline costing 15-30% on tables that
 * fit the L1/L2 caches and winning 2-4x on tables that do not. */
#define CLS_DIRECT_BUCKETS 1024

struct cls {
    unsigned int n_tables;               /* const */
    bool generic_lookup;                 /* const */
    uint32_t direct_buckets;             /* const: CLS_DIRECT_BUCKETS or 0. */
    size_t max_rules;                    /* const */
    uint64_t seed;                       /* const */
    _Atomic uint64_t version;            /* atomic */
    size_t n_rules;                      /* ctl */
    uint64_t next_seq;                   /* ctl: tie order. */
    struct cls_rule_priv *exp_head;      /* ctl: rules with timeouts. */
    struct cls_rule_priv *exp_cursor;    /* ctl: where cls_expire goes on. */
    size_t n_timed;                      /* ctl: rules on the list. */
    struct cls_table *tables;            /* const: 'n_tables' tables. */
};

/* ---- Hashing a flow key under a subtable's mask. ----
 *
 * One step per mask word: multiply by the subtable's odd multiplier (a
 * seeded nonlinear step, so that colliding rule sets cannot be computed
 * without the seed) and fold with CRC32C where SSE4.2 exists (1 cycle per
 * word of throughput), MurmurHash3's step elsewhere.  Rules hash their
 * stored (already masked) words with the same steps. */
static inline uint32_t
cls_hash_step(uint32_t h, uint64_t w)
{
#if defined(__SSE4_2__)
    return (uint32_t) _mm_crc32_u64(h, w);
#else
    return vf_hash_add64(h, w);
#endif
}

static inline uint32_t
cls_hash_final(uint32_t h)
{
#if defined(__SSE4_2__)
    return h;
#else
    return vf_hash_finish(h, 0);
#endif
}

static inline uint32_t
cls_subtable_hash_key(const struct cls_subtable *st,
                      const struct flow_key *key)
{
    const uint64_t *w = flow_key_words(key);
    uint32_t h = st->basis;
    for (int i = 0; i < st->n_words; i++) {
        h = cls_hash_step(h, (w[st->idx[i]] & st->mask[i]) * st->mul);
    }
    return cls_hash_final(h);
}

static inline uint32_t
cls_subtable_hash_words(const struct cls_subtable *st, const uint64_t *words)
{
    uint32_t h = st->basis;
    for (int i = 0; i < st->n_words; i++) {
        h = cls_hash_step(h, words[i] * st->mul);
    }
    return cls_hash_final(h);
}

static inline bool
cls_node_matches(const struct cls_subtable *st, const struct cls_node *node,
                 const struct flow_key *key)
{
    const uint64_t *w = flow_key_words(key);
    uint64_t diff = 0;
    for (int i = 0; i < st->n_words; i++) {
        diff |= (w[st->idx[i]] & st->mask[i]) ^ node->words[i];
    }
    return !diff;
}

/* Finds the node of 'st' that 'key' (hashed to 'hash') matches in 't':
 * the generic probe (cls-lookup.c), for single lookups and the rare keys
 * a batch cannot settle from their home bucket. */
const struct cls_node *cls_subtable_find(const struct cls_subtable *st,
                                         const struct cls_htab *t,
                                         uint32_t hash,
                                         const struct flow_key *key);

/* Writer side of subtable hash tables (cls-htab.c).  Control thread. */
struct cls_htab *cls_htab_create(uint32_t n_buckets);
void cls_htab_free(struct cls_htab *t);
struct cls_node *cls_htab_find_words(const struct cls_subtable *st,
                                     const uint64_t *words, uint32_t hash);
void cls_htab_reserve(struct cls_subtable *st);
void cls_htab_trim(struct cls_subtable *st);
void cls_htab_publish(struct cls_subtable *st, struct cls_node *old,
                      const struct cls_rule_priv *head, uint32_t hash);
void cls_htab_retire(struct cls_subtable *st, struct cls_node *old);
void cls_htab_destroy_nodes(struct cls_htab *t);

static inline struct cls_htab *
cls_st_htab(const struct cls_subtable *st)
{
    return atomic_load_explicit(&((struct cls_subtable *) st)->htab,
                                memory_order_acquire);
}

#endif /* cls/cls-private.h */
