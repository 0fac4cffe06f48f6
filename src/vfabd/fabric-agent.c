/* SPDX-License-Identifier: Apache-2.0 */
/* The fabric agent: theory of operation.
 *
 * Model.  The agent follows vfab-policyd through the policy client
 * (policy/policy-client.h): a full sync (GET /v1/hosts/HOST/vnics) gives
 * the VNICs placed on this host with their VNI; the change feed keeps
 * that list and the translation cache current.  A tap port of the fabric
 * bridge with option vnic=NAME is bound (dp_port_bind) to VNIC NAME when
 * the model places NAME on this host: its identity (MAC, IPs: the
 * anti-spoofing rules), VNI, fabric-wide id and translation partition come
 * from the model.  A VNIC that is not placed yet is claimed for this host
 * (PATCH /v1/vnics/NAME {"host": HOST}), which is how the agent "registers
 * its VNICs"; it also registers its capabilities and state-format version
 * (PATCH /v1/hosts/HOST) at start.  These few blocking REST calls run on
 * short-lived worker threads; their results come back through an eventfd,
 * so the agent thread never waits on the network.
 *
 * Upcalls (dp/fabric.c says when each is made):
 *
 *   FAB_XLATE      frame queued under (source VNIC, destination MAC, or
 *                  destination IPv4/IPv6 for a frame to the router);
 *                  translation requested; on the answer the frame is
 *                  re-injected where it came from and the datapath finds
 *                  the cached translation
 *   FAB_RESOLVE    ARP request / neighbor solicitation: answered from the
 *                  translation of the target IP (queued the same way on a
 *                  miss); unknown targets get no answer; never answered
 *                  for the requester's own address (DAD, probes).  A
 *                  target no VNIC owns that is the requester's IPv4 or
 *                  IPv6 gateway (first address of its network's first
 *                  subnet of that family) is answered with DP_ROUTER_MAC
 *                  (an NA with the router flag)
 *   FAB_RX_XLATE   uplink frame whose source is not cached: queued under
 *                  (destination VNIC, inner source MAC, or inner source
 *                  IP for a routed frame), re-injected on the uplink
 *                  after the answer
 *   FAB_NEIGH      queued under the underlay next hop; an ARP request is
 *                  sent (at most one per second per address); the reply
 *                  releases the queue
 *   FAB_VTEP       ARP for our VTEP address (answered, sender learned),
 *                  ARP replies (neighbour learned), pings (answered)
 *   FAB_TOO_BIG    ICMP fragmentation needed / packet too big to the VM
 *                  (from the router's MAC and the VNIC's gateway address
 *                  for a routed frame)
 *   FAB_TTL        ICMP time exceeded to the VM, from the router's MAC
 *                  and the VNIC's gateway address (traceroute)
 *
 * The ICMP errors (FAB_TOO_BIG, FAB_TTL) share one token bucket,
 * FABRIC_ICMP_ERRORS_PER_S with a burst of FABRIC_ICMP_ERRORS_BURST;
 * past it they are not sent (counted "icmp_limited").
 *
 * Queues are bounded: FABRIC_QUEUE_PER_DST frames per destination,
 * FABRIC_QUEUE_TOTAL in all; past that, and after FABRIC_QUEUE_TIMEOUT_NS,
 * frames are dropped and counted (`vfabctl call fabric/show`).  Queued
 * frames keep the buffer charge of the VNIC that sent them, so a VNIC
 * flooding unknown destinations runs into its own quota, not others'. */
#include "fabric-agent.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "ctl/ctl-command.h"
#include "dp/dp.h"
#include "net/addr.h"
#include "qos/meter.h"
#include "net/parse.h"
#include "overlay/neigh.h"
#include "overlay/reply.h"
#include "overlay/tunnel.h"
#include "pkt/pkt-pool.h"
#include "policy/policy-client.h"
#include "policy/policy-rest.h"
#include "util/buf.h"
#include "util/hash.h"
#include "util/log.h"
#include "util/rcu.h"

VF_LOG_MODULE(fabric);

#define FABRIC_QUEUE_PER_DST 8
#define FABRIC_QUEUE_TOTAL 1024
#define FABRIC_QUEUE_TIMEOUT_NS (3000 * 1000000ll)
/* ICMP errors (too big, time exceeded) per second and burst, for all
 * VNICs together: Linux's defaults (net.ipv4.icmp_msgs_per_sec, _burst). */
#define FABRIC_ICMP_ERRORS_PER_S 1000u
#define FABRIC_ICMP_ERRORS_BURST 50u
#define FABRIC_MAX_VNICS 4096
#define FABRIC_STATE_FORMAT 1    /* Datapath state-format version. */

struct vnic_info {
    char name[64];
    char network[64];
    char tenant[64];
    struct eth_addr mac;
    uint32_t vni;
    vf_be32 gateway;             /* Its network's IPv4 gateway, or 0. */
    uint8_t gateway6[16];        /* Its IPv6 gateway, or all zero. */
    struct vnic_identity identity;
};

struct bound_port {
    struct dp_port *port;
    char vnic[64];
    bool bound;
    bool claim_sent;
};

struct pend_pkt {
    struct pkt *p;
    struct dp_port *in;
    uint8_t reason;
    int64_t t;
    struct pend_pkt *next;
};

/* Frames waiting for one translation or one neighbour. */
struct pend_q {
    char src[64];                /* VNIC (translations), "" (neighbour). */
    struct pcache_key key;
    vf_be32 nh;                  /* Neighbour queues. */
    struct pend_pkt *head, *tail;
    uint32_t n;
};

enum job_kind { JOB_CLAIM, JOB_REFRESH, JOB_HOST };

struct job {
    enum job_kind kind;
    char *method, *path, *body;
    char *url, *token;
    long status;
    char *answer;
    char *error;
    struct job *next;
};

struct fabric_stats {
    uint64_t upcalls[DP_N_UPCALL_REASONS];
    uint64_t queued, queue_full, expired, reinjected, xlate_failed;
    uint64_t arp_answered, nd_answered, resolve_unknown;
    uint64_t vtep_arp, vtep_ping, neigh_probes, too_big, time_exceeded;
    uint64_t icmp_limited;       /* ICMP errors not sent: rate limit. */
    uint64_t claims, claim_failures;
};

struct fabric_agent {
    char *url, *host, *token;
    struct dp *dp;
    struct dp_bridge *br;                /* The fabric bridge, or NULL. */
    struct fabric_options fo;
    struct dp_port *uplink;
    struct eth_addr vtep_mac;
    struct policy_client *pc;
    struct neigh_table *neigh;
    struct vnic_info *vnics;
    size_t n_vnics;
    struct bound_port *ports;
    size_t n_ports;
    struct pend_q *queues;
    size_t n_queues;
    uint32_t n_queued;
    int64_t now;
    struct meter icmp_errors;    /* Rate limit of the ICMP errors the
                                  * router sends (RFC 4443 2.4 (f)). */
    bool host_registered;
    /* Worker results. */
    pthread_mutex_t lock;
    struct job *done;                    /* lock */
    int job_fd;
    _Atomic int n_workers;               /* atomic: jobs in flight. */
    int64_t next_claim_retry;
    struct fabric_stats st;
    /* The last change record applied (invalidation latency, bench/
     * e2e-overlay.sh): its model version and the wall-clock time. */
    uint64_t applied_version;
    int64_t applied_wall_us;
};

/* ---- Options ---- */

