/* SPDX-License-Identifier: Apache-2.0 */
/* Patch ports: theory of operation.
 *
 * A patch port is one end of a pair that joins two bridges of the same
 * daemon (DESIGN.md "patch").  What one end transmits, the other receives,
 * whole: frames keep their buffers and their offload requests (patch ports
 * take every offload), so a 64 KiB GSO frame crosses a patch as one
 * pointer.
 *
 * Terminology.  The two ends share a struct patch_link, which holds one
 * ring per direction: rings[i] carries frames *to* end i, produced by the
 * datapath thread of end 1-i (tx_burst) and consumed by the datapath
 * thread of end i (rx_burst); efds[i] is the eventfd end i's thread polls.
 *
 *     end 0 tx_burst --> rings[1] --> end 1 rx_burst   (efds[1])
 *     end 0 rx_burst <-- rings[0] <-- end 1 tx_burst   (efds[0])
 *
 * Pairing.  Ends find each other by name: an end created with peer P looks
 * for a live end named P whose own peer is its name and whose link has a
 * free slot, and takes that slot; otherwise it creates a link and waits
 * (link down, transmit drops) until its peer is created.  An end destroyed
 * frees its slot (its peer goes link-down); a new end of the same name may
 * take the slot again.  The link is freed with its last end.  The set of
 * links is a registry under 'registry_lock' (the one process-wide object
 * of this file: patch ports are found by name across bridges, as Open
 * vSwitch's netdev registry does); only the control thread takes it.
 *
 * Rings are single-producer/single-consumer arrays of packet pointers with
 * free-running 32-bit indexes (prod - cons = frames waiting, <= size, a
 * power of two), producer and consumer indexes on their own cache lines.
 * util/ring.h copies fixed records one at a time; patch ports need burst
 * moves of pointers and the wakeup protocol below, so they have their own.
 *
 * Wakeup protocol (invariant: whenever rings[i] is non-empty, efds[i] is
 * readable, so a datapath thread sleeping in epoll never misses frames):
 *   producer: publish prod (release); seq_cst fence; load cons; if cons ==
 *             the old prod (the consumer had taken everything before this
 *             burst and may be asleep), write the eventfd.
 *   consumer: publish cons (release); seq_cst fence; load prod; if the
 *             ring is empty, read (reset) the eventfd, fence, load prod
 *             again, and if frames arrived meanwhile write the eventfd.
 * The fences make it a Dekker pattern: at least one side sees the other's
 * index, so either the producer signals or the consumer sees the frames
 * (and leaves the eventfd as it is, readable by the invariant).
 *
 * Resetting without system calls when idle: every eventfd write is
 * preceded by an increment of the ring's n_signals, and the consumer keeps
 * the total it has read from the eventfd ('drained'; a read returns the
 * sum of the writes since the last one).  It reads the eventfd only when
 * n_signals differs from 'drained', i.e. only when a write landed or is
 * about to.  So polling an idle patch port costs one atomic load, and an
 * eventfd can never stay readable unnoticed: a landed write was counted
 * first, so the next empty poll sees the difference and reads it.
 * 'drained' lives in the ring (consumer side), so it stays exact when the
 * consumer changes (an end leaves and a new one takes the slot).  (The
 * first design wrote first and counted after; a producer preempted between
 * the two, which the wakeup itself makes likely, left a readable eventfd
 * the consumer would not reset, and the consumer spun: 4 million empty
 * wakeups in tests/unit/test-port-patch.c before the fix, none after.)
 *
 * Lifetime rules:
 *   1. rings[i] is allocated when slot i is first taken and lives as long
 *      as the link; producers touch it only after seeing attached[i]
 *      (acquire), which is set (release) after the allocation.
 *   2. An end that leaves frees the frames waiting for it; frames its peer
 *      enqueues after that (a race with its departure) are freed when the
 *      slot is taken again or when the link is freed.
 *   3. efds live as long as the link, so a producer never writes to an fd
 *      number that was closed and reused.
 *
 * Ownership: frames move between pools' owners, not pools: rx_burst
 * recharges each frame to the receiving end's owner (pkt_recharge()); a
 * frame it cannot recharge (quota) stays in the ring and rx_burst returns
 * what it has, or -EDQUOT. */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "port/port-provider.h"
#include "util/buf.h"

#define PATCH_RING_DEFAULT 1024u

