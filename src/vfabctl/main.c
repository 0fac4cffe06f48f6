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
    {"add-br", "BRIDGE", "add a bridge", cmd_add_br},
    {"del-br", "BRIDGE", "remove a bridge with its ports and flows",
     cmd_del_br},
    {"add-port", "BR PORT type=KIND [OPT=V]...", "add a port (kinds "
     "tap|afpacket|patch|dummy; options vlan trunks mac ip quota peer)",
     cmd_add_port},
    {"del-port", "BRIDGE PORT", "remove a port", cmd_del_port},
    {"show", "[BRIDGE]", "show bridges and ports", cmd_show},
    {"add-flow", "BRIDGE RULE", "add an operator flow rule", cmd_add_flow},
    {"del-flows", "BRIDGE [MATCH]", "remove all flows, or those MATCH "
     "selects", cmd_del_flows},
    {"dump-flows", "BRIDGE", "list the operator flow rules", cmd_dump_flows},
    {"fdb-show", "BRIDGE", "show the learned MAC table", cmd_fdb_show},
    {"port-stats", "BRIDGE", "show port counters", cmd_port_stats},
    {"add-meter", "BR ID kbps|pktps rate=N [burst=N]", "add a meter "
     "(token bucket) that flows use with actions=meter:ID,...",
     cmd_add_meter},
    {"del-meter", "BRIDGE ID", "remove a meter no flow uses",
     cmd_del_meter},
    {"dump-meters", "BRIDGE", "list meters with their counters",
     cmd_dump_meters},
    {"list-commands", "", "list every command vfabd serves",
     cmd_list_commands},
    {"version", "", "show vfabd's version", cmd_version},
    {"call", "METHOD [ARG...]", "call any vfabd command (time/warp MS, "
     "log/set-level MODULE LEVEL, ...)", cmd_call},
    {"tenant-create", "NAME", "create a tenant (vfab-policyd)",
     cmd_policy_create},
    {"tenant-list", "", "list tenants", cmd_policy_list},
    {"tenant-show", "NAME", "show a tenant", cmd_policy_show},
    {"tenant-set", "NAME --description T", "change a tenant",
     cmd_policy_set},
    {"tenant-delete", "NAME", "delete a tenant", cmd_policy_delete},
    {"net-create", "NAME --tenant T [--vni N] [--subnet CIDR]...",
     "create a virtual network", cmd_policy_create},
    {"net-list", "[--tenant T]", "list virtual networks", cmd_policy_list},
    {"net-show", "NAME", "show a virtual network", cmd_policy_show},
    {"net-set", "NAME [--vni N] [--subnet CIDR]...", "change a network",
     cmd_policy_set},
    {"net-delete", "NAME", "delete a virtual network", cmd_policy_delete},
    {"host-register", "NAME --underlay-ip IP [--token-file F]",
     "register a host, print or save its token", cmd_policy_create},
    {"host-list", "", "list hosts", cmd_policy_list},
    {"host-show", "NAME", "show a host", cmd_policy_show},
    {"host-set", "NAME [--capability C]... [--state-format N]",
     "change a host", cmd_policy_set},
    {"host-delete", "NAME", "delete a host", cmd_policy_delete},
    {"host-token", "NAME [--token-file F]", "issue a new host token",
     cmd_host_token},
    {"host-vnics", "NAME", "list the VNICs placed on a host",
     cmd_host_vnics},
    {"vnic-create", "NAME --network N --mac M [--ip IP]... [--host H]",
     "create a VNIC ([--group G]...)", cmd_policy_create},
    {"vnic-list", "[--network N] [--host H]", "list VNICs",
     cmd_policy_list},
    {"vnic-show", "NAME", "show a VNIC", cmd_policy_show},
    {"vnic-set", "NAME [--host H|--unplace] [--ip IP]...",
     "change (or move) a VNIC", cmd_policy_set},
    {"vnic-delete", "NAME", "delete a VNIC", cmd_policy_delete},
    {"policy-add", "NAME --tenant T --action A --from S --to S",
     "add a policy ([--protocol P] [--ports N|LO-HI] [--priority N])",
     cmd_policy_create},
    {"policy-list", "[--tenant T]", "list policies", cmd_policy_list},
    {"policy-show", "NAME", "show a policy", cmd_policy_show},
    {"policy-set", "NAME [--action A] [--ports P]...", "change a policy",
     cmd_policy_set},
    {"policy-delete", "NAME", "delete a policy", cmd_policy_delete},
    {"translate", "SRC_VNIC DST...", "ask vfab-policyd for translations "
     "([--protocol P --port N])", cmd_translate},
    {"changes", "[--since V] [--follow]", "print vfab-policyd's change feed",
     cmd_changes},
    {"server-status", "", "vfab-policyd's health and model version",
     cmd_server_status},
    {"api", "METHOD PATH [JSON]", "raw call to vfab-policyd's REST API",
     cmd_api},
};

static void
usage(FILE *f)
{
    fprintf(f, "usage: vfabctl [--socket PATH] [-j] COMMAND [ARGS...]\n\n"
               "Options:\n"
               "  -s, --socket PATH   vfabd control socket (default %s)\n"
               "  -j, --json          JSON output\n"
               "  -t, --timeout MS    reply timeout (default 5000)\n"
               "  --server URL        vfab-policyd (default $VFAB_SERVER or "
               "http://127.0.0.1:8470)\n"
               "  --token TOKEN       vfab-policyd bearer token\n"
               "  --token-file PATH   file holding it (default "
               "$VFAB_TOKEN_FILE\n"
               "                      or /etc/vfab/policyd-admin.token)\n"
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
        {"server", required_argument, NULL, 0x100},
        {"token", required_argument, NULL, 0x101},
        {"token-file", required_argument, NULL, 0x102},
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
        case 0x100:
            ctl.server_url = optarg;
            break;
        case 0x101:
            ctl.token = optarg;
            break;
        case 0x102:
            ctl.token_file = optarg;
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
