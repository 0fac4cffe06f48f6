/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VFAB_POLICY_POLICY_CACHE_H
#define VFAB_POLICY_POLICY_CACHE_H 1

/* The agent's translation cache: one partition per local VNIC (the
 * VNIC's "translation partition" of DESIGN.md), each holding the
 * translations its VNIC asked for, keyed by destination (MAC, IPv4 or
 * IPv6).  Theory of operation (sizing, LRU, invalidation): policy-cache.c.
 *
 * Threads (STYLE.md P5; util/rcu.h):
 *   - one writer, the agent (control) thread: every function not marked
 *     "reader" below; it must be registered with RCU (util/rcu.h rule 1)
 *     because removals free through vf_rcu_call();
 *   - any number of readers, the datapath threads: pcache_part_find(),
 *     pcache_lookup(), pcache_entry_allows(), inside vf_rcu_read_lock().
 *     They never block and never write anything but per-partition
 *     counters and an entry's last-use stamp (relaxed atomics).
 * Entries are immutable once published; a replaced, invalidated or
 * evicted entry is freed after an RCU grace period, so a reader may keep
 * using what it found until it leaves its read-side section.  Time is
 * passed in ('now', monotonic nanoseconds). */

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "net/wire.h"
#include "util/cmap.h"
#include "util/rcu.h"

enum pcache_key_type {
    PCACHE_KEY_MAC = 1,
    PCACHE_KEY_IPV4 = 4,
    PCACHE_KEY_IPV6 = 6,
};

/* A destination: a MAC (bytes 0..5) or an IP address (4 or 16 bytes);
 * unused bytes are zero so keys compare with memcmp. */
struct pcache_key {
    uint8_t type;
    uint8_t pad[3];
    uint8_t addr[16];
};

/* From a text MAC or IPv4/IPv6 address.  Returns 0 or -EINVAL. */
int pcache_key_parse(const char *s, struct pcache_key *key);
/* Writes the text form into 'out' (46 bytes); returns 'out'. */
char *pcache_key_format(const struct pcache_key *key, char *out);

enum pcache_status {            /* As the server's "status". */
    PCACHE_OK,
    PCACHE_NOT_FOUND,
    PCACHE_UNPLACED,
    PCACHE_NO_SRC,
    PCACHE_FORBIDDEN,
};

enum pcache_verdict {           /* As the server's "verdict". */
    PCACHE_DENY,
    PCACHE_ALLOW,
    PCACHE_FILTERED,            /* See 'acl' and 'dflt'. */
};

struct pcache_acl_rule {
    uint8_t protocol;           /* 0 = any. */
    bool allow;
    uint16_t port_min;
    uint16_t port_max;
};

/* One translation.  Built by the writer with pcache_entry_alloc(), then
 * handed to pcache_insert() and never changed again. */
struct pcache_entry {
    struct pcache_key key;      /* const: the destination. */
    uint32_t hash;              /* const */
    enum pcache_status status;  /* const */
    enum pcache_verdict verdict;/* const */
    bool dflt_allow;            /* const: after the ACL. */
    bool local;                 /* const: destination on this host. */
    uint32_t vni;               /* const: 0 when no path. */
    struct eth_addr dst_mac;    /* const */
    uint8_t underlay_family;    /* const: 0 (no path), 4 or 6. */
    uint8_t underlay_ip[16];    /* const */
    uint64_t version;           /* const: model version of the answer. */
    int64_t expires_ns;         /* const */

    /* What invalidation matches on (writer only). */
    char *dst_vnic;
    char *dst_network;
    char *dst_host;
    char **dst_groups;
    size_t n_dst_groups;

    _Atomic int64_t last_used_ns;     /* atomic: readers stamp hits. */

    /* Writer only: LRU list and bookkeeping. */
    struct pcache_entry *lru_prev, *lru_next;
    int64_t lru_stamp;          /* last_used_ns when put at the head. */
    struct rcu_head rcu;

    size_t n_acl;               /* const */
    struct pcache_acl_rule acl[];     /* const */
};

/* Allocates an entry with room for 'n_acl' rules, zeroed (strings NULL).
 * Writer.  Aborts on allocation failure (control path). */
struct pcache_entry *pcache_entry_alloc(size_t n_acl);
/* Frees an entry that was never inserted.  NULL is a no-op. */
void pcache_entry_free(struct pcache_entry *e);

/* Reader: does 'e' let 'protocol' (0 = any) to 'port' (-1 = none)
 * through?  Positive status only; others deny. */
bool pcache_entry_allows(const struct pcache_entry *e, uint8_t protocol,
                         int port);

struct pcache_config {
    size_t budget;              /* Total capacity in entries (65536). */
    size_t min_capacity;        /* Per partition (16). */
    size_t max_capacity;        /* Per partition (16384). */
    int64_t resize_interval_ns; /* Between sizing decisions (1 s). */
    int64_t idle_ns;            /* Unused that long: shrink (30 s). */
    size_t sweep_budget;        /* Entries examined per run (1024). */
    int64_t stale_keep_ns;      /* Expired entries kept that long (120 s). */
    uint32_t hash_basis;        /* Seed for key hashes. */
};

