/* SPDX-License-Identifier: Apache-2.0 */
/* The datapath thread: theory of operation.
 *
 * One loop iteration:
 *
 *   now = clock;  rcu_read_lock;  snap = dp->snap
 *   if snap changed: rebuild the epoll set (port fds + wake eventfd)
 *   for each port of snap (round robin):
 *       skip it if its VNIC is over its buffer quota (counted, and its
 *       fd paused in the epoll set)
 *       rx_burst up to 32 -> dp_pipeline_run
 *   dp_flush: one tx_burst per port that has packets
 *   rcu_read_unlock
 *   idle? spin for busy_poll_us, then epoll_wait (100 ms cap; 1 ms while
 *   a VNIC is paused)
 *
 * Throttled VNICs.  A VNIC over its quota keeps its TAP readable, so
 * leaving its fd in the epoll set would turn every idle sleep into a spin
 * (t-switch-quota.sh measured ~400 000 empty iterations a second, a whole
 * core, while an upcall flood held the VNIC's buffers).  Its fd is
 * therefore disarmed (EPOLL_CTL_MOD, no events) when it is skipped and
 * re-armed once it is polled again.  Its buffers come back when the agent
 * frees its upcalls (the agent then wakes this thread) or when this
 * thread's own transmits complete; the 1 ms sleep cap covers any other
 * path.
 *
 * The read-side section covers one iteration, so a port or bridge removed
 * by the agent is never freed while this thread could still touch it:
 * the agent publishes a snapshot without it, then frees it after a grace
 * period.  The epoll set holds fds only to sleep on; which ports to poll
 * always comes from the snapshot, so a stale epoll entry (closed fd) is
 * harmless.  The thread makes no syscall but its ports' I/O, epoll_wait
 * when idle, and epoll_ctl when the port set changes. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "dp/dp-private.h"
#include "net/gso.h"
#include "util/buf.h"
#include "util/log.h"

VF_LOG_MODULE(dp_thread);

#define DP_SLEEP_MS 100
#define DP_PAUSED_SLEEP_MS 1     /* Sleep cap while a VNIC is paused. */

void
dp_output(struct dp_thread *t, struct dp_port *port, struct pkt *p)
{
    struct dp_txq *q = &t->txq[port->index];
    if (q->n == 0) {
        t->touched[t->n_touched++] = port->index;
        t->txq_port[port->index] = port;
    } else if (q->n == DP_TXQ_MAX) {
        dp_flush(t);
        t->touched[t->n_touched++] = port->index;
        t->txq_port[port->index] = port;
    }
    q->pkts[q->n++] = p;
}

/* Sends the queue of 'port', segmenting or completing checksums for
 * offloads the port cannot take. */
static void
flush_port(struct dp_thread *t, struct dp_port *port, struct dp_txq *q)
{
    static __thread struct pkt *ready[GSO_MAX_SEGS + DP_TXQ_MAX];
    uint32_t n_ready = 0;
    dp_accel_gro(t, port, q);
    for (uint32_t i = 0; i < q->n; i++) {
        struct pkt *p = q->pkts[i];
        if (!(p->flags & PKT_F_OFFLOAD)) {
            ready[n_ready++] = p;
            continue;
        }
        int n = port_tx_prepare(&port->caps, t->cache, p, ready + n_ready,
                                GSO_MAX_SEGS);
        if (n < 0) {
            dp_count_drop(port, DP_DROP_NO_BUFFER, 1);
            continue;
        }
        n_ready += (uint32_t) n;
        if (n_ready >= GSO_MAX_SEGS) {
            port_tx_burst(port->port, t->cache, ready, n_ready);
            n_ready = 0;
        }
    }
    if (n_ready) {
        port_tx_burst(port->port, t->cache, ready, n_ready);
    }
    q->n = 0;
}

void
dp_flush(struct dp_thread *t)
{
    for (uint32_t i = 0; i < t->n_touched; i++) {
        uint32_t idx = t->touched[i];
        flush_port(t, t->txq_port[idx], &t->txq[idx]);
    }
    t->n_touched = 0;
}

