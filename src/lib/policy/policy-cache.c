/* SPDX-License-Identifier: Apache-2.0 */
/* The agent's translation cache: theory of operation.
 *
 * Place: vfabd's agent thread fills it from vfab-policyd's answers
 * (policy-client.c) and drops entries on change records; datapath threads
 * read it without locks when a packet needs a translation.
 *
 *     pcache ── parts (cmap by VNIC name) ── pcache_part (one per VNIC)
 *                                              ├── entries (cmap by key)
 *                                              └── LRU list (writer only)
 *
 * Sizing (the seeds' dynamically resized memory partition).  Each
 * partition has a capacity, in entries, that bounds its memory.  It
 * starts at min_capacity.  Every resize_interval the writer looks at the
 * partition's last interval:
 *   grow   ×2 (up to max_capacity) when it evicted entries, is >= 90 %
 *          full and more than 10 % of its lookups missed: its working set
 *          does not fit;
 *   shrink ÷2 (down to min_capacity) when it has been idle for idle_ns,
 *          or is less than 25 % full: the memory is better used elsewhere.
 * Growth must fit the global budget (sum of capacities).  Free budget
 * goes to whoever asks first.  When there is not enough, a partition
 * below its fair share (budget / partitions) may reclaim from partitions
 * above theirs, the ones whose memory is worth least (hits per slot in
 * their last interval) first, halving each but never below its fair
 * share; a partition at or above its share grows only from free budget.
 * Growth that finds nothing is denied (counted).  Because takers are
 * below the share and givers stay at or above it, two partitions never
 * take memory back and forth.  Every partition keeps min_capacity
 * whatever the budget, so a new VNIC always gets a start.  The
 * thresholds (90 %, 10 %, 25 %) keep a partition from flapping: after a
 * doubling it is ~50 % full, far from both edges.
 *
 * LRU.  Readers cannot take locks, so they only stamp an entry's
 * last_used_ns (a relaxed store, skipped if unchanged).  The writer keeps
 * entries on a list in the order it last placed them (insert = head).  To
 * evict, it looks at the tail: an entry used since it was placed
 * (last_used_ns > lru_stamp) goes back to the head with a new stamp
 * (second chance); the first one that was not is the victim.  With one
 * reader this is exact LRU; with racing readers a just-stamped entry may
 * be evicted, which costs one miss.
 *
 * Lifetimes.  Each entry expires at the lifetime the server gave it; an
 * expired entry is a miss (the agent asks again) unless the server is
 * unreachable (stale_ok), when it is served as a stale hit: forwarding
 * goes on with what the agent has (DESIGN.md, control plane).  The sweep
 * removes entries expired for longer than stale_keep_ns from the LRU
 * tail, sweep_budget per run.  Keeping them a while matters: an agent
 * learns that the server is down only when a request or its change feed
 * fails, which may be after an entry expired; had the sweep removed it
 * at once, the traffic it carried would stop instead of going stale.
 *
 * Invalidation walks the writer's lists (never a cmap walk, which must
 * not see modifications), removing entries from their cmap and freeing
 * them after a grace period.  Concurrency rules:
 *   1. Only the writer inserts, removes, resizes and touches LRU fields.
 *   2. Published entries are immutable except last_used_ns (atomic).
 *   3. Removed entries and partitions are freed with vf_rcu_call(); a
 *      partition's cmap is destroyed in its RCU callback, after readers
 *      that found the partition have left. */
#include "policy/policy-cache.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net/addr.h"
#include "util/buf.h"
#include "util/hash.h"
#include "util/vtime.h"

struct pcache_part {
    const struct pcache *cache; /* const: the cache it belongs to. */
    char *name;                 /* const */
    uint32_t name_hash;         /* const */
    struct cmap entries;        /* ctl: readers look up under RCU. */

    _Atomic uint64_t hits;      /* atomic: readers. */
    _Atomic uint64_t stale_hits;      /* atomic */
    _Atomic uint64_t misses;    /* atomic */

