/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VFAB_TESTS_TEST_CLS_GEN_H
#define VFAB_TESTS_TEST_CLS_GEN_H 1

/* Random flow keys and rules for the classifier tests (test-cls.c,
 * test-emc.c, test-cls-text.c).  Header-only.
 *
 * Keys come from a small universe (4 ports, 4 MACs, addresses in
 * 10.{0,1}.{0..3}.{0..7} and 2001:db8::{0..3}:{0..7}, a few L4 ports), so
 * that random keys hit random rules often and IP prefixes of different
 * lengths overlap.  Rules take one of TEMPLATES' field sets, the values of a
 * random key of a compatible protocol, and random prefix lengths, so a rule
 * set has many distinct masks; priorities come from a narrow range (many
 * ties, which exercises the tie rule) or the whole range. */

#include <string.h>

#include "cls/cls.h"
#include "cls/field.h"
#include "net/addr.h"
#include "util/random.h"
#include "util/rcu.h"

/* Registers the calling thread with RCU once (a failed check longjmps out
 * of a test, so tests cannot rely on unregistering at their end). */
static inline void
test_rcu_thread(void)
{
    static _Thread_local bool registered;
    if (!registered) {
        vf_rcu_register_thread();
        registered = true;
    }
}

/* cls_lookup() in its own read-side section, so that a failing check
 * never leaves one open (which would stall every later grace period).
 * Only for single-threaded tests: the rule stays valid because nothing
 * removes it concurrently. */
static inline const struct cls_rule *
test_lookup(const struct cls *cls, unsigned int table,
            const struct flow_key *key)
{
    vf_rcu_read_lock();
    const struct cls_rule *r = cls_lookup(cls, table, key);
    vf_rcu_read_unlock();
    return r;
}

enum gen_proto {
    GEN_TCP4,
    GEN_UDP4,
    GEN_ICMP4,
    GEN_TCP6,
    GEN_ARP,
    GEN_OTHER,
    GEN_N_PROTOS
};

static inline uint32_t
gen_r(struct vf_random *rng, uint32_t n)
{
    return vf_random_range(rng, n);
}

static inline void
gen_mac(struct vf_random *rng, struct eth_addr *a)
{
    static const uint8_t macs[4][6] = {
        {0x02, 0, 0, 0, 0, 1}, {0x02, 0, 0, 0, 0, 2},
        {0x02, 0, 0, 0, 1, 1}, {0x04, 0, 0, 0, 0, 9},
    };
    memcpy(a->ea, macs[gen_r(rng, 4)], 6);
}

static inline vf_be32
gen_ipv4(struct vf_random *rng)
{
    return vf_htonl(10u << 24 | gen_r(rng, 2) << 16 | gen_r(rng, 4) << 8
                    | gen_r(rng, 8));
}

static inline void
gen_ipv6(struct vf_random *rng, uint8_t a[16])
{
    static const uint8_t base[16] = {0x20, 0x01, 0x0d, 0xb8};
    memcpy(a, base, 16);
    a[11] = (uint8_t) gen_r(rng, 4);
    a[15] = (uint8_t) gen_r(rng, 8);
}

