/* SPDX-License-Identifier: Apache-2.0 */
/* Translations served by vfab-policyd per second, per core, batched.
 *
 * Model: one tenant, 10 networks of 100 VNICs each (1000 VNICs on 50
 * hosts, 4 security groups), 20 policies; requests pick a random source
 * VNIC and a random destination IP in the tenant (10 % in the source's
 * network, the rest routed), so every translation resolves, evaluates the
 * tenant's policies and returns a path.
 *
 *  1. In process: policy_api_handle() on POST /v1/translate bodies, JSON
 *     parsing and formatting included, no HTTP (pinned to CPU 1):
 *       policyd_api_xlate_per_s
 *  2. End to end: the vfab-policyd binary pinned to CPU 1, this process
 *     generating load on CPU 0 over C keep-alive connections (libcurl
 *     multi), each request one batch of B translations, for a few seconds
 *     per batch size.  The figure per core divides by the CPU time the
 *     server used (/proc/PID/stat), which is what "per core" means for a
 *     single-threaded server that may not be saturated by the generator:
 *       policyd_xlate_per_s          (wall clock, B = 64)
 *       policyd_xlate_per_core_s     (per server CPU second, B = 64)
 *       policyd_xlate_bN_per_core_s  (other batch sizes)
 *
 * Usage: bench-policyd [SECONDS_PER_RUN] (default 3). */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "bench-common.h"
#include "policy/policy-api.h"
#include "policy/policy-rest.h"
#include "policy/store.h"
#include "util/buf.h"
#include "util/random.h"
#include "util/vtime.h"

#define ADMIN "bench-admin-token-0123456789"
#define N_NETS 10
#define VNICS_PER_NET 100
#define N_HOSTS 50
#define N_BODIES 32
#define CONNECTIONS 4

static struct vf_random rng;

/* ---- The model, as requests (used by both parts). ---- */

typedef int submit_fn(void *aux, const char *method, const char *path,
                      const char *body);

static void
populate(submit_fn *submit, void *aux)
{
    struct vf_buf b = VF_BUF_INITIALIZER;
    VF_VERIFY(submit(aux, "POST", "/v1/tenants", "{\"name\":\"t\"}") == 201);
    for (int h = 0; h < N_HOSTS; h++) {
        vf_buf_clear(&b);
        vf_buf_printf(&b, "{\"name\":\"h%d\",\"underlay_ip\":"
                      "\"198.18.%d.%d\"}", h, h / 250, h % 250 + 1);
        VF_VERIFY(submit(aux, "POST", "/v1/hosts", vf_buf_cstr(&b)) == 201);
    }
    for (int n = 0; n < N_NETS; n++) {
        vf_buf_clear(&b);
        vf_buf_printf(&b, "{\"name\":\"n%d\",\"tenant\":\"t\",\"vni\":%d,"
                      "\"subnets\":[\"10.%d.0.0/16\"]}", n, 1000 + n, n);
        VF_VERIFY(submit(aux, "POST", "/v1/networks", vf_buf_cstr(&b))
                  == 201);
        for (int v = 0; v < VNICS_PER_NET; v++) {
            int id = n * VNICS_PER_NET + v;
            vf_buf_clear(&b);
            vf_buf_printf(&b, "{\"name\":\"v%d\",\"network\":\"n%d\","
                          "\"mac\":\"02:00:00:00:%02x:%02x\","
                          "\"ips\":[\"10.%d.0.%d\"],\"host\":\"h%d\","
                          "\"security_groups\":[\"g%d\"]}",
                          id, n, id >> 8, id & 0xff, n, v + 1, id % N_HOSTS,
                          id % 4);
            VF_VERIFY(submit(aux, "POST", "/v1/vnics", vf_buf_cstr(&b))
                      == 201);
        }
    }
    for (int p = 0; p < 20; p++) {
        vf_buf_clear(&b);
        vf_buf_printf(&b, "{\"name\":\"p%d\",\"tenant\":\"t\",\"action\":"
                      "\"%s\",\"priority\":%d,\"src\":{\"group\":\"g%d\"},"
                      "\"dst\":{\"network\":\"n%d\"},\"protocol\":\"tcp\","
                      "\"ports\":\"%d\"}", p, p % 3 ? "allow" : "deny",
                      100 + p, p % 4, p % N_NETS, 1000 + p);
        VF_VERIFY(submit(aux, "POST", "/v1/policies", vf_buf_cstr(&b))
                  == 201);
    }
    vf_buf_uninit(&b);
}