int
fabric_options_parse(const json_t *o, struct fabric_options *fo, char **errp)
{
    memset(fo, 0, sizeof *fo);
    const char *key;
    json_t *v;
    json_object_foreach ((json_t *) o, key, v) {
        if (strcmp(key, "fabric") && strcmp(key, "underlay")
            && strcmp(key, "gateway") && strcmp(key, "uplink")
            && strcmp(key, "mtu")) {
            *errp = vf_xasprintf("unknown bridge option '%.32s' (valid: "
                                 "fabric, underlay, gateway, uplink, mtu)",
                                 key);
            return -EINVAL;
        }
    }
    if (!json_object_size(o)) {
        return 0;
    }
    const char *tun = json_string_value(json_object_get(o, "fabric"));
    int t = tun ? tunnel_type_from_name(tun) : -EINVAL;
    if (t < 0) {
        *errp = vf_xstrdup("fabric must be vxlan or geneve");
        return -EINVAL;
    }
    fo->fabric = true;
    fo->tunnel = t;
    const char *ul = json_string_value(json_object_get(o, "underlay"));
    vf_be32 ip;
    if (!ul || ipv4_cidr_parse(ul, &ip, &fo->plen) || !ip
        || fo->plen == 0 || fo->plen > 32 || !strchr(ul, '/')) {
        *errp = vf_xstrdup("underlay must be the VTEP's IPv4 address with "
                           "its prefix length, e.g. 192.168.100.1/24");
        return -EINVAL;
    }
    fo->vtep_ip = ip;
    const char *gw = json_string_value(json_object_get(o, "gateway"));
    if (gw) {
        vf_be32 g;
        if (ipv4_parse(gw, &g) || !ipv4_in_prefix(g, ip, fo->plen)) {
            *errp = vf_xasprintf("gateway '%.40s' must be an IPv4 address "
                                 "on the underlay subnet", gw);
            return -EINVAL;
        }
        fo->gateway = g;
    }
    const char *up = json_string_value(json_object_get(o, "uplink"));
    if (!up || !*up || strlen(up) >= sizeof fo->uplink) {
        *errp = vf_xstrdup("uplink must name the underlay port (the "
                           "afpacket port added to the bridge)");
        return -EINVAL;
    }
    strcpy(fo->uplink, up);
    json_t *mtu = json_object_get(o, "mtu");
    fo->mtu = mtu ? (uint32_t) json_integer_value(mtu) : 1500;
    if (fo->mtu < 576 || fo->mtu > 9000) {
        *errp = vf_xstrdup("mtu must be 576..9000");
        return -EINVAL;
    }
    return 0;
}

/* ---- Worker jobs (blocking REST off the agent thread) ---- */

static void *
job_main(void *arg)
{
    struct job *j = arg;
    struct fabric_agent *fa = (struct fabric_agent *) j->next;
    j->next = NULL;
    struct policy_rest_reply reply = {0};
    char *err = NULL;
    if (!policy_rest_call(j->url, j->token, j->method, j->path, j->body,
                          3000, &reply, &err)) {
        j->status = reply.status;
        j->answer = reply.body;
        reply.body = NULL;
    } else {
        j->error = err;
    }
    policy_rest_reply_uninit(&reply);
    pthread_mutex_lock(&fa->lock);
    j->next = fa->done;
    fa->done = j;
    pthread_mutex_unlock(&fa->lock);
    uint64_t one = 1;
    if (write(fa->job_fd, &one, sizeof one) < 0) {
        /* The agent polls the list on every run anyway. */
    }
    atomic_fetch_sub(&fa->n_workers, 1);
    return NULL;
}

static void
job_start(struct fabric_agent *fa, enum job_kind kind, const char *method,
          char *path, char *body)
{
    struct job *j = vf_xcalloc(1, sizeof *j);
    j->kind = kind;
    j->method = vf_xstrdup(method);
    j->path = path;
    j->body = body;
    j->url = vf_xstrdup(fa->url);
    j->token = vf_xstrdup(fa->token);
    j->next = (struct job *) fa;     /* Hand-over to the thread. */
    atomic_fetch_add(&fa->n_workers, 1);
    pthread_t th;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    if (pthread_create(&th, &attr, job_main, j)) {
        VF_LOG_WARN(fabric, "cannot start a worker for %s %s", method, path);
        atomic_fetch_sub(&fa->n_workers, 1);
        j->next = NULL;
        j->error = vf_xstrdup("no thread");
        pthread_mutex_lock(&fa->lock);
        j->next = fa->done;
        fa->done = j;
        pthread_mutex_unlock(&fa->lock);
    }
    pthread_attr_destroy(&attr);
}

static void
job_free(struct job *j)
{
    free(j->method);
    free(j->path);
    free(j->body);
    free(j->url);
    free(j->token);
    free(j->answer);
    free(j->error);
    free(j);
}

/* ---- VNIC model ---- */

static struct vnic_info *
vnic_find(struct fabric_agent *fa, const char *name)
{
    for (size_t i = 0; i < fa->n_vnics; i++) {
        if (!strcmp(fa->vnics[i].name, name)) {
            return &fa->vnics[i];
        }
    }
    return NULL;
}

static void
vnic_remove(struct fabric_agent *fa, const char *name)
{
    struct vnic_info *v = vnic_find(fa, name);
    if (v) {
        *v = fa->vnics[--fa->n_vnics];
    }
}

/* The gateway of the first IPv4 subnet in 'subnets': its first address. */
static vf_be32
gateway_of(const json_t *subnets)
{
    size_t i;
    json_t *s;
    json_array_foreach ((json_t *) subnets, i, s) {
        vf_be32 net;
        unsigned int plen;
        const char *t = json_string_value(s);
        if (t && !ipv4_cidr_parse(t, &net, &plen) && plen <= 30) {
            return vf_htonl(vf_ntohl(net) + 1);
        }
    }
    return 0;
}

/* The gateway of the first IPv6 subnet in 'subnets' into 'gw': its first
 * address (fd00:1::1 for fd00:1::/64), or all zero if there is none. */
static void
gateway6_of(const json_t *subnets, uint8_t gw[16])
{
    size_t i;
    json_t *s;
    memset(gw, 0, 16);
    json_array_foreach ((json_t *) subnets, i, s) {
        uint8_t net[16], mask[16];
        unsigned int plen;
        const char *t = json_string_value(s);
        if (t && !ipv6_cidr_parse(t, net, &plen) && plen <= 126) {
            ipv6_prefix_mask(plen, mask);
            for (int b = 0; b < 16; b++) {
                gw[b] = net[b] & mask[b];
            }
            gw[15] |= 1;         /* plen <= 126: the low bits are free. */
            return;
        }
    }
}

/* Reads one entry of GET /v1/hosts/HOST/vnics: {"vnic": {...}, "vni",
 * "tenant"}.  'subnets' NULL: keep the gateways already known. */