    /* Writer only from here on. */
    size_t capacity;
    size_t n_entries;
    struct pcache_entry *lru_head, *lru_tail;
    uint64_t inserts, evictions, expired, invalidations;
    uint64_t grows, shrinks, grow_denied;
    int64_t next_resize_ns;
    int64_t last_active_ns;
    uint64_t win_lookups;       /* Lookup total at the last decision. */
    uint64_t win_misses;
    uint64_t win_evictions;
    uint64_t last_hits;         /* Hits in the last interval. */

    bool src_known;
    char *src_tenant;
    char *src_network;
    char **src_groups;
    size_t n_src_groups;

    struct rcu_head rcu;
};

struct pcache {
    struct pcache_config cfg;   /* const */
    struct cmap parts;          /* ctl: by name hash. */
    struct pcache_part **list;  /* ctl: the same, for the writer. */
    size_t n_parts;
    size_t total_capacity;      /* ctl */
    _Atomic bool stale_ok;      /* atomic */
    size_t sweep_cursor;        /* ctl: next partition to sweep. */
};

/* ---- Keys. ---- */

int
pcache_key_parse(const char *s, struct pcache_key *key)
{
    struct pcache_key k;
    memset(&k, 0, sizeof k);
    struct eth_addr mac;
    vf_be32 v4;
    if (!eth_addr_parse(s, &mac)) {
        k.type = PCACHE_KEY_MAC;
        memcpy(k.addr, mac.ea, ETH_ADDR_LEN);
    } else if (!ipv4_parse(s, &v4)) {
        k.type = PCACHE_KEY_IPV4;
        memcpy(k.addr, &v4, 4);
    } else if (!ipv6_parse(s, k.addr)) {
        k.type = PCACHE_KEY_IPV6;
    } else {
        return -EINVAL;
    }
    *key = k;
    return 0;
}

char *
pcache_key_format(const struct pcache_key *key, char *out)
{
    if (key->type == PCACHE_KEY_MAC) {
        struct eth_addr mac;
        memcpy(mac.ea, key->addr, ETH_ADDR_LEN);
        return eth_addr_format(&mac, out);
    }
    if (key->type == PCACHE_KEY_IPV4) {
        vf_be32 v4;
        memcpy(&v4, key->addr, 4);
        return ipv4_format(v4, out);
    }
    return ipv6_format(key->addr, out);
}

static uint32_t
key_hash(const struct pcache *c, const struct pcache_key *key)
{
    return vf_hash_bytes(key, sizeof *key, c->cfg.hash_basis);
}

static bool
key_equal(const struct pcache_key *a, const struct pcache_key *b)
{
    return !memcmp(a, b, sizeof *a);
}

/* ---- Entries. ---- */

struct pcache_entry *
pcache_entry_alloc(size_t n_acl)
{
    struct pcache_entry *e = vf_xcalloc(1, sizeof *e
                                               + n_acl * sizeof e->acl[0]);
    e->n_acl = n_acl;
    return e;
}

void
pcache_entry_free(struct pcache_entry *e)
{
    if (!e) {
        return;
    }
    free(e->dst_vnic);
    free(e->dst_network);
    free(e->dst_host);
    for (size_t i = 0; i < e->n_dst_groups; i++) {
        free(e->dst_groups[i]);
    }
    free(e->dst_groups);
    free(e);
}

static void
entry_free_rcu(struct rcu_head *head)
{
    pcache_entry_free(VF_CONTAINER_OF(head, struct pcache_entry, rcu));
}

bool
pcache_entry_allows(const struct pcache_entry *e, uint8_t protocol, int port)
{
    if (e->status != PCACHE_OK && e->status != PCACHE_UNPLACED) {
        return false;
    }
    if (e->verdict != PCACHE_FILTERED) {
        return e->verdict == PCACHE_ALLOW;
    }
    for (size_t i = 0; i < e->n_acl; i++) {
        const struct pcache_acl_rule *r = &e->acl[i];
        if (r->protocol && r->protocol != protocol) {
            continue;            /* Protocol 0 in a rule: any. */
        }
        bool all = r->port_min == 0 && r->port_max == 65535;
        if (all || (port >= r->port_min && port <= r->port_max)) {
            return r->allow;
        }
    }
    return e->dflt_allow;
}

/* ---- LRU (writer). ---- */

