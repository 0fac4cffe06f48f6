/* SPDX-License-Identifier: Apache-2.0 */
/* Translations: theory of operation.
 *
 * One translation is three hash lookups and one pass over the tenant's
 * sorted policies:
 *
 *     src VNIC (resolved by the caller)
 *        │ dst MAC ──► vnic_by_mac(src network)
 *        │ dst IP  ──► vnic_by_addr(src network)
 *        │               └─miss─► network of the tenant holding the IP
 *        │                          └──► vnic_by_addr(that network)
 *        ▼
 *     dst VNIC ──► model_policy_acl()/model_policy_eval() ──► verdict
 *        └──► dst network VNI, dst host underlay IP, dst MAC (the path)
 *
 * The path is included only when some traffic is allowed, so a denied
 * source learns nothing about where its peer runs.  A destination that
 * is not placed on a host gets status "unplaced" (the agent may retry
 * after the change feed says it moved).  Results carry the model version
 * and a lifetime; the agent caches them per source VNIC and drops them
 * on the change records that concern them (policy-cache.c).
 *
 * Measured (bench/run policyd): parsing and formatting JSON cost several
 * times more than the translation itself. */
#include "policy/xlate.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "net/addr.h"
#include "util/buf.h"

const char *
xlate_status_name(enum xlate_status s)
{
    switch (s) {
    case XLATE_OK:
        return "ok";
    case XLATE_NO_SRC:
        return "no_such_src";
    case XLATE_NOT_FOUND:
        return "not_found";
    case XLATE_UNPLACED:
        return "unplaced";
    case XLATE_FORBIDDEN:
        return "forbidden";
    default:
        return "?";
    }
}

const char *
xlate_verdict_name(enum xlate_verdict v)
{
    switch (v) {
    case XLATE_ALLOW:
        return "allow";
    case XLATE_FILTERED:
        return "filtered";
    case XLATE_DENY:
    default:
        return "deny";
    }
}

static int VF_PRINTF(4, 5)
item_error(char **errp, const char *prefix, const char *field,
           const char *fmt, ...)
{
    if (errp) {
        struct vf_buf b = VF_BUF_INITIALIZER;
        va_list args;
        vf_buf_printf(&b, "%s%s: ", prefix, field);
        va_start(args, fmt);
        vf_buf_vprintf(&b, fmt, args);
        va_end(args);
        free(*errp);
        *errp = vf_buf_steal(&b);
    }
    return -EINVAL;
}

int
xlate_query_parse(const json_t *item, const char *prefix,
                  struct xlate_query *q, char **errp)
{
    memset(q, 0, sizeof *q);
    q->protocol = -1;
    q->port = -1;
    if (!json_is_object(item)) {
        char field[64];
        snprintf(field, sizeof field, "%.*s", (int) strlen(prefix)
                 - (prefix[0] && prefix[strlen(prefix) - 1] == '.'), prefix);
        return item_error(errp, "", field[0] ? field : "request",
                          "must be an object");
    }
    const char *key;
    json_t *v;
    json_object_foreach ((json_t *) item, key, v) {
        if (strcmp(key, "src_vnic") && strcmp(key, "dst_mac")
            && strcmp(key, "dst_ip") && strcmp(key, "protocol")
            && strcmp(key, "dst_port")) {
            char safe[64];
            snprintf(safe, sizeof safe, "%s", key);
            for (char *p = safe; *p; p++) {
                if ((unsigned char) *p < 0x20 || *p == ':' || *p == ' ') {
                    *p = '?';
                }
            }
            return item_error(errp, prefix, safe, "unknown field");
        }
    }
    const char *src = json_string_value(json_object_get(item, "src_vnic"));
    if (!src) {
        return item_error(errp, prefix, "src_vnic", "is required (a "
                          "string)");
    }
    if (!model_name_valid(src)) {
        return item_error(errp, prefix, "src_vnic", "'%.64s' is not a valid "
                          "name", src);
    }
    snprintf(q->src_vnic, sizeof q->src_vnic, "%s", src);

    json_t *mac = json_object_get(item, "dst_mac");
    json_t *ip = json_object_get(item, "dst_ip");
    if ((mac != NULL) == (ip != NULL)) {
        return item_error(errp, prefix, "dst_mac", "give exactly one of "
                          "dst_mac and dst_ip");
    }
    if (mac) {
        const char *s = json_string_value(mac);
        q->dst_is_mac = true;
        if (!s || eth_addr_parse(s, &q->dst_mac)) {
            return item_error(errp, prefix, "dst_mac", "must be a MAC "
                              "address (aa:bb:cc:dd:ee:ff)");
        }
    } else {
        const char *s = json_string_value(ip);
        if (!s || model_addr_parse(s, &q->dst_ip)) {
            return item_error(errp, prefix, "dst_ip", "must be an IPv4 or "
                              "IPv6 address");
        }
    }
    json_t *proto = json_object_get(item, "protocol");
    json_t *port = json_object_get(item, "dst_port");
    if (proto) {
        uint8_t p;
        if (model_protocol_parse(proto, &p)) {
            return item_error(errp, prefix, "protocol", "must be any, icmp, "
                              "tcp, udp, icmpv6, sctp or 0..255");
        }
        q->protocol = p;
    }
    if (port) {
        if (!proto || q->protocol == 0) {
            return item_error(errp, prefix, "dst_port", "needs a protocol");
        }
        if (!json_is_integer(port) || json_integer_value(port) < 0
            || json_integer_value(port) > 65535) {
            return item_error(errp, prefix, "dst_port", "must be an integer "
                              "0..65535");
        }
        q->port = (int) json_integer_value(port);
    } else if (q->protocol == 6 || q->protocol == 17 || q->protocol == 132) {
        return item_error(errp, prefix, "dst_port", "is required with "
                          "protocol tcp, udp or sctp");
    }
    return 0;
}

