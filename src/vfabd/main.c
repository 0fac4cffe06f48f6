/* SPDX-License-Identifier: Apache-2.0 */
/* vfabd entry point: options, start-up, the agent thread's loop, shutdown.
 *
 * Start-up order (each step undone in reverse if a later one fails):
 *
 *   options -> log destination and levels -> signals blocked (before any
 *   thread exists, see daemon.h) -> control socket (refuses if another
 *   daemon owns it) -> configuration database (refuses if another process
 *   holds it; migrates) -> configuration loaded and applied -> commands
 *   registered -> pid file -> "READY=1" to systemd -> loop.
 *
 * The loop (STYLE.md P12):
 *
 *     now = vf_clock_now(&clock)        once per iteration
 *     signals:  SIGTERM/SIGINT -> leave the loop; SIGHUP -> reopen logs
 *     ctl_server_run()                  clients, commands
 *     (bridge_run(), policy_client_run() ... join here)
 *     *_wait(); vf_poll_block()
 *
 * Shutdown removes the socket, its lock file and the pid file, tears the
 * datapath down (the configuration stays in the database) and exits 0. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bridge-apply.h"
#include "config-db.h"
#include "ctl/ctl-command.h"
#include "ctl/ctl-server.h"
#include "daemon.h"
#include "dp/dp.h"
#include "fabric-agent.h"
#include "switch-cmds.h"
#include "switch-config.h"
#include "util/buf.h"
#include "util/log.h"
#include "util/poll-loop.h"
#include "util/rcu.h"
#include "vfabd.h"

VF_LOG_MODULE(vfabd);

#ifndef VFAB_VERSION
#define VFAB_VERSION "unknown"
#endif

struct options {
    const char *socket_path;
    const char *db_path;
    const char *pidfile;
    const char *log_file;
    bool use_syslog;
    bool test_hooks;
    uint32_t busy_poll_us;          /* --busy-poll. */
    bool no_gro;                    /* --no-gro. */
    bool no_tunnel_gso;             /* --no-tunnel-gso. */
    const char *fabric_server;      /* --fabric-server URL. */
    const char *fabric_host;        /* --fabric-host NAME. */
    const char *fabric_token_file;  /* --fabric-token-file PATH. */
    const char *levels[32];         /* --log-level arguments. */
    size_t n_levels;
};

static void
usage(FILE *f)
{
    fprintf(f,
            "usage: vfabd [OPTIONS]\n"
            "\n"
            "The vfab switch daemon: serves JSON-RPC on a Unix socket for\n"
            "vfabctl and keeps its configuration in an SQLite file.\n"
            "\n"
            "Options:\n"
            "  -s, --socket PATH      control socket (default %s)\n"
            "  -d, --db PATH          configuration database (default %s)\n"
            "  -l, --log-level SPEC   LEVEL or MODULE:LEVEL (err, warn, "
            "info, dbg);\n"
            "                         repeatable; default info\n"
            "      --syslog           log to syslog instead of stderr\n"
            "      --log-file PATH    log to PATH (reopened on SIGHUP)\n"
            "  -p, --pidfile PATH     write the pid to PATH\n"
            "      --fabric-server URL        vfab-policyd for fabric bridges\n"
            "      --fabric-host NAME         this host's name in the model\n"
            "      --fabric-token-file PATH   this host's token\n"
            "      --busy-poll US     datapath spins US microseconds before "
            "sleeping\n"
            "                         (lower latency, burns CPU; default 0)\n"
            "      --no-gro           do not coalesce TCP segments for TSO "
            "ports\n"
            "      --no-tunnel-gso    send TCP super-frames to the fabric "
            "as\n"
            "                         single datagrams, not UDP GSO frames\n"
            "      --test-hooks       enable debug/... commands (tests "
            "only)\n"
            "  -V, --version          print the version\n"
            "  -h, --help             this help\n"
            "\n"
            "Signals: SIGTERM/SIGINT shut down cleanly, SIGHUP reopens the "
            "log.\n",
            VFABD_DEFAULT_SOCKET, VFABD_DEFAULT_DB);
}