static void
rebuild_epoll(struct dp_thread *t, const struct dp_snapshot *snap)
{
    close(t->epfd);
    t->epfd = epoll_create1(EPOLL_CLOEXEC);
    struct epoll_event ev = {.events = EPOLLIN};
    ev.data.u32 = UINT32_MAX;
    epoll_ctl(t->epfd, EPOLL_CTL_ADD, t->wake_fd, &ev);
    for (uint32_t i = 0; i < snap->n; i++) {
        int fd = port_get_fd(snap->ports[i]->port);
        snap->ports[i]->rx_paused = false;
        if (fd >= 0) {
            ev.data.u32 = i;
            epoll_ctl(t->epfd, EPOLL_CTL_ADD, fd, &ev);
        }
    }
    t->snap_version = snap->version;
}

/* Arms ('on') or disarms the epoll entry of 'port', index 'i' of the
 * current snapshot (see "Throttled VNICs" above). */
static void
set_rx_armed(struct dp_thread *t, struct dp_port *port, uint32_t i, bool on)
{
    int fd = port_get_fd(port->port);
    if (fd >= 0) {
        struct epoll_event ev = {.events = on ? EPOLLIN : 0};
        ev.data.u32 = i;
        epoll_ctl(t->epfd, EPOLL_CTL_MOD, fd, &ev);
    }
    port->rx_paused = !on;
}

/* Counts a quota skip of 'in' and pauses its fd. */
static void
quota_skip(struct dp_thread *t, struct dp_port *in, uint32_t i)
{
    atomic_fetch_add_explicit(&in->quota_skips, 1, memory_order_relaxed);
    if (!in->rx_paused) {
        set_rx_armed(t, in, i, false);
    }
    t->n_paused++;
}

/* Sends what the agent queued, to ports still in 'snap'. */
static uint32_t
drain_inject(struct dp_thread *t, const struct dp_snapshot *snap)
{
    struct dp_inject in;
    uint32_t n = 0;
    while (n < PKT_BATCH_MAX && vf_ring_get(t->inject, &in)) {
        struct dp_port *found = NULL;
        for (uint32_t i = 0; i < snap->n && !found; i++) {
            found = snap->ports[i] == in.port ? in.port : NULL;
        }
        if (found && in.ingress) {
            dp_pipeline_run(t, found, &in.pkt, 1);
        } else if (found) {
            dp_output(t, found, in.pkt);
        } else {
            pkt_free(t->cache, in.pkt);
        }
        n++;
    }
    return n;
}

/* One pass over every port.  Returns the number of packets received. */
static uint32_t
poll_ports(struct dp_thread *t, const struct dp_snapshot *snap)
{
    struct pkt_pool *pool = t->dp->pool;
    uint32_t total = drain_inject(t, snap);
    t->n_paused = 0;
    for (uint32_t i = 0; i < snap->n; i++) {
        struct dp_port *in = snap->ports[i];
        if (in->owner
            && pkt_pool_owner_over_quota(pool, in->owner, PKT_CLASS_MTU)) {
            quota_skip(t, in, i);
            continue;
        }
        if (VF_UNLIKELY(in->rx_paused)) {
            set_rx_armed(t, in, i, true);
        }
        struct pkt *pkts[PKT_BATCH_MAX];
        int n = port_rx_burst(in->port, t->cache, pkts, PKT_BATCH_MAX);
        if (n == -EDQUOT) {
            quota_skip(t, in, i);
            continue;
        }
        if (n <= 0) {
            continue;
        }
        dp_pipeline_run(t, in, pkts, (uint32_t) n);
        total += (uint32_t) n;
    }
    dp_flush(t);
    return total;
}

static void
sleep_until_work(struct dp_thread *t)
{
    struct epoll_event evs[16];
    atomic_fetch_add_explicit(&t->n_sleeps, 1, memory_order_relaxed);
    int n = epoll_wait(t->epfd, evs, 16,
                       t->n_paused ? DP_PAUSED_SLEEP_MS : DP_SLEEP_MS);
    for (int i = 0; i < n; i++) {
        if (evs[i].data.u32 == UINT32_MAX) {
            uint64_t v;
            if (read(t->wake_fd, &v, sizeof v) < 0) {
                continue;
            }
        }
    }
}