/* A translate body of 'batch' random requests. */
static char *
make_body(int batch)
{
    struct vf_buf b = VF_BUF_INITIALIZER;
    vf_buf_puts(&b, "{\"requests\":[");
    for (int i = 0; i < batch; i++) {
        int src = (int) vf_random_range(&rng, N_NETS * VNICS_PER_NET);
        int net = vf_random_range(&rng, 10) ? (int) vf_random_range(&rng,
                                                                    N_NETS)
                                            : src / VNICS_PER_NET;
        int v = (int) vf_random_range(&rng, VNICS_PER_NET);
        vf_buf_printf(&b, "%s{\"src_vnic\":\"v%d\",\"dst_ip\":\"10.%d.0.%d\"}",
                      i ? "," : "", src, net, v + 1);
    }
    vf_buf_puts(&b, "]}");
    return vf_buf_steal(&b);
}

/* ---- 1. In process. ---- */

static int
submit_api(void *api, const char *method, const char *path, const char *body)
{
    struct policy_api_request req = {
        .method = method,
        .path = path,
        .authorization = "Bearer " ADMIN,
        .content_type = "application/json",
        .body = body,
        .body_size = body ? strlen(body) : 0,
    };
    struct policy_api_response resp;
    policy_api_handle(api, &req, &resp);
    int status = resp.status;
    policy_api_response_uninit(&resp);
    return status;
}

struct api_run {
    struct policy_api *api;
    char *bodies[N_BODIES];
    int batch;
};

static uint64_t
api_batches(void *arg)
{
    struct api_run *r = arg;
    for (int i = 0; i < 200; i++) {
        VF_VERIFY(submit_api(r->api, "POST", "/v1/translate",
                             r->bodies[i % N_BODIES]) == 200);
    }
    return 200ull * (uint64_t) r->batch;
}

static int64_t
thread_cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return ts.tv_sec * VF_NSEC_PER_SEC + ts.tv_nsec;
}

static int
cmp_double(const void *a, const void *b)
{
    double x = *(const double *) a, y = *(const double *) b;
    return (x > y) - (x < y);
}

static void
bench_in_process(void)
{
    char *err = NULL;
    struct policy_api_config cfg = {.admin_token = ADMIN};
    struct api_run r = {.batch = 64};
    r.api = policy_api_create(store_open(":memory:", &err), &cfg, &err);
    VF_VERIFY(r.api != NULL);
    populate(submit_api, r.api);
    for (int i = 0; i < N_BODIES; i++) {
        r.bodies[i] = make_body(r.batch);
    }
    bench_pin(1);
    /* Thread CPU time, not wall time: on this shared machine another
     * tenant's work must not count as ours (per core, as below). */
    double per_item[9];
    api_batches(&r);
    for (int t = 0; t < 9; t++) {
        int64_t c0 = thread_cpu_ns();
        uint64_t n = api_batches(&r);
        per_item[t] = (double) (thread_cpu_ns() - c0) / (double) n;
    }
    qsort(per_item, 9, sizeof per_item[0], cmp_double);
    bench_report("policyd_api_xlate_per_s", 1e9 / per_item[4],
                 "translations/s");
    printf("# in process: policy_api_handle(), batch %d, thread CPU time, "
           "median of 9\n", r.batch);
    for (int i = 0; i < N_BODIES; i++) {
        free(r.bodies[i]);
    }
    policy_api_destroy(r.api);
}

/* ---- 2. End to end. ---- */

struct http_ctx {
    const char *url;
};

