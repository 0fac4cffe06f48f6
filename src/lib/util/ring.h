/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VFAB_UTIL_RING_H
#define VFAB_UTIL_RING_H 1

/* A single-producer single-consumer ring of fixed-size records.
 *
 * Used wherever one thread hands small messages to another without locks:
 * datapath -> agent (MAC learning events, upcalls), between the two ends of
 * a patch port.  The producer and the consumer each own one index, on its
 * own cache line; records are copied in and out (no pointers to the ring's
 * memory escape), so there is no lifetime to manage.
 *
 * Index ranges: 'head' (producer) and 'tail' (consumer) run freely over
 * uint32_t; head - tail is the number of records in the ring, always
 * <= capacity (a power of two).  A full ring refuses the record and counts
 * it in 'n_dropped' (producer side): a datapath thread never waits. */

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/compiler.h"

struct vf_ring {
    /* Producer side. */
    _Atomic uint32_t head VF_CACHE_ALIGNED;   /* prod: next slot to write. */
    uint32_t n_dropped;                        /* prod */
    /* Consumer side. */
    _Atomic uint32_t tail VF_CACHE_ALIGNED;   /* cons: next slot to read. */
    /* Shared, const after creation. */
    uint32_t mask VF_CACHE_ALIGNED;            /* const: capacity - 1. */
    uint32_t rec_size;                         /* const */
    uint8_t *recs;                             /* const */
};

/* Creates a ring of 'capacity' (rounded up to a power of two) records of
 * 'rec_size' bytes.  NULL with errno on failure. */
struct vf_ring *vf_ring_create(uint32_t capacity, uint32_t rec_size);

/* Frees 'ring'; NULL is a no-op. */
void vf_ring_destroy(struct vf_ring *ring);

/* Producer: copies 'rec' in.  Returns false (and counts a drop) if full. */
bool vf_ring_put(struct vf_ring *ring, const void *rec);

/* Consumer: copies the oldest record to 'rec'.  Returns false if empty. */
bool vf_ring_get(struct vf_ring *ring, void *rec);

/* Records waiting (approximate from either side). */
uint32_t vf_ring_count(const struct vf_ring *ring);

/* Producer-side drop counter (read by anyone, approximate). */
uint32_t vf_ring_dropped(const struct vf_ring *ring);

#endif /* util/ring.h */
