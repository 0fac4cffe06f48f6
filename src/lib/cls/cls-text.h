/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VFAB_CLS_CLS_TEXT_H
#define VFAB_CLS_CLS_TEXT_H 1

/* Rules as text, in the style of ovs-ofctl (control path only):
 *
 *   table=0,priority=100,in_port=tap1,dl_type=0x0800,nw_dst=10.0.0.0/24,
 *       actions=output:tap2
 *
 * A rule is a list of items separated by commas and/or white space, in any
 * order, ending with "actions=" and the action list, which takes the rest
 * of the text.  Items:
 *   table=N  priority=N (default 32768)  cookie=N  idle_timeout=SECONDS
 *   hard_timeout=SECONDS
 *   ip ipv6 arp tcp udp sctp icmp tcp6 udp6 sctp6 icmp6   (shorthands)
 *   FIELD=VALUE[/MASK]    any field of cls/field.h by name or alias:
 *       in_port, tun_id, tun_src, tun_dst, dl_src, dl_dst, dl_type,
 *       vlan_tci, dl_vlan (vlan_vid), dl_vlan_pcp (vlan_pcp), vlan_tpid,
 *       vlan2_tci, nw_src, nw_dst, nw_proto, nw_tos, ip_dscp, nw_ecn,
 *       nw_ttl, ip_frag, ipv6_src, ipv6_dst, ipv6_label, tp_src, tp_dst,
 *       tcp_flags, icmp_type, icmp_code, arp_op, arp_spa, arp_tpa,
 *       arp_sha, arp_tha, nd_target, nd_sll, nd_tll.
 *     IP fields take prefixes (10.0.0.0/24) or masks (10.0.0.0/255.0.255.0);
 *     integers take decimal or 0x hex values and masks; dl_vlan=0xffff
 *     means "no VLAN tag"; ip_frag takes no|yes|first|later|not_later;
 *     tcp_flags also +syn-ack style; in_port and output take port names,
 *     resolved through the caller's callbacks, or numbers.
 * Prerequisites are checked as in OVS (nw_src needs ip or arp, tp_src needs
 * tcp, udp or sctp, ...).  Actions: cls/action.h and action.c.
 *
 * Errors name the column (1-based) and the offending token:
 *   column 31: 'nw_dst=10.0.0.0/33': prefix length 33 is longer than 32
 *
 * Formatting is canonical (fixed item order, shorthands where they apply,
 * prefixes for contiguous IP masks); parsing the text of a valid rule gives
 * the same rule back. */

#include <stdbool.h>
#include <stdint.h>

#include "cls/cls.h"
#include "cls/field.h"

struct vf_buf;

/* Parses a rule.  'names' may be NULL (port numbers only).  Returns 0, or
 * -EINVAL with a message in '*errp' (caller frees; may be NULL), 'spec'
 * then unspecified.  The action list is checked as cls_add() would, for a
 * classifier of CLS_MAX_N_TABLES tables. */
int cls_text_parse_rule(const char *text,
                        const struct field_port_names *names,
                        struct cls_rule_spec *spec, char **errp);

/* Parses a match alone ("ip,nw_dst=10.0.0.0/8"; "" matches everything).
 * Same errors. */
int cls_text_parse_match(const char *text,
                         const struct field_port_names *names,
                         struct cls_match *match, char **errp);

/* Parses the selection of a dump or deletion ("del-flows BR [MATCH]"): a
 * match plus optional table=N and cookie=VALUE[/MASK], and priority=N
 * when 'strict' (required then, default 32768 as in OVS).  Same errors. */
int cls_text_parse_filter(const char *text,
                          const struct field_port_names *names, bool strict,
                          struct cls_filter *filter, char **errp);

/* Appends the text of 'match' (may be empty for a catch-all). */
void cls_text_format_match(const struct cls_match *match,
                           const struct field_port_names *names,
                           struct vf_buf *out);

/* Appends the text of an action list ("drop" when empty). */
void cls_text_format_actions(const struct action *actions, size_t n,
                             const struct field_port_names *names,
                             struct vf_buf *out);

/* Appends the text of 'spec' as cls_text_parse_rule() reads it. */
void cls_text_format_spec(const struct cls_rule_spec *spec,
                          const struct field_port_names *names,
                          struct vf_buf *out);

/* Appends the text of 'rule'; with 'stats', in the style of ovs-ofctl
 * dump-flows: duration, n_packets, n_bytes and idle_age (at 'now', ns)
 * first, then the rule. */
void cls_text_format_rule(const struct cls_rule *rule,
                          const struct field_port_names *names, bool stats,
                          int64_t now, struct vf_buf *out);

#endif /* cls/cls-text.h */
