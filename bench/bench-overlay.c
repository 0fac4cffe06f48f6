/* SPDX-License-Identifier: Apache-2.0 */
/* bench/run overlay (in-process part): VXLAN and Geneve encapsulation and
 * decapsulation of 64-byte inner frames on one core.
 *
 * 1024 distinct inner frames sit in pool buffers; a trial encapsulates
 * each (tunnel_encap: outer headers written into the headroom, IPv4
 * checksum, UDP port from the flow hash), then strips them again with
 * pkt_pull so the next round starts from the inner frame.  The decap trial
 * runs tunnel_decap (full validation) and pushes the outer headers back.
 * The e2e part (cross-host iperf3 vs kernel vxlan) is bench/e2e-overlay.sh. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench-common.h"
#include "net/addr.h"
#include "net/csum.h"
#include "overlay/tunnel.h"
#include "pkt/pkt-pool.h"

#define N_FRAMES 1024
#define ROUNDS 2000

struct run {
    struct pkt *pkts[N_FRAMES];
    struct tunnel_encap e;
    uint32_t hlen;
};

static uint64_t
run_encap(void *arg)
{
    struct run *r = arg;
    for (int round = 0; round < ROUNDS; round++) {
        for (int i = 0; i < N_FRAMES; i++) {
            struct pkt *p = r->pkts[i];
            tunnel_encap(p, &r->e, p->rss_hash);
            pkt_pull(p, r->hlen);
        }
    }
    return (uint64_t) ROUNDS * N_FRAMES;
}

static uint64_t
run_decap(void *arg)
{
    struct run *r = arg;
    struct tunnel_rx rx;
    uint64_t sink = 0;
    for (int round = 0; round < ROUNDS; round++) {
        for (int i = 0; i < N_FRAMES; i++) {
            struct pkt *p = r->pkts[i];
            uint32_t size = p->size;
            sink += tunnel_decap(p, 0, 0, &rx) + rx.vni;
            pkt_push(p, r->hlen);
            p->size = size;
        }
    }
    __asm__ volatile("" : : "r"(sink));
    return (uint64_t) ROUNDS * N_FRAMES;
}

static void
fill(struct run *r)
{
    for (uint32_t i = 0; i < N_FRAMES; i++) {
        struct pkt *p = r->pkts[i];
        uint8_t *f = pkt_put(p, 60);
        if (!f) {
            abort();
        }
        memset(f, 0, 60);
        memcpy(f, "\x02\0\0\0\0\x02\x02\0\0\0\0\x01\x08\x00", 14);
        struct ipv4_hdr *ip = (struct ipv4_hdr *) (f + 14);
        ip->ver_ihl = 0x45;
        ip->tot_len = vf_htons(46);
        ip->ttl = 64;
        ip->proto = IP_PROTO_UDP;
        ip->src = vf_htonl(0x0a000000u | i);
        ip->dst = vf_htonl(0x0a010000u | i);
        ip->csum = csum(ip, 20);
        p->rss_hash = i * 2654435761u;
    }
}

int
main(void)
{
    bench_pin(1);
    struct pkt_pool_config cfg = {"bench", {N_FRAMES, 0}, 2};
    struct pkt_pool *pool = pkt_pool_create(&cfg);
    struct run r;
    memset(&r, 0, sizeof r);
    if (pkt_alloc_burst(NULL, pool, PKT_CLASS_MTU, 0, r.pkts, N_FRAMES)
        != N_FRAMES) {
        return 1;
    }
    fill(&r);
    eth_addr_parse("02:aa:00:00:00:01", &r.e.src_mac);
    eth_addr_parse("02:aa:00:00:00:02", &r.e.dst_mac);
    ipv4_parse("192.168.50.1", &r.e.src_ip);
    ipv4_parse("192.168.50.2", &r.e.dst_ip);
    r.e.vni = 5001;
    r.e.src_gid = 42;
    printf("# overlay: %d inner frames of 60 bytes x %d rounds per trial, "
           "median of 9, TSC %.2f GHz\n", N_FRAMES, ROUNDS,
           bench_tsc_hz() / 1e9);
    static const struct {
        enum tunnel_type type;
        const char *encap, *decap;
    } kinds[] = {
        {TUNNEL_VXLAN, "encap_vxlan", "decap_vxlan"},
        {TUNNEL_GENEVE, "encap_geneve", "decap_geneve"},
    };
    for (size_t k = 0; k < 2; k++) {
        r.e.type = kinds[k].type;
        r.hlen = tunnel_overhead(r.e.type);
        bench_report_pps(kinds[k].encap,
                         bench_median_ns_per_item(run_encap, &r, 9));
        for (int i = 0; i < N_FRAMES; i++) {
            tunnel_encap(r.pkts[i], &r.e, r.pkts[i]->rss_hash);
        }
        bench_report_pps(kinds[k].decap,
                         bench_median_ns_per_item(run_decap, &r, 9));
        for (int i = 0; i < N_FRAMES; i++) {
            pkt_pull(r.pkts[i], r.hlen);
        }
    }
    pkt_free_burst(NULL, r.pkts, N_FRAMES);
    pkt_pool_destroy(pool);
    return 0;
}
