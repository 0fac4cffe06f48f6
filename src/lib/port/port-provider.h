/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VFAB_PORT_PORT_PROVIDER_H
#define VFAB_PORT_PORT_PROVIDER_H 1

/* The interface a port kind implements (STYLE.md P2, as Open vSwitch's
 * netdev-provider.h).  Only port kinds include this header: the rest of
 * vfab sees ports through port.h.
 *
 * Life cycle (STYLE.md P8), all on the control thread:
 *
 *   port_create() --> class->check_config()   static checks, no side effect
 *                 --> class->alloc()          memory only
 *                 --> base fields filled in by port.c (name, kind, owner,
 *                     pool, carrier up, counters zero)
 *                 --> class->construct()      devices, fds, rings; on
 *                                             failure it undoes its own
 *                                             work and port.c deallocs
 *   port_destroy() -> class->destruct()       undoes construct
 *                 --> class->dealloc()
 *
 * Data path: port.c wraps rx_burst/tx_burst.  It counts rx_packets and
 * rx_bytes of what rx_burst returns, and on transmit drops (tx_errors) the
 * frames the port's caps say it cannot take before calling tx_burst, so a
 * kind only ever sees frames it can send.  A kind counts what only it
 * knows through the port_count_*() helpers below: tx_packets/tx_bytes of
 * frames actually handed to the kernel, and drops and errors by cause.
 *
 * Threads: rx_burst and tx_burst run on the one datapath thread that owns
 * the port.  Counters are written by that thread only (relaxed atomic
 * stores, no read-modify-write) and read by any thread.  'carrier' is
 * written by the control thread (link monitor) or by the owning datapath
 * thread (tap write errors) and read by any thread. */

#include <net/if.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "port/port.h"
#include "util/compiler.h"

struct port_class {
    enum port_kind kind;         /* What port_create() dispatches on. */
    const char *name;            /* "tap", "afpacket", ... */

    /* Checks the kind-specific parts of 'cfg' that need no system access
     * (port.c has already checked the name, owner, MTU range and that
     * 'peer' is only given to patch ports).  Returns 0 or -EINVAL with
     * '*errp' set.  Optional. */
    int (*check_config)(const struct port_config *cfg, char **errp);

    /* Allocates the kind's structure, which embeds struct port as its
     * first member 'up'.  NULL on failure. */
    struct port *(*alloc)(void);

    /* Brings 'port' to life from 'cfg' (base fields already set).  Returns
     * 0, or -errno with '*errp' set, having undone everything it did. */
    int (*construct)(struct port *port, const struct port_config *cfg,
                     char **errp);

    /* Undoes construct(): closes fds, frees every packet it still holds
     * (through a NULL cache).  The datapath no longer uses 'port'. */
    void (*destruct)(struct port *port);

    void (*dealloc)(struct port *port);

    /* As port_rx_burst() (port.h); port.c counts what it returns. */
    int (*rx_burst)(struct port *port, struct pkt_cache *cache,
                    struct pkt **pkts, uint32_t n);

    /* As port_tx_burst(): takes all 'n' packets, every one of which the
     * port's caps allow.  Counts sent, dropped and failed frames with the
     * helpers below.  Returns the number sent. */
    uint32_t (*tx_burst)(struct port *port, struct pkt_cache *cache,
                         struct pkt **pkts, uint32_t n);

    /* The fd that becomes readable when frames wait, or -1. */
    int (*get_fd)(const struct port *port);

    /* Adds kind-specific counts (e.g. the kernel's ring drops) to 'stats',
     * which port.c has filled from the common counters.  Any thread.
     * Optional. */
    void (*get_stats)(const struct port *port, struct port_stats *stats);

    /* Called by the link monitor after it changed the carrier of 'port'
     * to 'up'.  Control thread.  Optional. */
    void (*link_changed)(struct port *port, bool up);
};

