/* SPDX-License-Identifier: Apache-2.0 */
/* AF_PACKET ports: theory of operation.
 *
 * An afpacket port attaches to an existing kernel interface (a NIC or a
 * veth end: an uplink) and exchanges frames with it through one AF_PACKET
 * socket.  Nothing about the interface is changed except that it is put in
 * promiscuous mode (a membership the kernel drops when the socket closes)
 * and, if configured, its MTU.
 *
 * Set-up (construct), in the order the kernel requires (options that shape
 * the ring before the ring; the ring before bind, so no frame arrives
 * before the ring exists):
 *
 *   socket(AF_PACKET, SOCK_RAW, 0)        protocol 0: nothing received yet
 *   PACKET_VERSION = TPACKET_V3
 *   PACKET_VNET_HDR = 1                   where the kernel has it
 *   PACKET_RX_RING (tpacket_req3)         blocks of AFP_BLOCK_SIZE,
 *                                         retire timeout AFP_BLOCK_TOV_MS
 *   mmap the ring
 *   PACKET_IGNORE_OUTGOING = 1            our own transmissions (and the
 *                                         host's) are not echoed back
 *   PACKET_QDISC_BYPASS = 1               transmit straight to the driver
 *   PACKET_ADD_MEMBERSHIP PROMISC
 *   SO_SNDBUFFORCE 4 MiB                  room for a burst of GSO frames
 *   bind(ETH_P_ALL, ifindex)
 *
 * Findings on this project's kernel (6.18), measured with the programs in
 * tests/integration/tools (bench/RESULTS.md, "Ports"):
 *
 *   1. TPACKET_V3 rings and PACKET_VNET_HDR work together: tpacket_rcv()
 *      writes the virtio-net header just before tp_mac (the frame moves by
 *      10 bytes), GSO super-frames from a veth arrive whole with their
 *      gso_size, and partial checksums with csum_start/csum_offset.  (Old
 *      kernels refused the combination in packet_set_ring(); then this
 *      port turns PACKET_VNET_HDR off and rebuilds what it can from the
 *      ring's status bits: TP_STATUS_CSUMNOTREADY becomes a partial
 *      checksum at the parsed L4 offset and a TCP frame longer than the MTU
 *      a GSO request with the MSS that fits the MTU (gso_infer_offload());
 *      a UDP GSO frame cannot be re-cut and is dropped.  Without vnet
 *      headers on transmit, the port takes no offloads.)
 *   2. Receive latency: a V3 block is handed over when full or when its
 *      retire timer fires; the timer is 1 ms at the least, so an idle
 *      link adds up to 1 ms to a lone frame (ping RTT through a tap and an
 *      afpacket port: 0.2-1.0 ms, against 0.05 ms tap to tap).  A busy
 *      link fills blocks and sees no delay.  Latency-critical uplinks are
 *      for AF_XDP ports.
 *   3. Transmit: sendmmsg() of up to 32 [virtio-net header, frame] pairs
 *      per system call beat the TX ring (PACKET_TX_RING, frames copied into
 *      the ring, one send() per burst) on a veth in every run, by 3-25%:
 *      2.7-3.1 vs 2.4-2.6 Mpps with 60-byte frames, 2.3-2.9 vs 1.8-2.4
 *      Mpps with 1514-byte frames.  The ring makes the kernel build
 *      page-fragment skbs pointing into the ring and complete each frame
 *      through a destructor, which costs more than the copy it saves; it
 *      would also need ring slots sized for 64 KiB GSO frames.  So
 *      transmit uses sendmmsg().
 *   4. PACKET_QDISC_BYPASS made no measurable difference on a veth (which
 *      has no qdisc worth the name) and saves the qdisc lock on a NIC; it
 *      is on, as in DPDK's af_packet driver.
 *
 * Receive path (one datapath thread; 'block', 'pkts_left', 'next_pkt' are
 * its reader position):
 *
 *   block status USER? --no--> done (the kernel still fills it)
 *     | yes
 *   each packet: skip outgoing ones (if IGNORE_OUTGOING is missing);
 *     snaplen < len (ring frame too small) -> rx_dropped;
 *     larger than any buffer of the pool -> rx_dropped;
 *     copy into an MTU buffer (GSO buffer if larger), re-inserting an
 *     802.1Q tag the NIC/veth stripped (TP_STATUS_VLAN_VALID) and shifting
 *     csum_start by its 4 bytes; decode the virtio-net header
 *     (bad -> rx_errors);
 *   block done -> status KERNEL (release), next block.
 *
 * Frames are copied out of the ring (the ring is the kernel's memory, the
 * pool is ours, and buffers must come from the pool); the copy is the
 * price of AF_PACKET, which AF_XDP ports avoid.
 *
 * Link state is followed by the link monitor (link-monitor.h).  When the
 * interface goes administratively down, the kernel unhooks the socket and
 * sets its error (ENETDOWN), which makes poll() report EPOLLERR until it is
 * read; rx_burst reads it (getsockopt SO_ERROR) whenever it finds the ring
 * empty while the link is down, so a datapath thread polling the fd does
 * not spin. */
