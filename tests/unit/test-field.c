/* SPDX-License-Identifier: Apache-2.0 */
/* field: the registry's layout against struct flow_key, sub-fields
 * (dl_vlan, vlan_pcp, ip_dscp, icmp_type), matches built through fields,
 * prerequisites and validation messages, value parsing errors. */
#include "harness.h"

#include "cls/field.h"
#include "net/addr.h"
#include "util/buf.h"

static const struct field *
by_name(const char *name)
{
    return field_from_name(name, strlen(name));
}

static void
test_registry(void)
{
    for (int id = 0; id < FIELD_N_IDS; id++) {
        const struct field *f = field_from_id((enum field_id) id);
        CHECK_EQ_I(f->id, id);
        CHECK(by_name(f->name) == f);
        if (f->alias) {
            CHECK(by_name(f->alias) == f);
        }
        CHECK(f->ofs + f->size <= sizeof(struct flow_key));
        /* A field's storage mask is nonzero and inside its storage. */
        struct flow_key m = {0};
        field_storage_mask(f, &m);
        const uint8_t *b = (const uint8_t *) &m;
        int n = 0;
        for (size_t i = 0; i < sizeof m; i++) {
            if (b[i]) {
                CHECK(i >= f->ofs && i < (size_t) f->ofs + f->size);
                n++;
            }
        }
        CHECK(n > 0);
    }
    CHECK(field_from_id(FIELD_N_IDS) == NULL);
    CHECK(by_name("nw_dstx") == NULL);
    CHECK(field_from_name("nw_dst=1", 6) == by_name("nw_dst"));
    CHECK(by_name("vlan_vid") == field_from_id(FIELD_DL_VLAN));
    CHECK(by_name("eth_type") == field_from_id(FIELD_DL_TYPE));
    CHECK_EQ_U(by_name("tp_dst")->ofs, offsetof(struct flow_key, tp_dst));
}

static void
test_get_set_subfields(void)
{
    struct flow_key k;
    memset(&k, 0, sizeof k);
    union field_value v = {0};
    v.integer = 100;
    field_set(by_name("dl_vlan"), &k, &v);
    v.integer = 5;
    field_set(by_name("vlan_pcp"), &k, &v);
    CHECK_EQ_U(vf_ntohs(k.vlan_tci), 5u << 13 | 100);
    field_get(by_name("dl_vlan_pcp"), &k, &v);
    CHECK_EQ_U(v.integer, 5);
    v.integer = 0xfff + 7;                  /* Truncated to the field. */
    field_set(by_name("dl_vlan"), &k, &v);
    CHECK_EQ_U(vf_ntohs(k.vlan_tci) & 0xfff, 6);

    v.integer = 46;                         /* EF. */
    field_set(by_name("ip_dscp"), &k, &v);
    v.integer = 1;
    field_set(by_name("nw_ecn"), &k, &v);
    CHECK_EQ_U(k.nw_tos, 46 << 2 | 1);
    field_get(by_name("nw_tos"), &k, &v);
    CHECK_EQ_U(v.integer, 46 << 2);

    v.integer = 135;
    field_set(by_name("icmpv6_type"), &k, &v);
    CHECK_EQ_U(k.tp_src, vf_htons(135));
    v.integer = 0x12345678;
    field_set(by_name("tun_id"), &k, &v);
    CHECK_EQ_U(k.tun_id, 0x12345678);       /* Host order metadata. */
    VF_VERIFY(!ipv4_parse("192.0.2.1", &v.ipv4));
    field_set(by_name("arp_spa"), &k, &v);
    CHECK_EQ_U(k.nw_src, v.ipv4);
    field_get(by_name("nw_src"), &k, &v);
    CHECK_EQ_U(v.ipv4, k.nw_src);
    VF_VERIFY(!eth_addr_parse("02:00:00:00:00:07", &v.mac));
    field_set(by_name("nd_sll"), &k, &v);
    CHECK_MEM(k.arp_sha.ea, v.mac.ea, 6);
}

static void
test_match_set(void)
{
    struct cls_match m;
    memset(&m, 0, sizeof m);
    union field_value v = {.integer = 10};
    field_match_set(&m, by_name("dl_vlan"), &v, NULL);
    CHECK_EQ_U(m.mask.vlan_tci, vf_htons(0x1fff));   /* VID + "tagged". */
    CHECK_EQ_U(m.value.vlan_tci, vf_htons(0x100a));
    union field_value mask = {0};
    VF_VERIFY(!ipv4_parse("10.1.2.3", &v.ipv4));
    mask.ipv4 = ipv4_prefix_mask(16);
    field_match_set(&m, by_name("nw_dst"), &v, &mask);
    CHECK_EQ_U(m.value.nw_dst, VF_BE32(0x0a010000)); /* Normalized. */
    CHECK_EQ_U(m.mask.nw_dst, VF_BE32(0xffff0000));
    v.integer = 0x002;
    mask.integer = 0x012;
    field_match_set(&m, by_name("tcp_flags"), &v, &mask);
    CHECK_EQ_U(m.mask.tcp_flags, vf_htons(0x012));
    CHECK_EQ_U(m.value.tcp_flags, vf_htons(0x002));
}

