/* SPDX-License-Identifier: Apache-2.0 */
#include "bench-common.h"

#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>

#include "util/vtime.h"

static double tsc_hz;

double
bench_tsc_hz(void)
{
    if (!tsc_hz) {
        tsc_hz = vf_tsc_hz(200);
    }
    return tsc_hz;
}

void
bench_pin(int cpu)
{
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    pthread_setaffinity_np(pthread_self(), sizeof set, &set);
}

static int
cmp_double(const void *a, const void *b)
{
    double x = *(const double *) a, y = *(const double *) b;
    return (x > y) - (x < y);
}

double
bench_median_ns_per_item(bench_fn *fn, void *arg, int trials)
{
    double v[64];
    if (trials > 64) {
        trials = 64;
    }
    fn(arg);                     /* Warm caches and branch predictors. */
    for (int i = 0; i < trials; i++) {
        int64_t t0 = vf_time_monotonic_ns();
        uint64_t n = fn(arg);
        int64_t t1 = vf_time_monotonic_ns();
        v[i] = n ? (double) (t1 - t0) / (double) n : 0;
    }
    qsort(v, (size_t) trials, sizeof v[0], cmp_double);
    return v[trials / 2];
}

void
bench_report(const char *name, double value, const char *unit)
{
    printf("%s: %.2f %s\n", name, value, unit);
    fflush(stdout);
}

void
bench_report_pps(const char *name, double ns_per_pkt)
{
    char metric[128];
    snprintf(metric, sizeof metric, "%s_mpps", name);
    bench_report(metric, 1e3 / ns_per_pkt, "Mpps");
    snprintf(metric, sizeof metric, "%s_cycles", name);
    bench_report(metric, ns_per_pkt * bench_tsc_hz() / 1e9, "cycles/pkt");
}
