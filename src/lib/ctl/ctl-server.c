/* SPDX-License-Identifier: Apache-2.0 */
/* The control socket server (contract and limits in ctl-server.h).
 *
 * Start-up, in this order, so that a failure leaves nothing behind and two
 * daemons can never both believe they own a path:
 *
 *   1. create the socket's directory (0700) if it is missing;
 *   2. take "<path>.lock" with flock(LOCK_EX | LOCK_NB); if it is held, a
 *      live daemon owns the path: refuse (-EADDRINUSE), naming its pid
 *      (written in the lock file).  The kernel drops the lock when its
 *      holder dies, even by kill -9, so no stale lock can block a restart;
 *   3. under the lock, a leftover socket at 'path' is stale: check that no
 *      one answers on it (belt and braces against a daemon that does not
 *      use the lock) and unlink it;
 *   4. bind with umask 0177 so the socket is born 0600 (no window in
 *      which others could connect), chmod it 0600 anyway, listen.
 *
 * Each client is a struct ctl_conn around a jsonrpc_stream.  Per
 * ctl_server_run() a client gets: its queued output flushed; then, if its
 * backlog is under CTL_CONN_BACKLOG_MAX, up to CTL_CONN_REQUESTS_PER_RUN
 * requests read and executed.  A client whose partial input or backlog
 * makes no progress for stall_timeout_ms is dropped.  A client that sent
 * an oversized message gets one error and is closed once the error is
 * flushed (or after CTL_CONN_CLOSE_MS).
 *
 * Timers use the real monotonic clock, never the daemon's warpable
 * clock: a test that stops time must not get its clients dropped. */
#include "ctl/ctl-server.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "ctl/ctl-command.h"
#include "ctl/jsonrpc.h"
#include "util/buf.h"
#include "util/log.h"
#include "util/poll-loop.h"
#include "util/vtime.h"

VF_LOG_MODULE(ctl_server);

/* Requests executed per client per run: fairness between clients. */
#define CTL_CONN_REQUESTS_PER_RUN 16

/* Clients accepted per run. */
#define CTL_SERVER_ACCEPTS_PER_RUN 16

/* A client with more unsent output than this is not read. */
#define CTL_CONN_BACKLOG_MAX (64 * 1024)

/* How long a client being closed may take to read its last error. */
#define CTL_CONN_CLOSE_MS 2000

struct ctl_conn {
    struct jsonrpc_stream *stream;
    uint64_t serial;            /* For logs: "client #N". */
    pid_t pid;                  /* Peer credentials (logs). */
    uid_t uid;
    size_t last_partial;        /* Progress tracking for the stall timer. */
    size_t last_backlog;
    int64_t stalled_since_ns;   /* 0: making progress or idle. */
    int64_t close_at_ns;        /* 0: open; else flush, then close by. */
};

struct ctl_server {
    char *path;
    char *lock_path;
    int listen_fd;
    int lock_fd;
    struct ctl_server_options opts;
    struct ctl_conn *conns;
    size_t n_conns, cap_conns;
    uint64_t next_serial;
    int64_t accept_resume_ns;   /* Out of fds: no accept() before this. */
};

/* Pause of accept() when the process is out of file descriptors (a
 * listening socket stays readable then, and polling it would spin). */
#define CTL_SERVER_EMFILE_PAUSE_MS 100

/* Creates each missing directory on the way to 'path''s parent, 0700. */
static int
make_parent_dirs(const char *path, char **errp)
{
    char *dir = vf_xstrdup(path);
    char *slash = strrchr(dir, '/');
    int rc = 0;
    if (!slash || slash == dir) {
        goto out;
    }
    *slash = '\0';
    struct stat st;
    if (!stat(dir, &st)) {
        if (!S_ISDIR(st.st_mode)) {
            *errp = vf_xasprintf("%s is not a directory", dir);
            rc = -ENOTDIR;
        }
        goto out;
    }
    for (char *p = dir + 1; ; p++) {
        if (*p == '/' || *p == '\0') {
            char c = *p;
            *p = '\0';
            if (mkdir(dir, 0700) && errno != EEXIST) {
                rc = -errno;
                *errp = vf_xasprintf("cannot create directory %s: %s", dir,
                                     strerror(errno));
                goto out;
            }
            *p = c;
            if (!c) {
                break;
            }
        }
    }
out:
    free(dir);
    return rc;
}

