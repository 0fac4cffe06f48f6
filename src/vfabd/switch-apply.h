/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VFAB_VFABD_SWITCH_APPLY_H
#define VFAB_VFABD_SWITCH_APPLY_H 1

/* The apply class: how configuration changes reach the datapath
 * (a provider interface, STYLE.md P2).
 *
 * switch-config.c validates every request, records it in the database
 * and calls these functions to make it real; it is the only caller.  The
 * bridge layer fills one struct switch_apply_class (bridge-apply.c, say)
 * and vfabd's main() passes it to switch_config_create() instead of NULL.
 * Until then vfabd runs "model only": every member NULL, the
 * configuration is validated, stored and shown, nothing is forwarded.
 *
 * Contract of every member:
 *   - control thread; may take time (create a TAP device, start a ring)
 *     but never waits on a datapath thread except through RCU grace
 *     periods;
 *   - the "add" functions return 0, or -errno with '*errp' (one line,
 *     caller frees) having created nothing; their objects may be stored
 *     in the 'dp' field of the model object;
 *   - the "remove" functions cannot fail: they release what "add" made
 *     and clear 'dp';
 *   - arguments are borrowed; the model objects outlive every call made
 *     with them.
 *
 * Call order, guaranteed by switch-config.c: a bridge is added before its
 * ports, meters and flows; a meter before the flows that name it; a
 * bridge is removed only after each of its flows, meters and ports was
 * removed (in that order).  An "add" may be undone at once by the
 * matching "remove" if the database commit fails.  At start-up objects
 * are added in database order (bridges, then ports by port number, then
 * meters by id, then flows by seq); at shutdown (switch_config_destroy()) removed in reverse.
 *
 * A NULL member means "nothing to do" (success), except fdb_show and
 * port_stats (NULL: "not available yet") and flow_check / flow_matches
 * (NULL: the interim text rules described below). */

#include <jansson.h>
#include <stdbool.h>

struct sw_bridge;
struct sw_flow;
struct sw_meter;
struct sw_port;

struct switch_apply_class {
    const char *name;               /* "model", "bridge", ... (logs). */

    /* Checks bridge options (a JSON object, never NULL) before anything
     * is written.  NULL: only {} is accepted. */
    int (*bridge_check)(void *aux, const json_t *options, char **errp);

    int (*bridge_add)(void *aux, struct sw_bridge *br, char **errp);
    void (*bridge_remove)(void *aux, struct sw_bridge *br);

    /* 'port->kind', 'port->opts' and 'port->port_no' are final; create
     * the port (port_create() with a struct port_config built from them)
     * and attach it to 'br'. */
    int (*port_add)(void *aux, struct sw_bridge *br, struct sw_port *port,
                    char **errp);
    void (*port_remove)(void *aux, struct sw_bridge *br,
                        struct sw_port *port);

    /* HOOK for the classifier's parser.  Checks 'text', a flow rule
     * ('is_match' false: `add-flow`) or a match for `del-flows` ('is_match'
     * true), for bridge 'br'.  Returns 0 and, optionally, '*canonical' (the
     * normalised text to store and show, caller frees; NULL keeps 'text'),
     * or -EINVAL with '*errp' saying what is wrong.  NULL: any text that
     * passes sw_flow_text_check() is accepted as is. */
    int (*flow_check)(void *aux, struct sw_bridge *br, const char *text,
                      bool is_match, char **canonical, char **errp);

    /* Installs 'flow' (already checked) in the classifier of 'br'. */
    int (*flow_add)(void *aux, struct sw_bridge *br, struct sw_flow *flow,
                    char **errp);
    void (*flow_remove)(void *aux, struct sw_bridge *br,
                        struct sw_flow *flow);

    /* HOOK for `del-flows BR MATCH`: true if 'flow' is selected by
     * 'match' (already checked), with OpenFlow's non-strict semantics (the
     * flow's match is at least as specific as 'match').  NULL: the interim
     * textual rule of switch-config.c (every "key=value" field of 'match'
     * appears among the flow's fields before "actions="). */
    bool (*flow_matches)(void *aux, const struct sw_bridge *br,
                         const struct sw_flow *flow, const char *match);

    /* Meters: 'm->cfg' passed meter_config_check(); create the meter in
     * 'br'.  Remove is only called when no flow names the meter. */
    int (*meter_add)(void *aux, struct sw_bridge *br, struct sw_meter *m,
                     char **errp);
    void (*meter_remove)(void *aux, struct sw_bridge *br,
                         struct sw_meter *m);
    /* `dump-meters BR`: adds the counters of 'm' (passed_packets,
     * passed_bytes, dropped_packets, dropped_bytes) to 'obj'.  NULL: no
     * counters shown. */
    void (*meter_stats)(void *aux, const struct sw_bridge *br,
                        const struct sw_meter *m, json_t *obj);

    /* `fdb-show BR` and `port-stats BR`: '*resultp' in the formats of
     * docs/ctl-protocol.md.  NULL: -ENOTSUP "not available yet". */
    int (*fdb_show)(void *aux, const struct sw_bridge *br,
                    json_t **resultp, char **errp);
    int (*port_stats)(void *aux, const struct sw_bridge *br,
                      json_t **resultp, char **errp);

    /* `show`: adds datapath-wide state (e.g. "fabric") to the answer
     * object 'result'.  NULL: nothing to add. */
    void (*show_extra)(void *aux, json_t *result);
};

#endif /* switch-apply.h */
