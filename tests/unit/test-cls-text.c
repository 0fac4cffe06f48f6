/* SPDX-License-Identifier: Apache-2.0 */
/* cls-text: canonical formatting of hand-written rules, port names through
 * the caller's callbacks, a table of malformed rules with the exact
 * message (column, token, reason) each must produce, filters, and the round
 * trip format -> parse -> same rule (and same text) on random rules built
 * from every field, mask and action kind. */
#include "harness.h"

#include "cls/cls-text.h"
#include "net/addr.h"
#include "test-cls-gen.h"
#include "util/buf.h"

/* Ports tap0..tap9 are numbers 100..109. */
static int
name_to_number(void *aux, const char *name, uint32_t *number)
{
    (void) aux;
    if (!strncmp(name, "tap", 3) && name[3] >= '0' && name[3] <= '9'
        && !name[4]) {
        *number = 100 + (uint32_t) (name[3] - '0');
        return 0;
    }
    return -ENOENT;
}

static bool
number_to_name(void *aux, uint32_t number, char *buf, size_t size)
{
    (void) aux;
    if (number >= 100 && number <= 109) {
        snprintf(buf, size, "tap%u", number - 100);
        return true;
    }
    return false;
}

static const struct field_port_names NAMES = {name_to_number,
                                              number_to_name, NULL};

/* Parses 'text' and returns its canonical form, or "ERROR: message". */
static char *
canon(const char *text)
{
    struct cls_rule_spec spec;
    char *err = NULL;
    if (cls_text_parse_rule(text, &NAMES, &spec, &err)) {
        char *s = vf_xasprintf("ERROR: %s", err);
        free(err);
        return s;
    }
    struct vf_buf b = VF_BUF_INITIALIZER;
    cls_text_format_spec(&spec, &NAMES, &b);
    return vf_buf_steal(&b);
}

static void
check_canon(const char *in, const char *want)
{
    char *got = canon(in);
    if (strcmp(got, want)) {
        fprintf(stderr, "  input: %s\n", in);
    }
    CHECK_STR(got, want);
    free(got);
}

