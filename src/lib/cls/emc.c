/* SPDX-License-Identifier: Apache-2.0 */
/* The exact-match cache: theory of operation.
 *
 * Layout.  A power-of-two array of 144-byte entries {rule, version, hash,
 * table, key}.  A key may sit in two entries: hash & mask and
 * rotl(hash, 16) & mask (two ways, as Open vSwitch's EMC).  An empty entry
 * has version 0, which no table ever has (versions start at 1).
 *
 * Hit: hash, version, table and the whole key equal.  The version is that
 * of the entry's table, loaded once per batch with acquire semantics.
 *
 * Insertion: the entry already holding the key, else an empty one, else
 * one whose version is no longer its table's (stale), else - with
 * probability 1/inv_prob - the way chosen by the hash's top bit.
 *
 * Why a stale rule is never returned nor dereferenced.  Let entry E hold
 * rule R tagged with version V, read (acquire) before the classifier lookup
 * that found R.  To remove R, replace it or shadow it with a better rule,
 * the writer changes the table, increments the table's version (release)
 * and only then hands R to vf_rcu_call() (cls.c, rules R1 and R6).
 *   (a) The lookup that found R ran after loading V, so it saw every change
 *       up to V: R was the right answer at V, and any change after it
 *       makes the version differ from V.
 *   (b) A later use of E loads the current version W (acquire) inside a
 *       read-side section S.  If W != V, E is a miss.  If W == V, S did not
 *       see the increment that preceded R's vf_rcu_call(); a section that
 *       begins after a grace period has begun sees every write made before
 *       it began, so S began before R's grace period, which therefore waits
 *       for S: R stays allocated while S uses it.
 * So after a change returns to the agent, no cache lookup that starts
 * later answers with what it superseded, and no entry's pointer is
 * followed once its rule may be freed.  test-emc checks both with a writer
 * that keeps changing a rule's action under readers that hit the cache,
 * under ASan. */
#include "cls/emc.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "util/random.h"

struct emc_entry {
    const struct cls_rule *rule;
    uint64_t version;            /* 0: empty. */
    uint32_t hash;
    uint32_t table;
    struct flow_key key;
};

struct emc {
    struct emc_entry *entries;   /* dp */
    uint32_t mask;               /* const */
    uint32_t inv_prob;           /* const */
    struct vf_random rng;        /* dp */
    struct emc_stats stats;      /* dp */
};

struct emc *
emc_create(size_t n_entries, uint32_t inv_prob, uint64_t seed)
{
    size_t n = 1;
    if (!n_entries) {
        n_entries = EMC_DEFAULT_ENTRIES;
    }
    while (n < n_entries && n < EMC_MAX_ENTRIES) {
        n *= 2;
    }
    struct emc *emc = calloc(1, sizeof *emc);
    struct emc_entry *e = aligned_alloc(VF_CACHE_LINE, n * sizeof *e);
    if (!emc || !e) {
        free(emc);
        free(e);
        errno = ENOMEM;
        return NULL;
    }
    memset(e, 0, n * sizeof *e);
    emc->entries = e;
    emc->mask = (uint32_t) n - 1;
    emc->inv_prob = inv_prob ? inv_prob : EMC_DEFAULT_INV_PROB;
    vf_random_init(&emc->rng, seed);
    return emc;
}

void
emc_destroy(struct emc *emc)
{
    if (emc) {
        free(emc->entries);
        free(emc);
    }
}

void
emc_flush(struct emc *emc)
{
    memset(emc->entries, 0, (emc->mask + 1) * sizeof *emc->entries);
}

size_t
emc_size(const struct emc *emc)
{
    return emc->mask + 1;
}

void
emc_get_stats(const struct emc *emc, struct emc_stats *stats)
{
    *stats = emc->stats;
}

static inline struct emc_entry *
way(const struct emc *emc, uint32_t hash, int i)
{
    uint32_t h = i ? vf_hash_rot(hash, 16) : hash;
    return &emc->entries[h & emc->mask];
}