/* Validates 'm' and compares the message with 'want' (NULL: valid). */
static void
check_valid(const struct cls_match *m, const char *want)
{
    char *err = NULL;
    int rc = field_validate_match(m, &err);
    if (!want) {
        if (rc) {
            TEST_FAIL__("unexpected error: %s", err);
        }
    } else {
        CHECK_EQ_I(rc, -EINVAL);
        CHECK_STR(err, want);
    }
    free(err);
}

static void
set_int(struct cls_match *m, const char *name, uint64_t value)
{
    union field_value v = {.integer = value};
    field_match_set(m, by_name(name), &v, NULL);
}

static void
test_prereqs(void)
{
    struct cls_match m;
    memset(&m, 0, sizeof m);
    check_valid(&m, NULL);
    set_int(&m, "tp_dst", 80);
    check_valid(&m, "tp_dst requires tcp, udp or sctp (ip or ipv6 with "
                    "nw_proto=6, 17 or 132)");
    set_int(&m, "dl_type", ETH_TYPE_IPV4);
    check_valid(&m, "tp_dst requires tcp, udp or sctp (ip or ipv6 with "
                    "nw_proto=6, 17 or 132)");
    set_int(&m, "nw_proto", IP_PROTO_UDP);
    check_valid(&m, NULL);
    set_int(&m, "tcp_flags", 2);
    check_valid(&m, "tcp_flags requires tcp or tcp6 (nw_proto=6)");

    memset(&m, 0, sizeof m);
    set_int(&m, "dl_type", ETH_TYPE_ARP);
    union field_value v = {0};
    field_match_set(&m, by_name("nw_src"), &v, NULL);
    check_valid(&m, NULL);                  /* nw_src is arp_spa. */
    field_match_set(&m, by_name("ipv6_src"), &v, NULL);
    check_valid(&m, "ipv6_src requires ipv6 (dl_type=0x86dd)");

    memset(&m, 0, sizeof m);
    set_int(&m, "dl_type", ETH_TYPE_IPV6);
    set_int(&m, "nw_proto", IP_PROTO_ICMPV6);
    field_match_set(&m, by_name("nd_target"), &v, NULL);
    check_valid(&m, "nd_target requires icmp6 with icmp_type=135 or 136");
    set_int(&m, "icmp_type", 136);
    check_valid(&m, NULL);
    field_match_set(&m, by_name("nd_sll"), &v, NULL);
    check_valid(&m, "arp_sha requires arp (dl_type=0x0806)");
    set_int(&m, "icmp_type", 135);
    check_valid(&m, NULL);

    /* Non-maskable fields must be whole; bits of no field are refused. */
    memset(&m, 0, sizeof m);
    m.mask.in_port = 0xff;
    check_valid(&m, "in_port cannot be masked (match all of it or none)");
    memset(&m, 0, sizeof m);
    set_int(&m, "dl_type", ETH_TYPE_IPV6);
    m.mask.ipv6_label = VF_BE32(0xfff00000);
    check_valid(&m, "mask bits 0xff at byte 52 of the flow key belong to "
                    "no field");
    /* Partial icmp_type is not expressible; whole is. */
    memset(&m, 0, sizeof m);
    set_int(&m, "dl_type", ETH_TYPE_IPV4);
    set_int(&m, "nw_proto", IP_PROTO_ICMP);
    m.mask.tp_src = VF_BE16(0x000f);
    check_valid(&m, "tp_src requires tcp, udp or sctp (ip or ipv6 with "
                    "nw_proto=6, 17 or 132)");
    m.mask.tp_src = VF_BE16(0x00ff);
    check_valid(&m, NULL);
    /* A VLAN sub-field without the tag bit is still expressible as
     * vlan_tci. */
    memset(&m, 0, sizeof m);
    m.mask.vlan_tci = VF_BE16(0x0fff);
    check_valid(&m, NULL);
}

/* Parses 'text' for 'name' and returns the error message or "". */
static char *
parse_err(const char *name, const char *text)
{
    struct cls_match d;
    memset(&d, 0, sizeof d);
    char *err = NULL;
    if (!field_parse_match(by_name(name), text, NULL, &d, &err)) {
        return vf_xstrdup("");
    }
    return err;
}

