/* SPDX-License-Identifier: Apache-2.0 */
/* The classifier: theory of operation (control path; the data path is
 * cls-lookup.c, the exact-match cache emc.c).
 *
 * Place.  The agent (control thread) adds, replaces, modifies, removes and
 * expires rules; datapath threads look flow keys up, first in their
 * exact-match cache (emc.h), then here.  Nothing here blocks a reader.
 *
 * Terminology.
 *   rule      struct cls_rule_priv: public part, rank, value words, actions,
 *             one allocation.
 *   subtable  all rules of a table that share one mask.  Its mask is stored
 *             compactly: 'n_words' word indexes of the flow key where the
 *             mask is nonzero, and those mask words.  A rule stores only its
 *             value at those words.
 *   node      one distinct masked value in a subtable, pointing at the
 *             highest-ranked rule with that value (its 'head'; the others
 *             hang off head->next, in rank order, seen only by the writer).
 *   htab      a subtable's hash table of nodes: buckets of 7 slots, their
 *             16-bit signatures in one array, their node pointers in
 *             another, linear probing between buckets (cls-htab.c).
 *   pvec      a table's subtables sorted by their best rank, published as
 *             one array.
 *
 * Ranks.  rank = priority << 48 | (2^48 - 1 - seq), seq a counter of adds.
 * Ranks are unique and order rules by priority, then by age (older wins),
 * which is the documented tie rule; a replacement inherits its
 * predecessor's rank.  A lookup wants the matching rule of highest rank.
 *
 * Data flow of a lookup (cls-lookup.c):
 *
 *   pvec: subtables by decreasing max_rank
 *     |
 *     v
 *   subtable i -- best >= max_rank[i]? --yes--> done: best (or none)
 *     | no
 *     v
 *   hash(key & mask) --> signatures --> node? --> rank > best? --> best
 *     |
 *     +--> subtable i + 1
 *
 * Because entries are sorted and each max_rank bounds its subtable, the
 * scan stops at the first subtable that cannot beat the best rule found:
 * cost O(subtables visited), independent of the number of rules.  Each
 * subtable keeps a max-heap of its rules by rank, so its max_rank stays
 * exact after any removal in O(log n) (a "max priority + count" scheme
 * would rescan the subtable when the last top rule goes).
 *
 * Concurrency rules (one writer, lock-free readers, liburcu memb flavour):
 *   R1. Readers run inside vf_rcu_read_lock(); every object they can reach
 *       (pvec, subtable, htab, node, rule) is freed only with vf_rcu_call()
 *       after it became unreachable.
 *   R2. Nodes are immutable.  A change of a node's head publishes a new
 *       node in the same slot with one release store; readers see the old
 *       or the new node, never neither.  Rule chains (rule->next) are
 *       writer-only.
 *   R3. Slots are filled and emptied in the order given in cls-htab.c;
 *       readers load nodes with acquire and always compare their words,
 *       so a stale signature can only cost a comparison.
 *   R4. A bucket's overflow flag (set before the node goes into a later
 *       bucket) tells probes to go on; it is cleared only by a rebuild,
 *       which builds a new htab and publishes it with one release store.
 *   R5. Before a rule becomes visible, the subtable's max_rank in the
 *       published pvec is at least its rank (a new pvec is published first
 *       when the maximum grows).  After a removal the published max_rank
 *       may be stale-high until the next pvec; that only costs a visit.
 *       Hence a reader never skips a subtable holding a rule that was there
 *       during its whole lookup.
 *   R6. Every change ends with a release increment of the table's version
 *       and of the classifier's, made before a replaced or removed rule is
 *       handed to vf_rcu_call().  A reader that loads the version with
 *       acquire and then looks up sees everything that came before the
 *       increment, and a reader section that begins after the rule's grace
 *       period began sees the increment.  The exact-match cache's safety
 *       rests on both (emc.c).
 *
 * What a concurrent lookup returns: a rule that matched at some moment of
 * the lookup, and never a worse one than the best rule that stayed in the
 * table during the whole lookup.
 *
 * Sizes and their measurements: cls-htab.c and bench/RESULTS.md. */
#include "cls/cls-private.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cls/field.h"
#include "util/buf.h"
#include "util/vtime.h"

