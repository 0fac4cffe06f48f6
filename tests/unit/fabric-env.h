/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VFAB_TESTS_FABRIC_ENV_H
#define VFAB_TESTS_FABRIC_ENV_H 1

/* A fabric bridge on dummy ports for datapath unit tests (test-fabric.c,
 * test-dp-accel.c).  fabric_env_init() creates a datapath with bridge
 * "fab" and its uplink, dummy port 1 "up"; a translation cache; a
 * neighbour table that knows the peer VTEP 192.168.1.2 (PEER_MAC); and
 * makes the bridge a VXLAN fabric with VTEP 192.168.1.1/24 (VTEP_MAC).
 * fabric_env_add_vnic() adds dummy VNIC ports, fabric_env_add_xlate()
 * translations; the test binds its VNICs and calls dp_start().
 * fabric_env_fini() tears it all down; sleep_ms() waits.  Registering
 * the test's thread with RCU is left to the test.  Header-only. */

#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include "dp/dp.h"
#include "net/addr.h"
#include "overlay/neigh.h"
#include "policy/policy-cache.h"
#include "util/compiler.h"
#include "util/rcu.h"
#include "util/vtime.h"

static const struct eth_addr VTEP_MAC = {{2, 0xaa, 0, 0, 0, 1}};
static const struct eth_addr PEER_MAC = {{2, 0xaa, 0, 0, 0, 2}};

struct fabric_env {
    struct dp *dp;
    struct dp_bridge *br;
    struct dp_port *up;          /* Port 1, the uplink. */
    struct pcache *cache;
    struct neigh_table *neigh;
    vf_be32 vtep, peer;          /* 192.168.1.1 (this host) and .2. */
};

/* Creates the datapath from 'cfg' and the fabric bridge (not started). */
static inline void
fabric_env_init(struct fabric_env *e, const struct dp_config *cfg)
{
    char *err = NULL;
    memset(e, 0, sizeof *e);
    e->dp = dp_create(cfg, &err);
    VF_VERIFY(e->dp);
    e->br = dp_bridge_add(e->dp, "fab", &err);
    VF_VERIFY(e->br);
    struct dp_port_config up = {.port_no = 1, .name = "up",
                                .kind = PORT_KIND_DUMMY};
    e->up = dp_port_add(e->dp, e->br, &up, &err);
    VF_VERIFY(e->up);

    ipv4_parse("192.168.1.1", &e->vtep);
    ipv4_parse("192.168.1.2", &e->peer);
    struct pcache_config pc = {0};
    e->cache = pcache_create(&pc);
    e->neigh = neigh_table_create(1);
    neigh_update(e->neigh, e->peer, &PEER_MAC, vf_time_monotonic_ns());
    struct dp_fabric_config fc = {
        .tunnel = TUNNEL_VXLAN, .vtep_ip = e->vtep, .plen = 24,
        .vtep_mac = VTEP_MAC, .uplink_port_no = 1, .underlay_mtu = 1500,
        .cache = e->cache, .neigh = e->neigh,
    };
    VF_VERIFY(!dp_bridge_set_fabric(e->dp, e->br, &fc, &err));
}

/* Adds dummy port 'port_no' named 'name' as a VNIC (not bound yet). */
static inline struct dp_port *
fabric_env_add_vnic(struct fabric_env *e, uint32_t port_no,
                    const char *name)
{
    char *err = NULL;
    struct dp_port_config c = {.port_no = port_no, .name = name,
                               .kind = PORT_KIND_DUMMY, .vnic = true};
    struct dp_port *port = dp_port_add(e->dp, e->br, &c, &err);
    VF_VERIFY(port);
    return port;
}

/* A translation in 'part' for 'key' (a MAC, IPv4 or IPv6 address as
 * text) to 'mac' in 'vni', on this host if 'local' (else behind the
 * peer VTEP), never expiring. */
static inline void
fabric_env_add_xlate(struct fabric_env *e, struct pcache_part *part,
                     const char *key, const struct eth_addr *mac,
                     uint32_t vni, bool local, enum pcache_verdict verdict)
{
    struct pcache_entry *t = pcache_entry_alloc(0);
    VF_VERIFY(!pcache_key_parse(key, &t->key));
    t->status = PCACHE_OK;
    t->verdict = verdict;
    t->vni = vni;
    t->dst_mac = *mac;
    t->local = local;
    t->underlay_family = 4;
    memcpy(t->underlay_ip, local ? &e->vtep : &e->peer, 4);
    t->expires_ns = INT64_MAX;
    pcache_insert(e->cache, part, t, vf_time_monotonic_ns());
}

static inline void
fabric_env_fini(struct fabric_env *e)
{
    dp_destroy(e->dp);
    pcache_destroy(e->cache);
    neigh_table_destroy(e->neigh);
    vf_rcu_barrier();
}

static inline void
sleep_ms(int ms)
{
    struct timespec ts = {0, ms * 1000000l};
    nanosleep(&ts, NULL);
}

#endif /* fabric-env.h */
