/* SPDX-License-Identifier: Apache-2.0 */
/* The command registry and the JSON-RPC dispatcher (contract in
 * ctl-command.h).
 *
 * Data flow of one received line (ctl_command_execute_text()):
 *
 *     text --jsonrpc_parse_json--> JSON --not JSON--> -32700 error
 *                                    |
 *                 object ------------+------------ array (batch)
 *                   |                                 |  empty / too big
 *                   |                                 +--> -32600 error
 *         jsonrpc_msg_from_json                for each element: same as
 *           | invalid -> -32600 error          an object; replies gathered
 *           | response -> -32600 error         into an array (none: send
 *           v                                  nothing)
 *     ctl_command_execute: lookup -> -32601
 *                          split params into args + options
 *                          check counts, types, options -> -32602
 *                          handler -> result | errno -> code + message
 *
 * The registry is a small array kept sorted by name (list-commands prints
 * it in order; a few dozen entries make the linear insert irrelevant).
 * "list-commands" is added on first use, so there is no init call. */
#include "ctl/ctl-command.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ctl/jsonrpc.h"
#include "util/buf.h"
#include "util/compiler.h"

struct ctl_command {
    char *name;
    char *usage;
    int min_args, max_args;
    const struct ctl_option *options;   /* NULL: takes no options. */
    ctl_command_fn *fn;
    void *aux;
};

/* Process-wide registry (see "Thread safety" in ctl-command.h). */
static struct ctl_command *commands;
static size_t n_commands, cap_commands;

static ctl_command_fn list_commands_cmd;

static bool
name_is_valid(const char *name)
{
    size_t len = strlen(name);
    if (!len || len > CTL_COMMAND_MAX_NAME || name[0] == '/'
        || name[len - 1] == '/') {
        return false;
    }
    for (const char *p = name; *p; p++) {
        if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9')
              || *p == '-' || *p == '_' || *p == '/')) {
            return false;
        }
    }
    return true;
}

static bool
options_are_valid(const struct ctl_option *options)
{
    for (const struct ctl_option *o = options; o && o->name; o++) {
        if (!*o->name || o->min > o->max) {
            return false;
        }
        for (const struct ctl_option *p = options; p < o; p++) {
            if (!strcmp(p->name, o->name)) {
                return false;
            }
        }
    }
    return true;
}

static struct ctl_command *
lookup(const char *name)
{
    for (size_t i = 0; i < n_commands; i++) {
        if (!strcmp(commands[i].name, name)) {
            return &commands[i];
        }
    }
    return NULL;
}

static int
insert(const char *name, const char *usage, int min_args, int max_args,
       const struct ctl_option *options, ctl_command_fn *fn, void *aux)
{
    if (!name_is_valid(name) || !fn || min_args < 0 || max_args < min_args
        || max_args > CTL_COMMAND_MAX_ARGS || !options_are_valid(options)) {
        return -EINVAL;
    }
    if (lookup(name)) {
        return -EEXIST;
    }
    if (n_commands == cap_commands) {
        cap_commands = cap_commands ? 2 * cap_commands : 32;
        commands = vf_xrealloc(commands, cap_commands * sizeof *commands);
    }
    size_t pos = 0;
    while (pos < n_commands && strcmp(commands[pos].name, name) < 0) {
        pos++;
    }
    memmove(&commands[pos + 1], &commands[pos],
            (n_commands - pos) * sizeof *commands);
    commands[pos] = (struct ctl_command){
        .name = vf_xstrdup(name),
        .usage = vf_xstrdup(usage ? usage : ""),
        .min_args = min_args,
        .max_args = max_args,
        .options = options,
        .fn = fn,
        .aux = aux,
    };
    n_commands++;
    return 0;
}

static void
ensure_builtins(void)
{
    if (!lookup("list-commands")) {
        VF_VERIFY(!insert("list-commands", "", 0, 0, NULL,
                          list_commands_cmd, NULL));
    }
}

int
ctl_command_register_opts(const char *name, const char *usage, int min_args,
                          int max_args, const struct ctl_option *options,
                          ctl_command_fn *fn, void *aux)
{
    ensure_builtins();
    return insert(name, usage, min_args, max_args, options, fn, aux);
}

int
ctl_command_register(const char *name, const char *usage, int min_args,
                     int max_args, ctl_command_fn *fn, void *aux)
{
    return ctl_command_register_opts(name, usage, min_args, max_args, NULL,
                                     fn, aux);
}

