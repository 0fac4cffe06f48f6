/* SPDX-License-Identifier: Apache-2.0 */
/* Actions: representation, validation and the text of one action.
 *
 * The text of an action list is Open vSwitch's (ovs-actions(7)) for the
 * actions vfab has: "output:PORT", "flood", "drop", "normal",
 * "controller[:MAX_LEN]", "mod_vlan_vid:VID", "strip_vlan",
 * "push_vlan:TPID", "set_field:VALUE->FIELD", "goto_table:N", "meter:N",
 * "mirror:NAME", plus the OVS shorthands mod_dl_src/mod_dl_dst/mod_nw_src/
 * mod_nw_dst/mod_nw_tos/mod_tp_src/mod_tp_dst, which parse to set_field.
 * cls-text.c splits a list into keyword/argument pairs and tracks columns;
 * this file turns one pair into a struct action through the PARSERS table
 * of hooks.  "encap" and "decap" have hooks already, which reject them
 * until the overlay gives them arguments (fill in parse_encap() and
 * format_one()'s ACTION_ENCAP case then). */
#include "cls/action.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"

void
action_init(struct action *a, enum action_type type, uint32_t arg)
{
    memset(a, 0, sizeof *a);
    a->type = (uint8_t) type;
    a->arg = arg;
}

void
action_init_set_field(struct action *a, enum field_id field,
                      const union field_value *value)
{
    action_init(a, ACTION_SET_FIELD, 0);
    a->field = (uint8_t) field;
    a->u.value = *value;
}

static bool
mirror_name_ok(const char *name)
{
    size_t len = strlen(name);
    if (!len || len >= ACTION_NAME_LEN) {
        return false;
    }
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char) name[i];
        if (!isalnum(c) && c != '_' && c != '-' && c != '.') {
            return false;
        }
    }
    return true;
}

int
action_init_mirror(struct action *a, const char *name)
{
    if (!mirror_name_ok(name)) {
        return -EINVAL;
    }
    action_init(a, ACTION_MIRROR, 0);
    memcpy(a->u.name, name, strlen(name));
    return 0;
}

static const char *const TYPE_NAMES[ACTION_N_TYPES] = {
    [ACTION_OUTPUT] = "output",
    [ACTION_FLOOD] = "flood",
    [ACTION_DROP] = "drop",
    [ACTION_NORMAL] = "normal",
    [ACTION_CONTROLLER] = "controller",
    [ACTION_MOD_VLAN_VID] = "mod_vlan_vid",
    [ACTION_STRIP_VLAN] = "strip_vlan",
    [ACTION_PUSH_VLAN] = "push_vlan",
    [ACTION_SET_FIELD] = "set_field",
    [ACTION_GOTO_TABLE] = "goto_table",
    [ACTION_METER] = "meter",
    [ACTION_MIRROR] = "mirror",
    [ACTION_ENCAP] = "encap",
    [ACTION_DECAP] = "decap",
};

const char *
action_type_name(enum action_type type)
{
    return (unsigned) type < ACTION_N_TYPES ? TYPE_NAMES[type] : "?";
}

bool
action_list_equal(const struct action *a, size_t n_a, const struct action *b,
                  size_t n_b)
{
    return n_a == n_b && (!n_a || !memcmp(a, b, n_a * sizeof *a));
}

/* ---- Validation. ---- */

static int
fail(char **errp, const char *fmt, ...) VF_PRINTF(2, 3);

static int
fail(char **errp, const char *fmt, ...)
{
    if (errp) {
        struct vf_buf b = VF_BUF_INITIALIZER;
        va_list args;
        va_start(args, fmt);
        vf_buf_vprintf(&b, fmt, args);
        va_end(args);
        *errp = vf_buf_steal(&b);
    }
    return -EINVAL;
}

static int
validate_set_field(const struct action *a, const struct cls_match *match,
                   char **errp)
{
    const struct field *f = field_from_id((enum field_id) a->field);
    if (!f) {
        return fail(errp, "set_field: unknown field id %u", a->field);
    }
    if (!(f->flags & FIELD_F_WRITABLE)) {
        return fail(errp, "set_field: %s is not writable", f->name);
    }
    if (!field_prereq_ok(f->prereq, match)) {
        return fail(errp, "set_field: %s requires the rule to match %s",
                    f->name, field_prereq_describe(f->prereq));
    }
    if (f->kind < FIELD_KIND_MAC && a->u.value.integer > field_max(f)) {
        return fail(errp, "set_field: value 0x%" PRIx64 " does not fit %s",
                    a->u.value.integer, f->name);
    }
    return 0;
}

