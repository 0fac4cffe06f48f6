/* SPDX-License-Identifier: Apache-2.0 */
/* vfabctl commands for vfabd: JSON-RPC over its control socket.
 *
 * Each command is described by a struct switch_cmd: its vfabctl name, the
 * daemon method it calls, its positional arguments and its KEY=VALUE
 * options, and the function that renders the result for humans.  One
 * generic path (run_cmd()) does the rest:
 *
 *   argv --strip -j/--json--> positional args + KEY=VALUE options
 *        --typed by the spec (integers, lists, ranges)--> JSON params
 *        --ctl_client_call()--> result --render or print JSON--> stdout
 *
 * Every error is one line on stderr, "vfabctl: COMMAND: message", and a
 * non-zero exit status: 1 for a bad argument or an error reported by the
 * daemon (which then changed nothing), 2 when the daemon cannot be
 * reached or answers nonsense.  `-j` (before or after the command) prints
 * the daemon's JSON result as one line instead of the human form.
 *
 * The human forms imitate ovs-vsctl show, ovs-ofctl dump-flows and
 * ovs-appctl fdb/show. */
#include <errno.h>
#include <stdarg.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ctl/ctl-client.h"
#include "ctl/jsonrpc.h"
#include "util/buf.h"
#include "util/compiler.h"
#include "vfabctl.h"

enum opt_type { OPT_STRING, OPT_INT, OPT_INT_LIST, OPT_STRING_LIST };

struct opt_spec {
    const char *key;
    enum opt_type type;
    int64_t min, max;            /* OPT_INT, OPT_INT_LIST elements. */
    bool required;
    const char *hint;            /* What a value looks like, for errors. */
};

typedef void render_fn(const json_t *result);

struct switch_cmd {
    const char *name;            /* vfabctl command. */
    const char *method;          /* vfabd method. */
    const char *usage;           /* Arguments after the name. */
    int min_pos, max_pos;        /* Positional arguments. */
    const struct opt_spec *opts; /* KEY=VALUE options, NULL-key ended. */
    render_fn *render;           /* Human output; NULL: print nothing. */
};

/* Exit statuses. */
#define EXIT_ERROR 1             /* Bad argument, or the daemon said no. */
#define EXIT_UNREACHABLE 2       /* Transport or protocol failure. */

static void
fail(const char *cmd, const char *fmt, ...) VF_PRINTF(2, 3);

static void
fail(const char *cmd, const char *fmt, ...)
{
    va_list args;
    fprintf(stderr, "vfabctl: %s: ", cmd);
    va_start(args, fmt);
    vfprintf(stderr, fmt, args);
    va_end(args);
    fputc('\n', stderr);
}

/* A JSON string of 's', or NULL with a message if it is not UTF-8 (JSON
 * cannot carry it). */
static json_t *
utf8_string(const char *cmd, const char *s, size_t len)
{
    json_t *j = json_stringn(s, len);
    if (!j) {
        fail(cmd, "argument '%.*s' is not valid UTF-8 text", (int) len, s);
    }
    return j;
}

/* Removes "-j"/"--json" from argv[1..] (up to a "--", which is removed
 * too), setting ctl->json.  Returns the new argc. */
static int
strip_json_flag(struct vfabctl *ctl, int argc, char **argv)
{
    int out = 1;
    bool opts_done = false;
    for (int i = 1; i < argc; i++) {
        if (!opts_done && !strcmp(argv[i], "--")) {
            opts_done = true;
        } else if (!opts_done
                   && (!strcmp(argv[i], "-j") || !strcmp(argv[i], "--json"))) {
            ctl->json = true;
        } else {
            argv[out++] = argv[i];
        }
    }
    return out;
}

/* Parses a decimal integer in [min, max]; returns 0 or -EINVAL. */
static int
parse_int(const char *s, int64_t min, int64_t max, int64_t *vp)
{
    if (!*s || strlen(s) > 19) {
        return -EINVAL;
    }
    for (const char *p = s; *p; p++) {
        if (*p < '0' || *p > '9') {
            return -EINVAL;
        }
    }
    int64_t v = strtoll(s, NULL, 10);
    if (v < min || v > max) {
        return -EINVAL;
    }
    *vp = v;
    return 0;
}

