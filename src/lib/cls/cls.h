/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VFAB_CLS_CLS_H
#define VFAB_CLS_CLS_H 1

/* The classifier: prioritised, masked flow tables (DESIGN.md "The data
 * path", step 3).
 *
 * A classifier holds N tables (default 16).  A table holds rules; a rule
 * has a priority (0..65535, higher wins), a match (cls/cls-match.h: any
 * subset of flow-key bits, value + mask), an immutable action list
 * (cls/action.h), a cookie, counters and idle/hard timeouts.  A lookup in
 * a table returns the highest-priority rule whose match the flow key
 * satisfies, or NULL; the caller then applies the table's miss policy
 * (drop or upcall).  A rule's goto_table:N action sends the datapath on to
 * a later table N, where it looks up again: tables form a pipeline of
 * sub-flow tables that always ends, because goto_table only goes forward.
 *
 * Ties.  Among matching rules of equal priority, the one added first wins,
 * and a rule that replaces another (same table, match and priority) takes
 * its place in that order.  (OpenFlow leaves this undefined; vfab makes it
 * deterministic so that the linear reference, cls-linear.h, and every
 * datapath thread agree.)
 *
 * Threads (theory in cls.c).  One writer, the agent's control thread,
 * calls everything that changes the classifier.  Datapath threads call
 * cls_lookup(), cls_lookup_batch(), cls_table_version(), cls_table_miss()
 * and the rule accessors below from inside vf_rcu_read_lock() (util/rcu.h)
 * and never block: lookups take no lock and write no shared memory.
 * Removed rules stay valid until every read-side section that could have
 * found them has ended (they are freed with vf_rcu_call()), so a datapath
 * thread may execute a rule's actions until it leaves its section.  The
 * writer must be an RCU-registered thread.  RCU is liburcu's memb flavour
 * (util/rcu.h).  Subtables keep their rules in cls's own single-writer RCU
 * hash table (cls-htab.c), not util/cmap: its 16-byte signature blocks
 * keep a lookup's probes in the CPU caches even with a million rules;
 * util/cmap only indexes the subtables for the writer.
 *
 * Versions.  cls_version() is a generation bumped by every change of any
 * table; cls_table_version() by every change of that table.  The
 * exact-match cache (cls/emc.h) tags its entries with the table version,
 * which is how it never returns a rule that a change has superseded.
 *
 * Cost.  A lookup visits the table's subtables (one per distinct mask) in
 * order of their best rule's priority and stops as soon as no remaining
 * subtable can beat what it found: O(number of masks), never O(number of
 * rules).  Figures: bench/RESULTS.md ("Classifier"). */

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cls/action.h"
#include "cls/cls-match.h"
#include "net/flow-key.h"

#define CLS_DEFAULT_N_TABLES 16
#define CLS_MAX_N_TABLES 255
#define CLS_DEFAULT_PRIORITY 32768       /* As ovs-ofctl. */
#define CLS_DEFAULT_MAX_RULES (1u << 24) /* ~320 B each: bench/RESULTS.md */

/* What a datapath does with a packet that no rule of a table matches. */
enum cls_miss {
    CLS_MISS_DROP,
    CLS_MISS_UPCALL,             /* Hand it to the agent. */
};

struct cls_config {
    unsigned int n_tables;       /* 1..CLS_MAX_N_TABLES; 0: default. */
    size_t max_rules;            /* 0: CLS_DEFAULT_MAX_RULES. */
    uint64_t seed;               /* Hash basis (util/random.h source). */
    bool generic_lookup;         /* Tests: no specialised lookups. */
    bool pipeline_always;        /* Tests: pipelined batches even for
                                  * small subtables (cls-lookup.c). */
};

/* What a rule is made from: the argument of cls_add(), and what the text
 * parser (cls-text.h) produces.  Plain data owned by the caller. */
struct cls_rule_spec {
    uint8_t table;
    uint16_t priority;
    struct cls_match match;      /* Normalized by cls_add(). */
    uint64_t cookie;
    uint16_t idle_timeout;       /* Seconds without a hit; 0: none. */
    uint16_t hard_timeout;       /* Seconds after cls_add(); 0: none. */
    uint16_t n_actions;          /* 0 means drop. */
    struct action actions[ACTION_LIST_MAX];
};

/* Counters, updated by datapath threads with relaxed atomic adds and read
 * by the agent. */
struct cls_rule_stats {
    _Atomic uint64_t n_packets;  /* atomic */
    _Atomic uint64_t n_bytes;    /* atomic */
    _Atomic int64_t used;        /* atomic: 'now' of the last hit, ns. */
};

