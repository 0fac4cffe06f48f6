/* SPDX-License-Identifier: Apache-2.0 */
/* In-place merge of a UDP GSO frame of tunnel datagrams: theory of
 * operation.
 *
 * What and why: tunnel-gro.h.  Steps, all checks before any write (a
 * refused frame is untouched):
 *
 *   1. outer headers: Ethernet + IPv4 (not a fragment) + UDP to a tunnel
 *      port, lengths those of the whole frame (as the sender's kernel or
 *      tunnel_gso_encap() left them); datagram i's UDP payload at
 *      'pay0' + i * gso_size; 2 .. GRO_MAX_SEGS datagrams;
 *   2. tunnel headers: the first is read (VXLAN: I flag; Geneve: version
 *      0, Ethernet payload, its option length), every other must be the
 *      same bytes, so every datagram has the same VNI and options and the
 *      first one's full validation by tunnel_decap() (done by the caller
 *      on the result) covers them all;
 *   3. inner frames: gro_check_run() (net/gro.h), the very rules of
 *      gro_coalesce(), so the result is what the simple path makes;
 *   4. write: each later payload slides left behind the previous one
 *      (memmove, never overlapping forward), gro_finish() writes the
 *      inner lengths, PSH and partial checksum, the outer lengths and
 *      IPv4 checksum are rewritten and the outer UDP checksum zeroed
 *      (RFC 7348 allows it; nobody reads it once the offload request
 *      moved to the inner frame). */
#include "overlay/tunnel-gro.h"

#include <errno.h>
#include <string.h>

#include "net/csum.h"
#include "net/gro.h"
#include "net/wire-tunnel.h"
#include "net/wire.h"

/* Bytes of the VXLAN (else Geneve) header at 't' (UDP payload of 'left'
 * bytes), or 0 if it is not one this module merges. */
static uint32_t
tunnel_hdr_len(const uint8_t *t, uint32_t left, bool vxlan)
{
    if (left < 8) {
        return 0;
    }
    if (vxlan) {
        const struct vxlan_hdr *vx = (const struct vxlan_hdr *) t;
        return vx->flags & VF_BE32(VXLAN_FLAG_I) ? VXLAN_HDR_LEN : 0;
    }
    const struct geneve_hdr *g = (const struct geneve_hdr *) t;
    uint32_t len = GENEVE_HDR_LEN + geneve_opt_len(g);
    return geneve_version(g) == 0 && g->proto == VF_BE16(ETH_TYPE_TEB)
                   && len <= left
               ? len : 0;
}

int
tunnel_gro_uso(struct pkt *p, uint16_t vxlan_port, uint16_t geneve_port,
               bool verify)
{
    if (!(p->flags & PKT_F_OFFLOAD) || p->offload.gso_type != PKT_GSO_UDP) {
        return -EINVAL;
    }
    uint8_t *d = pkt_data(p);
    uint32_t size = p->size;
    vxlan_port = vxlan_port ? vxlan_port : VXLAN_UDP_PORT;
    geneve_port = geneve_port ? geneve_port : GENEVE_UDP_PORT;
    if (size < 14 + 20 + 8 + 8
        || vf_get_u16(d + 12) != VF_BE16(ETH_TYPE_IPV4)) {
        return -EINVAL;
    }
    struct ipv4_hdr *ip = (struct ipv4_hdr *) (d + 14);
    uint32_t ihl = ipv4_hdr_len(ip);
    if (ipv4_version(ip) != 4 || ihl < 20 || ip->proto != IP_PROTO_UDP
        || (vf_ntohs(ip->frag_off) & (IPV4_MF | IPV4_FRAG_OFF_MASK))
        || vf_ntohs(ip->tot_len) != size - 14 || size < 14 + ihl + 8) {
        return -EINVAL;
    }
    struct udp_hdr *udp = (struct udp_hdr *) (d + 14 + ihl);
    uint16_t dport = vf_ntohs(udp->dst);
    bool vxlan = dport == vxlan_port;
    if ((!vxlan && dport != geneve_port)
        || vf_ntohs(udp->len) != size - 14 - ihl) {
        return -EINVAL;
    }
    uint32_t pay0 = 14 + ihl + 8;
    uint32_t plen = size - pay0;
    uint32_t unit = p->offload.gso_size;
    uint32_t th = tunnel_hdr_len(d + pay0, plen, vxlan);
    if (!th || unit <= th + ETH_HDR_LEN) {
        return -EINVAL;
    }
    uint32_t n = (plen + unit - 1) / unit;
    if (n < 2 || n > GRO_MAX_SEGS) {
        return -EINVAL;
    }
    const uint8_t *frames[GRO_MAX_SEGS];
    uint32_t sizes[GRO_MAX_SEGS];
    for (uint32_t i = 0; i < n; i++) {
        const uint8_t *t = d + pay0 + i * unit;
        uint32_t len = i + 1 < n ? unit : plen - i * unit;
        if (len <= th || memcmp(t, d + pay0, th)) {
            return -EINVAL;
        }
        frames[i] = t + th;
        sizes[i] = len - th;
    }
    struct gro_run_info info;
    if (gro_check_run(frames, sizes, n, verify, &info)) {
        return -EINVAL;
    }
    uint8_t *inner = d + pay0 + th;
    uint8_t *dst = inner + sizes[0];
    for (uint32_t i = 1; i < n; i++) {
        uint32_t len = sizes[i] - info.hdr_len;
        memmove(dst, frames[i] + info.hdr_len, len);
        dst += len;
    }
    uint32_t inner_size = (uint32_t) (dst - inner);
    struct pkt_offload off;
    gro_finish(inner, inner_size, &info, &off);
    p->size = pay0 + th + inner_size;
    ip->tot_len = vf_htons((uint16_t) (p->size - 14));
    ip->csum = 0;
    ip->csum = csum(ip, ihl);
    udp->len = vf_htons((uint16_t) (p->size - 14 - ihl));
    udp->csum = 0;
    off.csum_start = (uint16_t) (off.csum_start + pay0 + th);
    p->offload = off;
    return 0;
}