struct patch_ring {
    _Atomic uint32_t prod VF_CACHE_ALIGNED;  /* prod: next slot written. */
    _Atomic uint32_t cons VF_CACHE_ALIGNED;  /* cons: next slot read. */
    _Atomic uint32_t n_signals;              /* atomic: eventfd writes,
                                              * counted before each. */
    uint32_t drained;                        /* cons: sum of eventfd
                                              * reads. */
    uint32_t mask VF_CACHE_ALIGNED;          /* const: size - 1. */
    struct pkt **slots;                      /* const: 'size' entries. */
};

struct patch_port;

struct patch_link {
    struct patch_link *next;                 /* registry_lock */
    char names[2][IFNAMSIZ];                 /* registry_lock: "" free. */
    char peers[2][IFNAMSIZ];                 /* registry_lock */
    struct patch_port *ends[2];              /* registry_lock */
    struct patch_ring rings[2];              /* see struct and rule 1 */
    int efds[2];                             /* const */
    _Atomic bool attached[2];                /* atomic */
};

struct patch_port {
    struct port up;
    struct patch_link *link;                 /* const */
    int side;                                /* const: 0 or 1. */
};

static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static struct patch_link *registry;          /* registry_lock */

static struct patch_port *
patch_cast(const struct port *port)
{
    return VF_CONTAINER_OF(port, struct patch_port, up);
}

static void
efd_signal(int efd)
{
    uint64_t one = 1;
    ssize_t r = write(efd, &one, sizeof one);
    (void) r;                    /* Fails only when the counter is full. */
}

/* Resets the eventfd 'efd'; returns the sum of the writes it had. */
static uint32_t
efd_drain(int efd)
{
    uint64_t v;
    ssize_t r = read(efd, &v, sizeof v);
    return r == sizeof v ? (uint32_t) v : 0;    /* EAGAIN: nothing. */
}

/* ---- SPSC ring ---- */

static int
ring_init(struct patch_ring *r, uint32_t size)
{
    r->slots = calloc(size, sizeof *r->slots);
    if (!r->slots) {
        return -ENOMEM;
    }
    r->mask = size - 1;
    atomic_init(&r->prod, 0);
    atomic_init(&r->cons, 0);
    atomic_init(&r->n_signals, 0);
    r->drained = 0;
    return 0;
}

/* Counts a write of the eventfd 'efd' of 'r', then writes it. */
static void
ring_signal(struct patch_ring *r, int efd)
{
    atomic_fetch_add_explicit(&r->n_signals, 1, memory_order_release);
    efd_signal(efd);
}

/* Producer: enqueues up to 'n' of 'pkts'.  Returns how many; sets
 * '*wake' if the consumer may be asleep. */
static uint32_t
ring_enqueue(struct patch_ring *r, struct pkt **pkts, uint32_t n, bool *wake)
{
    uint32_t prod = atomic_load_explicit(&r->prod, memory_order_relaxed);
    uint32_t cons = atomic_load_explicit(&r->cons, memory_order_acquire);
    uint32_t room = r->mask + 1 - (prod - cons);
    uint32_t k = VF_MIN(n, room);
    for (uint32_t i = 0; i < k; i++) {
        r->slots[(prod + i) & r->mask] = pkts[i];
    }
    *wake = false;
    if (k) {
        atomic_store_explicit(&r->prod, prod + k, memory_order_release);
        atomic_thread_fence(memory_order_seq_cst);
        cons = atomic_load_explicit(&r->cons, memory_order_relaxed);
        *wake = cons == prod;
    }
    return k;
}

/* Frames waiting, from the consumer's side. */
static uint32_t
ring_count(struct patch_ring *r)
{
    uint32_t cons = atomic_load_explicit(&r->cons, memory_order_relaxed);
    return atomic_load_explicit(&r->prod, memory_order_acquire) - cons;
}

/* Consumer: publishes 'cons' and, if the ring is then empty and writes
 * of the eventfd 'efd' are not all read yet, resets it without losing a
 * concurrent wakeup. */
static void
ring_consumed(struct patch_ring *r, uint32_t cons, int efd)
{
    atomic_store_explicit(&r->cons, cons, memory_order_release);
    atomic_thread_fence(memory_order_seq_cst);
    if (atomic_load_explicit(&r->prod, memory_order_relaxed) != cons) {
        return;
    }
    uint32_t s = atomic_load_explicit(&r->n_signals, memory_order_acquire);
    if (s == r->drained) {
        return;
    }
    r->drained += efd_drain(efd);
    atomic_thread_fence(memory_order_seq_cst);
    if (atomic_load_explicit(&r->prod, memory_order_relaxed) != cons) {
        ring_signal(r, efd);
    }
}

