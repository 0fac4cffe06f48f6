/* SPDX-License-Identifier: Apache-2.0 */
/* The distributed router of fabric bridges (dp/fabric.c route() and
 * check_source()) on dummy ports: a real datapath thread, a fabric bridge
 * with an uplink and two VNICs in two virtual networks (VNIs 5101 and
 * 5102) and translations by destination IP (IPv4 and IPv6 keys) in the
 * first VNIC's partition.  Frames sent to DP_ROUTER_MAC must come out
 * with MACs rewritten and the TTL / hop limit decremented, locally or
 * encapsulated with the destination network's VNI; TTL / hop limit 1,
 * denied and unknown destinations are dropped and counted; a unicast
 * solicitation to the router goes to the agent; a routed frame from the
 * uplink is checked by its inner source IP. */
#include "harness.h"

#include <jansson.h>

#include "dp/dp.h"
#include "fabric-env.h"
#include "net/addr.h"
#include "net/parse.h"
#include "overlay/tunnel.h"
#include "pktgen.h"
#include "port/port-dummy.h"
#include "util/rcu.h"

static const struct eth_addr VM_A = {{2, 0, 0, 0, 0x11, 0x10}}; /* 5101 */
static const struct eth_addr VM_B = {{2, 0, 0, 0, 0x12, 0x20}}; /* 5102 */
static const struct eth_addr VM_C = {{2, 0, 0, 0, 0x12, 0x10}}; /* Remote */
static const struct eth_addr ROUTER = DP_ROUTER_MAC;

struct env {
    struct fabric_env fab;
    struct dp_port *a, *b;       /* VNICs, ports 2 and 3. */
    int n_resolve;               /* FAB_RESOLVE upcalls seen. */
};

static void
ip6(const char *s, uint8_t out[16])
{
    VF_VERIFY(!ipv6_parse(s, out));
}

static void
bind(struct env *e, struct dp_port *port, const char *name, uint32_t vni,
     const struct eth_addr *mac, const char *ips)
{
    struct dp_vnic_binding b = {.vni = vni, .gid = vni};
    snprintf(b.name, sizeof b.name, "%s", name);
    b.part = pcache_part_get(e->fab.cache, name);
    vnic_identity_set_mac(&b.identity, mac);
    VF_VERIFY(!vnic_identity_parse_ips(&b.identity, ips, NULL));
    dp_port_bind(e->fab.dp, port, &b);
}

static void
env_init(struct env *e)
{
    /* Registered once: a failed CHECK leaves its test without env_fini()
     * (harness.h), and the next test must still run. */
    static bool registered;
    memset(e, 0, sizeof *e);
    if (!registered) {
        vf_rcu_register_thread();
        registered = true;
    }
    struct fabric_env *f = &e->fab;
    struct dp_config cfg = {.n_mtu_bufs = 1024, .n_gso_bufs = 16, .seed = 1};
    fabric_env_init(f, &cfg);
    e->a = fabric_env_add_vnic(f, 2, "a");
    e->b = fabric_env_add_vnic(f, 3, "b");
    struct pcache_part *pa = pcache_part_get(f->cache, "a");
    fabric_env_add_xlate(f, pa, "fd00:12::20", &VM_B, 5102, true,
                         PCACHE_ALLOW);
    fabric_env_add_xlate(f, pa, "10.12.0.20", &VM_B, 5102, true,
                         PCACHE_ALLOW);
    fabric_env_add_xlate(f, pa, "fd00:12::10", &VM_C, 5102, false,
                         PCACHE_ALLOW);
    fabric_env_add_xlate(f, pa, "fd00:13::1", &VM_C, 5103, false,
                         PCACHE_DENY);
    bind(e, e->a, "a", 5101, &VM_A, "10.11.0.10,fd00:11::10");
    bind(e, e->b, "b", 5102, &VM_B, "10.12.0.20,fd00:12::20");
    VF_VERIFY(dp_start(f->dp) == 0);
}

static void
env_fini(struct env *e)
{
    fabric_env_fini(&e->fab);
}

/* The next frame 'port' sent, or NULL after 1 s. */
static struct pkt *
collect_one(struct dp_port *port)
{
    struct pkt *p;
    for (int i = 0; i < 200; i++) {
        if (port_dummy_collect(dp_port_port(port), &p, 1)) {
            return p;
        }
        sleep_ms(5);
    }
    return NULL;
}

/* Waits until 'port' counted a drop for 'reason' (up to 1 s). */
static bool
wait_drop(struct dp_port *port, enum dp_drop reason)
{
    for (int i = 0; i < 200; i++) {
        if (dp_port_drops(port, reason)) {
            return true;
        }
        sleep_ms(5);
    }
    return false;
}

/* An ICMPv6 echo request from 'src' to 'dst' with hop limit 'hops', sent
 * by 'smac' to 'dmac'. */
