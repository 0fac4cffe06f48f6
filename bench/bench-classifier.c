/* SPDX-License-Identifier: Apache-2.0 */
/* bench/run classifier: classifier and exact-match cache lookups per core,
 * rule insertion and deletion rates.
 *
 * Rules.  N rules (1k, 100k, 1M) spread evenly over M masks (1, 10, 50).
 * Every mask is a TCP/IPv4 5-tuple ACL shape: dl_type and nw_proto exact,
 * tp_src exact, nw_dst/P with P in {16,20,24,28,32}, nw_src/Q with Q in
 * {0,8,16,24,32}, and for some masks tp_dst and in_port; the M masks are
 * the first M of these 50 combinations.  Masked values are random, so a
 * mask has at least 32 random bits and rules practically never overlap
 * by accident.  Two priority layouts:
 *   uniform  random priorities 0..65535: every subtable holds high
 *            priorities, so every lookup visits all M subtables (the worst
 *            case of tuple-space search with priorities);
 *   banded   mask i gets the i-th band of 65536/M priorities, more specific
 *            masks higher (the shape of LPM-like rule sets): a lookup stops
 *            after the subtable of its match, visiting (M+1)/2 on average.
 *
 * Keys.  65536 keys per run, looked up in batches of 32 with
 * cls_lookup_batch() (single-key cls_lookup() also reported).  "hit" keys
 * are drawn uniformly from all N rules (the rule's values, random bits
 * where it is wildcarded), so with 1M rules nearly every probe misses the
 * CPU caches; "miss" keys match no rule (nw_dst 255.255.x.x), so they visit
 * every subtable.  EMC: a hot set of 4096 flows (fits the 8192-entry cache)
 * over the 1M-rule, 10-mask table, through emc_classify_batch(), hashing
 * included (emc_off_hot_ns: the same keys with the cache off).
 *
 * Insertion: time of cls_add() for 1M rules (10 masks, uniform), minus
 * the time to generate their specs; deletion: cls_remove_strict() of all.
 * Figures are medians of 11 trials of the benchmark thread's CPU time
 * (CLOCK_THREAD_CPUTIME_ID, so that time the shared machine gives to
 * other tenants does not count), ns per key and TSC cycles; insertion and
 * deletion likewise (frees deferred to liburcu's thread are not
 * counted).  Memory: allocator bytes per rule (rules, nodes, tables).
 * Argument SIZE/MASKS (e.g. "1m/10", or "insert") runs one part only. */
#include <inttypes.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench-common.h"
#include "cls/cls.h"
#include "cls/emc.h"
#include "net/addr.h"
#include "util/random.h"
#include "util/rcu.h"
#include "util/vtime.h"

#define N_KEYS 65536
#define N_HOT 4096
#define TRIALS 11                /* Short trials: see RESULTS.md. */
#define MAX_MASKS 50

enum layout { UNIFORM, BANDED };

struct ruleset {
    size_t n_rules;
    unsigned int n_masks;
    enum layout layout;
    uint64_t seed;
};

static const unsigned int NW_DST_PLEN[5] = {16, 20, 24, 28, 32};
static const unsigned int NW_SRC_PLEN[5] = {0, 8, 16, 24, 32};

/* Builds rule 'j' of 'rs' into 'spec' (only the parts cls_add reads). */
static void
rule_gen(const struct ruleset *rs, size_t j, struct cls_rule_spec *spec)
{
    struct vf_random rng;
    vf_random_init(&rng, rs->seed ^ (j * 0x9e3779b97f4a7c15ull));
    unsigned int i = (unsigned int) (j % rs->n_masks);
    struct cls_match *m = &spec->match;
    memset(m, 0, sizeof *m);
    m->mask.dl_type = 0xffff;
    m->value.dl_type = VF_BE16(ETH_TYPE_IPV4);
    m->mask.nw_proto = 0xff;
    m->value.nw_proto = IP_PROTO_TCP;
    m->mask.tp_src = 0xffff;
    m->mask.nw_dst = ipv4_prefix_mask(NW_DST_PLEN[i % 5]);
    m->mask.nw_src = ipv4_prefix_mask(NW_SRC_PLEN[(i / 5) % 5]);
    if ((i / 25) % 2) {
        m->mask.tp_dst = 0xffff;
    }
    if ((i / 10) % 2) {
        m->mask.in_port = UINT32_MAX;
    }
    uint64_t r = vf_random_u64(&rng);
    m->value.tp_src = (vf_be16) r;
    m->value.nw_dst = (vf_be32) (r >> 16) & VF_BE32(0xfeffffffu);
    m->value.nw_src = (vf_be32) vf_random_u32(&rng);
    m->value.tp_dst = (vf_be16) (r >> 48);
    m->value.in_port = 1 + vf_random_range(&rng, 8);
    cls_match_normalize(m);
    if (rs->layout == UNIFORM) {
        spec->priority = (uint16_t) vf_random_u32(&rng);
    } else {
        uint32_t band = 65536 / rs->n_masks;
        spec->priority = (uint16_t) (65535 - i * band
                                     - vf_random_range(&rng, band));
    }
    spec->actions[0].arg = (uint32_t) j;
}