/* Returns 0, or 1 after printing an error. */
static int
apply_log_level(const char *spec)
{
    char *copy = vf_xstrdup(spec);
    char *colon = strchr(copy, ':');
    const char *module = colon ? copy : "all";
    const char *level_name = colon ? colon + 1 : copy;
    if (colon) {
        *colon = '\0';
    }
    int level = vf_log_level_from_string(level_name);
    int rc = 0;
    if (level < 0) {
        fprintf(stderr, "vfabd: --log-level %s: unknown level '%s' (valid: "
                        "err, warn, info, dbg)\n", spec, level_name);
        rc = 1;
    } else if (vf_log_set_module_level(module, level)) {
        fprintf(stderr, "vfabd: --log-level %s: no log module named '%s'\n",
                spec, module);
        rc = 1;
    }
    free(copy);
    return rc;
}

/* dp/stats: the datapath's counters (dp_stats_json(): cache, parser,
 * thread, accelerations). */
static int
dp_stats_cmd(const struct ctl_request *req, void *dp, json_t **resultp,
             char **errp)
{
    (void) req;
    (void) errp;
    *resultp = dp_stats_json(dp);
    return 0;
}

/* Returns -1 to go on, else the exit status. */
static int
parse_options(int argc, char **argv, struct options *o)
{
    enum { OPT_SYSLOG = 256, OPT_LOG_FILE, OPT_TEST_HOOKS, OPT_BUSY_POLL,
           OPT_NO_GRO, OPT_NO_TUNNEL_GSO,
           OPT_FAB_SERVER, OPT_FAB_HOST, OPT_FAB_TOKEN };
    static const struct option long_opts[] = {
        {"socket", required_argument, NULL, 's'},
        {"db", required_argument, NULL, 'd'},
        {"log-level", required_argument, NULL, 'l'},
        {"syslog", no_argument, NULL, OPT_SYSLOG},
        {"log-file", required_argument, NULL, OPT_LOG_FILE},
        {"pidfile", required_argument, NULL, 'p'},
        {"test-hooks", no_argument, NULL, OPT_TEST_HOOKS},
        {"busy-poll", required_argument, NULL, OPT_BUSY_POLL},
        {"no-gro", no_argument, NULL, OPT_NO_GRO},
        {"no-tunnel-gso", no_argument, NULL, OPT_NO_TUNNEL_GSO},
        {"fabric-server", required_argument, NULL, OPT_FAB_SERVER},
        {"fabric-host", required_argument, NULL, OPT_FAB_HOST},
        {"fabric-token-file", required_argument, NULL, OPT_FAB_TOKEN},
        {"version", no_argument, NULL, 'V'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int c;
    while ((c = getopt_long(argc, argv, "s:d:l:p:Vh", long_opts, NULL))
           != -1) {
        switch (c) {
        case 's':
            o->socket_path = optarg;
            break;
        case 'd':
            o->db_path = optarg;
            break;
        case 'l':
            if (o->n_levels == VF_ARRAY_SIZE(o->levels)) {
                fprintf(stderr, "vfabd: too many --log-level options\n");
                return 1;
            }
            o->levels[o->n_levels++] = optarg;
            break;
        case OPT_SYSLOG:
            o->use_syslog = true;
            break;
        case OPT_LOG_FILE:
            o->log_file = optarg;
            break;
        case 'p':
            o->pidfile = optarg;
            break;
        case OPT_TEST_HOOKS:
            o->test_hooks = true;
            break;
        case OPT_FAB_SERVER:
            o->fabric_server = optarg;
            break;
        case OPT_FAB_HOST:
            o->fabric_host = optarg;
            break;
        case OPT_FAB_TOKEN:
            o->fabric_token_file = optarg;
            break;
        case OPT_BUSY_POLL: {
            char *end;
            unsigned long v = strtoul(optarg, &end, 10);
            if (*end || !*optarg || v > 1000000) {
                fprintf(stderr, "vfabd: --busy-poll '%s': expected "
                                "microseconds 0..1000000\n", optarg);
                return 1;
            }
            o->busy_poll_us = (uint32_t) v;
            break;
        }
        case OPT_NO_GRO:
            o->no_gro = true;
            break;
        case OPT_NO_TUNNEL_GSO:
            o->no_tunnel_gso = true;
            break;
        case 'V':
            printf("vfabd %s\n", VFAB_VERSION);
            return 0;
        case 'h':
            usage(stdout);
            return 0;
        default:
            fprintf(stderr, "vfabd: see vfabd --help\n");
            return 1;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "vfabd: unexpected argument '%s' (see vfabd "
                        "--help)\n", argv[optind]);
        return 1;
    }
    if (o->use_syslog && o->log_file) {
        fprintf(stderr, "vfabd: --syslog and --log-file exclude each "
                        "other\n");
        return 1;
    }
    if ((o->fabric_server || o->fabric_host || o->fabric_token_file)
        && !(o->fabric_server && o->fabric_host && o->fabric_token_file)) {
        fprintf(stderr, "vfabd: --fabric-server, --fabric-host and "
                        "--fabric-token-file go together\n");
        return 1;
    }
    if (!*o->socket_path || !*o->db_path) {
        fprintf(stderr, "vfabd: --socket and --db need a path\n");
        return 1;
    }
    return -1;
}

/* Reads a token file (first line, whitespace trimmed).  NULL with
 * '*errp' on failure. */
static char *
read_token_file(const char *path, char **errp)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        *errp = vf_xasprintf("--fabric-token-file %s: %s", path,
                             strerror(errno));
        return NULL;
    }
    char buf[512];
    char *line = fgets(buf, sizeof buf, f);
    fclose(f);
    if (!line) {
        *errp = vf_xasprintf("--fabric-token-file %s: empty", path);
        return NULL;
    }
    buf[strcspn(buf, " \t\r\n")] = '\0';
    if (!buf[0]) {
        *errp = vf_xasprintf("--fabric-token-file %s: empty", path);
        return NULL;
    }
    return vf_xstrdup(buf);
}

