/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VFAB_POLICYD_HTTP_H
#define VFAB_POLICYD_HTTP_H 1

/* vfab-policyd's HTTP front end on libmicrohttpd: it turns requests into
 * policy_api_request and responses back, parks long-polls, serves
 * /metrics, and times every request.  Theory of operation: http.c.
 * Main thread only (MHD runs inside our own loop, no MHD threads). */

#include <stddef.h>
#include <stdint.h>

struct policy_api;
struct policyd_metrics;
struct http_server;

struct http_config {
    const char *listen;         /* "ADDR:PORT" or "[V6ADDR]:PORT". */
    size_t max_body;            /* Bytes; larger bodies get 413. */
    const char *tls_cert_pem;   /* Both or neither: HTTPS. */
    const char *tls_key_pem;
    unsigned int max_connections;
};

/* Binds and starts serving 'api' (borrowed).  Returns the server or NULL
 * with a message through 'errp'. */
struct http_server *http_server_create(const struct http_config *cfg,
                                       struct policy_api *api,
                                       struct policyd_metrics *metrics,
                                       char **errp);

/* The port actually bound (useful with port 0). */
uint16_t http_server_port(const struct http_server *s);

/* Serves until 'stop_fd' becomes readable (a signalfd).  Returns 0. */
int http_server_run(struct http_server *s, int stop_fd);

/* Answers parked long-polls and stops.  NULL is a no-op. */
void http_server_destroy(struct http_server *s);

#endif /* policyd/http.h */
