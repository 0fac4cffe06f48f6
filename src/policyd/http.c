/* SPDX-License-Identifier: Apache-2.0 */
/* vfab-policyd's HTTP front end: theory of operation.
 *
 * libmicrohttpd runs in "external epoll" mode inside our own loop (no MHD
 * threads), so the model, the store and the API are used by one thread
 * only and need no locks (STYLE.md P12: run/wait):
 *
 *     loop: poll(MHD's epoll fd, stop fd; timeout = min(MHD's timeout,
 *                earliest long-poll deadline))
 *           MHD_run()          → on_request() for each ready request
 *           wake_waiters()     → resume long-polls whose version moved or
 *                                whose deadline passed
 *
 * A request arrives in calls to on_request(): the first with headers only
 * (we allocate a struct conn and note the start time), then one per body
 * chunk (appended up to max_body; beyond it the body is dropped and the
 * answer is 413), then a last call with no data, where the request is
 * handed to policy_api_handle() and the answer queued.  A long-poll that
 * has nothing to say is suspended (MHD_suspend_connection) and parked in
 * 'waiters'; when it is resumed MHD calls on_request() again and the API
 * answers it (with the new changes, or an empty list at its deadline), or
 * parks it again (a host token woken by changes it may not see), keeping
 * its first deadline.
 * MHD keeps the request's headers and arguments while it is suspended, so
 * the parked request needs no copies.
 *
 * Every finished request (MHD's completion callback) is counted in the
 * metrics with its endpoint, method, status and duration. */
#include "http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <microhttpd.h>

#include "metrics.h"
#include "policy/policy-api.h"
#include "util/buf.h"
#include "util/jsonw.h"
#include "util/log.h"
#include "util/vtime.h"

VF_LOG_MODULE(http);

#define HTTP_MAX_ARGS 32
#define HTTP_CONN_MEMORY (64 * 1024)  /* Headers + query per connection. */
#define HTTP_CONN_TIMEOUT_S 120       /* Idle; > the longest long-poll. */

struct conn {
    struct MHD_Connection *mc;
    int64_t start_ns;
    const char *endpoint;       /* Static (policy_api_endpoint()). */
    char method[8];             /* For metrics (truncated). */
    struct vf_buf body;
    bool too_large;
    int status;                 /* Queued status (0: none yet). */
    bool parked;                /* Suspended in 'waiters'. */
    bool final;                 /* Resumed by its deadline. */
    uint64_t wait_version;
    int64_t deadline_ns;        /* Monotonic. */
};

struct http_server {
    struct MHD_Daemon *mhd;
    struct policy_api *api;
    struct policyd_metrics *metrics;
    size_t max_body;
    uint16_t port;
    int listen_fd;
    struct conn **waiters;
    size_t n_waiters;
    size_t cap_waiters;
};

/* ---- Responses. ---- */

static enum MHD_Result
queue(struct conn *c, int status, char *body, size_t size,
      const char *content_type, const char *allow)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(
        size, body, MHD_RESPMEM_MUST_FREE);
    if (!r) {
        free(body);
        return MHD_NO;
    }
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, content_type);
    MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    if (allow) {
        MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, allow);
    }
    if (status == 401) {
        MHD_add_response_header(r, MHD_HTTP_HEADER_WWW_AUTHENTICATE,
                                "Bearer realm=\"vfab-policyd\"");
    }
    enum MHD_Result ret = MHD_queue_response(c->mc, (unsigned int) status, r);
    MHD_destroy_response(r);
    c->status = status;
    return ret;
}

static enum MHD_Result VF_PRINTF(4, 5)
queue_error(struct conn *c, int status, const char *field, const char *fmt,
            ...)
{
    struct vf_buf msg = VF_BUF_INITIALIZER, b = VF_BUF_INITIALIZER;
    va_list args;
    va_start(args, fmt);
    vf_buf_vprintf(&msg, fmt, args);
    va_end(args);
    struct vf_jw w;
    vf_jw_init(&w, &b);
    vf_jw_obj_begin(&w);
    vf_jw_kstr(&w, "error", vf_buf_cstr(&msg));
    if (field) {
        vf_jw_kstr(&w, "field", field);
    }
    vf_jw_ku64(&w, "status", (uint64_t) status);
    vf_jw_obj_end(&w);
    vf_buf_uninit(&msg);
    size_t len = b.len;
    return queue(c, status, vf_buf_steal(&b), len, "application/json", NULL);
}

/* ---- Requests. ---- */

struct args {
    struct policy_api_arg args[HTTP_MAX_ARGS];
    size_t n;
    bool overflow;
};