#include <errno.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "net/gso.h"
#include "port/port-provider.h"
#include "port/vnet-hdr.h"
#include "util/buf.h"
#include "util/byteorder.h"
#include "util/log.h"

VF_LOG_MODULE(port_afpacket);

#ifndef PACKET_IGNORE_OUTGOING
#define PACKET_IGNORE_OUTGOING 23
#endif

#define AFP_BLOCK_SIZE (256u * 1024)   /* Holds 3 GSO frames or ~170 of
                                        * 1514 bytes. */
#define AFP_FRAME_UNIT 2048u           /* ring_frames unit. */
#define AFP_RING_FRAMES_DEFAULT 4096u  /* 8 MiB: 32 blocks. */
#define AFP_MIN_BLOCKS 4u
#define AFP_BLOCK_TOV_MS 1u            /* The smallest retire timeout. */
#define AFP_SNDBUF (4 * 1024 * 1024)
#define AFP_BURST 32u                  /* Buffers allocated / frames sent
                                        * per system call at most. */

struct port_afpacket {
    struct port up;
    int fd;                      /* const */
    bool vnet;                   /* const: PACKET_VNET_HDR is on. */
    bool ignore_outgoing;        /* const: PACKET_IGNORE_OUTGOING is on. */
    uint8_t *ring;               /* const: the mmap()ed RX ring. */
    size_t ring_size;            /* const */
    uint32_t n_blocks;           /* const */
    uint32_t mtu;                /* const: for gso_infer_offload(). */
    bool gso_pool;               /* const: the pool has GSO buffers. */

    uint32_t block;              /* dp: block being read. */
    uint32_t pkts_left;          /* dp: packets left in it (0: none
                                  * opened). */
    uint8_t *next_pkt;           /* dp */

    _Atomic uint64_t ring_drops; /* atomic: PACKET_STATISTICS tp_drops. */
};

static struct port_afpacket *
afp_cast(const struct port *port)
{
    return VF_CONTAINER_OF(port, struct port_afpacket, up);
}

static struct port *
afp_alloc(void)
{
    struct port_afpacket *a = calloc(1, sizeof *a);
    if (!a) {
        return NULL;
    }
    a->fd = -1;
    return &a->up;
}

/* True if the running kernel is at least 'major'.'minor'. */
static bool
kernel_at_least(int major, int minor)
{
    struct utsname u;
    int ma = 0;
    int mi = 0;
    if (uname(&u) || sscanf(u.release, "%d.%d", &ma, &mi) != 2) {
        return false;
    }
    return ma > major || (ma == major && mi >= minor);
}

static int
setsockopt_int(int fd, int level, int name, int value)
{
    return setsockopt(fd, level, name, &value, sizeof value) ? -errno : 0;
}

/* Sets up the RX ring, with vnet headers if the kernel allows them on
 * rings; turns them off and retries otherwise. */
