/* SPDX-License-Identifier: Apache-2.0 */
#include "net/flow-format.h"

#include "net/addr.h"

static void
put_mac(struct vf_jw *w, const char *name, const struct eth_addr *a)
{
    char s[ETH_ADDR_STRLEN];
    vf_jw_kstr(w, name, eth_addr_format(a, s));
}

static void
put_ipv4(struct vf_jw *w, const char *name, vf_be32 a)
{
    char s[IPV4_STRLEN];
    vf_jw_kstr(w, name, ipv4_format(a, s));
}

static void
put_ipv6(struct vf_jw *w, const char *name, const uint8_t a[16])
{
    char s[IPV6_STRLEN];
    vf_jw_kstr(w, name, ipv6_format(a, s));
}

static void
format_l2(struct vf_jw *w, const struct flow_key *key,
          const struct flow_parse_info *info)
{
    if (key->in_port) {
        vf_jw_ku64(w, "in_port", key->in_port);
    }
    if (key->tun_id || key->tun_src || key->tun_dst) {
        vf_jw_ku64(w, "tun_id", key->tun_id);
        if (key->tun_src || key->tun_dst) {
            put_ipv4(w, "tun_src", key->tun_src);
            put_ipv4(w, "tun_dst", key->tun_dst);
        }
    }
    if (!flow_parse_has(info, FLOW_LAYER_ETH)) {
        return;
    }
    put_mac(w, "dl_src", &key->dl_src);
    put_mac(w, "dl_dst", &key->dl_dst);
    if (key->dl_type) {
        vf_jw_ku64(w, "dl_type", vf_ntohs(key->dl_type));
    }
    if (info->n_vlans >= 1) {
        vf_jw_ku64(w, "vlan_tpid", vf_ntohs(key->vlan_tpid));
        vf_jw_ku64(w, "vlan_vid", flow_key_vlan_vid(key));
        vf_jw_ku64(w, "vlan_pcp", flow_key_vlan_pcp(key));
    }
    if (info->n_vlans >= 2) {
        vf_jw_ku64(w, "vlan2_vid", vf_ntohs(key->vlan2_tci) & VLAN_VID_MASK);
        vf_jw_ku64(w, "vlan2_pcp", vf_ntohs(key->vlan2_tci) >> VLAN_PCP_SHIFT);
    }
}

static void
format_ip_common(struct vf_jw *w, const struct flow_key *key)
{
    vf_jw_ku64(w, "nw_proto", key->nw_proto);
    vf_jw_ku64(w, "nw_tos", key->nw_tos & 0xfc);
    vf_jw_ku64(w, "nw_ecn", key->nw_tos & 0x03);
    vf_jw_ku64(w, "nw_ttl", key->nw_ttl);
    if (key->nw_frag & FLOW_NW_FRAG_ANY) {
        vf_jw_kstr(w, "nw_frag",
                   key->nw_frag & FLOW_NW_FRAG_LATER ? "later" : "first");
    }
}

static void
format_l3(struct vf_jw *w, const struct flow_key *key,
          const struct flow_parse_info *info)
{
    if (flow_parse_has(info, FLOW_LAYER_IPV4)) {
        put_ipv4(w, "nw_src", key->nw_src);
        put_ipv4(w, "nw_dst", key->nw_dst);
        format_ip_common(w, key);
    } else if (flow_parse_has(info, FLOW_LAYER_IPV6)) {
        put_ipv6(w, "ipv6_src", key->ipv6_src);
        put_ipv6(w, "ipv6_dst", key->ipv6_dst);
        vf_jw_ku64(w, "ipv6_label", vf_ntohl(key->ipv6_label));
        format_ip_common(w, key);
    } else if (flow_parse_has(info, FLOW_LAYER_ARP)) {
        vf_jw_ku64(w, "arp_op", vf_ntohs(key->arp_op));
        put_ipv4(w, "arp_spa", key->nw_src);
        put_ipv4(w, "arp_tpa", key->nw_dst);
        put_mac(w, "arp_sha", &key->arp_sha);
        put_mac(w, "arp_tha", &key->arp_tha);
    }
}

static void
format_l4(struct vf_jw *w, const struct flow_key *key,
          const struct flow_parse_info *info)
{
    if (flow_parse_has(info, FLOW_LAYER_TCP)
        || flow_parse_has(info, FLOW_LAYER_UDP)
        || flow_parse_has(info, FLOW_LAYER_SCTP)) {
        vf_jw_ku64(w, "tp_src", vf_ntohs(key->tp_src));
        vf_jw_ku64(w, "tp_dst", vf_ntohs(key->tp_dst));
        if (flow_parse_has(info, FLOW_LAYER_TCP)) {
            vf_jw_ku64(w, "tcp_flags", vf_ntohs(key->tcp_flags));
        }
    } else if (flow_parse_has(info, FLOW_LAYER_ICMP)
               || flow_parse_has(info, FLOW_LAYER_ICMPV6)) {
        vf_jw_ku64(w, "icmp_type", vf_ntohs(key->tp_src));
        vf_jw_ku64(w, "icmp_code", vf_ntohs(key->tp_dst));
    }
    if (flow_parse_has(info, FLOW_LAYER_ND)) {
        put_ipv6(w, "nd_target", key->nd_target);
        if (info->nd_opts & PARSE_ND_SLL) {
            put_mac(w, "nd_sll", &key->nd_sll);
        }
        if (info->nd_opts & PARSE_ND_TLL) {
            put_mac(w, "nd_tll", &key->nd_tll);
        }
    }
}

void
flow_key_format_json(struct vf_jw *w, const struct flow_key *key,
                     const struct flow_parse_info *info)
{
    format_l2(w, key, info);
    format_l3(w, key, info);
    format_l4(w, key, info);
}
