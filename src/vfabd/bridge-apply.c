/* SPDX-License-Identifier: Apache-2.0 */
/* Bridge apply class: from the configuration model to the datapath.
 *
 * Ports: an sw_port's options become a struct dp_port_config (access VLAN,
 * trunks, VNIC identity from mac= and ip=, buffer quota).  Flows: the rule
 * text is parsed by the classifier's parser with the bridge's port names;
 * the canonical text (cls_text_format_spec) is what switch-config stores,
 * so `dump-flows` shows rules as the classifier understood them.  A flow
 * whose table, match and priority equal an earlier flow's replaces it in
 * the classifier (as ovs-ofctl add-flow does); the earlier sw_flow then
 * no longer owns a rule ('dp' NULL), so removing it removes nothing.
 *
 * Meters: an sw_meter becomes a dp meter of the bridge (dp_meter_add);
 * its 'dp' is set to the dp bridge only as an "applied" marker, the meter
 * being found again by id.  A rule whose first action is meter:N parses
 * only if the dp bridge has meter N (switch-config.c checks the model
 * too; this check guards start-up, where a meter may have failed). */
#include "bridge-apply.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "cls/cls-text.h"
#include "dp/dp.h"
#include "fabric-agent.h"
#include "switch-config.h"
#include "util/buf.h"

/* What an sw_flow's 'dp' points to. */
struct flow_handle {
    unsigned int table;
    uint16_t priority;
    struct cls_match match;
};

static int
ba_bridge_check(void *aux_, const json_t *options, char **errp)
{
    struct bridge_apply *aux = aux_;
    struct fabric_options fo;
    int rc = fabric_options_parse(options, &fo, errp);
    if (!rc && fo.fabric && !aux->fabric) {
        *errp = vf_xstrdup("a fabric bridge needs vfabd started with "
                           "--fabric-server, --fabric-host and "
                           "--fabric-token-file");
        rc = -EINVAL;
    }
    return rc;
}

static int
ba_bridge_add(void *aux_, struct sw_bridge *br, char **errp)
{
    struct bridge_apply *aux = aux_;
    struct fabric_options fo;
    if (fabric_options_parse(br->options, &fo, errp)) {
        return -EINVAL;
    }
    struct dp_bridge *b = dp_bridge_add(aux->dp, br->name, errp);
    if (!b) {
        return -EINVAL;
    }
    if (fo.fabric) {
        int rc = aux->fabric ? fabric_agent_attach(aux->fabric, b, &fo, errp)
                             : -EINVAL;
        if (rc) {
            if (!aux->fabric) {
                *errp = vf_xstrdup("no fabric agent (see --fabric-server)");
            }
            dp_bridge_remove(aux->dp, b);
            return rc;
        }
    }
    br->dp = b;
    return 0;
}

static void
ba_bridge_remove(void *aux_, struct sw_bridge *br)
{
    struct bridge_apply *aux = aux_;
    if (br->dp) {
        fabric_agent_detach(aux->fabric, br->dp);
        dp_bridge_remove(aux->dp, br->dp);
        br->dp = NULL;
    }
}

static int
identity_from_options(const struct sw_port_options *o,
                      struct vnic_identity *id, char **errp)
{
    memset(id, 0, sizeof *id);
    if (!o->has_mac) {
        if (o->n_ips) {
            *errp = vf_xstrdup("ip= needs mac= (the VNIC identity)");
            return -EINVAL;
        }
        return 0;
    }
    vnic_identity_set_mac(id, &o->mac);
    for (size_t i = 0; i < o->n_ips; i++) {
        const struct sw_ip *ip = &o->ips[i];
        if (ip->family == AF_INET) {
            if (id->n_ipv4 == VNIC_MAX_IPS) {
                goto too_many;
            }
            memcpy(&id->ipv4[id->n_ipv4++], ip->addr, 4);
        } else {
            if (id->n_ipv6 == VNIC_MAX_IPS) {
                goto too_many;
            }
            memcpy(id->ipv6[id->n_ipv6++], ip->addr, 16);
        }
    }
    return 0;

too_many:
    *errp = vf_xasprintf("a VNIC has at most %d addresses of each family",
                         VNIC_MAX_IPS);
    return -EINVAL;
}

static enum port_kind
kind_of(enum sw_port_kind k)
{
    switch (k) {
    case SW_PORT_TAP:
        return PORT_KIND_TAP;
    case SW_PORT_AFPACKET:
        return PORT_KIND_AFPACKET;
    case SW_PORT_PATCH:
        return PORT_KIND_PATCH;
    case SW_PORT_DUMMY:
    default:
        return PORT_KIND_DUMMY;
    }
}

