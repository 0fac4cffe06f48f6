/* SPDX-License-Identifier: Apache-2.0 */
/* The meter table of a bridge, control side (the token bucket itself is
 * qos/meter.c; its use on packets is ACTION_METER in pipeline.c).
 *
 * Layout: br->meters is an RCU-published snapshot, an array of pointers
 * to struct dp_meter sorted by meter id (binary search; a bridge has a
 * handful of meters).  Adding or removing a meter builds a new array,
 * publishes it and frees the old array after a grace period; the
 * struct dp_meter objects themselves survive across snapshots, so adding
 * meter 2 does not refill meter 1's bucket or reset its counters.  A
 * removed meter is freed after a grace period (vf_rcu_call).
 *
 * Concurrency rules:
 *   1. The agent thread is the only writer of the table (dp.h: control
 *      thread functions).
 *   2. Bucket state is written only by the datapath thread, with no lock
 *      and no atomic read-modify-write: one datapath thread serves every
 *      bridge (dp.h), so each meter has a single writer.  Were several
 *      threads to serve one bridge, a meter shared by them would need a
 *      compare-and-swap loop on 'tokens' (as DPDK's rte_meter leaves to
 *      the caller) or one bucket per thread with rate / n_threads; per-
 *      packet CAS on a shared line costs far more than the bucket
 *      arithmetic, which is why it is not done for a thread that does not
 *      exist.
 *   3. Counters are relaxed atomics (qos/meter.h rule 3): the agent reads
 *      them for dump-meters while the datapath writes them.
 *   4. Flows may name a meter only while it exists: vfabd refuses a rule
 *      naming an unknown meter and refuses to remove a meter flows use.
 *      Should a packet still reach ACTION_METER with an unknown id, the
 *      datapath drops it ("meter"), never touching freed memory. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "dp/dp-private.h"
#include "util/buf.h"

static void
meters_free_rcu(struct rcu_head *h)
{
    free(VF_CONTAINER_OF(h, struct dp_meters, rcu));
}

static void
meter_free_rcu(struct rcu_head *h)
{
    free(VF_CONTAINER_OF(h, struct dp_meter, rcu));
}

/* Publishes a copy of 'br's table with 'add' inserted (if not NULL) and
 * meter 'remove_id' left out (if nonzero). */
static void
publish(struct dp_bridge *br, struct dp_meter *add, uint32_t remove_id)
{
    struct dp_meters *old = br->meters;
    uint32_t n_old = old ? old->n : 0;
    struct dp_meters *ms = vf_xcalloc(1, sizeof *ms + (n_old + 1)
                                                   * sizeof ms->list[0]);
    for (uint32_t i = 0; i < n_old; i++) {
        struct dp_meter *m = old->list[i];
        if (add && m->m.cfg.id > add->m.cfg.id) {
            ms->list[ms->n++] = add;
            add = NULL;
        }
        if (m->m.cfg.id != remove_id) {
            ms->list[ms->n++] = m;
        }
    }
    if (add) {
        ms->list[ms->n++] = add;
    }
    vf_rcu_set(br->meters, ms);
    if (old) {
        vf_rcu_call(&old->rcu, meters_free_rcu);
    }
}

int
dp_meter_add(struct dp *dp, struct dp_bridge *br,
             const struct meter_config *cfg, char **errp)
{
    int rc = meter_config_check(cfg, errp);
    if (rc) {
        return rc;
    }
    if (dp_meters_lookup(br->meters, cfg->id)) {
        *errp = vf_xasprintf("meter %u already exists on bridge %s", cfg->id,
                             br->name);
        return -EEXIST;
    }
    struct dp_meter *m = vf_xcalloc(1, sizeof *m);
    meter_init(&m->m, cfg, vf_clock_now(dp->clock));
    publish(br, m, 0);
    return 0;
}

int
dp_meter_remove(struct dp *dp, struct dp_bridge *br, uint32_t id)
{
    (void) dp;
    struct dp_meter *m = dp_meters_lookup(br->meters, id);
    if (!m) {
        return -ENOENT;
    }
    publish(br, NULL, id);
    vf_rcu_call(&m->rcu, meter_free_rcu);
    return 0;
}

bool
dp_meter_exists(const struct dp_bridge *br, uint32_t id)
{
    return dp_meters_lookup(br->meters, id) != NULL;
}

int
dp_meter_stats(const struct dp_bridge *br, uint32_t id,
               struct meter_stats *stats)
{
    const struct dp_meter *m = dp_meters_lookup(br->meters, id);
    if (!m) {
        return -ENOENT;
    }
    meter_get_stats(&m->m, stats);
    return 0;
}

void
dp_meters_destroy(struct dp_meters *ms)
{
    if (ms) {
        for (uint32_t i = 0; i < ms->n; i++) {
            free(ms->list[i]);
        }
        free(ms);
    }
}