struct pcache_part_stats {
    size_t entries;
    size_t capacity;
    uint64_t hits;              /* Valid entries found. */
    uint64_t stale_hits;        /* Expired entries served (server down). */
    uint64_t misses;            /* Not there, or expired. */
    uint64_t inserts;
    uint64_t evictions;         /* LRU victims of a full partition. */
    uint64_t expired;           /* Removed by the sweep. */
    uint64_t invalidations;     /* Removed by change records. */
    uint64_t grows;
    uint64_t shrinks;
    uint64_t grow_denied;       /* Wanted to grow, budget exhausted. */
};

struct pcache;
struct pcache_part;

/* Creates a cache.  Zero fields of 'cfg' take their defaults. */
struct pcache *pcache_create(const struct pcache_config *cfg);
/* Frees the cache, its partitions and entries after a grace period
 * (vf_rcu_barrier() at exit).  Readers must be gone.  NULL is a no-op. */
void pcache_destroy(struct pcache *c);

/* Returns VNIC 'name''s partition, creating it (min_capacity) if needed.
 * Writer. */
struct pcache_part *pcache_part_get(struct pcache *c, const char *name);
/* Reader or writer: the partition of 'name' or NULL. */
struct pcache_part *pcache_part_find(const struct pcache *c,
                                     const char *name);
/* Removes 'name''s partition and its entries (freed after a grace
 * period).  Returns true if it existed.  Writer. */
bool pcache_part_remove(struct pcache *c, const char *name);
const char *pcache_part_name(const struct pcache_part *p);

/* Records what the partition's VNIC is (tenant, network, security groups)
 * so that policy invalidation can spare partitions it does not concern;
 * until then every policy change flushes the partition.  Writer. */
void pcache_part_set_src(struct pcache_part *p, const char *tenant,
                         const char *network, char *const *groups,
                         size_t n_groups);

enum pcache_result {
    PCACHE_MISS,
    PCACHE_HIT,
    PCACHE_HIT_STALE,           /* Expired, served because the server is
                                 * unreachable (pcache_set_stale_ok()). */
};

/* Reader: looks 'key' up in 'p' at 'now'; returns the entry (valid until
 * the caller leaves its RCU read-side section) or NULL, and the kind of
 * result in '*res' (if not NULL).  Counts a hit, stale hit or miss. */
const struct pcache_entry *pcache_lookup(struct pcache_part *p,
                                         const struct pcache_key *key,
                                         int64_t now,
                                         enum pcache_result *res);

/* Inserts 'e' (taken) into 'p', replacing an entry with the same key,
 * evicting the least recently used entry if 'p' is full.  Writer. */
void pcache_insert(struct pcache *c, struct pcache_part *p,
                   struct pcache_entry *e, int64_t now);

/* While true, lookups serve expired entries (PCACHE_HIT_STALE) and the
 * sweep keeps them: set when the server is unreachable.  Writer. */
void pcache_set_stale_ok(struct pcache *c, bool stale_ok);

/* Invalidation (writer).  Each returns the number of entries removed.
 *  _key:      entries for destination 'key' in every partition;
 *  _dst:      entries whose destination network / host / VNIC is 'name'
 *             ('field' is "network", "host" or "vnic");
 *  _part:     every entry of 'p';
 *  _src_network: every entry of partitions whose VNIC is in 'network';
 *  _policy:   entries a policy between 'src' and 'dst' selectors of
 *             'tenant' decides: in partitions whose VNIC matches 'src',
 *             positive entries whose destination matches 'dst';
 *  _all:      everything. */
struct pcache_selector {
    enum { PCACHE_SEL_ANY, PCACHE_SEL_NETWORK, PCACHE_SEL_GROUP } type;
    const char *name;
};
size_t pcache_invalidate_key(struct pcache *c, const struct pcache_key *key);
size_t pcache_invalidate_dst(struct pcache *c, const char *field,
                             const char *name);
size_t pcache_invalidate_part(struct pcache *c, struct pcache_part *p);
size_t pcache_invalidate_src_network(struct pcache *c, const char *network);
size_t pcache_invalidate_policy(struct pcache *c, const char *tenant,
                                const struct pcache_selector *src,
                                const struct pcache_selector *dst);
size_t pcache_invalidate_all(struct pcache *c);

/* Housekeeping (writer, bounded work): sizing decisions for partitions
 * whose interval has passed, and a sweep of expired entries. */
void pcache_run(struct pcache *c, int64_t now);

/* Statistics (writer, or any thread for a rough view). */
void pcache_part_get_stats(const struct pcache_part *p,
                           struct pcache_part_stats *s);
size_t pcache_n_parts(const struct pcache *c);
/* The i-th partition (0 <= i < pcache_n_parts()), for listings.  Writer. */
struct pcache_part *pcache_part_at(const struct pcache *c, size_t i);
/* Sum of the partitions' capacities; the budget. */
size_t pcache_total_capacity(const struct pcache *c);
size_t pcache_budget(const struct pcache *c);

#endif /* policy/policy-cache.h */
