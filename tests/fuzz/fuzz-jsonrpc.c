/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: the control protocol as vfabd receives it.  The input is a
 * byte stream from a client: it is cut into lines exactly as
 * jsonrpc_stream_recv() does (through a real socketpair, with a small size
 * limit so that oversized lines are exercised too), and every line goes
 * through the dispatcher (ctl_command_execute_text()) against a registry
 * holding commands with every kind of argument and option.  Every reply
 * must be one line of valid JSON-RPC; the client-side parser must accept
 * it.  Each line is also fed to jsonrpc_msg_parse() directly. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ctl/ctl-command.h"
#include "ctl/jsonrpc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
echo_cmd(const struct ctl_request *req, void *aux, json_t **resultp,
         char **errp)
{
    (void) aux;
    if (req->n_args && !strcmp(req->args[0], "fail")) {
        *errp = strdup("asked to fail\nwith two lines");
        return -ENOENT;
    }
    json_t *args = json_array();
    for (size_t i = 0; i < req->n_args; i++) {
        json_array_append_new(args, json_string(req->args[i]));
    }
    *resultp = json_pack("{s:o, s:O}", "args", args, "options",
                         req->options ? (json_t *) req->options
                                      : json_null());
    return 0;
}

static const struct ctl_option opts[] = {
    {.name = "type", .type = CTL_OPT_STRING, .required = true},
    {.name = "vlan", .type = CTL_OPT_INT, .min = 0, .max = 4095},
    {.name = "trunks", .type = CTL_OPT_INT_LIST, .min = 0, .max = 4095},
    {.name = "ip", .type = CTL_OPT_STRING_LIST},
    {.name = "up", .type = CTL_OPT_BOOL},
    {.name = NULL},
};

static void
check_reply(const char *reply)
{
    if (!reply) {
        return;
    }
    if (strchr(reply, '\n')) {
        abort();
    }
    char *err = NULL;
    json_t *j = jsonrpc_parse_json(reply, strlen(reply), &err);
    if (!j) {
        abort();
    }
    if (json_is_array(j)) {
        size_t i;
        json_t *e;
        json_array_foreach (j, i, e) {
            struct jsonrpc_msg *m;
            if (jsonrpc_msg_from_json(e, &m, NULL)
                || (m->type != JSONRPC_REPLY && m->type != JSONRPC_ERROR)) {
                abort();
            }
            jsonrpc_msg_destroy(m);
        }
    } else {
        struct jsonrpc_msg *m;
        if (jsonrpc_msg_from_json(j, &m, NULL)
            || (m->type != JSONRPC_REPLY && m->type != JSONRPC_ERROR)) {
            abort();
        }
        jsonrpc_msg_destroy(m);
    }
    json_decref(j);
}

static void
handle_line(const char *line, size_t len)
{
    char *reply = ctl_command_execute_text(line, len);
    check_reply(reply);
    free(reply);

    struct jsonrpc_msg *msg, *error;
    if (jsonrpc_msg_parse(line, len, &msg, &error)) {
        char *s = jsonrpc_msg_to_string(error);
        check_reply(s);
        free(s);
        jsonrpc_msg_destroy(error);
    } else {
        /* What parses must serialise and parse back the same. */
        char *s = jsonrpc_msg_to_string(msg);
        struct jsonrpc_msg *again;
        if (jsonrpc_msg_parse(s, strlen(s), &again, NULL)) {
            abort();
        }
        char *s2 = jsonrpc_msg_to_string(again);
        if (strcmp(s, s2)) {
            abort();
        }
        free(s);
        free(s2);
        jsonrpc_msg_destroy(again);
        jsonrpc_msg_destroy(msg);
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int initialised;
    if (!initialised) {
        ctl_command_register("test/echo", "[ARG...]", 0, 4, echo_cmd, NULL);
        ctl_command_register_opts("port/add", "BR PORT {...}", 2, 2, opts,
                                  echo_cmd, NULL);
        initialised = 1;
    }
    if (size > 65536) {
        return 0;
    }

    int fds[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, fds)) {
        return 0;
    }
    int sndbuf = 1 << 20;
    setsockopt(fds[1], SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf);
    struct jsonrpc_stream *s = jsonrpc_stream_create(fds[0], 2048);
    size_t sent = 0;
    for (int rounds = 0; rounds < 100000; rounds++) {
        if (sent < size) {
            ssize_t n = write(fds[1], data + sent, size - sent);
            if (n > 0) {
                sent += (size_t) n;
            }
            if (sent == size) {
                close(fds[1]);
            }
        }
        const char *line;
        size_t len;
        int rc = jsonrpc_stream_recv(s, &line, &len);
        if (rc == 0) {
            if (len > 2048 || line[len] != '\0') {
                abort();
            }
            handle_line(line, len);
        } else if (rc != -EAGAIN) {
            break;          /* -EPIPE, -EMSGSIZE. */
        }
    }
    if (sent < size) {
        close(fds[1]);
    }
    jsonrpc_stream_destroy(s);
    return 0;
}
