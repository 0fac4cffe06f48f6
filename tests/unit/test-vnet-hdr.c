/* SPDX-License-Identifier: Apache-2.0 */
/* Tests of port/vnet-hdr.c: translation both ways and every refusal. */
#include "harness.h"

#include <endian.h>

#include "pkt/pkt-pool.h"
#include "port/vnet-hdr.h"

static struct virtio_net_hdr
hdr(uint8_t flags, uint8_t gso_type, uint16_t gso_size, uint16_t start,
    uint16_t ofs)
{
    struct virtio_net_hdr vh;
    memset(&vh, 0, sizeof vh);
    vh.flags = flags;
    vh.gso_type = gso_type;
    vh.gso_size = htole16(gso_size);
    vh.csum_start = htole16(start);
    vh.csum_offset = htole16(ofs);
    return vh;
}

#define NEEDS VIRTIO_NET_HDR_F_NEEDS_CSUM
#define VALID VIRTIO_NET_HDR_F_DATA_VALID

static void
expect_refused(struct virtio_net_hdr vh, uint32_t size,
               enum vnet_hdr_error why)
{
    struct pkt_offload off;
    enum vnet_hdr_error got = VNET_HDR_OK;
    CHECK_EQ_I(vnet_hdr_decode(&vh, size, &off, &got), -EINVAL);
    CHECK_STR(vnet_hdr_error_name(got), vnet_hdr_error_name(why));
}

static void
test_decode_valid(void)
{
    struct pkt_offload off;
    enum vnet_hdr_error why;

    struct virtio_net_hdr vh = hdr(0, 0, 0, 0, 0);
    CHECK_EQ_I(vnet_hdr_decode(&vh, 60, &off, &why), 0);
    CHECK_EQ_U(why, VNET_HDR_OK);
    CHECK(!off.needs_csum && !off.csum_valid && !off.gso_type);

    vh = hdr(VALID, 0, 0, 0, 0);
    CHECK_EQ_I(vnet_hdr_decode(&vh, 60, &off, NULL), 0);
    CHECK(off.csum_valid && !off.needs_csum);

    vh = hdr(NEEDS, 0, 0, 34, 6);        /* UDP checksum, IPv4. */
    CHECK_EQ_I(vnet_hdr_decode(&vh, 60, &off, NULL), 0);
    CHECK(off.needs_csum);
    CHECK_EQ_U(off.csum_start, 34);
    CHECK_EQ_U(off.csum_offset, 6);
    CHECK_EQ_U(off.gso_type, PKT_GSO_NONE);

    vh = hdr(NEEDS, VIRTIO_NET_HDR_GSO_TCPV4, 1448, 34, 16);
    CHECK_EQ_I(vnet_hdr_decode(&vh, 65000, &off, NULL), 0);
    CHECK_EQ_U(off.gso_type, PKT_GSO_TCPV4);
    CHECK_EQ_U(off.gso_size, 1448);

    vh = hdr(NEEDS, VIRTIO_NET_HDR_GSO_TCPV6 | VIRTIO_NET_HDR_GSO_ECN, 1428,
             54, 16);
    CHECK_EQ_I(vnet_hdr_decode(&vh, 65000, &off, NULL), 0);
    CHECK_EQ_U(off.gso_type, PKT_GSO_TCPV6);

    vh = hdr(NEEDS, VIRTIO_NET_HDR_GSO_UDP_L4, 1200, 34, 6);
    CHECK_EQ_I(vnet_hdr_decode(&vh, 30000, &off, NULL), 0);
    CHECK_EQ_U(off.gso_type, PKT_GSO_UDP);

    /* Hardware LRO: GSO with verified checksums, nothing partial. */
    vh = hdr(VALID, VIRTIO_NET_HDR_GSO_TCPV4, 1448, 0, 0);
    CHECK_EQ_I(vnet_hdr_decode(&vh, 30000, &off, NULL), 0);
    CHECK_EQ_U(off.gso_type, PKT_GSO_TCPV4);
    CHECK(off.csum_valid && !off.needs_csum);

    /* The field may end exactly at the end of the frame. */
    vh = hdr(NEEDS, 0, 0, 40, 18);
    CHECK_EQ_I(vnet_hdr_decode(&vh, 60, &off, NULL), 0);
}