static int
afp_setup_ring(struct port_afpacket *a, uint32_t ring_frames, char **errp)
{
    uint64_t bytes = (uint64_t) ring_frames * AFP_FRAME_UNIT;
    uint32_t n_blocks = (uint32_t) VF_MAX(bytes / AFP_BLOCK_SIZE,
                                          (uint64_t) AFP_MIN_BLOCKS);
    struct tpacket_req3 req;
    memset(&req, 0, sizeof req);
    req.tp_block_size = AFP_BLOCK_SIZE;
    req.tp_block_nr = n_blocks;
    req.tp_frame_size = AFP_FRAME_UNIT;
    req.tp_frame_nr = n_blocks * (AFP_BLOCK_SIZE / AFP_FRAME_UNIT);
    req.tp_retire_blk_tov = AFP_BLOCK_TOV_MS;

    int err = setsockopt(a->fd, SOL_PACKET, PACKET_RX_RING, &req, sizeof req)
              ? -errno : 0;
    if (err == -EINVAL && a->vnet) {
        VF_LOG_WARN(port_afpacket, "%s: kernel refuses virtio-net headers "
                    "with TPACKET_V3 rings; offloads rebuilt from ring "
                    "status", a->up.name);
        a->vnet = false;
        err = setsockopt_int(a->fd, SOL_PACKET, PACKET_VNET_HDR, 0);
        if (!err) {
            err = setsockopt(a->fd, SOL_PACKET, PACKET_RX_RING, &req,
                             sizeof req) ? -errno : 0;
        }
    }
    if (err) {
        *errp = vf_xasprintf("port %s: PACKET_RX_RING (%u blocks of %u "
                             "bytes): %s", a->up.name, n_blocks,
                             AFP_BLOCK_SIZE, strerror(-err));
        return err;
    }
    a->n_blocks = n_blocks;
    a->ring_size = (size_t) n_blocks * AFP_BLOCK_SIZE;
    void *ring = mmap(NULL, a->ring_size, PROT_READ | PROT_WRITE,
                      MAP_SHARED | MAP_POPULATE, a->fd, 0);
    if (ring == MAP_FAILED) {
        err = -errno;
        *errp = vf_xasprintf("port %s: mmap of the %zu-byte ring: %s",
                             a->up.name, a->ring_size, strerror(errno));
        return err;
    }
    a->ring = ring;
    return 0;
}

/* Socket options after the ring; only promiscuous mode is required. */
static int
afp_setup_options(struct port_afpacket *a, int ifindex, char **errp)
{
    a->ignore_outgoing = !setsockopt_int(a->fd, SOL_PACKET,
                                         PACKET_IGNORE_OUTGOING, 1);
    if (setsockopt_int(a->fd, SOL_PACKET, PACKET_QDISC_BYPASS, 1)) {
        VF_LOG_INFO(port_afpacket, "%s: no PACKET_QDISC_BYPASS", a->up.name);
    }
    if (setsockopt_int(a->fd, SOL_SOCKET, SO_SNDBUFFORCE, AFP_SNDBUF)) {
        (void) setsockopt_int(a->fd, SOL_SOCKET, SO_SNDBUF, AFP_SNDBUF);
    }
    struct packet_mreq mr;
    memset(&mr, 0, sizeof mr);
    mr.mr_ifindex = ifindex;
    mr.mr_type = PACKET_MR_PROMISC;
    if (setsockopt(a->fd, SOL_PACKET, PACKET_ADD_MEMBERSHIP, &mr,
                   sizeof mr)) {
        int err = -errno;
        *errp = vf_xasprintf("port %s: cannot enter promiscuous mode: %s",
                             a->up.name, strerror(errno));
        return err;
    }
    return 0;
}