static void
test_golden(void)
{
    static const struct {
        const char *in, *out;
    } cases[] = {
        {"table=0,priority=100,in_port=tap1,dl_type=0x0800,"
         "nw_dst=10.0.0.0/24,actions=output:tap2",
         "table=0,priority=100,ip,in_port=tap1,nw_dst=10.0.0.0/24,"
         "actions=output:tap2"},
        {"actions=drop", "table=0,priority=32768,actions=drop"},
        {"actions=", "table=0,priority=32768,actions=drop"},
        {"  tcp  tp_dst=80 , nw_src=10.1.2.3 priority=7 actions=normal",
         "table=0,priority=7,tcp,nw_src=10.1.2.3,tp_dst=80,actions=normal"},
        {"nw_src=192.168.0.0/16,ip,actions=flood",
         "table=0,priority=32768,ip,nw_src=192.168.0.0/16,actions=flood"},
        {"dl_type=0x86dd,nw_proto=58,icmp_type=135,"
         "nd_target=fe80::1,actions=controller",
         "table=0,priority=32768,icmp6,icmp_type=135,nd_target=fe80::1,"
         "actions=controller"},
        {"arp,arp_op=1,nw_dst=10.0.0.1,actions=controller:128",
         "table=0,priority=32768,arp,arp_tpa=10.0.0.1,arp_op=1,"
         "actions=controller:128"},
        {"vlan_vid=10,vlan_pcp=3,actions=strip_vlan,output:3",
         "table=0,priority=32768,dl_vlan=10,dl_vlan_pcp=3,"
         "actions=strip_vlan,output:3"},
        {"dl_vlan=0xffff,actions=mod_vlan_vid:20,output:4",
         "table=0,priority=32768,vlan_tci=0x0000/0x1000,"
         "actions=mod_vlan_vid:20,output:4"},
        {"vlan_tci=0x1005/0x1f0f,actions=drop",
         "table=0,priority=32768,vlan_tci=0x1005/0x1f0f,actions=drop"},
        {"ip,ip_frag=first,nw_tos=16,nw_ecn=1,nw_ttl=1,actions=drop",
         "table=0,priority=32768,ip,nw_tos=16,nw_ecn=1,nw_ttl=1,"
         "ip_frag=first,actions=drop"},
        {"ip,ip_dscp=46,actions=drop",
         "table=0,priority=32768,ip,nw_tos=184,actions=drop"},
        {"tcp,tcp_flags=+syn-ack,actions=drop",
         "table=0,priority=32768,tcp,tcp_flags=+syn-ack,actions=drop"},
        {"tcp6,tcp_flags=0x801/0xfff,actions=drop",
         "table=0,priority=32768,tcp6,tcp_flags=0x801,actions=drop"},
        {"tcp6,tcp_flags=0x800/0x801,actions=drop",
         "table=0,priority=32768,tcp6,tcp_flags=0x800/0x801,actions=drop"},
        {"table=2,cookie=0xabc,idle_timeout=10,hard_timeout=60,priority=1,"
         "udp6,ipv6_src=2001:db8::/32,tp_src=0x400/0xfc00,"
         "actions=meter:3,set_field:2001:db8::1->ipv6_dst,"
         "mirror:spy,goto_table:5",
         "table=2,priority=1,cookie=0xabc,idle_timeout=10,hard_timeout=60,"
         "udp6,ipv6_src=2001:db8::/32,tp_src=1024/0xfc00,"
         "actions=meter:3,set_field:2001:db8::1->ipv6_dst,mirror:spy,"
         "goto_table:5"},
        {"dl_src=02:00:00:00:00:01/ff:ff:ff:00:00:00,"
         "actions=set_field:aa:bb:cc:dd:ee:ff->dl_dst,output:7",
         "table=0,priority=32768,dl_src=02:00:00:00:00:00/"
         "ff:ff:ff:00:00:00,actions=set_field:aa:bb:cc:dd:ee:ff->dl_dst,"
         "output:7"},
        {"ip,nw_dst=10.0.0.5/255.255.0.255,actions=mod_nw_src:1.2.3.4",
         "table=0,priority=32768,ip,nw_dst=10.0.0.5/255.255.0.255,"
         "actions=set_field:1.2.3.4->nw_src"},
        {"tun_id=0x1389,tun_src=192.0.2.1,actions=push_vlan:0x88a8",
         "table=0,priority=32768,tun_id=0x1389,tun_src=192.0.2.1,"
         "actions=push_vlan:0x88a8"},
        {"in_port=3,actions=output:tap9,output:110",
         "table=0,priority=32768,in_port=3,actions=output:tap9,"
         "output:110"},
        {"sctp6,tp_dst=9,actions=pop_vlan",
         "table=0,priority=32768,sctp6,tp_dst=9,actions=strip_vlan"},
        {"dl_type=0x0800,nw_proto=47,actions=drop",
         "table=0,priority=32768,ip,nw_proto=47,actions=drop"},
        {"dl_type=0x88cc,actions=drop",
         "table=0,priority=32768,dl_type=0x88cc,actions=drop"},
        {"ip,ip_frag=0x2/0x2,actions=drop",
         "table=0,priority=32768,ip,ip_frag=0x2/0x2,actions=drop"},
    };
    for (size_t i = 0; i < VF_ARRAY_SIZE(cases); i++) {
        check_canon(cases[i].in, cases[i].out);
        check_canon(cases[i].out, cases[i].out);     /* A fixed point. */
    }
}

