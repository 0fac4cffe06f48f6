/* SPDX-License-Identifier: Apache-2.0 */
/* cls: contract tests, then the differential test against the linear
 * reference (cls-linear.c): random rule sets with many masks, overlapping
 * prefixes and priority ties; millions of random keys; interleaved
 * inserts, replacements and deletes; and a reader thread looking keys up
 * while a writer churns rules that cannot change those keys' answers. */
#include "harness.h"

#include <pthread.h>
#include <stdatomic.h>

#include "cls/cls-linear.h"
#include "cls/cls.h"
#include "cls/cls-text.h"
#include "test-cls-gen.h"
#include "util/buf.h"
#include "util/rcu.h"

#define SEC 1000000000ll        /* Nanoseconds. */

/* Sanitizer builds run the same tests on a quarter of the keys. */
#if defined(__SANITIZE_ADDRESS__)
#define KEY_SCALE 4
#else
#define KEY_SCALE 1
#endif

/* Lookup variants, set by the differential tests. */
static bool generic_lookup;
static bool pipeline_always;

static struct cls *
new_cls(unsigned int n_tables)
{
    struct cls_config cfg = {.n_tables = n_tables, .seed = 42,
                             .generic_lookup = generic_lookup,
                             .pipeline_always = pipeline_always};
    struct cls *cls = cls_create(&cfg);
    VF_VERIFY(cls);
    return cls;
}

/* Adds the rule of 'text'; returns cls_add()'s result. */
static int
add_text(struct cls *cls, const char *text, int64_t now,
         const struct cls_rule **rulep)
{
    struct cls_rule_spec spec;
    char *err = NULL;
    if (cls_text_parse_rule(text, NULL, &spec, &err)) {
        fprintf(stderr, "parse error: %s\n", err);
        free(err);
        return -999;
    }
    int rc = cls_add(cls, &spec, now, rulep, &err);
    free(err);
    return rc;
}

static struct flow_key
ipv4_key(uint32_t in_port, const char *src, const char *dst, uint8_t proto,
         uint16_t tp_dst)
{
    struct flow_key k;
    memset(&k, 0, sizeof k);
    k.in_port = in_port;
    k.dl_type = VF_BE16(ETH_TYPE_IPV4);
    VF_VERIFY(!ipv4_parse(src, &k.nw_src));
    VF_VERIFY(!ipv4_parse(dst, &k.nw_dst));
    k.nw_proto = proto;
    k.tp_dst = vf_htons(tp_dst);
    return k;
}

static uint32_t
out_port(const struct cls_rule *r)
{
    return r && r->actions[0].type == ACTION_OUTPUT ? r->actions[0].arg
                                                    : UINT32_MAX;
}

static void
test_basic_priority(void)
{
    test_rcu_thread();
    struct cls *cls = new_cls(0);
    CHECK_EQ_U(cls_n_tables(cls), CLS_DEFAULT_N_TABLES);
    CHECK_EQ_I(add_text(cls, "priority=10,ip,nw_dst=10.0.0.0/8,"
                             "actions=output:1", 0, NULL), 0);
    CHECK_EQ_I(add_text(cls, "priority=20,ip,nw_dst=10.1.0.0/16,"
                             "actions=output:2", 0, NULL), 0);
    CHECK_EQ_I(add_text(cls, "priority=30,tcp,tp_dst=80,actions=output:3",
                        0, NULL), 0);
    CHECK_EQ_I(add_text(cls, "priority=5,actions=output:4", 0, NULL), 0);
    CHECK_EQ_U(cls_count(cls, 0), 4);
    CHECK_EQ_U(cls_n_subtables(cls, 0), 4);

    struct flow_key k = ipv4_key(1, "1.2.3.4", "10.1.2.3", 17, 53);
    CHECK_EQ_U(out_port(test_lookup(cls, 0, &k)), 2);
    k = ipv4_key(1, "1.2.3.4", "10.1.2.3", 6, 80);
    CHECK_EQ_U(out_port(test_lookup(cls, 0, &k)), 3);
    k = ipv4_key(1, "1.2.3.4", "10.2.2.3", 6, 81);
    CHECK_EQ_U(out_port(test_lookup(cls, 0, &k)), 1);
    k.dl_type = VF_BE16(ETH_TYPE_ARP);
    CHECK_EQ_U(out_port(test_lookup(cls, 0, &k)), 4);
    CHECK(test_lookup(cls, 1, &k) == NULL);
    CHECK(test_lookup(cls, 999, &k) == NULL);
    cls_destroy(cls);
}

