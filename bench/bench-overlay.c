/* SPDX-License-Identifier: Apache-2.0 */
/* bench/run overlay (in-process part): VXLAN and Geneve encapsulation and
 * decapsulation of 64-byte inner frames on one core.
 *
 * 1024 distinct inner frames sit in pool buffers; a trial encapsulates
 * each (tunnel_encap: outer headers written into the headroom, IPv4
 * checksum, UDP port from the flow hash), then strips them again with
 * pkt_pull so the next round starts from the inner frame.  The decap trial
 * runs tunnel_decap (full validation) and pushes the outer headers back.
 *
 * Super-frames (the TCP path, dp/dp-accel.h): a 64000-byte TCP super-frame
 * (MSS 1398, as a VM behind MTU 1450 hands it over) sent over VXLAN, the
 * simple way (gso_segment + tunnel_encap per segment: tso_tx_simple) and
 * as UDP GSO frames (tunnel_gso_encap: tso_tx_uso); and received, from
 * the UDP GSO frames as an AF_PACKET ring holds them (copied out first,
 * as the port does), the simple way (cut, decapsulate each, gro_coalesce:
 * tso_rx_split_gro) and merged in place (tunnel_gro_uso + tunnel_decap:
 * tso_rx_inplace).  Inner payload Gbit/s per core, and microseconds per
 * super-frame.
 *
 * The e2e part (cross-host iperf3 vs kernel vxlan) is bench/e2e-overlay.sh. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench-common.h"
#include "net/addr.h"
#include "net/csum.h"
#include "net/gro.h"
#include "net/gso.h"
#include "overlay/tunnel-gro.h"
#include "overlay/tunnel-gso.h"
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

/* ---- Super-frames ---- */

#define TSO_PAYLOAD 64000u
#define TSO_MSS 1398u
#define TSO_ROUNDS 200

struct tso_run {
    struct pkt_pool *pool;
    struct pkt *sup;                  /* The VM's super-frame. */
    struct pkt *uso[8];               /* It as UDP GSO frames... */
    struct pkt *ring[8];              /* ...and copies to restore. */
    int n_uso;
    struct tunnel_encap e;
};

static struct pkt *segs_buf[GSO_MAX_SEGS];

static uint64_t
run_tso_tx_simple(void *arg)
{
    struct tso_run *r = arg;
    for (int round = 0; round < TSO_ROUNDS; round++) {
        int n = gso_segment(NULL, r->sup, 0, segs_buf, GSO_MAX_SEGS);
        for (int i = 0; i < n; i++) {
            tunnel_encap(segs_buf[i], &r->e, 1);
        }
        pkt_free_burst(NULL, segs_buf, (uint32_t) n);
    }
    return TSO_ROUNDS;
}

static uint64_t
run_tso_tx_uso(void *arg)
{
    struct tso_run *r = arg;
    struct pkt *out[8];
    for (int round = 0; round < TSO_ROUNDS; round++) {
        int n = tunnel_gso_encap(NULL, r->sup, &r->e, 1, PKT_GSO_ROOM, out,
                                 8);
        pkt_free_burst(NULL, out, (uint32_t) n);
    }
    return TSO_ROUNDS;
}

/* Restores UDP GSO frame 'i' from its copy, as the uplink port copies a
 * frame out of its ring. */
static void
from_ring(struct tso_run *r, int i)
{
    struct pkt *f = r->uso[i], *c = r->ring[i];
    f->data_ofs = c->data_ofs;
    f->size = c->size;
    f->flags = c->flags;
    f->offload = c->offload;
    memcpy(pkt_data(f), pkt_data(c), c->size);
}

static uint64_t
run_tso_rx_split_gro(void *arg)
{
    struct tso_run *r = arg;
    for (int round = 0; round < TSO_ROUNDS; round++) {
        for (int i = 0; i < r->n_uso; i++) {
            from_ring(r, i);
            int n = gso_segment(NULL, r->uso[i], GSO_F_PARTIAL_CSUM,
                                segs_buf, GSO_MAX_SEGS);
            for (int k = 0; k < n; k++) {
                struct tunnel_rx rx;
                tunnel_decap(segs_buf[k], 0, 0, &rx);
                segs_buf[k]->flags |= PKT_F_OFFLOAD;
                memset(&segs_buf[k]->offload, 0, sizeof(struct pkt_offload));
                segs_buf[k]->offload.csum_valid = 1;
            }
            uint32_t m = gro_coalesce(NULL, segs_buf, (uint32_t) n, NULL);
            pkt_free_burst(NULL, segs_buf, m);
        }
    }
    return TSO_ROUNDS;
}

