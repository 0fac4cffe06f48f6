/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VFAB_POLICY_MODEL_HASH_H
#define VFAB_POLICY_MODEL_HASH_H 1

/* A chained, intrusive, single-threaded hash index (private to the policy
 * part: the logical model's name, VNI, MAC and address indexes).
 *
 * The model lives in one thread (vfab-policyd's main loop), so this needs
 * neither RCU nor atomics; util/cmap.h would work but drags RCU into every
 * user of the model (the fuzzer, vfabctl-side tests).  Nodes are embedded in
 * the objects they index; the index never allocates them.  Buckets double
 * when the load passes 1 and never shrink below MODEL_HASH_MIN. */

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "util/buf.h"

struct model_hnode {
    struct model_hnode *next;
    uint32_t hash;
};

struct model_hash {
    struct model_hnode **buckets;
    size_t mask;                 /* Buckets - 1. */
    size_t n;                    /* Nodes. */
};

#define MODEL_HASH_MIN 16

static inline void
model_hash_init(struct model_hash *h)
{
    h->buckets = vf_xcalloc(MODEL_HASH_MIN, sizeof *h->buckets);
    h->mask = MODEL_HASH_MIN - 1;
    h->n = 0;
}

static inline void
model_hash_destroy(struct model_hash *h)
{
    free(h->buckets);
    h->buckets = NULL;
    h->n = 0;
}

static inline void
model_hash_grow__(struct model_hash *h)
{
    size_t n_buckets = (h->mask + 1) * 2;
    struct model_hnode **b = vf_xcalloc(n_buckets, sizeof *b);
    for (size_t i = 0; i <= h->mask; i++) {
        struct model_hnode *node = h->buckets[i];
        while (node) {
            struct model_hnode *next = node->next;
            size_t j = node->hash & (n_buckets - 1);
            node->next = b[j];
            b[j] = node;
            node = next;
        }
    }
    free(h->buckets);
    h->buckets = b;
    h->mask = n_buckets - 1;
}

static inline void
model_hash_insert(struct model_hash *h, struct model_hnode *node,
                  uint32_t hash)
{
    if (h->n >= h->mask + 1) {
        model_hash_grow__(h);
    }
    node->hash = hash;
    struct model_hnode **b = &h->buckets[hash & h->mask];
    node->next = *b;
    *b = node;
    h->n++;
}

/* Removes 'node', which must be in 'h'. */
static inline void
model_hash_remove(struct model_hash *h, struct model_hnode *node)
{
    struct model_hnode **p = &h->buckets[node->hash & h->mask];
    while (*p != node) {
        p = &(*p)->next;
    }
    *p = node->next;
    h->n--;
}

/* First node of the chain that may hold 'hash' (check node->hash). */
static inline struct model_hnode *
model_hash_bucket(const struct model_hash *h, uint32_t hash)
{
    return h->buckets[hash & h->mask];
}

/* Iterates NODE (a pointer to the containing type, whose embedded node is
 * MEMBER) over the nodes of MAP with HASH. */
#define MODEL_HASH_FOR_EACH_WITH_HASH(NODE, MEMBER, HASH, MAP)            \
    for (struct model_hnode *hn__ = model_hash_bucket(MAP, HASH); hn__;  \
         hn__ = hn__->next)                                              \
        if (hn__->hash == (HASH)                                         \
            && ((NODE) = VF_CONTAINER_OF(hn__, __typeof__(*(NODE)),      \
                                         MEMBER), 1))

/* Iterates over every node of MAP (no insertion or removal meanwhile). */
#define MODEL_HASH_FOR_EACH(NODE, MEMBER, MAP)                            \
    for (size_t hb__ = 0; hb__ <= (MAP)->mask; hb__++)                   \
        for (struct model_hnode *hn__ = (MAP)->buckets[hb__]; hn__;      \
             hn__ = hn__->next)                                          \
            if (((NODE) = VF_CONTAINER_OF(hn__, __typeof__(*(NODE)),     \
                                          MEMBER), 1))

#endif /* policy/model-hash.h */
