/* SPDX-License-Identifier: Apache-2.0 */
/* Tests of port/port-patch.c: pairing by name in either order, frames in
 * order with their offload requests, link state, drops when the ring is
 * full or the peer is gone, re-pairing, owners, and a two-thread run in
 * which the receiving thread sleeps in epoll (no lost wakeups, no loss,
 * no reordering, every buffer freed exactly once). */
#include "harness.h"

#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include "port/port.h"
#include "util/byteorder.h"

static struct pkt_pool *
make_pool(uint32_t n_mtu)
{
    struct pkt_pool_config cfg = {"patch", {n_mtu, 4}, 8};
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
patch(struct pkt_pool *pool, const char *name, const char *peer,
      uint16_t owner, uint32_t ring)
{
    struct port_config c = {.name = name, .kind = PORT_KIND_PATCH,
                            .peer = peer, .owner = owner,
                            .ring_frames = ring};
    struct port *port = NULL;
    char *errp = NULL;
    int err = port_create(&c, pool, &port, &errp);
    if (err) {
        fprintf(stderr, "  %s\n", errp);
        free(errp);
    }
    VF_VERIFY(!err);
    return port;
}

static bool
readable(const struct port *port)
{
    struct pollfd pfd = {port_get_fd(port), POLLIN, 0};
    return poll(&pfd, 1, 0) == 1;
}

static void
fill(struct pkt_pool *pool, struct pkt_cache *cache, struct pkt **pkts,
     uint32_t first, uint32_t n)
{
    VF_VERIFY(pkt_alloc_burst(cache, pool, PKT_CLASS_MTU, 0, pkts, n)
              == (int) n);
    for (uint32_t i = 0; i < n; i++) {
        vf_put_u32(pkt_data(pkts[i]), first + i);
        pkts[i]->size = 60;
    }
}

static void
test_pairing_and_order(void)
{
    struct pkt_pool *pool = make_pool(1024);
    struct port *a = patch(pool, "pa", "pb", 0, 0);
    CHECK(!port_link_up(a));
    struct port_caps caps;
    port_get_caps(a, &caps);
    CHECK(caps.tx_tso4 && caps.tx_tso6 && caps.tx_uso && caps.tx_csum);
    CHECK_EQ_U(caps.max_frame, PKT_GSO_ROOM);

    /* Unpaired: transmit drops. */
    struct pkt *pkts[64];
    fill(pool, NULL, pkts, 0, 4);
    CHECK_EQ_U(port_tx_burst(a, NULL, pkts, 4), 0);
    struct port_stats st;
    port_get_stats(a, &st);
    CHECK_EQ_U(st.tx_dropped, 4);

    struct port *b = patch(pool, "pb", "pa", 2, 0);
    CHECK(port_link_up(a));
    CHECK(port_link_up(b));
    CHECK(!readable(b));

    fill(pool, NULL, pkts, 100, 40);
    pkts[5]->flags |= PKT_F_OFFLOAD;
    pkts[5]->offload.gso_type = PKT_GSO_TCPV4;
    pkts[5]->offload.gso_size = 1448;
    CHECK_EQ_U(port_tx_burst(a, NULL, pkts, 40), 40);
    CHECK(readable(b));
    CHECK(!readable(a));

    struct pkt *in[64];
    CHECK_EQ_I(port_rx_burst(b, NULL, in, 32), 32);
    CHECK(readable(b));          /* 8 more wait. */
    CHECK_EQ_I(port_rx_burst(b, NULL, in + 32, 32), 8);
    CHECK(!readable(b));
    for (uint32_t i = 0; i < 40; i++) {
        CHECK_EQ_U(vf_get_u32(pkt_data(in[i])), 100 + i);
        CHECK_EQ_U(in[i]->owner, 2);          /* Recharged. */
    }
    CHECK(in[5]->flags & PKT_F_OFFLOAD);
    CHECK_EQ_U(in[5]->offload.gso_size, 1448);
    CHECK_EQ_I(port_rx_burst(b, NULL, in + 40, 32), 0);

    /* And back. */
    CHECK_EQ_U(port_tx_burst(b, NULL, in, 40), 40);
    CHECK(readable(a));
    CHECK_EQ_I(port_rx_burst(a, NULL, in, 64), 40);
    CHECK_EQ_U(in[39]->owner, 0);
    pkt_free_burst(NULL, in, 40);
    port_get_stats(b, &st);
    CHECK_EQ_U(st.rx_packets, 40);
    CHECK_EQ_U(st.tx_packets, 40);
    CHECK_EQ_U(st.tx_bytes, 40 * 60);

    port_destroy(a);
    port_destroy(b);
    destroy_pool(pool);
}

static void
test_ring_full_and_peer_gone(void)
{
    struct pkt_pool *pool = make_pool(1024);
    /* The second end created first: order does not matter. */
    struct port *b = patch(pool, "qb", "qa", 0, 64);
    struct port *a = patch(pool, "qa", "qb", 0, 128);
    struct pkt *pkts[64];
    uint32_t sent = 0;
    for (uint32_t i = 0; i < 3; i++) {
        fill(pool, NULL, pkts, i * 50, 50);
        sent += port_tx_burst(a, NULL, pkts, 50);
    }
    CHECK_EQ_U(sent, 64);        /* b's ring holds 64. */
    struct port_stats st;
    port_get_stats(a, &st);
    CHECK_EQ_U(st.tx_dropped, 86);
    CHECK_EQ_U(st.tx_packets, 64);

    /* b leaves with frames waiting: they are freed, a goes down. */
    port_destroy(b);
    CHECK(!port_link_up(a));
    fill(pool, NULL, pkts, 0, 10);
    CHECK_EQ_U(port_tx_burst(a, NULL, pkts, 10), 0);

    /* A new b takes the slot again. */
    b = patch(pool, "qb", "qa", 0, 0);
    CHECK(port_link_up(a));
    fill(pool, NULL, pkts, 7, 1);
    CHECK_EQ_U(port_tx_burst(a, NULL, pkts, 1), 1);
    CHECK_EQ_I(port_rx_burst(b, NULL, pkts, 64), 1);
    CHECK_EQ_U(vf_get_u32(pkt_data(pkts[0])), 7);
    pkt_free(NULL, pkts[0]);

    /* Frames waiting for a when a leaves before b. */
    fill(pool, NULL, pkts, 0, 10);
    CHECK_EQ_U(port_tx_burst(b, NULL, pkts, 10), 10);
    port_destroy(a);
    port_destroy(b);
    destroy_pool(pool);
}

static void
expect_error(struct pkt_pool *pool, const char *name, const char *peer,
             int err, const char *msg)
{
    struct port_config c = {.name = name, .kind = PORT_KIND_PATCH,
                            .peer = peer};
    struct port *port = NULL;
    char *errp = NULL;
    CHECK_EQ_I(port_create(&c, pool, &port, &errp), err);
    CHECK(!port);
    CHECK_STR(errp, msg);
    free(errp);
}

static void
test_name_conflicts(void)
{
    struct pkt_pool *pool = make_pool(64);
    struct port *a = patch(pool, "ra", "rb", 0, 0);
    expect_error(pool, "ra", "rx", -EEXIST,
                 "port ra: a patch port of that name exists");
    expect_error(pool, "rc", "ra", -EBUSY,
                 "port rc: peer 'ra' is paired with 'rb'");
    struct port *b = patch(pool, "rb", "ra", 0, 0);
    expect_error(pool, "rb", "ra", -EEXIST,
                 "port rb: a patch port of that name exists");
    port_destroy(b);
    port_destroy(a);
    /* All gone: the names are free again. */
    a = patch(pool, "ra", "rc", 0, 0);
    port_destroy(a);
    destroy_pool(pool);
}

static void
test_owner_quota(void)
{
    struct pkt_pool *pool = make_pool(256);
    struct port *a = patch(pool, "sa", "sb", 0, 0);
    struct port *b = patch(pool, "sb", "sa", 5, 0);
    CHECK_EQ_I(pkt_pool_set_quota(pool, 5, 3), 0);
    struct pkt *pkts[64];
    fill(pool, NULL, pkts, 0, 10);
    CHECK_EQ_U(port_tx_burst(a, NULL, pkts, 10), 10);
    CHECK_EQ_I(port_rx_burst(b, NULL, pkts, 64), 3);
    CHECK_EQ_I(port_rx_burst(b, NULL, pkts + 3, 64), -EDQUOT);
    CHECK(readable(b));
    pkt_free_burst(NULL, pkts, 3);
    CHECK_EQ_I(port_rx_burst(b, NULL, pkts, 64), 3);
    CHECK_EQ_U(vf_get_u32(pkt_data(pkts[0])), 3);
    pkt_free_burst(NULL, pkts, 3);
    port_destroy(a);             /* 4 still in b's ring. */
    port_destroy(b);
    destroy_pool(pool);
}

/* ---- Two threads ---- */

#define STRESS_FRAMES 300000u

struct stress {
    struct pkt_pool *pool;
    struct port *a, *b;
    _Atomic uint32_t sent;
    _Atomic bool done;
    uint32_t received;
    uint32_t wakeups;            /* epoll_wait() returned readable. */
    uint32_t empty_wakeups;      /* ...and there was nothing to read. */
    uint32_t lost_wakeups;
    uint32_t misordered;
};

static void *
producer(void *s_)
{
    struct stress *s = s_;
    struct pkt_cache *cache = pkt_cache_create(s->pool);
    uint32_t seq = 0;
    uint32_t sent = 0;
    uint64_t x = 12345;
    struct pkt *pkts[64];
    while (seq < STRESS_FRAMES) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        uint32_t n = 1 + (uint32_t) (x % 48);
        n = VF_MIN(n, STRESS_FRAMES - seq);
        int got = pkt_alloc_burst(cache, s->pool, PKT_CLASS_MTU, 0, pkts, n);
        if (got <= 0) {
            sched_yield();
            continue;
        }
        for (int i = 0; i < got; i++) {
            vf_put_u32(pkt_data(pkts[i]), seq + (uint32_t) i);
            pkts[i]->size = 64;
        }
        uint32_t k = port_tx_burst(s->a, cache, pkts, (uint32_t) got);
        /* Frames dropped for a full ring keep their numbers: the consumer
         * checks order, not contiguity. */
        sent += k;
        seq += (uint32_t) got;
        if ((x >> 20) % 8 == 0) {
            usleep((useconds_t) ((x >> 30) % 300));  /* Let it sleep. */
        }
    }
    atomic_store(&s->sent, sent);
    atomic_store(&s->done, true);
    pkt_cache_destroy(cache);
    return NULL;
}

