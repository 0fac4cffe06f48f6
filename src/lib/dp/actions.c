/* SPDX-License-Identifier: Apache-2.0 */
/* Frame rewrites for actions: VLAN tags and set_field.
 *
 * Tags.  A tag is pushed by moving the 12 address bytes 4 bytes into the
 * headroom (pkt_push) and writing TPID + TCI after them; popped by the
 * reverse.  A frame with offload metadata has its checksum start moved
 * with it.  In the flow key, vlan_tci keeps VLAN_CFI as "tag present".
 *
 * set_field.  The datapath applies set_field to the flow key first (so
 * later tables match the new value), then dp_commit_key() writes every
 * header field that differs between the old and new key into the frame,
 * fixing the IPv4 header checksum and the TCP/UDP/ICMP checksums
 * incrementally (RFC 1624).  A partial checksum (offload: the field holds
 * the pseudo-header sum, not its complement) is updated as a sum.  Fields
 * that cannot be carried into a frame (tcp_flags, ip_frag, nd fields) are
 * refused when the rule is added (dp_field_is_committable). */
#include <errno.h>
#include <string.h>

#include "dp/dp-private.h"
#include "net/csum.h"
#include "net/wire.h"

static void
shift_offload(struct pkt *p, int delta)
{
    if (p->flags & PKT_F_OFFLOAD) {
        p->offload.csum_start = (uint16_t) (p->offload.csum_start + delta);
    }
}

static bool
frame_has_tag(const struct pkt *p)
{
    if (p->size < ETH_HDR_LEN + VLAN_HDR_LEN) {
        return false;
    }
    vf_be16 type = vf_get_u16(pkt_data(p) + 12);
    return type == VF_BE16(ETH_TYPE_VLAN) || type == VF_BE16(ETH_TYPE_QINQ);
}

int
dp_vlan_push(struct pkt *p, struct flow_key *key, uint16_t tpid, uint16_t tci)
{
    uint8_t *d = pkt_push(p, VLAN_HDR_LEN);
    if (!d) {
        return -ENOSPC;
    }
    memmove(d, d + VLAN_HDR_LEN, 2 * ETH_ADDR_LEN);
    vf_put_u16(d + 12, vf_htons(tpid));
    vf_put_u16(d + 14, vf_htons(tci));
    shift_offload(p, VLAN_HDR_LEN);
    if (key) {
        key->vlan2_tci = key->vlan_tci;
        key->vlan_tci = vf_htons(tci | VLAN_CFI);
        key->vlan_tpid = vf_htons(tpid);
    }
    return 0;
}

int
dp_vlan_strip(struct pkt *p, struct flow_key *key)
{
    if (!frame_has_tag(p)) {
        return 0;
    }
    uint8_t *d = pkt_data(p);
    memmove(d + VLAN_HDR_LEN, d, 2 * ETH_ADDR_LEN);
    pkt_pull(p, VLAN_HDR_LEN);
    shift_offload(p, -VLAN_HDR_LEN);
    if (key) {
        key->vlan_tci = key->vlan2_tci;
        key->vlan2_tci = 0;
        key->vlan_tpid = key->vlan_tci ? VF_BE16(ETH_TYPE_VLAN) : 0;
    }
    return 0;
}

int
dp_vlan_set(struct pkt *p, struct flow_key *key, int vid)
{
    if (vid < 0) {
        return dp_vlan_strip(p, key);
    }
    if (!frame_has_tag(p)) {
        return dp_vlan_push(p, key, ETH_TYPE_VLAN, (uint16_t) vid);
    }
    uint8_t *tci = pkt_data(p) + 14;
    uint16_t v = (uint16_t) ((vf_ntohs(vf_get_u16(tci)) & ~VLAN_VID_MASK)
                             | (uint16_t) vid);
    vf_put_u16(tci, vf_htons(v));
    if (key) {
        key->vlan_tci = vf_htons(v | VLAN_CFI);
    }
    return 0;
}