static void
test_errors(void)
{
    static const struct {
        const char *in, *err;
    } cases[] = {
        {"table=0,priority=70000,actions=drop",
         "column 9: 'priority=70000': priority must be a number from 0 to "
         "65535"},
        {"ip,nw_dst=10.0.0.0/33,actions=drop",
         "column 4: 'nw_dst=10.0.0.0/33': prefix length 33 is longer than "
         "32"},
        {"nw_src=10.0.0.1,actions=drop",
         "column 1: 'nw_src=10.0.0.1': nw_src requires ip or arp "
         "(dl_type=0x0800 or 0x0806)"},
        {"ip,tp_dst=80,actions=drop",
         "column 4: 'tp_dst=80': tp_dst requires tcp, udp or sctp (ip or "
         "ipv6 with nw_proto=6, 17 or 132)"},
        {"nw_proto=6,actions=drop",
         "column 1: 'nw_proto=6': nw_proto requires ip or ipv6 "
         "(dl_type=0x0800 or 0x86dd)"},
        {"ip,ipv6,actions=drop",
         "column 4: 'ipv6': contradicts an earlier item"},
        {"tcp,nw_proto=17,actions=drop",
         "column 5: 'nw_proto=17': contradicts an earlier item"},
        {"foo=1,actions=drop",
         "column 1: 'foo=1': unknown field or keyword 'foo'"},
        {"ip", "column 3: missing actions= at the end (actions=drop drops)"},
        {"", "column 1: missing actions= at the end (actions=drop drops)"},
        {"in_port=,actions=drop", "column 1: 'in_port=': in_port needs a "
                                  "value"},
        {"in_port,actions=drop", "column 1: 'in_port': in_port needs a "
                                 "value (in_port=VALUE)"},
        {"in_port=tapX,actions=drop",
         "column 1: 'in_port=tapX': unknown port 'tapX'"},
        {"dl_vlan=5000,actions=drop",
         "column 1: 'dl_vlan=5000': 5000 is out of range (the field's bits "
         "are 0xfff)"},
        {"tcp,tcp_flags=+syx,actions=drop",
         "column 5: 'tcp_flags=+syx': unknown TCP flag at 'syx' (fin, syn, "
         "rst, psh, ack, urg, ece, cwr, ns)"},
        {"table=1,table=2,actions=drop",
         "column 9: 'table=2': table given twice"},
        {"table=256,actions=drop",
         "column 1: 'table=256': table must be a number from 0 to 254"},
        {"priority=1,idle_timeout=x,actions=drop",
         "column 12: 'idle_timeout=x': idle_timeout must be a number from 0 "
         "to 65535"},
        {"cookie=1/2,actions=drop",
         "column 1: 'cookie=1/2': cookie must be a number from 0 to "
         "18446744073709551615"},
        {"actions=output", "column 9: 'output': output needs a port "
                           "(output:PORT)"},
        {"actions=output:tapX", "column 9: 'output:tapX': unknown port "
                                "'tapX'"},
        {"actions=drop,output:1", "column 9: 'drop': drop must be the only "
                                  "action"},
        {"actions=output:1,goto_table:1,output:2",
         "column 18: 'goto_table:1': goto_table must be the last action"},
        {"table=3,actions=goto_table:2",
         "column 17: 'goto_table:2': goto_table:2 must name a later table "
         "(4..254) than the rule's table 3"},
        {"actions=output:1,meter:3",
         "column 18: 'meter:3': meter must be the first action"},
        {"actions=set_field:1.2.3.4->nw_dst",
         "column 9: 'set_field:1.2.3.4->nw_dst': set_field: nw_dst requires "
         "the rule to match ip or arp (dl_type=0x0800 or 0x0806)"},
        {"ip,actions=set_field:1.2.3.4/8->nw_dst",
         "column 12: 'set_field:1.2.3.4/8->nw_dst': set_field: masked "
         "values are not supported"},
        {"actions=set_field:5->nw_proto",
         "column 9: 'set_field:5->nw_proto': set_field: nw_proto is not "
         "writable"},
        {"actions=set_field:5", "column 9: 'set_field:5': set_field needs "
                                "VALUE->FIELD"},
        {"actions=set_field:5->bogus", "column 9: 'set_field:5->bogus': "
                                       "set_field: unknown field 'bogus'"},
        {"actions=set_field:5000->vlan_vid",
         "column 9: 'set_field:5000->vlan_vid': set_field: dl_vlan: 5000 is "
         "out of range (the field's bits are 0xfff)"},
        {"actions=encap(vxlan)", "column 9: 'encap(vxlan)': encap is "
                                 "reserved for the overlay and not supported "
                                 "yet"},
        {"actions=decap", "column 9: 'decap': decap is reserved for the "
                          "overlay and not supported yet"},
        {"actions=encap(vxlan", "column 9: 'encap(vxlan': missing ')'"},
        {"actions=output:1,,output:2", "column 18: ',': empty action"},
        {"actions=output:1,", "column 18: empty action"},
        {"actions=mirror:this-name-is-too-long",
         "column 9: 'mirror:this-name-is-too-long': mirror needs a name of "
         "1 to 15 letters, digits, '_', '-' or '.' (mirror:NAME)"},
        {"actions=controller:99999", "column 9: 'controller:99999': "
                                     "controller:99999 is too long"},
        {"actions=mod_vlan_vid:4096", "column 9: 'mod_vlan_vid:4096': "
                                      "mod_vlan_vid:4096 is not a VLAN id "
                                      "(0..4095)"},
        {"actions=push_vlan:0x800", "column 9: 'push_vlan:0x800': "
                                    "push_vlan:0x800 is not 0x8100 or "
                                    "0x88a8"},
        {"actions=strip_vlan:1", "column 9: 'strip_vlan:1': strip_vlan "
                                 "takes no argument"},
        {"actions=teleport:1", "column 9: 'teleport:1': unknown action "
                               "'teleport'"},
        {"actions=meter:x", "column 9: 'meter:x': meter: 'x' is not a "
                            "number"},
    };
    for (size_t i = 0; i < VF_ARRAY_SIZE(cases); i++) {
        char *want = vf_xasprintf("ERROR: %s", cases[i].err);
        check_canon(cases[i].in, want);
        free(want);
    }
    /* Long tokens are cut in the message. */
    struct vf_buf b = VF_BUF_INITIALIZER;
    vf_buf_puts(&b, "ip,nw_dst=");
    for (int i = 0; i < 100; i++) {
        vf_buf_putc(&b, '9');
    }
    vf_buf_puts(&b, ",actions=drop");
    char *got = canon(vf_buf_cstr(&b));
    CHECK(strstr(got, "ERROR: column 4: 'nw_dst=999"));
    CHECK(strstr(got, "...': '999"));
    free(got);
    vf_buf_uninit(&b);
}