static enum MHD_Result
collect_arg(void *aux, enum MHD_ValueKind kind, const char *key,
            const char *value)
{
    struct args *a = aux;
    (void) kind;
    if (a->n == HTTP_MAX_ARGS) {
        a->overflow = true;
        return MHD_NO;
    }
    a->args[a->n].key = key;
    a->args[a->n].value = value ? value : "";
    a->n++;
    return MHD_YES;
}

static void
park(struct http_server *s, struct conn *c,
     const struct policy_api_response *resp, int64_t now_wall_ms)
{
    if (s->n_waiters == s->cap_waiters) {
        s->cap_waiters = s->cap_waiters ? 2 * s->cap_waiters : 16;
        s->waiters = vf_xrealloc(s->waiters,
                                 s->cap_waiters * sizeof *s->waiters);
    }
    s->waiters[s->n_waiters++] = c;
    c->parked = true;
    c->wait_version = resp->wait_version;
    /* Parked again (a host token's long-poll woken by writes it may not
     * see): the first deadline stands. */
    if (!c->deadline_ns) {
        c->deadline_ns = vf_time_monotonic_ns()
                         + (resp->wait_until_ms - now_wall_ms)
                               * VF_NSEC_PER_MSEC;
    }
    MHD_suspend_connection(c->mc);
}