static int
afp_open(struct port_afpacket *a, const struct port_config *cfg, int ifindex,
         char **errp)
{
    a->fd = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (a->fd < 0) {
        int err = -errno;
        *errp = vf_xasprintf("port %s: AF_PACKET socket: %s%s", cfg->name,
                             strerror(errno),
                             errno == EPERM ? " (needs CAP_NET_RAW)" : "");
        return err;
    }
    int err = setsockopt_int(a->fd, SOL_PACKET, PACKET_VERSION, TPACKET_V3);
    if (err) {
        *errp = vf_xasprintf("port %s: TPACKET_V3: %s", cfg->name,
                             strerror(-err));
        return err;
    }
    a->vnet = !setsockopt_int(a->fd, SOL_PACKET, PACKET_VNET_HDR, 1);
    err = afp_setup_ring(a, cfg->ring_frames ? cfg->ring_frames
                                             : AFP_RING_FRAMES_DEFAULT, errp);
    if (!err) {
        err = afp_setup_options(a, ifindex, errp);
    }
    if (err) {
        return err;
    }
    struct sockaddr_ll sll;
    memset(&sll, 0, sizeof sll);
    sll.sll_family = AF_PACKET;
    sll.sll_protocol = vf_htons(ETH_P_ALL);
    sll.sll_ifindex = ifindex;
    if (bind(a->fd, (struct sockaddr *) &sll, sizeof sll)) {
        err = -errno;
        *errp = vf_xasprintf("port %s: bind: %s", cfg->name,
                             strerror(errno));
        return err;
    }
    return 0;
}

static void
afp_close(struct port_afpacket *a)
{
    if (a->ring) {
        munmap(a->ring, a->ring_size);
        a->ring = NULL;
    }
    if (a->fd >= 0) {
        close(a->fd);
        a->fd = -1;
    }
}

static int
afp_construct(struct port *port, const struct port_config *cfg,
              char **errp)
{
    struct port_afpacket *a = afp_cast(port);
    int ifindex;
    if (port_netdev_get_ifindex(cfg->name, &ifindex)) {
        *errp = vf_xasprintf("port %s: interface '%s' does not exist",
                             cfg->name, cfg->name);
        return -ENODEV;
    }
    int err = 0;
    if (cfg->mtu) {
        err = port_netdev_set_mtu(cfg->name, cfg->mtu);
        if (err) {
            *errp = vf_xasprintf("port %s: cannot set mtu %u: %s",
                                 cfg->name, cfg->mtu, strerror(-err));
            return err;
        }
    }
    err = afp_open(a, cfg, ifindex, errp);
    if (err) {
        afp_close(a);
        return err;
    }
    unsigned int flags;
    uint32_t mtu;
    if (port_netdev_get_flags(cfg->name, &flags)
        || port_netdev_get_mtu(cfg->name, &mtu)) {
        *errp = vf_xasprintf("port %s: interface vanished", cfg->name);
        afp_close(a);
        return -ENODEV;
    }
    atomic_store(&port->ifindex, ifindex);
    port_set_carrier__(port, port_netdev_flags_up(flags));
    a->mtu = mtu;
    a->gso_pool = pkt_pool_n_bufs(port->pool, PKT_CLASS_GSO) > 0;
    bool tx_offload = a->vnet && cfg->offload;
    port->caps = (struct port_caps) {
        .tx_csum = tx_offload,
        .tx_tso4 = tx_offload,
        .tx_tso6 = tx_offload,
        /* virtio_net_hdr_to_skb() knows UDP_L4 from Linux 6.2 on. */
        .tx_uso = tx_offload && kernel_at_least(6, 2),
        .rx_offload = true,      /* With or without vnet headers. */
        .max_frame = tx_offload ? PKT_GSO_ROOM : port_frame_for_mtu(mtu),
        .mtu = mtu,
    };
    VF_LOG_INFO(port_afpacket, "%s: ifindex %d, %u ring blocks, vnet "
                "headers %s, ignore-outgoing %s", port->name, ifindex,
                a->n_blocks, a->vnet ? "on" : "off",
                a->ignore_outgoing ? "on" : "off");
    return 0;
}

static void
afp_destruct(struct port *port)
{
    afp_close(afp_cast(port));
}

static void
afp_dealloc(struct port *port)
{
    free(afp_cast(port));
}

static struct tpacket_block_desc *
afp_block(const struct port_afpacket *a, uint32_t i)
{
    return (struct tpacket_block_desc *) (void *) (a->ring
                                                   + (size_t) i
                                                     * AFP_BLOCK_SIZE);
}

