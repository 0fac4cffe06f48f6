/* SPDX-License-Identifier: Apache-2.0 */
/* Meters: the token bucket.  Contract, units and overflow bounds in
 * qos/meter.h; who calls it in dp/dp-meter.c (control side: the meter
 * table of a bridge) and dp/pipeline.c (ACTION_METER).
 *
 * One refill per call: 'tokens' grows by rate * dt (dt capped, see the
 * header) and is clamped to the capacity, then each frame's cost is taken
 * if the bucket holds it.  The counters are stored with relaxed atomic
 * stores of values computed from plain loads: one writer (meter.h rule
 * 2), so no read-modify-write instruction is needed. */
#include "qos/meter.h"

#include <errno.h>
#include <string.h>

#include "util/buf.h"
#include "util/compiler.h"

#define NANO 1000000000ull              /* Tokens per kbit or frame. */
#define KBPS_TOKENS_PER_BYTE 8000000ull /* 8 bits * 1e6. */

int
meter_unit_from_string(const char *s)
{
    if (s && !strcmp(s, "kbps")) {
        return METER_KBPS;
    }
    if (s && !strcmp(s, "pktps")) {
        return METER_PKTPS;
    }
    return -EINVAL;
}

const char *
meter_unit_to_string(enum meter_unit unit)
{
    return unit == METER_PKTPS ? "pktps" : "kbps";
}

int
meter_config_check(const struct meter_config *cfg, char **errp)
{
    if (cfg->id < 1 || cfg->id > METER_ID_MAX) {
        *errp = vf_xasprintf("meter id %u is out of range 1..%u", cfg->id,
                             METER_ID_MAX);
        return -EINVAL;
    }
    if (cfg->unit != METER_KBPS && cfg->unit != METER_PKTPS) {
        *errp = vf_xstrdup("meter unit must be kbps or pktps");
        return -EINVAL;
    }
    if (cfg->rate < 1 || cfg->rate > METER_RATE_MAX) {
        *errp = vf_xasprintf("rate %u is out of range 1..%u (%s)", cfg->rate,
                             METER_RATE_MAX, meter_unit_to_string(cfg->unit));
        return -EINVAL;
    }
    if (cfg->burst > METER_BURST_MAX) {
        *errp = vf_xasprintf("burst %u is out of range 1..%u (%s)",
                             cfg->burst, METER_BURST_MAX,
                             cfg->unit == METER_KBPS ? "kbit" : "packets");
        return -EINVAL;
    }
    return 0;
}

uint32_t
meter_config_burst(const struct meter_config *cfg)
{
    if (cfg->burst) {
        return cfg->burst;
    }
    uint32_t b = cfg->rate / 10;                /* 100 ms of traffic. */
    uint32_t floor = cfg->unit == METER_KBPS ? METER_KBPS_MIN_BURST : 1;
    return VF_MAX(b, floor);
}

void
meter_init(struct meter *m, const struct meter_config *cfg, int64_t now)
{
    memset(m, 0, sizeof *m);
    m->cfg = *cfg;
    m->cfg.burst = meter_config_burst(cfg);
    m->capacity = (uint64_t) m->cfg.burst * NANO;
    m->tokens = m->capacity;
    m->last = now;
}

static inline void
refill(struct meter *m, int64_t now)
{
    if (now <= m->last) {
        return;                         /* No time passed, or a step back. */
    }
    uint64_t dt = (uint64_t) now - (uint64_t) m->last;   /* No signed
                                                           * overflow. */
    uint64_t fill_ns = m->capacity / m->cfg.rate + 1;
    m->last = now;
    if (dt >= fill_ns) {
        m->tokens = m->capacity;
        return;
    }
    uint64_t t = m->tokens + dt * m->cfg.rate;
    m->tokens = t < m->capacity ? t : m->capacity;
}

static inline uint64_t
cost(const struct meter *m, uint32_t size)
{
    return m->cfg.unit == METER_KBPS ? size * KBPS_TOKENS_PER_BYTE : NANO;
}

static inline void
count(_Atomic uint64_t *c, uint64_t n)
{
    uint64_t v = atomic_load_explicit(c, memory_order_relaxed);
    atomic_store_explicit(c, v + n, memory_order_relaxed);
}

bool
meter_pass(struct meter *m, uint32_t size, int64_t now)
{
    refill(m, now);
    uint64_t c = cost(m, size);
    if (m->tokens >= c) {
        m->tokens -= c;
        count(&m->passed_packets, 1);
        count(&m->passed_bytes, size);
        return true;
    }
    count(&m->dropped_packets, 1);
    count(&m->dropped_bytes, size);
    return false;
}

uint32_t
meter_run_batch(struct meter *m, const uint32_t *sizes, uint32_t n,
                int64_t now, uint64_t *pass)
{
    uint64_t bits = 0, pass_bytes = 0, drop_bytes = 0;
    uint32_t n_pass = 0;
    n = VF_MIN(n, 64u);
    refill(m, now);
    for (uint32_t i = 0; i < n; i++) {
        uint64_t c = cost(m, sizes[i]);
        if (m->tokens >= c) {
            m->tokens -= c;
            bits |= 1ull << i;
            pass_bytes += sizes[i];
            n_pass++;
        } else {
            drop_bytes += sizes[i];
        }
    }
    count(&m->passed_packets, n_pass);
    count(&m->passed_bytes, pass_bytes);
    count(&m->dropped_packets, n - n_pass);
    count(&m->dropped_bytes, drop_bytes);
    *pass = bits;
    return n_pass;
}

void
meter_get_stats(const struct meter *m, struct meter_stats *s)
{
    s->passed_packets = atomic_load_explicit(&m->passed_packets,
                                             memory_order_relaxed);
    s->passed_bytes = atomic_load_explicit(&m->passed_bytes,
                                           memory_order_relaxed);
    s->dropped_packets = atomic_load_explicit(&m->dropped_packets,
                                              memory_order_relaxed);
    s->dropped_bytes = atomic_load_explicit(&m->dropped_bytes,
                                            memory_order_relaxed);
}