/* "1,2,10-12" -> [1,2,10,11,12].  Returns the array or NULL with a
 * message printed. */
static json_t *
parse_int_list(const char *cmd, const struct opt_spec *o, const char *value)
{
    json_t *list = json_array();
    char *copy = vf_xstrdup(value);
    char *save = NULL;
    size_t n = 0;
    /* strtok_r() would skip empty elements: refuse them first. */
    bool ok = *value && value[0] != ',' && value[strlen(value) - 1] != ','
              && !strstr(value, ",,");
    for (char *tok = strtok_r(copy, ",", &save); ok && tok;
         tok = strtok_r(NULL, ",", &save)) {
        char *dash = strchr(tok, '-');
        int64_t lo, hi;
        if (dash) {
            *dash = '\0';
            ok = !parse_int(tok, o->min, o->max, &lo)
                 && !parse_int(dash + 1, o->min, o->max, &hi) && lo <= hi;
        } else {
            ok = !parse_int(tok, o->min, o->max, &lo);
            hi = lo;
        }
        for (int64_t v = lo; ok && v <= hi; v++) {
            ok = ++n <= 4096;
            json_array_append_new(list, json_integer(v));
        }
    }
    free(copy);
    if (!ok || !n) {
        fail(cmd, "%s=%s: expected a list of integers %" PRId64 "..%" PRId64
             " (N,M,A-B; at most 4096)", o->key, value, o->min, o->max);
        json_decref(list);
        return NULL;
    }
    return list;
}

static json_t *
parse_string_list(const char *cmd, const struct opt_spec *o,
                  const char *value)
{
    json_t *list = json_array();
    const char *p = value;
    for (;;) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t) (comma - p) : strlen(p);
        if (!len) {
            fail(cmd, "%s=%s: empty element in the list (expected %s)",
                 o->key, value, o->hint);
            json_decref(list);
            return NULL;
        }
        json_t *e = utf8_string(cmd, p, len);
        if (!e) {
            json_decref(list);
            return NULL;
        }
        json_array_append_new(list, e);
        if (!comma) {
            return list;
        }
        p = comma + 1;
    }
}

static const struct opt_spec *
opt_lookup(const struct opt_spec *opts, const char *key, size_t len)
{
    for (const struct opt_spec *o = opts; o && o->key; o++) {
        if (strlen(o->key) == len && !strncmp(o->key, key, len)) {
            return o;
        }
    }
    return NULL;
}

/* Parses one KEY=VALUE into 'options'.  Returns 0 or -EINVAL (printed). */
static int
parse_option(const struct switch_cmd *sc, const char *arg, json_t *options)
{
    const char *eq = strchr(arg, '=');
    if (!eq || eq == arg) {
        fail(sc->name, "'%s' is not KEY=VALUE (usage: vfabctl %s %s)", arg,
             sc->name, sc->usage);
        return -EINVAL;
    }
    const struct opt_spec *o = opt_lookup(sc->opts, arg, (size_t) (eq - arg));
    if (!o) {
        struct vf_buf valid = VF_BUF_INITIALIZER;
        for (const struct opt_spec *p = sc->opts; p && p->key; p++) {
            vf_buf_printf(&valid, "%s%s", valid.len ? ", " : "", p->key);
        }
        fail(sc->name, "unknown option '%.*s' (valid: %s)", (int) (eq - arg),
             arg, vf_buf_cstr(&valid));
        vf_buf_uninit(&valid);
        return -EINVAL;
    }
    if (json_object_get(options, o->key)) {
        fail(sc->name, "option '%s' given twice", o->key);
        return -EINVAL;
    }
    const char *value = eq + 1;
    json_t *v = NULL;
    int64_t n;
    switch (o->type) {
    case OPT_STRING:
        if (!*value) {
            fail(sc->name, "%s=: empty value (expected %s)", o->key,
                 o->hint);
            return -EINVAL;
        }
        v = utf8_string(sc->name, value, strlen(value));
        break;
    case OPT_INT:
        if (parse_int(value, o->min, o->max, &n)) {
            fail(sc->name, "%s=%s: expected an integer %" PRId64 "..%" PRId64,
                 o->key, value, o->min, o->max);
            return -EINVAL;
        }
        v = json_integer(n);
        break;
    case OPT_INT_LIST:
        v = parse_int_list(sc->name, o, value);
        break;
    case OPT_STRING_LIST:
        v = parse_string_list(sc->name, o, value);
        break;
    }
    if (!v) {
        return -EINVAL;
    }
    json_object_set_new(options, o->key, v);
    return 0;
}

