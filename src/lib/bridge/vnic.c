/* SPDX-License-Identifier: Apache-2.0 */
/* Anti-spoofing checks: see vnic.h for the rules and their sources. */
#include "bridge/vnic.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "net/addr.h"
#include "util/buf.h"

static bool
ipv4_allowed(const struct vnic_identity *id, vf_be32 a, bool allow_zero)
{
    if (!id->n_ipv4 || (allow_zero && a == 0)) {
        return true;
    }
    for (int i = 0; i < id->n_ipv4; i++) {
        if (id->ipv4[i] == a) {
            return true;
        }
    }
    return false;
}

static bool
ipv6_listed(const struct vnic_identity *id, const uint8_t a[16])
{
    for (int i = 0; i < id->n_ipv6; i++) {
        if (!memcmp(id->ipv6[i], a, 16)) {
            return true;
        }
    }
    return !memcmp(id->ipv6_ll, a, 16);
}

static bool
ipv6_is_unspecified(const uint8_t a[16])
{
    static const uint8_t zero[16];
    return !memcmp(a, zero, 16);
}

static enum vnic_spoof
check_arp(const struct vnic_identity *id, const struct flow_key *key)
{
    if (!eth_addr_equals(&key->arp_sha, &id->mac)
        || !ipv4_allowed(id, key->nw_src, true)) {
        return VNIC_SPOOF_ARP;
    }
    return VNIC_SPOOF_NONE;
}

static enum vnic_spoof
check_icmpv6(const struct vnic_identity *id, const struct flow_key *key)
{
    uint8_t type = (uint8_t) vf_ntohs(key->tp_src);
    if (type == ND_ROUTER_ADVERT) {
        return VNIC_SPOOF_RA;
    }
    if (type == ND_NEIGHBOR_ADVERT) {
        if ((id->n_ipv6 && !ipv6_listed(id, key->nd_target))
            || (!eth_addr_is_zero(&key->nd_tll)
                && !eth_addr_equals(&key->nd_tll, &id->mac))) {
            return VNIC_SPOOF_ND;
        }
    } else if (type == ND_NEIGHBOR_SOLICIT) {
        if (!eth_addr_is_zero(&key->nd_sll)
            && !eth_addr_equals(&key->nd_sll, &id->mac)) {
            return VNIC_SPOOF_ND;
        }
    }
    return VNIC_SPOOF_NONE;
}

enum vnic_spoof
vnic_check_source(const struct vnic_identity *id, const struct flow_key *key)
{
    if (!id->has_mac) {
        return VNIC_SPOOF_NONE;
    }
    if (!eth_addr_equals(&key->dl_src, &id->mac)) {
        return VNIC_SPOOF_SRC_MAC;
    }
    switch (key->dl_type) {
    case VF_BE16(ETH_TYPE_IPV4):
        return ipv4_allowed(id, key->nw_src, true) ? VNIC_SPOOF_NONE
                                                   : VNIC_SPOOF_SRC_IP;
    case VF_BE16(ETH_TYPE_ARP):
        return check_arp(id, key);
    case VF_BE16(ETH_TYPE_IPV6):
        if (id->n_ipv6 && !ipv6_listed(id, key->ipv6_src)
            && !ipv6_is_unspecified(key->ipv6_src)) {
            return VNIC_SPOOF_SRC_IP;
        }
        if (key->nw_proto == IP_PROTO_ICMPV6) {
            return check_icmpv6(id, key);
        }
        return VNIC_SPOOF_NONE;
    default:
        return VNIC_SPOOF_NONE;
    }
}

const char *
vnic_spoof_name(enum vnic_spoof reason)
{
    static const char *const names[VNIC_N_SPOOF] = {
        [VNIC_SPOOF_NONE] = "none",      [VNIC_SPOOF_SRC_MAC] = "src_mac",
        [VNIC_SPOOF_SRC_IP] = "src_ip",  [VNIC_SPOOF_ARP] = "arp",
        [VNIC_SPOOF_ND] = "nd",          [VNIC_SPOOF_RA] = "ra",
    };
    return (unsigned) reason < VNIC_N_SPOOF ? names[reason] : "unknown";
}

void
vnic_eui64_link_local(const struct eth_addr *mac, uint8_t out[16])
{
    memset(out, 0, 16);
    out[0] = 0xfe;
    out[1] = 0x80;
    out[8] = mac->ea[0] ^ 0x02;  /* Universal/local bit inverted. */
    out[9] = mac->ea[1];
    out[10] = mac->ea[2];
    out[11] = 0xff;
    out[12] = 0xfe;
    out[13] = mac->ea[3];
    out[14] = mac->ea[4];
    out[15] = mac->ea[5];
}

void
vnic_identity_set_mac(struct vnic_identity *id, const struct eth_addr *mac)
{
    id->has_mac = true;
    id->mac = *mac;
    vnic_eui64_link_local(mac, id->ipv6_ll);
}

int
vnic_identity_parse_ips(struct vnic_identity *id, const char *list,
                        char **errp)
{
    struct vnic_identity tmp = *id;
    tmp.n_ipv4 = tmp.n_ipv6 = 0;
    char *copy = vf_xstrdup(list), *save = NULL;
    int rc = 0;
    for (char *tok = strtok_r(copy, ",", &save); tok;
         tok = strtok_r(NULL, ",", &save)) {
        vf_be32 a4;
        uint8_t a6[16];
        if (!ipv4_parse(tok, &a4)) {
            if (tmp.n_ipv4 == VNIC_MAX_IPS) {
                goto too_many;
            }
            tmp.ipv4[tmp.n_ipv4++] = a4;
        } else if (!ipv6_parse(tok, a6)) {
            if (tmp.n_ipv6 == VNIC_MAX_IPS) {
                goto too_many;
            }
            memcpy(tmp.ipv6[tmp.n_ipv6++], a6, 16);
        } else {
            if (errp) {
                *errp = vf_xasprintf("'%s' is not an IPv4 or IPv6 address",
                                     tok);
            }
            rc = -EINVAL;
            goto out;
        }
    }
    *id = tmp;
    goto out;

too_many:
    if (errp) {
        *errp = vf_xasprintf("at most %d addresses of each family",
                             VNIC_MAX_IPS);
    }
    rc = -EINVAL;
out:
    free(copy);
    return rc;
}
