/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VFAB_NET_WIRE_TUNNEL_H
#define VFAB_NET_WIRE_TUNNEL_H 1

/* Overlay headers: VXLAN (RFC 7348) and Geneve (RFC 8926). */

#include <stdint.h>

#include "util/byteorder.h"
#include "util/compiler.h"

#define VXLAN_UDP_PORT 4789      /* IANA, RFC 7348 section 5. */
#define GENEVE_UDP_PORT 6081     /* IANA, RFC 8926 section 3.3. */

/* RFC 7348 section 5: flags(8) reserved(24) VNI(24) reserved(8). */
struct vxlan_hdr {
    vf_be32 flags;               /* 0x08000000: the I flag, VNI valid. */
    vf_be32 vni_res;             /* VNI << 8. */
} VF_PACKED;
VF_BUILD_ASSERT(sizeof(struct vxlan_hdr) == 8);
#define VXLAN_FLAG_I 0x08000000u
#define VXLAN_HDR_LEN 8

static inline uint32_t
vxlan_vni(const struct vxlan_hdr *h)
{
    return vf_ntohl(h->vni_res) >> 8;
}

/* RFC 8926 section 3.4: Ver(2) OptLen(6) O(1) C(1) Rsvd(6) Protocol(16)
 * VNI(24) Reserved(8), then OptLen * 4 bytes of options. */
struct geneve_hdr {
    uint8_t ver_opt_len;
    uint8_t flags;               /* O: 0x80 (control), C: 0x40 (critical). */
    vf_be16 proto;               /* 0x6558: Ethernet. */
    vf_be32 vni_res;
} VF_PACKED;
VF_BUILD_ASSERT(sizeof(struct geneve_hdr) == 8);
#define GENEVE_HDR_LEN 8
#define GENEVE_FLAG_OAM 0x80
#define GENEVE_FLAG_CRITICAL 0x40

static inline unsigned int
geneve_version(const struct geneve_hdr *h)
{
    return h->ver_opt_len >> 6;
}

/* Length of the options in bytes. */
static inline unsigned int
geneve_opt_len(const struct geneve_hdr *h)
{
    return (h->ver_opt_len & 0x3fu) * 4u;
}

static inline uint32_t
geneve_vni(const struct geneve_hdr *h)
{
    return vf_ntohl(h->vni_res) >> 8;
}

/* One option (RFC 8926 section 3.5): class(16) type(8) R(3) len(5), then
 * len * 4 bytes of data.  Type bit 0x80 marks a critical option. */
struct geneve_opt {
    vf_be16 opt_class;
    uint8_t type;
    uint8_t len;                 /* Low 5 bits: data length / 4. */
} VF_PACKED;
VF_BUILD_ASSERT(sizeof(struct geneve_opt) == 4);

/* vfab's option class.  0xff00-0xffff is "experimental" in the IANA Geneve
 * option class registry; vfab uses 0xff56 ("V"). */
#define GENEVE_OPT_CLASS_VFAB 0xff56
#define GENEVE_OPT_VFAB_SRC_GID 0x01 /* 4 bytes: source VNIC global id. */

#endif /* net/wire-tunnel.h */
