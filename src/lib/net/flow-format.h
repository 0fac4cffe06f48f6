/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VFAB_NET_FLOW_FORMAT_H
#define VFAB_NET_FLOW_FORMAT_H 1

/* Flow keys as JSON: the format of `vfabctl decode` and of every place that
 * shows a parsed frame to an operator.
 *
 * Fields use Open vSwitch's names; a field is written only if the frame has
 * it (per 'info->layers'); MACs as "aa:bb:cc:dd:ee:ff", IPs in their usual
 * text form, integers as numbers.  Per protocol:
 *
 *   always         dl_src, dl_dst, dl_type (if an Ethertype), in_port (if
 *                  nonzero), tun_id/tun_src/tun_dst (if set)
 *   VLAN           vlan_tpid, vlan_vid, vlan_pcp; vlan2_vid, vlan2_pcp
 *   IPv4           nw_src, nw_dst, nw_proto, nw_tos (DSCP << 2), nw_ecn,
 *                  nw_ttl, nw_frag ("first" | "later", fragments only)
 *   IPv6           ipv6_src, ipv6_dst, ipv6_label and the nw_* above
 *   ARP            arp_op, arp_spa, arp_tpa, arp_sha, arp_tha
 *   TCP/UDP/SCTP   tp_src, tp_dst; TCP also tcp_flags
 *   ICMP/ICMPv6    icmp_type, icmp_code
 *   ND             nd_target, nd_sll, nd_tll (options present only) */

#include "net/flow-key.h"
#include "net/parse.h"
#include "util/jsonw.h"

/* Writes the fields of 'key' as members of the JSON object that 'w' has
 * open. */
void flow_key_format_json(struct vf_jw *w, const struct flow_key *key,
                          const struct flow_parse_info *info);

#endif /* net/flow-format.h */
