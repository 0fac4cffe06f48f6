/* SPDX-License-Identifier: Apache-2.0 */
/* Parser unit tests: one frame per protocol built by pktgen.h, every field
 * checked; then every prefix of every frame (truncation at each byte) must
 * parse without reading past the end (ASan checks that in the sanitizer
 * build) and must keep exactly the layers that fit. */
#include "harness.h"

#include "net/addr.h"
#include "net/parse.h"
#include "pkt/pkt-batch.h"
#include "pkt/pkt-pool.h"
#include "pktgen.h"
#include "util/random.h"

static const char MAC1[6] = {0x02, 0, 0, 0, 0, 1};
static const char MAC2[6] = {0x02, 0, 0, 0, 0, 2};
static const char IP1[4] = {10, 0, 0, 1};
static const char IP2[4] = {10, 0, 0, 2};
static const uint8_t V6A[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 1};
static const uint8_t V6B[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 2};

/* Parses a copy of the frame in a buffer of exactly its size, so that
 * ASan catches any read past the end. */
static bool
parse_exact(const struct pktgen *g, uint32_t size, struct flow_key *key,
            struct flow_parse_info *info)
{
    uint8_t *copy = malloc(size ? size : 1);
    memcpy(copy, g->buf, size);
    bool ok = flow_parse(copy, size, 7, key, info);
    free(copy);
    return ok;
}

static void
build_tcp4(struct pktgen *g)
{
    memset(g, 0, sizeof *g);
    pg_eth(g, MAC2, MAC1, ETH_TYPE_IPV4);
    struct ipv4_hdr *ip = pg_ipv4(g, IP1, IP2, IP_PROTO_TCP);
    ip->tos = 0xb9;              /* DSCP 46, ECN 1. */
    pg_tcp(g, 1234, 80, 0x012);  /* SYN ACK */
    pg_put(g, "payload", 7);
    pg_finish(g);
}

static void
test_ipv4_tcp(void)
{
    struct pktgen g;
    struct flow_key k;
    struct flow_parse_info info;
    build_tcp4(&g);
    CHECK(parse_exact(&g, g.len, &k, &info));
    CHECK_EQ_U(info.truncated, 0);
    CHECK_EQ_U(k.in_port, 7);
    CHECK_MEM(k.dl_src.ea, MAC1, 6);
    CHECK_MEM(k.dl_dst.ea, MAC2, 6);
    CHECK_EQ_U(vf_ntohs(k.dl_type), ETH_TYPE_IPV4);
    CHECK_MEM(&k.nw_src, IP1, 4);
    CHECK_MEM(&k.nw_dst, IP2, 4);
    CHECK_EQ_U(k.nw_proto, IP_PROTO_TCP);
    CHECK_EQ_U(k.nw_tos, 0xb9);
    CHECK_EQ_U(k.nw_ttl, 64);
    CHECK_EQ_U(k.nw_frag, 0);
    CHECK_EQ_U(vf_ntohs(k.tp_src), 1234);
    CHECK_EQ_U(vf_ntohs(k.tp_dst), 80);
    CHECK_EQ_U(vf_ntohs(k.tcp_flags), 0x012);
    CHECK_EQ_U(info.l3_ofs, 14);
    CHECK_EQ_U(info.l4_ofs, 34);
    CHECK_EQ_U(info.l7_ofs, 54);
    CHECK(flow_parse_has(&info, FLOW_LAYER_TCP));
}

static void
test_ethernet_padding_is_not_payload(void)
{
    /* A 60-byte frame with a 40-byte IPv4/TCP datagram: 6 bytes of
     * padding must not change l3_end. */
    struct pktgen g;
    struct flow_key k;
    struct flow_parse_info info;
    memset(&g, 0, sizeof g);
    pg_eth(&g, MAC2, MAC1, ETH_TYPE_IPV4);
    pg_ipv4(&g, IP1, IP2, IP_PROTO_TCP);
    pg_tcp(&g, 1, 2, 0x10);
    pg_finish(&g);
    pg_put(&g, NULL, 6);
    CHECK(parse_exact(&g, g.len, &k, &info));
    CHECK_EQ_U(info.l3_end, 54);
}