static void
vnic_update_from_json(struct fabric_agent *fa, const json_t *vnic,
                      uint32_t vni, const char *tenant, const json_t *subnets)
{
    const char *name = json_string_value(json_object_get(vnic, "name"));
    const char *mac = json_string_value(json_object_get(vnic, "mac"));
    struct eth_addr ea;
    if (!name || strlen(name) >= 64 || !mac || eth_addr_parse(mac, &ea)) {
        return;
    }
    struct vnic_info *v = vnic_find(fa, name);
    if (!v) {
        if (fa->n_vnics == FABRIC_MAX_VNICS) {
            return;
        }
        fa->vnics = vf_xrealloc(fa->vnics,
                                (fa->n_vnics + 1) * sizeof *fa->vnics);
        v = &fa->vnics[fa->n_vnics++];
        memset(v, 0, sizeof *v);
    }
    vf_be32 gateway = subnets ? gateway_of(subnets) : v->gateway;
    uint8_t gateway6[16];
    if (subnets) {
        gateway6_of(subnets, gateway6);
    } else {
        memcpy(gateway6, v->gateway6, 16);
    }
    memset(v, 0, sizeof *v);
    v->gateway = gateway;
    memcpy(v->gateway6, gateway6, 16);
    snprintf(v->name, sizeof v->name, "%s", name);
    snprintf(v->network, sizeof v->network, "%s",
             json_string_value(json_object_get(vnic, "network")) ?: "");
    snprintf(v->tenant, sizeof v->tenant, "%s", tenant ? tenant : "");
    v->mac = ea;
    v->vni = vni;
    vnic_identity_set_mac(&v->identity, &ea);
    size_t i;
    json_t *ip;
    struct vf_buf list = VF_BUF_INITIALIZER;
    json_array_foreach (json_object_get(vnic, "ips"), i, ip) {
        if (json_is_string(ip)) {
            vf_buf_printf(&list, "%s%s", list.len ? "," : "",
                          json_string_value(ip));
        }
    }
    if (list.len) {
        vnic_identity_parse_ips(&v->identity, vf_buf_cstr(&list), NULL);
    }
    vf_buf_uninit(&list);
}

static void claim(struct fabric_agent *fa, struct bound_port *bp);

static void
rebind(struct fabric_agent *fa, struct bound_port *bp)
{
    const struct vnic_info *v = vnic_find(fa, bp->vnic);
    if (!v || !v->vni) {
        if (bp->bound) {
            VF_LOG_INFO(fabric, "port %s: VNIC %s is not on this host: "
                        "unbound", dp_port_name(bp->port), bp->vnic);
        }
        dp_port_bind(fa->dp, bp->port, NULL);
        bp->bound = false;
        claim(fa, bp);
        return;
    }
    struct dp_vnic_binding b;
    memset(&b, 0, sizeof b);
    snprintf(b.name, sizeof b.name, "%s", v->name);
    b.vni = v->vni;
    b.gid = vf_hash_string(v->name, 0x76666162u);
    b.part = pcache_part_get(policy_client_cache(fa->pc), v->name);
    b.identity = v->identity;
    b.gateway = v->gateway;
    dp_port_bind(fa->dp, bp->port, &b);
    if (!bp->bound) {
        char mac[ETH_ADDR_STRLEN];
        VF_LOG_INFO(fabric, "port %s bound to VNIC %s (%s, VNI %u)",
                    dp_port_name(bp->port), v->name,
                    eth_addr_format(&v->mac, mac), v->vni);
    }
    bp->bound = true;
}

static void
rebind_all(struct fabric_agent *fa)
{
    for (size_t i = 0; i < fa->n_ports; i++) {
        rebind(fa, &fa->ports[i]);
    }
}

static void
claim(struct fabric_agent *fa, struct bound_port *bp)
{
    if (bp->claim_sent) {
        return;
    }
    bp->claim_sent = true;
    char *name = policy_rest_escape(bp->vnic);
    char *path = vf_xasprintf("/v1/vnics/%s", name);
    free(name);
    json_t *body = json_pack("{s:s}", "host", fa->host);
    job_start(fa, JOB_CLAIM, "PATCH", path, json_dumps(body, JSON_COMPACT));
    json_decref(body);
    fa->st.claims++;
}

static void
apply_vnic_list(struct fabric_agent *fa, const json_t *j, bool replace)
{
    if (replace) {
        fa->n_vnics = 0;
    }
    size_t i;
    json_t *e;
    json_array_foreach (json_object_get(j, "vnics"), i, e) {
        vnic_update_from_json(fa, json_object_get(e, "vnic"),
                              (uint32_t) json_integer_value(
                                  json_object_get(e, "vni")),
                              json_string_value(json_object_get(e, "tenant")),
                              json_object_get(e, "subnets"));
    }
    rebind_all(fa);
}

static void
refresh(struct fabric_agent *fa)
{
    char *host = policy_rest_escape(fa->host);
    job_start(fa, JOB_REFRESH, "GET",
              vf_xasprintf("/v1/hosts/%s/vnics", host), NULL);
    free(host);
}

static void
on_sync(void *aux, const json_t *vnics)
{
    struct fabric_agent *fa = aux;
    if (vnics) {
        apply_vnic_list(fa, vnics, true);
    }
}

/* VNI of 'network', if a known VNIC is in it. */
static uint32_t
network_vni(const struct fabric_agent *fa, const char *network)
{
    for (size_t i = 0; i < fa->n_vnics; i++) {
        if (!strcmp(fa->vnics[i].network, network)) {
            return fa->vnics[i].vni;
        }
    }
    return 0;
}

static void
on_change(void *aux, const json_t *rec)
{
    struct fabric_agent *fa = aux;
    fa->applied_version = (uint64_t) json_integer_value(
        json_object_get(rec, "version"));
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    fa->applied_wall_us = (int64_t) ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
    const char *kind = json_string_value(json_object_get(rec, "kind"));
    const char *name = json_string_value(json_object_get(rec, "name"));
    if (!kind || !name) {
        return;
    }
    if (!strcmp(kind, "network")) {
        refresh(fa);             /* A VNI may have changed. */
        return;
    }
    if (strcmp(kind, "vnic")) {
        return;
    }
    const json_t *obj = json_object_get(rec, "object");
    const char *host = json_string_value(json_object_get(obj, "host"));
    if (json_is_object(obj) && host && !strcmp(host, fa->host)) {
        const char *net = json_string_value(json_object_get(obj, "network"));
        uint32_t vni = net ? network_vni(fa, net) : 0;
        const struct vnic_info *old = vnic_find(fa, name);
        if (vni && old) {
            char tenant[64];
            snprintf(tenant, sizeof tenant, "%s", old->tenant);
            vnic_update_from_json(fa, obj, vni, tenant, NULL);
            rebind_all(fa);
        } else {
            refresh(fa);         /* Need its VNI and tenant. */
        }
    } else {
        vnic_remove(fa, name);
        rebind_all(fa);
    }
}

/* ---- Queues ---- */

static struct pend_q *
queue_find(struct fabric_agent *fa, const char *src,
           const struct pcache_key *key, vf_be32 nh, bool create)
{
    for (size_t i = 0; i < fa->n_queues; i++) {
        struct pend_q *q = &fa->queues[i];
        if (q->nh == nh && !strcmp(q->src, src)
            && !memcmp(&q->key, key, sizeof *key)) {
            return q;
        }
    }
    if (!create) {
        return NULL;
    }
    fa->queues = vf_xrealloc(fa->queues,
                             (fa->n_queues + 1) * sizeof *fa->queues);
    struct pend_q *q = &fa->queues[fa->n_queues++];
    memset(q, 0, sizeof *q);
    snprintf(q->src, sizeof q->src, "%s", src);
    q->key = *key;
    q->nh = nh;
    return q;
}

static void
queue_remove(struct fabric_agent *fa, struct pend_q *q)
{
    *q = fa->queues[--fa->n_queues];
}

