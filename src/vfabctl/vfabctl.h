/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VFAB_VFABCTL_H
#define VFAB_VFABCTL_H 1

/* vfabctl: one command-line tool for vfabd (JSON-RPC over its Unix socket),
 * vfab-policyd (REST) and offline work (decode).  Each command lives in a
 * cmd-<area>.c and is listed in the table in main.c. */

#include <stdbool.h>

struct vfabctl {
    const char *socket_path;     /* --socket: vfabd control socket. */
    const char *server_url;      /* --server: vfab-policyd base URL. */
    const char *token;           /* --token or --token-file contents. */
    const char *token_file;      /* --token-file (read when needed). */
    bool json;                   /* -j: JSON output. */
    int timeout_ms;              /* --timeout. */
};

/* A command: 'argv[0]' is the command name.  Returns the exit status. */
typedef int vfabctl_cmd_fn(struct vfabctl *ctl, int argc, char **argv);

struct vfabctl_command {
    const char *name;
    const char *usage;           /* Arguments, for --help. */
    const char *summary;
    vfabctl_cmd_fn *fn;
};

int cmd_decode(struct vfabctl *ctl, int argc, char **argv);

/* vfabd commands (cmd-switch.c): JSON-RPC over ctl->socket_path; exit
 * status 1 for a bad argument or a daemon error, 2 if the daemon cannot
 * be reached; "-j" anywhere among the arguments means JSON output. */
int cmd_add_br(struct vfabctl *ctl, int argc, char **argv);
int cmd_del_br(struct vfabctl *ctl, int argc, char **argv);
int cmd_add_port(struct vfabctl *ctl, int argc, char **argv);
int cmd_del_port(struct vfabctl *ctl, int argc, char **argv);
int cmd_show(struct vfabctl *ctl, int argc, char **argv);
int cmd_add_flow(struct vfabctl *ctl, int argc, char **argv);
int cmd_del_flows(struct vfabctl *ctl, int argc, char **argv);
int cmd_dump_flows(struct vfabctl *ctl, int argc, char **argv);
int cmd_fdb_show(struct vfabctl *ctl, int argc, char **argv);
int cmd_port_stats(struct vfabctl *ctl, int argc, char **argv);
int cmd_add_meter(struct vfabctl *ctl, int argc, char **argv);
int cmd_del_meter(struct vfabctl *ctl, int argc, char **argv);
int cmd_dump_meters(struct vfabctl *ctl, int argc, char **argv);
int cmd_list_commands(struct vfabctl *ctl, int argc, char **argv);
int cmd_version(struct vfabctl *ctl, int argc, char **argv);
int cmd_call(struct vfabctl *ctl, int argc, char **argv);

/* vfab-policyd commands (cmd-policy.c): REST over ctl->server_url; exit
 * status 1 for a bad argument or an error answer, 2 if the server cannot
 * be reached; "-j" anywhere among the arguments means JSON output. */
int cmd_policy_create(struct vfabctl *ctl, int argc, char **argv);
int cmd_policy_list(struct vfabctl *ctl, int argc, char **argv);
int cmd_policy_show(struct vfabctl *ctl, int argc, char **argv);
int cmd_policy_set(struct vfabctl *ctl, int argc, char **argv);
int cmd_policy_delete(struct vfabctl *ctl, int argc, char **argv);
int cmd_host_token(struct vfabctl *ctl, int argc, char **argv);
int cmd_host_vnics(struct vfabctl *ctl, int argc, char **argv);
int cmd_translate(struct vfabctl *ctl, int argc, char **argv);
int cmd_changes(struct vfabctl *ctl, int argc, char **argv);
int cmd_server_status(struct vfabctl *ctl, int argc, char **argv);
int cmd_api(struct vfabctl *ctl, int argc, char **argv);

#endif /* vfabctl.h */