/* Frees every frame waiting in 'r' (consumer side; control thread). */
static void
ring_purge(struct patch_ring *r, int efd)
{
    if (!r->slots) {
        return;
    }
    uint32_t cons = atomic_load_explicit(&r->cons, memory_order_relaxed);
    uint32_t prod = atomic_load_explicit(&r->prod, memory_order_acquire);
    for (; cons != prod; cons++) {
        pkt_free(NULL, r->slots[cons & r->mask]);
    }
    atomic_store_explicit(&r->cons, cons, memory_order_release);
    r->drained += efd_drain(efd);
}

/* ---- Links and the registry ---- */

static void
link_free(struct patch_link *link)
{
    for (int i = 0; i < 2; i++) {
        ring_purge(&link->rings[i], link->efds[i]);
        free(link->rings[i].slots);
        if (link->efds[i] >= 0) {
            close(link->efds[i]);
        }
    }
    free(link);
}

static struct patch_link *
link_create(void)
{
    struct patch_link *link = calloc(1, sizeof *link);
    if (!link) {
        return NULL;
    }
    for (int i = 0; i < 2; i++) {
        atomic_init(&link->attached[i], false);
        link->efds[i] = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
        if (link->efds[i] < 0) {
            int err = errno;
            link->efds[!i] = -1;
            link_free(link);
            errno = err;
            return NULL;
        }
    }
    return link;
}

/* Finds the slot 'cfg' may take: sets '*linkp' and '*sidep' to a waiting
 * link of its peer, or '*linkp' to NULL if none.  Returns 0 or -errno with
 * '*errp' set.  registry_lock held. */
static int
registry_find(const struct port_config *cfg, struct patch_link **linkp,
              int *sidep, char **errp)
{
    *linkp = NULL;
    for (struct patch_link *l = registry; l; l = l->next) {
        for (int s = 0; s < 2; s++) {
            if (l->ends[s] && !strcmp(l->names[s], cfg->name)) {
                *errp = vf_xasprintf("port %s: a patch port of that name "
                                     "exists", cfg->name);
                return -EEXIST;
            }
        }
    }
    for (struct patch_link *l = registry; l; l = l->next) {
        for (int s = 0; s < 2; s++) {
            if (!l->ends[s] || strcmp(l->names[s], cfg->peer)) {
                continue;
            }
            if (strcmp(l->peers[s], cfg->name)) {
                *errp = vf_xasprintf("port %s: peer '%s' is paired with "
                                     "'%s'", cfg->name, cfg->peer,
                                     l->peers[s]);
                return -EBUSY;
            }
            /* Its other slot is free: the name check above found no live
             * end called cfg->name. */
            *linkp = l;
            *sidep = !s;
            return 0;
        }
    }
    return 0;
}

/* ---- Port class ---- */

static int
patch_check_config(const struct port_config *cfg, char **errp)
{
    if (!cfg->peer || !cfg->peer[0]) {
        *errp = vf_xasprintf("port %s: a patch port needs a peer",
                             cfg->name);
        return -EINVAL;
    }
    if (strlen(cfg->peer) >= IFNAMSIZ) {
        *errp = vf_xasprintf("port %s: peer name '%s' is too long (%zu "
                             "bytes; at most %d)", cfg->name, cfg->peer,
                             strlen(cfg->peer), IFNAMSIZ - 1);
        return -EINVAL;
    }
    if (!strcmp(cfg->peer, cfg->name)) {
        *errp = vf_xasprintf("port %s: a patch port cannot be its own peer",
                             cfg->name);
        return -EINVAL;
    }
    if (cfg->ring_frames && !VF_IS_POW2(cfg->ring_frames)) {
        *errp = vf_xasprintf("port %s: ring_frames %u is not a power of "
                             "two", cfg->name, cfg->ring_frames);
        return -EINVAL;
    }
    return 0;
}

static struct port *
patch_alloc(void)
{
    struct patch_port *pp = calloc(1, sizeof *pp);
    return pp ? &pp->up : NULL;
}

