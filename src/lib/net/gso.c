/* SPDX-License-Identifier: Apache-2.0 */
/* Software GSO and checksum completion: theory of operation.
 *
 * Contract and semantics: gso.h.  Three steps per GSO frame:
 *
 *   1. layout: walk the headers from the Ethernet header to the end of the
 *      TCP/UDP header (VLAN tags, IPv4 options, IPv6 extension headers),
 *      bounds-checked against the frame, and cross-check the offload
 *      request (IP version against gso_type, csum_start against the L4
 *      offset).  The request is metadata that came from a VM through the
 *      kernel; it is never trusted beyond what the bytes confirm.
 *   2. allocate all the segments at once (all-or-nothing: a caller never
 *      has to undo half a frame).
 *   3. per segment: copy the headers (hdr_len bytes) and the payload slice,
 *      then patch lengths, IPv4 id and header checksum, TCP sequence and
 *      flags, and the L4 checksum: complete (pseudo-header + L4 header +
 *      payload), or partial (the folded pseudo-header sum, which the next
 *      device completes from csum_start, exactly what Linux leaves in a
 *      CHECKSUM_PARTIAL skb).
 *
 *     frame:  | eth | ip | tcp | payload ...................... |
 *                            hdr_len
 *     seg i:  | eth | ip'| tcp'| payload[i*mss, min((i+1)*mss, end)) |
 *
 * The IPv4 identification advances by one per segment (the kernel's
 * inet_gso_segment() without SKB_GSO_TCP_FIXEDID, which virtio-net headers
 * cannot express).  Pseudo-header sums use the addresses of the IP header
 * (an IPv6 routing header's final destination is not substituted, as in
 * the kernel's tcp6_gso_segment()). */
#include "net/gso.h"

#include <errno.h>
#include <string.h>

#include "net/csum.h"
#include "net/wire.h"
#include "pkt/pkt.h"

#define TCP_FIN 0x001
#define TCP_PSH 0x008
#define TCP_CWR 0x080
#define TCP_CSUM_OFS 16          /* Offset of the checksum in the header. */
#define UDP_CSUM_OFS 6
#define GSO_MAX_IPV6_EXT 8       /* Extension headers walked at most. */

struct gso_layout {
    uint32_t l3_ofs;             /* IP header. */
    uint32_t l4_ofs;             /* TCP/UDP header. */
    uint32_t hdr_len;            /* End of the TCP/UDP header. */
    uint32_t l3_hdr_len;         /* IPv4 header length (IPv4 only). */
    bool ipv6;
    uint8_t l4_proto;            /* IP_PROTO_TCP or IP_PROTO_UDP. */
};

/* Walks the IPv6 extension headers after the fixed header at 'ofs'. */
static int
walk_ipv6_ext(const uint8_t *f, uint32_t size, uint32_t *ofs, uint8_t *nh)
{
    for (int n = 0;; n++) {
        if (*nh != IP_PROTO_IPV6_HOPOPTS && *nh != IP_PROTO_IPV6_ROUTING
            && *nh != IP_PROTO_IPV6_DSTOPTS) {
            return 0;
        }
        if (n == GSO_MAX_IPV6_EXT || size < *ofs + 2) {
            return -EINVAL;
        }
        uint32_t len = (f[*ofs + 1] + 1u) * 8;
        *nh = f[*ofs];
        *ofs += len;
        if (*ofs > size) {
            return -EINVAL;
        }
    }
}

/* Skips the Ethernet header and up to two VLAN tags of the frame 'f' of
 * 'size' bytes: sets '*l3_ofs' and '*type' (the Ethertype there).
 * Returns 0 or -EINVAL if the frame ends first. */
static int
walk_l2(const uint8_t *f, uint32_t size, uint32_t *l3_ofs, uint16_t *type)
{
    if (size < ETH_HDR_LEN) {
        return -EINVAL;
    }
    uint32_t ofs = ETH_HDR_LEN;
    uint16_t t = vf_ntohs(vf_get_u16(f + 12));
    for (int i = 0; i < 2 && (t == ETH_TYPE_VLAN || t == ETH_TYPE_QINQ);
         i++) {
        if (size < ofs + VLAN_HDR_LEN) {
            return -EINVAL;
        }
        t = vf_ntohs(vf_get_u16(f + ofs + 2));
        ofs += VLAN_HDR_LEN;
    }
    *l3_ofs = ofs;
    *type = t;
    return 0;
}

/* Fills 'lo' from the frame 'f' of 'size' bytes.  Returns 0 if it is an
 * unfragmented IPv4/IPv6 TCP or UDP frame whose headers all fit. */
