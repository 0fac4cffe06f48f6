/* SPDX-License-Identifier: Apache-2.0 */
/* vfabctl's policy commands: they talk to vfab-policyd's REST API
 * (docs/rest-api.md) with a bearer token, blocking (libcurl easy).
 *
 * Server: --server URL, else $VFAB_SERVER, else http://127.0.0.1:8470.
 * Token: --token T, else the contents of --token-file PATH, else of
 * $VFAB_TOKEN_FILE, else of /etc/vfab/policyd-admin.token.
 *
 * Output: human tables and "key: value" lines, or with -j (global, or
 * anywhere among a command's arguments) the server's JSON.  Exit status:
 * 0 success, 1 a bad argument or an error answer (the server's message
 * and the field it names go to stderr), 2 the server cannot be reached. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "policy/policy-rest.h"
#include "util/buf.h"
#include "vfabctl.h"

#define DEFAULT_SERVER "http://127.0.0.1:8470"
#define DEFAULT_TOKEN_FILE "/etc/vfab/policyd-admin.token"

/* ---- Arguments. ---- */

/* A command's parsed arguments: positionals and --options (repeatable
 * ones collect every value). */
struct args {
    const char *pos[8];
    int n_pos;
    struct {
        const char *name;
        const char *value;
    } opts[64];
    int n_opts;
    bool json;
};

static int
parse_args(int argc, char **argv, const char *const *flags,
           struct args *a)
{
    memset(a, 0, sizeof *a);
    for (int i = 1; i < argc; i++) {
        const char *s = argv[i];
        if (!strcmp(s, "-j") || !strcmp(s, "--json")) {
            a->json = true;
            continue;
        }
        if (strncmp(s, "--", 2) || !s[2]) {
            if (a->n_pos == (int) (sizeof a->pos / sizeof a->pos[0])) {
                fprintf(stderr, "vfabctl %s: too many arguments\n", argv[0]);
                return -1;
            }
            a->pos[a->n_pos++] = s;
            continue;
        }
        if (a->n_opts == (int) (sizeof a->opts / sizeof a->opts[0])) {
            fprintf(stderr, "vfabctl %s: too many options\n", argv[0]);
            return -1;
        }
        const char *eq = strchr(s, '=');
        static char names[64][64];
        size_t len = eq ? (size_t) (eq - s - 2) : strlen(s + 2);
        snprintf(names[a->n_opts], sizeof names[0], "%.*s", (int) len, s + 2);
        const char *name = names[a->n_opts];
        bool is_flag = false;
        for (size_t f = 0; flags && flags[f]; f++) {
            is_flag = is_flag || !strcmp(flags[f], name);
        }
        const char *value;
        if (is_flag) {
            value = "";
        } else if (eq) {
            value = eq + 1;
        } else if (i + 1 < argc) {
            value = argv[++i];
        } else {
            fprintf(stderr, "vfabctl %s: --%s needs a value\n", argv[0],
                    name);
            return -1;
        }
        a->opts[a->n_opts].name = name;
        a->opts[a->n_opts++].value = value;
    }
    return 0;
}

static const char *
opt(const struct args *a, const char *name)
{
    const char *v = NULL;
    for (int i = 0; i < a->n_opts; i++) {
        if (!strcmp(a->opts[i].name, name)) {
            v = a->opts[i].value;
        }
    }
    return v;
}

/* Refuses options not in 'known' (NULL-terminated). */
static bool
check_opts(const char *cmd, const struct args *a, const char *const *known)
{
    for (int i = 0; i < a->n_opts; i++) {
        bool ok = false;
        for (size_t k = 0; known && known[k]; k++) {
            ok = ok || !strcmp(a->opts[i].name, known[k]);
        }
        if (!ok) {
            fprintf(stderr, "vfabctl %s: unknown option --%s\n", cmd,
                    a->opts[i].name);
            return false;
        }
    }
    return true;
}

/* ---- Talking to the server. ---- */

static const char *
server_url(const struct vfabctl *ctl)
{
    const char *env = getenv("VFAB_SERVER");
    return ctl->server_url ? ctl->server_url
           : env && *env   ? env
                           : DEFAULT_SERVER;
}

