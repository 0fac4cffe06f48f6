/* SPDX-License-Identifier: Apache-2.0 */
/* Ports: kind registry, dispatch and the accounting common to all kinds.
 *
 * Place in the system.  The bridge/datapath (parts above) create ports with
 * port_create() and move frames with port_rx_burst()/port_tx_burst(); each
 * kind (port-tap.c, port-afpacket.c, port-patch.c, port-dummy.c, and later
 * the tunnel and bond kinds of their own parts) fills in a struct
 * port_class (port-provider.h).  This file owns what every kind shares:
 *
 *   - the kind names and the class table: built-in kinds are a constant
 *     table; kinds of higher parts register once at start-up
 *     (port_class_register(), the only writable global here, written
 *     before any datapath thread exists);
 *   - validation of a struct port_config (port_config_check()): every
 *     message names the field and the value, and nothing is created when
 *     a check fails;
 *   - the statistics every kind has: rx_packets/rx_bytes are counted here
 *     from what rx_burst returns; tx frames that the port's caps refuse
 *     are dropped here as tx_errors, so a kind never sees them;
 *   - the software fallback for offloads (port_tx_prepare(), on top of
 *     net/gso.h), which the datapath applies when the output port's caps
 *     lack what a frame asks for;
 *   - small ioctl helpers for kernel interfaces (flags, MTU, ifindex).
 *
 * Capability check on transmit, per frame (one predictable branch for the
 * common frame without offload):
 *
 *     size > caps.max_frame ------------------------------> tx_errors
 *     PKT_F_OFFLOAD?  no -------------------------------------> send
 *        gso_type the port cannot take ---------------------> tx_errors
 *        needs_csum and !caps.tx_csum ----------------------> tx_errors
 *        otherwise ---------------------------------------------> send
 *
 * Threads: see port.h.  The counters are single-writer (the datapath
 * thread that owns the port), stored with relaxed atomics so that
 * port_get_stats() may read them from any thread. */
#include "port/port.h"

#include <errno.h>
#include <net/if.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "net/gso.h"
#include "port/port-provider.h"
#include "util/buf.h"
#include "util/log.h"

VF_LOG_MODULE(port);

/* Refused frames are freed in chunks of this many. */
#define TX_BAD_CHUNK 32

static const char *const kind_names[PORT_N_KINDS] = {
    [PORT_KIND_TAP] = "tap",
    [PORT_KIND_AFPACKET] = "afpacket",
    [PORT_KIND_PATCH] = "patch",
    [PORT_KIND_DUMMY] = "dummy",
    [PORT_KIND_TUNNEL] = "tunnel",
    [PORT_KIND_BOND] = "bond",
};

static const struct port_class *const builtin_classes[PORT_N_KINDS] = {
    [PORT_KIND_TAP] = &port_tap_class,
    [PORT_KIND_AFPACKET] = &port_afpacket_class,
    [PORT_KIND_PATCH] = &port_patch_class,
    [PORT_KIND_DUMMY] = &port_dummy_class,
};

/* Classes registered by higher parts (main thread, before any port). */
static const struct port_class *registered_classes[PORT_N_KINDS];

const char *
port_kind_name(enum port_kind kind)
{
    return (unsigned) kind < PORT_N_KINDS ? kind_names[kind] : NULL;
}

int
port_kind_from_name(const char *name)
{
    if (name) {
        for (int k = 0; k < PORT_N_KINDS; k++) {
            if (!strcmp(name, kind_names[k])) {
                return k;
            }
        }
    }
    return -EINVAL;
}

static const char *const rx_ring_names[PORT_N_RX_RINGS] = {
    [PORT_RX_RING_DEFAULT] = "default",
    [PORT_RX_RING_V2] = "v2",
    [PORT_RX_RING_V3] = "v3",
};

const char *
port_rx_ring_name(enum port_rx_ring ring)
{
    return (unsigned) ring < PORT_N_RX_RINGS ? rx_ring_names[ring] : NULL;
}

int
port_rx_ring_from_name(const char *name)
{
    if (name) {
        for (int r = 0; r < PORT_N_RX_RINGS; r++) {
            if (!strcmp(name, rx_ring_names[r])) {
                return r;
            }
        }
    }
    return -EINVAL;
}

const struct port_class *
port_class_lookup(enum port_kind kind)
{
    if ((unsigned) kind >= PORT_N_KINDS) {
        return NULL;
    }
    return builtin_classes[kind] ? builtin_classes[kind]
                                 : registered_classes[kind];
}

