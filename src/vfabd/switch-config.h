/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VFAB_VFABD_SWITCH_CONFIG_H
#define VFAB_VFABD_SWITCH_CONFIG_H 1

/* The switch configuration of vfabd: bridges, their ports, meters and
 * the operator's flow rules, as the operator asked for them.
 *
 * This module owns the configuration model and is the only writer of the
 * configuration database.  Each change is:
 *
 *   1. validated completely, without side effects (names, kinds, options,
 *      duplicates, limits); a bad request gets -errno and a one-line
 *      message and changes nothing;
 *   2. written to the database inside one transaction;
 *   3. applied to the datapath through the apply class (switch-apply.h);
 *      if that fails, the transaction is rolled back;
 *   4. committed; if the commit fails, the datapath change is undone;
 *   5. recorded in the model.
 * Removals commit first and then remove from the datapath (which cannot
 * fail), so a failed removal changes nothing either.
 *
 * At start-up switch_config_load() rebuilds the model from the database
 * and applies it; a port or flow the datapath refuses then (an uplink
 * that has disappeared, a rule the classifier no longer accepts) stays
 * configured with its error shown by `vfabctl show`, and the daemon runs.
 *
 * Meters (qos/meter.h) are added before the flows that name them
 * ("actions=meter:N,..."): a rule naming a meter its bridge does not have
 * is refused, and so is removing a meter while flows name it (the error
 * says how many); at start-up meters are loaded before flows.
 *
 * Names: bridges and ports have interface-legal names of 1..15 bytes
 * ([A-Za-z0-9_.-], not starting with '-' or '.'); port names are unique in
 * the daemon (they are device names), bridge names among bridges.
 *
 * Thread safety: control thread only. */

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "net/wire.h"
#include "qos/meter.h"

struct config_db;
struct switch_apply_class;

#define SW_NAME_MAX 15              /* IFNAMSIZ - 1. */
#define SW_MAX_BRIDGES 256
#define SW_MAX_PORTS 4096           /* In the whole daemon. */
#define SW_MAX_FLOWS 65536          /* Per bridge. */
#define SW_MAX_IPS 64               /* Per port. */
#define SW_FLOW_MAX_LEN 4096        /* Bytes of rule text. */
#define SW_MAX_QUOTA (1u << 24)     /* Buffers per port. */
#define SW_PORT_NO_MAX 65279        /* OpenFlow's OFPP_MAX. */
#define SW_MAX_METERS 4096          /* Per bridge. */

enum sw_port_kind {
    SW_PORT_TAP,
    SW_PORT_AFPACKET,
    SW_PORT_PATCH,
    SW_PORT_DUMMY,
};

struct sw_ip {
    int family;                     /* AF_INET or AF_INET6. */
    uint8_t addr[16];               /* IPv4 in the first 4 bytes. */
};

/* A port's options, validated and canonical (trunks sorted, no
 * duplicates). */
struct sw_port_options {
    bool has_vlan;
    uint16_t vlan;                  /* Access VLAN 0..4095. */
    size_t n_trunks;
    uint16_t *trunks;               /* Trunk VLANs, ascending, unique. */
    bool has_mac;
    struct eth_addr mac;            /* Unicast, nonzero. */
    size_t n_ips;
    struct sw_ip *ips;              /* Unique, not multicast/unspecified. */
    uint32_t quota;                 /* Buffers, 0: the default. */
    int rx_ring;                    /* afpacket only: enum port_rx_ring
                                     * (0: the port's default ring). */
    char peer[SW_NAME_MAX + 1];     /* patch only: the other end. */
    char vnic[64];                  /* tap on a fabric bridge: the VNIC's
                                     * name in vfab-policyd, or "". */
};

struct sw_bridge;

struct sw_port {
    struct sw_bridge *bridge;
    char name[SW_NAME_MAX + 1];
    enum sw_port_kind kind;
    uint32_t port_no;               /* 1..SW_PORT_NO_MAX, per bridge. */
    struct sw_port_options opts;
    char *error;                    /* Why the datapath refused it at
                                     * start-up, or NULL. */
    void *dp;                       /* The apply class's object. */
};

struct sw_flow {
    uint64_t seq;                   /* Order in the bridge, from 1. */
    char *rule;                     /* Canonical text. */
    char *error;                    /* Refused at start-up, or NULL. */
    void *dp;                       /* The apply class's object. */
};

struct sw_meter {
    struct meter_config cfg;        /* Checked; burst 0: the default. */
    char *error;                    /* Refused at start-up, or NULL. */
    void *dp;                       /* The apply class's object. */
};

struct sw_bridge {
    char name[SW_NAME_MAX + 1];
    struct sw_port **ports;         /* By port_no. */
    size_t n_ports;
    struct sw_flow **flows;         /* By seq. */
    size_t n_flows;
    struct sw_meter **meters;       /* By id. */
    size_t n_meters;
    uint64_t next_seq;
    char *error;                    /* Refused at start-up, or NULL. */
    void *dp;                       /* The apply class's object. */
    json_t *options;                /* Bridge options ({} if none), as
                                     * the apply class's bridge_check
                                     * accepted them. */
};

struct switch_config;

