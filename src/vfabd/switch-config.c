/* SPDX-License-Identifier: Apache-2.0 */
/* The switch configuration model (contract and the five steps of a change
 * in switch-config.h; the datapath side in switch-apply.h).
 *
 * Layout: the model is arrays of pointers (bridges in creation order,
 * ports by port number, meters by id, flows by seq): a control-path
 * structure of at most a few thousand entries, searched linearly.
 *
 * Meters and flows: a flow names a meter by its first action
 * ("actions=meter:N," in the canonical text the classifier's parser
 * produced, sw_flow_meter_id()).  add-flow refuses a rule naming a meter
 * the bridge lacks; del-meter counts the flows naming it (the model's
 * flows, including ones refused at start-up and ones superseded in the
 * classifier: they are still configuration) and refuses if any do.
 *
 * Undo discipline.  Every operation is written as
 *
 *     validate (pure)  ->  db begin  ->  db changes  ->  apply "add"
 *            -> commit  ->  link into the model
 *
 * with a single exit ladder that rolls the database back and undoes the
 * apply step in reverse order, so the model changes only after the commit
 * succeeded.  Removal is validate -> db begin -> db changes -> commit ->
 * apply "remove" -> unlink, because a datapath removal cannot be undone
 * (a deleted TAP device is gone) but cannot fail either.
 *
 * The interim flow matcher (used until the classifier provides
 * flow_matches): a rule is "key=value,key=value,...,actions=..."; a match
 * selects the rules whose fields before "actions=" include every
 * "key=value" field of the match, compared as text. */
#include "switch-config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "config-db.h"
#include "ctl/jsonrpc.h"
#include "net/addr.h"
#include "port/port.h"
#include "switch-apply.h"
#include "util/buf.h"
#include "util/log.h"

VF_LOG_MODULE(switch_config);

struct switch_config {
    struct config_db *db;                   /* Borrowed. */
    const struct switch_apply_class *apply; /* Never NULL (see null_apply). */
    void *aux;
    struct sw_bridge **bridges;             /* Creation order. */
    size_t n_bridges;
    size_t n_ports;                         /* In all bridges. */
};

static const struct switch_apply_class null_apply = {.name = "model"};

static const char *const kind_names[] = {
    [SW_PORT_TAP] = "tap",
    [SW_PORT_AFPACKET] = "afpacket",
    [SW_PORT_PATCH] = "patch",
    [SW_PORT_DUMMY] = "dummy",
};

/* Validation. */

int
sw_name_check(const char *what, const char *name, char **errp)
{
    size_t len = strlen(name);
    if (!len) {
        *errp = vf_xasprintf("%s name is empty", what);
        return -EINVAL;
    }
    if (len > SW_NAME_MAX) {
        *errp = vf_xasprintf("%s name '%.40s%s' is longer than %d bytes",
                             what, name, len > 40 ? "..." : "", SW_NAME_MAX);
        return -EINVAL;
    }
    if (name[0] == '-' || name[0] == '.') {
        *errp = vf_xasprintf("%s name '%s' must not start with '%c'", what,
                             name, name[0]);
        return -EINVAL;
    }
    for (const char *p = name; *p; p++) {
        char c = *p;
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
              || (c >= '0' && c <= '9') || c == '_' || c == '-'
              || c == '.')) {
            if ((unsigned char) c < 0x20 || (unsigned char) c >= 0x7f) {
                *errp = vf_xasprintf("%s name has an invalid byte 0x%02x "
                                     "(allowed: letters, digits, '_', '-', "
                                     "'.')", what, (unsigned char) c);
            } else {
                *errp = vf_xasprintf("%s name '%s' has an invalid character "
                                     "'%c' (allowed: letters, digits, '_', "
                                     "'-', '.')", what, name, c);
            }
            return -EINVAL;
        }
    }
    return 0;
}

int
sw_port_kind_from_string(const char *s)
{
    for (size_t i = 0; i < VF_ARRAY_SIZE(kind_names); i++) {
        if (!strcmp(s, kind_names[i])) {
            return (int) i;
        }
    }
    return -EINVAL;
}

const char *
sw_port_kind_to_string(enum sw_port_kind kind)
{
    return (unsigned int) kind < VF_ARRAY_SIZE(kind_names) ? kind_names[kind]
                                                          : "?";
}

void
sw_port_options_uninit(struct sw_port_options *opts)
{
    free(opts->trunks);
    free(opts->ips);
    memset(opts, 0, sizeof *opts);
}

static int
parse_vlan_value(const char *what, const json_t *v, uint16_t *vlanp,
                 char **errp)
{
    if (!json_is_integer(v) || json_integer_value(v) < 0
        || json_integer_value(v) > 4095) {
        if (json_is_integer(v)) {
            *errp = vf_xasprintf("%s %lld is out of range 0..4095", what,
                                 (long long) json_integer_value(v));
        } else {
            *errp = vf_xasprintf("%s must be an integer 0..4095", what);
        }
        return -EINVAL;
    }
    *vlanp = (uint16_t) json_integer_value(v);
    return 0;
}

static int
cmp_u16(const void *a, const void *b)
{
    return (int) *(const uint16_t *) a - (int) *(const uint16_t *) b;
}

static int
parse_trunks(const json_t *v, struct sw_port_options *opts, char **errp)
{
    size_t n = json_array_size(v);
    if (!json_is_array(v) || !n || n > 4096) {
        *errp = vf_xstrdup("trunks must be a list of 1 to 4096 VLANs "
                           "(0..4095)");
        return -EINVAL;
    }
    opts->trunks = vf_xcalloc(n, sizeof *opts->trunks);
    for (size_t i = 0; i < n; i++) {
        int rc = parse_vlan_value("trunk VLAN", json_array_get(v, i),
                                  &opts->trunks[i], errp);
        if (rc) {
            return rc;
        }
    }
    qsort(opts->trunks, n, sizeof *opts->trunks, cmp_u16);
    for (size_t i = 1; i < n; i++) {
        if (opts->trunks[i] == opts->trunks[i - 1]) {
            *errp = vf_xasprintf("trunk VLAN %u is listed twice",
                                 opts->trunks[i]);
            return -EINVAL;
        }
    }
    opts->n_trunks = n;
    return 0;
}

