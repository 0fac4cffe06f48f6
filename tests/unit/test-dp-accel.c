/* SPDX-License-Identifier: Apache-2.0 */
/* The fabric TCP accelerations (dp/fabric-accel.c) end to end on dummy
 * ports: a real datapath thread, a fabric bridge with a translation for
 * one remote VNIC, a VNIC port and an uplink port.  Each case runs the
 * datapath with the accelerations on and with their simple twins
 * (dp_config no_gro / no_tunnel_gso) and compares what reaches the "wire":
 * cut into segments and datagrams, both must be the same frames (outer
 * IPv4 ids and checksums and the outer UDP checksum aside, which UDP GSO
 * computes; each is verified). */
#include "harness.h"

#include <jansson.h>

#include "dp/dp.h"
#include "fabric-env.h"
#include "net/addr.h"
#include "net/gso.h"
#include "overlay/tunnel-gso.h"
#include "port/port-dummy.h"
#include "seggen.h"
#include "util/rcu.h"

#define MAX_OUT 512

static const struct eth_addr VM_A = {{2, 0, 0, 0, 0, 0xa}};   /* Local. */
static const struct eth_addr VM_B = {{2, 0, 0, 0, 0, 0xb}};   /* Remote. */

struct env {
    struct fabric_env fab;
    struct dp_port *vm;          /* The VNIC, port 2. */
};

static void
env_init(struct env *e, bool accel)
{
    memset(e, 0, sizeof *e);
    vf_rcu_register_thread();
    struct fabric_env *f = &e->fab;
    struct dp_config cfg = {.n_mtu_bufs = 8192, .n_gso_bufs = 64, .seed = 1,
                            .no_gro = !accel, .no_tunnel_gso = !accel};
    fabric_env_init(f, &cfg);
    e->vm = fabric_env_add_vnic(f, 2, "vm");
    struct pcache_part *part = pcache_part_get(f->cache, "a");
    /* VM_B, by its MAC, behind the peer VTEP. */
    fabric_env_add_xlate(f, part, "02:00:00:00:00:0b", &VM_B, 5001, false,
                         PCACHE_ALLOW);
    struct dp_vnic_binding b = {.name = "a", .vni = 5001, .gid = 7,
                                .part = part};
    b.identity.has_mac = true;
    b.identity.mac = VM_A;
    b.identity.n_ipv4 = 1;
    ipv4_parse("10.0.0.1", &b.identity.ipv4[0]);
    dp_port_bind(f->dp, e->vm, &b);
    VF_VERIFY(dp_start(f->dp) == 0);
}

static void
env_fini(struct env *e)
{
    fabric_env_fini(&e->fab);
    vf_rcu_unregister_thread();
}

/* Collects what 'port' sent until 'n' frames or 2 s of silence. */
static uint32_t
collect(struct dp_port *port, struct pkt **out, uint32_t n)
{
    uint32_t got = 0;
    for (int idle = 0; got < n && idle < 400; idle++) {
        uint32_t k = port_dummy_collect(dp_port_port(port), out + got,
                                        n - got);
        got += k;
        if (k) {
            idle = 0;
        }
        sleep_ms(5);
    }
    return got;
}

/* Replaces every UDP/TCP GSO frame of 'f' by its segments (complete
 * checksums); returns the new count. */
static uint32_t
expand(struct pkt **f, uint32_t n, uint32_t max)
{
    static struct pkt *tmp[MAX_OUT * 2];
    uint32_t m = 0;
    for (uint32_t i = 0; i < n; i++) {
        struct pkt *p = f[i];
        if ((p->flags & PKT_F_OFFLOAD)
            && p->offload.gso_type != PKT_GSO_NONE) {
            int k = gso_segment(NULL, p, 0, tmp + m, MAX_OUT * 2 - m);
            CHECK(k > 0);
            m += (uint32_t) k;
            pkt_free(NULL, p);
        } else {
            tmp[m++] = p;
        }
    }
    CHECK(m <= max);
    memcpy(f, tmp, m * sizeof *f);
    return m;
}

/* Moves the 'n' frames of 'f' (the datapath's buffers, freed) into
 * copies from 'keep', so they outlive the datapath. */
