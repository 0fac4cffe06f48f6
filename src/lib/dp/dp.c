/* SPDX-License-Identifier: Apache-2.0 */
/* The datapath, control side: theory of operation.
 *
 * The agent thread owns every object here.  What a datapath thread reads
 * it reaches only through two kinds of RCU-published snapshots:
 *
 *   dp->snap           every port of every bridge (what to poll)
 *   bridge->ports      the ports of one bridge by number (where to send)
 *
 * A change builds new snapshots, publishes them (vf_rcu_set), wakes the
 * datapath thread so it rebuilds its epoll set, and frees what is no
 * longer reachable after a grace period: snapshots with vf_rcu_call(),
 * ports and bridges after vf_rcu_synchronize() because their device must
 * be closed only once no thread can be inside rx/tx_burst on it.
 *
 * VNICs.  A tap port is a VNIC: it gets its own buffer owner id (charged
 * for every buffer it receives, limited by its quota; see pkt-pool.h) and,
 * with an identity, anti-spoofing and a static MAC-table entry.  A VNIC
 * whose quota is below DP_QUOTA_MIN_OFFLOAD charge units gets its device
 * without offloads: with them, a tap port holds a GSO receive buffer
 * (PKT_GSO_CHARGE units) before every read, so a quota of 8 could never
 * receive a frame (found by tests/integration/t-switch-quota.sh: quota=8
 * gave 100 % loss and a datapath thread spinning on the readable TAP).
 * Such a VNIC's guest segments and checksums itself; every charge unit is
 * then one MTU frame.
 *
 * Agent work (dp_run): learning events, then upcalls (at most
 * upcall_budget per call, so a VNIC flooding upcalls keeps its buffers
 * until the agent gets to them and is throttled by its own quota), then,
 * once a second, MAC ageing and flow expiry with bounded budgets. */
#include "dp/dp.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cls/cls-text.h"
#include "dp/dp-private.h"
#include "port/link-monitor.h"
#include "util/buf.h"
#include "util/log.h"

VF_LOG_MODULE(dp);

#define DP_HOUSEKEEPING_NS (1000 * 1000000ll)
#define DP_AGE_BUDGET 4096
#define DP_EXPIRE_BUDGET 4096
#define DP_LEARN_BUDGET 8192

const char *
dp_drop_name(enum dp_drop reason)
{
    static const char *const names[DP_N_DROPS] = {
        [DP_DROP_MALFORMED] = "malformed",
        [DP_DROP_SPOOF_MAC] = "spoof_mac",
        [DP_DROP_SPOOF_IP] = "spoof_ip",
        [DP_DROP_SPOOF_ARP] = "spoof_arp",
        [DP_DROP_SPOOF_ND] = "spoof_nd",
        [DP_DROP_SPOOF_RA] = "spoof_ra",
        [DP_DROP_VLAN] = "vlan",
        [DP_DROP_NO_RULE] = "no_rule",
        [DP_DROP_ACTION] = "action_drop",
        [DP_DROP_HAIRPIN] = "hairpin",
        [DP_DROP_UPCALL_FULL] = "upcall_full",
        [DP_DROP_NO_BUFFER] = "no_buffer",
        [DP_DROP_TX] = "tx",
        [DP_DROP_LOOP] = "loop",
        [DP_DROP_UNBOUND] = "unbound",
        [DP_DROP_POLICY] = "policy",
        [DP_DROP_NO_DEST] = "no_dest",
        [DP_DROP_TUNNEL] = "tunnel",
        [DP_DROP_VTEP] = "vtep",
        [DP_DROP_NOT_FOR_US] = "not_for_us",
        [DP_DROP_METER] = "meter",
    };
    return (unsigned) reason < DP_N_DROPS ? names[reason] : "unknown";
}

static void
snapshot_free_rcu(struct rcu_head *h)
{
    free(VF_CONTAINER_OF(h, struct dp_snapshot, rcu));
}

static void
bridge_ports_free_rcu(struct rcu_head *h)
{
    struct dp_bridge_ports *bp = VF_CONTAINER_OF(h, struct dp_bridge_ports,
                                                 rcu);
    free(bp->list);
    free(bp);
}