int
port_class_register(const struct port_class *class)
{
    if (!class || (unsigned) class->kind >= PORT_N_KINDS || !class->alloc
        || !class->construct || !class->destruct || !class->dealloc
        || !class->rx_burst || !class->tx_burst || !class->get_fd) {
        return -EINVAL;
    }
    if (port_class_lookup(class->kind)) {
        return -EEXIST;
    }
    registered_classes[class->kind] = class;
    return 0;
}

/* Linux's dev_valid_name(): not empty, shorter than IFNAMSIZ, not "." or
 * "..", no '/', ':' or white space. */
static int
check_name(const char *what, const char *name, char **errp)
{
    if (!name || !name[0]) {
        *errp = vf_xasprintf("%s is empty", what);
        return -EINVAL;
    }
    size_t len = strlen(name);
    if (len >= IFNAMSIZ) {
        *errp = vf_xasprintf("%s '%s' is too long (%zu bytes; at most %d)",
                             what, name, len, IFNAMSIZ - 1);
        return -EINVAL;
    }
    if (!strcmp(name, ".") || !strcmp(name, "..")) {
        *errp = vf_xasprintf("%s '%s' is not a valid device name", what,
                             name);
        return -EINVAL;
    }
    for (const char *c = name; *c; c++) {
        if (*c == '/' || *c == ':' || *c <= ' ' || *c == 0x7f) {
            *errp = vf_xasprintf("%s '%s' contains a character not allowed "
                                 "in a device name (0x%02x)", what, name,
                                 (unsigned char) *c);
            return -EINVAL;
        }
    }
    return 0;
}

int
port_config_check(const struct port_config *cfg,
                  const struct pkt_pool *pool, char **errp)
{
    *errp = NULL;
    if (!cfg) {
        *errp = vf_xasprintf("no port configuration");
        return -EINVAL;
    }
    int err = check_name("port name", cfg->name, errp);
    if (err) {
        return err;
    }
    const char *kind = port_kind_name(cfg->kind);
    if (!kind) {
        *errp = vf_xasprintf("port %s: unknown port kind %d", cfg->name,
                             (int) cfg->kind);
        return -EINVAL;
    }
    const struct port_class *class = port_class_lookup(cfg->kind);
    if (!class) {
        *errp = vf_xasprintf("port %s: port kind '%s' is not available "
                             "(its part has not registered it)",
                             cfg->name, kind);
        return -EOPNOTSUPP;
    }
    struct pkt_owner_stats os;
    if (pool && pkt_pool_owner_stats(pool, cfg->owner, &os)) {
        *errp = vf_xasprintf("port %s: owner %u is out of range for its "
                             "buffer pool", cfg->name, cfg->owner);
        return -EINVAL;
    }
    if (cfg->mtu && (cfg->mtu < PORT_MTU_MIN || cfg->mtu > PORT_MTU_MAX)) {
        *errp = vf_xasprintf("port %s: mtu %u is out of range (%u..%u)",
                             cfg->name, cfg->mtu, PORT_MTU_MIN,
                             PORT_MTU_MAX);
        return -EINVAL;
    }
    if (cfg->peer && cfg->kind != PORT_KIND_PATCH) {
        *errp = vf_xasprintf("port %s: 'peer' is only for patch ports, not "
                             "%s ports", cfg->name, kind);
        return -EINVAL;
    }
    if (cfg->ring_frames
        && (cfg->ring_frames < PORT_RING_FRAMES_MIN
            || cfg->ring_frames > PORT_RING_FRAMES_MAX)) {
        *errp = vf_xasprintf("port %s: ring_frames %u is out of range "
                             "(%u..%u)", cfg->name, cfg->ring_frames,
                             PORT_RING_FRAMES_MIN, PORT_RING_FRAMES_MAX);
        return -EINVAL;
    }
    if (!port_rx_ring_name(cfg->rx_ring)) {
        *errp = vf_xasprintf("port %s: unknown rx_ring %d", cfg->name,
                             (int) cfg->rx_ring);
        return -EINVAL;
    }
    if (cfg->rx_ring != PORT_RX_RING_DEFAULT
        && cfg->kind != PORT_KIND_AFPACKET) {
        *errp = vf_xasprintf("port %s: 'rx_ring' is only for afpacket "
                             "ports, not %s ports", cfg->name, kind);
        return -EINVAL;
    }
    return class->check_config ? class->check_config(cfg, errp) : 0;
}

