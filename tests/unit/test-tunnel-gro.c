/* SPDX-License-Identifier: Apache-2.0 */
/* Tests of overlay/tunnel-gro.c against its simple twin (cut the UDP GSO
 * frame into datagrams, decapsulate each, gro_coalesce() the inner
 * segments): the decapsulated result must be the same bytes with the same
 * offload request; for super-frames that fit one UDP GSO frame, it must
 * also be exactly the super-frame tunnel_gso_encap() started from.  Every
 * refusal leaves the frame untouched. */
#include "harness.h"

#include "net/addr.h"
#include "net/gro.h"
#include "net/gso.h"
#include "overlay/tunnel-gro.h"
#include "overlay/tunnel-gso.h"
#include "seggen.h"
#include "util/random.h"

static struct pkt_pool *
make_pool(uint32_t n_mtu, uint32_t n_gso)
{
    struct pkt_pool_config cfg = {"tgro", {n_mtu, n_gso}, 8};
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
    struct tunnel_encap e = {.type = type, .vni = 5001, .src_gid = 77};
    eth_addr_parse("02:aa:00:00:00:01", &e.src_mac);
    eth_addr_parse("02:aa:00:00:00:02", &e.dst_mac);
    ipv4_parse("192.168.50.1", &e.src_ip);
    ipv4_parse("192.168.50.2", &e.dst_ip);
    return e;
}

/* The twin: cut, decapsulate, coalesce.  Returns the merged inner frame,
 * or NULL if GRO did not make exactly one frame of it. */
static struct pkt *
twin(struct pkt *f)
{
    struct pkt *segs[TUNNEL_GSO_MAX_UNITS + 1];
    int n = gso_segment(NULL, f, GSO_F_PARTIAL_CSUM, segs,
                        TUNNEL_GSO_MAX_UNITS + 1);
    CHECK(n >= 2);
    for (int i = 0; i < n; i++) {
        struct tunnel_rx rx;
        CHECK_EQ_I(tunnel_decap(segs[i], 0, 0, &rx), TUNNEL_OK);
        CHECK_EQ_U(rx.vni, 5001);
        CHECK(!(segs[i]->flags & PKT_F_OFFLOAD));
        /* As the datapath does: the outer checksum was partial. */
        segs[i]->flags |= PKT_F_OFFLOAD;
        memset(&segs[i]->offload, 0, sizeof segs[i]->offload);
        segs[i]->offload.csum_valid = 1;
    }
    uint32_t m = gro_coalesce(NULL, segs, (uint32_t) n, NULL);
    if (m != 1) {
        pkt_free_burst(NULL, segs, m);
        return NULL;
    }
    return segs[0];
}

/* The fast path on a copy of 'f': merged, then decapsulated. */
static struct pkt *
fast(struct pkt *f, bool verify)
{
    struct pkt *c = pkt_clone(NULL, f, f->owner);
    VF_VERIFY(c);
    if (tunnel_gro_uso(c, 0, 0, verify)) {
        CHECK_EQ_U(c->size, f->size);
        CHECK_MEM(pkt_data(c), pkt_data(f), f->size);
        CHECK_EQ_U(c->offload.gso_type, PKT_GSO_UDP);
        pkt_free(NULL, c);
        return NULL;
    }
    const uint8_t *d = pkt_data(c);
    CHECK_EQ_U(vf_ntohs(vf_get_u16(d + 16)), c->size - 14);
    CHECK_EQ_U(sg_fold(sg_sum(d + 14, 20, 0)), 0xffff);
    CHECK_EQ_U(vf_ntohs(vf_get_u16(d + 38)), c->size - 34);
    CHECK_EQ_U(vf_get_u16(d + 40), 0);
    struct tunnel_rx rx;
    CHECK_EQ_I(tunnel_decap(c, 0, 0, &rx), TUNNEL_OK);
    CHECK_EQ_U(rx.vni, 5001);
    CHECK(c->flags & PKT_F_OFFLOAD);          /* Kept for the inner frame. */
    return c;
}