static int
ba_port_add(void *aux, struct sw_bridge *br, struct sw_port *port,
            char **errp)
{
    const struct sw_port_options *o = &port->opts;
    struct dp_port_config cfg = {
        .port_no = port->port_no,
        .name = port->name,
        .kind = kind_of(port->kind),
        .peer = o->peer[0] ? o->peer : NULL,
        .has_vlan = o->has_vlan,
        .vlan = o->vlan,
        .trunks = o->trunks,
        .n_trunks = o->n_trunks,
        .quota = o->quota,
        .rx_ring = (enum port_rx_ring) o->rx_ring,
    };
    struct bridge_apply *ba = aux;
    if (o->vnic[0] && !fabric_agent_is_fabric_bridge(ba->fabric, br->dp)) {
        *errp = vf_xasprintf("option 'vnic' is only valid on the fabric "
                             "bridge (%s is not one)", br->name);
        return -EINVAL;
    }
    int rc = identity_from_options(o, &cfg.identity, errp);
    if (rc) {
        return rc;
    }
    struct dp_port *p = dp_port_add(ba->dp, br->dp, &cfg, errp);
    if (!p) {
        return -EINVAL;
    }
    port->dp = p;
    fabric_agent_port_added(ba->fabric, br->dp, p, o->vnic);
    return 0;
}

static void
ba_port_remove(void *aux, struct sw_bridge *br, struct sw_port *port)
{
    struct bridge_apply *ba = aux;
    if (port->dp) {
        fabric_agent_port_removed(ba->fabric, br->dp, port->dp);
        dp_port_remove(ba->dp, port->dp);
        port->dp = NULL;
    }
}

static int
parse_rule(struct sw_bridge *br, const char *text,
           struct cls_rule_spec *spec, char **errp)
{
    struct field_port_names names = dp_bridge_port_names(br->dp);
    int rc = cls_text_parse_rule(text, &names, spec, errp);
    if (rc) {
        return rc;
    }
    for (uint16_t i = 0; i < spec->n_actions; i++) {
        const struct action *a = &spec->actions[i];
        if (a->type == ACTION_SET_FIELD
            && !dp_field_is_committable((enum field_id) a->field)) {
            *errp = vf_xasprintf("set_field cannot write field '%s' into "
                                 "frames", field_from_id(a->field)->name);
            return -EINVAL;
        }
        if (a->type == ACTION_METER && !dp_meter_exists(br->dp, a->arg)) {
            *errp = vf_xasprintf("meter %u does not exist on bridge %s",
                                 a->arg, br->name);
            return -EINVAL;
        }
        if (a->type == ACTION_OUTPUT
            && !dp_port_by_no(br->dp, a->arg)) {
            *errp = vf_xasprintf("output to port %u: no such port", a->arg);
            return -EINVAL;
        }
    }
    return 0;
}

static int
ba_flow_check(void *aux, struct sw_bridge *br, const char *text,
              bool is_match, char **canonical, char **errp)
{
    (void) aux;
    struct field_port_names names = dp_bridge_port_names(br->dp);
    struct vf_buf out = VF_BUF_INITIALIZER;
    if (is_match) {
        struct cls_filter f;
        int rc = cls_text_parse_filter(text, &names, false, &f, errp);
        if (rc) {
            return rc;
        }
        *canonical = NULL;
        return 0;
    }
    struct cls_rule_spec spec;
    int rc = parse_rule(br, text, &spec, errp);
    if (rc) {
        return rc;
    }
    cls_text_format_spec(&spec, &names, &out);
    *canonical = vf_buf_steal(&out);
    return 0;
}

static bool
same_rule(const struct flow_handle *a, const struct flow_handle *b)
{
    return a->table == b->table && a->priority == b->priority
           && !memcmp(&a->match, &b->match, sizeof a->match);
}

static int
ba_flow_add(void *aux, struct sw_bridge *br, struct sw_flow *flow,
            char **errp)
{
    (void) aux;
    struct cls_rule_spec spec;
    int rc = parse_rule(br, flow->rule, &spec, errp);
    if (rc) {
        return rc;
    }
    rc = cls_add(dp_bridge_cls(br->dp), &spec, vf_time_monotonic_ns(), NULL,
                 errp);
    if (rc < 0) {
        return rc;
    }
    struct flow_handle *h = vf_xcalloc(1, sizeof *h);
    h->table = spec.table;
    h->priority = spec.priority;
    h->match = spec.match;
    /* The classifier normalised the match in 'spec' on add. */
    if (rc == 1) {
        for (size_t i = 0; i < br->n_flows; i++) {
            struct flow_handle *o = br->flows[i]->dp;
            if (br->flows[i] != flow && o && same_rule(o, h)) {
                free(o);
                br->flows[i]->dp = NULL;     /* Superseded. */
            }
        }
    }
    flow->dp = h;
    return 0;
}

static void
ba_flow_remove(void *aux, struct sw_bridge *br, struct sw_flow *flow)
{
    (void) aux;
    struct flow_handle *h = flow->dp;
    if (!h) {
        return;
    }
    cls_remove_strict(dp_bridge_cls(br->dp), h->table, &h->match,
                      h->priority);
    free(h);
    flow->dp = NULL;
}

