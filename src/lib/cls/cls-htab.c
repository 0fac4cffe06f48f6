/* SPDX-License-Identifier: Apache-2.0 */
/* Subtable hash tables: theory of operation (writer side; readers probe in
 * cls-lookup.c; rules R1-R6 are in cls.c).
 *
 * A subtable maps each distinct masked value to a node (cls-private.h).
 * Its htab has 2^k buckets of CLS_BUCKET_SLOTS slots, split in two arrays:
 *
 *   sigs[b]   16 bytes: a 16-bit signature per slot (hash bits 16-31, low
 *             bit forced to 1 so that 0 means empty) and an overflow flag.
 *   slots[b]  64 bytes: the node pointer of each slot.
 *
 * A key hashes to bucket hash & mask.  A probe reads sigs[b] and compares
 * its 7 signatures at once; only a match reads slots[b] and the node, whose
 * words are then compared with the key.  If sigs[b] says overflow, the
 * probe goes on to bucket b + 1 (linear probing between buckets).
 *
 * Why two arrays.  With many rules, a lookup that visits M subtables reads
 * M signature blocks but only about one slot block and one node (the
 * subtable that matches).  Signatures cost 4 bytes per node (16 bytes for
 * 4 nodes at the maximum load), so the blocks a lookup reads stay in the
 * CPU caches where 64-byte (hash, pointer) buckets would not: 1M rules over
 * 10 masks have ~4 MiB of signatures and ~16 MiB of slots (bench/RESULTS.md).
 *
 * Publication order (single writer, readers under RCU):
 *   fill:    slot.node = node (release); sig = sig(hash) (release)
 *   empty:   sig = 0 (release); slot.node = NULL (release)
 *   replace: slot.node = new node with the same value (release); the
 *            signature does not change (same value, same hash)
 * A reader compares signatures with plain loads and loads the node with
 * acquire; it always compares the node's words, so a stale signature can
 * only cost one comparison and a torn view of a changing slot is never
 * taken for a match.  Overflow flags are set before the node goes into a
 * later bucket and are cleared only by a rebuild, which fills a new htab
 * that no reader can see, publishes it with one release store and frees
 * the old one after a grace period.
 *
 * Sizing.  A table grows (doubles) when it would hold more than
 * HTAB_MAX_LOAD nodes per bucket on average, shrinks when under 1, and is
 * rebuilt in place when a quarter of its buckets gained an overflow flag
 * since the last rebuild (flags outlive the nodes that caused them).  At a
 * load of 4 per 7 slots a Poisson(4) bucket overflows 5% of the time.
 * Arrays of 2 MiB or more ask for transparent huge pages: a lookup's
 * random reads then rarely miss the TLB. */
#include "cls/cls-private.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "util/buf.h"

#define HTAB_MAX_LOAD 4          /* Nodes per bucket before growing. */
#define HUGE_PAGE (2u << 20)

static void *
array_alloc(size_t size)
{
    size_t align = size >= HUGE_PAGE ? HUGE_PAGE : VF_CACHE_LINE;
    size_t alloc = VF_ROUND_UP(size, align);
    void *p = aligned_alloc(align, alloc);
    VF_VERIFY(p);
    if (align == HUGE_PAGE) {
        madvise(p, alloc, MADV_HUGEPAGE);   /* Best effort. */
    }
    memset(p, 0, size);
    return p;
}

struct cls_htab *
cls_htab_create(uint32_t n_buckets)
{
    struct cls_htab *t = vf_xcalloc(1, sizeof *t);
    t->sigs = array_alloc(n_buckets * sizeof *t->sigs);
    t->slots = array_alloc(n_buckets * sizeof *t->slots);
    t->mask = n_buckets - 1;
    return t;
}

void
cls_htab_free(struct cls_htab *t)
{
    if (t) {
        free(t->sigs);
        free(t->slots);
        free(t);
    }
}

static void
htab_free_rcu(struct rcu_head *head)
{
    cls_htab_free(VF_CONTAINER_OF(head, struct cls_htab, rcu));
}

/* Frees every node of 't' (classifier destruction: no readers). */
void
cls_htab_destroy_nodes(struct cls_htab *t)
{
    for (uint32_t b = 0; b <= t->mask; b++) {
        for (int i = 0; i < CLS_BUCKET_SLOTS; i++) {
            free(t->slots[b].node[i]);
        }
    }
}

static uint32_t
buckets_for(uint32_t n_nodes)
{
    uint32_t n = 1;
    while (n * HTAB_MAX_LOAD < n_nodes + 1) {
        n *= 2;
    }
    return n;
}

static void
slot_fill(struct cls_htab *t, uint32_t b, int i, struct cls_node *node)
{
    __atomic_store_n(&t->slots[b].node[i], node, __ATOMIC_RELEASE);
    __atomic_store_n(&t->sigs[b].sig[i], cls_sig(node->hash),
                     __ATOMIC_RELEASE);
}

