/* SPDX-License-Identifier: Apache-2.0 */
/* Classifier lookups: the data path (theory of operation and concurrency
 * rules R1-R6 in cls.c; the hash table layout in cls-htab.c).
 *
 * Single lookup: walk the published pvec in decreasing max_rank; for each
 * subtable that can still beat the best rank found, hash the key under the
 * subtable's mask, probe its signatures, compare the node's words.
 *
 * Batched lookup: the same walk for a group of up to CLS_BATCH keys, one
 * subtable after the other, software-pipelined over three stages so that
 * the memory accesses of one subtable overlap the work of the next two:
 *
 *   stage A (subtable i)    hash every live key; prefetch, then read its
 *                           signature block; prefetch the slot a
 *                           signature matched
 *   stage B (subtable i-1)  load the candidate node pointers; prefetch
 *                           the nodes
 *   stage C (subtable i-2)  compare each candidate node with its key;
 *                           keys whose home bucket could not settle them
 *                           (no candidate but an overflow flag, or a
 *                           candidate that did not match) take the generic
 *                           probe
 *
 * A key leaves the group ("live" bitmap) once its best rank is at least
 * the next subtable's max_rank.  The best ranks that decision sees lag by
 * up to two subtables, which can only cost extra probes, never skip a
 * needed one, so a batch returns exactly what single lookups return
 * (test-cls checks both against the linear reference).
 *
 * Specialisation (STYLE.md P10): the hash and the comparison loop over
 * the subtable's mask words; for masks of 1..8 words the stages are
 * compiled with the count as a constant (unrolled), other masks take the
 * generic loop.  struct cls_config's 'generic_lookup' forces the generic
 * code, and the tests run the differential check both ways. */
#include "cls/cls-private.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#define FOR_EACH_BIT(IDX, MAP)                                              \
    for (uint32_t map__ = (MAP), IDX;                                       \
         map__ && ((IDX) = (uint32_t) __builtin_ctz(map__), 1);             \
         map__ &= map__ - 1)

/* Bitmap of the slots of 'sigs' whose signature is 'sig'.  The 16-byte
 * block is read without atomics while the writer may change one of its
 * fields: each field is read whole (aligned), and a stale or fresh value
 * can only add or drop a candidate that the node comparison settles
 * (cls-htab.c). */
static inline uint32_t
sig_match(const struct cls_sigs *sigs, uint16_t sig)
{
#if defined(__SSE2__)
    __m128i v = _mm_load_si128((const __m128i *) (const void *) sigs);
    __m128i eq = _mm_cmpeq_epi16(v, _mm_set1_epi16((short) sig));
    return (uint32_t) _mm_movemask_epi8(_mm_packs_epi16(eq, eq))
           & ((1u << CLS_BUCKET_SLOTS) - 1);
#else
    uint32_t m = 0;
    for (int i = 0; i < CLS_BUCKET_SLOTS; i++) {
        m |= (uint32_t) (__atomic_load_n(&sigs->sig[i], __ATOMIC_RELAXED)
                         == sig) << i;
    }
    return m;
#endif
}

static inline bool
sig_overflows(const struct cls_sigs *sigs)
{
    return __atomic_load_n(&sigs->overflow, __ATOMIC_ACQUIRE);
}

const struct cls_node *
cls_subtable_find(const struct cls_subtable *st, const struct cls_htab *t,
                  uint32_t hash, const struct flow_key *key)
{
    uint16_t sig = cls_sig(hash);
    uint32_t b = hash & t->mask;
    for (uint32_t n = 0; n <= t->mask; n++) {
        FOR_EACH_BIT (i, sig_match(&t->sigs[b], sig)) {
            const struct cls_node *node = cls_slot_node(&t->slots[b],
                                                        (int) i);
            if (node && cls_node_matches(st, node, key)) {
                return node;
            }
        }
        if (!sig_overflows(&t->sigs[b])) {
            break;
        }
        b = (b + 1) & t->mask;
    }
    return NULL;
}

static inline const struct cls_pvec *
pvec_get(const struct cls *cls, unsigned int table)
{
    return atomic_load_explicit(&((struct cls *) cls)->tables[table].pvec,
                                memory_order_acquire);
}