static void
test_replace_and_ties(void)
{
    test_rcu_thread();
    struct cls *cls = new_cls(4);
    struct flow_key k = ipv4_key(1, "1.2.3.4", "10.1.2.3", 6, 80);
    /* Equal priority, overlapping: the first added wins. */
    CHECK_EQ_I(add_text(cls, "priority=7,tcp,actions=output:1", 0, NULL), 0);
    CHECK_EQ_I(add_text(cls, "priority=7,ip,nw_dst=10.0.0.0/8,"
                             "actions=output:2", 0, NULL), 0);
    CHECK_EQ_U(out_port(test_lookup(cls, 0, &k)), 1);
    /* Replacing the first keeps its place (and resets counters). */
    const struct cls_rule *r;
    CHECK_EQ_I(add_text(cls, "priority=7,tcp,actions=output:3", 0, &r), 1);
    CHECK_EQ_U(cls_count(cls, 0), 2);
    CHECK(test_lookup(cls, 0, &k) == r);
    CHECK_EQ_U(out_port(r), 3);
    /* Same value, several priorities: one node, a chain. */
    CHECK_EQ_I(add_text(cls, "priority=9,tcp,actions=output:4", 0, NULL), 0);
    CHECK_EQ_I(add_text(cls, "priority=8,tcp,actions=output:5", 0, NULL), 0);
    CHECK_EQ_U(out_port(test_lookup(cls, 0, &k)), 4);
    struct cls_match m;
    CHECK_EQ_I(cls_text_parse_match("tcp", NULL, &m, NULL), 0);
    CHECK_EQ_I(cls_remove_strict(cls, 0, &m, 9), 0);
    CHECK_EQ_I(cls_remove_strict(cls, 0, &m, 9), -ENOENT);
    CHECK_EQ_U(out_port(test_lookup(cls, 0, &k)), 5);
    CHECK_EQ_I(cls_remove_strict(cls, 0, &m, 8), 0);
    CHECK_EQ_U(out_port(test_lookup(cls, 0, &k)), 3);
    cls_destroy(cls);
}

static void
test_validation(void)
{
    test_rcu_thread();
    struct cls *cls = new_cls(4);
    struct cls_rule_spec spec;
    char *err = NULL;
    memset(&spec, 0, sizeof spec);
    spec.table = 4;
    CHECK_EQ_I(cls_add(cls, &spec, 0, NULL, &err), -EINVAL);
    CHECK_STR(err, "table 4 does not exist (0..3)");
    free(err);
    spec.table = 0;
    spec.match.mask.nw_src = 0xffffffff;
    CHECK_EQ_I(cls_add(cls, &spec, 0, NULL, &err), -EINVAL);
    CHECK_STR(err, "nw_src requires ip or arp (dl_type=0x0800 or 0x0806)");
    free(err);
    memset(&spec.match, 0, sizeof spec.match);
    spec.match.mask.nw_frag = 0x80;
    spec.match.mask.dl_type = 0xffff;
    spec.match.value.dl_type = VF_BE16(ETH_TYPE_IPV4);
    CHECK_EQ_I(cls_add(cls, &spec, 0, NULL, &err), -EINVAL);
    CHECK_STR(err, "mask bits 0x80 at byte 39 of the flow key belong to "
                   "no field");
    free(err);
    memset(&spec.match, 0, sizeof spec.match);
    spec.match.mask.dl_type = VF_BE16(0xff00);
    CHECK_EQ_I(cls_add(cls, &spec, 0, NULL, &err), -EINVAL);
    CHECK_STR(err, "dl_type cannot be masked (match all of it or none)");
    free(err);
    memset(&spec.match, 0, sizeof spec.match);
    spec.n_actions = 1;
    action_init(&spec.actions[0], ACTION_GOTO_TABLE, 0);
    CHECK_EQ_I(cls_add(cls, &spec, 0, NULL, &err), -EINVAL);
    CHECK_STR(err, "goto_table:0 must name a later table (1..3) than the "
                   "rule's table 0");
    free(err);
    spec.actions[0].arg = 3;
    CHECK_EQ_I(cls_add(cls, &spec, 0, NULL, NULL), 0);
    CHECK_EQ_U(cls_count(cls, CLS_ALL_TABLES), 1);
    cls_destroy(cls);

    struct cls_config cfg = {.n_tables = 2, .max_rules = 2};
    cls = cls_create(&cfg);
    CHECK_EQ_I(add_text(cls, "priority=1,actions=drop", 0, NULL), 0);
    CHECK_EQ_I(add_text(cls, "priority=2,actions=drop", 0, NULL), 0);
    CHECK_EQ_I(add_text(cls, "priority=3,actions=drop", 0, NULL), -ENOSPC);
    CHECK_EQ_I(add_text(cls, "priority=2,actions=flood", 0, NULL), 1);
    CHECK_EQ_I(cls_set_miss(cls, 2, CLS_MISS_DROP), -EINVAL);
    CHECK_EQ_I(cls_table_miss(cls, 1), CLS_MISS_UPCALL);
    uint64_t v = cls_table_version(cls, 1);
    CHECK_EQ_I(cls_set_miss(cls, 1, CLS_MISS_DROP), 0);
    CHECK_EQ_I(cls_table_miss(cls, 1), CLS_MISS_DROP);
    CHECK(cls_table_version(cls, 1) > v);
    cls_destroy(cls);
    cfg.n_tables = 256;
    CHECK(cls_create(&cfg) == NULL);
    CHECK_EQ_I(errno, EINVAL);
    cls_destroy(NULL);
}

