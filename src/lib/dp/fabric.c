/* SPDX-License-Identifier: Apache-2.0 */
/* Fabric bridges, datapath side: theory of operation.
 *
 * From a VNIC (the learning switch's place, ACTION_NORMAL):
 *
 *   ARP request / neighbor solicitation -> agent answers locally
 *       (DP_UPCALL_FAB_RESOLVE): no broadcast crosses the fabric for them
 *   other broadcast / multicast         -> the VNICs of the same virtual
 *                                          network on this host only
 *   unicast -> the VNIC's translation partition, keyed by destination MAC
 *       miss            -> agent (DP_UPCALL_FAB_XLATE), which queues the
 *                          frame and asks vfab-policyd
 *       deny / filtered -> dropped ("policy"), counted at the source host
 *       local           -> the destination VNIC's port
 *       remote          -> segment GSO frames, complete checksums,
 *                          encapsulate (overlay/tunnel.h) to the remote
 *                          VTEP via the underlay next hop (overlay/neigh.h;
 *                          unresolved -> DP_UPCALL_FAB_NEIGH), out of the
 *                          uplink; an inner frame too big for the underlay
 *                          goes to the agent, which answers with ICMP
 *                          "fragmentation needed" / "packet too big"
 *
 * Routing (the distributed router), IPv4 and IPv6 alike: a VNIC's
 * gateways (the first address of its network's first IPv4 subnet and of
 * its first IPv6 subnet, e.g. 10.1.0.1 and fd00:1::1) are answered by the
 * agent with DP_ROUTER_MAC on every host: ARP replies, and neighbor
 * advertisements with the router flag; a VNIC that owns such an address
 * is answered as itself instead.  A frame sent to that MAC is routed by
 * the translation of its destination IP (dp_fabric_ip_key();
 * the server resolves it in the source's tenant):
 *
 *   ARP request / NS (unicast: NUD) -> agent (DP_UPCALL_FAB_RESOLVE)
 *   not IPv4 / IPv6                 -> dropped ("no_dest")
 *   miss, deny                      -> as for unicast above
 *   TTL / hop limit <= 1            -> dropped ("loop"); the agent sends
 *                                      ICMP time exceeded from the
 *                                      gateway (DP_UPCALL_FAB_TTL)
 *   otherwise -> MACs rewritten (router -> destination VNIC), TTL or hop
 *                limit decremented, IPv4 checksum fixed (dp_commit_key),
 *                then delivered or encapsulated with the destination
 *                network's VNI
 *
 * Cross-network traffic obeys the tenant's policies (default deny).  On
 * the receiving host, a routed frame's source (the router MAC) is checked
 * by its inner source IP (v4 or v6) instead of its MAC.
 *
 * From the uplink: a VXLAN/Geneve frame to our VTEP address is
 * decapsulated; it is delivered only if its VNI is that of a local VNIC
 * and the destination VNIC's own translation of the inner source MAC says
 * that source is in that virtual network behind exactly the outer source
 * VTEP (the model check; a miss goes to the agent still encapsulated,
 * DP_UPCALL_FAB_RX_XLATE).  ARP and pings for our VTEP address go to the
 * agent (DP_UPCALL_FAB_VTEP); everything else is dropped ("not_for_us").
 *
 * Everything here runs inside the datapath thread's read-side section:
 * bindings, the fabric configuration, translation entries and neighbours
 * are RCU-published by the agent and may be used until the section ends. */
#include <string.h>

#include "dp/dp-private.h"
#include "net/addr.h"
#include "net/gso.h"

const struct vnic_identity *
dp_port_identity(const struct dp_port *port)
{
    const struct dp_vnic_binding *b = vf_rcu_get(port->bind);
    return b ? &b->identity : &port->identity;
}

static const struct dp_fabric *
fabric_of(const struct dp_ctx *c)
{
    return vf_rcu_get(c->br->fabric);
}

/* The local port bound to a VNIC with 'mac' in virtual network 'vni'. */
static struct dp_port *
local_port(const struct dp_ctx *c, uint32_t vni, const struct eth_addr *mac)
{
    for (uint32_t i = 0; i < c->ports->n; i++) {
        struct dp_port *p = c->ports->list[i];
        const struct dp_vnic_binding *b = vf_rcu_get(p->bind);
        if (b && b->vni == vni && eth_addr_equals(&b->identity.mac, mac)) {
            return p;
        }
    }
    return NULL;
}