/* CPU time of the calling thread, ns: what the benchmark thread actually
 * ran, so that other tenants of this shared 2-vCPU machine taking the core
 * away do not count (bench/RESULTS.md). */
static int64_t
thread_cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (int64_t) ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void
spec_init(struct cls_rule_spec *spec)
{
    memset(spec, 0, sizeof *spec);
    spec->n_actions = 1;
    action_init(&spec->actions[0], ACTION_OUTPUT, 0);
}

/* Bytes the allocator has handed out (heap and mmap). */
static double
heap_bytes(void)
{
    struct mallinfo2 mi = mallinfo2();
    return (double) mi.uordblks + (double) mi.hblkhd;
}

static struct cls *
build(const struct ruleset *rs, double *insert_s, double *gen_s)
{
    struct cls_config cfg = {.n_tables = 1, .seed = 7};
    struct cls *cls = cls_create(&cfg);
    struct cls_rule_spec *spec = malloc(sizeof *spec);
    spec_init(spec);
    int64_t t0 = thread_cpu_ns();
    uint64_t sink = 0;
    for (size_t j = 0; j < rs->n_rules; j++) {
        rule_gen(rs, j, spec);
        sink += spec->priority;
    }
    int64_t t1 = thread_cpu_ns();
    for (size_t j = 0; j < rs->n_rules; j++) {
        rule_gen(rs, j, spec);
        if (cls_add(cls, spec, 0, NULL, NULL) < 0) {
            fprintf(stderr, "bench-classifier: cls_add failed\n");
            exit(1);
        }
    }
    int64_t t2 = thread_cpu_ns();
    __asm__ volatile("" : : "r"(sink));
    free(spec);
    if (insert_s) {
        *insert_s = (double) ((t2 - t1) - (t1 - t0)) / 1e9;
        *gen_s = (double) (t1 - t0) / 1e9;
    }
    return cls;
}

/* A key inside rule 'j', or (miss) a key no rule matches. */
static void
key_gen(const struct ruleset *rs, struct vf_random *rng, bool miss,
        struct flow_key *k)
{
    struct cls_rule_spec spec;
    size_t j = vf_random_range(rng, (uint32_t) rs->n_rules);
    rule_gen(rs, j, &spec);
    memset(k, 0, sizeof *k);
    uint64_t *w = flow_key_words_rw(k);
    for (int i = 0; i < FLOW_KEY_N_WORDS; i++) {
        uint64_t mk = flow_key_words(&spec.match.mask)[i];
        uint64_t v = flow_key_words(&spec.match.value)[i];
        w[i] = (vf_random_u64(rng) & ~mk) | v;
    }
    k->dl_type = VF_BE16(ETH_TYPE_IPV4);
    k->nw_proto = IP_PROTO_TCP;
    k->in_port = spec.match.value.in_port ? spec.match.value.in_port : 1;
    if (miss) {
        k->nw_dst |= VF_BE32(0xffff0000u);   /* Rules never have this. */
    }
}

struct lookup_run {
    struct cls *cls;
    struct emc *emc;
    struct flow_key *keys;
    const struct flow_key **kp;
    size_t n_keys;
    int rounds;
    bool single;
};