struct collect {
    struct vf_buf text;
    size_t n;
};

static void
collect_cb(const struct cls_rule *rule, void *aux)
{
    struct collect *c = aux;
    cls_text_format_rule(rule, NULL, false, 0, &c->text);
    vf_buf_putc(&c->text, '\n');
    c->n++;
}

static void
test_dump_remove_modify(void)
{
    test_rcu_thread();
    struct cls *cls = new_cls(4);
    add_text(cls, "table=1,priority=5,cookie=0x11,ip,actions=output:1", 0,
             NULL);
    add_text(cls, "table=0,priority=5,cookie=0x12,tcp,nw_dst=10.0.0.0/8,"
                  "actions=output:2", 0, NULL);
    add_text(cls, "table=0,priority=9,cookie=0x21,tcp,nw_dst=10.1.0.0/16,"
                  "tp_dst=22,actions=output:3", 0, NULL);
    add_text(cls, "table=0,priority=1,cookie=0x22,udp,actions=output:4", 0,
             NULL);
    struct collect c = {VF_BUF_INITIALIZER, 0};
    CHECK_EQ_U(cls_for_each(cls, NULL, collect_cb, &c), 4);
    CHECK_STR(vf_buf_cstr(&c.text),
              "table=0,priority=9,cookie=0x21,tcp,nw_dst=10.1.0.0/16,"
              "tp_dst=22,actions=output:3\n"
              "table=0,priority=5,cookie=0x12,tcp,nw_dst=10.0.0.0/8,"
              "actions=output:2\n"
              "table=0,priority=1,cookie=0x22,udp,actions=output:4\n"
              "table=1,priority=5,cookie=0x11,ip,actions=output:1\n");
    vf_buf_clear(&c.text);

    /* Loose: every rule within "tcp" (both tcp rules), cookie filter. */
    struct cls_filter f;
    CHECK_EQ_I(cls_text_parse_filter("tcp", NULL, false, &f, NULL), 0);
    CHECK_EQ_U(cls_for_each(cls, &f, collect_cb, &c), 2);
    CHECK_EQ_I(cls_text_parse_filter("cookie=0x20/0xf0", NULL, false, &f,
                                     NULL), 0);
    c.n = 0;
    CHECK_EQ_U(cls_for_each(cls, &f, collect_cb, &c), 2);
    CHECK_EQ_I(cls_text_parse_filter("ip,nw_dst=10.1.0.0/16", NULL, false,
                                     &f, NULL), 0);
    CHECK_EQ_U(cls_for_each(cls, &f, collect_cb, &c), 1);

    /* Modify keeps counters and place. */
    struct flow_key k = ipv4_key(1, "1.1.1.1", "10.1.0.9", 6, 22);
    const struct cls_rule *r = test_lookup(cls, 0, &k);
    CHECK_EQ_U(out_port(r), 3);
    cls_rule_hit(r, 3, 300, 5 * SEC);
    struct action a;
    action_init(&a, ACTION_OUTPUT, 33);
    CHECK_EQ_I(cls_modify_actions(cls, &f, &a, 1, NULL), 1);
    r = test_lookup(cls, 0, &k);
    CHECK_EQ_U(out_port(r), 33);
    uint64_t np, nb;
    int64_t used;
    cls_rule_get_stats(r, &np, &nb, &used);
    CHECK_EQ_U(np, 3);
    CHECK_EQ_U(nb, 300);
    CHECK_EQ_I(used, 5 * SEC);
    /* Modify validates first: set_field of tp_src needs L4. */
    CHECK_EQ_I(cls_text_parse_filter("", NULL, false, &f, NULL), 0);
    union field_value v = {.integer = 7};
    action_init_set_field(&a, FIELD_TP_SRC, &v);
    char *err = NULL;
    CHECK_EQ_I(cls_modify_actions(cls, &f, &a, 1, &err), -EINVAL);
    CHECK(strstr(err, "tp_src requires the rule to match"));
    free(err);

    /* Strict filter and loose removal. */
    CHECK_EQ_I(cls_text_parse_filter("table=0,priority=5,tcp,"
                                     "nw_dst=10.0.0.0/8", NULL, true, &f,
                                     NULL), 0);
    CHECK_EQ_U(cls_remove(cls, &f, NULL, NULL), 1);
    CHECK_EQ_I(cls_text_parse_filter("table=0", NULL, false, &f, NULL), 0);
    c.n = 0;
    CHECK_EQ_U(cls_remove(cls, &f, collect_cb, &c), 2);
    CHECK_EQ_U(c.n, 2);
    CHECK_EQ_U(cls_count(cls, 0), 0);
    CHECK_EQ_U(cls_n_subtables(cls, 0), 0);
    CHECK_EQ_U(cls_count(cls, CLS_ALL_TABLES), 1);
    vf_buf_uninit(&c.text);
    cls_destroy(cls);
}

