/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VFAB_CLS_CLS_LINEAR_H
#define VFAB_CLS_CLS_LINEAR_H 1

/* The trivial linear classifier: the reference that cls.c's tuple-space
 * search is tested against (STYLE.md P10).
 *
 * It keeps every rule in one array and answers a lookup by scanning all of
 * them: the best match is the highest priority, ties going to the rule
 * added first, and a rule that replaces another (same table, match and
 * priority) keeps its predecessor's place: exactly cls.h's contract, in
 * the simplest code that states it.  O(rules) per lookup; never for the
 * datapath.  Single-threaded. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cls/cls-match.h"

struct cls_linear;

struct cls_linear *cls_linear_create(void);
void cls_linear_destroy(struct cls_linear *lin);

/* Adds a rule with 'data' (normalizes 'match'), or replaces the 'data' of
 * the rule with the same table, match and priority.  Returns 0 if added, 1
 * if replaced. */
int cls_linear_add(struct cls_linear *lin, unsigned int table,
                   const struct cls_match *match, uint16_t priority,
                   uint64_t data);

/* Removes the rule with exactly this table, match and priority.  Returns 0
 * or -ENOENT. */
int cls_linear_remove(struct cls_linear *lin, unsigned int table,
                      const struct cls_match *match, uint16_t priority);

/* Looks 'key' up in 'table'.  Returns true and the winner's data in
 * '*data', or false if no rule matches. */
bool cls_linear_lookup(const struct cls_linear *lin, unsigned int table,
                       const struct flow_key *key, uint64_t *data);

size_t cls_linear_count(const struct cls_linear *lin);

#endif /* cls/cls-linear.h */