static void
test_ipv4_options_and_fragments(void)
{
    struct pktgen g;
    struct flow_key k;
    struct flow_parse_info info;
    memset(&g, 0, sizeof g);
    pg_eth(&g, MAC2, MAC1, ETH_TYPE_IPV4);
    struct ipv4_hdr *ip = pg_ipv4(&g, IP1, IP2, IP_PROTO_UDP);
    ip->ver_ihl = 0x46;
    pg_put(&g, "\x01\x01\x01\x00", 4);   /* NOP NOP NOP EOL */
    ip->frag_off = vf_htons(IPV4_MF);    /* First fragment. */
    pg_udp(&g, 53, 5353);
    pg_finish(&g);
    CHECK(parse_exact(&g, g.len, &k, &info));
    CHECK_EQ_U(k.nw_frag, FLOW_NW_FRAG_ANY);
    CHECK_EQ_U(vf_ntohs(k.tp_src), 53);
    CHECK_EQ_U(info.l4_ofs, 14 + 24);

    ip->frag_off = vf_htons(185);        /* Later fragment, no MF. */
    pg_finish(&g);
    CHECK(parse_exact(&g, g.len, &k, &info));
    CHECK_EQ_U(k.nw_frag, FLOW_NW_FRAG_ANY | FLOW_NW_FRAG_LATER);
    CHECK_EQ_U(k.tp_src, 0);             /* No L4 in a later fragment. */
    CHECK_EQ_U(info.l4_ofs, PARSE_OFS_NONE);
}

static void
test_ipv4_bad_headers(void)
{
    struct pktgen g;
    struct flow_key k;
    struct flow_parse_info info;
    build_tcp4(&g);
    struct ipv4_hdr *ip = (struct ipv4_hdr *) (g.buf + 14);

    ip->ver_ihl = 0x44;                  /* IHL 16 bytes < 20. */
    CHECK(!parse_exact(&g, g.len, &k, &info));
    CHECK_EQ_U(info.truncated, FLOW_LAYER_IPV4);
    CHECK_EQ_U(info.reason, PARSE_BAD_LENGTH);
    CHECK_EQ_U(k.nw_src, 0);             /* Whole layer discarded. */
    CHECK_MEM(k.dl_src.ea, MAC1, 6);     /* Ethernet kept. */

    ip->ver_ihl = 0x65;
    CHECK(!parse_exact(&g, g.len, &k, &info));
    CHECK_EQ_U(info.reason, PARSE_BAD_VERSION);

    ip->ver_ihl = 0x45;
    ip->tot_len = vf_htons(1000);        /* Longer than the frame. */
    CHECK(!parse_exact(&g, g.len, &k, &info));
    CHECK_EQ_U(info.truncated, FLOW_LAYER_IPV4);
    CHECK_EQ_U(info.reason, PARSE_SHORT);

    ip->tot_len = vf_htons(10);          /* Shorter than the header. */
    CHECK(!parse_exact(&g, g.len, &k, &info));
    CHECK_EQ_U(info.reason, PARSE_BAD_LENGTH);
}

static void
test_tcp_bad_offset(void)
{
    struct pktgen g;
    struct flow_key k;
    struct flow_parse_info info;
    build_tcp4(&g);
    g.buf[14 + 20 + 12] = 0x40;          /* Data offset 4 words. */
    CHECK(!parse_exact(&g, g.len, &k, &info));
    CHECK_EQ_U(info.truncated, FLOW_LAYER_TCP);
    CHECK_EQ_U(info.reason, PARSE_BAD_LENGTH);
    CHECK_EQ_U(k.tp_src, 0);
    CHECK_EQ_U(k.nw_proto, IP_PROTO_TCP); /* IPv4 kept. */
    g.buf[14 + 20 + 12] = 0xf0;          /* 60 bytes: past the end. */
    CHECK(!parse_exact(&g, g.len, &k, &info));
    CHECK_EQ_U(info.reason, PARSE_SHORT);
}

static void
test_vlan_and_qinq(void)
{
    struct pktgen g;
    struct flow_key k;
    struct flow_parse_info info;
    memset(&g, 0, sizeof g);
    pg_eth(&g, MAC2, MAC1, ETH_TYPE_QINQ);
    pg_vlan(&g, (5u << 13) | 100, ETH_TYPE_VLAN);
    pg_vlan(&g, (2u << 13) | 200, ETH_TYPE_IPV4);
    pg_ipv4(&g, IP1, IP2, IP_PROTO_UDP);
    pg_udp(&g, 1, 2);
    pg_finish(&g);
    CHECK(parse_exact(&g, g.len, &k, &info));
    CHECK_EQ_U(info.n_vlans, 2);
    CHECK_EQ_U(vf_ntohs(k.vlan_tpid), ETH_TYPE_QINQ);
    CHECK(flow_key_has_vlan(&k));
    CHECK_EQ_U(flow_key_vlan_vid(&k), 100);
    CHECK_EQ_U(flow_key_vlan_pcp(&k), 5);
    CHECK_EQ_U(vf_ntohs(k.vlan2_tci) & VLAN_VID_MASK, 200);
    CHECK_EQ_U(vf_ntohs(k.vlan2_tci) >> VLAN_PCP_SHIFT, 2);
    CHECK_EQ_U(vf_ntohs(k.dl_type), ETH_TYPE_IPV4);
    CHECK_EQ_U(info.l3_ofs, 22);

    /* Cut inside the second tag. */
    CHECK(!parse_exact(&g, 20, &k, &info));
    CHECK_EQ_U(info.truncated, FLOW_LAYER_VLAN);
    CHECK_EQ_U(info.n_vlans, 1);
    CHECK_EQ_U(k.dl_type, 0);
}

