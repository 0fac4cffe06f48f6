/* SPDX-License-Identifier: Apache-2.0 */
/* JSON views of the datapath for the control socket (formats in
 * docs/ctl-protocol.md).  Control thread; counters written by datapath
 * threads are read with relaxed atomics and may be a batch behind. */
#include <string.h>

#include "dp/dp-private.h"
#include "net/addr.h"
#include "util/buf.h"

json_t *
dp_bridge_fdb_json(struct dp_bridge *br)
{
    struct dp *dp = br->dp;
    int64_t now = vf_clock_now(dp->clock);
    uint32_t max = 65536;
    struct mac_table_row *rows = vf_xcalloc(max, sizeof *rows);
    uint32_t n = VF_MIN(mac_table_dump(br->macs, now, rows, max), max);
    json_t *arr = json_array();
    for (uint32_t i = 0; i < n; i++) {
        char mac[ETH_ADDR_STRLEN];
        struct dp_port *p = dp_port_by_no(br, rows[i].port);
        json_array_append_new(
            arr, json_pack("{s:s, s:I, s:I, s:s, s:I, s:b}", "port",
                           p ? p->name : "?", "port_no",
                           (json_int_t) rows[i].port, "vlan",
                           (json_int_t) rows[i].vlan, "mac",
                           eth_addr_format(&rows[i].mac, mac), "age_s",
                           (json_int_t) (rows[i].age_ns / 1000000000ll),
                           "static", rows[i].is_static));
    }
    free(rows);
    return arr;
}

static json_t *
port_stats_json(struct dp *dp, struct dp_port *p)
{
    struct port_stats st;
    port_get_stats(p->port, &st);
    json_t *drops = json_object();
    for (int r = 0; r < DP_N_DROPS; r++) {
        uint64_t v = atomic_load_explicit(&p->drops[r], memory_order_relaxed);
        if (v) {
            json_object_set_new(drops, dp_drop_name((enum dp_drop) r),
                                json_integer((json_int_t) v));
        }
    }
    json_t *j = json_pack(
        "{s:s, s:I, s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:s, s:o,"
        " s:I}",
        "port", p->name, "port_no", (json_int_t) p->port_no, "type",
        port_kind_name(p->kind), "rx_packets", (json_int_t) st.rx_packets,
        "rx_bytes", (json_int_t) st.rx_bytes, "tx_packets",
        (json_int_t) st.tx_packets, "tx_bytes", (json_int_t) st.tx_bytes,
        "rx_dropped", (json_int_t) st.rx_dropped, "tx_dropped",
        (json_int_t) st.tx_dropped, "rx_errors", (json_int_t) st.rx_errors,
        "tx_errors", (json_int_t) st.tx_errors, "link",
        port_link_up(p->port) ? "up" : "down", "drops", drops,
        "quota_skips",
        (json_int_t) atomic_load_explicit(&p->quota_skips,
                                          memory_order_relaxed));
    if (p->owner) {
        struct pkt_owner_stats os;
        pkt_pool_owner_stats(dp->pool, p->owner, &os);
        json_object_set_new(j, "quota",
                            json_pack("{s:I, s:I, s:I, s:I}", "limit",
                                      (json_int_t) os.quota, "in_use",
                                      (json_int_t) os.in_use, "peak",
                                      (json_int_t) os.peak, "denials",
                                      (json_int_t) os.denials));
    }
    return j;
}

json_t *
dp_bridge_port_stats_json(struct dp_bridge *br)
{
    const struct dp_bridge_ports *bp = br->ports;
    json_t *arr = json_array();
    for (uint32_t i = 0; i < bp->n; i++) {
        json_array_append_new(arr, port_stats_json(br->dp, bp->list[i]));
    }
    return arr;
}

json_t *
dp_stats_json(struct dp *dp)
{
    struct dp_thread *t = dp->thread;
    struct emc_stats es = {0};
    for (uint32_t i = 0; i < dp->n_bridges; i++) {
        struct emc_stats s;
        emc_get_stats(dp->bridges[i]->emc, &s);
        es.hits += s.hits;
        es.misses += s.misses;
        es.inserts += s.inserts;
        es.skipped += s.skipped;
    }
    return json_pack(
        "{s:{s:I, s:I, s:I}, s:{s:I, s:I}, s:{s:I, s:I}, s:{s:I, s:I,"
        " s:I}, s:o}",
        "emc", "hits", (json_int_t) es.hits, "misses",
        (json_int_t) es.misses, "inserts", (json_int_t) es.inserts,
        "parse", "frames", (json_int_t) t->parse.n_frames, "truncated",
        (json_int_t) t->parse.n_truncated, "agent", "upcalls",
        (json_int_t) dp->n_upcalls, "learned", (json_int_t) dp->n_learned,
        "thread", "iterations",
        (json_int_t) atomic_load(&t->n_iterations), "sleeps",
        (json_int_t) atomic_load(&t->n_sleeps), "packets",
        (json_int_t) atomic_load(&t->n_packets), "accel",
        dp_accel_stats_json(&t->accel));
}
