/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VFAB_UTIL_LOG_H
#define VFAB_UTIL_LOG_H 1

/* Logging with per-module levels and rate limits.
 *
 * Each .c that logs declares its module once:
 *
 *     VF_LOG_MODULE(port_tap);
 *
 * and then calls VF_LOG_INFO(port_tap, "...") and friends.  Messages go to
 * stderr (default) or syslog, chosen once at start-up by the daemon.  The
 * datapath never logs per packet; where a rare event might repeat, the
 * _RL variants keep at most VF_LOG_RL_BURST messages per second per call
 * site and count the rest ("N messages suppressed").
 *
 * Thread safety: any thread may log; destination and default level are set
 * by the main thread before other threads start. */

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "util/compiler.h"

enum vf_log_level {
    VF_LOG_ERR = 0,
    VF_LOG_WARN = 1,
    VF_LOG_INFO = 2,
    VF_LOG_DBG = 3,
};

struct vf_log_module {
    const char *name;    /* const */
    _Atomic int level;   /* atomic: -1 means "the default level". */
    struct vf_log_module *next; /* const after start-up: registry list. */
};

/* Declares the log module NAME and registers it (before main() runs) so
 * that operators can change its level by name (vf_log_set_module_level(),
 * `vfabctl call log/set-level NAME LEVEL`). */
#define VF_LOG_MODULE(NAME)                                                \
    static struct vf_log_module vf_log_module_##NAME = {#NAME, -1, NULL};  \
    static void vf_log_register_##NAME(void)                               \
        __attribute__((constructor));                                      \
    static void vf_log_register_##NAME(void)                               \
    {                                                                      \
        vf_log_module_register(&vf_log_module_##NAME);                     \
    }

/* Adds 'module' to the registry (VF_LOG_MODULE does it; before main()). */
void vf_log_module_register(struct vf_log_module *module);

/* The first registered module; follow ->next for the others.  The list is
 * fixed once main() runs, so any thread may walk it. */
struct vf_log_module *vf_log_modules(void);

/* Sets the level of the module called 'name' (every module and the
 * default if 'name' is "all").  Returns 0, or -ENOENT for an unknown
 * module name.  Any thread. */
int vf_log_set_module_level(const char *name, enum vf_log_level level);

/* The level in force for 'module' (its own, or the default). */
enum vf_log_level vf_log_module_level(const struct vf_log_module *module);

/* "err", "warn", "info" or "dbg". */
const char *vf_log_level_to_string(enum vf_log_level level);

/* Chooses the destination: syslog if 'use_syslog' (ident 'ident'), else
 * stderr.  Main thread, before others start. */
void vf_log_open(const char *ident, bool use_syslog);

/* Sets the default level for modules without their own. */
void vf_log_set_default_level(enum vf_log_level level);

/* Parses "err", "warn", "info" or "dbg" (also "debug"); returns the level
 * or -EINVAL. */
int vf_log_level_from_string(const char *s);

void vf_log_write(struct vf_log_module *module, enum vf_log_level level,
                  const char *fmt, ...) VF_PRINTF(3, 4);

bool vf_log_enabled(struct vf_log_module *module, enum vf_log_level level);

/* Per-call-site rate limiter. */
#define VF_LOG_RL_BURST 5
struct vf_log_rl {
    _Atomic int64_t window_start_ns; /* atomic */
    _Atomic uint32_t n_in_window;    /* atomic */
    _Atomic uint32_t n_suppressed;   /* atomic */
};

/* Returns true if a message may be written now; counts it otherwise.  When
 * a new window opens, '*suppressed' receives the count from the last one. */
bool vf_log_rl_allow(struct vf_log_rl *rl, uint32_t *suppressed);

#define VF_LOG__(NAME, LEVEL, ...)                                         \
    do {                                                                   \
        if (vf_log_enabled(&vf_log_module_##NAME, LEVEL)) {                \
            vf_log_write(&vf_log_module_##NAME, LEVEL, __VA_ARGS__);       \
        }                                                                  \
    } while (0)

#define VF_LOG_ERR(NAME, ...) VF_LOG__(NAME, VF_LOG_ERR, __VA_ARGS__)
#define VF_LOG_WARN(NAME, ...) VF_LOG__(NAME, VF_LOG_WARN, __VA_ARGS__)
#define VF_LOG_INFO(NAME, ...) VF_LOG__(NAME, VF_LOG_INFO, __VA_ARGS__)
#define VF_LOG_DBG(NAME, ...) VF_LOG__(NAME, VF_LOG_DBG, __VA_ARGS__)

#define VF_LOG_RL__(NAME, LEVEL, ...)                                      \
    do {                                                                   \
        static struct vf_log_rl rl__;                                      \
        uint32_t suppressed__ = 0;                                         \
        if (vf_log_enabled(&vf_log_module_##NAME, LEVEL)                   \
            && vf_log_rl_allow(&rl__, &suppressed__)) {                    \
            if (suppressed__) {                                            \
                vf_log_write(&vf_log_module_##NAME, LEVEL,                 \
                             "%u messages suppressed", suppressed__);      \
            }                                                              \
            vf_log_write(&vf_log_module_##NAME, LEVEL, __VA_ARGS__);       \
        }                                                                  \
    } while (0)

#define VF_LOG_WARN_RL(NAME, ...) VF_LOG_RL__(NAME, VF_LOG_WARN, __VA_ARGS__)
#define VF_LOG_ERR_RL(NAME, ...) VF_LOG_RL__(NAME, VF_LOG_ERR, __VA_ARGS__)
#define VF_LOG_INFO_RL(NAME, ...) VF_LOG_RL__(NAME, VF_LOG_INFO, __VA_ARGS__)

#endif /* util/log.h */