static int
submit_http(void *ctx_, const char *method, const char *path,
            const char *body)
{
    struct http_ctx *ctx = ctx_;
    struct policy_rest_reply reply;
    char *err = NULL;
    if (policy_rest_call(ctx->url, ADMIN, method, path, body, 10000, &reply,
                         &err)) {
        fprintf(stderr, "bench-policyd: %s\n", err);
        exit(1);
    }
    int status = (int) reply.status;
    policy_rest_reply_uninit(&reply);
    return status;
}

static double
cpu_seconds(pid_t pid)
{
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%d/stat", (int) pid);
    FILE *f = fopen(path, "r");
    if (!f || !fgets(buf, sizeof buf, f)) {
        if (f) {
            fclose(f);
        }
        return 0;
    }
    fclose(f);
    /* Fields 14 and 15 (utime, stime) after the ")" of the name. */
    char *p = strrchr(buf, ')');
    unsigned long ut = 0, st = 0;
    sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut,
           &st);
    return (double) (ut + st) / (double) sysconf(_SC_CLK_TCK);
}

static size_t
discard(char *data, size_t size, size_t n, void *aux)
{
    (void) data;
    (void) aux;
    return size * n;
}

struct load_result {
    uint64_t requests;
    uint64_t errors;
    double wall_s;
    double server_cpu_s;
};

static struct load_result
run_load(const char *url, pid_t server, int batch, double seconds)
{
    char *bodies[N_BODIES];
    for (int i = 0; i < N_BODIES; i++) {
        bodies[i] = make_body(batch);
    }
    char *target = vf_xasprintf("%s/v1/translate", url);
    struct curl_slist *h = curl_slist_append(NULL, "Authorization: Bearer "
                                                   ADMIN);
    h = curl_slist_append(h, "Content-Type: application/json");
    h = curl_slist_append(h, "Expect:");
    CURLM *multi = curl_multi_init();
    CURL *easy[CONNECTIONS];
    int next = 0;
    for (int c = 0; c < CONNECTIONS; c++) {
        easy[c] = curl_easy_init();
        curl_easy_setopt(easy[c], CURLOPT_URL, target);
        curl_easy_setopt(easy[c], CURLOPT_HTTPHEADER, h);
        curl_easy_setopt(easy[c], CURLOPT_WRITEFUNCTION, discard);
        curl_easy_setopt(easy[c], CURLOPT_POSTFIELDS, bodies[next++]);
        curl_multi_add_handle(multi, easy[c]);
    }
    struct load_result r = {0};
    double cpu0 = cpu_seconds(server);
    int64_t t0 = vf_time_monotonic_ns();
    int64_t end = t0 + (int64_t) (seconds * 1e9);
    int running = CONNECTIONS;
    while (running) {
        curl_multi_perform(multi, &running);
        CURLMsg *m;
        int left;
        while ((m = curl_multi_info_read(multi, &left))) {
            if (m->msg != CURLMSG_DONE) {
                continue;
            }
            long status = 0;
            CURL *e = m->easy_handle;
            curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
            if (m->data.result != CURLE_OK || status != 200) {
                r.errors++;
            } else {
                r.requests++;
            }
            curl_multi_remove_handle(multi, e);
            if (vf_time_monotonic_ns() < end) {
                curl_easy_setopt(e, CURLOPT_POSTFIELDS,
                                 bodies[next++ % N_BODIES]);
                curl_multi_add_handle(multi, e);
                running++;
            }
        }
        if (running) {
            curl_multi_poll(multi, NULL, 0, 100, NULL);
        }
    }
    r.wall_s = (double) (vf_time_monotonic_ns() - t0) / 1e9;
    r.server_cpu_s = cpu_seconds(server) - cpu0;
    for (int c = 0; c < CONNECTIONS; c++) {
        curl_easy_cleanup(easy[c]);
    }
    curl_multi_cleanup(multi);
    curl_slist_free_all(h);
    free(target);
    for (int i = 0; i < N_BODIES; i++) {
        free(bodies[i]);
    }
    return r;
}

static char *
policyd_path(void)
{
    const char *env = getenv("VFAB_POLICYD");
    if (env) {
        return vf_xstrdup(env);
    }
    char self[4096];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    VF_VERIFY(n > 0);
    self[n] = '\0';
    *strrchr(self, '/') = '\0';
    return vf_xasprintf("%s/../src/policyd/vfab-policyd", self);
}