/* Queues 'p' (taken).  Returns false (and frees it) when full. */
static bool
enqueue(struct fabric_agent *fa, struct pend_q *q, struct pkt *p,
        struct dp_port *in, uint8_t reason)
{
    if (q->n >= FABRIC_QUEUE_PER_DST || fa->n_queued >= FABRIC_QUEUE_TOTAL) {
        fa->st.queue_full++;
        pkt_free(NULL, p);
        return false;
    }
    struct pend_pkt *e = vf_xcalloc(1, sizeof *e);
    e->p = p;
    e->in = in;
    e->reason = reason;
    e->t = fa->now;
    if (q->tail) {
        q->tail->next = e;
    } else {
        q->head = e;
    }
    q->tail = e;
    q->n++;
    fa->n_queued++;
    fa->st.queued++;
    return true;
}

/* Takes the queue's frames out; returns the list. */
static struct pend_pkt *
queue_take(struct fabric_agent *fa, struct pend_q *q)
{
    struct pend_pkt *list = q->head;
    fa->n_queued -= q->n;
    queue_remove(fa, q);
    return list;
}

static void
expire_queues(struct fabric_agent *fa)
{
    for (size_t i = 0; i < fa->n_queues;) {
        struct pend_q *q = &fa->queues[i];
        while (q->head && fa->now - q->head->t >= FABRIC_QUEUE_TIMEOUT_NS) {
            struct pend_pkt *e = q->head;
            q->head = e->next;
            q->n--;
            fa->n_queued--;
            fa->st.expired++;
            pkt_free(NULL, e->p);
            free(e);
        }
        if (!q->head) {
            queue_remove(fa, q);
        } else {
            q->tail = q->head;
            while (q->tail->next) {
                q->tail = q->tail->next;
            }
            i++;
        }
    }
}

static void
flush_all_queues(struct fabric_agent *fa)
{
    while (fa->n_queues) {
        struct pend_pkt *e = queue_take(fa, &fa->queues[0]);
        while (e) {
            struct pend_pkt *next = e->next;
            pkt_free(NULL, e->p);
            free(e);
            e = next;
        }
    }
}

/* ---- Upcalls ---- */

static struct bound_port *
bound_of(struct fabric_agent *fa, const struct dp_port *port)
{
    for (size_t i = 0; i < fa->n_ports; i++) {
        if (fa->ports[i].port == port) {
            return &fa->ports[i];
        }
    }
    return NULL;
}

static struct pkt *
new_pkt(struct fabric_agent *fa)
{
    return pkt_alloc(NULL, dp_pool(fa->dp), PKT_CLASS_MTU, PKT_OWNER_SYSTEM);
}

static const struct eth_addr router_mac = DP_ROUTER_MAC;

/* Answers the ARP request or neighbor solicitation 'key' (received on
 * 'in') with 'mac': an ARP reply, or a neighbor advertisement with the
 * router flag if 'router'. */
static void
send_resolution(struct fabric_agent *fa, struct dp_port *in,
                const struct flow_key *key, const struct eth_addr *mac,
                bool router)
{
    struct pkt *out = new_pkt(fa);
    if (!out) {
        return;
    }
    bool arp = key->dl_type == VF_BE16(ETH_TYPE_ARP);
    int rc = arp ? reply_arp(out, key, mac)
                 : reply_nd_na(out, key, mac, router);
    if (rc) {
        pkt_free(NULL, out);
        return;
    }
    if (arp) {
        fa->st.arp_answered++;
    } else {
        fa->st.nd_answered++;
    }
    dp_agent_send(fa->dp, in, out);
}

/* Is 'key' an ARP request or neighbor solicitation for a gateway of
 * 'v' (IPv4 or IPv6)? */
static bool
asks_for_gateway(const struct vnic_info *v, const struct flow_key *key)
{
    if (key->dl_type == VF_BE16(ETH_TYPE_ARP)) {
        return v->gateway && key->nw_dst == v->gateway;
    }
    return key->dl_type == VF_BE16(ETH_TYPE_IPV6)
           && !ipv6_addr_is_zero(v->gateway6)
           && !memcmp(key->nd_target, v->gateway6, 16);
}

/* Answers ARP or ND for the VNIC's gateway with the distributed router's
 * MAC.  Returns true if it was such a request. */
static bool
answer_gateway(struct fabric_agent *fa, struct dp_port *in,
               const struct bound_port *bp, const struct flow_key *key)
{
    const struct vnic_info *v = vnic_find(fa, bp->vnic);
    if (!v || !asks_for_gateway(v, key)) {
        return false;
    }
    send_resolution(fa, in, key, &router_mac, true);
    return true;
}

/* Answers an ARP request or neighbor solicitation from its translation.
 * An address no VNIC owns may be the network's gateway: the distributed
 * router answers it then, so that a VM holding the first address of its
 * subnet is still reached as itself.  Returns false if the translation is
 * not cached yet. */
static bool
answer_resolve(struct fabric_agent *fa, struct dp_port *in,
               const struct bound_port *bp, const struct flow_key *key,
               const struct pcache_key *target)
{
    struct pcache_part *part = pcache_part_find(
        policy_client_cache(fa->pc), bp->vnic);
    const struct pcache_entry *e = part ? pcache_lookup(part, target,
                                                        fa->now, NULL)
                                        : NULL;
    if (!e) {
        return false;
    }
    if (e->status != PCACHE_OK && answer_gateway(fa, in, bp, key)) {
        return true;
    }
    if (e->status != PCACHE_OK || e->verdict == PCACHE_DENY
        || eth_addr_equals(&e->dst_mac, &key->dl_src)) {
        fa->st.resolve_unknown++;
        return true;             /* No answer: unknown, denied, or self. */
    }
    send_resolution(fa, in, key, &e->dst_mac, false);
    return true;
}

static bool
resolve_target(const struct flow_key *key, struct pcache_key *t)
{
    memset(t, 0, sizeof *t);
    if (key->dl_type == VF_BE16(ETH_TYPE_ARP)) {
        if (key->nw_src == key->nw_dst) {
            return false;        /* Gratuitous ARP: nothing to answer. */
        }
        t->type = PCACHE_KEY_IPV4;
        memcpy(t->addr, &key->nw_dst, 4);
        return true;
    }
    t->type = PCACHE_KEY_IPV6;
    memcpy(t->addr, key->nd_target, 16);
    return true;
}

static void
handle_resolve(struct fabric_agent *fa, struct dp_port *in, struct pkt *p,
               const struct flow_key *key, bool *taken)
{
    struct bound_port *bp = bound_of(fa, in);
    struct pcache_key t;
    if (!bp || !bp->bound || !resolve_target(key, &t)) {
        return;
    }
    if (answer_resolve(fa, in, bp, key, &t)) {
        return;
    }
    struct pend_q *q = queue_find(fa, bp->vnic, &t, 0, true);
    *taken = true;
    if (enqueue(fa, q, p, in, DP_UPCALL_FAB_RESOLVE)) {
        policy_client_request(fa->pc, bp->vnic, &t, fa->now);
    }
}

static void
handle_xlate(struct fabric_agent *fa, const char *src, struct dp_port *in,
             struct pkt *p, const struct pcache_key *k, uint8_t reason,
             bool *taken)
{
    struct pend_q *q = queue_find(fa, src, k, 0, true);
    bool first = q->n == 0;
    *taken = true;
    if (enqueue(fa, q, p, in, reason) && first) {
        policy_client_request(fa->pc, src, k, fa->now);
    }
}

