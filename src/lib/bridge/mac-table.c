/* SPDX-License-Identifier: Apache-2.0 */
/* MAC learning table: theory in mac-table.h.
 *
 * Entries are immutable in their key; 'port' and 'last_seen' are atomics
 * so the agent can move an entry and the datapath can refresh it without
 * replacing the node.  Removed entries are freed after an RCU grace period.
 * Stats are written by the agent only (plain fields). */
#include "bridge/mac-table.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "util/cmap.h"
#include "util/hash.h"
#include "util/rcu.h"

struct mac_entry {
    struct eth_addr mac;              /* const */
    uint16_t vlan;                    /* const */
    bool is_static;                   /* ctl */
    _Atomic uint32_t port;            /* atomic: moved by the agent. */
    _Atomic int64_t last_seen;        /* atomic: refreshed by datapaths. */
    uint32_t hash;                    /* const */
    struct rcu_head rcu;
};

struct mac_table {
    struct cmap map;                  /* ctl: readers under RCU. */
    uint32_t basis;                   /* const: hash seed. */
    uint32_t max_entries;             /* ctl */
    int64_t ageing_ns;                /* ctl */
    struct vf_random rng;             /* ctl: eviction sampling. */
    uint32_t age_cursor;              /* ctl: where ageing resumes. */
    struct mac_table_stats stats;     /* ctl */
};

static uint32_t
mac_hash(const struct mac_table *t, uint16_t vlan, const struct eth_addr *mac)
{
    uint64_t w = 0;
    memcpy(&w, mac->ea, ETH_ADDR_LEN);
    return vf_hash_u64(w | (uint64_t) vlan << 48, t->basis);
}

struct mac_table *
mac_table_create(uint32_t max_entries, int64_t ageing_ns, uint64_t seed)
{
    struct mac_table *t = calloc(1, sizeof *t);
    if (!t) {
        errno = ENOMEM;
        return NULL;
    }
    cmap_init(&t->map);
    vf_random_init(&t->rng, seed);
    t->basis = vf_random_u32(&t->rng);
    mac_table_set_limits(t, max_entries, ageing_ns);
    return t;
}

void
mac_table_set_limits(struct mac_table *t, uint32_t max_entries,
                     int64_t ageing_ns)
{
    t->max_entries = max_entries ? max_entries : MAC_TABLE_DEFAULT_MAX;
    t->ageing_ns = ageing_ns > 0 ? ageing_ns : MAC_TABLE_DEFAULT_AGEING_NS;
}

void
mac_table_destroy(struct mac_table *t)
{
    if (!t) {
        return;
    }
    struct mac_entry *e;
    CMAP_FOR_EACH (e, c, &t->map) {
        free(e);
    }
    cmap_destroy(&t->map);
    free(t);
}

const struct mac_entry *
mac_table_lookup(const struct mac_table *t, uint16_t vlan,
                 const struct eth_addr *mac)
{
    struct cmap_cursor c = cmap_find(&t->map, mac_hash(t, vlan, mac));
    const struct mac_entry *e;
    while ((e = cmap_next(&c))) {
        if (e->vlan == vlan && eth_addr_equals(&e->mac, mac)) {
            return e;
        }
    }
    return NULL;
}

uint32_t
mac_entry_port(const struct mac_entry *e)
{
    return atomic_load_explicit(&((struct mac_entry *) e)->port,
                                memory_order_relaxed);
}

void
mac_entry_touch(const struct mac_entry *e_, int64_t now)
{
    struct mac_entry *e = (struct mac_entry *) e_;
    int64_t seen = atomic_load_explicit(&e->last_seen, memory_order_relaxed);
    if (now - seen >= MAC_TABLE_TOUCH_NS) {
        atomic_store_explicit(&e->last_seen, now, memory_order_relaxed);
    }
}

static void
entry_free_rcu(struct rcu_head *h)
{
    free(VF_CONTAINER_OF(h, struct mac_entry, rcu));
}