static int
layout_parse(const uint8_t *f, uint32_t size, struct gso_layout *lo)
{
    uint32_t ofs;
    uint16_t type;
    if (walk_l2(f, size, &ofs, &type)) {
        return -EINVAL;
    }
    lo->l3_ofs = ofs;
    if (type == ETH_TYPE_IPV4) {
        if (size < ofs + IPV4_HDR_LEN) {
            return -EINVAL;
        }
        const struct ipv4_hdr *ip = (const struct ipv4_hdr *) (f + ofs);
        uint32_t ihl = ipv4_hdr_len(ip);
        if (ipv4_version(ip) != 4 || ihl < IPV4_HDR_LEN || size < ofs + ihl
            || vf_ntohs(ip->frag_off) & (IPV4_MF | IPV4_FRAG_OFF_MASK)) {
            return -EINVAL;
        }
        lo->ipv6 = false;
        lo->l3_hdr_len = ihl;
        lo->l4_proto = ip->proto;
        ofs += ihl;
    } else if (type == ETH_TYPE_IPV6) {
        if (size < ofs + IPV6_HDR_LEN) {
            return -EINVAL;
        }
        const struct ipv6_hdr *ip = (const struct ipv6_hdr *) (f + ofs);
        if (vf_ntohl(ip->ver_tc_flow) >> 28 != 6) {
            return -EINVAL;
        }
        uint8_t nh = ip->next_hdr;
        ofs += IPV6_HDR_LEN;
        if (walk_ipv6_ext(f, size, &ofs, &nh)) {
            return -EINVAL;
        }
        lo->ipv6 = true;
        lo->l3_hdr_len = IPV6_HDR_LEN;
        lo->l4_proto = nh;
    } else {
        return -EINVAL;
    }
    lo->l4_ofs = ofs;
    if (lo->l4_proto == IP_PROTO_TCP) {
        if (size < ofs + sizeof(struct tcp_hdr)) {
            return -EINVAL;
        }
        uint32_t doff = tcp_hdr_len((const struct tcp_hdr *) (f + ofs));
        if (doff < sizeof(struct tcp_hdr) || size < ofs + doff) {
            return -EINVAL;
        }
        lo->hdr_len = ofs + doff;
    } else if (lo->l4_proto == IP_PROTO_UDP) {
        if (size < ofs + sizeof(struct udp_hdr)) {
            return -EINVAL;
        }
        lo->hdr_len = ofs + (uint32_t) sizeof(struct udp_hdr);
    } else {
        return -EINVAL;
    }
    return 0;
}

/* Checks the GSO request of 'p' against its bytes.  Returns the number of
 * segments (> 0) with 'lo' filled in, or -EINVAL. */
static int
gso_check(const struct pkt *p, struct gso_layout *lo)
{
    if (!(p->flags & PKT_F_OFFLOAD)) {
        return -EINVAL;
    }
    const struct pkt_offload *o = &p->offload;
    if (layout_parse(pkt_data(p), p->size, lo)) {
        return -EINVAL;
    }
    bool tcp = lo->l4_proto == IP_PROTO_TCP;
    switch (o->gso_type) {
    case PKT_GSO_TCPV4:
        if (!tcp || lo->ipv6) {
            return -EINVAL;
        }
        break;
    case PKT_GSO_TCPV6:
        if (!tcp || !lo->ipv6) {
            return -EINVAL;
        }
        break;
    case PKT_GSO_UDP:
        if (tcp) {
            return -EINVAL;
        }
        break;
    default:
        return -EINVAL;
    }
    if (o->needs_csum
        && (o->csum_start != lo->l4_ofs
            || o->csum_offset != (tcp ? TCP_CSUM_OFS : UDP_CSUM_OFS))) {
        return -EINVAL;
    }
    uint32_t mss = o->gso_size;
    if (!mss || lo->hdr_len + mss > PKT_MTU_ROOM || p->size <= lo->hdr_len) {
        return -EINVAL;
    }
    uint32_t n = (p->size - lo->hdr_len + mss - 1) / mss;
    return n > GSO_MAX_SEGS ? -EINVAL : (int) n;
}

uint32_t
gso_n_segs(const struct pkt *p)
{
    struct gso_layout lo;
    int n = gso_check(p, &lo);
    return n > 0 ? (uint32_t) n : 0;
}

