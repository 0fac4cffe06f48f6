/* SPDX-License-Identifier: Apache-2.0 */
/* Concurrent hash map: theory of operation.
 *
 * Table: 2^k slots of {node pointer, hash}.  A slot is EMPTY (NULL),
 * DELETED (a tombstone, so probe sequences through it stay intact) or
 * holds a node.  Lookups probe linearly from hash & mask until an EMPTY
 * slot; at most 'mask + 1' slots.
 *
 * Publication order (single writer):
 *   insert:  slot.hash = h; store-release(slot.ptr, node)
 *   remove:  store-release(slot.ptr, DELETED)
 *   reader:  p = load-acquire(slot.ptr); if p is a node, slot.hash is the
 *            one written before p (release/acquire pairing).
 * A reused tombstone is overwritten in the same order, so a reader sees
 * either the tombstone (skips) or the new node with its own hash.
 *
 * Growth: when nodes + tombstones exceed 3/4 of the slots, or nodes fall
 * under 1/8 (shrink), the writer builds a new table holding every live
 * node, publishes it with one release store, and frees the old table after
 * an RCU grace period.  Readers that started on the old table finish on it
 * and see every node that was stable during their walk.
 *
 * Constants: 3/4 load keeps expected probes of a successful lookup near
 * 2.5 slots (Knuth 6.4), i.e. one or two cache lines. */
#include "util/cmap.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "util/rcu.h"

#define CMAP_DELETED ((void *) 1)
#define CMAP_MIN_SLOTS 16u

struct cmap_slot {
    void *_Atomic ptr;
    uint32_t hash;
};

struct cmap_impl {
    uint32_t mask;               /* Slots - 1. */
    uint32_t n;                  /* Live nodes. */
    uint32_t n_deleted;          /* Tombstones. */
    struct rcu_head rcu;
    struct cmap_slot slots[];
};

static struct cmap_impl *
impl_create(uint32_t n_slots)
{
    struct cmap_impl *impl = calloc(1, sizeof *impl
                                           + n_slots * sizeof impl->slots[0]);
    if (impl) {
        impl->mask = n_slots - 1;
    }
    return impl;
}

static void
impl_free_rcu(struct rcu_head *head)
{
    free(VF_CONTAINER_OF(head, struct cmap_impl, rcu));
}

static inline struct cmap_impl *
map_impl(const struct cmap *map)
{
    return atomic_load_explicit(&((struct cmap *) map)->impl,
                                memory_order_acquire);
}

void
cmap_init(struct cmap *map)
{
    atomic_init(&map->impl, NULL);
}

void
cmap_destroy(struct cmap *map)
{
    if (map) {
        free(map_impl(map));
        atomic_store(&map->impl, NULL);
    }
}

size_t
cmap_count(const struct cmap *map)
{
    const struct cmap_impl *impl = map_impl(map);
    return impl ? impl->n : 0;
}

/* Puts 'node' into a table no reader can see yet, or into the live table
 * following the publication order. */
static void
impl_put(struct cmap_impl *impl, void *node, uint32_t hash)
{
    uint32_t i = hash & impl->mask;
    for (;;) {
        struct cmap_slot *s = &impl->slots[i];
        void *p = atomic_load_explicit(&s->ptr, memory_order_relaxed);
        if (p == NULL || p == CMAP_DELETED) {
            if (p == CMAP_DELETED) {
                impl->n_deleted--;
            }
            s->hash = hash;
            atomic_store_explicit(&s->ptr, node, memory_order_release);
            impl->n++;
            return;
        }
        i = (i + 1) & impl->mask;
    }
}

static int
map_rebuild(struct cmap *map, uint32_t n_slots)
{
    struct cmap_impl *old = map_impl(map);
    struct cmap_impl *new_ = impl_create(n_slots);
    if (!new_) {
        return -ENOMEM;
    }
    if (old) {
        for (uint32_t i = 0; i <= old->mask; i++) {
            void *p = atomic_load_explicit(&old->slots[i].ptr,
                                           memory_order_relaxed);
            if (p && p != CMAP_DELETED) {
                impl_put(new_, p, old->slots[i].hash);
            }
        }
    }
    atomic_store_explicit(&map->impl, new_, memory_order_release);
    if (old) {
        vf_rcu_call(&old->rcu, impl_free_rcu);
    }
    return 0;
}