/* A random key of protocol 'proto' (GEN_N_PROTOS: any). */
static inline void
gen_key(struct vf_random *rng, struct flow_key *k, enum gen_proto proto)
{
    static const uint16_t tp_dsts[4] = {80, 443, 53, 22};
    memset(k, 0, sizeof *k);
    if (proto == GEN_N_PROTOS) {
        proto = (enum gen_proto) gen_r(rng, GEN_N_PROTOS);
    }
    k->in_port = 1 + gen_r(rng, 4);
    k->tun_id = gen_r(rng, 4) ? 0 : 5001;
    gen_mac(rng, &k->dl_dst);
    gen_mac(rng, &k->dl_src);
    switch (gen_r(rng, 3)) {
    case 1:
        k->vlan_tci = vf_htons(VLAN_CFI | 5);
        k->vlan_tpid = VF_BE16(ETH_TYPE_VLAN);
        break;
    case 2:
        k->vlan_tci = vf_htons(VLAN_CFI | 3 << VLAN_PCP_SHIFT | 6);
        k->vlan_tpid = VF_BE16(ETH_TYPE_VLAN);
        break;
    default:
        break;
    }
    switch (proto) {
    case GEN_TCP4:
    case GEN_UDP4:
    case GEN_ICMP4:
        k->dl_type = VF_BE16(ETH_TYPE_IPV4);
        k->nw_src = gen_ipv4(rng);
        k->nw_dst = gen_ipv4(rng);
        k->nw_tos = (uint8_t) (gen_r(rng, 4) << 2);
        k->nw_ttl = 64;
        k->nw_frag = gen_r(rng, 8) ? 0 : FLOW_NW_FRAG_ANY;
        break;
    case GEN_TCP6:
        k->dl_type = VF_BE16(ETH_TYPE_IPV6);
        gen_ipv6(rng, k->ipv6_src);
        gen_ipv6(rng, k->ipv6_dst);
        k->ipv6_label = vf_htonl(gen_r(rng, 2));
        k->nw_ttl = 64;
        break;
    case GEN_ARP:
        k->dl_type = VF_BE16(ETH_TYPE_ARP);
        k->nw_src = gen_ipv4(rng);
        k->nw_dst = gen_ipv4(rng);
        k->arp_op = vf_htons((uint16_t) (1 + gen_r(rng, 2)));
        gen_mac(rng, &k->arp_sha);
        break;
    case GEN_OTHER:
    case GEN_N_PROTOS:
        k->dl_type = VF_BE16(0x88cc);
        break;
    }
    if (proto == GEN_TCP4 || proto == GEN_TCP6) {
        k->nw_proto = IP_PROTO_TCP;
        k->tcp_flags = vf_htons(gen_r(rng, 2) ? 0x002 : 0x010);
    } else if (proto == GEN_UDP4) {
        k->nw_proto = IP_PROTO_UDP;
    } else if (proto == GEN_ICMP4) {
        k->nw_proto = IP_PROTO_ICMP;
        k->tp_src = vf_htons(gen_r(rng, 2) ? 8 : 0);
    }
    if (proto == GEN_TCP4 || proto == GEN_UDP4 || proto == GEN_TCP6) {
        k->tp_src = vf_htons((uint16_t) (1000 + gen_r(rng, 4)));
        k->tp_dst = vf_htons(tp_dsts[gen_r(rng, 4)]);
    }
}

static inline void
gen_set(struct cls_match *m, enum field_id id, const struct flow_key *k,
        const union field_value *mask)
{
    const struct field *f = field_from_id(id);
    union field_value v;
    field_get(f, k, &v);
    field_match_set(m, f, &v, mask);
}

static inline void
gen_set_prefix4(struct vf_random *rng, struct cls_match *m, enum field_id id,
                const struct flow_key *k)
{
    static const unsigned int plens[] = {8, 16, 22, 24, 30, 32};
    union field_value mask = {0};
    mask.ipv4 = ipv4_prefix_mask(plens[gen_r(rng, 6)]);
    gen_set(m, id, k, &mask);
}

static inline void
gen_set_dl_type(struct cls_match *m, const struct flow_key *k)
{
    gen_set(m, FIELD_DL_TYPE, k, NULL);
}

/* Number of rule templates. */
#define GEN_N_TEMPLATES 17

/* Makes 'm' a random rule match of template 't' (0..GEN_N_TEMPLATES-1),
 * valid for cls_add(). */