static char *
read_token_file(const char *path)
{
    FILE *f = fopen(path, "re");
    if (!f) {
        fprintf(stderr, "vfabctl: cannot read token file %s: %s (use "
                "--token or --token-file)\n", path, strerror(errno));
        return NULL;
    }
    char buf[1024];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    buf[strcspn(buf, "\r\n")] = '\0';
    return vf_xstrdup(buf);
}

/* Returns the token to use (static storage), or NULL after a message. */
static const char *
token(const struct vfabctl *ctl)
{
    static char *cached;
    if (ctl->token) {
        return ctl->token;
    }
    if (!cached) {
        const char *env = getenv("VFAB_TOKEN_FILE");
        const char *path = ctl->token_file ? ctl->token_file
                           : env && *env   ? env
                                           : DEFAULT_TOKEN_FILE;
        cached = read_token_file(path);
    }
    return cached;
}

/* Calls the server; on a 2xx returns 0 and the parsed answer in '*out'
 * (if not NULL); otherwise prints the error and returns the exit status
 * (1 or 2). */
static int
call(const struct vfabctl *ctl, const char *method, const char *path,
     json_t *body, json_t **out)
{
    const char *tok = token(ctl);
    if (!tok) {
        json_decref(body);
        return 1;
    }
    char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
    json_decref(body);
    struct policy_rest_reply reply;
    char *err = NULL;
    int error = policy_rest_call(server_url(ctl), tok, method, path, text,
                                 ctl->timeout_ms, &reply, &err);
    free(text);
    if (error) {
        fprintf(stderr, "vfabctl: cannot reach vfab-policyd: %s\n", err);
        free(err);
        return 2;
    }
    json_t *j = json_loads(reply.body, 0, NULL);
    int status = 0;
    if (reply.status < 200 || reply.status > 299) {
        const char *msg = json_string_value(json_object_get(j, "error"));
        const char *field = json_string_value(json_object_get(j, "field"));
        fprintf(stderr, "vfabctl: HTTP %ld: %s", reply.status,
                msg ? msg : reply.body);
        if (field) {
            fprintf(stderr, " (field %s)", field);
        }
        fputc('\n', stderr);
        status = 1;
        json_decref(j);
    } else if (!j) {
        fprintf(stderr, "vfabctl: the server's answer is not JSON\n");
        status = 1;
    } else if (out) {
        *out = j;
    } else {
        json_decref(j);
    }
    policy_rest_reply_uninit(&reply);
    return status;
}

static char *
object_path(const char *plural, const char *name, const char *suffix)
{
    char *esc = policy_rest_escape(name);
    char *p = vf_xasprintf("/v1/%s/%s%s", plural, esc, suffix ? suffix : "");
    free(esc);
    return p;
}

/* ---- Output. ---- */

static void
print_json(const json_t *j)
{
    char *s = json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    puts(s);
    free(s);
}

/* Text of a value for tables: strings as is, arrays joined by ',',
 * selectors as network:N / group:G. */
static void
value_text(const json_t *v, struct vf_buf *out)
{
    if (!v || json_is_null(v)) {
        vf_buf_puts(out, "-");
    } else if (json_is_string(v)) {
        vf_buf_puts(out, json_string_value(v));
    } else if (json_is_integer(v)) {
        vf_buf_printf(out, "%lld", (long long) json_integer_value(v));
    } else if (json_is_boolean(v)) {
        vf_buf_puts(out, json_is_true(v) ? "true" : "false");
    } else if (json_is_array(v)) {
        size_t i;
        json_t *e;
        if (!json_array_size(v)) {
            vf_buf_puts(out, "-");
        }
        json_array_foreach (v, i, e) {
            if (i) {
                vf_buf_putc(out, ',');
            }
            value_text(e, out);
        }
    } else if (json_is_object(v) && json_object_size(v) == 1) {
        const char *k = json_object_iter_key(json_object_iter((json_t *) v));
        vf_buf_printf(out, "%s:", k);
        value_text(json_object_get(v, k), out);
    } else {
        char *s = json_dumps(v, JSON_COMPACT);
        vf_buf_puts(out, s);
        free(s);
    }
}