/* Builds the JSON-RPC params from argv (argv[0] is the command name).
 * Returns the params or NULL after printing an error. */
static json_t *
build_params(const struct switch_cmd *sc, int argc, char **argv)
{
    int n_pos = 0;
    while (n_pos < sc->max_pos && 1 + n_pos < argc
           && !(sc->opts && strchr(argv[1 + n_pos], '='))) {
        n_pos++;
    }
    if (n_pos < sc->min_pos) {
        fail(sc->name, "missing arguments (usage: vfabctl %s %s)", sc->name,
             sc->usage);
        return NULL;
    }
    if (!sc->opts && 1 + n_pos < argc) {
        fail(sc->name, "too many arguments (usage: vfabctl %s %s%s)",
             sc->name, sc->usage,
             strstr(sc->usage, "RULE") || strstr(sc->usage, "MATCH")
                 ? "; quote a rule that contains spaces"
                 : "");
        return NULL;
    }
    json_t *params = json_array();
    for (int i = 0; i < n_pos; i++) {
        json_t *arg = utf8_string(sc->name, argv[1 + i], strlen(argv[1 + i]));
        if (!arg) {
            json_decref(params);
            return NULL;
        }
        json_array_append_new(params, arg);
    }
    if (sc->opts) {
        json_t *options = json_object();
        for (int i = 1 + n_pos; i < argc; i++) {
            if (parse_option(sc, argv[i], options)) {
                json_decref(options);
                json_decref(params);
                return NULL;
            }
        }
        for (const struct opt_spec *o = sc->opts; o->key; o++) {
            if (o->required && !json_object_get(options, o->key)) {
                fail(sc->name, "missing %s=%s", o->key, o->hint);
                json_decref(options);
                json_decref(params);
                return NULL;
            }
        }
        json_array_append_new(params, options);
    }
    return params;
}

static int
vfabctl_call(struct vfabctl *ctl, const char *cmd, const char *method,
             json_t *params, json_t **resultp)
{
    struct ctl_client *client;
    char *err = NULL;
    *resultp = NULL;
    int rc = ctl_client_open(ctl->socket_path, ctl->timeout_ms, &client,
                             &err);
    if (rc) {
        json_decref(params);
        fail(cmd, "%s", err);
        free(err);
        return EXIT_UNREACHABLE;
    }
    int code = 0;
    rc = ctl_client_call(client, method, params, ctl->timeout_ms, resultp,
                         &code, &err);
    ctl_client_close(client);
    if (rc) {
        fail(cmd, "%s", err);
        free(err);
        return rc == -EREMOTEIO ? EXIT_ERROR : EXIT_UNREACHABLE;
    }
    return 0;
}

static void
print_json_line(const json_t *json)
{
    char *s = jsonrpc_json_to_string(json);
    puts(s);
    free(s);
}