static void
lru_unlink(struct pcache_part *p, struct pcache_entry *e)
{
    if (e->lru_prev) {
        e->lru_prev->lru_next = e->lru_next;
    } else {
        p->lru_head = e->lru_next;
    }
    if (e->lru_next) {
        e->lru_next->lru_prev = e->lru_prev;
    } else {
        p->lru_tail = e->lru_prev;
    }
    e->lru_prev = e->lru_next = NULL;
}

static void
lru_push_head(struct pcache_part *p, struct pcache_entry *e)
{
    e->lru_prev = NULL;
    e->lru_next = p->lru_head;
    if (p->lru_head) {
        p->lru_head->lru_prev = e;
    } else {
        p->lru_tail = e;
    }
    p->lru_head = e;
    e->lru_stamp = atomic_load_explicit(&e->last_used_ns,
                                        memory_order_relaxed);
}

/* Unpublishes 'e' from 'p' and frees it after a grace period. */
static void
entry_remove(struct pcache_part *p, struct pcache_entry *e)
{
    cmap_remove(&p->entries, e, e->hash);
    lru_unlink(p, e);
    p->n_entries--;
    vf_rcu_call(&e->rcu, entry_free_rcu);
}

/* Evicts the least recently used entry (second chance, see above). */
static void
evict_one(struct pcache_part *p)
{
    for (size_t tries = 0; p->lru_tail && tries <= p->n_entries; tries++) {
        struct pcache_entry *e = p->lru_tail;
        int64_t used = atomic_load_explicit(&e->last_used_ns,
                                            memory_order_relaxed);
        if (used > e->lru_stamp) {
            lru_unlink(p, e);
            lru_push_head(p, e);
            continue;
        }
        entry_remove(p, e);
        p->evictions++;
        return;
    }
    if (p->lru_tail) {
        entry_remove(p, p->lru_tail);
        p->evictions++;
    }
}

/* ---- Partitions. ---- */

static void
part_free_src(struct pcache_part *p)
{
    free(p->src_tenant);
    free(p->src_network);
    for (size_t i = 0; i < p->n_src_groups; i++) {
        free(p->src_groups[i]);
    }
    free(p->src_groups);
    p->src_tenant = p->src_network = NULL;
    p->src_groups = NULL;
    p->n_src_groups = 0;
}

static void
part_free_rcu(struct rcu_head *head)
{
    struct pcache_part *p = VF_CONTAINER_OF(head, struct pcache_part, rcu);
    cmap_destroy(&p->entries);
    part_free_src(p);
    free(p->name);
    free(p);
}

struct pcache *
pcache_create(const struct pcache_config *cfg)
{
    struct pcache *c = vf_xcalloc(1, sizeof *c);
    c->cfg = *cfg;
    if (!c->cfg.budget) {
        c->cfg.budget = 65536;
    }
    if (!c->cfg.min_capacity) {
        c->cfg.min_capacity = 16;
    }
    if (!c->cfg.max_capacity) {
        c->cfg.max_capacity = 16384;
    }
    c->cfg.max_capacity = VF_MAX(c->cfg.max_capacity, c->cfg.min_capacity);
    if (!c->cfg.resize_interval_ns) {
        c->cfg.resize_interval_ns = VF_NSEC_PER_SEC;
    }
    if (!c->cfg.idle_ns) {
        c->cfg.idle_ns = 30 * VF_NSEC_PER_SEC;
    }
    if (!c->cfg.sweep_budget) {
        c->cfg.sweep_budget = 1024;
    }
    if (c->cfg.stale_keep_ns <= 0) {
        c->cfg.stale_keep_ns = 120 * VF_NSEC_PER_SEC;
    }
    cmap_init(&c->parts);
    atomic_init(&c->stale_ok, false);
    return c;
}

static void
part_destroy(struct pcache *c, struct pcache_part *p)
{
    while (p->lru_head) {
        entry_remove(p, p->lru_head);
    }
    cmap_remove(&c->parts, p, p->name_hash);
    c->total_capacity -= p->capacity;
    vf_rcu_call(&p->rcu, part_free_rcu);
}