struct column {
    const char *key;
    const char *title;
};

static void
print_table(const json_t *rows, const struct column *cols, size_t n_cols)
{
    size_t n_rows = json_array_size(rows);
    struct vf_buf *cells = vf_xcalloc((n_rows + 1) * n_cols, sizeof *cells);
    size_t *width = vf_xcalloc(n_cols, sizeof *width);
    for (size_t c = 0; c < n_cols; c++) {
        vf_buf_puts(&cells[c], cols[c].title);
    }
    for (size_t r = 0; r < n_rows; r++) {
        for (size_t c = 0; c < n_cols; c++) {
            value_text(json_object_get(json_array_get(rows, r), cols[c].key),
                       &cells[(r + 1) * n_cols + c]);
        }
    }
    for (size_t i = 0; i < (n_rows + 1) * n_cols; i++) {
        width[i % n_cols] = VF_MAX(width[i % n_cols], cells[i].len);
    }
    for (size_t r = 0; r <= n_rows; r++) {
        for (size_t c = 0; c < n_cols; c++) {
            const struct vf_buf *cell = &cells[r * n_cols + c];
            printf("%-*s%s", c + 1 < n_cols ? (int) width[c] : 0,
                   vf_buf_cstr(cell), c + 1 < n_cols ? "  " : "\n");
        }
    }
    for (size_t i = 0; i < (n_rows + 1) * n_cols; i++) {
        vf_buf_uninit(&cells[i]);
    }
    free(cells);
    free(width);
}

static void
print_fields(const json_t *obj)
{
    const char *key;
    json_t *v;
    json_object_foreach ((json_t *) obj, key, v) {
        struct vf_buf b = VF_BUF_INITIALIZER;
        value_text(v, &b);
        printf("%s: %s\n", key, vf_buf_cstr(&b));
        vf_buf_uninit(&b);
    }
}

/* ---- Object kinds. ---- */

struct kind {
    const char *prefix;         /* In command names: "net". */
    const char *plural;         /* In URLs and list answers. */
    const char *singular;
    const char *const *filters; /* List filters (--tenant ...). */
    struct column cols[8];
    size_t n_cols;
};

static const char *const no_filters[] = {NULL};
static const char *const tenant_filter[] = {"tenant", NULL};
static const char *const vnic_filters[] = {"tenant", "network", "host",
                                           NULL};

static const struct kind kinds[] = {
    {"tenant", "tenants", "tenant", no_filters,
     {{"name", "NAME"}, {"description", "DESCRIPTION"},
      {"version", "VERSION"}}, 3},
    {"net", "networks", "network", tenant_filter,
     {{"name", "NAME"}, {"tenant", "TENANT"}, {"vni", "VNI"},
      {"subnets", "SUBNETS"}, {"version", "VERSION"}}, 5},
    {"host", "hosts", "host", no_filters,
     {{"name", "NAME"}, {"underlay_ip", "UNDERLAY_IP"},
      {"state_format", "STATE_FORMAT"}, {"capabilities", "CAPABILITIES"},
      {"version", "VERSION"}}, 5},
    {"vnic", "vnics", "vnic", vnic_filters,
     {{"name", "NAME"}, {"network", "NETWORK"}, {"mac", "MAC"},
      {"ips", "IPS"}, {"host", "HOST"}, {"security_groups", "GROUPS"},
      {"version", "VERSION"}}, 7},
    {"policy", "policies", "policy", tenant_filter,
     {{"name", "NAME"}, {"tenant", "TENANT"}, {"priority", "PRIO"},
      {"action", "ACTION"}, {"src", "FROM"}, {"dst", "TO"},
      {"protocol", "PROTO"}, {"ports", "PORTS"}}, 8},
};

static const struct kind *
kind_of_command(const char *cmd)
{
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
        size_t len = strlen(kinds[i].prefix);
        if (!strncmp(cmd, kinds[i].prefix, len) && cmd[len] == '-') {
            return &kinds[i];
        }
    }
    return NULL;
}

