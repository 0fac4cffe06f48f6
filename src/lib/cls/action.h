/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VFAB_CLS_ACTION_H
#define VFAB_CLS_ACTION_H 1

/* Actions: what the datapath does with a packet whose flow key matched a
 * classifier rule (DESIGN.md "The data path", step 4).
 *
 * A rule carries a compact, immutable array of struct action, owned by the
 * rule and freed with it (after an RCU grace period, so a datapath thread
 * that found the rule may keep executing its actions until it leaves its
 * read-side section).  Each action is 24 bytes with every unused byte zero,
 * so two lists compare with memcmp().  Execution belongs to the datapath;
 * this module only represents, validates and prints actions.
 *
 * Semantics the datapath implements (and cls validates at rule add):
 *   - ACTION_DROP is alone in its list; an empty list also means drop.
 *   - ACTION_METER, if present, comes first (it may drop the packet before
 *     anything else happens), at most once.
 *   - ACTION_GOTO_TABLE, if present, comes last, at most once, and names a
 *     table after the rule's own (so a pipeline always ends).
 *   - ACTION_SET_FIELD writes a writable field (cls/field.h) whose
 *     prerequisites the rule's match satisfies; the datapath rewrites the
 *     packet and, with field_set(), the flow key that later tables see.
 *   - ACTION_MOD_VLAN_VID sets the VID, pushing an 802.1Q tag first if the
 *     frame has none (Open vSwitch's mod_vlan_vid); ACTION_STRIP_VLAN pops
 *     the outer tag; ACTION_PUSH_VLAN pushes a tag with TPID 'arg' and the
 *     TCI of the outer tag, or 0.
 *   - ACTION_NORMAL hands the packet to the bridge's learning switch;
 *     ACTION_FLOOD outputs to every port of the bridge but the input one;
 *     ACTION_CONTROLLER sends it to the agent (an upcall).
 *   - ACTION_MIRROR copies the packet to the mirror named in 'u.name'.
 *   - ACTION_ENCAP and ACTION_DECAP are reserved for the overlay: the enum
 *     values exist and the text parser has hooks for them, but they are
 *     rejected until the overlay defines their arguments. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cls/field.h"

struct vf_buf;

enum action_type {
    ACTION_OUTPUT,               /* arg: port number. */
    ACTION_FLOOD,
    ACTION_DROP,
    ACTION_NORMAL,
    ACTION_CONTROLLER,           /* Upcall; arg: bytes to send, 0 = all. */
    ACTION_MOD_VLAN_VID,         /* arg: VID, 0..4095. */
    ACTION_STRIP_VLAN,
    ACTION_PUSH_VLAN,            /* arg: TPID, 0x8100 or 0x88a8. */
    ACTION_SET_FIELD,            /* field, u.value. */
    ACTION_GOTO_TABLE,           /* arg: table id. */
    ACTION_METER,                /* arg: meter id. */
    ACTION_MIRROR,               /* u.name. */
    ACTION_ENCAP,                /* Reserved (overlay). */
    ACTION_DECAP,                /* Reserved (overlay). */
    ACTION_N_TYPES
};

#define ACTION_NAME_LEN 16       /* Mirror name bytes, NUL included. */

struct action {
    uint8_t type;                /* enum action_type. */
    uint8_t field;               /* ACTION_SET_FIELD: enum field_id. */
    uint16_t reserved;           /* Zero. */
    uint32_t arg;
    union {
        union field_value value; /* ACTION_SET_FIELD, in field units. */
        char name[ACTION_NAME_LEN];  /* ACTION_MIRROR, NUL-terminated. */
    } u;
};
VF_BUILD_ASSERT(sizeof(struct action) == 24);

/* Most actions a rule may carry. */
#define ACTION_LIST_MAX 64

/* Initialises 'a' as an action of 'type' with 'arg' (every other byte
 * zero). */
void action_init(struct action *a, enum action_type type, uint32_t arg);

/* Initialises 'a' as set_field:'value'->'field'. */
void action_init_set_field(struct action *a, enum field_id field,
                           const union field_value *value);

/* Initialises 'a' as mirror:'name'.  Returns 0, or -EINVAL if 'name' is
 * empty, longer than ACTION_NAME_LEN - 1 or has characters other than
 * letters, digits, '_', '-' and '.' ('a' unchanged). */
int action_init_mirror(struct action *a, const char *name);

/* The keyword of 'type' ("output", "set_field", ...). */
const char *action_type_name(enum action_type type);

/* True if lists 'a' ('n_a' actions) and 'b' ('n_b') are identical. */
bool action_list_equal(const struct action *a, size_t n_a,
                       const struct action *b, size_t n_b);

/* Checks the rules above for a list that a rule in table 'table' (of
 * 'n_tables') with match 'match' would carry.  Returns 0, or -EINVAL with
 * a message in '*errp' (caller frees; may be NULL) and, if 'bad' is
 * nonnull, the index of the offending action in '*bad' ('n' when the list
 * as a whole is at fault). */
int action_list_validate(const struct action *actions, size_t n,
                         const struct cls_match *match, unsigned int table,
                         unsigned int n_tables, size_t *bad, char **errp);

/* Parses one action: 'keyword' (e.g. "output") with its argument 'arg'
 * (the text after ':', or NULL when there is none).  Port names resolve
 * through 'names' (may be NULL).  Returns 0, or -EINVAL with a message in
 * '*errp'.  Checks only the action itself; list rules are
 * action_list_validate()'s. */
int action_parse(const char *keyword, const char *arg,
                 const struct field_port_names *names, struct action *a,
                 char **errp);

/* Appends the text of 'a' as action_parse() reads it. */
void action_format(const struct action *a,
                   const struct field_port_names *names, struct vf_buf *out);

/* Applies ACTION_SET_FIELD 'a' to 'key' (the flow-key half; the datapath
 * rewrites the packet).  Datapath-safe. */
static inline void
action_set_field_apply(const struct action *a, struct flow_key *key)
{
    field_set(field_from_id((enum field_id) a->field), key, &a->u.value);
}

#endif /* cls/action.h */