void
pcache_destroy(struct pcache *c)
{
    if (!c) {
        return;
    }
    while (c->n_parts) {
        part_destroy(c, c->list[--c->n_parts]);
    }
    free(c->list);
    /* The parts map is empty; its table may still be read by a reader
     * that found a partition, but rule: readers must be gone. */
    cmap_destroy(&c->parts);
    free(c);
}

struct pcache_part *
pcache_part_find(const struct pcache *c, const char *name)
{
    uint32_t hash = vf_hash_string(name, 0);
    struct cmap_cursor cur = cmap_find(&c->parts, hash);
    struct pcache_part *p;
    while ((p = cmap_next(&cur))) {
        if (!strcmp(p->name, name)) {
            return p;
        }
    }
    return NULL;
}

struct pcache_part *
pcache_part_get(struct pcache *c, const char *name)
{
    struct pcache_part *p = pcache_part_find(c, name);
    if (p) {
        return p;
    }
    p = vf_xcalloc(1, sizeof *p);
    p->cache = c;
    p->name = vf_xstrdup(name);
    p->name_hash = vf_hash_string(name, 0);
    cmap_init(&p->entries);
    p->capacity = c->cfg.min_capacity;
    p->next_resize_ns = INT64_MIN;
    c->total_capacity += p->capacity;
    c->list = vf_xrealloc(c->list, (c->n_parts + 1) * sizeof *c->list);
    c->list[c->n_parts++] = p;
    VF_VERIFY(!cmap_insert(&c->parts, p, p->name_hash));
    return p;
}

bool
pcache_part_remove(struct pcache *c, const char *name)
{
    for (size_t i = 0; i < c->n_parts; i++) {
        if (!strcmp(c->list[i]->name, name)) {
            struct pcache_part *p = c->list[i];
            c->list[i] = c->list[--c->n_parts];
            part_destroy(c, p);
            return true;
        }
    }
    return false;
}

const char *
pcache_part_name(const struct pcache_part *p)
{
    return p->name;
}

void
pcache_part_set_src(struct pcache_part *p, const char *tenant,
                    const char *network, char *const *groups,
                    size_t n_groups)
{
    part_free_src(p);
    p->src_known = true;
    p->src_tenant = tenant ? vf_xstrdup(tenant) : NULL;
    p->src_network = network ? vf_xstrdup(network) : NULL;
    p->src_groups = vf_xcalloc(n_groups ? n_groups : 1,
                               sizeof *p->src_groups);
    for (size_t i = 0; i < n_groups; i++) {
        p->src_groups[i] = vf_xstrdup(groups[i]);
    }
    p->n_src_groups = n_groups;
}

/* ---- Lookups (readers). ---- */

static inline void
count(_Atomic uint64_t *ctr)
{
    atomic_fetch_add_explicit(ctr, 1, memory_order_relaxed);
}

static struct pcache_entry *
find_entry(const struct pcache_part *p, const struct pcache_key *key,
           uint32_t hash)
{
    struct cmap_cursor cur = cmap_find(&p->entries, hash);
    struct pcache_entry *e;
    while ((e = cmap_next(&cur))) {
        if (key_equal(&e->key, key)) {
            return e;
        }
    }
    return NULL;
}

const struct pcache_entry *
pcache_lookup(struct pcache_part *p, const struct pcache_key *key,
              int64_t now, enum pcache_result *res)
{
    const struct pcache *c = p->cache;
    struct pcache_entry *e = find_entry(p, key, key_hash(c, key));
    enum pcache_result r = PCACHE_MISS;
    if (e) {
        if (now < e->expires_ns) {
            r = PCACHE_HIT;
        } else if (atomic_load_explicit(&c->stale_ok,
                                        memory_order_relaxed)) {
            r = PCACHE_HIT_STALE;
        } else {
            e = NULL;
        }
    }
    if (e) {
        if (atomic_load_explicit(&e->last_used_ns, memory_order_relaxed)
            != now) {
            atomic_store_explicit(&e->last_used_ns, now,
                                  memory_order_relaxed);
        }
        count(r == PCACHE_HIT ? &p->hits : &p->stale_hits);
    } else {
        count(&p->misses);
    }
    if (res) {
        *res = r;
    }
    return e;
}

/* ---- Insertion (writer). ---- */

