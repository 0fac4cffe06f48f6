/* SPDX-License-Identifier: Apache-2.0 */
/* vfab-policyd: the policy server.
 *
 * Start-up: options → admin token (read, or created with a random token,
 * mode 0600) → store (SQLite file, migrated) → API (model and change log
 * loaded from the store) → HTTP listener → serve until SIGINT/SIGTERM.
 * Everything runs in the main thread (see the theory block in http.c). */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libgen.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "http.h"
#include "metrics.h"
#include "policy/policy-api.h"
#include "policy/store.h"
#include "util/buf.h"
#include "util/log.h"

VF_LOG_MODULE(policyd);

#define DEFAULT_LISTEN "127.0.0.1:8470"
#define DEFAULT_DB "/var/lib/vfab/policy.db"
#define DEFAULT_TOKEN_FILE "/etc/vfab/policyd-admin.token"
#define TOKEN_MAX 1024

struct options {
    const char *listen;
    const char *db;
    const char *token_file;
    const char *port_file;
    const char *tls_cert;
    const char *tls_key;
    const char *log_level;
    bool syslog;
    struct policy_api_config api;
    size_t max_body;
};

static void
usage(FILE *f)
{
    fprintf(f,
            "usage: vfab-policyd [OPTIONS]\n\n"
            "The vfab policy server: REST/JSON API over the logical model\n"
            "(tenants, networks, hosts, VNICs, policies), translations and\n"
            "the change feed.  See docs/rest-api.md.\n\n"
            "  --listen ADDR:PORT        listen address (default %s;\n"
            "                            [V6ADDR]:PORT for IPv6, port 0 for "
            "any)\n"
            "  --db PATH                 SQLite database (default %s;\n"
            "                            created if missing)\n"
            "  --admin-token-file PATH   admin token (default %s;\n"
            "                            created with a random token, mode "
            "0600)\n"
            "  --port-file PATH          write the bound port there\n"
            "  --tls-cert PEM --tls-key PEM   serve HTTPS\n"
            "  --lifetime SECONDS        lifetime of allowed translations "
            "(300)\n"
            "  --negative-lifetime SECONDS    of the others (30)\n"
            "  --change-retention N      change records kept (10000)\n"
            "  --max-batch N             translations per request (1024)\n"
            "  --max-body BYTES          request body limit (1048576)\n"
            "  --log-level LEVEL         err, warn, info (default), dbg\n"
            "  --syslog                  log to syslog instead of stderr\n"
            "  -h, --help                this help\n",
            DEFAULT_LISTEN, DEFAULT_DB, DEFAULT_TOKEN_FILE);
}

static bool
parse_size(const char *s, unsigned long long min, unsigned long long max,
           unsigned long long *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s || *end || s[0] == '-' || v < min || v > max) {
        return false;
    }
    *out = v;
    return true;
}

