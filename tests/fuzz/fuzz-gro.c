/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: software GRO (net/gro.c) and the in-place tunnel merge
 * (overlay/tunnel-gro.c) on arbitrary frames, which reach them from VMs
 * and from the underlay.
 *
 * Input: a mode byte, then records [u16 length][u8 offload][bytes].
 *   mode even: the records are a burst for gro_coalesce();
 *   mode odd:  the first record is a UDP GSO frame for tunnel_gro_uso()
 *              (gso_size from the next two bytes).
 * Offload byte: bit 0 csum_valid, bit 1 needs_csum at the frame's TCP
 * checksum (IPv4, offset 34), bits 2-3 a gso_type.
 *
 * Mode bit 1 asks tunnel_gro_uso() to verify inner checksums.
 *
 * Invariants beyond "no crash, no out-of-bounds access, no leak": GRO
 * returns at most as many frames as it got, one fewer per segment merged
 * (stats), and every merged frame is a well-formed GSO request that
 * gso_segment() cuts into two segments or more; a converted tunnel frame
 * is no longer than before, decapsulates, and carries a well-formed GSO
 * request of two segments or more. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "net/gro.h"
#include "net/gso.h"
#include "overlay/tunnel-gro.h"
#include "overlay/tunnel.h"
#include "pkt/pkt-pool.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_FRAMES 64

static struct pkt_pool *pool;

static void
set_offload(struct pkt *p, uint8_t o)
{
    static const uint8_t types[4] = {PKT_GSO_NONE, PKT_GSO_TCPV4,
                                     PKT_GSO_UDP, PKT_GSO_TCPV6};
    if (!o) {
        return;
    }
    p->flags |= PKT_F_OFFLOAD;
    p->offload.csum_valid = o & 1;
    if (o & 2) {
        p->offload.needs_csum = 1;
        p->offload.csum_valid = 0;
        p->offload.csum_start = 34;
        p->offload.csum_offset = 16;
    }
    p->offload.gso_type = types[(o >> 2) & 3];
    p->offload.gso_size = p->offload.gso_type ? (uint16_t) (100 + o) : 0;
}

/* Reads one record into a new buffer; NULL at the end of the input. */
static struct pkt *
next_frame(const uint8_t **d, size_t *left)
{
    if (*left < 3) {
        return NULL;
    }
    uint32_t len = (uint32_t) ((*d)[0] | (*d)[1] << 8);
    uint8_t off = (*d)[2];
    *d += 3;
    *left -= 3;
    len = len < *left ? len : (uint32_t) *left;
    if (!len) {
        return NULL;
    }
    struct pkt *p = pkt_alloc(NULL, pool, len <= PKT_MTU_ROOM
                                              ? PKT_CLASS_MTU
                                              : PKT_CLASS_GSO, 0);
    if (!p) {
        abort();
    }
    memcpy(pkt_data(p), *d, len);
    p->size = len;
    set_offload(p, off);
    *d += len;
    *left -= len;
    return p;
}

static void
run_gro(const uint8_t *d, size_t left)
{
    struct pkt *pkts[MAX_FRAMES];
    uint32_t n = 0;
    struct pkt *p;
    while (n < MAX_FRAMES && (p = next_frame(&d, &left))) {
        pkts[n++] = p;
    }
    struct gro_stats st = {0};
    uint32_t m = gro_coalesce(NULL, pkts, n, &st);
    if (m > n || st.frames_out != m
        || st.merged_segs - st.merged != n - m) {
        abort();
    }
    static struct pkt *segs[GSO_MAX_SEGS];
    for (uint32_t i = 0; i < m; i++) {
        p = pkts[i];
        if (p->cls == PKT_CLASS_GSO) {
            /* Inputs are MTU buffers: GSO buffers are merged frames, which
             * must cut cleanly. */
            int k = gso_segment(NULL, p, 0, segs, GSO_MAX_SEGS);
            if (k < 2) {
                abort();
            }
            pkt_free_burst(NULL, segs, (uint32_t) k);
        }
    }
    pkt_free_burst(NULL, pkts, m);
}

static void
run_tunnel_gro(const uint8_t *d, size_t left, bool verify)
{
    if (left < 2) {
        return;
    }
    uint16_t gso_size = (uint16_t) (d[0] | d[1] << 8);
    d += 2;
    left -= 2;
    struct pkt *p = next_frame(&d, &left);
    if (!p) {
        return;
    }
    p->flags |= PKT_F_OFFLOAD;
    p->offload.gso_type = PKT_GSO_UDP;
    p->offload.gso_size = gso_size;
    uint32_t size = p->size;
    if (!tunnel_gro_uso(p, 0, 0, verify)) {
        struct tunnel_rx rx;
        struct gso_plan plan;
        if (p->size > size || tunnel_decap(p, 0, 0, &rx) != TUNNEL_OK
            || !(p->flags & PKT_F_OFFLOAD) || gso_plan(p, &plan)
            || plan.n_segs < 2) {
            abort();
        }
    }
    pkt_free(NULL, p);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!pool) {
        struct pkt_pool_config cfg = {"fuzz", {256, 64}, 2};
        pool = pkt_pool_create(&cfg);
    }
    if (!size) {
        return 0;
    }
    if (data[0] & 1) {
        run_tunnel_gro(data + 1, size - 1, data[0] & 2);
    } else {
        run_gro(data + 1, size - 1);
    }
    return 0;
}
