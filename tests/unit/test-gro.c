/* SPDX-License-Identifier: Apache-2.0 */
/* Tests of net/gro.c.  The central check (check_burst) compares the
 * coalesced burst with its simple twin, the burst itself: every output
 * frame, merged frames cut again by gso_segment(), must give back exactly
 * the input frames of its TCP flow in their order, byte for byte; frames
 * that are not TCP keep their order; a TCP frame GRO cannot identify
 * (fragment, IPv6 extension header) is never overtaken by, nor overtakes,
 * a segment of any flow; no buffer leaks.  On top of that each edge case
 * checks how many frames came out and the merged frames' requests. */
#include "harness.h"

#include "net/gro.h"
#include "net/gso.h"
#include "seggen.h"
#include "util/random.h"

#define MAX_BURST 256

static struct pkt_pool *
make_pool(uint32_t n_mtu, uint32_t n_gso)
{
    struct pkt_pool_config cfg = {"gro", {n_mtu, n_gso}, 8};
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

/* ---- A burst under construction ---- */

enum fclass { F_OTHER, F_UNKNOWN, F_TCP };

struct frame_copy {
    uint8_t bytes[PKT_MTU_ROOM];
    uint32_t size;
    enum fclass cls;
    uint32_t flow;               /* F_TCP: flow number. */
};

struct burst {
    struct pkt_pool *pool;
    struct pkt *pkts[MAX_BURST];
    uint32_t n;
    struct frame_copy in[MAX_BURST];
};

/* Flow number of a TCP frame: its source port and last address byte. */
static uint32_t
flow_of(const struct sg_spec *s)
{
    return (uint32_t) (s->sport ? s->sport : 40000) << 8 | s->src_last
           | (uint32_t) s->v6 << 30;
}

static struct pkt *
add_frame(struct burst *b, struct pkt *p, enum fclass cls, uint32_t flow)
{
    VF_VERIFY(p && b->n < MAX_BURST);
    struct frame_copy *c = &b->in[b->n];
    memcpy(c->bytes, pkt_data(p), p->size);
    c->size = p->size;
    c->cls = cls;
    c->flow = flow;
    b->pkts[b->n++] = p;
    return p;
}

/* Appends a TCP segment: 's' with payload bytes following the stream
 * (byte i of the payload = f(seq + i)). */
static struct pkt *
add_seg(struct burst *b, struct sg_spec s)
{
    s.pay_seed = s.seq;
    struct pkt *p = sg_frame(b->pool, &s, 1, NULL);
    return add_frame(b, p, F_TCP, flow_of(&s));
}

static struct pkt *
add_udp(struct burst *b)
{
    struct sg_spec s = {.udp = true, .payload = 100};
    return add_frame(b, sg_frame(b->pool, &s, 1, NULL), F_OTHER, 0);
}

/* An IPv4 fragment of a TCP datagram (offset 8 bytes). */
static struct pkt *
add_fragment(struct burst *b)
{
    struct sg_spec s = {.payload = 100, .tcp_flags = SG_ACK};
    struct pkt *p = sg_frame(b->pool, &s, 1, NULL);
    uint8_t *ip = pkt_data(p) + 14;
    vf_put_u16(ip + 6, vf_htons(1));
    vf_put_u16(ip + 10, 0);
    vf_put_u16(ip + 10, vf_htons((uint16_t) ~sg_fold(sg_sum(ip, 20, 0))));
    return add_frame(b, p, F_UNKNOWN, 0);
}

/* A stream of 'n' segments of flow 's' from s.seq, 'mss' each but the
 * last ('last' bytes), PSH on the last. */
static void
add_stream(struct burst *b, struct sg_spec s, uint32_t n, uint32_t mss,
           uint32_t last)
{
    for (uint32_t i = 0; i < n; i++) {
        struct sg_spec t = s;
        t.seq = s.seq + i * mss;
        t.ip_id = (uint16_t) (s.ip_id + i);
        t.payload = i + 1 < n ? mss : last;
        t.tcp_flags = SG_ACK | (i + 1 == n ? SG_PSH : 0);
        add_seg(b, t);
    }
}

/* ---- The check ---- */

struct expanded {
    const uint8_t *bytes;
    uint32_t size;
    uint32_t out_pos;            /* Index of the output frame. */
    struct pkt *seg;             /* To free (NULL: an output frame). */
};

/* Frame classes by their bytes, as the test sees them. */
static void
check_burst(struct burst *b, struct gro_stats *st)
{
    uint32_t n_in = b->n;
    uint32_t n = gro_coalesce(NULL, b->pkts, n_in, st);
    CHECK(n <= n_in);
    static struct expanded ex[MAX_BURST * 2];
    uint32_t n_ex = 0;
    for (uint32_t i = 0; i < n; i++) {
        struct pkt *p = b->pkts[i];
        if ((p->flags & PKT_F_OFFLOAD)
            && p->offload.gso_type != PKT_GSO_NONE) {
            CHECK(p->offload.needs_csum);
            CHECK_EQ_U(p->cls, PKT_CLASS_GSO);
            CHECK_EQ_U(p->owner, 1);
            struct pkt *segs[GRO_MAX_SEGS + 1];
            int m = gso_segment(NULL, p, 0, segs, GRO_MAX_SEGS + 1);
            CHECK(m >= 2);
            for (int j = 0; j < m; j++) {
                ex[n_ex++] = (struct expanded) {pkt_data(segs[j]),
                                                segs[j]->size, i, segs[j]};
            }
        } else {
            ex[n_ex++] = (struct expanded) {pkt_data(p), p->size, i, NULL};
        }
    }
    CHECK_EQ_U(n_ex, n_in);
    /* Match input frames to expanded ones: per flow (and for the other
     * classes, per class) in order. */
    static uint32_t pos_of[MAX_BURST];
    static bool used[MAX_BURST * 2];
    memset(used, 0, sizeof used);
    for (uint32_t i = 0; i < n_in; i++) {
        const struct frame_copy *c = &b->in[i];
        /* The first unused expanded frame of the same sequence. */
        bool found = false;
        for (uint32_t k = 0; k < n_ex && !found; k++) {
            if (used[k]) {
                continue;
            }
            /* Which input sequence does ex[k] belong to?  Find by bytes:
             * it must be the next one of c's sequence. */
            const struct frame_copy *o = NULL;
            for (uint32_t j = i; j < n_in; j++) {
                if (b->in[j].size == ex[k].size
                    && !memcmp(b->in[j].bytes, ex[k].bytes, ex[k].size)) {
                    o = &b->in[j];
                    break;
                }
            }
            if (o && o->cls == c->cls
                && (c->cls != F_TCP || o->flow == c->flow)) {
                /* Same sequence: it must be c itself (order kept). */
                CHECK_EQ_U(ex[k].size, c->size);
                CHECK_MEM(ex[k].bytes, c->bytes, c->size);
                used[k] = true;
                pos_of[i] = ex[k].out_pos;
                found = true;
            }
        }
        CHECK(found);
    }
    /* Unknown TCP frames are barriers for every TCP segment. */
    for (uint32_t u = 0; u < n_in; u++) {
        if (b->in[u].cls != F_UNKNOWN) {
            continue;
        }
        for (uint32_t t = 0; t < n_in; t++) {
            if (b->in[t].cls == F_TCP) {
                CHECK(t < u ? pos_of[t] < pos_of[u] : pos_of[t] > pos_of[u]);
            }
        }
    }
    for (uint32_t k = 0; k < n_ex; k++) {
        if (ex[k].seg) {
            pkt_free(NULL, ex[k].seg);
        }
    }
    pkt_free_burst(NULL, b->pkts, n);
    b->n = 0;
}

static struct burst *
new_burst(struct pkt_pool *pool)
{
    static struct burst b;
    memset(&b, 0, offsetof(struct burst, in));
    b.pool = pool;
    return &b;
}

/* ---- Cases ---- */

static void
test_one_stream(void)
{
    struct pkt_pool *pool = make_pool(512, 16);
    struct burst *b = new_burst(pool);
    struct sg_spec s = {.seq = 0xffffff00u, .ack = 9, .ip_id = 0xfffe,
                        .tcp_opt_len = 12};
    add_stream(b, s, 40, 1448, 700);
    struct gro_stats st = {0};
    uint32_t n = gro_coalesce(NULL, b->pkts, b->n, &st);
    CHECK_EQ_U(n, 1);
    struct pkt *m = b->pkts[0];
    CHECK_EQ_U(m->offload.gso_type, PKT_GSO_TCPV4);
    CHECK_EQ_U(m->offload.gso_size, 1448);
    CHECK_EQ_U(m->offload.csum_start, 34);
    CHECK_EQ_U(m->offload.csum_offset, 16);
    CHECK_EQ_U(m->size, 14 + 20 + 32 + 39 * 1448 + 700);
    CHECK(vf_get_u16(pkt_data(m) + 34 + 12) & VF_BE16(SG_PSH));
    CHECK_EQ_U(st.merged, 1);
    CHECK_EQ_U(st.merged_segs, 40);
    CHECK_EQ_U(st.csum_verified, 40);
    CHECK_EQ_U(st.frames_in, 40);
    CHECK_EQ_U(st.frames_out, 1);
    pkt_free(NULL, m);
    /* Again through the full check, and IPv6. */
    b->n = 0;
    add_stream(b, s, 40, 1448, 700);
    check_burst(b, NULL);
    s.v6 = true;
    add_stream(b, s, 30, 1428, 1428);
    check_burst(b, NULL);
    destroy_pool(pool);
}

static void
test_size_limits(void)
{
    struct pkt_pool *pool = make_pool(512, 16);
    struct burst *b = new_burst(pool);
    struct gro_stats st = {0};
    /* 100 segments of 1448: at most 65535 bytes of IPv4 per frame. */
    add_stream(b, (struct sg_spec) {.seq = 1}, 100, 1448, 1448);
    check_burst(b, &st);
    CHECK_EQ_U(st.frames_out, 3);
    /* Small segments: GRO_MAX_SEGS per frame. */
    memset(&st, 0, sizeof st);
    add_stream(b, (struct sg_spec) {.seq = 1}, 150, 100, 100);
    check_burst(b, &st);
    CHECK_EQ_U(st.frames_out, 3);
    CHECK_EQ_U(st.merged_segs, 150);
    destroy_pool(pool);
}

static void
test_interleaved_flows_and_other_frames(void)
{
    struct pkt_pool *pool = make_pool(512, 16);
    struct burst *b = new_burst(pool);
    struct gro_stats st = {0};
    for (uint32_t i = 0; i < 20; i++) {
        for (uint16_t f = 0; f < 3; f++) {
            struct sg_spec s = {.sport = (uint16_t) (1000 + f),
                                .seq = 1000 * f + i * 1000,
                                .ip_id = (uint16_t) i, .payload = 1000,
                                .tcp_flags = SG_ACK};
            add_seg(b, s);
        }
        if (i % 5 == 0) {
            add_udp(b);
        }
    }
    check_burst(b, &st);
    CHECK_EQ_U(st.frames_out, 3 + 4);
    destroy_pool(pool);
}

/* More flows than GRO_MAX_FLOWS: the least recently extended closes. */
static void
test_many_flows(void)
{
    struct pkt_pool *pool = make_pool(512, 64);
    struct burst *b = new_burst(pool);
    struct gro_stats st = {0};
    for (uint32_t i = 0; i < 4; i++) {
        for (uint16_t f = 0; f < GRO_MAX_FLOWS + 2; f++) {
            add_seg(b, (struct sg_spec) {.sport = (uint16_t) (1000 + f),
                                         .seq = i * 500,
                                         .ip_id = (uint16_t) i,
                                         .payload = 500,
                                         .tcp_flags = SG_ACK});
        }
    }
    check_burst(b, &st);
    CHECK(st.frames_out > GRO_MAX_FLOWS + 2);
    destroy_pool(pool);
}

/* Each perturbation of segment 5 of a 10-segment stream: the stream is
 * cut there (or segment 5 passes alone), never corrupted. */
static void
test_perturbations(void)
{
    struct pkt_pool *pool = make_pool(512, 16);
    struct burst *b = new_burst(pool);
    for (int what = 0; what < 16; what++) {
        struct gro_stats st = {0};
        for (uint32_t i = 0; i < 10; i++) {
            struct sg_spec s = {.seq = 7 + i * 1000, .ip_id = (uint16_t) i,
                                .ack = 1, .payload = 1000,
                                .tcp_flags = SG_ACK, .tcp_opt_len = 12};
            if (i == 5) {
                switch (what) {
                case 0: s.seq += 1; break;            /* Gap. */
                case 1: s.seq -= 1000; break;         /* Retransmission. */
                case 2: s.ip_id = 99; break;          /* Id jump. */
                case 3: s.ack = 2; break;
                case 4: s.window = 7; break;
                case 5: s.tcp_opt_len = 8; break;     /* Options differ. */
                case 6: s.tcp_flags |= SG_FIN; break;
                case 7: s.tcp_flags |= SG_SYN; break;
                case 8: s.tcp_flags |= SG_RST; break;
                case 9: s.tcp_flags |= SG_URG; break;
                case 10: s.tcp_flags |= SG_CWR; break;
                case 11: s.tcp_flags |= SG_PSH; break; /* Ends a run. */
                case 12: s.payload = 999; break;      /* Short: ends. */
                case 13: s.payload = 1001; break;     /* Long: new run. */
                case 14: s.tcp_flags = 0; break;      /* No ACK. */
                default: s.payload = 0; break;        /* Pure ACK. */
                }
            }
            add_seg(b, s);
        }
        check_burst(b, &st);
        CHECK(st.frames_out >= 2);
        CHECK(st.frames_out <= 4);
    }
    /* Options of the same length but other bytes (a new timestamp). */
    struct gro_stats st = {0};
    for (uint32_t i = 0; i < 10; i++) {
        struct pkt *p = add_seg(b, (struct sg_spec) {
            .seq = i * 1000, .ip_id = (uint16_t) i, .payload = 1000,
            .tcp_flags = SG_ACK, .tcp_opt_len = 12});
        if (i >= 5) {
            uint8_t *opt = pkt_data(p) + 34 + 20 + 8;
            opt[0] ^= 1;
            /* Keep the checksum right: recompute it. */
            uint8_t *l4 = pkt_data(p) + 34;
            vf_put_u16(l4 + 16, 0);
            uint16_t c = (uint16_t) ~sg_l4_sum(pkt_data(p) + 14, false, 6,
                                               l4, p->size - 34);
            vf_put_u16(l4 + 16, vf_htons(c));
            memcpy(b->in[b->n - 1].bytes, pkt_data(p), p->size);
        }
    }
    check_burst(b, &st);
    CHECK_EQ_U(st.frames_out, 2);
    destroy_pool(pool);
}

/* Different Ethernet or IP header bytes (TOS/ECN, TTL, MAC). */
static void
test_header_differences(void)
{
    struct pkt_pool *pool = make_pool(512, 16);
    struct burst *b = new_burst(pool);
    static const uint32_t offsets[] = {0, 6, 15, 22};  /* dst MAC, src MAC,
                                                         * TOS, TTL */
    for (size_t k = 0; k < sizeof offsets / sizeof offsets[0]; k++) {
        struct gro_stats st = {0};
        for (uint32_t i = 0; i < 6; i++) {
            struct pkt *p = add_seg(b, (struct sg_spec) {
                .seq = i * 1000, .ip_id = (uint16_t) i, .payload = 1000,
                .tcp_flags = SG_ACK});
            if (i == 3) {
                uint8_t *d = pkt_data(p);
                d[offsets[k]] ^= 0x02;
                if (offsets[k] >= 14) {
                    vf_put_u16(d + 24, 0);
                    vf_put_u16(d + 24, vf_htons((uint16_t) ~sg_fold(
                                           sg_sum(d + 14, 20, 0))));
                }
                memcpy(b->in[b->n - 1].bytes, d, p->size);
            }
        }
        check_burst(b, &st);
        CHECK_EQ_U(st.frames_out, 3);        /* 0-2, 3, 4-5 */
    }
    destroy_pool(pool);
}

/* A corrupted segment passes unmerged, in place; its neighbours merge. */
static void
test_bad_checksums(void)
{
    struct pkt_pool *pool = make_pool(512, 16);
    struct burst *b = new_burst(pool);
    struct gro_stats st = {0};
    for (uint32_t i = 0; i < 12; i++) {
        struct pkt *p = add_seg(b, (struct sg_spec) {
            .seq = i * 1000, .ip_id = (uint16_t) i, .payload = 1000,
            .tcp_flags = SG_ACK});
        if (i == 0 || i == 6) {
            pkt_data(p)[100] ^= 0x40;        /* Payload bit flip. */
            memcpy(b->in[b->n - 1].bytes, pkt_data(p), p->size);
        }
    }
    check_burst(b, &st);
    CHECK_EQ_U(st.csum_bad, 2);
    CHECK_EQ_U(st.frames_out, 4);            /* 0, 1-5, 6, 7-11 */
    /* A bad IPv4 header checksum: not even a candidate. */
    memset(&st, 0, sizeof st);
    for (uint32_t i = 0; i < 4; i++) {
        struct pkt *p = add_seg(b, (struct sg_spec) {
            .seq = i * 1000, .ip_id = (uint16_t) i, .payload = 1000,
            .tcp_flags = SG_ACK});
        if (i == 2) {
            pkt_data(p)[14 + 10] ^= 1;
            memcpy(b->in[b->n - 1].bytes, pkt_data(p), p->size);
        }
    }
    check_burst(b, &st);
    CHECK_EQ_U(st.frames_out, 3);
    destroy_pool(pool);
}

/* Trusted segments (csum_valid, partial checksums) are not verified. */
static void
test_trusted(void)
{
    struct pkt_pool *pool = make_pool(512, 16);
    struct burst *b = new_burst(pool);
    struct gro_stats st = {0};
    for (uint32_t i = 0; i < 10; i++) {
        struct pkt *p = add_seg(b, (struct sg_spec) {
            .seq = i * 1000, .ip_id = (uint16_t) i, .payload = 1000,
            .tcp_flags = SG_ACK});
        p->flags |= PKT_F_OFFLOAD;
        p->offload.csum_valid = 1;
    }
    check_burst(b, &st);
    CHECK_EQ_U(st.csum_verified, 0);
    CHECK_EQ_U(st.frames_out, 1);
    /* Partial checksums (the pseudo-header sum in the field). */
    memset(&st, 0, sizeof st);
    struct pkt *ps[10];
    for (uint32_t i = 0; i < 10; i++) {
        ps[i] = add_seg(b, (struct sg_spec) {
            .seq = i * 1000, .ip_id = (uint16_t) i, .payload = 1000,
            .tcp_flags = SG_ACK});
    }
    for (uint32_t i = 0; i < 10; i++) {
        struct pkt *p = ps[i];
        uint8_t *d = pkt_data(p);
        uint32_t sum = sg_sum(d + 26, 8, 0) + 6 + (p->size - 34);
        vf_put_u16(d + 34 + 16, vf_htons(sg_fold(sum)));
        p->flags |= PKT_F_OFFLOAD;
        p->offload.needs_csum = 1;
        p->offload.csum_start = 34;
        p->offload.csum_offset = 16;
    }
    uint32_t n = gro_coalesce(NULL, b->pkts, b->n, &st);
    CHECK_EQ_U(n, 1);
    CHECK_EQ_U(st.csum_verified, 0);
    /* Completed, the merged frame's checksum is right. */
    struct pkt *m = b->pkts[0];
    CHECK_EQ_I(gso_complete_csum(m), 0);
    CHECK_EQ_U(sg_l4_sum(pkt_data(m) + 14, false, 6, pkt_data(m) + 34,
                         m->size - 34), 0xffff);
    pkt_free(NULL, m);
    b->n = 0;
    /* A partial checksum that points elsewhere: not a candidate. */
    memset(&st, 0, sizeof st);
    for (uint32_t i = 0; i < 3; i++) {
        struct pkt *p = add_seg(b, (struct sg_spec) {
            .seq = i * 1000, .ip_id = (uint16_t) i, .payload = 1000,
            .tcp_flags = SG_ACK});
        p->flags |= PKT_F_OFFLOAD;
        p->offload.needs_csum = 1;
        p->offload.csum_start = 30;
        p->offload.csum_offset = 16;
    }
    check_burst(b, &st);
    CHECK_EQ_U(st.frames_out, 3);
    destroy_pool(pool);
}

/* Frames GRO must not touch: GSO frames, padded frames, IP options,
 * fragments and IPv6 extension headers (barriers). */
static void
test_untouchables(void)
{
    struct pkt_pool *pool = make_pool(512, 16);
    struct burst *b = new_burst(pool);
    struct gro_stats st = {0};
    /* A super-frame in the middle of its own stream. */
    add_stream(b, (struct sg_spec) {.seq = 0}, 3, 1000, 1000);
    struct sg_spec sup = {.seq = 3000, .ip_id = 3, .payload = 5000,
                          .mss = 1000, .tcp_flags = SG_ACK};
    struct pkt *g = sg_super(pool, &sup, 1, NULL);
    add_frame(b, g, F_OTHER, 0);   /* Compared as an opaque frame. */
    b->in[b->n - 1].cls = F_OTHER;
    gro_coalesce(NULL, b->pkts, b->n, &st);
    CHECK_EQ_U(st.frames_out, 2);
    CHECK(b->pkts[1] == g);
    pkt_free_burst(NULL, b->pkts, 2);
    b->n = 0;
    /* Padding after the IP datagram. */
    memset(&st, 0, sizeof st);
    for (uint32_t i = 0; i < 4; i++) {
        struct pkt *p = add_seg(b, (struct sg_spec) {
            .seq = i * 1000, .ip_id = (uint16_t) i, .payload = 1000,
            .tcp_flags = SG_ACK});
        if (i == 1) {
            memset(pkt_put(p, 4), 0, 4);
            b->in[b->n - 1].size += 4;
            memset(b->in[b->n - 1].bytes + p->size - 4, 0, 4);
        }
    }
    check_burst(b, &st);
    CHECK_EQ_U(st.frames_out, 3);            /* 0, 1, 2-3 */
    /* Fragments are barriers. */
    memset(&st, 0, sizeof st);
    add_stream(b, (struct sg_spec) {.seq = 0}, 4, 1000, 1000);
    add_fragment(b);
    add_stream(b, (struct sg_spec) {.seq = 4000, .ip_id = 4}, 4, 1000,
               1000);
    add_udp(b);
    check_burst(b, &st);
    CHECK_EQ_U(st.frames_out, 4);
    /* IPv6 with a hop-by-hop header: a barrier too. */
    memset(&st, 0, sizeof st);
    add_stream(b, (struct sg_spec) {.v6 = true, .seq = 0}, 4, 1000, 1000);
    struct sg_spec h = {.v6 = true, .payload = 100, .tcp_flags = SG_ACK};
    struct pkt *p = sg_frame(pool, &h, 1, NULL);
    pkt_data(p)[14 + 6] = IP_PROTO_IPV6_HOPOPTS;
    add_frame(b, p, F_UNKNOWN, 0);
    add_stream(b, (struct sg_spec) {.v6 = true, .seq = 4000}, 4, 1000,
               1000);
    check_burst(b, &st);
    CHECK_EQ_U(st.frames_out, 3);
    destroy_pool(pool);
}

/* No GSO buffer (pool empty, or the owner at its quota): nothing merges,
 * nothing is lost or leaked. */
static void
test_no_buffers(void)
{
    struct pkt_pool *pool = make_pool(512, 2);
    struct burst *b = new_burst(pool);
    struct gro_stats st = {0};
    struct pkt *hold[2];
    CHECK_EQ_I(pkt_alloc_burst(NULL, pool, PKT_CLASS_GSO, 0, hold, 2), 2);
    add_stream(b, (struct sg_spec) {.seq = 0}, 10, 1000, 1000);
    check_burst(b, &st);
    CHECK_EQ_U(st.frames_out, 10);
    CHECK(st.no_buffer >= 1);
    pkt_free_burst(NULL, hold, 2);
    memset(&st, 0, sizeof st);
    CHECK_EQ_I(pkt_pool_set_quota(pool, 1, 10), 0);
    add_stream(b, (struct sg_spec) {.seq = 0}, 5, 1000, 1000);
    check_burst(b, &st);
    CHECK_EQ_U(st.frames_out, 5);
    CHECK_EQ_I(pkt_pool_set_quota(pool, 1, 0), 0);
    /* One flow merged, the pool runs dry for the second. */
    CHECK_EQ_I(pkt_alloc_burst(NULL, pool, PKT_CLASS_GSO, 0, hold, 1), 1);
    memset(&st, 0, sizeof st);
    add_stream(b, (struct sg_spec) {.seq = 0}, 5, 1000, 1000);
    add_stream(b, (struct sg_spec) {.sport = 9, .seq = 0}, 5, 1000, 1000);
    check_burst(b, &st);
    CHECK_EQ_U(st.frames_out, 6);
    pkt_free(NULL, hold[0]);
    destroy_pool(pool);
}

/* Random bursts of several flows with random perturbations. */
static void
test_random(void)
{
    struct pkt_pool *pool = make_pool(2048, 64);
    struct burst *b = new_burst(pool);
    struct vf_random rng;
    vf_random_init(&rng, 99);
    for (int round = 0; round < 300; round++) {
        uint32_t n_flows = 1 + vf_random_u32(&rng) % 12;
        uint32_t seq[12], id[12];
        for (uint32_t f = 0; f < n_flows; f++) {
            seq[f] = vf_random_u32(&rng);
            id[f] = vf_random_u32(&rng);
        }
        uint32_t mss = 100 + vf_random_u32(&rng) % 1400;
        uint32_t n = 1 + vf_random_u32(&rng) % 120;
        for (uint32_t i = 0; i < n; i++) {
            uint32_t r = vf_random_u32(&rng);
            uint32_t f = r % n_flows;
            if (r % 97 == 0) {
                add_fragment(b);
                continue;
            }
            if (r % 89 == 0) {
                add_udp(b);
                continue;
            }
            struct sg_spec s = {.sport = (uint16_t) (1000 + f),
                                .v6 = f % 3 == 2, .seq = seq[f],
                                .ip_id = (uint16_t) id[f],
                                .payload = mss, .tcp_flags = SG_ACK,
                                .tcp_opt_len = 12};
            uint32_t q = (r >> 8) % 40;
            if (q == 0) {
                s.payload = 1 + (r >> 16) % mss;
            } else if (q == 1) {
                s.tcp_flags |= SG_PSH;
            } else if (q == 2) {
                s.seq += 1;
            } else if (q == 3) {
                s.ip_id++;
            } else if (q == 4) {
                s.payload = 0;
            } else if (q == 5) {
                s.tcp_flags |= SG_FIN;
            }
            struct pkt *p = add_seg(b, s);
            if (q == 6) {
                pkt_data(p)[p->size - 1] ^= 0x80;   /* Bad checksum. */
                memcpy(b->in[b->n - 1].bytes, pkt_data(p), p->size);
            } else if (q == 7) {
                p->flags |= PKT_F_OFFLOAD;
                p->offload.csum_valid = 1;
            }
            seq[f] = s.seq + s.payload;
            id[f] = (uint32_t) s.ip_id + 1;
        }
        check_burst(b, NULL);
    }
    destroy_pool(pool);
}

static const struct test_case cases[] = {
    TEST(test_one_stream),
    TEST(test_size_limits),
    TEST(test_interleaved_flows_and_other_frames),
    TEST(test_many_flows),
    TEST(test_perturbations),
    TEST(test_header_differences),
    TEST(test_bad_checksums),
    TEST(test_trusted),
    TEST(test_untouchables),
    TEST(test_no_buffers),
    TEST(test_random),
};

TEST_MAIN(cases)
