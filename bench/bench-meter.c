/* SPDX-License-Identifier: Apache-2.0 */
/* bench/run meter: the cost of a token-bucket meter (qos/meter.h) on one
 * core, as the datapath pays it for each frame of a `meter:N` rule.
 *
 * Frames of mixed sizes (64..1514 bytes) are offered to one kbps meter
 * whose rate is half the offered bit rate, so about a third of the
 * frames (more of the large ones) are dropped: both branches run,
 * neither is predictable.  The
 * clock advances 50 ns per frame (a synthetic clock: the refill path runs
 * on every call, as it does on a real datapath).  Per-frame calls
 * (meter_pass(), what the pipeline runs) and batches of 32
 * (meter_run_batch()) are reported. */
#include <stdio.h>
#include <stdlib.h>

#include "bench-common.h"
#include "qos/meter.h"

#define N_SIZES 1024
#define ROUNDS 4000
#define NS_PER_FRAME 50

struct meter_bench {
    struct meter m;
    uint32_t sizes[N_SIZES];
    int64_t now;
    uint64_t passed;
};

static uint64_t
run_single(void *arg)
{
    struct meter_bench *b = arg;
    for (int r = 0; r < ROUNDS; r++) {
        for (int i = 0; i < N_SIZES; i++) {
            b->now += NS_PER_FRAME;
            b->passed += meter_pass(&b->m, b->sizes[i], b->now);
        }
    }
    return (uint64_t) ROUNDS * N_SIZES;
}

static uint64_t
run_batch(void *arg)
{
    struct meter_bench *b = arg;
    for (int r = 0; r < ROUNDS; r++) {
        for (int i = 0; i < N_SIZES; i += 32) {
            uint64_t bits;
            b->now += 32 * NS_PER_FRAME;
            b->passed += meter_run_batch(&b->m, &b->sizes[i], 32, b->now,
                                         &bits);
        }
    }
    return (uint64_t) ROUNDS * N_SIZES;
}

int
main(void)
{
    static struct meter_bench b;
    uint64_t total = 0;
    srandom(1);
    for (int i = 0; i < N_SIZES; i++) {
        b.sizes[i] = 64 + (uint32_t) (random() % (1514 - 64 + 1));
        total += b.sizes[i];
    }
    /* Offered: mean size * 8 bits every 50 ns; the meter allows half the
     * bits. */
    uint64_t offered_kbps = total * 8 * 1000000 / N_SIZES / NS_PER_FRAME;
    struct meter_config cfg = {.id = 1, .unit = METER_KBPS,
                               .rate = (uint32_t) (offered_kbps / 2)};
    meter_init(&b.m, &cfg, 0);
    bench_pin(1);
    double single = bench_median_ns_per_item(run_single, &b, 9);
    struct meter_stats st;
    meter_get_stats(&b.m, &st);
    double frac = (double) st.passed_packets
                  / (double) (st.passed_packets + st.dropped_packets);
    double batch = bench_median_ns_per_item(run_batch, &b, 9);
    printf("# meter rate %u kbps, offered ~%llu kbps; %.1f%% of frames "
           "passed\n", cfg.rate, (unsigned long long) offered_kbps,
           100 * frac);
    bench_report_pps("meter_pass", single);
    bench_report("meter_pass_ns", single, "ns");
    bench_report_pps("meter_batch32", batch);
    bench_report("meter_batch32_ns", batch, "ns");
    return 0;
}