/* Copies 'p' to every local VNIC of 'vni' but 'except'; takes 'p' if
 * 'last'. */
static void
flood_local(struct dp_ctx *c, struct pkt *p, uint32_t vni,
            const struct dp_port *except, bool last)
{
    struct dp_port *prev = NULL;
    for (uint32_t i = 0; i < c->ports->n; i++) {
        struct dp_port *out = c->ports->list[i];
        const struct dp_vnic_binding *b = vf_rcu_get(out->bind);
        if (out == except || !b || b->vni != vni) {
            continue;
        }
        if (prev) {
            struct pkt *copy = pkt_clone(c->t->cache, p, p->owner);
            if (copy) {
                dp_output(c->t, prev, copy);
            }
        }
        prev = out;
    }
    if (prev) {
        dp_output(c->t, prev, last ? p : pkt_clone(c->t->cache, p, p->owner));
    } else if (last) {
        pkt_free(c->t->cache, p);
    }
}

static bool
is_resolution_request(const struct flow_key *k)
{
    if (k->dl_type == VF_BE16(ETH_TYPE_ARP)) {
        return k->arp_op == VF_BE16(ARP_OP_REQUEST);
    }
    return k->dl_type == VF_BE16(ETH_TYPE_IPV6)
           && k->nw_proto == IP_PROTO_ICMPV6
           && k->tp_src == VF_BE16(ND_NEIGHBOR_SOLICIT);
}

/* Does the translation let this frame through? */
static bool
allowed(const struct pcache_entry *e, const struct flow_key *k)
{
    if (e->status != PCACHE_OK || e->verdict == PCACHE_DENY) {
        return false;
    }
    if (!flow_key_is_ip(k)) {
        return true;             /* ARP replies and the like: the path. */
    }
    int port = (k->nw_proto == IP_PROTO_TCP || k->nw_proto == IP_PROTO_UDP
                || k->nw_proto == IP_PROTO_SCTP)
                   ? vf_ntohs(k->tp_dst) : -1;
    return pcache_entry_allows(e, k->nw_proto, port);
}

void
dp_fabric_mac_key(struct pcache_key *key, const struct eth_addr *mac)
{
    memset(key, 0, sizeof *key);
    key->type = PCACHE_KEY_MAC;
    memcpy(key->addr, mac->ea, 6);
}

/* Encapsulates one non-GSO frame and queues it on the uplink. */
static void
encap_one(struct dp_ctx *c, struct pkt *p, const struct tunnel_encap *e,
          struct dp_port *uplink)
{
    if ((p->flags & PKT_F_OFFLOAD) && p->offload.needs_csum
        && gso_complete_csum(p)) {
        dp_drop(c, p, DP_DROP_MALFORMED);
        return;
    }
    p->flags &= (uint8_t) ~PKT_F_OFFLOAD;
    if (tunnel_encap(p, e, p->rss_hash)) {
        dp_drop(c, p, DP_DROP_NO_BUFFER);
        return;
    }
    dp_output(c->t, uplink, p);
}

