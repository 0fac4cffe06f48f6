/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of ctl/ctl-server and ctl/ctl-client (and util/poll-loop):
 * socket creation rules (0700 directory, 0600 socket, lock, stale socket,
 * refusal when owned), calls, and every way a client can misbehave: half
 * a message, stalling, oversized messages, too many clients, pipelining,
 * not reading replies.  The server runs its run/wait loop in a thread;
 * the test thread plays the clients. */
#include "harness.h"

#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/socket.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "ctl/ctl-client.h"
#include "ctl/ctl-command.h"
#include "ctl/ctl-server.h"
#include "ctl/jsonrpc.h"
#include "util/buf.h"
#include "util/poll-loop.h"
#include "util/vtime.h"

static char tmpdir[64];

static void
make_tmpdir(void)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/ctl-unit.XXXXXX");
    CHECK(mkdtemp(tmpdir) != NULL);
}

static void
remove_tree(const char *dir)
{
    char *cmd = vf_xasprintf("rm -rf '%s'", dir);
    int rc = system(cmd);
    (void) rc;
    free(cmd);
}

/* Echo command: returns its arguments; "big N" returns N bytes. */
static int
echo_cmd(const struct ctl_request *req, void *aux, json_t **resultp,
         char **errp)
{
    (void) aux;
    (void) errp;
    if (req->n_args == 2 && !strcmp(req->args[0], "big")) {
        size_t n = (size_t) atol(req->args[1]);
        char *s = vf_xmalloc(n + 1);
        memset(s, 'x', n);
        s[n] = '\0';
        *resultp = json_string(s);
        free(s);
        return 0;
    }
    json_t *a = json_array();
    for (size_t i = 0; i < req->n_args; i++) {
        json_array_append_new(a, json_string(req->args[i]));
    }
    *resultp = a;
    return 0;
}

struct server_thread {
    struct ctl_server *server;
    atomic_bool stop;
    atomic_uint n_loops;            /* Loop iterations (spin detector). */
    pthread_t thread;
};

static void *
server_main(void *st_)
{
    struct server_thread *st = st_;
    struct vf_poll_loop loop;
    vf_poll_loop_init(&loop);
    while (!atomic_load(&st->stop)) {
        atomic_fetch_add(&st->n_loops, 1);
        ctl_server_run(st->server);
        ctl_server_wait(st->server, &loop);
        vf_poll_timer_wait(&loop, 20);
        vf_poll_block(&loop);
    }
    vf_poll_loop_uninit(&loop);
    return NULL;
}

static void
server_start(struct server_thread *st, const char *path,
             const struct ctl_server_options *opts)
{
    char *err = NULL;
    ctl_command_unregister_all();
    CHECK_EQ_I(ctl_command_register("test/echo", "[ARG...]", 0, 8, echo_cmd,
                                    NULL), 0);
    int rc = ctl_server_create(path, opts, &st->server, &err);
    if (rc) {
        fprintf(stderr, "  %s\n", err);
    }
    CHECK_EQ_I(rc, 0);
    atomic_init(&st->stop, false);
    atomic_init(&st->n_loops, 0);
    CHECK(!pthread_create(&st->thread, NULL, server_main, st));
}

static void
server_stop(struct server_thread *st)
{
    atomic_store(&st->stop, true);
    pthread_join(st->thread, NULL);
    ctl_server_destroy(st->server);
    ctl_command_unregister_all();
}

/* A raw blocking client with a 3 s receive timeout. */
static int
raw_connect(const char *path)
{
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_un sun = {.sun_family = AF_UNIX};
    snprintf(sun.sun_path, sizeof sun.sun_path, "%s", path);
    if (connect(fd, (struct sockaddr *) &sun, sizeof sun)) {
        close(fd);
        return -errno;
    }
    struct timeval tv = {.tv_sec = 3};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    return fd;
}

static void
raw_send(int fd, const char *s)
{
    size_t len = strlen(s);
    while (len) {
        ssize_t n = send(fd, s, len, MSG_NOSIGNAL);
        if (n <= 0) {
            return;
        }
        s += n;
        len -= (size_t) n;
    }
}

/* Reads one line (up to 'size' - 1 bytes).  Returns its length, 0 at EOF,
 * -1 on error or timeout. */
