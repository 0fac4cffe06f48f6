/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VFAB_UTIL_VTIME_H
#define VFAB_UTIL_VTIME_H 1

/* Time sources.
 *
 * Algorithms never read the clock themselves: they take 'now' (nanoseconds
 * on the monotonic clock) as an argument (STYLE.md P11).  Daemon loops read
 * it once per iteration from a struct vf_clock, which tests can stop and
 * warp through the control socket so that ageing and timeouts are tested
 * without sleeping.
 *
 * vf_rdtsc() is for benchmarks and the per-VNIC cycle meters only. */

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#define VF_NSEC_PER_USEC 1000ll
#define VF_NSEC_PER_MSEC 1000000ll
#define VF_NSEC_PER_SEC 1000000000ll

/* Monotonic time in nanoseconds, straight from the kernel. */
int64_t vf_time_monotonic_ns(void);

/* Wall-clock time in milliseconds since the epoch (for logs and records). */
int64_t vf_time_wall_ms(void);

/* A warpable clock.  Thread-safe: the fields are atomic; any thread may read,
 * the control thread stops/warps. */
struct vf_clock {
    _Atomic int64_t offset_ns;  /* atomic: added to the monotonic clock. */
    _Atomic int64_t stopped_ns; /* atomic: frozen time, or -1 if running. */
};

void vf_clock_init(struct vf_clock *clock);

/* Returns the clock's current time in nanoseconds. */
int64_t vf_clock_now(const struct vf_clock *clock);

/* Freezes 'clock' at its current time (tests). */
void vf_clock_stop(struct vf_clock *clock);

/* Moves 'clock' forward by 'delta_ns' (> 0), stopped or not. */
void vf_clock_warp(struct vf_clock *clock, int64_t delta_ns);

/* Lets a stopped clock run again from where it stands. */
void vf_clock_resume(struct vf_clock *clock);

static inline uint64_t
vf_rdtsc(void)
{
    uint32_t lo, hi;
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return ((uint64_t) hi << 32) | lo;
}

/* Measures the TSC frequency in Hz against the monotonic clock over about
 * 'sample_ms' milliseconds.  Benchmarks only. */
double vf_tsc_hz(int sample_ms);

#endif /* util/vtime.h */
