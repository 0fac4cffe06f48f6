/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VFAB_PKT_PKT_H
#define VFAB_PKT_PKT_H 1

/* struct pkt: one packet buffer.
 *
 * Layout of a buffer (one contiguous allocation inside its pool):
 *
 *   +-----------+---------------------+----------------------------------+
 *   | struct pkt|  headroom           | frame ............ | tailroom     |
 *   | (128 B)   |  (PKT_HEADROOM)     |<---- size ------->|               |
 *   +-----------+---------------------+----------------------------------+
 *   ^pkt        ^base                 ^base + data_ofs
 *
 * Encapsulation pushes outer headers into the headroom (pkt_push), so an
 * encapsulated frame still leaves as one contiguous buffer: the seeds'
 * "single DMA transfer" (US 8054848).  PKT_HEADROOM covers the largest outer
 * header vfab writes: Ethernet + 802.1Q + IPv6 + UDP + Geneve with options
 * (14 + 4 + 40 + 8 + 8 + 64 = 138 bytes), rounded up.
 *
 * Ownership: a struct pkt is owned by exactly one holder at a time.  A
 * function that "takes" a packet frees or forwards it; one that "borrows"
 * leaves it with the caller.  Every buffer records its pool and the VNIC
 * ('owner') it is charged to, and always goes back to that pool
 * (see pkt-pool.h).
 *
 * Offload metadata ('offload') mirrors the virtio-net header that TAP and
 * AF_PACKET exchange with the kernel (see port/vnet-hdr.h): a GSO frame of up
 * to 64 KiB crosses the switch whole, with a partial checksum still to be
 * completed by whoever finally segments it. */

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "util/compiler.h"

struct pkt_pool;

#define PKT_HEADROOM 256u
#define PKT_MTU_ROOM 9216u       /* Jumbo 9000 + Ethernet + 2 tags, rounded. */
#define PKT_GSO_ROOM 65792u      /* 14 + 65535 (IPv4 total length) + tags. */

/* Size classes of a pool. */
enum pkt_class {
    PKT_CLASS_MTU = 0,           /* Up to PKT_MTU_ROOM bytes of frame. */
    PKT_CLASS_GSO = 1,           /* Up to PKT_GSO_ROOM bytes of frame. */
    PKT_N_CLASSES
};

/* Offload request carried with a frame (virtio-net semantics). */
enum pkt_gso_type {
    PKT_GSO_NONE = 0,
    PKT_GSO_TCPV4 = 1,
    PKT_GSO_UDP = 3,
    PKT_GSO_TCPV6 = 4,
};

struct pkt_offload {
    uint16_t csum_start;         /* Checksum from here (frame offset)... */
    uint16_t csum_offset;        /* ...stored at csum_start + this. */
    uint16_t gso_size;           /* Payload bytes per segment. */
    uint8_t gso_type;            /* enum pkt_gso_type. */
    uint8_t needs_csum : 1;      /* Checksum is partial (to complete). */
    uint8_t csum_valid : 1;      /* Receiver may trust the checksum. */
};

/* Layer offsets, relative to the frame start; PKT_OFS_NONE if absent. */
#define PKT_OFS_NONE 0xffffu

/* States for the debug cookie check (see pkt-pool.c). */
#define PKT_STATE_LIVE 0x4c495645u /* "LIVE" */
#define PKT_STATE_FREE 0x46524545u /* "FREE" */

struct pkt {
    /* Cache line 0: what every stage touches. */
    uint8_t *base;               /* Start of headroom; const. */
    uint32_t data_ofs;           /* Frame start, from 'base'. */
    uint32_t size;               /* Frame bytes. */
    uint32_t room;               /* Headroom + data room, bytes; const. */
    uint32_t rss_hash;           /* Flow hash (net/parse.h). */
    uint32_t in_port;            /* Port the frame came in on. */
    uint16_t owner;              /* VNIC charged for this buffer. */
    uint8_t cls;                 /* enum pkt_class; const. */
    uint8_t flags;               /* PKT_F_*. */
    uint16_t l2_ofs;             /* Ethernet header. */
    uint16_t l3_ofs;             /* IPv4/IPv6/ARP header. */
    uint16_t l4_ofs;             /* TCP/UDP/SCTP/ICMP header. */
    uint16_t inner_l2_ofs;       /* Inner Ethernet of a tunnel frame. */
    struct pkt_offload offload;
    struct pkt_pool *pool;       /* const: where the buffer returns. */
    uint32_t gen;                /* Generation: bumped on every free. */
    uint32_t state;              /* PKT_STATE_LIVE or PKT_STATE_FREE. */