int
ctl_command_unregister(const char *name)
{
    if (!strcmp(name, "list-commands")) {
        return -EPERM;
    }
    struct ctl_command *cmd = lookup(name);
    if (!cmd) {
        return -ENOENT;
    }
    free(cmd->name);
    free(cmd->usage);
    size_t pos = (size_t) (cmd - commands);
    memmove(cmd, cmd + 1, (n_commands - pos - 1) * sizeof *commands);
    n_commands--;
    return 0;
}

void
ctl_command_unregister_all(void)
{
    for (size_t i = 0; i < n_commands; i++) {
        free(commands[i].name);
        free(commands[i].usage);
    }
    free(commands);
    commands = NULL;
    n_commands = cap_commands = 0;
}

bool
ctl_command_exists(const char *name)
{
    ensure_builtins();
    return lookup(name) != NULL;
}

static const char *
option_type_name(enum ctl_option_type type)
{
    switch (type) {
    case CTL_OPT_STRING:
        return "string";
    case CTL_OPT_INT:
        return "integer";
    case CTL_OPT_BOOL:
        return "boolean";
    case CTL_OPT_STRING_LIST:
        return "list of strings";
    case CTL_OPT_INT_LIST:
        return "list of integers";
    }
    return "?";
}

static json_t *
option_to_json(const struct ctl_option *o)
{
    json_t *j = json_pack("{s:s, s:s, s:b}", "name", o->name, "type",
                          option_type_name(o->type), "required",
                          o->required);
    if (o->type == CTL_OPT_INT || o->type == CTL_OPT_INT_LIST) {
        json_object_set_new(j, "min", json_integer(o->min));
        json_object_set_new(j, "max", json_integer(o->max));
    }
    return j;
}

static int
list_commands_cmd(const struct ctl_request *req, void *aux, json_t **resultp,
                  char **errp)
{
    (void) req;
    (void) aux;
    (void) errp;
    json_t *list = json_array();
    for (size_t i = 0; i < n_commands; i++) {
        const struct ctl_command *c = &commands[i];
        json_t *j = json_pack("{s:s, s:s, s:i, s:i}", "name", c->name,
                              "usage", c->usage, "min_args", c->min_args,
                              "max_args", c->max_args);
        if (c->options) {
            json_t *opts = json_array();
            for (const struct ctl_option *o = c->options; o->name; o++) {
                json_array_append_new(opts, option_to_json(o));
            }
            json_object_set_new(j, "options", opts);
        }
        json_array_append_new(list, j);
    }
    *resultp = list;
    return 0;
}

/* Option checking. */

static const struct ctl_option *
option_lookup(const struct ctl_option *options, const char *name)
{
    for (const struct ctl_option *o = options; o && o->name; o++) {
        if (!strcmp(o->name, name)) {
            return o;
        }
    }
    return NULL;
}

static char *
valid_option_names(const struct ctl_option *options)
{
    struct vf_buf b = VF_BUF_INITIALIZER;
    for (const struct ctl_option *o = options; o && o->name; o++) {
        vf_buf_printf(&b, "%s%s", b.len ? ", " : "", o->name);
    }
    return vf_buf_steal(&b);
}

static char *
check_string(const struct ctl_option *o, const json_t *v, const char *what)
{
    if (!json_is_string(v)) {
        return vf_xasprintf("%s '%s' must be a string", what, o->name);
    }
    size_t len = json_string_length(v);
    if (!len || len > CTL_OPTION_MAX_STRLEN) {
        return vf_xasprintf("%s '%s' must be 1 to %d bytes long", what,
                            o->name, CTL_OPTION_MAX_STRLEN);
    }
    return NULL;
}

static char *
check_int(const struct ctl_option *o, const json_t *v, const char *what)
{
    if (!json_is_integer(v) || json_integer_value(v) < o->min
        || json_integer_value(v) > o->max) {
        char value[64] = "";
        if (json_is_integer(v)) {
            snprintf(value, sizeof value, " (got %lld)",
                     (long long) json_integer_value(v));
        }
        return vf_xasprintf("%s '%s' must be an integer %lld..%lld%s", what,
                            o->name, (long long) o->min, (long long) o->max,
                            value);
    }
    return NULL;
}