/* A start-up failure: one clear line on the terminal ("vfabd: ..."), and
 * in the log when the log goes elsewhere. */
static void
fatal_msg(const struct options *o, int saved_stderr, const char *msg)
{
    if (o->use_syslog || o->log_file) {
        VF_LOG_ERR(vfabd, "%s", msg);
    }
    dprintf(saved_stderr >= 0 ? saved_stderr : STDERR_FILENO, "vfabd: %s\n",
            msg);
}

static void
run_loop(struct ctl_server *server, struct daemon_signals *sig,
         struct vfabd *d, const struct options *o)
{
    struct vf_poll_loop loop;
    vf_poll_loop_init(&loop);
    for (;;) {
        int64_t now VF_UNUSED = vf_clock_now(&d->clock);
        int signo;
        enum daemon_event ev = daemon_signals_run(sig, &signo);
        if (ev == DAEMON_EVENT_EXIT) {
            VF_LOG_INFO(vfabd, "signal %d (%s): shutting down", signo,
                        strsignal(signo));
            break;
        } else if (ev == DAEMON_EVENT_RELOAD) {
            char *err = NULL;
            if (o->log_file && daemon_log_reopen(o->log_file, &err)) {
                VF_LOG_ERR(vfabd, "%s", err);
                free(err);
            } else if (o->use_syslog) {
                vf_log_open("vfabd", true);
            }
            VF_LOG_INFO(vfabd, "SIGHUP: log reopened");
        }
        ctl_server_run(server);
        dp_run(d->dp);
        if (d->fabric) {
            fabric_agent_run(d->fabric, vf_clock_now(&d->clock));
        }

        daemon_signals_wait(sig, &loop);
        ctl_server_wait(server, &loop);
        vf_poll_timer_wait(&loop, dp_wait_ms(d->dp));
        if (d->fabric) {
            struct pollfd fds[16];
            int64_t now2 = vf_clock_now(&d->clock), deadline = INT64_MAX;
            size_t n = fabric_agent_wait(d->fabric, fds, 16, now2, &deadline);
            for (size_t i = 0; i < n && i < 16; i++) {
                vf_poll_fd_wait(&loop, fds[i].fd, fds[i].events);
            }
            if (deadline != INT64_MAX) {
                /* The agent's deadline is on the daemon's (warpable)
                 * clock; poll sleeps in real time. */
                vf_poll_timer_wait(&loop, deadline <= now2
                                              ? 0
                                              : (deadline - now2) / 1000000
                                                    + 1);
            }
        }
        int rc = vf_poll_block(&loop);
        if (rc < 0) {
            VF_LOG_ERR_RL(vfabd, "poll: %s", strerror(-rc));
        }
    }
    vf_poll_loop_uninit(&loop);
}

