/* SPDX-License-Identifier: Apache-2.0 */
/* Frame builders of the fabric agent: see reply.h for the RFC clauses.
 * Every frame is built front to back in 'out' with pkt_put(); the IPv4
 * and ICMP checksums are computed whole (these are control frames). */
#include "overlay/reply.h"

#include <errno.h>
#include <string.h>

#include "net/csum.h"

static const struct eth_addr bcast = {{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}};

static uint8_t *
put(struct pkt *out, uint32_t n)
{
    uint8_t *p = pkt_put(out, n);
    if (p) {
        memset(p, 0, n);
    }
    return p;
}

static void
put_eth(struct pkt *out, const struct eth_addr *dst,
        const struct eth_addr *src, uint16_t type)
{
    struct eth_hdr *e = (struct eth_hdr *) put(out, sizeof *e);
    e->dst = *dst;
    e->src = *src;
    e->type = vf_htons(type);
}

static void
pad_min(struct pkt *out)
{
    if (out->size < ETH_MIN_FRAME) {
        put(out, ETH_MIN_FRAME - out->size);
    }
}

static void
put_arp(struct pkt *out, uint16_t op, const struct eth_addr *sha, vf_be32 spa,
        const struct eth_addr *tha, vf_be32 tpa)
{
    struct arp_eth_ipv4 *a = (struct arp_eth_ipv4 *) put(out, sizeof *a);
    a->htype = VF_BE16(1);
    a->ptype = VF_BE16(ETH_TYPE_IPV4);
    a->hlen = 6;
    a->plen = 4;
    a->op = vf_htons(op);
    a->sha = *sha;
    vf_put_u32(&a->spa, spa);
    a->tha = *tha;
    vf_put_u32(&a->tpa, tpa);
}

void
reply_arp_request(struct pkt *out, const struct eth_addr *sha, vf_be32 spa,
                  vf_be32 tpa)
{
    static const struct eth_addr zero;
    put_eth(out, &bcast, sha, ETH_TYPE_ARP);
    put_arp(out, ARP_OP_REQUEST, sha, spa, &zero, tpa);
    pad_min(out);
}

int
reply_arp(struct pkt *out, const struct flow_key *req,
          const struct eth_addr *mac)
{
    if (req->dl_type != VF_BE16(ETH_TYPE_ARP)
        || req->arp_op != VF_BE16(ARP_OP_REQUEST)) {
        return -EINVAL;
    }
    put_eth(out, &req->dl_src, mac, ETH_TYPE_ARP);
    put_arp(out, ARP_OP_REPLY, mac, req->nw_dst, &req->arp_sha, req->nw_src);
    pad_min(out);
    return 0;
}

static struct ipv4_hdr *
put_ipv4(struct pkt *out, vf_be32 src, vf_be32 dst, uint8_t proto,
         uint16_t payload)
{
    struct ipv4_hdr *ip = (struct ipv4_hdr *) put(out, sizeof *ip);
    ip->ver_ihl = 0x45;
    ip->tot_len = vf_htons((uint16_t) (20 + payload));
    ip->ttl = 64;
    ip->proto = proto;
    vf_put_u32(&ip->src, src);
    vf_put_u32(&ip->dst, dst);
    ip->csum = csum(ip, sizeof *ip);
    return ip;
}

static struct ipv6_hdr *
put_ipv6(struct pkt *out, const uint8_t src[16], const uint8_t dst[16],
         uint8_t next, uint16_t payload, uint8_t hops)
{
    struct ipv6_hdr *ip = (struct ipv6_hdr *) put(out, sizeof *ip);
    ip->ver_tc_flow = VF_BE32(6u << 28);
    ip->payload_len = vf_htons(payload);
    ip->next_hdr = next;
    ip->hop_limit = hops;
    memcpy(ip->src, src, 16);
    memcpy(ip->dst, dst, 16);
    return ip;
}