static enum MHD_Result
serve_metrics(struct http_server *s, struct conn *c, const char *method)
{
    if (strcmp(method, "GET")) {
        return queue_error(c, 405, NULL, "only GET on /metrics");
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(
        s->mhd, MHD_DAEMON_INFO_CURRENT_CONNECTIONS);
    policyd_metrics_set_gauges(s->metrics,
                               info ? info->num_connections : 0,
                               s->n_waiters);
    struct vf_buf b = VF_BUF_INITIALIZER;
    policyd_metrics_format(s->metrics, s->api, &b);
    size_t len = b.len;
    return queue(c, 200, vf_buf_steal(&b), len,
                 "text/plain; version=0.0.4; charset=utf-8", NULL);
}

static enum MHD_Result
serve(struct http_server *s, struct conn *c, const char *url,
      const char *method)
{
    if (c->too_large) {
        return queue_error(c, 413, "body", "body: larger than %zu bytes",
                           s->max_body);
    }
    if (!strcmp(url, "/metrics")) {
        return serve_metrics(s, c, method);
    }
    struct args a = {.n = 0};
    MHD_get_connection_values(c->mc, MHD_GET_ARGUMENT_KIND, collect_arg, &a);
    if (a.overflow) {
        return queue_error(c, 400, NULL, "more than %d query arguments",
                           HTTP_MAX_ARGS);
    }
    int64_t now_wall_ms = vf_time_wall_ms();
    struct policy_api_request req = {
        .method = method,
        .path = url,
        .args = a.args,
        .n_args = a.n,
        .authorization = MHD_lookup_connection_value(
            c->mc, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION),
        .content_type = MHD_lookup_connection_value(
            c->mc, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE),
        .body = c->body.data,
        .body_size = c->body.len,
        .now_ms = now_wall_ms,
        .final = c->final,
    };
    struct policy_api_response resp;
    policy_api_handle(s->api, &req, &resp);
    if (resp.wait) {
        park(s, c, &resp, now_wall_ms);
        return MHD_YES;
    }
    VF_LOG_DBG(http, "%s %s -> %d", method, url, resp.status);
    return queue(c, resp.status, resp.body, resp.body_size,
                 "application/json", resp.allow);
}

static enum MHD_Result
on_request(void *s_, struct MHD_Connection *mc, const char *url,
           const char *method, const char *version, const char *upload_data,
           size_t *upload_data_size, void **con_cls)
{
    struct http_server *s = s_;
    struct conn *c = *con_cls;
    (void) version;
    if (!c) {
        c = vf_xcalloc(1, sizeof *c);
        c->mc = mc;
        c->start_ns = vf_time_monotonic_ns();
        c->endpoint = policy_api_endpoint(url);
        snprintf(c->method, sizeof c->method, "%s", method);
        *con_cls = c;
        return MHD_YES;
    }
    if (*upload_data_size) {
        if (!c->too_large) {
            if (c->body.len + *upload_data_size > s->max_body) {
                c->too_large = true;
                vf_buf_uninit(&c->body);
            } else {
                vf_buf_put(&c->body, upload_data, *upload_data_size);
            }
        }
        *upload_data_size = 0;
        return MHD_YES;
    }
    return serve(s, c, url, method);
}

static void
unpark(struct http_server *s, size_t i)
{
    s->waiters[i]->parked = false;
    s->waiters[i] = s->waiters[--s->n_waiters];
}

static void
on_completed(void *s_, struct MHD_Connection *mc, void **con_cls,
             enum MHD_RequestTerminationCode toe)
{
    struct http_server *s = s_;
    struct conn *c = *con_cls;
    (void) mc;
    if (!c) {
        return;
    }
    for (size_t i = 0; c->parked && i < s->n_waiters; i++) {
        if (s->waiters[i] == c) {
            unpark(s, i);
        }
    }
    /* 499 (as nginx): the client went away before an answer. */
    int status = c->status && toe == MHD_REQUEST_TERMINATED_COMPLETED_OK
                     ? c->status
                     : 499;
    policyd_metrics_record(s->metrics, c->endpoint, c->method, status,
                           vf_time_monotonic_ns() - c->start_ns);
    vf_buf_uninit(&c->body);
    free(c);
    *con_cls = NULL;
}

/* Resumes the long-polls that have something to say or whose time is up
 * ('*resumed' tells if any was); returns the earliest remaining deadline
 * (INT64_MAX if none). */
static int64_t
wake_waiters(struct http_server *s, bool *resumed)
{
    uint64_t version = policy_api_version(s->api);
    int64_t now = vf_time_monotonic_ns();
    int64_t next = INT64_MAX;
    for (size_t i = 0; i < s->n_waiters;) {
        struct conn *c = s->waiters[i];
        if (version > c->wait_version || now >= c->deadline_ns) {
            c->final = version <= c->wait_version;
            unpark(s, i);
            MHD_resume_connection(c->mc);
            *resumed = true;
        } else {
            next = VF_MIN(next, c->deadline_ns);
            i++;
        }
    }
    return next;
}

/* ---- Set-up. ---- */

static void
mhd_log(void *aux, const char *fmt, va_list ap)
{
    char msg[512];
    (void) aux;
    vsnprintf(msg, sizeof msg, fmt, ap);
    msg[strcspn(msg, "\n")] = '\0';
    VF_LOG_WARN_RL(http, "libmicrohttpd: %s", msg);
}

/* Parses "A.B.C.D:PORT" or "[V6]:PORT" into 'ss'. */
static int
parse_listen(const char *s, struct sockaddr_storage *ss, socklen_t *len)
{
    char host[64];
    const char *colon = strrchr(s, ':');
    if (!colon || colon == s || strlen(colon + 1) > 5 || !colon[1]) {
        return -EINVAL;
    }
    char *end;
    unsigned long port = strtoul(colon + 1, &end, 10);
    if (*end || port > 65535) {
        return -EINVAL;
    }
    size_t hlen = (size_t) (colon - s);
    if (s[0] == '[') {
        if (hlen < 3 || s[hlen - 1] != ']' || hlen - 2 >= sizeof host) {
            return -EINVAL;
        }
        memcpy(host, s + 1, hlen - 2);
        host[hlen - 2] = '\0';
        struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *) ss;
        memset(ss, 0, sizeof *ss);
        sin6->sin6_family = AF_INET6;
        sin6->sin6_port = htons((uint16_t) port);
        *len = sizeof *sin6;
        return inet_pton(AF_INET6, host, &sin6->sin6_addr) == 1 ? 0 : -EINVAL;
    }
    if (hlen >= sizeof host) {
        return -EINVAL;
    }
    memcpy(host, s, hlen);
    host[hlen] = '\0';
    struct sockaddr_in *sin = (struct sockaddr_in *) ss;
    memset(ss, 0, sizeof *ss);
    sin->sin_family = AF_INET;
    sin->sin_port = htons((uint16_t) port);
    *len = sizeof *sin;
    return inet_pton(AF_INET, host, &sin->sin_addr) == 1 ? 0 : -EINVAL;
}

static int
open_listener(const char *listen_s, uint16_t *port, char **errp)
{
    struct sockaddr_storage ss;
    socklen_t len;
    if (parse_listen(listen_s, &ss, &len)) {
        *errp = vf_xasprintf("--listen '%s': expected ADDR:PORT or "
                             "[V6ADDR]:PORT", listen_s);
        return -EINVAL;
    }
    int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one)
        || bind(fd, (struct sockaddr *) &ss, len) || listen(fd, 128)) {
        int error = errno;
        *errp = vf_xasprintf("cannot listen on %s: %s", listen_s,
                             strerror(error));
        if (fd >= 0) {
            close(fd);
        }
        return -error;
    }
    len = sizeof ss;
    getsockname(fd, (struct sockaddr *) &ss, &len);
    *port = ntohs(ss.ss_family == AF_INET6
                      ? ((struct sockaddr_in6 *) &ss)->sin6_port
                      : ((struct sockaddr_in *) &ss)->sin_port);
    return fd;
}

