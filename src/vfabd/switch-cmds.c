/* SPDX-License-Identifier: Apache-2.0 */
/* Control commands of the switch configuration: see switch-cmds.h.  The
 * result formats are in docs/ctl-protocol.md and rendered for humans by
 * vfabctl's cmd-switch.c. */
#include "switch-cmds.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ctl/ctl-command.h"
#include "switch-apply.h"
#include "switch-config.h"
#include "util/buf.h"
#include "util/compiler.h"

/* Looks up 'name' with a precise error. */
static struct sw_bridge *
find_bridge(struct switch_config *sc, const char *name, int *rcp,
            char **errp)
{
    struct sw_bridge *br = switch_config_find_bridge(sc, name);
    if (!br) {
        *rcp = sw_name_check("bridge", name, errp);
        if (!*rcp) {
            *errp = vf_xasprintf("no bridge named %s", name);
            *rcp = -ENOENT;
        }
    }
    return br;
}

static int
bridge_add_cmd(const struct ctl_request *req, void *sc_, json_t **resultp,
               char **errp)
{
    struct switch_config *sc = sc_;
    json_t *opts = json_object();
    static const char *const keys[] = {"fabric", "underlay", "gateway",
                                       "uplink", "mtu"};
    for (size_t i = 0; i < VF_ARRAY_SIZE(keys); i++) {
        const json_t *v = ctl_request_opt(req, keys[i]);
        if (v) {
            json_object_set(opts, keys[i], (json_t *) v);
        }
    }
    int rc = switch_config_add_bridge(sc, req->args[0], opts, errp);
    json_decref(opts);
    if (!rc) {
        *resultp = json_pack("{s:s}", "bridge", req->args[0]);
    }
    return rc;
}

static int
bridge_remove_cmd(const struct ctl_request *req, void *sc_, json_t **resultp,
                  char **errp)
{
    struct switch_config *sc = sc_;
    size_t n_ports, n_flows;
    int rc = switch_config_remove_bridge(sc, req->args[0], &n_ports,
                                         &n_flows, errp);
    if (!rc) {
        *resultp = json_pack("{s:s, s:I, s:I}", "bridge", req->args[0],
                             "ports_removed", (json_int_t) n_ports,
                             "flows_removed", (json_int_t) n_flows);
    }
    return rc;
}

static const struct ctl_option port_add_options[] = {
    {.name = "type", .type = CTL_OPT_STRING, .required = true},
    {.name = "vlan", .type = CTL_OPT_INT, .min = 0, .max = 4095},
    {.name = "trunks", .type = CTL_OPT_INT_LIST, .min = 0, .max = 4095},
    {.name = "mac", .type = CTL_OPT_STRING},
    {.name = "ip", .type = CTL_OPT_STRING_LIST},
    {.name = "quota", .type = CTL_OPT_INT, .min = 1, .max = SW_MAX_QUOTA},
    {.name = "rx_ring", .type = CTL_OPT_STRING},
    {.name = "peer", .type = CTL_OPT_STRING},
    {.name = "vnic", .type = CTL_OPT_STRING},
    {.name = NULL},
};

static const struct ctl_option bridge_add_options[] = {
    {.name = "fabric", .type = CTL_OPT_STRING},
    {.name = "underlay", .type = CTL_OPT_STRING},
    {.name = "gateway", .type = CTL_OPT_STRING},
    {.name = "uplink", .type = CTL_OPT_STRING},
    {.name = "mtu", .type = CTL_OPT_INT, .min = 576, .max = 9000},
    {.name = NULL},
};

