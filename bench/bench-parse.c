/* SPDX-License-Identifier: Apache-2.0 */
/* bench/run parse: parser throughput on one core.
 *
 * 1024 distinct 64-byte frames per kind (varied addresses and ports, so
 * the branch predictor sees realistic flows) sit in packet buffers, as on
 * the datapath; each trial parses all of them 2000 times in batches of 32
 * with flow_parse_batch() (flow key + layer offsets + RSS hash, exactly
 * what the datapath runs).  The VXLAN kind also parses the inner frame. */
#include <stdio.h>
#include <string.h>

#include "bench-common.h"
#include "net/csum.h"
#include "net/parse.h"
#include "net/wire-tunnel.h"
#include "pkt/pkt-batch.h"
#include "pkt/pkt-pool.h"

#define N_FRAMES 1024
#define ROUNDS 2000

enum kind { K_IPV4_TCP, K_VXLAN, K_IPV6 };

static uint32_t
build_eth(uint8_t *f, uint16_t type, uint32_t i)
{
    struct eth_hdr *e = (struct eth_hdr *) f;
    memcpy(e->dst.ea, "\x02\x00\x00\x00\x00\x02", 6);
    memcpy(e->src.ea, "\x02\x00\x00\x00\x00\x01", 6);
    e->src.ea[5] = (uint8_t) i;
    e->type = vf_htons(type);
    return sizeof *e;
}

static uint32_t
build_ipv4_tcp(uint8_t *f, uint32_t i, uint16_t tot)
{
    uint32_t n = build_eth(f, ETH_TYPE_IPV4, i);
    struct ipv4_hdr *ip = (struct ipv4_hdr *) (f + n);
    memset(ip, 0, sizeof *ip);
    ip->ver_ihl = 0x45;
    ip->tot_len = vf_htons(tot);
    ip->ttl = 64;
    ip->proto = IP_PROTO_TCP;
    ip->src = vf_htonl(0x0a000000u | i);
    ip->dst = vf_htonl(0x0a010000u | (i * 7));
    ip->csum = csum(ip, sizeof *ip);
    struct tcp_hdr *t = (struct tcp_hdr *) (ip + 1);
    memset(t, 0, sizeof *t);
    t->src = vf_htons((uint16_t) (1024 + i));
    t->dst = vf_htons(80);
    t->off_flags = vf_htons(5u << 12 | 0x10);
    return n + tot;
}

static uint32_t
build_frame(enum kind kind, uint8_t *f, uint32_t i)
{
    memset(f, 0, 128);
    if (kind == K_IPV4_TCP) {
        build_ipv4_tcp(f, i, 46);            /* 60 bytes + FCS = 64. */
        return 60;
    }
    if (kind == K_IPV6) {
        uint32_t n = build_eth(f, ETH_TYPE_IPV6, i);
        struct ipv6_hdr *ip = (struct ipv6_hdr *) (f + n);
        ip->ver_tc_flow = vf_htonl(6u << 28 | i);
        ip->payload_len = vf_htons(8);
        ip->next_hdr = IP_PROTO_UDP;
        ip->hop_limit = 64;
        ip->src[0] = 0x20, ip->src[15] = (uint8_t) i;
        ip->dst[0] = 0x20, ip->dst[14] = (uint8_t) (i >> 8);
        struct udp_hdr *u = (struct udp_hdr *) (ip + 1);
        u->src = vf_htons((uint16_t) i);
        u->dst = vf_htons(53);
        u->len = vf_htons(8);
        return 62;                           /* + FCS = 66: IPv6 minimum. */
    }
    /* VXLAN: outer Eth/IPv4/UDP/VXLAN around a 60-byte inner frame. */
    uint32_t n = build_eth(f, ETH_TYPE_IPV4, i);
    struct ipv4_hdr *ip = (struct ipv4_hdr *) (f + n);
    ip->ver_ihl = 0x45;
    ip->tot_len = vf_htons(20 + 8 + 8 + 60);
    ip->ttl = 64;
    ip->proto = IP_PROTO_UDP;
    ip->src = vf_htonl(0xc0a80101u);
    ip->dst = vf_htonl(0xc0a80102u);
    struct udp_hdr *u = (struct udp_hdr *) (ip + 1);
    u->src = vf_htons((uint16_t) (49152 + i));
    u->dst = vf_htons(VXLAN_UDP_PORT);
    u->len = vf_htons(8 + 8 + 60);
    struct vxlan_hdr *vx = (struct vxlan_hdr *) (u + 1);
    vx->flags = VF_BE32(VXLAN_FLAG_I);
    vx->vni_res = vf_htonl(5001u << 8);
    build_ipv4_tcp((uint8_t *) (vx + 1), i, 46);
    return 14 + 20 + 8 + 8 + 60;
}