static void
send_arp_probe(struct fabric_agent *fa, vf_be32 ip)
{
    if (!fa->uplink || !neigh_should_probe(fa->neigh, ip, fa->now)) {
        return;
    }
    struct pkt *out = new_pkt(fa);
    if (out) {
        reply_arp_request(out, &fa->vtep_mac, fa->fo.vtep_ip, ip);
        dp_agent_send(fa->dp, fa->uplink, out);
        fa->st.neigh_probes++;
    }
}

static void
handle_neigh(struct fabric_agent *fa, struct dp_port *in, struct pkt *p,
             const struct flow_key *key, bool *taken)
{
    struct bound_port *bp = bound_of(fa, in);
    struct pcache_part *part = bp ? pcache_part_find(
                                        policy_client_cache(fa->pc), bp->vnic)
                                  : NULL;
    struct pcache_key k;
    dp_fabric_mac_key(&k, &key->dl_dst);
    const struct pcache_entry *e = part ? pcache_lookup(part, &k, fa->now,
                                                        NULL)
                                        : NULL;
    if (!e && part && dp_fabric_ip_key(&k, key, true)) {
        e = pcache_lookup(part, &k, fa->now, NULL);   /* A routed frame. */
    }
    if (!e || e->underlay_family != 4) {
        return;
    }
    vf_be32 ip = vf_get_u32(e->underlay_ip);
    vf_be32 nh = (!fa->fo.gateway
                  || ipv4_in_prefix(ip, fa->fo.vtep_ip, fa->fo.plen))
                     ? ip : fa->fo.gateway;
    struct pcache_key none;
    memset(&none, 0, sizeof none);
    struct pend_q *q = queue_find(fa, "", &none, nh, true);
    *taken = true;
    enqueue(fa, q, p, in, DP_UPCALL_FAB_NEIGH);
    send_arp_probe(fa, nh);
}

static void
release_neigh(struct fabric_agent *fa, vf_be32 ip)
{
    struct pcache_key none;
    memset(&none, 0, sizeof none);
    struct pend_q *q = queue_find(fa, "", &none, ip, false);
    if (!q) {
        return;
    }
    for (struct pend_pkt *e = queue_take(fa, q), *next; e; e = next) {
        next = e->next;
        dp_agent_reinject(fa->dp, e->in, e->p);
        fa->st.reinjected++;
        free(e);
    }
}

static void
handle_vtep(struct fabric_agent *fa, struct pkt *p,
            const struct flow_key *key, const struct flow_parse_info *info)
{
    if (key->dl_type == VF_BE16(ETH_TYPE_ARP)) {
        fa->st.vtep_arp++;
        if (key->nw_src && !eth_addr_is_multicast(&key->arp_sha)) {
            neigh_update(fa->neigh, key->nw_src, &key->arp_sha, fa->now);
            release_neigh(fa, key->nw_src);
        }
        if (key->arp_op == VF_BE16(ARP_OP_REQUEST)
            && key->nw_dst == fa->fo.vtep_ip && fa->uplink) {
            struct pkt *out = new_pkt(fa);
            if (out && !reply_arp(out, key, &fa->vtep_mac)) {
                dp_agent_send(fa->dp, fa->uplink, out);
            } else {
                pkt_free(NULL, out);
            }
        }
        return;
    }
    if (key->nw_proto == IP_PROTO_ICMP
        && key->tp_src == VF_BE16(ICMP_ECHO_REQUEST) && fa->uplink) {
        struct pkt *out = new_pkt(fa);
        if (out && !reply_echo(out, key, pkt_data(p), p->size,
                               info->l3_ofs)) {
            fa->st.vtep_ping++;
            dp_agent_send(fa->dp, fa->uplink, out);
        } else {
            pkt_free(NULL, out);
        }
    }
}

/* Takes one ICMP error from the rate limit; false (counted) if none is
 * left: a VM that keeps sending oversized or TTL-1 frames cannot make the
 * agent flood errors (RFC 4443 2.4 (f), RFC 1812 4.3.2.8). */
static bool
icmp_error_allowed(struct fabric_agent *fa)
{
    if (meter_pass(&fa->icmp_errors, 0, fa->now)) {
        return true;
    }
    fa->st.icmp_limited++;
    return false;
}

/* Makes 'k', the key of a frame a VNIC (bound to 'in') sent to the
 * router (dl_src: the VNIC, dl_dst: the router MAC), the key from which
 * reply.c builds an ICMP error from the router: the destination IP
 * becomes the VNIC's gateway of that family, as a router on the path
 * sends errors from its own address (RFC 1812 4.3.2.4 asks for the
 * interface the packet came in on).  Returns false if the VNIC is not
 * known. */
static bool
routed_error_key(struct fabric_agent *fa, struct dp_port *in,
                 struct flow_key *k)
{
    const struct bound_port *bp = bound_of(fa, in);
    const struct vnic_info *v = bp ? vnic_find(fa, bp->vnic) : NULL;
    if (!v) {
        return false;
    }
    k->dl_src = v->mac;
    if (k->dl_type == VF_BE16(ETH_TYPE_IPV4) && v->gateway) {
        k->nw_dst = v->gateway;
    } else if (k->dl_type == VF_BE16(ETH_TYPE_IPV6)
               && !ipv6_addr_is_zero(v->gateway6)) {
        memcpy(k->ipv6_dst, v->gateway6, 16);
    }
    return true;
}

/* ICMP time exceeded, from the VNIC's gateway, for a frame to the router
 * whose TTL / hop limit ran out (traceroute's first hop). */
static void
handle_ttl(struct fabric_agent *fa, struct dp_port *in, struct pkt *p,
           const struct flow_key *key, const struct flow_parse_info *info)
{
    struct flow_key k = *key;
    if (!routed_error_key(fa, in, &k)) {
        return;
    }
    if (!icmp_error_allowed(fa)) {
        return;
    }
    struct pkt *out = new_pkt(fa);
    if (out && !reply_time_exceeded(out, &k, pkt_data(p), p->size,
                                    info->l3_ofs)) {
        fa->st.time_exceeded++;
        dp_agent_send(fa->dp, in, out);
    } else {
        pkt_free(NULL, out);
    }
}

static void
handle_too_big(struct fabric_agent *fa, struct dp_port *in, struct pkt *p,
               const struct flow_key *key,
               const struct flow_parse_info *info, uint32_t mtu)
{
    if (key->dl_type == VF_BE16(ETH_TYPE_IPV4)) {
        const uint8_t *ip = pkt_data(p) + info->l3_ofs;
        if (!(vf_get_u16(ip + 6) & VF_BE16(IPV4_DF))) {
            return;              /* May be fragmented by the sender. */
        }
    }
    /* A switched frame's error comes as if from its destination (the
     * virtual link is what is too narrow); a routed frame's from the
     * router (routed_error_key()). */
    struct flow_key k = *key;
    if (eth_addr_equals(&key->dl_src, &router_mac)) {
        k.dl_dst = router_mac;   /* Rewritten already: undo it. */
        if (!routed_error_key(fa, in, &k)) {
            return;
        }
    }
    if (!icmp_error_allowed(fa)) {
        return;
    }
    struct pkt *out = new_pkt(fa);
    if (out && !reply_too_big(out, &k, pkt_data(p), p->size, info->l3_ofs,
                              mtu)) {
        fa->st.too_big++;
        dp_agent_send(fa->dp, in, out);
    } else {
        pkt_free(NULL, out);
    }
}