static int
validate_one(const struct action *a, size_t i, size_t n,
             const struct cls_match *match, unsigned int table,
             unsigned int n_tables, char **errp)
{
    switch ((enum action_type) a->type) {
    case ACTION_DROP:
        return n == 1 ? 0 : fail(errp, "drop must be the only action");
    case ACTION_METER:
        return i == 0 ? 0 : fail(errp, "meter must be the first action");
    case ACTION_GOTO_TABLE:
        if (i != n - 1) {
            return fail(errp, "goto_table must be the last action");
        }
        if (a->arg <= table || a->arg >= n_tables) {
            return fail(errp, "goto_table:%" PRIu32 " must name a later "
                        "table (%u..%u) than the rule's table %u",
                        a->arg, table + 1, n_tables - 1, table);
        }
        return 0;
    case ACTION_MOD_VLAN_VID:
        return a->arg <= VLAN_VID_MASK
                   ? 0
                   : fail(errp, "mod_vlan_vid:%" PRIu32 " is not a VLAN id "
                          "(0..4095)", a->arg);
    case ACTION_PUSH_VLAN:
        return a->arg == ETH_TYPE_VLAN || a->arg == ETH_TYPE_QINQ
                   ? 0
                   : fail(errp, "push_vlan:0x%" PRIx32 " is not 0x8100 or "
                          "0x88a8", a->arg);
    case ACTION_CONTROLLER:
        return a->arg <= UINT16_MAX
                   ? 0
                   : fail(errp, "controller:%" PRIu32 " is too long",
                          a->arg);
    case ACTION_SET_FIELD:
        return validate_set_field(a, match, errp);
    case ACTION_MIRROR: {
        char name[ACTION_NAME_LEN];
        memcpy(name, a->u.name, sizeof name);
        name[sizeof name - 1] = '\0';
        return mirror_name_ok(name)
                   ? 0
                   : fail(errp, "mirror: invalid name");
    }
    case ACTION_ENCAP:
    case ACTION_DECAP:
        return fail(errp, "%s is reserved for the overlay and not supported "
                    "yet", TYPE_NAMES[a->type]);
    case ACTION_OUTPUT:
    case ACTION_FLOOD:
    case ACTION_NORMAL:
    case ACTION_STRIP_VLAN:
        return 0;
    case ACTION_N_TYPES:
        break;
    }
    return fail(errp, "unknown action type %u", a->type);
}

int
action_list_validate(const struct action *actions, size_t n,
                     const struct cls_match *match, unsigned int table,
                     unsigned int n_tables, size_t *bad, char **errp)
{
    if (n > ACTION_LIST_MAX) {
        if (bad) {
            *bad = n;
        }
        return fail(errp, "too many actions (%zu, at most %d)", n,
                    ACTION_LIST_MAX);
    }
    for (size_t i = 0; i < n; i++) {
        int rc = validate_one(&actions[i], i, n, match, table, n_tables,
                              errp);
        if (rc) {
            if (bad) {
                *bad = i;
            }
            return rc;
        }
    }
    return 0;
}

/* ---- Text. ---- */

static bool
parse_u32(const char *s, uint32_t *v)
{
    if (!s || !isdigit((unsigned char) *s)) {
        return false;
    }
    errno = 0;
    char *end;
    unsigned long long x = strtoull(s, &end, 0);
    if (errno || *end || x > UINT32_MAX) {
        return false;
    }
    *v = (uint32_t) x;
    return true;
}

typedef int action_parse_fn(enum action_type type, const char *kw,
                            const char *arg,
                            const struct field_port_names *names,
                            struct action *a, char **errp);

static int
parse_bare(enum action_type type, const char *kw, const char *arg,
           const struct field_port_names *names, struct action *a,
           char **errp)
{
    (void) names;
    if (arg) {
        return fail(errp, "%s takes no argument", kw);
    }
    action_init(a, type, 0);
    return 0;
}

