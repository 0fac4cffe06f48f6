/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VFAB_NET_CSUM_H
#define VFAB_NET_CSUM_H 1

/* Internet checksums (RFC 1071) and incremental updates (RFC 1624).
 *
 * csum_partial() accumulates a 32-bit ones'-complement sum that callers
 * chain across discontiguous pieces (pseudo-header, header, payload) and
 * fold once with csum_fold().  Pieces of odd length are allowed only as the
 * last piece of a chain (as in every implementation of RFC 1071).
 * Values are in network byte order as stored in headers. */

#include <stddef.h>
#include <stdint.h>

#include "util/byteorder.h"

/* Adds 'size' bytes at 'data' to the running sum 'sum'. */
uint32_t csum_partial(const void *data, size_t size, uint32_t sum);

/* The same sum (equal once folded), 32 bits at a time: the simple twin of
 * csum_partial(), which tests compare it with (STYLE.md P10). */
uint32_t csum_partial_simple(const void *data, size_t size, uint32_t sum);

/* Folds a running sum into a 16-bit ones'-complement checksum. */
static inline vf_be16
csum_fold(uint32_t sum)
{
    sum = (sum & 0xffff) + (sum >> 16);
    sum = (sum & 0xffff) + (sum >> 16);
    return (vf_be16) ~sum;
}

/* The checksum of 'size' bytes at 'data' (e.g. an IPv4 header with its
 * checksum field zeroed; a correct header sums to 0). */
static inline vf_be16
csum(const void *data, size_t size)
{
    return csum_fold(csum_partial(data, size, 0));
}

/* Running sums of the TCP/UDP pseudo-headers (RFC 9293 3.1, RFC 8200 8.1),
 * in network byte order. */
uint32_t csum_pseudo_ipv4(vf_be32 src, vf_be32 dst, uint8_t proto,
                          uint16_t l4_len);
uint32_t csum_pseudo_ipv6(const uint8_t src[16], const uint8_t dst[16],
                          uint8_t proto, uint32_t l4_len);

/* RFC 1624 eqn. 3: the checksum 'old_csum' after a 16-bit field changed
 * from 'old' to 'new_'. */
vf_be16 csum_update16(vf_be16 old_csum, vf_be16 old, vf_be16 new_);

/* As csum_update16() for a 32-bit field (e.g. an IPv4 address). */
vf_be16 csum_update32(vf_be16 old_csum, vf_be32 old, vf_be32 new_);

/* As csum_update16() for a 128-bit field (an IPv6 address). */
vf_be16 csum_update128(vf_be16 old_csum, const uint8_t old[16],
                       const uint8_t new_[16]);

#endif /* net/csum.h */
