/* SPDX-License-Identifier: Apache-2.0 */
/* VXLAN/Geneve encapsulation round trips, checked by the parser (an
 * independent reading of the headers) and by byte comparison of the inner
 * frame; decapsulation refuses every malformed variant. */
#include "harness.h"

#include "net/addr.h"
#include "overlay/tunnel.h"
#include "pkt/pkt-pool.h"
#include "pktgen.h"

static struct pkt_pool *pool;

static struct pkt *
inner_frame(struct pktgen *g)
{
    memset(g, 0, sizeof *g);
    pg_eth(g, "\x02\0\0\0\0\x02", "\x02\0\0\0\0\x01", ETH_TYPE_IPV4);
    pg_ipv4(g, "\x0a\0\0\x01", "\x0a\0\0\x02", IP_PROTO_TCP);
    pg_tcp(g, 40000, 22, 0x18);
    pg_put(g, "hello", 5);
    pg_finish(g);
    struct pkt *p = pkt_alloc(NULL, pool, PKT_CLASS_MTU, 0);
    memcpy(pkt_put(p, g->len), g->buf, g->len);
    return p;
}

static struct tunnel_encap
encap_params(enum tunnel_type type)
{
    struct tunnel_encap e = {.type = type, .vni = 0x123456, .src_gid = 77};
    eth_addr_parse("02:aa:00:00:00:01", &e.src_mac);
    eth_addr_parse("02:aa:00:00:00:02", &e.dst_mac);
    ipv4_parse("192.168.50.1", &e.src_ip);
    ipv4_parse("192.168.50.2", &e.dst_ip);
    return e;
}

static void
roundtrip(enum tunnel_type type)
{
    struct pktgen g;
    struct pkt *p = inner_frame(&g);
    struct tunnel_encap e = encap_params(type);
    CHECK_EQ_I(tunnel_encap(p, &e, 0x1234), 0);
    CHECK_EQ_U(p->size, g.len + tunnel_overhead(type));

    struct flow_key k, in;
    struct flow_parse_info info, iinfo;
    CHECK(flow_parse(pkt_data(p), p->size, 0, &k, &info));
    CHECK_EQ_U(info.tunnel, (unsigned) type);
    CHECK_EQ_U(info.tun_vni, 0x123456);
    CHECK_EQ_U(k.nw_src, e.src_ip);
    CHECK_EQ_U(k.nw_dst, e.dst_ip);
    CHECK_EQ_U(vf_ntohs(k.tp_src), 49152 + (0x1234 & 0x3fff));
    CHECK(k.nw_frag == 0);
    CHECK_EQ_U(csum(pkt_data(p) + 14, 20), 0);       /* Outer IPv4. */
    CHECK(vf_get_u16(pkt_data(p) + 20) & VF_BE16(IPV4_DF));
    CHECK(flow_parse_inner(pkt_data(p), p->size, &k, &info, &in, &iinfo));
    CHECK_EQ_U(vf_ntohs(in.tp_dst), 22);

    struct tunnel_rx rx;
    CHECK_EQ_I(tunnel_decap(p, 0, 0, &rx), TUNNEL_OK);
    CHECK_EQ_U(rx.type, (unsigned) type);
    CHECK_EQ_U(rx.vni, 0x123456);
    CHECK_EQ_U(rx.src_ip, e.src_ip);
    CHECK(eth_addr_equals(&rx.src_mac, &e.src_mac));
    CHECK_EQ_U(rx.has_gid, type == TUNNEL_GENEVE);
    if (type == TUNNEL_GENEVE) {
        CHECK_EQ_U(rx.src_gid, 77);
    }
    CHECK_EQ_U(p->size, g.len);
    CHECK_MEM(pkt_data(p), g.buf, g.len);
    pkt_free(NULL, p);
}

static void
test_vxlan_roundtrip(void)
{
    roundtrip(TUNNEL_VXLAN);
}

static void
test_geneve_roundtrip(void)
{
    roundtrip(TUNNEL_GENEVE);
}

static void
test_encap_refuses_offloads_and_small_headroom(void)
{
    struct pktgen g;
    struct pkt *p = inner_frame(&g);
    struct tunnel_encap e = encap_params(TUNNEL_VXLAN);
    p->flags |= PKT_F_OFFLOAD;
    p->offload.gso_type = PKT_GSO_TCPV4;
    p->offload.gso_size = 1400;
    CHECK_EQ_I(tunnel_encap(p, &e, 0), -EINVAL);
    p->flags = 0;
    pkt_pull(p, 0);
    p->data_ofs = 10;                /* Almost no headroom. */
    CHECK_EQ_I(tunnel_encap(p, &e, 0), -ENOSPC);
    CHECK_EQ_U(p->size, g.len);      /* Unchanged. */
    pkt_free(NULL, p);
}

/* Encapsulates, corrupts one thing with 'mutate', expects 'want'. */
static void
decap_expect(enum tunnel_type type, void (*mutate)(uint8_t *d),
             enum tunnel_err want)
{
    struct pktgen g;
    struct pkt *p = inner_frame(&g);
    struct tunnel_encap e = encap_params(type);
    tunnel_encap(p, &e, 0);
    uint32_t before = p->size;
    mutate(pkt_data(p));
    struct tunnel_rx rx;
    CHECK_EQ_I(tunnel_decap(p, 0, 0, &rx), want);
    if (want != TUNNEL_OK) {
        CHECK_EQ_U(p->size, before);
    }
    pkt_free(NULL, p);
}

