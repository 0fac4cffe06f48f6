/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VFAB_PORT_LINK_MONITOR_H
#define VFAB_PORT_LINK_MONITOR_H 1

/* Link monitor: follows the carrier of kernel interfaces behind ports
 * (afpacket uplinks) through rtnetlink (RTNLGRP_LINK) and updates their
 * link state (port_link_up(), read by datapath threads) within
 * milliseconds of the kernel's notification.
 *
 * Run/wait (STYLE.md P12): the control thread's loop polls
 * link_monitor_wait()'s fd and calls link_monitor_run(), which reads what
 * the kernel sent, a bounded amount per call (LINK_MONITOR_RUN_BUDGET
 * messages; the fd stays readable if more wait).  When the kernel's
 * notifications overflowed the socket (ENOBUFS), run() asks for a full
 * dump of the interfaces and catches up from it, so no change is lost for
 * good.
 *
 * "Up" means IFF_UP and IFF_RUNNING (see port_netdev_flags_up() in
 * port-provider.h).  Timing comes from the kernel: administrative changes
 * are notified at once; carrier changes go through linkwatch, which
 * notifies at once for stacked devices such as veth and for the first
 * change after a quiet second, and otherwise at most once per second per
 * device (net/core/link_watch.c); bonds need the former case.
 *
 * Threads: all functions are for the control thread; the only state they
 * share with datapath threads is each port's atomic carrier flag. */

#include <stdbool.h>
#include <stdint.h>

struct port;
struct link_monitor;

#define LINK_MONITOR_RUN_BUDGET 256  /* Netlink messages per run(). */

/* Called after the carrier of 'port' changed to 'up'. */
typedef void link_monitor_cb(struct port *port, bool up, void *aux);

struct link_monitor_stats {
    uint64_t n_messages;         /* Link messages read. */
    uint64_t n_changes;          /* Carrier changes applied to ports. */
    uint64_t n_overruns;         /* Times the kernel dropped messages. */
    uint64_t n_resyncs;          /* Full dumps requested. */
};

/* Opens a netlink socket subscribed to link notifications in the calling
 * thread's network namespace.  Returns the monitor, or NULL with errno. */
struct link_monitor *link_monitor_create(void);

/* Closes 'mon'.  Ports it watched keep their last state.  NULL: no-op. */
void link_monitor_destroy(struct link_monitor *mon);

/* Calls 'cb' with 'aux' after every carrier change ('cb' NULL: none). */
void link_monitor_set_callback(struct link_monitor *mon, link_monitor_cb *cb,
                               void *aux);

/* Starts following the interface behind 'port' (port_ifindex()), and sets
 * its carrier from the interface's flags now.  Returns 0, -EINVAL if the
 * port has no kernel interface, -EEXIST if already watched, -ENODEV if the
 * interface is gone. */
int link_monitor_add_port(struct link_monitor *mon, struct port *port);

/* Stops following 'port' (before port_destroy()).  Not watched: no-op. */
void link_monitor_remove_port(struct link_monitor *mon, struct port *port);

/* Processes pending notifications (bounded).  Returns the number of
 * carrier changes applied (>= 0), or -errno if the socket failed. */
int link_monitor_run(struct link_monitor *mon);

/* The fd to poll for readability before the next run(). */
int link_monitor_wait(const struct link_monitor *mon);

void link_monitor_get_stats(const struct link_monitor *mon,
                            struct link_monitor_stats *stats);

#endif /* port/link-monitor.h */