static void
test_decode_refusals(void)
{
    expect_refused(hdr(0x04, 0, 0, 0, 0), 60, VNET_HDR_BAD_FLAGS);
    expect_refused(hdr(0x80, 0, 0, 0, 0), 60, VNET_HDR_BAD_FLAGS);
    expect_refused(hdr(NEEDS | VALID, 0, 0, 34, 6), 60, VNET_HDR_BAD_FLAGS);

    expect_refused(hdr(NEEDS, VIRTIO_NET_HDR_GSO_UDP, 1400, 34, 6), 9000,
                   VNET_HDR_BAD_GSO_TYPE);          /* UFO: never. */
    expect_refused(hdr(NEEDS, 2, 1400, 34, 16), 9000, VNET_HDR_BAD_GSO_TYPE);
    expect_refused(hdr(NEEDS, 6, 1400, 34, 16), 9000, VNET_HDR_BAD_GSO_TYPE);
    expect_refused(hdr(NEEDS, VIRTIO_NET_HDR_GSO_UDP_L4
                              | VIRTIO_NET_HDR_GSO_ECN, 1400, 34, 6), 9000,
                   VNET_HDR_BAD_GSO_TYPE);
    expect_refused(hdr(0, VIRTIO_NET_HDR_GSO_ECN, 0, 0, 0), 60,
                   VNET_HDR_BAD_GSO_TYPE);

    expect_refused(hdr(NEEDS, 0, 0, 13, 6), 60, VNET_HDR_BAD_CSUM);
    expect_refused(hdr(NEEDS, 0, 0, 60, 0), 60, VNET_HDR_BAD_CSUM);
    expect_refused(hdr(NEEDS, 0, 0, 40, 19), 60, VNET_HDR_BAD_CSUM);
    expect_refused(hdr(NEEDS, 0, 0, 34, 0xffff), 60, VNET_HDR_BAD_CSUM);
    expect_refused(hdr(NEEDS, 0, 0, 0xffff, 16), 60, VNET_HDR_BAD_CSUM);

    expect_refused(hdr(0, VIRTIO_NET_HDR_GSO_TCPV4, 1448, 0, 0), 9000,
                   VNET_HDR_BAD_GSO);               /* No partial csum. */
    expect_refused(hdr(NEEDS, VIRTIO_NET_HDR_GSO_TCPV4, 0, 34, 16), 9000,
                   VNET_HDR_BAD_GSO);               /* gso_size 0. */
    expect_refused(hdr(0, 0, 1448, 0, 0), 9000, VNET_HDR_BAD_GSO);
    expect_refused(hdr(NEEDS, VIRTIO_NET_HDR_GSO_TCPV4, 1448, 34, 6), 9000,
                   VNET_HDR_BAD_CSUM);              /* Not TCP's field. */
    expect_refused(hdr(NEEDS, VIRTIO_NET_HDR_GSO_UDP_L4, 1448, 34, 16), 9000,
                   VNET_HDR_BAD_CSUM);
    expect_refused(hdr(NEEDS, VIRTIO_NET_HDR_GSO_TCPV4, 1448, 34, 16), 53,
                   VNET_HDR_BAD_GSO);               /* TCP header cut. */
    CHECK_STR(vnet_hdr_error_name(VNET_HDR_N_ERRORS), "unknown");
}

/* Every header value from a seeded generator either decodes to an
 * in-bounds request or is refused; nothing else. */
static void
test_decode_fuzz(void)
{
    uint64_t x = 0x9e3779b97f4a7c15ull;
    for (int i = 0; i < 200000; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        struct virtio_net_hdr vh;
        memcpy(&vh, &x, sizeof vh < 8 ? sizeof vh : 8);
        vh.csum_offset = (uint16_t) (x >> 5) % 64;
        uint32_t size = 14 + (uint32_t) (x >> 40) % 200;
        struct pkt_offload off;
        if (vnet_hdr_decode(&vh, size, &off, NULL) == 0 && off.needs_csum) {
            CHECK(off.csum_start >= 14);
            CHECK((uint32_t) off.csum_start + off.csum_offset + 2 <= size);
        }
    }
}