/* Publishes a new global snapshot from dp->ports. */
static void
publish_snapshot(struct dp *dp)
{
    uint32_t n = 0;
    for (uint32_t i = 0; i < DP_MAX_PORTS; i++) {
        n += dp->ports[i] != NULL;
    }
    struct dp_snapshot *s = vf_xcalloc(1, sizeof *s + n * sizeof s->ports[0]);
    for (uint32_t i = 0; i < DP_MAX_PORTS; i++) {
        if (dp->ports[i]) {
            s->ports[s->n++] = dp->ports[i];
        }
    }
    s->version = ++dp->snap_version;
    struct dp_snapshot *old = dp->snap;
    vf_rcu_set(dp->snap, s);
    if (old) {
        vf_rcu_call(&old->rcu, snapshot_free_rcu);
    }
    dp_thread_wake(dp->thread);
}

/* Publishes the ports of 'br' as a new per-bridge snapshot. */
static void
publish_bridge_ports(struct dp *dp, struct dp_bridge *br)
{
    uint32_t n = 0, max_no = 0;
    for (uint32_t i = 0; i < DP_MAX_PORTS; i++) {
        struct dp_port *p = dp->ports[i];
        if (p && p->br == br) {
            n++;
            max_no = VF_MAX(max_no, p->port_no);
        }
    }
    struct dp_bridge_ports *bp = vf_xcalloc(1, sizeof *bp
                                                   + (max_no + 1)
                                                     * sizeof bp->by_no[0]);
    bp->max_no = max_no;
    bp->list = vf_xcalloc(n ? n : 1, sizeof bp->list[0]);
    for (uint32_t i = 0; i < DP_MAX_PORTS; i++) {
        struct dp_port *p = dp->ports[i];
        if (p && p->br == br) {
            bp->by_no[p->port_no] = p;
        }
    }
    for (uint32_t no = 0; no <= max_no; no++) {
        if (bp->by_no[no]) {
            bp->list[bp->n++] = bp->by_no[no];
        }
    }
    struct dp_bridge_ports *old = br->ports;
    vf_rcu_set(br->ports, bp);
    if (old) {
        vf_rcu_call(&old->rcu, bridge_ports_free_rcu);
    }
}

struct dp *
dp_create(const struct dp_config *cfg, char **errp)
{
    struct dp *dp = vf_xcalloc(1, sizeof *dp);
    if (cfg) {
        dp->cfg = *cfg;
    }
    struct dp_config *c = &dp->cfg;
    c->n_mtu_bufs = c->n_mtu_bufs ? c->n_mtu_bufs : 16384;
    c->n_gso_bufs = c->n_gso_bufs ? c->n_gso_bufs : 512;
    c->upcall_budget = c->upcall_budget ? c->upcall_budget : 256;
    c->default_quota = c->default_quota ? c->default_quota : 1024;
    vf_clock_init(&dp->own_clock);
    dp->clock = c->clock ? c->clock : &dp->own_clock;

    struct pkt_pool_config pc = {"dp", {c->n_mtu_bufs, c->n_gso_bufs},
                                 DP_MAX_PORTS + 1};
    dp->pool = pkt_pool_create(&pc);
    if (!dp->pool) {
        *errp = vf_xasprintf("cannot create the packet pool: %s",
                             strerror(errno));
        goto err;
    }
    dp->thread = dp_thread_create(dp, errp);
    if (!dp->thread) {
        goto err;
    }
    dp->links = link_monitor_create();
    if (!dp->links) {
        VF_LOG_WARN(dp, "no link monitor (%s): carrier changes of uplinks "
                    "will not be seen", strerror(errno));
    }
    publish_snapshot(dp);
    return dp;

err:
    dp_destroy(dp);
    return NULL;
}

int
dp_start(struct dp *dp)
{
    return dp_thread_start(dp->thread);
}

static struct dp_bridge *
bridge_by_id(const struct dp *dp, uint32_t id)
{
    for (uint32_t i = 0; i < dp->n_bridges; i++) {
        if (dp->bridges[i]->id == id) {
            return dp->bridges[i];
        }
    }
    return NULL;
}

struct dp_bridge *
dp_bridge_find(const struct dp *dp, const char *name)
{
    for (uint32_t i = 0; i < dp->n_bridges; i++) {
        if (!strcmp(dp->bridges[i]->name, name)) {
            return dp->bridges[i];
        }
    }
    return NULL;
}