static void
handle_rx_xlate(struct fabric_agent *fa, struct dp_port *in, struct pkt *p,
                uint32_t dst_port_no, bool *taken)
{
    struct flow_key outer, inner;
    struct flow_parse_info oi, ii;
    flow_parse(pkt_data(p), p->size, 0, &outer, &oi);
    if (!oi.tunnel
        || !flow_parse_inner(pkt_data(p), p->size, &outer, &oi, &inner,
                             &ii)) {
        return;
    }
    struct dp_port *dst = dp_port_by_no(fa->br, dst_port_no);
    struct bound_port *bp = dst ? bound_of(fa, dst) : NULL;
    if (!bp || !bp->bound) {
        return;
    }
    struct pcache_key k;
    if (!eth_addr_equals(&inner.dl_src, &router_mac)) {
        dp_fabric_mac_key(&k, &inner.dl_src);
    } else if (!dp_fabric_ip_key(&k, &inner, false)) {
        return;                  /* Routed, not IP: the datapath drops. */
    }
    handle_xlate(fa, bp->vnic, in, p, &k, DP_UPCALL_FAB_RX_XLATE, taken);
}

static void
upcall_cb(void *aux, struct dp_bridge *br, struct dp_port *in,
          uint8_t table, enum dp_upcall_reason reason, uint32_t arg,
          struct pkt *p, bool *taken)
{
    struct fabric_agent *fa = aux;
    (void) table;
    if ((unsigned) reason < DP_N_UPCALL_REASONS) {
        fa->st.upcalls[reason]++;
    }
    if (br != fa->br) {
        return;                  /* controller actions elsewhere: counted. */
    }
    struct flow_key key;
    struct flow_parse_info info;
    flow_parse(pkt_data(p), p->size, 0, &key, &info);
    switch (reason) {
    case DP_UPCALL_FAB_XLATE: {
        struct bound_port *bp = bound_of(fa, in);
        if (bp && bp->bound) {
            struct pcache_key k;
            bool known = true;
            if (eth_addr_equals(&key.dl_dst, &router_mac)) {
                known = dp_fabric_ip_key(&k, &key, true);   /* By its IP. */
            } else {
                dp_fabric_mac_key(&k, &key.dl_dst);
            }
            if (known) {
                handle_xlate(fa, bp->vnic, in, p, &k, reason, taken);
            }
        }
        break;
    }
    case DP_UPCALL_FAB_RESOLVE:
        handle_resolve(fa, in, p, &key, taken);
        break;
    case DP_UPCALL_FAB_NEIGH:
        handle_neigh(fa, in, p, &key, taken);
        break;
    case DP_UPCALL_FAB_RX_XLATE:
        handle_rx_xlate(fa, in, p, arg, taken);
        break;
    case DP_UPCALL_FAB_VTEP:
        handle_vtep(fa, p, &key, &info);
        break;
    case DP_UPCALL_FAB_TOO_BIG:
        handle_too_big(fa, in, p, &key, &info, arg);
        break;
    case DP_UPCALL_FAB_TTL:
        handle_ttl(fa, in, p, &key, &info);
        break;
    case DP_UPCALL_ACTION:
    case DP_UPCALL_MISS:
    default:
        break;
    }
}

/* A translation was answered (or given up). */
static void
on_xlate(void *aux, const char *src, const struct pcache_key *dst,
         const struct pcache_entry *entry, int error)
{
    struct fabric_agent *fa = aux;
    struct pend_q *q = queue_find(fa, src, dst, 0, false);
    if (!q) {
        return;
    }
    struct pend_pkt *e = queue_take(fa, q);
    while (e) {
        struct pend_pkt *next = e->next;
        if (!entry) {
            fa->st.xlate_failed++;
            pkt_free(NULL, e->p);
        } else if (e->reason == DP_UPCALL_FAB_RESOLVE) {
            struct flow_key key;
            struct flow_parse_info info;
            struct bound_port *bp = bound_of(fa, e->in);
            flow_parse(pkt_data(e->p), e->p->size, 0, &key, &info);
            if (bp) {
                answer_resolve(fa, e->in, bp, &key, dst);
            }
            pkt_free(NULL, e->p);
        } else {
            dp_agent_reinject(fa->dp, e->in, e->p);
            fa->st.reinjected++;
        }
        free(e);
        e = next;
    }
    (void) error;
}

/* ---- Life cycle ---- */

struct fabric_agent *
fabric_agent_create(const struct fabric_agent_config *c, char **errp)
{
    if (!c->server_url || !c->host || !c->token) {
        *errp = vf_xstrdup("the fabric needs --fabric-server, --fabric-host "
                           "and --fabric-token-file");
        return NULL;
    }
    struct fabric_agent *fa = vf_xcalloc(1, sizeof *fa);
    fa->url = vf_xstrdup(c->server_url);
    fa->host = vf_xstrdup(c->host);
    fa->token = vf_xstrdup(c->token);
    fa->dp = c->dp;
    struct meter_config icmp = {.id = 1, .unit = METER_PKTPS,
                                .rate = FABRIC_ICMP_ERRORS_PER_S,
                                .burst = FABRIC_ICMP_ERRORS_BURST};
    meter_init(&fa->icmp_errors, &icmp, 0);
    pthread_mutex_init(&fa->lock, NULL);
    fa->job_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    fa->neigh = neigh_table_create(0x6e656967u);
    struct policy_client_config pcc = {
        .server_url = c->server_url, .token = c->token, .host = c->host,
        .on_xlate = on_xlate, .on_change = on_change, .on_sync = on_sync,
        .aux = fa,
    };
    fa->pc = policy_client_create(&pcc, errp);
    if (!fa->pc || fa->job_fd < 0) {
        fabric_agent_destroy(fa);
        return NULL;
    }
    dp_set_upcall_cb(c->dp, upcall_cb, fa);
    return fa;
}

void
fabric_agent_destroy(struct fabric_agent *fa)
{
    if (!fa) {
        return;
    }
    flush_all_queues(fa);
    /* Workers write their results into 'fa': wait for them (each ends
     * within one REST timeout, 3 s). */
    for (int i = 0; i < 500 && atomic_load(&fa->n_workers); i++) {
        usleep(10000);
    }
    pthread_mutex_lock(&fa->lock);
    struct job *j = fa->done;
    fa->done = NULL;
    pthread_mutex_unlock(&fa->lock);
    while (j) {
        struct job *next = j->next;
        job_free(j);
        j = next;
    }
    if (fa->dp) {
        dp_set_upcall_cb(fa->dp, NULL, NULL);
    }
    policy_client_destroy(fa->pc);
    neigh_table_destroy(fa->neigh);
    if (fa->job_fd >= 0) {
        close(fa->job_fd);
    }
    free(fa->vnics);
    free(fa->ports);
    free(fa->queues);
    free(fa->url);
    free(fa->host);
    free(fa->token);
    free(fa);
}

static int
read_mac(const char *ifname, struct eth_addr *mac)
{
    char path[128], buf[32];
    snprintf(path, sizeof path, "/sys/class/net/%s/address", ifname);
    FILE *f = fopen(path, "r");
    if (!f) {
        return -errno;
    }
    char *s = fgets(buf, sizeof buf, f);
    fclose(f);
    if (!s) {
        return -EIO;
    }
    buf[strcspn(buf, "\n")] = '\0';
    return eth_addr_parse(buf, mac);
}