static bool
json_mode(const struct vfabctl *ctl, const struct args *a)
{
    return ctl->json || a->json;
}

int
cmd_policy_list(struct vfabctl *ctl, int argc, char **argv)
{
    const struct kind *k = kind_of_command(argv[0]);
    struct args a;
    if (!k || parse_args(argc, argv, NULL, &a)
        || !check_opts(argv[0], &a, k->filters) || a.n_pos) {
        fprintf(stderr, "usage: vfabctl %s [--FILTER NAME]...\n", argv[0]);
        return 1;
    }
    struct vf_buf path = VF_BUF_INITIALIZER;
    vf_buf_printf(&path, "/v1/%s", k->plural);
    for (int i = 0; i < a.n_opts; i++) {
        char *v = policy_rest_escape(a.opts[i].value);
        vf_buf_printf(&path, "%c%s=%s", i ? '&' : '?', a.opts[i].name, v);
        free(v);
    }
    json_t *j;
    int status = call(ctl, "GET", vf_buf_cstr(&path), NULL, &j);
    vf_buf_uninit(&path);
    if (status) {
        return status;
    }
    if (json_mode(ctl, &a)) {
        print_json(j);
    } else {
        print_table(json_object_get(j, k->plural), k->cols, k->n_cols);
    }
    json_decref(j);
    return 0;
}

int
cmd_policy_show(struct vfabctl *ctl, int argc, char **argv)
{
    const struct kind *k = kind_of_command(argv[0]);
    struct args a;
    if (!k || parse_args(argc, argv, NULL, &a)
        || !check_opts(argv[0], &a, NULL) || a.n_pos != 1) {
        fprintf(stderr, "usage: vfabctl %s NAME\n", argv[0]);
        return 1;
    }
    char *path = object_path(k->plural, a.pos[0], NULL);
    json_t *j;
    int status = call(ctl, "GET", path, NULL, &j);
    free(path);
    if (!status) {
        json_mode(ctl, &a) ? print_json(j) : print_fields(j);
        json_decref(j);
    }
    return status;
}

int
cmd_policy_delete(struct vfabctl *ctl, int argc, char **argv)
{
    const struct kind *k = kind_of_command(argv[0]);
    struct args a;
    if (!k || parse_args(argc, argv, NULL, &a)
        || !check_opts(argv[0], &a, NULL) || a.n_pos != 1) {
        fprintf(stderr, "usage: vfabctl %s NAME\n", argv[0]);
        return 1;
    }
    char *path = object_path(k->plural, a.pos[0], NULL);
    json_t *j;
    int status = call(ctl, "DELETE", path, NULL, &j);
    free(path);
    if (!status) {
        if (json_mode(ctl, &a)) {
            print_json(j);
        } else {
            printf("deleted %s '%s' (version %lld)\n", k->singular, a.pos[0],
                   (long long) json_integer_value(json_object_get(j,
                                                                  "version")));
        }
        json_decref(j);
    }
    return status;
}

/* ---- Building bodies from options. ---- */

static bool
set_int(json_t *body, const char *key, const char *s)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || end == s || *end) {
        fprintf(stderr, "vfabctl: --%s: '%s' is not an integer\n", key, s);
        return false;
    }
    json_object_set_new(body, key, json_integer(v));
    return true;
}

/* Collects every value of repeatable option 'name' into array 'key'. */
static void
set_array(json_t *body, const struct args *a, const char *name,
          const char *key)
{
    json_t *arr = NULL;
    for (int i = 0; i < a->n_opts; i++) {
        if (!strcmp(a->opts[i].name, name)) {
            if (!arr) {
                arr = json_array();
            }
            if (*a->opts[i].value) {
                json_array_append_new(arr, json_string(a->opts[i].value));
            }
        }
    }
    if (arr) {
        json_object_set_new(body, key, arr);
    }
}

