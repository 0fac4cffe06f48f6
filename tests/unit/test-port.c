/* SPDX-License-Identifier: Apache-2.0 */
/* Tests of port/port.c: kind names, configuration checks (precise
 * messages, nothing created), capability enforcement on transmit,
 * port_tx_prepare() and statistics.  Uses dummy ports; real devices are
 * exercised by tests/integration/t-port-*.sh. */
#include "harness.h"

#include "net/csum.h"
#include "net/gso.h"
#include "net/wire.h"
#include "port/link-monitor.h"
#include "port/port-dummy.h"
#include "port/port-provider.h"
#include "port/port.h"

static struct pkt_pool *
make_pool(void)
{
    struct pkt_pool_config cfg = {"port", {512, 8}, 4};
    struct pkt_pool *pool = pkt_pool_create(&cfg);
    VF_VERIFY(pool);
    return pool;
}

static void
destroy_pool(struct pkt_pool *pool)
{
    CHECK_EQ_U(pkt_pool_n_free(pool, PKT_CLASS_MTU), 512);
    CHECK_EQ_U(pkt_pool_n_free(pool, PKT_CLASS_GSO), 8);
    pkt_pool_destroy(pool);
}

static void
test_kind_names(void)
{
    const char *names[] = {"tap", "afpacket", "patch", "dummy", "tunnel",
                           "bond"};
    for (int k = 0; k < PORT_N_KINDS; k++) {
        CHECK_STR(port_kind_name((enum port_kind) k), names[k]);
        CHECK_EQ_I(port_kind_from_name(names[k]), k);
    }
    CHECK(port_kind_name(PORT_N_KINDS) == NULL);
    CHECK(port_kind_name((enum port_kind) -1) == NULL);
    CHECK_EQ_I(port_kind_from_name("TAP"), -EINVAL);
    CHECK_EQ_I(port_kind_from_name(""), -EINVAL);
    CHECK_EQ_I(port_kind_from_name("tap "), -EINVAL);
    CHECK_EQ_I(port_kind_from_name(NULL), -EINVAL);

    const char *rings[] = {"default", "v2", "v3"};
    for (int r = 0; r < PORT_N_RX_RINGS; r++) {
        CHECK_STR(port_rx_ring_name((enum port_rx_ring) r), rings[r]);
        CHECK_EQ_I(port_rx_ring_from_name(rings[r]), r);
    }
    CHECK(port_rx_ring_name(PORT_N_RX_RINGS) == NULL);
    CHECK_EQ_I(port_rx_ring_from_name("V2"), -EINVAL);
    CHECK_EQ_I(port_rx_ring_from_name("tpacket_v2"), -EINVAL);
    CHECK_EQ_I(port_rx_ring_from_name(NULL), -EINVAL);
}

/* port_create() must fail with 'err' and exactly 'msg', creating nothing;
 * port_config_check() must agree on the static errors. */
static void
expect_create_error(struct pkt_pool *pool, const struct port_config *cfg,
                    int err, const char *msg)
{
    struct port *port = (struct port *) 0x1;
    char *errp = NULL;
    CHECK_EQ_I(port_create(cfg, pool, &port, &errp), err);
    CHECK(port == NULL);
    CHECK_STR(errp, msg);
    free(errp);
    if (cfg && (err == -EINVAL || err == -EOPNOTSUPP)) {
        errp = NULL;
        CHECK_EQ_I(port_config_check(cfg, pool, &errp), err);
        CHECK_STR(errp, msg);
        free(errp);
    }
}

