/* SPDX-License-Identifier: Apache-2.0 */
/* csum_partial() (64-bit words, 128-bit accumulators) against its simple
 * twin csum_partial_simple() (32-bit words): equal folded sums for every
 * length 0..2100 at every alignment 0..15, with and without a starting
 * sum, for 64 KiB buffers, all-ones data (the carry-heavy case) and
 * chains of even-length pieces; plus the RFC 1071 example. */
#include "harness.h"

#include "net/csum.h"
#include "util/random.h"

static uint16_t
fold(uint32_t s)
{
    while (s >> 16) {
        s = (s & 0xffff) + (s >> 16);
    }
    return (uint16_t) s;
}

/* Folded sums are equal, 0 and 0xffff being the same number in ones'
 * complement. */
static bool
same_sum(uint32_t a, uint32_t b)
{
    uint16_t x = fold(a), y = fold(b);
    return x == y || (x == 0 && y == 0xffff) || (x == 0xffff && y == 0);
}

static uint8_t buf[65536 + 64];

static void
test_lengths_and_alignments(void)
{
    struct vf_random rng;
    vf_random_init(&rng, 3);
    for (size_t i = 0; i < sizeof buf; i++) {
        buf[i] = (uint8_t) vf_random_u32(&rng);
    }
    static const uint32_t starts[] = {0, 1, 0xffff, 0x1fffe, 0xffffffffu};
    for (uint32_t n = 0; n <= 2100; n++) {
        for (uint32_t o = 0; o < 16; o++) {
            for (size_t s = 0; s < sizeof starts / sizeof starts[0]; s++) {
                uint32_t a = csum_partial(buf + o, n, starts[s]);
                uint32_t b = csum_partial_simple(buf + o, n, starts[s]);
                if (!same_sum(a, b)) {
                    CHECK_EQ_U(fold(a), fold(b));
                }
                CHECK(a < (1u << 17) + 2);
            }
        }
    }
    for (uint32_t o = 0; o < 64; o += 7) {
        CHECK(same_sum(csum_partial(buf + o, 65536, 5),
                       csum_partial_simple(buf + o, 65536, 5)));
    }
}

static void
test_all_ones_and_chains(void)
{
    memset(buf, 0xff, sizeof buf);
    for (uint32_t n = 0; n <= 65536; n += n < 100 ? 1 : 997) {
        CHECK(same_sum(csum_partial(buf, n, 0xffffffffu),
                       csum_partial_simple(buf, n, 0xffffffffu)));
    }
    struct vf_random rng;
    vf_random_init(&rng, 4);
    for (size_t i = 0; i < sizeof buf; i++) {
        buf[i] = (uint8_t) vf_random_u32(&rng);
    }
    for (int round = 0; round < 200; round++) {
        uint32_t a = 0, b = 0, at = 0;
        for (int piece = 0; piece < 6; piece++) {
            uint32_t len = (vf_random_u32(&rng) % 3000) & ~1u;
            if (piece == 5) {
                len |= vf_random_u32(&rng) & 1;   /* Odd only last. */
            }
            a = csum_partial(buf + at, len, a);
            b = csum_partial_simple(buf + at, len, b);
            at += len;
        }
        CHECK(same_sum(a, b));
        CHECK(same_sum(a, csum_partial_simple(buf, at, 0)));
    }
}

static void
test_rfc1071_example(void)
{
    /* RFC 1071 section 3: 00 01 f2 03 f4 f5 f6 f7 sums to ddf2. */
    static const uint8_t ex[8] = {0x00, 0x01, 0xf2, 0x03,
                                  0xf4, 0xf5, 0xf6, 0xf7};
    uint16_t s = fold(csum_partial(ex, 8, 0));
    CHECK_EQ_U(s, 0xf2dd);       /* Stored little-endian on this host. */
    CHECK_EQ_U(fold(csum_partial_simple(ex, 8, 0)), 0xf2dd);
}

static const struct test_case cases[] = {
    TEST(test_lengths_and_alignments),
    TEST(test_all_ones_and_chains),
    TEST(test_rfc1071_example),
};

TEST_MAIN(cases)