static void *
dp_thread_main(void *arg)
{
    struct dp_thread *t = arg;
    struct dp *dp = t->dp;
    int64_t busy_ns = (int64_t) dp->cfg.busy_poll_us * 1000;
    int64_t idle_since = -1;

    vf_rcu_register_thread();
    while (!atomic_load_explicit(&t->stop, memory_order_relaxed)) {
        t->now = vf_clock_now(dp->clock);
        vf_rcu_read_lock();
        const struct dp_snapshot *snap = vf_rcu_get(dp->snap);
        if (snap->version != t->snap_version) {
            rebuild_epoll(t, snap);
        }
        uint32_t n = poll_ports(t, snap);
        vf_rcu_read_unlock();
        atomic_fetch_add_explicit(&t->n_iterations, 1, memory_order_relaxed);
        if (n) {
            atomic_fetch_add_explicit(&t->n_packets, n, memory_order_relaxed);
            idle_since = -1;
            continue;
        }
        int64_t mono = vf_time_monotonic_ns();
        if (idle_since < 0) {
            idle_since = mono;
        }
        if (mono - idle_since >= busy_ns) {
            sleep_until_work(t);
            idle_since = -1;
        }
    }
    vf_rcu_unregister_thread();
    return NULL;
}

struct dp_thread *
dp_thread_create(struct dp *dp, char **errp)
{
    struct dp_thread *t = calloc(1, sizeof *t);
    if (!t) {
        *errp = vf_xstrdup("out of memory");
        return NULL;
    }
    t->dp = dp;
    t->epfd = epoll_create1(EPOLL_CLOEXEC);
    t->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    t->cache = pkt_cache_create(dp->pool);
    t->learn = vf_ring_create(DP_LEARN_RING, sizeof(struct dp_learn));
    t->upcalls = vf_ring_create(DP_UPCALL_RING, sizeof(struct dp_upcall));
    t->inject = vf_ring_create(DP_INJECT_RING, sizeof(struct dp_inject));
    t->snap_version = UINT64_MAX;
    if (t->epfd < 0 || t->wake_fd < 0 || !t->cache || !t->learn || !t->inject
        || !t->upcalls) {
        *errp = vf_xasprintf("cannot create datapath thread state: %s",
                             strerror(errno));
        dp_thread_destroy(t);
        return NULL;
    }
    return t;
}

int
dp_thread_start(struct dp_thread *t)
{
    int rc = pthread_create(&t->tid, NULL, dp_thread_main, t);
    if (rc) {
        return -rc;
    }
    pthread_setname_np(t->tid, "vfab-dp");
    return 0;
}

void
dp_thread_wake(struct dp_thread *t)
{
    uint64_t one = 1;
    if (t && write(t->wake_fd, &one, sizeof one) < 0) {
        VF_LOG_WARN_RL(dp_thread, "wake: %s", strerror(errno));
    }
}

void
dp_thread_destroy(struct dp_thread *t)
{
    if (!t) {
        return;
    }
    if (t->tid) {
        atomic_store(&t->stop, true);
        dp_thread_wake(t);
        pthread_join(t->tid, NULL);
    }
    if (t->upcalls) {
        struct dp_upcall up;
        while (vf_ring_get(t->upcalls, &up)) {
            pkt_free(t->cache, up.pkt);
        }
    }
    if (t->inject) {
        struct dp_inject in;
        while (vf_ring_get(t->inject, &in)) {
            pkt_free(t->cache, in.pkt);
        }
    }
    vf_ring_destroy(t->inject);
    vf_ring_destroy(t->upcalls);
    vf_ring_destroy(t->learn);
    pkt_cache_destroy(t->cache);
    if (t->epfd >= 0) {
        close(t->epfd);
    }
    if (t->wake_fd >= 0) {
        close(t->wake_fd);
    }
    free(t);
}
