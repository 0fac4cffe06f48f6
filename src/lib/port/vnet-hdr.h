/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VFAB_PORT_VNET_HDR_H
#define VFAB_PORT_VNET_HDR_H 1

/* virtio-net headers <-> struct pkt_offload (pkt.h).
 *
 * TAP devices with IFF_VNET_HDR and AF_PACKET sockets with PACKET_VNET_HDR
 * put a struct virtio_net_hdr (virtio 1.x spec 5.1.6, "legacy" 10-byte
 * form, in the host's byte order, which is little-endian on every machine
 * vfab runs on) in front of each frame: checksum offload (NEEDS_CSUM with
 * csum_start/csum_offset, DATA_VALID) and segmentation offload (gso_type,
 * gso_size, hdr_len).  The datapath carries the same information in
 * struct pkt_offload; these functions translate.
 *
 * Mapping of gso_type:
 *   VIRTIO_NET_HDR_GSO_NONE      <-> PKT_GSO_NONE
 *   VIRTIO_NET_HDR_GSO_TCPV4     <-> PKT_GSO_TCPV4   (| GSO_ECN on the wire
 *   VIRTIO_NET_HDR_GSO_TCPV6     <-> PKT_GSO_TCPV6      when CWR is set)
 *   VIRTIO_NET_HDR_GSO_UDP_L4(5) <-> PKT_GSO_UDP     (USO: one datagram per
 *                                                     segment)
 *   VIRTIO_NET_HDR_GSO_UDP (3, UFO: IP fragmentation) is never negotiated
 *   and is refused.
 *
 * Validation on receive (a header is metadata from outside the switch and
 * is never trusted): known flags only, not NEEDS_CSUM and DATA_VALID
 * together; a known gso_type, ECN only with TCP; a partial checksum must
 * start after the Ethernet header and its field must lie inside the frame;
 * a GSO request needs a non-zero gso_size and either a partial checksum of
 * its protocol (TCP field at +16, UDP at +6) with the L4 header inside the
 * frame (what the kernel's stack and GRO produce), or DATA_VALID (what a
 * NIC's hardware LRO produces: verified segments merged, no partial
 * checksum; segmentation then computes every checksum afresh).  A frame
 * whose header fails is dropped by the port and counted in rx_errors.
 * The headers themselves are checked against the request later, where
 * they are used (net/gso.h). */

#include <linux/virtio_net.h>
#include <stdint.h>

#include "pkt/pkt.h"

#ifndef VIRTIO_NET_HDR_GSO_UDP_L4
#define VIRTIO_NET_HDR_GSO_UDP_L4 5   /* Linux 6.2+ header (USO). */
#endif

#define VNET_HDR_SIZE ((uint32_t) sizeof(struct virtio_net_hdr))

/* Why a header was refused. */
enum vnet_hdr_error {
    VNET_HDR_OK = 0,
    VNET_HDR_BAD_FLAGS,          /* Unknown or contradictory flags. */
    VNET_HDR_BAD_GSO_TYPE,       /* Unknown/unsupported gso_type or ECN. */
    VNET_HDR_BAD_CSUM,           /* csum_start/csum_offset out of place. */
    VNET_HDR_BAD_GSO,            /* gso_size, missing csum, short frame. */
    VNET_HDR_N_ERRORS
};

/* Validates 'vh', which came with a frame of 'frame_size' bytes, and
 * translates it into 'off' (all zero if it requests nothing).  Returns 0,
 * or -EINVAL with '*why' (if not NULL) saying why ('off' then undefined).
 * Any thread. */
int vnet_hdr_decode(const struct virtio_net_hdr *vh, uint32_t frame_size,
                    struct pkt_offload *off, enum vnet_hdr_error *why);

/* As vnet_hdr_decode() for the frame in 'p': sets p->offload and
 * PKT_F_OFFLOAD if the header requests anything, clears them otherwise. */
int vnet_hdr_to_pkt(const struct virtio_net_hdr *vh, struct pkt *p,
                    enum vnet_hdr_error *why);

/* Fills 'vh' with the offload request of 'p' (zeros if none): flags,
 * csum_start/offset, gso_type (+ GSO_ECN if the TCP header has CWR),
 * gso_size, and hdr_len (end of the L4 header, read from the frame within
 * its bounds).  Any thread. */
void vnet_hdr_from_pkt(const struct pkt *p, struct virtio_net_hdr *vh);

/* "ok", "bad_flags", "bad_gso_type", "bad_csum", "bad_gso". */
const char *vnet_hdr_error_name(enum vnet_hdr_error error);

#endif /* port/vnet-hdr.h */