static const struct model_vnic *
resolve_dst(const struct model *m, const struct model_vnic *src,
            const struct xlate_query *q)
{
    const struct model_network *net = src->network;
    if (q->dst_is_mac) {
        return model_vnic_by_mac(m, net, &q->dst_mac);
    }
    const struct model_vnic *dst = model_vnic_by_addr(m, net, &q->dst_ip);
    if (!dst) {
        const struct model_network *other;
        other = model_network_for_addr(net->tenant, &q->dst_ip);
        if (other && other != net) {
            dst = model_vnic_by_addr(m, other, &q->dst_ip);
        }
    }
    return dst;
}

static enum xlate_verdict
acl_verdict(const struct xlate_result *r)
{
    for (size_t i = 0; i < r->n_acl; i++) {
        if (r->acl[i].action != r->dflt) {
            return XLATE_FILTERED;
        }
    }
    return r->dflt == MODEL_ALLOW ? XLATE_ALLOW : XLATE_DENY;
}

void
xlate_translate(const struct model *m, const struct model_vnic *src,
                const struct xlate_query *q, struct xlate_result *r)
{
    r->status = XLATE_NO_SRC;
    r->src = src;
    r->dst = NULL;
    r->verdict = XLATE_DENY;
    r->dflt = MODEL_DENY;
    r->matched = NULL;
    r->n_acl = 0;
    r->acl_truncated = false;
    if (!src) {
        return;
    }
    const struct model_vnic *dst = resolve_dst(m, src, q);
    if (!dst) {
        r->status = XLATE_NOT_FOUND;
        return;
    }
    r->dst = dst;
    r->n_acl = model_policy_acl(src, dst, r->acl, XLATE_MAX_ACL, &r->dflt,
                                &r->acl_truncated);
    if (q->protocol >= 0) {
        r->verdict = model_policy_eval(src, dst, (uint8_t) q->protocol,
                                       q->port, &r->matched) == MODEL_ALLOW
                         ? XLATE_ALLOW
                         : XLATE_DENY;
    } else {
        r->verdict = acl_verdict(r);
    }
    r->status = dst->host ? XLATE_OK : XLATE_UNPLACED;
}

static void
format_acl(const struct xlate_result *r, struct vf_jw *w)
{
    char buf[16];
    vf_jw_key(w, "acl");
    vf_jw_arr_begin(w);
    for (size_t i = 0; i < r->n_acl; i++) {
        const struct model_acl_rule *a = &r->acl[i];
        vf_jw_obj_begin(w);
        vf_jw_kstr(w, "protocol", model_protocol_format(a->protocol, buf));
        if (a->port_min != 0 || a->port_max != 65535) {
            vf_jw_ku64(w, "port_min", a->port_min);
            vf_jw_ku64(w, "port_max", a->port_max);
        }
        vf_jw_kstr(w, "action", model_action_name(a->action));
        vf_jw_kstr(w, "policy", a->policy->obj.name);
        vf_jw_obj_end(w);
    }
    vf_jw_arr_end(w);
    if (r->acl_truncated) {
        vf_jw_kbool(w, "acl_truncated", true);
    }
}

void
xlate_result_format(const struct xlate_query *q, const struct xlate_result *r,
                    uint64_t version, uint32_t lifetime_s, struct vf_jw *w)
{
    char buf[64];
    vf_jw_obj_begin(w);
    vf_jw_kstr(w, "src_vnic", q->src_vnic);
    if (q->dst_is_mac) {
        vf_jw_kstr(w, "dst_mac", eth_addr_format(&q->dst_mac, buf));
    } else {
        vf_jw_kstr(w, "dst_ip", model_addr_format(&q->dst_ip, buf));
    }
    if (q->protocol >= 0) {
        vf_jw_kstr(w, "protocol",
                   model_protocol_format((uint8_t) q->protocol, buf));
        if (q->port >= 0) {
            vf_jw_ku64(w, "dst_port", (uint64_t) q->port);
        }
    }
    vf_jw_kstr(w, "status", xlate_status_name(r->status));
    if (r->dst) {
        const struct model_vnic *d = r->dst;
        vf_jw_kstr(w, "verdict", xlate_verdict_name(r->verdict));
        vf_jw_kstr(w, "default", model_action_name(r->dflt));
        if (r->matched) {
            vf_jw_kstr(w, "policy", r->matched->obj.name);
        }
        format_acl(r, w);
        vf_jw_kstr(w, "dst_vnic", d->obj.name);
        vf_jw_kstr(w, "dst_network", d->network->obj.name);
        vf_jw_key(w, "dst_groups");
        vf_jw_arr_begin(w);
        for (size_t i = 0; i < d->n_groups; i++) {
            vf_jw_str(w, d->groups[i]);
        }
        vf_jw_arr_end(w);
        if (r->verdict != XLATE_DENY) {
            vf_jw_ku64(w, "vni", d->network->vni);
            if (!q->dst_is_mac) {
                vf_jw_kstr(w, "dst_mac", eth_addr_format(&d->mac, buf));
            }
            if (d->host) {
                vf_jw_kstr(w, "dst_host", d->host->obj.name);
                vf_jw_kstr(w, "underlay_ip",
                           model_addr_format(&d->host->underlay_ip, buf));
                vf_jw_kbool(w, "local", r->src->host == d->host);
            }
        }
    }
    vf_jw_ku64(w, "version", version);
    vf_jw_ku64(w, "lifetime", lifetime_s);
    vf_jw_obj_end(w);
}