static int
parse_mac(const json_t *v, struct sw_port_options *opts, char **errp)
{
    const char *s = json_string_value(v);
    if (!s || eth_addr_parse(s, &opts->mac)) {
        *errp = s ? vf_xasprintf("mac '%.64s' is not a MAC address "
                                 "(aa:bb:cc:dd:ee:ff)", s)
                  : vf_xstrdup("mac must be a string (aa:bb:cc:dd:ee:ff)");
        return -EINVAL;
    }
    if (eth_addr_is_multicast(&opts->mac) || eth_addr_is_zero(&opts->mac)) {
        *errp = vf_xasprintf("mac %s is not a unicast address", s);
        return -EINVAL;
    }
    opts->has_mac = true;
    return 0;
}

static int
parse_one_ip(const char *s, struct sw_ip *ip, char **errp)
{
    memset(ip, 0, sizeof *ip);
    vf_be32 v4;
    if (!ipv4_parse(s, &v4)) {
        uint32_t h = ntohl(v4);
        if (h == 0 || h == 0xffffffff || (h >> 28) == 0xe) {
            *errp = vf_xasprintf("ip %s is not a unicast host address", s);
            return -EINVAL;
        }
        ip->family = AF_INET;
        memcpy(ip->addr, &v4, 4);
        return 0;
    }
    if (!ipv6_parse(s, ip->addr)) {
        static const uint8_t zero[16];
        if (!memcmp(ip->addr, zero, 16) || ip->addr[0] == 0xff) {
            *errp = vf_xasprintf("ip %s is not a unicast host address", s);
            return -EINVAL;
        }
        ip->family = AF_INET6;
        return 0;
    }
    *errp = vf_xasprintf("ip '%.64s' is not an IPv4 or IPv6 address", s);
    return -EINVAL;
}

static int
parse_ips(const json_t *v, struct sw_port_options *opts, char **errp)
{
    size_t n = json_array_size(v);
    if (!json_is_array(v) || !n || n > SW_MAX_IPS) {
        *errp = vf_xasprintf("ip must be a list of 1 to %d addresses",
                             SW_MAX_IPS);
        return -EINVAL;
    }
    opts->ips = vf_xcalloc(n, sizeof *opts->ips);
    for (size_t i = 0; i < n; i++) {
        const char *s = json_string_value(json_array_get(v, i));
        if (!s) {
            *errp = vf_xstrdup("ip must be a list of address strings");
            return -EINVAL;
        }
        int rc = parse_one_ip(s, &opts->ips[i], errp);
        if (rc) {
            return rc;
        }
        for (size_t j = 0; j < i; j++) {
            if (opts->ips[j].family == opts->ips[i].family
                && !memcmp(opts->ips[j].addr, opts->ips[i].addr, 16)) {
                *errp = vf_xasprintf("ip %s is listed twice", s);
                return -EINVAL;
            }
        }
        opts->n_ips = i + 1;
    }
    return 0;
}

static int
parse_option(enum sw_port_kind kind, const char *key, const json_t *v,
             struct sw_port_options *opts, char **errp)
{
    if (!strcmp(key, "vlan")) {
        opts->has_vlan = true;
        return parse_vlan_value("vlan", v, &opts->vlan, errp);
    } else if (!strcmp(key, "trunks")) {
        return parse_trunks(v, opts, errp);
    } else if (!strcmp(key, "mac")) {
        return parse_mac(v, opts, errp);
    } else if (!strcmp(key, "ip")) {
        return parse_ips(v, opts, errp);
    } else if (!strcmp(key, "quota")) {
        if (!json_is_integer(v) || json_integer_value(v) < 1
            || json_integer_value(v) > SW_MAX_QUOTA) {
            *errp = vf_xasprintf("quota must be an integer 1..%u (buffers)",
                                 SW_MAX_QUOTA);
            return -EINVAL;
        }
        opts->quota = (uint32_t) json_integer_value(v);
        return 0;
    } else if (!strcmp(key, "rx_ring")) {
        int ring = port_rx_ring_from_name(json_string_value(v));
        if (ring <= PORT_RX_RING_DEFAULT) {
            *errp = vf_xstrdup("rx_ring must be v2 (TPACKET_V2: each frame "
                               "handed over at once) or v3 (TPACKET_V3 "
                               "blocks)");
            return -EINVAL;
        }
        if (kind != SW_PORT_AFPACKET) {
            *errp = vf_xstrdup("option 'rx_ring' is only valid for afpacket "
                               "ports");
            return -EINVAL;
        }
        opts->rx_ring = ring;
        return 0;
    } else if (!strcmp(key, "vnic")) {
        const char *name = json_string_value(v);
        size_t len = name ? strlen(name) : 0;
        bool ok = len >= 1 && len < sizeof opts->vnic
                  && (isalnum((unsigned char) name[0]));
        for (size_t i = 0; ok && i < len; i++) {
            ok = isalnum((unsigned char) name[i]) || strchr("_.-", name[i]);
        }
        if (!ok) {
            *errp = vf_xstrdup("vnic must be a VNIC name of vfab-policyd "
                               "(1-63 of A-Z a-z 0-9 _ . -, starting with "
                               "a letter or digit)");
            return -EINVAL;
        }
        if (kind != SW_PORT_TAP) {
            *errp = vf_xstrdup("option 'vnic' is only valid for tap ports");
            return -EINVAL;
        }
        strcpy(opts->vnic, name);
        return 0;
    } else if (!strcmp(key, "peer")) {
        if (kind != SW_PORT_PATCH) {
            *errp = vf_xstrdup("option 'peer' is only valid for patch "
                               "ports");
            return -EINVAL;
        }
        if (!json_is_string(v)) {
            *errp = vf_xstrdup("peer must be a port name");
            return -EINVAL;
        }
        int rc = sw_name_check("peer port", json_string_value(v), errp);
        if (!rc) {
            strcpy(opts->peer, json_string_value(v));
        }
        return rc;
    }
    *errp = vf_xasprintf("unknown port option '%.64s' (valid: vlan, trunks, "
                         "mac, ip, quota, rx_ring, peer, vnic)", key);
    return -EINVAL;
}

