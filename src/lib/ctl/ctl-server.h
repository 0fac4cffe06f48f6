/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VFAB_CTL_CTL_SERVER_H
#define VFAB_CTL_CTL_SERVER_H 1

/* The control socket server: JSON-RPC 2.0 over a Unix stream socket.
 *
 * The socket is created with mode 0600 (its directory with 0700 when it
 * has to be created) and only peers running as root or as the daemon's
 * own user are served (SO_PEERCRED), so file permissions and credentials
 * both keep other users out.  A lock file "<path>.lock" (flock) records
 * that a live daemon owns the path: a second daemon refuses to start, and
 * a socket left behind by a crashed one is removed.
 *
 * Requests are executed by the command registry (ctl-command.h), one line
 * at a time, on the thread that calls ctl_server_run().
 *
 * No client can block or exhaust the daemon:
 *   - every socket is non-blocking; partial input and output are buffered;
 *   - a message over the size limit gets a -32006 error and the
 *     connection is closed;
 *   - a client with unsent replies is not read until they drain (so its
 *     output is bounded by what one request produces), and is dropped if
 *     they do not drain within 'stall_timeout_ms';
 *   - a client that leaves half a message for 'stall_timeout_ms' is
 *     dropped;
 *   - at most 'max_clients' are served; more get a -32007 error and are
 *     closed;
 *   - each ctl_server_run() does bounded work per client (a few requests,
 *     one read chunk), so one busy client cannot starve the others.
 *
 * Run/wait (STYLE.md P12): call ctl_server_run() every loop iteration and
 * ctl_server_wait() before blocking.  Control thread only. */

#include <stddef.h>

struct ctl_server;
struct vf_poll_loop;

struct ctl_server_options {
    size_t max_msg_size;        /* Bytes; 0: JSONRPC_MAX_MSG_SIZE. */
    unsigned int max_clients;   /* 0: CTL_SERVER_MAX_CLIENTS. */
    int stall_timeout_ms;       /* 0: CTL_SERVER_STALL_MS. */
};

#define CTL_SERVER_MAX_CLIENTS 64
#define CTL_SERVER_STALL_MS 10000

/* Longest socket path (sun_path less the NUL). */
#define CTL_SERVER_MAX_PATH 107

/* Creates the server listening on 'path' ('options' may be NULL for the
 * defaults).  Returns 0 and '*serverp', or -errno with '*errp' a one-line
 * message (caller frees) and nothing left behind:
 *   -ENAMETOOLONG  'path' is longer than CTL_SERVER_MAX_PATH;
 *   -EADDRINUSE    a live process owns 'path' (its lock is held);
 *   -EEXIST        'path' exists and is not a socket;
 *   -errno         mkdir/open/bind/listen failures. */
int ctl_server_create(const char *path,
                      const struct ctl_server_options *options,
                      struct ctl_server **serverp, char **errp);

/* Closes every connection, removes the socket and its lock file, frees
 * 'server'.  NULL is a no-op. */
void ctl_server_destroy(struct ctl_server *server);

/* Accepts new clients, reads requests, executes them and sends replies,
 * drops misbehaving clients.  Bounded work; never blocks. */
void ctl_server_run(struct ctl_server *server);

/* Registers the listening socket, client sockets and the earliest stall
 * deadline with 'loop'. */
void ctl_server_wait(struct ctl_server *server, struct vf_poll_loop *loop);

/* Number of connected clients. */
size_t ctl_server_n_clients(const struct ctl_server *server);

/* The socket path. */
const char *ctl_server_path(const struct ctl_server *server);

#endif /* ctl/ctl-server.h */