static void
send_remote(struct dp_ctx *c, struct pkt *p, const struct dp_fabric *fab,
            const struct dp_vnic_binding *b, const struct pcache_entry *e)
{
    const struct dp_fabric_config *cfg = &fab->cfg;
    struct dp_port *uplink = cfg->uplink_port_no <= c->ports->max_no
                                 ? c->ports->by_no[cfg->uplink_port_no]
                                 : NULL;
    if (!uplink || e->underlay_family != 4) {
        dp_drop(c, p, DP_DROP_NO_DEST);
        return;
    }
    vf_be32 dst_ip = vf_get_u32(e->underlay_ip);
    vf_be32 nh = (!cfg->gateway
                  || ipv4_in_prefix(dst_ip, cfg->vtep_ip, cfg->plen))
                     ? dst_ip : cfg->gateway;
    struct tunnel_encap enc = {
        .type = cfg->tunnel, .vni = e->vni, .src_mac = cfg->vtep_mac,
        .src_ip = cfg->vtep_ip, .dst_ip = dst_ip, .src_gid = b->gid,
    };
    if (!neigh_lookup(cfg->neigh, nh, &enc.dst_mac)) {
        dp_upcall(c, p, 0, DP_UPCALL_FAB_NEIGH, 0, true);
        return;
    }
    bool gso = (p->flags & PKT_F_OFFLOAD)
               && p->offload.gso_type != PKT_GSO_NONE;
    if (!gso) {
        if (p->size > fab->max_inner) {
            dp_upcall(c, p, 0, DP_UPCALL_FAB_TOO_BIG, fab->max_inner - 14,
                      true);
            return;
        }
        encap_one(c, p, &enc, uplink);
        return;
    }
    uint32_t seg_size = p->offload.csum_start + p->offload.gso_size
                        + (p->offload.gso_type == PKT_GSO_UDP ? 8 : 0);
    if (seg_size > fab->max_inner + 60) {
        dp_upcall(c, p, 0, DP_UPCALL_FAB_TOO_BIG, fab->max_inner - 14, true);
        return;
    }
    if (dp_accel_send_tso(c, p, &enc, uplink, fab)) {
        return;                  /* Sent as UDP GSO frame(s). */
    }
    static __thread struct pkt *segs[GSO_MAX_SEGS];
    int n = gso_segment(c->t->cache, p, 0, segs, GSO_MAX_SEGS);
    if (n < 0) {
        dp_drop(c, p, n == -EINVAL ? DP_DROP_MALFORMED : DP_DROP_NO_BUFFER);
        return;
    }
    for (int i = 0; i < n; i++) {
        if (segs[i]->size > fab->max_inner) {
            /* MSS + TCP options larger than the path: tell the sender. */
            pkt_free_burst(c->t->cache, segs + i, (uint32_t) (n - i));
            dp_upcall(c, p, 0, DP_UPCALL_FAB_TOO_BIG, fab->max_inner - 14,
                      true);
            return;
        }
        segs[i]->rss_hash = p->rss_hash;
        encap_one(c, segs[i], &enc, uplink);
    }
    pkt_free(c->t->cache, p);
}

static const struct eth_addr router_mac = DP_ROUTER_MAC;

bool
dp_fabric_ip_key(struct pcache_key *key, const struct flow_key *k, bool dst)
{
    memset(key, 0, sizeof *key);
    if (k->dl_type == VF_BE16(ETH_TYPE_IPV4)) {
        key->type = PCACHE_KEY_IPV4;
        memcpy(key->addr, dst ? &k->nw_dst : &k->nw_src, 4);
        return true;
    }
    if (k->dl_type == VF_BE16(ETH_TYPE_IPV6)) {
        key->type = PCACHE_KEY_IPV6;
        memcpy(key->addr, dst ? k->ipv6_dst : k->ipv6_src, 16);
        return true;
    }
    return false;
}

/* The translation of 'k' for VNIC 'b', if it lets 'p' (key 'key')
 * through; otherwise 'p' is taken (upcall on a miss, drop on a denial)
 * and NULL returned. */
static const struct pcache_entry *
translate(struct dp_ctx *c, struct pkt *p, const struct dp_vnic_binding *b,
          const struct pcache_key *k, const struct flow_key *key)
{
    const struct pcache_entry *e = pcache_lookup(b->part, k, c->t->now,
                                                 NULL);
    if (!e) {
        dp_upcall(c, p, 0, DP_UPCALL_FAB_XLATE, 0, true);
        return NULL;
    }
    if (!allowed(e, key)) {
        dp_drop(c, p, DP_DROP_POLICY);
        return NULL;
    }
    return e;
}

/* Sends 'p' (taken) where translation 'e' says: a local VNIC, or a remote
 * host through the tunnel. */
static void
deliver(struct dp_ctx *c, struct pkt *p, const struct dp_fabric *fab,
        const struct dp_vnic_binding *b, const struct pcache_entry *e)
{
    if (!e->local) {
        send_remote(c, p, fab, b, e);
        return;
    }
    struct dp_port *out = local_port(c, e->vni, &e->dst_mac);
    if (out && out != c->in) {
        dp_output(c->t, out, p);
    } else {
        dp_drop(c, p, DP_DROP_NO_DEST);
    }
}