int
sw_port_options_from_json(enum sw_port_kind kind, const json_t *json,
                          struct sw_port_options *opts, char **errp)
{
    memset(opts, 0, sizeof *opts);
    if (json && !json_is_object(json)) {
        *errp = vf_xstrdup("port options must be a JSON object");
        return -EINVAL;
    }
    const char *key;
    json_t *v;
    int rc = 0;
    json_object_foreach ((json_t *) json, key, v) {
        rc = parse_option(kind, key, v, opts, errp);
        if (rc) {
            goto err;
        }
    }
    if (opts->has_vlan && opts->n_trunks) {
        *errp = vf_xstrdup("vlan and trunks are mutually exclusive (an "
                           "access port has a vlan, a trunk port trunks)");
        rc = -EINVAL;
        goto err;
    }
    if (kind == SW_PORT_PATCH && !opts->peer[0]) {
        *errp = vf_xstrdup("a patch port needs peer=PORT");
        rc = -EINVAL;
        goto err;
    }
    return 0;

err:
    sw_port_options_uninit(opts);
    return rc;
}

json_t *
sw_port_options_to_json(const struct sw_port_options *opts)
{
    json_t *j = json_object();
    if (opts->has_vlan) {
        json_object_set_new(j, "vlan", json_integer(opts->vlan));
    }
    if (opts->n_trunks) {
        json_t *a = json_array();
        for (size_t i = 0; i < opts->n_trunks; i++) {
            json_array_append_new(a, json_integer(opts->trunks[i]));
        }
        json_object_set_new(j, "trunks", a);
    }
    if (opts->has_mac) {
        char s[ETH_ADDR_STRLEN];
        json_object_set_new(j, "mac",
                            json_string(eth_addr_format(&opts->mac, s)));
    }
    if (opts->n_ips) {
        json_t *a = json_array();
        for (size_t i = 0; i < opts->n_ips; i++) {
            char s[IPV6_STRLEN];
            vf_be32 v4;
            memcpy(&v4, opts->ips[i].addr, 4);
            json_array_append_new(
                a, json_string(opts->ips[i].family == AF_INET
                                   ? ipv4_format(v4, s)
                                   : ipv6_format(opts->ips[i].addr, s)));
        }
        json_object_set_new(j, "ip", a);
    }
    if (opts->quota) {
        json_object_set_new(j, "quota", json_integer(opts->quota));
    }
    if (opts->rx_ring) {
        json_object_set_new(j, "rx_ring", json_string(port_rx_ring_name(
                                              opts->rx_ring)));
    }
    if (opts->peer[0]) {
        json_object_set_new(j, "peer", json_string(opts->peer));
    }
    if (opts->vnic[0]) {
        json_object_set_new(j, "vnic", json_string(opts->vnic));
    }
    return j;
}

int
sw_flow_text_check(const char *what, const char *text, char **errp)
{
    size_t len = strlen(text);
    if (!len) {
        *errp = vf_xasprintf("%s is empty", what);
        return -EINVAL;
    }
    if (len > SW_FLOW_MAX_LEN) {
        *errp = vf_xasprintf("%s is longer than %d bytes", what,
                             SW_FLOW_MAX_LEN);
        return -EINVAL;
    }
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char) text[i];
        if (c < 0x20 || c >= 0x7f) {
            *errp = vf_xasprintf("%s has an invalid byte 0x%02x at offset "
                                 "%zu (printable ASCII only)", what, c, i);
            return -EINVAL;
        }
    }
    return 0;
}

/* Model objects. */

static void
port_free(struct sw_port *port)
{
    if (port) {
        sw_port_options_uninit(&port->opts);
        free(port->error);
        free(port);
    }
}

static void
flow_free(struct sw_flow *flow)
{
    if (flow) {
        free(flow->rule);
        free(flow->error);
        free(flow);
    }
}

static void
meter_free(struct sw_meter *m)
{
    if (m) {
        free(m->error);
        free(m);
    }
}

static void
bridge_free(struct sw_bridge *br)
{
    if (br) {
        for (size_t i = 0; i < br->n_ports; i++) {
            port_free(br->ports[i]);
        }
        for (size_t i = 0; i < br->n_flows; i++) {
            flow_free(br->flows[i]);
        }
        for (size_t i = 0; i < br->n_meters; i++) {
            meter_free(br->meters[i]);
        }
        free(br->meters);
        free(br->ports);
        free(br->flows);
        free(br->error);
        json_decref(br->options);
        free(br);
    }
}

struct switch_config *
switch_config_create(struct config_db *db,
                     const struct switch_apply_class *apply, void *aux)
{
    struct switch_config *sc = vf_xcalloc(1, sizeof *sc);
    sc->db = db;
    sc->apply = apply ? apply : &null_apply;
    sc->aux = aux;
    return sc;
}

/* Datapath teardown of one bridge, flows first, then meters, then ports
 * (switch-apply.h order). */
static void
bridge_unapply(struct switch_config *sc, struct sw_bridge *br)
{
    for (size_t i = br->n_flows; i-- > 0;) {
        struct sw_flow *f = br->flows[i];
        if (!f->error && sc->apply->flow_remove) {
            sc->apply->flow_remove(sc->aux, br, f);
        }
    }
    for (size_t i = br->n_meters; i-- > 0;) {
        struct sw_meter *m = br->meters[i];
        if (!m->error && sc->apply->meter_remove) {
            sc->apply->meter_remove(sc->aux, br, m);
        }
    }
    for (size_t i = br->n_ports; i-- > 0;) {
        struct sw_port *p = br->ports[i];
        if (!p->error && sc->apply->port_remove) {
            sc->apply->port_remove(sc->aux, br, p);
        }
    }
    if (!br->error && sc->apply->bridge_remove) {
        sc->apply->bridge_remove(sc->aux, br);
    }
}

void
switch_config_destroy(struct switch_config *sc)
{
    if (!sc) {
        return;
    }
    for (size_t i = sc->n_bridges; i-- > 0;) {
        bridge_unapply(sc, sc->bridges[i]);
        bridge_free(sc->bridges[i]);
    }
    free(sc->bridges);
    free(sc);
}

struct sw_bridge *
switch_config_find_bridge(const struct switch_config *sc, const char *name)
{
    for (size_t i = 0; i < sc->n_bridges; i++) {
        if (!strcmp(sc->bridges[i]->name, name)) {
            return sc->bridges[i];
        }
    }
    return NULL;
}

struct sw_port *
switch_config_find_port(const struct switch_config *sc, const char *name)
{
    for (size_t i = 0; i < sc->n_bridges; i++) {
        struct sw_bridge *br = sc->bridges[i];
        for (size_t j = 0; j < br->n_ports; j++) {
            if (!strcmp(br->ports[j]->name, name)) {
                return br->ports[j];
            }
        }
    }
    return NULL;
}