static void
test_filters_and_matches(void)
{
    struct cls_filter f;
    char *err = NULL;
    CHECK_EQ_I(cls_text_parse_filter("", NULL, false, &f, NULL), 0);
    CHECK_EQ_I(f.table, CLS_ALL_TABLES);
    CHECK(cls_match_is_catchall(&f.match));
    CHECK_EQ_I(cls_text_parse_filter("table=3,cookie=0x10/0xf0,tcp", NULL,
                                     false, &f, NULL), 0);
    CHECK_EQ_I(f.table, 3);
    CHECK_EQ_U(f.cookie, 0x10);
    CHECK_EQ_U(f.cookie_mask, 0xf0);
    CHECK_EQ_I(cls_text_parse_filter("cookie=5", NULL, false, &f, NULL), 0);
    CHECK_EQ_U(f.cookie_mask, UINT64_MAX);
    CHECK_EQ_I(cls_text_parse_filter("priority=4,ip", NULL, false, &f,
                                     &err), -EINVAL);
    CHECK_STR(err, "column 1: 'priority=4': priority is not allowed here");
    free(err);
    CHECK_EQ_I(cls_text_parse_filter("ip", NULL, true, &f, NULL), 0);
    CHECK(f.strict);
    CHECK_EQ_U(f.priority, CLS_DEFAULT_PRIORITY);
    CHECK_EQ_I(cls_text_parse_filter("ip,priority=9", NULL, true, &f, NULL),
               0);
    CHECK_EQ_U(f.priority, 9);
    CHECK_EQ_I(cls_text_parse_filter("ip,actions=drop", NULL, false, &f,
                                     &err), -EINVAL);
    CHECK_STR(err, "column 4: 'actions=drop': actions are not allowed here");
    free(err);
    CHECK_EQ_I(cls_text_parse_filter("idle_timeout=3", NULL, false, &f,
                                     &err), -EINVAL);
    CHECK_STR(err, "column 1: 'idle_timeout=3': idle_timeout is not "
                   "allowed here");
    free(err);

    struct cls_match m;
    CHECK_EQ_I(cls_text_parse_match("table=1,ip", NULL, &m, &err), -EINVAL);
    CHECK_STR(err, "column 1: 'table=1': table is not allowed here");
    free(err);
    CHECK_EQ_I(cls_text_parse_match("udp,tp_dst=53", NULL, &m, NULL), 0);
    struct vf_buf b = VF_BUF_INITIALIZER;
    cls_text_format_match(&m, NULL, &b);
    CHECK_STR(vf_buf_cstr(&b), "udp,tp_dst=53");
    vf_buf_clear(&b);
    cls_match_init_catchall(&m);
    cls_text_format_match(&m, NULL, &b);
    CHECK_STR(vf_buf_cstr(&b), "");
    vf_buf_uninit(&b);
}

