/* SPDX-License-Identifier: Apache-2.0 */
#include "harness.h"

#include "net/csum.h"
#include "util/random.h"

static void
test_rfc1071_example(void)
{
    /* RFC 1071 section 3: the sum of 00 01 f2 03 f4 f5 f6 f7 is ddf2
     * (big-endian), so the checksum is ~ddf2 = 220d. */
    const uint8_t b[8] = {0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7};
    CHECK_EQ_U(vf_ntohs(csum(b, 8)), 0x220d);
}

static void
test_ipv4_header(void)
{
    /* A real header (from a capture): checksum b861. */
    uint8_t h[20] = {0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00,
                     0x40, 0x11, 0xb8, 0x61, 0xc0, 0xa8, 0x00, 0x01,
                     0xc0, 0xa8, 0x00, 0xc7};
    CHECK_EQ_U(csum(h, 20), 0);            /* Valid header sums to 0. */
    h[10] = h[11] = 0;
    CHECK_EQ_U(vf_ntohs(csum(h, 20)), 0xb861);
}

static void
test_odd_length_and_chaining(void)
{
    const uint8_t b[5] = {1, 2, 3, 4, 5};
    /* Chained pieces of even length equal the whole. */
    uint32_t s = csum_partial(b, 2, 0);
    s = csum_partial(b + 2, 3, s);
    CHECK_EQ_U(csum_fold(s), csum(b, 5));
    CHECK_EQ_U(vf_ntohs(csum(b, 5)), (uint16_t) ~(0x0102 + 0x0304 + 0x0500));
}

static void
test_incremental_matches_full(void)
{
    struct vf_random rng;
    vf_random_init(&rng, 1);
    for (int iter = 0; iter < 10000; iter++) {
        uint8_t b[40];
        for (int i = 0; i < 40; i++) {
            b[i] = (uint8_t) vf_random_u32(&rng);
        }
        vf_be16 c = csum(b, 40);
        int at = (int) vf_random_range(&rng, 9) * 4;
        vf_be32 old = vf_get_u32(b + at), new_ = vf_random_u32(&rng);
        vf_put_u32(b + at, new_);
        vf_be16 full = csum(b, 40);
        vf_be16 inc = csum_update32(c, old, new_);
        /* 0x0000 and 0xffff are the same number in ones' complement. */
        CHECK(full == inc || (full ^ inc) == 0xffff);
        uint8_t old6[16], new6[16];
        memcpy(old6, b + 8, 16);
        for (int i = 0; i < 16; i++) {
            new6[i] = (uint8_t) vf_random_u32(&rng);
        }
        vf_be16 before = csum(b, 40);
        memcpy(b + 8, new6, 16);
        vf_be16 after = csum(b, 40);
        vf_be16 inc6 = csum_update128(before, old6, new6);
        CHECK(after == inc6 || (after ^ inc6) == 0xffff);
    }
}

static void
test_udp_pseudo_header(void)
{
    /* UDP 10.0.0.1:1000 -> 10.0.0.2:2000, payload "hi". */
    uint8_t udp[10] = {0x03, 0xe8, 0x07, 0xd0, 0x00, 0x0a, 0, 0, 'h', 'i'};
    vf_be32 src = VF_BE32(0x0a000001u), dst = VF_BE32(0x0a000002u);
    uint32_t s = csum_pseudo_ipv4(src, dst, 17, 10);
    vf_be16 c = csum_fold(csum_partial(udp, 10, s));
    memcpy(udp + 6, &c, 2);
    s = csum_pseudo_ipv4(src, dst, 17, 10);
    CHECK_EQ_U(csum_fold(csum_partial(udp, 10, s)), 0);
    /* By hand: 0a00+0001+0a00+0002+0011+000a + 03e8+07d0+000a+6869
     * = 0x8849 -> ~ = 0x77b6. */
    CHECK_EQ_U(vf_ntohs(c), 0x77b6);

    uint8_t s6[16] = {0xfe, 0x80, [15] = 1}, d6[16] = {0xfe, 0x80, [15] = 2};
    s = csum_pseudo_ipv6(s6, d6, 17, 10);
    memset(udp + 6, 0, 2);
    c = csum_fold(csum_partial(udp, 10, s));
    memcpy(udp + 6, &c, 2);
    CHECK_EQ_U(csum_fold(csum_partial(udp, 10, csum_pseudo_ipv6(s6, d6, 17,
                                                                 10))), 0);
}

static const struct test_case cases[] = {
    TEST(test_rfc1071_example),
    TEST(test_ipv4_header),
    TEST(test_odd_length_and_chaining),
    TEST(test_incremental_matches_full),
    TEST(test_udp_pseudo_header),
};

TEST_MAIN(cases)
