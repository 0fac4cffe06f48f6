/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VFAB_DP_DP_PRIVATE_H
#define VFAB_DP_DP_PRIVATE_H 1

/* Structures shared by the files of the dp part only.  Field protection
 * legend: util/compiler.h.  "snap" means: reached by datapath threads only
 * through an RCU-published snapshot, const once published. */

#include <pthread.h>
#include <stdatomic.h>

#include "cls/emc.h"
#include "dp/dp-accel.h"
#include "dp/dp.h"
#include "net/parse.h"
#include "pkt/pkt-batch.h"
#include "util/rcu.h"
#include "util/ring.h"

struct link_monitor;

#define DP_MAX_BRIDGES 256
#define DP_TXQ_MAX 64            /* Packets queued per port per batch. */
#define DP_MAX_TABLE_HOPS 32     /* goto_table chain bound. */
#define DP_LEARN_RING 4096       /* Learning events in flight. */
#define DP_UPCALL_RING 1024      /* Upcalls in flight. */
#define DP_LEARN_FILTER 1024     /* Recently posted learning events. */
#define DP_LEARN_REPOST_NS (100 * 1000000ll)

struct dp_port {
    struct dp *dp;                        /* const */
    struct dp_bridge *br;                 /* const */
    char name[16];                        /* const */
    uint32_t port_no;                     /* const */
    uint32_t index;                       /* const: slot for tx queues. */
    enum port_kind kind;                  /* const */
    struct port *port;                    /* const */
    uint16_t owner;                       /* const: VNIC id or 0. */
    bool has_vlan;                        /* const */
    uint16_t vlan;                        /* const */
    bool is_trunk;                        /* const */
    uint64_t trunk_bits[64];              /* const: 4096 VLANs. */
    struct vnic_identity identity;        /* const */
    struct port_caps caps;                /* const */
    _Atomic uint64_t drops[DP_N_DROPS];   /* atomic: dp thread adds. */
    _Atomic uint64_t quota_skips;         /* atomic */
    bool rx_paused;                       /* dp: fd disarmed in the epoll
                                           * set while over quota. */
    struct dp_vnic_binding *bind;       /* ctl: RCU; fabric VNICs. */
    struct rcu_head rcu;
};

/* The ports of one bridge as a datapath thread sees them. */
struct dp_bridge_ports {
    uint32_t n;                           /* snap */
    uint32_t max_no;                      /* snap: by_no has max_no + 1. */
    struct dp_port **list;                /* snap: n ports, by port_no. */
    struct rcu_head rcu;
    struct dp_port *by_no[];              /* snap: NULL for holes. */
};

struct dp_bridge {
    struct dp *dp;                        /* const */
    char name[16];                        /* const */
    uint32_t id;                          /* const: learning events. */
    struct cls *cls;                      /* const (internally RCU). */
    struct mac_table *macs;               /* const (internally RCU). */
    struct emc *emc;                      /* dp: the datapath thread's
                                           * exact-match cache for this
                                           * bridge's classifier (one per
                                           * bridge: keys hold port
                                           * numbers, which are per
                                           * bridge). */
    struct dp_bridge_ports *ports;     /* ctl: RCU-published. */
    struct dp_fabric *fabric;          /* ctl: RCU; NULL for L2. */
    struct dp_meters *meters;          /* ctl: RCU-published; NULL: none
                                        * yet (dp-meter.c). */
    struct rcu_head rcu;
};

/* A meter of a bridge (dp-meter.c); 'm' bucket state is dp, its config
 * const, its counters atomic (qos/meter.h). */
struct dp_meter {
    struct meter m;
    struct rcu_head rcu;
};

/* The meters of one bridge, sorted by id. */
struct dp_meters {
    uint32_t n;                           /* snap */
    struct rcu_head rcu;
    struct dp_meter *list[];              /* snap: ascending ids. */
};

/* The meter 'id' in 'ms' (may be NULL), or NULL.  Readers under RCU or
 * the agent. */
static inline struct dp_meter *
dp_meters_lookup(const struct dp_meters *ms, uint32_t id)
{
    uint32_t lo = 0, hi = ms ? ms->n : 0;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        uint32_t mid_id = ms->list[mid]->m.cfg.id;
        if (mid_id == id) {
            return ms->list[mid];
        }
        if (mid_id < id) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return NULL;
}

/* dp-meter.c: frees a table and its meters at once (bridge teardown,
 * after a grace period). */
void dp_meters_destroy(struct dp_meters *ms);

/* A binding as published (freed after a grace period). */
struct dp_vnic_binding_node {
    struct dp_vnic_binding b;
    struct rcu_head rcu;
};

/* A fabric bridge's configuration as the datapath reads it. */
struct dp_fabric {
    struct dp_fabric_config cfg;          /* snap */
    uint32_t max_inner;                   /* snap: largest inner frame. */
    struct rcu_head rcu;
};

/* Every port of every bridge, what a datapath thread polls. */
struct dp_snapshot {
    uint64_t version;                     /* snap */
    uint32_t n;                           /* snap */
    struct rcu_head rcu;
    struct dp_port *ports[];              /* snap */
};

/* A MAC learning event: datapath -> agent. */
struct dp_learn {
    uint32_t bridge_id;
    uint32_t port_no;
    uint16_t vlan;
    struct eth_addr mac;
};

/* An upcall: a packet for the agent (datapath -> agent; the agent frees
 * it).  The buffer stays charged to the VNIC that received it. */
struct dp_upcall {
    struct pkt *pkt;
    uint32_t bridge_id;
    uint32_t in_port;
    uint8_t table;
    uint8_t reason;                       /* enum dp_upcall_reason. */
    uint32_t arg;                         /* Per reason (too big: MTU). */
};