static uint64_t
run_lookups(void *arg)
{
    struct lookup_run *r = arg;
    const struct cls_rule *res[CLS_BATCH];
    uint64_t hits = 0;
    vf_rcu_read_lock();
    for (int round = 0; round < r->rounds; round++) {
        for (size_t i = 0; i < r->n_keys; i += CLS_BATCH) {
            if (r->emc) {
                hits += emc_classify_batch(r->emc, r->cls, 0, r->kp + i,
                                           NULL, CLS_BATCH, res);
            } else if (r->single) {
                for (size_t j = 0; j < CLS_BATCH; j++) {
                    hits += cls_lookup(r->cls, 0, r->kp[i + j]) != NULL;
                }
            } else {
                hits += cls_lookup_batch(r->cls, 0, r->kp + i, CLS_BATCH,
                                         res);
            }
        }
    }
    vf_rcu_read_unlock();
    __asm__ volatile("" : : "r"(hits));
    return (uint64_t) r->rounds * r->n_keys;
}

static int
cmp_double(const void *a, const void *b)
{
    double x = *(const double *) a, y = *(const double *) b;
    return (x > y) - (x < y);
}

/* Runs 'fn(arg)' once to warm up, then TRIALS times; returns the median
 * thread CPU nanoseconds per item. */
static double
median_cpu_ns(uint64_t (*fn)(void *), void *arg)
{
    double v[TRIALS];
    fn(arg);
    for (int i = 0; i < TRIALS; i++) {
        int64_t t0 = thread_cpu_ns();
        uint64_t n = fn(arg);
        int64_t t1 = thread_cpu_ns();
        v[i] = n ? (double) (t1 - t0) / (double) n : 0;
    }
    qsort(v, TRIALS, sizeof v[0], cmp_double);
    return v[TRIALS / 2];
}

static void
report(const char *name, double ns)
{
    char metric[128];
    bench_report(name, ns, "ns");
    size_t len = strlen(name);
    if (len > 3 && !strcmp(name + len - 3, "_ns")) {
        len -= 3;                        /* cls_..._ns -> cls_..._cycles */
    }
    snprintf(metric, sizeof metric, "%.*s_cycles", (int) VF_MIN(len, 100),
             name);
    bench_report(metric, ns * bench_tsc_hz() / 1e9, "cycles");
}

static double
measure(struct lookup_run *run, const struct ruleset *rs, bool miss,
        bool single, uint64_t seed)
{
    struct vf_random rng;
    vf_random_init(&rng, seed);
    for (size_t i = 0; i < run->n_keys; i++) {
        key_gen(rs, &rng, miss, &run->keys[i]);
    }
    run->single = single;
    run->rounds = 1;
    return median_cpu_ns(run_lookups, run);
}

static const char *
size_name(size_t n)
{
    return n >= 1000000 ? "1m" : n >= 100000 ? "100k" : "1k";
}

/* Measures one rule set in both layouts; returns the table with the
 * uniform layout when 'keep' (for the EMC run). */
static struct cls *
bench_config(size_t n_rules, unsigned int n_masks, struct lookup_run *run,
             bool keep)
{
    struct cls *kept = NULL;
    for (int layout = UNIFORM; layout <= BANDED; layout++) {
        struct ruleset rs = {n_rules, n_masks, (enum layout) layout,
                             1000 + n_rules + n_masks};
        struct cls *cls = build(&rs, NULL, NULL);
        run->cls = cls;
        run->emc = NULL;
        char name[96];
        const char *sz = size_name(n_rules);
        const char *lay = layout == UNIFORM ? "" : "_banded";
        snprintf(name, sizeof name, "cls_%s_%umasks%s_ns", sz, n_masks, lay);
        report(name, measure(run, &rs, false, false, 1));
        if (layout == UNIFORM) {
            snprintf(name, sizeof name, "cls_%s_%umasks_single_ns", sz,
                     n_masks);
            report(name, measure(run, &rs, false, true, 2));
            snprintf(name, sizeof name, "cls_%s_%umasks_miss_ns", sz,
                     n_masks);
            report(name, measure(run, &rs, true, false, 3));
        }
        if (keep && layout == UNIFORM) {
            kept = cls;
        } else {
            cls_destroy(cls);
        }
    }
    return kept;
}

