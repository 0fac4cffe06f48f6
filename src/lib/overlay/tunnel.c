/* SPDX-License-Identifier: Apache-2.0 */
/* VXLAN and Geneve encapsulation: see tunnel.h for the choices and their
 * RFC clauses.  The outer headers are written front to back into the
 * headroom with one pkt_push(); the IPv4 checksum is the only sum computed
 * per packet (20 bytes). */
#include "overlay/tunnel.h"

#include <errno.h>
#include <string.h>

#include "net/csum.h"
#include "net/wire.h"

#define TUNNEL_DEFAULT_TTL 64

static uint32_t
encap_hdr_len(enum tunnel_type type)
{
    return tunnel_overhead(type);
}

static uint8_t *
write_outer(uint8_t *h, const struct tunnel_encap *e, uint32_t payload,
            uint32_t inner_hash)
{
    struct eth_hdr *eth = (struct eth_hdr *) h;
    eth->dst = e->dst_mac;
    eth->src = e->src_mac;
    eth->type = VF_BE16(ETH_TYPE_IPV4);

    struct ipv4_hdr *ip = (struct ipv4_hdr *) (eth + 1);
    uint32_t udp_len = 8 + payload;
    ip->ver_ihl = 0x45;
    ip->tos = 0;
    ip->tot_len = vf_htons((uint16_t) (20 + udp_len));
    ip->id = 0;
    ip->frag_off = VF_BE16(IPV4_DF);
    ip->ttl = e->ttl ? e->ttl : TUNNEL_DEFAULT_TTL;
    ip->proto = IP_PROTO_UDP;
    ip->csum = 0;
    vf_put_u32(&ip->src, e->src_ip);
    vf_put_u32(&ip->dst, e->dst_ip);
    ip->csum = csum(ip, sizeof *ip);

    struct udp_hdr *udp = (struct udp_hdr *) (ip + 1);
    uint16_t port = e->dst_port ? e->dst_port
                                : (e->type == TUNNEL_VXLAN ? VXLAN_UDP_PORT
                                                           : GENEVE_UDP_PORT);
    udp->src = vf_htons((uint16_t) (49152 + (inner_hash & 0x3fff)));
    udp->dst = vf_htons(port);
    udp->len = vf_htons((uint16_t) udp_len);
    udp->csum = 0;
    return (uint8_t *) (udp + 1);
}

int
tunnel_encap(struct pkt *p, const struct tunnel_encap *e, uint32_t inner_hash)
{
    uint32_t hlen = encap_hdr_len(e->type);
    if ((p->flags & PKT_F_OFFLOAD)
        && (p->offload.gso_type != PKT_GSO_NONE || p->offload.needs_csum)) {
        return -EINVAL;
    }
    if (p->size + hlen - 14 > 65535) {
        return -EINVAL;
    }
    uint32_t inner = p->size;
    uint8_t *h = pkt_push(p, hlen);
    if (!h) {
        return -ENOSPC;
    }
    uint32_t tun_hdr = hlen - 14 - 20 - 8;
    uint8_t *t = write_outer(h, e, tun_hdr + inner, inner_hash);
    if (e->type == TUNNEL_VXLAN) {
        struct vxlan_hdr *vx = (struct vxlan_hdr *) t;
        vx->flags = VF_BE32(VXLAN_FLAG_I);
        vx->vni_res = vf_htonl(e->vni << 8);
    } else {
        struct geneve_hdr *g = (struct geneve_hdr *) t;
        g->ver_opt_len = 2;      /* Version 0, 8 bytes of options. */
        g->flags = 0;
        g->proto = VF_BE16(ETH_TYPE_TEB);
        g->vni_res = vf_htonl(e->vni << 8);
        struct geneve_opt *o = (struct geneve_opt *) (g + 1);
        o->opt_class = VF_BE16(GENEVE_OPT_CLASS_VFAB);
        o->type = GENEVE_OPT_VFAB_SRC_GID;
        o->len = 1;
        vf_put_u32(o + 1, vf_htonl(e->src_gid));
    }
    p->l2_ofs = 0;
    p->l3_ofs = 14;
    p->l4_ofs = 34;
    p->inner_l2_ofs = (uint16_t) hlen;
    return 0;
}

/* Reads the Geneve options: our source id, and whether an unknown
 * critical option is present (RFC 8926 3.5: such a packet must be
 * dropped). */
static enum tunnel_err
geneve_options(const uint8_t *opt, uint32_t len, struct tunnel_rx *rx)
{
    while (len) {
        if (len < sizeof(struct geneve_opt)) {
            return TUNNEL_ERR_MALFORMED;
        }
        const struct geneve_opt *o = (const struct geneve_opt *) opt;
        uint32_t olen = sizeof *o + (o->len & 0x1fu) * 4u;
        if (olen > len) {
            return TUNNEL_ERR_MALFORMED;
        }
        if (o->opt_class == VF_BE16(GENEVE_OPT_CLASS_VFAB)
            && (o->type & 0x7f) == GENEVE_OPT_VFAB_SRC_GID && olen == 8) {
            rx->src_gid = vf_ntohl(vf_get_u32(opt + 4));
            rx->has_gid = true;
        } else if (o->type & 0x80) {
            return TUNNEL_ERR_CRITICAL_OPT;
        }
        opt += olen;
        len -= olen;
    }
    return TUNNEL_OK;
}