static void
icmp6_csum(const struct ipv6_hdr *ip, uint8_t *icmp, uint32_t len)
{
    vf_put_u16(icmp + 2, 0);
    uint32_t s = csum_pseudo_ipv6(ip->src, ip->dst, IP_PROTO_ICMPV6, len);
    vf_put_u16(icmp + 2, csum_fold(csum_partial(icmp, len, s)));
}

int
reply_nd_na(struct pkt *out, const struct flow_key *ns,
            const struct eth_addr *mac, bool router)
{
    if (ns->dl_type != VF_BE16(ETH_TYPE_IPV6)
        || ns->nw_proto != IP_PROTO_ICMPV6
        || ns->tp_src != VF_BE16(ND_NEIGHBOR_SOLICIT)) {
        return -EINVAL;
    }
    static const uint8_t unspec[16];
    bool dad = !memcmp(ns->ipv6_src, unspec, 16);
    /* RFC 4861 7.2.4: to the solicitation's source, or all-nodes for
     * DAD, solicited flag clear then. */
    static const uint8_t all_nodes[16] = {0xff, 0x02, [15] = 1};
    const uint8_t *dst = dad ? all_nodes : ns->ipv6_src;
    struct eth_addr dst_mac = ns->dl_src;
    if (dad) {
        dst_mac = (struct eth_addr) {{0x33, 0x33, 0, 0, 0, 1}};
    }
    uint32_t len = 4 + 20 + 8;
    put_eth(out, &dst_mac, mac, ETH_TYPE_IPV6);
    struct ipv6_hdr *ip = put_ipv6(out, ns->nd_target, dst, IP_PROTO_ICMPV6,
                                   (uint16_t) len, 255);
    uint8_t *icmp = put(out, len);
    icmp[0] = ND_NEIGHBOR_ADVERT;
    vf_put_u32(icmp + 4, vf_htonl((dad ? 0 : ND_NA_SOLICITED)
                                  | (router ? ND_NA_ROUTER : 0)
                                  | ND_NA_OVERRIDE));
    memcpy(icmp + 8, ns->nd_target, 16);
    icmp[24] = ND_OPT_TARGET_LINKADDR;
    icmp[25] = 1;
    memcpy(icmp + 26, mac->ea, 6);
    icmp6_csum(ip, icmp, len);
    return 0;
}

/* An ICMP or ICMPv6 error about 'frame' (key 'key', L3 at 'l3_ofs') back
 * to its sender, from key->dl_dst / the destination IP: 'type4'/'code4'
 * or 'type6'/'code6', 'word' the error's second 32-bit word (host order:
 * the next-hop MTU for "fragmentation needed" and "packet too big"). */
static int
reply_icmp_error(struct pkt *out, const struct flow_key *key,
                 const uint8_t *frame, uint32_t size, uint32_t l3_ofs,
                 const uint8_t type_code[4], uint32_t word)
{
    if (l3_ofs >= size) {
        return -EINVAL;
    }
    const uint8_t *l3 = frame + l3_ofs;
    uint32_t l3_len = size - l3_ofs;
    if (key->dl_type == VF_BE16(ETH_TYPE_IPV4)) {
        /* RFC 792: IP header + 64 bits; Linux quotes more, we quote up to
         * 548 bytes so the whole error stays under the minimum MTU. */
        uint32_t quote = VF_MIN(l3_len, 548u);
        put_eth(out, &key->dl_src, &key->dl_dst, ETH_TYPE_IPV4);
        put_ipv4(out, key->nw_dst, key->nw_src, IP_PROTO_ICMP,
                 (uint16_t) (8 + quote));
        uint8_t *icmp = put(out, 8 + quote);
        icmp[0] = type_code[0];
        icmp[1] = type_code[1];
        vf_put_u32(icmp + 4, vf_htonl(word));
        memcpy(icmp + 8, l3, quote);
        vf_put_u16(icmp + 2, csum(icmp, 8 + quote));
        return 0;
    }
    if (key->dl_type == VF_BE16(ETH_TYPE_IPV6)) {
        /* RFC 4443 2.4 (c): as much as fits in the minimum MTU (1280). */
        uint32_t quote = VF_MIN(l3_len, 1280u - 40 - 8);
        put_eth(out, &key->dl_src, &key->dl_dst, ETH_TYPE_IPV6);
        struct ipv6_hdr *ip = put_ipv6(out, key->ipv6_dst, key->ipv6_src,
                                       IP_PROTO_ICMPV6,
                                       (uint16_t) (8 + quote), 64);
        uint8_t *icmp = put(out, 8 + quote);
        icmp[0] = type_code[2];
        icmp[1] = type_code[3];
        vf_put_u32(icmp + 4, vf_htonl(word));
        memcpy(icmp + 8, l3, quote);
        icmp6_csum(ip, icmp, 8 + quote);
        return 0;
    }
    return -EINVAL;
}