static void
bench_end_to_end(double seconds)
{
    char dir[] = "/dev/shm/pol-bench.XXXXXX";
    if (!mkdtemp(dir)) {
        strcpy(dir, "/tmp/pol-bench.XXXXXX");
        VF_VERIFY(mkdtemp(dir) != NULL);
    }
    char *db = vf_xasprintf("%s/bench.db", dir);
    char *tok = vf_xasprintf("%s/admin.token", dir);
    char *portf = vf_xasprintf("%s/port", dir);
    FILE *f = fopen(tok, "w");
    VF_VERIFY(f != NULL);
    fprintf(f, "%s\n", ADMIN);
    fclose(f);
    chmod(tok, 0600);
    char *bin = policyd_path();
    pid_t pid = fork();
    if (pid == 0) {
        bench_pin(1);
        int null = open("/dev/null", O_WRONLY);
        dup2(null, 2);
        execl(bin, bin, "--listen", "127.0.0.1:0", "--db", db,
              "--admin-token-file", tok, "--port-file", portf,
              "--log-level", "warn", (char *) NULL);
        _exit(127);
    }
    bench_pin(0);
    char port[16] = "";
    for (int i = 0; i < 200 && !port[0]; i++) {
        usleep(50000);
        f = fopen(portf, "r");
        if (f) {
            if (!fgets(port, sizeof port, f)) {
                port[0] = '\0';
            }
            fclose(f);
        }
    }
    if (!port[0]) {
        fprintf(stderr, "bench-policyd: %s did not start\n", bin);
        kill(pid, SIGKILL);
        exit(1);
    }
    port[strcspn(port, "\n")] = '\0';
    char *url = vf_xasprintf("http://127.0.0.1:%s", port);
    struct http_ctx ctx = {url};
    populate(submit_http, &ctx);

    static const int batches[] = {64, 1, 16, 256, 1024};
    for (size_t i = 0; i < sizeof batches / sizeof batches[0]; i++) {
        int b = batches[i];
        struct load_result r = run_load(url, pid, b, seconds);
        double xl = (double) r.requests * b;
        double per_core = r.server_cpu_s > 0 ? xl / r.server_cpu_s : 0;
        char name[64];
        if (b == 64) {
            bench_report("policyd_xlate_per_s", xl / r.wall_s,
                         "translations/s");
            bench_report("policyd_xlate_per_core_s", per_core,
                         "translations/s");
            bench_report("policyd_batch", b, "translations/request");
        } else {
            snprintf(name, sizeof name, "policyd_xlate_b%d_per_core_s", b);
            bench_report(name, per_core, "translations/s");
        }
        printf("# batch %d: %llu requests (%llu errors) in %.2f s, server "
               "CPU %.2f s (%.0f %% of a core), %.0f requests/s\n", b,
               (unsigned long long) r.requests,
               (unsigned long long) r.errors, r.wall_s, r.server_cpu_s,
               100 * r.server_cpu_s / r.wall_s,
               (double) r.requests / r.wall_s);
    }
    kill(pid, SIGTERM);
    waitpid(pid, NULL, 0);
    char *cmd = vf_xasprintf("rm -rf %s", dir);
    if (system(cmd)) {
        fprintf(stderr, "bench-policyd: could not remove %s\n", dir);
    }
    free(cmd);
    free(url);
    free(bin);
    free(db);
    free(tok);
    free(portf);
}

int
main(int argc, char **argv)
{
    double seconds = argc > 1 ? atof(argv[1]) : 3;
    if (seconds <= 0 || seconds > 600) {
        fprintf(stderr, "usage: bench-policyd [SECONDS_PER_RUN]\n");
        return 2;
    }
    vf_random_init(&rng, 42);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    printf("# model: %d VNICs in %d networks on %d hosts, 20 policies\n",
           N_NETS * VNICS_PER_NET, N_NETS, N_HOSTS);
    bench_in_process();
    bench_end_to_end(seconds);
    curl_global_cleanup();
    return 0;
}