/* "any", "network:NAME" or "group:NAME" → a selector. */
static json_t *
selector(const char *s)
{
    if (!strcmp(s, "any")) {
        return json_string("any");
    }
    const char *colon = strchr(s, ':');
    if (!colon || (strncmp(s, "network:", 8) && strncmp(s, "group:", 6)
                   && strncmp(s, "net:", 4))) {
        fprintf(stderr, "vfabctl: '%s': expected any, network:NAME or "
                "group:NAME\n", s);
        return NULL;
    }
    json_t *o = json_object();
    json_object_set_new(o, s[0] == 'g' ? "group" : "network",
                        json_string(colon + 1));
    return o;
}

/* Fills 'body' from the options common to create and set commands of
 * kind 'k'.  Returns false after a message if an option is bad. */
static bool
body_from_opts(const struct kind *k, const struct args *a, json_t *body)
{
    const char *v;
    if ((v = opt(a, "description"))) {
        json_object_set_new(body, "description", json_string(v));
    }
    if (!strcmp(k->prefix, "net")) {
        set_array(body, a, "subnet", "subnets");
        if ((v = opt(a, "tenant"))) {
            json_object_set_new(body, "tenant", json_string(v));
        }
        return !(v = opt(a, "vni")) || set_int(body, "vni", v);
    }
    if (!strcmp(k->prefix, "host")) {
        set_array(body, a, "capability", "capabilities");
        if ((v = opt(a, "underlay-ip"))) {
            json_object_set_new(body, "underlay_ip", json_string(v));
        }
        return !(v = opt(a, "state-format"))
               || set_int(body, "state_format", v);
    }
    if (!strcmp(k->prefix, "vnic")) {
        set_array(body, a, "ip", "ips");
        set_array(body, a, "group", "security_groups");
        if ((v = opt(a, "network"))) {
            json_object_set_new(body, "network", json_string(v));
        }
        if ((v = opt(a, "mac"))) {
            json_object_set_new(body, "mac", json_string(v));
        }
        if ((v = opt(a, "host"))) {
            json_object_set_new(body, "host", json_string(v));
        }
        if (opt(a, "unplace")) {
            json_object_set_new(body, "host", json_null());
        }
        return true;
    }
    if (!strcmp(k->prefix, "policy")) {
        const char *keys[][2] = {{"tenant", "tenant"}, {"action", "action"},
                                 {"ports", "ports"}};
        for (size_t i = 0; i < 3; i++) {
            if ((v = opt(a, keys[i][0]))) {
                json_object_set_new(body, keys[i][1], json_string(v));
            }
        }
        if ((v = opt(a, "protocol"))) {
            char *end;
            long n = strtol(v, &end, 10);
            json_object_set_new(body, "protocol",
                                *v && !*end ? json_integer(n)
                                            : json_string(v));
        }
        const char *sels[][2] = {{"from", "src"}, {"to", "dst"}};
        for (size_t i = 0; i < 2; i++) {
            if ((v = opt(a, sels[i][0]))) {
                json_t *sel = selector(v);
                if (!sel) {
                    return false;
                }
                json_object_set_new(body, sels[i][1], sel);
            }
        }
        return !(v = opt(a, "priority")) || set_int(body, "priority", v);
    }
    return true;
}

static const char *const create_opts[][10] = {
    {"description", NULL},
    {"description", "tenant", "vni", "subnet", NULL},
    {"description", "underlay-ip", "capability", "state-format",
     "token-file", NULL},
    {"description", "network", "mac", "ip", "host", "group", NULL},
    {"description", "tenant", "action", "from", "to", "protocol", "ports",
     "priority", NULL},
};

static const char *const set_opts[][10] = {
    {"description", NULL},
    {"description", "vni", "subnet", NULL},
    {"description", "underlay-ip", "capability", "state-format", NULL},
    {"description", "mac", "ip", "host", "unplace", "group", NULL},
    {"description", "action", "from", "to", "protocol", "ports", "priority",
     NULL},
};