static ssize_t
raw_line(int fd, char *buf, size_t size)
{
    size_t n = 0;
    while (n + 1 < size) {
        ssize_t r = recv(fd, buf + n, 1, 0);
        if (r <= 0) {
            buf[n] = '\0';
            return r == 0 && n == 0 ? 0 : (r == 0 ? (ssize_t) n : -1);
        }
        if (buf[n] == '\n') {
            break;
        }
        n++;
    }
    buf[n] = '\0';
    return (ssize_t) n;
}

static int
line_error_code(const char *line)
{
    json_t *j = json_loads(line, 0, NULL);
    int code = (int) json_integer_value(
        json_object_get(json_object_get(j, "error"), "code"));
    json_decref(j);
    return code;
}

static void
test_create_rules(void)
{
    make_tmpdir();
    char *path = vf_xasprintf("%s/run/sub/ctl.sock", tmpdir);
    char *err = NULL;
    struct ctl_server *server, *second;
    struct stat st;

    CHECK_EQ_I(ctl_server_create(path, NULL, &server, &err), 0);
    char *dir = vf_xasprintf("%s/run/sub", tmpdir);
    CHECK(!stat(dir, &st) && (st.st_mode & 0777) == 0700);
    CHECK(!stat(path, &st) && S_ISSOCK(st.st_mode)
          && (st.st_mode & 0777) == 0600);
    char *lock = vf_xasprintf("%s.lock", path);
    CHECK(!stat(lock, &st) && (st.st_mode & 0777) == 0600);
    CHECK_STR(ctl_server_path(server), path);

    /* A second server on the same path is refused, naming the owner. */
    CHECK_EQ_I(ctl_server_create(path, NULL, &second, &err), -EADDRINUSE);
    char pid[32];
    snprintf(pid, sizeof pid, "(pid %ld)", (long) getpid());
    CHECK(strstr(err, "is in use by another process") && strstr(err, pid));
    free(err);
    err = NULL;
    CHECK(!stat(path, &st));           /* The refusal removed nothing. */

    ctl_server_destroy(server);
    CHECK(stat(path, &st) && errno == ENOENT);
    CHECK(stat(lock, &st) && errno == ENOENT);

    /* A stale socket (its daemon died) is replaced. */
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un sun = {.sun_family = AF_UNIX};
    snprintf(sun.sun_path, sizeof sun.sun_path, "%s", path);
    CHECK(!bind(fd, (struct sockaddr *) &sun, sizeof sun));
    close(fd);
    CHECK_EQ_I(ctl_server_create(path, NULL, &server, &err), 0);
    ctl_server_destroy(server);

    /* A live listener that does not use the lock is not stolen. */
    fd = socket(AF_UNIX, SOCK_STREAM, 0);
    CHECK(!bind(fd, (struct sockaddr *) &sun, sizeof sun) && !listen(fd, 1));
    CHECK_EQ_I(ctl_server_create(path, NULL, &server, &err), -EADDRINUSE);
    free(err);
    err = NULL;
    close(fd);
    unlink(path);

    /* Not a socket. */
    FILE *f = fopen(path, "w");
    fclose(f);
    CHECK_EQ_I(ctl_server_create(path, NULL, &server, &err), -EEXIST);
    CHECK(strstr(err, "is not a socket"));
    free(err);
    err = NULL;
    unlink(path);

    /* Too long, empty. */
    char longpath[300];
    memset(longpath, 'a', sizeof longpath - 1);
    longpath[0] = '/';
    longpath[sizeof longpath - 1] = '\0';
    CHECK_EQ_I(ctl_server_create(longpath, NULL, &server, &err),
               -ENAMETOOLONG);
    free(err);
    err = NULL;
    CHECK_EQ_I(ctl_server_create("", NULL, &server, &err), -EINVAL);
    free(err);

    free(lock);
    free(dir);
    free(path);
    remove_tree(tmpdir);
}

