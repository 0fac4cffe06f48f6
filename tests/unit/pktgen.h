/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VFAB_TESTS_PKTGEN_H
#define VFAB_TESTS_PKTGEN_H 1

/* Frame builders for unit tests: append headers to a byte array, fix up
 * lengths and checksums at the end.  Header-only so any test can use it. */

#include <stdint.h>
#include <string.h>

#include "net/csum.h"
#include "net/wire-tunnel.h"
#include "net/wire.h"

struct pktgen {
    uint8_t buf[16384];
    uint32_t len;
    uint32_t l3;                 /* Offset of the last IP header. */
    uint32_t l4;                 /* Offset of the last L4 header. */
    int l3_is_v6;
};

static inline void *
pg_put(struct pktgen *g, const void *p, uint32_t n)
{
    void *dst = g->buf + g->len;
    if (p) {
        memcpy(dst, p, n);
    } else {
        memset(dst, 0, n);
    }
    g->len += n;
    return dst;
}

static inline void
pg_eth(struct pktgen *g, const char *dst, const char *src, uint16_t type)
{
    struct eth_hdr e;
    memcpy(e.dst.ea, dst, 6);
    memcpy(e.src.ea, src, 6);
    e.type = vf_htons(type);
    pg_put(g, &e, sizeof e);
}

/* Appends a tag; 'next' is the Ethertype after it. */
static inline void
pg_vlan(struct pktgen *g, uint16_t tci, uint16_t next)
{
    struct vlan_hdr v = {vf_htons(tci), vf_htons(next)};
    pg_put(g, &v, sizeof v);
}

static inline struct ipv4_hdr *
pg_ipv4(struct pktgen *g, const char *src, const char *dst, uint8_t proto)
{
    g->l3 = g->len;
    g->l3_is_v6 = 0;
    struct ipv4_hdr *ip = pg_put(g, NULL, sizeof *ip);
    ip->ver_ihl = 0x45;
    ip->ttl = 64;
    ip->proto = proto;
    memcpy(&ip->src, src, 4);
    memcpy(&ip->dst, dst, 4);
    return ip;
}

static inline struct ipv6_hdr *
pg_ipv6(struct pktgen *g, const uint8_t *src, const uint8_t *dst,
        uint8_t next)
{
    g->l3 = g->len;
    g->l3_is_v6 = 1;
    struct ipv6_hdr *ip = pg_put(g, NULL, sizeof *ip);
    ip->ver_tc_flow = vf_htonl(6u << 28);
    ip->next_hdr = next;
    ip->hop_limit = 64;
    memcpy(ip->src, src, 16);
    memcpy(ip->dst, dst, 16);
    return ip;
}

static inline struct tcp_hdr *
pg_tcp(struct pktgen *g, uint16_t sport, uint16_t dport, uint16_t flags)
{
    g->l4 = g->len;
    struct tcp_hdr *t = pg_put(g, NULL, sizeof *t);
    t->src = vf_htons(sport);
    t->dst = vf_htons(dport);
    t->off_flags = vf_htons((uint16_t) (5u << 12 | flags));
    t->window = vf_htons(65535);
    return t;
}

static inline struct udp_hdr *
pg_udp(struct pktgen *g, uint16_t sport, uint16_t dport)
{
    g->l4 = g->len;
    struct udp_hdr *u = pg_put(g, NULL, sizeof *u);
    u->src = vf_htons(sport);
    u->dst = vf_htons(dport);
    return u;
}

/* Sets IPv4 total length / IPv6 payload length, the IPv4 header checksum
 * and the UDP length of the headers added so far (the frame ends at the
 * current length).  Call once, after the last byte. */
static inline void
pg_finish(struct pktgen *g)
{
    if (g->l3_is_v6) {
        struct ipv6_hdr *ip = (struct ipv6_hdr *) (g->buf + g->l3);
        ip->payload_len = vf_htons((uint16_t) (g->len - g->l3 - 40));
    } else {
        struct ipv4_hdr *ip = (struct ipv4_hdr *) (g->buf + g->l3);
        ip->tot_len = vf_htons((uint16_t) (g->len - g->l3));
        ip->csum = 0;
        ip->csum = csum(ip, ipv4_hdr_len(ip));
    }
}

#endif /* pktgen.h */