struct expired {
    int idle, hard;
};

static void
expire_cb(const struct cls_rule *rule, enum cls_expire_reason reason,
          void *aux)
{
    struct expired *e = aux;
    (void) rule;
    if (reason == CLS_EXPIRE_IDLE) {
        e->idle++;
    } else {
        e->hard++;
    }
}

static void
test_expire(void)
{
    test_rcu_thread();
    struct cls *cls = new_cls(2);
    const struct cls_rule *idle, *hard;
    add_text(cls, "priority=1,idle_timeout=10,ip,actions=drop", 0, &idle);
    add_text(cls, "priority=2,hard_timeout=30,arp,actions=drop", 0, &hard);
    add_text(cls, "priority=3,actions=drop", 0, NULL);
    for (int i = 0; i < 100; i++) {
        char text[96];
        snprintf(text, sizeof text, "priority=%d,hard_timeout=%d,"
                 "in_port=%d,actions=drop", 10 + i, 40 + i % 3, i);
        add_text(cls, text, 0, NULL);
    }
    struct expired e = {0, 0};
    CHECK_EQ_U(cls_expire(cls, 9 * SEC, 0, expire_cb, &e), 0);
    cls_rule_hit(idle, 1, 60, 9 * SEC);          /* Keeps it alive. */
    CHECK_EQ_U(cls_expire(cls, 18 * SEC, 0, expire_cb, &e), 0);
    CHECK_EQ_U(cls_expire(cls, 19 * SEC, 0, expire_cb, &e), 1);
    CHECK_EQ_I(e.idle, 1);
    CHECK_EQ_U(cls_expire(cls, 30 * SEC, 0, expire_cb, &e), 1);
    CHECK_EQ_I(e.hard, 1);
    CHECK_EQ_U(cls_count(cls, 0), 101);
    /* Budgeted: 100 timed rules, 7 per call; all gone after enough calls,
     * never more than the budget examined. */
    size_t total = 0;
    int calls = 0;
    while (total < 100 && calls < 100) {
        size_t n = cls_expire(cls, 50 * SEC, 7, expire_cb, &e);
        CHECK(n <= 7);
        total += n;
        calls++;
    }
    CHECK_EQ_U(total, 100);
    CHECK(calls >= 15);
    CHECK_EQ_U(cls_count(cls, 0), 1);
    cls_destroy(cls);
}