#define RANK_SEQ_BITS 48
#define RANK_SEQ_MAX ((UINT64_C(1) << RANK_SEQ_BITS) - 1)

static uint64_t
rank_make(uint16_t priority, uint64_t seq)
{
    return (uint64_t) priority << RANK_SEQ_BITS | (RANK_SEQ_MAX - seq);
}

/* ---- Allocation.  Control-path allocations abort on failure, as
 * everywhere in vfab (util/buf.h): an agent out of memory cannot keep a
 * consistent view anyway.  So no change below can fail half-way. ---- */

static void *
xaligned_alloc(size_t size)
{
    void *p = aligned_alloc(VF_CACHE_LINE, VF_ROUND_UP(size, VF_CACHE_LINE));
    VF_VERIFY(p);
    memset(p, 0, size);
    return p;
}

/* ---- Subtables. ---- */

static uint32_t
mask_hash(const struct flow_key *mask)
{
    const uint64_t *w = flow_key_words(mask);
    uint32_t h = 0;
    for (int i = 0; i < FLOW_KEY_N_WORDS; i++) {
        h = cls_hash_step(h, w[i]);
    }
    return cls_hash_final(h);
}

static struct cls_subtable *
subtable_find(const struct cls_table *t, const struct flow_key *mask)
{
    struct cmap_cursor c = cmap_find(&t->subtables, mask_hash(mask));
    struct cls_subtable *st;
    while ((st = cmap_next(&c))) {
        if (flow_key_equal(&st->full_mask, mask)) {
            return st;
        }
    }
    return NULL;
}

static void
subtable_free(struct cls_subtable *st)
{
    cls_htab_free(cls_st_htab(st));
    free(st->heap);
    free(st);
}

static void
subtable_free_rcu(struct rcu_head *head)
{
    subtable_free(VF_CONTAINER_OF(head, struct cls_subtable, rcu));
}

/* Creates the subtable of 'table' for 'mask' and registers it (readers
 * find it only once a pvec lists it). */
static struct cls_subtable *
subtable_create(const struct cls *cls, struct cls_table *table,
                const struct flow_key *mask)
{
    struct cls_subtable *st = vf_xcalloc(1, sizeof *st);
    uint32_t h = mask_hash(mask);
    atomic_init(&st->htab, cls_htab_create(1));
    st->full_mask = *mask;
    st->mask_hash = h;
    const uint64_t *w = flow_key_words(mask);
    for (int i = 0; i < FLOW_KEY_N_WORDS; i++) {
        if (w[i]) {
            st->idx[st->n_words] = (uint8_t) i;
            st->mask[st->n_words++] = w[i];
        }
    }
    st->basis = vf_hash_u64(cls->seed, h);
    st->mul = ((uint64_t) vf_hash_u64(cls->seed, h ^ 0x9e3779b9u) << 32
               | vf_hash_u32(h, (uint32_t) (cls->seed >> 32)))
              | 1;
    st->impl = cls_lookup_impl_select(st->n_words, cls->generic_lookup);
    VF_VERIFY(!cmap_insert(&table->subtables, st, h));
    return st;
}

/* Max-heap of a subtable's rules by rank.  Entries carry the rank, so
 * sifting compares without touching the rules (with 100k rules a
 * comparison through the rule pointer is a cache miss); only a moved
 * rule's 'heap_idx' is written. */
static void
heap_set(struct cls_subtable *st, uint32_t i, struct cls_heap_entry e)
{
    st->heap[i] = e;
    e.rule->heap_idx = i;
}

static void
heap_sift_up(struct cls_subtable *st, uint32_t i)
{
    struct cls_heap_entry e = st->heap[i];
    while (i > 0) {
        uint32_t parent = (i - 1) / 2;
        if (st->heap[parent].rank >= e.rank) {
            break;
        }
        heap_set(st, i, st->heap[parent]);
        i = parent;
    }
    heap_set(st, i, e);
}

static void
heap_sift_down(struct cls_subtable *st, uint32_t i)
{
    struct cls_heap_entry e = st->heap[i];
    for (;;) {
        uint32_t c = 2 * i + 1;
        if (c >= st->n_rules) {
            break;
        }
        if (c + 1 < st->n_rules && st->heap[c + 1].rank > st->heap[c].rank) {
            c++;
        }
        if (st->heap[c].rank <= e.rank) {
            break;
        }
        heap_set(st, i, st->heap[c]);
        i = c;
    }
    heap_set(st, i, e);
}

