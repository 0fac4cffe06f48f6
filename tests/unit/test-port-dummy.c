/* SPDX-License-Identifier: Apache-2.0 */
/* Tests of port/port-dummy.c: injection and reception in order, buffer
 * classes and owners, quotas, link state, the eventfd, and that every
 * buffer comes back to the pool exactly once. */
#include "harness.h"

#include <poll.h>

#include "port/port-dummy.h"
#include "port/port.h"

static struct pkt_pool *
make_pool(uint32_t n_mtu, uint32_t n_gso)
{
    struct pkt_pool_config cfg = {"dummy", {n_mtu, n_gso}, 8};
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

static struct port *
make_port(struct pkt_pool *pool, const char *name, uint16_t owner)
{
    struct port_config c = {.name = name, .kind = PORT_KIND_DUMMY,
                            .owner = owner};
    struct port *port = NULL;
    char *errp = NULL;
    VF_VERIFY(!port_create(&c, pool, &port, &errp));
    return port;
}

static bool
readable(int fd)
{
    struct pollfd pfd = {fd, POLLIN, 0};
    return poll(&pfd, 1, 0) == 1;
}

static void
test_inject_receive_in_order(void)
{
    struct pkt_pool *pool = make_pool(256, 4);
    struct port *port = make_port(pool, "d0", 3);
    int fd = port_get_fd(port);
    CHECK(!readable(fd));

    uint8_t buf[20000];
    for (int i = 0; i < 100; i++) {
        memset(buf, i, sizeof buf);
        CHECK_EQ_I(port_dummy_inject(port, buf, (uint32_t) (60 + i), NULL),
                   0);
    }
    struct pkt_offload off = {.gso_type = PKT_GSO_TCPV4, .gso_size = 1000,
                              .needs_csum = 1, .csum_start = 34,
                              .csum_offset = 16};
    CHECK_EQ_I(port_dummy_inject(port, buf, sizeof buf, &off), 0);
    CHECK_EQ_U(port_dummy_n_pending(port), 101);
    CHECK(readable(fd));

    struct pkt *pkts[32];
    int seen = 0;
    while (seen < 101) {
        int n = port_rx_burst(port, NULL, pkts, 32);
        CHECK(n > 0);
        for (int i = 0; i < n; i++, seen++) {
            struct pkt *p = pkts[i];
            CHECK_EQ_U(p->owner, 3);
            if (seen < 100) {
                CHECK_EQ_U(p->size, 60 + seen);
                CHECK_EQ_U(pkt_data(p)[0], seen);
                CHECK_EQ_U(p->cls, PKT_CLASS_MTU);
                CHECK(!(p->flags & PKT_F_OFFLOAD));
            } else {
                CHECK_EQ_U(p->size, sizeof buf);
                CHECK_EQ_U(p->cls, PKT_CLASS_GSO);
                CHECK(p->flags & PKT_F_OFFLOAD);
                CHECK_EQ_U(p->offload.gso_size, 1000);
            }
        }
        pkt_free_burst(NULL, pkts, (uint32_t) n);
    }
    CHECK(!readable(fd));
    CHECK_EQ_I(port_rx_burst(port, NULL, pkts, 32), 0);
    struct port_stats st;
    port_get_stats(port, &st);
    CHECK_EQ_U(st.rx_packets, 101);
    CHECK_EQ_U(st.rx_bytes, 100 * 60 + 99 * 100 / 2 + sizeof buf);

    CHECK_EQ_I(port_dummy_inject(port, buf, 0, NULL), -EINVAL);
    CHECK_EQ_I(port_dummy_inject(port, buf, PKT_GSO_ROOM + 1, NULL),
               -EINVAL);
    port_destroy(port);
    destroy_pool(pool);
}

static void
test_quota_and_pool_limits(void)
{
    struct pkt_pool *pool = make_pool(64, 1);
    struct port *port = make_port(pool, "d1", 2);
    CHECK_EQ_I(pkt_pool_set_quota(pool, 2, 10), 0);
    uint8_t buf[100] = {0};
    for (int i = 0; i < 20; i++) {
        CHECK_EQ_I(port_dummy_inject(port, buf, sizeof buf, NULL), 0);
    }
    struct pkt *pkts[32];
    CHECK_EQ_I(port_rx_burst(port, NULL, pkts, 32), 10);
    CHECK_EQ_I(port_rx_burst(port, NULL, pkts + 10, 32), -EDQUOT);
    CHECK_EQ_U(port_dummy_n_pending(port), 10);
    CHECK(readable(port_get_fd(port)));
    pkt_free_burst(NULL, pkts, 10);
    CHECK_EQ_I(port_rx_burst(port, NULL, pkts, 32), 10);
    pkt_free_burst(NULL, pkts, 10);

    /* No GSO buffer: -ENOBUFS, the frame stays. */
    CHECK_EQ_I(pkt_pool_set_quota(pool, 2, 0), 0);
    uint8_t big[10000] = {0};
    struct pkt *hold = pkt_alloc(NULL, pool, PKT_CLASS_GSO, 0);
    CHECK(hold);
    CHECK_EQ_I(port_dummy_inject(port, big, sizeof big, NULL), 0);
    CHECK_EQ_I(port_rx_burst(port, NULL, pkts, 32), -ENOBUFS);
    pkt_free(NULL, hold);
    CHECK_EQ_I(port_rx_burst(port, NULL, pkts, 32), 1);
    pkt_free(NULL, pkts[0]);
    port_destroy(port);
    destroy_pool(pool);
}

static void
test_link_state(void)
{
    struct pkt_pool *pool = make_pool(64, 1);
    struct port *port = make_port(pool, "d2", 0);
    uint8_t buf[60] = {0};
    CHECK_EQ_I(port_dummy_inject(port, buf, sizeof buf, NULL), 0);
    CHECK_EQ_I(port_dummy_set_link(port, false), 0);
    CHECK(!port_link_up(port));
    struct pkt *pkts[4];
    CHECK_EQ_I(port_rx_burst(port, NULL, pkts, 4), 0);
    CHECK(!readable(port_get_fd(port)));

    /* Down: transmit drops. */
    pkts[0] = pkt_alloc(NULL, pool, PKT_CLASS_MTU, 0);
    pkts[0]->size = 60;
    pkts[1] = pkt_alloc(NULL, pool, PKT_CLASS_MTU, 0);
    pkts[1]->size = 60;
    CHECK_EQ_U(port_tx_burst(port, NULL, pkts, 2), 0);
    struct port_stats st;
    port_get_stats(port, &st);
    CHECK_EQ_U(st.tx_dropped, 2);
    CHECK_EQ_U(port_dummy_n_collected(port), 0);

    /* Up again: the waiting frame wakes the fd. */
    CHECK_EQ_I(port_dummy_set_link(port, true), 0);
    CHECK(readable(port_get_fd(port)));
    CHECK_EQ_I(port_rx_burst(port, NULL, pkts, 4), 1);
    pkt_free(NULL, pkts[0]);

    /* Functions refuse other kinds of port. */
    struct port_config pc = {.name = "pa", .kind = PORT_KIND_PATCH,
                             .peer = "pb"};
    struct port *patch;
    char *errp = NULL;
    CHECK_EQ_I(port_create(&pc, pool, &patch, &errp), 0);
    CHECK(!port_is_dummy(patch));
    CHECK(!port_is_dummy(NULL));
    CHECK_EQ_I(port_dummy_set_link(patch, true), -EINVAL);
    CHECK_EQ_I(port_dummy_inject(patch, buf, 60, NULL), -EINVAL);
    CHECK_EQ_U(port_dummy_collect(patch, pkts, 4), 0);
    CHECK_EQ_U(port_dummy_n_pending(patch), 0);
    CHECK_EQ_U(port_dummy_n_collected(patch), 0);
    port_destroy(patch);

    /* Frames still queued at destroy are freed. */
    CHECK_EQ_I(port_dummy_inject(port, buf, sizeof buf, NULL), 0);
    pkts[0] = pkt_alloc(NULL, pool, PKT_CLASS_MTU, 0);
    pkts[0]->size = 60;
    CHECK_EQ_U(port_tx_burst(port, NULL, pkts, 1), 1);
    port_destroy(port);
    destroy_pool(pool);
}

static void
test_tx_limit(void)
{
    struct pkt_pool *pool = make_pool(PORT_DUMMY_TX_LIMIT + 64, 0);
    struct port *port = make_port(pool, "d3", 0);
    struct pkt *pkts[64];
    uint32_t total = 0;
    while (total < PORT_DUMMY_TX_LIMIT + 64) {
        CHECK_EQ_I(pkt_alloc_burst(NULL, pool, PKT_CLASS_MTU, 0, pkts, 64),
                   64);
        for (int i = 0; i < 64; i++) {
            pkts[i]->size = 60;
        }
        total += port_tx_burst(port, NULL, pkts, 64);
        if (total == PORT_DUMMY_TX_LIMIT) {
            break;
        }
    }
    CHECK_EQ_U(total, PORT_DUMMY_TX_LIMIT);
    CHECK_EQ_I(pkt_alloc_burst(NULL, pool, PKT_CLASS_MTU, 0, pkts, 64), 64);
    CHECK_EQ_U(port_tx_burst(port, NULL, pkts, 64), 0);
    struct port_stats st;
    port_get_stats(port, &st);
    CHECK_EQ_U(st.tx_dropped, 64);
    port_destroy(port);
    destroy_pool(pool);
}

static const struct test_case cases[] = {
    TEST(test_inject_receive_in_order),
    TEST(test_quota_and_pool_limits),
    TEST(test_link_state),
    TEST(test_tx_limit),
};

TEST_MAIN(cases)