/* Routes 'p' (taken), sent by VNIC 'b' to the router MAC: IPv4 or IPv6
 * (nw_ttl is the TTL or the hop limit). */
static void
route(struct dp_ctx *c, struct pkt *p, const struct flow_key *key,
      const struct dp_fabric *fab, const struct dp_vnic_binding *b)
{
    if (is_resolution_request(key)) {
        /* A unicast ARP request or neighbor solicitation to the router:
         * the VM's neighbour unreachability detection (RFC 4861 7.3.3)
         * checking its gateway.  The agent answers it. */
        dp_upcall(c, p, 0, DP_UPCALL_FAB_RESOLVE, 0, true);
        return;
    }
    struct pcache_key k;
    if (!dp_fabric_ip_key(&k, key, true)) {
        dp_drop(c, p, DP_DROP_NO_DEST);
        return;
    }
    const struct pcache_entry *e = translate(c, p, b, &k, key);
    if (!e) {
        return;
    }
    if (key->nw_ttl <= 1) {
        /* Dropped here; the agent tells the sender (traceroute). */
        dp_count_drop(c->in, DP_DROP_LOOP, 1);
        dp_upcall(c, p, 0, DP_UPCALL_FAB_TTL, 0, true);
        return;
    }
    struct flow_key nk = *key;
    nk.dl_src = router_mac;
    nk.dl_dst = e->dst_mac;
    nk.nw_ttl--;
    dp_commit_key(p, key, &nk);
    deliver(c, p, fab, b, e);
}

void
dp_fabric_from_vnic(struct dp_ctx *c, struct pkt *p,
                    const struct flow_key *key, bool last)
{
    const struct dp_fabric *fab = fabric_of(c);
    const struct dp_vnic_binding *b = vf_rcu_get(c->in->bind);
    if (!last) {
        p = pkt_clone(c->t->cache, p, p->owner);
        if (!p) {
            dp_count_drop(c->in, DP_DROP_NO_BUFFER, 1);
            return;
        }
    }
    if (!fab || !b) {
        dp_drop(c, p, DP_DROP_UNBOUND);
        return;
    }
    if (eth_addr_is_multicast(&key->dl_dst)) {
        if (is_resolution_request(key)) {
            dp_upcall(c, p, 0, DP_UPCALL_FAB_RESOLVE, 0, true);
        } else {
            flood_local(c, p, b->vni, c->in, true);
        }
        return;
    }
    /* A tunnel frame's UDP source port is its inner flow's hash (RFC 7348
     * section 5: entropy for the underlay's ECMP and the receiver's RSS);
     * the pipeline parses without hashing. */
    if (!(p->flags & PKT_F_RSS_VALID)) {
        p->rss_hash = flow_rss_hash(key, 0);
        p->flags |= PKT_F_RSS_VALID;
    }
    if (eth_addr_equals(&key->dl_dst, &router_mac)) {
        route(c, p, key, fab, b);
        return;
    }
    struct pcache_key k;
    dp_fabric_mac_key(&k, &key->dl_dst);
    const struct pcache_entry *e = translate(c, p, b, &k, key);
    if (e) {
        deliver(c, p, fab, b, e);
    }
}

/* Is the (decapsulated) source behind 'rx' in the model?  Returns 1 yes,
 * 0 no, -1 not known yet. */
static int
check_source(const struct dp_ctx *c, const struct dp_port *dst,
             const struct tunnel_rx *rx, const struct flow_key *ik)
{
    const struct dp_vnic_binding *b = vf_rcu_get(dst->bind);
    struct pcache_key k;
    /* A routed frame carries the router's MAC: its source is its IP,
     * in another network (so another VNI). */
    bool routed = eth_addr_equals(&ik->dl_src, &router_mac);
    if (routed) {
        if (!dp_fabric_ip_key(&k, ik, false)) {
            return 0;
        }
    } else {
        dp_fabric_mac_key(&k, &ik->dl_src);
    }
    const struct pcache_entry *e = pcache_lookup(b->part, &k, c->t->now,
                                                 NULL);
    if (!e) {
        return -1;
    }
    return e->status == PCACHE_OK && !e->local
           && (routed || e->vni == rx->vni) && e->underlay_family == 4
           && vf_get_u32(e->underlay_ip) == rx->src_ip;
}

