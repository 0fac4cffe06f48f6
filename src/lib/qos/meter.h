/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VFAB_QOS_METER_H
#define VFAB_QOS_METER_H 1

/* Meters: token-bucket rate limiting, as OpenFlow meters (OpenFlow 1.3
 * section 5.7) work in Open vSwitch, with one band of type "drop".
 *
 * A meter has an id (1..METER_ID_MAX, unique per bridge), a unit (kbps:
 * rate counts bits of frames, Ethernet header included, no FCS; pktps:
 * rate counts frames), a rate and a burst.  A frame passes if the bucket
 * holds its cost, which is then taken out; otherwise it is dropped and the
 * bucket is left as it was (a dropped frame costs nothing).  The bucket
 * starts full and refills continuously at 'rate' up to 'burst'.
 *
 * Arithmetic (all integer, no division on the data path): tokens are
 * kept in "nano-units" so that one nanosecond at the configured rate
 * adds exactly 'rate' tokens:
 *
 *     kbps:  1 token = 1e-6 bit    (rate kbit/s = rate bits per 1e6 ns)
 *            a frame of S bytes costs S * 8 * 1e6 tokens
 *     pktps: 1 token = 1e-9 frame  (rate frames per 1e9 ns)
 *            a frame costs 1e9 tokens
 *     capacity = burst * 1e9 tokens in both units (burst in kbit or in
 *            frames)
 *
 * Overflow: rate <= METER_RATE_MAX (1e8) and burst <= METER_BURST_MAX
 * (1e9) keep capacity <= 1e18; the elapsed time used for a refill is
 * capped at the time that fills the bucket from empty, so rate * dt <=
 * capacity + rate < 2^63 however long the meter was idle.  A clock that
 * steps backwards adds nothing.
 *
 * Default burst (burst 0 in the configuration): rate x 100 ms, at least
 * METER_KBPS_MIN_BURST kbit (one 64 KiB GSO super-frame must be able to
 * pass, or TCP through a slow meter would stall) or 1 frame.
 *
 * Thread rules:
 *   1. 'cfg' is const once meter_init() ran.
 *   2. Bucket state ('tokens', 'last') is owned by the one datapath
 *      thread that runs meter_pass() / meter_run_batch(): single writer,
 *      no lock, no atomics (dp/dp-meter.c explains why one thread).
 *   3. Counters are written by that thread with relaxed atomic stores and
 *      may be read by any thread with meter_get_stats() (each counter is
 *      exact, the four need not be mutually consistent). */

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#define METER_ID_MAX 65535u
#define METER_RATE_MAX 100000000u       /* 100 Gbit/s or 1e8 frames/s. */
#define METER_BURST_MAX 1000000000u     /* kbit or frames. */
#define METER_KBPS_MIN_BURST 1000u      /* kbit: > one 64 KiB frame. */

enum meter_unit {
    METER_KBPS,
    METER_PKTPS,
};

struct meter_config {
    uint32_t id;                        /* 1..METER_ID_MAX. */
    enum meter_unit unit;
    uint32_t rate;                      /* 1..METER_RATE_MAX. */
    uint32_t burst;                     /* 0 (default) or 1..BURST_MAX. */
};

struct meter_stats {
    uint64_t passed_packets;
    uint64_t passed_bytes;
    uint64_t dropped_packets;
    uint64_t dropped_bytes;
};

struct meter {
    struct meter_config cfg;            /* const: burst resolved. */
    uint64_t capacity;                  /* const: tokens. */
    uint64_t tokens;                    /* dp */
    int64_t last;                       /* dp: ns of the last refill. */
    _Atomic uint64_t passed_packets;    /* atomic: dp thread stores. */
    _Atomic uint64_t passed_bytes;      /* atomic */
    _Atomic uint64_t dropped_packets;   /* atomic */
    _Atomic uint64_t dropped_bytes;     /* atomic */
};

/* "kbps" / "pktps" <-> unit; meter_unit_from_string() returns the unit
 * or -EINVAL. */
int meter_unit_from_string(const char *s);
const char *meter_unit_to_string(enum meter_unit unit);

/* Checks 'cfg' (id, unit, rate, burst ranges).  Returns 0 or -EINVAL with
 * '*errp' a one-line message (caller frees).  No side effects. */
int meter_config_check(const struct meter_config *cfg, char **errp);

/* The burst 'cfg' gets: cfg->burst, or the default described above. */
uint32_t meter_config_burst(const struct meter_config *cfg);

/* Initialises 'm' from 'cfg' (which must pass meter_config_check()) with a
 * full bucket as of 'now' (ns).  Any thread, before 'm' is published. */
void meter_init(struct meter *m, const struct meter_config *cfg,
                int64_t now);

/* Offers a frame of 'size' bytes at time 'now' (ns, monotonic).  Returns
 * true if it passes (its cost is taken from the bucket), false if the
 * drop band applies.  Counts either way.  Datapath thread (rule 2). */
bool meter_pass(struct meter *m, uint32_t size, int64_t now);

/* Offers 'n' frames of 'sizes[]' bytes in order at time 'now' and sets
 * bit i of 'pass' (n <= 64) for each that passes.  Returns how many
 * passed.  Same as n calls of meter_pass() with one refill and one update
 * of each counter.  Datapath thread. */
uint32_t meter_run_batch(struct meter *m, const uint32_t *sizes, uint32_t n,
                         int64_t now, uint64_t *pass);

/* Reads the counters of 'm'.  Any thread (rule 3). */
void meter_get_stats(const struct meter *m, struct meter_stats *stats);

#endif /* qos/meter.h */
