/* SPDX-License-Identifier: Apache-2.0 */
/* HTTP metrics of vfab-policyd.
 *
 * Requests are counted in a small fixed table of (endpoint, method,
 * status) series, created on first use; the set is bounded because
 * endpoints come from policy_api_endpoint() (a closed list), methods are
 * folded to a closed list and statuses are the few the API produces, so
 * no client can blow the table up with made-up paths.  Latencies go into
 * one histogram per endpoint with buckets from 50 us to 10 s (a
 * translation batch of 64 takes ~0.3 ms here; a long-poll up to 60 s
 * lands in +Inf). */
#include "metrics.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "policy/policy-api.h"
#include "util/vtime.h"

#define METRICS_MAX_SERIES 256
#define METRICS_MAX_ENDPOINTS 16

static const double buckets_s[] = {
    0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005,
    0.01,    0.025,  0.05,    0.1,    0.25,  1,      10,
};
#define N_BUCKETS (sizeof buckets_s / sizeof buckets_s[0])

struct series {
    const char *endpoint;       /* Static strings. */
    const char *method;
    int status;
    uint64_t count;
};

struct histogram {
    const char *endpoint;
    uint64_t counts[N_BUCKETS]; /* Non-cumulative. */
    uint64_t inf;
    uint64_t count;
    double sum_s;
};

struct policyd_metrics {
    struct series series[METRICS_MAX_SERIES];
    size_t n_series;
    uint64_t dropped;           /* Requests not counted: table full. */
    struct histogram hist[METRICS_MAX_ENDPOINTS];
    size_t n_hist;
    uint64_t connections;
    uint64_t waiters;
    int64_t start_wall_ms;
};

struct policyd_metrics *
policyd_metrics_create(void)
{
    struct policyd_metrics *m = vf_xcalloc(1, sizeof *m);
    m->start_wall_ms = vf_time_wall_ms();
    return m;
}

void
policyd_metrics_destroy(struct policyd_metrics *m)
{
    free(m);
}

static const char *
fold_method(const char *method)
{
    static const char *const known[] = {"GET", "POST", "PATCH", "DELETE",
                                        "PUT", "HEAD"};
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++) {
        if (!strcmp(method, known[i])) {
            return known[i];
        }
    }
    return "other";
}

void
policyd_metrics_record(struct policyd_metrics *m, const char *endpoint,
                       const char *method, int status, int64_t duration_ns)
{
    method = fold_method(method);
    struct series *s = NULL;
    for (size_t i = 0; i < m->n_series; i++) {
        struct series *x = &m->series[i];
        if (x->endpoint == endpoint && x->method == method
            && x->status == status) {
            s = x;
            break;
        }
    }
    if (!s && m->n_series < METRICS_MAX_SERIES) {
        s = &m->series[m->n_series++];
        *s = (struct series){endpoint, method, status, 0};
    }
    if (s) {
        s->count++;
    } else {
        m->dropped++;
    }

    struct histogram *h = NULL;
    for (size_t i = 0; i < m->n_hist; i++) {
        if (m->hist[i].endpoint == endpoint) {
            h = &m->hist[i];
        }
    }
    if (!h && m->n_hist < METRICS_MAX_ENDPOINTS) {
        h = &m->hist[m->n_hist++];
        memset(h, 0, sizeof *h);
        h->endpoint = endpoint;
    }
    if (!h) {
        return;
    }
    double secs = (double) duration_ns / 1e9;
    size_t b = 0;
    while (b < N_BUCKETS && secs > buckets_s[b]) {
        b++;
    }
    if (b < N_BUCKETS) {
        h->counts[b]++;
    } else {
        h->inf++;
    }
    h->count++;
    h->sum_s += secs;
}

void
policyd_metrics_set_gauges(struct policyd_metrics *m, uint64_t connections,
                           uint64_t waiters)
{
    m->connections = connections;
    m->waiters = waiters;
}

void
policyd_metrics_format(const struct policyd_metrics *m,
                       const struct policy_api *api, struct vf_buf *out)
{
    vf_buf_puts(out, "# HELP vfab_policyd_http_requests_total HTTP requests "
                     "answered, by endpoint, method and status.\n"
                     "# TYPE vfab_policyd_http_requests_total counter\n");
    for (size_t i = 0; i < m->n_series; i++) {
        const struct series *s = &m->series[i];
        vf_buf_printf(out, "vfab_policyd_http_requests_total{endpoint=\"%s\","
                      "method=\"%s\",code=\"%d\"} %" PRIu64 "\n",
                      s->endpoint, s->method, s->status, s->count);
    }
    vf_buf_printf(out, "# HELP vfab_policyd_http_requests_uncounted_total "
                       "Requests beyond the series table.\n"
                       "# TYPE vfab_policyd_http_requests_uncounted_total "
                       "counter\n"
                       "vfab_policyd_http_requests_uncounted_total %" PRIu64
                       "\n", m->dropped);
    vf_buf_puts(out, "# HELP vfab_policyd_http_request_duration_seconds "
                     "Time to answer a request.\n"
                     "# TYPE vfab_policyd_http_request_duration_seconds "
                     "histogram\n");
    for (size_t i = 0; i < m->n_hist; i++) {
        const struct histogram *h = &m->hist[i];
        uint64_t cum = 0;
        for (size_t b = 0; b < N_BUCKETS; b++) {
            cum += h->counts[b];
            vf_buf_printf(out, "vfab_policyd_http_request_duration_seconds_"
                          "bucket{endpoint=\"%s\",le=\"%g\"} %" PRIu64 "\n",
                          h->endpoint, buckets_s[b], cum);
        }
        vf_buf_printf(out, "vfab_policyd_http_request_duration_seconds_bucket"
                      "{endpoint=\"%s\",le=\"+Inf\"} %" PRIu64 "\n"
                      "vfab_policyd_http_request_duration_seconds_sum"
                      "{endpoint=\"%s\"} %.9f\n"
                      "vfab_policyd_http_request_duration_seconds_count"
                      "{endpoint=\"%s\"} %" PRIu64 "\n",
                      h->endpoint, cum + h->inf, h->endpoint, h->sum_s,
                      h->endpoint, h->count);
    }
    vf_buf_printf(out,
                  "# HELP vfab_policyd_http_connections Open HTTP "
                  "connections.\n"
                  "# TYPE vfab_policyd_http_connections gauge\n"
                  "vfab_policyd_http_connections %" PRIu64 "\n"
                  "# HELP vfab_policyd_change_waiters Long-polls waiting "
                  "for changes.\n"
                  "# TYPE vfab_policyd_change_waiters gauge\n"
                  "vfab_policyd_change_waiters %" PRIu64 "\n"
                  "# HELP vfab_policyd_start_time_seconds Start time "
                  "(Unix).\n"
                  "# TYPE vfab_policyd_start_time_seconds gauge\n"
                  "vfab_policyd_start_time_seconds %.3f\n",
                  m->connections, m->waiters,
                  (double) m->start_wall_ms / 1000.0);
    policy_api_format_metrics(api, out);
}