static void *
consumer(void *s_)
{
    struct stress *s = s_;
    struct pkt_cache *cache = pkt_cache_create(s->pool);
    int ep = epoll_create1(0);
    struct epoll_event ev = {.events = EPOLLIN};
    VF_VERIFY(!epoll_ctl(ep, EPOLL_CTL_ADD, port_get_fd(s->b), &ev));
    int64_t last = -1;
    struct pkt *pkts[32];
    for (;;) {
        int r = epoll_wait(ep, &ev, 1, 1000);
        s->wakeups += r == 1;
        int n = port_rx_burst(s->b, cache, pkts, 32);
        s->empty_wakeups += r == 1 && n == 0;
        if (r == 0 && n > 0) {
            s->lost_wakeups++;   /* Frames were there, the fd was not
                                  * readable. */
        }
        while (n > 0) {
            for (int i = 0; i < n; i++) {
                uint32_t v = vf_get_u32(pkt_data(pkts[i]));
                if ((int64_t) v <= last) {
                    s->misordered++;
                }
                last = v;
            }
            s->received += (uint32_t) n;
            pkt_free_burst(cache, pkts, (uint32_t) n);
            n = port_rx_burst(s->b, cache, pkts, 32);
        }
        if (atomic_load(&s->done) && s->received == atomic_load(&s->sent)) {
            break;
        }
    }
    close(ep);
    pkt_cache_destroy(cache);
    return NULL;
}