static int
parse_options(int argc, char **argv, struct options *o)
{
    enum {
        OPT_LISTEN = 256, OPT_DB, OPT_TOKEN, OPT_PORT_FILE, OPT_CERT,
        OPT_KEY, OPT_LIFETIME, OPT_NEG_LIFETIME, OPT_RETENTION, OPT_BATCH,
        OPT_BODY, OPT_LOG, OPT_SYSLOG,
    };
    static const struct option opts[] = {
        {"listen", required_argument, NULL, OPT_LISTEN},
        {"db", required_argument, NULL, OPT_DB},
        {"admin-token-file", required_argument, NULL, OPT_TOKEN},
        {"port-file", required_argument, NULL, OPT_PORT_FILE},
        {"tls-cert", required_argument, NULL, OPT_CERT},
        {"tls-key", required_argument, NULL, OPT_KEY},
        {"lifetime", required_argument, NULL, OPT_LIFETIME},
        {"negative-lifetime", required_argument, NULL, OPT_NEG_LIFETIME},
        {"change-retention", required_argument, NULL, OPT_RETENTION},
        {"max-batch", required_argument, NULL, OPT_BATCH},
        {"max-body", required_argument, NULL, OPT_BODY},
        {"log-level", required_argument, NULL, OPT_LOG},
        {"syslog", no_argument, NULL, OPT_SYSLOG},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int c;
    unsigned long long v;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case OPT_LISTEN:
            o->listen = optarg;
            break;
        case OPT_DB:
            o->db = optarg;
            break;
        case OPT_TOKEN:
            o->token_file = optarg;
            break;
        case OPT_PORT_FILE:
            o->port_file = optarg;
            break;
        case OPT_CERT:
            o->tls_cert = optarg;
            break;
        case OPT_KEY:
            o->tls_key = optarg;
            break;
        case OPT_LIFETIME:
        case OPT_NEG_LIFETIME:
            if (!parse_size(optarg, 1, 86400, &v)) {
                fprintf(stderr, "vfab-policyd: bad lifetime '%s' "
                        "(1..86400 s)\n", optarg);
                return -1;
            }
            *(c == OPT_LIFETIME ? &o->api.lifetime_s
                                : &o->api.negative_lifetime_s) =
                (uint32_t) v;
            break;
        case OPT_RETENTION:
            if (!parse_size(optarg, 16, 10000000, &v)) {
                fprintf(stderr, "vfab-policyd: bad --change-retention '%s' "
                        "(16..10000000)\n", optarg);
                return -1;
            }
            o->api.change_retention = v;
            break;
        case OPT_BATCH:
            if (!parse_size(optarg, 1, 65536, &v)) {
                fprintf(stderr, "vfab-policyd: bad --max-batch '%s' "
                        "(1..65536)\n", optarg);
                return -1;
            }
            o->api.max_batch = v;
            break;
        case OPT_BODY:
            if (!parse_size(optarg, 1024, 256u << 20, &v)) {
                fprintf(stderr, "vfab-policyd: bad --max-body '%s' "
                        "(1024..268435456)\n", optarg);
                return -1;
            }
            o->max_body = v;
            break;
        case OPT_LOG:
            if (vf_log_level_from_string(optarg) < 0) {
                fprintf(stderr, "vfab-policyd: bad --log-level '%s'\n",
                        optarg);
                return -1;
            }
            o->log_level = optarg;
            break;
        case OPT_SYSLOG:
            o->syslog = true;
            break;
        case 'h':
            usage(stdout);
            exit(0);
        default:
            usage(stderr);
            return -1;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "vfab-policyd: unexpected argument '%s'\n",
                argv[optind]);
        return -1;
    }
    if (!o->tls_cert != !o->tls_key) {
        fprintf(stderr, "vfab-policyd: --tls-cert and --tls-key go "
                "together\n");
        return -1;
    }
    return 0;
}

/* Creates the directory holding 'path' if it is missing (one level). */
static void
ensure_parent(const char *path, mode_t mode)
{
    char *copy = vf_xstrdup(path);
    const char *dir = dirname(copy);
    if (mkdir(dir, mode) == 0) {
        VF_LOG_INFO(policyd, "created directory %s", dir);
    }
    free(copy);
}

static int
create_token_file(const char *path, char **errp)
{
    unsigned char rnd[24];
    if (getrandom(rnd, sizeof rnd, 0) != (ssize_t) sizeof rnd) {
        *errp = vf_xasprintf("getrandom: %s", strerror(errno));
        return -EIO;
    }
    char token[2 * sizeof rnd + 2];
    for (size_t i = 0; i < sizeof rnd; i++) {
        snprintf(token + 2 * i, 3, "%02x", rnd[i]);
    }
    strcat(token, "\n");
    ensure_parent(path, 0700);
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        *errp = vf_xasprintf("cannot create %s: %s", path, strerror(errno));
        return -errno;
    }
    ssize_t n = write(fd, token, strlen(token));
    if (n != (ssize_t) strlen(token) || fsync(fd) || close(fd)) {
        *errp = vf_xasprintf("cannot write %s", path);
        return -EIO;
    }
    VF_LOG_INFO(policyd, "created admin token file %s (mode 0600)", path);
    return 0;
}