static void
bridge_free(struct dp_bridge *br)
{
    free(br->fabric);
    dp_meters_destroy(br->meters);
    emc_destroy(br->emc);
    cls_destroy(br->cls);
    mac_table_destroy(br->macs);
    struct dp_bridge_ports *bp = br->ports;
    if (bp) {
        free(bp->list);
        free(bp);
    }
    free(br);
}

static int
add_default_rule(struct dp_bridge *br, int64_t now, char **errp)
{
    struct cls_rule_spec spec;
    memset(&spec, 0, sizeof spec);
    spec.priority = 0;
    spec.n_actions = 1;
    action_init(&spec.actions[0], ACTION_NORMAL, 0);
    return cls_add(br->cls, &spec, now, NULL, errp) < 0 ? -EINVAL : 0;
}

struct dp_bridge *
dp_bridge_add(struct dp *dp, const char *name, char **errp)
{
    if (strlen(name) >= sizeof ((struct dp_bridge *) 0)->name) {
        *errp = vf_xasprintf("bridge name '%s' is too long", name);
        return NULL;
    }
    if (dp_bridge_find(dp, name)) {
        *errp = vf_xasprintf("bridge %s already exists", name);
        return NULL;
    }
    if (dp->n_bridges == DP_MAX_BRIDGES) {
        *errp = vf_xasprintf("at most %d bridges", DP_MAX_BRIDGES);
        return NULL;
    }
    struct dp_bridge *br = vf_xcalloc(1, sizeof *br);
    br->dp = dp;
    snprintf(br->name, sizeof br->name, "%s", name);
    br->id = ++dp->next_bridge_id;
    struct cls_config cc = {.seed = dp->cfg.seed + br->id};
    br->cls = cls_create(&cc);
    br->macs = mac_table_create(0, 0, dp->cfg.seed + br->id);
    br->emc = emc_create(0, 0, dp->cfg.seed ^ br->id);
    if (!br->cls || !br->macs || !br->emc) {
        *errp = vf_xstrdup("out of memory");
        goto err;
    }
    for (unsigned int t = 1; t < cls_n_tables(br->cls); t++) {
        cls_set_miss(br->cls, t, CLS_MISS_DROP);
    }
    cls_set_miss(br->cls, 0, CLS_MISS_DROP);
    if (add_default_rule(br, vf_clock_now(dp->clock), errp)) {
        goto err;
    }
    publish_bridge_ports(dp, br);
    dp->bridges[dp->n_bridges++] = br;
    return br;

err:
    bridge_free(br);
    return NULL;
}

void
dp_bridge_remove(struct dp *dp, struct dp_bridge *br)
{
    for (uint32_t i = 0; i < DP_MAX_PORTS; i++) {
        if (dp->ports[i] && dp->ports[i]->br == br) {
            dp_port_remove(dp, dp->ports[i]);
        }
    }
    for (uint32_t i = 0; i < dp->n_bridges; i++) {
        if (dp->bridges[i] == br) {
            dp->bridges[i] = dp->bridges[--dp->n_bridges];
            break;
        }
    }
    /* No snapshot refers to the bridge's ports any more; a datapath thread
     * inside an iteration may still use its tables. */
    vf_rcu_synchronize();
    vf_rcu_barrier();            /* Pending frees of its snapshots. */
    bridge_free(br);
}

const char *
dp_bridge_name(const struct dp_bridge *br)
{
    return br->name;
}

struct cls *
dp_bridge_cls(struct dp_bridge *br)
{
    return br->cls;
}

struct mac_table *
dp_bridge_macs(struct dp_bridge *br)
{
    return br->macs;
}

static int
alloc_owner(struct dp *dp)
{
    for (int id = 1; id <= DP_MAX_PORTS; id++) {
        if (!dp->owner_used[id]) {
            dp->owner_used[id] = 1;
            return id;
        }
    }
    return -ENOSPC;
}

static int
alloc_index(const struct dp *dp)
{
    for (int i = 0; i < DP_MAX_PORTS; i++) {
        if (!dp->ports[i]) {
            return i;
        }
    }
    return -ENOSPC;
}

bool
dp_quota_allows_offload(uint32_t quota)
{
    return quota >= DP_QUOTA_MIN_OFFLOAD;
}