static void
test_two_threads(void)
{
    struct stress s;
    memset(&s, 0, sizeof s);
    s.pool = make_pool(4096);
    s.a = patch(s.pool, "ta", "tb", 0, 256);
    s.b = patch(s.pool, "tb", "ta", 0, 256);
    pthread_t tp, tc;
    pthread_create(&tc, NULL, consumer, &s);
    pthread_create(&tp, NULL, producer, &s);
    pthread_join(tp, NULL);
    pthread_join(tc, NULL);
    struct port_stats st;
    port_get_stats(s.a, &st);
    printf("  sent %u of %u (%" PRIu64 " dropped on a full ring), %u "
           "wakeups from epoll, %u of them empty\n", atomic_load(&s.sent),
           STRESS_FRAMES, st.tx_dropped, s.wakeups, s.empty_wakeups);
    CHECK(s.wakeups > 100);      /* The consumer really slept and woke. */
    /* A readable eventfd the consumer does not reset makes it spin. */
    CHECK(s.empty_wakeups < s.wakeups / 10 + 50);
    CHECK_EQ_U(s.received, atomic_load(&s.sent));
    CHECK_EQ_U(st.tx_packets + st.tx_dropped, STRESS_FRAMES);
    CHECK_EQ_U(s.misordered, 0);
    CHECK_EQ_U(s.lost_wakeups, 0);
    port_destroy(s.a);
    port_destroy(s.b);
    destroy_pool(s.pool);
}

static const struct test_case cases[] = {
    TEST(test_pairing_and_order),
    TEST(test_ring_full_and_peer_gone),
    TEST(test_name_conflicts),
    TEST(test_owner_quota),
    TEST(test_two_threads),
};

TEST_MAIN(cases)