static void
test_arp(void)
{
    struct pktgen g;
    struct flow_key k;
    struct flow_parse_info info;
    memset(&g, 0, sizeof g);
    pg_eth(&g, "\xff\xff\xff\xff\xff\xff", MAC1, ETH_TYPE_ARP);
    struct arp_eth_ipv4 *a = pg_put(&g, NULL, sizeof *a);
    a->htype = vf_htons(1);
    a->ptype = vf_htons(ETH_TYPE_IPV4);
    a->hlen = 6;
    a->plen = 4;
    a->op = vf_htons(ARP_OP_REQUEST);
    memcpy(a->sha.ea, MAC1, 6);
    memcpy(&a->spa, IP1, 4);
    memcpy(&a->tpa, IP2, 4);
    CHECK(parse_exact(&g, g.len, &k, &info));
    CHECK_EQ_U(vf_ntohs(k.arp_op), 1);
    CHECK_MEM(&k.nw_src, IP1, 4);
    CHECK_MEM(&k.nw_dst, IP2, 4);
    CHECK_MEM(k.arp_sha.ea, MAC1, 6);
    CHECK(eth_addr_is_zero(&k.arp_tha));
    CHECK(flow_parse_has(&info, FLOW_LAYER_ARP));

    a->plen = 16;                        /* Not Ethernet/IPv4: no fields. */
    CHECK(parse_exact(&g, g.len, &k, &info));
    CHECK(!flow_parse_has(&info, FLOW_LAYER_ARP));
    CHECK_EQ_U(k.arp_op, 0);
}

static void
build_ipv6_ext(struct pktgen *g, uint8_t frag_later)
{
    memset(g, 0, sizeof *g);
    pg_eth(g, MAC2, MAC1, ETH_TYPE_IPV6);
    struct ipv6_hdr *ip = pg_ipv6(g, V6A, V6B, IP_PROTO_IPV6_HOPOPTS);
    ip->ver_tc_flow = vf_htonl(6u << 28 | 0x2eu << 20 | 0x12345);
    /* Hop-by-hop (8 bytes), routing (16 bytes), fragment, dest opts. */
    uint8_t hbh[8] = {IP_PROTO_IPV6_ROUTING, 0, 1, 4, 0, 0, 0, 0};
    uint8_t rt[16] = {IP_PROTO_IPV6_FRAGMENT, 1, 0, 0};
    struct ipv6_frag_hdr fh = {IP_PROTO_IPV6_DSTOPTS, 0,
                               vf_htons(frag_later ? 0x0100 : 0x0001), 7};
    uint8_t dst[8] = {IP_PROTO_UDP, 0, 1, 4, 0, 0, 0, 0};
    pg_put(g, hbh, 8);
    pg_put(g, rt, 16);
    pg_put(g, &fh, 8);
    pg_put(g, dst, 8);
    pg_udp(g, 546, 547);
    pg_finish(g);
}