static int
port_add_check(const struct dp *dp, const struct dp_bridge *br,
               const struct dp_port_config *cfg, char **errp)
{
    if (cfg->port_no < 1 || cfg->port_no > DP_MAX_PORT_NO) {
        *errp = vf_xasprintf("port number %u out of range 1..%d",
                             cfg->port_no, DP_MAX_PORT_NO);
        return -EINVAL;
    }
    if (dp_port_by_no(br, cfg->port_no)) {
        *errp = vf_xasprintf("port number %u is taken", cfg->port_no);
        return -EEXIST;
    }
    for (uint32_t i = 0; i < DP_MAX_PORTS; i++) {
        if (dp->ports[i] && !strcmp(dp->ports[i]->name, cfg->name)) {
            *errp = vf_xasprintf("port %s already exists", cfg->name);
            return -EEXIST;
        }
    }
    for (size_t i = 0; i < cfg->n_trunks; i++) {
        if (cfg->trunks[i] > 4095) {
            *errp = vf_xasprintf("trunk VLAN %u out of range 0..4095",
                                 cfg->trunks[i]);
            return -EINVAL;
        }
    }
    if (cfg->has_vlan && cfg->vlan > 4095) {
        *errp = vf_xasprintf("VLAN %u out of range 0..4095", cfg->vlan);
        return -EINVAL;
    }
    return 0;
}

static void
port_fill(struct dp_port *port, const struct dp_port_config *cfg)
{
    snprintf(port->name, sizeof port->name, "%s", cfg->name);
    port->port_no = cfg->port_no;
    port->kind = cfg->kind;
    port->has_vlan = cfg->has_vlan;
    port->vlan = cfg->vlan;
    port->is_trunk = cfg->n_trunks > 0;
    for (size_t i = 0; i < cfg->n_trunks; i++) {
        port->trunk_bits[cfg->trunks[i] >> 6] |= 1ull << (cfg->trunks[i] & 63);
    }
    port->identity = cfg->identity;
}

struct dp_port *
dp_port_add(struct dp *dp, struct dp_bridge *br,
            const struct dp_port_config *cfg, char **errp)
{
    if (port_add_check(dp, br, cfg, errp)) {
        return NULL;
    }
    int index = alloc_index(dp);
    if (index < 0) {
        *errp = vf_xasprintf("at most %d ports", DP_MAX_PORTS);
        return NULL;
    }
    struct dp_port *port = vf_xcalloc(1, sizeof *port);
    port->dp = dp;
    port->br = br;
    port->index = (uint32_t) index;
    port_fill(port, cfg);
    if (cfg->kind == PORT_KIND_TAP || (cfg->kind == PORT_KIND_DUMMY
                                       && cfg->vnic)) {
        int owner = alloc_owner(dp);
        if (owner < 0) {
            *errp = vf_xstrdup("no VNIC id left");
            free(port);
            return NULL;
        }
        port->owner = (uint16_t) owner;
        pkt_pool_set_quota(dp->pool, port->owner,
                           cfg->quota ? cfg->quota : dp->cfg.default_quota);
    }
    struct port_config pc = {
        .name = cfg->name, .kind = cfg->kind, .owner = port->owner,
        .offload = !port->owner
                   || dp_quota_allows_offload(cfg->quota
                                                  ? cfg->quota
                                                  : dp->cfg.default_quota),
        .peer = cfg->peer,
        .rx_ring = cfg->rx_ring,
    };
    int rc = port_create(&pc, dp->pool, &port->port, errp);
    if (rc) {
        dp->owner_used[port->owner] = 0;
        free(port);
        return NULL;
    }
    port_get_caps(port->port, &port->caps);
    if (port->identity.has_mac) {
        mac_table_add_static(br->macs, port->has_vlan ? port->vlan : 0,
                             &port->identity.mac, port->port_no);
    }
    if (dp->links && cfg->kind == PORT_KIND_AFPACKET) {
        link_monitor_add_port(dp->links, port->port);
    }
    dp->ports[index] = port;
    publish_bridge_ports(dp, br);
    publish_snapshot(dp);
    return port;
}

void
dp_port_remove(struct dp *dp, struct dp_port *port)
{
    struct dp_bridge *br = port->br;
    dp->ports[port->index] = NULL;
    publish_bridge_ports(dp, br);
    publish_snapshot(dp);
    if (dp->links && port->kind == PORT_KIND_AFPACKET) {
        link_monitor_remove_port(dp->links, port->port);
    }
    mac_table_flush_port(br->macs, port->port_no, true);
    /* After this no datapath thread is inside rx/tx on the device. */
    vf_rcu_synchronize();
    port_destroy(port->port);
    if (port->bind) {
        free(VF_CONTAINER_OF(port->bind, struct dp_vnic_binding_node, b));
    }
    if (port->owner) {
        pkt_pool_set_quota(dp->pool, port->owner, 0);
        dp->owner_used[port->owner] = 0;
    }
    free(port);
}