/* Copies the metadata a segment inherits from its frame. */
static void
seg_copy_meta(struct pkt *s, const struct pkt *p)
{
    s->rss_hash = p->rss_hash;
    s->in_port = p->in_port;
    s->flags = p->flags & (uint8_t) ~PKT_F_OFFLOAD;
    s->l2_ofs = p->l2_ofs;
    s->l3_ofs = p->l3_ofs;
    s->l4_ofs = p->l4_ofs;
    s->inner_l2_ofs = p->inner_l2_ofs;
    memcpy(s->md, p->md, sizeof s->md);
    s->tun_vni = p->tun_vni;
    s->tun_src = p->tun_src;
    s->tun_dst = p->tun_dst;
    s->mark = p->mark;
}

/* Patches the IP header of segment data 'd' of 'size' bytes, segment
 * 'i'; returns the L4 pseudo-header sum. */
static uint32_t
seg_fix_ip(uint8_t *d, uint32_t size, const struct gso_layout *lo,
           uint32_t i)
{
    uint32_t l4_len = size - lo->l4_ofs;
    if (!lo->ipv6) {
        struct ipv4_hdr *ip = (struct ipv4_hdr *) (d + lo->l3_ofs);
        ip->tot_len = vf_htons((uint16_t) (size - lo->l3_ofs));
        ip->id = vf_htons((uint16_t) (vf_ntohs(ip->id) + i));
        ip->csum = 0;
        ip->csum = csum(ip, lo->l3_hdr_len);
        return csum_pseudo_ipv4(ip->src, ip->dst, lo->l4_proto,
                                (uint16_t) l4_len);
    }
    struct ipv6_hdr *ip6 = (struct ipv6_hdr *) (d + lo->l3_ofs);
    ip6->payload_len = vf_htons((uint16_t) (size - lo->l3_ofs
                                            - IPV6_HDR_LEN));
    return csum_pseudo_ipv6(ip6->src, ip6->dst, lo->l4_proto, l4_len);
}

/* Writes segment 'i' of 'n' of 'p' to 'd' and returns its size.  With
 * GSO_F_PARTIAL_CSUM in 'flags' the L4 checksum is left partial (the
 * caller records the request); otherwise it is complete. */
static uint32_t
seg_write(uint8_t *d, const struct pkt *p, const struct gso_layout *lo,
          uint32_t i, uint32_t n, uint32_t flags)
{
    const uint8_t *f = pkt_data(p);
    uint32_t mss = p->offload.gso_size;
    uint32_t pay_ofs = lo->hdr_len + i * mss;
    uint32_t pay_len = VF_MIN(mss, p->size - pay_ofs);
    uint32_t size = lo->hdr_len + pay_len;

    memcpy(d, f, lo->hdr_len);
    memcpy(d + lo->hdr_len, f + pay_ofs, pay_len);

    uint32_t sum = seg_fix_ip(d, size, lo, i);
    uint8_t *l4 = d + lo->l4_ofs;
    uint32_t l4_len = size - lo->l4_ofs;
    uint16_t csum_ofs;
    if (lo->l4_proto == IP_PROTO_TCP) {
        struct tcp_hdr *th = (struct tcp_hdr *) l4;
        th->seq = vf_htonl(vf_ntohl(th->seq) + i * mss);
        uint16_t of = vf_ntohs(th->off_flags);
        if (i + 1 < n) {
            of &= (uint16_t) ~(TCP_FIN | TCP_PSH);
        }
        if (i > 0) {
            of &= (uint16_t) ~TCP_CWR;
        }
        th->off_flags = vf_htons(of);
        csum_ofs = TCP_CSUM_OFS;
    } else {
        struct udp_hdr *uh = (struct udp_hdr *) l4;
        uh->len = vf_htons((uint16_t) l4_len);
        csum_ofs = UDP_CSUM_OFS;
    }

    if (flags & GSO_F_PARTIAL_CSUM) {
        vf_put_u16(l4 + csum_ofs, (vf_be16) ~csum_fold(sum));
    } else {
        vf_put_u16(l4 + csum_ofs, 0);
        vf_be16 c = csum_fold(csum_partial(l4, l4_len, sum));
        if (lo->l4_proto == IP_PROTO_UDP && !c) {
            c = 0xffff;          /* RFC 768: 0 means "no checksum". */
        }
        vf_put_u16(l4 + csum_ofs, c);
    }
    return size;
}

/* Builds segment 'i' of 'n' of 'p' into 's'. */
static void
seg_build(struct pkt *s, const struct pkt *p, const struct gso_layout *lo,
          uint32_t i, uint32_t n, uint32_t flags)
{
    s->size = seg_write(pkt_data(s), p, lo, i, n, flags);
    seg_copy_meta(s, p);
    if (flags & GSO_F_PARTIAL_CSUM) {
        s->flags |= PKT_F_OFFLOAD;
        s->offload.needs_csum = 1;
        s->offload.csum_start = (uint16_t) lo->l4_ofs;
        s->offload.csum_offset = lo->l4_proto == IP_PROTO_TCP
                                     ? TCP_CSUM_OFS : UDP_CSUM_OFS;
    }
}