/* Counters common to every kind; field names as in struct port_stats. */
struct port_counters {
    _Atomic uint64_t rx_packets, rx_bytes;    /* dp (written by port.c) */
    _Atomic uint64_t tx_packets, tx_bytes;    /* dp */
    _Atomic uint64_t rx_dropped, rx_errors;   /* dp */
    _Atomic uint64_t tx_dropped, tx_errors;   /* dp */
};

/* The part of every port that port.c manages.  Kinds embed it first. */
struct port {
    const struct port_class *class;    /* const */
    char name[IFNAMSIZ];               /* const */
    enum port_kind kind;               /* const */
    uint16_t owner;                    /* const: VNIC charged on rx. */
    struct pkt_pool *pool;             /* const */
    _Atomic int ifindex;               /* atomic: set by construct, 0 if
                                        * none; a kind may update it. */
    struct port_caps caps;             /* const once constructed (dummy
                                        * ports: see port-dummy.h). */
    _Atomic bool carrier;              /* atomic: link up (port_link_up). */
    struct port_counters counters;     /* see fields */
};

/* Adds 'n' to the single-writer counter 'c' (no atomic read-modify-write:
 * only the owning thread writes it). */
static inline void
port_counter_add(_Atomic uint64_t *c, uint64_t n)
{
    atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed)
                                 + n,
                          memory_order_relaxed);
}

static inline void
port_count_tx(struct port *port, uint64_t packets, uint64_t bytes)
{
    port_counter_add(&port->counters.tx_packets, packets);
    port_counter_add(&port->counters.tx_bytes, bytes);
}

static inline void
port_count_tx_dropped(struct port *port, uint64_t n)
{
    port_counter_add(&port->counters.tx_dropped, n);
}

static inline void
port_count_tx_errors(struct port *port, uint64_t n)
{
    port_counter_add(&port->counters.tx_errors, n);
}

static inline void
port_count_rx_dropped(struct port *port, uint64_t n)
{
    port_counter_add(&port->counters.rx_dropped, n);
}

static inline void
port_count_rx_errors(struct port *port, uint64_t n)
{
    port_counter_add(&port->counters.rx_errors, n);
}

/* Sets the carrier of 'port' (any thread). */
static inline void
port_set_carrier__(struct port *port, bool up)
{
    atomic_store_explicit(&port->carrier, up, memory_order_release);
}

/* Makes 'class' available to port_create() for its kind.  For kinds that
 * live in parts above port (tunnel in overlay, bond in bond), which
 * register at start-up.  Returns 0, -EINVAL (bad kind or missing
 * functions) or -EEXIST (kind already has a class).  Main thread, before
 * any port is created; the table it writes is read without locks. */
int port_class_register(const struct port_class *class);

/* The class for 'kind', or NULL. */
const struct port_class *port_class_lookup(enum port_kind kind);

/* Built-in classes (port-<kind>.c). */
extern const struct port_class port_tap_class;
extern const struct port_class port_afpacket_class;
extern const struct port_class port_patch_class;
extern const struct port_class port_dummy_class;

/* Helpers shared by the kinds that sit on a kernel interface (port.c).
 * Each returns 0 or -errno.  Control thread. */
int port_netdev_get_flags(const char *name, unsigned int *flags);
int port_netdev_set_up(const char *name);
int port_netdev_get_mtu(const char *name, uint32_t *mtu);
int port_netdev_set_mtu(const char *name, uint32_t mtu);
int port_netdev_get_ifindex(const char *name, int *ifindex);

/* True if kernel interface flags 'flags' mean "link up": IFF_UP and
 * IFF_RUNNING (operationally up: carrier, not dormant).  IFF_RUNNING rather
 * than IFF_LOWER_UP because SIOCGIFFLAGS returns only the low 16 bits of
 * the flags, and both change in the same linkwatch event. */
bool port_netdev_flags_up(unsigned int flags);

/* Largest Ethernet frame for an L3 MTU of 'mtu': header plus two VLAN
 * tags. */
static inline uint32_t
port_frame_for_mtu(uint32_t mtu)
{
    return mtu + 14 + 2 * 4;
}

#endif /* port/port-provider.h */