struct dp_port *
dp_port_find(const struct dp_bridge *br, const char *name)
{
    const struct dp_bridge_ports *bp = br->ports;
    for (uint32_t i = 0; i < bp->n; i++) {
        if (!strcmp(bp->list[i]->name, name)) {
            return bp->list[i];
        }
    }
    return NULL;
}

struct dp_port *
dp_port_by_no(const struct dp_bridge *br, uint32_t port_no)
{
    const struct dp_bridge_ports *bp = br->ports;
    return port_no <= bp->max_no ? bp->by_no[port_no] : NULL;
}

const char *
dp_port_name(const struct dp_port *port)
{
    return port->name;
}

struct port *
dp_port_port(const struct dp_port *port)
{
    return port->port;
}

void
dp_set_upcall_cb(struct dp *dp, dp_upcall_cb *cb, void *aux)
{
    dp->upcall_fn = cb;
    dp->upcall_aux = aux;
}

struct pkt_pool *
dp_pool(const struct dp *dp)
{
    return dp->pool;
}

static int
inject(struct dp *dp, struct dp_port *port, struct pkt *p, bool ingress)
{
    struct dp_inject rec = {p, port, ingress};
    if (!vf_ring_put(dp->thread->inject, &rec)) {
        pkt_free(NULL, p);
        return -ENOBUFS;
    }
    dp_thread_wake(dp->thread);
    return 0;
}

int
dp_agent_send(struct dp *dp, struct dp_port *port, struct pkt *p)
{
    return inject(dp, port, p, false);
}

int
dp_agent_reinject(struct dp *dp, struct dp_port *port, struct pkt *p)
{
    return inject(dp, port, p, true);
}

static void
fabric_free_rcu(struct rcu_head *h)
{
    free(VF_CONTAINER_OF(h, struct dp_fabric, rcu));
}

int
dp_bridge_set_fabric(struct dp *dp, struct dp_bridge *br,
                     const struct dp_fabric_config *cfg, char **errp)
{
    (void) dp;
    if (!cfg->cache || !cfg->neigh || !cfg->vtep_ip || cfg->plen > 32) {
        *errp = vf_xstrdup("fabric needs a translation cache, a neighbour "
                           "table and a VTEP address");
        return -EINVAL;
    }
    struct dp_fabric *f = vf_xcalloc(1, sizeof *f);
    f->cfg = *cfg;
    if (!f->cfg.underlay_mtu) {
        f->cfg.underlay_mtu = 1500;
    }
    f->max_inner = f->cfg.underlay_mtu - (tunnel_overhead(cfg->tunnel) - 14);
    struct dp_fabric *old = br->fabric;
    vf_rcu_set(br->fabric, f);
    if (old) {
        vf_rcu_call(&old->rcu, fabric_free_rcu);
    }
    return 0;
}

uint32_t
dp_bridge_fabric_max_inner(const struct dp_bridge *br)
{
    const struct dp_fabric *f = br->fabric;
    return f ? f->max_inner : 0;
}

static void
binding_free_rcu(struct rcu_head *h)
{
    free(VF_CONTAINER_OF(h, struct dp_vnic_binding_node, rcu));
}

void
dp_port_bind(struct dp *dp, struct dp_port *port,
             const struct dp_vnic_binding *b)
{
    struct dp_vnic_binding_node *n = NULL;
    if (b) {
        n = vf_xcalloc(1, sizeof *n);
        n->b = *b;
    }
    struct dp_vnic_binding *old = port->bind;
    vf_rcu_set(port->bind, n ? &n->b : NULL);
    if (old) {
        struct dp_vnic_binding_node *on
            = VF_CONTAINER_OF(old, struct dp_vnic_binding_node, b);
        vf_rcu_call(&on->rcu, binding_free_rcu);
    }
    (void) dp;
}

struct dp_port *
dp_port_find_bound(const struct dp_bridge *br, const char *name)
{
    const struct dp_bridge_ports *bp = br->ports;
    for (uint32_t i = 0; i < bp->n; i++) {
        const struct dp_vnic_binding *b = bp->list[i]->bind;
        if (b && !strcmp(b->name, name)) {
            return bp->list[i];
        }
    }
    return NULL;
}

