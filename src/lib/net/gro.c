/* SPDX-License-Identifier: Apache-2.0 */
/* Software GRO: theory of operation.
 *
 * Contract and merge rules: gro.h.  One pass over the burst, in place
 * (the output index never passes the input index):
 *
 *   frame -> classify
 *     other (not TCP over IPv4/IPv6)     -> out as is
 *     TCP we cannot identify (IPv4
 *     fragment, IPv6 extension headers,
 *     truncated)                          -> close every open flow, out
 *     TCP of flow F (addresses + ports)
 *        F open and the frame appends     -> payload copied into F's
 *                                            merged buffer, frame freed
 *        otherwise                        -> close F; the frame opens F
 *                                            again if it is a candidate
 *                                            (a slot in 'out'), else out
 *   end of burst -> close every open flow
 *
 * An open flow owns one output slot: first its head (the first segment,
 * untouched), then, from the second segment on, a GSO buffer holding the
 * head and the payloads appended so far.  Closing a flow "finalizes" that
 * buffer (IP length and header checksum, PSH of the last segment, partial
 * TCP checksum, the GSO request); a flow of one segment leaves its head
 * untouched.  Because a slot is taken when its head arrives and a flow is
 * closed before any later frame of the same flow is placed, the frames of
 * one flow leave in arrival order.
 *
 * Header comparison is against the head's bytes, which stay those of the
 * first segment until the flow is finalized (lengths, checksums and PSH
 * are only written then).  Checksums of untrusted segments are verified
 * only when a second segment makes a merge worth it (a lone segment is
 * passed on untouched and the receiver verifies it, as it would anyway). */
#include "net/gro.h"

#include <errno.h>
#include <string.h>

#include "net/csum.h"
#include "net/wire.h"
#include "pkt/pkt.h"

#define TCP_PSH 0x008
#define TCP_ACK 0x010
#define TCP_ECE 0x040
#define TCP_CSUM_OFS 16
#define GRO_ID_MAX (32 + 4)      /* IPv6 addresses + ports. */
#define GRO_DEAD_MAX 64          /* Buffers freed per pkt_free_burst(). */

enum gro_kind {
    GRO_OTHER,                   /* Nothing to do with any TCP flow. */
    GRO_TCP_UNKNOWN,             /* TCP, perhaps of an open flow. */
    GRO_TCP,                     /* TCP of an identified flow. */
};

/* What classify() found in one frame. */
struct gro_seg {
    bool v6;
    bool candidate;              /* Passes the single-frame rules. */
    bool trusted;                /* Checksum need not be verified. */
    uint8_t id_len;
    uint16_t l4;                 /* TCP header offset. */
    uint16_t hdr_len;            /* End of the TCP header. */
    uint16_t pay;                /* Payload bytes. */
    uint16_t flags;              /* TCP flags (12 bits). */
    uint32_t seq;
    uint16_t ip_id;
    uint8_t id[GRO_ID_MAX];      /* Addresses + ports (last: not zeroed). */
};

struct gro_flow {
    bool open;
    bool v6;
    bool merged;                 /* 'head' is our GSO buffer. */
    bool head_ok;                /* Head's checksum trusted/verified. */
    bool psh;                    /* The last segment had PSH. */
    uint8_t id_len;
    uint8_t id[GRO_ID_MAX];
    uint32_t slot;               /* Index in the output. */
    struct pkt *head;
    uint16_t l4, hdr_len, mss;
    uint32_t n_segs;
    uint32_t next_seq;
    uint16_t next_id;
    uint32_t last_use;
};

struct gro_run {
    struct pkt_cache *cache;
    struct pkt **out;
    struct gro_stats *st;
    struct gro_flow flows[GRO_MAX_FLOWS];
    uint32_t tick;
    bool no_buffers;             /* Stop merging: the pool said no. */
    uint32_t n_dead;
    struct pkt *dead[GRO_DEAD_MAX];
};

static void
release(struct gro_run *r, struct pkt *p)
{
    if (r->n_dead == GRO_DEAD_MAX) {
        pkt_free_burst(r->cache, r->dead, r->n_dead);
        r->n_dead = 0;
    }
    r->dead[r->n_dead++] = p;
}

/* Fills the candidate fields of 's' from the TCP header at s->l4 of
 * frame 'd' ('size' bytes) whose offload request is 'o' (NULL: none). */
