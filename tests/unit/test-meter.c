/* SPDX-License-Identifier: Apache-2.0 */
/* qos/meter.c: exact pass/drop counts of the token bucket on a synthetic
 * clock (kbps and pktps), refill up to the burst, the default burst,
 * overflow safety for the largest rates and idle gaps, and the batch form
 * against the per-packet one. */
#include "harness.h"

#include <errno.h>
#include <stdlib.h>

#include "qos/meter.h"
#include "util/random.h"

#define US 1000ll
#define MS 1000000ll
#define SEC 1000000000ll

static struct meter
make(enum meter_unit unit, uint32_t rate, uint32_t burst, int64_t now)
{
    struct meter_config cfg = {.id = 1, .unit = unit, .rate = rate,
                               .burst = burst};
    char *err = NULL;
    CHECK_EQ_I(meter_config_check(&cfg, &err), 0);
    free(err);
    struct meter m;
    meter_init(&m, &cfg, now);
    return m;
}

/* Offers one 'size'-byte frame every 'step' ns from 'start' for 'n'
 * frames; returns how many passed. */
static uint64_t
offer(struct meter *m, uint32_t size, int64_t start, int64_t step,
      uint64_t n)
{
    uint64_t passed = 0;
    for (uint64_t i = 0; i < n; i++) {
        passed += meter_pass(m, size, start + (int64_t) i * step);
    }
    return passed;
}

/* 8000 kbps = 1 byte/us; burst 80 kbit = 10 000 bytes.  1000-byte frames
 * every 100 us for 1 s (10x the rate): the burst's 10 frames, then one
 * per ms: floor((10 000 + 999 900) / 1000) = 1009. */
static void
test_kbps_exact(void)
{
    struct meter m = make(METER_KBPS, 8000, 80, 0);
    CHECK_EQ_U(offer(&m, 1000, 0, 0, 11), 10);      /* Burst, then empty. */
    CHECK_EQ_U(meter_pass(&m, 1000, 999 * US), false);
    CHECK_EQ_U(meter_pass(&m, 1000, 1000 * US), true);   /* 1 ms refilled. */
    CHECK_EQ_U(meter_pass(&m, 1, 1000 * US), false);      /* Empty. */
    CHECK_EQ_U(meter_pass(&m, 125, 1124 * US), false);    /* 124 B. */
    CHECK_EQ_U(meter_pass(&m, 125, 1125 * US), true);     /* Drops cost
                                                           * nothing. */

    m = make(METER_KBPS, 8000, 80, 0);
    CHECK_EQ_U(offer(&m, 1000, 0, 100 * US, 10000), 1009);
    struct meter_stats st;
    meter_get_stats(&m, &st);
    CHECK_EQ_U(st.passed_packets, 1009);
    CHECK_EQ_U(st.passed_bytes, 1009000);
    CHECK_EQ_U(st.dropped_packets, 10000 - 1009);
    CHECK_EQ_U(st.dropped_bytes, (10000 - 1009) * 1000);
}

/* 1000 pktps, burst 5: one frame every 100 us for 1 s passes
 * 5 + floor(999.9) = 1004, whatever the frame size. */
static void
test_pktps_exact(void)
{
    struct meter m = make(METER_PKTPS, 1000, 5, 0);
    CHECK_EQ_U(offer(&m, 9000, 0, 100 * US, 10000), 1004);
    m = make(METER_PKTPS, 1000, 5, 0);
    CHECK_EQ_U(offer(&m, 64, 0, 0, 100), 5);
    CHECK_EQ_U(meter_pass(&m, 64, 999 * US), false);
    CHECK_EQ_U(meter_pass(&m, 64, 1 * MS), true);
}

/* An idle bucket refills to the burst and no further. */
static void
test_burst_refill(void)
{
    struct meter m = make(METER_KBPS, 8000, 80, 0);
    CHECK_EQ_U(offer(&m, 1000, 0, 0, 100), 10);
    CHECK_EQ_U(offer(&m, 1000, 5 * MS, 0, 100), 5);     /* Half refilled. */
    CHECK_EQ_U(offer(&m, 1000, 10 * SEC, 0, 100), 10);  /* Capped. */
    m = make(METER_PKTPS, 10, 3, 0);
    CHECK_EQ_U(offer(&m, 64, 0, 0, 10), 3);
    CHECK_EQ_U(offer(&m, 64, 3600 * SEC, 0, 10), 3);
}

/* Rate x 100 ms, at least 1000 kbit or 1 frame. */
static void
test_default_burst(void)
{
    struct meter_config c = {.id = 1, .unit = METER_KBPS, .rate = 20000};
    CHECK_EQ_U(meter_config_burst(&c), 2000);
    c.rate = 100;
    CHECK_EQ_U(meter_config_burst(&c), METER_KBPS_MIN_BURST);
    c.unit = METER_PKTPS;
    CHECK_EQ_U(meter_config_burst(&c), 10);
    c.rate = 5;
    CHECK_EQ_U(meter_config_burst(&c), 1);
    c.burst = 7;
    CHECK_EQ_U(meter_config_burst(&c), 7);
    /* A 64 KiB GSO frame passes a slow kbps meter with the default. */
    c = (struct meter_config){.id = 1, .unit = METER_KBPS, .rate = 1};
    struct meter m;
    meter_init(&m, &c, 0);
    CHECK(meter_pass(&m, 65535, 0));
}

