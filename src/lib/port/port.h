/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VFAB_PORT_PORT_H
#define VFAB_PORT_PORT_H 1

/* Ports: anything that sends and receives frames (DESIGN.md "port").
 *
 * A port is created by the control thread from a struct port_config, then
 * handed to exactly one datapath thread, which alone calls port_rx_burst()
 * and port_tx_burst() on it.  Statistics, capabilities and link state may
 * be read from any thread.  Kinds (port-provider.h has the interface each
 * implements):
 *
 *   tap       vfabd creates the TAP device and holds its fd (a VM's NIC);
 *             IFF_VNET_HDR with checksum/TSO offloads, so 64 KiB GSO frames
 *             cross the switch whole.
 *   afpacket  attaches to an existing interface (NIC, veth end) with a
 *             TPACKET_V2 receive ring (per-frame hand-over; TPACKET_V3
 *             blocks on request), PACKET_VNET_HDR where possible, batched
 *             TX.
 *   patch     one end of a pair joining two bridges in the same daemon.
 *   dummy     in-memory, for tests: frames are injected and collected
 *             through port_dummy_*() (port-dummy.h).
 *
 * Capability negotiation (the seeds' DLPI capability exchange): each port
 * reports in struct port_caps what it can take; the datapath hands it only
 * that, completing checksums and segmenting GSO frames in software
 * (net/gso.h) for a port that cannot take them.
 *
 * Ownership: rx_burst gives the caller new buffers, charged to the port's
 * owner (its VNIC id; PKT_OWNER_SYSTEM for uplinks).  tx_burst always takes
 * every packet it is given, sent or not (STYLE.md P8). */

#include <stdbool.h>
#include <stdint.h>

#include "pkt/pkt-pool.h"

struct port;

enum port_kind {
    PORT_KIND_TAP,
    PORT_KIND_AFPACKET,
    PORT_KIND_PATCH,
    PORT_KIND_DUMMY,
    PORT_KIND_TUNNEL,            /* Overlay (src/lib/overlay). */
    PORT_KIND_BOND,              /* Link aggregate (src/lib/bond). */
    PORT_N_KINDS
};

/* What a port can take on transmit and what it delivers on receive. */
struct port_caps {
    bool tx_csum;                /* Takes frames with partial checksums. */
    bool tx_tso4;                /* Takes TCPv4 GSO frames. */
    bool tx_tso6;                /* Takes TCPv6 GSO frames. */
    bool tx_uso;                 /* Takes UDP GSO frames. */
    bool rx_offload;             /* May deliver GSO / partial-csum frames. */
    uint32_t max_frame;          /* Largest frame it takes (bytes, with the
                                  * Ethernet header, GSO super-frames
                                  * included). */
    uint32_t mtu;                /* Largest L3 packet per wire frame. */
};

/* afpacket receive ring layouts (port_config.rx_ring); the theory block
 * of port-afpacket.c has the measurements behind the default. */
enum port_rx_ring {
    PORT_RX_RING_DEFAULT,        /* The kind's default (afpacket: V2). */
    PORT_RX_RING_V2,             /* TPACKET_V2: one slot per frame, each
                                  * handed over as soon as it is written. */
    PORT_RX_RING_V3,             /* TPACKET_V3: variable-size frames packed
                                  * in blocks handed over when full or
                                  * after a >= 1 ms retire timer. */
    PORT_N_RX_RINGS
};

struct port_config {
    const char *name;            /* Port name = device name (IFNAMSIZ). */
    enum port_kind kind;
    uint16_t owner;              /* VNIC id charged for received buffers. */
    uint32_t mtu;                /* 0: keep the device's. */
    bool offload;                /* Negotiate vnet-hdr offloads (default in
                                  * vfabd's configuration; a zeroed struct
                                  * means false).  tap: IFF_VNET_HDR with
                                  * checksum/TSO/USO; without it the kernel
                                  * hands over segmented, checksummed
                                  * frames and takes only such frames.
                                  * afpacket: the port takes offloads on
                                  * transmit (it always reads with
                                  * PACKET_VNET_HDR where the kernel can). */
    const char *peer;            /* patch: name of the other end. */
    uint32_t ring_frames;        /* afpacket: ring size in 2 KiB units (V2:
                                  * that many slots at MTU 1500, fewer,
                                  * larger ones for jumbo MTUs);
                                  * patch: frames the ring into this port
                                  * holds (a power of two).  0: default. */
    enum port_rx_ring rx_ring;   /* afpacket only; others take only
                                  * PORT_RX_RING_DEFAULT. */
};

/* Bounds port_create() checks. */
#define PORT_MTU_MIN 68u         /* RFC 791: the smallest IPv4 MTU. */
#define PORT_MTU_MAX 9194u       /* PKT_MTU_ROOM - Ethernet - two tags. */
#define PORT_RING_FRAMES_MIN 64u
#define PORT_RING_FRAMES_MAX 262144u