/* ---- Differential testing against the linear reference. ---- */

struct diff {
    struct cls *cls;
    struct cls_linear *lin;
    struct vf_random rng;
    struct cls_rule_spec *specs;     /* Rules currently in both. */
    size_t n, cap;
    uint64_t next_cookie;
    unsigned int n_tables;
    bool narrow;
    uint64_t n_checked;              /* Keys compared. */
};

static void
diff_init(struct diff *d, uint64_t seed, unsigned int n_tables, bool narrow)
{
    memset(d, 0, sizeof *d);
    d->cls = new_cls(n_tables);
    d->lin = cls_linear_create();
    vf_random_init(&d->rng, seed);
    d->n_tables = n_tables;
    d->narrow = narrow;
    d->next_cookie = 1;
}

static void
diff_uninit(struct diff *d)
{
    cls_destroy(d->cls);
    cls_linear_destroy(d->lin);
    free(d->specs);
}

static void
diff_add_spec(struct diff *d, struct cls_rule_spec *s)
{
    char *err = NULL;
    int rc = cls_add(d->cls, s, 0, NULL, &err);
    if (rc < 0) {
        fprintf(stderr, "cls_add: %s\n", err);
    }
    VF_VERIFY(rc >= 0);
    int lrc = cls_linear_add(d->lin, s->table, &s->match, s->priority,
                             s->cookie);
    VF_VERIFY(rc == lrc);
    if (rc == 1) {
        for (size_t i = 0; i < d->n; i++) {
            if (d->specs[i].table == s->table
                && d->specs[i].priority == s->priority
                && cls_match_equal(&d->specs[i].match, &s->match)) {
                d->specs[i] = *s;
                return;
            }
        }
        VF_VERIFY(!"replaced rule not found");
    }
    if (d->n == d->cap) {
        d->cap = d->cap ? d->cap * 2 : 256;
        d->specs = vf_xrealloc(d->specs, d->cap * sizeof *d->specs);
    }
    d->specs[d->n++] = *s;
}

static void
diff_add_random(struct diff *d)
{
    struct cls_rule_spec s;
    unsigned int table = gen_r(&d->rng, d->n_tables);
    if (d->n && gen_r(&d->rng, 8) == 0) {
        /* Same match as an existing rule: replace it or chain beside it. */
        s = d->specs[gen_r(&d->rng, (uint32_t) d->n)];
        if (gen_r(&d->rng, 2)) {
            s.priority = gen_priority(&d->rng, d->narrow);
        }
        s.cookie = d->next_cookie++;
        s.actions[0].arg = (uint32_t) s.cookie;
    } else {
        /* No catch-all rules in table 0, so that it also has misses. */
        do {
            gen_spec(&d->rng, &s, table, d->next_cookie, d->narrow);
        } while (!table && cls_match_is_catchall(&s.match));
        d->next_cookie++;
    }
    cls_match_normalize(&s.match);
    diff_add_spec(d, &s);
}

static void
diff_remove_random(struct diff *d)
{
    if (!d->n) {
        return;
    }
    size_t i = gen_r(&d->rng, (uint32_t) d->n);
    struct cls_rule_spec *s = &d->specs[i];
    VF_VERIFY(!cls_remove_strict(d->cls, s->table, &s->match, s->priority));
    VF_VERIFY(!cls_linear_remove(d->lin, s->table, &s->match, s->priority));
    *s = d->specs[--d->n];
}

/* Checks 'n_keys' keys (half drawn inside rules, a quarter from the
 * rules' universe, a quarter random) in random tables, single and
 * batched.  Returns the number of hits. */