static void
classify_tcp(const struct pkt_offload *o, const uint8_t *d, uint32_t size,
             struct gro_seg *s)
{
    const struct tcp_hdr *th = (const struct tcp_hdr *) (d + s->l4);
    uint32_t doff = tcp_hdr_len(th);
    uint16_t fl = vf_ntohs(th->off_flags) & TCP_FLAGS_MASK;
    s->flags = fl;
    s->seq = vf_ntohl(th->seq);
    if (doff < sizeof *th || s->l4 + doff >= size
        || !(fl & TCP_ACK) || (fl & ~(TCP_ACK | TCP_PSH | TCP_ECE))) {
        return;                  /* No payload, or flags that end runs. */
    }
    s->hdr_len = (uint16_t) (s->l4 + doff);
    s->pay = (uint16_t) (size - s->hdr_len);
    if (o) {
        if (o->gso_type != PKT_GSO_NONE) {
            return;              /* Already a super-frame. */
        }
        if (o->needs_csum
            && (o->csum_start != s->l4 || o->csum_offset != TCP_CSUM_OFS)) {
            return;
        }
        s->trusted = o->needs_csum || o->csum_valid;
    }
    s->candidate = true;
}

/* Classifies frame 'd' of 'size' bytes, whose offload request is 'o'
 * (NULL: none). */
static enum gro_kind
classify(const uint8_t *d, uint32_t size, const struct pkt_offload *o,
         struct gro_seg *s)
{
    memset(s, 0, offsetof(struct gro_seg, id));
    if (size < ETH_HDR_LEN + IPV4_HDR_LEN) {
        return GRO_OTHER;
    }
    vf_be16 type = vf_get_u16(d + 12);
    if (type == VF_BE16(ETH_TYPE_IPV4)) {
        const struct ipv4_hdr *ip = (const struct ipv4_hdr *) (d + 14);
        if (ip->proto != IP_PROTO_TCP) {
            return GRO_OTHER;
        }
        uint32_t ihl = ipv4_hdr_len(ip);
        if (ipv4_version(ip) != 4 || ihl < IPV4_HDR_LEN
            || size < 14 + ihl + sizeof(struct tcp_hdr)
            || (vf_ntohs(ip->frag_off) & (IPV4_MF | IPV4_FRAG_OFF_MASK))) {
            return GRO_TCP_UNKNOWN;
        }
        s->l4 = (uint16_t) (14 + ihl);
        memcpy(s->id, d + 14 + 12, 8);
        memcpy(s->id + 8, d + s->l4, 4);
        s->id_len = 12;
        s->ip_id = vf_ntohs(ip->id);
        if (ihl == IPV4_HDR_LEN && 14u + vf_ntohs(ip->tot_len) == size
            && csum(ip, IPV4_HDR_LEN) == 0) {
            classify_tcp(o, d, size, s);
        }
        return GRO_TCP;
    }
    if (type == VF_BE16(ETH_TYPE_IPV6)) {
        if (size < 14 + IPV6_HDR_LEN) {
            return GRO_OTHER;
        }
        const struct ipv6_hdr *ip6 = (const struct ipv6_hdr *) (d + 14);
        uint8_t nh = ip6->next_hdr;
        if (nh != IP_PROTO_TCP) {
            bool ext = nh == IP_PROTO_IPV6_HOPOPTS
                       || nh == IP_PROTO_IPV6_ROUTING
                       || nh == IP_PROTO_IPV6_FRAGMENT
                       || nh == IP_PROTO_IPV6_DSTOPTS || nh == 51 /* AH */;
            return ext ? GRO_TCP_UNKNOWN : GRO_OTHER;
        }
        if (vf_ntohl(ip6->ver_tc_flow) >> 28 != 6
            || size < 14 + IPV6_HDR_LEN + sizeof(struct tcp_hdr)) {
            return GRO_TCP_UNKNOWN;
        }
        s->v6 = true;
        s->l4 = 14 + IPV6_HDR_LEN;
        memcpy(s->id, ip6->src, 32);
        memcpy(s->id + 32, d + s->l4, 4);
        s->id_len = 36;
        if (14u + IPV6_HDR_LEN + vf_ntohs(ip6->payload_len) == size) {
            classify_tcp(o, d, size, s);
        }
        return GRO_TCP;
    }
    return GRO_OTHER;
}

static enum gro_kind
classify_pkt(const struct pkt *p, struct gro_seg *s)
{
    return classify(pkt_data(p), p->size,
                    p->flags & PKT_F_OFFLOAD ? &p->offload : NULL, s);
}

