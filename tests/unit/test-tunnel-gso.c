/* SPDX-License-Identifier: Apache-2.0 */
/* Tests of overlay/tunnel-gso.c against its simple twin: every datagram
 * that segmenting the UDP GSO frames yields must be byte for byte the
 * frame that gso_segment() + tunnel_encap() send for the same segment,
 * except the outer IPv4 id and header checksum and the outer UDP checksum
 * (computed instead of zero), each of which is verified independently
 * (seggen.h's reference sum).  Also: frame and unit limits, even spread,
 * refusals that leave nothing allocated. */
#include "harness.h"

#include "net/addr.h"
#include "net/gso.h"
#include "overlay/tunnel-gso.h"
#include "seggen.h"
#include "util/random.h"

static struct pkt_pool *
make_pool(uint32_t n_mtu, uint32_t n_gso)
{
    struct pkt_pool_config cfg = {"tgso", {n_mtu, n_gso}, 8};
    struct pkt_pool *pool = pkt_pool_create(&cfg);
    VF_VERIFY(pool);
    return pool;
}

static void
destroy_pool(struct pkt_pool *pool)
{
    CHECK_EQ_U(pkt_pool_n_free(pool, PKT_CLASS_MTU),
               pkt_pool_n_bufs(pool, PKT_CLASS_MTU));
    CHECK_EQ_U(pkt_pool_n_free(pool, PKT_CLASS_GSO),
               pkt_pool_n_bufs(pool, PKT_CLASS_GSO));
    pkt_pool_destroy(pool);
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

#define MAX_FRAMES 64

/* The simple twin: segments, each encapsulated. */
static int
simple_path(struct pkt *p, const struct tunnel_encap *e, uint32_t hash,
            struct pkt **out)
{
    int n = gso_segment(NULL, p, 0, out, GSO_MAX_SEGS);
    for (int i = 0; i < n; i++) {
        CHECK_EQ_I(tunnel_encap(out[i], e, hash), 0);
    }
    return n;
}

/* Checks one outer datagram 'q' of the fast path against 'ref'. */
static void
check_datagram(const struct pkt *q, const struct pkt *ref, bool uso)
{
    CHECK_EQ_U(q->size, ref->size);
    const uint8_t *a = pkt_data(q);
    const uint8_t *b = pkt_data(ref);
    CHECK_MEM(a, b, 18);                       /* Ethernet + IP to len */
    CHECK_MEM(a + 20, b + 20, 4);              /* flags/frag, ttl, proto */
    CHECK_MEM(a + 26, b + 26, 14);             /* addresses, UDP ports, len */
    CHECK_MEM(a + 42, b + 42, q->size - 42);   /* tunnel header + inner */
    CHECK_EQ_U(sg_fold(sg_sum(a + 14, 20, 0)), 0xffff);
    uint16_t udp_csum = vf_ntohs(vf_get_u16(a + 40));
    if (uso) {
        CHECK(udp_csum != 0);
        CHECK_EQ_U(sg_l4_sum(a + 14, false, 17, a + 34, q->size - 34),
                   0xffff);
    } else {
        CHECK_EQ_U(udp_csum, 0);               /* As tunnel_encap(). */
    }
}

/* Runs one super-frame through both paths and compares. */
static void
compare(struct pkt_pool *pool, const struct sg_spec *s,
        enum tunnel_type type, uint32_t max_frame)
{
    struct pkt *p = sg_super(pool, s, 1, NULL);
    VF_VERIFY(p);
    uint8_t copy[PKT_GSO_ROOM];
    memcpy(copy, pkt_data(p), p->size);
    struct tunnel_encap e = encap_params(type);
    static struct pkt *ref[GSO_MAX_SEGS];
    int n_ref = simple_path(p, &e, 0xbeef, ref);
    CHECK(n_ref > 0);

    struct pkt *out[MAX_FRAMES];
    int n_out = tunnel_gso_encap(NULL, p, &e, 0xbeef, max_frame, out,
                                 MAX_FRAMES);
    CHECK(n_out > 0);
    CHECK_MEM(pkt_data(p), copy, p->size);     /* Borrowed, unchanged. */
    int k = 0;
    uint32_t th = tunnel_overhead(type) - 42;
    uint32_t min_units = UINT32_MAX, max_units = 0;
    for (int f = 0; f < n_out; f++) {
        struct pkt *q = out[f];
        CHECK(q->size <= max_frame);
        CHECK(q->size <= PKT_GSO_ROOM);
        CHECK_EQ_U(q->owner, 1);
        CHECK_EQ_U(q->rss_hash, 0xbeef);
        const uint8_t *d = pkt_data(q);
        CHECK(vf_ntohs(vf_get_u16(d + 16)) <= 65535);
        CHECK_EQ_U(vf_ntohs(vf_get_u16(d + 16)), q->size - 14);
        CHECK_EQ_U(vf_ntohs(vf_get_u16(d + 38)), q->size - 34);
        uint32_t units;
        if (q->flags & PKT_F_OFFLOAD) {
            CHECK_EQ_U(q->offload.gso_type, PKT_GSO_UDP);
            CHECK(q->offload.needs_csum);
            CHECK_EQ_U(q->offload.csum_start, 34);
            CHECK_EQ_U(q->offload.csum_offset, 6);
            CHECK_EQ_U(q->offload.gso_size,
                       th + ref[0]->size - tunnel_overhead(type));
            /* The partial checksum, completed over the whole frame, is
             * right: the pseudo-header sum covers the whole length. */
            struct pkt *c = pkt_clone(NULL, q, 1);
            VF_VERIFY(c);
            CHECK_EQ_I(gso_complete_csum(c), 0);
            CHECK_EQ_U(sg_l4_sum(pkt_data(c) + 14, false, 17,
                                 pkt_data(c) + 34, c->size - 34), 0xffff);
            pkt_free(NULL, c);
            struct pkt *dg[TUNNEL_GSO_MAX_UNITS + 1];
            int m = gso_segment(NULL, q, 0, dg, TUNNEL_GSO_MAX_UNITS + 1);
            CHECK(m >= 2);
            units = (uint32_t) m;
            for (int j = 0; j < m; j++) {
                CHECK(k < n_ref);
                check_datagram(dg[j], ref[k++], true);
            }
            pkt_free_burst(NULL, dg, (uint32_t) m);
        } else {
            units = 1;
            CHECK(k < n_ref);
            check_datagram(q, ref[k++], false);
        }
        CHECK(units <= TUNNEL_GSO_MAX_UNITS);
        min_units = VF_MIN(min_units, units);
        max_units = VF_MAX(max_units, units);
    }
    CHECK_EQ_I(k, n_ref);
    CHECK(max_units - min_units <= 1);         /* Spread evenly. */
    pkt_free_burst(NULL, out, (uint32_t) n_out);
    pkt_free_burst(NULL, ref, (uint32_t) n_ref);
    pkt_free(NULL, p);
}

static void
test_vxlan_geneve_tcp4(void)
{
    struct pkt_pool *pool = make_pool(4096, 64);
    struct sg_spec s = {.payload = 64000, .mss = 1398, .seq = 0xfffff000,
                        .ack = 5, .ip_id = 0xfff0,
                        .tcp_flags = SG_ACK | SG_PSH, .tcp_opt_len = 12};
    compare(pool, &s, TUNNEL_VXLAN, PKT_GSO_ROOM);
    compare(pool, &s, TUNNEL_GENEVE, PKT_GSO_ROOM);
    destroy_pool(pool);
}

static void
test_tcp6_udp(void)
{
    struct pkt_pool *pool = make_pool(4096, 64);
    struct sg_spec s = {.v6 = true, .payload = 50001, .mss = 1378,
                        .tcp_flags = SG_ACK | SG_FIN | SG_CWR};
    compare(pool, &s, TUNNEL_VXLAN, PKT_GSO_ROOM);
    struct sg_spec u = {.udp = true, .payload = 20000, .mss = 1400};
    compare(pool, &u, TUNNEL_GENEVE, PKT_GSO_ROOM);
    destroy_pool(pool);
}

/* Small frames: several outer frames, spread evenly; one-unit frames are
 * plain datagrams. */
static void
test_frame_limits(void)
{
    struct pkt_pool *pool = make_pool(4096, 256);
    struct sg_spec s = {.payload = 64000, .mss = 1000,
                        .tcp_flags = SG_ACK};
    for (uint32_t mf = 2200; mf <= 20000; mf += 1777) {
        compare(pool, &s, TUNNEL_VXLAN, mf);
    }
    /* Small MSS: the unit limit, not the size, decides. */
    s.mss = 200;
    compare(pool, &s, TUNNEL_VXLAN, PKT_GSO_ROOM);
    /* Three segments in frames of two units: 2 + 1. */
    s.payload = 2500;
    s.mss = 1000;
    compare(pool, &s, TUNNEL_VXLAN, 42 + 2 * (8 + 54 + 1000));
    /* One segment: a plain datagram. */
    s.payload = 10;
    compare(pool, &s, TUNNEL_GENEVE, PKT_GSO_ROOM);
    destroy_pool(pool);
}

static void
test_random(void)
{
    struct pkt_pool *pool = make_pool(8192, 256);
    struct vf_random rng;
    vf_random_init(&rng, 777);
    for (int i = 0; i < 150; i++) {
        uint64_t r = vf_random_u64(&rng);
        struct sg_spec s = {
            .v6 = r & 1,
            .udp = (r >> 1) % 5 == 0,
            .payload = 1 + (uint32_t) ((r >> 8) % 63000),
            .mss = (uint16_t) (300 + (r >> 24) % 3000),
            .tcp_flags = (uint16_t) ((r >> 40) & 0xff) | SG_ACK,
            .tcp_opt_len = (int) ((r >> 50) % 11) * 4,
            .seq = (uint32_t) (r >> 13),
            .ip_id = (uint16_t) (r >> 29),
            .pay_seed = (uint32_t) i,
        };
        uint32_t max_frame = (r >> 60) & 1 ? PKT_GSO_ROOM
                                           : 9000 + (uint32_t) (r % 40000);
        compare(pool, &s, (r >> 62) & 1 ? TUNNEL_GENEVE : TUNNEL_VXLAN,
                max_frame);
    }
    destroy_pool(pool);
}

static void
test_refusals(void)
{
    struct pkt_pool *pool = make_pool(64, 4);
    struct tunnel_encap e = encap_params(TUNNEL_VXLAN);
    struct sg_spec s = {.payload = 64000, .mss = 1400, .tcp_flags = SG_ACK};
    struct pkt *p = sg_super(pool, &s, 1, NULL);
    struct pkt *out[8];
    /* Not a GSO frame. */
    p->flags &= (uint8_t) ~PKT_F_OFFLOAD;
    CHECK_EQ_I(tunnel_gso_encap(NULL, p, &e, 1, PKT_GSO_ROOM, out, 8),
               -EINVAL);
    p->flags |= PKT_F_OFFLOAD;
    /* Frames too small for two units; too few slots. */
    CHECK_EQ_I(tunnel_gso_encap(NULL, p, &e, 1, 2000, out, 8), -E2BIG);
    CHECK_EQ_I(tunnel_gso_encap(NULL, p, &e, 1, 9000, out, 4), -E2BIG);
    /* Pool exhaustion: nothing kept. */
    struct pkt *hold[3];
    CHECK_EQ_I(pkt_alloc_burst(NULL, pool, PKT_CLASS_GSO, 0, hold, 3), 3);
    CHECK_EQ_I(tunnel_gso_encap(NULL, p, &e, 1, 33000, out, 8), -ENOBUFS);
    CHECK_EQ_U(pkt_pool_n_free(pool, PKT_CLASS_GSO), 0);
    pkt_free_burst(NULL, hold, 3);
    /* Quota. */
    CHECK_EQ_I(pkt_pool_set_quota(pool, 1, PKT_GSO_CHARGE * 2), 0);
    CHECK_EQ_I(tunnel_gso_encap(NULL, p, &e, 1, PKT_GSO_ROOM, out, 8),
               -EDQUOT);
    CHECK_EQ_I(pkt_pool_set_quota(pool, 1, 0), 0);
    CHECK_EQ_I(tunnel_gso_encap(NULL, p, &e, 1, PKT_GSO_ROOM, out, 8), 2);
    pkt_free_burst(NULL, out, 2);
    pkt_free(NULL, p);
    destroy_pool(pool);
}

static const struct test_case cases[] = {
    TEST(test_vxlan_geneve_tcp4),
    TEST(test_tcp6_udp),
    TEST(test_frame_limits),
    TEST(test_random),
    TEST(test_refusals),
};

TEST_MAIN(cases)
