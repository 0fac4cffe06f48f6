/* SPDX-License-Identifier: Apache-2.0 */
/* Accelerations of fabric TCP: theory of operation.
 *
 * What each does and its simple twin: dp-accel.h.  Why: a VM hands its
 * TAP 64 KiB TCP super-frames, and the kernel's own VXLAN carries them
 * whole over a veth underlay (the veth takes UDP-tunnel GSO).  The simple
 * fabric path cuts each into ~45 segments in software, encapsulates and
 * sends each through AF_PACKET (one skb and one pass through the
 * receiving kernel's stack each), and the receiving vfabd writes ~45
 * frames to the VM's TAP (one syscall and one pass through the VM's TCP
 * stack each).  perf on the 2-core bench machine put >70% of both
 * datapath threads in those per-frame kernel paths (skb allocation,
 * veth/backlog locks, tun_build_skb, per-segment TCP receive), ~5% in
 * checksums and copies.  With these accelerations:
 *
 *   VM A --TSO 64K--> vfabd A: tunnel GSO, one UDP GSO frame of ~45
 *   VXLAN datagrams --AF_PACKET, veth: the skb stays whole--> vfabd B:
 *   uplink GSO cuts it, each datagram decapsulated (trusted: the outer
 *   checksum is partial, it never left the host) --> GRO merges the ~45
 *   inner segments back into one --TSO 64K--> VM B
 *
 * so each side pays the per-frame kernel costs once per 64 KiB.  Figures:
 * bench/RESULTS.md, "Overlay".
 *
 * Correctness rests on the modules (net/gro.h, overlay/tunnel-gso.h), whose
 * unit tests compare each with its twin byte for byte; here only the
 * choice of path is made.  GRO runs only for ports that take TSO frames
 * with partial checksums (a merged frame is one); every other port gets
 * the frames unchanged. */
#include <string.h>

#include "dp/dp-private.h"
#include "net/gso.h"
#include "overlay/tunnel-gro.h"
#include "overlay/tunnel-gso.h"

#define ACCEL_MAX_OUT 8          /* UDP GSO frames per super-frame. */

bool
dp_accel_send_tso(struct dp_ctx *c, struct pkt *p,
                  const struct tunnel_encap *enc, struct dp_port *uplink,
                  const struct dp_fabric *fab)
{
    struct dp_thread *t = c->t;
    const struct port_caps *caps = &uplink->caps;
    if (t->dp->cfg.no_tunnel_gso || !caps->tx_uso || !caps->tx_csum) {
        return false;
    }
    struct gso_plan plan;
    if (gso_plan(p, &plan) || plan.seg_size > fab->max_inner) {
        return false;            /* The twin drops it or says too big. */
    }
    struct pkt *out[ACCEL_MAX_OUT];
    int n = tunnel_gso_encap(t->cache, p, enc, p->rss_hash, caps->max_frame,
                             out, ACCEL_MAX_OUT);
    if (n <= 0) {
        t->accel.tso_fallbacks++;
        return false;
    }
    for (int i = 0; i < n; i++) {
        dp_output(t, uplink, out[i]);
    }
    t->accel.tso_frames++;
    t->accel.tso_out += (uint64_t) n;
    pkt_free(t->cache, p);
    return true;
}

bool
dp_accel_outer_trusted(const struct pkt *p)
{
    if (!(p->flags & PKT_F_OFFLOAD)
        || !(p->offload.needs_csum || p->offload.csum_valid)
        || p->l4_ofs == PKT_OFS_NONE || p->l4_ofs + 8u > p->size) {
        return false;
    }
    /* A zero UDP checksum covers nothing, whatever the device says. */
    return vf_get_u16(pkt_data(p) + p->l4_ofs + 6) != 0;
}

bool
dp_accel_uplink_gso(struct dp_ctx *c, struct pkt *p,
                    const struct flow_key *key)
{
    if (VF_LIKELY(!(p->flags & PKT_F_OFFLOAD))
        || p->offload.gso_type != PKT_GSO_UDP
        || (p->offload.needs_csum && p->offload.csum_start != p->l4_ofs)) {
        /* Not a UDP GSO frame of datagrams: perhaps a tunnel frame whose
         * request is its inner frame's (Linux's vxlan), which
         * tunnel_decap() keeps for the inner frame. */
        return false;
    }
    static __thread struct pkt *segs[GSO_MAX_SEGS];
    struct dp_thread *t = c->t;
    bool trusted = dp_accel_outer_trusted(p);
    if (!t->dp->cfg.no_gro) {
        uint32_t size = p->size;
        if (!tunnel_gro_uso(p, 0, 0, !trusted)) {
            t->accel.uplink_gro_frames++;
            t->accel.uplink_gro_bytes += size;
            return false;        /* Now one tunnel frame: go on. */
        }
    }
    int n = gso_segment(t->cache, p, GSO_F_PARTIAL_CSUM, segs,
                        GSO_MAX_SEGS);
    if (n < 0) {
        dp_drop(c, p, n == -EINVAL ? DP_DROP_MALFORMED : DP_DROP_NO_BUFFER);
        return true;
    }
    t->accel.uplink_gso_frames++;
    t->accel.uplink_gso_segs += (uint64_t) n;
    pkt_free(t->cache, p);
    for (int i = 0; i < n; i++) {
        if (!trusted) {
            /* Their partial checksums are the cut's, not the sender's:
             * nothing vouches for the inner frames. */
            segs[i]->flags &= (uint8_t) ~PKT_F_OFFLOAD;
        }
        dp_fabric_from_uplink(c, segs[i], key);
    }
    return true;
}

void
dp_accel_gro(struct dp_thread *t, struct dp_port *port, struct dp_txq *q)
{
    const struct port_caps *caps = &port->caps;
    if (q->n < 2 || t->dp->cfg.no_gro || !caps->tx_csum || !caps->tx_tso4
        || !caps->tx_tso6 || caps->max_frame < PKT_GSO_ROOM) {
        return;
    }
    q->n = gro_coalesce(t->cache, q->pkts, q->n, &t->accel.gro);
}

json_t *
dp_accel_stats_json(const struct dp_accel_stats *st)
{
    const struct gro_stats *g = &st->gro;
    return json_pack(
        "{s:{s:I, s:I, s:I, s:I, s:I, s:I, s:I}, s:{s:I, s:I, s:I},"
        " s:{s:I, s:I, s:I, s:I}}",
        "gro", "frames_in", (json_int_t) g->frames_in, "frames_out",
        (json_int_t) g->frames_out, "merged", (json_int_t) g->merged,
        "merged_segs", (json_int_t) g->merged_segs, "csum_verified",
        (json_int_t) g->csum_verified, "csum_bad", (json_int_t) g->csum_bad,
        "no_buffer", (json_int_t) g->no_buffer, "tunnel_gso", "frames",
        (json_int_t) st->tso_frames, "out", (json_int_t) st->tso_out,
        "fallbacks", (json_int_t) st->tso_fallbacks, "uplink_gso", "frames",
        (json_int_t) st->uplink_gso_frames, "segs",
        (json_int_t) st->uplink_gso_segs, "merged",
        (json_int_t) st->uplink_gro_frames, "merged_bytes",
        (json_int_t) st->uplink_gro_bytes);
}