static void
heap_push(struct cls_subtable *st, struct cls_rule_priv *r)
{
    if (st->n_rules == st->heap_cap) {
        st->heap_cap = st->heap_cap ? st->heap_cap * 2 : 4;
        st->heap = vf_xrealloc(st->heap, st->heap_cap * sizeof *st->heap);
    }
    uint32_t i = st->n_rules++;
    heap_set(st, i, (struct cls_heap_entry) {r->rank, r});
    heap_sift_up(st, i);
}

static void
heap_remove(struct cls_subtable *st, struct cls_rule_priv *r)
{
    uint32_t i = r->heap_idx;
    struct cls_heap_entry last = st->heap[--st->n_rules];
    if (i < st->n_rules) {
        heap_set(st, i, last);
        heap_sift_up(st, i);
        heap_sift_down(st, last.rule->heap_idx);
    }
}

static uint64_t
subtable_max_rank(const struct cls_subtable *st)
{
    return st->n_rules ? st->heap[0].rank : 0;
}

/* ---- Publication of a table's subtable order. ---- */

static void
pvec_free_rcu(struct rcu_head *head)
{
    free(VF_CONTAINER_OF(head, struct cls_pvec, rcu));
}

static int
pvec_entry_cmp(const void *a_, const void *b_)
{
    const struct cls_pvec_entry *a = a_, *b = b_;
    return (a->max_rank < b->max_rank) - (a->max_rank > b->max_rank);
}

/* Publishes 'table''s current subtables in lookup order (rule R5). */
static void
table_publish(struct cls_table *table)
{
    size_t n = cmap_count(&table->subtables);
    struct cls_pvec *pv = vf_xmalloc(sizeof *pv + n * sizeof pv->e[0]);
    pv->n = 0;
    struct cls_subtable *st;
    CMAP_FOR_EACH (st, c, &table->subtables) {
        st->pub_max_rank = subtable_max_rank(st);
        pv->e[pv->n].max_rank = st->pub_max_rank;
        pv->e[pv->n++].st = st;
    }
    qsort(pv->e, pv->n, sizeof pv->e[0], pvec_entry_cmp);
    struct cls_pvec *old = atomic_exchange_explicit(&table->pvec, pv,
                                                    memory_order_release);
    if (old) {
        vf_rcu_call(&old->rcu, pvec_free_rcu);
    }
}

static void
bump_version(struct cls *cls, struct cls_table *table)
{
    atomic_fetch_add_explicit(&table->version, 1, memory_order_release);
    atomic_fetch_add_explicit(&cls->version, 1, memory_order_release);
}

/* ---- Creation and destruction. ---- */

struct cls *
cls_create(const struct cls_config *cfg)
{
    struct cls_config c = cfg ? *cfg : (struct cls_config) {0};
    if (!c.n_tables) {
        c.n_tables = CLS_DEFAULT_N_TABLES;
    }
    if (!c.max_rules) {
        c.max_rules = CLS_DEFAULT_MAX_RULES;
    }
    if (c.n_tables > CLS_MAX_N_TABLES) {
        errno = EINVAL;
        return NULL;
    }
    struct cls *cls = vf_xcalloc(1, sizeof *cls);
    cls->tables = xaligned_alloc(c.n_tables * sizeof *cls->tables);
    cls->n_tables = c.n_tables;
    cls->max_rules = c.max_rules;
    cls->seed = c.seed;
    cls->generic_lookup = c.generic_lookup;
    cls->direct_buckets = c.pipeline_always ? 0 : CLS_DIRECT_BUCKETS;
    atomic_init(&cls->version, 1);
    for (unsigned int i = 0; i < c.n_tables; i++) {
        struct cls_table *t = &cls->tables[i];
        atomic_init(&t->pvec, NULL);
        atomic_init(&t->version, 1);
        atomic_init(&t->miss, CLS_MISS_UPCALL);
        cmap_init(&t->subtables);
        table_publish(t);
    }
    return cls;
}

