/* SPDX-License-Identifier: Apache-2.0 */
/* Frames the fabric agent builds, read back by the parser and checked
 * against the RFCs' fields and checksums. */
#include "harness.h"

#include "net/addr.h"
#include "net/parse.h"
#include "overlay/neigh.h"
#include "overlay/reply.h"
#include "pkt/pkt-pool.h"
#include "pktgen.h"
#include "util/rcu.h"

static struct pkt_pool *pool;

static struct pkt *
fresh(void)
{
    if (!pool) {
        struct pkt_pool_config cfg = {"t", {16, 0}, 2};
        pool = pkt_pool_create(&cfg);
    }
    return pkt_alloc(NULL, pool, PKT_CLASS_MTU, 0);
}

static void
parse(const struct pkt *p, struct flow_key *k, struct flow_parse_info *i)
{
    VF_VERIFY(flow_parse(pkt_data(p), p->size, 0, k, i));
}

static void
test_arp_request_and_reply(void)
{
    struct eth_addr me, vm;
    eth_addr_parse("02:00:00:00:00:aa", &me);
    eth_addr_parse("02:00:00:00:00:01", &vm);
    vf_be32 a, b;
    ipv4_parse("10.0.0.1", &a);
    ipv4_parse("10.0.0.2", &b);
    struct pkt *req = fresh();
    reply_arp_request(req, &vm, a, b);
    struct flow_key k, r;
    struct flow_parse_info info;
    parse(req, &k, &info);
    CHECK_EQ_U(req->size, 60);
    CHECK(eth_addr_is_broadcast(&k.dl_dst));
    CHECK_EQ_U(vf_ntohs(k.arp_op), 1);
    CHECK_EQ_U(k.nw_dst, b);

    struct pkt *rep = fresh();
    CHECK_EQ_I(reply_arp(rep, &k, &me), 0);
    parse(rep, &r, &info);
    CHECK_EQ_U(vf_ntohs(r.arp_op), 2);
    CHECK(eth_addr_equals(&r.dl_dst, &vm));
    CHECK(eth_addr_equals(&r.arp_sha, &me));
    CHECK_EQ_U(r.nw_src, b);
    CHECK_EQ_U(r.nw_dst, a);
    CHECK(eth_addr_equals(&r.arp_tha, &vm));
    CHECK_EQ_I(reply_arp(fresh(), &r, &me), -EINVAL);   /* Not a request. */
    pkt_free(NULL, req);
    pkt_free(NULL, rep);
}

static void
test_neighbor_advertisement(void)
{
    struct pktgen g;
    memset(&g, 0, sizeof g);
    uint8_t src[16], tgt[16], sn[16];
    ipv6_parse("fd00::1", src);
    ipv6_parse("fd00::2", tgt);
    ipv6_parse("ff02::1:ff00:2", sn);
    pg_eth(&g, "\x33\x33\xff\0\0\x02", "\x02\0\0\0\0\x01", ETH_TYPE_IPV6);
    pg_ipv6(&g, src, sn, IP_PROTO_ICMPV6);
    uint8_t ns[24] = {ND_NEIGHBOR_SOLICIT};
    memcpy(ns + 8, tgt, 16);
    pg_put(&g, ns, 24);
    pg_finish(&g);
    struct flow_key k, na;
    struct flow_parse_info info;
    VF_VERIFY(flow_parse(g.buf, g.len, 0, &k, &info));
    struct eth_addr mac;
    eth_addr_parse("02:00:00:00:00:02", &mac);
    struct pkt *p = fresh();
    CHECK_EQ_I(reply_nd_na(p, &k, &mac, false), 0);
    parse(p, &na, &info);
    CHECK_EQ_U(vf_ntohs(na.tp_src), ND_NEIGHBOR_ADVERT);
    CHECK_MEM(na.nd_target, tgt, 16);
    CHECK(eth_addr_equals(&na.nd_tll, &mac));
    CHECK_MEM(na.ipv6_dst, src, 16);
    CHECK_EQ_U(na.nw_ttl, 255);
    /* ICMPv6 checksum verifies. */
    const uint8_t *ip6 = pkt_data(p) + 14;
    uint32_t s = csum_pseudo_ipv6(ip6 + 8, ip6 + 24, IP_PROTO_ICMPV6, 32);
    CHECK_EQ_U(csum_fold(csum_partial(ip6 + 40, 32, s)), 0);
    CHECK_EQ_U(vf_ntohl(vf_get_u32(ip6 + 44)),
               ND_NA_SOLICITED | ND_NA_OVERRIDE);
    pkt_free(NULL, p);

    /* The distributed router answering for a gateway: router flag. */
    p = fresh();
    CHECK_EQ_I(reply_nd_na(p, &k, &mac, true), 0);
    ip6 = pkt_data(p) + 14;
    CHECK_EQ_U(vf_ntohl(vf_get_u32(ip6 + 44)),
               ND_NA_ROUTER | ND_NA_SOLICITED | ND_NA_OVERRIDE);
    s = csum_pseudo_ipv6(ip6 + 8, ip6 + 24, IP_PROTO_ICMPV6, 32);
    CHECK_EQ_U(csum_fold(csum_partial(ip6 + 40, 32, s)), 0);
    pkt_free(NULL, p);
}

