/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VFAB_CTL_CTL_COMMAND_H
#define VFAB_CTL_CTL_COMMAND_H 1

/* The registry of control commands and the JSON-RPC dispatcher.
 *
 * Each module registers its operator surface at init (STYLE.md P13):
 *
 *     ctl_command_register("bridge/add", "BRIDGE", 1, 1, bridge_add_cmd,
 *                          sw);
 *
 * A command is called through JSON-RPC with its name as "method".  Its
 * "params" are positional arguments, optionally followed by an object of
 * named options:
 *
 *     "params": ["br0", "p1", {"type": "tap", "vlan": 10}]
 *     "params": ["br0"]            (or omitted: no arguments)
 *     "params": {"type": "tap"}    (options only)
 *
 * Positional arguments are strings (like argv); their number must be in
 * [min_args, max_args].  Options are checked against the command's option
 * table (ctl_command_register_opts()): unknown names, wrong JSON types,
 * integers out of range and missing required options are refused before
 * the handler runs, with JSON-RPC error -32602 and a message naming the
 * culprit.  Commands registered without a table take no options.
 *
 * The handler gets the checked request and returns 0 with a JSON result,
 * or a negative errno with a one-line message; the errno picks the error
 * code (jsonrpc_error_code_from_errno()).  A handler must change nothing
 * when it fails.
 *
 * "list-commands" is built in: it returns every command with its usage,
 * argument counts and options.
 *
 * Thread safety: the registry is process-wide (like the log modules: a
 * process has one control socket surface) and belongs to the control
 * thread: register, unregister and execute only from it. */

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct jsonrpc_msg;

/* Longest command name (bytes). */
#define CTL_COMMAND_MAX_NAME 64

/* Most positional arguments a command may take. */
#define CTL_COMMAND_MAX_ARGS 32

/* Longest string option and longest list option accepted. */
#define CTL_OPTION_MAX_STRLEN 4096
#define CTL_OPTION_MAX_LIST 4096

enum ctl_option_type {
    CTL_OPT_STRING,         /* JSON string, 1..CTL_OPTION_MAX_STRLEN bytes. */
    CTL_OPT_INT,            /* JSON integer in [min, max]. */
    CTL_OPT_BOOL,           /* JSON true/false. */
    CTL_OPT_STRING_LIST,    /* Array of such strings (1..MAX_LIST). */
    CTL_OPT_INT_LIST,       /* Array of integers in [min, max]. */
};

/* One named option of a command.  Tables end with an entry whose 'name'
 * is NULL and must outlive the registration (make them static const). */
struct ctl_option {
    const char *name;
    enum ctl_option_type type;
    int64_t min, max;       /* CTL_OPT_INT and each CTL_OPT_INT_LIST
                             * element: inclusive range. */
    bool required;
};

/* What a handler is called with.  Everything is borrowed for the call. */
struct ctl_request {
    const char *method;
    size_t n_args;
    const char *const *args;    /* 'n_args' positional strings. */
    const json_t *options;      /* Checked options object, or NULL. */
};

/* A command handler.  On success returns 0 and sets '*resultp' to a new
 * reference (NULL means JSON null).  On failure returns a negative errno
 * and sets '*errp' to a one-line message (caller frees; NULL: strerror),
 * having changed nothing.  Control thread. */
typedef int ctl_command_fn(const struct ctl_request *req, void *aux,
                           json_t **resultp, char **errp);

/* Registers the command 'name' ("module/verb": lowercase letters, digits,
 * '-', '_' and '/'), whose arguments are described by 'usage' (for
 * list-commands, e.g. "BRIDGE [PORT]") and number between 'min_args' and
 * 'max_args' (max <= CTL_COMMAND_MAX_ARGS).  It takes no options.
 * 'name' and 'usage' are copied; 'aux' is passed to 'fn'.  Returns 0,
 * -EEXIST if 'name' is taken, or -EINVAL for a bad name or counts. */
int ctl_command_register(const char *name, const char *usage, int min_args,
                         int max_args, ctl_command_fn *fn, void *aux);

/* Like ctl_command_register(), for a command that takes the named
 * 'options' (table ending with a NULL name; borrowed for the registration's
 * lifetime).  Returns 0, -EEXIST, or -EINVAL (also for a bad table:
 * duplicate names, min > max). */
int ctl_command_register_opts(const char *name, const char *usage,
                              int min_args, int max_args,
                              const struct ctl_option *options,
                              ctl_command_fn *fn, void *aux);

/* Removes command 'name'.  Returns 0 or -ENOENT ("list-commands" cannot be
 * removed: -EPERM). */
int ctl_command_unregister(const char *name);

/* Removes every registered command and frees the registry (shutdown,
 * tests). */
void ctl_command_unregister_all(void);

/* True if 'name' is registered. */
bool ctl_command_exists(const char *name);

/* Executes one validated request or notification and returns the reply
 * or error message to send (caller owns), or NULL for a notification
 * (which gets no reply, even on error).  'request' is borrowed. */
struct jsonrpc_msg *ctl_command_execute(const struct jsonrpc_msg *request);

/* The whole dispatcher for one received line of 'len' bytes: parses it,
 * validates it (a single message or a batch of up to JSONRPC_MAX_BATCH),
 * executes every request and returns the serialised reply (one line, no
 * newline; an array for a batch; caller frees), or NULL if nothing is to
 * be sent (notifications only).  Malformed input gets JSON-RPC errors
 * -32700/-32600, a response sent to the server gets -32600. */
char *ctl_command_execute_text(const char *text, size_t len);

/* Option accessors for handlers.  Return the option's value, or NULL /
 * false when it was not given.  The registry has already checked types. */
const json_t *ctl_request_opt(const struct ctl_request *req,
                              const char *name);
const char *ctl_request_opt_string(const struct ctl_request *req,
                                   const char *name);
bool ctl_request_opt_int(const struct ctl_request *req, const char *name,
                         int64_t *valuep);

#endif /* ctl/ctl-command.h */
