/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VFAB_PKT_PKT_BATCH_H
#define VFAB_PKT_PKT_BATCH_H 1

/* A batch: up to PKT_BATCH_MAX packets moving through a stage together
 * (DESIGN.md "batch"; STYLE.md P9).
 *
 * The batch records each packet's generation when it is added.  At every
 * hand-off between stages, pkt_batch_verify() checks in debug and sanitizer
 * builds that no packet in the batch has been freed or recycled behind the
 * stage's back (the seeds' page-mapping cookie); release builds skip it.
 * A batch never owns more than its packets: it is a plain array, usually on
 * the datapath thread's stack. */

#include <stdint.h>

#include "pkt/pkt.h"
#include "util/compiler.h"

#define PKT_BATCH_MAX 32

struct pkt_batch {
    uint32_t count;
    struct pkt *pkts[PKT_BATCH_MAX];
    uint32_t gens[PKT_BATCH_MAX];
};

static inline void
pkt_batch_init(struct pkt_batch *b)
{
    b->count = 0;
}

static inline bool
pkt_batch_is_full(const struct pkt_batch *b)
{
    return b->count >= PKT_BATCH_MAX;
}

/* Adds 'p' to 'b', which must not be full.  The batch takes the reference
 * the caller held. */
static inline void
pkt_batch_add(struct pkt_batch *b, struct pkt *p)
{
    b->gens[b->count] = p->gen;
    b->pkts[b->count++] = p;
}

/* Records the generations of pkts[0..count) after a bulk fill. */
static inline void
pkt_batch_stamp(struct pkt_batch *b)
{
    for (uint32_t i = 0; i < b->count; i++) {
        b->gens[i] = b->pkts[i]->gen;
    }
}

/* Aborts, naming the stage, if any packet of 'b' is stale.  A no-op unless
 * VFAB_DEBUG_CHECKS is defined. */
void pkt_batch_verify__(const struct pkt_batch *b, const char *stage);

static inline void
pkt_batch_verify(const struct pkt_batch *b, const char *stage)
{
#ifdef VFAB_DEBUG_CHECKS
    pkt_batch_verify__(b, stage);
#else
    (void) b;
    (void) stage;
#endif
}

#define PKT_BATCH_FOR_EACH(I, P, B)                                       \
    for (uint32_t I = 0; I < (B)->count && ((P) = (B)->pkts[I], 1); I++)

#endif /* pkt/pkt-batch.h */
