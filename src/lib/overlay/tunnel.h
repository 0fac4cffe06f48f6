/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VFAB_OVERLAY_TUNNEL_H
#define VFAB_OVERLAY_TUNNEL_H 1

/* VXLAN (RFC 7348) and Geneve (RFC 8926) encapsulation over IPv4, in place.
 *
 * tunnel_encap() pushes outer Ethernet + IPv4 + UDP + VXLAN/Geneve headers
 * into the packet's headroom (pkt.h), so the encapsulated frame leaves in
 * one contiguous buffer (the seeds' single DMA transfer).  The outer UDP
 * source port comes from the inner flow's hash, within 49152..65535
 * (RFC 7348 section 5), so the underlay's ECMP and the receiver's RSS
 * spread tunnels as they would the inner flows.  The outer IPv4 header has
 * DF set (vfab never fragments the underlay: inner frames that would not
 * fit get ICMP "fragmentation needed" back, see overlay.c), and the outer
 * UDP checksum is zero, which both RFCs allow over IPv4.
 *
 * Geneve frames carry one vfab option (class GENEVE_OPT_CLASS_VFAB, type
 * GENEVE_OPT_VFAB_SRC_GID): the fabric-wide id of the source VNIC (the
 * seeds' global queue-pair number), so the receiving host can apply
 * per-source policy without trusting inner addresses.
 *
 * tunnel_decap() validates the outer headers strictly (version, lengths,
 * UDP port, VXLAN I flag, Geneve version and protocol, option lengths),
 * reports what it found and pulls the outer headers off.  Inner frames with
 * a partial-checksum or GSO request are not encapsulated (the caller
 * segments and completes checksums first: net/gso.h).
 *
 * All functions are datapath-safe: no allocation, no syscalls. */

#include <stdbool.h>
#include <stdint.h>

#include "net/parse.h"
#include "net/wire-tunnel.h"
#include "pkt/pkt.h"

enum tunnel_type {
    TUNNEL_VXLAN = FLOW_TUNNEL_VXLAN,
    TUNNEL_GENEVE = FLOW_TUNNEL_GENEVE,
};

/* Outer header bytes (Ethernet + IPv4 + UDP + tunnel header + options). */
#define TUNNEL_VXLAN_OVERHEAD (14 + 20 + 8 + 8)
#define TUNNEL_GENEVE_OVERHEAD (14 + 20 + 8 + 8 + 8)

/* Everything needed to encapsulate towards one remote VTEP. */
struct tunnel_encap {
    enum tunnel_type type;
    uint32_t vni;                /* 24 bits. */
    struct eth_addr src_mac;     /* Our underlay MAC. */
    struct eth_addr dst_mac;     /* Next hop's MAC. */
    vf_be32 src_ip;              /* Our VTEP address. */
    vf_be32 dst_ip;              /* Remote VTEP address. */
    uint32_t src_gid;            /* Geneve: source VNIC global id. */
    uint8_t ttl;                 /* 0: 64. */
    uint16_t dst_port;           /* UDP port, host order (0: standard). */
};

/* What tunnel_decap() found. */
struct tunnel_rx {
    enum tunnel_type type;
    uint32_t vni;
    vf_be32 src_ip;              /* Remote VTEP. */
    vf_be32 dst_ip;              /* Our VTEP (as the sender saw it). */
    struct eth_addr src_mac;     /* Underlay source MAC. */
    uint32_t src_gid;            /* Geneve vfab option, 0 if absent. */
    bool has_gid;
    bool oam;                    /* Geneve O bit (control packet). */
};

/* Why a frame is not a tunnel frame for us (counted by the caller). */
enum tunnel_err {
    TUNNEL_OK = 0,
    TUNNEL_ERR_NOT_TUNNEL = 1,   /* Not IPv4/UDP to a tunnel port. */
    TUNNEL_ERR_MALFORMED = 2,    /* Bad length, version, flags. */
    TUNNEL_ERR_CRITICAL_OPT = 3, /* Geneve critical option we do not know. */
    TUNNEL_ERR_NO_INNER = 4,     /* Geneve payload is not Ethernet. */
};

/* Bytes tunnel_encap() adds for 'type'. */
static inline uint32_t
tunnel_overhead(enum tunnel_type type)
{
    return type == TUNNEL_VXLAN ? TUNNEL_VXLAN_OVERHEAD
                                : TUNNEL_GENEVE_OVERHEAD;
}

/* Encapsulates 'p' (an inner Ethernet frame without pending offloads) as
 * 'e' describes, using 'inner_hash' for the UDP source port.  Returns 0,
 * -ENOSPC (headroom too small), -EINVAL (offload pending, frame too long
 * for an IPv4 datagram); 'p' is unchanged on error. */
int tunnel_encap(struct pkt *p, const struct tunnel_encap *e,
                 uint32_t inner_hash);

/* Recognises and strips the outer headers of 'p', which must be addressed
 * to UDP port 'vxlan_port' or 'geneve_port' (host order; 0: standard).
 * On success returns TUNNEL_OK, fills 'rx' and leaves 'p' holding the inner
 * frame (offsets reset; an offload request whose partial checksum lies in
 * the inner frame, as Linux's vxlan sends them, is kept and moved with it,
 * any other is dropped, and a GSO request without one is malformed);
 * otherwise returns the reason and leaves 'p' unchanged. */
enum tunnel_err tunnel_decap(struct pkt *p, uint16_t vxlan_port,
                             uint16_t geneve_port, struct tunnel_rx *rx);

/* "vxlan" / "geneve". */
const char *tunnel_type_name(enum tunnel_type type);

/* Parses "vxlan" or "geneve"; returns the type or -EINVAL. */
int tunnel_type_from_name(const char *name);

#endif /* overlay/tunnel.h */
