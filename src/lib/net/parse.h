/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VFAB_NET_PARSE_H
#define VFAB_NET_PARSE_H 1

/* Frame parser: bytes -> flow key (DESIGN.md data path, step 2).
 *
 * flow_parse() reads Ethernet, up to two VLAN tags (802.1Q, 802.1ad), ARP,
 * IPv4 (options, fragments), IPv6 (hop-by-hop, routing, fragment,
 * destination options and AH extension headers), ICMP, ICMPv6 with neighbor
 * discovery, TCP, UDP, SCTP, and recognises VXLAN (UDP 4789) and Geneve
 * (UDP 6081).  The frame inside a tunnel is parsed by a second call,
 * flow_parse_inner(), so a switch can decide per port whether to look
 * inside at all.
 *
 * Safety: the parser never reads past 'size'.  When a header is cut short
 * or carries an impossible length or version, parsing stops: the key keeps
 * the fields of the layers before it, 'info->truncated' names the layer
 * that failed and 'info->reason' says why.  Header length fields bound the
 * layers inside them (IPv4 total length, IPv6 payload length), so Ethernet
 * padding is never taken for payload.
 *
 * Cost: one pass, no allocation, no branches on data beyond the headers.
 * Measured by `bench/run parse` (bench/RESULTS.md). */

#include <stdbool.h>
#include <stdint.h>

#include "net/flow-key.h"

struct pkt_batch;

/* Protocol layers, as named in "truncated" and in statistics. */
enum flow_layer {
    FLOW_LAYER_NONE = 0,
    FLOW_LAYER_ETH,
    FLOW_LAYER_VLAN,
    FLOW_LAYER_ARP,
    FLOW_LAYER_IPV4,
    FLOW_LAYER_IPV6,
    FLOW_LAYER_IPV6_EXT,
    FLOW_LAYER_TCP,
    FLOW_LAYER_UDP,
    FLOW_LAYER_SCTP,
    FLOW_LAYER_ICMP,
    FLOW_LAYER_ICMPV6,
    FLOW_LAYER_ND,
    FLOW_LAYER_VXLAN,
    FLOW_LAYER_GENEVE,
    FLOW_N_LAYERS
};

/* Why a layer could not be parsed. */
enum parse_reason {
    PARSE_OK = 0,
    PARSE_SHORT,                 /* The frame ends inside the header. */
    PARSE_BAD_LENGTH,            /* A length field is impossible. */
    PARSE_BAD_VERSION,           /* Wrong IP or Geneve version. */
    PARSE_EXT_LIMIT,             /* Too many IPv6 extension headers. */
    PARSE_BAD_OPTION,            /* Malformed ND or Geneve option. */
    PARSE_N_REASONS
};

enum flow_tunnel {
    FLOW_TUNNEL_NONE = 0,
    FLOW_TUNNEL_VXLAN,
    FLOW_TUNNEL_GENEVE,
};

#define PARSE_MAX_IPV6_EXT 8     /* Extension headers followed at most. */

/* Where things are in a parsed frame.  Offsets are from the frame start;
 * PARSE_OFS_NONE (0xffff) when absent. */
struct flow_parse_info {
    uint16_t l3_ofs;             /* IP or ARP header. */
    uint16_t l4_ofs;             /* TCP/UDP/SCTP/ICMP header. */
    uint16_t l7_ofs;             /* First byte after the L4 header. */
    uint16_t l3_end;             /* End of the IP datagram (no padding). */
    uint8_t truncated;           /* enum flow_layer that failed, or 0. */
    uint8_t reason;              /* enum parse_reason. */
    uint8_t tunnel;              /* enum flow_tunnel. */
    uint8_t n_vlans;             /* Tags parsed (0..2). */
    uint32_t tun_vni;            /* VNI if 'tunnel'. */
    uint16_t tun_ofs;            /* VXLAN/Geneve header. */
    uint16_t inner_ofs;          /* Inner Ethernet, if any. */
    uint16_t geneve_opt_len;     /* Bytes of Geneve options. */
    uint8_t geneve_flags;        /* GENEVE_FLAG_*. */
    uint8_t nd_opts;             /* PARSE_ND_SLL | PARSE_ND_TLL seen. */
    uint32_t layers;             /* Bit (1 << enum flow_layer) for every
                                  * layer parsed whole. */
};
#define PARSE_ND_SLL 0x01
#define PARSE_ND_TLL 0x02

static inline bool
flow_parse_has(const struct flow_parse_info *info, enum flow_layer layer)
{
    return (info->layers >> layer) & 1;
}
#define PARSE_OFS_NONE 0xffffu

/* Per-thread parser counters (summed on read). */
struct parse_stats {
    uint64_t n_frames;
    uint64_t n_truncated;
    uint64_t n_bad[FLOW_N_LAYERS][PARSE_N_REASONS];
};

/* Parses 'size' bytes at 'frame' received on 'in_port' into 'key' (cleared
 * first) and 'info'.  Returns true if every layer present was parsed, false
 * if parsing stopped early (see info->truncated).  Frames longer than
 * 65535 bytes are parsed over their first 65535 bytes.  Any thread. */
bool flow_parse(const void *frame, uint32_t size, uint32_t in_port,
                struct flow_key *key, struct flow_parse_info *info);

/* Parses the frame inside a tunnel that flow_parse() found ('outer',
 * 'outer_info' describe 'frame') into 'inner'; sets inner->tun_id,
 * tun_src and tun_dst from the outer headers and inner->in_port from
 * outer->in_port.  Returns as flow_parse(); returns false with
 * info->truncated = the tunnel's layer if there is no inner frame. */
bool flow_parse_inner(const void *frame, uint32_t size,
                      const struct flow_key *outer,
                      const struct flow_parse_info *outer_info,
                      struct flow_key *inner, struct flow_parse_info *info);

/* Parses every packet of 'batch' into keys[i], records layer offsets in
 * the packets, sets their RSS hash (PKT_F_RSS_VALID) and counts into
 * 'stats'.  Truncated frames stay in the batch (the caller decides, from
 * 'truncated[i]' if not NULL, what to drop). */
void flow_parse_batch(struct pkt_batch *batch, struct flow_key *keys,
                      uint8_t *truncated, struct parse_stats *stats);

/* Records a failure of 'info' in 'stats'. */
void parse_stats_count(struct parse_stats *stats,
                       const struct flow_parse_info *info);

/* Returns the name of 'layer' ("eth", "vlan", "arp", "ipv4", "ipv6",
 * "ipv6_ext", "tcp", "udp", "sctp", "icmp", "icmpv6", "nd", "vxlan",
 * "geneve"), or "none". */
const char *flow_layer_name(enum flow_layer layer);

/* Returns the name of 'reason' ("short", "bad_length", ...). */
const char *parse_reason_name(enum parse_reason reason);

/* RSS hash over the key's 5-tuple (IP), addresses and Ethertype (other
 * frames).  The symmetric variant gives both directions of a connection the
 * same hash (for per-connection state and bond member choice). */
uint32_t flow_rss_hash(const struct flow_key *key, uint32_t basis);
uint32_t flow_rss_hash_symmetric(const struct flow_key *key, uint32_t basis);

#endif /* net/parse.h */