static void
test_parse_values(void)
{
    static const struct {
        const char *field, *text, *err;
    } cases[] = {
        {"nw_dst", "10.0.0.0/24", ""},
        {"nw_dst", "10.0.0.0/255.0.255.0", ""},
        {"nw_dst", "10.0.0.0/33", "prefix length 33 is longer than 32"},
        {"nw_dst", "10.0.0/8", "'10.0.0' is not an IPv4 address"},
        {"nw_dst", "10.0.0.0/x", "'x' is neither a prefix length nor an "
                                 "IPv4 mask"},
        {"ipv6_dst", "2001:db8::/129", "prefix length 129 is longer than "
                                       "128"},
        {"dl_src", "02:00:00:00:00:01/ff:ff:ff:00:00:00", ""},
        {"dl_src", "02:00:00:00:00", "'02:00:00:00:00' is not an Ethernet "
                                     "address"},
        {"tp_dst", "65536", "65536 is out of range (the field's bits are "
                            "0xffff)"},
        {"tp_dst", "-1", "'-1' is not a number"},
        {"tp_dst", "0x50/0xfff0", ""},
        {"nw_proto", "6/0xff", "nw_proto cannot be masked"},
        {"nw_tos", "3", "3 is out of range (the field's bits are 0xfc)"},
        {"dl_vlan", "4096", "4096 is out of range (the field's bits are "
                            "0xfff)"},
        {"dl_vlan", "0xffff", ""},
        {"ip_frag", "later", ""},
        {"ip_frag", "sometimes", "'sometimes' is not no, yes, first, later, "
                                  "not_later or a number"},
        {"tcp_flags", "+syn-ack", ""},
        {"tcp_flags", "+syn+syn", "TCP flag syn given twice"},
        {"tcp_flags", "+fast", "unknown TCP flag at 'fast' (fin, syn, rst, "
                               "psh, ack, urg, ece, cwr, ns)"},
        {"in_port", "tap0", "unknown port 'tap0'"},
        {"in_port", "4294967296", "port number 4294967296 is out of range"},
        {"tun_id", "", "tun_id needs a value"},
    };
    for (size_t i = 0; i < VF_ARRAY_SIZE(cases); i++) {
        char *err = parse_err(cases[i].field, cases[i].text);
        if (strcmp(err, cases[i].err)) {
            fprintf(stderr, "  %s=%s\n", cases[i].field, cases[i].text);
        }
        CHECK_STR(err, cases[i].err);
        free(err);
    }
    /* dl_vlan=0xffff: no tag. */
    struct cls_match d;
    memset(&d, 0, sizeof d);
    VF_VERIFY(!field_parse_match(by_name("dl_vlan"), "0xffff", NULL, &d,
                                 NULL));
    CHECK_EQ_U(d.mask.vlan_tci, VF_BE16(VLAN_CFI));
    CHECK_EQ_U(d.value.vlan_tci, 0);
    memset(&d, 0, sizeof d);
    VF_VERIFY(!field_parse_match(by_name("tcp_flags"), "+syn-ack", NULL, &d,
                                 NULL));
    CHECK_EQ_U(d.mask.tcp_flags, vf_htons(0x012));
    CHECK_EQ_U(d.value.tcp_flags, vf_htons(0x002));
}

static void
test_format(void)
{
    struct cls_match m;
    memset(&m, 0, sizeof m);
    union field_value v = {0}, mask = {0};
    VF_VERIFY(!ipv4_parse("10.1.0.0", &v.ipv4));
    VF_VERIFY(!ipv4_parse("255.255.0.255", &mask.ipv4));
    field_match_set(&m, by_name("nw_dst"), &v, &mask);
    struct vf_buf b = VF_BUF_INITIALIZER;
    field_format_match(by_name("nw_dst"), &m, NULL, &b);
    CHECK_STR(vf_buf_cstr(&b), "nw_dst=10.1.0.0/255.255.0.255");
    vf_buf_clear(&b);
    set_int(&m, "dl_type", 0x86dd);
    field_format_match(by_name("dl_type"), &m, NULL, &b);
    CHECK_STR(vf_buf_cstr(&b), "dl_type=0x86dd");
    vf_buf_clear(&b);
    v.integer = 0x50;
    mask.integer = 0xfff0;
    field_match_set(&m, by_name("tp_dst"), &v, &mask);
    field_format_match(by_name("tp_dst"), &m, NULL, &b);
    CHECK_STR(vf_buf_cstr(&b), "tp_dst=80/0xfff0");
    vf_buf_uninit(&b);
}

static const struct test_case cases[] = {
    TEST(test_registry),
    TEST(test_get_set_subfields),
    TEST(test_match_set),
    TEST(test_prereqs),
    TEST(test_parse_values),
    TEST(test_format),
};

TEST_MAIN(cases)