static const char *const create_usage[] = {
    "NAME [--description TEXT]",
    "NAME --tenant T [--vni N] [--subnet CIDR]... [--description TEXT]",
    "NAME --underlay-ip IP [--capability C]... [--state-format N] "
    "[--token-file PATH]",
    "NAME --network N --mac MAC [--ip IP]... [--host H] [--group G]...",
    "NAME --tenant T --action allow|deny --from SEL --to SEL [--protocol P] "
    "[--ports N|LO-HI] [--priority N]   (SEL: any, network:N, group:G)",
};

/* Writes a host token to 'path' (mode 0600, replaced). */
static int
save_token(const char *path, const char *tok)
{
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    unlink(tmp);
    FILE *f = NULL;
    mode_t old = umask(077);
    f = fopen(tmp, "wx");
    umask(old);
    if (!f || fprintf(f, "%s\n", tok) < 0 || fclose(f)
        || rename(tmp, path)) {
        fprintf(stderr, "vfabctl: cannot write %s: %s\n", path,
                strerror(errno));
        return 1;
    }
    return 0;
}

/* Prints a written object (or, with a token, saves or prints that). */
static int
report_write(const struct vfabctl *ctl, const struct args *a,
             const struct kind *k, const char *verb, json_t *j)
{
    const char *tok = json_string_value(json_object_get(j, "token"));
    const char *file = opt(a, "token-file");
    int status = 0;
    if (tok && file) {
        status = save_token(file, tok);
        json_object_del(j, "token");
    }
    if (json_mode(ctl, a)) {
        print_json(j);
    } else {
        printf("%s %s '%s' (version %lld)\n", verb, k->singular,
               json_string_value(json_object_get(j, "name")),
               (long long) json_integer_value(json_object_get(j, "version")));
        if (tok && !file) {
            printf("token: %s\n", tok);
        } else if (tok) {
            printf("token written to %s\n", file);
        }
    }
    return status;
}

int
cmd_policy_create(struct vfabctl *ctl, int argc, char **argv)
{
    const struct kind *k = kind_of_command(argv[0]);
    size_t ki = k ? (size_t) (k - kinds) : 0;
    struct args a;
    if (!k || parse_args(argc, argv, NULL, &a)
        || !check_opts(argv[0], &a, create_opts[ki]) || a.n_pos != 1) {
        fprintf(stderr, "usage: vfabctl %s %s\n", argv[0],
                k ? create_usage[ki] : "");
        return 1;
    }
    json_t *body = json_object();
    json_object_set_new(body, "name", json_string(a.pos[0]));
    if (!body_from_opts(k, &a, body)) {
        json_decref(body);
        return 1;
    }
    char *path = vf_xasprintf("/v1/%s", k->plural);
    json_t *j;
    int status = call(ctl, "POST", path, body, &j);
    free(path);
    if (!status) {
        status = report_write(ctl, &a, k, "created", j);
        json_decref(j);
    }
    return status;
}

int
cmd_policy_set(struct vfabctl *ctl, int argc, char **argv)
{
    const struct kind *k = kind_of_command(argv[0]);
    size_t ki = k ? (size_t) (k - kinds) : 0;
    struct args a;
    static const char *const flags[] = {"unplace", NULL};
    if (!k || parse_args(argc, argv, flags, &a)
        || !check_opts(argv[0], &a, set_opts[ki]) || a.n_pos != 1
        || !a.n_opts) {
        fprintf(stderr, "usage: vfabctl %s NAME --FIELD VALUE...\n",
                argv[0]);
        return 1;
    }
    json_t *body = json_object();
    if (!body_from_opts(k, &a, body)) {
        json_decref(body);
        return 1;
    }
    char *path = object_path(k->plural, a.pos[0], NULL);
    json_t *j;
    int status = call(ctl, "PATCH", path, body, &j);
    free(path);
    if (!status) {
        status = report_write(ctl, &a, k, "updated", j);
        json_decref(j);
    }
    return status;
}

/* ---- Hosts. ---- */

