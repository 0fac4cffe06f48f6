/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VFAB_DP_DP_H
#define VFAB_DP_DP_H 1

/* The datapath of vfabd: bridges, their ports and tables, and the threads
 * that move packets between them (DESIGN.md "The data path").
 *
 *   port rx_burst -> parse -> anti-spoof -> VLAN ingress -> EMC/classifier
 *       -> actions (normal = MAC learning switch) -> per-port tx queues
 *       -> port_tx_prepare (software GSO/csum) -> port tx_burst
 *
 * Threads.  The control (agent) thread owns a struct dp and calls every
 * function of this header; the datapath thread(s) started by dp_start()
 * poll the ports.  The datapath never blocks on the agent: configuration
 * reaches it through RCU-published snapshots, and what it needs from the
 * agent (MAC learning, upcalls) goes through SPSC rings the agent drains
 * in dp_run().  One datapath thread serves every bridge (this 2-core
 * machine has one core to give to forwarding; the structures keep per-
 * thread state apart so more threads are a configuration change).
 *
 * Theory of operation: dp.c (control side), dp-thread.c (polling loop),
 * pipeline.c (a batch through the tables), actions.c (packet rewrites). */

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "bridge/mac-table.h"
#include "overlay/neigh.h"
#include "overlay/tunnel.h"
#include "policy/policy-cache.h"
#include "bridge/vnic.h"
#include "cls/cls.h"
#include "port/port.h"
#include "qos/meter.h"
#include "util/vtime.h"

struct dp;
struct dp_bridge;
struct dp_port;

struct dp_config {
    uint32_t n_mtu_bufs;         /* Pool size, MTU class (0: 16384). */
    uint32_t n_gso_bufs;         /* Pool size, GSO class (0: 512). */
    uint32_t busy_poll_us;       /* Spin this long before sleeping. */
    uint32_t upcall_budget;      /* Upcalls handled per dp_run() (0: 256). */
    uint32_t default_quota;      /* Per-VNIC buffer quota (0: 1024). */
    struct vf_clock *clock;      /* Time source (NULL: a private one). */
    uint64_t seed;               /* Hash bases, EMC coin. */
    bool no_gro;                 /* Switch off GRO before TSO ports and */
    bool no_tunnel_gso;          /* UDP GSO tunnel sends (dp-accel.h:
                                  * their simple twins run instead). */
};

/* Why the datapath dropped a packet (counted per input port). */
enum dp_drop {
    DP_DROP_MALFORMED,           /* The parser could not read it whole. */
    DP_DROP_SPOOF_MAC,           /* Anti-spoofing (bridge/vnic.h) ... */
    DP_DROP_SPOOF_IP,
    DP_DROP_SPOOF_ARP,
    DP_DROP_SPOOF_ND,
    DP_DROP_SPOOF_RA,
    DP_DROP_VLAN,                /* Tag not allowed on this port. */
    DP_DROP_NO_RULE,             /* Table miss with policy drop. */
    DP_DROP_ACTION,              /* A drop action (or empty list). */
    DP_DROP_HAIRPIN,             /* Learned destination is the input. */
    DP_DROP_UPCALL_FULL,         /* Upcall ring full. */
    DP_DROP_NO_BUFFER,           /* Clone/segment found no buffer. */
    DP_DROP_TX,                  /* Output refused it (see port stats). */
    DP_DROP_LOOP,                /* Too many table hops / patch hops. */
    DP_DROP_UNBOUND,             /* Fabric VNIC port not bound yet. */
    DP_DROP_POLICY,              /* The translation denies it. */
    DP_DROP_NO_DEST,             /* No local VNIC for the destination. */
    DP_DROP_TUNNEL,              /* Bad or foreign tunnel frame. */
    DP_DROP_VTEP,                /* Source VTEP or VNI not the model's. */
    DP_DROP_NOT_FOR_US,          /* Underlay frame not for our VTEP. */
    DP_DROP_METER,               /* A meter's drop band (or no meter). */
    DP_N_DROPS
};