/* The largest rate and burst, huge frames, enormous idle gaps and a
 * clock stepping back neither overflow nor mint tokens. */
static void
test_overflow(void)
{
    struct meter m = make(METER_KBPS, METER_RATE_MAX, METER_BURST_MAX, 0);
    /* 1e9 kbit / (65535 * 8 bit) = 1 907 377.5 frames. */
    uint64_t n = offer(&m, 65535, INT64_MAX / 2, 0, 2000000);
    CHECK_EQ_U(n, 1907377);
    n = offer(&m, 65535, INT64_MAX, 0, 2000000);
    CHECK_EQ_U(n, 1907377);
    CHECK_EQ_U(meter_pass(&m, 65535, 0), false);      /* Back in time. */
    CHECK_EQ_U(meter_pass(&m, UINT32_MAX, INT64_MAX), false);

    m = make(METER_PKTPS, METER_RATE_MAX, METER_BURST_MAX, INT64_MIN);
    CHECK_EQ_U(offer(&m, 64, INT64_MIN, 0, 10), 10);
    CHECK(meter_pass(&m, 64, INT64_MAX));             /* dt = 2^64 - 1. */

    m = make(METER_KBPS, 1, 1, 0);                    /* 1 kbit/s. */
    CHECK_EQ_U(meter_pass(&m, 125, 0), true);         /* 1000 bits. */
    CHECK_EQ_U(meter_pass(&m, 125, 999 * MS), false);
    CHECK_EQ_U(meter_pass(&m, 125, 1 * SEC), true);
    CHECK_EQ_U(meter_pass(&m, 126, 100 * SEC), false);  /* > burst. */
}

static void
test_config_check(void)
{
    static const struct {
        struct meter_config cfg;
        const char *err;
    } bad[] = {
        {{0, METER_KBPS, 1, 0}, "meter id 0 is out of range 1..65535"},
        {{65536, METER_KBPS, 1, 0}, "meter id 65536 is out of range "
                                    "1..65535"},
        {{1, METER_KBPS, 0, 0}, "rate 0 is out of range 1..100000000 "
                                "(kbps)"},
        {{1, METER_PKTPS, 100000001, 0}, "rate 100000001 is out of range "
                                         "1..100000000 (pktps)"},
        {{1, METER_PKTPS, 1, 1000000001}, "burst 1000000001 is out of "
                                          "range 1..1000000000 (packets)"},
        {{1, (enum meter_unit) 7, 1, 0}, "meter unit must be kbps or "
                                         "pktps"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char *err = NULL;
        CHECK_EQ_I(meter_config_check(&bad[i].cfg, &err), -EINVAL);
        CHECK_STR(err, bad[i].err);
        free(err);
    }
    CHECK_EQ_I(meter_unit_from_string("kbps"), METER_KBPS);
    CHECK_EQ_I(meter_unit_from_string("pktps"), METER_PKTPS);
    CHECK_EQ_I(meter_unit_from_string("mbps"), -EINVAL);
}

/* meter_run_batch() == meter_pass() per frame, on random traffic. */
static void
test_batch_twin(void)
{
    struct vf_random rng;
    vf_random_init(&rng, 42);
    struct meter a = make(METER_KBPS, 10000, 0, 0);
    struct meter b = a;
    int64_t now = 0;
    for (int round = 0; round < 2000; round++) {
        uint32_t sizes[64];
        uint32_t n = 1 + (uint32_t) (vf_random_u64(&rng) % 64);
        for (uint32_t i = 0; i < n; i++) {
            sizes[i] = 60 + (uint32_t) (vf_random_u64(&rng) % 1455);
        }
        now += (int64_t) (vf_random_u64(&rng) % (2 * MS));
        uint64_t bits;
        uint32_t got = meter_run_batch(&a, sizes, n, now, &bits);
        uint32_t want = 0;
        for (uint32_t i = 0; i < n; i++) {
            bool p = meter_pass(&b, sizes[i], now);
            want += p;
            CHECK_EQ_U((bits >> i) & 1, p);
        }
        CHECK_EQ_U(got, want);
    }
    struct meter_stats sa, sb;
    meter_get_stats(&a, &sa);
    meter_get_stats(&b, &sb);
    CHECK_EQ_U(sa.passed_bytes, sb.passed_bytes);
    CHECK_EQ_U(sa.dropped_packets, sb.dropped_packets);
    CHECK(sa.dropped_packets > 0 && sa.passed_packets > 0);
}

static const struct test_case cases[] = {
    TEST(test_kbps_exact),
    TEST(test_pktps_exact),
    TEST(test_burst_refill),
    TEST(test_default_burst),
    TEST(test_overflow),
    TEST(test_config_check),
    TEST(test_batch_twin),
};

TEST_MAIN(cases)