static void
test_ipv6_extension_headers(void)
{
    struct pktgen g;
    struct flow_key k;
    struct flow_parse_info info;
    build_ipv6_ext(&g, 0);
    CHECK(parse_exact(&g, g.len, &k, &info));
    CHECK_MEM(k.ipv6_src, V6A, 16);
    CHECK_MEM(k.ipv6_dst, V6B, 16);
    CHECK_EQ_U(vf_ntohl(k.ipv6_label), 0x12345);
    CHECK_EQ_U(k.nw_tos, 0x2e);
    CHECK_EQ_U(k.nw_ttl, 64);
    CHECK_EQ_U(k.nw_proto, IP_PROTO_UDP);
    CHECK_EQ_U(k.nw_frag, FLOW_NW_FRAG_ANY);
    CHECK_EQ_U(vf_ntohs(k.tp_src), 546);
    CHECK_EQ_U(info.l4_ofs, 14 + 40 + 40);

    build_ipv6_ext(&g, 1);
    CHECK(parse_exact(&g, g.len, &k, &info));
    CHECK_EQ_U(k.nw_frag, FLOW_NW_FRAG_ANY | FLOW_NW_FRAG_LATER);
    CHECK_EQ_U(k.nw_proto, IP_PROTO_IPV6_DSTOPTS);
    CHECK_EQ_U(k.tp_src, 0);

    /* Cut inside the routing header. */
    build_ipv6_ext(&g, 0);
    CHECK(!parse_exact(&g, 14 + 40 + 8 + 10, &k, &info));
    CHECK_EQ_U(info.truncated, FLOW_LAYER_IPV6);   /* Payload length. */
    /* Same cut, but with a consistent payload length. */
    struct ipv6_hdr *ip = (struct ipv6_hdr *) (g.buf + 14);
    ip->payload_len = vf_htons(8 + 10);
    CHECK(!parse_exact(&g, 14 + 40 + 8 + 10, &k, &info));
    CHECK_EQ_U(info.truncated, FLOW_LAYER_IPV6_EXT);
    CHECK_MEM(k.ipv6_src, V6A, 16);      /* IPv6 layer kept. */
}

static void
test_ipv6_extension_limit(void)
{
    struct pktgen g;
    struct flow_key k;
    struct flow_parse_info info;
    memset(&g, 0, sizeof g);
    pg_eth(&g, MAC2, MAC1, ETH_TYPE_IPV6);
    pg_ipv6(&g, V6A, V6B, IP_PROTO_IPV6_DSTOPTS);
    for (int i = 0; i < PARSE_MAX_IPV6_EXT + 1; i++) {
        uint8_t d[8] = {IP_PROTO_IPV6_DSTOPTS, 0, 1, 4};
        pg_put(&g, d, 8);
    }
    pg_finish(&g);
    CHECK(!parse_exact(&g, g.len, &k, &info));
    CHECK_EQ_U(info.truncated, FLOW_LAYER_IPV6_EXT);
    CHECK_EQ_U(info.reason, PARSE_EXT_LIMIT);
}

static void
build_nd(struct pktgen *g, uint8_t type, uint8_t opt_type, uint8_t opt_len)
{
    memset(g, 0, sizeof *g);
    pg_eth(g, MAC2, MAC1, ETH_TYPE_IPV6);
    pg_ipv6(g, V6A, V6B, IP_PROTO_ICMPV6);
    uint8_t icmp[4] = {type, 0, 0, 0};
    pg_put(g, icmp, 4);
    struct nd_msg nd = {0};
    memcpy(nd.target, V6B, 16);
    pg_put(g, &nd, sizeof nd);
    uint8_t opt[8] = {opt_type, opt_len, 0x02, 0xaa, 0xbb, 0xcc, 0xdd, 0xee};
    pg_put(g, opt, 8);
    pg_finish(g);
}

static void
test_neighbor_discovery(void)
{
    struct pktgen g;
    struct flow_key k;
    struct flow_parse_info info;
    const uint8_t mac[6] = {0x02, 0xaa, 0xbb, 0xcc, 0xdd, 0xee};

    build_nd(&g, ND_NEIGHBOR_SOLICIT, ND_OPT_SOURCE_LINKADDR, 1);
    CHECK(parse_exact(&g, g.len, &k, &info));
    CHECK_EQ_U(vf_ntohs(k.tp_src), ND_NEIGHBOR_SOLICIT);
    CHECK_MEM(k.nd_target, V6B, 16);
    CHECK_MEM(k.nd_sll.ea, mac, 6);
    CHECK(eth_addr_is_zero(&k.nd_tll));
    CHECK_EQ_U(info.nd_opts, PARSE_ND_SLL);

    build_nd(&g, ND_NEIGHBOR_ADVERT, ND_OPT_TARGET_LINKADDR, 1);
    CHECK(parse_exact(&g, g.len, &k, &info));
    CHECK_MEM(k.nd_tll.ea, mac, 6);
    CHECK_EQ_U(info.nd_opts, PARSE_ND_TLL);

    build_nd(&g, ND_NEIGHBOR_SOLICIT, ND_OPT_SOURCE_LINKADDR, 0);
    CHECK(!parse_exact(&g, g.len, &k, &info));
    CHECK_EQ_U(info.truncated, FLOW_LAYER_ND);
    CHECK_EQ_U(info.reason, PARSE_BAD_OPTION);
    CHECK(eth_addr_is_zero(&k.nd_sll));
    CHECK_EQ_U(vf_ntohs(k.tp_src), ND_NEIGHBOR_SOLICIT); /* ICMPv6 kept. */
}