int
gso_segment(struct pkt_cache *cache, const struct pkt *p, uint32_t flags,
            struct pkt **segs, uint32_t max_segs)
{
    struct gso_layout lo;
    int n = gso_check(p, &lo);
    if (n < 0) {
        return n;
    }
    if ((uint32_t) n > max_segs) {
        return -E2BIG;
    }
    uint32_t got = 0;
    while (got < (uint32_t) n) {
        int r = pkt_alloc_burst(cache, p->pool, PKT_CLASS_MTU, p->owner,
                                segs + got, (uint32_t) n - got);
        if (r < 0) {
            pkt_free_burst(cache, segs, got);
            return r;
        }
        got += (uint32_t) r;
    }
    for (uint32_t i = 0; i < (uint32_t) n; i++) {
        seg_build(segs[i], p, &lo, i, (uint32_t) n, flags);
    }
    return n;
}

int
gso_plan(const struct pkt *p, struct gso_plan *plan)
{
    struct gso_layout lo;
    int n = gso_check(p, &lo);
    if (n < 0) {
        return n;
    }
    uint32_t mss = p->offload.gso_size;
    plan->n_segs = (uint32_t) n;
    plan->hdr_len = lo.hdr_len;
    plan->seg_size = lo.hdr_len + mss;
    plan->last_size = p->size - (uint32_t) (n - 1) * mss;
    plan->l3_ofs = lo.l3_ofs;
    plan->l4_ofs = lo.l4_ofs;
    plan->l3_hdr_len = lo.l3_hdr_len;
    plan->ipv6 = lo.ipv6;
    plan->l4_proto = lo.l4_proto;
    return 0;
}

void
gso_write_segs(const struct pkt *p, const struct gso_plan *plan,
               uint32_t first, uint32_t n, uint8_t *buf, uint32_t stride)
{
    struct gso_layout lo = {
        .l3_ofs = plan->l3_ofs, .l4_ofs = plan->l4_ofs,
        .hdr_len = plan->hdr_len, .l3_hdr_len = plan->l3_hdr_len,
        .ipv6 = plan->ipv6, .l4_proto = plan->l4_proto,
    };
    for (uint32_t i = first; i < first + n; i++) {
        seg_write(buf, p, &lo, i, plan->n_segs, 0);
        buf += stride;
    }
}

int
gso_complete_csum(struct pkt *p)
{
    if (!(p->flags & PKT_F_OFFLOAD) || !p->offload.needs_csum) {
        return 0;
    }
    uint32_t start = p->offload.csum_start;
    uint32_t ofs = p->offload.csum_offset;
    if (start >= p->size || ofs + 2 > p->size - start) {
        return -EINVAL;
    }
    uint8_t *d = pkt_data(p);
    vf_be16 c = csum_fold(csum_partial(d + start, p->size - start, 0));
    vf_put_u16(d + start + ofs, c ? c : 0xffff);
    p->offload.needs_csum = 0;
    p->offload.csum_valid = 1;
    return 0;
}

int
gso_infer_offload(struct pkt *p, uint32_t mtu, bool csum_partial)
{
    struct gso_layout lo;
    uint32_t l3_ofs;
    uint16_t type;
    if (walk_l2(pkt_data(p), p->size, &l3_ofs, &type)) {
        return csum_partial ? -EINVAL : 0;
    }
    bool big = p->size - l3_ofs > mtu;
    if (!csum_partial && !big) {
        return 0;
    }
    if (layout_parse(pkt_data(p), p->size, &lo)) {
        /* Not TCP/UDP over IP: nothing we could complete or re-cut. */
        return -EINVAL;
    }
    bool tcp = lo.l4_proto == IP_PROTO_TCP;
    struct pkt_offload o;
    memset(&o, 0, sizeof o);
    if (csum_partial) {
        o.needs_csum = 1;
        o.csum_start = (uint16_t) lo.l4_ofs;
        o.csum_offset = tcp ? TCP_CSUM_OFS : UDP_CSUM_OFS;
    }
    if (big) {
        uint32_t hdrs = lo.hdr_len - lo.l3_ofs;
        if (!tcp || mtu <= hdrs || !csum_partial) {
            return -EINVAL;
        }
        o.gso_type = lo.ipv6 ? PKT_GSO_TCPV6 : PKT_GSO_TCPV4;
        o.gso_size = (uint16_t) (mtu - hdrs);
    }
    p->offload = o;
    p->flags |= PKT_F_OFFLOAD;
    return 0;
}