static int
configure_dp(struct fabric_agent *fa, char **errp)
{
    struct dp_fabric_config cfg = {
        .tunnel = (enum tunnel_type) fa->fo.tunnel,
        .vtep_ip = fa->fo.vtep_ip,
        .plen = fa->fo.plen,
        .gateway = fa->fo.gateway,
        .vtep_mac = fa->vtep_mac,
        .uplink_port_no = fa->uplink ? dp_port_no(fa->uplink) : 0,
        .underlay_mtu = fa->fo.mtu,
        .cache = policy_client_cache(fa->pc),
        .neigh = fa->neigh,
    };
    return dp_bridge_set_fabric(fa->dp, fa->br, &cfg, errp);
}

int
fabric_agent_attach(struct fabric_agent *fa, struct dp_bridge *br,
                    const struct fabric_options *fo, char **errp)
{
    if (fa->br && fa->br != br) {
        *errp = vf_xasprintf("bridge %s is already this host's fabric "
                             "bridge (one per vfabd)",
                             dp_bridge_name(fa->br));
        return -EBUSY;
    }
    fa->br = br;
    fa->fo = *fo;
    int rc = configure_dp(fa, errp);
    if (rc) {
        fa->br = NULL;
    }
    return rc;
}

void
fabric_agent_detach(struct fabric_agent *fa, struct dp_bridge *br)
{
    if (fa && fa->br == br) {
        flush_all_queues(fa);
        fa->br = NULL;
        fa->uplink = NULL;
        fa->n_ports = 0;
    }
}

bool
fabric_agent_is_fabric_bridge(const struct fabric_agent *fa,
                              const struct dp_bridge *br)
{
    return fa && br && fa->br == br;
}

void
fabric_agent_port_added(struct fabric_agent *fa, struct dp_bridge *br,
                        struct dp_port *port, const char *vnic)
{
    if (!fa || br != fa->br) {
        return;
    }
    if (!strcmp(dp_port_name(port), fa->fo.uplink)) {
        fa->uplink = port;
        if (read_mac(dp_port_name(port), &fa->vtep_mac)) {
            VF_LOG_WARN(fabric, "uplink %s: cannot read its MAC",
                        dp_port_name(port));
        }
        char *err = NULL;
        if (configure_dp(fa, &err)) {
            VF_LOG_ERR(fabric, "uplink %s: %s", dp_port_name(port), err);
            free(err);
        }
        VF_LOG_INFO(fabric, "uplink %s: VTEP up", dp_port_name(port));
        return;
    }
    if (!vnic || !*vnic) {
        return;
    }
    fa->ports = vf_xrealloc(fa->ports, (fa->n_ports + 1) * sizeof *fa->ports);
    struct bound_port *bp = &fa->ports[fa->n_ports++];
    memset(bp, 0, sizeof *bp);
    bp->port = port;
    snprintf(bp->vnic, sizeof bp->vnic, "%s", vnic);
    rebind(fa, bp);
}

static void
drop_queued_from(struct fabric_agent *fa, const struct dp_port *port)
{
    for (size_t i = 0; i < fa->n_queues; i++) {
        struct pend_q *q = &fa->queues[i];
        struct pend_pkt **pp = &q->head;
        q->tail = NULL;
        while (*pp) {
            struct pend_pkt *e = *pp;
            if (e->in == port) {
                *pp = e->next;
                q->n--;
                fa->n_queued--;
                pkt_free(NULL, e->p);
                free(e);
            } else {
                q->tail = e;
                pp = &e->next;
            }
        }
    }
}

void
fabric_agent_port_removed(struct fabric_agent *fa, struct dp_bridge *br,
                          struct dp_port *port)
{
    if (!fa || br != fa->br) {
        return;
    }
    drop_queued_from(fa, port);
    if (port == fa->uplink) {
        fa->uplink = NULL;
        char *err = NULL;
        if (configure_dp(fa, &err)) {
            free(err);
        }
        return;
    }
    struct bound_port *bp = bound_of(fa, port);
    if (bp) {
        dp_port_bind(fa->dp, port, NULL);
        *bp = fa->ports[--fa->n_ports];
    }
}

static void
register_host(struct fabric_agent *fa)
{
    fa->host_registered = true;
    char *host = policy_rest_escape(fa->host);
    json_t *body = json_pack("{s:[s,s,s], s:i}", "capabilities", "vxlan",
                             "geneve", "gso", "state_format",
                             FABRIC_STATE_FORMAT);
    job_start(fa, JOB_HOST, "PATCH", vf_xasprintf("/v1/hosts/%s", host),
              json_dumps(body, JSON_COMPACT));
    json_decref(body);
    free(host);
}

static void
process_jobs(struct fabric_agent *fa)
{
    uint64_t v;
    if (read(fa->job_fd, &v, sizeof v) < 0) {
        /* Nothing signalled; the list may still hold results. */
    }
    pthread_mutex_lock(&fa->lock);
    struct job *j = fa->done;
    fa->done = NULL;
    pthread_mutex_unlock(&fa->lock);
    while (j) {
        struct job *next = j->next;
        bool ok = !j->error && j->status >= 200 && j->status < 300;
        if (j->kind == JOB_REFRESH && ok) {
            json_t *json = json_loads(j->answer, 0, NULL);
            if (json) {
                apply_vnic_list(fa, json, true);
                json_decref(json);
            }
        } else if (!ok) {
            if (j->kind == JOB_CLAIM) {
                fa->st.claim_failures++;
                for (size_t i = 0; i < fa->n_ports; i++) {
                    if (!fa->ports[i].bound) {
                        fa->ports[i].claim_sent = false;   /* Retry. */
                    }
                }
            }
            VF_LOG_WARN_RL(fabric, "%s %s: %s", j->method, j->path,
                        j->error ? j->error
                                 : (j->answer ? j->answer : "failed"));
            if (j->kind == JOB_HOST) {
                fa->host_registered = false;     /* Retry later. */
            }
        }
        job_free(j);
        j = next;
    }
}

void
fabric_agent_run(struct fabric_agent *fa, int64_t now)
{
    fa->now = now;
    policy_client_run(fa->pc, now);
    process_jobs(fa);
    expire_queues(fa);
    struct policy_client_status st;
    policy_client_get_status(fa->pc, &st);
    if (st.reachable && !fa->host_registered) {
        register_host(fa);
    }
    if (st.reachable && now >= fa->next_claim_retry) {
        fa->next_claim_retry = now + 5 * 1000000000ll;
        for (size_t i = 0; i < fa->n_ports; i++) {
            if (!fa->ports[i].bound) {
                claim(fa, &fa->ports[i]);
            }
        }
    }
}

size_t
fabric_agent_wait(struct fabric_agent *fa, struct pollfd *fds, size_t max,
                  int64_t now, int64_t *deadline)
{
    size_t n = 0;
    if (max) {
        fds[n++] = (struct pollfd) {.fd = fa->job_fd, .events = POLLIN};
    }
    n += policy_client_wait(fa->pc, fds + n, max - n, now, deadline);
    if (fa->n_queued && *deadline > now + 100 * 1000000ll) {
        *deadline = now + 100 * 1000000ll;
    }
    return n;
}

/* ---- Observability ---- */