static void
test_bad_configs(void)
{
    struct pkt_pool *pool = make_pool();
    struct port_config c = {.name = "p0", .kind = PORT_KIND_DUMMY};

    c.name = "";
    expect_create_error(pool, &c, -EINVAL, "port name is empty");
    c.name = NULL;
    expect_create_error(pool, &c, -EINVAL, "port name is empty");
    c.name = "0123456789abcdef";
    expect_create_error(pool, &c, -EINVAL,
                        "port name '0123456789abcdef' is too long (16 "
                        "bytes; at most 15)");
    c.name = "a/b";
    expect_create_error(pool, &c, -EINVAL,
                        "port name 'a/b' contains a character not allowed "
                        "in a device name (0x2f)");
    c.name = "a b";
    expect_create_error(pool, &c, -EINVAL,
                        "port name 'a b' contains a character not allowed "
                        "in a device name (0x20)");
    c.name = "..";
    expect_create_error(pool, &c, -EINVAL,
                        "port name '..' is not a valid device name");
    c.name = "p0";
    c.kind = (enum port_kind) 42;
    expect_create_error(pool, &c, -EINVAL, "port p0: unknown port kind 42");
    c.kind = PORT_KIND_TUNNEL;
    expect_create_error(pool, &c, -EOPNOTSUPP,
                        "port p0: port kind 'tunnel' is not available (its "
                        "part has not registered it)");
    c.kind = PORT_KIND_DUMMY;
    c.owner = 4;
    expect_create_error(pool, &c, -EINVAL,
                        "port p0: owner 4 is out of range for its buffer "
                        "pool");
    c.owner = 3;
    c.mtu = 67;
    expect_create_error(pool, &c, -EINVAL,
                        "port p0: mtu 67 is out of range (68..9194)");
    c.mtu = 9195;
    expect_create_error(pool, &c, -EINVAL,
                        "port p0: mtu 9195 is out of range (68..9194)");
    c.mtu = 9000;
    c.peer = "p1";
    expect_create_error(pool, &c, -EINVAL,
                        "port p0: 'peer' is only for patch ports, not dummy "
                        "ports");
    c.peer = NULL;
    c.ring_frames = 63;
    expect_create_error(pool, &c, -EINVAL,
                        "port p0: ring_frames 63 is out of range "
                        "(64..262144)");
    c.ring_frames = 0;
    c.rx_ring = PORT_N_RX_RINGS;
    expect_create_error(pool, &c, -EINVAL, "port p0: unknown rx_ring 3");
    c.rx_ring = PORT_RX_RING_V2;
    expect_create_error(pool, &c, -EINVAL,
                        "port p0: 'rx_ring' is only for afpacket ports, not "
                        "dummy ports");
    c.rx_ring = PORT_RX_RING_DEFAULT;

    /* Patch-specific checks. */
    c.kind = PORT_KIND_PATCH;
    expect_create_error(pool, &c, -EINVAL,
                        "port p0: a patch port needs a peer");
    c.peer = "p0";
    expect_create_error(pool, &c, -EINVAL,
                        "port p0: a patch port cannot be its own peer");
    c.peer = "0123456789abcdef";
    expect_create_error(pool, &c, -EINVAL,
                        "port p0: peer name '0123456789abcdef' is too long "
                        "(16 bytes; at most 15)");
    c.peer = "p1";
    c.ring_frames = 100;
    expect_create_error(pool, &c, -EINVAL,
                        "port p0: ring_frames 100 is not a power of two");

    /* Device-backed kinds: a missing interface (no privileges needed to
     * find out). */
    struct port_config a = {.name = "vfnosuchdev0", .kind = PORT_KIND_AFPACKET,
                            .offload = true};
    expect_create_error(pool, &a, -ENODEV,
                        "port vfnosuchdev0: interface 'vfnosuchdev0' does "
                        "not exist");
    a.rx_ring = PORT_RX_RING_V3;
    expect_create_error(pool, &a, -ENODEV,
                        "port vfnosuchdev0: interface 'vfnosuchdev0' does "
                        "not exist");
    a.rx_ring = PORT_RX_RING_DEFAULT;
    /* A tap whose name is taken by an existing device. */
    struct port_config t = {.name = "lo", .kind = PORT_KIND_TAP};
    expect_create_error(pool, &t, -EEXIST,
                        "port lo: a device of that name already exists "
                        "(ifindex 1)");

    /* No configuration, no pool. */
    char *errp = NULL;
    struct port *port;
    CHECK_EQ_I(port_create(NULL, pool, &port, &errp), -EINVAL);
    CHECK_STR(errp, "no port configuration");
    free(errp);
    struct port_config ok = {.name = "p0", .kind = PORT_KIND_DUMMY};
    errp = NULL;
    CHECK_EQ_I(port_create(&ok, NULL, &port, &errp), -EINVAL);
    CHECK_STR(errp, "port p0: no buffer pool");
    free(errp);
    CHECK_EQ_I(port_config_check(&ok, NULL, &errp), 0);
    CHECK(errp == NULL);
    destroy_pool(pool);
}

