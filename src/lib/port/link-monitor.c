/* SPDX-License-Identifier: Apache-2.0 */
/* Link monitor: theory of operation.
 *
 * Contract: link-monitor.h.  One NETLINK_ROUTE socket bound to
 * RTMGRP_LINK receives RTM_NEWLINK/RTM_DELLINK for every interface of the
 * namespace; a short list of watched ports (control thread only) maps an
 * ifindex to the ports on it.  Each message carries the interface's full
 * flags, so a message is applied by value, never as a delta:
 *
 *   recv() --> each nlmsghdr --> RTM_NEWLINK: up = IFF_UP && IFF_RUNNING
 *                              RTM_DELLINK: up = false (also when the
 *                                           device moved to another
 *                                           namespace)
 *                          --> watched ports on that ifindex whose carrier
 *                              differs: store it (release), then the
 *                              kind's link_changed() and the callback.
 *
 * Ordering: ports are added after the socket is open, so any change after
 * a port's initial read of the flags arrives as a message and is applied
 * in order; the last message always carries the current state.  Overflow:
 * the kernel drops notifications when the socket's buffer is full and
 * reports ENOBUFS once; run() then requests an RTM_GETLINK dump, whose
 * replies (NLM_F_MULTI, ending with NLMSG_DONE) go through the same path.
 *
 * Bounded work: about LINK_MONITOR_RUN_BUDGET messages per run() (the
 * budget is checked between datagrams, since a datagram once read must be
 * applied whole). */
#include "port/link-monitor.h"

#include <errno.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "port/port-provider.h"
#include "util/log.h"

VF_LOG_MODULE(link_monitor);

#define LINK_MONITOR_RCVBUF (1024 * 1024)
#define LINK_MONITOR_BUF 32768

struct link_monitor {
    int fd;                      /* const */
    uint32_t dump_seq;           /* Sequence of the last dump request. */
    bool dump_pending;
    struct port **ports;         /* Watched ports. */
    size_t n_ports;
    size_t cap_ports;
    link_monitor_cb *cb;
    void *cb_aux;
    struct link_monitor_stats stats;
    uint8_t buf[LINK_MONITOR_BUF] __attribute__((aligned(NLMSG_ALIGNTO)));
};

