/* SPDX-License-Identifier: Apache-2.0 */
/* Logging: see the theory in log.h.  Destination and default level are
 * process-wide by nature (there is one stderr and one syslog); they are set
 * once by the daemon's main() before any other thread starts. */
#include "util/log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#include "util/vtime.h"

static bool log_use_syslog;
static _Atomic int log_default_level = VF_LOG_INFO;

static const char *const level_names[] = {"ERR", "WARN", "INFO", "DBG"};

void
vf_log_open(const char *ident, bool use_syslog)
{
    log_use_syslog = use_syslog;
    if (use_syslog) {
        openlog(ident, LOG_PID | LOG_NDELAY, LOG_DAEMON);
    }
}

void
vf_log_set_default_level(enum vf_log_level level)
{
    atomic_store(&log_default_level, (int) level);
}

int
vf_log_level_from_string(const char *s)
{
    if (!strcmp(s, "err") || !strcmp(s, "error")) {
        return VF_LOG_ERR;
    } else if (!strcmp(s, "warn")) {
        return VF_LOG_WARN;
    } else if (!strcmp(s, "info")) {
        return VF_LOG_INFO;
    } else if (!strcmp(s, "dbg") || !strcmp(s, "debug")) {
        return VF_LOG_DBG;
    }
    return -EINVAL;
}

/* The registry of modules, built by constructors before main() runs, so
 * it needs no lock: it is read-only once other threads exist. */
static struct vf_log_module *log_modules;

void
vf_log_module_register(struct vf_log_module *module)
{
    module->next = log_modules;
    log_modules = module;
}

struct vf_log_module *
vf_log_modules(void)
{
    return log_modules;
}

int
vf_log_set_module_level(const char *name, enum vf_log_level level)
{
    bool all = !strcmp(name, "all");
    bool found = all;
    if (all) {
        vf_log_set_default_level(level);
    }
    for (struct vf_log_module *m = log_modules; m; m = m->next) {
        if (all || !strcmp(m->name, name)) {
            atomic_store(&m->level, (int) level);
            found = true;
        }
    }
    return found ? 0 : -ENOENT;
}

enum vf_log_level
vf_log_module_level(const struct vf_log_module *module)
{
    int l = atomic_load_explicit(&module->level, memory_order_relaxed);
    if (l < 0) {
        l = atomic_load_explicit(&log_default_level, memory_order_relaxed);
    }
    return (enum vf_log_level) l;
}

const char *
vf_log_level_to_string(enum vf_log_level level)
{
    static const char *const names[] = {"err", "warn", "info", "dbg"};
    return (unsigned int) level < 4 ? names[level] : "?";
}

bool
vf_log_enabled(struct vf_log_module *module, enum vf_log_level level)
{
    int l = atomic_load_explicit(&module->level, memory_order_relaxed);
    if (l < 0) {
        l = atomic_load_explicit(&log_default_level, memory_order_relaxed);
    }
    return (int) level <= l;
}

void
vf_log_write(struct vf_log_module *module, enum vf_log_level level,
             const char *fmt, ...)
{
    char msg[1024];
    va_list args;
    va_start(args, fmt);
    vsnprintf(msg, sizeof msg, fmt, args);
    va_end(args);

    if (log_use_syslog) {
        static const int prio[] = {LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG};
        syslog(prio[level], "%s|%s", module->name, msg);
        return;
    }
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    fprintf(stderr, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ|%s|%s|%s\n",
            tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
            tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000, level_names[level],
            module->name, msg);
}

bool
vf_log_rl_allow(struct vf_log_rl *rl, uint32_t *suppressed)
{
    int64_t now = vf_time_monotonic_ns();
    int64_t start = atomic_load(&rl->window_start_ns);
    if (now - start >= VF_NSEC_PER_SEC) {
        if (atomic_compare_exchange_strong(&rl->window_start_ns, &start,
                                           now)) {
            *suppressed = atomic_exchange(&rl->n_suppressed, 0);
            atomic_store(&rl->n_in_window, 0);
        }
    }
    if (atomic_fetch_add(&rl->n_in_window, 1) < VF_LOG_RL_BURST) {
        return true;
    }
    atomic_fetch_add(&rl->n_suppressed, 1);
    return false;
}

void
vf_abort_msg(const char *file, int line, const char *cond)
{
    fprintf(stderr, "%s:%d: assertion failed: %s\n", file, line, cond);
    fflush(stderr);
    abort();
}
