/* SPDX-License-Identifier: Apache-2.0 */
/* vfabctl entry point: global options, then one command from the table. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vfabctl.h"

#define VFABCTL_DEFAULT_SOCKET "/run/vfab/vfabd.sock"

static const struct vfabctl_command commands[] = {
    {"decode", "FILE", "print the flow key of every frame of a pcap/pcapng "
     "file as JSON (no daemon needed)", cmd_decode},
};

static void
usage(FILE *f)
{
    fprintf(f, "usage: vfabctl [--socket PATH] [-j] COMMAND [ARGS...]\n\n"
               "Options:\n"
               "  -s, --socket PATH   vfabd control socket (default %s)\n"
               "  -j, --json          JSON output\n"
               "  -t, --timeout MS    reply timeout (default 5000)\n"
               "  -h, --help          this help\n\nCommands:\n",
            VFABCTL_DEFAULT_SOCKET);
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++) {
        fprintf(f, "  %-10s %-28s %s\n", commands[i].name, commands[i].usage,
                commands[i].summary);
    }
}

int
main(int argc, char **argv)
{
    static const struct option long_opts[] = {
        {"socket", required_argument, NULL, 's'},
        {"json", no_argument, NULL, 'j'},
        {"timeout", required_argument, NULL, 't'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct vfabctl ctl = {
        .socket_path = VFABCTL_DEFAULT_SOCKET,
        .timeout_ms = 5000,
    };
    const char *env = getenv("VFAB_SOCKET");
    if (env && *env) {
        ctl.socket_path = env;
    }
    int c;
    /* '+': stop at the first non-option, the command's own arguments
     * follow. */
    while ((c = getopt_long(argc, argv, "+s:jt:h", long_opts, NULL)) != -1) {
        switch (c) {
        case 's':
            ctl.socket_path = optarg;
            break;
        case 'j':
            ctl.json = true;
            break;
        case 't': {
            char *end;
            long v = strtol(optarg, &end, 10);
            if (*end || v <= 0 || v > 3600000) {
                fprintf(stderr, "vfabctl: bad --timeout '%s'\n", optarg);
                return 1;
            }
            ctl.timeout_ms = (int) v;
            break;
        }
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 1;
        }
    }
    if (optind >= argc) {
        usage(stderr);
        return 1;
    }
    const char *name = argv[optind];
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++) {
        if (!strcmp(commands[i].name, name)) {
            return commands[i].fn(&ctl, argc - optind, argv + optind);
        }
    }
    fprintf(stderr, "vfabctl: unknown command '%s' (see vfabctl --help)\n",
            name);
    return 1;
}