static void
test_icmp_and_sctp(void)
{
    struct pktgen g;
    struct flow_key k;
    struct flow_parse_info info;
    memset(&g, 0, sizeof g);
    pg_eth(&g, MAC2, MAC1, ETH_TYPE_IPV4);
    pg_ipv4(&g, IP1, IP2, IP_PROTO_ICMP);
    uint8_t icmp[8] = {ICMP_DEST_UNREACH, ICMP_FRAG_NEEDED};
    pg_put(&g, icmp, 8);
    pg_finish(&g);
    CHECK(parse_exact(&g, g.len, &k, &info));
    CHECK_EQ_U(vf_ntohs(k.tp_src), 3);
    CHECK_EQ_U(vf_ntohs(k.tp_dst), 4);
    CHECK(flow_parse_has(&info, FLOW_LAYER_ICMP));

    memset(&g, 0, sizeof g);
    pg_eth(&g, MAC2, MAC1, ETH_TYPE_IPV6);
    pg_ipv6(&g, V6A, V6B, IP_PROTO_SCTP);
    struct sctp_hdr s = {vf_htons(5000), vf_htons(36412), 0, 0};
    pg_put(&g, &s, sizeof s);
    pg_finish(&g);
    CHECK(parse_exact(&g, g.len, &k, &info));
    CHECK_EQ_U(vf_ntohs(k.tp_src), 5000);
    CHECK_EQ_U(vf_ntohs(k.tp_dst), 36412);
}

static void
build_vxlan(struct pktgen *g, uint32_t vni)
{
    memset(g, 0, sizeof *g);
    pg_eth(g, MAC2, MAC1, ETH_TYPE_IPV4);
    pg_ipv4(g, "\xc0\xa8\x01\x01", "\xc0\xa8\x01\x02", IP_PROTO_UDP);
    pg_udp(g, 49152, VXLAN_UDP_PORT);
    struct vxlan_hdr vx = {VF_BE32(VXLAN_FLAG_I), vf_htonl(vni << 8)};
    pg_put(g, &vx, sizeof vx);
    uint32_t outer_l3 = g->l3;
    pg_eth(g, "\x02\0\0\0\0\x0b", "\x02\0\0\0\0\x0a", ETH_TYPE_IPV4);
    pg_ipv4(g, IP1, IP2, IP_PROTO_TCP);
    pg_tcp(g, 40000, 22, 0x02);
    pg_finish(g);                /* Inner IPv4. */
    g->l3 = outer_l3;
    pg_finish(g);                /* Outer IPv4. */
}

static void
test_vxlan_inner(void)
{
    struct pktgen g;
    struct flow_key k, in;
    struct flow_parse_info info, iinfo;
    build_vxlan(&g, 5001);
    CHECK(parse_exact(&g, g.len, &k, &info));
    CHECK_EQ_U(info.tunnel, FLOW_TUNNEL_VXLAN);
    CHECK_EQ_U(info.tun_vni, 5001);
    CHECK_EQ_U(info.inner_ofs, 14 + 20 + 8 + 8);
    CHECK_EQ_U(vf_ntohs(k.tp_dst), 4789);
    CHECK(flow_parse_inner(g.buf, g.len, &k, &info, &in, &iinfo));
    CHECK_EQ_U(in.tun_id, 5001);
    CHECK_MEM(&in.tun_src, "\xc0\xa8\x01\x01", 4);
    CHECK_MEM(&in.tun_dst, "\xc0\xa8\x01\x02", 4);
    CHECK_MEM(&in.nw_src, IP1, 4);
    CHECK_EQ_U(vf_ntohs(in.tp_dst), 22);
    CHECK_EQ_U(in.in_port, 7);

    /* Without the I flag it is plain UDP. */
    g.buf[14 + 20 + 8] = 0;
    CHECK(parse_exact(&g, g.len, &k, &info));
    CHECK_EQ_U(info.tunnel, FLOW_TUNNEL_NONE);
}