/* Reads the admin token from 'path', creating it if missing. */
static char *
load_admin_token(const char *path, char **errp)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT) {
        if (create_token_file(path, errp)) {
            return NULL;
        }
        fd = open(path, O_RDONLY | O_CLOEXEC);
    }
    if (fd < 0) {
        *errp = vf_xasprintf("cannot read %s: %s", path, strerror(errno));
        return NULL;
    }
    struct stat st;
    if (!fstat(fd, &st) && (st.st_mode & 077)) {
        VF_LOG_WARN(policyd, "%s is readable by others (mode %03o); "
                    "chmod 600 it", path, st.st_mode & 0777);
    }
    char buf[TOKEN_MAX + 1];
    ssize_t n = read(fd, buf, TOKEN_MAX);
    close(fd);
    if (n < 0) {
        *errp = vf_xasprintf("cannot read %s: %s", path, strerror(errno));
        return NULL;
    }
    buf[n] = '\0';
    buf[strcspn(buf, "\r\n")] = '\0';
    for (char *p = buf; *p; p++) {
        if (*p <= ' ' || *p > '~') {
            *errp = vf_xasprintf("%s: the token must be printable ASCII "
                                 "without spaces", path);
            return NULL;
        }
    }
    if (strlen(buf) < 16) {
        *errp = vf_xasprintf("%s: the token must have at least 16 "
                             "characters", path);
        return NULL;
    }
    return vf_xstrdup(buf);
}

static char *
read_file(const char *path, char **errp)
{
    FILE *f = fopen(path, "re");
    if (!f) {
        *errp = vf_xasprintf("cannot read %s: %s", path, strerror(errno));
        return NULL;
    }
    struct vf_buf b = VF_BUF_INITIALIZER;
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0 && b.len < (1 << 20)) {
        vf_buf_put(&b, chunk, n);
    }
    fclose(f);
    return vf_buf_steal(&b);
}

static int
write_port_file(const char *path, uint16_t port)
{
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "we");
    if (!f) {
        return -errno;
    }
    fprintf(f, "%u\n", port);
    if (fclose(f) || rename(tmp, path)) {
        return -errno;
    }
    return 0;
}

static int
stop_signals(void)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigprocmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);
    return signalfd(-1, &set, SFD_CLOEXEC);
}

int
main(int argc, char **argv)
{
    struct options o = {
        .listen = DEFAULT_LISTEN,
        .db = DEFAULT_DB,
        .token_file = DEFAULT_TOKEN_FILE,
        .log_level = "info",
    };
    if (parse_options(argc, argv, &o)) {
        return 2;
    }
    vf_log_open("vfab-policyd", o.syslog);
    vf_log_set_default_level(vf_log_level_from_string(o.log_level));

    int status = 1;
    char *err = NULL, *token = NULL, *cert = NULL, *key = NULL;
    struct policy_api *api = NULL;
    struct policyd_metrics *metrics = NULL;
    struct http_server *http = NULL;
    int sfd = stop_signals();

    if (!(token = load_admin_token(o.token_file, &err))) {
        goto out;
    }
    if (o.tls_cert && (!(cert = read_file(o.tls_cert, &err))
                       || !(key = read_file(o.tls_key, &err)))) {
        goto out;
    }
    if (strcmp(o.db, ":memory:") && !strchr(o.db, ':')) {
        ensure_parent(o.db, 0750);
    }
    struct store *store = store_open(o.db, &err);
    if (!store) {
        goto out;
    }
    o.api.admin_token = token;
    if (!(api = policy_api_create(store, &o.api, &err))) {
        goto out;
    }
    metrics = policyd_metrics_create();
    struct http_config hc = {
        .listen = o.listen,
        .max_body = o.max_body,
        .tls_cert_pem = cert,
        .tls_key_pem = key,
    };
    if (!(http = http_server_create(&hc, api, metrics, &err))) {
        goto out;
    }
    uint16_t port = http_server_port(http);
    if (o.port_file && write_port_file(o.port_file, port)) {
        err = vf_xasprintf("cannot write %s: %s", o.port_file,
                           strerror(errno));
        goto out;
    }
    VF_LOG_INFO(policyd, "listening on %.*s:%u (%s), model version %llu, "
                "store %s", (int) (strrchr(o.listen, ':') - o.listen),
                o.listen, port, cert ? "https" : "http",
                (unsigned long long) policy_api_version(api), o.db);
    status = http_server_run(http, sfd) ? 1 : 0;
    VF_LOG_INFO(policyd, "stopping");

out:
    if (err) {
        VF_LOG_ERR(policyd, "%s", err);
        free(err);
    }
    http_server_destroy(http);
    policy_api_destroy(api);
    policyd_metrics_destroy(metrics);
    free(token);
    free(cert);
    free(key);
    if (sfd >= 0) {
        close(sfd);
    }
    return status;
}
