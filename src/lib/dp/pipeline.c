/* SPDX-License-Identifier: Apache-2.0 */
/* The pipeline: one batch from one input port through the tables.
 *
 *   parse (drop malformed) -> anti-spoof (VNIC ports) -> VLAN ingress
 *     -> table 0 via EMC + classifier (whole batch, prefetched)
 *     -> actions, per packet; goto_table looks up the next table
 *     -> outputs queued per port; dp_flush() sends one burst per port
 *
 * Ownership: every packet entering dp_pipeline_run() leaves exactly once:
 * queued for output (dp_output), handed to the agent (upcall) or freed
 * with a counted drop reason.  When a packet has several destinations
 * (flood, output then mirror, ...) every destination but the last gets a
 * copy (pkt_clone), charged to the same VNIC.
 *
 * VLANs (per port, as Open vSwitch's 'tag' and 'trunks'):
 *   access port (vlan=N):    untagged in and out; a tagged frame is dropped
 *   trunk port (trunks=...): tagged with a listed VLAN; untagged frames
 *                            belong to the native VLAN if vlan=N is also
 *                            set, and are dropped otherwise
 *   plain port:              every VLAN, as the frame says (0: untagged)
 * The learning switch (ACTION_NORMAL) forwards within the packet's VLAN
 * and tags or untags per output port.  Explicit output actions send the
 * frame as it is.
 *
 * Meters: ACTION_METER, always a rule's first action, offers the frame
 * to the bridge's meter (qos/meter.h, table in dp-meter.c) at the
 * iteration's time t->now; over the rate it is dropped ("meter").
 *
 * Learning: the datapath only reads the MAC table.  A source address that
 * is unknown or on another port is posted to the agent (dp_learn, through
 * an SPSC ring), at most once per DP_LEARN_REPOST_NS per address, and
 * floods until the agent has learned it (milliseconds). */
#include <string.h>

#include "dp/dp-private.h"
#include "util/hash.h"

VF_BUILD_ASSERT(PKT_BATCH_MAX <= CLS_BATCH);

static inline bool
vlan_allowed(const struct dp_port *port, uint16_t vlan)
{
    if (port->is_trunk) {
        return (port->trunk_bits[vlan >> 6] >> (vlan & 63)) & 1
               || (port->has_vlan && port->vlan == vlan);
    }
    if (port->has_vlan) {
        return port->vlan == vlan;
    }
    return true;
}

/* The VLAN a frame arriving on 'in' belongs to, or -1 to drop it. */
static int
vlan_ingress(const struct dp_port *in, const struct flow_key *key)
{
    bool tagged = flow_key_has_vlan(key);
    uint16_t vid = tagged ? flow_key_vlan_vid(key) : 0;
    if (in->is_trunk) {
        if (!tagged || vid == 0) {
            return in->has_vlan ? in->vlan : -1;
        }
        return vlan_allowed(in, vid) ? vid : -1;
    }
    if (in->has_vlan) {
        return tagged && vid != 0 ? -1 : in->vlan;
    }
    return vid;
}

/* The tag 'vlan' needs on leaving through 'out': -1 untagged. */
static int
vlan_egress_tag(const struct dp_port *out, uint16_t vlan)
{
    if (out->is_trunk) {
        return out->has_vlan && out->vlan == vlan ? -1 : vlan;
    }
    if (out->has_vlan) {
        return -1;
    }
    return vlan ? vlan : -1;
}

static enum dp_drop
spoof_drop_reason(enum vnic_spoof s)
{
    switch (s) {
    case VNIC_SPOOF_SRC_MAC:
        return DP_DROP_SPOOF_MAC;
    case VNIC_SPOOF_SRC_IP:
        return DP_DROP_SPOOF_IP;
    case VNIC_SPOOF_ARP:
        return DP_DROP_SPOOF_ARP;
    case VNIC_SPOOF_ND:
        return DP_DROP_SPOOF_ND;
    default:
        return DP_DROP_SPOOF_RA;
    }
}

void
dp_drop(struct dp_ctx *c, struct pkt *p, enum dp_drop reason)
{
    dp_count_drop(c->in, reason, 1);
    pkt_free(c->t->cache, p);
}

