/* SPDX-License-Identifier: Apache-2.0 */
/* Control socket client: see ctl-client.h.  A call sends one request with
 * a fresh integer id, then alternates poll() and jsonrpc_stream_recv()
 * until the reply with that id arrives or the deadline passes. */
#include "ctl/ctl-client.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "ctl/jsonrpc.h"
#include "util/buf.h"
#include "util/vtime.h"

/* Replies may be larger than requests (dumps): allow 64 MiB. */
#define CTL_CLIENT_MAX_REPLY (64 * 1024 * 1024)

struct ctl_client {
    struct jsonrpc_stream *stream;
    char *path;
    json_int_t next_id;
};

static int
ms_left(int64_t deadline_ns)
{
    int64_t left = deadline_ns - vf_time_monotonic_ns();
    if (left <= 0) {
        return 0;
    }
    return (int) VF_MIN(VF_DIV_ROUND_UP(left, VF_NSEC_PER_MSEC), 3600000);
}

/* Waits for 'events' on 'fd' until 'deadline_ns'.  Returns 0 or
 * -ETIMEDOUT or -errno. */
static int
wait_fd(int fd, short events, int64_t deadline_ns)
{
    for (;;) {
        struct pollfd pfd = {.fd = fd, .events = events};
        int n = poll(&pfd, 1, ms_left(deadline_ns));
        if (n > 0) {
            return 0;
        } else if (n == 0) {
            return -ETIMEDOUT;
        } else if (errno != EINTR) {
            return -errno;
        }
    }
}

int
ctl_client_open(const char *path, int timeout_ms, struct ctl_client **clientp,
                char **errp)
{
    struct sockaddr_un sun;
    *clientp = NULL;
    if (strlen(path) >= sizeof sun.sun_path) {
        *errp = vf_xasprintf("socket path is longer than %zu bytes: %s",
                             sizeof sun.sun_path - 1, path);
        return -ENAMETOOLONG;
    }
    memset(&sun, 0, sizeof sun);
    sun.sun_family = AF_UNIX;
    memcpy(sun.sun_path, path, strlen(path) + 1);

    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        int err = errno;
        *errp = vf_xasprintf("socket: %s", strerror(err));
        return -err;
    }
    int64_t deadline = vf_time_monotonic_ns()
                       + (int64_t) timeout_ms * VF_NSEC_PER_MSEC;
    int rc = 0;
    if (connect(fd, (struct sockaddr *) &sun, sizeof sun)) {
        rc = -errno;
        if (rc == -EINPROGRESS || rc == -EAGAIN) {
            /* Listen backlog full: wait for the connection to complete. */
            rc = wait_fd(fd, POLLOUT, deadline);
            if (!rc) {
                int err = 0;
                socklen_t len = sizeof err;
                getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
                rc = -err;
            }
        }
    }
    if (rc) {
        const char *hint = rc == -ENOENT || rc == -ECONNREFUSED
                               ? " (is the daemon running?)"
                               : "";
        *errp = vf_xasprintf("cannot connect to %s: %s%s", path,
                             strerror(-rc), hint);
        close(fd);
        return rc;
    }
    struct ctl_client *client = vf_xcalloc(1, sizeof *client);
    client->stream = jsonrpc_stream_create(fd, CTL_CLIENT_MAX_REPLY);
    client->path = vf_xstrdup(path);
    client->next_id = 1;
    *clientp = client;
    return 0;
}

void
ctl_client_close(struct ctl_client *client)
{
    if (client) {
        jsonrpc_stream_destroy(client->stream);
        free(client->path);
        free(client);
    }
}

static int
send_request(struct ctl_client *client, struct jsonrpc_msg *req,
             int64_t deadline, char **errp)
{
    int rc = jsonrpc_stream_send_msg(client->stream, req);
    while (!rc && jsonrpc_stream_backlog(client->stream)) {
        rc = wait_fd(jsonrpc_stream_fd(client->stream), POLLOUT, deadline);
        if (!rc) {
            rc = jsonrpc_stream_run(client->stream);
        }
    }
    if (rc) {
        *errp = rc == -ETIMEDOUT
                    ? vf_xasprintf("%s: timed out sending the request",
                                   client->path)
                    : vf_xasprintf("%s: %s", client->path, strerror(-rc));
    }
    return rc;
}