static void
echo6(struct pktgen *g, const struct eth_addr *dmac,
      const struct eth_addr *smac, const char *src, const char *dst,
      uint8_t hops)
{
    uint8_t s[16], d[16];
    ip6(src, s);
    ip6(dst, d);
    memset(g, 0, sizeof *g);
    pg_eth(g, (const char *) dmac->ea, (const char *) smac->ea,
           ETH_TYPE_IPV6);
    struct ipv6_hdr *ip = pg_ipv6(g, s, d, IP_PROTO_ICMPV6);
    ip->hop_limit = hops;
    uint8_t icmp[16] = {ICMPV6_ECHO_REQUEST, 0, 0, 0, 0, 1, 0, 1, 'v', '6'};
    uint8_t *l4 = pg_put(g, icmp, sizeof icmp);
    pg_finish(g);
    uint32_t sum = csum_pseudo_ipv6(s, d, IP_PROTO_ICMPV6, sizeof icmp);
    vf_put_u16(l4 + 2, csum_fold(csum_partial(l4, sizeof icmp, sum)));
}

static void
inject(struct dp_port *port, const struct pktgen *g)
{
    VF_VERIFY(!port_dummy_inject(dp_port_port(port), g->buf, g->len, NULL));
}

/* VM A (fd00:11::10) sends an echo to 'dst' through the router. */
static void
echo6_from_a(struct env *e, const char *dst, uint8_t hops)
{
    struct pktgen g;
    echo6(&g, &ROUTER, &VM_A, "fd00:11::10", dst, hops);
    inject(e->a, &g);
}

/* Checks that 'f' (an Ethernet frame of 'size' bytes) is the routed
 * echo: router -> 'dmac', hop limit 63, ICMPv6 checksum intact. */
static void
check_routed6(const uint8_t *f, uint32_t size, const struct eth_addr *dmac)
{
    struct flow_key k;
    struct flow_parse_info info;
    CHECK(flow_parse(f, size, 0, &k, &info));
    CHECK(eth_addr_equals(&k.dl_dst, dmac));
    CHECK(eth_addr_equals(&k.dl_src, &ROUTER));
    CHECK_EQ_U(k.dl_type, VF_BE16(ETH_TYPE_IPV6));
    CHECK_EQ_U(k.nw_ttl, 63);
    const uint8_t *ip = f + 14;
    uint32_t len = size - 54;
    uint32_t s = csum_pseudo_ipv6(ip + 8, ip + 24, IP_PROTO_ICMPV6, len);
    CHECK_EQ_U(csum_fold(csum_partial(ip + 40, len, s)), 0);
}

static void
test_route6_local(void)
{
    struct env e;
    env_init(&e);
    echo6_from_a(&e, "fd00:12::20", 64);
    struct pkt *p = collect_one(e.b);
    CHECK(p);
    if (p) {
        check_routed6(pkt_data(p), p->size, &VM_B);
        pkt_free(NULL, p);
    }
    /* Hop limit 1: dropped at the router, nothing delivered. */
    echo6_from_a(&e, "fd00:12::20", 1);
    CHECK(wait_drop(e.a, DP_DROP_LOOP));
    CHECK_EQ_U(port_dummy_n_collected(dp_port_port(e.b)), 0);
    /* Denied destination: counted as policy at the source. */
    echo6_from_a(&e, "fd00:13::1", 64);
    CHECK(wait_drop(e.a, DP_DROP_POLICY));
    env_fini(&e);
}

static void
test_route4_local(void)
{
    struct env e;
    env_init(&e);
    struct pktgen g;
    memset(&g, 0, sizeof g);
    pg_eth(&g, (const char *) ROUTER.ea, (const char *) VM_A.ea,
           ETH_TYPE_IPV4);
    pg_ipv4(&g, "\x0a\x0b\0\x0a", "\x0a\x0c\0\x14", IP_PROTO_UDP);
    pg_udp(&g, 1000, 2000);
    pg_put(&g, "v4", 2);
    pg_finish(&g);
    inject(e.a, &g);
    struct pkt *p = collect_one(e.b);
    CHECK(p);
    if (p) {
        struct flow_key k;
        struct flow_parse_info info;
        const uint8_t *f = pkt_data(p);
        CHECK(flow_parse(f, p->size, 0, &k, &info));
        CHECK(eth_addr_equals(&k.dl_dst, &VM_B));
        CHECK(eth_addr_equals(&k.dl_src, &ROUTER));
        CHECK_EQ_U(k.nw_ttl, 63);
        CHECK_EQ_U(csum(f + 14, 20), 0);     /* Header checksum fixed. */
        pkt_free(NULL, p);
    }
    env_fini(&e);
}