static int
run_cmd(struct vfabctl *ctl, const struct switch_cmd *sc, int argc,
        char **argv)
{
    argc = strip_json_flag(ctl, argc, argv);
    json_t *params = build_params(sc, argc, argv);
    if (!params) {
        return EXIT_ERROR;
    }
    json_t *result;
    int status = vfabctl_call(ctl, sc->name, sc->method, params, &result);
    if (status) {
        return status;
    }
    if (ctl->json) {
        print_json_line(result);
    } else if (sc->render) {
        sc->render(result);
    }
    json_decref(result);
    if (fflush(stdout)) {
        fail(sc->name, "write error: %s", strerror(errno));
        return EXIT_ERROR;
    }
    return 0;
}

/* Human renderers. */

static const char *
jstr(const json_t *obj, const char *key)
{
    const char *s = json_string_value(json_object_get(obj, key));
    return s ? s : "";
}

static void
print_value(const json_t *v)
{
    if (json_is_string(v)) {
        fputs(json_string_value(v), stdout);
    } else if (json_is_array(v)) {
        size_t i;
        json_t *e;
        json_array_foreach ((json_t *) v, i, e) {
            fputs(i ? ", " : "", stdout);
            print_value(e);
        }
    } else {
        char *s = jsonrpc_json_to_string(v);
        fputs(s, stdout);
        free(s);
    }
}

static void
render_fabric(const json_t *f)
{
    if (!f) {
        return;
    }
    const json_t *br = json_object_get(f, "bridge");
    printf("Fabric: host %s, policy server %s: %s", jstr(f, "host"),
           jstr(f, "server"),
           json_is_true(json_object_get(f, "reachable")) ? "reachable"
                                                          : "UNREACHABLE");
    json_t *since = json_object_get(f, "unreachable_since_ms");
    if (since) {
        time_t t = (time_t) (json_integer_value(since) / 1000);
        char buf[64];
        struct tm tm;
        strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&t, &tm));
        printf(" since %s (forwarding on cached translations)", buf);
    }
    printf("\n    model version %" JSON_INTEGER_FORMAT ", %" JSON_INTEGER_FORMAT
           " VNICs bound",
           json_integer_value(json_object_get(f, "version")),
           json_integer_value(json_object_get(f, "vnics_bound")));
    if (br) {
        printf(", bridge %s: %s VTEP %s on %s", jstr(br, "name"),
               jstr(br, "tunnel"), jstr(br, "vtep"), jstr(br, "uplink"));
    }
    putchar('\n');
}

static void
render_show(const json_t *result)
{
    size_t i;
    json_t *br;
    json_array_foreach (json_object_get(result, "bridges"), i, br) {
        printf("Bridge %s\n", jstr(br, "name"));
        if (json_object_get(br, "error")) {
            printf("    error: \"%s\"\n", jstr(br, "error"));
        }
        size_t j;
        json_t *port;
        json_array_foreach (json_object_get(br, "ports"), j, port) {
            printf("    Port %s\n", jstr(port, "name"));
            const char *key;
            json_t *v;
            json_object_foreach (port, key, v) {
                if (!strcmp(key, "name")) {
                    continue;
                }
                printf("        %s: ", key);
                print_value(v);
                putchar('\n');
            }
        }
        printf("    flows: %" JSON_INTEGER_FORMAT "\n",
               json_integer_value(json_object_get(br, "n_flows")));
        json_t *opts = json_object_get(br, "options");
        if (json_object_size(opts)) {
            printf("    options: ");
            print_value(opts);
            putchar('\n');
        }
    }
    render_fabric(json_object_get(result, "fabric"));
}

static void
render_dump_flows(const json_t *result)
{
    size_t i;
    json_t *f;
    json_array_foreach (json_object_get(result, "flows"), i, f) {
        printf(" seq=%" JSON_INTEGER_FORMAT ", %s",
               json_integer_value(json_object_get(f, "seq")),
               jstr(f, "rule"));
        if (json_object_get(f, "error")) {
            printf("  (error: %s)", jstr(f, "error"));
        }
        putchar('\n');
    }
}

static void
render_del_flows(const json_t *result)
{
    json_int_t n = json_integer_value(json_object_get(result, "n_removed"));
    if (!n) {
        printf("no flow matched on bridge %s\n", jstr(result, "bridge"));
    }
}