static int
parse_number(enum action_type type, const char *kw, const char *arg,
             const struct field_port_names *names, struct action *a,
             char **errp)
{
    (void) names;
    uint32_t v;
    if (!arg) {
        return fail(errp, "%s needs an argument (%s:N)", kw, kw);
    }
    if (!parse_u32(arg, &v)) {
        return fail(errp, "%s: '%s' is not a number", kw, arg);
    }
    action_init(a, type, v);
    return 0;
}

static int
parse_controller(enum action_type type, const char *kw, const char *arg,
                 const struct field_port_names *names, struct action *a,
                 char **errp)
{
    return arg ? parse_number(type, kw, arg, names, a, errp)
               : parse_bare(type, kw, arg, names, a, errp);
}

static int
parse_output(enum action_type type, const char *kw, const char *arg,
             const struct field_port_names *names, struct action *a,
             char **errp)
{
    union field_value v;
    if (!arg) {
        return fail(errp, "output needs a port (output:PORT)");
    }
    int rc = field_parse_value(field_from_id(FIELD_IN_PORT), arg, names, &v,
                               errp);
    if (!rc) {
        action_init(a, type, (uint32_t) v.integer);
    }
    (void) kw;
    return rc;
}

static int
parse_mirror(enum action_type type, const char *kw, const char *arg,
             const struct field_port_names *names, struct action *a,
             char **errp)
{
    (void) type, (void) kw, (void) names;
    if (!arg || action_init_mirror(a, arg)) {
        return fail(errp, "mirror needs a name of 1 to %d letters, digits, "
                    "'_', '-' or '.' (mirror:NAME)", ACTION_NAME_LEN - 1);
    }
    return 0;
}

static int
set_field_from(enum field_id id, const char *value,
               const struct field_port_names *names, struct action *a,
               char **errp)
{
    const struct field *f = field_from_id(id);
    union field_value v;
    char *err = NULL;
    if (!(f->flags & FIELD_F_WRITABLE)) {
        return fail(errp, "set_field: %s is not writable", f->name);
    }
    if (field_parse_value(f, value, names, &v, &err)) {
        int rc = fail(errp, "set_field: %s: %s", f->name, err);
        free(err);
        return rc;
    }
    action_init_set_field(a, id, &v);
    return 0;
}

static int
parse_set_field(enum action_type type, const char *kw, const char *arg,
                const struct field_port_names *names, struct action *a,
                char **errp)
{
    (void) type, (void) kw;
    const char *arrow = arg ? strstr(arg, "->") : NULL;
    if (!arrow || arrow == arg || !arrow[2]) {
        return fail(errp, "set_field needs VALUE->FIELD");
    }
    const char *name = arrow + 2;
    const struct field *f = field_from_name(name, strlen(name));
    if (!f) {
        return fail(errp, "set_field: unknown field '%s'", name);
    }
    char *value = vf_xstrdup(arg);
    value[arrow - arg] = '\0';
    int rc = strchr(value, '/')
                 ? fail(errp, "set_field: masked values are not supported")
                 : set_field_from(f->id, value, names, a, errp);
    free(value);
    return rc;
}

static const struct {
    const char *kw;
    enum field_id field;
} MOD_SHORTHANDS[] = {
    {"mod_dl_src", FIELD_DL_SRC}, {"mod_dl_dst", FIELD_DL_DST},
    {"mod_nw_src", FIELD_NW_SRC}, {"mod_nw_dst", FIELD_NW_DST},
    {"mod_nw_tos", FIELD_NW_TOS}, {"mod_tp_src", FIELD_TP_SRC},
    {"mod_tp_dst", FIELD_TP_DST},
};

static int
parse_mod(enum action_type type, const char *kw, const char *arg,
          const struct field_port_names *names, struct action *a,
          char **errp)
{
    (void) type;
    for (size_t i = 0; i < VF_ARRAY_SIZE(MOD_SHORTHANDS); i++) {
        if (!strcmp(kw, MOD_SHORTHANDS[i].kw)) {
            if (!arg) {
                return fail(errp, "%s needs a value (%s:VALUE)", kw, kw);
            }
            return set_field_from(MOD_SHORTHANDS[i].field, arg, names, a,
                                  errp);
        }
    }
    return fail(errp, "unknown action '%s'", kw);
}