/* Creates an empty configuration writing to 'db' (borrowed, must outlive
 * it) and applying through 'apply' (NULL: model only, nothing applied)
 * with 'aux'. */
struct switch_config *switch_config_create(
    struct config_db *db, const struct switch_apply_class *apply, void *aux);

/* Removes every flow, port and bridge from the datapath (not from the
 * database) and frees 'sc'.  NULL is a no-op. */
void switch_config_destroy(struct switch_config *sc);

/* Loads the database into an empty 'sc' and applies it.  Returns 0, or
 * -errno with '*errp' if the database is unreadable or holds a record that
 * is not valid (the daemon should refuse to start: the operator repairs
 * or removes the file). */
int switch_config_load(struct switch_config *sc, char **errp);

/* Operations (validation + transaction + apply, see the theory).  Each
 * returns 0 or -errno with '*errp':
 *   -EINVAL bad name or option; -EEXIST duplicate; -ENOENT unknown bridge
 *   or port; -ENOSPC a limit; -EIO the database failed; or the apply
 *   class's error. */
int switch_config_add_bridge(struct switch_config *sc, const char *name,
                             const json_t *options, char **errp);
int switch_config_remove_bridge(struct switch_config *sc, const char *name,
                                size_t *n_ports, size_t *n_flows,
                                char **errp);
/* Takes over the arrays of '*opts' on success (and leaves 'opts' empty);
 * on failure the caller still owns them. */
int switch_config_add_port(struct switch_config *sc, const char *bridge,
                           const char *name, enum sw_port_kind kind,
                           struct sw_port_options *opts, uint32_t *port_nop,
                           char **errp);
int switch_config_remove_port(struct switch_config *sc, const char *bridge,
                              const char *name, char **errp);
int switch_config_add_flow(struct switch_config *sc, const char *bridge,
                           const char *rule, uint64_t *seqp, char **errp);
/* Removes every flow of 'bridge' (match NULL) or those the apply class's
 * matcher selects for 'match'.  '*n_removed' may be 0. */
int switch_config_remove_flows(struct switch_config *sc, const char *bridge,
                               const char *match, size_t *n_removed,
                               char **errp);

/* Adds meter 'cfg->id' to 'bridge' (-EINVAL bad id/unit/rate/burst,
 * -EEXIST, -ENOENT unknown bridge, -ENOSPC). */
int switch_config_add_meter(struct switch_config *sc, const char *bridge,
                            const struct meter_config *cfg, char **errp);
/* Removes meter 'id' (-ENOENT unknown bridge or meter; -ENOTEMPTY while
 * flows name it, the message says how many). */
int switch_config_remove_meter(struct switch_config *sc, const char *bridge,
                               uint32_t id, char **errp);
/* The meter 'id' of 'br', or NULL. */
struct sw_meter *sw_bridge_find_meter(const struct sw_bridge *br,
                                      uint32_t id);
/* The meter a flow rule names (its first action "meter:N"), or 0. */
uint32_t sw_flow_meter_id(const char *rule);

/* Read-only access. */
struct sw_bridge *switch_config_find_bridge(const struct switch_config *sc,
                                            const char *name);
struct sw_port *switch_config_find_port(const struct switch_config *sc,
                                        const char *name);
size_t switch_config_n_bridges(const struct switch_config *sc);
struct sw_bridge *switch_config_bridge(const struct switch_config *sc,
                                       size_t i);
const struct switch_apply_class *switch_config_apply_class(
    const struct switch_config *sc);
void *switch_config_apply_aux(const struct switch_config *sc);

/* JSON views (new references): a bridge with its ports (and, if
 * 'with_flows', its flows); a port. */
json_t *sw_bridge_to_json(const struct sw_bridge *br, bool with_flows);
json_t *sw_port_to_json(const struct sw_port *port);
/* {id, unit, rate, burst (the effective one), [error]}. */
json_t *sw_meter_to_json(const struct sw_meter *m);

/* Validation helpers (no side effects). */

/* Checks that 'name' is a legal bridge/port name; 'what' ("bridge",
 * "port") starts the message. */
int sw_name_check(const char *what, const char *name, char **errp);

/* "tap" -> SW_PORT_TAP ...; returns the kind or -EINVAL. */
int sw_port_kind_from_string(const char *s);
const char *sw_port_kind_to_string(enum sw_port_kind kind);

/* Parses and validates port options given as a JSON object (keys vlan,
 * trunks, mac, ip, quota, peer, with the types of `vfabctl add-port`'s
 * JSON: integers, integer lists, strings, string lists) for a port of
 * 'kind'.  Unknown keys are refused.  Returns 0 and fills 'opts' (free
 * with sw_port_options_uninit()), or -EINVAL and '*errp'. */
int sw_port_options_from_json(enum sw_port_kind kind, const json_t *json,
                              struct sw_port_options *opts, char **errp);

/* The canonical JSON object of 'opts' (what the database stores). */
json_t *sw_port_options_to_json(const struct sw_port_options *opts);

void sw_port_options_uninit(struct sw_port_options *opts);

/* Basic checks of flow text (non-empty, printable, <= SW_FLOW_MAX_LEN),
 * applied before the apply class's parser hook. */
int sw_flow_text_check(const char *what, const char *text, char **errp);

#endif /* switch-config.h */