static void
test_geneve_with_options(void)
{
    struct pktgen g;
    struct flow_key k, in;
    struct flow_parse_info info, iinfo;
    memset(&g, 0, sizeof g);
    pg_eth(&g, MAC2, MAC1, ETH_TYPE_IPV4);
    pg_ipv4(&g, IP1, IP2, IP_PROTO_UDP);
    pg_udp(&g, 1000, GENEVE_UDP_PORT);
    struct geneve_hdr gh = {2, GENEVE_FLAG_CRITICAL, VF_BE16(ETH_TYPE_TEB),
                            vf_htonl(0x123456u << 8)};
    pg_put(&g, &gh, sizeof gh);
    struct geneve_opt opt = {VF_BE16(GENEVE_OPT_CLASS_VFAB),
                             GENEVE_OPT_VFAB_SRC_GID, 1};
    pg_put(&g, &opt, sizeof opt);
    pg_put(&g, "\0\0\0\x2a", 4);
    uint32_t outer = g.l3;
    pg_eth(&g, MAC1, MAC2, ETH_TYPE_ARP);
    struct arp_eth_ipv4 *a = pg_put(&g, NULL, sizeof *a);
    a->htype = vf_htons(1);
    a->ptype = vf_htons(ETH_TYPE_IPV4);
    a->hlen = 6;
    a->plen = 4;
    a->op = vf_htons(2);
    g.l3 = outer;
    pg_finish(&g);
    CHECK(parse_exact(&g, g.len, &k, &info));
    CHECK_EQ_U(info.tunnel, FLOW_TUNNEL_GENEVE);
    CHECK_EQ_U(info.tun_vni, 0x123456);
    CHECK_EQ_U(info.geneve_opt_len, 8);
    CHECK_EQ_U(info.geneve_flags, GENEVE_FLAG_CRITICAL);
    CHECK(flow_parse_inner(g.buf, g.len, &k, &info, &in, &iinfo));
    CHECK_EQ_U(vf_ntohs(in.arp_op), 2);

    /* Options longer than the frame. */
    g.buf[14 + 20 + 8] = 0x3f;
    CHECK(!parse_exact(&g, g.len, &k, &info));
    CHECK_EQ_U(info.truncated, FLOW_LAYER_GENEVE);
    CHECK_EQ_U(vf_ntohs(k.tp_dst), GENEVE_UDP_PORT);  /* UDP kept. */
}

/* Regression (found by tests/integration/t-judge-parse.py): ARP of another
 * hardware or protocol type is complete without the 28 bytes of the
 * Ethernet/IPv4 form; only its 8-byte fixed part must be there. */
static void
test_arp_other_types_are_not_truncated(void)
{
    struct pktgen g;
    struct flow_key k;
    struct flow_parse_info info;
    memset(&g, 0, sizeof g);
    pg_eth(&g, "\xff\xff\xff\xff\xff\xff", MAC1, ETH_TYPE_ARP);
    /* hlen 2, plen 2: 8 + 2 * (2 + 2) = 16 bytes, a 30-byte frame. */
    const uint8_t arp[16] = {0, 1, 8, 0, 2, 2, 0, 1,
                             0xaa, 0xbb, 10, 1, 0xcc, 0xdd, 10, 2};
    pg_put(&g, arp, sizeof arp);
    CHECK(parse_exact(&g, g.len, &k, &info));
    CHECK_EQ_U(info.truncated, 0);
    CHECK(!flow_parse_has(&info, FLOW_LAYER_ARP));
    CHECK_EQ_U(k.arp_op, 0);
    CHECK_EQ_U(vf_ntohs(k.dl_type), ETH_TYPE_ARP);

    /* The fixed part cut: truncated. */
    CHECK(!parse_exact(&g, 14 + 7, &k, &info));
    CHECK_EQ_U(info.truncated, FLOW_LAYER_ARP);

    /* Ethernet/IPv4 ARP still needs all 28 bytes. */
    g.buf[14 + 4] = 6;
    g.buf[14 + 5] = 4;
    CHECK(!parse_exact(&g, g.len, &k, &info));
    CHECK_EQ_U(info.truncated, FLOW_LAYER_ARP);
    CHECK_EQ_U(info.reason, PARSE_SHORT);
    CHECK_EQ_U(k.nw_src, 0);
}

/* Regression (found by the judge): ICMP and ICMPv6 need their whole 8-byte
 * header, as in Open vSwitch and Wireshark; 4 bytes used to be enough. */