/* A rule in a classifier.  Readers get it from lookups; the fields below
 * are what the datapath and the agent may read.  Everything else about a
 * rule is private to cls (cls-private.h). */
struct cls_rule {
    const struct action *actions; /* const: 'n_actions' actions. */
    uint16_t n_actions;           /* const: at least 1. */
    uint16_t priority;            /* const */
    uint8_t table;                /* const */
    uint16_t idle_timeout;        /* const: seconds, 0: none. */
    uint16_t hard_timeout;        /* const: seconds, 0: none. */
    uint64_t cookie;              /* const */
    int64_t created;              /* const: 'now' of cls_add(), ns. */
    struct cls_rule_stats stats;  /* atomic */
};

struct cls;

/* Creates a classifier ('cfg' NULL: defaults).  Every table starts empty
 * with miss policy CLS_MISS_UPCALL.  Returns NULL with errno EINVAL if
 * 'cfg' asks for more than CLS_MAX_N_TABLES tables.  Control thread. */
struct cls *cls_create(const struct cls_config *cfg);

/* Frees 'cls' and all its rules at once.  No reader may use it any more
 * (and no exact-match cache may be used with it again).  NULL: no-op. */
void cls_destroy(struct cls *cls);

unsigned int cls_n_tables(const struct cls *cls);

/* Sets the miss policy of 'table'.  Returns 0 or -EINVAL.  Bumps the
 * table's version.  Control thread. */
int cls_set_miss(struct cls *cls, unsigned int table, enum cls_miss miss);

/* The miss policy of 'table' (CLS_MISS_DROP for a table that does not
 * exist).  Any thread. */
enum cls_miss cls_table_miss(const struct cls *cls, unsigned int table);

/* Adds a rule made from 'spec', taken at time 'now' (ns; starts the hard
 * timeout and is the first 'used').  A rule with the same table, match and
 * priority is replaced: the new one takes its place with fresh counters,
 * and the old one is freed after a grace period.  An empty action list is
 * stored as one ACTION_DROP.
 *
 * Returns 0 if the rule is new, 1 if it replaced one; -EINVAL for an
 * invalid spec (table out of range, a match that field_validate_match()
 * rejects, actions that action_list_validate() rejects), -ENOSPC when the
 * classifier holds max_rules rules; on error a message is stored in
 * '*errp' (caller frees; 'errp' may be NULL) and nothing changes.  (Out
 * of memory aborts, as every control-path allocation does: util/buf.h.)
 * If 'rulep' is nonnull it receives the rule (valid until it is removed).
 * Control thread. */
int cls_add(struct cls *cls, const struct cls_rule_spec *spec, int64_t now,
            const struct cls_rule **rulep, char **errp);

/* Removes the rule of 'table' with exactly 'match' (normalized or not)
 * and 'priority'.  Returns 0 or -ENOENT.  Control thread. */
int cls_remove_strict(struct cls *cls, unsigned int table,
                      const struct cls_match *match, uint16_t priority);

/* Removes 'rule', which must be in 'cls'.  Control thread. */
void cls_remove_rule(struct cls *cls, const struct cls_rule *rule);

/* Which rules a dump, a removal or a modification applies to. */
#define CLS_ALL_TABLES (-1)
struct cls_filter {
    int table;                   /* A table, or CLS_ALL_TABLES. */
    struct cls_match match;      /* Loose: rules whose match is within. */
    bool strict;                 /* Exact match and priority instead. */
    uint16_t priority;           /* Only if 'strict'. */
    uint64_t cookie;             /* Rules with (cookie & mask) == this. */
    uint64_t cookie_mask;        /* 0: any cookie. */
};

/* Makes 'f' select every rule of every table. */
void cls_filter_init(struct cls_filter *f);

/* True if 'rule' is selected by 'f'. */
bool cls_filter_matches(const struct cls_filter *f,
                        const struct cls_rule *rule);

typedef void cls_rule_cb(const struct cls_rule *rule, void *aux);

/* Calls 'cb(rule, aux)' for every rule 'f' selects (NULL: all), ordered by
 * table, then priority (highest first), then tie order.  'cb' must not
 * change 'cls'.  Returns the number of rules.  Control thread. */
size_t cls_for_each(const struct cls *cls, const struct cls_filter *f,
                    cls_rule_cb *cb, void *aux);

/* Removes every rule 'f' selects, calling 'cb(rule, aux)' (may be NULL)
 * just before each goes.  Returns the number removed.  Control thread. */
size_t cls_remove(struct cls *cls, const struct cls_filter *f,
                  cls_rule_cb *cb, void *aux);