/* Takes the lock file; see step 2 of the theory. */
static int
take_lock(struct ctl_server *server, char **errp)
{
    for (int attempt = 0; attempt < 5; attempt++) {
        int fd = open(server->lock_path,
                      O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd < 0) {
            int err = errno;
            *errp = vf_xasprintf("cannot open lock file %s: %s",
                                 server->lock_path, strerror(err));
            return -err;
        }
        if (flock(fd, LOCK_EX | LOCK_NB)) {
            int err = errno;
            char pid[32] = "";
            ssize_t n = pread(fd, pid, sizeof pid - 1, 0);
            pid[n > 0 ? n : 0] = '\0';
            pid[strcspn(pid, "\n")] = '\0';
            close(fd);
            if (err == EWOULDBLOCK) {
                *errp = vf_xasprintf("control socket %s is in use by another "
                                     "process%s%s%s", server->path,
                                     *pid ? " (pid " : "", pid,
                                     *pid ? ")" : "");
                return -EADDRINUSE;
            }
            *errp = vf_xasprintf("cannot lock %s: %s", server->lock_path,
                                 strerror(err));
            return -err;
        }
        /* The previous owner may have unlinked the file between our open
         * and our flock: only a lock on the file at the path counts. */
        struct stat st_fd, st_path;
        if (!fstat(fd, &st_fd) && !stat(server->lock_path, &st_path)
            && st_fd.st_ino == st_path.st_ino
            && st_fd.st_dev == st_path.st_dev) {
            char pid[32];
            int len = snprintf(pid, sizeof pid, "%ld\n", (long) getpid());
            if (ftruncate(fd, 0) || pwrite(fd, pid, len, 0) != len) {
                VF_LOG_WARN(ctl_server, "%s: cannot record pid: %s",
                            server->lock_path, strerror(errno));
            }
            server->lock_fd = fd;
            return 0;
        }
        close(fd);
    }
    *errp = vf_xasprintf("cannot lock %s: it keeps changing",
                         server->lock_path);
    return -EAGAIN;
}

static void
fill_addr(struct sockaddr_un *sun, const char *path)
{
    memset(sun, 0, sizeof *sun);
    sun->sun_family = AF_UNIX;
    memcpy(sun->sun_path, path, strlen(path) + 1);
}

/* Step 3: removes a stale socket at the path (we hold the lock). */
static int
remove_stale(struct ctl_server *server, char **errp)
{
    struct stat st;
    if (lstat(server->path, &st)) {
        if (errno == ENOENT) {
            return 0;
        }
        int err = errno;
        *errp = vf_xasprintf("%s: %s", server->path, strerror(err));
        return -err;
    }
    if (!S_ISSOCK(st.st_mode)) {
        *errp = vf_xasprintf("%s exists and is not a socket", server->path);
        return -EEXIST;
    }
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd >= 0) {
        struct sockaddr_un sun;
        fill_addr(&sun, server->path);
        int rc = connect(fd, (struct sockaddr *) &sun, sizeof sun);
        close(fd);
        if (!rc) {
            *errp = vf_xasprintf("control socket %s is in use by another "
                                 "process", server->path);
            return -EADDRINUSE;
        }
    }
    VF_LOG_INFO(ctl_server, "removing stale socket %s", server->path);
    if (unlink(server->path) && errno != ENOENT) {
        int err = errno;
        *errp = vf_xasprintf("cannot remove stale socket %s: %s",
                             server->path, strerror(err));
        return -err;
    }
    return 0;
}

