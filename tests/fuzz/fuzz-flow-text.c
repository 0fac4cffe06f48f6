/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: the rule text parser (cls-text.c) and what depends on it.
 * Invariants beyond "no crash, no leak, no out-of-bounds access":
 *   - a rule that parses formats to text that parses back to the same rule
 *     and the same text;
 *   - cls_add() accepts every rule the parser accepts (the parser checks
 *     what cls_add() checks), and the added rule reads back the same;
 *   - every refusal has a message of the form "column N: ...";
 *   - match and filter parsing never crash on the same bytes. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cls/cls-text.h"
#include "util/buf.h"
#include "util/rcu.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
name_to_number(void *aux, const char *name, uint32_t *number)
{
    (void) aux;
    if (!strcmp(name, "tap1") || !strcmp(name, "tap2")) {
        *number = name[3] == '1' ? 1 : 2;
        return 0;
    }
    return -1;
}

static bool
number_to_name(void *aux, uint32_t number, char *buf, size_t size)
{
    (void) aux;
    if (number == 1 || number == 2) {
        snprintf(buf, size, "tap%u", number);
        return true;
    }
    return false;
}

static const struct field_port_names NAMES = {name_to_number,
                                              number_to_name, NULL};

static void
check_error(int rc, char *err)
{
    if (rc && (!err || strncmp(err, "column ", 7))) {
        abort();
    }
    free(err);
}

static bool
same(const struct cls_rule_spec *a, const struct cls_rule_spec *b)
{
    return a->table == b->table && a->priority == b->priority
           && a->cookie == b->cookie && a->idle_timeout == b->idle_timeout
           && a->hard_timeout == b->hard_timeout
           && cls_match_equal(&a->match, &b->match)
           && action_list_equal(a->actions, a->n_actions, b->actions,
                                b->n_actions);
}

static void
check_rule(const struct cls_rule_spec *spec)
{
    static bool registered;
    if (!registered) {
        vf_rcu_register_thread();
        registered = true;
    }
    struct cls_rule_spec *back = malloc(sizeof *back);
    struct vf_buf b = VF_BUF_INITIALIZER, b2 = VF_BUF_INITIALIZER;
    cls_text_format_spec(spec, &NAMES, &b);
    if (cls_text_parse_rule(vf_buf_cstr(&b), &NAMES, back, NULL)
        || !same(spec, back)) {
        abort();
    }
    cls_text_format_spec(back, &NAMES, &b2);
    if (strcmp(vf_buf_cstr(&b), vf_buf_cstr(&b2))) {
        abort();
    }

    struct cls_config cfg = {.n_tables = CLS_MAX_N_TABLES};
    struct cls *cls = cls_create(&cfg);
    const struct cls_rule *rule;
    if (cls_add(cls, spec, 0, &rule, NULL)) {
        abort();
    }
    cls_rule_get_spec(rule, back);
    if (!same(spec, back)) {
        abort();
    }
    cls_destroy(cls);
    vf_rcu_barrier();            /* Frees what cls_add() deferred. */
    vf_buf_uninit(&b);
    vf_buf_uninit(&b2);
    free(back);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 4096) {
        return 0;
    }
    char *text = malloc(size + 1);
    memcpy(text, data, size);
    text[size] = '\0';

    struct cls_rule_spec *spec = malloc(sizeof *spec);
    char *err = NULL;
    int rc = cls_text_parse_rule(text, &NAMES, spec, &err);
    check_error(rc, err);
    if (!rc) {
        check_rule(spec);
    }
    free(spec);

    struct cls_match m;
    err = NULL;
    rc = cls_text_parse_match(text, &NAMES, &m, &err);
    check_error(rc, err);
    struct cls_filter f;
    err = NULL;
    rc = cls_text_parse_filter(text, &NAMES, size & 1, &f, &err);
    check_error(rc, err);
    free(text);
    return 0;
}