static char *
check_option_value(const struct ctl_option *o, const json_t *v)
{
    switch (o->type) {
    case CTL_OPT_STRING:
        return check_string(o, v, "option");
    case CTL_OPT_INT:
        return check_int(o, v, "option");
    case CTL_OPT_BOOL:
        return json_is_boolean(v)
                   ? NULL
                   : vf_xasprintf("option '%s' must be true or false",
                                  o->name);
    case CTL_OPT_STRING_LIST:
    case CTL_OPT_INT_LIST: {
        if (!json_is_array(v) || !json_array_size(v)
            || json_array_size(v) > CTL_OPTION_MAX_LIST) {
            return vf_xasprintf("option '%s' must be a list of 1 to %d %s",
                                o->name, CTL_OPTION_MAX_LIST,
                                o->type == CTL_OPT_INT_LIST ? "integers"
                                                            : "strings");
        }
        size_t i;
        json_t *e;
        json_array_foreach ((json_t *) v, i, e) {
            char *err = o->type == CTL_OPT_INT_LIST
                            ? check_int(o, e, "each element of")
                            : check_string(o, e, "each element of");
            if (err) {
                return err;
            }
        }
        return NULL;
    }
    }
    return vf_xstrdup("bad option table");
}

static char *
check_options(const struct ctl_command *cmd, const json_t *options)
{
    if (!cmd->options) {
        return options && json_object_size(options)
                   ? vf_xasprintf("'%s' takes no options", cmd->name)
                   : NULL;
    }
    const char *key;
    json_t *value;
    json_object_foreach ((json_t *) options, key, value) {
        const struct ctl_option *o = option_lookup(cmd->options, key);
        if (!o) {
            char *valid = valid_option_names(cmd->options);
            char *err = vf_xasprintf("unknown option '%s' for '%s' "
                                     "(valid: %s)", key, cmd->name, valid);
            free(valid);
            return err;
        }
        char *err = check_option_value(o, value);
        if (err) {
            return err;
        }
    }
    for (const struct ctl_option *o = cmd->options; o->name; o++) {
        if (o->required && !json_object_get(options, o->name)) {
            return vf_xasprintf("missing option '%s' for '%s'", o->name,
                                cmd->name);
        }
    }
    return NULL;
}

static char *
count_error(const struct ctl_command *cmd, size_t n)
{
    const char *usage = *cmd->usage ? cmd->usage : "no arguments";
    if (cmd->min_args == cmd->max_args) {
        return vf_xasprintf("'%s' takes %d argument%s (%s), got %zu",
                            cmd->name, cmd->min_args,
                            cmd->min_args == 1 ? "" : "s", usage, n);
    }
    return vf_xasprintf("'%s' takes %d to %d arguments (%s), got %zu",
                        cmd->name, cmd->min_args, cmd->max_args, usage, n);
}

/* Splits 'params' into positional strings and an options object, checks
 * them against 'cmd'.  Returns NULL and fills 'req', or a message. */
static char *
prepare_request(const struct ctl_command *cmd, const json_t *params,
                struct ctl_request *req, const char **args)
{
    size_t n = 0;
    req->method = cmd->name;
    req->options = NULL;
    if (json_is_object(params)) {
        req->options = params;
    } else if (json_is_array(params)) {
        n = json_array_size(params);
        if (n && json_is_object(json_array_get(params, n - 1))) {
            req->options = json_array_get(params, --n);
        }
        if (n > (size_t) cmd->max_args || n < (size_t) cmd->min_args) {
            return count_error(cmd, n);
        }
        for (size_t i = 0; i < n; i++) {
            const json_t *a = json_array_get(params, i);
            if (!json_is_string(a)) {
                return vf_xasprintf("argument %zu of '%s' must be a string",
                                    i + 1, cmd->name);
            }
            args[i] = json_string_value(a);
        }
    }
    if (n < (size_t) cmd->min_args) {
        return count_error(cmd, n);
    }
    req->n_args = n;
    req->args = args;
    return check_options(cmd, req->options);
}

