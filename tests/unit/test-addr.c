/* SPDX-License-Identifier: Apache-2.0 */
#include "harness.h"

#include "net/addr.h"

static void
test_mac_roundtrip_and_errors(void)
{
    struct eth_addr a;
    char s[ETH_ADDR_STRLEN];
    CHECK_EQ_I(eth_addr_parse("02:AB:cd:00:11:ff", &a), 0);
    CHECK_STR(eth_addr_format(&a, s), "02:ab:cd:00:11:ff");
    CHECK_EQ_I(eth_addr_parse("02-ab-cd-00-11-ff", &a), 0);
    const char *bad[] = {"", "02:ab:cd:00:11", "02:ab:cd:00:11:ff:00",
                         "02:ab:cd:00:11:fg", "2:ab:cd:00:11:ff",
                         "02:ab:cd:00:11:ff ", "02abcd0011ff"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct eth_addr b = {{9, 9, 9, 9, 9, 9}};
        CHECK_EQ_I(eth_addr_parse(bad[i], &b), -EINVAL);
        CHECK_EQ_U(b.ea[0], 9);   /* Unchanged on failure. */
    }
}

static void
test_ipv4_and_cidr(void)
{
    vf_be32 a;
    unsigned int plen;
    char s[IPV4_STRLEN];
    CHECK_EQ_I(ipv4_parse("10.1.2.3", &a), 0);
    CHECK_STR(ipv4_format(a, s), "10.1.2.3");
    CHECK_EQ_I(ipv4_parse("10.1.2", &a), -EINVAL);
    CHECK_EQ_I(ipv4_parse("10.1.2.256", &a), -EINVAL);
    CHECK_EQ_I(ipv4_cidr_parse("10.0.0.0/8", &a, &plen), 0);
    CHECK_EQ_U(plen, 8);
    CHECK_EQ_I(ipv4_cidr_parse("10.0.0.7", &a, &plen), 0);
    CHECK_EQ_U(plen, 32);
    CHECK_EQ_I(ipv4_cidr_parse("10.0.0.0/33", &a, &plen), -EINVAL);
    CHECK_EQ_I(ipv4_cidr_parse("10.0.0.0/", &a, &plen), -EINVAL);
    CHECK_EQ_I(ipv4_cidr_parse("10.0.0.0/-1", &a, &plen), -EINVAL);
    CHECK_EQ_I(ipv4_cidr_parse("/8", &a, &plen), -EINVAL);
    CHECK_EQ_U(ipv4_prefix_mask(24), VF_BE32(0xffffff00u));
    CHECK_EQ_U(ipv4_prefix_mask(0), 0);
    ipv4_parse("10.1.2.3", &a);
    vf_be32 net;
    ipv4_parse("10.1.0.0", &net);
    CHECK(ipv4_in_prefix(a, net, 16));
    CHECK(!ipv4_in_prefix(a, net, 24));
}

static void
test_ipv6_and_cidr(void)
{
    uint8_t a[16], n[16];
    unsigned int plen;
    char s[IPV6_STRLEN];
    CHECK_EQ_I(ipv6_parse("2001:DB8:0:0:0:0:0:1", a), 0);
    CHECK_STR(ipv6_format(a, s), "2001:db8::1");
    CHECK_EQ_I(ipv6_parse("2001:db8::g", a), -EINVAL);
    CHECK_EQ_I(ipv6_cidr_parse("fd00::/64", n, &plen), 0);
    CHECK_EQ_U(plen, 64);
    CHECK_EQ_I(ipv6_cidr_parse("fd00::/129", n, &plen), -EINVAL);
    ipv6_parse("fd00::1:2", a);
    CHECK(ipv6_in_prefix(a, n, 64));
    ipv6_parse("fd01::1", a);
    CHECK(!ipv6_in_prefix(a, n, 64));
    uint8_t m[16];
    ipv6_prefix_mask(65, m);
    CHECK_EQ_U(m[7], 0xff);
    CHECK_EQ_U(m[8], 0x80);
    CHECK_EQ_U(m[9], 0);
}

static const struct test_case cases[] = {
    TEST(test_mac_roundtrip_and_errors),
    TEST(test_ipv4_and_cidr),
    TEST(test_ipv6_and_cidr),
};

TEST_MAIN(cases)