static int
port_add_cmd(const struct ctl_request *req, void *sc_, json_t **resultp,
             char **errp)
{
    struct switch_config *sc = sc_;
    const char *type = ctl_request_opt_string(req, "type");
    int kind = sw_port_kind_from_string(type);
    if (kind < 0) {
        *errp = vf_xasprintf("unknown port type '%.32s' (valid: tap, "
                             "afpacket, patch, dummy)", type);
        return -EINVAL;
    }
    /* The options object less "type" is the port's options. */
    json_t *oj = json_deep_copy(req->options);
    json_object_del(oj, "type");
    struct sw_port_options opts;
    int rc = sw_port_options_from_json(kind, oj, &opts, errp);
    json_decref(oj);
    if (rc) {
        return rc;
    }
    uint32_t port_no = 0;
    rc = switch_config_add_port(sc, req->args[0], req->args[1], kind, &opts,
                                &port_no, errp);
    sw_port_options_uninit(&opts);  /* Empty if taken over. */
    if (!rc) {
        *resultp = json_pack("{s:s, s:s, s:I}", "bridge", req->args[0],
                             "port", req->args[1], "port_no",
                             (json_int_t) port_no);
    }
    return rc;
}

static int
port_remove_cmd(const struct ctl_request *req, void *sc_, json_t **resultp,
                char **errp)
{
    struct switch_config *sc = sc_;
    int rc = switch_config_remove_port(sc, req->args[0], req->args[1], errp);
    if (!rc) {
        *resultp = json_pack("{s:s, s:s}", "bridge", req->args[0], "port",
                             req->args[1]);
    }
    return rc;
}

static int
show_cmd(const struct ctl_request *req, void *sc_, json_t **resultp,
         char **errp)
{
    struct switch_config *sc = sc_;
    json_t *bridges = json_array();
    if (req->n_args) {
        int rc;
        struct sw_bridge *br = find_bridge(sc, req->args[0], &rc, errp);
        if (!br) {
            json_decref(bridges);
            return rc;
        }
        json_array_append_new(bridges, sw_bridge_to_json(br, false));
    } else {
        for (size_t i = 0; i < switch_config_n_bridges(sc); i++) {
            json_array_append_new(
                bridges, sw_bridge_to_json(switch_config_bridge(sc, i),
                                           false));
        }
    }
    *resultp = json_pack("{s:o}", "bridges", bridges);
    const struct switch_apply_class *apply = switch_config_apply_class(sc);
    if (apply->show_extra) {
        apply->show_extra(switch_config_apply_aux(sc), *resultp);
    }
    return 0;
}

static int
flow_add_cmd(const struct ctl_request *req, void *sc_, json_t **resultp,
             char **errp)
{
    struct switch_config *sc = sc_;
    uint64_t seq;
    int rc = switch_config_add_flow(sc, req->args[0], req->args[1], &seq,
                                    errp);
    if (!rc) {
        *resultp = json_pack("{s:s, s:I}", "bridge", req->args[0], "seq",
                             (json_int_t) seq);
    }
    return rc;
}

static int
flow_remove_cmd(const struct ctl_request *req, void *sc_, json_t **resultp,
                char **errp)
{
    struct switch_config *sc = sc_;
    size_t n = 0;
    int rc = switch_config_remove_flows(sc, req->args[0],
                                        req->n_args > 1 ? req->args[1] : NULL,
                                        &n, errp);
    if (!rc) {
        *resultp = json_pack("{s:s, s:I}", "bridge", req->args[0],
                             "n_removed", (json_int_t) n);
    }
    return rc;
}

static int
flow_dump_cmd(const struct ctl_request *req, void *sc_, json_t **resultp,
              char **errp)
{
    struct switch_config *sc = sc_;
    int rc;
    struct sw_bridge *br = find_bridge(sc, req->args[0], &rc, errp);
    if (!br) {
        return rc;
    }
    json_t *j = sw_bridge_to_json(br, true);
    *resultp = json_pack("{s:s, s:O}", "bridge", br->name, "flows",
                         json_object_get(j, "flows"));
    json_decref(j);
    return 0;
}