static void
keep_frames(struct pkt **f, uint32_t n, struct pkt_pool *keep)
{
    for (uint32_t i = 0; i < n; i++) {
        struct pkt *c = pkt_alloc(NULL, keep, PKT_CLASS_MTU, 0);
        VF_VERIFY(c);
        memcpy(pkt_data(c), pkt_data(f[i]), f[i]->size);
        c->size = f[i]->size;
        pkt_free(NULL, f[i]);
        f[i] = c;
    }
}

static uint64_t
accel_stat(struct dp *dp, const char *group, const char *name)
{
    json_t *j = dp_stats_json(dp);
    uint64_t v = (uint64_t) json_integer_value(
        json_object_get(json_object_get(json_object_get(j, "accel"), group),
                        name));
    json_decref(j);
    return v;
}

/* ---- VNIC -> uplink ---- */

static const struct sg_spec TX_SPEC = {
    .payload = 64000, .mss = 1398, .seq = 0xffff0000u, .ack = 1,
    .ip_id = 0xfffa, .tcp_flags = SG_ACK | SG_PSH, .tcp_opt_len = 12,
};

/* Sends the super-frame from the VNIC; returns what the uplink sent. */
static uint32_t
send_from_vnic(bool accel, struct pkt **out, uint64_t *uso_frames,
               struct pkt_pool *keep)
{
    struct env e;
    env_init(&e, accel);
    struct pkt_pool_config pc = {"tx", {8, 4}, 2};
    struct pkt_pool *pool = pkt_pool_create(&pc);
    struct pkt *sup = sg_super(pool, &TX_SPEC, 0, NULL);
    VF_VERIFY(!port_dummy_inject(dp_port_port(e.vm), pkt_data(sup),
                                 sup->size, &sup->offload));
    pkt_free(NULL, sup);
    pkt_pool_destroy(pool);
    uint32_t n = collect(e.fab.up, out, accel ? 2 : 46);
    *uso_frames = accel_stat(e.fab.dp, "tunnel_gso", "out");
    n = expand(out, n, MAX_OUT);
    keep_frames(out, n, keep);
    env_fini(&e);
    return n;
}

static void
test_vnic_to_uplink(void)
{
    static struct pkt *fast[MAX_OUT], *twin[MAX_OUT];
    struct pkt_pool_config kc = {"keep", {2 * MAX_OUT, 0}, 2};
    struct pkt_pool *keep = pkt_pool_create(&kc);
    uint64_t uso_fast, uso_twin;
    uint32_t n_fast = send_from_vnic(true, fast, &uso_fast, keep);
    uint32_t n_twin = send_from_vnic(false, twin, &uso_twin, keep);
    CHECK_EQ_U(uso_fast, 2);     /* 46 segments: 23 + 23 datagrams. */
    CHECK_EQ_U(uso_twin, 0);
    CHECK_EQ_U(n_twin, 46);
    CHECK_EQ_U(n_fast, n_twin);
    for (uint32_t i = 0; i < n_twin; i++) {
        const uint8_t *a = pkt_data(fast[i]), *b = pkt_data(twin[i]);
        CHECK_EQ_U(fast[i]->size, twin[i]->size);
        CHECK_MEM(a, b, 18);
        CHECK_MEM(a + 20, b + 20, 4);
        CHECK_MEM(a + 26, b + 26, 14);
        CHECK_MEM(a + 42, b + 42, fast[i]->size - 42);
        CHECK_EQ_U(sg_fold(sg_sum(a + 14, 20, 0)), 0xffff);
        CHECK_EQ_U(sg_l4_sum(a + 14, false, 17, a + 34, fast[i]->size - 34),
                   0xffff);
        CHECK_EQ_U(vf_get_u16(b + 40), 0);
        /* The inner segment is complete and right. */
        CHECK_EQ_U(sg_l4_sum(a + 50 + 14, false, 6, a + 50 + 34,
                             fast[i]->size - 50 - 34), 0xffff);
    }
    pkt_free_burst(NULL, fast, n_fast);
    pkt_free_burst(NULL, twin, n_twin);
    pkt_pool_destroy(keep);
}

/* ---- uplink -> VNIC ---- */

/* The remote VM's super-frame (B -> A) as UDP GSO frames from its VTEP;
 * 'corrupt' flips a payload byte of segment 10 and drops the outer
 * request's partial checksum (so nothing vouches for the inner one). */
