/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VFAB_OVERLAY_TUNNEL_GRO_H
#define VFAB_OVERLAY_TUNNEL_GRO_H 1

/* Receive side of tunnel-gso.h: a UDP GSO frame of VXLAN/Geneve
 * datagrams turned back, in place, into one tunnel frame that carries one
 * inner TCP super-frame.
 *
 * A UDP GSO frame reaches the uplink whole when its sender (another vfabd,
 * tunnel_gso_encap()) and the receiver share a veth, or when the kernel
 * coalesced datagrams.  The simple way to read it is to cut it into its
 * datagrams (net/gso.h), decapsulate each, and let GRO (net/gro.h) merge
 * the inner TCP segments again: two copies of the payload, and per
 * datagram a buffer, a parse and a translation lookup.  tunnel_gro_uso()
 * gets the same result with one move of the payload: when every datagram
 * has the same outer headers and the same tunnel header, and their inner
 * frames form one run GRO would merge (gro_check_run()), it slides the
 * inner payloads together behind the first datagram's headers:
 *
 *   before: | outer | tun | hdrs 0 | pay 0 | tun | hdrs 1 | pay 1 | ...
 *   after:  | outer | tun | hdrs 0 | pay 0 | pay 1 | ...
 *
 * and rewrites the lengths: the result is an ordinary tunnel frame whose
 * offload request is the inner super-frame's (partial TCP checksum at the
 * inner TCP header, gso_size = the segments' payload), the form Linux's
 * vxlan device hands an AF_PACKET socket and tunnel_decap() keeps for the
 * inner frame.  Decapsulated, it is bit for bit the frame that cutting,
 * decapsulating and gro_coalesce() would have produced.  Anything else
 * (one odd datagram among them) is refused and left untouched for the
 * simple path.
 *
 * Datapath-safe: no allocation, no syscalls. */

#include <stdbool.h>
#include <stdint.h>

#include "pkt/pkt.h"

/* Converts 'p' (a UDP GSO frame as received: PKT_GSO_UDP request whose
 * gso_size is one datagram's UDP payload) in place as described above.
 * Its datagrams must go to UDP port 'vxlan_port' or 'geneve_port' (host
 * order; 0: standard).  Inner checksums are verified in software if
 * 'verify' (else trusted: the caller knows the outer checksum covered
 * them, dp/dp-accel.h).  Returns 0 (converted; the outer IPv4 and UDP
 * lengths and IPv4 checksum rewritten, the outer UDP checksum zero), or
 * -EINVAL ('p' unchanged). */
int tunnel_gro_uso(struct pkt *p, uint16_t vxlan_port, uint16_t geneve_port,
                   bool verify);

#endif /* overlay/tunnel-gro.h */