static void
test_icmp_needs_8_bytes(void)
{
    for (int v6 = 0; v6 <= 1; v6++) {
        for (uint32_t n = 4; n <= 8; n++) {
            struct pktgen g;
            struct flow_key k;
            struct flow_parse_info info;
            memset(&g, 0, sizeof g);
            if (v6) {
                pg_eth(&g, MAC2, MAC1, ETH_TYPE_IPV6);
                pg_ipv6(&g, V6A, V6B, IP_PROTO_ICMPV6);
            } else {
                pg_eth(&g, MAC2, MAC1, ETH_TYPE_IPV4);
                pg_ipv4(&g, IP1, IP2, IP_PROTO_ICMP);
            }
            uint32_t l4 = g.len;
            pg_put(&g, "\x80\x00\x00\x00\x00\x01\x00\x02", n);
            pg_finish(&g);
            /* Padded to 64 bytes: the padding must not complete it. */
            pg_put(&g, NULL, 64 - g.len % 64);
            bool ok = parse_exact(&g, g.len, &k, &info);
            enum flow_layer layer = v6 ? FLOW_LAYER_ICMPV6 : FLOW_LAYER_ICMP;
            if (n < 8) {
                CHECK(!ok);
                CHECK_EQ_U(info.truncated, layer);
                CHECK(!flow_parse_has(&info, layer));
                CHECK_EQ_U(k.tp_src, 0);
            } else {
                CHECK(ok);
                CHECK(flow_parse_has(&info, layer));
                CHECK_EQ_U(vf_ntohs(k.tp_src), 0x80);
                CHECK_EQ_U(info.l7_ofs, l4 + 8);
            }
        }
    }
}

/* Regression (found by the judge): an IPv6 payload length of 0 is an
 * empty payload, as for Open vSwitch and Wireshark; it used to mean "up to
 * the end of the frame", which took Ethernet padding for a header. */
static void
test_ipv6_zero_payload_length(void)
{
    struct pktgen g;
    struct flow_key k;
    struct flow_parse_info info;
    memset(&g, 0, sizeof g);
    pg_eth(&g, MAC2, MAC1, ETH_TYPE_IPV6);
    pg_ipv6(&g, V6A, V6B, IP_PROTO_UDP);
    pg_put(&g, NULL, 8);         /* Padding to 62 bytes, or a UDP header. */
    CHECK(!parse_exact(&g, g.len, &k, &info));
    CHECK_EQ_U(info.truncated, FLOW_LAYER_UDP);
    CHECK_EQ_U(info.l3_end, 14 + 40);
    CHECK_MEM(k.ipv6_src, V6A, 16);      /* IPv6 kept. */

    struct ipv6_hdr *ip = (struct ipv6_hdr *) (g.buf + 14);
    ip->next_hdr = IP_PROTO_IPV6_NONE;
    CHECK(parse_exact(&g, g.len, &k, &info));
    CHECK_EQ_U(k.nw_proto, IP_PROTO_IPV6_NONE);

    ip->next_hdr = IP_PROTO_IPV6_DSTOPTS;
    CHECK(!parse_exact(&g, g.len, &k, &info));
    CHECK_EQ_U(info.truncated, FLOW_LAYER_IPV6_EXT);
}

/* Every prefix of every test frame: no out-of-bounds read (ASan), never
 * more layers than the full frame, and a complete parse only when the
 * prefix holds every header. */
static void
test_every_truncation(void)
{
    struct pktgen frames[6];
    build_tcp4(&frames[0]);
    build_ipv6_ext(&frames[1], 0);
    build_nd(&frames[2], ND_NEIGHBOR_SOLICIT, ND_OPT_SOURCE_LINKADDR, 1);
    build_vxlan(&frames[3], 42);
    build_nd(&frames[4], ND_NEIGHBOR_ADVERT, ND_OPT_TARGET_LINKADDR, 1);
    build_ipv6_ext(&frames[5], 1);
    for (int f = 0; f < 6; f++) {
        struct flow_key full, k;
        struct flow_parse_info full_info, info;
        CHECK(parse_exact(&frames[f], frames[f].len, &full, &full_info));
        for (uint32_t n = 0; n < frames[f].len; n++) {
            bool ok = parse_exact(&frames[f], n, &k, &info);
            CHECK((info.layers & ~full_info.layers) == 0);
            if (ok) {
                CHECK_EQ_U(info.truncated, 0);
            } else {
                CHECK(info.truncated != 0);
            }
        }
    }
}

static void
test_random_garbage_never_faults(void)
{
    struct vf_random rng;
    vf_random_init(&rng, 7);
    for (int i = 0; i < 200000; i++) {
        struct pktgen g;
        g.len = vf_random_range(&rng, 200);
        for (uint32_t j = 0; j < g.len; j++) {
            g.buf[j] = (uint8_t) vf_random_u32(&rng);
        }
        /* Bias towards interesting Ethertypes. */
        if (g.len >= 14 && (i & 1)) {
            static const uint16_t types[] = {0x0800, 0x86dd, 0x0806, 0x8100,
                                             0x88a8};
            vf_put_u16(g.buf + 12, vf_htons(types[i % 5]));
        }
        struct flow_key k;
        struct flow_parse_info info;
        parse_exact(&g, g.len, &k, &info);
        CHECK(info.truncated < FLOW_N_LAYERS);
    }
}