static void
render_fdb(const json_t *result)
{
    printf(" port  VLAN  MAC                Age\n");
    size_t i;
    json_t *e;
    json_array_foreach (json_object_get(result, "entries"), i, e) {
        printf("%5" JSON_INTEGER_FORMAT "  %4" JSON_INTEGER_FORMAT
               "  %-17s  %" JSON_INTEGER_FORMAT "\n",
               json_integer_value(json_object_get(e, "port_no")),
               json_integer_value(json_object_get(e, "vlan")),
               jstr(e, "mac"),
               json_integer_value(json_object_get(e, "age_s")));
    }
}

static json_int_t
jint(const json_t *obj, const char *key)
{
    return json_integer_value(json_object_get(obj, key));
}

static void
render_port_stats(const json_t *result)
{
    size_t i;
    json_t *p;
    const json_t *ports = json_object_get(result, "ports");
    printf("port stats of %s: %zu ports\n", jstr(result, "bridge"),
           json_array_size(ports));
    json_array_foreach ((json_t *) ports, i, p) {
        printf("  port %3" JSON_INTEGER_FORMAT ": %-15s rx pkts=%"
               JSON_INTEGER_FORMAT ", bytes=%" JSON_INTEGER_FORMAT
               ", drop=%" JSON_INTEGER_FORMAT ", errs=%" JSON_INTEGER_FORMAT
               "\n",
               jint(p, "port_no"), jstr(p, "name"), jint(p, "rx_packets"),
               jint(p, "rx_bytes"), jint(p, "rx_dropped"),
               jint(p, "rx_errors"));
        printf("  %25s tx pkts=%" JSON_INTEGER_FORMAT ", bytes=%"
               JSON_INTEGER_FORMAT ", drop=%" JSON_INTEGER_FORMAT
               ", errs=%" JSON_INTEGER_FORMAT "\n",
               "", jint(p, "tx_packets"), jint(p, "tx_bytes"),
               jint(p, "tx_dropped"), jint(p, "tx_errors"));
    }
}

static void
render_dump_meters(const json_t *result)
{
    size_t i;
    json_t *m;
    json_array_foreach (json_object_get(result, "meters"), i, m) {
        bool kbps = !strcmp(jstr(m, "unit"), "kbps");
        printf(" meter=%" JSON_INTEGER_FORMAT " %s rate=%" JSON_INTEGER_FORMAT
               " burst=%" JSON_INTEGER_FORMAT "%s",
               jint(m, "id"), jstr(m, "unit"), jint(m, "rate"),
               jint(m, "burst"), kbps ? "kbit" : "pkts");
        if (json_object_get(m, "passed_packets")) {
            printf(" passed=%" JSON_INTEGER_FORMAT "pkts/%"
                   JSON_INTEGER_FORMAT "bytes dropped=%" JSON_INTEGER_FORMAT
                   "pkts/%" JSON_INTEGER_FORMAT "bytes",
                   jint(m, "passed_packets"), jint(m, "passed_bytes"),
                   jint(m, "dropped_packets"), jint(m, "dropped_bytes"));
        }
        if (json_object_get(m, "error")) {
            printf("  (error: %s)", jstr(m, "error"));
        }
        putchar('\n');
    }
}

static void
render_list_commands(const json_t *result)
{
    size_t i;
    json_t *c;
    json_array_foreach ((json_t *) result, i, c) {
        printf("  %-20s %s\n", jstr(c, "name"), jstr(c, "usage"));
    }
}

static void
render_version(const json_t *result)
{
    printf("%s %s (database schema %" JSON_INTEGER_FORMAT ", datapath %s)\n",
           jstr(result, "name"), jstr(result, "version"),
           jint(result, "db_schema"), jstr(result, "datapath"));
}

static void
render_any(const json_t *result)
{
    if (json_is_string(result)) {
        puts(json_string_value(result));
    } else if (!json_is_null(result)) {
        char *s = json_dumps(result, JSON_INDENT(2) | JSON_ENCODE_ANY);
        if (s) {
            puts(s);
            free(s);
        }
    }
}