static void
test_calls(void)
{
    make_tmpdir();
    char *path = vf_xasprintf("%s/ctl.sock", tmpdir);
    struct server_thread st;
    server_start(&st, path, NULL);

    struct ctl_client *c;
    char *err = NULL;
    CHECK_EQ_I(ctl_client_open(path, 1000, &c, &err), 0);
    json_t *result;
    int code = 0;
    CHECK_EQ_I(ctl_client_call(c, "test/echo", json_pack("[s, s]", "a", "b"),
                               2000, &result, &code, &err), 0);
    CHECK_EQ_U(json_array_size(result), 2);
    json_decref(result);

    CHECK_EQ_I(ctl_client_call(c, "nope", NULL, 2000, &result, &code, &err),
               -EREMOTEIO);
    CHECK_EQ_I(code, JSONRPC_METHOD_NOT_FOUND);
    CHECK(strstr(err, "unknown command 'nope'"));
    free(err);
    err = NULL;

    /* A large reply (4 MiB) crosses intact. */
    CHECK_EQ_I(ctl_client_call(c, "test/echo",
                               json_pack("[s, s]", "big", "4194304"), 5000,
                               &result, &code, &err), 0);
    CHECK_EQ_U(json_string_length(result), 4194304);
    json_decref(result);
    ctl_client_close(c);

    /* No daemon. */
    char *nopath = vf_xasprintf("%s/none.sock", tmpdir);
    CHECK_EQ_I(ctl_client_open(nopath, 500, &c, &err), -ENOENT);
    CHECK(strstr(err, "is the daemon running?"));
    free(err);
    free(nopath);

    server_stop(&st);
    free(path);
    remove_tree(tmpdir);
}

static void
test_half_message_does_not_block(void)
{
    make_tmpdir();
    char *path = vf_xasprintf("%s/ctl.sock", tmpdir);
    struct ctl_server_options opts = {.stall_timeout_ms = 2000};
    struct server_thread st;
    server_start(&st, path, &opts);

    int slow = raw_connect(path);
    CHECK(slow >= 0);
    raw_send(slow, "{\"jsonrpc\":\"2.0\",\"method\":\"test/e");

    /* Others are served at once. */
    struct ctl_client *c;
    char *err = NULL;
    json_t *result;
    CHECK_EQ_I(ctl_client_open(path, 1000, &c, &err), 0);
    int64_t t0 = vf_time_monotonic_ns();
    for (int i = 0; i < 20; i++) {
        CHECK_EQ_I(ctl_client_call(c, "test/echo", NULL, 1000, &result, NULL,
                                   &err), 0);
        json_decref(result);
    }
    /* Well under the stall timeout: nobody waited for the slow one. */
    CHECK(vf_time_monotonic_ns() - t0 < 1500 * VF_NSEC_PER_MSEC);
    ctl_client_close(c);

    /* The slow one finishing in time gets its reply... */
    raw_send(slow, "cho\",\"id\":1}\n");
    char line[256];
    CHECK(raw_line(slow, line, sizeof line) > 0);
    CHECK(strstr(line, "\"result\":[]"));

    /* ...but stalling mid-message gets it dropped. */
    raw_send(slow, "{\"jsonrpc\":");
    CHECK_EQ_I(raw_line(slow, line, sizeof line), 0);   /* EOF. */
    close(slow);

    server_stop(&st);
    free(path);
    remove_tree(tmpdir);
}

static void
test_oversized_message(void)
{
    make_tmpdir();
    char *path = vf_xasprintf("%s/ctl.sock", tmpdir);
    struct ctl_server_options opts = {.max_msg_size = 1024};
    struct server_thread st;
    server_start(&st, path, &opts);

    int fd = raw_connect(path);
    char big[3000];
    memset(big, ' ', sizeof big);
    big[sizeof big - 1] = '\0';
    raw_send(fd, big);
    char line[512];
    CHECK(raw_line(fd, line, sizeof line) > 0);
    CHECK_EQ_I(line_error_code(line), JSONRPC_VF_TOO_LARGE);
    CHECK(strstr(line, "exceeds 1024 bytes"));
    CHECK(raw_line(fd, line, sizeof line) <= 0);        /* Closed. */
    close(fd);

    /* Exactly the limit is fine. */
    fd = raw_connect(path);
    struct vf_buf b = VF_BUF_INITIALIZER;
    vf_buf_puts(&b, "{\"jsonrpc\":\"2.0\",\"method\":\"test/echo\",\"id\":1,"
                    "\"params\":[\"");
    while (b.len < 1024 - 3) {
        vf_buf_putc(&b, 'y');
    }
    vf_buf_puts(&b, "\"]}");
    CHECK_EQ_U(b.len, 1024);
    vf_buf_putc(&b, '\n');
    raw_send(fd, b.data);
    vf_buf_uninit(&b);
    char reply[2048];
    CHECK(raw_line(fd, reply, sizeof reply) > 0);
    CHECK(strstr(reply, "\"result\""));
    close(fd);

    server_stop(&st);
    free(path);
    remove_tree(tmpdir);
}

