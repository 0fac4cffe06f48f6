/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VFAB_TESTS_SEGGEN_H
#define VFAB_TESTS_SEGGEN_H 1

/* Builders of TCP/UDP super-frames and segments for the tests of the
 * offload modules (test-tunnel-gso.c, test-gro.c), with an independent
 * RFC 1071 checksum (byte pairs, big-endian, end-around carry: not
 * net/csum.c) to verify what they produce.  Header-only. */

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "net/wire.h"
#include "pkt/pkt-pool.h"

#define SG_FIN 0x001
#define SG_SYN 0x002
#define SG_RST 0x004
#define SG_PSH 0x008
#define SG_ACK 0x010
#define SG_URG 0x020
#define SG_ECE 0x040
#define SG_CWR 0x080

/* ---- Independent checksum ---- */

static inline uint32_t
sg_sum(const uint8_t *p, size_t n, uint32_t sum)
{
    for (size_t i = 0; i + 1 < n; i += 2) {
        sum += (uint32_t) (p[i] << 8 | p[i + 1]);
    }
    if (n & 1) {
        sum += (uint32_t) p[n - 1] << 8;
    }
    return sum;
}

static inline uint16_t
sg_fold(uint32_t sum)
{
    while (sum >> 16) {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    return (uint16_t) sum;
}

/* The L4 sum (pseudo-header included) of the IP packet at 'l3', whose L4
 * header is at 'l4' and runs 'l4_len' bytes: 0xffff if the checksum in it
 * is right. */
static inline uint16_t
sg_l4_sum(const uint8_t *l3, bool v6, uint8_t proto, const uint8_t *l4,
          uint32_t l4_len)
{
    uint32_t sum = v6 ? sg_sum(l3 + 8, 32, 0) : sg_sum(l3 + 12, 8, 0);
    sum += proto;
    sum += l4_len & 0xffff;
    sum += l4_len >> 16;
    return sg_fold(sg_sum(l4, l4_len, sum));
}

/* ---- Frames ---- */

struct sg_spec {
    bool v6;
    bool udp;
    uint32_t payload;            /* Bytes of payload. */
    uint16_t mss;                /* gso_size (super-frames). */
    uint16_t tcp_flags;
    int tcp_opt_len;             /* Multiple of 4 (bytes of NOPs + ts). */
    uint32_t seq;                /* First sequence number. */
    uint32_t ack;
    uint16_t ip_id;              /* First IPv4 id. */
    uint16_t sport, dport;
    uint8_t src_last;            /* Last byte of the source address. */
    uint32_t pay_seed;           /* Payload byte i = f(seed + i). */
    uint16_t window;
};

struct sg_layout {
    uint32_t l3, l4, hdr_len;
};

static inline uint8_t
sg_pay_byte(uint32_t seed, uint32_t i)
{
    uint32_t x = (seed + i) * 2654435761u;
    return (uint8_t) (x >> 24);
}

/* Writes the frame 's' describes into 'd' (complete checksums, lengths of
 * the whole frame) and returns its size. */
static inline uint32_t
sg_write(uint8_t *d, const struct sg_spec *s, struct sg_layout *lo)
{
    static const uint8_t mac_a[6] = {0x02, 0, 0, 0, 0, 0xa};
    static const uint8_t mac_b[6] = {0x02, 0, 0, 0, 0, 0xb};
    uint32_t o = 0;
    memcpy(d, mac_b, 6);
    memcpy(d + 6, mac_a, 6);
    vf_put_u16(d + 12, vf_htons(s->v6 ? ETH_TYPE_IPV6 : ETH_TYPE_IPV4));
    o = 14;
    lo->l3 = o;
    uint8_t proto = s->udp ? IP_PROTO_UDP : IP_PROTO_TCP;
    if (s->v6) {
        struct ipv6_hdr *ip = (struct ipv6_hdr *) (d + o);
        memset(ip, 0, sizeof *ip);
        ip->ver_tc_flow = vf_htonl(6u << 28 | 0x12345);
        ip->hop_limit = 64;
        ip->next_hdr = proto;
        ip->src[0] = 0xfd;
        ip->src[15] = s->src_last ? s->src_last : 1;
        ip->dst[0] = 0xfd;
        ip->dst[15] = 2;
        o += 40;
    } else {
        struct ipv4_hdr *ip = (struct ipv4_hdr *) (d + o);
        memset(ip, 0, sizeof *ip);
        ip->ver_ihl = 0x45;
        ip->ttl = 64;
        ip->proto = proto;
        ip->id = vf_htons(s->ip_id);
        ip->frag_off = vf_htons(IPV4_DF);
        ip->src = vf_htonl(0x0a000000u | (s->src_last ? s->src_last : 1));
        ip->dst = vf_htonl(0x0a000002);
        o += 20;
    }
    lo->l4 = o;
    if (s->udp) {
        memset(d + o, 0, 8);
        vf_put_u16(d + o, vf_htons(s->sport ? s->sport : 5000));
        vf_put_u16(d + o + 2, vf_htons(s->dport ? s->dport : 6000));
        o += 8;
    } else {
        struct tcp_hdr *t = (struct tcp_hdr *) (d + o);
        memset(t, 0, sizeof *t);
        t->src = vf_htons(s->sport ? s->sport : 40000);
        t->dst = vf_htons(s->dport ? s->dport : 5201);
        t->seq = vf_htonl(s->seq);
        t->ack = vf_htonl(s->ack);
        t->off_flags = vf_htons((uint16_t) ((5 + s->tcp_opt_len / 4) << 12
                                            | s->tcp_flags));
        t->window = vf_htons(s->window ? s->window : 1000);
        for (int i = 0; i < s->tcp_opt_len; i++) {
            d[o + 20 + (uint32_t) i] = i < 2 ? 1 : (uint8_t) (0x40 + i);
        }
        o += 20 + (uint32_t) s->tcp_opt_len;
    }
    lo->hdr_len = o;
    for (uint32_t i = 0; i < s->payload; i++) {
        d[o + i] = sg_pay_byte(s->pay_seed, i);
    }
    o += s->payload;
    if (s->v6) {
        vf_put_u16(d + lo->l3 + 4, vf_htons((uint16_t) (o - lo->l3 - 40)));
    } else {
        vf_put_u16(d + lo->l3 + 2, vf_htons((uint16_t) (o - lo->l3)));
        uint16_t c = (uint16_t) ~sg_fold(sg_sum(d + lo->l3, 20, 0));
        vf_put_u16(d + lo->l3 + 10, vf_htons(c));
    }
    uint32_t l4_len = o - lo->l4;
    if (s->udp) {
        vf_put_u16(d + lo->l4 + 4, vf_htons((uint16_t) l4_len));
    }
    uint32_t csum_at = lo->l4 + (s->udp ? 6 : 16);
    uint16_t c = (uint16_t) ~sg_l4_sum(d + lo->l3, s->v6, proto,
                                       d + lo->l4, l4_len);
    vf_put_u16(d + csum_at, vf_htons(c ? c : (s->udp ? 0xffff : 0)));
    return o;
}

/* A buffer from 'pool' (class by size, owner 'owner') holding 's'. */
static inline struct pkt *
sg_frame(struct pkt_pool *pool, const struct sg_spec *s, uint16_t owner,
         struct sg_layout *lo)
{
    struct sg_layout tmp;
    lo = lo ? lo : &tmp;
    uint32_t need = 14 + 40 + 60 + s->payload;
    struct pkt *p = pkt_alloc(NULL, pool,
                              need <= PKT_MTU_ROOM ? PKT_CLASS_MTU
                                                   : PKT_CLASS_GSO,
                              owner);
    if (p) {
        p->size = sg_write(pkt_data(p), s, lo);
    }
    return p;
}

/* A GSO super-frame: 's' with a partial checksum and a GSO request of
 * gso_size s->mss, as a TAP hands it over. */
static inline struct pkt *
sg_super(struct pkt_pool *pool, const struct sg_spec *s, uint16_t owner,
         struct sg_layout *lo)
{
    struct sg_layout tmp;
    lo = lo ? lo : &tmp;
    struct pkt *p = pkt_alloc(NULL, pool, PKT_CLASS_GSO, owner);
    if (!p) {
        return NULL;
    }
    uint8_t *d = pkt_data(p);
    p->size = sg_write(d, s, lo);
    /* Partial checksum: the pseudo-header sum of the whole L4 length. */
    uint32_t l4_len = p->size - lo->l4;
    const uint8_t *l3 = d + lo->l3;
    uint32_t sum = s->v6 ? sg_sum(l3 + 8, 32, 0) : sg_sum(l3 + 12, 8, 0);
    sum += s->udp ? 17u : 6u;
    sum += l4_len & 0xffff;
    sum += l4_len >> 16;
    vf_put_u16(d + lo->l4 + (s->udp ? 6 : 16), vf_htons(sg_fold(sum)));
    p->flags |= PKT_F_OFFLOAD;
    p->offload.gso_type = s->udp ? PKT_GSO_UDP
                          : s->v6 ? PKT_GSO_TCPV6 : PKT_GSO_TCPV4;
    p->offload.gso_size = s->mss;
    p->offload.needs_csum = 1;
    p->offload.csum_start = (uint16_t) lo->l4;
    p->offload.csum_offset = s->udp ? 6 : 16;
    return p;
}

#endif /* seggen.h */
