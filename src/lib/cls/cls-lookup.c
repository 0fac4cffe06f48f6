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
 * Small subtables (fewer than CLS_DIRECT_BUCKETS buckets) skip the
 * pipeline: each live key goes through all stages at once ("direct").
 *
 * Specialisation (STYLE.md P10): the hash and the comparison loop over
 * the subtable's mask words; for masks of 1..8 words the stages are
 * compiled with the count as a constant (unrolled), other masks take the
 * generic loop.  struct cls_config's 'generic_lookup' forces the generic
 * code and 'pipeline_always' the pipeline; the tests run the differential
 * check every way. */
#include "cls/cls-private.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#define FOR_EACH_BIT(IDX, MAP)                                              \
    for (uint32_t IDX##_map__ = (MAP), IDX;                                 \
         IDX##_map__ && ((IDX) = (uint32_t) __builtin_ctz(IDX##_map__), 1); \
         IDX##_map__ &= IDX##_map__ - 1)

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

/* A subtable's mask in locals: the build disables strict aliasing, so
 * without these copies every store into a stage would make the compiler
 * reload the mask words for the next key. */
struct mask_regs {
    uint64_t mask[8];
    uint8_t idx[8];
    uint32_t basis;
    uint64_t mul;
};

static VF_ALWAYS_INLINE void
mask_regs_load(struct mask_regs *r, const struct cls_subtable *st, int n)
{
    for (int i = 0; i < n && i < 8; i++) {
        r->mask[i] = st->mask[i];
        r->idx[i] = st->idx[i];
    }
    r->basis = st->basis;
    r->mul = st->mul;
}

static VF_ALWAYS_INLINE uint32_t
hash_n(const struct cls_subtable *st, const struct mask_regs *r,
       const struct flow_key *key, int n)
{
    const uint64_t *w = flow_key_words(key);
    uint32_t h = r->basis;
    for (int i = 0; i < n; i++) {
        uint64_t m = i < 8 ? r->mask[i] : st->mask[i];
        uint8_t x = i < 8 ? r->idx[i] : st->idx[i];
        h = cls_hash_step(h, (w[x] & m) * r->mul);
    }
    return cls_hash_final(h);
}

static VF_ALWAYS_INLINE bool
matches_n(const struct cls_subtable *st, const struct mask_regs *r,
          const struct cls_node *node, const struct flow_key *key, int n)
{
    const uint64_t *w = flow_key_words(key);
    uint64_t diff = 0;
    for (int i = 0; i < n; i++) {
        uint64_t m = i < 8 ? r->mask[i] : st->mask[i];
        uint8_t x = i < 8 ? r->idx[i] : st->idx[i];
        diff |= (w[x] & m) ^ node->words[i];
    }
    return !diff;
}

/* Stage A. */
static VF_ALWAYS_INLINE void
stage_probe_n(struct stage *s, const struct cls_subtable *st,
              const struct flow_key *const keys[], uint32_t live, int n)
{
    const struct cls_htab *t = cls_st_htab(st);
    const struct cls_sigs *sigs_base = t->sigs;
    uint32_t tmask = t->mask;
    struct mask_regs r;
    uint32_t have = 0, slow = 0;

    mask_regs_load(&r, st, n);
    s->st = st;
    s->t = t;
    FOR_EACH_BIT (k, live) {
        uint32_t h = hash_n(st, &r, keys[k], n);
        s->hashes[k] = h;
        VF_PREFETCH(&sigs_base[h & tmask]);
    }
    FOR_EACH_BIT (k, live) {
        uint32_t h = s->hashes[k];
        const struct cls_sigs *sigs = &sigs_base[h & tmask];
        uint32_t m = sig_match(sigs, cls_sig(h));
        if (m) {
            uint32_t slot = (uint32_t) __builtin_ctz(m);
            s->slot[k] = (uint8_t) slot;
            have |= 1u << k;
            VF_PREFETCH(&t->slots[h & tmask].node[slot]);
        } else if (VF_UNLIKELY(sig_overflows(sigs))) {
            slow |= 1u << k;
        }
    }
    s->have = have;
    s->slow = slow;
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
    struct mask_regs r;
    mask_regs_load(&r, s->st, n);
    FOR_EACH_BIT (k, s->have) {
        if (matches_n(s->st, &r, s->cand[k], g->keys[k], n)) {
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

/* All stages at once, key by key, for a small subtable. */
static VF_ALWAYS_INLINE void
stage_direct_n(const struct cls_subtable *st, const struct cls_htab *t,
               struct group *g, uint32_t live, int n)
{
    struct mask_regs r;
    mask_regs_load(&r, st, n);
    FOR_EACH_BIT (k, live) {
        uint32_t h = hash_n(st, &r, g->keys[k], n);
        uint16_t sig = cls_sig(h);
        uint32_t b = h & t->mask;
        for (uint32_t left = t->mask + 1; left; left--) {
            const struct cls_node *node = NULL;
            FOR_EACH_BIT (i, sig_match(&t->sigs[b], sig)) {
                const struct cls_node *c = cls_slot_node(&t->slots[b],
                                                         (int) i);
                if (c && matches_n(st, &r, c, g->keys[k], n)) {
                    node = c;
                    break;
                }
            }
            if (node) {
                improve(g, k, node);
                break;
            }
            if (!sig_overflows(&t->sigs[b])) {
                break;
            }
            b = (b + 1) & t->mask;
        }
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
    }                                                                       \
    static void stage_direct_##N(const struct cls_subtable *st,             \
                                 const struct cls_htab *t, struct group *g, \
                                 uint32_t live)                             \
    {                                                                       \
        stage_direct_n(st, t, g, live, N);                                  \
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

static void
stage_direct_generic(const struct cls_subtable *st, const struct cls_htab *t,
                     struct group *g, uint32_t live)
{
    stage_direct_n(st, t, g, live, st->n_words);
}

#define IMPL(N) {stage_probe_##N, stage_verify_##N, stage_direct_##N}
static const struct cls_lookup_impl IMPLS[] = {
    IMPL(generic), IMPL(1), IMPL(2), IMPL(3), IMPL(4), IMPL(5), IMPL(6),
    IMPL(7), IMPL(8),
};

const struct cls_lookup_impl *
cls_lookup_impl_select(unsigned int n_words, bool generic)
{
    return &IMPLS[generic || n_words >= VF_ARRAY_SIZE(IMPLS) ? 0 : n_words];
}

static size_t
lookup_group(const struct cls_pvec *pv, uint32_t direct_buckets,
             const struct flow_key *const keys[], uint32_t n,
             const struct cls_rule *results[])
{
    struct group g;
    struct stage stages[3];
    struct stage *pb = NULL;             /* Probed, to load. */
    struct stage *pc = NULL;             /* Loaded, to verify. */
    uint32_t live = n == 32 ? UINT32_MAX : (1u << n) - 1;

    g.keys = keys;
    memset(g.best, 0, n * sizeof g.best[0]);
    for (uint32_t i = 0; i < pv->n; i++) {
        uint64_t max_rank = pv->e[i].max_rank;
        FOR_EACH_BIT (k, live) {
            if (g.best[k] >= max_rank) {
                live &= ~(1u << k);
            }
        }
        if (!live) {
            break;
        }
        const struct cls_subtable *st = pv->e[i].st;
        const struct cls_htab *t = cls_st_htab(st);
        if (t->mask < direct_buckets) {
            /* Small enough to stay in the L1/L2 caches: nothing to
             * prefetch, so no pipeline either. */
            st->impl->direct(st, t, &g, live);
            continue;
        }
        struct stage *s = &stages[0];
        while (s == pb || s == pc) {
            s++;
        }
        st->impl->probe(s, st, keys, live);
        if (pc) {
            pc->st->impl->verify(pc, &g);
        }
        if (pb) {
            stage_load(pb);
        }
        pc = pb;
        pb = s;
    }
    if (pc) {
        pc->st->impl->verify(pc, &g);
    }
    if (pb) {
        stage_load(pb);
        pb->st->impl->verify(pb, &g);
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
        hits += lookup_group(pv, cls->direct_buckets, keys + ofs, group,
                             results + ofs);
    }
    return hits;
}