static inline const struct cls_rule *
probe(const struct emc *emc, uint64_t version, unsigned int table,
      const struct flow_key *key, uint32_t hash)
{
    for (int i = 0; i < 2; i++) {
        const struct emc_entry *e = way(emc, hash, i);
        if (e->hash == hash && e->version == version && e->table == table
            && flow_key_equal(&e->key, key)) {
            return e->rule;
        }
    }
    return NULL;
}

const struct cls_rule *
emc_lookup(struct emc *emc, const struct cls *cls, unsigned int table,
           const struct flow_key *key, uint32_t hash)
{
    const struct cls_rule *r = probe(emc, cls_table_version(cls, table),
                                     table, key, hash);
    if (r) {
        emc->stats.hits++;
    } else {
        emc->stats.misses++;
    }
    return r;
}

static bool
entry_live(const struct emc_entry *e, const struct cls *cls)
{
    return e->version && e->version == cls_table_version(cls, e->table);
}

void
emc_insert(struct emc *emc, const struct cls *cls, unsigned int table,
           uint64_t version, const struct flow_key *key, uint32_t hash,
           const struct cls_rule *rule)
{
    struct emc_entry *e0 = way(emc, hash, 0), *e1 = way(emc, hash, 1);
    struct emc_entry *e = NULL;
    for (int i = 0; i < 2 && !e; i++) {
        struct emc_entry *c = i ? e1 : e0;
        if (c->hash == hash && c->table == table
            && flow_key_equal(&c->key, key)) {
            e = c;
        }
    }
    if (!e) {
        e = !entry_live(e0, cls) ? e0 : !entry_live(e1, cls) ? e1 : NULL;
    }
    if (!e) {
        if (emc->inv_prob > 1
            && vf_random_range(&emc->rng, emc->inv_prob) != 0) {
            emc->stats.skipped++;
            return;
        }
        e = hash >> 31 ? e1 : e0;
    }
    e->rule = rule;
    e->version = version;
    e->hash = hash;
    e->table = table;
    e->key = *key;
    emc->stats.inserts++;
}

static size_t
classify_group(struct emc *emc, const struct cls *cls, unsigned int table,
               const struct flow_key *const keys[], const uint32_t hashes[],
               uint32_t n, const struct cls_rule *results[])
{
    uint32_t h[CLS_BATCH];
    const struct flow_key *miss_keys[CLS_BATCH];
    const struct cls_rule *miss_rules[CLS_BATCH];
    uint32_t miss_idx[CLS_BATCH];
    uint32_t n_miss = 0;
    uint64_t version = cls_table_version(cls, table);

    for (uint32_t i = 0; i < n; i++) {
        h[i] = hashes ? hashes[i] : emc_hash(keys[i], table);
        VF_PREFETCH(way(emc, h[i], 0));
        VF_PREFETCH(way(emc, h[i], 1));
    }
    for (uint32_t i = 0; i < n; i++) {
        results[i] = probe(emc, version, table, keys[i], h[i]);
        if (!results[i]) {
            miss_idx[n_miss] = i;
            miss_keys[n_miss++] = keys[i];
        }
    }
    emc->stats.hits += n - n_miss;
    emc->stats.misses += n_miss;
    if (!n_miss) {
        return n;
    }
    size_t hits = n - n_miss;
    hits += cls_lookup_batch(cls, table, miss_keys, n_miss, miss_rules);
    for (uint32_t j = 0; j < n_miss; j++) {
        uint32_t i = miss_idx[j];
        results[i] = miss_rules[j];
        if (miss_rules[j]) {
            emc_insert(emc, cls, table, version, keys[i], h[i],
                       miss_rules[j]);
        }
    }
    return hits;
}

size_t
emc_classify_batch(struct emc *emc, const struct cls *cls,
                   unsigned int table, const struct flow_key *const keys[],
                   const uint32_t hashes[], size_t n,
                   const struct cls_rule *results[])
{
    size_t hits = 0;
    for (size_t ofs = 0; ofs < n; ofs += CLS_BATCH) {
        uint32_t group = (uint32_t) VF_MIN(n - ofs, (size_t) CLS_BATCH);
        hits += classify_group(emc, cls, table, keys + ofs,
                               hashes ? hashes + ofs : NULL, group,
                               results + ofs);
    }
    return hits;
}