static void
test_rss_symmetry(void)
{
    struct pktgen g;
    struct flow_key a, b;
    struct flow_parse_info info;
    build_tcp4(&g);
    parse_exact(&g, g.len, &a, &info);
    b = a;
    b.nw_src = a.nw_dst;
    b.nw_dst = a.nw_src;
    b.tp_src = a.tp_dst;
    b.tp_dst = a.tp_src;
    CHECK_EQ_U(flow_rss_hash_symmetric(&a, 9), flow_rss_hash_symmetric(&b, 9));
    CHECK(flow_rss_hash(&a, 9) != flow_rss_hash(&b, 9));
    b = a;
    b.tp_src = vf_htons(1235);
    CHECK(flow_rss_hash(&a, 9) != flow_rss_hash(&b, 9));
    CHECK(flow_rss_hash_symmetric(&a, 9) != flow_rss_hash_symmetric(&b, 9));
}

static void
test_batch_sets_offsets_and_counts(void)
{
    struct pkt_pool_config cfg = {"t", {8, 0}, 4};
    struct pkt_pool *pool = pkt_pool_create(&cfg);
    struct pkt_batch batch;
    pkt_batch_init(&batch);
    struct pktgen g;
    build_tcp4(&g);
    for (int i = 0; i < 3; i++) {
        struct pkt *p = pkt_alloc(NULL, pool, PKT_CLASS_MTU, 1);
        memcpy(pkt_put(p, g.len), g.buf, g.len);
        p->in_port = 3;
        if (i == 2) {
            pkt_trim(p, 30);     /* Cut inside IPv4. */
        }
        pkt_batch_add(&batch, p);
    }
    struct flow_key keys[PKT_BATCH_MAX];
    uint8_t trunc[PKT_BATCH_MAX];
    struct parse_stats stats = {0};
    flow_parse_batch(&batch, keys, trunc, &stats);
    CHECK_EQ_U(stats.n_frames, 3);
    CHECK_EQ_U(stats.n_truncated, 1);
    CHECK_EQ_U(stats.n_bad[FLOW_LAYER_IPV4][PARSE_SHORT], 1);
    CHECK_EQ_U(trunc[0], 0);
    CHECK_EQ_U(trunc[2], FLOW_LAYER_IPV4);
    CHECK_EQ_U(batch.pkts[0]->l4_ofs, 34);
    CHECK_EQ_U(keys[1].in_port, 3);
    CHECK(batch.pkts[0]->flags & PKT_F_RSS_VALID);
    CHECK_EQ_U(batch.pkts[0]->rss_hash, batch.pkts[1]->rss_hash);
    pkt_batch_verify(&batch, "test");
    pkt_free_burst(NULL, batch.pkts, batch.count);
    pkt_pool_destroy(pool);
}

static void
test_layer_names(void)
{
    CHECK_STR(flow_layer_name(FLOW_LAYER_IPV6_EXT), "ipv6_ext");
    CHECK_STR(flow_layer_name(FLOW_LAYER_GENEVE), "geneve");
    CHECK_STR(flow_layer_name((enum flow_layer) 99), "none");
    CHECK_STR(parse_reason_name(PARSE_BAD_OPTION), "bad_option");
}

static const struct test_case cases[] = {
    TEST(test_ipv4_tcp),
    TEST(test_ethernet_padding_is_not_payload),
    TEST(test_ipv4_options_and_fragments),
    TEST(test_ipv4_bad_headers),
    TEST(test_tcp_bad_offset),
    TEST(test_vlan_and_qinq),
    TEST(test_arp),
    TEST(test_ipv6_extension_headers),
    TEST(test_ipv6_extension_limit),
    TEST(test_neighbor_discovery),
    TEST(test_icmp_and_sctp),
    TEST(test_vxlan_inner),
    TEST(test_geneve_with_options),
    TEST(test_arp_other_types_are_not_truncated),
    TEST(test_icmp_needs_8_bytes),
    TEST(test_ipv6_zero_payload_length),
    TEST(test_every_truncation),
    TEST(test_random_garbage_never_faults),
    TEST(test_rss_symmetry),
    TEST(test_batch_sets_offsets_and_counts),
    TEST(test_layer_names),
};

TEST_MAIN(cases)