static void
test_too_big_and_echo(void)
{
    struct pktgen g;
    memset(&g, 0, sizeof g);
    pg_eth(&g, "\x02\0\0\0\0\x02", "\x02\0\0\0\0\x01", ETH_TYPE_IPV4);
    struct ipv4_hdr *ip = pg_ipv4(&g, "\x0a\0\0\x01", "\x0a\0\0\x02",
                                  IP_PROTO_ICMP);
    ip->frag_off = VF_BE16(IPV4_DF);
    uint8_t echo[8 + 1400] = {ICMP_ECHO_REQUEST, 0, 0, 0, 0, 1, 0, 1};
    pg_put(&g, echo, sizeof echo);
    pg_finish(&g);
    struct flow_key k, r;
    struct flow_parse_info info;
    VF_VERIFY(flow_parse(g.buf, g.len, 0, &k, &info));
    struct pkt *p = fresh();
    CHECK_EQ_I(reply_too_big(p, &k, g.buf, g.len, 14, 1400), 0);
    parse(p, &r, &info);
    CHECK_EQ_U(vf_ntohs(r.tp_src), ICMP_DEST_UNREACH);
    CHECK_EQ_U(vf_ntohs(r.tp_dst), ICMP_FRAG_NEEDED);
    CHECK_MEM(&r.nw_dst, "\x0a\0\0\x01", 4);
    CHECK_EQ_U(csum(pkt_data(p) + 14, 20), 0);
    CHECK_EQ_U(csum(pkt_data(p) + 34, p->size - 34), 0);
    CHECK_EQ_U(vf_ntohs(vf_get_u16(pkt_data(p) + 34 + 6)), 1400);
    pkt_free(NULL, p);

    p = fresh();
    CHECK_EQ_I(reply_echo(p, &k, g.buf, g.len, 14), 0);
    parse(p, &r, &info);
    CHECK_EQ_U(vf_ntohs(r.tp_src), ICMP_ECHO_REPLY);
    CHECK_EQ_U(csum(pkt_data(p) + 34, p->size - 34), 0);
    CHECK_EQ_U(p->size, g.len);
    pkt_free(NULL, p);
}