int
reply_too_big(struct pkt *out, const struct flow_key *key,
              const uint8_t *frame, uint32_t size, uint32_t l3_ofs,
              uint32_t mtu)
{
    /* RFC 1191: the MTU in the low 16 bits; RFC 4443 3.2: all 32. */
    static const uint8_t tc[4] = {ICMP_DEST_UNREACH, ICMP_FRAG_NEEDED,
                                  ICMPV6_PKT_TOO_BIG, 0};
    uint32_t word = key->dl_type == VF_BE16(ETH_TYPE_IPV4)
                    ? VF_MIN(mtu, 0xffffu) : mtu;
    return reply_icmp_error(out, key, frame, size, l3_ofs, tc, word);
}

/* Is 'key' an ICMP(v6) error (which never gets an error back: RFC 1122
 * 3.2.2, RFC 4443 2.4 (e))? */
static bool
is_icmp_error(const struct flow_key *key)
{
    uint8_t type = (uint8_t) vf_ntohs(key->tp_src);
    if (key->dl_type == VF_BE16(ETH_TYPE_IPV4)) {
        return key->nw_proto == IP_PROTO_ICMP
               && type != ICMP_ECHO_REQUEST && type != ICMP_ECHO_REPLY
               && type != 13 && type != 14;     /* Timestamp (reply). */
    }
    return key->nw_proto == IP_PROTO_ICMPV6 && type < 128;
}

int
reply_time_exceeded(struct pkt *out, const struct flow_key *key,
                    const uint8_t *frame, uint32_t size, uint32_t l3_ofs)
{
    /* RFC 792 type 11 code 0; RFC 4443 3.3 type 3 code 0. */
    static const uint8_t tc[4] = {11, 0, 3, 0};
    if (is_icmp_error(key) || (key->nw_frag & FLOW_NW_FRAG_LATER)) {
        return -EINVAL;
    }
    return reply_icmp_error(out, key, frame, size, l3_ofs, tc, 0);
}

int
reply_echo(struct pkt *out, const struct flow_key *key, const uint8_t *frame,
           uint32_t size, uint32_t l3_ofs)
{
    if (key->dl_type != VF_BE16(ETH_TYPE_IPV4)
        || key->nw_proto != IP_PROTO_ICMP
        || key->tp_src != VF_BE16(ICMP_ECHO_REQUEST)) {
        return -EINVAL;
    }
    const struct ipv4_hdr *ip = (const struct ipv4_hdr *) (frame + l3_ofs);
    uint32_t ihl = ipv4_hdr_len(ip);
    uint32_t tot = vf_ntohs(ip->tot_len);
    if (l3_ofs + tot > size || tot < ihl + 8) {
        return -EINVAL;
    }
    uint32_t len = tot - ihl;
    put_eth(out, &key->dl_src, &key->dl_dst, ETH_TYPE_IPV4);
    put_ipv4(out, key->nw_dst, key->nw_src, IP_PROTO_ICMP, (uint16_t) len);
    uint8_t *icmp = put(out, len);
    memcpy(icmp, frame + l3_ofs + ihl, len);
    icmp[0] = ICMP_ECHO_REPLY;
    vf_put_u16(icmp + 2, 0);
    vf_put_u16(icmp + 2, csum(icmp, len));
    pad_min(out);
    return 0;
}