void
pcache_insert(struct pcache *c, struct pcache_part *p, struct pcache_entry *e,
              int64_t now)
{
    e->hash = key_hash(c, &e->key);
    atomic_store_explicit(&e->last_used_ns, now, memory_order_relaxed);
    struct pcache_entry *old = find_entry(p, &e->key, e->hash);
    if (old) {
        /* Readers see the old or the new entry, never neither. */
        cmap_replace(&p->entries, old, e, e->hash);
        lru_unlink(p, old);
        vf_rcu_call(&old->rcu, entry_free_rcu);
    } else {
        while (p->n_entries >= p->capacity && p->lru_tail) {
            evict_one(p);
        }
        VF_VERIFY(!cmap_insert(&p->entries, e, e->hash));
        p->n_entries++;
    }
    lru_push_head(p, e);
    p->inserts++;
    p->last_active_ns = now;
}

void
pcache_set_stale_ok(struct pcache *c, bool stale_ok)
{
    atomic_store_explicit(&c->stale_ok, stale_ok, memory_order_relaxed);
}

/* ---- Invalidation (writer). ---- */

typedef bool entry_pred(const struct pcache_part *,
                        const struct pcache_entry *, const void *aux);

static size_t
remove_matching(struct pcache_part *p, entry_pred *pred, const void *aux)
{
    size_t n = 0;
    struct pcache_entry *e = p->lru_head;
    while (e) {
        struct pcache_entry *next = e->lru_next;
        if (!pred || pred(p, e, aux)) {
            entry_remove(p, e);
            n++;
        }
        e = next;
    }
    p->invalidations += n;
    return n;
}

size_t
pcache_invalidate_key(struct pcache *c, const struct pcache_key *key)
{
    uint32_t hash = key_hash(c, key);
    size_t n = 0;
    for (size_t i = 0; i < c->n_parts; i++) {
        struct pcache_part *p = c->list[i];
        struct pcache_entry *e = find_entry(p, key, hash);
        if (e) {
            entry_remove(p, e);
            p->invalidations++;
            n++;
        }
    }
    return n;
}

struct dst_match {
    const char *field;
    const char *name;
};

static bool
streq(const char *a, const char *b)
{
    return a && b && !strcmp(a, b);
}

static bool
match_dst(const struct pcache_part *p, const struct pcache_entry *e,
          const void *aux_)
{
    const struct dst_match *m = aux_;
    (void) p;
    if (!strcmp(m->field, "network")) {
        return streq(e->dst_network, m->name);
    }
    if (!strcmp(m->field, "host")) {
        return streq(e->dst_host, m->name);
    }
    return streq(e->dst_vnic, m->name);
}

size_t
pcache_invalidate_dst(struct pcache *c, const char *field, const char *name)
{
    struct dst_match m = {field, name};
    size_t n = 0;
    for (size_t i = 0; i < c->n_parts; i++) {
        n += remove_matching(c->list[i], match_dst, &m);
    }
    return n;
}

size_t
pcache_invalidate_part(struct pcache *c, struct pcache_part *p)
{
    (void) c;
    return remove_matching(p, NULL, NULL);
}

size_t
pcache_invalidate_src_network(struct pcache *c, const char *network)
{
    size_t n = 0;
    for (size_t i = 0; i < c->n_parts; i++) {
        struct pcache_part *p = c->list[i];
        if (!p->src_known || streq(p->src_network, network)) {
            n += remove_matching(p, NULL, NULL);
        }
    }
    return n;
}

static bool
groups_contain(char *const *groups, size_t n, const char *g)
{
    for (size_t i = 0; i < n; i++) {
        if (!strcmp(groups[i], g)) {
            return true;
        }
    }
    return false;
}

static bool
src_matches(const struct pcache_part *p, const char *tenant,
            const struct pcache_selector *s)
{
    if (!p->src_known) {
        return true;
    }
    if (tenant && p->src_tenant && strcmp(tenant, p->src_tenant)) {
        return false;
    }
    switch (s->type) {
    case PCACHE_SEL_NETWORK:
        return streq(p->src_network, s->name);
    case PCACHE_SEL_GROUP:
        return groups_contain(p->src_groups, p->n_src_groups, s->name);
    case PCACHE_SEL_ANY:
    default:
        return true;
    }
}