static int
fdb_show_cmd(const struct ctl_request *req, void *sc_, json_t **resultp,
             char **errp)
{
    struct switch_config *sc = sc_;
    int rc;
    struct sw_bridge *br = find_bridge(sc, req->args[0], &rc, errp);
    if (!br) {
        return rc;
    }
    const struct switch_apply_class *apply = switch_config_apply_class(sc);
    if (!apply->fdb_show) {
        *errp = vf_xasprintf("the MAC table is not available yet: vfabd "
                             "runs without a datapath (apply class '%s')",
                             apply->name);
        return -ENOTSUP;
    }
    return apply->fdb_show(switch_config_apply_aux(sc), br, resultp, errp);
}

static int
port_stats_cmd(const struct ctl_request *req, void *sc_, json_t **resultp,
               char **errp)
{
    struct switch_config *sc = sc_;
    int rc;
    struct sw_bridge *br = find_bridge(sc, req->args[0], &rc, errp);
    if (!br) {
        return rc;
    }
    const struct switch_apply_class *apply = switch_config_apply_class(sc);
    if (!apply->port_stats) {
        *errp = vf_xasprintf("port statistics are not available yet: "
                             "vfabd runs without a datapath (apply class "
                             "'%s')",
                             apply->name);
        return -ENOTSUP;
    }
    return apply->port_stats(switch_config_apply_aux(sc), br, resultp, errp);
}

static const struct ctl_option meter_add_options[] = {
    {.name = "rate", .type = CTL_OPT_INT, .min = 0, .max = INT64_MAX,
     .required = true},
    {.name = "burst", .type = CTL_OPT_INT, .min = 0, .max = INT64_MAX},
    {.name = NULL},
};

/* A meter id argument: decimal 1..METER_ID_MAX. */
static int
parse_meter_id(const char *s, uint32_t *idp, char **errp)
{
    char *end;
    unsigned long v = strtoul(s, &end, 10);
    if (!*s || *s < '0' || *s > '9' || *end || v < 1 || v > METER_ID_MAX) {
        *errp = vf_xasprintf("meter id '%.20s' is not an integer 1..%u", s,
                             METER_ID_MAX);
        return -EINVAL;
    }
    *idp = (uint32_t) v;
    return 0;
}

/* An integer option as a uint32 no greater than 'max' (which the caller
 * reports), else 'max' + 1 so meter_config_check() refuses it. */
static uint32_t
opt_u32(const struct ctl_request *req, const char *name, uint32_t max)
{
    const json_t *v = ctl_request_opt(req, name);
    json_int_t n = v ? json_integer_value(v) : 0;
    return n < 0 || n > (json_int_t) max ? max + 1 : (uint32_t) n;
}

static int
meter_add_cmd(const struct ctl_request *req, void *sc_, json_t **resultp,
              char **errp)
{
    struct switch_config *sc = sc_;
    struct meter_config cfg;
    memset(&cfg, 0, sizeof cfg);
    int rc = parse_meter_id(req->args[1], &cfg.id, errp);
    if (rc) {
        return rc;
    }
    int unit = meter_unit_from_string(req->args[2]);
    if (unit < 0) {
        *errp = vf_xasprintf("unknown meter unit '%.20s' (valid: kbps, "
                             "pktps)", req->args[2]);
        return -EINVAL;
    }
    cfg.unit = (enum meter_unit) unit;
    cfg.rate = opt_u32(req, "rate", METER_RATE_MAX);
    cfg.burst = opt_u32(req, "burst", METER_BURST_MAX);
    if (ctl_request_opt(req, "burst") && !cfg.burst) {
        *errp = vf_xasprintf("burst 0 is out of range 1..%u (%s; leave it "
                             "out for the default)", METER_BURST_MAX,
                             unit == METER_KBPS ? "kbit" : "packets");
        return -EINVAL;
    }
    rc = switch_config_add_meter(sc, req->args[0], &cfg, errp);
    if (!rc) {
        *resultp = json_pack("{s:s, s:I, s:I}", "bridge", req->args[0],
                             "meter", (json_int_t) cfg.id, "burst",
                             (json_int_t) meter_config_burst(&cfg));
    }
    return rc;
}

