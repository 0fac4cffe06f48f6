/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VFAB_CLS_CLS_MATCH_H
#define VFAB_CLS_CLS_MATCH_H 1

/* A match: which flow keys a classifier rule applies to.
 *
 * A match is a pair of flow keys, 'value' and 'mask'.  A key K matches when
 * (K & mask) == value, word by word.  A 1 bit in 'mask' means "this bit
 * must equal value's bit"; a 0 bit is a wildcard.  A normalized match has
 * value == value & mask; the classifier, the linear reference and the text
 * parser only ever produce and store normalized matches.
 *
 * Fields and their prerequisites (which bits may be set in a mask, and
 * under which dl_type/nw_proto) are described by cls/field.h; this header
 * only knows words. */

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "net/flow-key.h"

struct cls_match {
    struct flow_key value;
    struct flow_key mask;
};

/* Makes 'm' match every key. */
static inline void
cls_match_init_catchall(struct cls_match *m)
{
    memset(m, 0, sizeof *m);
}

/* Makes 'm' match exactly 'key' (every bit). */
static inline void
cls_match_init_exact(struct cls_match *m, const struct flow_key *key)
{
    m->value = *key;
    memset(&m->mask, 0xff, sizeof m->mask);
}

/* Clears the bits of 'm->value' that 'm->mask' does not cover. */
static inline void
cls_match_normalize(struct cls_match *m)
{
    uint64_t *v = flow_key_words_rw(&m->value);
    const uint64_t *k = flow_key_words(&m->mask);
    for (int i = 0; i < FLOW_KEY_N_WORDS; i++) {
        v[i] &= k[i];
    }
}

/* True if 'key' matches 'm' (which must be normalized). */
static inline bool
cls_match_matches(const struct cls_match *m, const struct flow_key *key)
{
    const uint64_t *v = flow_key_words(&m->value);
    const uint64_t *k = flow_key_words(&m->mask);
    const uint64_t *w = flow_key_words(key);
    uint64_t diff = 0;
    for (int i = 0; i < FLOW_KEY_N_WORDS; i++) {
        diff |= (w[i] & k[i]) ^ v[i];
    }
    return !diff;
}

/* True if 'a' and 'b' have the same mask and value. */
static inline bool
cls_match_equal(const struct cls_match *a, const struct cls_match *b)
{
    return flow_key_equal(&a->mask, &b->mask)
           && flow_key_equal(&a->value, &b->value);
}

/* True if 'm' has no wildcarded bit at all. */
static inline bool
cls_match_is_catchall(const struct cls_match *m)
{
    const uint64_t *k = flow_key_words(&m->mask);
    uint64_t any = 0;
    for (int i = 0; i < FLOW_KEY_N_WORDS; i++) {
        any |= k[i];
    }
    return !any;
}

/* True if every key matched by 'rule' is also matched by 'filter' (the
 * "loose" match of OpenFlow flow deletion): 'rule' constrains at least the
 * bits 'filter' constrains, to the same values.  Both normalized. */
static inline bool
cls_match_is_within(const struct cls_match *rule,
                    const struct cls_match *filter)
{
    const uint64_t *rv = flow_key_words(&rule->value);
    const uint64_t *rm = flow_key_words(&rule->mask);
    const uint64_t *fv = flow_key_words(&filter->value);
    const uint64_t *fm = flow_key_words(&filter->mask);
    for (int i = 0; i < FLOW_KEY_N_WORDS; i++) {
        if ((fm[i] & ~rm[i]) || (rv[i] & fm[i]) != fv[i]) {
            return false;
        }
    }
    return true;
}

#endif /* cls/cls-match.h */