static bool
match_policy_dst(const struct pcache_part *p, const struct pcache_entry *e,
                 const void *sel_)
{
    const struct pcache_selector *s = sel_;
    (void) p;
    if (e->status != PCACHE_OK && e->status != PCACHE_UNPLACED) {
        return false;           /* Policies do not change resolution. */
    }
    switch (s->type) {
    case PCACHE_SEL_NETWORK:
        return streq(e->dst_network, s->name);
    case PCACHE_SEL_GROUP:
        return groups_contain(e->dst_groups, e->n_dst_groups, s->name);
    case PCACHE_SEL_ANY:
    default:
        return true;
    }
}

size_t
pcache_invalidate_policy(struct pcache *c, const char *tenant,
                         const struct pcache_selector *src,
                         const struct pcache_selector *dst)
{
    size_t n = 0;
    for (size_t i = 0; i < c->n_parts; i++) {
        struct pcache_part *p = c->list[i];
        if (src_matches(p, tenant, src)) {
            n += remove_matching(p, match_policy_dst, dst);
        }
    }
    return n;
}

size_t
pcache_invalidate_all(struct pcache *c)
{
    size_t n = 0;
    for (size_t i = 0; i < c->n_parts; i++) {
        n += remove_matching(c->list[i], NULL, NULL);
    }
    return n;
}

/* ---- Sizing and sweeping (writer). ---- */

static uint64_t
part_lookups(const struct pcache_part *p)
{
    return atomic_load_explicit(&p->hits, memory_order_relaxed)
           + atomic_load_explicit(&p->stale_hits, memory_order_relaxed)
           + atomic_load_explicit(&p->misses, memory_order_relaxed);
}

static void
set_capacity(struct pcache *c, struct pcache_part *p, size_t capacity)
{
    c->total_capacity = c->total_capacity - p->capacity + capacity;
    p->capacity = capacity;
    while (p->n_entries > p->capacity) {
        evict_one(p);
    }
}

/* Hits per slot in the last interval, scaled: what the memory a
 * partition holds is worth. */
static uint64_t
hit_density(const struct pcache_part *p)
{
    return p->last_hits * 1024 / (p->capacity ? p->capacity : 1);
}

/* Each partition's fair share of the budget. */
static size_t
fair_share(const struct pcache *c)
{
    return VF_MAX(c->cfg.min_capacity,
                  c->cfg.budget / (c->n_parts ? c->n_parts : 1));
}

/* Tries to free 'need' entries of budget by shrinking partitions above
 * their fair share (halving, but not below it), those whose memory is
 * worth least (hit density) first. */
static void
reclaim(struct pcache *c, const struct pcache_part *grower, size_t need)
{
    size_t fair = fair_share(c);
    while (c->total_capacity + need > c->cfg.budget) {
        struct pcache_part *victim = NULL;
        for (size_t i = 0; i < c->n_parts; i++) {
            struct pcache_part *p = c->list[i];
            if (p != grower && p->capacity > fair
                && (!victim || hit_density(p) < hit_density(victim))) {
                victim = p;
            }
        }
        if (!victim) {
            return;
        }
        set_capacity(c, victim, VF_MAX(victim->capacity / 2, fair));
        victim->shrinks++;
    }
}