/* Step 4. */
static int
bind_listen(struct ctl_server *server, char **errp)
{
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        int err = errno;
        *errp = vf_xasprintf("socket: %s", strerror(err));
        return -err;
    }
    struct sockaddr_un sun;
    fill_addr(&sun, server->path);
    mode_t old_umask = umask(0177);
    int rc = bind(fd, (struct sockaddr *) &sun, sizeof sun);
    int err = errno;
    umask(old_umask);
    if (rc) {
        *errp = vf_xasprintf("cannot bind %s: %s", server->path,
                             strerror(err));
        close(fd);
        return -err;
    }
    if (chmod(server->path, 0600) || listen(fd, 64)) {
        err = errno;
        *errp = vf_xasprintf("cannot listen on %s: %s", server->path,
                             strerror(err));
        unlink(server->path);
        close(fd);
        return -err;
    }
    server->listen_fd = fd;
    return 0;
}

int
ctl_server_create(const char *path, const struct ctl_server_options *options,
                  struct ctl_server **serverp, char **errp)
{
    *serverp = NULL;
    if (!*path) {
        *errp = vf_xstrdup("empty control socket path");
        return -EINVAL;
    }
    if (strlen(path) > CTL_SERVER_MAX_PATH) {
        *errp = vf_xasprintf("control socket path is longer than %d bytes: "
                             "%s", CTL_SERVER_MAX_PATH, path);
        return -ENAMETOOLONG;
    }

    struct ctl_server *server = vf_xcalloc(1, sizeof *server);
    server->path = vf_xstrdup(path);
    server->lock_path = vf_xasprintf("%s.lock", path);
    server->listen_fd = server->lock_fd = -1;
    if (options) {
        server->opts = *options;
    }
    if (!server->opts.max_msg_size) {
        server->opts.max_msg_size = JSONRPC_MAX_MSG_SIZE;
    }
    if (!server->opts.max_clients) {
        server->opts.max_clients = CTL_SERVER_MAX_CLIENTS;
    }
    if (server->opts.stall_timeout_ms <= 0) {
        server->opts.stall_timeout_ms = CTL_SERVER_STALL_MS;
    }

    int rc = make_parent_dirs(path, errp);
    if (!rc) {
        rc = take_lock(server, errp);
    }
    if (!rc) {
        rc = remove_stale(server, errp);
    }
    if (!rc) {
        rc = bind_listen(server, errp);
    }
    if (rc) {
        if (server->lock_fd >= 0) {
            unlink(server->lock_path);
            close(server->lock_fd);
        }
        free(server->path);
        free(server->lock_path);
        free(server);
        return rc;
    }
    VF_LOG_INFO(ctl_server, "listening on %s", path);
    *serverp = server;
    return 0;
}

static void
conn_close(struct ctl_server *server, size_t i, const char *why)
{
    struct ctl_conn *c = &server->conns[i];
    if (why) {
        VF_LOG_INFO_RL(ctl_server, "client #%llu (pid %ld uid %ld): %s",
                       (unsigned long long) c->serial, (long) c->pid,
                       (long) c->uid, why);
    }
    jsonrpc_stream_destroy(c->stream);
    server->conns[i] = server->conns[--server->n_conns];
}

void
ctl_server_destroy(struct ctl_server *server)
{
    if (!server) {
        return;
    }
    while (server->n_conns) {
        conn_close(server, server->n_conns - 1, NULL);
    }
    free(server->conns);
    close(server->listen_fd);
    unlink(server->path);
    /* Unlink the lock while holding it: see take_lock()'s inode check. */
    unlink(server->lock_path);
    close(server->lock_fd);
    VF_LOG_INFO(ctl_server, "closed %s", server->path);
    free(server->path);
    free(server->lock_path);
    free(server);
}

/* Writes one error line to a socket we are about to close, best effort. */
static void
refuse(int fd, int code, const char *message)
{
    struct jsonrpc_msg *e = jsonrpc_error_create(code, message, NULL, NULL);
    char *text = jsonrpc_msg_to_string(e);
    struct vf_buf b = VF_BUF_INITIALIZER;
    vf_buf_printf(&b, "%s\n", text);
    ssize_t n VF_UNUSED = send(fd, b.data, b.len, MSG_NOSIGNAL | MSG_DONTWAIT);
    vf_buf_uninit(&b);
    free(text);
    jsonrpc_msg_destroy(e);
    close(fd);
}

