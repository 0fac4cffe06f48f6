/* SPDX-License-Identifier: Apache-2.0 */
#include "util/vtime.h"

#include <time.h>

int64_t
vf_time_monotonic_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t) ts.tv_sec * VF_NSEC_PER_SEC + ts.tv_nsec;
}

int64_t
vf_time_wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / VF_NSEC_PER_MSEC;
}

void
vf_clock_init(struct vf_clock *clock)
{
    atomic_init(&clock->offset_ns, 0);
    atomic_init(&clock->stopped_ns, -1);
}

int64_t
vf_clock_now(const struct vf_clock *clock)
{
    int64_t stopped = atomic_load_explicit(&clock->stopped_ns,
                                           memory_order_relaxed);
    if (stopped >= 0) {
        return stopped;
    }
    return vf_time_monotonic_ns()
           + atomic_load_explicit(&clock->offset_ns, memory_order_relaxed);
}

void
vf_clock_stop(struct vf_clock *clock)
{
    atomic_store(&clock->stopped_ns, vf_clock_now(clock));
}

void
vf_clock_warp(struct vf_clock *clock, int64_t delta_ns)
{
    if (delta_ns <= 0) {
        return;
    }
    int64_t stopped = atomic_load(&clock->stopped_ns);
    if (stopped >= 0) {
        atomic_store(&clock->stopped_ns, stopped + delta_ns);
    }
    atomic_fetch_add(&clock->offset_ns, delta_ns);
}

void
vf_clock_resume(struct vf_clock *clock)
{
    int64_t stopped = atomic_load(&clock->stopped_ns);
    if (stopped < 0) {
        return;
    }
    /* Run on from the frozen instant: offset = frozen - real. */
    atomic_store(&clock->offset_ns, stopped - vf_time_monotonic_ns());
    atomic_store(&clock->stopped_ns, -1);
}

double
vf_tsc_hz(int sample_ms)
{
    int64_t t0 = vf_time_monotonic_ns();
    uint64_t c0 = vf_rdtsc();
    int64_t t1;
    do {
        t1 = vf_time_monotonic_ns();
    } while (t1 - t0 < (int64_t) sample_ms * VF_NSEC_PER_MSEC);
    uint64_t c1 = vf_rdtsc();
    return (double) (c1 - c0) * 1e9 / (double) (t1 - t0);
}