static int
fake_construct(struct port *port, const struct port_config *cfg,
               char **errp)
{
    (void) port;
    (void) cfg;
    (void) errp;
    return 0;
}

static void
fake_destruct(struct port *port)
{
    (void) port;
}

static void
test_class_registry(void)
{
    struct port_class c = port_dummy_class;
    c.kind = PORT_KIND_DUMMY;
    CHECK_EQ_I(port_class_register(&c), -EEXIST);
    CHECK_EQ_I(port_class_register(NULL), -EINVAL);
    c.kind = PORT_KIND_BOND;
    c.tx_burst = NULL;
    CHECK_EQ_I(port_class_register(&c), -EINVAL);
    c = port_dummy_class;
    c.kind = (enum port_kind) 99;
    CHECK_EQ_I(port_class_register(&c), -EINVAL);
    CHECK(port_class_lookup(PORT_KIND_BOND) == NULL);
    CHECK(port_class_lookup(PORT_KIND_TAP) == &port_tap_class);

    /* A registered kind becomes creatable (a dummy under the bond kind,
     * with a construct that does nothing). */
    static struct port_class bond;
    bond = port_dummy_class;
    bond.kind = PORT_KIND_BOND;
    bond.name = "bond";
    bond.construct = fake_construct;
    bond.destruct = fake_destruct;
    bond.dealloc = port_dummy_class.dealloc;
    CHECK_EQ_I(port_class_register(&bond), 0);
    CHECK(port_class_lookup(PORT_KIND_BOND) == &bond);
    CHECK_EQ_I(port_class_register(&bond), -EEXIST);
    struct pkt_pool *pool = make_pool();
    struct port_config cfg = {.name = "b0", .kind = PORT_KIND_BOND};
    struct port *port;
    char *errp = NULL;
    CHECK_EQ_I(port_create(&cfg, pool, &port, &errp), 0);
    CHECK_EQ_U(port_kind(port), PORT_KIND_BOND);
    port_destroy(port);
    destroy_pool(pool);
}

static struct pkt *
frame(struct pkt_pool *pool, uint32_t size)
{
    struct pkt *p = pkt_alloc(NULL, pool,
                              size > PKT_MTU_ROOM ? PKT_CLASS_GSO
                                                  : PKT_CLASS_MTU, 0);
    VF_VERIFY(p);
    memset(pkt_data(p), 0xee, size);
    p->size = size;
    return p;
}

