/* SPDX-License-Identifier: Apache-2.0 */
/* UDP GSO encapsulation of super-frames: theory of operation.
 *
 * Why and what: tunnel-gso.h.  How, per super-frame 'p':
 *
 *   1. gso_plan(p): the segments gso_segment() would make (validated
 *      exactly as there), their header length and sizes.
 *   2. unit = tunnel header + one full segment; k = units per outer
 *      frame (bounded by the uplink's largest frame, the 65535-byte IPv4
 *      datagram, TUNNEL_GSO_MAX_UNITS); the n segments are spread over
 *      ceil(n / k) frames as evenly as possible (so no frame is left with
 *      a lone unit when it can be avoided).
 *   3. per frame, one buffer (all allocated before anything is written):
 *      gso_write_segs() writes its segments 'unit' bytes apart, leaving a
 *      tunnel header's room before each but the first; tunnel_encap()
 *      then pushes the outer headers and the first tunnel header into the
 *      headroom, computing lengths for the whole frame; the first tunnel
 *      header is copied into the other gaps (all units of a frame share
 *      VNI, flags and Geneve options);
 *   4. a frame of two units or more becomes a UDP GSO request: gso_size
 *      = unit, the UDP checksum partial (pseudo-header sum of the whole
 *      UDP length in the field, as Linux leaves a CHECKSUM_PARTIAL skb;
 *      __udp_gso_segment() adjusts it per datagram).
 *
 * Cost per super-frame: one copy of the payload with one checksum pass
 * (inside gso_write_segs), against the simple path's copy + checksum +
 * one buffer, one encapsulation and one uplink send per segment. */
#include "overlay/tunnel-gso.h"

#include <errno.h>
#include <string.h>

#include "net/csum.h"
#include "net/gso.h"
#include "net/wire.h"

#define OUTER_LEN (14u + 20u + 8u)   /* Ethernet + IPv4 + UDP. */

/* Units per frame for units of 'unit' bytes in frames of 'cap' bytes. */
static uint32_t
units_per_frame(uint32_t unit, uint32_t cap)
{
    uint32_t k = cap > OUTER_LEN ? (cap - OUTER_LEN) / unit : 0;
    k = VF_MIN(k, (65535u - 20u - 8u) / unit);
    return VF_MIN(k, TUNNEL_GSO_MAX_UNITS);
}

/* Turns 'q', a tunnel_encap()ed frame of 'n_units' units, into a UDP GSO
 * request. */
static void
make_uso(struct pkt *q, uint32_t unit)
{
    uint8_t *d = pkt_data(q);
    const struct ipv4_hdr *ip = (const struct ipv4_hdr *) (d + 14);
    uint32_t udp_len = q->size - 14 - 20;
    uint32_t sum = csum_pseudo_ipv4(vf_get_u32(&ip->src),
                                    vf_get_u32(&ip->dst), IP_PROTO_UDP,
                                    (uint16_t) udp_len);
    vf_put_u16(d + 14 + 20 + 6, (vf_be16) ~csum_fold(sum));
    q->flags |= PKT_F_OFFLOAD;
    q->offload.gso_type = PKT_GSO_UDP;
    q->offload.gso_size = (uint16_t) unit;
    q->offload.needs_csum = 1;
    q->offload.csum_start = 14 + 20;
    q->offload.csum_offset = 6;
}

int
tunnel_gso_encap(struct pkt_cache *cache, const struct pkt *p,
                 const struct tunnel_encap *e, uint32_t inner_hash,
                 uint32_t max_frame, struct pkt **out, uint32_t max_out)
{
    struct gso_plan plan;
    if (gso_plan(p, &plan)) {
        return -EINVAL;
    }
    uint32_t th = tunnel_overhead(e->type) - OUTER_LEN;
    uint32_t unit = th + plan.seg_size;
    uint32_t k = units_per_frame(unit, VF_MIN(max_frame, PKT_GSO_ROOM));
    uint32_t n = plan.n_segs;
    if (k < VF_MIN(n, 2u)) {
        return -E2BIG;
    }
    uint32_t n_frames = (n + k - 1) / k;
    if (n_frames > max_out) {
        return -E2BIG;
    }
    uint32_t base = n / n_frames;
    uint32_t extra = n % n_frames;

    /* Allocate every frame first (all-or-nothing). */
    uint32_t first = 0;
    for (uint32_t f = 0; f < n_frames; f++) {
        uint32_t cnt = base + (f < extra);
        bool last = f + 1 == n_frames;
        uint32_t size = OUTER_LEN + th + (cnt - 1) * unit
                        + (last ? plan.last_size : plan.seg_size);
        enum pkt_class cls = size <= PKT_MTU_ROOM ? PKT_CLASS_MTU
                                                  : PKT_CLASS_GSO;
        out[f] = pkt_alloc(cache, p->pool, cls, p->owner);
        if (!out[f]) {
            int err = -errno;
            pkt_free_burst(cache, out, f);
            return err;
        }
    }
    for (uint32_t f = 0; f < n_frames; f++) {
        struct pkt *q = out[f];
        uint32_t cnt = base + (f < extra);
        bool last = f + 1 == n_frames;
        uint8_t *d = pkt_data(q);
        gso_write_segs(p, &plan, first, cnt, d, unit);
        q->size = (cnt - 1) * unit + (last ? plan.last_size : plan.seg_size);
        q->in_port = p->in_port;
        q->mark = p->mark;
        memcpy(q->md, p->md, sizeof q->md);
        q->flags = (uint8_t) (p->flags & PKT_F_RSS_VALID);
        q->rss_hash = inner_hash;
        if (VF_UNLIKELY(tunnel_encap(q, e, inner_hash))) {
            /* Cannot happen: sizes bounded above, no offload set. */
            pkt_free_burst(cache, out, n_frames);
            return -EINVAL;
        }
        d = pkt_data(q);
        for (uint32_t j = 1; j < cnt; j++) {
            memcpy(d + OUTER_LEN + j * unit, d + OUTER_LEN, th);
        }
        if (cnt > 1) {
            make_uso(q, unit);
        }
        first += cnt;
    }
    return (int) n_frames;
}