static uint64_t
run_tso_rx_inplace(void *arg)
{
    struct tso_run *r = arg;
    for (int round = 0; round < TSO_ROUNDS; round++) {
        for (int i = 0; i < r->n_uso; i++) {
            struct tunnel_rx rx;
            from_ring(r, i);
            if (tunnel_gro_uso(r->uso[i], 0, 0, false)
                || tunnel_decap(r->uso[i], 0, 0, &rx)) {
                abort();
            }
        }
    }
    return TSO_ROUNDS;
}

/* The super-frame: Ethernet + IPv4 + TCP with timestamps, partial
 * checksum, as a TAP with TSO hands it over. */
static struct pkt *
make_super(struct pkt_pool *pool)
{
    struct pkt *p = pkt_alloc(NULL, pool, PKT_CLASS_GSO, 0);
    uint8_t *f = pkt_data(p);
    uint32_t hdr = 14 + 20 + 32;
    memset(f, 0, hdr);
    memcpy(f, "\x02\0\0\0\0\x02\x02\0\0\0\0\x01\x08\x00", 14);
    struct ipv4_hdr *ip = (struct ipv4_hdr *) (f + 14);
    ip->ver_ihl = 0x45;
    ip->tot_len = vf_htons((uint16_t) (20 + 32 + TSO_PAYLOAD));
    ip->frag_off = VF_BE16(IPV4_DF);
    ip->ttl = 64;
    ip->proto = IP_PROTO_TCP;
    ip->src = vf_htonl(0x0a000001);
    ip->dst = vf_htonl(0x0a000002);
    ip->csum = csum(ip, 20);
    struct tcp_hdr *th = (struct tcp_hdr *) (f + 34);
    th->src = vf_htons(40000);
    th->dst = vf_htons(5201);
    th->seq = vf_htonl(1);
    th->ack = vf_htonl(1);
    th->off_flags = vf_htons(8u << 12 | 0x018);
    th->window = vf_htons(1000);
    memset(f + 34 + 20, 1, 12);
    for (uint32_t i = 0; i < TSO_PAYLOAD; i++) {
        f[hdr + i] = (uint8_t) (i * 7);
    }
    p->size = hdr + TSO_PAYLOAD;
    th->csum = (vf_be16) ~csum_fold(csum_pseudo_ipv4(
        ip->src, ip->dst, IP_PROTO_TCP, (uint16_t) (32 + TSO_PAYLOAD)));
    p->flags |= PKT_F_OFFLOAD;
    p->offload.gso_type = PKT_GSO_TCPV4;
    p->offload.gso_size = TSO_MSS;
    p->offload.needs_csum = 1;
    p->offload.csum_start = 34;
    p->offload.csum_offset = 16;
    return p;
}

static void
report_tso(const char *name, double ns)
{
    char metric[64];
    snprintf(metric, sizeof metric, "%s_gbps", name);
    bench_report(metric, TSO_PAYLOAD * 8.0 / ns, "Gbit/s");
    snprintf(metric, sizeof metric, "%s_us", name);
    bench_report(metric, ns / 1000, "us/super-frame");
}

static void
bench_tso(const struct tunnel_encap *e)
{
    struct pkt_pool_config cfg = {"tso", {2 * GSO_MAX_SEGS, 32}, 2};
    struct tso_run r;
    memset(&r, 0, sizeof r);
    r.pool = pkt_pool_create(&cfg);
    r.e = *e;
    r.e.type = TUNNEL_VXLAN;
    r.sup = make_super(r.pool);
    r.n_uso = tunnel_gso_encap(NULL, r.sup, &r.e, 1, PKT_GSO_ROOM, r.uso, 8);
    if (r.n_uso <= 0) {
        abort();
    }
    for (int i = 0; i < r.n_uso; i++) {
        r.ring[i] = pkt_clone(NULL, r.uso[i], 0);
    }
    printf("# super-frames: %u bytes of TCP payload, MSS %u, VXLAN: %d UDP "
           "GSO frames of %u-byte datagrams; median of 9 trials of %d\n",
           TSO_PAYLOAD, TSO_MSS, r.n_uso, r.uso[0]->offload.gso_size,
           TSO_ROUNDS);
    report_tso("tso_tx_simple", bench_median_ns_per_item(run_tso_tx_simple,
                                                         &r, 9));
    report_tso("tso_tx_uso", bench_median_ns_per_item(run_tso_tx_uso, &r,
                                                      9));
    report_tso("tso_rx_split_gro",
               bench_median_ns_per_item(run_tso_rx_split_gro, &r, 9));
    report_tso("tso_rx_inplace", bench_median_ns_per_item(run_tso_rx_inplace,
                                                          &r, 9));
    pkt_free_burst(NULL, r.uso, (uint32_t) r.n_uso);
    pkt_free_burst(NULL, r.ring, (uint32_t) r.n_uso);
    pkt_free(NULL, r.sup);
    pkt_pool_destroy(r.pool);
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
    bench_tso(&r.e);
    return 0;
}