bool
dp_field_is_committable(enum field_id field)
{
    switch (field) {
    case FIELD_TUN_ID: case FIELD_TUN_SRC: case FIELD_TUN_DST:
    case FIELD_DL_SRC: case FIELD_DL_DST:
    case FIELD_VLAN_TCI: case FIELD_DL_VLAN: case FIELD_DL_VLAN_PCP:
    case FIELD_NW_SRC: case FIELD_NW_DST: case FIELD_ARP_SPA:
    case FIELD_ARP_TPA: case FIELD_NW_TOS: case FIELD_IP_DSCP:
    case FIELD_NW_ECN: case FIELD_NW_TTL:
    case FIELD_IPV6_SRC: case FIELD_IPV6_DST: case FIELD_IPV6_LABEL:
    case FIELD_TP_SRC: case FIELD_TP_DST:
    case FIELD_ICMP_TYPE: case FIELD_ICMP_CODE:
    case FIELD_ARP_OP: case FIELD_ARP_SHA: case FIELD_ARP_THA:
        return true;
    default:
        return false;
    }
}

/* Where the L4 checksum of a frame is, and whether it is partial. */
struct l4_csum {
    uint8_t *field;              /* NULL: none to maintain. */
    bool partial;                /* Holds the pseudo-header sum. */
    bool pseudo;                 /* Covers the IP addresses. */
};

static struct l4_csum
find_l4_csum(struct pkt *p, const struct flow_key *key,
             const struct flow_parse_info *info)
{
    struct l4_csum c = {NULL, false, true};
    if (info->l4_ofs == PARSE_OFS_NONE || info->l7_ofs == PARSE_OFS_NONE) {
        return c;
    }
    uint8_t *l4 = pkt_data(p) + info->l4_ofs;
    switch (key->nw_proto) {
    case IP_PROTO_TCP:
        c.field = l4 + 16;
        break;
    case IP_PROTO_UDP:
        c.field = l4 + 6;
        if (key->dl_type == VF_BE16(ETH_TYPE_IPV4)
            && vf_get_u16(c.field) == 0) {
            c.field = NULL;      /* IPv4 UDP without a checksum. */
        }
        break;
    case IP_PROTO_ICMP:
        c.field = l4 + 2;
        c.pseudo = false;
        break;
    case IP_PROTO_ICMPV6:
        c.field = l4 + 2;
        break;
    default:
        return c;
    }
    c.partial = (p->flags & PKT_F_OFFLOAD) && p->offload.needs_csum
                && p->offload.csum_start == info->l4_ofs;
    return c;
}

/* Updates checksum 'field' for a change of 'n' bytes from 'old' to 'new_'
 * (n a multiple of 2). */
static void
csum_fix(uint8_t *field, bool partial, const void *old, const void *new_,
         size_t n)
{
    if (!field) {
        return;
    }
    vf_be16 c = vf_get_u16(field);
    if (partial) {
        c = (vf_be16) ~c;        /* Treat the sum as a checksum. */
    }
    const uint8_t *o = old, *w = new_;
    for (size_t i = 0; i < n; i += 2) {
        c = csum_update16(c, vf_get_u16(o + i), vf_get_u16(w + i));
    }
    if (partial) {
        c = (vf_be16) ~c;
    }
    vf_put_u16(field, c);
}

/* Writes 'n' bytes at 'dst' (a header field) and fixes 'l4' (if the field
 * is covered) and 'ip_csum' (an IPv4 header checksum, or NULL). */
static void
write_field(uint8_t *dst, const void *val, size_t n, struct l4_csum *l4,
            bool in_pseudo, uint8_t *ip_csum)
{
    uint8_t old[16];
    memcpy(old, dst, n);
    if (!memcmp(old, val, n)) {
        return;
    }
    if (l4->field && (in_pseudo ? l4->pseudo : true)) {
        csum_fix(l4->field, l4->partial, old, val, n);
    }
    if (ip_csum) {
        csum_fix(ip_csum, false, old, val, n);
    }
    memcpy(dst, val, n);
}

static void
commit_ipv4(struct pkt *p, const struct flow_key *n_,
            const struct flow_parse_info *info, struct l4_csum *l4)
{
    uint8_t *ip = pkt_data(p) + info->l3_ofs;
    uint8_t *ip_csum = ip + 10;
    struct l4_csum none = {NULL, false, false};
    /* TOS and TTL: 16-bit aligned words for the incremental update. */
    uint8_t w[2] = {ip[0], n_->nw_tos};
    write_field(ip, w, 2, &none, false, ip_csum);
    uint8_t t[2] = {n_->nw_ttl, ip[9]};
    write_field(ip + 8, t, 2, &none, false, ip_csum);
    write_field(ip + 12, &n_->nw_src, 4, l4, true, ip_csum);
    write_field(ip + 16, &n_->nw_dst, 4, l4, true, ip_csum);
}