static size_t
diff_check(struct diff *d, size_t n_keys)
{
    size_t hits = 0;
    struct flow_key keys[CLS_BATCH];
    const struct flow_key *kp[CLS_BATCH];
    const struct cls_rule *res[CLS_BATCH];
    for (size_t done = 0; done < n_keys; done += CLS_BATCH) {
        unsigned int table = gen_r(&d->rng, d->n_tables);
        size_t n = VF_MIN((size_t) CLS_BATCH, n_keys - done);
        for (size_t i = 0; i < n; i++) {
            uint32_t kind = gen_r(&d->rng, 4);
            if (d->n && kind < 2) {
                /* Inside a rule. */
                gen_key_in(&d->rng, &d->specs[gen_r(&d->rng,
                                                    (uint32_t) d->n)].match,
                           &keys[i]);
            } else if (kind == 2) {
                /* From the rules' universe: hits often. */
                gen_key(&d->rng, &keys[i], GEN_N_PROTOS);
            } else {
                /* Random bits: misses, unless a rule is very broad. */
                uint64_t *w = flow_key_words_rw(&keys[i]);
                for (int j = 0; j < FLOW_KEY_N_WORDS; j++) {
                    w[j] = vf_random_u64(&d->rng);
                }
            }
            kp[i] = &keys[i];
        }
        vf_rcu_read_lock();
        cls_lookup_batch(d->cls, table, kp, n, res);
        for (size_t i = 0; i < n; i++) {
            uint64_t want = 0;
            bool found = cls_linear_lookup(d->lin, table, &keys[i], &want);
            const struct cls_rule *single = cls_lookup(d->cls, table,
                                                       &keys[i]);
            uint64_t got = single ? single->cookie : 0;
            if (got != want || res[i] != single || found != !!single) {
                vf_rcu_read_unlock();
                TEST_FAIL__("table %u: cls says cookie %" PRIu64
                            " (batch %" PRIu64 "), linear says %" PRIu64,
                            table, got, res[i] ? res[i]->cookie : 0, want);
            }
            hits += found;
        }
        vf_rcu_read_unlock();
        d->n_checked += n;
    }
    return hits;
}

static void
run_differential(uint64_t seed, unsigned int n_tables, size_t n_rules,
                 size_t n_keys, bool narrow)
{
    struct diff d;
    diff_init(&d, seed, n_tables, narrow);
    for (size_t i = 0; i < n_rules; i++) {
        diff_add_random(&d);
    }
    size_t hits = diff_check(&d, n_keys);
    CHECK(hits > n_keys / 4);            /* Both hits and misses. */
    CHECK(hits < n_keys - n_keys / 20);
    size_t n_subtables = cls_n_subtables(d.cls, 0);
    CHECK(n_subtables > 20);
    /* Churn: inserts, replacements, deletes, interleaved with lookups. */
    for (int round = 0; round < 40; round++) {
        for (int j = 0; j < 20; j++) {
            if (gen_r(&d.rng, 2)) {
                diff_add_random(&d);
            } else {
                diff_remove_random(&d);
            }
        }
        diff_check(&d, n_keys / 40);
    }
    /* Drain most rules: subtables disappear, tables shrink. */
    while (d.n > 10) {
        diff_remove_random(&d);
        if (d.n % 50 == 0) {
            diff_check(&d, 256);
        }
    }
    diff_check(&d, 4096);
    CHECK_EQ_U(cls_count(d.cls, CLS_ALL_TABLES), d.n);
    CHECK_EQ_U(cls_linear_count(d.lin), d.n);
    printf("  seed %" PRIu64 ": %zu rules, %zu subtables in table 0, "
           "%" PRIu64 " keys agreed (%zu hits in the first pass)\n", seed,
           n_rules, n_subtables, d.n_checked, hits);
    diff_uninit(&d);
}

static void
test_differential_narrow_priorities(void)
{
    test_rcu_thread();
    for (uint64_t seed = 1; seed <= 2; seed++) {
        run_differential(seed, 1, 600, 600000 / KEY_SCALE, true);
    }
}

static void
test_differential_wide_priorities(void)
{
    test_rcu_thread();
    for (uint64_t seed = 11; seed <= 12; seed++) {
        run_differential(seed, 3, 900, 600000 / KEY_SCALE, false);
    }
}

static void
test_differential_lookup_variants(void)
{
    /* The same with every subtable on the generic (unspecialised) code,
     * the specialised lookups' twin (STYLE.md P10), and with the batch
     * pipeline for every subtable (the rule sets here are small enough
     * for the direct path otherwise). */
    test_rcu_thread();
    for (int v = 1; v < 4; v++) {
        generic_lookup = v & 1;
        pipeline_always = v & 2;
        run_differential(20 + v, 2, 700, 300000 / KEY_SCALE, false);
    }
    generic_lookup = pipeline_always = false;
}