/* Replaces the actions of every rule 'f' selects by 'actions' ('n'; 0
 * means drop), keeping their counters, timeouts and places (OpenFlow
 * "modify").  Validates for every selected rule first: on error returns
 * -EINVAL with '*errp' set and changes nothing.  Returns the number of
 * rules modified.  Hits counted while a rule is being replaced may be
 * lost.  Control thread. */
long cls_modify_actions(struct cls *cls, const struct cls_filter *f,
                        const struct action *actions, size_t n,
                        char **errp);

/* Number of rules in 'table', or in all tables for CLS_ALL_TABLES. */
size_t cls_count(const struct cls *cls, int table);

/* Number of subtables (distinct masks) of 'table'. */
size_t cls_n_subtables(const struct cls *cls, unsigned int table);

/* Reconstructs the match and the whole spec of 'rule'. */
void cls_rule_get_match(const struct cls_rule *rule, struct cls_match *m);
void cls_rule_get_spec(const struct cls_rule *rule,
                       struct cls_rule_spec *spec);

/* Generations: the whole classifier, and one table.  Any thread; the
 * table version is read with acquire semantics, so a datapath thread that
 * reads it and then looks up sees at least every change that bumped it. */
uint64_t cls_version(const struct cls *cls);
uint64_t cls_table_version(const struct cls *cls, unsigned int table);

enum cls_expire_reason {
    CLS_EXPIRE_IDLE,             /* No hit for idle_timeout seconds. */
    CLS_EXPIRE_HARD,             /* hard_timeout seconds after its add. */
};
typedef void cls_expire_cb(const struct cls_rule *rule,
                           enum cls_expire_reason reason, void *aux);

/* Removes rules whose timeout has passed at 'now' (ns), examining at most
 * 'budget' rules that have a timeout (0: all of them), resuming where the
 * previous call stopped, so that a run/wait loop bounds its work (STYLE.md
 * P12).  Calls 'cb' (may be NULL) before each removal.  Returns the number
 * removed.  Control thread. */
size_t cls_expire(struct cls *cls, int64_t now, size_t budget,
                  cls_expire_cb *cb, void *aux);

/* Looks 'key' up in 'table' and returns the winning rule, or NULL (no
 * rule matches, or 'table' does not exist).  Datapath threads, inside
 * vf_rcu_read_lock(); no side effects (counters are the caller's: see
 * cls_rule_hit()). */
const struct cls_rule *cls_lookup(const struct cls *cls, unsigned int table,
                                  const struct flow_key *key);

/* Looks up 'n' keys (any n; in groups of CLS_BATCH) in 'table', writing
 * the winner or NULL to 'results[i]'.  Same answers as cls_lookup(),
 * faster: the hash-table probes of a group overlap (prefetching).
 * Returns the number of non-NULL results.  Same context. */
#define CLS_BATCH 32
size_t cls_lookup_batch(const struct cls *cls, unsigned int table,
                        const struct flow_key *const keys[], size_t n,
                        const struct cls_rule *results[]);

/* Counts 'n_packets' packets of 'n_bytes' bytes against 'rule' at 'now'.
 * Datapath threads (relaxed atomics: once per rule per batch is cheap). */
static inline void
cls_rule_hit(const struct cls_rule *rule, uint32_t n_packets,
             uint64_t n_bytes, int64_t now)
{
    struct cls_rule_stats *s = (struct cls_rule_stats *) &rule->stats;
    atomic_fetch_add_explicit(&s->n_packets, n_packets,
                              memory_order_relaxed);
    atomic_fetch_add_explicit(&s->n_bytes, n_bytes, memory_order_relaxed);
    atomic_store_explicit(&s->used, now, memory_order_relaxed);
}

/* Reads 'rule''s counters.  Any thread. */
static inline void
cls_rule_get_stats(const struct cls_rule *rule, uint64_t *n_packets,
                   uint64_t *n_bytes, int64_t *used)
{
    struct cls_rule_stats *s = (struct cls_rule_stats *) &rule->stats;
    *n_packets = atomic_load_explicit(&s->n_packets, memory_order_relaxed);
    *n_bytes = atomic_load_explicit(&s->n_bytes, memory_order_relaxed);
    *used = atomic_load_explicit(&s->used, memory_order_relaxed);
}

/* The table that 'rule''s goto_table action names, or -1. */
static inline int
cls_rule_goto_table(const struct cls_rule *rule)
{
    const struct action *last = &rule->actions[rule->n_actions - 1];
    return last->type == ACTION_GOTO_TABLE ? (int) last->arg : -1;
}

#endif /* cls/cls.h */
