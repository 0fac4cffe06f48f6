/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VFAB_NET_ADDR_H
#define VFAB_NET_ADDR_H 1

/* Text forms of link and network addresses: MACs as aa:bb:cc:dd:ee:ff,
 * IPv4 dotted quads, IPv6 in RFC 5952 form, and CIDR prefixes.  Parsers
 * accept exactly these forms and return 0 or -EINVAL; nothing is written
 * to the output on failure. */

#include <stdbool.h>
#include <stdint.h>

#include "net/wire.h"

#define ETH_ADDR_STRLEN 18       /* "aa:bb:cc:dd:ee:ff" + NUL. */
#define IPV4_STRLEN 16
#define IPV6_STRLEN 46

/* Writes 'a' as "aa:bb:cc:dd:ee:ff" into 'out' (ETH_ADDR_STRLEN bytes);
 * returns 'out'. */
char *eth_addr_format(const struct eth_addr *a, char *out);
int eth_addr_parse(const char *s, struct eth_addr *a);

char *ipv4_format(vf_be32 addr, char *out);
int ipv4_parse(const char *s, vf_be32 *addr);

char *ipv6_format(const uint8_t addr[16], char *out);
int ipv6_parse(const char *s, uint8_t addr[16]);

/* Parses "A.B.C.D/N" (or a bare address, N = 32) into 'addr' and 'plen'.
 * Host bits beyond the prefix are allowed and kept. */
int ipv4_cidr_parse(const char *s, vf_be32 *addr, unsigned int *plen);

/* Parses "X::Y/N" (or a bare address, N = 128). */
int ipv6_cidr_parse(const char *s, uint8_t addr[16], unsigned int *plen);

/* The netmask of an IPv4 prefix of 'plen' bits (0..32), network order. */
static inline vf_be32
ipv4_prefix_mask(unsigned int plen)
{
    return plen == 0 ? 0 : vf_htonl(~0u << (32 - plen));
}

/* Writes the mask of an IPv6 prefix of 'plen' bits (0..128). */
void ipv6_prefix_mask(unsigned int plen, uint8_t mask[16]);

/* True if 'addr' is in 'net'/'plen'. */
bool ipv4_in_prefix(vf_be32 addr, vf_be32 net, unsigned int plen);
bool ipv6_in_prefix(const uint8_t addr[16], const uint8_t net[16],
                    unsigned int plen);

/* True if 'addr' is :: (all zero). */
static inline bool
ipv6_addr_is_zero(const uint8_t addr[16])
{
    uint8_t any = 0;
    for (int i = 0; i < 16; i++) {
        any |= addr[i];
    }
    return !any;
}

#endif /* net/addr.h */