static void
entry_remove(struct mac_table *t, struct mac_entry *e)
{
    cmap_remove(&t->map, e, e->hash);
    if (e->is_static) {
        t->stats.n_static--;
    }
    t->stats.n_entries--;
    vf_rcu_call(&e->rcu, entry_free_rcu);
}

/* Evicts the least recently seen non-static entry among a random sample.
 * Returns false if it found none to evict. */
static bool
evict_one(struct mac_table *t)
{
    struct mac_entry *victim = NULL;
    int64_t oldest = INT64_MAX;
    uint32_t n = (uint32_t) cmap_count(&t->map);
    for (int i = 0; i < MAC_TABLE_EVICT_SAMPLE && n; i++) {
        struct mac_entry *e = cmap_sample(&t->map, vf_random_u32(&t->rng));
        if (e && !e->is_static) {
            int64_t seen = atomic_load(&e->last_seen);
            if (seen < oldest) {
                oldest = seen;
                victim = e;
            }
        }
    }
    if (!victim) {
        /* The sample was all static: take any learned entry. */
        struct mac_entry *e;
        CMAP_FOR_EACH (e, c, &t->map) {
            if (!e->is_static) {
                victim = e;
                break;
            }
        }
    }
    if (!victim) {
        return false;
    }
    entry_remove(t, victim);
    t->stats.n_evicted++;
    return true;
}

static struct mac_entry *
entry_insert(struct mac_table *t, uint16_t vlan, const struct eth_addr *mac,
             uint32_t port, int64_t now, bool is_static)
{
    struct mac_entry *e = calloc(1, sizeof *e);
    if (!e) {
        return NULL;
    }
    e->mac = *mac;
    e->vlan = vlan;
    e->is_static = is_static;
    atomic_init(&e->port, port);
    atomic_init(&e->last_seen, now);
    e->hash = mac_hash(t, vlan, mac);
    if (cmap_insert(&t->map, e, e->hash)) {
        free(e);
        return NULL;
    }
    t->stats.n_entries++;
    if (is_static) {
        t->stats.n_static++;
    }
    return e;
}

enum mac_learn_result
mac_table_learn(struct mac_table *t, uint16_t vlan, const struct eth_addr *mac,
                uint32_t port, int64_t now)
{
    struct mac_entry *e = (struct mac_entry *) mac_table_lookup(t, vlan, mac);
    if (e) {
        if (e->is_static) {
            if (mac_entry_port(e) != port) {
                t->stats.n_refused_static++;
                return MAC_LEARN_STATIC;
            }
            return MAC_LEARN_REFRESHED;
        }
        atomic_store(&e->last_seen, now);
        if (mac_entry_port(e) == port) {
            return MAC_LEARN_REFRESHED;
        }
        atomic_store(&e->port, port);
        t->stats.n_moved++;
        return MAC_LEARN_MOVED;
    }
    if (cmap_count(&t->map) >= t->max_entries && !evict_one(t)) {
        return MAC_LEARN_FAILED;
    }
    if (!entry_insert(t, vlan, mac, port, now, false)) {
        return MAC_LEARN_FAILED;
    }
    t->stats.n_learned++;
    return MAC_LEARN_NEW;
}

int
mac_table_add_static(struct mac_table *t, uint16_t vlan,
                     const struct eth_addr *mac, uint32_t port)
{
    struct mac_entry *e = (struct mac_entry *) mac_table_lookup(t, vlan, mac);
    if (e) {
        entry_remove(t, e);
    }
    return entry_insert(t, vlan, mac, port, 0, true) ? 0 : -ENOMEM;
}

bool
mac_table_remove(struct mac_table *t, uint16_t vlan,
                 const struct eth_addr *mac)
{
    struct mac_entry *e = (struct mac_entry *) mac_table_lookup(t, vlan, mac);
    if (!e) {
        return false;
    }
    entry_remove(t, e);
    return true;
}