static void
table_destroy(struct cls_table *table)
{
    struct cls_subtable *st;
    CMAP_FOR_EACH (st, c, &table->subtables) {
        cls_htab_destroy_nodes(cls_st_htab(st));
        for (uint32_t i = 0; i < st->n_rules; i++) {
            free(st->heap[i].rule);
        }
        subtable_free(st);
    }
    cmap_destroy(&table->subtables);
    free(atomic_load_explicit(&table->pvec, memory_order_relaxed));
}

void
cls_destroy(struct cls *cls)
{
    if (!cls) {
        return;
    }
    for (unsigned int i = 0; i < cls->n_tables; i++) {
        table_destroy(&cls->tables[i]);
    }
    free(cls->tables);
    free(cls);
}

unsigned int
cls_n_tables(const struct cls *cls)
{
    return cls->n_tables;
}

int
cls_set_miss(struct cls *cls, unsigned int table, enum cls_miss miss)
{
    if (table >= cls->n_tables
        || (miss != CLS_MISS_DROP && miss != CLS_MISS_UPCALL)) {
        return -EINVAL;
    }
    atomic_store_explicit(&cls->tables[table].miss, (int) miss,
                          memory_order_relaxed);
    bump_version(cls, &cls->tables[table]);
    return 0;
}

enum cls_miss
cls_table_miss(const struct cls *cls, unsigned int table)
{
    if (table >= cls->n_tables) {
        return CLS_MISS_DROP;
    }
    return (enum cls_miss) atomic_load_explicit(
        &((struct cls *) cls)->tables[table].miss, memory_order_relaxed);
}

uint64_t
cls_version(const struct cls *cls)
{
    return atomic_load_explicit(&((struct cls *) cls)->version,
                                memory_order_acquire);
}

uint64_t
cls_table_version(const struct cls *cls, unsigned int table)
{
    if (table >= cls->n_tables) {
        return 0;
    }
    return atomic_load_explicit(&((struct cls *) cls)->tables[table].version,
                                memory_order_acquire);
}

/* ---- Rules. ---- */

static void
rule_free_rcu(struct rcu_head *head)
{
    free(VF_CONTAINER_OF(head, struct cls_rule_priv, rcu));
}

/* Extracts the words of 'value' that 'st' keeps into 'words'. */
static void
compact_words(const struct cls_subtable *st, const struct flow_key *value,
              uint64_t *words)
{
    const uint64_t *w = flow_key_words(value);
    for (int i = 0; i < st->n_words; i++) {
        words[i] = w[st->idx[i]] & st->mask[i];
    }
}

/* Allocates a rule of 'st' with value 'words' and the rest from 'spec'
 * ('actions' non-empty), taken at 'now'. */
static struct cls_rule_priv *
rule_create(const struct cls_subtable *st, const uint64_t *words,
            const struct cls_rule_spec *spec, const struct action *actions,
            size_t n_actions, int64_t now)
{
    size_t size = sizeof(struct cls_rule_priv) + st->n_words * 8
                  + n_actions * sizeof *actions;
    struct cls_rule_priv *r = vf_xmalloc(size);
    memset(r, 0, sizeof *r);
    memcpy(r->words, words, st->n_words * 8);
    struct action *a = (struct action *) (void *) (r->words + st->n_words);
    memcpy(a, actions, n_actions * sizeof *actions);
    r->up.actions = a;
    r->up.n_actions = (uint16_t) n_actions;
    r->up.priority = spec->priority;
    r->up.table = spec->table;
    r->up.idle_timeout = spec->idle_timeout;
    r->up.hard_timeout = spec->hard_timeout;
    r->up.cookie = spec->cookie;
    r->up.created = now;
    atomic_init(&r->up.stats.n_packets, 0);
    atomic_init(&r->up.stats.n_bytes, 0);
    atomic_init(&r->up.stats.used, now);
    r->subtable = (struct cls_subtable *) st;
    return r;
}

static bool
rule_has_timeout(const struct cls_rule_priv *r)
{
    return r->up.idle_timeout || r->up.hard_timeout;
}

static void
expiry_link(struct cls *cls, struct cls_rule_priv *r)
{
    if (!rule_has_timeout(r)) {
        return;
    }
    r->exp_prev = NULL;
    r->exp_next = cls->exp_head;
    if (cls->exp_head) {
        cls->exp_head->exp_prev = r;
    }
    cls->exp_head = r;
    cls->n_timed++;
}