static inline void
drop(struct dp_ctx *c, struct pkt *p, enum dp_drop reason)
{
    dp_drop(c, p, reason);
}

/* Emits 'p' to 'out': the packet itself if 'last', else a copy.  Returns
 * false if the copy could not be made. */
static void
emit(struct dp_ctx *c, struct pkt *p, struct dp_port *out, bool last)
{
    if (last) {
        dp_output(c->t, out, p);
        return;
    }
    struct pkt *copy = pkt_clone(c->t->cache, p, p->owner);
    if (!copy) {
        dp_count_drop(c->in, DP_DROP_NO_BUFFER, 1);
        return;
    }
    dp_output(c->t, out, copy);
}

void
dp_upcall(struct dp_ctx *c, struct pkt *p, uint8_t table,
          enum dp_upcall_reason reason, uint32_t arg, bool last)
{
    struct pkt *u = last ? p : pkt_clone(c->t->cache, p, p->owner);
    if (!u) {
        dp_count_drop(c->in, DP_DROP_NO_BUFFER, 1);
        return;
    }
    struct dp_upcall rec = {u, c->br->id, c->in->port_no, table,
                            (uint8_t) reason, arg};
    if (!vf_ring_put(c->t->upcalls, &rec)) {
        drop(c, u, DP_DROP_UPCALL_FULL);
    }
}

/* Posts a learning event unless the same one was posted very recently. */
static void
post_learn(struct dp_ctx *c, uint16_t vlan, const struct eth_addr *mac)
{
    struct dp_thread *t = c->t;
    uint64_t w = 0;
    memcpy(&w, mac->ea, 6);
    uint32_t key = vf_hash_u64(w ^ ((uint64_t) vlan << 48),
                               c->br->id * 65537u + c->in->port_no);
    struct dp_learn_filter_entry *f
        = &t->learn_filter[key & (DP_LEARN_FILTER - 1)];
    if (f->key == key && t->now - f->posted < DP_LEARN_REPOST_NS) {
        return;
    }
    struct dp_learn ev = {c->br->id, c->in->port_no, vlan, *mac};
    if (vf_ring_put(t->learn, &ev)) {
        f->key = key;
        f->posted = t->now;
    }
}

/* Sends 'p' (taken) out of 'out' in 'vlan' with the tag 'out' needs. */
static void
normal_output(struct dp_ctx *c, struct pkt *p, struct flow_key *key,
              struct dp_port *out, uint16_t vlan, bool last)
{
    struct pkt *q = last ? p : pkt_clone(c->t->cache, p, p->owner);
    if (!q) {
        dp_count_drop(c->in, DP_DROP_NO_BUFFER, 1);
        return;
    }
    int tag = vlan_egress_tag(out, vlan);
    bool tagged = flow_key_has_vlan(key);
    if ((tag < 0 && tagged)
        || (tag >= 0 && (!tagged || flow_key_vlan_vid(key) != tag))) {
        struct flow_key k = *key;
        if (dp_vlan_set(q, &k, tag)) {
            drop(c, q, DP_DROP_NO_BUFFER);
            return;
        }
    }
    dp_output(c->t, out, q);
}

/* The learning switch. */
static void
action_normal(struct dp_ctx *c, struct pkt *p, struct flow_key *key,
              bool last)
{
    uint16_t vlan = (uint16_t) p->md[0];
    struct mac_table *macs = c->br->macs;
    int64_t now = c->t->now;

    if (!eth_addr_is_multicast(&key->dl_src)) {
        const struct mac_entry *src = mac_table_lookup(macs, vlan,
                                                       &key->dl_src);
        if (src && mac_entry_port(src) == c->in->port_no) {
            mac_entry_touch(src, now);
        } else {
            post_learn(c, vlan, &key->dl_src);
        }
    }
    if (!eth_addr_is_multicast(&key->dl_dst)) {
        const struct mac_entry *dst = mac_table_lookup(macs, vlan,
                                                       &key->dl_dst);
        if (dst) {
            uint32_t no = mac_entry_port(dst);
            struct dp_port *out = no <= c->ports->max_no
                                      ? c->ports->by_no[no] : NULL;
            if (out == c->in) {
                if (last) {
                    drop(c, p, DP_DROP_HAIRPIN);
                }
                return;
            }
            if (out && vlan_allowed(out, vlan)) {
                normal_output(c, p, key, out, vlan, last);
                return;
            }
        }
    }
    /* Flood within the VLAN. */
    struct dp_port *prev = NULL;
    for (uint32_t i = 0; i < c->ports->n; i++) {
        struct dp_port *out = c->ports->list[i];
        /* Ports whose link is down are not skipped: their tx_burst
         * counts the drop, and a TAP learns it is up again only by
         * writing. */
        if (out == c->in || !vlan_allowed(out, vlan)) {
            continue;
        }
        if (prev) {
            normal_output(c, p, key, prev, vlan, false);
        }
        prev = out;
    }
    if (prev) {
        normal_output(c, p, key, prev, vlan, last);
    } else if (last) {
        pkt_free(c->t->cache, p);       /* Nowhere to go: not an error. */
    }
}