static void
test_to_and_from_pkt(void)
{
    struct pkt_pool_config cfg = {"vh", {4, 0}, 2};
    struct pkt_pool *pool = pkt_pool_create(&cfg);
    struct pkt *p = pkt_alloc(NULL, pool, PKT_CLASS_MTU, 0);
    CHECK(p);
    uint8_t *d = pkt_data(p);
    memset(d, 0, 200);
    p->size = 200;
    d[34 + 12] = 0x80;           /* TCP data offset 32 bytes. */
    d[34 + 13] = 0x90;           /* ACK | CWR */

    /* No request: flag cleared, header all zero. */
    struct virtio_net_hdr vh = hdr(0, 0, 0, 0, 0);
    p->flags = PKT_F_OFFLOAD;
    CHECK_EQ_I(vnet_hdr_to_pkt(&vh, p, NULL), 0);
    CHECK(!(p->flags & PKT_F_OFFLOAD));
    struct virtio_net_hdr out;
    vnet_hdr_from_pkt(p, &out);
    CHECK_MEM(&out, &vh, sizeof vh);

    /* TCPv4 GSO round trip: ECN from CWR, hdr_len from the data offset. */
    vh = hdr(NEEDS, VIRTIO_NET_HDR_GSO_TCPV4, 1448, 34, 16);
    CHECK_EQ_I(vnet_hdr_to_pkt(&vh, p, NULL), 0);
    CHECK(p->flags & PKT_F_OFFLOAD);
    vnet_hdr_from_pkt(p, &out);
    CHECK_EQ_U(out.flags, NEEDS);
    CHECK_EQ_U(out.gso_type,
               VIRTIO_NET_HDR_GSO_TCPV4 | VIRTIO_NET_HDR_GSO_ECN);
    CHECK_EQ_U(le16toh(out.gso_size), 1448);
    CHECK_EQ_U(le16toh(out.csum_start), 34);
    CHECK_EQ_U(le16toh(out.csum_offset), 16);
    CHECK_EQ_U(le16toh(out.hdr_len), 34 + 32);
    d[34 + 13] = 0x10;           /* No CWR: no ECN. */
    vnet_hdr_from_pkt(p, &out);
    CHECK_EQ_U(out.gso_type, VIRTIO_NET_HDR_GSO_TCPV4);

    /* USO maps back to UDP_L4 with an 8-byte header. */
    vh = hdr(NEEDS, VIRTIO_NET_HDR_GSO_UDP_L4, 1000, 34, 6);
    CHECK_EQ_I(vnet_hdr_to_pkt(&vh, p, NULL), 0);
    vnet_hdr_from_pkt(p, &out);
    CHECK_EQ_U(out.gso_type, VIRTIO_NET_HDR_GSO_UDP_L4);
    CHECK_EQ_U(le16toh(out.hdr_len), 42);

    /* DATA_VALID passes through. */
    vh = hdr(VALID, 0, 0, 0, 0);
    CHECK_EQ_I(vnet_hdr_to_pkt(&vh, p, NULL), 0);
    vnet_hdr_from_pkt(p, &out);
    CHECK_EQ_U(out.flags, VALID);

    /* A refused header leaves no request behind. */
    vh = hdr(NEEDS, 0, 0, 199, 6);
    enum vnet_hdr_error why;
    CHECK_EQ_I(vnet_hdr_to_pkt(&vh, p, &why), -EINVAL);
    CHECK_EQ_U(why, VNET_HDR_BAD_CSUM);
    CHECK(!(p->flags & PKT_F_OFFLOAD));
    CHECK(!p->offload.needs_csum);

    /* hdr_len never exceeds the frame, even with a data offset that
     * claims more. */
    vh = hdr(NEEDS, VIRTIO_NET_HDR_GSO_TCPV4, 1448, 34, 16);
    CHECK_EQ_I(vnet_hdr_to_pkt(&vh, p, NULL), 0);
    d[34 + 12] = 0xf0;
    p->size = 60;
    vnet_hdr_from_pkt(p, &out);
    CHECK(le16toh(out.hdr_len) <= 60);
    pkt_free(NULL, p);
    pkt_pool_destroy(pool);
}

static const struct test_case cases[] = {
    TEST(test_decode_valid),
    TEST(test_decode_refusals),
    TEST(test_decode_fuzz),
    TEST(test_to_and_from_pkt),
};

TEST_MAIN(cases)