size_t
switch_config_n_bridges(const struct switch_config *sc)
{
    return sc->n_bridges;
}

struct sw_bridge *
switch_config_bridge(const struct switch_config *sc, size_t i)
{
    return i < sc->n_bridges ? sc->bridges[i] : NULL;
}

const struct switch_apply_class *
switch_config_apply_class(const struct switch_config *sc)
{
    return sc->apply;
}

void *
switch_config_apply_aux(const struct switch_config *sc)
{
    return sc->aux;
}

static struct sw_bridge *
bridge_lookup_err(const struct switch_config *sc, const char *name,
                  char **errp)
{
    struct sw_bridge *br = switch_config_find_bridge(sc, name);
    if (!br) {
        if (sw_name_check("bridge", name, errp)) {
            return NULL;
        }
        *errp = vf_xasprintf("no bridge named %s", name);
    }
    return br;
}

/* Array helpers: insert keeping an order, remove by index. */

static void
ptr_insert(void ***arrayp, size_t *np, size_t pos, void *p)
{
    *arrayp = vf_xrealloc(*arrayp, (*np + 1) * sizeof **arrayp);
    memmove(*arrayp + pos + 1, *arrayp + pos, (*np - pos) * sizeof **arrayp);
    (*arrayp)[pos] = p;
    (*np)++;
}

static void
ptr_remove(void **array, size_t *np, size_t pos)
{
    memmove(array + pos, array + pos + 1, (*np - pos - 1) * sizeof *array);
    (*np)--;
}

static void
bridge_link_port(struct sw_bridge *br, struct sw_port *port)
{
    size_t pos = 0;
    while (pos < br->n_ports && br->ports[pos]->port_no < port->port_no) {
        pos++;
    }
    port->bridge = br;
    ptr_insert((void ***) &br->ports, &br->n_ports, pos, port);
}

static void
bridge_link_flow(struct sw_bridge *br, struct sw_flow *flow)
{
    size_t pos = br->n_flows;
    while (pos > 0 && br->flows[pos - 1]->seq > flow->seq) {
        pos--;
    }
    ptr_insert((void ***) &br->flows, &br->n_flows, pos, flow);
    if (flow->seq >= br->next_seq) {
        br->next_seq = flow->seq + 1;
    }
}

/* Operations. */

/* Validates bridge options through the apply class. */
static int
bridge_options_check(const struct switch_config *sc, const json_t *options,
                     char **errp)
{
    if (!json_is_object(options)) {
        *errp = vf_xstrdup("bridge options must be a JSON object");
        return -EINVAL;
    }
    if (sc->apply->bridge_check) {
        return sc->apply->bridge_check(sc->aux, options, errp);
    }
    if (json_object_size(options)) {
        *errp = vf_xstrdup("this datapath takes no bridge options");
        return -EINVAL;
    }
    return 0;
}

int
switch_config_add_bridge(struct switch_config *sc, const char *name,
                         const json_t *options, char **errp)
{
    int rc = sw_name_check("bridge", name, errp);
    if (rc) {
        return rc;
    }
    json_t *opts = options ? json_deep_copy(options) : json_object();
    rc = bridge_options_check(sc, opts, errp);
    if (rc) {
        json_decref(opts);
        return rc;
    }
    if (switch_config_find_bridge(sc, name)) {
        *errp = vf_xasprintf("bridge %s already exists", name);
        json_decref(opts);
        return -EEXIST;
    }
    if (sc->n_bridges >= SW_MAX_BRIDGES) {
        *errp = vf_xasprintf("cannot add bridge %s: the limit of %d bridges "
                             "is reached", name, SW_MAX_BRIDGES);
        json_decref(opts);
        return -ENOSPC;
    }

    struct sw_bridge *br = vf_xcalloc(1, sizeof *br);
    strcpy(br->name, name);
    br->next_seq = 1;
    br->options = opts;
    char *opts_text = json_dumps(opts, JSON_COMPACT | JSON_SORT_KEYS);
    struct config_db_bridge rec = {.name = name, .options = opts_text};
    bool applied = false;
    rc = config_db_begin(sc->db, errp);
    if (rc) {
        goto err;
    }
    rc = config_db_add_bridge(sc->db, &rec, errp);
    if (rc) {
        goto err;
    }
    if (sc->apply->bridge_add) {
        rc = sc->apply->bridge_add(sc->aux, br, errp);
        if (rc) {
            goto err;
        }
        applied = true;
    }
    rc = config_db_commit(sc->db, errp);
    if (rc) {
        goto err;
    }
    ptr_insert((void ***) &sc->bridges, &sc->n_bridges, sc->n_bridges, br);
    VF_LOG_INFO(switch_config, "added bridge %s", name);
    free(opts_text);
    return 0;

err:
    if (applied && sc->apply->bridge_remove) {
        sc->apply->bridge_remove(sc->aux, br);
    }
    config_db_rollback(sc->db);
    bridge_free(br);
    free(opts_text);
    return rc;
}

int
switch_config_remove_bridge(struct switch_config *sc, const char *name,
                            size_t *n_ports, size_t *n_flows, char **errp)
{
    struct sw_bridge *br = bridge_lookup_err(sc, name, errp);
    if (!br) {
        return -ENOENT;
    }
    int rc = config_db_begin(sc->db, errp);
    if (!rc) {
        rc = config_db_remove_bridge(sc->db, name, errp);
    }
    if (!rc) {
        rc = config_db_commit(sc->db, errp);
    }
    if (rc) {
        config_db_rollback(sc->db);
        return rc;
    }
    *n_ports = br->n_ports;
    *n_flows = br->n_flows;
    bridge_unapply(sc, br);
    for (size_t i = 0; i < sc->n_bridges; i++) {
        if (sc->bridges[i] == br) {
            ptr_remove((void **) sc->bridges, &sc->n_bridges, i);
            break;
        }
    }
    sc->n_ports -= br->n_ports;
    VF_LOG_INFO(switch_config, "removed bridge %s (%zu ports, %zu flows)",
                name, *n_ports, *n_flows);
    bridge_free(br);
    return 0;
}

static uint32_t
lowest_free_port_no(const struct sw_bridge *br)
{
    uint32_t no = 1;
    for (size_t i = 0; i < br->n_ports && br->ports[i]->port_no == no; i++) {
        no++;
    }
    return no;
}

