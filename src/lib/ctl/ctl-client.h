/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VFAB_CTL_CTL_CLIENT_H
#define VFAB_CTL_CTL_CLIENT_H 1

/* A JSON-RPC client of a daemon's control socket (used by vfabctl and by
 * tests).  Calls are synchronous with a timeout: the socket is
 * non-blocking and every wait is a poll() bounded by the time left.
 * Replies whose id does not match the call are skipped (they belong to an
 * earlier call that timed out).  One thread at a time per client. */

#include <jansson.h>

struct ctl_client;

/* Connects to the control socket at 'path' within 'timeout_ms'.  Returns 0
 * and '*clientp', or -errno with '*errp' (caller frees), e.g. -ENOENT
 * "cannot connect to PATH: No such file or directory (is the daemon
 * running?)", -EACCES. */
int ctl_client_open(const char *path, int timeout_ms,
                    struct ctl_client **clientp, char **errp);

/* Closes and frees 'client'.  NULL is a no-op. */
void ctl_client_close(struct ctl_client *client);

/* Calls 'method' with 'params' (array, object or NULL; reference taken
 * over) and waits at most 'timeout_ms' for the reply.  Returns:
 *   0             '*resultp' is the result (caller owns the reference);
 *   -EREMOTEIO    the daemon answered with an error: '*codep' (if
 *                 nonnull) is its JSON-RPC code and '*errp' its message;
 *   -ETIMEDOUT    no reply in time;
 *   -EPROTO       the reply was not valid JSON-RPC;
 *   -EMSGSIZE     the reply exceeded the size limit;
 *   -EPIPE, -errno  the connection failed.
 * On every failure '*errp' is a one-line message (caller frees). */
int ctl_client_call(struct ctl_client *client, const char *method,
                    json_t *params, int timeout_ms, json_t **resultp,
                    int *codep, char **errp);

#endif /* ctl/ctl-client.h */