json_t *
fabric_agent_status_json(struct fabric_agent *fa)
{
    struct policy_client_status st;
    policy_client_get_status(fa->pc, &st);
    json_t *j = json_pack(
        "{s:s, s:s, s:b, s:b, s:I, s:I, s:s}", "server", fa->url, "host",
        fa->host, "reachable", st.reachable, "synced", st.synced, "version",
        (json_int_t) st.version, "pending", (json_int_t) st.pending,
        "last_error", st.last_error);
    if (!st.reachable && st.unreachable_since_wall_ms) {
        json_object_set_new(j, "unreachable_since_ms",
                            json_integer(st.unreachable_since_wall_ms));
    }
    json_object_set_new(j, "applied",
                        json_pack("{s:I, s:I}", "version",
                                  (json_int_t) fa->applied_version,
                                  "wall_us",
                                  (json_int_t) fa->applied_wall_us));
    if (fa->br) {
        char ip[IPV4_STRLEN], mac[ETH_ADDR_STRLEN];
        json_object_set_new(
            j, "bridge",
            json_pack("{s:s, s:s, s:s, s:s, s:s}", "name",
                      dp_bridge_name(fa->br), "tunnel",
                      tunnel_type_name((enum tunnel_type) fa->fo.tunnel),
                      "vtep", ipv4_format(fa->fo.vtep_ip, ip), "vtep_mac",
                      eth_addr_format(&fa->vtep_mac, mac), "uplink",
                      fa->uplink ? dp_port_name(fa->uplink) : "(missing)"));
    }
    json_t *ports = json_array();
    for (size_t i = 0; i < fa->n_ports; i++) {
        struct bound_port *bp = &fa->ports[i];
        const struct vnic_info *v = vnic_find(fa, bp->vnic);
        json_t *pj = json_pack("{s:s, s:s, s:b}", "port",
                               dp_port_name(bp->port), "vnic", bp->vnic,
                               "bound", bp->bound);
        if (v) {
            json_object_set_new(pj, "vni", json_integer(v->vni));
            json_object_set_new(pj, "network", json_string(v->network));
        }
        struct pcache_part *part = pcache_part_find(
            policy_client_cache(fa->pc), bp->vnic);
        if (part) {
            struct pcache_part_stats ps;
            pcache_part_get_stats(part, &ps);
            json_object_set_new(
                pj, "translations",
                json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "entries",
                          (json_int_t) ps.entries, "capacity",
                          (json_int_t) ps.capacity, "hits",
                          (json_int_t) ps.hits, "misses",
                          (json_int_t) ps.misses, "stale_hits",
                          (json_int_t) ps.stale_hits, "evictions",
                          (json_int_t) ps.evictions, "invalidations",
                          (json_int_t) ps.invalidations));
        }
        json_array_append_new(ports, pj);
    }
    json_object_set_new(j, "vnics", ports);
    vf_be32 ips[64];
    struct eth_addr macs[64];
    int64_t ages[64];
    uint32_t n = VF_MIN(neigh_dump(fa->neigh, ips, macs, ages, fa->now, 64),
                        64u);
    json_t *nj = json_array();
    for (uint32_t i = 0; i < n; i++) {
        char ip[IPV4_STRLEN], mac[ETH_ADDR_STRLEN];
        json_array_append_new(nj, json_pack("{s:s, s:s, s:I}", "ip",
                                            ipv4_format(ips[i], ip), "mac",
                                            eth_addr_format(&macs[i], mac),
                                            "age_s",
                                            (json_int_t) (ages[i]
                                                          / 1000000000ll)));
    }
    json_object_set_new(j, "neighbours", nj);
    json_object_set_new(
        j, "counters",
        json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I,"
                  " s:I, s:I, s:I, s:I, s:I}",
                  "queued", (json_int_t) fa->st.queued, "queue_full",
                  (json_int_t) fa->st.queue_full, "expired",
                  (json_int_t) fa->st.expired, "reinjected",
                  (json_int_t) fa->st.reinjected, "xlate_failed",
                  (json_int_t) fa->st.xlate_failed, "arp_answered",
                  (json_int_t) fa->st.arp_answered, "nd_answered",
                  (json_int_t) fa->st.nd_answered, "resolve_unknown",
                  (json_int_t) fa->st.resolve_unknown, "vtep_arp",
                  (json_int_t) fa->st.vtep_arp, "vtep_ping",
                  (json_int_t) fa->st.vtep_ping, "neigh_probes",
                  (json_int_t) fa->st.neigh_probes, "too_big",
                  (json_int_t) fa->st.too_big, "time_exceeded",
                  (json_int_t) fa->st.time_exceeded, "icmp_limited",
                  (json_int_t) fa->st.icmp_limited, "claims",
                  (json_int_t) fa->st.claims, "claim_failures",
                  (json_int_t) fa->st.claim_failures));
    return j;
}

static int
show_cmd(const struct ctl_request *req, void *aux, json_t **resultp,
         char **errp)
{
    (void) req;
    (void) errp;
    *resultp = fabric_agent_status_json(aux);
    return 0;
}

/* fabric/translate VNIC DST: the translation the datapath uses now. */
static int
translate_cmd(const struct ctl_request *req, void *aux, json_t **resultp,
              char **errp)
{
    struct fabric_agent *fa = aux;
    struct pcache_key k;
    if (pcache_key_parse(req->args[1], &k)) {
        *errp = vf_xasprintf("'%.64s' is not a MAC, IPv4 or IPv6 address",
                             req->args[1]);
        return -EINVAL;
    }
    struct pcache_part *part = pcache_part_find(policy_client_cache(fa->pc),
                                                req->args[0]);
    if (!part) {
        *errp = vf_xasprintf("no VNIC %.64s on this host", req->args[0]);
        return -ENOENT;
    }
    enum pcache_result res;
    const struct pcache_entry *e = pcache_lookup(part, &k, fa->now, &res);
    if (!e) {
        policy_client_request(fa->pc, req->args[0], &k, fa->now);
        *resultp = json_pack("{s:s, s:s, s:s}", "src_vnic", req->args[0],
                             "dst", req->args[1], "cached", "no (requested)");
        return 0;
    }
    static const char *const status[] = {"ok", "not_found", "unplaced",
                                         "no_such_src", "forbidden"};
    static const char *const verdict[] = {"deny", "allow", "filtered"};
    char mac[ETH_ADDR_STRLEN], ip[IPV6_STRLEN];
    json_t *j = json_pack("{s:s, s:s, s:s, s:s, s:s, s:b, s:I}", "src_vnic",
                          req->args[0], "dst", req->args[1], "cached",
                          res == PCACHE_HIT_STALE ? "stale" : "yes", "status",
                          status[e->status], "verdict", verdict[e->verdict],
                          "local", e->local, "version",
                          (json_int_t) e->version);
    if (e->vni) {
        json_object_set_new(j, "vni", json_integer(e->vni));
        json_object_set_new(j, "dst_mac",
                            json_string(eth_addr_format(&e->dst_mac, mac)));
    }
    if (e->underlay_family == 4) {
        vf_be32 v4;
        memcpy(&v4, e->underlay_ip, 4);
        json_object_set_new(j, "underlay_ip",
                            json_string(ipv4_format(v4, ip)));
    } else if (e->underlay_family == 6) {
        json_object_set_new(j, "underlay_ip",
                            json_string(ipv6_format(e->underlay_ip, ip)));
    }
    *resultp = j;
    return 0;
}

void
fabric_agent_register_commands(struct fabric_agent *fa)
{
    VF_VERIFY(!ctl_command_register("fabric/show", "", 0, 0, show_cmd, fa));
    VF_VERIFY(!ctl_command_register("fabric/translate", "VNIC DST", 2, 2,
                                    translate_cmd, fa));
}
