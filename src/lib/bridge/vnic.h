/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VFAB_BRIDGE_VNIC_H
#define VFAB_BRIDGE_VNIC_H 1

/* VNIC identity and anti-spoofing (DESIGN.md "VNIC").
 *
 * A VNIC on a tap port may carry an identity: its MAC and the IP addresses
 * the operator (or the policy server) gave it.  Every frame the VM sends is
 * checked against it before any table sees the frame:
 *
 *   - the source MAC must be the VNIC's MAC;
 *   - IPv4 sources must be one of its IPv4 addresses (0.0.0.0 is allowed
 *     for DHCP discovery);
 *   - ARP: sender hardware address = its MAC, sender protocol address one
 *     of its IPv4 addresses (or 0.0.0.0: an ARP probe, RFC 5227);
 *   - IPv6 sources must be one of its IPv6 addresses, the EUI-64 link-local
 *     address derived from its MAC (RFC 4291 appendix A), or :: (duplicate
 *     address detection, RFC 4862);
 *   - neighbor advertisements may only announce its own addresses, and
 *     link-layer address options must carry its MAC;
 *   - router advertisements from a VM are dropped (rogue RA, RFC 6104).
 *
 * With no MAC configured nothing is checked; with a MAC but no IPs of a
 * family, sources of that family are not checked (only the MAC is).  The
 * check is a pure function of the identity and the flow key, so the
 * datapath runs it without locks on an identity published under RCU. */

#include <stdbool.h>
#include <stdint.h>

#include "net/flow-key.h"

#define VNIC_MAX_IPS 8

struct vnic_identity {
    bool has_mac;
    struct eth_addr mac;
    uint8_t n_ipv4;
    uint8_t n_ipv6;
    vf_be32 ipv4[VNIC_MAX_IPS];
    uint8_t ipv6[VNIC_MAX_IPS][16];
    uint8_t ipv6_ll[16];         /* EUI-64 link-local of 'mac'. */
};

enum vnic_spoof {
    VNIC_SPOOF_NONE = 0,
    VNIC_SPOOF_SRC_MAC,
    VNIC_SPOOF_SRC_IP,
    VNIC_SPOOF_ARP,
    VNIC_SPOOF_ND,
    VNIC_SPOOF_RA,
    VNIC_N_SPOOF
};

/* Returns why the frame whose key is 'key' may not come from a VNIC with
 * 'id', or VNIC_SPOOF_NONE. */
enum vnic_spoof vnic_check_source(const struct vnic_identity *id,
                                  const struct flow_key *key);

/* "src_mac", "src_ip", "arp", "nd", "ra". */
const char *vnic_spoof_name(enum vnic_spoof reason);

/* Sets the MAC of 'id' (and its derived link-local address). */
void vnic_identity_set_mac(struct vnic_identity *id,
                           const struct eth_addr *mac);

/* Parses a comma-separated list of IPv4/IPv6 addresses into 'id'.
 * Returns 0, or -EINVAL with '*errp' naming the bad element (caller frees);
 * 'id' is unchanged on error. */
int vnic_identity_parse_ips(struct vnic_identity *id, const char *list,
                            char **errp);

/* Writes the EUI-64 link-local address of 'mac' into 'out'. */
void vnic_eui64_link_local(const struct eth_addr *mac, uint8_t out[16]);

#endif /* bridge/vnic.h */
