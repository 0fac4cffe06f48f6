/* SPDX-License-Identifier: Apache-2.0 */
/* Wire headers: sizes, offsets and sub-byte accessors against hand-written
 * bytes from the RFCs' diagrams. */
#include "harness.h"

#include <stddef.h>

#include "net/wire-tunnel.h"
#include "net/wire.h"

static void
test_sizes_and_offsets(void)
{
    CHECK_EQ_U(sizeof(struct eth_hdr), 14);
    CHECK_EQ_U(offsetof(struct eth_hdr, type), 12);
    CHECK_EQ_U(sizeof(struct vlan_hdr), 4);
    CHECK_EQ_U(sizeof(struct arp_eth_ipv4), 28);
    CHECK_EQ_U(offsetof(struct arp_eth_ipv4, tpa), 24);
    CHECK_EQ_U(sizeof(struct ipv4_hdr), 20);
    CHECK_EQ_U(offsetof(struct ipv4_hdr, src), 12);
    CHECK_EQ_U(sizeof(struct ipv6_hdr), 40);
    CHECK_EQ_U(offsetof(struct ipv6_hdr, dst), 24);
    CHECK_EQ_U(sizeof(struct tcp_hdr), 20);
    CHECK_EQ_U(offsetof(struct tcp_hdr, off_flags), 12);
    CHECK_EQ_U(sizeof(struct udp_hdr), 8);
    CHECK_EQ_U(sizeof(struct sctp_hdr), 12);
    CHECK_EQ_U(sizeof(struct icmp_hdr), 8);
    CHECK_EQ_U(sizeof(struct nd_msg), 20);
    CHECK_EQ_U(sizeof(struct ipv6_frag_hdr), 8);
    CHECK_EQ_U(sizeof(struct vxlan_hdr), 8);
    CHECK_EQ_U(sizeof(struct geneve_hdr), 8);
    CHECK_EQ_U(sizeof(struct geneve_opt), 4);
}

static void
test_ipv4_accessors(void)
{
    const uint8_t b[20] = {0x46, 0xb8, 0, 24, 0, 1, 0x20, 0x05, 64, 6};
    const struct ipv4_hdr *ip = (const struct ipv4_hdr *) b;
    CHECK_EQ_U(ipv4_version(ip), 4);
    CHECK_EQ_U(ipv4_hdr_len(ip), 24);
    CHECK_EQ_U(vf_ntohs(ip->tot_len), 24);
    CHECK_EQ_U(vf_ntohs(ip->frag_off) & IPV4_MF, IPV4_MF);
    CHECK_EQ_U(vf_ntohs(ip->frag_off) & IPV4_FRAG_OFF_MASK, 5);
}

static void
test_tcp_accessors(void)
{
    uint8_t b[20] = {0};
    b[12] = 0x80;                /* Data offset 8 words. */
    b[13] = 0x12;                /* SYN+ACK */
    const struct tcp_hdr *t = (const struct tcp_hdr *) b;
    CHECK_EQ_U(tcp_hdr_len(t), 32);
    CHECK_EQ_U(vf_ntohs(t->off_flags) & TCP_FLAGS_MASK, 0x12);
}

static void
test_tunnel_accessors(void)
{
    /* RFC 7348 figure: flags 0x08, VNI 0x123456. */
    const uint8_t vx[8] = {0x08, 0, 0, 0, 0x12, 0x34, 0x56, 0};
    const struct vxlan_hdr *v = (const struct vxlan_hdr *) vx;
    CHECK(v->flags & VF_BE32(VXLAN_FLAG_I));
    CHECK_EQ_U(vxlan_vni(v), 0x123456);
    /* RFC 8926: Ver 0, OptLen 3 (12 bytes), C set, proto 0x6558. */
    const uint8_t gv[8] = {0x03, 0x40, 0x65, 0x58, 0xab, 0xcd, 0xef, 0};
    const struct geneve_hdr *g = (const struct geneve_hdr *) gv;
    CHECK_EQ_U(geneve_version(g), 0);
    CHECK_EQ_U(geneve_opt_len(g), 12);
    CHECK_EQ_U(g->flags & GENEVE_FLAG_CRITICAL, GENEVE_FLAG_CRITICAL);
    CHECK_EQ_U(vf_ntohs(g->proto), ETH_TYPE_TEB);
    CHECK_EQ_U(geneve_vni(g), 0xabcdef);
}

static void
test_eth_addr_predicates(void)
{
    struct eth_addr bc = {{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}};
    struct eth_addr mc = {{0x01, 0x00, 0x5e, 0, 0, 1}};
    struct eth_addr uc = {{0x02, 0, 0, 0, 0, 1}};
    struct eth_addr z = {{0}};
    CHECK(eth_addr_is_broadcast(&bc) && eth_addr_is_multicast(&bc));
    CHECK(!eth_addr_is_broadcast(&mc) && eth_addr_is_multicast(&mc));
    CHECK(!eth_addr_is_multicast(&uc));
    CHECK(eth_addr_is_zero(&z) && !eth_addr_is_zero(&uc));
    CHECK(eth_addr_equals(&uc, &uc) && !eth_addr_equals(&uc, &mc));
}

static void
test_byteorder_constants(void)
{
    CHECK_EQ_U(VF_BE16(0x0800), vf_htons(0x0800));
    CHECK_EQ_U(VF_BE32(0x08000000u), vf_htonl(0x08000000u));
    CHECK_EQ_U(vf_ntohll(vf_htonll(0x0102030405060708ull)),
               0x0102030405060708ull);
}

static const struct test_case cases[] = {
    TEST(test_sizes_and_offsets),
    TEST(test_ipv4_accessors),
    TEST(test_tcp_accessors),
    TEST(test_tunnel_accessors),
    TEST(test_eth_addr_predicates),
    TEST(test_byteorder_constants),
};

TEST_MAIN(cases)