static int
patch_construct(struct port *port, const struct port_config *cfg,
                char **errp)
{
    struct patch_port *pp = patch_cast(port);
    struct patch_link *link;
    int side = 0;
    bool new_link = false;
    int err;

    pthread_mutex_lock(&registry_lock);
    err = registry_find(cfg, &link, &side, errp);
    if (err) {
        goto out;
    }
    if (!link) {
        link = link_create();
        if (!link) {
            err = -errno;
            *errp = vf_xasprintf("port %s: %s", cfg->name, strerror(errno));
            goto out;
        }
        new_link = true;
    }
    struct patch_ring *ring = &link->rings[side];
    if (!ring->slots) {
        err = ring_init(ring, cfg->ring_frames ? cfg->ring_frames
                                               : PATCH_RING_DEFAULT);
        if (err) {
            *errp = vf_xasprintf("port %s: out of memory", cfg->name);
            if (new_link) {
                link_free(link);
            }
            goto out;
        }
    }
    ring_purge(ring, link->efds[side]);    /* Leftovers of a former end. */
    snprintf(link->names[side], IFNAMSIZ, "%s", cfg->name);
    snprintf(link->peers[side], IFNAMSIZ, "%s", cfg->peer);
    link->ends[side] = pp;
    pp->link = link;
    pp->side = side;
    atomic_store_explicit(&link->attached[side], true, memory_order_release);
    if (new_link) {
        link->next = registry;
        registry = link;
    }

    struct patch_port *peer = link->ends[!side];
    port_set_carrier__(port, peer != NULL);
    if (peer) {
        port_set_carrier__(&peer->up, true);
    }
    port->caps = (struct port_caps) {
        .tx_csum = true,
        .tx_tso4 = true,
        .tx_tso6 = true,
        .tx_uso = true,
        .rx_offload = true,
        .max_frame = PKT_GSO_ROOM,
        .mtu = cfg->mtu ? cfg->mtu : 1500,
    };
    err = 0;
out:
    pthread_mutex_unlock(&registry_lock);
    return err;
}

static void
patch_destruct(struct port *port)
{
    struct patch_port *pp = patch_cast(port);
    struct patch_link *link = pp->link;
    int side = pp->side;

    pthread_mutex_lock(&registry_lock);
    atomic_store_explicit(&link->attached[side], false, memory_order_release);
    link->ends[side] = NULL;
    link->names[side][0] = '\0';
    link->peers[side][0] = '\0';
    ring_purge(&link->rings[side], link->efds[side]);
    if (link->ends[!side]) {
        port_set_carrier__(&link->ends[!side]->up, false);
    } else {
        struct patch_link **lp = &registry;
        while (*lp != link) {
            lp = &(*lp)->next;
        }
        *lp = link->next;
        link_free(link);
    }
    pthread_mutex_unlock(&registry_lock);
}

static void
patch_dealloc(struct port *port)
{
    free(patch_cast(port));
}

static int
patch_rx_burst(struct port *port, struct pkt_cache *cache,
               struct pkt **pkts, uint32_t n)
{
    (void) cache;
    struct patch_port *pp = patch_cast(port);
    struct patch_ring *r = &pp->link->rings[pp->side];
    uint32_t cons = atomic_load_explicit(&r->cons, memory_order_relaxed);
    uint32_t avail = ring_count(r);
    uint32_t k = VF_MIN(n, avail);
    uint32_t got = 0;
    while (got < k) {
        struct pkt *p = r->slots[(cons + got) & r->mask];
        if (VF_UNLIKELY(pkt_recharge(p, port->owner))) {
            break;
        }
        pkts[got++] = p;
    }
    if (got || !avail) {
        ring_consumed(r, cons + got, pp->link->efds[pp->side]);
    }
    return got || !avail ? (int) got : -EDQUOT;
}

static uint32_t
patch_tx_burst(struct port *port, struct pkt_cache *cache,
               struct pkt **pkts, uint32_t n)
{
    struct patch_port *pp = patch_cast(port);
    struct patch_link *link = pp->link;
    int peer = !pp->side;
    uint32_t sent = 0;

    if (atomic_load_explicit(&link->attached[peer], memory_order_acquire)) {
        uint64_t bytes = 0;
        for (uint32_t i = 0; i < n; i++) {
            bytes += pkts[i]->size;
        }
        bool wake;
        sent = ring_enqueue(&link->rings[peer], pkts, n, &wake);
        if (wake) {
            ring_signal(&link->rings[peer], link->efds[peer]);
        }
        if (sent < n) {
            for (uint32_t i = sent; i < n; i++) {
                bytes -= pkts[i]->size;
            }
        }
        port_count_tx(port, sent, bytes);
    }
    if (sent < n) {
        pkt_free_burst(cache, pkts + sent, n - sent);
        port_count_tx_dropped(port, n - sent);
    }
    return sent;
}

static int
patch_get_fd(const struct port *port)
{
    const struct patch_port *pp = patch_cast(port);
    return pp->link->efds[pp->side];
}

const struct port_class port_patch_class = {
    .kind = PORT_KIND_PATCH,
    .name = "patch",
    .check_config = patch_check_config,
    .alloc = patch_alloc,
    .construct = patch_construct,
    .destruct = patch_destruct,
    .dealloc = patch_dealloc,
    .rx_burst = patch_rx_burst,
    .tx_burst = patch_tx_burst,
    .get_fd = patch_get_fd,
};
