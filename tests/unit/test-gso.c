/* SPDX-License-Identifier: Apache-2.0 */
/* Tests of net/gso.c: segment sizes, IP lengths and ids, TCP sequence
 * numbers and flags, and checksums verified by an independent, deliberately
 * naive RFC 1071 implementation below (not net/csum.c), plus the payload
 * reassembled from the segments compared with the original. */
#include "harness.h"

#include "net/csum.h"
#include "net/gso.h"
#include "net/wire.h"
#include "pkt/pkt-pool.h"
#include "util/random.h"

#define TCP_FIN 0x001
#define TCP_PSH 0x008
#define TCP_ACK 0x010
#define TCP_CWR 0x080

static const uint8_t mac_a[6] = {0x02, 0, 0, 0, 0, 0xa};
static const uint8_t mac_b[6] = {0x02, 0, 0, 0, 0, 0xb};
static const uint8_t ip6_a[16] = {0xfd, 0, [15] = 1};
static const uint8_t ip6_b[16] = {0xfd, 0, [15] = 2};

static struct pkt_pool *
make_pool(uint32_t n_mtu, uint32_t n_gso)
{
    struct pkt_pool_config cfg = {"gso", {n_mtu, n_gso}, 8};
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

/* ---- Independent checksum (byte pairs, big-endian, end-around carry) */

static uint32_t
ref_sum(const uint8_t *p, size_t n, uint32_t sum)
{
    for (size_t i = 0; i + 1 < n; i += 2) {
        sum += (uint32_t) (p[i] << 8 | p[i + 1]);
    }
    if (n & 1) {
        sum += (uint32_t) p[n - 1] << 8;
    }
    return sum;
}

static uint16_t
ref_fold(uint32_t sum)
{
    while (sum >> 16) {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    return (uint16_t) sum;
}

/* True if the L4 checksum of the IPv4/IPv6 packet at 'l3' is correct. */
static bool
ref_l4_ok(const uint8_t *l3, bool v6, uint8_t proto, const uint8_t *l4,
          uint32_t l4_len)
{
    uint32_t sum = 0;
    if (v6) {
        sum = ref_sum(l3 + 8, 32, 0);
    } else {
        sum = ref_sum(l3 + 12, 8, 0);
    }
    sum += proto;
    sum += l4_len & 0xffff;
    sum += l4_len >> 16;
    sum = ref_sum(l4, l4_len, sum);
    return ref_fold(sum) == 0xffff;
}

static bool
ref_ipv4_hdr_ok(const uint8_t *l3)
{
    return ref_fold(ref_sum(l3, (l3[0] & 0xf) * 4u, 0)) == 0xffff;
}

/* ---- Frame builder ---- */

struct spec {
    bool v6;
    bool udp;
    int n_vlans;
    uint32_t payload;
    uint16_t mss;
    uint16_t tcp_flags;
    int tcp_opt_len;             /* Multiple of 4. */
    int ipv4_opt_len;            /* Multiple of 4. */
    bool ipv6_ext;               /* One hop-by-hop header. */
    bool partial;                /* Pseudo-header sum in the field. */
};

struct built {
    uint32_t l3, l4, hdr_len;
};

/* Builds the super-frame described by 's' into a GSO buffer with its
 * offload request.  Payload byte i is (i * 7 + 3) & 0xff. */
static struct pkt *
build(struct pkt_pool *pool, const struct spec *s, struct built *b)
{
    struct pkt *p = pkt_alloc(NULL, pool, PKT_CLASS_GSO, 1);
    VF_VERIFY(p);
    uint8_t *d = pkt_data(p);
    uint32_t o = 0;
    memcpy(d, mac_b, 6);
    memcpy(d + 6, mac_a, 6);
    o = 12;
    for (int i = 0; i < s->n_vlans; i++) {
        vf_put_u16(d + o, vf_htons(i == 0 && s->n_vlans == 2 ? 0x88a8
                                                             : 0x8100));
        vf_put_u16(d + o + 2, vf_htons((uint16_t) (100 + i)));
        o += 4;
    }
    vf_put_u16(d + o, vf_htons(s->v6 ? ETH_TYPE_IPV6 : ETH_TYPE_IPV4));
    o += 2;
    b->l3 = o;
    uint8_t proto = s->udp ? IP_PROTO_UDP : IP_PROTO_TCP;
    if (s->v6) {
        struct ipv6_hdr *ip = (struct ipv6_hdr *) (d + o);
        memset(ip, 0, sizeof *ip);
        ip->ver_tc_flow = vf_htonl(6u << 28 | 0x12345);
        ip->hop_limit = 64;
        memcpy(ip->src, ip6_a, 16);
        memcpy(ip->dst, ip6_b, 16);
        o += 40;
        if (s->ipv6_ext) {
            ip->next_hdr = IP_PROTO_IPV6_HOPOPTS;
            memset(d + o, 0, 8);
            d[o] = proto;
            d[o + 2] = 1;        /* PadN */
            d[o + 3] = 4;
            o += 8;
        } else {
            ip->next_hdr = proto;
        }
    } else {
        struct ipv4_hdr *ip = (struct ipv4_hdr *) (d + o);
        memset(ip, 0, sizeof *ip);
        ip->ver_ihl = (uint8_t) (0x40 | (5 + s->ipv4_opt_len / 4));
        ip->ttl = 64;
        ip->proto = proto;
        ip->id = vf_htons(0xfff0);  /* Wraps during the test. */
        ip->frag_off = vf_htons(IPV4_DF);
        ip->src = vf_htonl(0x0a000001);
        ip->dst = vf_htonl(0x0a000002);
        memset(d + o + 20, 1, (size_t) s->ipv4_opt_len);   /* NOPs */
        o += 20 + (uint32_t) s->ipv4_opt_len;
    }
    b->l4 = o;
    if (s->udp) {
        memset(d + o, 0, 8);
        vf_put_u16(d + o, vf_htons(5000));
        vf_put_u16(d + o + 2, vf_htons(6000));
        o += 8;
    } else {
        struct tcp_hdr *t = (struct tcp_hdr *) (d + o);
        memset(t, 0, sizeof *t);
        t->src = vf_htons(40000);
        t->dst = vf_htons(5201);
        t->seq = vf_htonl(0xfffff000);  /* Wraps during the test. */
        t->ack = vf_htonl(77);
        t->off_flags = vf_htons((uint16_t) ((5 + s->tcp_opt_len / 4) << 12
                                            | s->tcp_flags));
        t->window = vf_htons(1000);
        memset(d + o + 20, 1, (size_t) s->tcp_opt_len);
        o += 20 + (uint32_t) s->tcp_opt_len;
    }
    b->hdr_len = o;
    for (uint32_t i = 0; i < s->payload; i++) {
        d[o + i] = (uint8_t) (i * 7 + 3);
    }
    o += s->payload;
    p->size = o;
    /* Lengths as the kernel leaves them in a super-frame. */
    if (s->v6) {
        vf_put_u16(d + b->l3 + 4, vf_htons((uint16_t) (o - b->l3 - 40)));
    } else {
        vf_put_u16(d + b->l3 + 2, vf_htons((uint16_t) (o - b->l3)));
    }
    if (s->udp) {
        vf_put_u16(d + b->l4 + 4, vf_htons((uint16_t) (o - b->l4)));
    }
    p->flags |= PKT_F_OFFLOAD;
    p->offload.gso_type = s->udp ? PKT_GSO_UDP
                          : s->v6 ? PKT_GSO_TCPV6 : PKT_GSO_TCPV4;
    p->offload.gso_size = s->mss;
    p->offload.needs_csum = 1;
    p->offload.csum_start = (uint16_t) b->l4;
    p->offload.csum_offset = s->udp ? 6 : 16;
    p->in_port = 7;
    p->rss_hash = 0xabcd;
    p->mark = 99;
    return p;
}

/* Checks every segment of 's' against the rules of gso.h. */
static void
check_segments(const struct spec *s, const struct built *b,
               struct pkt **segs, int n, bool partial)
{
    uint32_t expect_n = (s->payload + s->mss - 1) / s->mss;
    CHECK_EQ_I(n, expect_n);
    uint32_t off = 0;
    for (int i = 0; i < n; i++) {
        struct pkt *g = segs[i];
        uint8_t *d = pkt_data(g);
        uint32_t pay = i + 1 < n ? s->mss : s->payload - off;
        CHECK_EQ_U(g->size, b->hdr_len + pay);
        CHECK_EQ_U(g->cls, PKT_CLASS_MTU);
        CHECK_EQ_U(g->owner, 1);
        CHECK_EQ_U(g->in_port, 7);
        CHECK_EQ_U(g->rss_hash, 0xabcd);
        CHECK_EQ_U(g->mark, 99);
        for (uint32_t k = 0; k < pay; k++) {
            if (d[b->hdr_len + k] != (uint8_t) ((off + k) * 7 + 3)) {
                CHECK_EQ_U(d[b->hdr_len + k], (uint8_t) ((off + k) * 7 + 3));
            }
        }
        uint8_t *l3 = d + b->l3;
        uint32_t l4_len = g->size - b->l4;
        if (s->v6) {
            CHECK_EQ_U(vf_ntohs(vf_get_u16(l3 + 4)), g->size - b->l3 - 40);
        } else {
            CHECK_EQ_U(vf_ntohs(vf_get_u16(l3 + 2)), g->size - b->l3);
            CHECK_EQ_U(vf_ntohs(vf_get_u16(l3 + 4)),
                       (uint16_t) (0xfff0 + i));
            CHECK(ref_ipv4_hdr_ok(l3));
        }
        uint8_t *l4 = d + b->l4;
        if (s->udp) {
            CHECK_EQ_U(vf_ntohs(vf_get_u16(l4 + 4)), l4_len);
        } else {
            CHECK_EQ_U(vf_ntohl(vf_get_u32(l4 + 4)),
                       (uint32_t) (0xfffff000u + off));
            uint16_t fl = vf_ntohs(vf_get_u16(l4 + 12)) & 0x1ff;
            uint16_t want = s->tcp_flags;
            if (i + 1 < n) {
                want &= (uint16_t) ~(TCP_FIN | TCP_PSH);
            }
            if (i > 0) {
                want &= (uint16_t) ~TCP_CWR;
            }
            CHECK_EQ_U(fl, want);
        }
        if (partial) {
            CHECK(g->flags & PKT_F_OFFLOAD);
            CHECK(g->offload.needs_csum);
            CHECK_EQ_U(g->offload.gso_type, PKT_GSO_NONE);
            CHECK_EQ_U(g->offload.csum_start, b->l4);
            CHECK_EQ_U(g->offload.csum_offset, s->udp ? 6 : 16);
            CHECK_EQ_I(gso_complete_csum(g), 0);
            CHECK(!g->offload.needs_csum);
        } else {
            CHECK(!(g->flags & PKT_F_OFFLOAD));
        }
        CHECK(ref_l4_ok(l3, s->v6, s->udp ? 17 : 6, l4, l4_len));
        off += pay;
    }
    CHECK_EQ_U(off, s->payload);
}

static void
run_spec(const struct spec *s)
{
    struct pkt_pool *pool = make_pool(2048, 2);
    for (int partial = 0; partial < 2; partial++) {
        struct built b;
        struct pkt *p = build(pool, s, &b);
        struct pkt *segs[GSO_MAX_SEGS];
        uint32_t want = gso_n_segs(p);
        int n = gso_segment(NULL, p, partial ? GSO_F_PARTIAL_CSUM : 0, segs,
                            GSO_MAX_SEGS);
        CHECK_EQ_I(n, want);
        check_segments(s, &b, segs, n, partial);
        pkt_free_burst(NULL, segs, (uint32_t) n);
        pkt_free(NULL, p);
    }
    destroy_pool(pool);
}

static void
test_tcp4_basic(void)
{
    struct spec s = {.payload = 64000, .mss = 1448,
                     .tcp_flags = TCP_ACK | TCP_PSH | TCP_FIN | TCP_CWR,
                     .tcp_opt_len = 12};
    run_spec(&s);
}

static void
test_tcp4_exact_multiple_and_options(void)
{
    struct spec s = {.payload = 1400 * 10, .mss = 1400,
                     .tcp_flags = TCP_ACK | TCP_PSH, .ipv4_opt_len = 8};
    run_spec(&s);
}

static void
test_tcp4_vlan_qinq(void)
{
    struct spec s = {.n_vlans = 2, .payload = 5000, .mss = 1000,
                     .tcp_flags = TCP_ACK};
    run_spec(&s);
    s.n_vlans = 1;
    run_spec(&s);
}

static void
test_tcp6(void)
{
    struct spec s = {.v6 = true, .payload = 65000, .mss = 1428,
                     .tcp_flags = TCP_ACK | TCP_FIN | TCP_CWR,
                     .tcp_opt_len = 12};
    run_spec(&s);
    s.ipv6_ext = true;
    run_spec(&s);
}

static void
test_udp4_udp6(void)
{
    struct spec s = {.udp = true, .payload = 30001, .mss = 1472};
    run_spec(&s);
    s.v6 = true;
    s.mss = 1452;
    run_spec(&s);
}

static void
test_single_segment(void)
{
    struct spec s = {.payload = 100, .mss = 1448, .tcp_flags = TCP_FIN};
    run_spec(&s);
}

/* A frame merged by hardware LRO: GSO request, verified checksums, no
 * partial checksum (csum_start/offset unset). */
static void
test_lro_frame(void)
{
    struct pkt_pool *pool = make_pool(256, 2);
    struct spec s = {.payload = 20000, .mss = 1448, .tcp_flags = TCP_ACK,
                     .tcp_opt_len = 12};
    for (int partial = 0; partial < 2; partial++) {
        struct built b;
        struct pkt *p = build(pool, &s, &b);
        p->offload.needs_csum = 0;
        p->offload.csum_start = 0;
        p->offload.csum_offset = 0;
        p->offload.csum_valid = 1;
        struct pkt *segs[32];
        int n = gso_segment(NULL, p, partial ? GSO_F_PARTIAL_CSUM : 0, segs,
                            32);
        check_segments(&s, &b, segs, n, partial);
        pkt_free_burst(NULL, segs, (uint32_t) n);
        pkt_free(NULL, p);
    }
    destroy_pool(pool);
}

static void
test_random_specs(void)
{
    struct vf_random rng;
    vf_random_init(&rng, 4242);
    for (int i = 0; i < 200; i++) {
        uint64_t r = vf_random_u64(&rng);
        struct spec s = {
            .v6 = r & 1,
            .udp = (r >> 1) % 4 == 0,
            .n_vlans = (int) ((r >> 3) % 3),
            .payload = 1 + (uint32_t) ((r >> 8) % 60000),
            .mss = (uint16_t) (100 + (r >> 24) % 8800),
            .tcp_flags = (uint16_t) ((r >> 40) & 0x1ff),
            .tcp_opt_len = (int) ((r >> 50) % 11) * 4,
        };
        if (!s.v6) {
            s.ipv4_opt_len = (int) ((r >> 56) % 11) * 4;
        }
        run_spec(&s);
    }
}

static void
test_refusals_change_nothing(void)
{
    struct pkt_pool *pool = make_pool(64, 2);
    struct spec s = {.payload = 20000, .mss = 1000, .tcp_flags = TCP_ACK};
    struct built b;
    struct pkt *p = build(pool, &s, &b);
    struct pkt *segs[64];
    uint8_t copy[PKT_GSO_ROOM];
    memcpy(copy, pkt_data(p), p->size);

    /* Array too small. */
    CHECK_EQ_I(gso_segment(NULL, p, 0, segs, 19), -E2BIG);
    /* IP version disagrees with gso_type. */
    p->offload.gso_type = PKT_GSO_TCPV6;
    CHECK_EQ_I(gso_segment(NULL, p, 0, segs, 64), -EINVAL);
    CHECK_EQ_U(gso_n_segs(p), 0);
    p->offload.gso_type = PKT_GSO_UDP;
    CHECK_EQ_I(gso_segment(NULL, p, 0, segs, 64), -EINVAL);
    p->offload.gso_type = 2;     /* Not a type. */
    CHECK_EQ_I(gso_segment(NULL, p, 0, segs, 64), -EINVAL);
    p->offload.gso_type = PKT_GSO_TCPV4;
    /* csum_start not at the TCP header. */
    p->offload.csum_start++;
    CHECK_EQ_I(gso_segment(NULL, p, 0, segs, 64), -EINVAL);
    p->offload.csum_start--;
    p->offload.csum_offset = 6;
    CHECK_EQ_I(gso_segment(NULL, p, 0, segs, 64), -EINVAL);
    p->offload.csum_offset = 16;
    /* gso_size 0, or a segment that would not fit an MTU buffer. */
    p->offload.gso_size = 0;
    CHECK_EQ_I(gso_segment(NULL, p, 0, segs, 64), -EINVAL);
    p->offload.gso_size = 9200;
    CHECK_EQ_I(gso_segment(NULL, p, 0, segs, 64), -EINVAL);
    /* Too many segments. */
    p->offload.gso_size = 10;
    CHECK_EQ_I(gso_segment(NULL, p, 0, segs, 64), -EINVAL);
    p->offload.gso_size = 1000;
    /* No offload flag. */
    p->flags &= (uint8_t) ~PKT_F_OFFLOAD;
    CHECK_EQ_I(gso_segment(NULL, p, 0, segs, 64), -EINVAL);
    p->flags |= PKT_F_OFFLOAD;
    /* A fragment. */
    uint8_t *ip = pkt_data(p) + b.l3;
    ip[6] = 0x20;                /* MF */
    CHECK_EQ_I(gso_segment(NULL, p, 0, segs, 64), -EINVAL);
    ip[6] = 0x40;
    /* Truncated headers: every cut inside the headers is refused. */
    uint32_t size = p->size;
    for (uint32_t cut = 0; cut <= b.hdr_len; cut++) {
        p->size = cut;
        CHECK_EQ_I(gso_segment(NULL, p, 0, segs, 64), -EINVAL);
    }
    p->size = size;
    /* Bad IHL / TCP data offset. */
    ip[0] = 0x44;
    CHECK_EQ_I(gso_segment(NULL, p, 0, segs, 64), -EINVAL);
    ip[0] = 0x4f;                /* 60-byte header: TCP moves, mismatch */
    CHECK_EQ_I(gso_segment(NULL, p, 0, segs, 64), -EINVAL);
    ip[0] = 0x45;
    uint8_t *tcp = pkt_data(p) + b.l4;
    tcp[12] = 0x40;              /* Data offset 16 bytes < 20. */
    CHECK_EQ_I(gso_segment(NULL, p, 0, segs, 64), -EINVAL);
    tcp[12] = 0x50;
    CHECK_MEM(pkt_data(p), copy, p->size);
    CHECK_EQ_U(pkt_pool_n_free(pool, PKT_CLASS_MTU), 64);

    /* Pool and quota exhaustion: all-or-nothing. */
    struct pkt *hold[50];
    CHECK_EQ_I(pkt_alloc_burst(NULL, pool, PKT_CLASS_MTU, 0, hold, 50), 50);
    CHECK_EQ_I(gso_segment(NULL, p, 0, segs, 64), -ENOBUFS);
    CHECK_EQ_U(pkt_pool_n_free(pool, PKT_CLASS_MTU), 14);
    pkt_free_burst(NULL, hold, 50);
    CHECK_EQ_I(pkt_pool_set_quota(pool, 1, PKT_GSO_CHARGE + 10), 0);
    CHECK_EQ_I(gso_segment(NULL, p, 0, segs, 64), -EDQUOT);
    CHECK_EQ_U(pkt_pool_n_free(pool, PKT_CLASS_MTU), 64);
    CHECK_EQ_I(pkt_pool_set_quota(pool, 1, 0), 0);
    CHECK_EQ_I(gso_segment(NULL, p, 0, segs, 64), 20);
    pkt_free_burst(NULL, segs, 20);
    pkt_free(NULL, p);
    destroy_pool(pool);
}

static void
test_ipv6_ext_limits(void)
{
    struct pkt_pool *pool = make_pool(64, 2);
    struct spec s = {.v6 = true, .ipv6_ext = true, .payload = 3000,
                     .mss = 1000, .tcp_flags = TCP_ACK};
    struct built b;
    struct pkt *p = build(pool, &s, &b);
    struct pkt *segs[8];
    /* Hop-by-hop header claiming to run past the frame. */
    uint8_t *ext = pkt_data(p) + b.l3 + 40;
    ext[1] = 255;
    CHECK_EQ_I(gso_segment(NULL, p, 0, segs, 8), -EINVAL);
    ext[1] = 0;
    /* A fragment header is refused. */
    ext[0] = IP_PROTO_IPV6_FRAGMENT;
    CHECK_EQ_I(gso_segment(NULL, p, 0, segs, 8), -EINVAL);
    ext[0] = IP_PROTO_TCP;
    CHECK_EQ_I(gso_segment(NULL, p, 0, segs, 8), 3);
    pkt_free_burst(NULL, segs, 3);
    pkt_free(NULL, p);
    destroy_pool(pool);
}

static void
test_complete_csum(void)
{
    struct pkt_pool *pool = make_pool(8, 2);
    struct spec s = {.udp = true, .payload = 501, .mss = 1000};
    struct built b;
    struct pkt *p = build(pool, &s, &b);
    p->offload.gso_type = PKT_GSO_NONE;
    p->offload.gso_size = 0;
    uint8_t *d = pkt_data(p);
    uint8_t *l3 = d + b.l3;
    uint32_t l4_len = p->size - b.l4;
    /* Partial: the pseudo-header sum in the field, as the kernel leaves
     * it. */
    vf_put_u16(d + b.l4 + 6,
               (vf_be16) ~csum_fold(csum_pseudo_ipv4(vf_get_u32(l3 + 12),
                                                     vf_get_u32(l3 + 16),
                                                     17,
                                                     (uint16_t) l4_len)));
    CHECK(!ref_l4_ok(l3, false, 17, d + b.l4, l4_len));
    CHECK_EQ_I(gso_complete_csum(p), 0);
    CHECK(ref_l4_ok(l3, false, 17, d + b.l4, l4_len));
    CHECK(p->offload.csum_valid);
    CHECK(!p->offload.needs_csum);
    /* Nothing to do the second time. */
    CHECK_EQ_I(gso_complete_csum(p), 0);

    /* Out-of-frame fields are refused, the frame unchanged. */
    p->offload.needs_csum = 1;
    p->offload.csum_start = (uint16_t) p->size;
    CHECK_EQ_I(gso_complete_csum(p), -EINVAL);
    p->offload.csum_start = (uint16_t) (p->size - 2);
    p->offload.csum_offset = 1;
    CHECK_EQ_I(gso_complete_csum(p), -EINVAL);
    p->offload.csum_offset = 0;
    CHECK_EQ_I(gso_complete_csum(p), 0);
    pkt_free(NULL, p);
    destroy_pool(pool);
}

/* A checksum that comes out as 0 is sent as 0xffff. */
static void
test_complete_csum_zero(void)
{
    struct pkt_pool *pool = make_pool(8, 2);
    struct spec s = {.udp = true, .payload = 100, .mss = 1000};
    struct built b;
    struct pkt *p = build(pool, &s, &b);
    p->offload.gso_type = PKT_GSO_NONE;
    uint8_t *d = pkt_data(p);
    uint32_t l4_len = p->size - b.l4;
    vf_put_u16(d + b.l4 + 6, 0);
    vf_put_u16(d + p->size - 2, 0);
    /* Make the sum over the L4 bytes 0xffff: put its complement in the
     * last (even-aligned) two payload bytes. */
    vf_be16 c = csum_fold(csum_partial(d + b.l4, l4_len, 0));
    vf_put_u16(d + p->size - 2, c);
    CHECK_EQ_U(csum_fold(csum_partial(d + b.l4, l4_len, 0)), 0);
    CHECK_EQ_I(gso_complete_csum(p), 0);
    CHECK_EQ_U(vf_get_u16(d + b.l4 + 6), 0xffff);
    pkt_free(NULL, p);
    destroy_pool(pool);
}

static void
test_infer_offload(void)
{
    struct pkt_pool *pool = make_pool(64, 2);
    struct spec s = {.payload = 20000, .mss = 1000, .tcp_flags = TCP_ACK,
                     .tcp_opt_len = 12};
    struct built b;
    struct pkt *p = build(pool, &s, &b);
    memset(&p->offload, 0, sizeof p->offload);
    p->flags = 0;
    /* GSO frame with a partial checksum: MSS from the MTU. */
    CHECK_EQ_I(gso_infer_offload(p, 1500, true), 0);
    CHECK(p->flags & PKT_F_OFFLOAD);
    CHECK_EQ_U(p->offload.gso_type, PKT_GSO_TCPV4);
    CHECK_EQ_U(p->offload.gso_size, 1500 - 20 - 32);
    CHECK_EQ_U(p->offload.csum_start, b.l4);
    CHECK_EQ_U(p->offload.csum_offset, 16);
    CHECK_EQ_U(gso_n_segs(p), (20000 + 1447) / 1448);
    /* Too big without a partial checksum: refused. */
    p->flags = 0;
    memset(&p->offload, 0, sizeof p->offload);
    CHECK_EQ_I(gso_infer_offload(p, 1500, false), -EINVAL);
    /* A plain frame needs nothing. */
    p->size = b.hdr_len + 100;
    CHECK_EQ_I(gso_infer_offload(p, 1500, false), 0);
    CHECK(!(p->flags & PKT_F_OFFLOAD));
    CHECK_EQ_I(gso_infer_offload(p, 1500, true), 0);
    CHECK(p->offload.needs_csum);
    CHECK_EQ_U(p->offload.gso_type, PKT_GSO_NONE);
    pkt_free(NULL, p);

    /* UDP too large for the MTU cannot be re-cut. */
    struct spec u = {.udp = true, .payload = 3000, .mss = 1000};
    p = build(pool, &u, &b);
    p->flags = 0;
    CHECK_EQ_I(gso_infer_offload(p, 1500, true), -EINVAL);
    pkt_free(NULL, p);
    destroy_pool(pool);
}

/* Mutated frames and requests: whatever the bytes and metadata, the
 * functions stay inside the frame (ASan) and either refuse or produce
 * segments that are no larger than an MTU buffer and all get freed. */
static void
test_mutations_stay_in_bounds(void)
{
    struct pkt_pool *pool = make_pool(2048, 2);
    struct vf_random rng;
    vf_random_init(&rng, 777);
    struct pkt *segs[GSO_MAX_SEGS];
    for (int i = 0; i < 20000; i++) {
        uint64_t r = vf_random_u64(&rng);
        struct spec s = {.v6 = r & 1, .udp = (r >> 1) & 1,
                         .n_vlans = (int) ((r >> 2) % 3),
                         .payload = 1 + (uint32_t) ((r >> 4) % 3000),
                         .mss = (uint16_t) (1 + (r >> 16) % 1500),
                         .tcp_opt_len = 4, .ipv6_ext = (r >> 30) & 1};
        struct built b;
        struct pkt *p = build(pool, &s, &b);
        uint8_t *d = pkt_data(p);
        int n_mut = (int) ((r >> 32) % 4);
        for (int m = 0; m < n_mut; m++) {
            uint64_t q = vf_random_u64(&rng);
            d[q % b.hdr_len] = (uint8_t) (q >> 32);
        }
        uint64_t q = vf_random_u64(&rng);
        if (q & 1) {
            p->offload.csum_start = (uint16_t) (q >> 8);
        }
        if (q & 2) {
            p->offload.csum_offset = (uint16_t) (q >> 24);
        }
        if (q & 4) {
            p->offload.gso_type = (uint8_t) (q >> 40) % 6;
        }
        if (q & 8) {
            p->size = (uint32_t) ((q >> 48) % (p->size + 1));
        }
        uint32_t want = gso_n_segs(p);
        int n = gso_segment(NULL, p, (q >> 4) & 1 ? GSO_F_PARTIAL_CSUM : 0,
                            segs, GSO_MAX_SEGS);
        CHECK(n < 0 ? want == 0 : (uint32_t) n == want);
        for (int k = 0; k < n; k++) {
            CHECK(segs[k]->size <= PKT_MTU_ROOM);
            CHECK_EQ_I(gso_complete_csum(segs[k]), 0);
        }
        if (n > 0) {
            pkt_free_burst(NULL, segs, (uint32_t) n);
        }
        (void) gso_complete_csum(p);
        (void) gso_infer_offload(p, 1 + (uint32_t) (q % 9000), q & 16);
        pkt_free(NULL, p);
    }
    destroy_pool(pool);
}

static const struct test_case cases[] = {
    TEST(test_mutations_stay_in_bounds),
    TEST(test_tcp4_basic),
    TEST(test_tcp4_exact_multiple_and_options),
    TEST(test_tcp4_vlan_qinq),
    TEST(test_tcp6),
    TEST(test_udp4_udp6),
    TEST(test_single_segment),
    TEST(test_lro_frame),
    TEST(test_random_specs),
    TEST(test_refusals_change_nothing),
    TEST(test_ipv6_ext_limits),
    TEST(test_complete_csum),
    TEST(test_complete_csum_zero),
    TEST(test_infer_offload),
};

TEST_MAIN(cases)