/* Checks that a new port 'name' may join 'br'. */
static int
port_add_check(const struct switch_config *sc, const struct sw_bridge *br,
               const char *name, const struct sw_port_options *opts,
               char **errp)
{
    const struct sw_port *other = switch_config_find_port(sc, name);
    if (other) {
        *errp = other->bridge == br
                    ? vf_xasprintf("port %s already exists on bridge %s",
                                   name, br->name)
                    : vf_xasprintf("port %s already exists on bridge %s "
                                   "(port names are unique on a host)",
                                   name, other->bridge->name);
        return -EEXIST;
    }
    if (!strcmp(opts->peer, name)) {
        *errp = vf_xasprintf("patch port %s cannot be its own peer", name);
        return -EINVAL;
    }
    if (sc->n_ports >= SW_MAX_PORTS || br->n_ports >= SW_PORT_NO_MAX) {
        *errp = vf_xasprintf("cannot add port %s: the limit of %d ports is "
                             "reached", name, SW_MAX_PORTS);
        return -ENOSPC;
    }
    return 0;
}

int
switch_config_add_port(struct switch_config *sc, const char *bridge,
                       const char *name, enum sw_port_kind kind,
                       struct sw_port_options *opts, uint32_t *port_nop,
                       char **errp)
{
    int rc = sw_name_check("port", name, errp);
    if (rc) {
        return rc;
    }
    struct sw_bridge *br = bridge_lookup_err(sc, bridge, errp);
    if (!br) {
        return -ENOENT;
    }
    rc = port_add_check(sc, br, name, opts, errp);
    if (rc) {
        return rc;
    }

    struct sw_port *port = vf_xcalloc(1, sizeof *port);
    strcpy(port->name, name);
    port->kind = kind;
    port->port_no = lowest_free_port_no(br);
    port->bridge = br;
    port->opts = *opts;             /* Taken over only on success. */

    json_t *oj = sw_port_options_to_json(opts);
    char *options = jsonrpc_json_to_string(oj);
    json_decref(oj);
    struct config_db_port rec = {
        .bridge = br->name,
        .name = name,
        .kind = sw_port_kind_to_string(kind),
        .port_no = port->port_no,
        .options = options,
    };
    bool applied = false;
    rc = config_db_begin(sc->db, errp);
    if (!rc) {
        rc = config_db_add_port(sc->db, &rec, errp);
    }
    if (!rc && sc->apply->port_add) {
        rc = sc->apply->port_add(sc->aux, br, port, errp);
        applied = !rc;
    }
    if (!rc) {
        rc = config_db_commit(sc->db, errp);
    }
    free(options);
    if (rc) {
        if (applied && sc->apply->port_remove) {
            sc->apply->port_remove(sc->aux, br, port);
        }
        config_db_rollback(sc->db);
        memset(&port->opts, 0, sizeof port->opts);  /* Caller keeps them. */
        port_free(port);
        return rc;
    }
    memset(opts, 0, sizeof *opts);
    bridge_link_port(br, port);
    sc->n_ports++;
    *port_nop = port->port_no;
    VF_LOG_INFO(switch_config, "added %s port %s to bridge %s as port %u",
                sw_port_kind_to_string(kind), name, br->name, port->port_no);
    return 0;
}

int
switch_config_remove_port(struct switch_config *sc, const char *bridge,
                          const char *name, char **errp)
{
    struct sw_bridge *br = bridge_lookup_err(sc, bridge, errp);
    if (!br) {
        return -ENOENT;
    }
    struct sw_port *port = switch_config_find_port(sc, name);
    if (!port || port->bridge != br) {
        if (sw_name_check("port", name, errp)) {
            return -EINVAL;
        }
        *errp = port ? vf_xasprintf("port %s is not on bridge %s (it is on "
                                    "%s)", name, bridge, port->bridge->name)
                     : vf_xasprintf("no port named %s on bridge %s", name,
                                    bridge);
        return -ENOENT;
    }
    int rc = config_db_begin(sc->db, errp);
    if (!rc) {
        rc = config_db_remove_port(sc->db, name, errp);
    }
    if (!rc) {
        rc = config_db_commit(sc->db, errp);
    }
    if (rc) {
        config_db_rollback(sc->db);
        return rc;
    }
    if (!port->error && sc->apply->port_remove) {
        sc->apply->port_remove(sc->aux, br, port);
    }
    for (size_t i = 0; i < br->n_ports; i++) {
        if (br->ports[i] == port) {
            ptr_remove((void **) br->ports, &br->n_ports, i);
            break;
        }
    }
    sc->n_ports--;
    VF_LOG_INFO(switch_config, "removed port %s from bridge %s", name,
                bridge);
    port_free(port);
    return 0;
}

/* Meters. */

struct sw_meter *
sw_bridge_find_meter(const struct sw_bridge *br, uint32_t id)
{
    for (size_t i = 0; i < br->n_meters; i++) {
        if (br->meters[i]->cfg.id == id) {
            return br->meters[i];
        }
    }
    return NULL;
}

uint32_t
sw_flow_meter_id(const char *rule)
{
    const char *a = strstr(rule, "actions=");
    if (!a || strncmp(a + 8, "meter:", 6)) {
        return 0;
    }
    char *end;
    unsigned long id = strtoul(a + 14, &end, 10);
    return end != a + 14 && (*end == ',' || *end == '\0')
                   && id <= METER_ID_MAX
               ? (uint32_t) id
               : 0;
}

static size_t
meter_n_users(const struct sw_bridge *br, uint32_t id)
{
    size_t n = 0;
    for (size_t i = 0; i < br->n_flows; i++) {
        n += sw_flow_meter_id(br->flows[i]->rule) == id;
    }
    return n;
}

static void
bridge_link_meter(struct sw_bridge *br, struct sw_meter *m)
{
    size_t pos = 0;
    while (pos < br->n_meters && br->meters[pos]->cfg.id < m->cfg.id) {
        pos++;
    }
    ptr_insert((void ***) &br->meters, &br->n_meters, pos, m);
}