static void
same_frame(const struct pkt *a, const struct pkt *b)
{
    CHECK_EQ_U(a->size, b->size);
    CHECK_MEM(pkt_data(a), pkt_data(b), a->size);
    CHECK_EQ_U(a->offload.gso_type, b->offload.gso_type);
    CHECK_EQ_U(a->offload.gso_size, b->offload.gso_size);
    CHECK_EQ_U(a->offload.needs_csum, b->offload.needs_csum);
    CHECK_EQ_U(a->offload.csum_start, b->offload.csum_start);
    CHECK_EQ_U(a->offload.csum_offset, b->offload.csum_offset);
}

/* Encapsulates 's' as UDP GSO frames and checks each against the twin;
 * with one frame, also against the super-frame itself. */
static void
roundtrip(struct pkt_pool *pool, const struct sg_spec *s,
          enum tunnel_type type, uint32_t max_frame)
{
    struct pkt *sup = sg_super(pool, s, 1, NULL);
    VF_VERIFY(sup);
    struct tunnel_encap e = encap_params(type);
    struct pkt *out[16];
    int n = tunnel_gso_encap(NULL, sup, &e, 7, max_frame, out, 16);
    CHECK(n >= 1);
    for (int i = 0; i < n; i++) {
        struct pkt *f = out[i];
        if (!(f->flags & PKT_F_OFFLOAD)) {
            continue;            /* A lone datagram: nothing to merge. */
        }
        struct pkt *x = twin(f);
        struct pkt *y = fast(f, true);
        CHECK(x && y);
        same_frame(x, y);
        /* The merged partial checksum, completed, is right. */
        CHECK_EQ_I(gso_complete_csum(y), 0);
        CHECK_EQ_U(sg_l4_sum(pkt_data(y) + 14, s->v6, 6,
                             pkt_data(y) + (s->v6 ? 54 : 34),
                             y->size - (s->v6 ? 54 : 34)), 0xffff);
        if (n == 1) {
            struct pkt *z = fast(f, false);
            CHECK(z);
            same_frame(z, sup);
            pkt_free(NULL, z);
        }
        pkt_free(NULL, x);
        pkt_free(NULL, y);
    }
    pkt_free_burst(NULL, out, (uint32_t) n);
    pkt_free(NULL, sup);
}

static void
test_roundtrip(void)
{
    struct pkt_pool *pool = make_pool(1024, 32);
    struct sg_spec s = {.payload = 40000, .mss = 1398, .seq = 0xfffff000,
                        .ack = 3, .ip_id = 0xfff0,
                        .tcp_flags = SG_ACK | SG_PSH, .tcp_opt_len = 12};
    roundtrip(pool, &s, TUNNEL_VXLAN, PKT_GSO_ROOM);
    roundtrip(pool, &s, TUNNEL_GENEVE, PKT_GSO_ROOM);
    s.tcp_flags = SG_ACK;
    roundtrip(pool, &s, TUNNEL_VXLAN, PKT_GSO_ROOM);
    s.payload = 64000;           /* Two UDP GSO frames. */
    roundtrip(pool, &s, TUNNEL_VXLAN, PKT_GSO_ROOM);
    s.v6 = true;
    s.mss = 1378;
    roundtrip(pool, &s, TUNNEL_GENEVE, 20000);
    destroy_pool(pool);
}

static void
test_random(void)
{
    struct pkt_pool *pool = make_pool(4096, 64);
    struct vf_random rng;
    vf_random_init(&rng, 5);
    for (int i = 0; i < 100; i++) {
        uint64_t r = vf_random_u64(&rng);
        struct sg_spec s = {
            .v6 = r & 1,
            .payload = 2000 + (uint32_t) ((r >> 8) % 60000),
            .mss = (uint16_t) (500 + (r >> 24) % 1000),
            .tcp_flags = SG_ACK | ((r >> 40) & 1 ? SG_PSH : 0)
                         | ((r >> 41) & 1 ? SG_ECE : 0),
            .tcp_opt_len = (int) ((r >> 50) % 6) * 4,
            .seq = (uint32_t) (r >> 13),
            .ip_id = (uint16_t) (r >> 29),
            .pay_seed = (uint32_t) i,
        };
        roundtrip(pool, &s, (r >> 62) & 1 ? TUNNEL_GENEVE : TUNNEL_VXLAN,
                  (r >> 61) & 1 ? PKT_GSO_ROOM
                                : 9000 + (uint32_t) (r % 50000));
    }
    destroy_pool(pool);
}