struct port_stats {
    uint64_t rx_packets, rx_bytes;
    uint64_t tx_packets, tx_bytes;
    uint64_t rx_dropped;         /* Buffers unavailable, quota, oversize. */
    uint64_t rx_errors;          /* Read errors, bad vnet headers. */
    uint64_t tx_dropped;         /* Device full, link down. */
    uint64_t tx_errors;          /* Write errors, frames it cannot take. */
};

/* Returns "tap", "afpacket", ... or NULL if 'kind' is invalid. */
const char *port_kind_name(enum port_kind kind);

/* Parses a kind name; returns the kind or -EINVAL. */
int port_kind_from_name(const char *name);

/* Returns "default", "v2" or "v3", or NULL if 'ring' is invalid. */
const char *port_rx_ring_name(enum port_rx_ring ring);

/* Parses a receive ring name ("v2", "v3", "default"); returns the
 * enum port_rx_ring value or -EINVAL. */
int port_rx_ring_from_name(const char *name);

/* Creates a port of 'cfg->kind' whose buffers come from 'pool'.  Returns 0
 * and '*portp', or -errno with '*errp' set to a one-line message (caller
 * frees) and nothing created.  Control thread. */
int port_create(const struct port_config *cfg, struct pkt_pool *pool,
                struct port **portp, char **errp);

/* Checks 'cfg' without touching the system: name (non-empty, shorter
 * than IFNAMSIZ, a valid device name), kind (known and available), owner
 * (below the pool's owner count, if 'pool' is not NULL), MTU range,
 * 'peer' (required by patch ports, refused by others), 'ring_frames'
 * bounds, 'rx_ring' (known; other than the default only for afpacket).
 * Returns 0, or -EINVAL (-EOPNOTSUPP for a kind that is not available)
 * with '*errp' set to a one-line message (caller frees).  Any thread. */
int port_config_check(const struct port_config *cfg,
                      const struct pkt_pool *pool, char **errp);

/* Closes and frees 'port' (a tap port deletes its device).  The datapath
 * must have stopped using it.  NULL is a no-op. */
void port_destroy(struct port *port);

/* Receives up to 'n' frames into 'pkts' (buffers from the port's pool
 * through 'cache', charged to the port's owner, 'in_port' left for the
 * caller to set).  Returns the number received (0: nothing waiting), or
 * -EDQUOT when the owner is over its quota (nothing received; stop polling
 * this port until its buffers drain), or another -errno.  Never blocks. */
int port_rx_burst(struct port *port, struct pkt_cache *cache,
                  struct pkt **pkts, uint32_t n);

/* Sends up to 'n' frames, taking ownership of all of them.  Frames the
 * port cannot take (see port_caps) or could not send are freed and counted
 * in tx_dropped/tx_errors.  Returns the number sent.  Never blocks.  The
 * contents of the array 'pkts' are undefined afterwards. */
uint32_t port_tx_burst(struct port *port, struct pkt_cache *cache,
                       struct pkt **pkts, uint32_t n);

/* Makes the frame 'p' fit a port whose capabilities are 'caps', in
 * software (net/gso.h): a GSO frame of a kind the port cannot take is
 * segmented (its checksums left partial if caps->tx_csum, else complete);
 * a partial checksum the port cannot take is completed.  Takes 'p'.
 * Stores the frames to send ('p' itself, or its segments, charged to the
 * owner of 'p') in 'out', which has room for 'max_out' (GSO_MAX_SEGS is
 * always enough), and returns their number (>= 1); or frees 'p' and
 * returns -EINVAL (malformed offload request), -E2BIG ('max_out' too
 * small), -ENOBUFS or -EDQUOT (no buffers for the segments).  Datapath
 * thread owning 'cache' (may be NULL on the control thread). */
int port_tx_prepare(const struct port_caps *caps, struct pkt_cache *cache,
                    struct pkt *p, struct pkt **out, uint32_t max_out);

/* The fd a datapath thread polls for "frames waiting", or -1.  A port
 * whose fd reports an error condition (EPOLLERR) is still polled with
 * port_rx_burst(), which clears it. */
int port_get_fd(const struct port *port);

void port_get_caps(const struct port *port, struct port_caps *caps);
void port_get_stats(const struct port *port, struct port_stats *stats);

/* Carrier state (followed through netlink for afpacket ports). */
bool port_link_up(const struct port *port);

const char *port_name(const struct port *port);
enum port_kind port_kind(const struct port *port);
uint16_t port_owner(const struct port *port);

/* The kernel interface index behind the port, or 0. */
int port_ifindex(const struct port *port);

#endif /* port/port.h */