static uint32_t
slots_for(uint32_t n)
{
    uint32_t slots = CMAP_MIN_SLOTS;
    while (slots / 4 * 3 < n + 1) {
        slots *= 2;
    }
    return slots * 2 > slots ? slots * 2 : slots;   /* Room to grow. */
}

int
cmap_insert(struct cmap *map, void *node, uint32_t hash)
{
    struct cmap_impl *impl = map_impl(map);
    if (!impl || (impl->n + impl->n_deleted + 1) > (impl->mask + 1) / 4 * 3) {
        uint32_t n = impl ? impl->n : 0;
        int rc = map_rebuild(map, slots_for(n + 1));
        if (rc) {
            return rc;
        }
        impl = map_impl(map);
    }
    impl_put(impl, node, hash);
    return 0;
}

static struct cmap_slot *
impl_locate(struct cmap_impl *impl, const void *node, uint32_t hash)
{
    if (!impl) {
        return NULL;
    }
    uint32_t i = hash & impl->mask;
    for (uint32_t n = 0; n <= impl->mask; n++) {
        struct cmap_slot *s = &impl->slots[i];
        void *p = atomic_load_explicit(&s->ptr, memory_order_relaxed);
        if (p == NULL) {
            return NULL;
        }
        if (p == node) {
            return s;
        }
        i = (i + 1) & impl->mask;
    }
    return NULL;
}

bool
cmap_remove(struct cmap *map, void *node, uint32_t hash)
{
    struct cmap_impl *impl = map_impl(map);
    struct cmap_slot *s = impl_locate(impl, node, hash);
    if (!s) {
        return false;
    }
    atomic_store_explicit(&s->ptr, CMAP_DELETED, memory_order_release);
    impl->n--;
    impl->n_deleted++;
    uint32_t slots = impl->mask + 1;
    if (impl->n_deleted > slots / 4
        || (slots > CMAP_MIN_SLOTS && impl->n < slots / 8)) {
        /* Best effort: on allocation failure the old table stays valid. */
        map_rebuild(map, slots_for(impl->n));
    }
    return true;
}

bool
cmap_replace(struct cmap *map, void *old, void *new_, uint32_t hash)
{
    struct cmap_slot *s = impl_locate(map_impl(map), old, hash);
    if (!s) {
        return false;
    }
    atomic_store_explicit(&s->ptr, new_, memory_order_release);
    return true;
}

struct cmap_cursor
cmap_find(const struct cmap *map, uint32_t hash)
{
    const struct cmap_impl *impl = map_impl(map);
    struct cmap_cursor c = {impl, hash, 0, 0, false};
    if (impl) {
        c.idx = hash & impl->mask;
        c.left = impl->mask + 1;
    }
    return c;
}

void *
cmap_next(struct cmap_cursor *c)
{
    const struct cmap_impl *impl = c->impl;
    while (c->left) {
        const struct cmap_slot *s = &impl->slots[c->idx];
        void *p = atomic_load_explicit(&((struct cmap_slot *) s)->ptr,
                                       memory_order_acquire);
        c->idx = (c->idx + 1) & impl->mask;
        c->left--;
        if (c->all) {
            if (p && p != CMAP_DELETED) {
                return p;
            }
            continue;
        }
        if (p == NULL) {
            c->left = 0;
            return NULL;
        }
        if (p != CMAP_DELETED && s->hash == c->hash) {
            return p;
        }
    }
    return NULL;
}

void
cmap_prefetch(const struct cmap *map, uint32_t hash)
{
    const struct cmap_impl *impl = map_impl(map);
    if (impl) {
        VF_PREFETCH(&impl->slots[hash & impl->mask]);
    }
}

struct cmap_cursor
cmap_walk(const struct cmap *map)
{
    const struct cmap_impl *impl = map_impl(map);
    struct cmap_cursor c = {impl, 0, 0, impl ? impl->mask + 1 : 0, true};
    return c;
}

void *
cmap_sample(const struct cmap *map, uint32_t r)
{
    const struct cmap_impl *impl = map_impl(map);
    if (!impl || !impl->n) {
        return NULL;
    }
    for (uint32_t i = 0; i <= impl->mask; i++) {
        uint32_t idx = (r + i) & impl->mask;
        void *p = atomic_load_explicit(
            &((struct cmap_impl *) impl)->slots[idx].ptr,
            memory_order_acquire);
        if (p && p != CMAP_DELETED) {
            return p;
        }
    }
    return NULL;
}