static void
accept_one(struct ctl_server *server, int fd)
{
    struct ucred cred = {.pid = 0, .uid = (uid_t) -1, .gid = (gid_t) -1};
    socklen_t len = sizeof cred;
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len)
        || (cred.uid != 0 && cred.uid != geteuid())) {
        VF_LOG_WARN_RL(ctl_server, "refused client pid %ld uid %ld: not "
                       "root or uid %ld", (long) cred.pid, (long) cred.uid,
                       (long) geteuid());
        refuse(fd, JSONRPC_VF_DENIED, "permission denied");
        return;
    }
    if (server->n_conns >= server->opts.max_clients) {
        VF_LOG_WARN_RL(ctl_server, "refused client pid %ld: %u clients "
                       "already", (long) cred.pid, server->opts.max_clients);
        refuse(fd, JSONRPC_VF_BUSY, "too many clients, try again later");
        return;
    }
    if (server->n_conns == server->cap_conns) {
        server->cap_conns = server->cap_conns ? 2 * server->cap_conns : 8;
        server->conns = vf_xrealloc(server->conns,
                                    server->cap_conns * sizeof *server->conns);
    }
    server->conns[server->n_conns++] = (struct ctl_conn){
        .stream = jsonrpc_stream_create(fd, server->opts.max_msg_size),
        .serial = ++server->next_serial,
        .pid = cred.pid,
        .uid = cred.uid,
    };
    VF_LOG_DBG(ctl_server, "client #%llu connected (pid %ld)",
               (unsigned long long) server->next_serial, (long) cred.pid);
}

static void
accept_clients(struct ctl_server *server)
{
    if (server->accept_resume_ns
        && vf_time_monotonic_ns() < server->accept_resume_ns) {
        return;
    }
    server->accept_resume_ns = 0;
    for (int i = 0; i < CTL_SERVER_ACCEPTS_PER_RUN; i++) {
        int fd = accept4(server->listen_fd, NULL, NULL,
                         SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS
                || errno == ENOMEM) {
                server->accept_resume_ns =
                    vf_time_monotonic_ns()
                    + CTL_SERVER_EMFILE_PAUSE_MS * VF_NSEC_PER_MSEC;
            }
            if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR
                && errno != ECONNABORTED) {
                VF_LOG_WARN_RL(ctl_server, "accept on %s: %s", server->path,
                               strerror(errno));
            }
            return;
        }
        accept_one(server, fd);
    }
}

/* Executes up to CTL_CONN_REQUESTS_PER_RUN requests.  Returns NULL to keep
 * the connection, or why it must close ("" for a quiet close). */
static const char *
conn_serve(struct ctl_server *server, struct ctl_conn *c)
{
    for (int i = 0; i < CTL_CONN_REQUESTS_PER_RUN; i++) {
        if (jsonrpc_stream_backlog(c->stream) >= CTL_CONN_BACKLOG_MAX) {
            return NULL;
        }
        const char *line;
        size_t len;
        int rc = jsonrpc_stream_recv(c->stream, &line, &len);
        if (rc == -EAGAIN) {
            return NULL;
        } else if (rc == -EMSGSIZE) {
            char *msg = vf_xasprintf("message exceeds %zu bytes",
                                     server->opts.max_msg_size);
            struct jsonrpc_msg *e = jsonrpc_error_create(
                JSONRPC_VF_TOO_LARGE, msg, NULL, NULL);
            jsonrpc_stream_send_msg(c->stream, e);
            jsonrpc_msg_destroy(e);
            free(msg);
            c->close_at_ns = vf_time_monotonic_ns()
                             + CTL_CONN_CLOSE_MS * VF_NSEC_PER_MSEC;
            VF_LOG_WARN_RL(ctl_server, "client #%llu sent an oversized "
                           "message; closing",
                           (unsigned long long) c->serial);
            return NULL;
        } else if (rc == -EPIPE) {
            /* The client is done sending; finish sending to it. */
            if (!jsonrpc_stream_backlog(c->stream)) {
                return "";
            }
            c->close_at_ns = vf_time_monotonic_ns()
                             + CTL_CONN_CLOSE_MS * VF_NSEC_PER_MSEC;
            return NULL;
        } else if (rc) {
            return strerror(-rc);
        }
        char *reply = ctl_command_execute_text(line, len);
        if (reply) {
            rc = jsonrpc_stream_send(c->stream, reply, strlen(reply));
            free(reply);
            if (rc) {
                return rc == -EPIPE ? "" : strerror(-rc);
            }
        }
    }
    return NULL;
}

