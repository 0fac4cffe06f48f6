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

#endif /* vfabctl.h */