/* Is the TCP checksum of the candidate 'd' ('size' bytes, 's') right? */
static bool
csum_ok(const uint8_t *d, uint32_t size, const struct gro_seg *s)
{
    uint32_t l4_len = size - s->l4;
    uint32_t sum;
    if (s->v6) {
        const struct ipv6_hdr *ip6 = (const struct ipv6_hdr *) (d + 14);
        sum = csum_pseudo_ipv6(ip6->src, ip6->dst, IP_PROTO_TCP, l4_len);
    } else {
        const struct ipv4_hdr *ip = (const struct ipv4_hdr *) (d + 14);
        sum = csum_pseudo_ipv4(vf_get_u32(&ip->src), vf_get_u32(&ip->dst),
                               IP_PROTO_TCP, (uint16_t) l4_len);
    }
    return csum_fold(csum_partial(d + s->l4, l4_len, sum)) == 0;
}

static bool
pkt_csum_ok(struct gro_run *r, const struct pkt *p, const struct gro_seg *s)
{
    bool ok = csum_ok(pkt_data(p), p->size, s);
    r->st->csum_verified++;
    r->st->csum_bad += !ok;
    return ok;
}

static struct gro_flow *
find_flow(struct gro_run *r, const struct gro_seg *s)
{
    for (uint32_t i = 0; i < GRO_MAX_FLOWS; i++) {
        struct gro_flow *f = &r->flows[i];
        if (f->open && f->v6 == s->v6 && f->id_len == s->id_len
            && !memcmp(f->id, s->id, s->id_len)) {
            return f;
        }
    }
    return NULL;
}

/* Writes lengths, checksums, PSH and the GSO request into a merged
 * flow's buffer and closes the flow. */
static void
close_flow(struct gro_run *r, struct gro_flow *f)
{
    f->open = false;
    if (!f->merged) {
        return;
    }
    struct pkt *m = f->head;
    struct gro_run_info info = {f->v6, f->psh, f->l4, f->hdr_len, f->mss};
    gro_finish(pkt_data(m), m->size, &info, &m->offload);
    m->flags |= PKT_F_OFFLOAD;
    r->st->merged++;
    r->st->merged_segs += f->n_segs;
}

static void
close_all(struct gro_run *r)
{
    for (uint32_t i = 0; i < GRO_MAX_FLOWS; i++) {
        if (r->flows[i].open) {
            close_flow(r, &r->flows[i]);
        }
    }
}

/* Same header bytes, but for the fields that differ per segment?  ('h'
 * and 's' are candidates with the same 'l4' and 'hdr_len'.) */
static bool
same_headers(bool v6, uint16_t l4, uint16_t hdr_len, const uint8_t *h,
             const uint8_t *s)
{
    const uint8_t *hi = h + 14, *si = s + 14;
    if (memcmp(h, s, 14)) {
        return false;
    }
    if (v6 ? memcmp(hi, si, 4) || memcmp(hi + 6, si + 6, 34)
           : memcmp(hi, si, 2) || memcmp(hi + 6, si + 6, 4)
                 || memcmp(hi + 12, si + 12, 8)) {
        return false;
    }
    const uint8_t *ht = h + l4, *st = s + l4;
    vf_be16 hf = vf_get_u16(ht + 12) & (vf_be16) ~VF_BE16(TCP_PSH);
    vf_be16 sf = vf_get_u16(st + 12) & (vf_be16) ~VF_BE16(TCP_PSH);
    return hf == sf && !memcmp(ht, st, 4) && !memcmp(ht + 8, st + 8, 4)
           && !memcmp(ht + 14, st + 14, 2) && !memcmp(ht + 18, st + 18, 2)
           && !memcmp(ht + 20, st + 20, (size_t) (hdr_len - l4 - 20));
}

/* Could 'f' take one more full segment after this one? */
static bool
has_room(const struct gro_flow *f, uint32_t size)
{
    uint32_t l3_len = size - 14 - (f->v6 ? IPV6_HDR_LEN : 0);
    return f->n_segs < GRO_MAX_SEGS && size + f->mss <= PKT_GSO_ROOM
           && l3_len + f->mss <= 65535;
}