struct link_monitor *
link_monitor_create(void)
{
    struct link_monitor *mon = calloc(1, sizeof *mon);
    if (!mon) {
        errno = ENOMEM;
        return NULL;
    }
    mon->fd = socket(AF_NETLINK, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC,
                     NETLINK_ROUTE);
    if (mon->fd < 0) {
        goto err;
    }
    int size = LINK_MONITOR_RCVBUF;
    if (setsockopt(mon->fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof size)) {
        (void) setsockopt(mon->fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
    }
    struct sockaddr_nl sa;
    memset(&sa, 0, sizeof sa);
    sa.nl_family = AF_NETLINK;
    sa.nl_groups = RTMGRP_LINK;
    if (bind(mon->fd, (struct sockaddr *) &sa, sizeof sa)) {
        goto err;
    }
    return mon;

err:;
    int err = errno;
    if (mon->fd >= 0) {
        close(mon->fd);
    }
    free(mon);
    errno = err;
    return NULL;
}

void
link_monitor_destroy(struct link_monitor *mon)
{
    if (!mon) {
        return;
    }
    close(mon->fd);
    free(mon->ports);
    free(mon);
}

void
link_monitor_set_callback(struct link_monitor *mon, link_monitor_cb *cb,
                          void *aux)
{
    mon->cb = cb;
    mon->cb_aux = aux;
}

static ssize_t
find_port(const struct link_monitor *mon, const struct port *port)
{
    for (size_t i = 0; i < mon->n_ports; i++) {
        if (mon->ports[i] == port) {
            return (ssize_t) i;
        }
    }
    return -1;
}

/* Sets the carrier of 'port' to 'up' if it differs.  Returns 1 if it
 * changed. */
static int
apply(struct link_monitor *mon, struct port *port, bool up)
{
    if (port_link_up(port) == up) {
        return 0;
    }
    port_set_carrier__(port, up);
    mon->stats.n_changes++;
    VF_LOG_INFO(link_monitor, "%s: link %s", port_name(port),
                up ? "up" : "down");
    if (port->class->link_changed) {
        port->class->link_changed(port, up);
    }
    if (mon->cb) {
        mon->cb(port, up, mon->cb_aux);
    }
    return 1;
}

int
link_monitor_add_port(struct link_monitor *mon, struct port *port)
{
    if (port_ifindex(port) <= 0) {
        return -EINVAL;
    }
    if (find_port(mon, port) >= 0) {
        return -EEXIST;
    }
    unsigned int flags;
    if (port_netdev_get_flags(port_name(port), &flags)) {
        return -ENODEV;
    }
    if (mon->n_ports == mon->cap_ports) {
        size_t cap = mon->cap_ports ? mon->cap_ports * 2 : 8;
        struct port **ports = realloc(mon->ports, cap * sizeof *ports);
        if (!ports) {
            return -ENOMEM;
        }
        mon->ports = ports;
        mon->cap_ports = cap;
    }
    mon->ports[mon->n_ports++] = port;
    apply(mon, port, port_netdev_flags_up(flags));
    return 0;
}

void
link_monitor_remove_port(struct link_monitor *mon, struct port *port)
{
    ssize_t i = find_port(mon, port);
    if (i >= 0) {
        mon->ports[i] = mon->ports[--mon->n_ports];
    }
}

/* Applies one link message.  Returns the number of changes. */
static int
handle_link(struct link_monitor *mon, const struct nlmsghdr *nh)
{
    if (nh->nlmsg_len < NLMSG_LENGTH(sizeof(struct ifinfomsg))) {
        return 0;
    }
    const struct ifinfomsg *ifi = NLMSG_DATA(nh);
    bool up = nh->nlmsg_type == RTM_NEWLINK
              && port_netdev_flags_up(ifi->ifi_flags);
    int changes = 0;
    mon->stats.n_messages++;
    for (size_t i = 0; i < mon->n_ports; i++) {
        if (port_ifindex(mon->ports[i]) == ifi->ifi_index) {
            changes += apply(mon, mon->ports[i], up);
        }
    }
    return changes;
}

static int
request_dump(struct link_monitor *mon)
{
    struct {
        struct nlmsghdr nh;
        struct ifinfomsg ifi;
    } req;
    memset(&req, 0, sizeof req);
    req.nh.nlmsg_len = sizeof req;
    req.nh.nlmsg_type = RTM_GETLINK;
    req.nh.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
    req.nh.nlmsg_seq = ++mon->dump_seq;
    req.ifi.ifi_family = AF_UNSPEC;
    struct sockaddr_nl sa;
    memset(&sa, 0, sizeof sa);
    sa.nl_family = AF_NETLINK;
    if (sendto(mon->fd, &req, sizeof req, 0, (struct sockaddr *) &sa,
               sizeof sa) < 0) {
        return -errno;
    }
    mon->dump_pending = true;
    mon->stats.n_resyncs++;
    return 0;
}

int
link_monitor_run(struct link_monitor *mon)
{
    uint8_t *buf = mon->buf;
    int changes = 0;
    int budget = LINK_MONITOR_RUN_BUDGET;
    while (budget > 0) {
        ssize_t r = recv(mon->fd, buf, LINK_MONITOR_BUF, MSG_DONTWAIT);
        if (r < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK) {
                break;
            } else if (errno == EINTR) {
                continue;
            } else if (errno == ENOBUFS) {
                mon->stats.n_overruns++;
                VF_LOG_WARN(link_monitor, "netlink overrun; resyncing");
                if (!mon->dump_pending) {
                    int err = request_dump(mon);
                    if (err && err != -EBUSY) {
                        return err;
                    }
                }
                continue;
            }
            return -errno;
        }
        /* A datagram is read once: all of its messages are applied, the
         * budget is checked between datagrams. */
        size_t len = (size_t) r;
        for (const struct nlmsghdr *nh = (const void *) buf; NLMSG_OK(nh, len);
             nh = NLMSG_NEXT(nh, len), budget--) {
            if (nh->nlmsg_type == RTM_NEWLINK
                || nh->nlmsg_type == RTM_DELLINK) {
                changes += handle_link(mon, nh);
            } else if (nh->nlmsg_type == NLMSG_DONE
                       || nh->nlmsg_type == NLMSG_ERROR) {
                mon->dump_pending = false;
            }
        }
    }
    return changes;
}

int
link_monitor_wait(const struct link_monitor *mon)
{
    return mon->fd;
}

void
link_monitor_get_stats(const struct link_monitor *mon,
                       struct link_monitor_stats *stats)
{
    *stats = mon->stats;
}