static void
bench_emc(struct cls *cls, struct lookup_run *run, size_t n_rules)
{
    struct ruleset rs = {n_rules, 10, UNIFORM, 1000 + n_rules + 10};
    struct vf_random rng;
    vf_random_init(&rng, 99);
    struct flow_key *hot = malloc(N_HOT * sizeof *hot);
    for (size_t i = 0; i < N_HOT; i++) {
        key_gen(&rs, &rng, false, &hot[i]);
    }
    for (size_t i = 0; i < run->n_keys; i++) {
        run->keys[i] = hot[vf_random_range(&rng, N_HOT)];
    }
    free(hot);
    run->cls = cls;
    run->emc = emc_create(EMC_DEFAULT_ENTRIES, 0, 5);
    run->single = false;
    run->rounds = 1;
    for (int i = 0; i < 400; i++) {
        run_lookups(run);                /* Warm: 1/100 insertions. */
    }
    struct emc_stats st0, st1;
    emc_get_stats(run->emc, &st0);
    double ns = median_cpu_ns(run_lookups, run);
    emc_get_stats(run->emc, &st1);
    report("emc_hit_ns", ns);
    struct emc *emc = run->emc;
    run->emc = NULL;                     /* The same keys, cache off. */
    report("emc_off_hot_ns", median_cpu_ns(run_lookups, run));
    run->emc = emc;
    double hit_rate = (double) (st1.hits - st0.hits)
                      / (double) (st1.hits - st0.hits + st1.misses
                                  - st0.misses);
    bench_report("emc_hit_rate", 100.0 * hit_rate, "%");
    emc_destroy(run->emc);
    run->emc = NULL;
}

static void
bench_insert_delete(void)
{
    struct ruleset rs = {1000000, 10, UNIFORM, 4242};
    double insert_s, gen_s;
    vf_rcu_barrier();
    double heap0 = heap_bytes();
    struct cls *cls = build(&rs, &insert_s, &gen_s);
    vf_rcu_barrier();
    double heap1 = heap_bytes();
    size_t n = cls_count(cls, 0);
    bench_report("insert_1m_s", insert_s, "s");
    bench_report("insert_rate", (double) n / insert_s / 1e6, "Mrules/s");
    bench_report("memory_per_rule", (heap1 - heap0) / (double) n, "bytes");
    struct cls_rule_spec *spec = malloc(sizeof *spec);
    spec_init(spec);
    int64_t t0 = thread_cpu_ns();
    size_t removed = 0;
    for (size_t j = 0; j < rs.n_rules; j++) {
        rule_gen(&rs, j, spec);
        removed += !cls_remove_strict(cls, 0, &spec->match, spec->priority);
    }
    int64_t t1 = thread_cpu_ns();
    double delete_s = (double) (t1 - t0) / 1e9 - gen_s;
    bench_report("delete_1m_s", delete_s, "s");
    bench_report("delete_rate", (double) removed / delete_s / 1e6,
                 "Mrules/s");
    printf("# insert/delete: %zu rules in the table (of %zu generated), "
           "%zu removed; spec generation (%.3f s) subtracted\n", n,
           rs.n_rules, removed, gen_s);
    free(spec);
    cls_destroy(cls);
}

int
main(int argc, char **argv)
{
    /* Optional argument SIZE/MASKS (e.g. "1m/10"): run that configuration
     * and the EMC and insertion runs only if they match it. */
    const char *only = argc > 1 ? argv[1] : NULL;
    vf_rcu_register_thread();
    bench_pin(1);
    struct lookup_run run = {0};
    run.keys = malloc(N_KEYS * sizeof *run.keys);
    run.kp = malloc(N_KEYS * sizeof *run.kp);
    run.n_keys = N_KEYS;
    for (size_t i = 0; i < N_KEYS; i++) {
        run.kp[i] = &run.keys[i];
    }
    printf("# classifier: %d keys per trial in batches of %d, median of %d "
           "trials, TSC %.2f GHz\n", N_KEYS, CLS_BATCH, TRIALS,
           bench_tsc_hz() / 1e9);
    static const size_t sizes[] = {1000, 100000, 1000000};
    static const unsigned int masks[] = {1, 10, 50};
    for (size_t s = 0; s < 3; s++) {
        for (size_t m = 0; m < 3; m++) {
            char cfg[32];
            snprintf(cfg, sizeof cfg, "%s/%u", size_name(sizes[s]), masks[m]);
            if (only && strcmp(only, cfg)) {
                continue;
            }
            bool keep = sizes[s] == 1000000 && masks[m] == 10;
            struct cls *cls = bench_config(sizes[s], masks[m], &run, keep);
            if (cls) {
                bench_emc(cls, &run, sizes[s]);
                cls_destroy(cls);
            }
            vf_rcu_barrier();
        }
    }
    if (!only || !strcmp(only, "insert")) {
        bench_insert_delete();
    }
    vf_rcu_barrier();
    free(run.keys);
    free(run.kp);
    vf_rcu_unregister_thread();
    return 0;
}