/* A frame the agent sends through a port (agent -> datapath). */
struct dp_inject {
    struct pkt *pkt;
    struct dp_port *port;                 /* Compared, not dereferenced,
                                           * until found in the snapshot. */
    bool ingress;                         /* Run the pipeline as if
                                           * received on 'port'. */
};
#define DP_INJECT_RING 1024

struct dp_txq {
    uint32_t n;
    struct pkt *pkts[DP_TXQ_MAX];
};

struct dp_learn_filter_entry {
    uint32_t key;                         /* Hash of (bridge, vlan, mac, port). */
    int64_t posted;
};

struct dp_thread {
    struct dp *dp;                        /* const */
    pthread_t tid;                        /* const */
    _Atomic bool stop;                    /* atomic */
    int epfd;                             /* dp */
    int wake_fd;                          /* const: eventfd. */
    struct pkt_cache *cache;              /* dp */
    struct vf_ring *learn;                /* prod: dp; cons: agent. */
    struct vf_ring *upcalls;              /* prod: dp; cons: agent. */
    struct vf_ring *inject;               /* prod: agent; cons: dp. */
    uint64_t snap_version;                /* dp: epoll set built for it. */
    int64_t now;                          /* dp: this iteration's time. */
    struct parse_stats parse;             /* dp (summed on read). */
    _Atomic uint64_t n_iterations;        /* atomic */
    _Atomic uint64_t n_sleeps;            /* atomic */
    _Atomic uint64_t n_packets;           /* atomic */
    uint32_t n_paused;                    /* dp: VNICs skipped for quota
                                           * in this iteration. */
    uint32_t n_touched;                   /* dp: queues with packets. */
    uint32_t touched[DP_MAX_PORTS];       /* dp */
    struct dp_port *txq_port[DP_MAX_PORTS];   /* dp */
    struct dp_txq txq[DP_MAX_PORTS];      /* dp */
    struct dp_learn_filter_entry learn_filter[DP_LEARN_FILTER]; /* dp */
    struct dp_accel_stats accel;          /* dp (read racily). */
};

struct dp {
    struct dp_config cfg;                 /* const */
    struct vf_clock own_clock;
    struct vf_clock *clock;               /* const */
    struct pkt_pool *pool;                /* const */
    struct dp_bridge *bridges[DP_MAX_BRIDGES];  /* ctl */
    uint32_t n_bridges;                   /* ctl */
    uint32_t next_bridge_id;              /* ctl */
    struct dp_port *ports[DP_MAX_PORTS];  /* ctl: by index. */
    struct dp_snapshot *snap;          /* ctl: RCU-published. */
    uint64_t snap_version;                /* ctl */
    uint8_t owner_used[DP_MAX_PORTS + 1]; /* ctl: VNIC ids in use. */
    struct dp_thread *thread;             /* const after dp_start. */
    struct link_monitor *links;           /* ctl */
    int64_t next_housekeeping;            /* ctl */
    uint64_t n_upcalls;                   /* ctl */
    uint64_t n_learned;                   /* ctl */
    dp_upcall_cb *upcall_fn;              /* ctl */
    void *upcall_aux;                     /* ctl */
};

/* dp-thread.c */
struct dp_thread *dp_thread_create(struct dp *dp, char **errp);
int dp_thread_start(struct dp_thread *t);
void dp_thread_destroy(struct dp_thread *t);
void dp_thread_wake(struct dp_thread *t);

/* pipeline.c: processes 'n' packets received on 'in' (takes them). */
void dp_pipeline_run(struct dp_thread *t, struct dp_port *in,
                     struct pkt **pkts, uint32_t n);

/* Per-packet state while a batch goes through the pipeline. */
struct dp_ctx {
    struct dp_thread *t;
    struct dp_port *in;
    struct dp_bridge *br;
    const struct dp_bridge_ports *ports;
};

/* pipeline.c helpers shared with fabric.c. */
void dp_drop(struct dp_ctx *c, struct pkt *p, enum dp_drop reason);
void dp_upcall(struct dp_ctx *c, struct pkt *p, uint8_t table,
               enum dp_upcall_reason reason, uint32_t arg, bool last);

/* fabric.c: the learning switch's place in fabric bridges.  Takes 'p' if
 * 'last', else works on a copy. */
void dp_fabric_from_vnic(struct dp_ctx *c, struct pkt *p,
                         const struct flow_key *key, bool last);
/* A frame received on the uplink of a fabric bridge (takes 'p'). */
void dp_fabric_from_uplink(struct dp_ctx *c, struct pkt *p,
                           const struct flow_key *key);
/* The identity anti-spoofing checks for 'port': its fabric binding's if
 * bound, else its configured one. */
const struct vnic_identity *dp_port_identity(const struct dp_port *port);

/* Queues 'p' (taken) for output on 'port'. */
void dp_output(struct dp_thread *t, struct dp_port *port, struct pkt *p);

/* Sends every queued packet. */
void dp_flush(struct dp_thread *t);

static inline void
dp_count_drop(struct dp_port *port, enum dp_drop reason, uint32_t n)
{
    atomic_fetch_add_explicit(&port->drops[reason], n, memory_order_relaxed);
}

/* actions.c: frame rewrites.  Each keeps 'key' in step with the frame and
 * returns 0 or -errno (the frame is then unchanged). */
int dp_vlan_set(struct pkt *p, struct flow_key *key, int vid);
int dp_vlan_strip(struct pkt *p, struct flow_key *key);
int dp_vlan_push(struct pkt *p, struct flow_key *key, uint16_t tpid,
                 uint16_t tci);
int dp_commit_key(struct pkt *p, const struct flow_key *old,
                  const struct flow_key *new_);

#endif /* dp/dp-private.h */
