/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VFAB_OVERLAY_TUNNEL_GSO_H
#define VFAB_OVERLAY_TUNNEL_GSO_H 1

/* Encapsulation of whole GSO super-frames as UDP GSO (USO) frames.
 *
 * A VM's TAP hands the datapath 64 KiB TCP super-frames.  The simple way
 * to send one over a VXLAN/Geneve tunnel is to cut it into MTU segments
 * (net/gso.h) and encapsulate each (tunnel.h): ~45 frames, ~45 buffers,
 * ~45 trips through the uplink's send path and the kernel's, each paying
 * the per-packet costs there.  This module instead builds one outer
 * frame whose UDP payload is the concatenation of those ~45 datagram
 * payloads:
 *
 *   | eth | ip | udp | tun | seg 0 | tun | seg 1 | ... | tun | seg n-1 |
 *                    <---- unit ---->
 *
 * where "seg i" is exactly segment i of gso_segment() (complete inner
 * checksums, IPv4 id + i, TCP sequence and flags per segment) and "tun"
 * the same VXLAN or Geneve header tunnel_encap() writes.  Every unit but
 * the last has the same size, so the frame is a UDP GSO request with
 * gso_size = unit (virtio-net VIRTIO_NET_HDR_GSO_UDP_L4, which AF_PACKET
 * takes since Linux 6.2): whoever segments it (the NIC, the kernel's
 * __udp_gso_segment(), or no one on a veth, where the receiver gets the
 * super-frame whole) produces datagrams that are exactly the simple
 * path's frames, except that the outer UDP checksum is computed instead of
 * zero and the outer IPv4 ids count up from 0 (both allowed by RFC 7348).
 * The kernel's own UDP-tunnel GSO types (VIRTIO_NET_HDR_GSO_UDP_TUNNEL_*,
 * Linux 6.17) are not accepted by AF_PACKET sockets (tried on 6.18:
 * EINVAL), and a receiving AF_PACKET socket could not describe them.
 *
 * Limits.  A frame holds at most TUNNEL_GSO_MAX_UNITS units (the kernel
 * refuses UDP GSO requests of more than UDP_MAX_SEGMENTS datagrams) and
 * at most 65535 bytes of IPv4 datagram; a super-frame whose units do not
 * fit one frame is spread evenly over several.  A frame of one unit is a
 * plain datagram (the kernel refuses a UDP GSO request that would yield
 * one segment), built exactly as tunnel_encap() builds it.
 *
 * All functions are datapath-safe: no syscalls, buffers only from the
 * pool through the caller's cache. */

#include <stdint.h>

#include "overlay/tunnel.h"
#include "pkt/pkt-pool.h"

/* Units (datagrams) per outer UDP GSO frame at most: Linux's
 * UDP_MAX_SEGMENTS was 64 until 6.9 (128 since). */
#define TUNNEL_GSO_MAX_UNITS 64u

/* Encapsulates the GSO frame 'p' (borrowed, unchanged: a TCP or UDP
 * super-frame with a valid offload request, see net/gso.h) towards 'e'
 * with 'inner_hash' for the UDP source port, into outer frames of at most
 * 'max_frame' bytes (the uplink's port_caps max_frame).  The frames come
 * from the pool of 'p' through 'cache' (NULL on the control thread),
 * charged to the owner of 'p', carry its in_port and mark and 'inner_hash'
 * as RSS hash, and are stored in 'out' (room for 'max_out').
 *
 * Returns the number of frames (>= 1; all-or-nothing), or
 *   -EINVAL   'p' is not a well-formed GSO frame (gso_plan());
 *   -E2BIG    'max_frame' cannot hold two units, or 'max_out' is too
 *             small (the caller then uses the simple path);
 *   -EDQUOT / -ENOBUFS  no buffers (quota, pool). */
int tunnel_gso_encap(struct pkt_cache *cache, const struct pkt *p,
                     const struct tunnel_encap *e, uint32_t inner_hash,
                     uint32_t max_frame, struct pkt **out,
                     uint32_t max_out);

#endif /* overlay/tunnel-gso.h */