/* Updates the stall timer.  Returns true if the client must be dropped. */
static bool
conn_stalled(const struct ctl_server *server, struct ctl_conn *c,
             int64_t now)
{
    size_t partial = jsonrpc_stream_partial(c->stream);
    size_t backlog = jsonrpc_stream_backlog(c->stream);
    if ((!partial && !backlog) || partial != c->last_partial
        || backlog != c->last_backlog) {
        c->stalled_since_ns = (partial || backlog) ? now : 0;
    }
    c->last_partial = partial;
    c->last_backlog = backlog;
    return c->stalled_since_ns
           && now - c->stalled_since_ns
                  >= server->opts.stall_timeout_ms * VF_NSEC_PER_MSEC;
}

void
ctl_server_run(struct ctl_server *server)
{
    int64_t now = vf_time_monotonic_ns();
    for (size_t i = 0; i < server->n_conns;) {
        struct ctl_conn *c = &server->conns[i];
        const char *why = NULL;
        int rc = jsonrpc_stream_run(c->stream);
        if (rc) {
            why = rc == -EPIPE ? "" : strerror(-rc);
        } else if (c->close_at_ns) {
            if (!jsonrpc_stream_backlog(c->stream)) {
                why = "";
            } else if (now >= c->close_at_ns) {
                why = "did not read its last reply";
            }
        } else {
            why = conn_serve(server, c);
            if (!why && !c->close_at_ns && conn_stalled(server, c, now)) {
                why = jsonrpc_stream_backlog(c->stream)
                          ? "stalled: not reading its replies"
                          : "stalled: incomplete message";
            }
        }
        if (why) {
            conn_close(server, i, *why ? why : NULL);
        } else {
            i++;
        }
    }

    /* After the clients, so that slots freed by clients that left are
     * available to the newcomers. */
    accept_clients(server);
}

void
ctl_server_wait(struct ctl_server *server, struct vf_poll_loop *loop)
{
    if (server->accept_resume_ns) {
        vf_poll_timer_wait_until(loop, server->accept_resume_ns);
    } else {
        vf_poll_fd_wait(loop, server->listen_fd, POLLIN);
    }
    for (size_t i = 0; i < server->n_conns; i++) {
        struct ctl_conn *c = &server->conns[i];
        bool serving = !c->close_at_ns
                       && jsonrpc_stream_backlog(c->stream)
                              < CTL_CONN_BACKLOG_MAX;
        jsonrpc_stream_wait(c->stream, loop, serving);
        if (serving && jsonrpc_stream_has_line(c->stream)) {
            vf_poll_immediate_wake(loop);   /* Budget ran out last run. */
        }
        if (c->close_at_ns) {
            vf_poll_timer_wait_until(loop, c->close_at_ns);
            if (!jsonrpc_stream_backlog(c->stream)) {
                vf_poll_immediate_wake(loop);
            }
        } else if (c->stalled_since_ns) {
            vf_poll_timer_wait_until(
                loop, c->stalled_since_ns
                          + server->opts.stall_timeout_ms * VF_NSEC_PER_MSEC);
        }
    }
}

size_t
ctl_server_n_clients(const struct ctl_server *server)
{
    return server->n_conns;
}

const char *
ctl_server_path(const struct ctl_server *server)
{
    return server->path;
}