static void
expiry_unlink(struct cls *cls, struct cls_rule_priv *r)
{
    if (!rule_has_timeout(r)) {
        return;
    }
    if (cls->exp_cursor == r) {
        cls->exp_cursor = r->exp_next;
    }
    if (r->exp_prev) {
        r->exp_prev->exp_next = r->exp_next;
    } else {
        cls->exp_head = r->exp_next;
    }
    if (r->exp_next) {
        r->exp_next->exp_prev = r->exp_prev;
    }
    cls->n_timed--;
}

/* Finds the node of 'st' for 'words' and its hash. */
static struct cls_node *
node_of(const struct cls_subtable *st, const uint64_t *words,
        uint32_t *hash)
{
    *hash = cls_subtable_hash_words(st, words);
    return cls_htab_find_words(st, words, *hash);
}

/* Finds the rule of 'table' with 'match' (normalized) and 'priority'; if
 * 'stp' is nonnull, stores there the subtable of the match's mask (NULL if
 * there is none). */
static struct cls_rule_priv *
rule_find(const struct cls *cls, unsigned int table,
          const struct cls_match *match, uint16_t priority,
          struct cls_subtable **stp)
{
    struct cls_subtable *st = subtable_find(&cls->tables[table],
                                            &match->mask);
    if (stp) {
        *stp = st;
    }
    if (!st) {
        return NULL;
    }
    uint64_t words[FLOW_KEY_N_WORDS];
    uint32_t hash;
    compact_words(st, &match->value, words);
    struct cls_node *node = node_of(st, words, &hash);
    for (struct cls_rule_priv *r = node ? (void *) node->head : NULL; r;
         r = r->next) {
        if (r->up.priority == priority) {
            return r;
        }
    }
    return NULL;
}

/* Inserts new rule 'r' (rank set) into its subtable of 'table'. */
static void
rule_insert(struct cls *cls, struct cls_table *table, struct cls_rule_priv *r)
{
    struct cls_subtable *st = r->subtable;
    uint32_t hash;
    struct cls_node *node = node_of(st, r->words, &hash);
    if (!node) {
        cls_htab_reserve(st);
    }
    heap_push(st, r);
    if (subtable_max_rank(st) > st->pub_max_rank) {
        table_publish(table);                       /* R5: before R2. */
    }
    if (node && node->rank > r->rank) {
        /* Hidden behind a better rule with the same value. */
        struct cls_rule_priv *p = (struct cls_rule_priv *) node->head;
        while (p->next && p->next->rank > r->rank) {
            p = p->next;
        }
        r->next = p->next;
        p->next = r;
    } else {
        r->next = node ? (struct cls_rule_priv *) node->head : NULL;
        cls_htab_publish(st, node, r, hash);
    }
    expiry_link(cls, r);
    table->n_rules++;
    cls->n_rules++;
    bump_version(cls, table);
}

/* Takes 'r' out of the classifier and frees it after a grace period. */
static void
rule_unlink(struct cls *cls, struct cls_rule_priv *r)
{
    struct cls_subtable *st = r->subtable;
    struct cls_table *table = &cls->tables[r->up.table];
    uint32_t hash;
    struct cls_node *node = node_of(st, r->words, &hash);
    VF_VERIFY(node);
    if (node->head == r && r->next) {
        cls_htab_publish(st, node, r->next, hash);
    } else if (node->head == r) {
        cls_htab_retire(st, node);
    } else {
        struct cls_rule_priv *p = (struct cls_rule_priv *) node->head;
        while (p->next != r) {
            p = p->next;
        }
        p->next = r->next;
    }
    heap_remove(st, r);
    if (!st->n_rules) {
        cmap_remove(&table->subtables, st, st->mask_hash);
        table_publish(table);
        vf_rcu_call(&st->rcu, subtable_free_rcu);
    } else {
        if (subtable_max_rank(st) < st->pub_max_rank) {
            table_publish(table);       /* Not needed for R5; faster. */
        }
        cls_htab_trim(st);
    }
    expiry_unlink(cls, r);
    table->n_rules--;
    cls->n_rules--;
    bump_version(cls, table);         /* R6: before the rule may go. */
    vf_rcu_call(&r->rcu, rule_free_rcu);
}

