/* SPDX-License-Identifier: Apache-2.0 */
#include "harness.h"

#include "bridge/vnic.h"
#include "net/addr.h"

static struct vnic_identity
make_id(void)
{
    struct vnic_identity id = {0};
    struct eth_addr mac;
    eth_addr_parse("02:00:00:00:00:01", &mac);
    vnic_identity_set_mac(&id, &mac);
    VF_VERIFY(!vnic_identity_parse_ips(&id, "10.0.0.1,2001:db8::1", NULL));
    return id;
}

static struct flow_key
ipv4_key(const char *src_mac, const char *src_ip)
{
    struct flow_key k = {0};
    eth_addr_parse(src_mac, &k.dl_src);
    k.dl_type = VF_BE16(ETH_TYPE_IPV4);
    ipv4_parse(src_ip, &k.nw_src);
    return k;
}

static void
test_mac_and_ipv4(void)
{
    struct vnic_identity id = make_id();
    struct flow_key k = ipv4_key("02:00:00:00:00:01", "10.0.0.1");
    CHECK_EQ_I(vnic_check_source(&id, &k), VNIC_SPOOF_NONE);
    k = ipv4_key("02:00:00:00:00:09", "10.0.0.1");
    CHECK_EQ_I(vnic_check_source(&id, &k), VNIC_SPOOF_SRC_MAC);
    k = ipv4_key("02:00:00:00:00:01", "10.0.0.2");
    CHECK_EQ_I(vnic_check_source(&id, &k), VNIC_SPOOF_SRC_IP);
    k = ipv4_key("02:00:00:00:00:01", "0.0.0.0");   /* DHCP discover. */
    CHECK_EQ_I(vnic_check_source(&id, &k), VNIC_SPOOF_NONE);
    struct vnic_identity none = {0};
    k = ipv4_key("02:00:00:00:00:09", "1.2.3.4");
    CHECK_EQ_I(vnic_check_source(&none, &k), VNIC_SPOOF_NONE);
}

static void
test_arp(void)
{
    struct vnic_identity id = make_id();
    struct flow_key k = {0};
    eth_addr_parse("02:00:00:00:00:01", &k.dl_src);
    k.dl_type = VF_BE16(ETH_TYPE_ARP);
    k.arp_op = VF_BE16(ARP_OP_REPLY);
    eth_addr_parse("02:00:00:00:00:01", &k.arp_sha);
    ipv4_parse("10.0.0.1", &k.nw_src);
    CHECK_EQ_I(vnic_check_source(&id, &k), VNIC_SPOOF_NONE);
    ipv4_parse("10.0.0.254", &k.nw_src);      /* Claims the gateway. */
    CHECK_EQ_I(vnic_check_source(&id, &k), VNIC_SPOOF_ARP);
    ipv4_parse("10.0.0.1", &k.nw_src);
    eth_addr_parse("02:00:00:00:00:05", &k.arp_sha);
    CHECK_EQ_I(vnic_check_source(&id, &k), VNIC_SPOOF_ARP);
}

static void
test_ipv6_nd_and_ra(void)
{
    struct vnic_identity id = make_id();
    struct flow_key k = {0};
    eth_addr_parse("02:00:00:00:00:01", &k.dl_src);
    k.dl_type = VF_BE16(ETH_TYPE_IPV6);
    ipv6_parse("2001:db8::1", k.ipv6_src);
    CHECK_EQ_I(vnic_check_source(&id, &k), VNIC_SPOOF_NONE);
    ipv6_parse("fe80::ff:fe00:1", k.ipv6_src);  /* EUI-64 of the MAC. */
    CHECK_EQ_I(vnic_check_source(&id, &k), VNIC_SPOOF_NONE);
    ipv6_parse("fe80::1", k.ipv6_src);
    CHECK_EQ_I(vnic_check_source(&id, &k), VNIC_SPOOF_SRC_IP);
    ipv6_parse("::", k.ipv6_src);               /* DAD. */
    CHECK_EQ_I(vnic_check_source(&id, &k), VNIC_SPOOF_NONE);

    ipv6_parse("2001:db8::1", k.ipv6_src);
    k.nw_proto = IP_PROTO_ICMPV6;
    k.tp_src = vf_htons(ND_NEIGHBOR_ADVERT);
    ipv6_parse("2001:db8::99", k.nd_target);    /* Someone else's. */
    CHECK_EQ_I(vnic_check_source(&id, &k), VNIC_SPOOF_ND);
    ipv6_parse("2001:db8::1", k.nd_target);
    CHECK_EQ_I(vnic_check_source(&id, &k), VNIC_SPOOF_NONE);
    eth_addr_parse("02:00:00:00:00:07", &k.nd_tll);
    CHECK_EQ_I(vnic_check_source(&id, &k), VNIC_SPOOF_ND);
    k.tp_src = vf_htons(ND_ROUTER_ADVERT);
    CHECK_EQ_I(vnic_check_source(&id, &k), VNIC_SPOOF_RA);
}

static void
test_parse_ips_errors(void)
{
    struct vnic_identity id = make_id();
    char *err = NULL;
    CHECK_EQ_I(vnic_identity_parse_ips(&id, "10.0.0.1,bogus", &err), -EINVAL);
    CHECK_STR(err, "'bogus' is not an IPv4 or IPv6 address");
    free(err);
    CHECK_EQ_U(id.n_ipv4, 1);                   /* Unchanged. */
    err = NULL;
    CHECK_EQ_I(vnic_identity_parse_ips(&id, "1.1.1.1,1.1.1.2,1.1.1.3,1.1.1.4,"
                                            "1.1.1.5,1.1.1.6,1.1.1.7,1.1.1.8,"
                                            "1.1.1.9", &err), -EINVAL);
    CHECK(err != NULL);
    free(err);
    uint8_t ll[16];
    struct eth_addr mac;
    eth_addr_parse("52:54:00:12:34:56", &mac);
    vnic_eui64_link_local(&mac, ll);
    char s[IPV6_STRLEN];
    CHECK_STR(ipv6_format(ll, s), "fe80::5054:ff:fe12:3456");
}

static const struct test_case cases[] = {
    TEST(test_mac_and_ipv4),
    TEST(test_arp),
    TEST(test_ipv6_nd_and_ra),
    TEST(test_parse_ips_errors),
};

TEST_MAIN(cases)
