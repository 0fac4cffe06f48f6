/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VFAB_VFABD_SWITCH_CMDS_H
#define VFAB_VFABD_SWITCH_CMDS_H 1

/* The control commands of the switch configuration (the handler layer):
 *
 *   bridge/add BRIDGE                 bridge/remove BRIDGE
 *   port/add BRIDGE PORT {type, vlan, trunks, mac, ip, quota, peer}
 *   port/remove BRIDGE PORT           switch/show [BRIDGE]
 *   flow/add BRIDGE RULE              flow/remove BRIDGE [MATCH]
 *   flow/dump BRIDGE                  fdb/show BRIDGE
 *   port/stats BRIDGE
 *   meter/add BRIDGE ID kbps|pktps {rate, burst}
 *   meter/remove BRIDGE ID            meter/dump BRIDGE
 *
 * Each handler turns its JSON-RPC arguments into a typed call of
 * switch-config.h and its outcome into the JSON result documented in
 * docs/ctl-protocol.md; it does no validation of its own beyond the
 * registry's type checks and turning text arguments into numbers (a
 * meter id, a unit), so the same rules hold for every caller.
 * Control thread. */

struct switch_config;

/* Registers the commands above, operating on 'sc' (which must outlive
 * them).  Aborts if a name is already taken (a programming error). */
void switch_cmds_register(struct switch_config *sc);

#endif /* switch-cmds.h */