/* Puts 'nr' in the place of 'old' (same subtable and value): 'nr' takes
 * 'old''s rank; 'old' is freed after a grace period. */
static void
rule_replace(struct cls *cls, struct cls_rule_priv *old,
             struct cls_rule_priv *nr)
{
    struct cls_subtable *st = old->subtable;
    uint32_t hash;
    struct cls_node *node = node_of(st, old->words, &hash);
    VF_VERIFY(node);
    nr->rank = old->rank;
    nr->next = old->next;
    heap_set(st, old->heap_idx, (struct cls_heap_entry) {nr->rank, nr});
    if (node->head == old) {
        cls_htab_publish(st, node, nr, hash);
    } else {
        struct cls_rule_priv *p = (struct cls_rule_priv *) node->head;
        while (p->next != old) {
            p = p->next;
        }
        p->next = nr;
    }
    expiry_unlink(cls, old);
    expiry_link(cls, nr);
    bump_version(cls, &cls->tables[nr->up.table]);  /* R6 */
    vf_rcu_call(&old->rcu, rule_free_rcu);
}

static int
fail(char **errp, int rc, const char *msg)
{
    if (errp) {
        *errp = vf_xstrdup(msg);
    }
    return rc;
}

/* Validates 'spec' into a normalized match. */
static int
spec_check(const struct cls *cls, const struct cls_rule_spec *spec,
           struct cls_match *match, char **errp)
{
    if (spec->table >= cls->n_tables) {
        if (errp) {
            *errp = vf_xasprintf("table %u does not exist (0..%u)",
                                 spec->table, cls->n_tables - 1);
        }
        return -EINVAL;
    }
    if (spec->n_actions > ACTION_LIST_MAX) {
        return fail(errp, -EINVAL, "too many actions");
    }
    *match = spec->match;
    cls_match_normalize(match);
    int rc = field_validate_match(match, errp);
    if (!rc) {
        rc = action_list_validate(spec->actions, spec->n_actions, match,
                                  spec->table, cls->n_tables, NULL, errp);
    }
    return rc;
}

int
cls_add(struct cls *cls, const struct cls_rule_spec *spec, int64_t now,
        const struct cls_rule **rulep, char **errp)
{
    struct cls_match match;
    int rc = spec_check(cls, spec, &match, errp);
    if (rc) {
        return rc;
    }
    struct action drop;
    action_init(&drop, ACTION_DROP, 0);
    const struct action *actions = spec->n_actions ? spec->actions : &drop;
    size_t n_actions = spec->n_actions ? spec->n_actions : 1;
    struct cls_table *table = &cls->tables[spec->table];
    struct cls_subtable *st;
    struct cls_rule_priv *old = rule_find(cls, spec->table, &match,
                                          spec->priority, &st);
    if (!old && cls->n_rules >= cls->max_rules) {
        return fail(errp, -ENOSPC, "the classifier is full");
    }
    if (!old && cls->next_seq >= RANK_SEQ_MAX) {
        return fail(errp, -ENOSPC, "rule sequence numbers exhausted");
    }
    if (!st) {
        st = subtable_create(cls, table, &match.mask);
    }
    uint64_t words[FLOW_KEY_N_WORDS];
    compact_words(st, &match.value, words);
    struct cls_rule_priv *r = rule_create(st, words, spec, actions,
                                          n_actions, now);
    if (old) {
        rule_replace(cls, old, r);
    } else {
        r->rank = rank_make(spec->priority, cls->next_seq++);
        rule_insert(cls, table, r);
    }
    if (rulep) {
        *rulep = &r->up;
    }
    return old ? 1 : 0;
}

int
cls_remove_strict(struct cls *cls, unsigned int table,
                  const struct cls_match *match, uint16_t priority)
{
    if (table >= cls->n_tables) {
        return -ENOENT;
    }
    struct cls_match m = *match;
    cls_match_normalize(&m);
    struct cls_rule_priv *r = rule_find(cls, table, &m, priority, NULL);
    if (!r) {
        return -ENOENT;
    }
    rule_unlink(cls, r);
    return 0;
}

