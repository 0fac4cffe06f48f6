/* SPDX-License-Identifier: Apache-2.0 */
/* The field registry: theory of operation.
 *
 * One constant table, FIELDS[], in enum field_id order.  The order is also
 * the order in which cls-text.c prints a match, and it is chosen so that
 * where fields share storage the more specific name comes first: arp_spa
 * before nw_src (an ARP match prints arp_spa=, an IP match skips arp_spa
 * because its prerequisite fails and prints nw_src=), icmp_type before
 * tp_src, nd_sll after arp_sha.
 *
 * Integer storage is read as an unsigned integer in host order (after
 * ntohs/ntohl for wire fields) and a field is a run of its bits ('bits',
 * 'shift').  Address storage is bytes.  Every function works on storage
 * through storage_read()/storage_write(), so the datapath's set_field and
 * the parser agree on the layout by construction.
 *
 * Validation (field_validate_match) asks, for every mask bit, whether some
 * field can express it: the field's prerequisite holds, and either the
 * field is maskable or the mask covers the field whole.  The text
 * formatter makes the same per-field decision, so every match that
 * validates can be printed and parsed back to itself (tested by
 * test-cls-text's round trip). */
#include "cls/field.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net/addr.h"
#include "util/buf.h"

#define OFS(FIELD) ((uint8_t) offsetof(struct flow_key, FIELD))
#define M FIELD_F_MASKABLE
#define W FIELD_F_WRITABLE