static void
part_resize(struct pcache *c, struct pcache_part *p, int64_t now)
{
    uint64_t lookups = part_lookups(p);
    uint64_t misses = atomic_load_explicit(&p->misses, memory_order_relaxed);
    uint64_t d_lookups = lookups - p->win_lookups;
    uint64_t d_misses = misses - p->win_misses;
    uint64_t d_evictions = p->evictions - p->win_evictions;
    p->win_lookups = lookups;
    p->win_misses = misses;
    p->win_evictions = p->evictions;
    p->last_hits = d_lookups - d_misses;
    if (d_lookups) {
        p->last_active_ns = now;
    }

    bool full = p->n_entries * 10 >= p->capacity * 9;
    if (d_evictions && full && d_misses * 10 > d_lookups
        && p->capacity < c->cfg.max_capacity) {
        size_t want = VF_MIN(p->capacity * 2, c->cfg.max_capacity);
        size_t fair = fair_share(c);
        if (c->total_capacity + (want - p->capacity) > c->cfg.budget
            && p->capacity < fair) {
            /* Below its share, it may take from those above theirs, up
             * to its share. */
            reclaim(c, p, VF_MIN(want, fair) - p->capacity);
        }
        /* Take what the budget allows, if it is anything. */
        size_t avail = c->cfg.budget > c->total_capacity
                           ? c->cfg.budget - c->total_capacity
                           : 0;
        want = VF_MIN(want, p->capacity + avail);
        if (want > p->capacity) {
            set_capacity(c, p, want);
            p->grows++;
        } else {
            p->grow_denied++;
        }
        return;
    }
    bool idle = now - p->last_active_ns >= c->cfg.idle_ns;
    if (p->capacity > c->cfg.min_capacity
        && (idle || p->n_entries * 4 < p->capacity)) {
        set_capacity(c, p, VF_MAX(p->capacity / 2, c->cfg.min_capacity));
        p->shrinks++;
    }
}

/* Removes entries expired for longer than 'keep_ns' from the LRU tail of
 * 'p', examining at most 'budget'; returns how many it examined. */
static size_t
sweep(struct pcache_part *p, size_t budget, int64_t now, int64_t keep_ns)
{
    size_t seen = 0;
    struct pcache_entry *e = p->lru_tail;
    while (e && seen < budget) {
        struct pcache_entry *prev = e->lru_prev;
        if (e->expires_ns <= now - keep_ns) {
            entry_remove(p, e);
            p->expired++;
        }
        seen++;
        e = prev;
    }
    return seen;
}

void
pcache_run(struct pcache *c, int64_t now)
{
    for (size_t i = 0; i < c->n_parts; i++) {
        struct pcache_part *p = c->list[i];
        if (p->next_resize_ns == INT64_MIN) {
            /* First run for this partition: start its first interval. */
            p->next_resize_ns = now + c->cfg.resize_interval_ns;
            p->win_lookups = part_lookups(p);
            p->win_misses = atomic_load_explicit(&p->misses,
                                                 memory_order_relaxed);
            p->win_evictions = p->evictions;
            p->last_active_ns = VF_MAX(p->last_active_ns, now);
        } else if (now >= p->next_resize_ns) {
            part_resize(c, p, now);
            p->next_resize_ns = now + c->cfg.resize_interval_ns;
        }
    }
    if (atomic_load_explicit(&c->stale_ok, memory_order_relaxed)
        || !c->n_parts) {
        return;
    }
    size_t budget = c->cfg.sweep_budget;
    for (size_t k = 0; k < c->n_parts && budget; k++) {
        size_t i = (c->sweep_cursor + k) % c->n_parts;
        budget -= VF_MIN(budget, sweep(c->list[i], budget, now,
                                         c->cfg.stale_keep_ns));
    }
    c->sweep_cursor = (c->sweep_cursor + 1) % c->n_parts;
}

/* ---- Statistics. ---- */

void
pcache_part_get_stats(const struct pcache_part *p,
                      struct pcache_part_stats *s)
{
    s->entries = p->n_entries;
    s->capacity = p->capacity;
    s->hits = atomic_load_explicit(&p->hits, memory_order_relaxed);
    s->stale_hits = atomic_load_explicit(&p->stale_hits,
                                         memory_order_relaxed);
    s->misses = atomic_load_explicit(&p->misses, memory_order_relaxed);
    s->inserts = p->inserts;
    s->evictions = p->evictions;
    s->expired = p->expired;
    s->invalidations = p->invalidations;
    s->grows = p->grows;
    s->shrinks = p->shrinks;
    s->grow_denied = p->grow_denied;
}

size_t
pcache_n_parts(const struct pcache *c)
{
    return c->n_parts;
}

struct pcache_part *
pcache_part_at(const struct pcache *c, size_t i)
{
    return i < c->n_parts ? c->list[i] : NULL;
}

size_t
pcache_total_capacity(const struct pcache *c)
{
    return c->total_capacity;
}

size_t
pcache_budget(const struct pcache *c)
{
    return c->cfg.budget;
}
