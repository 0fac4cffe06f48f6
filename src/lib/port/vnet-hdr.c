/* SPDX-License-Identifier: Apache-2.0 */
/* virtio-net header translation.  Contract, mapping and validation rules:
 * vnet-hdr.h.  The header's 16-bit fields are little-endian (legacy
 * virtio on a little-endian host; TUNSETVNETLE/BE are never used). */
#include "port/vnet-hdr.h"

#include <endian.h>
#include <errno.h>
#include <string.h>

#define ETH_LEN 14u
#define TCP_MIN_LEN 20u
#define UDP_LEN 8u
#define TCP_CSUM_OFS 16u
#define UDP_CSUM_OFS 6u
#define TCP_CWR 0x80u

static const char *const error_names[VNET_HDR_N_ERRORS] = {
    "ok", "bad_flags", "bad_gso_type", "bad_csum", "bad_gso",
};

const char *
vnet_hdr_error_name(enum vnet_hdr_error error)
{
    return (unsigned) error < VNET_HDR_N_ERRORS ? error_names[error]
                                                : "unknown";
}

static int
refuse(enum vnet_hdr_error error, enum vnet_hdr_error *why)
{
    if (why) {
        *why = error;
    }
    return -EINVAL;
}

int
vnet_hdr_decode(const struct virtio_net_hdr *vh, uint32_t frame_size,
                struct pkt_offload *off, enum vnet_hdr_error *why)
{
    const uint8_t known = VIRTIO_NET_HDR_F_NEEDS_CSUM
                          | VIRTIO_NET_HDR_F_DATA_VALID;
    uint8_t flags = vh->flags;
    bool needs_csum = flags & VIRTIO_NET_HDR_F_NEEDS_CSUM;
    if ((flags & ~known)
        || (needs_csum && flags & VIRTIO_NET_HDR_F_DATA_VALID)) {
        return refuse(VNET_HDR_BAD_FLAGS, why);
    }

    uint8_t gso = vh->gso_type & (uint8_t) ~VIRTIO_NET_HDR_GSO_ECN;
    bool ecn = vh->gso_type & VIRTIO_NET_HDR_GSO_ECN;
    uint8_t type;
    switch (gso) {
    case VIRTIO_NET_HDR_GSO_NONE:
        type = PKT_GSO_NONE;
        break;
    case VIRTIO_NET_HDR_GSO_TCPV4:
        type = PKT_GSO_TCPV4;
        break;
    case VIRTIO_NET_HDR_GSO_TCPV6:
        type = PKT_GSO_TCPV6;
        break;
    case VIRTIO_NET_HDR_GSO_UDP_L4:
        type = PKT_GSO_UDP;
        break;
    default:
        return refuse(VNET_HDR_BAD_GSO_TYPE, why);
    }
    bool tcp = type == PKT_GSO_TCPV4 || type == PKT_GSO_TCPV6;
    if (ecn && !tcp) {
        return refuse(VNET_HDR_BAD_GSO_TYPE, why);
    }

    uint32_t start = le16toh(vh->csum_start);
    uint32_t ofs = le16toh(vh->csum_offset);
    uint32_t gso_size = le16toh(vh->gso_size);
    if (needs_csum
        && (start < ETH_LEN || start >= frame_size
            || ofs + 2 > frame_size - start)) {
        return refuse(VNET_HDR_BAD_CSUM, why);
    }
    if (type == PKT_GSO_NONE) {
        if (gso_size) {
            return refuse(VNET_HDR_BAD_GSO, why);
        }
    } else {
        bool valid = flags & VIRTIO_NET_HDR_F_DATA_VALID;
        if ((!needs_csum && !valid) || !gso_size) {
            return refuse(VNET_HDR_BAD_GSO, why);
        }
        if (needs_csum && ofs != (tcp ? TCP_CSUM_OFS : UDP_CSUM_OFS)) {
            return refuse(VNET_HDR_BAD_CSUM, why);
        }
        if (needs_csum && (tcp ? TCP_MIN_LEN : UDP_LEN) > frame_size - start) {
            return refuse(VNET_HDR_BAD_GSO, why);
        }
    }

    memset(off, 0, sizeof *off);
    if (needs_csum) {
        off->needs_csum = 1;
        off->csum_start = (uint16_t) start;
        off->csum_offset = (uint16_t) ofs;
    }
    off->csum_valid = (flags & VIRTIO_NET_HDR_F_DATA_VALID) != 0;
    off->gso_type = type;
    off->gso_size = type == PKT_GSO_NONE ? 0 : (uint16_t) gso_size;
    if (why) {
        *why = VNET_HDR_OK;
    }
    return 0;
}

int
vnet_hdr_to_pkt(const struct virtio_net_hdr *vh, struct pkt *p,
                enum vnet_hdr_error *why)
{
    if (VF_LIKELY(!vh->flags && vh->gso_type == VIRTIO_NET_HDR_GSO_NONE
                  && !vh->gso_size)) {
        p->flags &= (uint8_t) ~PKT_F_OFFLOAD;
        if (why) {
            *why = VNET_HDR_OK;
        }
        return 0;
    }
    int err = vnet_hdr_decode(vh, p->size, &p->offload, why);
    if (err) {
        p->flags &= (uint8_t) ~PKT_F_OFFLOAD;
        memset(&p->offload, 0, sizeof p->offload);
        return err;
    }
    p->flags |= PKT_F_OFFLOAD;
    return 0;
}

/* End of the L4 header of 'p' for hdr_len: from the TCP data offset when
 * it lies inside the frame, else the end of the checksum field. */
static uint16_t
l4_end(const struct pkt *p, bool tcp)
{
    const struct pkt_offload *o = &p->offload;
    uint32_t start = o->csum_start;
    uint32_t end = start + o->csum_offset + 2u;
    if (tcp && start + 13 <= p->size) {
        uint32_t doff = (pkt_data(p)[start + 12] >> 4) * 4u;
        if (start + doff <= p->size && doff >= TCP_MIN_LEN) {
            end = start + doff;
        }
    } else if (!tcp) {
        end = start + UDP_LEN;
    }
    return (uint16_t) VF_MIN(end, p->size);
}

void
vnet_hdr_from_pkt(const struct pkt *p, struct virtio_net_hdr *vh)
{
    memset(vh, 0, sizeof *vh);
    if (VF_LIKELY(!(p->flags & PKT_F_OFFLOAD))) {
        return;
    }
    const struct pkt_offload *o = &p->offload;
    if (o->needs_csum) {
        vh->flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
        vh->csum_start = htole16(o->csum_start);
        vh->csum_offset = htole16(o->csum_offset);
    } else if (o->csum_valid) {
        vh->flags = VIRTIO_NET_HDR_F_DATA_VALID;
    }
    bool tcp = true;
    switch (o->gso_type) {
    case PKT_GSO_TCPV4:
        vh->gso_type = VIRTIO_NET_HDR_GSO_TCPV4;
        break;
    case PKT_GSO_TCPV6:
        vh->gso_type = VIRTIO_NET_HDR_GSO_TCPV6;
        break;
    case PKT_GSO_UDP:
        vh->gso_type = VIRTIO_NET_HDR_GSO_UDP_L4;
        tcp = false;
        break;
    default:
        return;
    }
    vh->gso_size = htole16(o->gso_size);
    if (o->needs_csum) {
        vh->hdr_len = htole16(l4_end(p, tcp));
        if (tcp && o->csum_start + 13u < p->size
            && pkt_data(p)[o->csum_start + 13] & TCP_CWR) {
            vh->gso_type |= VIRTIO_NET_HDR_GSO_ECN;
        }
    }
}