/* The command table. */

static const struct opt_spec port_opts[] = {
    {"type", OPT_STRING, 0, 0, true, "tap|afpacket|patch|dummy"},
    {"vlan", OPT_INT, 0, 4095, false, "VLAN"},
    {"trunks", OPT_INT_LIST, 0, 4095, false, "VLAN,..."},
    {"mac", OPT_STRING, 0, 0, false, "aa:bb:cc:dd:ee:ff"},
    {"ip", OPT_STRING_LIST, 0, 0, false, "ADDRESS,..."},
    {"quota", OPT_INT, 1, 16777216, false, "BUFFERS"},
    {"rx_ring", OPT_STRING, 0, 0, false, "v2|v3"},
    {"peer", OPT_STRING, 0, 0, false, "PORT"},
    {"vnic", OPT_STRING, 0, 0, false, "NAME"},
    {NULL, OPT_STRING, 0, 0, false, NULL},
};

/* Ranges are the daemon's to check (its messages name the unit). */
static const struct opt_spec meter_opts[] = {
    {"rate", OPT_INT, 0, UINT32_MAX, true, "N"},
    {"burst", OPT_INT, 0, UINT32_MAX, false, "N"},
    {NULL, OPT_STRING, 0, 0, false, NULL},
};

static const struct opt_spec br_opts[] = {
    {"fabric", OPT_STRING, 0, 0, false, "vxlan|geneve"},
    {"underlay", OPT_STRING, 0, 0, false, "A.B.C.D/N"},
    {"gateway", OPT_STRING, 0, 0, false, "A.B.C.D"},
    {"uplink", OPT_STRING, 0, 0, false, "PORT"},
    {"mtu", OPT_INT, 576, 9000, false, "BYTES"},
    {NULL, OPT_STRING, 0, 0, false, NULL},
};

static const struct switch_cmd add_br = {
    "add-br", "bridge/add",
    "BRIDGE [fabric=vxlan|geneve underlay=A.B.C.D/N uplink=PORT "
    "[gateway=A.B.C.D] [mtu=N]]",
    1, 1, br_opts, NULL};
static const struct switch_cmd del_br = {
    "del-br", "bridge/remove", "BRIDGE", 1, 1, NULL, NULL};
static const struct switch_cmd add_port = {
    "add-port", "port/add",
    "BRIDGE PORT type=tap|afpacket|patch|dummy [vlan=N] [trunks=N,M] "
    "[mac=MAC] [ip=ADDR,...] [quota=N] [rx_ring=v2|v3] [peer=PORT] "
    "[vnic=NAME]",
    2, 2, port_opts, NULL};
static const struct switch_cmd del_port = {
    "del-port", "port/remove", "BRIDGE PORT", 2, 2, NULL, NULL};
static const struct switch_cmd show = {
    "show", "switch/show", "[BRIDGE]", 0, 1, NULL, render_show};
static const struct switch_cmd add_flow = {
    "add-flow", "flow/add", "BRIDGE RULE", 2, 2, NULL, NULL};
static const struct switch_cmd del_flows = {
    "del-flows", "flow/remove", "BRIDGE [MATCH]", 1, 2, NULL,
    render_del_flows};
static const struct switch_cmd dump_flows = {
    "dump-flows", "flow/dump", "BRIDGE", 1, 1, NULL, render_dump_flows};
static const struct switch_cmd fdb_show = {
    "fdb-show", "fdb/show", "BRIDGE", 1, 1, NULL, render_fdb};
static const struct switch_cmd port_stats = {
    "port-stats", "port/stats", "BRIDGE", 1, 1, NULL, render_port_stats};
static const struct switch_cmd add_meter = {
    "add-meter", "meter/add", "BRIDGE ID kbps|pktps rate=N [burst=N]", 3, 3,
    meter_opts, NULL};