/* Receives messages until the reply to 'id'.  Returns 0 and '*replyp', or
 * -errno with '*errp'. */
static int
recv_reply(struct ctl_client *client, json_int_t id, int64_t deadline,
           struct jsonrpc_msg **replyp, char **errp)
{
    for (;;) {
        const char *line;
        size_t len;
        int rc = jsonrpc_stream_recv(client->stream, &line, &len);
        if (rc == -EAGAIN) {
            rc = wait_fd(jsonrpc_stream_fd(client->stream), POLLIN, deadline);
            if (rc == -ETIMEDOUT) {
                *errp = vf_xasprintf("%s: no reply within the timeout",
                                     client->path);
                return rc;
            } else if (!rc) {
                continue;
            }
        }
        if (rc == -EPIPE) {
            *errp = vf_xasprintf("%s: the daemon closed the connection",
                                 client->path);
            return rc;
        } else if (rc == -EMSGSIZE) {
            *errp = vf_xasprintf("%s: reply larger than %d bytes",
                                 client->path, CTL_CLIENT_MAX_REPLY);
            return rc;
        } else if (rc) {
            *errp = vf_xasprintf("%s: %s", client->path, strerror(-rc));
            return rc;
        }

        struct jsonrpc_msg *msg, *error;
        if (jsonrpc_msg_parse(line, len, &msg, &error)) {
            *errp = vf_xasprintf("%s: bad reply: %s", client->path,
                                 error->error_message);
            jsonrpc_msg_destroy(error);
            return -EPROTO;
        }
        if (msg->type != JSONRPC_REPLY && msg->type != JSONRPC_ERROR) {
            jsonrpc_msg_destroy(msg);      /* A notification: not ours. */
            continue;
        }
        if (json_is_integer(msg->id) && json_integer_value(msg->id) == id) {
            *replyp = msg;
            return 0;
        }
        if (json_is_null(msg->id) && msg->type == JSONRPC_ERROR) {
            /* The daemon could not tell which request failed (oversized,
             * refused connection): it is ours, there is no other. */
            *replyp = msg;
            return 0;
        }
        jsonrpc_msg_destroy(msg);           /* Late reply to a timeout. */
    }
}

int
ctl_client_call(struct ctl_client *client, const char *method,
                json_t *params, int timeout_ms, json_t **resultp, int *codep,
                char **errp)
{
    int64_t deadline = vf_time_monotonic_ns()
                       + (int64_t) timeout_ms * VF_NSEC_PER_MSEC;
    json_int_t id = client->next_id++;
    struct jsonrpc_msg *req = jsonrpc_request_create(method, params,
                                                     json_integer(id));
    struct jsonrpc_msg *reply = NULL;

    *resultp = NULL;
    int rc = send_request(client, req, deadline, errp);
    jsonrpc_msg_destroy(req);
    if (rc == -EPIPE || rc == -ECONNRESET) {
        /* The daemon may have refused us (permissions, too many clients)
         * and closed before reading: its reason is waiting to be read. */
        char *recv_err = NULL;
        if (!recv_reply(client, id, deadline, &reply, &recv_err)) {
            free(*errp);
            *errp = NULL;
            rc = 0;
        }
        free(recv_err);
    } else if (!rc) {
        rc = recv_reply(client, id, deadline, &reply, errp);
    }
    if (rc) {
        return rc;
    }
    if (reply->type == JSONRPC_ERROR) {
        if (codep) {
            *codep = reply->error_code;
        }
        *errp = vf_xstrdup(reply->error_message);
        rc = -EREMOTEIO;
    } else {
        *resultp = json_incref(reply->result);
    }
    jsonrpc_msg_destroy(reply);
    return rc;
}
