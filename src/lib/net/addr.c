/* SPDX-License-Identifier: Apache-2.0 */
#include "net/addr.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char *
eth_addr_format(const struct eth_addr *a, char *out)
{
    snprintf(out, ETH_ADDR_STRLEN, "%02x:%02x:%02x:%02x:%02x:%02x",
             a->ea[0], a->ea[1], a->ea[2], a->ea[3], a->ea[4], a->ea[5]);
    return out;
}

static int
hex_digit(int c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    c = tolower(c);
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    return -1;
}

int
eth_addr_parse(const char *s, struct eth_addr *a)
{
    struct eth_addr tmp;
    for (int i = 0; i < ETH_ADDR_LEN; i++) {
        int hi = hex_digit((unsigned char) s[0]);
        int lo = hi < 0 ? -1 : hex_digit((unsigned char) s[1]);
        if (hi < 0 || lo < 0) {
            return -EINVAL;
        }
        tmp.ea[i] = (uint8_t) (hi << 4 | lo);
        s += 2;
        if (i < ETH_ADDR_LEN - 1) {
            if (*s != ':' && *s != '-') {
                return -EINVAL;
            }
            s++;
        }
    }
    if (*s) {
        return -EINVAL;
    }
    *a = tmp;
    return 0;
}

char *
ipv4_format(vf_be32 addr, char *out)
{
    const uint8_t *b = (const uint8_t *) &addr;
    snprintf(out, IPV4_STRLEN, "%u.%u.%u.%u", b[0], b[1], b[2], b[3]);
    return out;
}

int
ipv4_parse(const char *s, vf_be32 *addr)
{
    struct in_addr in;
    /* inet_pton accepts only the strict dotted-quad form for AF_INET. */
    if (inet_pton(AF_INET, s, &in) != 1) {
        return -EINVAL;
    }
    *addr = in.s_addr;
    return 0;
}

char *
ipv6_format(const uint8_t addr[16], char *out)
{
    if (!inet_ntop(AF_INET6, addr, out, IPV6_STRLEN)) {
        snprintf(out, IPV6_STRLEN, "::");
    }
    return out;
}

int
ipv6_parse(const char *s, uint8_t addr[16])
{
    uint8_t tmp[16];
    if (inet_pton(AF_INET6, s, tmp) != 1) {
        return -EINVAL;
    }
    memcpy(addr, tmp, 16);
    return 0;
}

/* Splits "ADDR/N" into 'addr_out' and the prefix length (default 'max'). */
static int
cidr_split(const char *s, char *addr_out, size_t addr_size,
           unsigned int max, unsigned int *plen)
{
    const char *slash = strchr(s, '/');
    size_t len = slash ? (size_t) (slash - s) : strlen(s);
    if (len == 0 || len >= addr_size) {
        return -EINVAL;
    }
    memcpy(addr_out, s, len);
    addr_out[len] = '\0';
    if (!slash) {
        *plen = max;
        return 0;
    }
    const char *n = slash + 1;
    if (!*n || strlen(n) > 3) {
        return -EINVAL;
    }
    for (const char *q = n; *q; q++) {
        if (!isdigit((unsigned char) *q)) {
            return -EINVAL;
        }
    }
    unsigned long v = strtoul(n, NULL, 10);
    if (v > max) {
        return -EINVAL;
    }
    *plen = (unsigned int) v;
    return 0;
}

int
ipv4_cidr_parse(const char *s, vf_be32 *addr, unsigned int *plen)
{
    char buf[IPV4_STRLEN];
    unsigned int n;
    vf_be32 a;
    if (cidr_split(s, buf, sizeof buf, 32, &n) || ipv4_parse(buf, &a)) {
        return -EINVAL;
    }
    *addr = a;
    *plen = n;
    return 0;
}

int
ipv6_cidr_parse(const char *s, uint8_t addr[16], unsigned int *plen)
{
    char buf[IPV6_STRLEN];
    unsigned int n;
    uint8_t a[16];
    if (cidr_split(s, buf, sizeof buf, 128, &n) || ipv6_parse(buf, a)) {
        return -EINVAL;
    }
    memcpy(addr, a, 16);
    *plen = n;
    return 0;
}

void
ipv6_prefix_mask(unsigned int plen, uint8_t mask[16])
{
    for (int i = 0; i < 16; i++) {
        if (plen >= 8) {
            mask[i] = 0xff;
            plen -= 8;
        } else {
            mask[i] = (uint8_t) (0xff00 >> plen);
            plen = 0;
        }
    }
}

bool
ipv4_in_prefix(vf_be32 addr, vf_be32 net, unsigned int plen)
{
    vf_be32 m = ipv4_prefix_mask(plen);
    return (addr & m) == (net & m);
}

bool
ipv6_in_prefix(const uint8_t addr[16], const uint8_t net[16],
               unsigned int plen)
{
    uint8_t m[16];
    ipv6_prefix_mask(plen, m);
    for (int i = 0; i < 16; i++) {
        if ((addr[i] & m[i]) != (net[i] & m[i])) {
            return false;
        }
    }
    return true;
}
