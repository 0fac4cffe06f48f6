/* SPDX-License-Identifier: Apache-2.0 */
/* Dummy ports: theory of operation.
 *
 * Contract: port-dummy.h.  Two queues under one mutex (a test helper, not
 * a hot path; correctness first):
 *
 *   port_dummy_inject() --> rx queue of malloc'ed frame copies
 *                            --> rx_burst(): fresh pool buffer per frame
 *                                (class by size, owner charged, -EDQUOT
 *                                when the owner's quota is reached)
 *   tx_burst() --> tx queue of the packets themselves (linked through
 *                  pkt->next) --> port_dummy_collect()
 *
 * Frames are copied into pool buffers only when received, not when
 * injected, so a test can inject more than the pool holds and see the
 * port stop at the quota exactly as a TAP would.  The eventfd is written
 * when the rx queue goes from empty to non-empty and read when it becomes
 * empty again (both under the mutex), so it is readable exactly while
 * frames wait and the link is up. */
#include "port/port-dummy.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "port/port-provider.h"
#include "util/buf.h"

struct dummy_frame {
    struct dummy_frame *next;
    uint32_t size;
    bool has_offload;
    struct pkt_offload offload;
    uint8_t data[];
};

struct port_dummy {
    struct port up;
    pthread_mutex_t lock;
    struct dummy_frame *rx_head;      /* lock */
    struct dummy_frame **rx_tail;     /* lock */
    uint32_t n_rx;                    /* lock */
    struct pkt *tx_head;              /* lock */
    struct pkt *tx_tail;              /* lock */
    uint32_t n_tx;                    /* lock */
    int efd;                          /* const */
};

static struct port_dummy *
port_dummy_cast(const struct port *port)
{
    return VF_CONTAINER_OF(port, struct port_dummy, up);
}

bool
port_is_dummy(const struct port *port)
{
    return port && port->class == &port_dummy_class;
}

static void
efd_signal(int efd)
{
    uint64_t one = 1;
    ssize_t r = write(efd, &one, sizeof one);
    (void) r;                    /* Only fails when the counter is full. */
}

static void
efd_drain(int efd)
{
    uint64_t v;
    ssize_t r = read(efd, &v, sizeof v);
    (void) r;                    /* EAGAIN: already drained. */
}

static struct port *
dummy_alloc(void)
{
    struct port_dummy *d = calloc(1, sizeof *d);
    return d ? &d->up : NULL;
}

static int
dummy_construct(struct port *port, const struct port_config *cfg,
                char **errp)
{
    struct port_dummy *d = port_dummy_cast(port);
    d->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (d->efd < 0) {
        int err = -errno;
        *errp = vf_xasprintf("port %s: eventfd: %s", cfg->name,
                             strerror(errno));
        return err;
    }
    pthread_mutex_init(&d->lock, NULL);
    d->rx_tail = &d->rx_head;
    port->caps = (struct port_caps) {
        .tx_csum = true,
        .tx_tso4 = true,
        .tx_tso6 = true,
        .tx_uso = true,
        .rx_offload = true,
        .max_frame = PKT_GSO_ROOM,
        .mtu = cfg->mtu ? cfg->mtu : 1500,
    };
    return 0;
}

static void
dummy_destruct(struct port *port)
{
    struct port_dummy *d = port_dummy_cast(port);
    while (d->rx_head) {
        struct dummy_frame *f = d->rx_head;
        d->rx_head = f->next;
        free(f);
    }
    while (d->tx_head) {
        struct pkt *p = d->tx_head;
        d->tx_head = p->next;
        p->next = NULL;
        pkt_free(NULL, p);
    }
    close(d->efd);
    pthread_mutex_destroy(&d->lock);
}

static void
dummy_dealloc(struct port *port)
{
    free(port_dummy_cast(port));
}

/* Copies the oldest waiting frame into a new buffer.  Returns it, or NULL
 * with '*err' = -EDQUOT/-ENOBUFS. */
static struct pkt *
dummy_take(struct port_dummy *d, struct pkt_cache *cache, int *err)
{
    struct dummy_frame *f = d->rx_head;
    enum pkt_class cls = f->size > PKT_MTU_ROOM ? PKT_CLASS_GSO
                                                : PKT_CLASS_MTU;
    struct pkt *p = pkt_alloc(cache, d->up.pool, cls, d->up.owner);
    if (!p) {
        *err = -errno;
        return NULL;
    }
    memcpy(pkt_data(p), f->data, f->size);
    p->size = f->size;
    if (f->has_offload) {
        p->offload = f->offload;
        p->flags |= PKT_F_OFFLOAD;
    }
    d->rx_head = f->next;
    if (!d->rx_head) {
        d->rx_tail = &d->rx_head;
    }
    d->n_rx--;
    free(f);
    return p;
}