/* Checks that meter 'cfg' may join 'br'. */
static int
meter_add_check(const struct sw_bridge *br, const struct meter_config *cfg,
                char **errp)
{
    int rc = meter_config_check(cfg, errp);
    if (rc) {
        return rc;
    }
    if (sw_bridge_find_meter(br, cfg->id)) {
        *errp = vf_xasprintf("meter %u already exists on bridge %s", cfg->id,
                             br->name);
        return -EEXIST;
    }
    if (br->n_meters >= SW_MAX_METERS) {
        *errp = vf_xasprintf("bridge %s has the maximum of %d meters",
                             br->name, SW_MAX_METERS);
        return -ENOSPC;
    }
    return 0;
}

int
switch_config_add_meter(struct switch_config *sc, const char *bridge,
                        const struct meter_config *cfg, char **errp)
{
    struct sw_bridge *br = bridge_lookup_err(sc, bridge, errp);
    if (!br) {
        return -ENOENT;
    }
    int rc = meter_add_check(br, cfg, errp);
    if (rc) {
        return rc;
    }
    struct sw_meter *m = vf_xcalloc(1, sizeof *m);
    m->cfg = *cfg;
    struct config_db_meter rec = {
        .bridge = br->name,
        .id = cfg->id,
        .unit = meter_unit_to_string(cfg->unit),
        .rate = cfg->rate,
        .burst = cfg->burst,
    };
    bool applied = false;
    rc = config_db_begin(sc->db, errp);
    if (!rc) {
        rc = config_db_add_meter(sc->db, &rec, errp);
    }
    if (!rc && sc->apply->meter_add) {
        rc = sc->apply->meter_add(sc->aux, br, m, errp);
        applied = !rc;
    }
    if (!rc) {
        rc = config_db_commit(sc->db, errp);
    }
    if (rc) {
        if (applied && sc->apply->meter_remove) {
            sc->apply->meter_remove(sc->aux, br, m);
        }
        config_db_rollback(sc->db);
        meter_free(m);
        return rc;
    }
    bridge_link_meter(br, m);
    VF_LOG_INFO(switch_config, "bridge %s: added meter %u (%u %s, burst %u)",
                br->name, cfg->id, cfg->rate, meter_unit_to_string(cfg->unit),
                meter_config_burst(cfg));
    return 0;
}

int
switch_config_remove_meter(struct switch_config *sc, const char *bridge,
                           uint32_t id, char **errp)
{
    struct sw_bridge *br = bridge_lookup_err(sc, bridge, errp);
    if (!br) {
        return -ENOENT;
    }
    struct sw_meter *m = sw_bridge_find_meter(br, id);
    if (!m) {
        *errp = vf_xasprintf("meter %u does not exist on bridge %s", id,
                             bridge);
        return -ENOENT;
    }
    size_t n_users = meter_n_users(br, id);
    if (n_users) {
        *errp = vf_xasprintf("meter %u on bridge %s is used by %zu flow%s "
                             "(remove %s first)", id, bridge, n_users,
                             n_users == 1 ? "" : "s",
                             n_users == 1 ? "it" : "them");
        return -ENOTEMPTY;      /* -EBUSY would map to the protocol's
                                 * "busy: too many clients". */
    }
    int rc = config_db_begin(sc->db, errp);
    if (!rc) {
        rc = config_db_remove_meter(sc->db, br->name, id, errp);
    }
    if (!rc) {
        rc = config_db_commit(sc->db, errp);
    }
    if (rc) {
        config_db_rollback(sc->db);
        return rc;
    }
    if (!m->error && sc->apply->meter_remove) {
        sc->apply->meter_remove(sc->aux, br, m);
    }
    for (size_t i = 0; i < br->n_meters; i++) {
        if (br->meters[i] == m) {
            ptr_remove((void **) br->meters, &br->n_meters, i);
            break;
        }
    }
    meter_free(m);
    VF_LOG_INFO(switch_config, "bridge %s: removed meter %u", bridge, id);
    return 0;
}

/* Text checks, then the classifier's hook.  Returns the text to store
 * (caller frees) or NULL with '*errp'. */
static char *
flow_check(struct switch_config *sc, struct sw_bridge *br, const char *text,
           bool is_match, char **errp)
{
    const char *what = is_match ? "flow match" : "flow rule";
    if (sw_flow_text_check(what, text, errp)) {
        return NULL;
    }
    char *canonical = NULL;
    if (sc->apply->flow_check
        && sc->apply->flow_check(sc->aux, br, text, is_match, &canonical,
                                 errp)) {
        return NULL;
    }
    return canonical ? canonical : vf_xstrdup(text);
}

int
switch_config_add_flow(struct switch_config *sc, const char *bridge,
                       const char *rule, uint64_t *seqp, char **errp)
{
    struct sw_bridge *br = bridge_lookup_err(sc, bridge, errp);
    if (!br) {
        return -ENOENT;
    }
    if (br->n_flows >= SW_MAX_FLOWS) {
        *errp = vf_xasprintf("bridge %s has the maximum of %d flows", bridge,
                             SW_MAX_FLOWS);
        return -ENOSPC;
    }
    char *text = flow_check(sc, br, rule, false, errp);
    if (!text) {
        return -EINVAL;
    }
    uint32_t meter_id = sw_flow_meter_id(text);
    if (meter_id && !sw_bridge_find_meter(br, meter_id)) {
        *errp = vf_xasprintf("meter %u does not exist on bridge %s",
                             meter_id, br->name);
        free(text);
        return -EINVAL;
    }

    struct sw_flow *flow = vf_xcalloc(1, sizeof *flow);
    flow->seq = br->next_seq;
    flow->rule = text;
    struct config_db_flow rec = {
        .bridge = br->name, .seq = flow->seq, .rule = text};
    bool applied = false;
    int rc = config_db_begin(sc->db, errp);
    if (!rc) {
        rc = config_db_add_flow(sc->db, &rec, errp);
    }
    if (!rc && sc->apply->flow_add) {
        rc = sc->apply->flow_add(sc->aux, br, flow, errp);
        applied = !rc;
    }
    if (!rc) {
        rc = config_db_commit(sc->db, errp);
    }
    if (rc) {
        if (applied && sc->apply->flow_remove) {
            sc->apply->flow_remove(sc->aux, br, flow);
        }
        config_db_rollback(sc->db);
        flow_free(flow);
        return rc;
    }
    bridge_link_flow(br, flow);
    *seqp = flow->seq;
    VF_LOG_DBG(switch_config, "bridge %s: added flow %llu: %s", br->name,
               (unsigned long long) flow->seq, flow->rule);
    return 0;
}