const char *dp_drop_name(enum dp_drop reason);

/* Creates a datapath (no threads yet).  NULL with '*errp' on failure. */
struct dp *dp_create(const struct dp_config *cfg, char **errp);

/* Starts the datapath thread.  Returns 0 or -errno. */
int dp_start(struct dp *dp);

/* Stops the threads, removes every bridge and port, frees 'dp'.  NULL is
 * a no-op. */
void dp_destroy(struct dp *dp);

/* Agent work: MAC learning from the datapath's events, MAC ageing, flow
 * expiry, upcalls, link state.  Bounded work per call (STYLE.md P12). */
void dp_run(struct dp *dp);

/* Milliseconds until dp_run() next has timed work (for poll()). */
int dp_wait_ms(const struct dp *dp);

/* --- Bridges --- */

/* Adds a bridge.  Its table 0 starts with "priority=0,actions=normal"
 * (the learning switch) and misses of other tables drop.  Returns the
 * bridge or NULL with '*errp' (-EEXIST name, -ENOSPC). */
struct dp_bridge *dp_bridge_add(struct dp *dp, const char *name,
                                char **errp);
void dp_bridge_remove(struct dp *dp, struct dp_bridge *br);
struct dp_bridge *dp_bridge_find(const struct dp *dp, const char *name);
const char *dp_bridge_name(const struct dp_bridge *br);
struct cls *dp_bridge_cls(struct dp_bridge *br);
struct mac_table *dp_bridge_macs(struct dp_bridge *br);

/* --- Ports --- */

#define DP_MAX_PORT_NO 4096      /* Port numbers per bridge: 1..this. */
#define DP_MAX_PORTS 1024        /* Ports in the whole datapath. */

struct dp_port_config {
    uint32_t port_no;            /* 1..DP_MAX_PORT_NO, unique per bridge. */
    const char *name;
    enum port_kind kind;
    const char *peer;            /* patch */
    bool has_vlan;               /* Access VLAN (or trunk native VLAN). */
    uint16_t vlan;
    const uint16_t *trunks;      /* Trunk VLANs (n_trunks > 0: trunk). */
    size_t n_trunks;
    struct vnic_identity identity;   /* has_mac false: no anti-spoof. */
    uint32_t quota;              /* Buffer quota (0: dp default). */
    enum port_rx_ring rx_ring;   /* afpacket receive ring (port.h). */
    bool vnic;                   /* Dummy ports: behave as a VNIC (own
                                  * buffer owner); tap ports always do. */
};

/* The smallest VNIC quota (charge units, pkt-pool.h) with which a tap
 * port negotiates offloads: its GSO receive spare, one GSO frame in
 * flight and 8 MTU frames.  Below it the port is created without
 * offloads (the guest sends segmented, checksummed frames), so a small
 * quota counts MTU frames and never starves the port. */
#define DP_QUOTA_MIN_OFFLOAD (2 * PKT_GSO_CHARGE + 8)

/* True if a VNIC whose quota is 'quota' units gets offloads. */
bool dp_quota_allows_offload(uint32_t quota);

/* Creates the port device (port_create), makes it a VNIC with its own
 * buffer owner if it is a tap port, and attaches it to 'br'.  A VNIC
 * identity installs its MAC as a static MAC-table entry.  Returns the
 * port or NULL with '*errp' and nothing created. */
struct dp_port *dp_port_add(struct dp *dp, struct dp_bridge *br,
                            const struct dp_port_config *cfg, char **errp);

/* Detaches and destroys 'port' (after the datapath let go of it). */
void dp_port_remove(struct dp *dp, struct dp_port *port);

struct dp_port *dp_port_find(const struct dp_bridge *br, const char *name);
struct dp_port *dp_port_by_no(const struct dp_bridge *br, uint32_t port_no);
const char *dp_port_name(const struct dp_port *port);
struct port *dp_port_port(const struct dp_port *port);
uint32_t dp_port_no(const struct dp_port *port);