static int
dummy_rx_burst(struct port *port, struct pkt_cache *cache,
               struct pkt **pkts, uint32_t n)
{
    struct port_dummy *d = port_dummy_cast(port);
    int got = 0;
    int err = 0;
    pthread_mutex_lock(&d->lock);
    if (port_link_up(port)) {
        while ((uint32_t) got < n && d->rx_head) {
            struct pkt *p = dummy_take(d, cache, &err);
            if (!p) {
                break;
            }
            pkts[got++] = p;
        }
    }
    if (!d->n_rx || !port_link_up(port)) {
        efd_drain(d->efd);
    }
    pthread_mutex_unlock(&d->lock);
    return got ? got : err;
}

static uint32_t
dummy_tx_burst(struct port *port, struct pkt_cache *cache,
               struct pkt **pkts, uint32_t n)
{
    struct port_dummy *d = port_dummy_cast(port);
    uint32_t sent = 0;
    uint64_t bytes = 0;
    uint32_t n_drop = 0;
    bool up = port_link_up(port);

    pthread_mutex_lock(&d->lock);
    for (uint32_t i = 0; i < n; i++) {
        struct pkt *p = pkts[i];
        if (!up || d->n_tx >= PORT_DUMMY_TX_LIMIT) {
            pkts[n_drop++] = p;  /* n_drop <= i: compacts in place. */
            continue;
        }
        p->next = NULL;
        if (d->tx_tail) {
            d->tx_tail->next = p;
        } else {
            d->tx_head = p;
        }
        d->tx_tail = p;
        d->n_tx++;
        sent++;
        bytes += p->size;
    }
    pthread_mutex_unlock(&d->lock);

    if (n_drop) {
        pkt_free_burst(cache, pkts, n_drop);
        port_count_tx_dropped(port, n_drop);
    }
    port_count_tx(port, sent, bytes);
    return sent;
}

static int
dummy_get_fd(const struct port *port)
{
    return port_dummy_cast(port)->efd;
}

const struct port_class port_dummy_class = {
    .kind = PORT_KIND_DUMMY,
    .name = "dummy",
    .alloc = dummy_alloc,
    .construct = dummy_construct,
    .destruct = dummy_destruct,
    .dealloc = dummy_dealloc,
    .rx_burst = dummy_rx_burst,
    .tx_burst = dummy_tx_burst,
    .get_fd = dummy_get_fd,
};

int
port_dummy_inject(struct port *port, const void *frame, uint32_t size,
                  const struct pkt_offload *offload)
{
    if (!port_is_dummy(port) || !size || size > PKT_GSO_ROOM) {
        return -EINVAL;
    }
    struct port_dummy *d = port_dummy_cast(port);
    struct dummy_frame *f = malloc(sizeof *f + size);
    if (!f) {
        return -ENOMEM;
    }
    f->next = NULL;
    f->size = size;
    f->has_offload = offload != NULL;
    if (offload) {
        f->offload = *offload;
    }
    memcpy(f->data, frame, size);

    pthread_mutex_lock(&d->lock);
    *d->rx_tail = f;
    d->rx_tail = &f->next;
    if (!d->n_rx++ && port_link_up(port)) {
        efd_signal(d->efd);
    }
    pthread_mutex_unlock(&d->lock);
    return 0;
}

uint32_t
port_dummy_n_pending(const struct port *port)
{
    if (!port_is_dummy(port)) {
        return 0;
    }
    struct port_dummy *d = port_dummy_cast(port);
    pthread_mutex_lock(&d->lock);
    uint32_t n = d->n_rx;
    pthread_mutex_unlock(&d->lock);
    return n;
}

uint32_t
port_dummy_collect(struct port *port, struct pkt **pkts, uint32_t n)
{
    if (!port_is_dummy(port)) {
        return 0;
    }
    struct port_dummy *d = port_dummy_cast(port);
    uint32_t got = 0;
    pthread_mutex_lock(&d->lock);
    while (got < n && d->tx_head) {
        struct pkt *p = d->tx_head;
        d->tx_head = p->next;
        p->next = NULL;
        pkts[got++] = p;
        d->n_tx--;
    }
    if (!d->tx_head) {
        d->tx_tail = NULL;
    }
    pthread_mutex_unlock(&d->lock);
    return got;
}

uint32_t
port_dummy_n_collected(const struct port *port)
{
    if (!port_is_dummy(port)) {
        return 0;
    }
    struct port_dummy *d = port_dummy_cast(port);
    pthread_mutex_lock(&d->lock);
    uint32_t n = d->n_tx;
    pthread_mutex_unlock(&d->lock);
    return n;
}

int
port_dummy_set_link(struct port *port, bool up)
{
    if (!port_is_dummy(port)) {
        return -EINVAL;
    }
    struct port_dummy *d = port_dummy_cast(port);
    pthread_mutex_lock(&d->lock);
    port_set_carrier__(port, up);
    if (up && d->n_rx) {
        efd_signal(d->efd);
    }
    pthread_mutex_unlock(&d->lock);
    return 0;
}

int
port_dummy_set_caps(struct port *port, const struct port_caps *caps)
{
    if (!port_is_dummy(port) || !caps || !caps->max_frame || !caps->mtu) {
        return -EINVAL;
    }
    port->caps = *caps;
    return 0;
}