/* An offload request on the outer frame comes from a sender whose stack
 * offloads tunnels: Linux's vxlan device over a veth hands over frames
 * whose partial checksum and GSO request are those of the inner TCP/UDP
 * segment (the outer UDP checksum is complete, RFC 7348 allows zero).
 * Such a request belongs to the inner frame: it is kept, its checksum
 * start moved with the frame ('*keep').  A partial checksum inside the
 * outer headers is the outer UDP's, which nobody checks once the headers
 * are gone: dropped.  A GSO request without a partial checksum in the
 * inner frame cannot be segmented (net/gso.h): malformed. */
static enum tunnel_err
inner_offload(const struct pkt_offload *o, uint32_t outer, bool *keep)
{
    *keep = o->needs_csum && o->csum_start >= outer + ETH_HDR_LEN;
    if (o->gso_type != PKT_GSO_NONE && !*keep) {
        return TUNNEL_ERR_MALFORMED;
    }
    return TUNNEL_OK;
}

enum tunnel_err
tunnel_decap(struct pkt *p, uint16_t vxlan_port, uint16_t geneve_port,
             struct tunnel_rx *rx)
{
    const uint8_t *d = pkt_data(p);
    uint32_t size = p->size;
    vxlan_port = vxlan_port ? vxlan_port : VXLAN_UDP_PORT;
    geneve_port = geneve_port ? geneve_port : GENEVE_UDP_PORT;
    if (size < 14 + 20 + 8 + 8
        || vf_get_u16(d + 12) != VF_BE16(ETH_TYPE_IPV4)) {
        return TUNNEL_ERR_NOT_TUNNEL;
    }
    const struct ipv4_hdr *ip = (const struct ipv4_hdr *) (d + 14);
    uint32_t ihl = ipv4_hdr_len(ip);
    uint32_t tot = vf_ntohs(ip->tot_len);
    if (ip->proto != IP_PROTO_UDP) {
        return TUNNEL_ERR_NOT_TUNNEL;
    }
    if (ipv4_version(ip) != 4 || ihl < 20 || tot < ihl + 8 + 8
        || tot > size - 14
        || (vf_ntohs(ip->frag_off) & (IPV4_MF | IPV4_FRAG_OFF_MASK))) {
        return TUNNEL_ERR_MALFORMED;
    }
    const struct udp_hdr *udp = (const struct udp_hdr *) (d + 14 + ihl);
    uint16_t dport = vf_ntohs(udp->dst);
    if (dport != vxlan_port && dport != geneve_port) {
        return TUNNEL_ERR_NOT_TUNNEL;
    }
    if (vf_ntohs(udp->len) != tot - ihl) {
        return TUNNEL_ERR_MALFORMED;
    }
    memset(rx, 0, sizeof *rx);
    memcpy(rx->src_mac.ea, d + 6, 6);
    rx->src_ip = vf_get_u32(&ip->src);
    rx->dst_ip = vf_get_u32(&ip->dst);
    const uint8_t *t = (const uint8_t *) (udp + 1);
    uint32_t left = tot - ihl - 8;
    uint32_t hlen;
    if (dport == vxlan_port) {
        const struct vxlan_hdr *vx = (const struct vxlan_hdr *) t;
        if (!(vx->flags & VF_BE32(VXLAN_FLAG_I))) {
            return TUNNEL_ERR_MALFORMED;
        }
        rx->type = TUNNEL_VXLAN;
        rx->vni = vxlan_vni(vx);
        hlen = 8;
    } else {
        const struct geneve_hdr *g = (const struct geneve_hdr *) t;
        uint32_t olen = geneve_opt_len(g);
        if (geneve_version(g) != 0 || 8 + olen > left) {
            return TUNNEL_ERR_MALFORMED;
        }
        if (g->proto != VF_BE16(ETH_TYPE_TEB)) {
            return TUNNEL_ERR_NO_INNER;
        }
        rx->type = TUNNEL_GENEVE;
        rx->vni = geneve_vni(g);
        rx->oam = (g->flags & GENEVE_FLAG_OAM) != 0;
        enum tunnel_err err = geneve_options(t + 8, olen, rx);
        if (err) {
            return err;
        }
        hlen = 8 + olen;
    }
    if (left - hlen < ETH_HDR_LEN) {
        return TUNNEL_ERR_MALFORMED;
    }
    uint32_t outer = 14 + ihl + 8 + hlen;
    bool keep_offload = false;
    if (p->flags & PKT_F_OFFLOAD) {
        enum tunnel_err err = inner_offload(&p->offload, outer,
                                            &keep_offload);
        if (err) {
            return err;
        }
    }
    /* Keep only the inner frame: drop outer headers and any padding. */
    pkt_trim(p, 14 + tot);
    pkt_pull(p, outer);
    p->l2_ofs = 0;
    p->l3_ofs = p->l4_ofs = p->inner_l2_ofs = PKT_OFS_NONE;
    if (keep_offload) {
        p->offload.csum_start = (uint16_t) (p->offload.csum_start - outer);
        p->offload.csum_valid = 0;
    } else {
        p->flags &= (uint8_t) ~PKT_F_OFFLOAD;
    }
    return TUNNEL_OK;
}

const char *
tunnel_type_name(enum tunnel_type type)
{
    return type == TUNNEL_VXLAN ? "vxlan" : "geneve";
}

int
tunnel_type_from_name(const char *name)
{
    if (!strcmp(name, "vxlan")) {
        return TUNNEL_VXLAN;
    }
    if (!strcmp(name, "geneve")) {
        return TUNNEL_GENEVE;
    }
    return -EINVAL;
}
