/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VFAB_CLS_FIELD_H
#define VFAB_CLS_FIELD_H 1

/* The field registry: every named, matchable (and settable) part of a flow
 * key, shared by matching (cls-text.c parses "nw_dst=10.0.0.0/24" through
 * it), by rule validation (prerequisites, maskability) and by the
 * set_field action (the datapath writes a field through it).
 *
 * A field is a run of bits inside one piece of flow-key storage: the
 * storage is 'size' bytes at offset 'ofs' of struct flow_key; for integer
 * storage (1, 2 or 4 bytes) 'bits' says which bits of the storage, read as
 * an integer in host order, belong to the field, and 'shift' where the
 * field's value starts.  So dl_vlan is bits 0x0fff of vlan_tci, ip_dscp is
 * bits 0xfc of nw_tos shifted by 2, icmp_type is bits 0x00ff of tp_src.
 * MAC, IPv4 and IPv6 fields cover their whole storage.  Several fields may
 * share storage (nw_src and arp_spa, tp_src and icmp_type, arp_sha and
 * nd_sll); which name applies follows from the prerequisites.
 *
 * Names are Open vSwitch's (ovs-fields(7)); the value conventions are
 * those of net/flow-key.h.  A field "value" (union field_value) is in the
 * field's own units: integers in host order after the shift, addresses in
 * network order.
 *
 * Everything here is control path except field_set() and field_get(),
 * which the datapath may call for set_field actions.  The registry is a
 * constant table: any thread may read it. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cls/cls-match.h"
#include "net/flow-key.h"

struct vf_buf;

enum field_id {
    FIELD_IN_PORT,
    FIELD_TUN_ID,
    FIELD_TUN_SRC,
    FIELD_TUN_DST,
    FIELD_DL_SRC,
    FIELD_DL_DST,
    FIELD_DL_TYPE,
    FIELD_VLAN_TCI,
    FIELD_DL_VLAN,               /* VID; matching it implies a tag. */
    FIELD_DL_VLAN_PCP,           /* PCP; matching it implies a tag. */
    FIELD_VLAN_TPID,
    FIELD_VLAN2_TCI,
    FIELD_ARP_SPA,               /* Storage of nw_src. */
    FIELD_ARP_TPA,               /* Storage of nw_dst. */
    FIELD_NW_SRC,
    FIELD_NW_DST,
    FIELD_NW_PROTO,
    FIELD_NW_TOS,                /* TOS byte, ECN bits excluded. */
    FIELD_IP_DSCP,               /* Same bits as nw_tos, shifted. */
    FIELD_NW_ECN,
    FIELD_NW_TTL,
    FIELD_IP_FRAG,
    FIELD_IPV6_SRC,
    FIELD_IPV6_DST,
    FIELD_IPV6_LABEL,
    FIELD_ICMP_TYPE,             /* Low byte of tp_src's storage. */
    FIELD_ICMP_CODE,             /* Low byte of tp_dst's storage. */
    FIELD_TP_SRC,
    FIELD_TP_DST,
    FIELD_TCP_FLAGS,
    FIELD_ARP_OP,
    FIELD_ARP_SHA,
    FIELD_ARP_THA,
    FIELD_ND_SLL,                /* Storage of arp_sha. */
    FIELD_ND_TLL,                /* Storage of arp_tha. */
    FIELD_ND_TARGET,
    FIELD_N_IDS
};

/* How a field's value is written and read as text. */
enum field_kind {
    FIELD_KIND_DEC,              /* Integer, written in decimal. */
    FIELD_KIND_HEX,              /* Integer, written in hex. */
    FIELD_KIND_PORT,             /* Port number; names via the caller. */
    FIELD_KIND_FRAG,             /* no, yes, first, later, not_later. */
    FIELD_KIND_TCP_FLAGS,        /* Hex, or +syn-ack style on input. */
    FIELD_KIND_MAC,
    FIELD_KIND_IPV4,
    FIELD_KIND_IPV6,
};

/* What a match must say before it may constrain a field (as in OVS). */
enum field_prereq {
    FIELD_PREREQ_NONE,
    FIELD_PREREQ_IP_ANY,         /* ip or ipv6. */
    FIELD_PREREQ_IP_ARP,         /* ip or arp. */
    FIELD_PREREQ_IPV6,
    FIELD_PREREQ_ARP,
    FIELD_PREREQ_L4,             /* tcp, udp or sctp over ip or ipv6. */
    FIELD_PREREQ_TCP,            /* tcp or tcp6. */
    FIELD_PREREQ_ICMP,           /* icmp or icmp6. */
    FIELD_PREREQ_ND,             /* icmp6 with icmp_type 135 or 136. */
    FIELD_PREREQ_ND_SOLICIT,     /* icmp6 with icmp_type 135. */
    FIELD_PREREQ_ND_ADVERT,      /* icmp6 with icmp_type 136. */
};

