/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VFAB_NET_FLOW_KEY_H
#define VFAB_NET_FLOW_KEY_H 1

/* The flow key: the parsed header fields of one frame (DESIGN.md "flow
 * key"), the unit that the exact-match cache and the classifier match on.
 *
 * Field names are Open vSwitch's, because operators know them.  The key is
 * a flat array of FLOW_KEY_N_WORDS 64-bit words so that masking, hashing
 * and comparing are word loops; a classifier subtable lists the words its
 * mask touches and hashes only those.  Fields a frame does not have are
 * zero (the parser clears the key first), so two frames with equal headers
 * have byte-identical keys.
 *
 * Conventions (as in Open vSwitch):
 *   - Wire-derived fields are in network byte order; metadata (in_port,
 *     tun_id) is in host order.
 *   - vlan_tci has VLAN_CFI set when a tag is present; vlan_tpid is the
 *     outer tag's TPID (0x8100 or 0x88a8), 0 without a tag; vlan2_tci is
 *     the inner tag of a double-tagged frame.
 *   - dl_type is the Ethertype after the tags.
 *   - nw_src/nw_dst hold IPv4 addresses or, for ARP, spa/tpa.
 *   - nw_tos is the whole TOS/traffic-class byte; "nw_tos" as a match or in
 *     output is its DSCP part (nw_tos & 0xfc), "nw_ecn" the low 2 bits.
 *   - For IPv6, nw_proto is the upper-layer protocol after the extension
 *     headers (or the fragment's next header for a later fragment).
 *   - ICMP and ICMPv6 type and code live in tp_src and tp_dst.
 *   - arp_sha/nd_sll and arp_tha/nd_tll share storage.
 *   - tcp_flags holds the low 12 bits of the TCP flags word. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "net/wire.h"
#include "util/compiler.h"

#define FLOW_NW_FRAG_ANY 0x01    /* A fragment (first or later). */
#define FLOW_NW_FRAG_LATER 0x02  /* Not the first fragment. */

struct flow_key {
    /* word 0 */
    uint32_t tun_id;             /* VXLAN/Geneve VNI; 0 if none. */
    vf_be32 tun_src;             /* Outer IPv4 source. */
    /* word 1 */
    vf_be32 tun_dst;             /* Outer IPv4 destination. */
    uint32_t in_port;            /* Port number within the bridge. */
    /* word 2 */
    struct eth_addr dl_dst;
    vf_be16 dl_type;
    /* word 3 */
    struct eth_addr dl_src;
    vf_be16 vlan_tci;            /* Outer tag | VLAN_CFI, or 0. */
    /* word 4 */
    vf_be16 vlan2_tci;           /* Inner tag | VLAN_CFI, or 0. */
    vf_be16 vlan_tpid;           /* Outer tag's TPID, or 0. */
    uint8_t nw_proto;
    uint8_t nw_tos;
    uint8_t nw_ttl;
    uint8_t nw_frag;             /* FLOW_NW_FRAG_*. */
    /* word 5 */
    vf_be32 nw_src;
    vf_be32 nw_dst;
    /* word 6 */
    vf_be16 tp_src;
    vf_be16 tp_dst;
    vf_be32 ipv6_label;          /* Low 20 bits. */
    /* words 7-8, 9-10, 11-12 */
    uint8_t ipv6_src[16];
    uint8_t ipv6_dst[16];
    uint8_t nd_target[16];
    /* word 13 */
    struct eth_addr arp_sha;     /* Also nd_sll. */
    vf_be16 arp_op;
    /* word 14 */
    struct eth_addr arp_tha;     /* Also nd_tll. */
    vf_be16 tcp_flags;
} __attribute__((aligned(8)));

#define FLOW_KEY_N_WORDS 15
VF_BUILD_ASSERT(sizeof(struct flow_key) == FLOW_KEY_N_WORDS * 8);
VF_BUILD_ASSERT(offsetof(struct flow_key, dl_dst) == 16);
VF_BUILD_ASSERT(offsetof(struct flow_key, nw_src) == 40);
VF_BUILD_ASSERT(offsetof(struct flow_key, ipv6_src) == 56);
VF_BUILD_ASSERT(offsetof(struct flow_key, arp_sha) == 104);

#define nd_sll arp_sha
#define nd_tll arp_tha

static inline const uint64_t *
flow_key_words(const struct flow_key *k)
{
    return (const uint64_t *) (const void *) k;
}

static inline uint64_t *
flow_key_words_rw(struct flow_key *k)
{
    return (uint64_t *) (void *) k;
}

static inline bool
flow_key_equal(const struct flow_key *a, const struct flow_key *b)
{
    const uint64_t *wa = flow_key_words(a);
    const uint64_t *wb = flow_key_words(b);
    uint64_t diff = 0;
    for (int i = 0; i < FLOW_KEY_N_WORDS; i++) {
        diff |= wa[i] ^ wb[i];
    }
    return !diff;
}

static inline uint16_t
flow_key_vlan_vid(const struct flow_key *k)
{
    return vf_ntohs(k->vlan_tci) & VLAN_VID_MASK;
}

static inline uint8_t
flow_key_vlan_pcp(const struct flow_key *k)
{
    return (uint8_t) (vf_ntohs(k->vlan_tci) >> VLAN_PCP_SHIFT);
}

static inline bool
flow_key_has_vlan(const struct flow_key *k)
{
    return (k->vlan_tci & VF_BE16(VLAN_CFI)) != 0;
}

static inline bool
flow_key_is_ip(const struct flow_key *k)
{
    return k->dl_type == VF_BE16(ETH_TYPE_IPV4)
           || k->dl_type == VF_BE16(ETH_TYPE_IPV6);
}

#endif /* net/flow-key.h */
