/* SPDX-License-Identifier: Apache-2.0 */
/* SPSC ring: theory in ring.h.  Ordering: the producer writes the record,
 * then publishes head with release; the consumer loads head with acquire
 * before reading the record, and publishes tail with release after copying
 * it out, which the producer acquires before reusing the slot. */
#include "util/ring.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct vf_ring *
vf_ring_create(uint32_t capacity, uint32_t rec_size)
{
    if (!capacity || !rec_size || capacity > (1u << 30)) {
        errno = EINVAL;
        return NULL;
    }
    uint32_t cap = 1;
    while (cap < capacity) {
        cap <<= 1;
    }
    struct vf_ring *ring = aligned_alloc(VF_CACHE_LINE,
                                         VF_ROUND_UP(sizeof *ring,
                                                     VF_CACHE_LINE));
    if (!ring) {
        errno = ENOMEM;
        return NULL;
    }
    memset(ring, 0, sizeof *ring);
    ring->recs = calloc(cap, rec_size);
    if (!ring->recs) {
        free(ring);
        errno = ENOMEM;
        return NULL;
    }
    ring->mask = cap - 1;
    ring->rec_size = rec_size;
    return ring;
}

void
vf_ring_destroy(struct vf_ring *ring)
{
    if (ring) {
        free(ring->recs);
        free(ring);
    }
}

bool
vf_ring_put(struct vf_ring *ring, const void *rec)
{
    uint32_t head = atomic_load_explicit(&ring->head, memory_order_relaxed);
    uint32_t tail = atomic_load_explicit(&ring->tail, memory_order_acquire);
    if (head - tail > ring->mask) {
        ring->n_dropped++;
        return false;
    }
    memcpy(ring->recs + (size_t) (head & ring->mask) * ring->rec_size, rec,
           ring->rec_size);
    atomic_store_explicit(&ring->head, head + 1, memory_order_release);
    return true;
}

bool
vf_ring_get(struct vf_ring *ring, void *rec)
{
    uint32_t tail = atomic_load_explicit(&ring->tail, memory_order_relaxed);
    uint32_t head = atomic_load_explicit(&ring->head, memory_order_acquire);
    if (head == tail) {
        return false;
    }
    memcpy(rec, ring->recs + (size_t) (tail & ring->mask) * ring->rec_size,
           ring->rec_size);
    atomic_store_explicit(&ring->tail, tail + 1, memory_order_release);
    return true;
}

uint32_t
vf_ring_count(const struct vf_ring *ring)
{
    return atomic_load_explicit(&((struct vf_ring *) ring)->head,
                                memory_order_acquire)
           - atomic_load_explicit(&((struct vf_ring *) ring)->tail,
                                  memory_order_acquire);
}

uint32_t
vf_ring_dropped(const struct vf_ring *ring)
{
    return ring->n_dropped;
}
