/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VFAB_DP_DP_ACCEL_H
#define VFAB_DP_DP_ACCEL_H 1

/* Datapath accelerations for TCP over the fabric (dp part only; theory
 * and measurements: dp/fabric-accel.c, bench/RESULTS.md "Overlay").
 *
 * Each one has its simple twin, which runs when it is switched off
 * (struct dp_config no_gro / no_tunnel_gso) or does not apply:
 *
 *   tunnel GSO   a VM's TCP super-frame to a remote VNIC leaves as UDP GSO
 *                frame(s) (overlay/tunnel-gso.h) when the uplink takes
 *                UDP GSO; twin: segment, encapsulate each (fabric.c)
 *   uplink GRO   a UDP GSO frame received on the uplink (from a vfab
 *                sender over a veth, or any sender the kernel coalesced)
 *                whose datagrams carry one TCP run is merged in place
 *                into one tunnel frame with an inner super-frame
 *                (overlay/tunnel-gro.h), then decapsulated as usual;
 *                twin (and for any other UDP GSO frame): cut into its
 *                datagrams, each decapsulated, GRO merging them again
 *   trust        a decapsulated frame whose outer checksum covered it and
 *                was verified (or never left this host) is marked
 *                csum_valid, so GRO and the VM need not verify it again
 *   GRO          segments queued for a port that takes TSO frames are
 *                coalesced (net/gro.h) before its tx_burst; twin: send
 *                them one by one
 *
 * Threads: all of it runs on the datapath thread; the counters are
 * written by it alone and read racily for display (as parse stats). */

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "net/gro.h"

struct dp_ctx;
struct dp_fabric;
struct dp_port;
struct dp_thread;
struct dp_txq;
struct flow_key;
struct pkt;
struct tunnel_encap;

struct dp_accel_stats {
    struct gro_stats gro;                 /* dp */
    uint64_t tso_frames;                  /* dp: super-frames sent as
                                           * UDP GSO frames ... */
    uint64_t tso_out;                     /* dp: ... in this many. */
    uint64_t tso_fallbacks;               /* dp: twin used instead. */
    uint64_t uplink_gso_frames;           /* dp: UDP GSO frames cut ... */
    uint64_t uplink_gso_segs;             /* dp: ... into this many. */
    uint64_t uplink_gro_frames;           /* dp: UDP GSO frames merged
                                           * in place (tunnel-gro.h) */
    uint64_t uplink_gro_bytes;            /* dp: ... of this many bytes. */
};

/* Sends the GSO frame 'p' towards 'enc' as UDP GSO frame(s) through
 * 'uplink' if the datapath allows it, the uplink takes UDP GSO, and every
 * segment fits the fabric's inner MTU.  Returns true if it took 'p';
 * false leaves 'p' to the simple path (fabric.c send_remote). */
bool dp_accel_send_tso(struct dp_ctx *c, struct pkt *p,
                       const struct tunnel_encap *enc,
                       struct dp_port *uplink, const struct dp_fabric *fab);

/* True if 'p', a frame from the uplink whose outer headers were parsed
 * ('p'->l4_ofs at the outer UDP header), carries an outer checksum that
 * covers the inner frame and was verified or never needed to be (a
 * partial checksum: it never left this host). */
bool dp_accel_outer_trusted(const struct pkt *p);

/* If 'p' (from the uplink, 'key' its outer flow key) is a UDP GSO frame:
 * merges it in place into one tunnel frame and returns false (the caller
 * decapsulates it as any frame), or cuts it into datagrams, runs each
 * through dp_fabric_from_uplink() and returns true (it took 'p', counting
 * a drop if it could not be cut).  Returns false for any other frame. */
bool dp_accel_uplink_gso(struct dp_ctx *c, struct pkt *p,
                         const struct flow_key *key);

/* Coalesces the queue 'q' of 'port' in place if the port takes TSO
 * frames and GRO is on (see net/gro.h). */
void dp_accel_gro(struct dp_thread *t, struct dp_port *port,
                  struct dp_txq *q);

/* The counters, for dp_stats_json(): {gro: {...}, tunnel_gso: {...},
 * uplink_gso: {...}}. */
json_t *dp_accel_stats_json(const struct dp_accel_stats *st);

#endif /* dp/dp-accel.h */