/* The fields of a rule before "actions=", as a NULL-terminated array of
 * pointers into 'copy' (both freed by the caller). */
static char **
flow_fields(const char *text, char **copyp)
{
    char *copy = vf_xstrdup(text);
    char *actions = strstr(copy, "actions=");
    if (actions) {
        *actions = '\0';
    }
    size_t n = 0, cap = 8;
    char **fields = vf_xmalloc(cap * sizeof *fields);
    char *save = NULL;
    for (char *tok = strtok_r(copy, ", \t", &save); tok;
         tok = strtok_r(NULL, ", \t", &save)) {
        if (n + 1 >= cap) {
            cap *= 2;
            fields = vf_xrealloc(fields, cap * sizeof *fields);
        }
        fields[n++] = tok;
    }
    fields[n] = NULL;
    *copyp = copy;
    return fields;
}

/* The interim matcher (see the theory). */
static bool
flow_matches_text(const struct sw_flow *flow, char **match_fields)
{
    char *copy;
    char **fields = flow_fields(flow->rule, &copy);
    bool all = true;
    for (char **m = match_fields; *m && all; m++) {
        bool found = false;
        for (char **f = fields; *f && !found; f++) {
            found = !strcmp(*f, *m);
        }
        all = found;
    }
    free(fields);
    free(copy);
    return all;
}

int
switch_config_remove_flows(struct switch_config *sc, const char *bridge,
                           const char *match, size_t *n_removed, char **errp)
{
    struct sw_bridge *br = bridge_lookup_err(sc, bridge, errp);
    if (!br) {
        return -ENOENT;
    }
    char *match_text = NULL, *copy = NULL;
    char **match_fields = NULL;
    if (match) {
        match_text = flow_check(sc, br, match, true, errp);
        if (!match_text) {
            return -EINVAL;
        }
        match_fields = flow_fields(match_text, &copy);
    }

    /* Select, then delete in one transaction. */
    bool *selected = vf_xcalloc(br->n_flows + 1, sizeof *selected);
    size_t n = 0;
    for (size_t i = 0; i < br->n_flows; i++) {
        const struct sw_flow *f = br->flows[i];
        selected[i] = !match
                      || (sc->apply->flow_matches
                              ? sc->apply->flow_matches(sc->aux, br, f,
                                                        match_text)
                              : flow_matches_text(f, match_fields));
        n += selected[i];
    }
    int rc = 0;
    if (n) {
        rc = config_db_begin(sc->db, errp);
        for (size_t i = 0; !rc && i < br->n_flows; i++) {
            if (selected[i]) {
                rc = config_db_remove_flow(sc->db, br->name,
                                           br->flows[i]->seq, errp);
            }
        }
        if (!rc) {
            rc = config_db_commit(sc->db, errp);
        }
        if (rc) {
            config_db_rollback(sc->db);
        }
    }
    if (!rc) {
        size_t kept = 0;
        for (size_t i = 0; i < br->n_flows; i++) {
            struct sw_flow *f = br->flows[i];
            if (!selected[i]) {
                br->flows[kept++] = f;
                continue;
            }
            if (!f->error && sc->apply->flow_remove) {
                sc->apply->flow_remove(sc->aux, br, f);
            }
            flow_free(f);
        }
        br->n_flows = kept;
        *n_removed = n;
        VF_LOG_DBG(switch_config, "bridge %s: removed %zu flows", br->name,
                   n);
    }
    free(selected);
    free(match_fields);
    free(copy);
    free(match_text);
    return rc;
}

/* Start-up. */

static int
load_bridge(void *aux, const struct config_db_bridge *rec, char **errp)
{
    struct switch_config *sc = aux;
    char *err = NULL;
    if (sw_name_check("bridge", rec->name, &err)
        || switch_config_find_bridge(sc, rec->name)
        || sc->n_bridges >= SW_MAX_BRIDGES) {
        *errp = vf_xasprintf("stored bridge '%.40s': %s", rec->name,
                             err ? err : "duplicate or over the limit");
        free(err);
        return -EINVAL;
    }
    json_error_t jerr;
    json_t *opts = json_loads(rec->options ? rec->options : "{}", 0, &jerr);
    if (!opts || bridge_options_check(sc, opts, &err)) {
        *errp = vf_xasprintf("stored bridge '%.40s': bad options: %s",
                             rec->name, err ? err : jerr.text);
        free(err);
        json_decref(opts);
        return -EINVAL;
    }
    struct sw_bridge *br = vf_xcalloc(1, sizeof *br);
    strcpy(br->name, rec->name);
    br->next_seq = 1;
    br->options = opts;
    if (sc->apply->bridge_add && sc->apply->bridge_add(sc->aux, br, &err)) {
        VF_LOG_ERR(switch_config, "bridge %s: %s", br->name, err);
        br->error = err;
    }
    ptr_insert((void ***) &sc->bridges, &sc->n_bridges, sc->n_bridges, br);
    return 0;
}

static int
load_port(void *aux, const struct config_db_port *rec, char **errp)
{
    struct switch_config *sc = aux;
    struct sw_bridge *br = switch_config_find_bridge(sc, rec->bridge);
    char *err = NULL;
    int kind = sw_port_kind_from_string(rec->kind);
    struct sw_port_options opts;
    json_t *oj = NULL;

    if (!br || sw_name_check("port", rec->name, &err)) {
        goto bad;
    }
    if (kind < 0) {
        err = vf_xasprintf("unknown kind '%.20s'", rec->kind);
        goto bad;
    }
    oj = jsonrpc_parse_json(rec->options, strlen(rec->options), &err);
    if (!oj || sw_port_options_from_json(kind, oj, &opts, &err)) {
        goto bad;
    }
    json_decref(oj);
    oj = NULL;
    if (rec->port_no < 1 || rec->port_no > SW_PORT_NO_MAX
        || port_add_check(sc, br, rec->name, &opts, &err)) {
        sw_port_options_uninit(&opts);
        goto bad;
    }
    for (size_t i = 0; i < br->n_ports; i++) {
        if (br->ports[i]->port_no == rec->port_no) {
            sw_port_options_uninit(&opts);
            goto bad;
        }
    }

    struct sw_port *port = vf_xcalloc(1, sizeof *port);
    strcpy(port->name, rec->name);
    port->kind = kind;
    port->port_no = rec->port_no;
    port->opts = opts;
    port->bridge = br;
    if (!br->error && sc->apply->port_add
        && sc->apply->port_add(sc->aux, br, port, &err)) {
        VF_LOG_WARN(switch_config, "port %s on bridge %s: %s", port->name,
                    br->name, err);
        port->error = err;
    } else if (br->error) {
        port->error = vf_xasprintf("bridge %s failed", br->name);
    }
    bridge_link_port(br, port);
    sc->n_ports++;
    return 0;

bad:
    json_decref(oj);
    *errp = vf_xasprintf("stored port '%.40s' on bridge '%.40s' is invalid%s"
                         "%s", rec->name, rec->bridge, err ? ": " : "",
                         err ? err : "");
    free(err);
    return -EINVAL;
}

