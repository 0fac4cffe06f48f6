/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VFAB_OVERLAY_REPLY_H
#define VFAB_OVERLAY_REPLY_H 1

/* Frames the fabric agent writes itself: ARP requests and replies
 * (RFC 826), neighbor advertisements (RFC 4861 4.4), ICMP "fragmentation
 * needed" (RFC 792, RFC 1191) and ICMPv6 "packet too big" (RFC 4443 3.2),
 * ICMP echo replies for the VTEP address.  Each builder fills 'out' (a
 * fresh buffer with its frame empty) and returns 0, or -EINVAL if the input
 * frame is not what the builder answers.  Control path (agent thread). */

#include <stdbool.h>
#include <stdint.h>

#include "net/flow-key.h"
#include "pkt/pkt.h"

/* ARP request "who has 'tpa'? tell 'spa'" from 'sha', broadcast. */
void reply_arp_request(struct pkt *out, const struct eth_addr *sha,
                       vf_be32 spa, vf_be32 tpa);

/* ARP reply to the request whose key is 'req': 'mac' has the address the
 * request asked for. */
int reply_arp(struct pkt *out, const struct flow_key *req,
              const struct eth_addr *mac);

/* Neighbor advertisement answering the solicitation whose key is 'ns',
 * for target 'mac' (solicited, override; the router flag set if 'router':
 * the distributed router answering for a gateway, RFC 4861 4.4). */
int reply_nd_na(struct pkt *out, const struct flow_key *ns,
                const struct eth_addr *mac, bool router);

/* ICMP(v6) error telling the sender of 'frame' ('size' bytes, key 'key')
 * that at most 'mtu' bytes of IP fit.  Sent as if from the destination
 * (its MAC and IP as source), quoting as much of the frame as fits. */
int reply_too_big(struct pkt *out, const struct flow_key *key,
                  const uint8_t *frame, uint32_t size, uint32_t l3_ofs,
                  uint32_t mtu);

/* ICMP "time exceeded in transit" (IPv4 type 11 / ICMPv6 type 3, code
 * 0) to the sender of 'frame', as reply_too_big() builds its error (the
 * error's source: key->dl_dst and the destination IP; callers rewrite
 * them to the router's).  -EINVAL, nothing built, if 'frame' is itself an
 * ICMP error or a non-first fragment (no error about those). */
int reply_time_exceeded(struct pkt *out, const struct flow_key *key,
                        const uint8_t *frame, uint32_t size,
                        uint32_t l3_ofs);

/* ICMP echo reply to the echo request 'frame' (IPv4, key 'key'). */
int reply_echo(struct pkt *out, const struct flow_key *key,
               const uint8_t *frame, uint32_t size, uint32_t l3_ofs);

#endif /* overlay/reply.h */