int
cmd_host_token(struct vfabctl *ctl, int argc, char **argv)
{
    struct args a;
    static const char *const known[] = {"token-file", NULL};
    if (parse_args(argc, argv, NULL, &a) || !check_opts(argv[0], &a, known)
        || a.n_pos != 1) {
        fprintf(stderr, "usage: vfabctl host-token HOST [--token-file "
                "PATH]\n");
        return 1;
    }
    char *path = object_path("hosts", a.pos[0], "/token");
    json_t *j;
    int status = call(ctl, "POST", path, NULL, &j);
    free(path);
    if (!status) {
        status = report_write(ctl, &a, &kinds[2], "new token for", j);
        json_decref(j);
    }
    return status;
}

int
cmd_host_vnics(struct vfabctl *ctl, int argc, char **argv)
{
    struct args a;
    if (parse_args(argc, argv, NULL, &a) || !check_opts(argv[0], &a, NULL)
        || a.n_pos != 1) {
        fprintf(stderr, "usage: vfabctl host-vnics HOST\n");
        return 1;
    }
    char *path = object_path("hosts", a.pos[0], "/vnics");
    json_t *j;
    int status = call(ctl, "GET", path, NULL, &j);
    free(path);
    if (status) {
        return status;
    }
    if (json_mode(ctl, &a)) {
        print_json(j);
    } else {
        /* Flatten {"vnic": {...}, "vni", "tenant"} for the table. */
        json_t *rows = json_array();
        size_t i;
        json_t *v;
        json_array_foreach (json_object_get(j, "vnics"), i, v) {
            json_t *row = json_deep_copy(json_object_get(v, "vnic"));
            json_object_set(row, "vni", json_object_get(v, "vni"));
            json_object_set(row, "tenant", json_object_get(v, "tenant"));
            json_array_append_new(rows, row);
        }
        static const struct column cols[] = {
            {"name", "NAME"}, {"tenant", "TENANT"}, {"network", "NETWORK"},
            {"vni", "VNI"}, {"mac", "MAC"}, {"ips", "IPS"},
            {"security_groups", "GROUPS"},
        };
        print_table(rows, cols, sizeof cols / sizeof cols[0]);
        json_decref(rows);
    }
    json_decref(j);
    return 0;
}

/* ---- Translations, changes, status, raw calls. ---- */

int
cmd_translate(struct vfabctl *ctl, int argc, char **argv)
{
    struct args a;
    static const char *const known[] = {"protocol", "port", NULL};
    if (parse_args(argc, argv, NULL, &a) || !check_opts(argv[0], &a, known)
        || a.n_pos < 2) {
        fprintf(stderr, "usage: vfabctl translate SRC_VNIC DST_MAC|DST_IP..."
                " [--protocol P [--port N]]\n");
        return 1;
    }
    json_t *reqs = json_array();
    for (int i = 1; i < a.n_pos; i++) {
        json_t *r = json_object();
        json_object_set_new(r, "src_vnic", json_string(a.pos[0]));
        bool is_mac = strlen(a.pos[i]) == 17 && a.pos[i][2] == ':'
                      && a.pos[i][5] == ':' && a.pos[i][8] == ':';
        json_object_set_new(r, is_mac ? "dst_mac" : "dst_ip",
                            json_string(a.pos[i]));
        const char *v;
        if ((v = opt(&a, "protocol"))) {
            json_object_set_new(r, "protocol", json_string(v));
        }
        if ((v = opt(&a, "port")) && !set_int(r, "dst_port", v)) {
            json_decref(r);
            json_decref(reqs);
            return 1;
        }
        json_array_append_new(reqs, r);
    }
    json_t *body = json_object();
    json_object_set_new(body, "requests", reqs);
    json_t *j;
    int status = call(ctl, "POST", "/v1/translate", body, &j);
    if (status) {
        return status;
    }
    if (json_mode(ctl, &a)) {
        print_json(j);
    } else {
        json_t *rows = json_object_get(j, "results");
        size_t i;
        json_t *r;
        json_array_foreach (rows, i, r) {
            json_object_set(r, "dst", json_object_get(r, json_object_get(
                                                             r, "dst_ip")
                                                             ? "dst_ip"
                                                             : "dst_mac"));
        }
        static const struct column cols[] = {
            {"src_vnic", "SRC"},       {"dst", "DST"},
            {"status", "STATUS"},      {"verdict", "VERDICT"},
            {"dst_vnic", "DST_VNIC"},  {"vni", "VNI"},
            {"dst_host", "HOST"},      {"underlay_ip", "UNDERLAY_IP"},
        };
        print_table(rows, cols, sizeof cols / sizeof cols[0]);
    }
    json_decref(j);
    return 0;
}