static void
test_max_clients(void)
{
    make_tmpdir();
    char *path = vf_xasprintf("%s/ctl.sock", tmpdir);
    struct ctl_server_options opts = {.max_clients = 2};
    struct server_thread st;
    server_start(&st, path, &opts);

    int fds[2];
    char line[512];
    for (int i = 0; i < 2; i++) {
        fds[i] = raw_connect(path);
        raw_send(fds[i], "{\"jsonrpc\":\"2.0\",\"method\":\"test/echo\","
                         "\"id\":1}\n");
        CHECK(raw_line(fds[i], line, sizeof line) > 0);
    }
    int third = raw_connect(path);
    CHECK(raw_line(third, line, sizeof line) > 0);
    CHECK_EQ_I(line_error_code(line), JSONRPC_VF_BUSY);
    CHECK_EQ_I(raw_line(third, line, sizeof line), 0);
    close(third);

    /* A slot frees up when a client leaves. */
    close(fds[0]);
    bool served = false;
    for (int attempt = 0; attempt < 50 && !served; attempt++) {
        usleep(20000);
        int fd = raw_connect(path);
        raw_send(fd, "{\"jsonrpc\":\"2.0\",\"method\":\"test/echo\","
                     "\"id\":1}\n");
        served = raw_line(fd, line, sizeof line) > 0
                 && strstr(line, "\"result\"");
        close(fd);
    }
    CHECK(served);
    close(fds[1]);

    server_stop(&st);
    free(path);
    remove_tree(tmpdir);
}

static void
test_pipelined_clients(void)
{
    make_tmpdir();
    char *path = vf_xasprintf("%s/ctl.sock", tmpdir);
    struct server_thread st;
    server_start(&st, path, NULL);

    enum { N_CLIENTS = 16, N_REQS = 64 };
    int fds[N_CLIENTS];
    for (int c = 0; c < N_CLIENTS; c++) {
        fds[c] = raw_connect(path);
        struct vf_buf b = VF_BUF_INITIALIZER;
        for (int i = 0; i < N_REQS; i++) {
            vf_buf_printf(&b, "{\"jsonrpc\":\"2.0\",\"method\":\"test/echo\","
                          "\"params\":[\"%d\"],\"id\":%d}\n", c, i);
        }
        raw_send(fds[c], b.data);
        vf_buf_uninit(&b);
    }
    for (int c = 0; c < N_CLIENTS; c++) {
        for (int i = 0; i < N_REQS; i++) {
            char line[256], want[128];
            CHECK(raw_line(fds[c], line, sizeof line) > 0);
            snprintf(want, sizeof want, "\"result\":[\"%d\"],\"id\":%d}", c,
                     i);
            CHECK(strstr(line, want));
        }
        close(fds[c]);
    }
    server_stop(&st);
    free(path);
    remove_tree(tmpdir);
}