static int
meter_remove_cmd(const struct ctl_request *req, void *sc_, json_t **resultp,
                 char **errp)
{
    struct switch_config *sc = sc_;
    uint32_t id;
    int rc = parse_meter_id(req->args[1], &id, errp);
    if (!rc) {
        rc = switch_config_remove_meter(sc, req->args[0], id, errp);
    }
    if (!rc) {
        *resultp = json_pack("{s:s, s:I}", "bridge", req->args[0], "meter",
                             (json_int_t) id);
    }
    return rc;
}

static int
meter_dump_cmd(const struct ctl_request *req, void *sc_, json_t **resultp,
               char **errp)
{
    struct switch_config *sc = sc_;
    int rc;
    struct sw_bridge *br = find_bridge(sc, req->args[0], &rc, errp);
    if (!br) {
        return rc;
    }
    const struct switch_apply_class *apply = switch_config_apply_class(sc);
    json_t *meters = json_array();
    for (size_t i = 0; i < br->n_meters; i++) {
        json_t *m = sw_meter_to_json(br->meters[i]);
        if (apply->meter_stats) {
            apply->meter_stats(switch_config_apply_aux(sc), br,
                               br->meters[i], m);
        }
        json_array_append_new(meters, m);
    }
    *resultp = json_pack("{s:s, s:o}", "bridge", br->name, "meters", meters);
    return 0;
}

void
switch_cmds_register(struct switch_config *sc)
{
    VF_VERIFY(!ctl_command_register_opts(
        "bridge/add",
        "BRIDGE {fabric: vxlan|geneve, underlay: A.B.C.D/N, gateway, "
        "uplink: PORT, mtu}",
        1, 1, bridge_add_options, bridge_add_cmd, sc));
    VF_VERIFY(!ctl_command_register("bridge/remove", "BRIDGE", 1, 1,
                                    bridge_remove_cmd, sc));
    VF_VERIFY(!ctl_command_register_opts(
        "port/add",
        "BRIDGE PORT {type: tap|afpacket|patch|dummy, vlan, trunks, mac, "
        "ip, quota, rx_ring, peer, vnic}",
        2, 2, port_add_options, port_add_cmd, sc));
    VF_VERIFY(!ctl_command_register("port/remove", "BRIDGE PORT", 2, 2,
                                    port_remove_cmd, sc));
    VF_VERIFY(!ctl_command_register("switch/show", "[BRIDGE]", 0, 1,
                                    show_cmd, sc));
    VF_VERIFY(!ctl_command_register("flow/add", "BRIDGE RULE", 2, 2,
                                    flow_add_cmd, sc));
    VF_VERIFY(!ctl_command_register("flow/remove", "BRIDGE [MATCH]", 1, 2,
                                    flow_remove_cmd, sc));
    VF_VERIFY(!ctl_command_register("flow/dump", "BRIDGE", 1, 1,
                                    flow_dump_cmd, sc));
    VF_VERIFY(!ctl_command_register("fdb/show", "BRIDGE", 1, 1, fdb_show_cmd,
                                    sc));
    VF_VERIFY(!ctl_command_register("port/stats", "BRIDGE", 1, 1,
                                    port_stats_cmd, sc));
    VF_VERIFY(!ctl_command_register_opts(
        "meter/add", "BRIDGE ID kbps|pktps {rate: N, burst: N}", 3, 3,
        meter_add_options, meter_add_cmd, sc));
    VF_VERIFY(!ctl_command_register("meter/remove", "BRIDGE ID", 2, 2,
                                    meter_remove_cmd, sc));
    VF_VERIFY(!ctl_command_register("meter/dump", "BRIDGE", 1, 1,
                                    meter_dump_cmd, sc));
}