static void
test_format_rule_stats(void)
{
    test_rcu_thread();
    struct cls *cls = cls_create(NULL);
    struct cls_rule_spec spec;
    const struct cls_rule *r;
    VF_VERIFY(!cls_text_parse_rule("priority=5,idle_timeout=9,udp,"
                                   "actions=output:tap3", &NAMES, &spec,
                                   NULL));
    VF_VERIFY(cls_add(cls, &spec, 1000000000, &r, NULL) == 0);
    cls_rule_hit(r, 2, 120, 2500000000);
    struct vf_buf b = VF_BUF_INITIALIZER;
    cls_text_format_rule(r, &NAMES, true, 4000000000, &b);
    CHECK_STR(vf_buf_cstr(&b),
              "duration=3.000s, n_packets=2, n_bytes=120, idle_age=1.500s, "
              "table=0,priority=5,idle_timeout=9,udp,actions=output:tap3");
    vf_buf_clear(&b);
    cls_text_format_rule(r, &NAMES, false, 0, &b);
    CHECK_STR(vf_buf_cstr(&b),
              "table=0,priority=5,idle_timeout=9,udp,actions=output:tap3");
    vf_buf_uninit(&b);
    cls_destroy(cls);
}

/* ---- Random round trip. ---- */

static void
rand_bytes(struct vf_random *rng, uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        p[i] = (uint8_t) vf_random_u32(rng);
    }
}

/* A random value (and mask, sometimes) for 'f'. */
static void
rand_field(struct vf_random *rng, struct cls_match *m, const struct field *f)
{
    union field_value v = {0}, mask = {0};
    bool masked = (f->flags & FIELD_F_MASKABLE) && gen_r(rng, 2);
    if (f->kind < FIELD_KIND_MAC) {
        uint64_t max = field_max(f);
        v.integer = vf_random_u64(rng) & max;
        if (f->id == FIELD_NW_TOS) {
            v.integer &= 0xfc;
        }
        mask.integer = vf_random_u64(rng) & max;
        if (f->kind == FIELD_KIND_PORT) {
            v.integer = gen_r(rng, 2) ? 100 + gen_r(rng, 10)
                                      : vf_random_u32(rng);
        }
    } else {
        rand_bytes(rng, v.bytes, f->size);
        if (gen_r(rng, 2) && f->kind != FIELD_KIND_MAC) {
            unsigned int plen = gen_r(rng, f->size * 8u + 1);
            if (f->kind == FIELD_KIND_IPV4) {
                mask.ipv4 = ipv4_prefix_mask(plen);
            } else {
                ipv6_prefix_mask(plen, mask.ipv6);
            }
        } else {
            rand_bytes(rng, mask.bytes, f->size);
        }
    }
    field_match_set(m, f, &v, masked ? &mask : NULL);
}