static void
test_client_not_reading(void)
{
    make_tmpdir();
    char *path = vf_xasprintf("%s/ctl.sock", tmpdir);
    struct ctl_server_options opts = {.stall_timeout_ms = 300};
    struct server_thread st;
    server_start(&st, path, &opts);

    /* Asks for 200 x 64 KiB and reads nothing. */
    int hog = raw_connect(path);
    int small = 4096;
    setsockopt(hog, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
    struct vf_buf b = VF_BUF_INITIALIZER;
    for (int i = 0; i < 200; i++) {
        vf_buf_printf(&b, "{\"jsonrpc\":\"2.0\",\"method\":\"test/echo\","
                      "\"params\":[\"big\",\"65536\"],\"id\":%d}\n", i);
    }
    raw_send(hog, b.data);
    vf_buf_uninit(&b);

    /* Others do not notice. */
    struct ctl_client *c;
    char *err = NULL;
    json_t *result;
    CHECK_EQ_I(ctl_client_open(path, 1000, &c, &err), 0);
    CHECK_EQ_I(ctl_client_call(c, "test/echo", NULL, 1000, &result, NULL,
                               &err), 0);
    json_decref(result);

    /* The hog is dropped once its backlog stalls. */
    usleep(800 * 1000);
    CHECK_EQ_I(ctl_client_call(c, "test/echo", NULL, 1000, &result, NULL,
                               &err), 0);
    json_decref(result);
    ctl_client_close(c);
    ssize_t total = 0, n;
    char buf[65536];
    while ((n = recv(hog, buf, sizeof buf, 0)) > 0) {
        total += n;
    }
    CHECK(total < 200 * 65536);      /* It never got everything. */
    close(hog);

    server_stop(&st);
    free(path);
    remove_tree(tmpdir);
}

/* Out of file descriptors, accept() fails while the listening socket
 * stays readable: the server must pause accepting, not spin, and recover
 * when fds come back. */
static void
test_out_of_fds_does_not_spin(void)
{
    make_tmpdir();
    char *path = vf_xasprintf("%s/ctl.sock", tmpdir);
    struct server_thread st;
    server_start(&st, path, NULL);

    struct rlimit old, low;
    CHECK(!getrlimit(RLIMIT_NOFILE, &old));
    int probe = dup(0);
    low = old;
    low.rlim_cur = (rlim_t) probe + 8;
    close(probe);
    CHECK(!setrlimit(RLIMIT_NOFILE, &low));
    int fds[64], n = 0;
    while (n < 64) {
        int fd = raw_connect(path);
        if (fd < 0) {
            break;                  /* EMFILE on our side. */
        }
        fds[n++] = fd;
    }
    CHECK(n > 0 && n < 64);
    usleep(100 * 1000);
    unsigned int before = atomic_load(&st.n_loops);
    usleep(500 * 1000);
    unsigned int loops = atomic_load(&st.n_loops) - before;
    CHECK(loops < 200);             /* ~25 timer wakeups + ~5 retries. */

    for (int i = 0; i < n; i++) {
        close(fds[i]);
    }
    CHECK(!setrlimit(RLIMIT_NOFILE, &old));
    struct ctl_client *c;
    char *err = NULL;
    json_t *result;
    CHECK_EQ_I(ctl_client_open(path, 1000, &c, &err), 0);
    CHECK_EQ_I(ctl_client_call(c, "test/echo", NULL, 2000, &result, NULL,
                               &err), 0);
    json_decref(result);
    ctl_client_close(c);
    server_stop(&st);
    free(path);
    remove_tree(tmpdir);
}

static void
test_poll_loop(void)
{
    struct vf_poll_loop loop;
    vf_poll_loop_init(&loop);
    int fds[2];
    CHECK(!pipe(fds));

    /* Timer only. */
    int64_t t0 = vf_time_monotonic_ns();
    vf_poll_timer_wait(&loop, 30);
    CHECK_EQ_I(vf_poll_block(&loop), 0);
    CHECK(vf_time_monotonic_ns() - t0 >= 30 * VF_NSEC_PER_MSEC);

    /* The earliest timer wins; an fd ready wakes at once. */
    CHECK_EQ_I(write(fds[1], "x", 1), 1);
    vf_poll_fd_wait(&loop, fds[0], POLLIN);
    vf_poll_fd_wait(&loop, fds[0], POLLIN);     /* Merged. */
    vf_poll_fd_wait(&loop, fds[1], POLLOUT);
    vf_poll_timer_wait(&loop, 10000);
    t0 = vf_time_monotonic_ns();
    CHECK_EQ_I(vf_poll_block(&loop), 2);
    CHECK(vf_time_monotonic_ns() - t0 < 1000 * VF_NSEC_PER_MSEC);
    CHECK(vf_poll_revents(&loop, fds[0]) & POLLIN);
    CHECK(vf_poll_revents(&loop, fds[1]) & POLLOUT);
    CHECK_EQ_I(vf_poll_revents(&loop, 12345), 0);

    /* Registrations are forgotten after a block; immediate wake. */
    vf_poll_immediate_wake(&loop);
    vf_poll_timer_wait(&loop, 10000);
    t0 = vf_time_monotonic_ns();
    CHECK_EQ_I(vf_poll_block(&loop), 0);
    CHECK(vf_time_monotonic_ns() - t0 < 1000 * VF_NSEC_PER_MSEC);
    CHECK_EQ_I(vf_poll_revents(&loop, fds[0]), 0);

    /* A deadline in the past, and a huge one that does not overflow. */
    vf_poll_timer_wait_until(&loop, 0);
    CHECK_EQ_I(vf_poll_block(&loop), 0);
    vf_poll_timer_wait(&loop, INT64_MAX);
    vf_poll_timer_wait(&loop, 1);
    CHECK_EQ_I(vf_poll_block(&loop), 0);

    close(fds[0]);
    close(fds[1]);
    vf_poll_loop_uninit(&loop);
}

static const struct test_case cases[] = {
    TEST(test_create_rules),
    TEST(test_calls),
    TEST(test_half_message_does_not_block),
    TEST(test_oversized_message),
    TEST(test_max_clients),
    TEST(test_pipelined_clients),
    TEST(test_client_not_reading),
    TEST(test_out_of_fds_does_not_spin),
    TEST(test_poll_loop),
};

TEST_MAIN(cases)
