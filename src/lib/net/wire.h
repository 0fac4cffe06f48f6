/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VFAB_NET_WIRE_H
#define VFAB_NET_WIRE_H 1

/* Wire formats of the protocols vfab parses and writes (STYLE.md P14).
 *
 * Fixed-width fields in network byte order, packed, no bit-fields: sub-byte
 * fields are read through the inline accessors below.  Structures are only
 * ever read through pointers that the parser has bounds-checked for
 * sizeof(struct); packed keeps the compiler from assuming alignment (an IPv4
 * header follows a 14-byte Ethernet header at offset 14). */

#include <stdbool.h>
#include <stdint.h>

#include "util/byteorder.h"
#include "util/compiler.h"

/* ---- Ethernet (IEEE 802.3, Ethernet II) ---- */
#define ETH_ADDR_LEN 6
#define ETH_HDR_LEN 14
#define ETH_MIN_FRAME 60         /* Without FCS. */

struct eth_addr {
    uint8_t ea[ETH_ADDR_LEN];
};

struct eth_hdr {
    struct eth_addr dst;
    struct eth_addr src;
    vf_be16 type;
} VF_PACKED;
VF_BUILD_ASSERT(sizeof(struct eth_hdr) == ETH_HDR_LEN);

#define ETH_TYPE_IPV4 0x0800
#define ETH_TYPE_ARP 0x0806
#define ETH_TYPE_VLAN 0x8100     /* IEEE 802.1Q C-tag. */
#define ETH_TYPE_QINQ 0x88a8     /* IEEE 802.1ad S-tag. */
#define ETH_TYPE_IPV6 0x86dd
#define ETH_TYPE_LACP 0x8809     /* Slow protocols (IEEE 802.3 Annex 57A). */
#define ETH_TYPE_TEB 0x6558      /* Transparent Ethernet bridging. */
#define ETH_TYPE_MIN 0x0600      /* Smaller values are 802.3 lengths. */

static inline bool
eth_addr_is_multicast(const struct eth_addr *a)
{
    return a->ea[0] & 1;
}

static inline bool
eth_addr_is_broadcast(const struct eth_addr *a)
{
    return (a->ea[0] & a->ea[1] & a->ea[2] & a->ea[3] & a->ea[4]
            & a->ea[5]) == 0xff;
}

static inline bool
eth_addr_is_zero(const struct eth_addr *a)
{
    return !(a->ea[0] | a->ea[1] | a->ea[2] | a->ea[3] | a->ea[4]
             | a->ea[5]);
}

static inline bool
eth_addr_equals(const struct eth_addr *a, const struct eth_addr *b)
{
    return vf_get_u32(a->ea) == vf_get_u32(b->ea)
           && vf_get_u16(a->ea + 4) == vf_get_u16(b->ea + 4);
}

/* ---- IEEE 802.1Q / 802.1ad tag (after the addresses) ---- */
#define VLAN_HDR_LEN 4
struct vlan_hdr {
    vf_be16 tci;                 /* PCP(3) DEI(1) VID(12). */
    vf_be16 inner_type;
} VF_PACKED;

#define VLAN_VID_MASK 0x0fff
#define VLAN_PCP_SHIFT 13
#define VLAN_PCP_MASK 0xe000
/* In a flow key, this TCI bit (DEI on the wire) means "a tag is present",
 * as in Open vSwitch; the frame's own DEI bit is not kept. */
#define VLAN_CFI 0x1000

/* ---- ARP (RFC 826), Ethernet/IPv4 only ---- */
struct arp_eth_ipv4 {
    vf_be16 htype;               /* 1 = Ethernet. */
    vf_be16 ptype;               /* 0x0800. */
    uint8_t hlen;                /* 6 */
    uint8_t plen;                /* 4 */
    vf_be16 op;
    struct eth_addr sha;
    vf_be32 spa;
    struct eth_addr tha;
    vf_be32 tpa;
} VF_PACKED;
VF_BUILD_ASSERT(sizeof(struct arp_eth_ipv4) == 28);
#define ARP_OP_REQUEST 1
#define ARP_OP_REPLY 2

/* ---- IPv4 (RFC 791) ---- */
#define IPV4_HDR_LEN 20
struct ipv4_hdr {
    uint8_t ver_ihl;             /* Version(4) IHL(4), in 32-bit words. */
    uint8_t tos;                 /* DSCP(6) ECN(2) (RFC 2474, RFC 3168). */
    vf_be16 tot_len;
    vf_be16 id;
    vf_be16 frag_off;            /* Flags(3) Offset(13), 8-byte units. */
    uint8_t ttl;
    uint8_t proto;
    vf_be16 csum;
    vf_be32 src;
    vf_be32 dst;
} VF_PACKED;
VF_BUILD_ASSERT(sizeof(struct ipv4_hdr) == IPV4_HDR_LEN);

#define IPV4_DF 0x4000
#define IPV4_MF 0x2000
#define IPV4_FRAG_OFF_MASK 0x1fff

static inline unsigned int
ipv4_version(const struct ipv4_hdr *ip)
{
    return ip->ver_ihl >> 4;
}