void
cls_remove_rule(struct cls *cls, const struct cls_rule *rule)
{
    rule_unlink(cls, cls_rule_priv(rule));
}

/* ---- Reading rules back. ---- */

void
cls_rule_get_match(const struct cls_rule *rule, struct cls_match *m)
{
    const struct cls_rule_priv *r = cls_rule_priv(rule);
    const struct cls_subtable *st = r->subtable;
    memset(&m->value, 0, sizeof m->value);
    m->mask = st->full_mask;
    uint64_t *v = flow_key_words_rw(&m->value);
    for (int i = 0; i < st->n_words; i++) {
        v[st->idx[i]] = r->words[i];
    }
}

void
cls_rule_get_spec(const struct cls_rule *rule, struct cls_rule_spec *spec)
{
    memset(spec, 0, sizeof *spec);
    spec->table = rule->table;
    spec->priority = rule->priority;
    cls_rule_get_match(rule, &spec->match);
    spec->cookie = rule->cookie;
    spec->idle_timeout = rule->idle_timeout;
    spec->hard_timeout = rule->hard_timeout;
    spec->n_actions = rule->n_actions;
    memcpy(spec->actions, rule->actions,
           rule->n_actions * sizeof *rule->actions);
}

size_t
cls_count(const struct cls *cls, int table)
{
    if (table == CLS_ALL_TABLES) {
        return cls->n_rules;
    }
    return (unsigned) table < cls->n_tables ? cls->tables[table].n_rules : 0;
}

size_t
cls_n_subtables(const struct cls *cls, unsigned int table)
{
    return table < cls->n_tables ? cmap_count(&cls->tables[table].subtables)
                                 : 0;
}

/* ---- Filters, dumps, loose removal, modification. ---- */

void
cls_filter_init(struct cls_filter *f)
{
    memset(f, 0, sizeof *f);
    f->table = CLS_ALL_TABLES;
}

bool
cls_filter_matches(const struct cls_filter *f, const struct cls_rule *rule)
{
    if (f->table != CLS_ALL_TABLES && f->table != rule->table) {
        return false;
    }
    if ((rule->cookie ^ f->cookie) & f->cookie_mask) {
        return false;
    }
    struct cls_match m, fm = f->match;
    cls_match_normalize(&fm);
    cls_rule_get_match(rule, &m);
    if (f->strict) {
        return rule->priority == f->priority && cls_match_equal(&m, &fm);
    }
    return cls_match_is_within(&m, &fm);
}

struct rule_vec {
    struct cls_rule_priv **rules;
    size_t n, cap;
};

static void
rule_vec_push(struct rule_vec *v, struct cls_rule_priv *r)
{
    if (v->n == v->cap) {
        v->cap = v->cap ? v->cap * 2 : 64;
        v->rules = vf_xrealloc(v->rules, v->cap * sizeof *v->rules);
    }
    v->rules[v->n++] = r;
}

static bool
mask_covers(const struct flow_key *outer, const struct flow_key *inner)
{
    for (int i = 0; i < FLOW_KEY_N_WORDS; i++) {
        if (flow_key_words(inner)[i] & ~flow_key_words(outer)[i]) {
            return false;
        }
    }
    return true;
}

/* Collects the rules 'f' selects (all if NULL). */
static void
collect(const struct cls *cls, const struct cls_filter *f,
        struct rule_vec *v)
{
    unsigned int lo = 0, hi = cls->n_tables;
    if (f && f->table != CLS_ALL_TABLES) {
        if ((unsigned) f->table >= cls->n_tables) {
            return;
        }
        lo = (unsigned) f->table, hi = lo + 1;
    }
    for (unsigned int t = lo; t < hi; t++) {
        struct cls_subtable *st;
        CMAP_FOR_EACH (st, c, &cls->tables[t].subtables) {
            if (f && !mask_covers(&st->full_mask, &f->match.mask)) {
                continue;
            }
            for (uint32_t i = 0; i < st->n_rules; i++) {
                struct cls_rule_priv *r = st->heap[i].rule;
                if (!f || cls_filter_matches(f, &r->up)) {
                    rule_vec_push(v, r);
                }
            }
        }
    }
}