/* A record's string field, or 'dflt' if absent (a host token's feed may
 * carry bare {"version": V} records). */
static const char *
str_or(const json_t *v, const char *dflt)
{
    const char *s = json_string_value(v);
    return s ? s : dflt;
}

int
cmd_changes(struct vfabctl *ctl, int argc, char **argv)
{
    struct args a;
    static const char *const known[] = {"since", "wait", "follow", NULL};
    static const char *const flags[] = {"follow", NULL};
    if (parse_args(argc, argv, flags, &a) || !check_opts(argv[0], &a, known)
        || a.n_pos) {
        fprintf(stderr, "usage: vfabctl changes [--since VERSION] [--wait "
                "SECONDS] [--follow]\n");
        return 1;
    }
    const char *since_s = opt(&a, "since");
    const char *wait_s = opt(&a, "wait");
    bool follow = opt(&a, "follow") != NULL;
    char *end;
    unsigned long long since = since_s ? strtoull(since_s, &end, 10) : 0;
    if (since_s && (*end || !*since_s)) {
        fprintf(stderr, "vfabctl changes: bad --since '%s'\n", since_s);
        return 1;
    }
    do {
        char path[128];
        snprintf(path, sizeof path, "/v1/changes?since=%llu&timeout=%s",
                 since, wait_s ? wait_s : follow ? "30" : "0");
        json_t *j;
        int status = call(ctl, "GET", path, NULL, &j);
        if (status) {
            return status;
        }
        size_t i;
        json_t *c;
        json_array_foreach (json_object_get(j, "changes"), i, c) {
            if (json_mode(ctl, &a)) {
                char *s = json_dumps(c, JSON_COMPACT | JSON_PRESERVE_ORDER);
                puts(s);
                free(s);
            } else {
                printf("%lld %s %s %s\n",
                       (long long) json_integer_value(
                           json_object_get(c, "version")),
                       str_or(json_object_get(c, "op"), "(withheld)"),
                       str_or(json_object_get(c, "kind"), "-"),
                       str_or(json_object_get(c, "name"), "-"));
            }
        }
        if (!follow && !json_mode(ctl, &a)) {
            printf("version %lld\n",
                   (long long) json_integer_value(json_object_get(j,
                                                                  "next")));
        }
        since = (unsigned long long) json_integer_value(json_object_get(j,
                                                                  "next"));
        json_decref(j);
        fflush(stdout);
    } while (follow);
    return 0;
}

int
cmd_server_status(struct vfabctl *ctl, int argc, char **argv)
{
    struct args a;
    if (parse_args(argc, argv, NULL, &a) || a.n_pos || a.n_opts) {
        fprintf(stderr, "usage: vfabctl server-status\n");
        return 1;
    }
    json_t *j;
    int status = call(ctl, "GET", "/healthz", NULL, &j);
    if (!status) {
        json_mode(ctl, &a) ? print_json(j) : print_fields(j);
        json_decref(j);
    }
    return status;
}

int
cmd_api(struct vfabctl *ctl, int argc, char **argv)
{
    struct args a;
    if (parse_args(argc, argv, NULL, &a) || a.n_opts || a.n_pos < 2
        || a.n_pos > 3) {
        fprintf(stderr, "usage: vfabctl api METHOD PATH [JSON]\n");
        return 1;
    }
    json_t *body = NULL;
    if (a.n_pos == 3) {
        json_error_t jerr;
        body = json_loads(a.pos[2], 0, &jerr);
        if (!body) {
            fprintf(stderr, "vfabctl api: bad JSON: %s\n", jerr.text);
            return 1;
        }
    }
    json_t *j;
    int status = call(ctl, a.pos[0], a.pos[1], body, &j);
    if (!status) {
        print_json(j);
        json_decref(j);
    }
    return status;
}
