/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VFAB_UTIL_BYTEORDER_H
#define VFAB_UTIL_BYTEORDER_H 1

/* Network byte order types and unaligned access (STYLE.md P14).
 *
 * vf_be16/vf_be32/vf_be64 hold big-endian values.  They are plain integer
 * typedefs so that wire structs stay trivially copyable; the distinct names
 * are the documentation, and conversions go through vf_htons() and friends.
 * Reads of fields that may be unaligned in a frame go through the memcpy
 * helpers below, which compile to single loads on x86-64. */

#include <stdint.h>
#include <string.h>

typedef uint16_t vf_be16;
typedef uint32_t vf_be32;
typedef uint64_t vf_be64;

static inline vf_be16
vf_htons(uint16_t x)
{
    return __builtin_bswap16(x);
}

static inline uint16_t
vf_ntohs(vf_be16 x)
{
    return __builtin_bswap16(x);
}

static inline vf_be32
vf_htonl(uint32_t x)
{
    return __builtin_bswap32(x);
}

static inline uint32_t
vf_ntohl(vf_be32 x)
{
    return __builtin_bswap32(x);
}

static inline vf_be64
vf_htonll(uint64_t x)
{
    return __builtin_bswap64(x);
}

static inline uint64_t
vf_ntohll(vf_be64 x)
{
    return __builtin_bswap64(x);
}

/* Compile-time host-to-network for constants (x86-64 is little-endian). */
#define VF_BE16(x) ((vf_be16) ((((x) & 0xffu) << 8) | (((x) >> 8) & 0xffu)))
#define VF_BE32(x)                                                       \
    ((vf_be32) ((((x) & 0xffu) << 24) | (((x) & 0xff00u) << 8) |         \
                (((x) >> 8) & 0xff00u) | (((x) >> 24) & 0xffu)))

static inline uint16_t
vf_get_u16(const void *p)
{
    uint16_t v;
    memcpy(&v, p, sizeof v);
    return v;
}

static inline uint32_t
vf_get_u32(const void *p)
{
    uint32_t v;
    memcpy(&v, p, sizeof v);
    return v;
}

static inline uint64_t
vf_get_u64(const void *p)
{
    uint64_t v;
    memcpy(&v, p, sizeof v);
    return v;
}

static inline void
vf_put_u16(void *p, uint16_t v)
{
    memcpy(p, &v, sizeof v);
}

static inline void
vf_put_u32(void *p, uint32_t v)
{
    memcpy(p, &v, sizeof v);
}

#endif /* util/byteorder.h */