static bool
ba_flow_matches(void *aux, const struct sw_bridge *br,
                const struct sw_flow *flow, const char *match)
{
    (void) aux;
    struct sw_bridge *b = (struct sw_bridge *) br;
    struct field_port_names names = dp_bridge_port_names(b->dp);
    struct cls_filter f;
    struct cls_rule_spec spec;
    char *err = NULL;
    if (cls_text_parse_filter(match, &names, false, &f, &err)
        || cls_text_parse_rule(flow->rule, &names, &spec, &err)) {
        free(err);
        return false;
    }
    /* Loose selection: the flow's match is within the filter's. */
    const uint64_t *fv = flow_key_words(&f.match.value);
    const uint64_t *fm = flow_key_words(&f.match.mask);
    const uint64_t *rv = flow_key_words(&spec.match.value);
    const uint64_t *rm = flow_key_words(&spec.match.mask);
    for (int i = 0; i < FLOW_KEY_N_WORDS; i++) {
        if ((fm[i] & ~rm[i]) || ((rv[i] ^ fv[i]) & fm[i])) {
            return false;
        }
    }
    if (f.table != CLS_ALL_TABLES && (unsigned) f.table != spec.table) {
        return false;
    }
    if (f.strict && f.priority != spec.priority) {
        return false;
    }
    return (spec.cookie & f.cookie_mask) == (f.cookie & f.cookie_mask);
}

static int
ba_meter_add(void *aux, struct sw_bridge *br, struct sw_meter *m,
             char **errp)
{
    struct bridge_apply *ba = aux;
    int rc = dp_meter_add(ba->dp, br->dp, &m->cfg, errp);
    if (!rc) {
        m->dp = br->dp;
    }
    return rc;
}

static void
ba_meter_remove(void *aux, struct sw_bridge *br, struct sw_meter *m)
{
    struct bridge_apply *ba = aux;
    if (m->dp) {
        dp_meter_remove(ba->dp, br->dp, m->cfg.id);
        m->dp = NULL;
    }
}

static void
ba_meter_stats(void *aux, const struct sw_bridge *br,
               const struct sw_meter *m, json_t *obj)
{
    (void) aux;
    struct meter_stats st;
    if (!m->dp || dp_meter_stats(br->dp, m->cfg.id, &st)) {
        return;
    }
    json_object_set_new(obj, "passed_packets",
                        json_integer((json_int_t) st.passed_packets));
    json_object_set_new(obj, "passed_bytes",
                        json_integer((json_int_t) st.passed_bytes));
    json_object_set_new(obj, "dropped_packets",
                        json_integer((json_int_t) st.dropped_packets));
    json_object_set_new(obj, "dropped_bytes",
                        json_integer((json_int_t) st.dropped_bytes));
}

static int
ba_fdb_show(void *aux, const struct sw_bridge *br, json_t **resultp,
            char **errp)
{
    (void) aux;
    (void) errp;
    *resultp = json_pack("{s:s, s:o}", "bridge", br->name, "entries",
                         dp_bridge_fdb_json(br->dp));
    return 0;
}

static int
ba_port_stats(void *aux, const struct sw_bridge *br, json_t **resultp,
              char **errp)
{
    (void) aux;
    (void) errp;
    *resultp = json_pack("{s:s, s:o}", "bridge", br->name, "ports",
                         dp_bridge_port_stats_json(br->dp));
    return 0;
}

static void
ba_show_extra(void *aux_, json_t *result)
{
    struct bridge_apply *aux = aux_;
    if (!aux->fabric) {
        return;
    }
    json_t *st = fabric_agent_status_json(aux->fabric);
    /* The summary `show` needs; `call fabric/show` has everything. */
    json_t *f = json_object();
    static const char *const keys[] = {"server", "host", "reachable",
                                       "unreachable_since_ms", "synced",
                                       "version", "last_error", "bridge"};
    for (size_t i = 0; i < VF_ARRAY_SIZE(keys); i++) {
        json_t *v = json_object_get(st, keys[i]);
        if (v) {
            json_object_set(f, keys[i], v);
        }
    }
    size_t n_bound = 0, i;
    json_t *v;
    json_array_foreach (json_object_get(st, "vnics"), i, v) {
        n_bound += json_is_true(json_object_get(v, "bound"));
    }
    json_object_set_new(f, "vnics_bound", json_integer((json_int_t) n_bound));
    json_object_set_new(result, "fabric", f);
    json_decref(st);
}

const struct switch_apply_class bridge_apply_class = {
    .name = "bridge",
    .bridge_check = ba_bridge_check,
    .bridge_add = ba_bridge_add,
    .bridge_remove = ba_bridge_remove,
    .port_add = ba_port_add,
    .port_remove = ba_port_remove,
    .flow_check = ba_flow_check,
    .flow_add = ba_flow_add,
    .flow_remove = ba_flow_remove,
    .flow_matches = ba_flow_matches,
    .meter_add = ba_meter_add,
    .meter_remove = ba_meter_remove,
    .meter_stats = ba_meter_stats,
    .fdb_show = ba_fdb_show,
    .port_stats = ba_port_stats,
    .show_extra = ba_show_extra,
};