int
port_create(const struct port_config *cfg, struct pkt_pool *pool,
            struct port **portp, char **errp)
{
    *portp = NULL;
    int err = port_config_check(cfg, pool, errp);
    if (err) {
        return err;
    }
    if (!pool) {
        *errp = vf_xasprintf("port %s: no buffer pool", cfg->name);
        return -EINVAL;
    }
    const struct port_class *class = port_class_lookup(cfg->kind);
    struct port *port = class->alloc();
    if (!port) {
        *errp = vf_xasprintf("port %s: out of memory", cfg->name);
        return -ENOMEM;
    }
    port->class = class;
    snprintf(port->name, sizeof port->name, "%s", cfg->name);
    port->kind = cfg->kind;
    port->owner = cfg->owner;
    port->pool = pool;
    atomic_init(&port->ifindex, 0);
    atomic_init(&port->carrier, true);
    memset(&port->caps, 0, sizeof port->caps);
    memset(&port->counters, 0, sizeof port->counters);

    err = class->construct(port, cfg, errp);
    if (err) {
        if (!*errp) {
            *errp = vf_xasprintf("port %s: %s", cfg->name, strerror(-err));
        }
        class->dealloc(port);
        return err;
    }
    VF_LOG_INFO(port, "%s: created %s port (mtu %u%s%s)", port->name,
                class->name, port->caps.mtu,
                port->caps.tx_tso4 ? ", tso" : "",
                port->caps.tx_csum ? ", csum" : "");
    *portp = port;
    return 0;
}

void
port_destroy(struct port *port)
{
    if (!port) {
        return;
    }
    VF_LOG_INFO(port, "%s: destroying %s port", port->name,
                port->class->name);
    port->class->destruct(port);
    port->class->dealloc(port);
}

int
port_rx_burst(struct port *port, struct pkt_cache *cache, struct pkt **pkts,
              uint32_t n)
{
    if (VF_UNLIKELY(!n)) {
        return 0;
    }
    int got = port->class->rx_burst(port, cache, pkts, n);
    if (got > 0) {
        uint64_t bytes = 0;
        for (int i = 0; i < got; i++) {
            bytes += pkts[i]->size;
        }
        port_counter_add(&port->counters.rx_packets, (uint64_t) got);
        port_counter_add(&port->counters.rx_bytes, bytes);
    }
    return got;
}

/* True if a port with 'caps' can send 'p' as it is. */
static inline bool
caps_take(const struct port_caps *caps, const struct pkt *p)
{
    if (VF_UNLIKELY(p->size > caps->max_frame)) {
        return false;
    }
    if (VF_LIKELY(!(p->flags & PKT_F_OFFLOAD))) {
        return true;
    }
    const struct pkt_offload *o = &p->offload;
    switch (o->gso_type) {
    case PKT_GSO_NONE:
        break;
    case PKT_GSO_TCPV4:
        if (!caps->tx_tso4) {
            return false;
        }
        break;
    case PKT_GSO_TCPV6:
        if (!caps->tx_tso6) {
            return false;
        }
        break;
    case PKT_GSO_UDP:
        if (!caps->tx_uso) {
            return false;
        }
        break;
    default:
        return false;
    }
    return !o->needs_csum || caps->tx_csum;
}

uint32_t
port_tx_burst(struct port *port, struct pkt_cache *cache, struct pkt **pkts,
              uint32_t n)
{
    /* Move the frames the port cannot take to the end of 'pkts'. */
    uint32_t n_ok = 0;
    uint32_t n_bad = 0;
    struct pkt *bad[TX_BAD_CHUNK];
    for (uint32_t i = 0; i < n; i++) {
        struct pkt *p = pkts[i];
        if (VF_LIKELY(caps_take(&port->caps, p))) {
            pkts[n_ok++] = p;
        } else {
            bad[n_bad++] = p;
            if (n_bad == TX_BAD_CHUNK) {
                pkt_free_burst(cache, bad, n_bad);
                port_count_tx_errors(port, n_bad);
                n_bad = 0;
            }
        }
    }
    if (VF_UNLIKELY(n_bad)) {
        pkt_free_burst(cache, bad, n_bad);
        port_count_tx_errors(port, n_bad);
    }
    return n_ok ? port->class->tx_burst(port, cache, pkts, n_ok) : 0;
}