static uint32_t
remote_frames(struct pkt_pool *pool, struct pkt **uso, struct pkt **segs,
              uint32_t *n_segs, bool corrupt)
{
    struct sg_spec s = TX_SPEC;
    struct pkt *sup = sg_super(pool, &s, 0, NULL);
    uint8_t *d = pkt_data(sup);
    memcpy(d, VM_A.ea, 6);
    memcpy(d + 6, VM_B.ea, 6);
    struct tunnel_encap te = {.type = TUNNEL_VXLAN, .vni = 5001,
                              .src_mac = PEER_MAC, .dst_mac = VTEP_MAC};
    ipv4_parse("192.168.1.2", &te.src_ip);
    ipv4_parse("192.168.1.1", &te.dst_ip);
    int n = tunnel_gso_encap(NULL, sup, &te, 9, PKT_GSO_ROOM, uso, 4);
    CHECK_EQ_I(n, 2);
    int m = gso_segment(NULL, sup, 0, segs, MAX_OUT);
    CHECK_EQ_I(m, 46);
    *n_segs = (uint32_t) m;
    if (corrupt) {
        uint32_t unit = uso[0]->offload.gso_size;
        pkt_data(uso[0])[42 + 10 * unit + 8 + 100] ^= 1;
        pkt_data(segs[10])[100] ^= 1;
        uso[0]->offload.needs_csum = 0;
        uso[1]->offload.needs_csum = 0;
    }
    pkt_free(NULL, sup);
    return (uint32_t) n;
}

/* Injects the remote frames on the uplink; returns what the VNIC got,
 * expanded into segments, and the number of frames it got. */
static uint32_t
receive_on_vnic(bool accel, bool corrupt, struct pkt **out,
                uint32_t *n_frames, struct pkt **want, uint32_t *n_want,
                struct pkt_pool *pool)
{
    struct env e;
    env_init(&e, accel);
    struct pkt *uso[4];
    uint32_t n = remote_frames(pool, uso, want, n_want, corrupt);
    for (uint32_t i = 0; i < n; i++) {
        VF_VERIFY(!port_dummy_inject(dp_port_port(e.fab.up),
                                     pkt_data(uso[i]), uso[i]->size,
                                     &uso[i]->offload));
    }
    pkt_free_burst(NULL, uso, n);
    uint32_t got = collect(e.vm, out, 46);
    *n_frames = got;
    for (uint32_t i = 0; i < got; i++) {
        if (!corrupt) {
            /* Trusted (the outer checksum was partial), or merged. */
            CHECK(out[i]->flags & PKT_F_OFFLOAD);
        }
    }
    got = expand(out, got, MAX_OUT);
    keep_frames(out, got, pool);
    env_fini(&e);
    return got;
}

static void
check_received(bool accel, bool corrupt, uint32_t want_frames)
{
    struct pkt_pool_config pc = {"rx", {1024, 16}, 2};
    struct pkt_pool *pool = pkt_pool_create(&pc);
    static struct pkt *got[MAX_OUT], *want[MAX_OUT];
    uint32_t n_frames, n_want;
    uint32_t n = receive_on_vnic(accel, corrupt, got, &n_frames, want,
                                 &n_want, pool);
    CHECK_EQ_U(n_frames, want_frames);
    CHECK_EQ_U(n, n_want);
    for (uint32_t i = 0; i < n && i < n_want; i++) {
        CHECK_EQ_U(got[i]->size, want[i]->size);
        CHECK_MEM(pkt_data(got[i]), pkt_data(want[i]), want[i]->size);
    }
    pkt_free_burst(NULL, want, n_want);
    pkt_free_burst(NULL, got, n);
    pkt_pool_destroy(pool);
}

static void
test_uplink_to_vnic(void)
{
    /* Merged in place: one TSO frame per UDP GSO frame. */
    check_received(true, false, 2);
    /* Twin: cut, decapsulated, delivered one by one. */
    check_received(false, false, 46);
    /* Accelerated, but a corrupted inner segment: the in-place merge
     * refuses, the frame is cut, GRO merges the good runs around it:
     * 0-9, 10 (bad, passed on for the VM to drop), 11-22; 23-45. */
    check_received(true, true, 4);
}

static const struct test_case cases[] = {
    TEST(test_vnic_to_uplink),
    TEST(test_uplink_to_vnic),
};

TEST_MAIN(cases)