static void m_no_i_flag(uint8_t *d) { d[42] = 0; }
static void m_bad_ip_len(uint8_t *d) { d[16] = 0xff; d[17] = 0xff; }
static void m_other_port(uint8_t *d) { d[36] = 0x12; d[37] = 0x34; }
static void m_fragment(uint8_t *d) { d[20] = 0x20; }
static void m_udp_len(uint8_t *d) { d[39] ^= 1; }
static void m_geneve_version(uint8_t *d) { d[42] |= 0x40; }
static void m_geneve_proto(uint8_t *d) { d[44] = 0x08; d[45] = 0; }
static void m_geneve_critical(uint8_t *d) { d[50] = 0; d[51] = 0x01;
                                            d[52] = 0x85; }
static void m_geneve_optlen(uint8_t *d) { d[42] = 0x3f; }
static void m_ipv6(uint8_t *d) { d[12] = 0x86; d[13] = 0xdd; }

static void
test_decap_refuses_malformed(void)
{
    decap_expect(TUNNEL_VXLAN, m_no_i_flag, TUNNEL_ERR_MALFORMED);
    decap_expect(TUNNEL_VXLAN, m_bad_ip_len, TUNNEL_ERR_MALFORMED);
    decap_expect(TUNNEL_VXLAN, m_other_port, TUNNEL_ERR_NOT_TUNNEL);
    decap_expect(TUNNEL_VXLAN, m_fragment, TUNNEL_ERR_MALFORMED);
    decap_expect(TUNNEL_VXLAN, m_udp_len, TUNNEL_ERR_MALFORMED);
    decap_expect(TUNNEL_VXLAN, m_ipv6, TUNNEL_ERR_NOT_TUNNEL);
    decap_expect(TUNNEL_GENEVE, m_geneve_version, TUNNEL_ERR_MALFORMED);
    decap_expect(TUNNEL_GENEVE, m_geneve_proto, TUNNEL_ERR_NO_INNER);
    decap_expect(TUNNEL_GENEVE, m_geneve_critical, TUNNEL_ERR_CRITICAL_OPT);
    decap_expect(TUNNEL_GENEVE, m_geneve_optlen, TUNNEL_ERR_MALFORMED);
}

static void
test_decap_every_truncation(void)
{
    struct pktgen g;
    struct pkt *p = inner_frame(&g);
    struct tunnel_encap e = encap_params(TUNNEL_GENEVE);
    tunnel_encap(p, &e, 0);
    uint8_t full[256];
    uint32_t n = p->size;
    memcpy(full, pkt_data(p), n);
    for (uint32_t cut = 0; cut < n; cut++) {
        p->size = cut;
        memcpy(pkt_data(p), full, cut);
        struct tunnel_rx rx;
        CHECK(tunnel_decap(p, 0, 0, &rx) != TUNNEL_OK);
    }
    pkt_free(NULL, p);
}

/* An outer frame with the inner TCP checksum partial (and a GSO request),
 * as Linux's vxlan device hands them over a veth: the request moves to
 * the inner frame; one for the outer UDP checksum is dropped; GSO without
 * an inner partial checksum is refused (frame unchanged). */
static void
test_decap_moves_offload_to_inner(void)
{
    struct pktgen g;
    struct tunnel_rx rx;
    for (int variant = 0; variant < 4; variant++) {
        struct pkt *p = inner_frame(&g);
        struct tunnel_encap e = encap_params(TUNNEL_VXLAN);
        CHECK_EQ_I(tunnel_encap(p, &e, 0), 0);
        uint32_t outer = tunnel_overhead(TUNNEL_VXLAN), before = p->size;
        p->flags |= PKT_F_OFFLOAD;
        memset(&p->offload, 0, sizeof p->offload);
        p->offload.needs_csum = variant != 3;
        p->offload.csum_start = (uint16_t) (variant == 2 ? 34 : outer + 34);
        p->offload.csum_offset = variant == 2 ? 6 : 16;
        p->offload.csum_valid = variant == 3;
        if (variant == 1 || variant == 3) {
            p->offload.gso_type = PKT_GSO_TCPV4;
            p->offload.gso_size = 1400;
        }
        if (variant == 3) {
            CHECK_EQ_I(tunnel_decap(p, 0, 0, &rx), TUNNEL_ERR_MALFORMED);
            CHECK_EQ_U(p->size, before);
            pkt_free(NULL, p);
            continue;
        }
        CHECK_EQ_I(tunnel_decap(p, 0, 0, &rx), TUNNEL_OK);
        CHECK_EQ_U(p->size, g.len);
        if (variant == 2) {
            CHECK(!(p->flags & PKT_F_OFFLOAD));
        } else {
            CHECK(p->flags & PKT_F_OFFLOAD);
            CHECK_EQ_U(p->offload.csum_start, 34);
            CHECK_EQ_U(p->offload.csum_offset, 16);
            CHECK_EQ_U(p->offload.gso_type,
                       variant == 1 ? PKT_GSO_TCPV4 : PKT_GSO_NONE);
        }
        pkt_free(NULL, p);
    }
}

static void
setup(void)
{
    struct pkt_pool_config cfg = {"t", {64, 0}, 2};
    pool = pkt_pool_create(&cfg);
}

static void
test_setup(void)
{
    setup();
    CHECK(pool);
}

static const struct test_case cases[] = {
    TEST(test_setup),
    TEST(test_vxlan_roundtrip),
    TEST(test_geneve_roundtrip),
    TEST(test_encap_refuses_offloads_and_small_headroom),
    TEST(test_decap_refuses_malformed),
    TEST(test_decap_every_truncation),
    TEST(test_decap_moves_offload_to_inner),
};

TEST_MAIN(cases)
