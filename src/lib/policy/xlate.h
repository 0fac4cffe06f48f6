/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VFAB_POLICY_XLATE_H
#define VFAB_POLICY_XLATE_H 1

/* Translations: (source VNIC, destination MAC or IP) -> allow/deny and the
 * physical path (destination host's underlay IP, VNI, destination MAC).
 *
 * The destination is resolved only inside the source's tenant: a MAC in
 * the source's own network (layer 2), an IP first in the source's network,
 * then in the tenant's network whose subnet holds it (the distributed
 * router's view).  Overlapping subnets in different tenants therefore
 * never meet.  The verdict comes from model_policy_*() (model.h).
 *
 * JSON forms (docs/rest-api.md, /v1/translate):
 *   request item  {"src_vnic": N, "dst_mac": M | "dst_ip": A,
 *                  ["protocol": P, ["dst_port": N]]}
 *   result item   {"src_vnic", "dst_mac"|"dst_ip", "status", "verdict",
 *                  "default", "acl", "dst_vnic", "dst_network",
 *                  "dst_groups", "vni", "dst_host", "underlay_ip", "local",
 *                  "version", "lifetime"}  (path fields only when allowed)
 *
 * Single-threaded like the model it reads. */

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "policy/model.h"
#include "util/jsonw.h"

#define XLATE_MAX_ACL 64        /* Rules returned per translation. */

enum xlate_status {
    XLATE_OK,                   /* Destination found (see verdict). */
    XLATE_NO_SRC,               /* No such source VNIC. */
    XLATE_NOT_FOUND,            /* No destination in the source's scope. */
    XLATE_UNPLACED,             /* Destination not placed on a host. */
    XLATE_FORBIDDEN,            /* Caller may not ask for this source. */
};

enum xlate_verdict {
    XLATE_DENY,
    XLATE_ALLOW,
    XLATE_FILTERED,             /* Depends on protocol/port: see acl. */
};

/* A parsed request item. */
struct xlate_query {
    char src_vnic[MODEL_NAME_MAX + 1];
    bool dst_is_mac;
    struct eth_addr dst_mac;
    struct model_addr dst_ip;
    int protocol;               /* -1: not given. */
    int port;                   /* -1: not given. */
};

struct xlate_result {
    enum xlate_status status;
    const struct model_vnic *src;
    const struct model_vnic *dst;
    enum xlate_verdict verdict;
    enum model_action dflt;
    const struct model_policy *matched;   /* With a protocol: the rule. */
    struct model_acl_rule acl[XLATE_MAX_ACL];
    size_t n_acl;
    bool acl_truncated;
};

/* Parses request item 'item'.  Returns 0, or -EINVAL with a message
 * naming the field (prefixed with 'prefix', e.g. "requests[3].") through
 * 'errp'. */
int xlate_query_parse(const json_t *item, const char *prefix,
                      struct xlate_query *q, char **errp);

/* Translates 'q' against 'm'.  'src' is the resolved source VNIC or NULL
 * (-> XLATE_NO_SRC); callers resolve it so they can check permissions. */
void xlate_translate(const struct model *m, const struct model_vnic *src,
                     const struct xlate_query *q, struct xlate_result *r);

/* Writes the result item for 'q' and 'r' with model 'version' and
 * 'lifetime_s' seconds of validity. */
void xlate_result_format(const struct xlate_query *q,
                         const struct xlate_result *r, uint64_t version,
                         uint32_t lifetime_s, struct vf_jw *w);

const char *xlate_status_name(enum xlate_status);
const char *xlate_verdict_name(enum xlate_verdict);

#endif /* policy/xlate.h */