static void
test_tx_caps_enforced(void)
{
    struct pkt_pool *pool = make_pool();
    struct port_config c = {.name = "d0", .kind = PORT_KIND_DUMMY};
    struct port *port;
    char *errp = NULL;
    CHECK_EQ_I(port_create(&c, pool, &port, &errp), 0);
    CHECK_STR(port_name(port), "d0");
    CHECK_EQ_U(port_kind(port), PORT_KIND_DUMMY);
    CHECK_EQ_U(port_owner(port), 0);
    CHECK_EQ_I(port_ifindex(port), 0);
    CHECK(port_link_up(port));
    CHECK(port_get_fd(port) >= 0);

    struct port_caps caps = {.max_frame = 1518, .mtu = 1500};
    CHECK_EQ_I(port_dummy_set_caps(port, &caps), 0);
    struct port_caps got;
    port_get_caps(port, &got);
    CHECK_EQ_U(got.max_frame, 1518);
    CHECK(!got.tx_tso4);

    struct pkt *pkts[6];
    pkts[0] = frame(pool, 60);
    pkts[1] = frame(pool, 1519);                 /* Too big. */
    pkts[2] = frame(pool, 1000);
    pkts[2]->flags |= PKT_F_OFFLOAD;
    pkts[2]->offload.gso_type = PKT_GSO_TCPV4;   /* No TSO. */
    pkts[2]->offload.gso_size = 500;
    pkts[3] = frame(pool, 100);
    pkts[3]->flags |= PKT_F_OFFLOAD;
    pkts[3]->offload.needs_csum = 1;             /* No tx_csum. */
    pkts[4] = frame(pool, 100);
    pkts[4]->flags |= PKT_F_OFFLOAD;
    pkts[4]->offload.csum_valid = 1;             /* Fine. */
    pkts[5] = frame(pool, 1518);
    CHECK_EQ_U(port_tx_burst(port, NULL, pkts, 6), 3);

    struct port_stats st;
    port_get_stats(port, &st);
    CHECK_EQ_U(st.tx_packets, 3);
    CHECK_EQ_U(st.tx_bytes, 60 + 100 + 1518);
    CHECK_EQ_U(st.tx_errors, 3);
    CHECK_EQ_U(st.tx_dropped, 0);
    struct pkt *out[8];
    CHECK_EQ_U(port_dummy_collect(port, out, 8), 3);
    CHECK_EQ_U(out[0]->size, 60);
    CHECK_EQ_U(out[1]->size, 100);
    CHECK_EQ_U(out[2]->size, 1518);
    pkt_free_burst(NULL, out, 3);

    /* With every offload, the same frames pass. */
    caps = (struct port_caps) {.tx_csum = true, .tx_tso4 = true,
                               .max_frame = PKT_GSO_ROOM, .mtu = 1500};
    CHECK_EQ_I(port_dummy_set_caps(port, &caps), 0);
    pkts[0] = frame(pool, 1000);
    pkts[0]->flags |= PKT_F_OFFLOAD;
    pkts[0]->offload.gso_type = PKT_GSO_TCPV4;
    pkts[1] = frame(pool, 20000);
    pkts[2] = frame(pool, 100);
    pkts[2]->flags |= PKT_F_OFFLOAD;
    pkts[2]->offload.gso_type = PKT_GSO_TCPV6;   /* Not tso6. */
    pkts[3] = frame(pool, 100);
    pkts[3]->flags |= PKT_F_OFFLOAD;
    pkts[3]->offload.gso_type = 9;               /* Not a type. */
    CHECK_EQ_U(port_tx_burst(port, NULL, pkts, 4), 2);
    CHECK_EQ_U(port_dummy_collect(port, out, 8), 2);
    pkt_free_burst(NULL, out, 2);

    /* More than one chunk of refused frames in a burst. */
    caps.max_frame = 64;
    CHECK_EQ_I(port_dummy_set_caps(port, &caps), 0);
    struct pkt *many[100];
    for (int i = 0; i < 100; i++) {
        many[i] = frame(pool, i % 2 ? 100 : 60);
    }
    CHECK_EQ_U(port_tx_burst(port, NULL, many, 100), 50);
    CHECK_EQ_U(port_dummy_collect(port, out, 8), 8);
    pkt_free_burst(NULL, out, 8);
    CHECK_EQ_U(port_dummy_n_collected(port), 42);
    CHECK_EQ_U(port_tx_burst(port, NULL, many, 0), 0);
    CHECK_EQ_I(port_dummy_set_caps(port, NULL), -EINVAL);
    caps.max_frame = 0;
    CHECK_EQ_I(port_dummy_set_caps(port, &caps), -EINVAL);
    port_destroy(port);          /* Frees the 42 still held. */
    port_destroy(NULL);
    destroy_pool(pool);
}

