/* SPDX-License-Identifier: Apache-2.0 */
/* vfabd's own commands: version, the warpable clock (time/...), log levels
 * (log/...) and test hooks (debug/...).  Formats in docs/ctl-protocol.md.
 *
 * time/stop, time/warp and time/resume act on the daemon's struct
 * vf_clock, which every module reads once per loop iteration for its
 * 'now' (STYLE.md P11): tests age MAC entries or expire timers by warping
 * instead of sleeping.  The loop's own poll timeouts stay on the real
 * clock, so a stopped clock does not stop the daemon. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "config-db.h"
#include "ctl/ctl-command.h"
#include "switch-apply.h"
#include "switch-config.h"
#include "util/buf.h"
#include "util/log.h"
#include "util/vtime.h"
#include "vfabd.h"

#ifndef VFAB_VERSION
#define VFAB_VERSION "unknown"
#endif

/* Longest warp: one year, in milliseconds. */
#define TIME_WARP_MAX_MS (366LL * 24 * 3600 * 1000)

static int
version_cmd(const struct ctl_request *req, void *d_, json_t **resultp,
            char **errp)
{
    struct vfabd *d = d_;
    (void) req;
    (void) errp;
    *resultp = json_pack("{s:s, s:s, s:i, s:s}", "name", "vfabd",
                         "version", VFAB_VERSION, "db_schema",
                         config_db_schema_version(d->db), "datapath",
                         switch_config_apply_class(d->sc)->name);
    return 0;
}

static json_t *
clock_json(const struct vf_clock *clock)
{
    return json_pack("{s:I, s:b}", "now_ns", (json_int_t) vf_clock_now(clock),
                     "stopped", atomic_load(&clock->stopped_ns) >= 0);
}

static int
time_stop_cmd(const struct ctl_request *req, void *d_, json_t **resultp,
              char **errp)
{
    struct vfabd *d = d_;
    (void) req;
    (void) errp;
    if (atomic_load(&d->clock.stopped_ns) < 0) {
        vf_clock_stop(&d->clock);
    }
    *resultp = clock_json(&d->clock);
    return 0;
}

static int
time_resume_cmd(const struct ctl_request *req, void *d_, json_t **resultp,
                char **errp)
{
    struct vfabd *d = d_;
    (void) req;
    (void) errp;
    vf_clock_resume(&d->clock);
    *resultp = clock_json(&d->clock);
    return 0;
}

static int
time_show_cmd(const struct ctl_request *req, void *d_, json_t **resultp,
              char **errp)
{
    struct vfabd *d = d_;
    (void) req;
    (void) errp;
    *resultp = clock_json(&d->clock);
    return 0;
}

/* Parses a decimal integer in [min, max]; returns 0 or -EINVAL. */
static int
parse_int(const char *s, long long min, long long max, long long *vp)
{
    if (!*s || strlen(s) > 20) {
        return -EINVAL;
    }
    for (const char *p = s; *p; p++) {
        if (*p < '0' || *p > '9') {
            return -EINVAL;
        }
    }
    errno = 0;
    long long v = strtoll(s, NULL, 10);
    if (errno || v < min || v > max) {
        return -EINVAL;
    }
    *vp = v;
    return 0;
}

static int
time_warp_cmd(const struct ctl_request *req, void *d_, json_t **resultp,
              char **errp)
{
    struct vfabd *d = d_;
    long long ms;
    if (parse_int(req->args[0], 1, TIME_WARP_MAX_MS, &ms)) {
        *errp = vf_xasprintf("'%.32s' is not a number of milliseconds in "
                             "1..%lld", req->args[0],
                             TIME_WARP_MAX_MS);
        return -EINVAL;
    }
    vf_clock_warp(&d->clock, ms * VF_NSEC_PER_MSEC);
    *resultp = clock_json(&d->clock);
    return 0;
}

static int
log_set_level_cmd(const struct ctl_request *req, void *aux, json_t **resultp,
                  char **errp)
{
    (void) aux;
    int level = vf_log_level_from_string(req->args[1]);
    if (level < 0) {
        *errp = vf_xasprintf("unknown log level '%.32s' (valid: err, warn, "
                             "info, dbg)", req->args[1]);
        return -EINVAL;
    }
    if (vf_log_set_module_level(req->args[0], level)) {
        *errp = vf_xasprintf("no log module named '%.64s' (see log/list)",
                             req->args[0]);
        return -ENOENT;
    }
    *resultp = json_pack("{s:s, s:s}", "module", req->args[0], "level",
                         vf_log_level_to_string(level));
    return 0;
}

static int
log_list_cmd(const struct ctl_request *req, void *aux, json_t **resultp,
             char **errp)
{
    (void) req;
    (void) aux;
    (void) errp;
    json_t *modules = json_object();
    for (struct vf_log_module *m = vf_log_modules(); m; m = m->next) {
        json_object_set_new(modules, m->name,
                            json_string(vf_log_level_to_string(
                                vf_log_module_level(m))));
    }
    *resultp = json_pack("{s:o}", "modules", modules);
    return 0;
}

static int
fail_db_cmd(const struct ctl_request *req, void *d_, json_t **resultp,
            char **errp)
{
    struct vfabd *d = d_;
    long long n;
    if (parse_int(req->args[0], 0, 1000, &n)) {
        *errp = vf_xasprintf("'%.32s' is not a count in 0..1000",
                             req->args[0]);
        return -EINVAL;
    }
    config_db_fail_after(d->db, (int) n);
    *resultp = json_pack("{s:I}", "fail_after", (json_int_t) n);
    return 0;
}

void
builtin_cmds_register(struct vfabd *d)
{
    VF_VERIFY(!ctl_command_register("version", "", 0, 0, version_cmd, d));
    VF_VERIFY(!ctl_command_register("time/stop", "", 0, 0, time_stop_cmd,
                                    d));
    VF_VERIFY(!ctl_command_register("time/resume", "", 0, 0,
                                    time_resume_cmd, d));
    VF_VERIFY(!ctl_command_register("time/show", "", 0, 0, time_show_cmd,
                                    d));
    VF_VERIFY(!ctl_command_register("time/warp", "MSEC", 1, 1, time_warp_cmd,
                                    d));
    VF_VERIFY(!ctl_command_register("log/set-level", "MODULE|all LEVEL", 2,
                                    2, log_set_level_cmd, NULL));
    VF_VERIFY(!ctl_command_register("log/list", "", 0, 0, log_list_cmd,
                                    NULL));
    if (d->test_hooks) {
        VF_VERIFY(!ctl_command_register("debug/fail-db", "N", 1, 1,
                                        fail_db_cmd, d));
    }
}