static int
rule_order_cmp(const void *a_, const void *b_)
{
    const struct cls_rule_priv *a = *(const struct cls_rule_priv *const *) a_;
    const struct cls_rule_priv *b = *(const struct cls_rule_priv *const *) b_;
    if (a->up.table != b->up.table) {
        return a->up.table < b->up.table ? -1 : 1;
    }
    return (a->rank < b->rank) - (a->rank > b->rank);
}

size_t
cls_for_each(const struct cls *cls, const struct cls_filter *f,
             cls_rule_cb *cb, void *aux)
{
    struct rule_vec v = {0};
    collect(cls, f, &v);
    if (v.n) {
        qsort(v.rules, v.n, sizeof *v.rules, rule_order_cmp);
    }
    for (size_t i = 0; i < v.n; i++) {
        cb(&v.rules[i]->up, aux);
    }
    free(v.rules);
    return v.n;
}

size_t
cls_remove(struct cls *cls, const struct cls_filter *f, cls_rule_cb *cb,
           void *aux)
{
    struct rule_vec v = {0};
    collect(cls, f, &v);
    for (size_t i = 0; i < v.n; i++) {
        if (cb) {
            cb(&v.rules[i]->up, aux);
        }
        rule_unlink(cls, v.rules[i]);
    }
    free(v.rules);
    return v.n;
}

long
cls_modify_actions(struct cls *cls, const struct cls_filter *f,
                   const struct action *actions, size_t n, char **errp)
{
    struct action drop;
    action_init(&drop, ACTION_DROP, 0);
    if (!n) {
        actions = &drop, n = 1;
    }
    struct rule_vec v = {0};
    collect(cls, f, &v);
    for (size_t i = 0; i < v.n; i++) {
        struct cls_match m;
        cls_rule_get_match(&v.rules[i]->up, &m);
        if (action_list_validate(actions, n, &m, v.rules[i]->up.table,
                                 cls->n_tables, NULL, errp)) {
            free(v.rules);
            return -EINVAL;
        }
    }
    for (size_t i = 0; i < v.n; i++) {
        struct cls_rule_priv *old = v.rules[i];
        struct cls_rule_spec s;
        s.priority = old->up.priority;
        s.table = old->up.table;
        s.idle_timeout = old->up.idle_timeout;
        s.hard_timeout = old->up.hard_timeout;
        s.cookie = old->up.cookie;
        struct cls_rule_priv *r = rule_create(old->subtable, old->words, &s,
                                              actions, n, old->up.created);
        uint64_t np, nb;
        int64_t used;
        cls_rule_get_stats(&old->up, &np, &nb, &used);
        atomic_store(&r->up.stats.n_packets, np);
        atomic_store(&r->up.stats.n_bytes, nb);
        atomic_store(&r->up.stats.used, used);
        rule_replace(cls, old, r);
    }
    free(v.rules);
    return (long) v.n;
}

/* ---- Timeouts. ---- */

static bool
rule_expired(const struct cls_rule *r, int64_t now,
             enum cls_expire_reason *reason)
{
    if (r->hard_timeout
        && now - r->created >= r->hard_timeout * VF_NSEC_PER_SEC) {
        *reason = CLS_EXPIRE_HARD;
        return true;
    }
    if (r->idle_timeout) {
        uint64_t np, nb;
        int64_t used;
        cls_rule_get_stats(r, &np, &nb, &used);
        if (now - used >= r->idle_timeout * VF_NSEC_PER_SEC) {
            *reason = CLS_EXPIRE_IDLE;
            return true;
        }
    }
    return false;
}

size_t
cls_expire(struct cls *cls, int64_t now, size_t budget, cls_expire_cb *cb,
           void *aux)
{
    size_t n_visit = cls->n_timed;
    if (budget && budget < n_visit) {
        n_visit = budget;
    }
    size_t removed = 0;
    struct cls_rule_priv *r = cls->exp_cursor;
    for (size_t i = 0; i < n_visit; i++) {
        if (!r && !(r = cls->exp_head)) {
            break;
        }
        struct cls_rule_priv *next = r->exp_next;
        enum cls_expire_reason reason;
        if (rule_expired(&r->up, now, &reason)) {
            if (cb) {
                cb(&r->up, reason, aux);
            }
            rule_unlink(cls, r);
            removed++;
        }
        r = next;
    }
    cls->exp_cursor = r;
    return removed;
}