static void
action_flood(struct dp_ctx *c, struct pkt *p, bool last)
{
    struct dp_port *prev = NULL;
    for (uint32_t i = 0; i < c->ports->n; i++) {
        struct dp_port *out = c->ports->list[i];
        if (out == c->in) {
            continue;
        }
        if (prev) {
            emit(c, p, prev, false);
        }
        prev = out;
    }
    if (prev) {
        emit(c, p, prev, last);
    } else if (last) {
        pkt_free(c->t->cache, p);
    }
}

static struct dp_port *
port_by_name(const struct dp_bridge_ports *ports, const char *name)
{
    for (uint32_t i = 0; i < ports->n; i++) {
        if (!strcmp(ports->list[i]->name, name)) {
            return ports->list[i];
        }
    }
    return NULL;
}

static const struct cls_rule *
lookup_one(struct dp_ctx *c, unsigned int table, const struct flow_key *key)
{
    struct emc *emc = c->br->emc;
    const struct cls *cls = c->br->cls;
    uint32_t hash = emc_hash(key, table);
    const struct cls_rule *r = emc_lookup(emc, cls, table, key, hash);
    if (!r) {
        uint64_t version = cls_table_version(cls, table);
        r = cls_lookup(cls, table, key);
        if (r) {
            emc_insert(emc, cls, table, version, key, hash, r);
        }
    }
    return r;
}

/* Runs the actions of 'rule' (found in 'table') on 'p' (taken); follows
 * goto_table through later tables. */