static int
load_meter(void *aux, const struct config_db_meter *rec, char **errp)
{
    struct switch_config *sc = aux;
    struct sw_bridge *br = switch_config_find_bridge(sc, rec->bridge);
    int unit = meter_unit_from_string(rec->unit);
    struct meter_config cfg = {
        .id = rec->id,
        .unit = unit < 0 ? METER_KBPS : (enum meter_unit) unit,
        .rate = rec->rate,
        .burst = rec->burst,
    };
    char *err = NULL;
    if (!br || unit < 0 || meter_add_check(br, &cfg, &err)) {
        *errp = vf_xasprintf("stored meter %u on bridge '%.40s' is invalid%s"
                             "%s", rec->id, rec->bridge, err ? ": " : "",
                             err ? err : "");
        free(err);
        return -EINVAL;
    }
    struct sw_meter *m = vf_xcalloc(1, sizeof *m);
    m->cfg = cfg;
    if (br->error) {
        m->error = vf_xasprintf("bridge %s failed", br->name);
    } else if (sc->apply->meter_add
               && sc->apply->meter_add(sc->aux, br, m, &err)) {
        VF_LOG_WARN(switch_config, "bridge %s meter %u: %s", br->name,
                    cfg.id, err);
        m->error = err;
    }
    bridge_link_meter(br, m);
    return 0;
}

static int
load_flow(void *aux, const struct config_db_flow *rec, char **errp)
{
    struct switch_config *sc = aux;
    struct sw_bridge *br = switch_config_find_bridge(sc, rec->bridge);
    if (!br || rec->seq < 1 || br->n_flows >= SW_MAX_FLOWS) {
        *errp = vf_xasprintf("stored flow %llu on bridge '%.40s' is invalid",
                             (unsigned long long) rec->seq, rec->bridge);
        return -EINVAL;
    }
    struct sw_flow *flow = vf_xcalloc(1, sizeof *flow);
    flow->seq = rec->seq;
    char *err = NULL;
    flow->rule = flow_check(sc, br, rec->rule, false, &err);
    if (!flow->rule) {
        /* The grammar may have changed: keep the text, show the error. */
        flow->rule = vf_xstrdup(rec->rule);
        flow->error = err;
    } else if (br->error) {
        flow->error = vf_xasprintf("bridge %s failed", br->name);
    } else if (sc->apply->flow_add
               && sc->apply->flow_add(sc->aux, br, flow, &err)) {
        flow->error = err;
    }
    if (flow->error) {
        VF_LOG_WARN(switch_config, "bridge %s flow %llu: %s", br->name,
                    (unsigned long long) flow->seq, flow->error);
    }
    bridge_link_flow(br, flow);
    return 0;
}

int
switch_config_load(struct switch_config *sc, char **errp)
{
    static const struct config_db_loader loader = {
        .bridge = load_bridge,
        .port = load_port,
        .flow = load_flow,
        .meter = load_meter,
    };
    int rc = config_db_load(sc->db, &loader, sc, errp);
    if (rc) {
        return rc;
    }
    size_t n_flows = 0;
    for (size_t i = 0; i < sc->n_bridges; i++) {
        n_flows += sc->bridges[i]->n_flows;
    }
    VF_LOG_INFO(switch_config, "loaded %zu bridges, %zu ports, %zu flows "
                "from %s (apply: %s)", sc->n_bridges, sc->n_ports, n_flows,
                config_db_path(sc->db), sc->apply->name);
    return 0;
}

/* JSON views. */

json_t *
sw_port_to_json(const struct sw_port *port)
{
    json_t *j = json_pack("{s:s, s:I, s:s}", "name", port->name, "port_no",
                          (json_int_t) port->port_no, "type",
                          sw_port_kind_to_string(port->kind));
    json_t *opts = sw_port_options_to_json(&port->opts);
    json_object_update(j, opts);
    json_decref(opts);
    if (port->error) {
        json_object_set_new(j, "error", json_string(port->error));
    }
    return j;
}

json_t *
sw_meter_to_json(const struct sw_meter *m)
{
    json_t *j = json_pack("{s:I, s:s, s:I, s:I}", "id",
                          (json_int_t) m->cfg.id, "unit",
                          meter_unit_to_string(m->cfg.unit), "rate",
                          (json_int_t) m->cfg.rate, "burst",
                          (json_int_t) meter_config_burst(&m->cfg));
    if (m->error) {
        json_object_set_new(j, "error", json_string(m->error));
    }
    return j;
}

json_t *
sw_bridge_to_json(const struct sw_bridge *br, bool with_flows)
{
    json_t *ports = json_array();
    for (size_t i = 0; i < br->n_ports; i++) {
        json_array_append_new(ports, sw_port_to_json(br->ports[i]));
    }
    json_t *j = json_pack("{s:s, s:o, s:I}", "name", br->name, "ports",
                          ports, "n_flows", (json_int_t) br->n_flows);
    if (br->options && json_object_size(br->options)) {
        json_object_set(j, "options", br->options);
    }
    if (with_flows) {
        json_t *flows = json_array();
        for (size_t i = 0; i < br->n_flows; i++) {
            const struct sw_flow *f = br->flows[i];
            json_t *fj = json_pack("{s:I, s:s}", "seq", (json_int_t) f->seq,
                                   "rule", f->rule);
            if (f->error) {
                json_object_set_new(fj, "error", json_string(f->error));
            }
            json_array_append_new(flows, fj);
        }
        json_object_set_new(j, "flows", flows);
    }
    if (br->error) {
        json_object_set_new(j, "error", json_string(br->error));
    }
    return j;
}