static void
afp_release_block(struct port_afpacket *a)
{
    struct tpacket_block_desc *bd = afp_block(a, a->block);
    __atomic_store_n(&bd->hdr.bh1.block_status, TP_STATUS_KERNEL,
                     __ATOMIC_RELEASE);
    a->block = a->block + 1 == a->n_blocks ? 0 : a->block + 1;
    a->pkts_left = 0;
    a->next_pkt = NULL;
}

/* Opens the next block the kernel has handed over.  Returns false if
 * there is none. */
static bool
afp_open_block(struct port_afpacket *a)
{
    for (;;) {
        struct tpacket_block_desc *bd = afp_block(a, a->block);
        uint32_t status = __atomic_load_n(&bd->hdr.bh1.block_status,
                                          __ATOMIC_ACQUIRE);
        if (!(status & TP_STATUS_USER)) {
            return false;
        }
        if (bd->hdr.bh1.num_pkts) {
            a->pkts_left = bd->hdr.bh1.num_pkts;
            a->next_pkt = (uint8_t *) bd + bd->hdr.bh1.offset_to_first_pkt;
            return true;
        }
        afp_release_block(a);
    }
}

static void
afp_next_pkt(struct port_afpacket *a)
{
    const struct tpacket3_hdr *h = (const void *) a->next_pkt;
    if (--a->pkts_left == 0 || !h->tp_next_offset) {
        afp_release_block(a);
    } else {
        a->next_pkt += h->tp_next_offset;
    }
}

/* Translates the offload information of the frame now in 'p' ('snap'
 * bytes at 'frame' in the ring, 'vlan_shift' bytes of tag re-inserted).
 * Returns 0 or -EINVAL. */
static int
afp_offload(struct port_afpacket *a, const struct tpacket3_hdr *h,
            const uint8_t *frame, uint32_t snap, uint32_t vlan_shift,
            struct pkt *p)
{
    if (!a->vnet) {
        if (h->tp_status & TP_STATUS_CSUM_VALID) {
            p->offload.csum_valid = 1;
            p->flags |= PKT_F_OFFLOAD;
        }
        return gso_infer_offload(p, a->mtu,
                                 h->tp_status & TP_STATUS_CSUMNOTREADY);
    }
    struct virtio_net_hdr vh;
    memcpy(&vh, frame - VNET_HDR_SIZE, sizeof vh);
    if (VF_LIKELY(!vh.flags && vh.gso_type == VIRTIO_NET_HDR_GSO_NONE
                  && !vh.gso_size)) {
        return 0;
    }
    if (vnet_hdr_decode(&vh, snap, &p->offload, NULL)) {
        return -EINVAL;
    }
    if (p->offload.needs_csum) {
        p->offload.csum_start = (uint16_t) (p->offload.csum_start
                                            + vlan_shift);
    }
    p->flags |= PKT_F_OFFLOAD;
    return 0;
}

/* Copies the ring packet 'h' into 'mtu_buf', or into a new GSO buffer if
 * it is larger.  Returns 0 with '*out' = the frame, or NULL if it was
 * dropped (counted); or -EDQUOT/-ENOBUFS (no GSO buffer: the packet stays
 * in the ring). */