static void
set_exact(struct cls_match *m, enum field_id id, uint64_t value)
{
    union field_value v = {.integer = value};
    field_match_set(m, field_from_id(id), &v, NULL);
}

/* A random valid match over every field. */
static void
rand_match(struct vf_random *rng, struct cls_match *m)
{
    static const struct {
        uint16_t dl_type;
        int proto;
    } ctx[] = {
        {0, -1}, {ETH_TYPE_IPV4, -1}, {ETH_TYPE_IPV6, -1},
        {ETH_TYPE_ARP, -1}, {ETH_TYPE_IPV4, IP_PROTO_TCP},
        {ETH_TYPE_IPV4, IP_PROTO_UDP}, {ETH_TYPE_IPV4, IP_PROTO_SCTP},
        {ETH_TYPE_IPV4, IP_PROTO_ICMP}, {ETH_TYPE_IPV6, IP_PROTO_TCP},
        {ETH_TYPE_IPV6, IP_PROTO_UDP}, {ETH_TYPE_IPV6, IP_PROTO_ICMPV6},
        {ETH_TYPE_IPV4, 47}, {0x88cc, -1},
    };
    memset(m, 0, sizeof *m);
    size_t c = gen_r(rng, VF_ARRAY_SIZE(ctx));
    if (ctx[c].dl_type) {
        set_exact(m, FIELD_DL_TYPE, ctx[c].dl_type);
    }
    if (ctx[c].proto >= 0) {
        set_exact(m, FIELD_NW_PROTO, (uint64_t) ctx[c].proto);
        if (ctx[c].proto == IP_PROTO_ICMPV6 && gen_r(rng, 2)) {
            set_exact(m, FIELD_ICMP_TYPE, 135 + gen_r(rng, 2));
        }
    }
    int n_fields = (int) gen_r(rng, 8);
    for (int i = 0; i < n_fields; i++) {
        const struct field *f = field_from_id(
            (enum field_id) gen_r(rng, FIELD_N_IDS));
        if (f->id == FIELD_DL_TYPE || f->id == FIELD_NW_PROTO
            || !field_prereq_ok(f->prereq, m)) {
            continue;
        }
        rand_field(rng, m, f);
    }
}

static void
rand_actions(struct vf_random *rng, struct cls_rule_spec *s)
{
    static const enum field_id writable[] = {
        FIELD_DL_SRC, FIELD_DL_DST, FIELD_DL_VLAN, FIELD_DL_VLAN_PCP,
        FIELD_NW_SRC, FIELD_NW_TOS, FIELD_IP_DSCP, FIELD_NW_TTL,
        FIELD_IPV6_DST, FIELD_TP_DST, FIELD_TUN_ID, FIELD_VLAN_TCI,
        FIELD_ARP_SHA, FIELD_ND_TARGET,
    };
    size_t n = 0;
    if (gen_r(rng, 8) == 0) {
        action_init(&s->actions[n++], ACTION_DROP, 0);
        s->n_actions = 1;
        return;
    }
    if (gen_r(rng, 4) == 0) {
        action_init(&s->actions[n++], ACTION_METER, gen_r(rng, 100));
    }
    int k = 1 + (int) gen_r(rng, 5);
    for (int i = 0; i < k; i++) {
        struct action *a = &s->actions[n];
        switch (gen_r(rng, 9)) {
        case 0:
            action_init(a, ACTION_FLOOD, 0);
            break;
        case 1:
            action_init(a, ACTION_NORMAL, 0);
            break;
        case 2:
            action_init(a, ACTION_CONTROLLER, gen_r(rng, 3) * 64);
            break;
        case 3:
            action_init(a, ACTION_MOD_VLAN_VID, gen_r(rng, 4096));
            break;
        case 4:
            action_init(a, ACTION_STRIP_VLAN, 0);
            break;
        case 5:
            action_init(a, ACTION_PUSH_VLAN,
                        gen_r(rng, 2) ? ETH_TYPE_VLAN : ETH_TYPE_QINQ);
            break;
        case 6:
            VF_VERIFY(!action_init_mirror(a, gen_r(rng, 2) ? "m1"
                                                           : "spy.net-0_x"));
            break;
        case 7: {
            const struct field *f = field_from_id(
                writable[gen_r(rng, VF_ARRAY_SIZE(writable))]);
            if (!field_prereq_ok(f->prereq, &s->match)) {
                continue;
            }
            union field_value v = {0};
            if (f->kind < FIELD_KIND_MAC) {
                v.integer = vf_random_u64(rng) & field_max(f);
            } else {
                rand_bytes(rng, v.bytes, f->size);
            }
            action_init_set_field(a, f->id, &v);
            break;
        }
        default:
            action_init(a, ACTION_OUTPUT,
                        gen_r(rng, 2) ? 100 + gen_r(rng, 12)
                                      : vf_random_u32(rng));
            break;
        }
        n++;
    }
    if (n == 0 || (n == 1 && s->actions[0].type == ACTION_METER)) {
        action_init(&s->actions[n++], ACTION_OUTPUT, 1);
    }
    if (s->table < 254 && gen_r(rng, 4) == 0) {
        action_init(&s->actions[n++], ACTION_GOTO_TABLE,
                    s->table + 1 + gen_r(rng, 254 - s->table));
    }
    s->n_actions = (uint16_t) n;
}

