/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VFAB_BENCH_COMMON_H
#define VFAB_BENCH_COMMON_H 1

/* Shared helpers of the in-process benchmarks.
 *
 * A benchmark runs its loop for several trials and reports the median, so
 * that one preemption on this shared 2-core machine does not decide the
 * figure.  Cycles are TSC cycles (rdtsc), converted from the measured TSC
 * rate; on this machine the TSC runs at the nominal clock.  Output: one
 * "metric_name: value unit" line per figure (bench/README.md). */

#include <stdint.h>

/* Measured once per process. */
double bench_tsc_hz(void);

/* Pins the calling thread to CPU 'cpu' (best effort). */
void bench_pin(int cpu);

/* Runs 'fn(arg)', which processes and returns a number of items, for
 * 'trials' trials; returns the median nanoseconds per item. */
typedef uint64_t bench_fn(void *arg);
double bench_median_ns_per_item(bench_fn *fn, void *arg, int trials);

/* Prints "NAME: VALUE UNIT". */
void bench_report(const char *name, double value, const char *unit);

/* Prints NAME_mpps and NAME_cycles for 'ns_per_pkt'. */
void bench_report_pps(const char *name, double ns_per_pkt);

#endif /* bench-common.h */