/* Moves the head of 'f' into a new GSO buffer.  False if none. */
static bool
start_merge(struct gro_run *r, struct gro_flow *f)
{
    struct pkt *h = f->head;
    struct pkt *m = pkt_alloc(r->cache, h->pool, PKT_CLASS_GSO, h->owner);
    if (!m) {
        r->st->no_buffer++;
        r->no_buffers = true;
        return false;
    }
    memcpy(pkt_data(m), pkt_data(h), h->size);
    m->size = h->size;
    m->rss_hash = h->rss_hash;
    m->in_port = h->in_port;
    m->flags = h->flags & (uint8_t) ~PKT_F_OFFLOAD;
    m->l2_ofs = h->l2_ofs;
    m->l3_ofs = h->l3_ofs;
    m->l4_ofs = h->l4_ofs;
    m->inner_l2_ofs = h->inner_l2_ofs;
    memcpy(m->md, h->md, sizeof m->md);
    m->tun_vni = h->tun_vni;
    m->tun_src = h->tun_src;
    m->tun_dst = h->tun_dst;
    m->mark = h->mark;
    release(r, h);
    f->head = m;
    f->merged = true;
    r->out[f->slot] = m;
    return true;
}

enum gro_append { GRO_APPENDED, GRO_NO_MATCH, GRO_BAD };

/* Appends segment 'p' ('s') to 'f' if the rules allow.  Sets
 * s->trusted once its checksum has been verified. */
static enum gro_append
try_append(struct gro_run *r, struct gro_flow *f, struct pkt *p,
           struct gro_seg *s)
{
    struct pkt *h = f->head;
    if ((!f->merged && r->no_buffers) || s->l4 != f->l4
        || s->hdr_len != f->hdr_len
        || s->seq != f->next_seq || (!f->v6 && s->ip_id != f->next_id)
        || s->pay > f->mss || h->size + s->pay > PKT_GSO_ROOM
        || !has_room(f, h->size)
        || !same_headers(f->v6, f->l4, f->hdr_len, pkt_data(h),
                         pkt_data(p))) {
        return GRO_NO_MATCH;
    }
    if (!s->trusted) {
        if (!pkt_csum_ok(r, p, s)) {
            return GRO_BAD;
        }
        s->trusted = true;       /* Verified: not again as a head. */
    }
    if (!f->merged) {
        if (!f->head_ok) {
            /* Verified now that a merge is in sight. */
            struct gro_seg hs;
            classify_pkt(h, &hs);
            if (!pkt_csum_ok(r, h, &hs)) {
                return GRO_NO_MATCH;  /* Leave the head alone. */
            }
            f->head_ok = true;
        }
        if (!start_merge(r, f)) {
            return GRO_NO_MATCH;
        }
        h = f->head;
    }
    memcpy(pkt_data(h) + h->size, pkt_data(p) + s->hdr_len, s->pay);
    h->size += s->pay;
    release(r, p);
    f->n_segs++;
    f->next_seq += s->pay;
    f->next_id++;
    f->psh = (s->flags & TCP_PSH) != 0;
    f->last_use = ++r->tick;
    if (f->psh || s->pay < f->mss || !has_room(f, h->size)) {
        close_flow(r, f);
    }
    return GRO_APPENDED;
}

/* Opens a flow with head 'p' ('s') in output slot 'slot'. */
static void
open_flow(struct gro_run *r, struct pkt *p, const struct gro_seg *s,
          uint32_t slot)
{
    struct gro_flow *f = NULL;
    for (uint32_t i = 0; i < GRO_MAX_FLOWS && !f; i++) {
        f = r->flows[i].open ? NULL : &r->flows[i];
    }
    if (!f) {
        f = &r->flows[0];
        for (uint32_t i = 1; i < GRO_MAX_FLOWS; i++) {
            if (r->flows[i].last_use < f->last_use) {
                f = &r->flows[i];
            }
        }
        close_flow(r, f);
    }
    f->open = true;
    f->v6 = s->v6;
    f->merged = false;
    f->psh = false;
    f->id_len = s->id_len;
    memcpy(f->id, s->id, s->id_len);
    f->slot = slot;
    f->head = p;
    f->l4 = s->l4;
    f->hdr_len = s->hdr_len;
    f->mss = s->pay;
    f->n_segs = 1;
    f->next_seq = s->seq + s->pay;
    f->next_id = (uint16_t) (s->ip_id + 1);
    f->last_use = ++r->tick;
    /* Verified lazily, when a second segment arrives (try_append). */
    f->head_ok = s->trusted;
}