/* A UDP GSO frame of 10 VXLAN datagrams from 's'. */
static struct pkt *
uso_frame(struct pkt_pool *pool, const struct sg_spec *s,
          enum tunnel_type type)
{
    struct pkt *sup = sg_super(pool, s, 1, NULL);
    struct tunnel_encap e = encap_params(type);
    struct pkt *out[2];
    CHECK_EQ_I(tunnel_gso_encap(NULL, sup, &e, 7, PKT_GSO_ROOM, out, 2), 1);
    pkt_free(NULL, sup);
    return out[0];
}

/* Offset of the inner frame of datagram 'i' of 'f'. */
static uint8_t *
inner_at(struct pkt *f, uint32_t i, uint32_t th)
{
    return pkt_data(f) + 42 + i * f->offload.gso_size + th;
}

static void
test_refusals(void)
{
    struct pkt_pool *pool = make_pool(256, 16);
    struct sg_spec s = {.payload = 10000, .mss = 1000,
                        .tcp_flags = SG_ACK, .tcp_opt_len = 12};
    for (int what = 0; what < 12; what++) {
        struct pkt *f = uso_frame(pool, &s, what == 11 ? TUNNEL_GENEVE
                                                       : TUNNEL_VXLAN);
        uint32_t th = what == 11 ? 16 : 8;
        bool verify = false;
        uint8_t *d = pkt_data(f);
        uint8_t *in3 = inner_at(f, 3, th);
        switch (what) {
        case 0: d[42 + 3 * f->offload.gso_size + 6]++; break;  /* VNI */
        case 1: in3[34 + 7]++; break;                 /* Sequence gap. */
        case 2: in3[34 + 13] |= SG_FIN; break;
        case 3: in3[34 + 13] |= SG_PSH; break;        /* Not the last. */
        case 4: in3[0] ^= 1; break;                   /* Inner MAC. */
        case 5: in3[100] ^= 1; verify = true; break;  /* Bad checksum. */
        case 6: f->offload.gso_type = PKT_GSO_NONE; break;
        case 7: f->offload.gso_size = (uint16_t) (f->size - 42); break;
        case 8: vf_put_u16(d + 36, vf_htons(1234)); break;  /* UDP port */
        case 9: d[14 + 6] |= 0x20; break;             /* Outer MF. */
        case 10: f->size -= 1; break;                 /* Lengths. */
        default: d[42 + 5 * f->offload.gso_size + 12]++; break; /* Geneve
                                                               * option */
        }
        static uint8_t copy[PKT_GSO_ROOM];
        memcpy(copy, pkt_data(f), f->size);
        struct pkt_offload off = f->offload;
        uint32_t size = f->size;
        CHECK_EQ_I(tunnel_gro_uso(f, 0, 0, verify), -EINVAL);
        CHECK_EQ_U(f->size, size);
        CHECK_MEM(pkt_data(f), copy, size);
        CHECK_MEM(&f->offload, &off, sizeof off);
        pkt_free(NULL, f);
    }
    /* The bad checksum is accepted when the outer is trusted. */
    struct pkt *f = uso_frame(pool, &s, TUNNEL_VXLAN);
    inner_at(f, 3, 8)[100] ^= 1;
    CHECK_EQ_I(tunnel_gro_uso(f, 0, 0, false), 0);
    pkt_free(NULL, f);
    destroy_pool(pool);
}

static const struct test_case cases[] = {
    TEST(test_roundtrip),
    TEST(test_random),
    TEST(test_refusals),
};

TEST_MAIN(cases)
