/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VFAB_VFABD_DAEMON_H
#define VFAB_VFABD_DAEMON_H 1

/* Process plumbing of vfabd: signals as an fd in the main loop, the pid
 * file, the log file, readiness notification to systemd.
 *
 * Signals: daemon_signals_open() blocks SIGTERM, SIGINT and SIGHUP in the
 * calling thread (call it in main() before any other thread starts, so
 * every thread inherits the mask and only the signalfd sees them) and
 * ignores SIGPIPE (a client that goes away must not kill the daemon).
 * Main thread only. */

#include <stdbool.h>

struct vf_poll_loop;
struct daemon_signals;

enum daemon_event {
    DAEMON_EVENT_NONE,
    DAEMON_EVENT_EXIT,          /* SIGTERM or SIGINT: shut down cleanly. */
    DAEMON_EVENT_RELOAD,        /* SIGHUP: reopen logs. */
};

/* Returns 0 and '*sigp', or -errno with '*errp'. */
int daemon_signals_open(struct daemon_signals **sigp, char **errp);
void daemon_signals_close(struct daemon_signals *sig);

/* Reads pending signals; returns the most urgent event (EXIT beats
 * RELOAD) and, in '*signo', the number of the signal behind it. */
enum daemon_event daemon_signals_run(struct daemon_signals *sig,
                                     int *signo);
void daemon_signals_wait(struct daemon_signals *sig,
                         struct vf_poll_loop *loop);

/* Writes our pid to 'path' atomically (temporary file + rename).  Returns
 * 0 or -errno with '*errp'. */
int daemon_pidfile_write(const char *path, char **errp);

/* Removes 'path' if it still holds our pid. */
void daemon_pidfile_remove(const char *path);

/* Points stderr (where the log goes when not using syslog) at 'path',
 * opened for appending; called at start-up and on SIGHUP so that log
 * rotation works.  Returns 0 or -errno with '*errp'. */
int daemon_log_reopen(const char *path, char **errp);

/* Tells systemd (Type=notify) 'state' ("READY=1", "STOPPING=1") if it
 * started us; a no-op otherwise. */
void daemon_notify(const char *state);

#endif /* daemon.h */
