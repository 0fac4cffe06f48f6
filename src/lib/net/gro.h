/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VFAB_NET_GRO_H
#define VFAB_NET_GRO_H 1

/* Software receive coalescing (GRO) of TCP segments: the inverse of
 * net/gso.h.
 *
 * Frames about to be sent to a port that takes TSO frames (a VM's TAP)
 * often arrive as MTU-sized TCP segments: decapsulated from a tunnel, or
 * from an uplink.  Writing each one costs a system call and a trip
 * through the VM's TCP stack; merging consecutive segments of one flow
 * into one GSO super-frame costs one copy of their payloads and saves
 * both (the kernel's GRO does the same for a NIC's frames).
 *
 * gro_coalesce() takes a burst of frames for one port and returns a
 * burst in which runs of mergeable segments became single frames.  A
 * merged frame is exactly what, cut again by gso_segment(), gives back
 * the segments it was built from, bit for bit; so a run is merged only if
 * its segments:
 *
 *   - are IPv4 without options, not fragments, or IPv6 without extension
 *     headers, carrying TCP, exactly as long as their IP header says
 *     (no Ethernet padding), not GSO frames themselves;
 *   - share every header byte (Ethernet, IP, TCP: ports, ack, window,
 *     options, urgent pointer) but the IP lengths, IPv4 ids and header
 *     checksum, TCP sequence number and checksum, and PSH;
 *   - follow each other: sequence numbers contiguous, IPv4 ids counting
 *     up by one;
 *   - carry TCP flags ACK (and ECE) only, PSH allowed on the last one;
 *     each the same payload size (the merged frame's gso_size) but the
 *     last, which may be shorter;
 *   - have correct checksums: a segment whose buffer says its checksum
 *     can be trusted (a partial checksum or csum_valid, see pkt.h: it
 *     never left this host, or a device verified a checksum covering it)
 *     is taken as is; any other is verified in software (RFC 1071 over
 *     the segment) first, and one that fails is passed on unmerged, for
 *     the receiver to drop.
 *
 * A merged frame is a GSO request (gso_type TCPV4/TCPV6, gso_size = the
 * first segment's payload, partial TCP checksum: whoever receives it
 * trusts it as the kernel trusts a CHECKSUM_PARTIAL skb), in a GSO buffer
 * of the pool and owner of its first segment, with that segment's
 * metadata.  Everything else in the burst passes through unchanged.
 *
 * Order: frames of one TCP flow (addresses and ports) leave in the order
 * they came; frames of different flows may be reordered (a merged frame
 * takes the place of its first segment).  Up to GRO_MAX_FLOWS flows are
 * coalesced at once; a segment of one more closes the least recently
 * extended.
 *
 * Cost: header parsing per frame, a copy of each merged payload, and the
 * checksum pass for untrusted segments.  No syscalls, no locks. */

#include <stdint.h>

#include "pkt/pkt-pool.h"

#define GRO_MAX_FLOWS 8u         /* Flows coalesced at once (as Linux's
                                  * GRO_HASH_BUCKETS). */
#define GRO_MAX_SEGS 64u         /* Segments per merged frame (Linux:
                                  * gro_max_size 64 KiB, ~45 segments). */

struct gro_stats {
    uint64_t frames_in;          /* Frames given to gro_coalesce(). */
    uint64_t frames_out;         /* Frames it returned. */
    uint64_t merged;             /* Merged (GSO) frames built. */
    uint64_t merged_segs;        /* Segments that went into them. */
    uint64_t csum_verified;      /* Checksums verified in software... */
    uint64_t csum_bad;           /* ...and found wrong. */
    uint64_t no_buffer;          /* Merges given up: no GSO buffer. */
};

/* How a run of segments merges (gro_check_run()). */
struct gro_run_info {
    bool v6;                     /* IPv6 (else IPv4). */
    bool psh;                    /* The last segment has PSH. */
    uint16_t l4;                 /* TCP header offset. */
    uint16_t hdr_len;            /* Header bytes (end of the TCP header). */
    uint16_t mss;                /* Payload of every segment but the last. */
};

/* Checks that the 'n' frames at 'frames' ('sizes' bytes each, in order)
 * form one run that gro_coalesce() would merge into a single frame: the
 * rules above, 2 <= n <= GRO_MAX_SEGS, the merged frame within 64 KiB,
 * checksums verified in software if 'verify' (else trusted).  Returns 0
 * with 'info' filled, or -EINVAL.  For callers that hold the segments
 * elsewhere than in separate buffers (overlay/tunnel-gro.h).  Any
 * thread. */
int gro_check_run(const uint8_t *const frames[], const uint32_t sizes[],
                  uint32_t n, bool verify, struct gro_run_info *info);

/* Makes 'd' ('size' bytes: the first segment's headers followed by the
 * payloads of a run 'info' describes) the merged frame: IP length and
 * header checksum, PSH, partial TCP checksum; fills 'off' with its GSO
 * request.  Any thread. */
void gro_finish(uint8_t *d, uint32_t size, const struct gro_run_info *info,
                struct pkt_offload *off);

/* Coalesces the 'n' frames of 'pkts' (taken; every frame leaves in
 * 'pkts' again, merged into a new buffer, or freed once merged) as
 * described above, and returns how many frames 'pkts' now holds (<= n).
 * Buffers come from and go back through 'cache' (NULL on the control
 * thread).  Adds to 'stats' (may be NULL).  Never fails: a merge that
 * finds no buffer (quota, pool) leaves its segments unmerged. */
uint32_t gro_coalesce(struct pkt_cache *cache, struct pkt **pkts, uint32_t n,
                      struct gro_stats *stats);

#endif /* net/gro.h */