int
port_tx_prepare(const struct port_caps *caps, struct pkt_cache *cache,
                struct pkt *p, struct pkt **out, uint32_t max_out)
{
    if (VF_LIKELY(!(p->flags & PKT_F_OFFLOAD))
        || (p->offload.gso_type == PKT_GSO_NONE && !p->offload.needs_csum)) {
        goto as_is;
    }
    if (p->offload.gso_type != PKT_GSO_NONE) {
        struct port_caps big = *caps;
        big.max_frame = UINT32_MAX;
        if (caps_take(&big, p)) {
            goto as_is;
        }
        int n = gso_segment(cache, p, caps->tx_csum ? GSO_F_PARTIAL_CSUM : 0,
                            out, max_out);
        pkt_free(cache, p);
        return n;
    }
    if (!caps->tx_csum) {
        int err = gso_complete_csum(p);
        if (err) {
            pkt_free(cache, p);
            return err;
        }
    }
as_is:
    if (!max_out) {
        pkt_free(cache, p);
        return -E2BIG;
    }
    out[0] = p;
    return 1;
}

int
port_get_fd(const struct port *port)
{
    return port->class->get_fd(port);
}

void
port_get_caps(const struct port *port, struct port_caps *caps)
{
    *caps = port->caps;
}

void
port_get_stats(const struct port *port, struct port_stats *stats)
{
    const struct port_counters *c = &port->counters;
    stats->rx_packets = atomic_load_explicit(&c->rx_packets,
                                             memory_order_relaxed);
    stats->rx_bytes = atomic_load_explicit(&c->rx_bytes,
                                           memory_order_relaxed);
    stats->tx_packets = atomic_load_explicit(&c->tx_packets,
                                             memory_order_relaxed);
    stats->tx_bytes = atomic_load_explicit(&c->tx_bytes,
                                           memory_order_relaxed);
    stats->rx_dropped = atomic_load_explicit(&c->rx_dropped,
                                             memory_order_relaxed);
    stats->rx_errors = atomic_load_explicit(&c->rx_errors,
                                            memory_order_relaxed);
    stats->tx_dropped = atomic_load_explicit(&c->tx_dropped,
                                             memory_order_relaxed);
    stats->tx_errors = atomic_load_explicit(&c->tx_errors,
                                            memory_order_relaxed);
    if (port->class->get_stats) {
        port->class->get_stats(port, stats);
    }
}

bool
port_link_up(const struct port *port)
{
    return atomic_load_explicit(&port->carrier, memory_order_acquire);
}

const char *
port_name(const struct port *port)
{
    return port->name;
}

enum port_kind
port_kind(const struct port *port)
{
    return port->kind;
}

uint16_t
port_owner(const struct port *port)
{
    return port->owner;
}

int
port_ifindex(const struct port *port)
{
    return atomic_load_explicit(&port->ifindex, memory_order_relaxed);
}

/* ---- Kernel interface helpers ---- */

static int
netdev_ioctl(const char *name, unsigned long req, struct ifreq *ifr)
{
    if (strlen(name) >= IFNAMSIZ) {
        return -EINVAL;
    }
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        return -errno;
    }
    snprintf(ifr->ifr_name, sizeof ifr->ifr_name, "%s", name);
    int err = ioctl(fd, req, ifr) < 0 ? -errno : 0;
    close(fd);
    return err;
}

int
port_netdev_get_flags(const char *name, unsigned int *flags)
{
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    int err = netdev_ioctl(name, SIOCGIFFLAGS, &ifr);
    *flags = err ? 0 : (unsigned int) (unsigned short) ifr.ifr_flags;
    return err;
}

int
port_netdev_set_up(const char *name)
{
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    int err = netdev_ioctl(name, SIOCGIFFLAGS, &ifr);
    if (err || (ifr.ifr_flags & IFF_UP)) {
        return err;
    }
    ifr.ifr_flags |= IFF_UP;
    return netdev_ioctl(name, SIOCSIFFLAGS, &ifr);
}

int
port_netdev_get_mtu(const char *name, uint32_t *mtu)
{
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    int err = netdev_ioctl(name, SIOCGIFMTU, &ifr);
    *mtu = err ? 0 : (uint32_t) ifr.ifr_mtu;
    return err;
}

int
port_netdev_set_mtu(const char *name, uint32_t mtu)
{
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    ifr.ifr_mtu = (int) mtu;
    return netdev_ioctl(name, SIOCSIFMTU, &ifr);
}

int
port_netdev_get_ifindex(const char *name, int *ifindex)
{
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    int err = netdev_ioctl(name, SIOCGIFINDEX, &ifr);
    *ifindex = err ? 0 : ifr.ifr_ifindex;
    return err;
}

bool
port_netdev_flags_up(unsigned int flags)
{
    return (flags & IFF_UP) && (flags & IFF_RUNNING);
}