struct run {
    struct pkt *pkts[N_FRAMES];
    bool inner;
};

static uint64_t
run_parse(void *arg)
{
    struct run *r = arg;
    struct pkt_batch b;
    struct flow_key keys[PKT_BATCH_MAX], inner;
    struct flow_parse_info info;
    struct parse_stats stats = {0};
    uint64_t sink = 0;
    for (int round = 0; round < ROUNDS; round++) {
        for (int i = 0; i < N_FRAMES; i += PKT_BATCH_MAX) {
            b.count = PKT_BATCH_MAX;
            memcpy(b.pkts, &r->pkts[i], sizeof b.pkts);
            if (!r->inner) {
                flow_parse_batch(&b, keys, NULL, &stats);
            } else {
                /* Outer and inner, as a tunnel port's receive path. */
                for (int j = 0; j < PKT_BATCH_MAX; j++) {
                    struct pkt *p = b.pkts[j];
                    flow_parse(pkt_data(p), p->size, 0, &keys[j], &info);
                    flow_parse_inner(pkt_data(p), p->size, &keys[j], &info,
                                     &inner, &info);
                    p->rss_hash = flow_rss_hash(&inner, 0);
                    sink += inner.tp_src;
                }
            }
            sink += keys[PKT_BATCH_MAX - 1].tp_src;
        }
    }
    __asm__ volatile("" : : "r"(sink));
    return (uint64_t) ROUNDS * N_FRAMES;
}

int
main(void)
{
    bench_pin(1);
    struct pkt_pool_config cfg = {"bench", {N_FRAMES, 0}, 4};
    struct pkt_pool *pool = pkt_pool_create(&cfg);
    static const struct {
        enum kind kind;
        const char *name;
    } kinds[] = {
        {K_IPV4_TCP, "parse_ipv4_tcp"},
        {K_VXLAN, "parse_vxlan"},
        {K_IPV6, "parse_ipv6"},
    };
    printf("# parse: %d frames x %d rounds per trial, batches of %d, "
           "median of 9 trials, TSC %.2f GHz\n", N_FRAMES, ROUNDS,
           PKT_BATCH_MAX, bench_tsc_hz() / 1e9);
    for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
        struct run r = {.inner = kinds[k].kind == K_VXLAN};
        if (pkt_alloc_burst(NULL, pool, PKT_CLASS_MTU, 0, r.pkts, N_FRAMES)
            != N_FRAMES) {
            fprintf(stderr, "bench-parse: pool allocation failed\n");
            return 1;
        }
        for (uint32_t i = 0; i < N_FRAMES; i++) {
            uint8_t frame[256];
            uint32_t len = build_frame(kinds[k].kind, frame, i);
            memcpy(pkt_put(r.pkts[i], len), frame, len);
        }
        double ns = bench_median_ns_per_item(run_parse, &r, 9);
        bench_report_pps(kinds[k].name, ns);
        pkt_free_burst(NULL, r.pkts, N_FRAMES);
    }
    pkt_pool_destroy(pool);
    return 0;
}