static int
afp_take(struct port_afpacket *a, const struct tpacket3_hdr *h,
         struct pkt *mtu_buf, struct pkt_cache *cache, struct pkt **out)
{
    *out = NULL;
    const uint8_t *frame = (const uint8_t *) h + h->tp_mac;
    uint32_t snap = h->tp_snaplen;
    if (!a->ignore_outgoing) {
        const struct sockaddr_ll *sll = (const void *) ((const uint8_t *) h
                                        + TPACKET_ALIGN(sizeof *h));
        if (sll->sll_pkttype == PACKET_OUTGOING) {
            return 0;
        }
    }
    if (VF_UNLIKELY(snap < h->tp_len)) {
        port_count_rx_dropped(&a->up, 1);      /* Ring frame too small. */
        return 0;
    }
    const uint8_t *block = (const uint8_t *) afp_block(a, a->block);
    if (VF_UNLIKELY(snap < 14 || h->tp_mac < VNET_HDR_SIZE
                    || (size_t) (frame - block) + snap > AFP_BLOCK_SIZE)) {
        port_count_rx_errors(&a->up, 1);       /* Never from a sane kernel. */
        return 0;
    }
    uint32_t shift = h->tp_status & TP_STATUS_VLAN_VALID ? 4 : 0;
    uint32_t size = snap + shift;
    struct pkt *p = mtu_buf;
    if (VF_UNLIKELY(size > PKT_MTU_ROOM && !a->gso_pool)
        || VF_UNLIKELY(size > PKT_GSO_ROOM)) {
        /* Larger than any buffer we have (a pool without GSO buffers, or
         * BIG TCP beyond 64 KiB raised on the device): drop, don't stall. */
        port_count_rx_dropped(&a->up, 1);
        return 0;
    }
    if (size > PKT_MTU_ROOM) {
        p = pkt_alloc(cache, a->up.pool, PKT_CLASS_GSO, a->up.owner);
        if (!p) {
            return -errno;
        }
    }
    uint8_t *d = pkt_data(p);
    if (shift) {
        uint16_t tpid = h->tp_status & TP_STATUS_VLAN_TPID_VALID
                            ? h->hv1.tp_vlan_tpid : 0x8100;
        memcpy(d, frame, 12);
        vf_put_u16(d + 12, vf_htons(tpid));
        vf_put_u16(d + 14, vf_htons((uint16_t) h->hv1.tp_vlan_tci));
        memcpy(d + 16, frame + 12, snap - 12);
    } else {
        memcpy(d, frame, snap);
    }
    p->size = size;
    if (VF_UNLIKELY(afp_offload(a, h, frame, snap, shift, p))) {
        port_count_rx_errors(&a->up, 1);
        if (p != mtu_buf) {
            pkt_free(cache, p);
        } else {
            p->flags = 0;
            memset(&p->offload, 0, sizeof p->offload);
        }
        return 0;
    }
    *out = p;
    return 0;
}

/* Reads and clears the socket's pending error (see the theory block). */
static void
afp_clear_error(struct port_afpacket *a)
{
    int e;
    socklen_t len = sizeof e;
    (void) getsockopt(a->fd, SOL_SOCKET, SO_ERROR, &e, &len);
}

static int
afp_rx_burst(struct port *port, struct pkt_cache *cache, struct pkt **pkts,
             uint32_t n)
{
    struct port_afpacket *a = afp_cast(port);
    struct pkt *bufs[AFP_BURST];
    uint32_t n_bufs = 0;
    uint32_t used = 0;
    uint32_t out = 0;
    int err = 0;
    while (out < n) {
        if (!a->pkts_left && !afp_open_block(a)) {
            break;
        }
        if (used == n_bufs) {
            uint32_t want = VF_MIN(VF_MIN(n - out, a->pkts_left), AFP_BURST);
            int got = pkt_alloc_burst(cache, port->pool, PKT_CLASS_MTU,
                                      port->owner, bufs, want);
            if (got < 0) {
                err = got;
                break;
            }
            n_bufs = (uint32_t) got;
            used = 0;
        }
        struct pkt *f;
        err = afp_take(a, (const struct tpacket3_hdr *) (void *) a->next_pkt,
                       bufs[used], cache, &f);
        if (err) {
            break;
        }
        if (f) {
            pkts[out++] = f;
            if (f == bufs[used]) {
                used++;
            }
        }
        afp_next_pkt(a);
    }
    if (used < n_bufs) {
        pkt_free_burst(cache, bufs + used, n_bufs - used);
    }
    if (!out && !port_link_up(port)) {
        afp_clear_error(a);
    }
    return out ? (int) out : err;
}