/* Builds a TCPv4 GSO frame with a partial checksum, as a tap delivers. */
static struct pkt *
gso_frame(struct pkt_pool *pool, uint32_t payload, uint16_t mss)
{
    struct pkt *p = frame(pool, 14 + 20 + 20 + payload);
    uint8_t *d = pkt_data(p);
    memset(d, 0, 54);
    vf_put_u16(d + 12, vf_htons(ETH_TYPE_IPV4));
    struct ipv4_hdr *ip = (struct ipv4_hdr *) (d + 14);
    ip->ver_ihl = 0x45;
    ip->ttl = 64;
    ip->proto = IP_PROTO_TCP;
    ip->tot_len = vf_htons((uint16_t) (p->size - 14));
    ip->src = vf_htonl(0x0a000001);
    ip->dst = vf_htonl(0x0a000002);
    d[34 + 12] = 0x50;
    d[34 + 13] = 0x18;
    p->flags |= PKT_F_OFFLOAD;
    p->offload.gso_type = PKT_GSO_TCPV4;
    p->offload.gso_size = mss;
    p->offload.needs_csum = 1;
    p->offload.csum_start = 34;
    p->offload.csum_offset = 16;
    return p;
}

static bool
l4_csum_ok(const struct pkt *p)
{
    const uint8_t *d = pkt_data(p);
    const struct ipv4_hdr *ip = (const struct ipv4_hdr *) (d + 14);
    uint32_t len = p->size - 34;
    uint32_t sum = csum_pseudo_ipv4(ip->src, ip->dst, IP_PROTO_TCP,
                                    (uint16_t) len);
    return csum_fold(csum_partial(d + 34, len, sum)) == 0;
}

static void
test_tx_prepare(void)
{
    struct pkt_pool *pool = make_pool();
    struct pkt *out[GSO_MAX_SEGS];

    /* A port that takes TSO: the frame goes as it is. */
    struct port_caps tso = {.tx_csum = true, .tx_tso4 = true,
                            .max_frame = PKT_GSO_ROOM, .mtu = 1500};
    struct pkt *p = gso_frame(pool, 30000, 1448);
    CHECK_EQ_I(port_tx_prepare(&tso, NULL, p, out, 4), 1);
    CHECK(out[0] == p);
    pkt_free(NULL, p);

    /* Checksums but no TSO: segments with partial checksums. */
    struct port_caps csum = {.tx_csum = true, .max_frame = 1518,
                             .mtu = 1500};
    p = gso_frame(pool, 30000, 1448);
    int n = port_tx_prepare(&csum, NULL, p, out, GSO_MAX_SEGS);
    CHECK_EQ_I(n, 21);
    for (int i = 0; i < n; i++) {
        CHECK(out[i]->offload.needs_csum);
        CHECK(out[i]->size <= 1514);
    }
    pkt_free_burst(NULL, out, (uint32_t) n);

    /* Nothing: complete checksums. */
    struct port_caps none = {.max_frame = 1518, .mtu = 1500};
    p = gso_frame(pool, 30000, 1448);
    n = port_tx_prepare(&none, NULL, p, out, GSO_MAX_SEGS);
    CHECK_EQ_I(n, 21);
    for (int i = 0; i < n; i++) {
        CHECK(!(out[i]->flags & PKT_F_OFFLOAD));
        CHECK(l4_csum_ok(out[i]));
    }
    pkt_free_burst(NULL, out, (uint32_t) n);

    /* A partial checksum alone is completed in place. */
    p = gso_frame(pool, 500, 1448);
    p->offload.gso_type = PKT_GSO_NONE;
    p->offload.gso_size = 0;
    const struct ipv4_hdr *ip = (const struct ipv4_hdr *) (pkt_data(p) + 14);
    vf_put_u16(pkt_data(p) + 50,
               (vf_be16) ~csum_fold(csum_pseudo_ipv4(ip->src, ip->dst,
                                                     IP_PROTO_TCP, 520)));
    CHECK_EQ_I(port_tx_prepare(&none, NULL, p, out, 1), 1);
    CHECK(out[0] == p);
    CHECK(l4_csum_ok(p));
    CHECK(!p->offload.needs_csum);
    pkt_free(NULL, p);

    /* Errors free the frame. */
    p = gso_frame(pool, 30000, 1448);
    CHECK_EQ_I(port_tx_prepare(&none, NULL, p, out, 5), -E2BIG);
    p = gso_frame(pool, 30000, 1448);
    p->offload.csum_start = 35;
    CHECK_EQ_I(port_tx_prepare(&none, NULL, p, out, GSO_MAX_SEGS), -EINVAL);
    p = gso_frame(pool, 100, 1448);
    p->offload.gso_type = PKT_GSO_NONE;
    p->offload.csum_start = 2000;
    CHECK_EQ_I(port_tx_prepare(&none, NULL, p, out, 1), -EINVAL);
    p = frame(pool, 60);
    CHECK_EQ_I(port_tx_prepare(&none, NULL, p, out, 0), -E2BIG);
    destroy_pool(pool);
}

