/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VFAB_OVERLAY_NEIGH_H
#define VFAB_OVERLAY_NEIGH_H 1

/* The underlay neighbour table: IPv4 next hop -> MAC, resolved by vfabd
 * itself with ARP on its uplink.
 *
 * Why vfabd and not the kernel: the uplink carries the host's VTEP address
 * as vfabd's own (the kernel has no address on it), so tunnel traffic never
 * enters the kernel's stack (no ICMP port unreachable for 4789, no double
 * processing of every frame seen by AF_PACKET), the VTEP works the same on
 * a dedicated NIC, and tests see every step through vfabctl.  vfabd answers
 * ARP requests and pings for its VTEP address (fabric agent).
 *
 * Datapath threads look entries up under RCU; the agent thread is the only
 * writer.  Entries are immutable: an update replaces the node.  Time is
 * passed in. */

#include <stdbool.h>
#include <stdint.h>

#include "net/wire.h"

struct neigh_table;

#define NEIGH_REPROBE_NS (1000 * 1000000ll)   /* ARP request rate limit. */
#define NEIGH_STALE_NS (300 * 1000000000ll)   /* Re-resolve after this. */

struct neigh_table *neigh_table_create(uint32_t seed);
void neigh_table_destroy(struct neigh_table *t);

/* Reader: the MAC of 'ip' into '*mac'; returns false if unresolved. */
bool neigh_lookup(const struct neigh_table *t, vf_be32 ip,
                  struct eth_addr *mac);

/* Writer: records 'ip' at 'mac' (learned from an ARP reply or request). */
void neigh_update(struct neigh_table *t, vf_be32 ip,
                  const struct eth_addr *mac, int64_t now);

/* Writer: true if an ARP request for 'ip' should be sent now (none in the
 * last NEIGH_REPROBE_NS); records that one is being sent. */
bool neigh_should_probe(struct neigh_table *t, vf_be32 ip, int64_t now);

/* Writer: entries older than NEIGH_STALE_NS at 'now' (that need a fresh
 * probe) are reported through 'cb'; returns how many. */
typedef void neigh_stale_cb(void *aux, vf_be32 ip);
uint32_t neigh_refresh(struct neigh_table *t, int64_t now,
                       neigh_stale_cb *cb, void *aux);

/* Number of resolved entries; dump into arrays of 'max'. */
uint32_t neigh_dump(const struct neigh_table *t, vf_be32 *ips,
                    struct eth_addr *macs, int64_t *ages, int64_t now,
                    uint32_t max);

#endif /* overlay/neigh.h */