    /* Cache line 1: queues and pipeline scratch. */
    struct pkt *next;            /* Queues (owner of the queue links). */
    uint64_t md[5];              /* Stage metadata (see dp/pipeline.h). */
    uint32_t tun_vni;            /* Decapsulated VNI, or 0. */
    uint32_t tun_src;            /* Outer IPv4 source (network order). */
    uint32_t tun_dst;            /* Outer IPv4 destination. */
    uint32_t mark;               /* Free for the pipeline. */
} VF_CACHE_ALIGNED;

VF_BUILD_ASSERT(sizeof(struct pkt) == 2 * VF_CACHE_LINE);

#define PKT_F_RSS_VALID 0x01     /* rss_hash is set. */
#define PKT_F_OFFLOAD 0x02       /* 'offload' holds a request. */
#define PKT_F_TUNNEL 0x04        /* tun_* fields are set. */

static inline uint8_t *
pkt_data(const struct pkt *p)
{
    return p->base + p->data_ofs;
}

static inline uint32_t
pkt_headroom(const struct pkt *p)
{
    return p->data_ofs;
}

static inline uint32_t
pkt_tailroom(const struct pkt *p)
{
    return p->room - p->data_ofs - p->size;
}

/* Prepends 'n' bytes to the frame; returns the new frame start, or NULL if
 * the headroom is too small (the frame is unchanged). */
static inline uint8_t *
pkt_push(struct pkt *p, uint32_t n)
{
    if (VF_UNLIKELY(n > p->data_ofs)) {
        return NULL;
    }
    p->data_ofs -= n;
    p->size += n;
    return pkt_data(p);
}

/* Removes 'n' bytes from the front; returns the new start or NULL if the
 * frame is shorter than 'n'. */
static inline uint8_t *
pkt_pull(struct pkt *p, uint32_t n)
{
    if (VF_UNLIKELY(n > p->size)) {
        return NULL;
    }
    p->data_ofs += n;
    p->size -= n;
    return pkt_data(p);
}

/* Appends 'n' bytes; returns a pointer to them, or NULL if no tailroom. */
static inline uint8_t *
pkt_put(struct pkt *p, uint32_t n)
{
    if (VF_UNLIKELY(n > pkt_tailroom(p))) {
        return NULL;
    }
    uint8_t *tail = pkt_data(p) + p->size;
    p->size += n;
    return tail;
}

/* Cuts the frame to 'size' bytes if it is longer. */
static inline void
pkt_trim(struct pkt *p, uint32_t size)
{
    if (size < p->size) {
        p->size = size;
    }
}

/* Resets the per-frame metadata of a freshly allocated or reused buffer. */
static inline void
pkt_reset_meta(struct pkt *p)
{
    p->data_ofs = PKT_HEADROOM;
    p->size = 0;
    p->rss_hash = 0;
    p->in_port = 0;
    p->flags = 0;
    p->l2_ofs = p->l3_ofs = p->l4_ofs = p->inner_l2_ofs = PKT_OFS_NONE;
    memset(&p->offload, 0, sizeof p->offload);
    p->next = NULL;
    p->tun_vni = p->tun_src = p->tun_dst = 0;
    p->mark = 0;
}

/* True if 'p' is live and still of generation 'gen': a holder that saved
 * the generation when it took the buffer can tell whether its reference has
 * gone stale (the buffer was freed and perhaps reused). */
static inline bool
pkt_ref_valid(const struct pkt *p, uint32_t gen)
{
    return p->state == PKT_STATE_LIVE && p->gen == gen;
}

#endif /* pkt/pkt.h */
