/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VFAB_POLICYD_METRICS_H
#define VFAB_POLICYD_METRICS_H 1

/* vfab-policyd's HTTP metrics: requests by endpoint, method and status,
 * and a latency histogram per endpoint, written at /metrics in the
 * Prometheus text format (0.0.4) beside the API's own metrics
 * (policy_api_format_metrics()).  Main thread only. */

#include <stdint.h>

#include "util/buf.h"

struct policy_api;
struct policyd_metrics;

struct policyd_metrics *policyd_metrics_create(void);
/* NULL is a no-op. */
void policyd_metrics_destroy(struct policyd_metrics *m);

/* Counts one finished request: 'endpoint' from policy_api_endpoint(),
 * 'method', its 'status' and how long it took ('duration_ns', from the
 * first byte of headers to the last byte queued; long-polls include their
 * wait). */
void policyd_metrics_record(struct policyd_metrics *m, const char *endpoint,
                            const char *method, int status,
                            int64_t duration_ns);

/* Connection gauges, set by the HTTP layer. */
void policyd_metrics_set_gauges(struct policyd_metrics *m,
                                uint64_t connections, uint64_t waiters);

/* Writes every metric (HTTP, API, process) into 'out'. */
void policyd_metrics_format(const struct policyd_metrics *m,
                            const struct policy_api *api,
                            struct vf_buf *out);

#endif /* policyd/metrics.h */