/* Any local VNIC port of 'vni'. */
static struct dp_port *
any_port_of(const struct dp_ctx *c, uint32_t vni)
{
    for (uint32_t i = 0; i < c->ports->n; i++) {
        const struct dp_vnic_binding *b = vf_rcu_get(c->ports->list[i]->bind);
        if (b && b->vni == vni) {
            return c->ports->list[i];
        }
    }
    return NULL;
}

static void
deliver_decapped(struct dp_ctx *c, struct pkt *p, const struct tunnel_rx *rx,
                 uint32_t outer_len)
{
    struct flow_key ik;
    struct flow_parse_info info;
    if (!flow_parse(pkt_data(p), p->size, c->in->port_no, &ik, &info)) {
        dp_drop(c, p, DP_DROP_MALFORMED);
        return;
    }
    bool mcast = eth_addr_is_multicast(&ik.dl_dst);
    struct dp_port *dst = mcast ? any_port_of(c, rx->vni)
                                : local_port(c, rx->vni, &ik.dl_dst);
    if (!dst) {
        dp_drop(c, p, DP_DROP_NO_DEST);
        return;
    }
    int ok = check_source(c, dst, rx, &ik);
    if (ok < 0) {
        /* Ask the agent; it sees the frame as it arrived (with the
         * offload request, if any, where tunnel_decap() found it). */
        pkt_push(p, outer_len);
        if (p->flags & PKT_F_OFFLOAD) {
            p->offload.csum_start = (uint16_t) (p->offload.csum_start
                                                + outer_len);
        }
        dp_upcall(c, p, 0, DP_UPCALL_FAB_RX_XLATE, dst->port_no, true);
        return;
    }
    if (!ok) {
        dp_drop(c, p, DP_DROP_VTEP);
        return;
    }
    p->rss_hash = flow_rss_hash(&ik, 0);
    if (mcast) {
        flood_local(c, p, rx->vni, NULL, true);
    } else {
        dp_output(c->t, dst, p);
    }
}

void
dp_fabric_from_uplink(struct dp_ctx *c, struct pkt *p,
                      const struct flow_key *key)
{
    const struct dp_fabric *fab = fabric_of(c);
    vf_be32 vtep = fab->cfg.vtep_ip;
    if (key->dl_type == VF_BE16(ETH_TYPE_ARP)) {
        if (key->nw_dst == vtep) {
            dp_upcall(c, p, 0, DP_UPCALL_FAB_VTEP, 0, true);
        } else {
            dp_drop(c, p, DP_DROP_NOT_FOR_US);
        }
        return;
    }
    if (key->dl_type != VF_BE16(ETH_TYPE_IPV4) || key->nw_dst != vtep) {
        dp_drop(c, p, DP_DROP_NOT_FOR_US);
        return;
    }
    if (key->nw_proto == IP_PROTO_ICMP) {
        dp_upcall(c, p, 0, DP_UPCALL_FAB_VTEP, 0, true);
        return;
    }
    if (dp_accel_uplink_gso(c, p, key)) {
        return;                  /* Cut into datagrams, each done. */
    }
    bool trusted = dp_accel_outer_trusted(p);
    uint32_t ofs_before = p->data_ofs;
    struct tunnel_rx rx;
    enum tunnel_err err = tunnel_decap(p, 0, 0, &rx);
    if (err != TUNNEL_OK) {
        dp_drop(c, p, err == TUNNEL_ERR_NOT_TUNNEL ? DP_DROP_NOT_FOR_US
                                                   : DP_DROP_TUNNEL);
        return;
    }
    if (rx.type != fab->cfg.tunnel) {
        dp_drop(c, p, DP_DROP_TUNNEL);
        return;
    }
    if (trusted && !(p->flags & PKT_F_OFFLOAD)) {
        /* The outer checksum covered the inner frame (dp-accel.h). */
        p->flags |= PKT_F_OFFLOAD;
        memset(&p->offload, 0, sizeof p->offload);
        p->offload.csum_valid = 1;
    }
    /* The outer headers tunnel_decap() pulled (any Geneve options). */
    deliver_decapped(c, p, &rx, p->data_ofs - ofs_before);
}