/* Collects up to 'max' entries matching 'pred' into 'out'. */
typedef bool mac_pred(const struct mac_entry *, const void *aux);

static uint32_t
remove_matching(struct mac_table *t, mac_pred *pred, const void *aux)
{
    uint32_t removed = 0;
    for (;;) {
        struct mac_entry *batch[256];
        uint32_t n = 0;
        struct mac_entry *e;
        CMAP_FOR_EACH (e, c, &t->map) {
            if (pred(e, aux)) {
                batch[n++] = e;
                if (n == VF_ARRAY_SIZE(batch)) {
                    break;
                }
            }
        }
        for (uint32_t i = 0; i < n; i++) {
            entry_remove(t, batch[i]);
        }
        removed += n;
        if (n < VF_ARRAY_SIZE(batch)) {
            return removed;
        }
    }
}

struct port_pred_aux {
    uint32_t port;
    bool include_static;
};

static bool
pred_port(const struct mac_entry *e, const void *aux_)
{
    const struct port_pred_aux *aux = aux_;
    return mac_entry_port(e) == aux->port
           && (aux->include_static || !e->is_static);
}

uint32_t
mac_table_flush_port(struct mac_table *t, uint32_t port, bool include_static)
{
    struct port_pred_aux aux = {port, include_static};
    return remove_matching(t, pred_port, &aux);
}

static bool
pred_learned(const struct mac_entry *e, const void *aux)
{
    (void) aux;
    return !e->is_static;
}

uint32_t
mac_table_flush(struct mac_table *t)
{
    return remove_matching(t, pred_learned, NULL);
}

uint32_t
mac_table_age(struct mac_table *t, int64_t now, uint32_t budget)
{
    /* Visit 'budget' slots' worth of entries from the cursor, collect the
     * expired ones, then remove them (no changes during the walk). */
    struct mac_entry *expired[256];
    uint32_t n_expired = 0;
    size_t total = cmap_count(&t->map);
    if (!total) {
        return 0;
    }
    struct cmap_cursor c = cmap_walk(&t->map);
    uint32_t skip = t->age_cursor % (uint32_t) total;
    uint32_t visited = 0;
    struct mac_entry *e;
    for (uint32_t i = 0; i < skip && cmap_next(&c); i++) {
        continue;
    }
    while (visited < budget && n_expired < VF_ARRAY_SIZE(expired)) {
        e = cmap_next(&c);
        if (!e) {
            c = cmap_walk(&t->map);      /* Wrap around. */
            skip = 0;
            e = cmap_next(&c);
            if (!e) {
                break;
            }
        }
        visited++;
        if (!e->is_static
            && now - atomic_load(&e->last_seen) >= t->ageing_ns) {
            expired[n_expired++] = e;
        }
        if (visited >= total) {
            break;
        }
    }
    t->age_cursor = (uint32_t) ((t->age_cursor + visited) % total);
    for (uint32_t i = 0; i < n_expired; i++) {
        entry_remove(t, expired[i]);
    }
    t->stats.n_aged += n_expired;
    return n_expired;
}

uint32_t
mac_table_dump(const struct mac_table *t, int64_t now,
               struct mac_table_row *rows, uint32_t max)
{
    uint32_t n = 0;
    const struct mac_entry *e;
    CMAP_FOR_EACH (e, c, &t->map) {
        if (n < max) {
            struct mac_table_row *r = &rows[n];
            r->vlan = e->vlan;
            r->mac = e->mac;
            r->port = mac_entry_port(e);
            r->is_static = e->is_static;
            r->age_ns = e->is_static
                            ? 0
                            : now - atomic_load(&((struct mac_entry *) e)
                                                     ->last_seen);
        }
        n++;
    }
    return n;
}

void
mac_table_get_stats(const struct mac_table *t, struct mac_table_stats *s)
{
    *s = t->stats;
}