struct jsonrpc_msg *
ctl_command_execute(const struct jsonrpc_msg *request)
{
    const char *args[CTL_COMMAND_MAX_ARGS];
    struct ctl_request req;
    bool notify = request->type == JSONRPC_NOTIFY;
    struct jsonrpc_msg *reply = NULL;
    char *err = NULL;

    ensure_builtins();
    if (request->type != JSONRPC_REQUEST && !notify) {
        reply = jsonrpc_error_create(JSONRPC_INVALID_REQUEST,
                                     "invalid request: expected a request, "
                                     "got a response", NULL, request->id);
        goto out;
    }
    const struct ctl_command *cmd = lookup(request->method);
    if (!cmd) {
        err = vf_xasprintf("unknown command '%s' (see list-commands)",
                           request->method);
        reply = jsonrpc_error_create(JSONRPC_METHOD_NOT_FOUND, err, NULL,
                                     request->id);
        goto out;
    }
    err = prepare_request(cmd, request->params, &req, args);
    if (err) {
        reply = jsonrpc_error_create(JSONRPC_INVALID_PARAMS, err, NULL,
                                     request->id);
        goto out;
    }

    json_t *result = NULL;
    int rc = cmd->fn(&req, cmd->aux, &result, &err);
    if (rc == 0) {
        reply = jsonrpc_reply_create(result, request->id);
        result = NULL;
    } else {
        if (VF_NEVER(rc > 0)) {
            rc = -EINVAL;
        }
        reply = jsonrpc_error_create(jsonrpc_error_code_from_errno(rc),
                                     err ? err : strerror(-rc), NULL,
                                     request->id);
    }
    json_decref(result);

out:
    free(err);
    if (notify) {
        jsonrpc_msg_destroy(reply);
        return NULL;
    }
    return reply;
}

/* Validates and executes one element of a line (or of a batch).  Returns
 * the reply to send or NULL. */
static struct jsonrpc_msg *
execute_json(const json_t *json)
{
    struct jsonrpc_msg *msg, *error;
    if (jsonrpc_msg_from_json(json, &msg, &error)) {
        return error;
    }
    struct jsonrpc_msg *reply = ctl_command_execute(msg);
    jsonrpc_msg_destroy(msg);
    return reply;
}

static char *
error_text(int code, const char *message)
{
    struct jsonrpc_msg *e = jsonrpc_error_create(code, message, NULL, NULL);
    char *s = jsonrpc_msg_to_string(e);
    jsonrpc_msg_destroy(e);
    return s;
}

static char *
execute_batch(const json_t *batch)
{
    size_t n = json_array_size(batch);
    if (!n) {
        return error_text(JSONRPC_INVALID_REQUEST,
                          "invalid request: empty batch");
    }
    if (n > JSONRPC_MAX_BATCH) {
        char *msg = vf_xasprintf("invalid request: batch of %zu requests "
                                 "exceeds %d", n, JSONRPC_MAX_BATCH);
        char *s = error_text(JSONRPC_INVALID_REQUEST, msg);
        free(msg);
        return s;
    }
    json_t *replies = json_array();
    for (size_t i = 0; i < n; i++) {
        struct jsonrpc_msg *reply = execute_json(json_array_get(batch, i));
        if (reply) {
            json_array_append_new(replies, jsonrpc_msg_to_json(reply));
            jsonrpc_msg_destroy(reply);
        }
    }
    char *s = json_array_size(replies) ? jsonrpc_json_to_string(replies)
                                       : NULL;
    json_decref(replies);
    return s;
}

char *
ctl_command_execute_text(const char *text, size_t len)
{
    char *err = NULL;
    json_t *json = jsonrpc_parse_json(text, len, &err);
    if (!json) {
        char *msg = vf_xasprintf("parse error: %s", err);
        char *s = error_text(JSONRPC_PARSE_ERROR, msg);
        free(msg);
        free(err);
        return s;
    }

    char *s = NULL;
    if (json_is_array(json)) {
        s = execute_batch(json);
    } else {
        struct jsonrpc_msg *reply = execute_json(json);
        if (reply) {
            s = jsonrpc_msg_to_string(reply);
            jsonrpc_msg_destroy(reply);
        }
    }
    json_decref(json);
    return s;
}

const json_t *
ctl_request_opt(const struct ctl_request *req, const char *name)
{
    return req->options ? json_object_get(req->options, name) : NULL;
}

const char *
ctl_request_opt_string(const struct ctl_request *req, const char *name)
{
    return json_string_value(ctl_request_opt(req, name));
}

bool
ctl_request_opt_int(const struct ctl_request *req, const char *name,
                    int64_t *valuep)
{
    const json_t *v = ctl_request_opt(req, name);
    if (!json_is_integer(v)) {
        return false;
    }
    *valuep = json_integer_value(v);
    return true;
}
