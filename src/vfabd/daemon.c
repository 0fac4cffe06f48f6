/* SPDX-License-Identifier: Apache-2.0 */
/* Process plumbing of vfabd: see daemon.h. */
#include "daemon.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "util/buf.h"
#include "util/poll-loop.h"

struct daemon_signals {
    int fd;
};

int
daemon_signals_open(struct daemon_signals **sigp, char **errp)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    if (sigprocmask(SIG_BLOCK, &set, NULL)) {
        int err = errno;
        *errp = vf_xasprintf("sigprocmask: %s", strerror(err));
        return -err;
    }
    signal(SIGPIPE, SIG_IGN);
    int fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
    if (fd < 0) {
        int err = errno;
        *errp = vf_xasprintf("signalfd: %s", strerror(err));
        return -err;
    }
    struct daemon_signals *sig = vf_xmalloc(sizeof *sig);
    sig->fd = fd;
    *sigp = sig;
    return 0;
}

void
daemon_signals_close(struct daemon_signals *sig)
{
    if (sig) {
        close(sig->fd);
        free(sig);
    }
}

enum daemon_event
daemon_signals_run(struct daemon_signals *sig, int *signo)
{
    enum daemon_event event = DAEMON_EVENT_NONE;
    struct signalfd_siginfo info;
    *signo = 0;
    while (read(sig->fd, &info, sizeof info) == sizeof info) {
        if (info.ssi_signo == SIGTERM || info.ssi_signo == SIGINT) {
            event = DAEMON_EVENT_EXIT;
            *signo = (int) info.ssi_signo;
        } else if (info.ssi_signo == SIGHUP && event == DAEMON_EVENT_NONE) {
            event = DAEMON_EVENT_RELOAD;
            *signo = (int) info.ssi_signo;
        }
    }
    return event;
}

void
daemon_signals_wait(struct daemon_signals *sig, struct vf_poll_loop *loop)
{
    vf_poll_fd_wait(loop, sig->fd, POLLIN);
}

int
daemon_pidfile_write(const char *path, char **errp)
{
    char *tmp = vf_xasprintf("%s.%ld.tmp", path, (long) getpid());
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    int rc = 0;
    if (fd < 0) {
        rc = -errno;
        goto out;
    }
    char buf[32];
    int len = snprintf(buf, sizeof buf, "%ld\n", (long) getpid());
    if (write(fd, buf, (size_t) len) != len || fsync(fd)) {
        rc = errno ? -errno : -EIO;
    }
    if (close(fd) && !rc) {
        rc = -errno;
    }
    if (!rc && rename(tmp, path)) {
        rc = -errno;
    }
out:
    if (rc) {
        *errp = vf_xasprintf("cannot write pid file %s: %s", path,
                             strerror(-rc));
        unlink(tmp);
    }
    free(tmp);
    return rc;
}

void
daemon_pidfile_remove(const char *path)
{
    char buf[32] = "";
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return;
    }
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n > 0 && strtol(buf, NULL, 10) == (long) getpid()) {
        unlink(path);
    }
}

int
daemon_log_reopen(const char *path, char **errp)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
    if (fd < 0) {
        int err = errno;
        *errp = vf_xasprintf("cannot open log file %s: %s", path,
                             strerror(err));
        return -err;
    }
    fflush(stderr);
    if (dup2(fd, STDERR_FILENO) < 0) {
        int err = errno;
        close(fd);
        *errp = vf_xasprintf("dup2 for log file %s: %s", path, strerror(err));
        return -err;
    }
    close(fd);
    return 0;
}

void
daemon_notify(const char *state)
{
    const char *path = getenv("NOTIFY_SOCKET");
    struct sockaddr_un sun;
    if (!path || !*path || strlen(path) >= sizeof sun.sun_path
        || (path[0] != '/' && path[0] != '@')) {
        return;
    }
    memset(&sun, 0, sizeof sun);
    sun.sun_family = AF_UNIX;
    memcpy(sun.sun_path, path, strlen(path));
    socklen_t len = (socklen_t) (offsetof(struct sockaddr_un, sun_path)
                                 + strlen(path) + (path[0] == '/'));
    if (path[0] == '@') {
        sun.sun_path[0] = '\0';     /* Abstract namespace. */
    }
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd >= 0) {
        ssize_t n = sendto(fd, state, strlen(state), MSG_NOSIGNAL,
                           (struct sockaddr *) &sun, len);
        (void) n;
        close(fd);
    }
}