struct http_server *
http_server_create(const struct http_config *cfg, struct policy_api *api,
                   struct policyd_metrics *metrics, char **errp)
{
    struct http_server *s = vf_xcalloc(1, sizeof *s);
    s->api = api;
    s->metrics = metrics;
    s->max_body = cfg->max_body ? cfg->max_body : 1024 * 1024;
    s->listen_fd = open_listener(cfg->listen, &s->port, errp);
    if (s->listen_fd < 0) {
        free(s);
        return NULL;
    }
    unsigned int flags = MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME
                         | MHD_USE_ERROR_LOG;
    if (cfg->listen[0] == '[') {
        flags |= MHD_USE_IPv6;
    }
    bool tls = cfg->tls_cert_pem && cfg->tls_key_pem;
    if (tls) {
        flags |= MHD_USE_TLS;
    }
    unsigned int max_conns = cfg->max_connections ? cfg->max_connections
                                                  : 1000;
    /* The logger first, so that it sees every message; TLS options only
     * with TLS (MHD complains otherwise). */
    struct MHD_OptionItem tls_opts[] = {
        {MHD_OPTION_HTTPS_MEM_KEY, 0, (void *) cfg->tls_key_pem},
        {MHD_OPTION_HTTPS_MEM_CERT, 0, (void *) cfg->tls_cert_pem},
        {MHD_OPTION_END, 0, NULL},
    };
    struct MHD_OptionItem no_opts[] = {{MHD_OPTION_END, 0, NULL}};
    s->mhd = MHD_start_daemon(
        flags, 0, NULL, NULL, on_request, s,
        MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
        MHD_OPTION_LISTEN_SOCKET, s->listen_fd,
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
        MHD_OPTION_CONNECTION_LIMIT, max_conns,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int) HTTP_CONN_TIMEOUT_S,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t) HTTP_CONN_MEMORY,
        MHD_OPTION_ARRAY, tls ? tls_opts : no_opts,
        MHD_OPTION_END);
    if (!s->mhd) {
        *errp = vf_xasprintf("cannot start the HTTP server on %s%s",
                             cfg->listen, tls ? " (check the TLS key and "
                                                "certificate)"
                                              : "");
        close(s->listen_fd);
        free(s);
        return NULL;
    }
    return s;
}

uint16_t
http_server_port(const struct http_server *s)
{
    return s->port;
}

int
http_server_run(struct http_server *s, int stop_fd)
{
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(
        s->mhd, MHD_DAEMON_INFO_EPOLL_FD);
    int epfd = info->epoll_fd;
    for (;;) {
        bool resumed = false;
        int64_t next = wake_waiters(s, &resumed);
        int timeout = -1;
        MHD_UNSIGNED_LONG_LONG mhd_ms;
        if (resumed) {
            /* MHD takes resumed connections back only inside MHD_run(). */
            timeout = 0;
        } else if (MHD_get_timeout(s->mhd, &mhd_ms) == MHD_YES) {
            timeout = mhd_ms > INT_MAX ? INT_MAX : (int) mhd_ms;
        }
        if (next != INT64_MAX) {
            int64_t ms = (next - vf_time_monotonic_ns()) / VF_NSEC_PER_MSEC
                         + 1;
            ms = VF_MAX(ms, 0);
            if (timeout < 0 || ms < timeout) {
                timeout = (int) VF_MIN(ms, INT_MAX);
            }
        }
        struct pollfd p[2] = {{.fd = epfd, .events = POLLIN},
                              {.fd = stop_fd, .events = POLLIN}};
        if (poll(p, 2, timeout) < 0 && errno != EINTR) {
            VF_LOG_ERR(http, "poll: %s", strerror(errno));
            return -errno;
        }
        if (p[1].revents) {
            return 0;
        }
        MHD_run(s->mhd);
    }
}

void
http_server_destroy(struct http_server *s)
{
    if (!s) {
        return;
    }
    /* Answer every parked long-poll (empty) before stopping: MHD must
     * not be stopped with suspended connections. */
    while (s->n_waiters) {
        struct conn *c = s->waiters[0];
        c->final = true;
        unpark(s, 0);
        MHD_resume_connection(c->mc);
    }
    MHD_run(s->mhd);
    MHD_stop_daemon(s->mhd);
    close(s->listen_fd);
    free(s->waiters);
    free(s);
}