#define INT_FIELD(ID, NAME, ALIAS, MEMBER, SIZE, HOST, BITS, SHIFT, KIND,  \
                  PREREQ, FLAGS)                                           \
    [ID] = {ID, NAME, ALIAS, OFS(MEMBER), SIZE, SHIFT, HOST, BITS,         \
            FIELD_KIND_##KIND, FIELD_PREREQ_##PREREQ, FLAGS}
#define ADDR_FIELD(ID, NAME, ALIAS, MEMBER, SIZE, KIND, PREREQ, FLAGS)     \
    [ID] = {ID, NAME, ALIAS, OFS(MEMBER), SIZE, 0, false, 0,               \
            FIELD_KIND_##KIND, FIELD_PREREQ_##PREREQ, FLAGS}

static const struct field FIELDS[FIELD_N_IDS] = {
    INT_FIELD(FIELD_IN_PORT, "in_port", NULL, in_port, 4, true,
              0xffffffffu, 0, PORT, NONE, 0),
    INT_FIELD(FIELD_TUN_ID, "tun_id", "tunnel_id", tun_id, 4, true,
              0xffffffffu, 0, HEX, NONE, M | W),
    ADDR_FIELD(FIELD_TUN_SRC, "tun_src", NULL, tun_src, 4, IPV4, NONE,
               M | W),
    ADDR_FIELD(FIELD_TUN_DST, "tun_dst", NULL, tun_dst, 4, IPV4, NONE,
               M | W),
    ADDR_FIELD(FIELD_DL_SRC, "dl_src", "eth_src", dl_src, 6, MAC, NONE,
               M | W),
    ADDR_FIELD(FIELD_DL_DST, "dl_dst", "eth_dst", dl_dst, 6, MAC, NONE,
               M | W),
    INT_FIELD(FIELD_DL_TYPE, "dl_type", "eth_type", dl_type, 2, false,
              0xffff, 0, HEX, NONE, 0),
    INT_FIELD(FIELD_VLAN_TCI, "vlan_tci", NULL, vlan_tci, 2, false, 0xffff,
              0, HEX, NONE, M | W),
    INT_FIELD(FIELD_DL_VLAN, "dl_vlan", "vlan_vid", vlan_tci, 2, false,
              VLAN_VID_MASK, 0, DEC, NONE, W | FIELD_F_VLAN),
    INT_FIELD(FIELD_DL_VLAN_PCP, "dl_vlan_pcp", "vlan_pcp", vlan_tci, 2,
              false, VLAN_PCP_MASK, VLAN_PCP_SHIFT, DEC, NONE,
              W | FIELD_F_VLAN),
    INT_FIELD(FIELD_VLAN_TPID, "vlan_tpid", NULL, vlan_tpid, 2, false,
              0xffff, 0, HEX, NONE, 0),
    INT_FIELD(FIELD_VLAN2_TCI, "vlan2_tci", NULL, vlan2_tci, 2, false,
              0xffff, 0, HEX, NONE, M),
    ADDR_FIELD(FIELD_ARP_SPA, "arp_spa", NULL, nw_src, 4, IPV4, ARP, M | W),
    ADDR_FIELD(FIELD_ARP_TPA, "arp_tpa", NULL, nw_dst, 4, IPV4, ARP, M | W),
    ADDR_FIELD(FIELD_NW_SRC, "nw_src", "ip_src", nw_src, 4, IPV4, IP_ARP,
               M | W),
    ADDR_FIELD(FIELD_NW_DST, "nw_dst", "ip_dst", nw_dst, 4, IPV4, IP_ARP,
               M | W),
    INT_FIELD(FIELD_NW_PROTO, "nw_proto", "ip_proto", nw_proto, 1, false,
              0xff, 0, DEC, IP_ANY, 0),
    INT_FIELD(FIELD_NW_TOS, "nw_tos", NULL, nw_tos, 1, false, 0xfc, 0, DEC,
              IP_ANY, W),
    INT_FIELD(FIELD_IP_DSCP, "ip_dscp", NULL, nw_tos, 1, false, 0xfc, 2,
              DEC, IP_ANY, W),
    INT_FIELD(FIELD_NW_ECN, "nw_ecn", "ip_ecn", nw_tos, 1, false, 0x03, 0,
              DEC, IP_ANY, W),
    INT_FIELD(FIELD_NW_TTL, "nw_ttl", NULL, nw_ttl, 1, false, 0xff, 0, DEC,
              IP_ANY, W),
    INT_FIELD(FIELD_IP_FRAG, "ip_frag", "nw_frag", nw_frag, 1, false, 0x03,
              0, FRAG, IP_ANY, M),
    ADDR_FIELD(FIELD_IPV6_SRC, "ipv6_src", NULL, ipv6_src, 16, IPV6, IPV6,
               M | W),
    ADDR_FIELD(FIELD_IPV6_DST, "ipv6_dst", NULL, ipv6_dst, 16, IPV6, IPV6,
               M | W),
    INT_FIELD(FIELD_IPV6_LABEL, "ipv6_label", NULL, ipv6_label, 4, false,
              IPV6_LABEL_MASK, 0, HEX, IPV6, M | W),
    INT_FIELD(FIELD_ICMP_TYPE, "icmp_type", "icmpv6_type", tp_src, 2, false,
              0x00ff, 0, DEC, ICMP, 0),
    INT_FIELD(FIELD_ICMP_CODE, "icmp_code", "icmpv6_code", tp_dst, 2, false,
              0x00ff, 0, DEC, ICMP, 0),
    INT_FIELD(FIELD_TP_SRC, "tp_src", NULL, tp_src, 2, false, 0xffff, 0,
              DEC, L4, M | W),
    INT_FIELD(FIELD_TP_DST, "tp_dst", NULL, tp_dst, 2, false, 0xffff, 0,
              DEC, L4, M | W),
    INT_FIELD(FIELD_TCP_FLAGS, "tcp_flags", NULL, tcp_flags, 2, false,
              TCP_FLAGS_MASK, 0, TCP_FLAGS, TCP, M),
    INT_FIELD(FIELD_ARP_OP, "arp_op", NULL, arp_op, 2, false, 0xffff, 0,
              DEC, ARP, W),
    ADDR_FIELD(FIELD_ARP_SHA, "arp_sha", NULL, arp_sha, 6, MAC, ARP, M | W),
    ADDR_FIELD(FIELD_ARP_THA, "arp_tha", NULL, arp_tha, 6, MAC, ARP, M | W),
    ADDR_FIELD(FIELD_ND_SLL, "nd_sll", NULL, arp_sha, 6, MAC, ND_SOLICIT,
               M | W),
    ADDR_FIELD(FIELD_ND_TLL, "nd_tll", NULL, arp_tha, 6, MAC, ND_ADVERT,
               M | W),
    ADDR_FIELD(FIELD_ND_TARGET, "nd_target", NULL, nd_target, 16, IPV6, ND,
               M | W),
};

#undef M
#undef W

const struct field *
field_from_id(enum field_id id)
{
    return (unsigned) id < FIELD_N_IDS ? &FIELDS[id] : NULL;
}

static bool
name_is(const char *name, const char *s, size_t len)
{
    return name && strlen(name) == len && !memcmp(name, s, len);
}

const struct field *
field_from_name(const char *name, size_t len)
{
    for (size_t i = 0; i < FIELD_N_IDS; i++) {
        if (name_is(FIELDS[i].name, name, len)
            || name_is(FIELDS[i].alias, name, len)) {
            return &FIELDS[i];
        }
    }
    return NULL;
}

/* ---- Storage access. ---- */

static bool
field_is_int(const struct field *f)
{
    return f->kind < FIELD_KIND_MAC;
}

static uint64_t
storage_read(const struct field *f, const struct flow_key *k)
{
    const uint8_t *p = (const uint8_t *) k + f->ofs;
    switch (f->size) {
    case 1:
        return p[0];
    case 2:
        return f->host_order ? vf_get_u16(p) : vf_ntohs(vf_get_u16(p));
    default:
        return f->host_order ? vf_get_u32(p) : vf_ntohl(vf_get_u32(p));
    }
}

static void
storage_write(const struct field *f, struct flow_key *k, uint64_t v)
{
    uint8_t *p = (uint8_t *) k + f->ofs;
    switch (f->size) {
    case 1:
        p[0] = (uint8_t) v;
        break;
    case 2:
        vf_put_u16(p, f->host_order ? (uint16_t) v : vf_htons((uint16_t) v));
        break;
    default:
        vf_put_u32(p, f->host_order ? (uint32_t) v : vf_htonl((uint32_t) v));
        break;
    }
}

void
field_storage_mask(const struct field *f, struct flow_key *mask)
{
    if (field_is_int(f)) {
        storage_write(f, mask, storage_read(f, mask) | f->bits);
    } else {
        memset((uint8_t *) mask + f->ofs, 0xff, f->size);
    }
}

uint64_t
field_max(const struct field *f)
{
    return field_is_int(f) ? (uint64_t) f->bits >> f->shift : 0;
}

void
field_get(const struct field *f, const struct flow_key *key,
          union field_value *value)
{
    memset(value, 0, sizeof *value);
    if (field_is_int(f)) {
        value->integer = (storage_read(f, key) & f->bits) >> f->shift;
    } else {
        memcpy(value->bytes, (const uint8_t *) key + f->ofs, f->size);
    }
}

void
field_set(const struct field *f, struct flow_key *key,
          const union field_value *value)
{
    if (field_is_int(f)) {
        uint64_t s = storage_read(f, key) & ~(uint64_t) f->bits;
        s |= (value->integer << f->shift) & f->bits;
        storage_write(f, key, s);
    } else {
        memcpy((uint8_t *) key + f->ofs, value->bytes, f->size);
    }
}

static void
vlan_require_tag(struct cls_match *m)
{
    m->value.vlan_tci |= VF_BE16(VLAN_CFI);
    m->mask.vlan_tci |= VF_BE16(VLAN_CFI);
}

void
field_match_set(struct cls_match *m, const struct field *f,
                const union field_value *value, const union field_value *mask)
{
    if (field_is_int(f)) {
        uint64_t mk = mask ? mask->integer : UINT64_MAX;
        uint64_t sm = (mk << f->shift) & f->bits;
        uint64_t sv = (value->integer << f->shift) & sm;
        uint64_t keep = ~(uint64_t) f->bits;
        storage_write(f, &m->mask, (storage_read(f, &m->mask) & keep) | sm);
        storage_write(f, &m->value,
                      (storage_read(f, &m->value) & keep) | sv);
        if (f->flags & FIELD_F_VLAN) {
            vlan_require_tag(m);
        }
        return;
    }
    uint8_t *v = (uint8_t *) &m->value + f->ofs;
    uint8_t *k = (uint8_t *) &m->mask + f->ofs;
    for (int i = 0; i < f->size; i++) {
        k[i] = mask ? mask->bytes[i] : 0xff;
        v[i] = value->bytes[i] & k[i];
    }
}

/* ---- Prerequisites. ---- */

static bool
eth_type_is(const struct cls_match *m, uint16_t type)
{
    return m->mask.dl_type == 0xffff && m->value.dl_type == vf_htons(type);
}

static bool
proto_is(const struct cls_match *m, uint8_t proto)
{
    return m->mask.nw_proto == 0xff && m->value.nw_proto == proto;
}

static bool
is_ip_any(const struct cls_match *m)
{
    return eth_type_is(m, ETH_TYPE_IPV4) || eth_type_is(m, ETH_TYPE_IPV6);
}

static bool
is_icmp6(const struct cls_match *m)
{
    return eth_type_is(m, ETH_TYPE_IPV6) && proto_is(m, IP_PROTO_ICMPV6);
}

static bool
icmp_type_is(const struct cls_match *m, uint8_t type)
{
    return is_icmp6(m) && (m->mask.tp_src & VF_BE16(0xff)) == VF_BE16(0xff)
           && (m->value.tp_src & VF_BE16(0xff)) == vf_htons(type);
}

bool
field_prereq_ok(enum field_prereq p, const struct cls_match *m)
{
    switch (p) {
    case FIELD_PREREQ_NONE:
        return true;
    case FIELD_PREREQ_IP_ANY:
        return is_ip_any(m);
    case FIELD_PREREQ_IP_ARP:
        return eth_type_is(m, ETH_TYPE_IPV4) || eth_type_is(m, ETH_TYPE_ARP);
    case FIELD_PREREQ_IPV6:
        return eth_type_is(m, ETH_TYPE_IPV6);
    case FIELD_PREREQ_ARP:
        return eth_type_is(m, ETH_TYPE_ARP);
    case FIELD_PREREQ_L4:
        return is_ip_any(m)
               && (proto_is(m, IP_PROTO_TCP) || proto_is(m, IP_PROTO_UDP)
                   || proto_is(m, IP_PROTO_SCTP));
    case FIELD_PREREQ_TCP:
        return is_ip_any(m) && proto_is(m, IP_PROTO_TCP);
    case FIELD_PREREQ_ICMP:
        return (eth_type_is(m, ETH_TYPE_IPV4) && proto_is(m, IP_PROTO_ICMP))
               || is_icmp6(m);
    case FIELD_PREREQ_ND:
        return icmp_type_is(m, ND_NEIGHBOR_SOLICIT)
               || icmp_type_is(m, ND_NEIGHBOR_ADVERT);
    case FIELD_PREREQ_ND_SOLICIT:
        return icmp_type_is(m, ND_NEIGHBOR_SOLICIT);
    case FIELD_PREREQ_ND_ADVERT:
        return icmp_type_is(m, ND_NEIGHBOR_ADVERT);
    }
    return false;
}

const char *
field_prereq_describe(enum field_prereq p)
{
    switch (p) {
    case FIELD_PREREQ_NONE:
        return "nothing";
    case FIELD_PREREQ_IP_ANY:
        return "ip or ipv6 (dl_type=0x0800 or 0x86dd)";
    case FIELD_PREREQ_IP_ARP:
        return "ip or arp (dl_type=0x0800 or 0x0806)";
    case FIELD_PREREQ_IPV6:
        return "ipv6 (dl_type=0x86dd)";
    case FIELD_PREREQ_ARP:
        return "arp (dl_type=0x0806)";
    case FIELD_PREREQ_L4:
        return "tcp, udp or sctp (ip or ipv6 with nw_proto=6, 17 or 132)";
    case FIELD_PREREQ_TCP:
        return "tcp or tcp6 (nw_proto=6)";
    case FIELD_PREREQ_ICMP:
        return "icmp or icmp6 (nw_proto=1 with ip, 58 with ipv6)";
    case FIELD_PREREQ_ND:
        return "icmp6 with icmp_type=135 or 136";
    case FIELD_PREREQ_ND_SOLICIT:
        return "icmp6 with icmp_type=135";
    case FIELD_PREREQ_ND_ADVERT:
        return "icmp6 with icmp_type=136";
    }
    return "?";
}

/* ---- Validation. ---- */

static void
key_and(struct flow_key *dst, const struct flow_key *a,
        const struct flow_key *b)
{
    uint64_t *d = flow_key_words_rw(dst);
    for (int i = 0; i < FLOW_KEY_N_WORDS; i++) {
        d[i] = flow_key_words(a)[i] & flow_key_words(b)[i];
    }
}

static bool
key_is_zero(const struct flow_key *k)
{
    uint64_t any = 0;
    for (int i = 0; i < FLOW_KEY_N_WORDS; i++) {
        any |= flow_key_words(k)[i];
    }
    return !any;
}

/* Fields in the order used to name a bad bit: the broadest name of shared
 * storage first (nw_src, not arp_spa). */
static const enum field_id REPORT_ORDER[] = {
    FIELD_NW_SRC, FIELD_NW_DST, FIELD_TP_SRC, FIELD_TP_DST, FIELD_ARP_SHA,
    FIELD_ARP_THA,
};

static const struct field *
report_field(const struct flow_key *bad)
{
    for (size_t i = 0; i < VF_ARRAY_SIZE(REPORT_ORDER); i++) {
        struct flow_key fm = {0}, o;
        field_storage_mask(&FIELDS[REPORT_ORDER[i]], &fm);
        key_and(&o, &fm, bad);
        if (!key_is_zero(&o)) {
            return &FIELDS[REPORT_ORDER[i]];
        }
    }
    for (size_t i = 0; i < FIELD_N_IDS; i++) {
        struct flow_key fm = {0}, o;
        field_storage_mask(&FIELDS[i], &fm);
        key_and(&o, &fm, bad);
        if (!key_is_zero(&o)) {
            return &FIELDS[i];
        }
    }
    return NULL;
}

static int
validate_error(char **errp, const struct cls_match *m,
               const struct flow_key *bad)
{
    const struct field *f = report_field(bad);
    if (errp) {
        if (!f) {
            const uint8_t *b = (const uint8_t *) bad;
            size_t i = 0;
            while (i < sizeof *bad - 1 && !b[i]) {
                i++;
            }
            *errp = vf_xasprintf("mask bits 0x%02x at byte %zu of the flow "
                                 "key belong to no field", b[i], i);
        } else if (!field_prereq_ok(f->prereq, m)) {
            *errp = vf_xasprintf("%s requires %s", f->name,
                                 field_prereq_describe(f->prereq));
        } else {
            *errp = vf_xasprintf("%s cannot be masked (match all of it or "
                                 "none)", f->name);
        }
    }
    return -EINVAL;
}

/* The flow-key words each field's storage covers, computed once: the
 * validation of every rule added to a classifier runs on them. */
struct field_words {
    uint8_t w0;                  /* First word. */
    uint8_t n;                   /* Words, 1..3. */
    uint64_t m[3];               /* The field's bits in them. */
};

static struct field_words FIELD_WORDS[FIELD_N_IDS];
static pthread_once_t field_words_once = PTHREAD_ONCE_INIT;

static void
field_words_init(void)
{
    for (size_t i = 0; i < FIELD_N_IDS; i++) {
        struct flow_key k = {0};
        field_storage_mask(&FIELDS[i], &k);
        const uint64_t *w = flow_key_words(&k);
        int first = 0, last = FLOW_KEY_N_WORDS - 1;
        while (!w[first]) {
            first++;
        }
        while (!w[last]) {
            last--;
        }
        struct field_words *fw = &FIELD_WORDS[i];
        fw->w0 = (uint8_t) first;
        fw->n = (uint8_t) (last - first + 1);
        for (int j = 0; j < fw->n; j++) {
            fw->m[j] = w[first + j];
        }
    }
}

/* Can 'f' express the bits 'o' ('n' words, nonzero) of its words in 'm'?
 * 'whole': 'o' covers the field entirely. */
static bool
field_can_express_words(const struct field *f, const struct cls_match *m,
                        bool whole)
{
    if (!field_prereq_ok(f->prereq, m)) {
        return false;
    }
    if ((f->flags & FIELD_F_VLAN)
        && !(m->mask.vlan_tci & m->value.vlan_tci & VF_BE16(VLAN_CFI))) {
        return false;
    }
    return (f->flags & FIELD_F_MASKABLE) || whole;
}

int
field_validate_match(const struct cls_match *m, char **errp)
{
    pthread_once(&field_words_once, field_words_init);
    const uint64_t *mk = flow_key_words(&m->mask);
    uint64_t ok[FLOW_KEY_N_WORDS] = {0};
    for (size_t i = 0; i < FIELD_N_IDS; i++) {
        const struct field_words *fw = &FIELD_WORDS[i];
        uint64_t o[3];
        bool any = false, whole = true;
        for (int j = 0; j < fw->n; j++) {
            o[j] = mk[fw->w0 + j] & fw->m[j];
            any |= o[j] != 0;
            whole &= o[j] == fw->m[j];
        }
        if (any && field_can_express_words(&FIELDS[i], m, whole)) {
            for (int j = 0; j < fw->n; j++) {
                ok[fw->w0 + j] |= o[j];
            }
        }
    }
    struct flow_key bad;
    uint64_t *b = flow_key_words_rw(&bad);
    uint64_t any_bad = 0;
    for (int j = 0; j < FLOW_KEY_N_WORDS; j++) {
        b[j] = mk[j] & ~ok[j];
        any_bad |= b[j];
    }
    return any_bad ? validate_error(errp, m, &bad) : 0;
}

/* ---- Parsing values. ---- */

static int
fail(char **errp, const char *fmt, const char *arg)
{
    if (errp) {
        *errp = vf_xasprintf(fmt, arg);
    }
    return -EINVAL;
}

/* Parses a whole decimal or 0x-hex unsigned number. */
static bool
parse_u64(const char *s, uint64_t *v)
{
    if (!isdigit((unsigned char) *s)) {
        return false;
    }
    errno = 0;
    char *end;
    unsigned long long x = strtoull(s, &end, 0);
    if (errno || *end) {
        return false;
    }
    *v = x;
    return true;
}

static int
parse_int_part(const struct field *f, const char *s, uint64_t *v,
               char **errp)
{
    if (!parse_u64(s, v)) {
        return fail(errp, "'%s' is not a number", s);
    }
    uint64_t max = field_max(f);
    if (*v & ~max) {
        if (errp) {
            *errp = vf_xasprintf("%s is out of range (the field's bits are "
                                 "0x%" PRIx64 ")", s, max);
        }
        return -EINVAL;
    }
    return 0;
}

/* Splits "A/B" at its last '/' into 'a' and 'b' (NULL when absent); the
 * caller frees 'a' only. */
static char *
split_mask(const char *text, const char **b)
{
    char *a = vf_xstrdup(text);
    char *slash = strrchr(a, '/');
    *b = NULL;
    if (slash) {
        *slash = '\0';
        *b = slash + 1;
    }
    return a;
}

static const struct {
    const char *name;
    uint8_t value, mask;
} FRAG_WORDS[] = {
    {"no", 0, FLOW_NW_FRAG_ANY},
    {"yes", FLOW_NW_FRAG_ANY, FLOW_NW_FRAG_ANY},
    {"first", FLOW_NW_FRAG_ANY, FLOW_NW_FRAG_ANY | FLOW_NW_FRAG_LATER},
    {"later", FLOW_NW_FRAG_ANY | FLOW_NW_FRAG_LATER,
     FLOW_NW_FRAG_ANY | FLOW_NW_FRAG_LATER},
    {"not_later", 0, FLOW_NW_FRAG_LATER},
};

static const char *const TCP_FLAG_NAMES[] = {
    "fin", "syn", "rst", "psh", "ack", "urg", "ece", "cwr", "ns",
};

static int
parse_tcp_flag_words(const char *s, uint64_t *v, uint64_t *m, char **errp)
{
    *v = *m = 0;
    while (*s) {
        char sign = *s++;
        if (sign != '+' && sign != '-') {
            return fail(errp, "expected '+' or '-' before a flag name at "
                        "'%s'", s - 1);
        }
        size_t len = strcspn(s, "+-");
        size_t i = 0;
        while (i < VF_ARRAY_SIZE(TCP_FLAG_NAMES)
               && !name_is(TCP_FLAG_NAMES[i], s, len)) {
            i++;
        }
        if (i == VF_ARRAY_SIZE(TCP_FLAG_NAMES)) {
            return fail(errp, "unknown TCP flag at '%s' (fin, syn, rst, psh, "
                        "ack, urg, ece, cwr, ns)", s);
        }
        if (*m & (1u << i)) {
            return fail(errp, "TCP flag %s given twice", TCP_FLAG_NAMES[i]);
        }
        *m |= 1u << i;
        *v |= sign == '+' ? 1u << i : 0;
        s += len;
    }
    return 0;
}

static int
parse_int_match(const struct field *f, const char *text,
                const struct field_port_names *names, struct cls_match *delta,
                char **errp)
{
    union field_value v = {0}, m = {0};
    const char *mtext;
    int rc = 0;
    if (f->kind == FIELD_KIND_FRAG) {
        for (size_t i = 0; i < VF_ARRAY_SIZE(FRAG_WORDS); i++) {
            if (!strcmp(text, FRAG_WORDS[i].name)) {
                v.integer = FRAG_WORDS[i].value;
                m.integer = FRAG_WORDS[i].mask;
                field_match_set(delta, f, &v, &m);
                return 0;
            }
        }
        if (!isdigit((unsigned char) text[0])) {
            return fail(errp, "'%s' is not no, yes, first, later, not_later "
                        "or a number", text);
        }
    } else if (f->kind == FIELD_KIND_TCP_FLAGS
               && (text[0] == '+' || text[0] == '-')) {
        rc = parse_tcp_flag_words(text, &v.integer, &m.integer, errp);
        if (!rc) {
            field_match_set(delta, f, &v, &m);
        }
        return rc;
    } else if (f->kind == FIELD_KIND_PORT) {
        rc = field_parse_value(f, text, names, &v, errp);
        if (!rc) {
            field_match_set(delta, f, &v, NULL);
        }
        return rc;
    } else if (f->id == FIELD_DL_VLAN && parse_u64(text, &v.integer)
               && v.integer == 0xffff) {
        /* OVS: dl_vlan=0xffff matches frames without a tag. */
        delta->mask.vlan_tci |= VF_BE16(VLAN_CFI);
        return 0;
    }
    char *vtext = split_mask(text, &mtext);
    if (mtext && !(f->flags & FIELD_F_MASKABLE)) {
        rc = fail(errp, "%s cannot be masked", f->name);
    } else {
        rc = parse_int_part(f, vtext, &v.integer, errp);
        if (!rc && mtext) {
            rc = parse_int_part(f, mtext, &m.integer, errp);
        }
    }
    if (!rc) {
        field_match_set(delta, f, &v, mtext ? &m : NULL);
    }
    free(vtext);
    return rc;
}

static int
parse_ipv4_mask(const char *s, union field_value *m, char **errp)
{
    uint64_t plen;
    if (parse_u64(s, &plen)) {
        if (plen > 32) {
            return fail(errp, "prefix length %s is longer than 32", s);
        }
        m->ipv4 = ipv4_prefix_mask((unsigned int) plen);
        return 0;
    }
    if (ipv4_parse(s, &m->ipv4)) {
        return fail(errp, "'%s' is neither a prefix length nor an IPv4 mask",
                    s);
    }
    return 0;
}

static int
parse_ipv6_mask(const char *s, union field_value *m, char **errp)
{
    uint64_t plen;
    if (parse_u64(s, &plen)) {
        if (plen > 128) {
            return fail(errp, "prefix length %s is longer than 128", s);
        }
        ipv6_prefix_mask((unsigned int) plen, m->ipv6);
        return 0;
    }
    if (ipv6_parse(s, m->ipv6)) {
        return fail(errp, "'%s' is neither a prefix length nor an IPv6 mask",
                    s);
    }
    return 0;
}

static int
parse_addr_match(const struct field *f, const char *text,
                 struct cls_match *delta, char **errp)
{
    union field_value v = {0}, m = {0};
    const char *mtext;
    char *vtext = split_mask(text, &mtext);
    int rc = field_parse_value(f, vtext, NULL, &v, errp);
    if (!rc && mtext) {
        if (f->kind == FIELD_KIND_IPV4) {
            rc = parse_ipv4_mask(mtext, &m, errp);
        } else if (f->kind == FIELD_KIND_IPV6) {
            rc = parse_ipv6_mask(mtext, &m, errp);
        } else if (eth_addr_parse(mtext, &m.mac)) {
            rc = fail(errp, "'%s' is not an Ethernet mask", mtext);
        }
    }
    if (!rc) {
        field_match_set(delta, f, &v, mtext ? &m : NULL);
    }
    free(vtext);
    return rc;
}

int
field_parse_match(const struct field *f, const char *text,
                  const struct field_port_names *names,
                  struct cls_match *delta, char **errp)
{
    if (!*text) {
        return fail(errp, "%s needs a value", f->name);
    }
    return field_is_int(f) ? parse_int_match(f, text, names, delta, errp)
                           : parse_addr_match(f, text, delta, errp);
}

static int
parse_port(const char *text, const struct field_port_names *names,
           uint64_t *number, char **errp)
{
    if (parse_u64(text, number)) {
        return *number > UINT32_MAX
                   ? fail(errp, "port number %s is out of range", text)
                   : 0;
    }
    uint32_t n;
    if (names && names->name_to_number
        && !names->name_to_number(names->aux, text, &n)) {
        *number = n;
        return 0;
    }
    return fail(errp, "unknown port '%s'", text);
}

int
field_parse_value(const struct field *f, const char *text,
                  const struct field_port_names *names,
                  union field_value *value, char **errp)
{
    memset(value, 0, sizeof *value);
    switch (f->kind) {
    case FIELD_KIND_PORT:
        return parse_port(text, names, &value->integer, errp);
    case FIELD_KIND_MAC:
        return eth_addr_parse(text, &value->mac)
                   ? fail(errp, "'%s' is not an Ethernet address", text)
                   : 0;
    case FIELD_KIND_IPV4:
        return ipv4_parse(text, &value->ipv4)
                   ? fail(errp, "'%s' is not an IPv4 address", text)
                   : 0;
    case FIELD_KIND_IPV6:
        return ipv6_parse(text, value->ipv6)
                   ? fail(errp, "'%s' is not an IPv6 address", text)
                   : 0;
    case FIELD_KIND_DEC:
    case FIELD_KIND_HEX:
    case FIELD_KIND_FRAG:
    case FIELD_KIND_TCP_FLAGS:
        break;
    }
    return parse_int_part(f, text, &value->integer, errp);
}

/* ---- Formatting. ---- */

static void
format_int(const struct field *f, uint64_t v, struct vf_buf *out)
{
    if (f->kind == FIELD_KIND_HEX || f->kind == FIELD_KIND_TCP_FLAGS) {
        int width = f->size == 2 && f->bits == 0xffff ? 4 : 1;
        vf_buf_printf(out, "0x%0*" PRIx64, width, v);
    } else {
        vf_buf_printf(out, "%" PRIu64, v);
    }
}

void
field_format_value(const struct field *f, const union field_value *value,
                   const struct field_port_names *names, struct vf_buf *out)
{
    char s[IPV6_STRLEN];
    switch (f->kind) {
    case FIELD_KIND_MAC:
        vf_buf_puts(out, eth_addr_format(&value->mac, s));
        return;
    case FIELD_KIND_IPV4:
        vf_buf_puts(out, ipv4_format(value->ipv4, s));
        return;
    case FIELD_KIND_IPV6:
        vf_buf_puts(out, ipv6_format(value->ipv6, s));
        return;
    case FIELD_KIND_PORT: {
        char name[64];
        if (names && names->number_to_name
            && names->number_to_name(names->aux, (uint32_t) value->integer,
                                     name, sizeof name)) {
            name[sizeof name - 1] = '\0';
            vf_buf_puts(out, name);
        } else {
            vf_buf_printf(out, "%" PRIu64, value->integer);
        }
        return;
    }
    case FIELD_KIND_DEC:
    case FIELD_KIND_HEX:
    case FIELD_KIND_FRAG:
    case FIELD_KIND_TCP_FLAGS:
        format_int(f, value->integer, out);
        return;
    }
}

/* Returns the prefix length of the contiguous mask 'm' of 'size' bytes, or
 * -1 if it is not a prefix. */
static int
prefix_len(const uint8_t *m, int size)
{
    int plen = 0, i = 0;
    while (i < size && m[i] == 0xff) {
        plen += 8, i++;
    }
    if (i < size) {
        uint8_t b = m[i];
        while (b & 0x80) {
            plen++, b = (uint8_t) (b << 1);
        }
        if (b) {
            return -1;
        }
        for (i++; i < size; i++) {
            if (m[i]) {
                return -1;
            }
        }
    }
    return plen;
}

static void
format_addr_match(const struct field *f, const union field_value *v,
                  const union field_value *m, struct vf_buf *out)
{
    char s[IPV6_STRLEN];
    field_format_value(f, v, NULL, out);
    int plen = prefix_len(m->bytes, f->size);
    if (plen == f->size * 8) {
        return;
    }
    if (f->kind == FIELD_KIND_MAC) {
        vf_buf_printf(out, "/%s", eth_addr_format(&m->mac, s));
    } else if (plen >= 0) {
        vf_buf_printf(out, "/%d", plen);
    } else if (f->kind == FIELD_KIND_IPV4) {
        vf_buf_printf(out, "/%s", ipv4_format(m->ipv4, s));
    } else {
        vf_buf_printf(out, "/%s", ipv6_format(m->ipv6, s));
    }
}

static void
format_int_match(const struct field *f, uint64_t v, uint64_t m,
                 const struct field_port_names *names, struct vf_buf *out)
{
    if (f->kind == FIELD_KIND_FRAG) {
        for (size_t i = 0; i < VF_ARRAY_SIZE(FRAG_WORDS); i++) {
            if (FRAG_WORDS[i].value == v && FRAG_WORDS[i].mask == m) {
                vf_buf_puts(out, FRAG_WORDS[i].name);
                return;
            }
        }
        vf_buf_printf(out, "0x%" PRIx64 "/0x%" PRIx64, v, m);
        return;
    }
    if (f->kind == FIELD_KIND_TCP_FLAGS && m
        && !(m >> VF_ARRAY_SIZE(TCP_FLAG_NAMES))) {
        /* Named flags only: Open vSwitch's "+syn-ack" form. */
        for (size_t i = 0; i < VF_ARRAY_SIZE(TCP_FLAG_NAMES); i++) {
            if (m & (1u << i)) {
                vf_buf_printf(out, "%c%s", v & (1u << i) ? '+' : '-',
                              TCP_FLAG_NAMES[i]);
            }
        }
        return;
    }
    union field_value fv = {.integer = v};
    field_format_value(f, &fv, names, out);
    if (m != field_max(f)) {
        vf_buf_printf(out, "/0x%" PRIx64, m);
    }
}

void
field_format_match(const struct field *f, const struct cls_match *m,
                   const struct field_port_names *names, struct vf_buf *out)
{
    union field_value v, k;
    field_get(f, &m->value, &v);
    field_get(f, &m->mask, &k);
    vf_buf_printf(out, "%s=", f->name);
    if (field_is_int(f)) {
        format_int_match(f, v.integer, k.integer, names, out);
    } else {
        format_addr_match(f, &v, &k, out);
    }
}
