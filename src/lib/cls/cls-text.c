/* SPDX-License-Identifier: Apache-2.0 */
/* Rules as text: theory of operation (the syntax is in cls-text.h).
 *
 * Parsing is one pass over items.  Each match item (a field or a
 * shorthand) is parsed by field.c into a "delta" match holding just its
 * bits, and merged into the rule's match; a delta that contradicts bits
 * already set is an error, one that repeats them is not (so "ip,tcp" is
 * fine, "ip,ipv6" is not).  Prerequisites are checked after the last item,
 * because OVS accepts them in any order ("nw_src=10.0.0.1,ip"); each
 * field remembers the column of its first item so the error points there.
 * "actions=" takes the rest of the text; its list is split at commas
 * outside parentheses (room for the overlay's encap(...)), each action is
 * parsed by action.c's hooks and the list is validated as cls_add() would.
 *
 * Formatting walks FORMAT_ORDER, the fields in print order, and gives each
 * field the bits of the match it can express that no earlier field took:
 * the same per-field rule as field_validate_match(), so every valid match
 * prints, and prints back to itself.  A protocol shorthand replaces
 * dl_type (and nw_proto) when they are exact. */
#include "cls/cls-text.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"
#include "util/vtime.h"

/* ---- Shorthands. ---- */

static const struct {
    const char *name;
    uint16_t dl_type;
    int nw_proto;                /* -1: none. */
} SHORTHANDS[] = {
    {"ip", ETH_TYPE_IPV4, -1},
    {"ipv6", ETH_TYPE_IPV6, -1},
    {"arp", ETH_TYPE_ARP, -1},
    {"tcp", ETH_TYPE_IPV4, IP_PROTO_TCP},
    {"udp", ETH_TYPE_IPV4, IP_PROTO_UDP},
    {"sctp", ETH_TYPE_IPV4, IP_PROTO_SCTP},
    {"icmp", ETH_TYPE_IPV4, IP_PROTO_ICMP},
    {"tcp6", ETH_TYPE_IPV6, IP_PROTO_TCP},
    {"udp6", ETH_TYPE_IPV6, IP_PROTO_UDP},
    {"sctp6", ETH_TYPE_IPV6, IP_PROTO_SCTP},
    {"icmp6", ETH_TYPE_IPV6, IP_PROTO_ICMPV6},
};

/* ---- Parsing. ---- */

struct parser {
    const char *text;
    const struct field_port_names *names;
    char **errp;
    struct cls_match match;
    size_t field_col[FIELD_N_IDS];   /* 1-based column of first use. */
    size_t field_len[FIELD_N_IDS];
};

static int
perr(const struct parser *p, size_t start, size_t len, const char *fmt, ...)
    VF_PRINTF(4, 5);

/* Reports an error at the token of 'len' bytes at offset 'start'. */
static int
perr(const struct parser *p, size_t start, size_t len, const char *fmt, ...)
{
    if (p->errp) {
        struct vf_buf b = VF_BUF_INITIALIZER;
        int shown = (int) VF_MIN(len, (size_t) 64);
        vf_buf_printf(&b, "column %zu: ", start + 1);
        if (len) {
            vf_buf_printf(&b, "'%.*s%s': ", shown, p->text + start,
                          len > 64 ? "..." : "");
        }
        va_list args;
        va_start(args, fmt);
        vf_buf_vprintf(&b, fmt, args);
        va_end(args);
        *p->errp = vf_buf_steal(&b);
    }
    return -EINVAL;
}

static bool
is_sep(char c)
{
    return c == ',' || isspace((unsigned char) c);
}

/* Finds the next item at or after '*pos': returns false at the end. */
static bool
next_item(const struct parser *p, size_t *pos, size_t *start, size_t *len)
{
    const char *t = p->text;
    size_t i = *pos;
    while (t[i] && is_sep(t[i])) {
        i++;
    }
    if (!t[i]) {
        return false;
    }
    *start = i;
    if (!strncmp(t + i, "actions=", 8)) {
        i += strlen(t + i);
    } else {
        while (t[i] && !is_sep(t[i])) {
            i++;
        }
    }
    *len = i - *start;
    *pos = i;
    return true;
}