static void
test_round_trip(void)
{
    struct vf_random rng;
    vf_random_init(&rng, 31337);
    struct cls_rule_spec *s = malloc(sizeof *s), *t = malloc(sizeof *t);
    int n_valid = 0;
    for (int iter = 0; iter < 20000; iter++) {
        memset(s, 0, sizeof *s);
        rand_match(&rng, &s->match);
        if (field_validate_match(&s->match, NULL)) {
            continue;               /* E.g. a partial mask on tcp_flags. */
        }
        n_valid++;
        s->table = (uint8_t) gen_r(&rng, 255);
        s->priority = (uint16_t) vf_random_u32(&rng);
        s->cookie = gen_r(&rng, 2) ? vf_random_u64(&rng) : 0;
        s->idle_timeout = (uint16_t) (gen_r(&rng, 2) ? gen_r(&rng, 9) : 0);
        s->hard_timeout = (uint16_t) (gen_r(&rng, 2) ? gen_r(&rng, 9) : 0);
        rand_actions(&rng, s);
        char *err = NULL;
        if (action_list_validate(s->actions, s->n_actions, &s->match,
                                 s->table, CLS_MAX_N_TABLES, NULL, &err)) {
            TEST_FAIL__("generated invalid actions: %s", err);
        }
        struct vf_buf b = VF_BUF_INITIALIZER, b2 = VF_BUF_INITIALIZER;
        cls_text_format_spec(s, &NAMES, &b);
        if (cls_text_parse_rule(vf_buf_cstr(&b), &NAMES, t, &err)) {
            TEST_FAIL__("'%s' does not parse back: %s", vf_buf_cstr(&b),
                        err);
        }
        cls_text_format_spec(t, &NAMES, &b2);
        if (t->table != s->table || t->priority != s->priority
            || t->cookie != s->cookie || t->idle_timeout != s->idle_timeout
            || t->hard_timeout != s->hard_timeout
            || !cls_match_equal(&t->match, &s->match)
            || !action_list_equal(t->actions, t->n_actions, s->actions,
                                  s->n_actions)
            || strcmp(vf_buf_cstr(&b), vf_buf_cstr(&b2))) {
            TEST_FAIL__("round trip changed the rule:\n    %s\n -> %s",
                        vf_buf_cstr(&b), vf_buf_cstr(&b2));
        }
        vf_buf_uninit(&b);
        vf_buf_uninit(&b2);
    }
    printf("  round trip: %d random valid rules\n", n_valid);
    CHECK(n_valid > 15000);
    free(s);
    free(t);
}

static const struct test_case cases[] = {
    TEST(test_golden),
    TEST(test_errors),
    TEST(test_filters_and_matches),
    TEST(test_format_rule_stats),
    TEST(test_round_trip),
};

TEST_MAIN(cases)