static inline unsigned int
ipv4_hdr_len(const struct ipv4_hdr *ip)
{
    return (ip->ver_ihl & 0x0f) * 4u;
}

#define IP_PROTO_ICMP 1
#define IP_PROTO_TCP 6
#define IP_PROTO_UDP 17
#define IP_PROTO_IPV6_HOPOPTS 0
#define IP_PROTO_IPV6_ROUTING 43
#define IP_PROTO_IPV6_FRAGMENT 44
#define IP_PROTO_ESP 50
#define IP_PROTO_AH 51
#define IP_PROTO_ICMPV6 58
#define IP_PROTO_IPV6_NONE 59
#define IP_PROTO_IPV6_DSTOPTS 60
#define IP_PROTO_SCTP 132

/* ---- IPv6 (RFC 8200) ---- */
#define IPV6_HDR_LEN 40
struct ipv6_hdr {
    vf_be32 ver_tc_flow;         /* Version(4) TC(8) Flow label(20). */
    vf_be16 payload_len;
    uint8_t next_hdr;
    uint8_t hop_limit;
    uint8_t src[16];
    uint8_t dst[16];
} VF_PACKED;
VF_BUILD_ASSERT(sizeof(struct ipv6_hdr) == IPV6_HDR_LEN);

#define IPV6_LABEL_MASK 0x000fffffu

/* Generic extension header: hop-by-hop, routing, destination options. */
struct ipv6_ext_hdr {
    uint8_t next_hdr;
    uint8_t len;                 /* 8-octet units, not counting the first. */
} VF_PACKED;

struct ipv6_frag_hdr {
    uint8_t next_hdr;
    uint8_t reserved;
    vf_be16 off_flags;           /* Offset(13) Res(2) M(1). */
    vf_be32 id;
} VF_PACKED;
VF_BUILD_ASSERT(sizeof(struct ipv6_frag_hdr) == 8);
#define IPV6_FRAG_OFF_MASK 0xfff8
#define IPV6_FRAG_MORE 0x0001

/* ---- TCP (RFC 9293), UDP (RFC 768), SCTP (RFC 9260) ---- */
struct tcp_hdr {
    vf_be16 src;
    vf_be16 dst;
    vf_be32 seq;
    vf_be32 ack;
    vf_be16 off_flags;           /* Data offset(4) Res(3) Flags(9). */
    vf_be16 window;
    vf_be16 csum;
    vf_be16 urg;
} VF_PACKED;
VF_BUILD_ASSERT(sizeof(struct tcp_hdr) == 20);
#define TCP_FLAGS_MASK 0x0fff    /* As Open vSwitch's tcp_flags: 12 bits. */

static inline unsigned int
tcp_hdr_len(const struct tcp_hdr *tcp)
{
    return (vf_ntohs(tcp->off_flags) >> 12) * 4u;
}

struct udp_hdr {
    vf_be16 src;
    vf_be16 dst;
    vf_be16 len;
    vf_be16 csum;
} VF_PACKED;
VF_BUILD_ASSERT(sizeof(struct udp_hdr) == 8);

struct sctp_hdr {
    vf_be16 src;
    vf_be16 dst;
    vf_be32 vtag;
    vf_be32 csum;
} VF_PACKED;
VF_BUILD_ASSERT(sizeof(struct sctp_hdr) == 12);

/* ---- ICMP (RFC 792) and ICMPv6 (RFC 4443, ND RFC 4861) ---- */
struct icmp_hdr {
    uint8_t type;
    uint8_t code;
    vf_be16 csum;
    vf_be32 rest;                /* Identifier/sequence, MTU, unused... */
} VF_PACKED;
VF_BUILD_ASSERT(sizeof(struct icmp_hdr) == 8);

#define ICMP_ECHO_REPLY 0
#define ICMP_DEST_UNREACH 3
#define ICMP_FRAG_NEEDED 4       /* Code of ICMP_DEST_UNREACH. */
#define ICMP_ECHO_REQUEST 8

#define ICMPV6_PKT_TOO_BIG 2
#define ICMPV6_ECHO_REQUEST 128
#define ICMPV6_ECHO_REPLY 129
#define ND_ROUTER_SOLICIT 133
#define ND_ROUTER_ADVERT 134
#define ND_NEIGHBOR_SOLICIT 135
#define ND_NEIGHBOR_ADVERT 136

/* Neighbor solicitation/advertisement after the 4-byte ICMPv6 header. */
struct nd_msg {
    vf_be32 flags;               /* R S O in NA; reserved in NS. */
    uint8_t target[16];
} VF_PACKED;
VF_BUILD_ASSERT(sizeof(struct nd_msg) == 20);
#define ND_NA_ROUTER 0x80000000u
#define ND_NA_SOLICITED 0x40000000u
#define ND_NA_OVERRIDE 0x20000000u

struct nd_opt_hdr {
    uint8_t type;
    uint8_t len;                 /* 8-octet units, 0 is invalid. */
} VF_PACKED;
#define ND_OPT_SOURCE_LINKADDR 1
#define ND_OPT_TARGET_LINKADDR 2

#endif /* net/wire.h */