static void
test_differential_large(void)
{
    /* Few keys, many rules: big subtables, htab growth and overflow. */
    test_rcu_thread();
    struct diff d;
    pipeline_always = true;
    diff_init(&d, 77, 1, false);
    pipeline_always = false;
    for (int i = 0; i < 20000; i++) {
        diff_add_random(&d);
    }
    diff_check(&d, 24000 / KEY_SCALE);
    for (int i = 0; i < 15000; i++) {
        diff_remove_random(&d);
    }
    diff_check(&d, 24000 / KEY_SCALE);
    diff_uninit(&d);
}

/* ---- Concurrent readers. ----
 *
 * A stable rule set S is installed first.  The reader checks a fixed set
 * of keys Q whose answers are S's: every churn rule the writer may add was
 * chosen so that, for each key of Q, it does not match, or it loses to the
 * key's answer (lower priority, or equal priority and newer), and it never
 * has the table, match and priority of a rule of S (which it would
 * replace).  So each key of Q has one right answer during the whole run,
 * while the writer adds, replaces, modifies and removes churn rules in the
 * same subtables and hash nodes. */

#define CONC_KEYS 1024

struct conc {
    struct cls *cls;
    struct flow_key keys[CONC_KEYS];
    uint64_t want[CONC_KEYS];        /* Cookie, 0: no match. */
    _Atomic bool stop;
    _Atomic uint64_t n_checked;
    _Atomic uint64_t n_wrong;
};

static void *
conc_reader(void *arg)
{
    struct conc *c = arg;
    const struct flow_key *kp[CLS_BATCH];
    const struct cls_rule *res[CLS_BATCH];
    uint64_t checked = 0, wrong = 0;
    test_rcu_thread();
    while (!atomic_load(&c->stop)) {
        for (size_t i = 0; i < CONC_KEYS; i += CLS_BATCH) {
            vf_rcu_read_lock();
            for (size_t j = 0; j < CLS_BATCH; j++) {
                kp[j] = &c->keys[i + j];
            }
            cls_lookup_batch(c->cls, 0, kp, CLS_BATCH, res);
            for (size_t j = 0; j < CLS_BATCH; j++) {
                const struct cls_rule *r = cls_lookup(c->cls, 0, kp[j]);
                uint64_t got = r ? r->cookie : 0;
                uint64_t gotb = res[j] ? res[j]->cookie : 0;
                wrong += (got != c->want[i + j]) + (gotb != c->want[i + j]);
                checked += 2;
            }
            vf_rcu_read_unlock();
        }
    }
    vf_rcu_unregister_thread();
    atomic_store(&c->n_checked, checked);
    atomic_store(&c->n_wrong, wrong);
    return NULL;
}

/* True if churn rule 's' cannot change any answer of 'c'. */
static bool
conc_harmless(const struct conc *c, const struct cls_rule_spec *s,
              const struct cls_rule_spec *stable, size_t n_stable)
{
    for (size_t i = 0; i < n_stable; i++) {
        if (stable[i].priority == s->priority
            && cls_match_equal(&stable[i].match, &s->match)) {
            return false;
        }
    }
    for (size_t k = 0; k < CONC_KEYS; k++) {
        if (!cls_match_matches(&s->match, &c->keys[k])) {
            continue;
        }
        if (!c->want[k]) {
            return false;
        }
        const struct cls_rule_spec *a = &stable[c->want[k] - 1];
        if (s->priority > a->priority) {
            return false;
        }
    }
    return true;
}