#define FIELD_F_MASKABLE 0x1     /* Arbitrary masks allowed. */
#define FIELD_F_WRITABLE 0x2     /* set_field may write it. */
#define FIELD_F_VLAN 0x4         /* Matching it also requires a tag. */

struct field {
    enum field_id id;
    const char *name;            /* Canonical name (what we print). */
    const char *alias;           /* Also accepted on input, or NULL. */
    uint8_t ofs;                 /* Storage offset in struct flow_key. */
    uint8_t size;                /* Storage bytes: 1, 2, 4, 6 or 16. */
    uint8_t shift;               /* Value = (storage & bits) >> shift. */
    bool host_order;             /* Storage is host order (metadata). */
    uint32_t bits;               /* Integer storage only: field bits. */
    enum field_kind kind;
    enum field_prereq prereq;
    uint32_t flags;              /* FIELD_F_*. */
};

/* A value in the field's units. */
union field_value {
    uint64_t integer;            /* Integer kinds, host order. */
    vf_be32 ipv4;
    struct eth_addr mac;
    uint8_t ipv6[16];
    uint8_t bytes[16];
};

/* Callbacks that turn port names into numbers and back; ports belong to
 * the bridge, so the caller supplies them.  Either may be NULL (numbers
 * only).  'name_to_number' returns 0 or -ENOENT; 'number_to_name' writes a
 * NUL-terminated name of at most 'size' bytes and returns true, or false
 * for an unknown port (which is then written as a number). */
struct field_port_names {
    int (*name_to_number)(void *aux, const char *name, uint32_t *number);
    bool (*number_to_name)(void *aux, uint32_t number, char *buf,
                           size_t size);
    void *aux;
};

/* Returns the field with 'id' (< FIELD_N_IDS). */
const struct field *field_from_id(enum field_id id);

/* Returns the field named 'name' (its first 'len' characters; canonical
 * name or alias), or NULL. */
const struct field *field_from_name(const char *name, size_t len);

/* Writes into 'mask' (ORing) every storage bit that 'f' covers. */
void field_storage_mask(const struct field *f, struct flow_key *mask);

/* The largest value of an integer field. */
uint64_t field_max(const struct field *f);

/* Reads field 'f' of 'key'.  Datapath-safe. */
void field_get(const struct field *f, const struct flow_key *key,
               union field_value *value);

/* Writes 'value' into field 'f' of 'key', leaving every other bit alone
 * (the flow-key half of a set_field action).  Integer values are
 * truncated to the field's width.  Datapath-safe. */
void field_set(const struct field *f, struct flow_key *key,
               const union field_value *value);

/* Makes 'm' require field 'f' to equal 'value' under 'mask' (NULL: exact)
 * and leaves every other bit of 'm' alone.  FIELD_F_VLAN fields also
 * require a tag.  'm' stays normalized. */
void field_match_set(struct cls_match *m, const struct field *f,
                     const union field_value *value,
                     const union field_value *mask);

/* True if 'm' satisfies the prerequisite 'p'. */
bool field_prereq_ok(enum field_prereq p, const struct cls_match *m);

/* A human description of 'p', e.g. "ip or arp (dl_type=0x0800 or
 * 0x0806)". */
const char *field_prereq_describe(enum field_prereq p);

/* Checks that every bit 'm''s mask constrains belongs to a field whose
 * prerequisites 'm' satisfies and that non-maskable fields are matched
 * whole.  Returns 0, or -EINVAL with a message in '*errp' (caller frees;
 * 'errp' may be NULL). */
int field_validate_match(const struct cls_match *m, char **errp);

/* Parses 'text' as a match on 'f' ("10.0.0.0/24", "0x0800", "tap1",
 * "first", "+syn-ack", "0xffff" for dl_vlan meaning "no tag") and writes
 * just those bits into 'delta' (which the caller zeroed).  'names' may be
 * NULL.  Returns 0, or -EINVAL with a message naming the problem (not the
 * field) in '*errp'. */
int field_parse_match(const struct field *f, const char *text,
                      const struct field_port_names *names,
                      struct cls_match *delta, char **errp);

/* Parses 'text' as one exact value of 'f' (set_field).  Same errors. */
int field_parse_value(const struct field *f, const char *text,
                      const struct field_port_names *names,
                      union field_value *value, char **errp);

/* Appends "NAME=VALUE[/MASK]" for the bits of 'f' that 'm' constrains;
 * 'm' must constrain only bits of 'f' that 'f' can express (as
 * field_validate_match() accepts). */
void field_format_match(const struct field *f, const struct cls_match *m,
                        const struct field_port_names *names,
                        struct vf_buf *out);

/* Appends the text of one value of 'f'. */
void field_format_value(const struct field *f,
                        const union field_value *value,
                        const struct field_port_names *names,
                        struct vf_buf *out);

#endif /* cls/field.h */