static void
commit_ipv6(struct pkt *p, const struct flow_key *n_,
            const struct flow_parse_info *info, struct l4_csum *l4)
{
    uint8_t *ip = pkt_data(p) + info->l3_ofs;
    struct l4_csum none = {NULL, false, false};
    uint32_t vtf = (6u << 28) | ((uint32_t) n_->nw_tos << 20)
                   | (vf_ntohl(n_->ipv6_label) & IPV6_LABEL_MASK);
    vf_be32 vtf_be = vf_htonl(vtf);
    write_field(ip, &vtf_be, 4, &none, false, NULL);
    ip[7] = n_->nw_ttl;
    write_field(ip + 8, n_->ipv6_src, 16, l4, true, NULL);
    write_field(ip + 24, n_->ipv6_dst, 16, l4, true, NULL);
}

static void
commit_arp(struct pkt *p, const struct flow_key *n_,
           const struct flow_parse_info *info)
{
    uint8_t *a = pkt_data(p) + info->l3_ofs;
    vf_put_u16(a + 6, n_->arp_op);
    memcpy(a + 8, n_->arp_sha.ea, 6);
    memcpy(a + 14, &n_->nw_src, 4);
    memcpy(a + 18, n_->arp_tha.ea, 6);
    memcpy(a + 24, &n_->nw_dst, 4);
}

static void
commit_l4(struct pkt *p, const struct flow_key *n_,
          const struct flow_parse_info *info, struct l4_csum *l4)
{
    uint8_t *h = pkt_data(p) + info->l4_ofs;
    if (n_->nw_proto == IP_PROTO_TCP || n_->nw_proto == IP_PROTO_UDP
        || n_->nw_proto == IP_PROTO_SCTP) {
        /* SCTP's CRC32c is not maintained incrementally: SCTP frames keep
         * their ports (validation refuses nothing; SCTP is rare here). */
        if (n_->nw_proto != IP_PROTO_SCTP) {
            write_field(h, &n_->tp_src, 2, l4, false, NULL);
            write_field(h + 2, &n_->tp_dst, 2, l4, false, NULL);
        }
    } else if (n_->nw_proto == IP_PROTO_ICMP
               || n_->nw_proto == IP_PROTO_ICMPV6) {
        uint8_t tc[2] = {(uint8_t) vf_ntohs(n_->tp_src),
                         (uint8_t) vf_ntohs(n_->tp_dst)};
        write_field(h, tc, 2, l4, false, NULL);
    }
}

int
dp_commit_key(struct pkt *p, const struct flow_key *old,
              const struct flow_key *new_)
{
    if (flow_key_equal(old, new_)) {
        return 0;
    }
    uint8_t *d = pkt_data(p);
    memcpy(d, new_->dl_dst.ea, 6);
    memcpy(d + 6, new_->dl_src.ea, 6);
    if (frame_has_tag(p) && old->vlan_tci != new_->vlan_tci) {
        vf_put_u16(d + 14, new_->vlan_tci & ~VF_BE16(VLAN_CFI));
    }

    struct flow_key k;
    struct flow_parse_info info;
    flow_parse(d, p->size, 0, &k, &info);
    struct l4_csum l4 = find_l4_csum(p, &k, &info);
    if (flow_parse_has(&info, FLOW_LAYER_IPV4)) {
        commit_ipv4(p, new_, &info, &l4);
    } else if (flow_parse_has(&info, FLOW_LAYER_IPV6)) {
        commit_ipv6(p, new_, &info, &l4);
    } else if (flow_parse_has(&info, FLOW_LAYER_ARP)) {
        commit_arp(p, new_, &info);
        return 0;
    }
    if (info.l7_ofs != PARSE_OFS_NONE) {
        commit_l4(p, new_, &info, &l4);
    }
    return 0;
}