static void
test_concurrent_readers(void)
{
    test_rcu_thread();
    struct conc *c = vf_xcalloc(1, sizeof *c);
    struct vf_random rng;
    vf_random_init(&rng, 2024);
    pipeline_always = true;     /* Batches pipelined, singles scalar. */
    c->cls = new_cls(1);
    pipeline_always = false;
    struct cls_linear *lin = cls_linear_create();
    enum { N_STABLE = 400, N_POOL = 600 };
    struct cls_rule_spec *stable = vf_xcalloc(N_STABLE, sizeof *stable);
    for (size_t i = 0; i < N_STABLE; i++) {
        do {
            gen_spec(&rng, &stable[i], 0, i + 1, false);
        } while (cls_match_is_catchall(&stable[i].match));
        cls_match_normalize(&stable[i].match);
        VF_VERIFY(cls_add(c->cls, &stable[i], 0, NULL, NULL) >= 0);
        cls_linear_add(lin, 0, &stable[i].match, stable[i].priority, i + 1);
    }
    size_t n_misses = 0;
    for (size_t k = 0; k < CONC_KEYS; k++) {
        if (k % 3 == 0) {
            gen_key_in(&rng, &stable[gen_r(&rng, N_STABLE)].match,
                       &c->keys[k]);
        } else if (k % 3 == 1) {
            gen_key(&rng, &c->keys[k], GEN_N_PROTOS);
        } else {
            uint64_t *w = flow_key_words_rw(&c->keys[k]);
            for (int j = 0; j < FLOW_KEY_N_WORDS; j++) {
                w[j] = vf_random_u64(&rng);
            }
        }
        uint64_t want = 0;
        cls_linear_lookup(lin, 0, &c->keys[k], &want);
        c->want[k] = want;
        n_misses += !want;
    }
    CHECK(n_misses > CONC_KEYS / 10 && n_misses < CONC_KEYS / 2);
    cls_linear_destroy(lin);
    /* The churn pool: random rules and lower-priority twins of S. */
    struct cls_rule_spec *pool = vf_xcalloc(N_POOL, sizeof *pool);
    size_t n_pool = 0;
    for (int tries = 0; n_pool < N_POOL && tries < 200000; tries++) {
        struct cls_rule_spec *s = &pool[n_pool];
        if (tries % 3 == 0) {
            *s = stable[gen_r(&rng, N_STABLE)];
            s->priority = (uint16_t) gen_r(&rng, s->priority + 1u);
        } else {
            gen_spec(&rng, s, 0, 0, false);
            cls_match_normalize(&s->match);
        }
        s->cookie = 100000 + n_pool;
        s->actions[0].arg = (uint32_t) s->cookie;
        bool dup = false;
        for (size_t j = 0; j < n_pool && !dup; j++) {
            dup = pool[j].priority == s->priority
                  && cls_match_equal(&pool[j].match, &s->match);
        }
        if (!dup && conc_harmless(c, s, stable, N_STABLE)) {
            n_pool++;
        }
    }
    CHECK(n_pool > N_POOL / 2);
    bool *in = vf_xcalloc(n_pool, sizeof *in);

    pthread_t reader;
    pthread_create(&reader, NULL, conc_reader, c);
    struct action a;
    for (int op = 0; op < 150000; op++) {
        size_t i = gen_r(&rng, (uint32_t) n_pool);
        struct cls_rule_spec *s = &pool[i];
        switch (gen_r(&rng, 4)) {
        case 0:
        case 1:
            {
                char *err = NULL;
                int rc = cls_add(c->cls, s, 0, NULL, &err);
                if (rc != (in[i] ? 1 : 0)) {
                    fprintf(stderr, "rc=%d in=%d err=%s\n", rc, in[i], err);
                }
                VF_VERIFY(rc == (in[i] ? 1 : 0));
            }
            in[i] = true;
            break;
        case 2:
            VF_VERIFY(cls_remove_strict(c->cls, 0, &s->match, s->priority)
                      == (in[i] ? 0 : -ENOENT));
            in[i] = false;
            break;
        default:
            if (in[i]) {
                struct cls_filter f;
                cls_filter_init(&f);
                f.strict = true;
                f.match = s->match;
                f.priority = s->priority;
                action_init(&a, ACTION_OUTPUT, (uint32_t) op);
                VF_VERIFY(cls_modify_actions(c->cls, &f, &a, 1, NULL) == 1);
            }
            break;
        }
    }
    atomic_store(&c->stop, true);
    pthread_join(reader, NULL);
    printf("  concurrent: %" PRIu64 " lookups checked during churn\n",
           atomic_load(&c->n_checked));
    CHECK(atomic_load(&c->n_checked) > 0);
    CHECK_EQ_U(atomic_load(&c->n_wrong), 0);
    cls_destroy(c->cls);
    free(in);
    free(pool);
    free(stable);
    free(c);
    vf_rcu_barrier();
}

static const struct test_case cases[] = {
    TEST(test_basic_priority),
    TEST(test_replace_and_ties),
    TEST(test_validation),
    TEST(test_dump_remove_modify),
    TEST(test_expire),
    TEST(test_differential_narrow_priorities),
    TEST(test_differential_wide_priorities),
    TEST(test_differential_lookup_variants),
    TEST(test_differential_large),
    TEST(test_concurrent_readers),
};

TEST_MAIN(cases)