uint32_t
dp_port_no(const struct dp_port *port)
{
    return port->port_no;
}

uint64_t
dp_port_drops(const struct dp_port *port, enum dp_drop reason)
{
    return atomic_load(&((struct dp_port *) port)->drops[reason]);
}

static int
names_to_number(void *aux, const char *name, uint32_t *number)
{
    struct dp_port *p = dp_port_find(aux, name);
    if (!p) {
        return -ENOENT;
    }
    *number = p->port_no;
    return 0;
}

static bool
number_to_name(void *aux, uint32_t number, char *buf, size_t size)
{
    struct dp_port *p = dp_port_by_no(aux, number);
    if (!p) {
        return false;
    }
    snprintf(buf, size, "%s", p->name);
    return true;
}

struct field_port_names
dp_bridge_port_names(struct dp_bridge *br)
{
    struct field_port_names n = {names_to_number, number_to_name, br};
    return n;
}

/* --- Agent work --- */

static void
drain_learning(struct dp *dp)
{
    struct dp_learn ev;
    int64_t now = vf_clock_now(dp->clock);
    for (int i = 0; i < DP_LEARN_BUDGET && vf_ring_get(dp->thread->learn, &ev);
         i++) {
        struct dp_bridge *br = bridge_by_id(dp, ev.bridge_id);
        if (!br || !dp_port_by_no(br, ev.port_no)) {
            continue;            /* Bridge or port went away meanwhile. */
        }
        if (mac_table_learn(br->macs, ev.vlan, &ev.mac, ev.port_no, now)
            == MAC_LEARN_NEW) {
            dp->n_learned++;
        }
    }
}

/* Hands queued upcalls to the callback and frees them.  Freeing gives
 * buffers back to VNICs that may be paused for quota, so the datapath
 * thread is woken when anything was drained (dp-thread.c, "Throttled
 * VNICs"). */
static void
drain_upcalls(struct dp *dp)
{
    struct dp_upcall up;
    uint32_t i;
    for (i = 0; i < dp->cfg.upcall_budget
                && vf_ring_get(dp->thread->upcalls, &up);
         i++) {
        dp->n_upcalls++;
        struct dp_bridge *br = bridge_by_id(dp, up.bridge_id);
        bool taken = false;
        struct dp_port *in = br ? dp_port_by_no(br, up.in_port) : NULL;
        if (br && in && dp->upcall_fn) {
            dp->upcall_fn(dp->upcall_aux, br, in, up.table,
                          (enum dp_upcall_reason) up.reason, up.arg, up.pkt,
                          &taken);
        }
        if (!taken) {
            pkt_free(NULL, up.pkt);
        }
    }
    if (i) {
        dp_thread_wake(dp->thread);
    }
}

static void
housekeeping(struct dp *dp, int64_t now)
{
    for (uint32_t i = 0; i < dp->n_bridges; i++) {
        struct dp_bridge *br = dp->bridges[i];
        mac_table_age(br->macs, now, DP_AGE_BUDGET);
        cls_expire(br->cls, now, DP_EXPIRE_BUDGET, NULL, NULL);
    }
}

void
dp_run(struct dp *dp)
{
    drain_learning(dp);
    drain_upcalls(dp);
    if (dp->links) {
        link_monitor_run(dp->links);
    }
    int64_t now = vf_clock_now(dp->clock);
    if (now >= dp->next_housekeeping) {
        housekeeping(dp, now);
        dp->next_housekeeping = now + DP_HOUSEKEEPING_NS;
    }
}

int
dp_wait_ms(const struct dp *dp)
{
    if (vf_ring_count(dp->thread->learn) || vf_ring_count(dp->thread->upcalls)) {
        return 0;
    }
    return 10;
}

void
dp_destroy(struct dp *dp)
{
    if (!dp) {
        return;
    }
    if (dp->thread) {
        dp_thread_destroy(dp->thread);
        dp->thread = NULL;
    }
    while (dp->n_bridges) {
        dp_bridge_remove(dp, dp->bridges[dp->n_bridges - 1]);
    }
    link_monitor_destroy(dp->links);
    vf_rcu_barrier();
    free(dp->snap);
    pkt_pool_destroy(dp->pool);
    free(dp);
}