/* True if the datapath can carry set_field of 'field' into frames
 * (rule validation refuses the others). */
bool dp_field_is_committable(enum field_id field);

/* Name <-> number callbacks of 'br' for the rule text parser. */
struct field_port_names dp_bridge_port_names(struct dp_bridge *br);

/* --- Meters (qos/meter.h; theory in dp/dp-meter.c) --- */

/* Adds meter 'cfg->id' to 'br' with a full bucket.  Returns 0, or -EINVAL
 * (bad 'cfg', meter_config_check()) or -EEXIST with '*errp'.  Control
 * thread. */
int dp_meter_add(struct dp *dp, struct dp_bridge *br,
                 const struct meter_config *cfg, char **errp);

/* Removes meter 'id' from 'br' (freed after a grace period).  The caller
 * makes sure no rule names it any more.  Returns 0 or -ENOENT.  Control
 * thread. */
int dp_meter_remove(struct dp *dp, struct dp_bridge *br, uint32_t id);

/* True if 'br' has meter 'id'.  Control thread. */
bool dp_meter_exists(const struct dp_bridge *br, uint32_t id);

/* The counters of meter 'id' of 'br'.  Returns 0 or -ENOENT.  Control
 * thread. */
int dp_meter_stats(const struct dp_bridge *br, uint32_t id,
                   struct meter_stats *stats);

/* --- Fabric (overlay) bridges --- */

/* A fabric bridge connects VNICs to the virtual networks of vfab-policyd:
 * frames from a VNIC are forwarded by the translation the policy server
 * gave (locally, or VXLAN/Geneve-encapsulated to the remote host over the
 * uplink); frames arriving on the uplink are decapsulated and delivered
 * if the model says their source sits behind that VTEP.  Theory:
 * dp/fabric.c. */
/* The distributed router's MAC: every host answers ARP and neighbor
 * solicitations for its VNICs' IPv4 and IPv6 gateways with it and routes
 * frames sent to it (dp/fabric.c). */
#define DP_ROUTER_MAC {{0x02, 0xfa, 0xb0, 0x00, 0x00, 0x01}}

/* Translation keys, as the datapath looks them up in a VNIC's partition
 * (the agent requests and queues under the same keys): a switched frame
 * by its destination MAC (or, arriving from the uplink, its inner source
 * MAC); a routed frame (to or from DP_ROUTER_MAC) by its destination IP
 * if 'dst', else its source IP.  dp_fabric_ip_key() returns false, and
 * sets no key, if 'k' is neither IPv4 nor IPv6. */
void dp_fabric_mac_key(struct pcache_key *key, const struct eth_addr *mac);
bool dp_fabric_ip_key(struct pcache_key *key, const struct flow_key *k,
                      bool dst);

struct dp_fabric_config {
    enum tunnel_type tunnel;
    vf_be32 vtep_ip;             /* Our underlay address. */
    unsigned int plen;           /* Its prefix length. */
    vf_be32 gateway;             /* Underlay next hop off-link, or 0. */
    struct eth_addr vtep_mac;    /* Source MAC of encapsulated frames. */
    uint32_t uplink_port_no;     /* The uplink port (may come later). */
    uint32_t underlay_mtu;       /* 0: 1500. */
    struct pcache *cache;        /* Translations (borrowed). */
    struct neigh_table *neigh;   /* Underlay neighbours (borrowed). */
};

/* Makes 'br' a fabric bridge (or updates it).  Returns 0 or -EINVAL. */
int dp_bridge_set_fabric(struct dp *dp, struct dp_bridge *br,
                         const struct dp_fabric_config *cfg, char **errp);

/* The largest inner frame (Ethernet header included) a fabric bridge
 * carries, or 0 if 'br' is not one. */
uint32_t dp_bridge_fabric_max_inner(const struct dp_bridge *br);

