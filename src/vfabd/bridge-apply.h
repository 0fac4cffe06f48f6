/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VFAB_VFABD_BRIDGE_APPLY_H
#define VFAB_VFABD_BRIDGE_APPLY_H 1

/* The apply class that makes vfabd's configuration real: bridges, ports
 * and flow rules of switch-config.c become dp bridges, ports (real TAP
 * devices, AF_PACKET sockets, ...) and classifier rules (dp/dp.h).
 * Control thread only. */

#include "switch-apply.h"

struct dp;
struct fabric_agent;

/* What the class works on (its 'aux'). */
struct bridge_apply {
    struct dp *dp;
    struct fabric_agent *fabric;     /* NULL: no fabric bridges allowed. */
};

extern const struct switch_apply_class bridge_apply_class;

#endif /* bridge-apply.h */
