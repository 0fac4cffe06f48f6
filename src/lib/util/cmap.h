/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VFAB_UTIL_CMAP_H
#define VFAB_UTIL_CMAP_H 1

/* A concurrent hash map: one writer, any number of lock-free readers.
 *
 * The map stores pointers to caller-owned nodes with their 32-bit hashes in
 * an open-addressing table (linear probing).  Readers (inside an RCU
 * read-side section, util/rcu.h) walk the probe sequence of a hash and see
 * every node that was in the map for the whole of their walk; a node
 * inserted or removed during the walk may or may not be seen.  A resize
 * builds a complete new table and publishes it with one pointer store, so a
 * reader never misses a stable node because of a resize.
 *
 * Ownership: the map never allocates or frees nodes.  After cmap_remove()
 * (or cmap_replace()) readers may still hold the old node until a grace
 * period ends: free it with vf_rcu_call().
 *
 * Threads: cmap_insert/remove/replace/destroy from the single writer (the
 * control thread, or the one thread that owns a private map); lookups from
 * any registered thread under vf_rcu_read_lock(), or from the writer.
 *
 *     struct cmap_cursor c = cmap_find(&map, hash);
 *     for (struct node *n; (n = cmap_next(&c)); ) {
 *         if (node_matches(n, key)) { ... }
 *     }
 */

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/compiler.h"

struct cmap_impl;

struct cmap {
    struct cmap_impl *_Atomic impl;   /* ctl: readers load with acquire. */
};

struct cmap_cursor {
    const struct cmap_impl *impl; /* The table the walk started on. */
    uint32_t hash;
    uint32_t idx;                 /* Next slot to look at. */
    uint32_t left;                /* Slots left in the walk. */
    bool all;                     /* Every node, not one hash. */
};

/* Initialises an empty map (allocates nothing). */
void cmap_init(struct cmap *map);

/* Frees the map's table (not the nodes).  Readers must be gone. */
void cmap_destroy(struct cmap *map);

/* Number of nodes. */
size_t cmap_count(const struct cmap *map);

/* Inserts 'node' with 'hash'.  Duplicates (same node twice) are the
 * caller's bug.  Returns 0 or -ENOMEM (map unchanged).  Writer only. */
int cmap_insert(struct cmap *map, void *node, uint32_t hash);

/* Removes 'node' inserted with 'hash'.  Returns true if it was there.
 * Writer only. */
bool cmap_remove(struct cmap *map, void *node, uint32_t hash);

/* Replaces 'old' by 'new_' (same hash) in one atomic store: readers see one
 * or the other, never neither.  Returns true if 'old' was there. */
bool cmap_replace(struct cmap *map, void *old, void *new_, uint32_t hash);

/* Starts a walk over the nodes whose hash is 'hash'. */
struct cmap_cursor cmap_find(const struct cmap *map, uint32_t hash);

/* Returns the next node of the walk with the cursor's hash, or NULL. */
void *cmap_next(struct cmap_cursor *c);

/* Prefetches the first slots 'hash' would probe (batched lookups). */
void cmap_prefetch(const struct cmap *map, uint32_t hash);

/* Starts a walk over every node (any order), continued with cmap_next().
 * The walk stays on the table it started on, so a reader under RCU sees a
 * consistent set; the writer must not modify the map during its own walk
 * (collect first, then remove). */
struct cmap_cursor cmap_walk(const struct cmap *map);

/* Returns the first node at or after slot 'r' modulo the table size
 * (wrapping), or NULL if the map is empty: a cheap random sample for
 * approximate-LRU eviction.  Same threads as cmap_walk(). */
void *cmap_sample(const struct cmap *map, uint32_t r);

#define CMAP_FOR_EACH(NODE, CURSOR, MAP)                                  \
    for (struct cmap_cursor CURSOR = cmap_walk(MAP);                      \
         ((NODE) = cmap_next(&CURSOR)) != NULL;)

#endif /* util/cmap.h */
