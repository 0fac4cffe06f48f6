/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VFAB_PORT_PORT_DUMMY_H
#define VFAB_PORT_PORT_DUMMY_H 1

/* Dummy ports: in-memory ports for tests of the bridge and datapath
 * (STYLE.md P11; Open vSwitch's netdev-dummy).
 *
 * A test injects frames (bytes plus an optional offload request) that the
 * port's rx_burst then delivers in order, in fresh buffers of the port's
 * pool charged to the port's owner (so quotas and -EDQUOT behave as on a
 * real port); and collects the frames the datapath transmitted, in order,
 * as the packets themselves (the test then owns and frees them).  Link
 * state and capabilities are set by the test; a port whose link is down
 * delivers nothing and drops what it is given (tx_dropped); frames its
 * caps refuse are dropped by port_tx_burst() (tx_errors), so a test sees
 * exactly what reached the "wire".
 *
 * Defaults: link up, mtu = cfg->mtu or 1500, every offload taken
 * (tx_csum, tx_tso4, tx_tso6, tx_uso, rx_offload), max_frame
 * PKT_GSO_ROOM, up to PORT_DUMMY_TX_LIMIT collected frames held (beyond
 * that transmitted frames are dropped and counted in tx_dropped).
 *
 * port_get_fd() of a dummy port is an eventfd that is readable while
 * injected frames wait, so a datapath thread sleeping in epoll wakes up.
 *
 * Threads: the functions below may be called from any thread while a
 * datapath thread polls the port (an internal mutex protects the queues),
 * except port_dummy_set_caps(), which must be called before the port is
 * handed to a datapath thread or while no thread transmits on it. */

#include <stdbool.h>
#include <stdint.h>

#include "port/port.h"

struct pkt_offload;

#define PORT_DUMMY_TX_LIMIT 8192u

/* Queues a copy of the 'size'-byte frame 'frame' to be received, with the
 * offload request 'offload' (NULL: none).  Returns 0, -EINVAL if 'port' is
 * not a dummy port or 'size' is 0 or above PKT_GSO_ROOM, or -ENOMEM. */
int port_dummy_inject(struct port *port, const void *frame, uint32_t size,
                      const struct pkt_offload *offload);

/* Frames injected and not yet received. */
uint32_t port_dummy_n_pending(const struct port *port);

/* Moves up to 'n' transmitted frames, oldest first, into 'pkts'; the
 * caller owns them.  Returns how many. */
uint32_t port_dummy_collect(struct port *port, struct pkt **pkts,
                            uint32_t n);

/* Transmitted frames waiting to be collected. */
uint32_t port_dummy_n_collected(const struct port *port);

/* Sets the link state.  Returns 0 or -EINVAL if not a dummy port. */
int port_dummy_set_link(struct port *port, bool up);

/* Replaces the capabilities.  Returns 0 or -EINVAL if not a dummy port or
 * 'caps' is inconsistent (max_frame or mtu 0). */
int port_dummy_set_caps(struct port *port, const struct port_caps *caps);

/* True if 'port' is a dummy port. */
bool port_is_dummy(const struct port *port);

#endif /* port/port-dummy.h */
