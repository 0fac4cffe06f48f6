/* SPDX-License-Identifier: Apache-2.0 */
/* The linear reference classifier (see cls-linear.h).  An array of rules,
 * each with the sequence number of its first add; removal swaps the last
 * rule in, so order in the array means nothing and the sequence number
 * carries the tie rule. */
#include "cls/cls-linear.h"

#include <errno.h>
#include <stdlib.h>

#include "util/buf.h"

struct lin_rule {
    struct cls_match match;
    unsigned int table;
    uint16_t priority;
    uint64_t seq;
    uint64_t data;
};

struct cls_linear {
    struct lin_rule *rules;
    size_t n, cap;
    uint64_t next_seq;
};

struct cls_linear *
cls_linear_create(void)
{
    return vf_xcalloc(1, sizeof(struct cls_linear));
}

void
cls_linear_destroy(struct cls_linear *lin)
{
    if (lin) {
        free(lin->rules);
        free(lin);
    }
}

static struct lin_rule *
find(const struct cls_linear *lin, unsigned int table,
     const struct cls_match *m, uint16_t priority)
{
    for (size_t i = 0; i < lin->n; i++) {
        struct lin_rule *r = &lin->rules[i];
        if (r->table == table && r->priority == priority
            && cls_match_equal(&r->match, m)) {
            return r;
        }
    }
    return NULL;
}

int
cls_linear_add(struct cls_linear *lin, unsigned int table,
               const struct cls_match *match, uint16_t priority,
               uint64_t data)
{
    struct cls_match m = *match;
    cls_match_normalize(&m);
    struct lin_rule *r = find(lin, table, &m, priority);
    if (r) {
        r->data = data;
        return 1;
    }
    if (lin->n == lin->cap) {
        lin->cap = lin->cap ? lin->cap * 2 : 64;
        lin->rules = vf_xrealloc(lin->rules, lin->cap * sizeof *lin->rules);
    }
    lin->rules[lin->n++] = (struct lin_rule) {m, table, priority,
                                              lin->next_seq++, data};
    return 0;
}

int
cls_linear_remove(struct cls_linear *lin, unsigned int table,
                  const struct cls_match *match, uint16_t priority)
{
    struct cls_match m = *match;
    cls_match_normalize(&m);
    struct lin_rule *r = find(lin, table, &m, priority);
    if (!r) {
        return -ENOENT;
    }
    *r = lin->rules[--lin->n];
    return 0;
}

bool
cls_linear_lookup(const struct cls_linear *lin, unsigned int table,
                  const struct flow_key *key, uint64_t *data)
{
    const struct lin_rule *best = NULL;
    for (size_t i = 0; i < lin->n; i++) {
        const struct lin_rule *r = &lin->rules[i];
        if (r->table != table || !cls_match_matches(&r->match, key)) {
            continue;
        }
        if (!best || r->priority > best->priority
            || (r->priority == best->priority && r->seq < best->seq)) {
            best = r;
        }
    }
    if (best) {
        *data = best->data;
    }
    return best != NULL;
}

size_t
cls_linear_count(const struct cls_linear *lin)
{
    return lin->n;
}