int
main(int argc, char **argv)
{
    struct options o = {
        .socket_path = VFABD_DEFAULT_SOCKET,
        .db_path = VFABD_DEFAULT_DB,
    };
    int status = parse_options(argc, argv, &o);
    if (status >= 0) {
        return status;
    }

    int saved_stderr = -1;
    char *err = NULL;
    if (o.log_file) {
        saved_stderr = dup(STDERR_FILENO);
        if (daemon_log_reopen(o.log_file, &err)) {
            fprintf(stderr, "vfabd: %s\n", err);
            free(err);
            return 1;
        }
    }
    vf_log_open("vfabd", o.use_syslog);
    for (size_t i = 0; i < o.n_levels; i++) {
        if (apply_log_level(o.levels[i])) {
            return 1;
        }
    }

    struct vfabd d = {.test_hooks = o.test_hooks};
    bool rcu_registered = false;
    vf_clock_init(&d.clock);
    struct daemon_signals *sig = NULL;
    struct ctl_server *server = NULL;
    status = 1;
    if (daemon_signals_open(&sig, &err)
        || ctl_server_create(o.socket_path, NULL, &server, &err)
        || config_db_open(o.db_path, &d.db, &err)) {
        fatal_msg(&o, saved_stderr, err);
        goto out;
    }
    vf_rcu_register_thread();
    rcu_registered = true;
    struct dp_config dcfg = {
        .clock = &d.clock,
        .busy_poll_us = o.busy_poll_us,
        .no_gro = o.no_gro,
        .no_tunnel_gso = o.no_tunnel_gso,
        .seed = (uint64_t) vf_time_monotonic_ns(),
    };
    d.dp = dp_create(&dcfg, &err);
    if (!d.dp || dp_start(d.dp)) {
        fatal_msg(&o, saved_stderr,
                  err ? err : vf_xstrdup("cannot start the datapath"));
        err = NULL;
        goto out;
    }
    if (o.fabric_server) {
        char *token = read_token_file(o.fabric_token_file, &err);
        if (!token) {
            fatal_msg(&o, saved_stderr, err);
            goto out;
        }
        struct fabric_agent_config fc = {
            .server_url = o.fabric_server, .host = o.fabric_host,
            .token = token, .dp = d.dp,
        };
        d.fabric = fabric_agent_create(&fc, &err);
        free(token);
        if (!d.fabric) {
            fatal_msg(&o, saved_stderr, err);
            goto out;
        }
        fabric_agent_register_commands(d.fabric);
    }
    struct bridge_apply ba = {d.dp, d.fabric};
    d.sc = switch_config_create(d.db, &bridge_apply_class, &ba);
    if (switch_config_load(d.sc, &err)) {
        fatal_msg(&o, saved_stderr, err);
        goto out;
    }
    builtin_cmds_register(&d);
    VF_VERIFY(!ctl_command_register("dp/stats", "", 0, 0, dp_stats_cmd,
                                    d.dp));
    switch_cmds_register(d.sc);
    if (o.pidfile && daemon_pidfile_write(o.pidfile, &err)) {
        fatal_msg(&o, saved_stderr, err);
        goto out;
    }
    if (saved_stderr >= 0) {
        close(saved_stderr);
        saved_stderr = -1;
    }

    VF_LOG_INFO(vfabd, "vfabd %s ready: socket %s, database %s",
                VFAB_VERSION, o.socket_path, o.db_path);
    daemon_notify("READY=1");
    run_loop(server, sig, &d, &o);
    daemon_notify("STOPPING=1");
    status = 0;

out:
    free(err);
    ctl_server_destroy(server);     /* Removes the socket first. */
    switch_config_destroy(d.sc);
    fabric_agent_destroy(d.fabric);
    dp_destroy(d.dp);
    if (rcu_registered) {
        vf_rcu_barrier();
        vf_rcu_unregister_thread();
    }
    config_db_close(d.db);
    ctl_command_unregister_all();
    if (o.pidfile) {
        daemon_pidfile_remove(o.pidfile);
    }
    daemon_signals_close(sig);
    if (saved_stderr >= 0) {
        close(saved_stderr);
    }
    if (!status) {
        VF_LOG_INFO(vfabd, "exited cleanly");
    }
    return status;
}