/* Sends 'm' (<= AFP_BURST) frames with sendmmsg().  Adds to the counts. */
static void
afp_send_chunk(struct port_afpacket *a, struct pkt **pkts, uint32_t m,
               uint32_t *sent, uint64_t *bytes, uint32_t *n_drop,
               uint32_t *n_err)
{
    struct mmsghdr msgs[AFP_BURST];
    struct iovec iov[AFP_BURST][2];
    struct virtio_net_hdr vh[AFP_BURST];
    int n_iov = a->vnet ? 2 : 1;
    for (uint32_t i = 0; i < m; i++) {
        struct pkt *p = pkts[i];
        if (a->vnet) {
            vnet_hdr_from_pkt(p, &vh[i]);
            iov[i][0] = (struct iovec) {&vh[i], VNET_HDR_SIZE};
        }
        iov[i][n_iov - 1] = (struct iovec) {pkt_data(p), p->size};
        memset(&msgs[i], 0, sizeof msgs[i]);
        msgs[i].msg_hdr.msg_iov = iov[i];
        msgs[i].msg_hdr.msg_iovlen = (size_t) n_iov;
    }
    uint32_t i = 0;
    int eintr = 0;
    while (i < m) {
        int r = sendmmsg(a->fd, msgs + i, m - i, MSG_DONTWAIT);
        if (r > 0) {
            for (int k = 0; k < r; k++) {
                *bytes += pkts[i + (uint32_t) k]->size;
            }
            *sent += (uint32_t) r;
            i += (uint32_t) r;
        } else if (errno == EINTR && eintr++ < 2) {
            continue;
        } else if (errno == EAGAIN || errno == ENOBUFS || errno == ENETDOWN
                   || errno == ENXIO || errno == EINTR) {
            *n_drop += m - i;    /* Device busy or gone: the rest too. */
            return;
        } else {
            (*n_err)++;          /* This frame (EMSGSIZE, EINVAL): skip. */
            i++;
        }
    }
}

static uint32_t
afp_tx_burst(struct port *port, struct pkt_cache *cache, struct pkt **pkts,
             uint32_t n)
{
    struct port_afpacket *a = afp_cast(port);
    uint32_t sent = 0;
    uint32_t n_drop = 0;
    uint32_t n_err = 0;
    uint64_t bytes = 0;
    if (VF_LIKELY(port_link_up(port))) {
        for (uint32_t i = 0; i < n; i += AFP_BURST) {
            uint32_t m = VF_MIN(n - i, AFP_BURST);
            uint32_t dropped = n_drop;
            afp_send_chunk(a, pkts + i, m, &sent, &bytes, &n_drop, &n_err);
            if (n_drop != dropped) {
                n_drop += n - i - m;     /* Stop at the first full queue. */
                break;
            }
        }
    } else {
        n_drop = n;
    }
    pkt_free_burst(cache, pkts, n);
    port_count_tx(port, sent, bytes);
    if (n_drop) {
        port_count_tx_dropped(port, n_drop);
    }
    if (n_err) {
        port_count_tx_errors(port, n_err);
    }
    return sent;
}

static int
afp_get_fd(const struct port *port)
{
    return afp_cast(port)->fd;
}

static void
afp_get_stats(const struct port *port, struct port_stats *stats)
{
    struct port_afpacket *a = afp_cast(port);
    struct tpacket_stats_v3 st;
    socklen_t len = sizeof st;
    uint64_t drops;
    if (!getsockopt(a->fd, SOL_PACKET, PACKET_STATISTICS, &st, &len)) {
        /* Clear-on-read in the kernel: accumulate. */
        drops = atomic_fetch_add(&a->ring_drops, st.tp_drops) + st.tp_drops;
    } else {
        drops = atomic_load(&a->ring_drops);
    }
    stats->rx_dropped += drops;
}

static void
afp_link_changed(struct port *port, bool up)
{
    (void) up;
    afp_clear_error(afp_cast(port));
}

const struct port_class port_afpacket_class = {
    .kind = PORT_KIND_AFPACKET,
    .name = "afpacket",
    .alloc = afp_alloc,
    .construct = afp_construct,
    .destruct = afp_destruct,
    .dealloc = afp_dealloc,
    .rx_burst = afp_rx_burst,
    .tx_burst = afp_tx_burst,
    .get_fd = afp_get_fd,
    .get_stats = afp_get_stats,
    .link_changed = afp_link_changed,
};