static void
test_route6_remote(void)
{
    struct env e;
    env_init(&e);
    echo6_from_a(&e, "fd00:12::10", 64);
    struct pkt *p = collect_one(e.fab.up);
    CHECK(p);
    if (p) {
        struct tunnel_rx rx;
        CHECK_EQ_I(tunnel_decap(p, 0, 0, &rx), TUNNEL_OK);
        CHECK_EQ_U(rx.vni, 5102);            /* The destination's VNI. */
        CHECK_EQ_U(rx.dst_ip, e.fab.peer);
        check_routed6(pkt_data(p), p->size, &VM_C);
        pkt_free(NULL, p);
    }
    env_fini(&e);
}

static void
upcall_cb(void *aux, struct dp_bridge *br, struct dp_port *in,
          uint8_t table, enum dp_upcall_reason reason, uint32_t arg,
          struct pkt *pkt, bool *taken)
{
    struct env *e = aux;
    (void) br, (void) in, (void) table, (void) arg, (void) pkt, (void) taken;
    if (reason == DP_UPCALL_FAB_RESOLVE) {
        e->n_resolve++;
    }
}

static void
test_unicast_ns_to_router(void)
{
    struct env e;
    env_init(&e);
    dp_set_upcall_cb(e.fab.dp, upcall_cb, &e);
    /* Neighbour unreachability detection: NS for the gateway, unicast
     * to the router's MAC (RFC 4861 7.3.3). */
    uint8_t s[16], d[16];
    ip6("fd00:11::10", s);
    ip6("fd00:11::1", d);
    struct pktgen g;
    memset(&g, 0, sizeof g);
    pg_eth(&g, (const char *) ROUTER.ea, (const char *) VM_A.ea,
           ETH_TYPE_IPV6);
    struct ipv6_hdr *ip = pg_ipv6(&g, s, d, IP_PROTO_ICMPV6);
    ip->hop_limit = 255;
    uint8_t ns[24] = {ND_NEIGHBOR_SOLICIT};
    memcpy(ns + 8, d, 16);
    uint8_t *l4 = pg_put(&g, ns, sizeof ns);
    pg_finish(&g);
    uint32_t sum = csum_pseudo_ipv6(s, d, IP_PROTO_ICMPV6, sizeof ns);
    vf_put_u16(l4 + 2, csum_fold(csum_partial(l4, sizeof ns, sum)));
    inject(e.a, &g);
    for (int i = 0; i < 200 && !e.n_resolve; i++) {
        dp_run(e.fab.dp);
        sleep_ms(5);
    }
    CHECK_EQ_I(e.n_resolve, 1);
    CHECK_EQ_U(dp_port_drops(e.a, DP_DROP_POLICY), 0);
    env_fini(&e);
}

/* A routed frame from the remote host: VNI 5101 (a's), inner source the
 * router's MAC and fd00:12::10, which partition "a" places behind 'src'
 * of the outer header only if 'src' is the peer. */
static void
inject_routed_from(struct env *e, const char *outer_src)
{
    struct pktgen g;
    echo6(&g, &VM_A, &ROUTER, "fd00:12::10", "fd00:11::10", 63);
    struct pkt_pool_config pc = {"enc", {4, 0}, 2};
    struct pkt_pool *pool = pkt_pool_create(&pc);
    struct pkt *p = pkt_alloc(NULL, pool, PKT_CLASS_MTU, 0);
    VF_VERIFY(p);
    memcpy(pkt_data(p), g.buf, g.len);
    p->size = g.len;
    struct tunnel_encap te = {.type = TUNNEL_VXLAN, .vni = 5101,
                              .src_mac = PEER_MAC, .dst_mac = VTEP_MAC,
                              .dst_ip = e->fab.vtep};
    ipv4_parse(outer_src, &te.src_ip);
    VF_VERIFY(!tunnel_encap(p, &te, 7));
    VF_VERIFY(!port_dummy_inject(dp_port_port(e->fab.up), pkt_data(p),
                                 p->size, NULL));
    pkt_free(NULL, p);
    pkt_pool_destroy(pool);
}

static void
test_routed6_from_uplink(void)
{
    struct env e;
    env_init(&e);
    inject_routed_from(&e, "192.168.1.2");
    struct pkt *p = collect_one(e.a);
    CHECK(p);
    if (p) {
        check_routed6(pkt_data(p), p->size, &VM_A);
        pkt_free(NULL, p);
    }
    /* The same source IP from another VTEP is not the model's. */
    inject_routed_from(&e, "192.168.1.3");
    CHECK(wait_drop(e.fab.up, DP_DROP_VTEP)
          || wait_drop(e.a, DP_DROP_VTEP));
    CHECK_EQ_U(port_dummy_n_collected(dp_port_port(e.a)), 0);
    env_fini(&e);
}

static const struct test_case cases[] = {
    TEST(test_route6_local),
    TEST(test_route4_local),
    TEST(test_route6_remote),
    TEST(test_unicast_ns_to_router),
    TEST(test_routed6_from_uplink),
};

TEST_MAIN(cases)