/* What a fabric VNIC port is in the model. */
struct dp_vnic_binding {
    char name[64];               /* The VNIC's name in vfab-policyd. */
    uint32_t vni;
    uint32_t gid;                /* Fabric-wide id (Geneve option). */
    struct pcache_part *part;    /* Its translation partition. */
    struct vnic_identity identity;   /* From the model. */
    vf_be32 gateway;             /* Its network's IPv4 gateway, or 0. */
};

/* Binds 'port' to a VNIC of the model ('b' copied), or unbinds it (NULL:
 * its frames are then dropped as "unbound").  Control thread. */
void dp_port_bind(struct dp *dp, struct dp_port *port,
                  const struct dp_vnic_binding *b);

/* The port bound to VNIC 'name' in 'br', or NULL. */
struct dp_port *dp_port_find_bound(const struct dp_bridge *br,
                                   const char *name);

/* --- Upcalls --- */

enum dp_upcall_reason {
    DP_UPCALL_ACTION = 0,        /* controller action. */
    DP_UPCALL_MISS = 1,          /* Table miss with policy upcall. */
    DP_UPCALL_FAB_XLATE,         /* VNIC frame: no translation cached. */
    DP_UPCALL_FAB_RESOLVE,       /* VNIC ARP request / ND solicitation. */
    DP_UPCALL_FAB_NEIGH,         /* Underlay next hop unresolved. */
    DP_UPCALL_FAB_RX_XLATE,      /* Uplink frame: source not cached.  The
                                  * frame is still encapsulated. */
    DP_UPCALL_FAB_VTEP,          /* ARP or ping for our VTEP address. */
    DP_UPCALL_FAB_TOO_BIG,       /* Inner frame too big for the underlay;
                                  * 'aux' is the inner MTU to report. */
    DP_UPCALL_FAB_TTL,           /* Frame to the router whose TTL / hop
                                  * limit ran out (also counted as a
                                  * "loop" drop); answered with ICMP time
                                  * exceeded from the VNIC's gateway. */
    DP_N_UPCALL_REASONS
};

/* Called by dp_run() for each packet the datapath handed to the agent;
 * 'pkt' is borrowed (freed after the call) unless the callback sets
 * '*taken'. */
typedef void dp_upcall_cb(void *aux, struct dp_bridge *br,
                          struct dp_port *in, uint8_t table,
                          enum dp_upcall_reason reason, uint32_t arg,
                          struct pkt *pkt, bool *taken);
void dp_set_upcall_cb(struct dp *dp, dp_upcall_cb *cb, void *aux);

/* Sends 'p' (taken) out of 'port' from the agent thread, bypassing the
 * tables (ARP/ND answers, gratuitous ARP).  Returns 0 or -errno. */
int dp_agent_send(struct dp *dp, struct dp_port *port, struct pkt *p);

/* Hands 'p' (taken) back to the datapath as if it had just been received
 * on 'port' (a queued packet whose translation arrived).  0 or -errno. */
int dp_agent_reinject(struct dp *dp, struct dp_port *port, struct pkt *p);

/* The buffer pool (for dp_agent_send buffers). */
struct pkt_pool *dp_pool(const struct dp *dp);

/* --- Observability (JSON for the control socket, docs/ctl-protocol.md) */

/* The MAC table of 'br': [{port, port_no, vlan, mac, age_s, static}]. */
json_t *dp_bridge_fdb_json(struct dp_bridge *br);

/* Per-port statistics of 'br': [{port, port_no, rx_packets, rx_bytes,
 * tx_packets, tx_bytes, rx_dropped, tx_dropped, rx_errors, tx_errors,
 * link, drops: {reason: n}, quota: {limit, in_use, peak, denials},
 * quota_skips}]. */
json_t *dp_bridge_port_stats_json(struct dp_bridge *br);

/* Datapath-wide counters: {emc, parse, upcalls, learn, threads}. */
json_t *dp_stats_json(struct dp *dp);

/* Drops counted on 'port' for 'reason' (tests). */
uint64_t dp_port_drops(const struct dp_port *port, enum dp_drop reason);

#endif /* dp/dp.h */