const struct cls_rule *
cls_lookup(const struct cls *cls, unsigned int table,
           const struct flow_key *key)
{
    if (VF_UNLIKELY(table >= cls->n_tables)) {
        return NULL;
    }
    const struct cls_pvec *pv = pvec_get(cls, table);
    const struct cls_node *best = NULL;
    uint64_t best_rank = 0;
    for (uint32_t i = 0; i < pv->n && pv->e[i].max_rank > best_rank; i++) {
        const struct cls_subtable *st = pv->e[i].st;
        const struct cls_node *node = cls_subtable_find(
            st, cls_st_htab(st), cls_subtable_hash_key(st, key), key);
        if (node && node->rank > best_rank) {
            best_rank = node->rank;
            best = node;
        }
    }
    return best ? &best->head->up : NULL;
}

/* ---- Batches. ---- */

/* One subtable's worth of a group in flight through the stages. */
struct stage {
    const struct cls_subtable *st;
    const struct cls_htab *t;
    uint32_t have;                       /* Keys with a candidate. */
    uint32_t slow;                       /* Keys for the generic probe. */
    uint32_t hashes[CLS_BATCH];
    uint8_t slot[CLS_BATCH];
    const struct cls_node *cand[CLS_BATCH];
};

struct group {
    const struct flow_key *const *keys;
    uint64_t best[CLS_BATCH];            /* 0: nothing found yet. */
    const struct cls_node *found[CLS_BATCH];
};

static VF_ALWAYS_INLINE uint32_t
hash_n(const struct cls_subtable *st, const struct flow_key *key, int n)
{
    const uint64_t *w = flow_key_words(key);
    uint32_t h = st->basis;
    for (int i = 0; i < n; i++) {
        h = cls_hash_step(h, (w[st->idx[i]] & st->mask[i]) * st->mul);
    }
    return cls_hash_final(h);
}

static VF_ALWAYS_INLINE bool
matches_n(const struct cls_subtable *st, const struct cls_node *node,
          const struct flow_key *key, int n)
{
    const uint64_t *w = flow_key_words(key);
    uint64_t diff = 0;
    for (int i = 0; i < n; i++) {
        diff |= (w[st->idx[i]] & st->mask[i]) ^ node->words[i];
    }
    return !diff;
}

/* Stage A. */
static VF_ALWAYS_INLINE void
stage_probe_n(struct stage *s, const struct cls_subtable *st,
              const struct flow_key *const keys[], uint32_t live, int n)
{
    const struct cls_htab *t = cls_st_htab(st);
    s->st = st;
    s->t = t;
    s->have = 0;
    s->slow = 0;
    FOR_EACH_BIT (k, live) {
        s->hashes[k] = hash_n(st, keys[k], n);
        VF_PREFETCH(&t->sigs[s->hashes[k] & t->mask]);
    }
    FOR_EACH_BIT (k, live) {
        uint32_t h = s->hashes[k];
        const struct cls_sigs *sigs = &t->sigs[h & t->mask];
        uint32_t m = sig_match(sigs, cls_sig(h));
        if (m) {
            s->slot[k] = (uint8_t) __builtin_ctz(m);
            s->have |= 1u << k;
            VF_PREFETCH(&t->slots[h & t->mask].node[s->slot[k]]);
        } else if (VF_UNLIKELY(sig_overflows(sigs))) {
            s->slow |= 1u << k;
        }
    }
}

/* Stage B. */
static inline void
stage_load(struct stage *s)
{
    const struct cls_htab *t = s->t;
    FOR_EACH_BIT (k, s->have) {
        const struct cls_node *node = cls_slot_node(
            &t->slots[s->hashes[k] & t->mask], s->slot[k]);
        if (VF_LIKELY(node != NULL)) {
            s->cand[k] = node;
            VF_PREFETCH(node);
            VF_PREFETCH((const char *) node->words + s->st->n_words * 8 - 1);
        } else {
            s->have &= ~(1u << k);
            s->slow |= 1u << k;
        }
    }
}

static inline void
improve(struct group *g, uint32_t k, const struct cls_node *node)
{
    if (node && node->rank > g->best[k]) {
        g->best[k] = node->rank;
        g->found[k] = node;
    }
}

