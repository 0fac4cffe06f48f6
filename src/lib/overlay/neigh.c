/* SPDX-License-Identifier: Apache-2.0 */
/* Underlay neighbour table: see neigh.h.  Two maps keyed by IP: resolved
 * entries (RCU-read by datapaths) and probe timestamps (agent only). */
#include "overlay/neigh.h"

#include <stdlib.h>
#include <string.h>

#include "util/buf.h"
#include "util/cmap.h"
#include "util/hash.h"
#include "util/rcu.h"

struct neigh {
    vf_be32 ip;
    struct eth_addr mac;
    int64_t updated;
    struct rcu_head rcu;
};

struct probe {
    vf_be32 ip;
    int64_t sent;
};

struct neigh_table {
    struct cmap map;             /* ctl: struct neigh, RCU readers. */
    struct cmap probes;          /* ctl: struct probe, agent only. */
    uint32_t basis;              /* const */
};

struct neigh_table *
neigh_table_create(uint32_t seed)
{
    struct neigh_table *t = vf_xcalloc(1, sizeof *t);
    cmap_init(&t->map);
    cmap_init(&t->probes);
    t->basis = seed;
    return t;
}

void
neigh_table_destroy(struct neigh_table *t)
{
    if (!t) {
        return;
    }
    void *n;
    CMAP_FOR_EACH (n, c, &t->map) {
        free(n);
    }
    CMAP_FOR_EACH (n, c2, &t->probes) {
        free(n);
    }
    cmap_destroy(&t->map);
    cmap_destroy(&t->probes);
    free(t);
}

static uint32_t
ip_hash(const struct neigh_table *t, vf_be32 ip)
{
    return vf_hash_u32(ip, t->basis);
}

static struct neigh *
find(const struct neigh_table *t, vf_be32 ip)
{
    struct cmap_cursor c = cmap_find(&t->map, ip_hash(t, ip));
    struct neigh *n;
    while ((n = cmap_next(&c))) {
        if (n->ip == ip) {
            return n;
        }
    }
    return NULL;
}

bool
neigh_lookup(const struct neigh_table *t, vf_be32 ip, struct eth_addr *mac)
{
    const struct neigh *n = find(t, ip);
    if (!n) {
        return false;
    }
    *mac = n->mac;
    return true;
}

static void
neigh_free_rcu(struct rcu_head *h)
{
    free(VF_CONTAINER_OF(h, struct neigh, rcu));
}

void
neigh_update(struct neigh_table *t, vf_be32 ip, const struct eth_addr *mac,
             int64_t now)
{
    struct neigh *old = find(t, ip);
    if (old && eth_addr_equals(&old->mac, mac)) {
        old->updated = now;      /* Agent-only field. */
        return;
    }
    struct neigh *n = vf_xcalloc(1, sizeof *n);
    n->ip = ip;
    n->mac = *mac;
    n->updated = now;
    if (old) {
        cmap_replace(&t->map, old, n, ip_hash(t, ip));
        vf_rcu_call(&old->rcu, neigh_free_rcu);
    } else if (cmap_insert(&t->map, n, ip_hash(t, ip))) {
        free(n);
    }
}

bool
neigh_should_probe(struct neigh_table *t, vf_be32 ip, int64_t now)
{
    struct cmap_cursor c = cmap_find(&t->probes, ip_hash(t, ip));
    struct probe *p;
    while ((p = cmap_next(&c))) {
        if (p->ip == ip) {
            if (now - p->sent < NEIGH_REPROBE_NS) {
                return false;
            }
            p->sent = now;
            return true;
        }
    }
    p = vf_xcalloc(1, sizeof *p);
    p->ip = ip;
    p->sent = now;
    if (cmap_insert(&t->probes, p, ip_hash(t, ip))) {
        free(p);
    }
    return true;
}

uint32_t
neigh_refresh(struct neigh_table *t, int64_t now, neigh_stale_cb *cb,
              void *aux)
{
    uint32_t n_stale = 0;
    struct neigh *n;
    CMAP_FOR_EACH (n, c, &t->map) {
        if (now - n->updated >= NEIGH_STALE_NS) {
            n_stale++;
            if (cb) {
                cb(aux, n->ip);
            }
        }
    }
    return n_stale;
}

uint32_t
neigh_dump(const struct neigh_table *t, vf_be32 *ips, struct eth_addr *macs,
           int64_t *ages, int64_t now, uint32_t max)
{
    uint32_t i = 0;
    const struct neigh *n;
    CMAP_FOR_EACH (n, c, &t->map) {
        if (i < max) {
            ips[i] = n->ip;
            macs[i] = n->mac;
            ages[i] = now - n->updated;
        }
        i++;
    }
    return i;
}
