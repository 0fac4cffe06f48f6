/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VFAB_VFABD_VFABD_H
#define VFAB_VFABD_VFABD_H 1

/* vfabd: the per-host switch daemon.
 *
 * Threads.  The main thread is the agent (control) thread: it runs the
 * run/wait loop in main.c -- signals, the control socket, and everything
 * slow (database writes, device creation, later the policy client).
 * Datapath threads (added by the dp part) poll their ports and never
 * block on the agent: they read configuration under RCU and hand misses
 * over through rings.
 *
 * Files: main.c (options, start-up and shutdown, the loop), daemon.[ch]
 * (signals, pid file, log file, systemd notification), builtin-cmds.c
 * (version, time/..., log/...), config-db.[ch] (SQLite persistence),
 * switch-config.[ch] (configuration model, validation, transactions),
 * switch-apply.h (the datapath's side: the bridge layer fills it),
 * switch-cmds.[ch] (bridge/, port/, flow/, switch/ commands). */

#include <stdbool.h>

#include "util/vtime.h"

struct config_db;
struct dp;
struct fabric_agent;
struct switch_config;

#define VFABD_DEFAULT_SOCKET "/run/vfab/vfabd.sock"
#define VFABD_DEFAULT_DB "/var/lib/vfab/vfabd.db"

/* The daemon's state shared by the agent-thread modules. */
struct vfabd {
    struct vf_clock clock;          /* atomic fields: the daemon's time;
                                     * tests stop and warp it. */
    struct config_db *db;           /* ctl */
    struct switch_config *sc;       /* ctl */
    struct dp *dp;                  /* ctl: the datapath (dp/dp.h). */
    struct fabric_agent *fabric;    /* ctl: NULL without a policy server. */
    bool test_hooks;                /* const: --test-hooks given. */
};

/* Registers version, time/stop, time/warp, time/resume, time/show,
 * log/set-level, log/list and, with 'd->test_hooks', debug/fail-db. */
void builtin_cmds_register(struct vfabd *d);

#endif /* vfabd.h */