static char *
xstrndup(const char *s, size_t n)
{
    char *d = vf_xmalloc(n + 1);
    memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

static bool
parse_uint(const char *s, uint64_t max, uint64_t *v)
{
    if (!isdigit((unsigned char) *s)) {
        return false;
    }
    errno = 0;
    char *end;
    unsigned long long x = strtoull(s, &end, 0);
    if (errno || *end || x > max) {
        return false;
    }
    *v = x;
    return true;
}

/* Merges 'delta' into the parser's match; false on a contradiction. */
static bool
merge(struct cls_match *acc, const struct cls_match *delta)
{
    uint64_t *av = flow_key_words_rw(&acc->value);
    uint64_t *am = flow_key_words_rw(&acc->mask);
    const uint64_t *dv = flow_key_words(&delta->value);
    const uint64_t *dm = flow_key_words(&delta->mask);
    for (int i = 0; i < FLOW_KEY_N_WORDS; i++) {
        if ((av[i] ^ dv[i]) & am[i] & dm[i]) {
            return false;
        }
    }
    for (int i = 0; i < FLOW_KEY_N_WORDS; i++) {
        am[i] |= dm[i];
        av[i] |= dv[i];
    }
    return true;
}

static void
note_field(struct parser *p, enum field_id id, size_t start, size_t len)
{
    if (!p->field_col[id]) {
        p->field_col[id] = start + 1;
        p->field_len[id] = len;
    }
}

static int
merge_delta(struct parser *p, const struct cls_match *delta, size_t start,
            size_t len)
{
    return merge(&p->match, delta)
               ? 0
               : perr(p, start, len, "contradicts an earlier item");
}

/* Parses a match item: a shorthand or FIELD=VALUE.  'eq' is the offset of
 * '=' in the item, or 'len' if none. */
static int
parse_match_item(struct parser *p, size_t start, size_t len, size_t eq)
{
    const char *item = p->text + start;
    struct cls_match delta;
    memset(&delta, 0, sizeof delta);
    if (eq == len) {
        for (size_t i = 0; i < VF_ARRAY_SIZE(SHORTHANDS); i++) {
            if (strlen(SHORTHANDS[i].name) == len
                && !memcmp(SHORTHANDS[i].name, item, len)) {
                delta.mask.dl_type = 0xffff;
                delta.value.dl_type = vf_htons(SHORTHANDS[i].dl_type);
                if (SHORTHANDS[i].nw_proto >= 0) {
                    delta.mask.nw_proto = 0xff;
                    delta.value.nw_proto = (uint8_t) SHORTHANDS[i].nw_proto;
                    note_field(p, FIELD_NW_PROTO, start, len);
                }
                return merge_delta(p, &delta, start, len);
            }
        }
    }
    const struct field *f = field_from_name(item, eq);
    if (!f) {
        return perr(p, start, len, "unknown field or keyword '%.*s'",
                    (int) VF_MIN(eq, (size_t) 64), item);
    }
    if (eq == len) {
        return perr(p, start, len, "%s needs a value (%s=VALUE)", f->name,
                    f->name);
    }
    char *value = xstrndup(item + eq + 1, len - eq - 1);
    char *err = NULL;
    int rc = field_parse_match(f, value, p->names, &delta, &err);
    free(value);
    if (rc) {
        rc = perr(p, start, len, "%s", err);
        free(err);
        return rc;
    }
    note_field(p, f->id, start, len);
    return merge_delta(p, &delta, start, len);
}

/* Items that are not match fields, with their limits. */
enum meta_item {
    META_TABLE,
    META_PRIORITY,
    META_COOKIE,
    META_IDLE,
    META_HARD,
    N_META
};

static const struct {
    const char *name;
    uint64_t max;
} METAS[N_META] = {
    [META_TABLE] = {"table", CLS_MAX_N_TABLES - 1},
    [META_PRIORITY] = {"priority", UINT16_MAX},
    [META_COOKIE] = {"cookie", UINT64_MAX},
    [META_IDLE] = {"idle_timeout", UINT16_MAX},
    [META_HARD] = {"hard_timeout", UINT16_MAX},
};

static int
meta_of(const char *item, size_t eq)
{
    for (int i = 0; i < N_META; i++) {
        if (strlen(METAS[i].name) == eq && !memcmp(METAS[i].name, item, eq)) {
            return i;
        }
    }
    return -1;
}

/* Parses "NAME=VALUE" of meta item 'm' into '*v' (and "/MASK" into
 * '*mask' for cookies, when 'mask' is nonnull). */
static int
parse_meta(const struct parser *p, int m, size_t start, size_t len,
           size_t eq, uint64_t *v, uint64_t *mask)
{
    if (eq == len) {
        return perr(p, start, len, "%s needs a value", METAS[m].name);
    }
    char *value = xstrndup(p->text + start + eq + 1, len - eq - 1);
    char *slash = mask ? strchr(value, '/') : NULL;
    int rc = 0;
    if (slash) {
        *slash = '\0';
        if (!parse_uint(slash + 1, UINT64_MAX, mask)) {
            rc = perr(p, start, len, "'%s' is not a cookie mask", slash + 1);
        }
    } else if (mask) {
        *mask = UINT64_MAX;
    }
    if (!rc && !parse_uint(value, METAS[m].max, v)) {
        rc = perr(p, start, len, "%s must be a number from 0 to %" PRIu64,
                  METAS[m].name, METAS[m].max);
    }
    free(value);
    return rc;
}

/* Checks the prerequisites of every field the text named. */
static int
check_prereqs(const struct parser *p)
{
    for (int id = 0; id < FIELD_N_IDS; id++) {
        const struct field *f = field_from_id((enum field_id) id);
        if (p->field_col[id] && !field_prereq_ok(f->prereq, &p->match)) {
            return perr(p, p->field_col[id] - 1, p->field_len[id],
                        "%s requires %s", f->name,
                        field_prereq_describe(f->prereq));
        }
    }
    char *err = NULL;
    if (field_validate_match(&p->match, &err)) {
        int rc = perr(p, 0, strlen(p->text), "%s", err);
        free(err);
        return rc;
    }
    return 0;
}

/* Splits one action "kw:arg" or "kw(arg)" and parses it. */
static int
parse_one_action(const struct parser *p, size_t start, size_t len,
                 struct action *a)
{
    char *s = xstrndup(p->text + start, len);
    char *arg = NULL;
    size_t kwlen = strcspn(s, ":(");
    if (s[kwlen] == ':') {
        arg = s + kwlen + 1;
    } else if (s[kwlen] == '(') {
        size_t n = strlen(s);
        if (s[n - 1] != ')') {
            free(s);
            return perr(p, start, len, "missing ')'");
        }
        s[n - 1] = '\0';
        arg = s + kwlen + 1;
    }
    s[kwlen] = '\0';
    char *err = NULL;
    int rc = action_parse(s, arg, p->names, a, &err);
    free(s);
    if (rc) {
        rc = perr(p, start, len, "%s", err);
        free(err);
    }
    return rc;
}

/* Finds the end of the action starting at 'i': a comma outside
 * parentheses, or the end of the text. */
static size_t
action_end(const char *t, size_t i)
{
    int depth = 0;
    for (; t[i]; i++) {
        if (t[i] == '(') {
            depth++;
        } else if (t[i] == ')' && depth > 0) {
            depth--;
        } else if (t[i] == ',' && !depth) {
            break;
        }
    }
    return i;
}

static int
parse_actions(const struct parser *p, size_t pos, struct cls_rule_spec *spec)
{
    const char *t = p->text;
    size_t cols[ACTION_LIST_MAX], lens[ACTION_LIST_MAX];
    size_t n = 0;
    for (;;) {
        while (t[pos] && isspace((unsigned char) t[pos])) {
            pos++;
        }
        size_t end = action_end(t, pos), tend = end;
        while (tend > pos && isspace((unsigned char) t[tend - 1])) {
            tend--;
        }
        if (tend == pos) {
            if (!t[end] && !n) {
                break;                      /* "actions=": drop. */
            }
            return perr(p, pos, t[end] ? 1 : 0, "empty action");
        }
        if (n == ACTION_LIST_MAX) {
            return perr(p, pos, tend - pos, "too many actions (at most %d)",
                        ACTION_LIST_MAX);
        }
        int rc = parse_one_action(p, pos, tend - pos, &spec->actions[n]);
        if (rc) {
            return rc;
        }
        cols[n] = pos, lens[n++] = tend - pos;
        if (!t[end]) {
            break;
        }
        pos = end + 1;
    }
    if (!n) {
        action_init(&spec->actions[n++], ACTION_DROP, 0);
        cols[0] = pos, lens[0] = 0;
    }
    spec->n_actions = (uint16_t) n;
    size_t bad;
    char *err = NULL;
    if (action_list_validate(spec->actions, n, &p->match, spec->table,
                             CLS_MAX_N_TABLES, &bad, &err)) {
        bad = VF_MIN(bad, n - 1);
        int rc = perr(p, cols[bad], lens[bad], "%s", err);
        free(err);
        return rc;
    }
    return 0;
}

enum parse_mode {
    MODE_RULE,                   /* Rule with actions=. */
    MODE_MATCH,                  /* Match only. */
    MODE_FILTER,                 /* Match, table, cookie/mask. */
    MODE_FILTER_STRICT,          /* ... and priority. */
};

struct parse_out {
    struct cls_rule_spec *spec;  /* MODE_RULE */
    struct cls_filter *filter;   /* MODE_FILTER* */
};

static int
parse_meta_item(struct parser *p, enum parse_mode mode, int m, size_t start,
                size_t len, size_t eq, bool seen[N_META],
                struct parse_out *out)
{
    uint64_t v, mask;
    bool cookie_mask = m == META_COOKIE && mode != MODE_RULE;
    if (seen[m]) {
        return perr(p, start, len, "%s given twice", METAS[m].name);
    }
    seen[m] = true;
    if (mode == MODE_MATCH || (mode == MODE_FILTER && m == META_PRIORITY)
        || (mode != MODE_RULE && (m == META_IDLE || m == META_HARD))) {
        return perr(p, start, len, "%s is not allowed here", METAS[m].name);
    }
    int rc = parse_meta(p, m, start, len, eq, &v, cookie_mask ? &mask : NULL);
    if (rc) {
        return rc;
    }
    if (mode == MODE_RULE) {
        struct cls_rule_spec *s = out->spec;
        switch (m) {
        case META_TABLE: s->table = (uint8_t) v; break;
        case META_PRIORITY: s->priority = (uint16_t) v; break;
        case META_COOKIE: s->cookie = v; break;
        case META_IDLE: s->idle_timeout = (uint16_t) v; break;
        default: s->hard_timeout = (uint16_t) v; break;
        }
    } else if (m == META_TABLE) {
        out->filter->table = (int) v;
    } else if (m == META_PRIORITY) {
        out->filter->priority = (uint16_t) v;
    } else {
        out->filter->cookie = v & mask;
        out->filter->cookie_mask = mask;
    }
    return 0;
}

static int
parse_items(struct parser *p, enum parse_mode mode, struct parse_out *out)
{
    bool seen[N_META] = {false};
    bool saw_actions = false;
    size_t pos = 0, start, len;
    while (next_item(p, &pos, &start, &len)) {
        const char *item = p->text + start;
        size_t eq = strcspn(item, "=");
        eq = VF_MIN(eq, len);
        if (eq == 7 && !memcmp(item, "actions", 7) && eq < len) {
            if (mode != MODE_RULE) {
                return perr(p, start, len, "actions are not allowed here");
            }
            saw_actions = true;
            int rc = check_prereqs(p);
            if (!rc) {
                out->spec->match = p->match;
                rc = parse_actions(p, start + 8, out->spec);
            }
            return rc;
        }
        int m = meta_of(item, eq);
        int rc = m >= 0 ? parse_meta_item(p, mode, m, start, len, eq, seen,
                                          out)
                        : parse_match_item(p, start, len, eq);
        if (rc) {
            return rc;
        }
    }
    if (mode == MODE_RULE && !saw_actions) {
        size_t n = strlen(p->text);
        return perr(p, n, 0, "missing actions= at the end (actions=drop "
                    "drops)");
    }
    return check_prereqs(p);
}

static void
parser_init(struct parser *p, const char *text,
            const struct field_port_names *names, char **errp)
{
    memset(p, 0, sizeof *p);
    p->text = text;
    p->names = names;
    p->errp = errp;
}

int
cls_text_parse_rule(const char *text, const struct field_port_names *names,
                    struct cls_rule_spec *spec, char **errp)
{
    struct parser p;
    parser_init(&p, text, names, errp);
    memset(spec, 0, sizeof *spec);
    spec->priority = CLS_DEFAULT_PRIORITY;
    struct parse_out out = {spec, NULL};
    return parse_items(&p, MODE_RULE, &out);
}

int
cls_text_parse_match(const char *text, const struct field_port_names *names,
                     struct cls_match *match, char **errp)
{
    struct parser p;
    parser_init(&p, text, names, errp);
    struct parse_out out = {NULL, NULL};
    int rc = parse_items(&p, MODE_MATCH, &out);
    if (!rc) {
        *match = p.match;
    }
    return rc;
}

int
cls_text_parse_filter(const char *text, const struct field_port_names *names,
                      bool strict, struct cls_filter *filter, char **errp)
{
    struct parser p;
    parser_init(&p, text, names, errp);
    cls_filter_init(filter);
    filter->strict = strict;
    filter->priority = CLS_DEFAULT_PRIORITY;
    struct parse_out out = {NULL, filter};
    int rc = parse_items(&p, strict ? MODE_FILTER_STRICT : MODE_FILTER,
                         &out);
    if (!rc) {
        filter->match = p.match;
    }
    return rc;
}

/* ---- Formatting. ---- */

static const enum field_id FORMAT_ORDER[] = {
    FIELD_IN_PORT, FIELD_TUN_ID, FIELD_TUN_SRC, FIELD_TUN_DST,
    FIELD_DL_SRC, FIELD_DL_DST, FIELD_DL_TYPE, FIELD_DL_VLAN,
    FIELD_DL_VLAN_PCP, FIELD_VLAN_TCI, FIELD_VLAN_TPID, FIELD_VLAN2_TCI,
    FIELD_ARP_SPA, FIELD_ARP_TPA, FIELD_NW_SRC, FIELD_NW_DST,
    FIELD_NW_PROTO, FIELD_NW_TOS, FIELD_NW_ECN, FIELD_NW_TTL, FIELD_IP_FRAG,
    FIELD_IPV6_SRC, FIELD_IPV6_DST, FIELD_IPV6_LABEL, FIELD_ICMP_TYPE,
    FIELD_ICMP_CODE, FIELD_TP_SRC, FIELD_TP_DST, FIELD_TCP_FLAGS,
    FIELD_ARP_OP, FIELD_ARP_SHA, FIELD_ARP_THA, FIELD_ND_SLL, FIELD_ND_TLL,
    FIELD_ND_TARGET,
};

static void
sep(struct vf_buf *out)
{
    if (out->len && out->data[out->len - 1] != ' ') {
        vf_buf_putc(out, ',');
    }
}

/* Prints the shorthand that covers 'm''s dl_type (and nw_proto) and
 * clears those bits from 'left'. */
static void
format_shorthand(const struct cls_match *m, struct flow_key *left,
                 struct vf_buf *out)
{
    if (m->mask.dl_type != 0xffff) {
        return;
    }
    const char *best = NULL;
    bool with_proto = false;
    for (size_t i = 0; i < VF_ARRAY_SIZE(SHORTHANDS); i++) {
        if (m->value.dl_type != vf_htons(SHORTHANDS[i].dl_type)) {
            continue;
        }
        if (SHORTHANDS[i].nw_proto < 0 && !best) {
            best = SHORTHANDS[i].name;
        } else if (SHORTHANDS[i].nw_proto >= 0 && m->mask.nw_proto == 0xff
                   && m->value.nw_proto == SHORTHANDS[i].nw_proto) {
            best = SHORTHANDS[i].name;
            with_proto = true;
        }
    }
    if (best) {
        sep(out);
        vf_buf_puts(out, best);
        left->dl_type = 0;
        if (with_proto) {
            left->nw_proto = 0;
        }
    }
}

void
cls_text_format_match(const struct cls_match *match,
                      const struct field_port_names *names,
                      struct vf_buf *out)
{
    struct cls_match m = *match;
    cls_match_normalize(&m);
    struct flow_key left = m.mask;
    bool tagged = m.mask.vlan_tci & m.value.vlan_tci & VF_BE16(VLAN_CFI);
    format_shorthand(&m, &left, out);
    for (size_t i = 0; i < VF_ARRAY_SIZE(FORMAT_ORDER); i++) {
        const struct field *f = field_from_id(FORMAT_ORDER[i]);
        struct flow_key fm = {0};
        field_storage_mask(f, &fm);
        struct cls_match part;
        bool any = false;
        for (int w = 0; w < FLOW_KEY_N_WORDS; w++) {
            uint64_t o = flow_key_words(&left)[w] & flow_key_words(&fm)[w];
            flow_key_words_rw(&part.mask)[w] = o;
            flow_key_words_rw(&part.value)[w] = flow_key_words(&m.value)[w]
                                                & o;
            any |= o != 0;
        }
        if (!any || !field_prereq_ok(f->prereq, &m)
            || ((f->flags & FIELD_F_VLAN) && !tagged)
            || (!(f->flags & FIELD_F_MASKABLE)
                && !flow_key_equal(&part.mask, &fm))) {
            continue;
        }
        sep(out);
        field_format_match(f, &part, names, out);
        for (int w = 0; w < FLOW_KEY_N_WORDS; w++) {
            flow_key_words_rw(&left)[w] &= ~flow_key_words(&part.mask)[w];
        }
        if (f->flags & FIELD_F_VLAN) {
            left.vlan_tci &= ~VF_BE16(VLAN_CFI);
        }
    }
}

void
cls_text_format_actions(const struct action *actions, size_t n,
                        const struct field_port_names *names,
                        struct vf_buf *out)
{
    if (!n) {
        vf_buf_puts(out, "drop");
    }
    for (size_t i = 0; i < n; i++) {
        if (i) {
            vf_buf_putc(out, ',');
        }
        action_format(&actions[i], names, out);
    }
}

static void
format_head(const struct cls_rule_spec *s, struct vf_buf *out)
{
    vf_buf_printf(out, "table=%u,priority=%u", s->table, s->priority);
    if (s->cookie) {
        vf_buf_printf(out, ",cookie=0x%" PRIx64, s->cookie);
    }
    if (s->idle_timeout) {
        vf_buf_printf(out, ",idle_timeout=%u", s->idle_timeout);
    }
    if (s->hard_timeout) {
        vf_buf_printf(out, ",hard_timeout=%u", s->hard_timeout);
    }
}

void
cls_text_format_spec(const struct cls_rule_spec *spec,
                     const struct field_port_names *names, struct vf_buf *out)
{
    format_head(spec, out);
    cls_text_format_match(&spec->match, names, out);
    vf_buf_puts(out, ",actions=");
    cls_text_format_actions(spec->actions, spec->n_actions, names, out);
}

static void
format_secs(struct vf_buf *out, const char *name, int64_t ns)
{
    if (ns < 0) {
        ns = 0;
    }
    vf_buf_printf(out, "%s=%" PRId64 ".%03ds, ", name,
                  (int64_t) (ns / VF_NSEC_PER_SEC),
                  (int) (ns % VF_NSEC_PER_SEC / VF_NSEC_PER_MSEC));
}

void
cls_text_format_rule(const struct cls_rule *rule,
                     const struct field_port_names *names, bool stats,
                     int64_t now, struct vf_buf *out)
{
    struct cls_rule_spec *spec = vf_xmalloc(sizeof *spec);
    cls_rule_get_spec(rule, spec);
    if (stats) {
        uint64_t n_packets, n_bytes;
        int64_t used;
        cls_rule_get_stats(rule, &n_packets, &n_bytes, &used);
        format_secs(out, "duration", now - rule->created);
        vf_buf_printf(out, "n_packets=%" PRIu64 ", n_bytes=%" PRIu64 ", ",
                      n_packets, n_bytes);
        format_secs(out, "idle_age", now - used);
    }
    cls_text_format_spec(spec, names, out);
    free(spec);
}