static inline void
gen_match(struct vf_random *rng, struct cls_match *m, unsigned int t)
{
    static const enum gen_proto need[GEN_N_TEMPLATES] = {
        GEN_N_PROTOS, GEN_N_PROTOS, GEN_UDP4, GEN_TCP4, GEN_TCP4, GEN_UDP4,
        GEN_N_PROTOS, GEN_TCP6, GEN_ARP, GEN_N_PROTOS, GEN_N_PROTOS,
        GEN_ICMP4, GEN_TCP4, GEN_N_PROTOS, GEN_N_PROTOS, GEN_TCP4,
        GEN_TCP6,
    };
    struct flow_key k;
    enum gen_proto p = need[t];
    if ((t == 2 || t == 3) && gen_r(rng, 3) == 0) {
        p = GEN_ARP;                 /* nw_src/nw_dst also under arp. */
    }
    gen_key(rng, &k, p);
    memset(m, 0, sizeof *m);
    union field_value mask = {0};
    switch (t) {
    case 0:
        gen_set(m, FIELD_IN_PORT, &k, NULL);
        break;
    case 1:
        gen_set(m, FIELD_DL_DST, &k, NULL);
        break;
    case 2:
        gen_set_dl_type(m, &k);
        gen_set_prefix4(rng, m, FIELD_NW_DST, &k);
        break;
    case 3:
        gen_set_dl_type(m, &k);
        gen_set_prefix4(rng, m, FIELD_NW_SRC, &k);
        gen_set_prefix4(rng, m, FIELD_NW_DST, &k);
        break;
    case 4:
        gen_set_dl_type(m, &k);
        gen_set(m, FIELD_NW_PROTO, &k, NULL);
        gen_set(m, FIELD_TP_DST, &k, NULL);
        break;
    case 5:
        gen_set(m, FIELD_IN_PORT, &k, NULL);
        gen_set_dl_type(m, &k);
        gen_set_prefix4(rng, m, FIELD_NW_DST, &k);
        gen_set(m, FIELD_NW_PROTO, &k, NULL);
        gen_set(m, FIELD_TP_DST, &k, NULL);
        break;
    case 6:
        gen_set(m, FIELD_VLAN_TCI, &k, NULL);
        break;
    case 7:
        gen_set_dl_type(m, &k);
        ipv6_prefix_mask(32 * (1 + gen_r(rng, 4)) - 8 * gen_r(rng, 2),
                         mask.ipv6);
        gen_set(m, FIELD_IPV6_DST, &k, &mask);
        break;
    case 8:
        gen_set_dl_type(m, &k);
        gen_set_prefix4(rng, m, FIELD_ARP_TPA, &k);
        if (gen_r(rng, 2)) {
            gen_set(m, FIELD_ARP_OP, &k, NULL);
        }
        break;
    case 9:
        memcpy(mask.mac.ea, "\xff\xff\xff\x00\x00\x00", 6);
        gen_set(m, FIELD_DL_SRC, &k, &mask);
        break;
    case 10:
        break;                       /* Catch-all. */
    case 11:
        gen_set_dl_type(m, &k);
        gen_set(m, FIELD_NW_PROTO, &k, NULL);
        gen_set(m, FIELD_ICMP_TYPE, &k, NULL);
        break;
    case 12:
        gen_set_dl_type(m, &k);
        gen_set(m, FIELD_NW_PROTO, &k, NULL);
        mask.integer = 0x012;
        gen_set(m, FIELD_TCP_FLAGS, &k, &mask);
        break;
    case 13:
        gen_set(m, FIELD_IN_PORT, &k, NULL);
        gen_set(m, FIELD_DL_DST, &k, NULL);
        if (k.vlan_tci) {
            gen_set(m, FIELD_DL_VLAN, &k, NULL);
        }
        break;
    case 14:
        gen_set(m, FIELD_TUN_ID, &k, NULL);
        gen_set(m, FIELD_IN_PORT, &k, NULL);
        break;
    case 15:
        gen_set_dl_type(m, &k);
        gen_set(m, FIELD_NW_PROTO, &k, NULL);
        gen_set_prefix4(rng, m, FIELD_NW_SRC, &k);
        mask.integer = 0xfff0;
        gen_set(m, FIELD_TP_SRC, &k, &mask);
        break;
    default:
        /* Nine mask words: the generic (unspecialised) lookup. */
        gen_set(m, FIELD_IN_PORT, &k, NULL);
        gen_set(m, FIELD_DL_DST, &k, NULL);
        gen_set(m, FIELD_DL_SRC, &k, NULL);
        gen_set_dl_type(m, &k);
        gen_set(m, FIELD_NW_PROTO, &k, NULL);
        gen_set(m, FIELD_TP_DST, &k, NULL);
        ipv6_prefix_mask(64 + 8 * gen_r(rng, 9), mask.ipv6);
        gen_set(m, FIELD_IPV6_SRC, &k, &mask);
        gen_set(m, FIELD_IPV6_DST, &k, &mask);
        break;
    }
}

/* A key that matches 'm': its values, with every wildcarded bit random. */
static inline void
gen_key_in(struct vf_random *rng, const struct cls_match *m,
           struct flow_key *k)
{
    uint64_t *w = flow_key_words_rw(k);
    gen_key(rng, k, GEN_N_PROTOS);
    for (int i = 0; i < FLOW_KEY_N_WORDS; i++) {
        uint64_t mk = flow_key_words(&m->mask)[i];
        if (gen_r(rng, 4) == 0) {
            w[i] = vf_random_u64(rng);       /* Noise where unmasked. */
        }
        w[i] = (w[i] & ~mk) | flow_key_words(&m->value)[i];
    }
}

/* A random priority: narrow range (ties) or anything. */
static inline uint16_t
gen_priority(struct vf_random *rng, bool narrow)
{
    return (uint16_t) (narrow ? gen_r(rng, 8) : gen_r(rng, 65536));
}

/* Fills 'spec' with a random rule of 'table', cookie 'cookie', action
 * output:'cookie' (so results can be told apart by either). */
static inline void
gen_spec(struct vf_random *rng, struct cls_rule_spec *spec,
         unsigned int table, uint64_t cookie, bool narrow)
{
    memset(spec, 0, sizeof *spec);
    spec->table = (uint8_t) table;
    spec->priority = gen_priority(rng, narrow);
    gen_match(rng, &spec->match, gen_r(rng, GEN_N_TEMPLATES));
    spec->cookie = cookie;
    spec->n_actions = 1;
    action_init(&spec->actions[0], ACTION_OUTPUT, (uint32_t) cookie);
}

#endif /* test-cls-gen.h */