static const struct switch_cmd del_meter = {
    "del-meter", "meter/remove", "BRIDGE ID", 2, 2, NULL, NULL};
static const struct switch_cmd dump_meters = {
    "dump-meters", "meter/dump", "BRIDGE", 1, 1, NULL, render_dump_meters};
static const struct switch_cmd list_commands = {
    "list-commands", "list-commands", "", 0, 0, NULL, render_list_commands};
static const struct switch_cmd version = {
    "version", "version", "", 0, 0, NULL, render_version};

int
cmd_add_br(struct vfabctl *ctl, int argc, char **argv)
{
    return run_cmd(ctl, &add_br, argc, argv);
}

int
cmd_del_br(struct vfabctl *ctl, int argc, char **argv)
{
    return run_cmd(ctl, &del_br, argc, argv);
}

int
cmd_add_port(struct vfabctl *ctl, int argc, char **argv)
{
    return run_cmd(ctl, &add_port, argc, argv);
}

int
cmd_del_port(struct vfabctl *ctl, int argc, char **argv)
{
    return run_cmd(ctl, &del_port, argc, argv);
}

int
cmd_show(struct vfabctl *ctl, int argc, char **argv)
{
    return run_cmd(ctl, &show, argc, argv);
}

int
cmd_add_flow(struct vfabctl *ctl, int argc, char **argv)
{
    return run_cmd(ctl, &add_flow, argc, argv);
}

int
cmd_del_flows(struct vfabctl *ctl, int argc, char **argv)
{
    return run_cmd(ctl, &del_flows, argc, argv);
}

int
cmd_dump_flows(struct vfabctl *ctl, int argc, char **argv)
{
    return run_cmd(ctl, &dump_flows, argc, argv);
}

int
cmd_fdb_show(struct vfabctl *ctl, int argc, char **argv)
{
    return run_cmd(ctl, &fdb_show, argc, argv);
}

int
cmd_port_stats(struct vfabctl *ctl, int argc, char **argv)
{
    return run_cmd(ctl, &port_stats, argc, argv);
}

int
cmd_add_meter(struct vfabctl *ctl, int argc, char **argv)
{
    return run_cmd(ctl, &add_meter, argc, argv);
}

int
cmd_del_meter(struct vfabctl *ctl, int argc, char **argv)
{
    return run_cmd(ctl, &del_meter, argc, argv);
}

int
cmd_dump_meters(struct vfabctl *ctl, int argc, char **argv)
{
    return run_cmd(ctl, &dump_meters, argc, argv);
}

int
cmd_list_commands(struct vfabctl *ctl, int argc, char **argv)
{
    return run_cmd(ctl, &list_commands, argc, argv);
}

int
cmd_version(struct vfabctl *ctl, int argc, char **argv)
{
    return run_cmd(ctl, &version, argc, argv);
}

/* `vfabctl call METHOD [ARG...]`: any command the daemon registered
 * (time/warp, log/set-level, a module's own), with string arguments. */
int
cmd_call(struct vfabctl *ctl, int argc, char **argv)
{
    argc = strip_json_flag(ctl, argc, argv);
    if (argc < 2) {
        fail("call", "expected METHOD [ARG...] (see vfabctl list-commands)");
        return EXIT_ERROR;
    }
    json_t *method = utf8_string("call", argv[1], strlen(argv[1]));
    if (!method) {
        return EXIT_ERROR;
    }
    json_decref(method);
    json_t *params = json_array();
    for (int i = 2; i < argc; i++) {
        json_t *arg = utf8_string("call", argv[i], strlen(argv[i]));
        if (!arg) {
            json_decref(params);
            return EXIT_ERROR;
        }
        json_array_append_new(params, arg);
    }
    json_t *result;
    int status = vfabctl_call(ctl, argv[1], argv[1], params, &result);
    if (status) {
        return status;
    }
    if (ctl->json) {
        print_json_line(result);
    } else {
        render_any(result);
    }
    json_decref(result);
    return fflush(stdout) ? EXIT_ERROR : 0;
}