/* Puts 'node' into a free slot of 't' (there is room: see reserve). */
static void
htab_put(struct cls_htab *t, struct cls_node *node)
{
    uint32_t b = node->hash & t->mask;
    for (;;) {
        for (int i = 0; i < CLS_BUCKET_SLOTS; i++) {
            if (!t->slots[b].node[i]) {
                slot_fill(t, b, i, node);
                t->n_nodes++;
                return;
            }
        }
        if (!t->sigs[b].overflow) {
            __atomic_store_n(&t->sigs[b].overflow, 1, __ATOMIC_RELEASE);
            t->n_overflow++;
        }
        b = (b + 1) & t->mask;
    }
}

/* Rebuilds 'st''s htab with 'n_buckets' buckets and publishes it. */
static void
htab_rebuild(struct cls_subtable *st, uint32_t n_buckets)
{
    struct cls_htab *old = cls_st_htab(st);
    struct cls_htab *t = cls_htab_create(n_buckets);
    for (uint32_t b = 0; b <= old->mask; b++) {
        for (int i = 0; i < CLS_BUCKET_SLOTS; i++) {
            if (old->slots[b].node[i]) {
                htab_put(t, old->slots[b].node[i]);
            }
        }
    }
    t->n_overflow_base = t->n_overflow;
    atomic_store_explicit(&st->htab, t, memory_order_release);
    vf_rcu_call(&old->rcu, htab_free_rcu);
}

void
cls_htab_reserve(struct cls_subtable *st)
{
    struct cls_htab *t = cls_st_htab(st);
    uint32_t n_buckets = t->mask + 1;
    if (t->n_nodes + 1 > n_buckets * HTAB_MAX_LOAD) {
        htab_rebuild(st, n_buckets * 2);
    } else if (t->n_overflow > t->n_overflow_base + n_buckets / 4) {
        htab_rebuild(st, n_buckets);
    }
}

void
cls_htab_trim(struct cls_subtable *st)
{
    struct cls_htab *t = cls_st_htab(st);
    if (t->mask > 0 && t->n_nodes < t->mask + 1) {
        htab_rebuild(st, buckets_for(t->n_nodes));
    }
}

/* Finds the bucket and slot of 'node' in 't'. */
static bool
htab_locate(const struct cls_htab *t, const struct cls_node *node,
            uint32_t *bp, int *ip)
{
    uint32_t b = node->hash & t->mask;
    for (uint32_t n = 0; n <= t->mask; n++) {
        for (int i = 0; i < CLS_BUCKET_SLOTS; i++) {
            if (t->slots[b].node[i] == node) {
                *bp = b;
                *ip = i;
                return true;
            }
        }
        if (!t->sigs[b].overflow) {
            break;
        }
        b = (b + 1) & t->mask;
    }
    return false;
}

struct cls_node *
cls_htab_find_words(const struct cls_subtable *st, const uint64_t *words,
                    uint32_t hash)
{
    const struct cls_htab *t = cls_st_htab(st);
    uint32_t b = hash & t->mask;
    for (uint32_t n = 0; n <= t->mask; n++) {
        for (int i = 0; i < CLS_BUCKET_SLOTS; i++) {
            struct cls_node *node = t->slots[b].node[i];
            if (node && node->hash == hash
                && !memcmp(node->words, words, st->n_words * 8)) {
                return node;
            }
        }
        if (!t->sigs[b].overflow) {
            break;
        }
        b = (b + 1) & t->mask;
    }
    return NULL;
}

static void
node_free_rcu(struct rcu_head *head)
{
    free(VF_CONTAINER_OF(head, struct cls_node, rcu));
}

void
cls_htab_publish(struct cls_subtable *st, struct cls_node *old,
                 const struct cls_rule_priv *head, uint32_t hash)
{
    struct cls_node *node = vf_xmalloc(sizeof *node + st->n_words * 8);
    node->rank = head->rank;
    node->head = head;
    node->hash = hash;
    memcpy(node->words, head->words, st->n_words * 8);
    struct cls_htab *t = cls_st_htab(st);
    if (!old) {
        htab_put(t, node);
        return;
    }
    uint32_t b;
    int i;
    VF_VERIFY(htab_locate(t, old, &b, &i));
    __atomic_store_n(&t->slots[b].node[i], node, __ATOMIC_RELEASE);
    vf_rcu_call(&old->rcu, node_free_rcu);
}

void
cls_htab_retire(struct cls_subtable *st, struct cls_node *old)
{
    struct cls_htab *t = cls_st_htab(st);
    uint32_t b;
    int i;
    VF_VERIFY(htab_locate(t, old, &b, &i));
    __atomic_store_n(&t->sigs[b].sig[i], 0, __ATOMIC_RELEASE);
    __atomic_store_n(&t->slots[b].node[i], NULL, __ATOMIC_RELEASE);
    t->n_nodes--;
    vf_rcu_call(&old->rcu, node_free_rcu);
}