uint32_t
gro_coalesce(struct pkt_cache *cache, struct pkt **pkts, uint32_t n,
             struct gro_stats *stats)
{
    struct gro_stats dummy = {0};
    struct gro_run r;
    memset(&r, 0, offsetof(struct gro_run, dead));
    r.cache = cache;
    r.out = pkts;
    r.st = stats ? stats : &dummy;
    uint32_t n_out = 0;
    for (uint32_t i = 0; i < n; i++) {
        struct pkt *p = pkts[i];
        struct gro_seg s;
        enum gro_kind kind = classify_pkt(p, &s);
        if (kind == GRO_TCP_UNKNOWN) {
            close_all(&r);
        }
        if (kind != GRO_TCP) {
            pkts[n_out++] = p;
            continue;
        }
        struct gro_flow *f = find_flow(&r, &s);
        if (f && s.candidate) {
            enum gro_append a = try_append(&r, f, p, &s);
            if (a == GRO_APPENDED) {
                continue;
            }
            s.candidate = a != GRO_BAD;
        }
        if (f && f->open) {
            close_flow(&r, f);
        }
        if (s.candidate && !r.no_buffers && !(s.flags & TCP_PSH)) {
            open_flow(&r, p, &s, n_out);   /* (PSH ends a run at once.) */
        }
        pkts[n_out++] = p;
    }
    close_all(&r);
    if (r.n_dead) {
        pkt_free_burst(cache, r.dead, r.n_dead);
    }
    r.st->frames_in += n;
    r.st->frames_out += n_out;
    return n_out;
}

void
gro_finish(uint8_t *d, uint32_t size, const struct gro_run_info *info,
           struct pkt_offload *off)
{
    uint32_t l4_len = size - info->l4;
    uint32_t sum;
    if (info->v6) {
        struct ipv6_hdr *ip6 = (struct ipv6_hdr *) (d + 14);
        ip6->payload_len = vf_htons((uint16_t) (size - 14 - IPV6_HDR_LEN));
        sum = csum_pseudo_ipv6(ip6->src, ip6->dst, IP_PROTO_TCP, l4_len);
    } else {
        struct ipv4_hdr *ip = (struct ipv4_hdr *) (d + 14);
        ip->tot_len = vf_htons((uint16_t) (size - 14));
        ip->csum = 0;
        ip->csum = csum(ip, IPV4_HDR_LEN);
        sum = csum_pseudo_ipv4(vf_get_u32(&ip->src), vf_get_u32(&ip->dst),
                               IP_PROTO_TCP, (uint16_t) l4_len);
    }
    struct tcp_hdr *th = (struct tcp_hdr *) (d + info->l4);
    if (info->psh) {
        th->off_flags |= VF_BE16(TCP_PSH);
    }
    th->csum = (vf_be16) ~csum_fold(sum);
    memset(off, 0, sizeof *off);
    off->gso_type = info->v6 ? PKT_GSO_TCPV6 : PKT_GSO_TCPV4;
    off->gso_size = info->mss;
    off->needs_csum = 1;
    off->csum_start = info->l4;
    off->csum_offset = TCP_CSUM_OFS;
}

int
gro_check_run(const uint8_t *const frames[], const uint32_t sizes[],
              uint32_t n, bool verify, struct gro_run_info *info)
{
    if (n < 2 || n > GRO_MAX_SEGS) {
        return -EINVAL;
    }
    struct gro_seg h, s;
    if (classify(frames[0], sizes[0], NULL, &h) != GRO_TCP || !h.candidate
        || (h.flags & TCP_PSH) || (verify && !csum_ok(frames[0], sizes[0],
                                                      &h))) {
        return -EINVAL;
    }
    uint32_t next_seq = h.seq + h.pay;
    uint16_t next_id = (uint16_t) (h.ip_id + 1);
    uint64_t total = sizes[0];
    for (uint32_t i = 1; i < n; i++) {
        bool last = i + 1 == n;
        if (classify(frames[i], sizes[i], NULL, &s) != GRO_TCP
            || !s.candidate || s.v6 != h.v6 || s.id_len != h.id_len
            || memcmp(s.id, h.id, h.id_len) || s.l4 != h.l4
            || s.hdr_len != h.hdr_len || s.seq != next_seq
            || (!h.v6 && s.ip_id != next_id)
            || (last ? s.pay > h.pay : s.pay != h.pay)
            || (!last && (s.flags & TCP_PSH))
            || !same_headers(h.v6, h.l4, h.hdr_len, frames[0], frames[i])
            || (verify && !csum_ok(frames[i], sizes[i], &s))) {
            return -EINVAL;
        }
        next_seq += s.pay;
        next_id++;
        total += s.pay;
    }
    if (total > PKT_GSO_ROOM
        || total - 14 - (h.v6 ? IPV6_HDR_LEN : 0) > 65535) {
        return -EINVAL;
    }
    info->v6 = h.v6;
    info->psh = (s.flags & TCP_PSH) != 0;
    info->l4 = h.l4;
    info->hdr_len = h.hdr_len;
    info->mss = h.pay;
    return 0;
}