static void
test_netdev_helpers(void)
{
    unsigned int flags;
    CHECK_EQ_I(port_netdev_get_flags("lo", &flags), 0);
    CHECK(flags & IFF_UP);
    CHECK(port_netdev_flags_up(IFF_UP | IFF_RUNNING));
    CHECK(!port_netdev_flags_up(IFF_UP));
    CHECK(!port_netdev_flags_up(IFF_RUNNING));
    uint32_t mtu;
    CHECK_EQ_I(port_netdev_get_mtu("lo", &mtu), 0);
    CHECK(mtu >= 1500);
    int ifindex;
    CHECK_EQ_I(port_netdev_get_ifindex("lo", &ifindex), 0);
    CHECK_EQ_I(ifindex, 1);
    CHECK_EQ_I(port_netdev_get_ifindex("vfnosuchdev0", &ifindex), -ENODEV);
    CHECK_EQ_I(port_netdev_get_flags("0123456789abcdefg", &flags), -EINVAL);
    CHECK_EQ_U(port_frame_for_mtu(1500), 1522);
}

/* The link monitor's bookkeeping (its kernel side is exercised by
 * tests/integration/t-port-afpacket.sh). */
static void
test_link_monitor_basics(void)
{
    struct pkt_pool *pool = make_pool();
    struct link_monitor *mon = link_monitor_create();
    CHECK(mon);
    CHECK(link_monitor_wait(mon) >= 0);
    CHECK_EQ_I(link_monitor_run(mon), 0);
    struct port_config c = {.name = "d9", .kind = PORT_KIND_DUMMY};
    struct port *port;
    char *errp = NULL;
    CHECK_EQ_I(port_create(&c, pool, &port, &errp), 0);
    CHECK_EQ_I(link_monitor_add_port(mon, port), -EINVAL);  /* No ifindex. */
    link_monitor_remove_port(mon, port);                    /* No-op. */
    /* Pretend the dummy sits on "lo" (ifindex 1, up). */
    atomic_store(&port->ifindex, 1);
    snprintf(port->name, sizeof port->name, "lo");
    port_set_carrier__(port, false);
    CHECK_EQ_I(link_monitor_add_port(mon, port), 0);
    CHECK(port_link_up(port));
    CHECK_EQ_I(link_monitor_add_port(mon, port), -EEXIST);
    struct link_monitor_stats st;
    link_monitor_get_stats(mon, &st);
    CHECK_EQ_U(st.n_changes, 1);
    link_monitor_remove_port(mon, port);
    link_monitor_destroy(mon);
    link_monitor_destroy(NULL);
    port_destroy(port);
    destroy_pool(pool);
}

static const struct test_case cases[] = {
    TEST(test_link_monitor_basics),
    TEST(test_kind_names),
    TEST(test_bad_configs),
    TEST(test_class_registry),
    TEST(test_tx_caps_enforced),
    TEST(test_tx_prepare),
    TEST(test_netdev_helpers),
};

TEST_MAIN(cases)