static void
execute(struct dp_ctx *c, struct pkt *p, struct flow_key *key,
        const struct cls_rule *rule, unsigned int table)
{
    for (int hops = 0; hops < DP_MAX_TABLE_HOPS; hops++) {
        if (!rule) {
            if (cls_table_miss(c->br->cls, table) == CLS_MISS_UPCALL) {
                dp_upcall(c, p, (uint8_t) table, DP_UPCALL_MISS, 0, true);
            } else {
                drop(c, p, DP_DROP_NO_RULE);
            }
            return;
        }
        cls_rule_hit(rule, 1, p->size, c->t->now);
        int next = -1;
        for (uint16_t i = 0; i < rule->n_actions; i++) {
            const struct action *a = &rule->actions[i];
            bool last = i + 1 == rule->n_actions;
            switch ((enum action_type) a->type) {
            case ACTION_OUTPUT: {
                struct dp_port *out = a->arg <= c->ports->max_no
                                          ? c->ports->by_no[a->arg] : NULL;
                if (out) {
                    emit(c, p, out, last);
                } else if (last) {
                    drop(c, p, DP_DROP_TX);
                }
                break;
            }
            case ACTION_FLOOD:
                action_flood(c, p, last);
                break;
            case ACTION_NORMAL:
                if (vf_rcu_get(c->br->fabric)) {
                    dp_fabric_from_vnic(c, p, key, last);
                } else {
                    action_normal(c, p, key, last);
                }
                break;
            case ACTION_CONTROLLER:
                dp_upcall(c, p, (uint8_t) table, DP_UPCALL_ACTION, 0, last);
                break;
            case ACTION_DROP:
                drop(c, p, DP_DROP_ACTION);
                return;
            case ACTION_MOD_VLAN_VID:
                dp_vlan_set(p, key, (int) a->arg);
                break;
            case ACTION_STRIP_VLAN:
                dp_vlan_strip(p, key);
                break;
            case ACTION_PUSH_VLAN:
                dp_vlan_push(p, key, (uint16_t) a->arg,
                             flow_key_has_vlan(key)
                                 ? vf_ntohs(key->vlan_tci) & ~VLAN_CFI
                                 : 0);
                break;
            case ACTION_SET_FIELD: {
                struct flow_key old = *key;
                action_set_field_apply(a, key);
                dp_commit_key(p, &old, key);
                break;
            }
            case ACTION_GOTO_TABLE:
                next = (int) a->arg;
                break;
            case ACTION_MIRROR: {
                struct dp_port *out = port_by_name(c->ports, a->u.name);
                if (out && out != c->in) {
                    emit(c, p, out, last);
                } else if (last) {
                    pkt_free(c->t->cache, p);
                }
                break;
            }
            case ACTION_METER: {
                /* First action (cls/action.h): nothing cloned yet. */
                struct dp_meter *m = dp_meters_lookup(
                    vf_rcu_get(c->br->meters), a->arg);
                if (!m || !meter_pass(&m->m, p->size, c->t->now)) {
                    drop(c, p, DP_DROP_METER);
                    return;
                }
                break;
            }
            case ACTION_ENCAP:
            case ACTION_DECAP:
            case ACTION_N_TYPES:
                if (last) {
                    drop(c, p, DP_DROP_ACTION);
                }
                break;
            }
        }
        if (next < 0) {
            return;
        }
        table = (unsigned int) next;
        rule = lookup_one(c, table, key);
    }
    drop(c, p, DP_DROP_LOOP);
}

void
dp_pipeline_run(struct dp_thread *t, struct dp_port *in, struct pkt **pkts,
                uint32_t n)
{
    struct dp_ctx c = {t, in, in->br, vf_rcu_get(in->br->ports)};
    struct flow_key keys[PKT_BATCH_MAX];
    const struct flow_key *keyp[PKT_BATCH_MAX];
    struct pkt *live[PKT_BATCH_MAX];
    const struct cls_rule *rules[PKT_BATCH_MAX];
    uint32_t n_live = 0;

    for (uint32_t i = 0; i < n; i++) {
        struct pkt *p = pkts[i];
        struct flow_parse_info info;
        if (i + 1 < n) {
            VF_PREFETCH(pkt_data(pkts[i + 1]));
        }
        p->in_port = in->port_no;
        struct flow_key *key = &keys[n_live];
        flow_parse(pkt_data(p), p->size, in->port_no, key, &info);
        parse_stats_count(&t->parse, &info);
        if (VF_UNLIKELY(info.truncated)) {
            drop(&c, p, DP_DROP_MALFORMED);
            continue;
        }
        const struct vnic_identity *id = dp_port_identity(in);
        if (id->has_mac) {
            enum vnic_spoof s = vnic_check_source(id, key);
            if (VF_UNLIKELY(s != VNIC_SPOOF_NONE)) {
                drop(&c, p, spoof_drop_reason(s));
                continue;
            }
        }
        int vlan = vlan_ingress(in, key);
        if (VF_UNLIKELY(vlan < 0)) {
            drop(&c, p, DP_DROP_VLAN);
            continue;
        }
        p->md[0] = (uint64_t) vlan;
        p->l3_ofs = info.l3_ofs;
        p->l4_ofs = info.l4_ofs;
        const struct dp_fabric *fab = vf_rcu_get(c.br->fabric);
        if (fab && fab->cfg.uplink_port_no == in->port_no) {
            dp_fabric_from_uplink(&c, p, key);
            continue;
        }
        keyp[n_live] = key;
        live[n_live++] = p;
    }
    if (!n_live) {
        return;
    }
    emc_classify_batch(c.br->emc, c.br->cls, 0, keyp, NULL, n_live, rules);
    for (uint32_t i = 0; i < n_live; i++) {
        execute(&c, live[i], &keys[i], rules[i], 0);
    }
}
