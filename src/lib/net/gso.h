/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VFAB_NET_GSO_H
#define VFAB_NET_GSO_H 1

/* Software segmentation and checksum completion (the software half of the
 * offload negotiation in port/port.h).
 *
 * A frame may carry an offload request (pkt.h struct pkt_offload, set from
 * a virtio-net header on receive): "this 64 KiB TCP frame is to be cut into
 * segments of gso_size payload bytes" and/or "the L4 checksum is partial:
 * sum from csum_start to the end, store at csum_start + csum_offset".  A
 * port that can take such frames (TAP, AF_PACKET with vnet headers, patch)
 * passes them on whole; for any other the datapath calls these functions
 * (through port_tx_prepare()).
 *
 * Segmentation follows what the kernel's tcp_gso_segment() and
 * __udp_gso_segment() produce, so a receiver cannot tell the difference:
 *   - IPv4: total length per segment, identification incremented per
 *     segment (id, id+1, ...), header checksum recomputed;
 *   - IPv6: payload length per segment (extension headers kept);
 *   - TCP: sequence number advanced by gso_size per segment; FIN and PSH
 *     only on the last segment, CWR only on the first (RFC 3168 6.1.2);
 *   - UDP (USO, one datagram per segment): length per segment;
 *   - L4 checksums complete, or partial (pseudo-header sum in the field,
 *     csum_start/csum_offset set) when the output takes partial checksums.
 *
 * Safety: every offset used is checked against the frame: the headers are
 * walked from the Ethernet header (up to two VLAN tags, IPv4 options,
 * IPv6 hop-by-hop/routing/destination options), must agree with the
 * request (IP version with gso_type, csum_start with the L4 header), and a
 * frame that does not is refused with -EINVAL, unchanged.  Nothing reads
 * or writes outside [0, size).
 *
 * Cost: one copy of the frame plus one checksum pass (none when left
 * partial).  Measured by the port-wire integration tool (bench/RESULTS.md,
 * "Ports"). */

#include <stdbool.h>
#include <stdint.h>

#include "pkt/pkt-pool.h"

/* Most segments one frame may produce (64 KiB of payload at the smallest
 * TCP MSS Linux sends, net.ipv4.tcp_min_snd_mss = 48, needs 1366).  A
 * frame that would produce more is refused. */
#define GSO_MAX_SEGS 1536u

/* gso_segment() flags. */
#define GSO_F_PARTIAL_CSUM 0x1u  /* Leave L4 checksums partial. */

/* Number of segments the GSO frame 'p' would be cut into, or 0 if 'p' is
 * not a well-formed GSO frame (see gso_segment()).  Any thread. */
uint32_t gso_n_segs(const struct pkt *p);

/* Cuts the GSO frame 'p' (borrowed, unchanged) into segments in new MTU
 * buffers from the pool of 'p', charged to the owner of 'p', through
 * 'cache' (NULL on the control thread).  Segments keep the metadata of
 * 'p' (in_port, RSS hash, layer offsets, tunnel fields, mark) except the
 * offload request, which becomes a partial-checksum request if 'flags'
 * has GSO_F_PARTIAL_CSUM and nothing otherwise.
 *
 * Returns the number of segments stored in 'segs' (all-or-nothing), or
 *   -EINVAL   'p' is not a well-formed GSO frame (no request, headers that
 *             disagree with it, a fragment, a segment that would not fit
 *             an MTU buffer, more than GSO_MAX_SEGS segments);
 *   -E2BIG    'max_segs' is smaller than gso_n_segs(p);
 *   -EDQUOT   the owner's quota does not allow the segments;
 *   -ENOBUFS  the pool has too few MTU buffers. */
int gso_segment(struct pkt_cache *cache, const struct pkt *p, uint32_t flags,
                struct pkt **segs, uint32_t max_segs);

/* How gso_segment() cuts a GSO frame (filled by gso_plan()). */
struct gso_plan {
    uint32_t n_segs;             /* Segments. */
    uint32_t hdr_len;            /* Header bytes at the front of each. */
    uint32_t seg_size;           /* Bytes of every segment but the last
                                  * (hdr_len + gso_size). */
    uint32_t last_size;          /* Bytes of the last segment. */
    uint32_t l3_ofs, l4_ofs, l3_hdr_len;   /* The layout, for */
    bool ipv6;                             /* gso_write_segs(). */
    uint8_t l4_proto;
};

/* Checks the GSO frame 'p' as gso_segment() does and fills 'plan'.
 * Returns 0, or -EINVAL (the frame is not a well-formed GSO frame).  Any
 * thread. */
int gso_plan(const struct pkt *p, struct gso_plan *plan);

/* Writes segments 'first' .. 'first' + 'n' - 1 of 'p' (borrowed,
 * unchanged), exactly as gso_segment() without flags builds them (complete
 * checksums), into one caller buffer: segment i at 'buf' + (i - 'first') *
 * 'stride'.  'plan' must come from gso_plan(p); 'first' + 'n' <=
 * plan->n_segs and 'stride' >= plan->seg_size (the caller owns the gaps
 * between segments: overlay/tunnel-gso.c puts tunnel headers there).
 * 'buf' must have room for (n - 1) * stride + the size of the last
 * segment written.  Any thread. */
void gso_write_segs(const struct pkt *p, const struct gso_plan *plan,
                    uint32_t first, uint32_t n, uint8_t *buf,
                    uint32_t stride);

/* Completes the partial checksum of 'p' in place (RFC 1071 sum from
 * csum_start to the end of the frame, stored at csum_start + csum_offset;
 * 0 is sent as 0xffff, as Linux's skb_checksum_help() does), then clears
 * needs_csum and sets csum_valid.  A frame without a partial checksum is
 * left alone.  Returns 0, or -EINVAL (unchanged) if the checksum fields
 * point outside the frame.  Does not segment: call it on frames without
 * gso_type, or on segments. */
int gso_complete_csum(struct pkt *p);

/* Builds the offload request of a frame that came from a device without
 * its virtio-net header (AF_PACKET on a kernel without PACKET_VNET_HDR on
 * rings), from what the kernel still says: 'csum_partial' (the ring's
 * TP_STATUS_CSUMNOTREADY) and the frame's size against 'mtu'.  A partial
 * TCP/UDP checksum becomes needs_csum; a TCP frame longer than 'mtu'
 * becomes a GSO request with the MSS that fits 'mtu' (TCP is a byte
 * stream, so re-cutting it is safe).  A UDP frame longer than 'mtu' cannot
 * be re-cut without merging datagrams: -EINVAL.  Returns 0 (request set in
 * 'p', or none needed) or -EINVAL (drop). */
int gso_infer_offload(struct pkt *p, uint32_t mtu, bool csum_partial);

#endif /* net/gso.h */