/* Stage C. */
static VF_ALWAYS_INLINE void
stage_verify_n(struct stage *s, struct group *g, int n)
{
    FOR_EACH_BIT (k, s->have) {
        if (matches_n(s->st, s->cand[k], g->keys[k], n)) {
            improve(g, k, s->cand[k]);
        } else {
            s->slow |= 1u << k;
        }
    }
    FOR_EACH_BIT (k, s->slow) {
        improve(g, k, cls_subtable_find(s->st, s->t, s->hashes[k],
                                        g->keys[k]));
    }
}

#define SPECIALIZE(N)                                                       \
    static void stage_probe_##N(struct stage *s,                            \
                                const struct cls_subtable *st,              \
                                const struct flow_key *const keys[],        \
                                uint32_t live)                              \
    {                                                                       \
        stage_probe_n(s, st, keys, live, N);                                \
    }                                                                       \
    static void stage_verify_##N(struct stage *s, struct group *g)          \
    {                                                                       \
        stage_verify_n(s, g, N);                                            \
    }
SPECIALIZE(1)
SPECIALIZE(2)
SPECIALIZE(3)
SPECIALIZE(4)
SPECIALIZE(5)
SPECIALIZE(6)
SPECIALIZE(7)
SPECIALIZE(8)

static void
stage_probe_generic(struct stage *s, const struct cls_subtable *st,
                    const struct flow_key *const keys[], uint32_t live)
{
    stage_probe_n(s, st, keys, live, st->n_words);
}

static void
stage_verify_generic(struct stage *s, struct group *g)
{
    stage_verify_n(s, g, s->st->n_words);
}

static const struct cls_lookup_impl IMPLS[] = {
    {stage_probe_generic, stage_verify_generic},
    {stage_probe_1, stage_verify_1}, {stage_probe_2, stage_verify_2},
    {stage_probe_3, stage_verify_3}, {stage_probe_4, stage_verify_4},
    {stage_probe_5, stage_verify_5}, {stage_probe_6, stage_verify_6},
    {stage_probe_7, stage_verify_7}, {stage_probe_8, stage_verify_8},
};

const struct cls_lookup_impl *
cls_lookup_impl_select(unsigned int n_words, bool generic)
{
    return &IMPLS[generic || n_words >= VF_ARRAY_SIZE(IMPLS) ? 0 : n_words];
}

static size_t
lookup_group(const struct cls_pvec *pv, const struct flow_key *const keys[],
             uint32_t n, const struct cls_rule *results[])
{
    struct group g;
    struct stage stages[3];
    uint32_t live = n == 32 ? UINT32_MAX : (1u << n) - 1;
    uint32_t started = 0;

    g.keys = keys;
    memset(g.best, 0, n * sizeof g.best[0]);
    for (uint32_t i = 0; i < started + 2; i++) {
        if (i == started && i < pv->n && live) {
            uint64_t max_rank = pv->e[i].max_rank;
            FOR_EACH_BIT (k, live) {
                if (g.best[k] >= max_rank) {
                    live &= ~(1u << k);
                }
            }
            if (live) {
                const struct cls_subtable *st = pv->e[i].st;
                st->impl->probe(&stages[i % 3], st, keys, live);
                started++;
            }
        }
        if (i >= 1 && i - 1 < started) {
            stage_load(&stages[(i - 1) % 3]);
        }
        if (i >= 2 && i - 2 < started) {
            struct stage *s = &stages[(i - 2) % 3];
            s->st->impl->verify(s, &g);
        }
    }
    size_t hits = 0;
    for (uint32_t k = 0; k < n; k++) {
        if (g.best[k]) {
            results[k] = &g.found[k]->head->up;
            VF_PREFETCH(results[k]);
            hits++;
        } else {
            results[k] = NULL;
        }
    }
    return hits;
}

size_t
cls_lookup_batch(const struct cls *cls, unsigned int table,
                 const struct flow_key *const keys[], size_t n,
                 const struct cls_rule *results[])
{
    if (VF_UNLIKELY(table >= cls->n_tables)) {
        for (size_t i = 0; i < n; i++) {
            results[i] = NULL;
        }
        return 0;
    }
    const struct cls_pvec *pv = pvec_get(cls, table);
    size_t hits = 0;
    for (size_t ofs = 0; ofs < n; ofs += CLS_BATCH) {
        uint32_t group = (uint32_t) VF_MIN(n - ofs, (size_t) CLS_BATCH);
        hits += lookup_group(pv, keys + ofs, group, results + ofs);
    }
    return hits;
}
