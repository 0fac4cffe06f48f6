/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VFAB_VFABD_FABRIC_AGENT_H
#define VFAB_VFABD_FABRIC_AGENT_H 1

/* The fabric agent: vfabd's side of vfab-policyd (DESIGN.md "The control
 * plane", issue "Overlay fabric").  Theory of operation: fabric-agent.c.
 *
 * One fabric bridge per daemon: the agent configures it from its bridge
 * options (tunnel type, underlay address, gateway, uplink port), binds its
 * VNIC ports (option vnic=NAME) to the model's VNICs, and handles the
 * datapath's fabric upcalls.  Agent (control) thread only. */

#include <jansson.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>

struct dp;
struct dp_bridge;
struct dp_port;

struct fabric_agent;

struct fabric_agent_config {
    const char *server_url;      /* vfab-policyd base URL. */
    const char *host;            /* This host's name in the model. */
    const char *token;           /* Its host token. */
    struct dp *dp;
};

/* Bridge options of a fabric bridge, validated. */
struct fabric_options {
    bool fabric;
    int tunnel;                  /* enum tunnel_type. */
    uint32_t vtep_ip;            /* vf_be32 */
    unsigned int plen;
    uint32_t gateway;            /* vf_be32, 0 if none. */
    char uplink[16];
    uint32_t mtu;
};

/* Parses bridge options ({"fabric": "vxlan", "underlay": "A/N", ...});
 * an empty object is a plain L2 bridge.  Returns 0 or -EINVAL with a
 * message naming the option. */
int fabric_options_parse(const json_t *options, struct fabric_options *fo,
                         char **errp);

/* Creates the agent (talks to nothing until run).  NULL with '*errp'. */
struct fabric_agent *fabric_agent_create(const struct fabric_agent_config *c,
                                         char **errp);
void fabric_agent_destroy(struct fabric_agent *fa);

/* Makes 'br' the fabric bridge.  Returns 0, or -EBUSY if another bridge
 * is, or -EINVAL. */
int fabric_agent_attach(struct fabric_agent *fa, struct dp_bridge *br,
                        const struct fabric_options *fo, char **errp);
void fabric_agent_detach(struct fabric_agent *fa, struct dp_bridge *br);

/* True if 'br' is the fabric bridge of 'fa' (false if 'fa' is NULL). */
bool fabric_agent_is_fabric_bridge(const struct fabric_agent *fa,
                                   const struct dp_bridge *br);

/* A port was added to / is being removed from the fabric bridge
 * ('vnic' the VNIC's name or NULL; the uplink is found by name). */
void fabric_agent_port_added(struct fabric_agent *fa, struct dp_bridge *br,
                             struct dp_port *port, const char *vnic);
void fabric_agent_port_removed(struct fabric_agent *fa,
                               struct dp_bridge *br, struct dp_port *port);

/* Run/wait (STYLE.md P12). */
void fabric_agent_run(struct fabric_agent *fa, int64_t now);
size_t fabric_agent_wait(struct fabric_agent *fa, struct pollfd *fds,
                         size_t max, int64_t now, int64_t *deadline);

/* Status for `vfabctl show` and `fabric/show`. */
json_t *fabric_agent_status_json(struct fabric_agent *fa);

/* Registers fabric/show and fabric/translate. */
void fabric_agent_register_commands(struct fabric_agent *fa);

#endif /* fabric-agent.h */