/* The overlay's hooks: reserved until it defines encap/decap arguments. */
static int
parse_encap(enum action_type type, const char *kw, const char *arg,
            const struct field_port_names *names, struct action *a,
            char **errp)
{
    (void) arg, (void) names, (void) a;
    return fail(errp, "%s is reserved for the overlay and not supported yet",
                TYPE_NAMES[type] ? TYPE_NAMES[type] : kw);
}

static const struct {
    const char *kw;
    enum action_type type;
    action_parse_fn *parse;
} PARSERS[] = {
    {"output", ACTION_OUTPUT, parse_output},
    {"flood", ACTION_FLOOD, parse_bare},
    {"drop", ACTION_DROP, parse_bare},
    {"normal", ACTION_NORMAL, parse_bare},
    {"controller", ACTION_CONTROLLER, parse_controller},
    {"mod_vlan_vid", ACTION_MOD_VLAN_VID, parse_number},
    {"strip_vlan", ACTION_STRIP_VLAN, parse_bare},
    {"pop_vlan", ACTION_STRIP_VLAN, parse_bare},
    {"push_vlan", ACTION_PUSH_VLAN, parse_number},
    {"set_field", ACTION_SET_FIELD, parse_set_field},
    {"goto_table", ACTION_GOTO_TABLE, parse_number},
    {"meter", ACTION_METER, parse_number},
    {"mirror", ACTION_MIRROR, parse_mirror},
    {"encap", ACTION_ENCAP, parse_encap},
    {"decap", ACTION_DECAP, parse_encap},
    {"mod_dl_src", ACTION_SET_FIELD, parse_mod},
    {"mod_dl_dst", ACTION_SET_FIELD, parse_mod},
    {"mod_nw_src", ACTION_SET_FIELD, parse_mod},
    {"mod_nw_dst", ACTION_SET_FIELD, parse_mod},
    {"mod_nw_tos", ACTION_SET_FIELD, parse_mod},
    {"mod_tp_src", ACTION_SET_FIELD, parse_mod},
    {"mod_tp_dst", ACTION_SET_FIELD, parse_mod},
};

int
action_parse(const char *keyword, const char *arg,
             const struct field_port_names *names, struct action *a,
             char **errp)
{
    for (size_t i = 0; i < VF_ARRAY_SIZE(PARSERS); i++) {
        if (!strcmp(keyword, PARSERS[i].kw)) {
            return PARSERS[i].parse(PARSERS[i].type, keyword, arg, names, a,
                                    errp);
        }
    }
    return fail(errp, "unknown action '%s'", keyword);
}

void
action_format(const struct action *a, const struct field_port_names *names,
              struct vf_buf *out)
{
    const char *kw = action_type_name((enum action_type) a->type);
    switch ((enum action_type) a->type) {
    case ACTION_OUTPUT: {
        union field_value v = {.integer = a->arg};
        vf_buf_puts(out, "output:");
        field_format_value(field_from_id(FIELD_IN_PORT), &v, names, out);
        return;
    }
    case ACTION_CONTROLLER:
        vf_buf_puts(out, kw);
        if (a->arg) {
            vf_buf_printf(out, ":%" PRIu32, a->arg);
        }
        return;
    case ACTION_MOD_VLAN_VID:
    case ACTION_GOTO_TABLE:
    case ACTION_METER:
        vf_buf_printf(out, "%s:%" PRIu32, kw, a->arg);
        return;
    case ACTION_PUSH_VLAN:
        vf_buf_printf(out, "%s:0x%04" PRIx32, kw, a->arg);
        return;
    case ACTION_SET_FIELD: {
        const struct field *f = field_from_id((enum field_id) a->field);
        if (!f) {
            vf_buf_printf(out, "set_field:?->%u", a->field);
            return;
        }
        vf_buf_puts(out, "set_field:");
        field_format_value(f, &a->u.value, names, out);
        vf_buf_printf(out, "->%s", f->name);
        return;
    }
    case ACTION_MIRROR:
        vf_buf_printf(out, "mirror:%.*s", ACTION_NAME_LEN - 1, a->u.name);
        return;
    case ACTION_FLOOD:
    case ACTION_DROP:
    case ACTION_NORMAL:
    case ACTION_STRIP_VLAN:
    case ACTION_ENCAP:
    case ACTION_DECAP:
    case ACTION_N_TYPES:
        break;
    }
    vf_buf_puts(out, kw);
}