static void
test_time_exceeded(void)
{
    /* IPv4: type 11 code 0, from the key's destination, the datagram
     * quoted. */
    struct pktgen g;
    memset(&g, 0, sizeof g);
    pg_eth(&g, "\x02\0\0\0\0\x02", "\x02\0\0\0\0\x01", ETH_TYPE_IPV4);
    pg_ipv4(&g, "\x0a\0\0\x01", "\x0a\0\0\x02", IP_PROTO_UDP);
    uint8_t udp[8 + 32] = {0x30, 0x39, 0x82, 0x9a, 0, 40, 0, 0};
    pg_put(&g, udp, sizeof udp);
    pg_finish(&g);
    struct flow_key k, r;
    struct flow_parse_info info;
    VF_VERIFY(flow_parse(g.buf, g.len, 0, &k, &info));
    struct pkt *p = fresh();
    CHECK_EQ_I(reply_time_exceeded(p, &k, g.buf, g.len, 14), 0);
    parse(p, &r, &info);
    CHECK_EQ_U(r.nw_proto, IP_PROTO_ICMP);
    CHECK_EQ_U(vf_ntohs(r.tp_src), 11);
    CHECK_EQ_U(vf_ntohs(r.tp_dst), 0);
    CHECK_MEM(&r.nw_src, "\x0a\0\0\x02", 4);
    CHECK_MEM(&r.nw_dst, "\x0a\0\0\x01", 4);
    CHECK_EQ_U(csum(pkt_data(p) + 14, 20), 0);
    CHECK_EQ_U(csum(pkt_data(p) + 34, p->size - 34), 0);
    CHECK_EQ_U(p->size, 34 + 8 + (g.len - 14));
    CHECK_MEM(pkt_data(p) + 42, g.buf + 14, g.len - 14);
    pkt_free(NULL, p);

    /* No error about an ICMP error. */
    memset(&g, 0, sizeof g);
    pg_eth(&g, "\x02\0\0\0\0\x02", "\x02\0\0\0\0\x01", ETH_TYPE_IPV4);
    pg_ipv4(&g, "\x0a\0\0\x01", "\x0a\0\0\x02", IP_PROTO_ICMP);
    uint8_t unreach[8 + 28] = {ICMP_DEST_UNREACH, 1};
    pg_put(&g, unreach, sizeof unreach);
    pg_finish(&g);
    VF_VERIFY(flow_parse(g.buf, g.len, 0, &k, &info));
    p = fresh();
    CHECK_EQ_I(reply_time_exceeded(p, &k, g.buf, g.len, 14), -EINVAL);
    pkt_free(NULL, p);

    /* IPv6: type 3 code 0, valid ICMPv6 checksum. */
    uint8_t src6[16], dst6[16];
    ipv6_parse("fd00:11::10", src6);
    ipv6_parse("fd00:12::10", dst6);
    memset(&g, 0, sizeof g);
    pg_eth(&g, "\x02\0\0\0\0\x02", "\x02\0\0\0\0\x01", ETH_TYPE_IPV6);
    pg_ipv6(&g, src6, dst6, IP_PROTO_ICMPV6);
    uint8_t echo6[8 + 16] = {128, 0, 0, 0, 0, 1, 0, 1};
    pg_put(&g, echo6, sizeof echo6);
    pg_finish(&g);
    VF_VERIFY(flow_parse(g.buf, g.len, 0, &k, &info));
    p = fresh();
    CHECK_EQ_I(reply_time_exceeded(p, &k, g.buf, g.len, 14), 0);
    parse(p, &r, &info);
    CHECK_EQ_U(r.nw_proto, IP_PROTO_ICMPV6);
    CHECK_EQ_U(vf_ntohs(r.tp_src), 3);
    CHECK_EQ_U(vf_ntohs(r.tp_dst), 0);
    CHECK_MEM(r.ipv6_src, dst6, 16);
    CHECK_MEM(r.ipv6_dst, src6, 16);
    const uint8_t *ip6 = pkt_data(p) + 14;
    uint32_t l4 = p->size - 54;
    uint32_t s = csum_pseudo_ipv6(ip6 + 8, ip6 + 24, IP_PROTO_ICMPV6, l4);
    CHECK_EQ_U(csum_fold(csum_partial(ip6 + 40, l4, s)), 0);
    pkt_free(NULL, p);
}

static void
test_neigh_table(void)
{
    vf_rcu_register_thread();
    struct neigh_table *t = neigh_table_create(1);
    vf_be32 ip;
    ipv4_parse("192.168.1.1", &ip);
    struct eth_addr m1, m2, got;
    eth_addr_parse("02:00:00:00:00:01", &m1);
    eth_addr_parse("02:00:00:00:00:02", &m2);
    CHECK(!neigh_lookup(t, ip, &got));
    CHECK(neigh_should_probe(t, ip, 0));
    CHECK(!neigh_should_probe(t, ip, NEIGH_REPROBE_NS / 2));
    CHECK(neigh_should_probe(t, ip, NEIGH_REPROBE_NS));
    neigh_update(t, ip, &m1, 0);
    CHECK(neigh_lookup(t, ip, &got) && eth_addr_equals(&got, &m1));
    neigh_update(t, ip, &m2, 1);
    CHECK(neigh_lookup(t, ip, &got) && eth_addr_equals(&got, &m2));
    CHECK_EQ_U(neigh_refresh(t, NEIGH_STALE_NS + 2, NULL, NULL), 1);
    neigh_table_destroy(t);
    vf_rcu_barrier();
    vf_rcu_unregister_thread();
}

static const struct test_case cases[] = {
    TEST(test_arp_request_and_reply),
    TEST(test_neighbor_advertisement),
    TEST(test_too_big_and_echo),
    TEST(test_time_exceeded),
    TEST(test_neigh_table),
};

TEST_MAIN(cases)
