/* SPDX-License-Identifier: Apache-2.0 */
/* AF_PACKET ports: theory of operation.
 *
 * An afpacket port attaches to an existing kernel interface (a NIC or a
 * veth end: an uplink) and exchanges frames with it through one AF_PACKET
 * socket.  Nothing about the interface is changed except that it is put in
 * promiscuous mode (a membership the kernel drops when the socket closes)
 * and, if configured, its MTU.
 *
 * Receive ring: TPACKET_V2 by default, TPACKET_V3 on request
 * (port_config.rx_ring, "rx_ring=v2|v3"; finding 2 has the measurements).
 *
 *   V2  one fixed-size slot per frame; the kernel hands each slot over
 *       (tp_status USER) as soon as the frame is written and wakes poll()
 *       per frame.  Slots are sized for the interface's MTU (a frame's L3
 *       header starts AFP_V2_NET_ROOM bytes into its slot at most), not for
 *       64 KiB GSO super-frames: a frame larger than its slot is truncated
 *       in the slot, marked TP_STATUS_COPY, and the kernel queues the whole
 *       skb on the socket (PACKET_COPY_THRESH), in slot order; the reader
 *       takes it with recvmsg() (virtio-net header + frame, the GSO request
 *       intact).  So GSO frames arrive whole without 64 KiB slots, and an
 *       8 MiB ring still holds 4096 MTU frames.
 *   V3  variable-size frames packed into AFP_BLOCK_SIZE blocks; a block is
 *       handed over when full or when its retire timer fires (finding 2).
 *
 * Set-up (construct), in the order the kernel requires (options that shape
 * the ring before the ring; the ring before bind, so no frame arrives
 * before the ring exists):
 *
 *   socket(AF_PACKET, SOCK_RAW, 0)        protocol 0: nothing received yet
 *   PACKET_VERSION = TPACKET_V2 | V3
 *   PACKET_VNET_HDR = 1                   where the kernel has it
 *   V2: PACKET_COPY_THRESH = 1            oversize frames queued whole
 *       SO_RCVBUFFORCE AFP_RCVBUF         room for those queued frames
 *   PACKET_RX_RING (tpacket_req[3])       V2: slots for the MTU in blocks
 *                                         of AFP_V2_BLOCK_SIZE; V3: blocks
 *                                         of AFP_BLOCK_SIZE, retire timeout
 *                                         AFP_BLOCK_TOV_MS
 *   mmap the ring
 *   PACKET_IGNORE_OUTGOING = 1            our own transmissions (and the
 *                                         host's) are not echoed back
 *   PACKET_QDISC_BYPASS = 1               transmit straight to the driver
 *   PACKET_ADD_MEMBERSHIP PROMISC
 *   SO_SNDBUFFORCE 4 MiB                  room for a burst of GSO frames
 *   bind(ETH_P_ALL, ifindex)
 *
 * Findings on this project's kernel (6.18), measured with the programs in
 * tests/integration/tools (bench/RESULTS.md, "Ports" and "Overlay"):
 *
 *   1. TPACKET_V2 and V3 rings work with PACKET_VNET_HDR: tpacket_rcv()
 *      writes the virtio-net header just before tp_mac (the frame moves by
 *      10 bytes); GSO super-frames from a veth arrive whole with their
 *      gso_size (V3: in the block; V2: through the socket queue, above),
 *      partial checksums with csum_start/csum_offset.  (Old kernels
 *      refused vnet headers with V3 rings in packet_set_ring(); then this
 *      port turns PACKET_VNET_HDR off and rebuilds what it can from the
 *      ring's status bits: TP_STATUS_CSUMNOTREADY becomes a partial
 *      checksum at the parsed L4 offset and a TCP frame longer than the MTU
 *      a GSO request with the MSS that fits the MTU (gso_infer_offload());
 *      a UDP GSO frame cannot be re-cut and is dropped.  Without vnet
 *      headers on transmit, the port takes no offloads.)
 *   2. Receive latency, V2 against V3: a V3 block is handed over when
 *      full or when its retire timer fires; the timer is 1 ms at the
 *      least, so on an idle or lightly loaded link every frame waits up to
 *      1 ms, and neither poll() nor busy polling can shorten the wait (the
 *      block is the kernel's until it retires).  V2 hands each frame over
 *      at once.  Measured in one session on the 2-vCPU machine (port-wire
 *      tap <-> afpacket, rx_ring=v2/v3 alternating seven times; vfab
 *      overlay before/after; bench/RESULTS.md):
 *
 *                                              V2            V3
 *        ping RTT through one receive ring     0.03-0.08 ms  0.15-1.02 ms
 *        vfab VXLAN/Geneve RTT (2 rings/trip)  69-123 us     721-1686 us
 *        TCP, ACKs cross the ring              42-56 Gbit/s  24-25 Gbit/s
 *        TCP, 64 KiB GSO frames cross it       31-60 Gbit/s  35-50 Gbit/s
 *        64-byte UDP flood into it, received   301-576 kpps  312-422 kpps
 *
 *      (A lone ACK waited for the timer too, which held TCP back.)  Bulk
 *      receive is within the noise; V2's costs are ~10% more CPU under a
 *      flood (a wake-up per frame, not per block) and more ring drops
 *      during one (4096 slots against a densely packed 8 MiB V3 ring;
 *      the rate received was the same).  So V2 is the default; V3 stays
 *      for loads that want the densest ring and no per-frame wake-ups.
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
 * Receive path (one datapath thread; 'block', 'pkts_left', 'next_pkt'
 * (V3) and 'slot' (V2) are its reader position):
 *
 *   V3: block status USER? --no--> done (the kernel still fills it)
 *   V2: slot status USER?  --no--> done
 *     | yes
 *   each frame: skip outgoing ones (if IGNORE_OUTGOING is missing);
 *     V2 TP_STATUS_COPY: the whole frame is the next one queued on the
 *       socket; it is read (recvmsg) or, if the frame is dropped,
 *       discarded, so queue and ring stay in step;
 *     snaplen < len (ring frame too small, no copy) -> rx_dropped;
 *     larger than any buffer of the pool -> rx_dropped;
 *     copy into an MTU buffer (GSO buffer if larger), re-inserting an
 *     802.1Q tag the NIC/veth stripped (TP_STATUS_VLAN_VALID) and shifting
 *     csum_start by its 4 bytes; decode the virtio-net header
 *     (bad -> rx_errors);
 *   V3: block done -> status KERNEL (release), next block.
 *   V2: frame done -> slot status KERNEL (release), next slot.
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
 * not spin.  (recvmsg() of a V2 copy reports, and clears, such an error
 * before the queue; it is then called again.) */
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

#define AFP_RX_RING_DEFAULT PORT_RX_RING_V2     /* Finding 2. */
#define AFP_FRAME_UNIT 2048u           /* ring_frames unit. */
#define AFP_RING_FRAMES_DEFAULT 4096u  /* 8 MiB: 32 V3 blocks, or 4096 V2
                                        * slots at MTU 1500. */
#define AFP_MIN_BLOCKS 4u

/* TPACKET_V3. */
#define AFP_BLOCK_SIZE (256u * 1024)   /* Holds 3 GSO frames or ~170 of
                                        * 1514 bytes. */
#define AFP_BLOCK_TOV_MS 1u            /* The smallest retire timeout. */

/* TPACKET_V2.  tpacket_rcv() puts a frame's L3 header at
 * TPACKET_ALIGN(TPACKET2_HDRLEN + max(16, L2 length)) + the virtio-net
 * header into its slot: 90 bytes for an L2 header of up to 28 bytes
 * (Ethernet and three tags).  A slot of AFP_V2_NET_ROOM + MTU bytes holds
 * every frame of the MTU with L2 headers up to 60 bytes. */
#define AFP_V2_NET_ROOM 128u
#define AFP_V2_MIN_SLOT 2048u          /* Smallest slot: MTU 1500. */
#define AFP_V2_BLOCK_SIZE (64u * 1024) /* Slots of up to a page are packed
                                        * in blocks of 16 pages; larger
                                        * ones get a block each. */
#define AFP_RCVBUF (4 * 1024 * 1024)   /* Socket queue for V2 copies; the
                                        * kernel doubles it: 8 MiB, ~110
                                        * 64 KiB GSO frames (skb truesize
                                        * ~70 KiB), about what a V3 ring of
                                        * 8 MiB holds. */

#define AFP_SNDBUF (4 * 1024 * 1024)
#define AFP_BURST 32u                  /* Buffers allocated / frames sent
                                        * per system call at most. */

struct port_afpacket {
    struct port up;
    int fd;                      /* const */
    bool v2;                     /* const: TPACKET_V2 ring (else V3). */
    bool vnet;                   /* const: PACKET_VNET_HDR is on. */
    bool ignore_outgoing;        /* const: PACKET_IGNORE_OUTGOING is on. */
    uint8_t *ring;               /* const: the mmap()ed RX ring. */
    size_t ring_size;            /* const */
    uint32_t n_blocks;           /* const */
    uint32_t block_size;         /* const */
    uint32_t slot_size;          /* const: V2 slot (frame) size. */
    uint32_t n_slots;            /* const: V2 slots. */
    uint32_t mtu;                /* const: for gso_infer_offload(). */
    bool gso_pool;               /* const: the pool has GSO buffers. */

    /* Reader position: V3 block/pkts_left/next_pkt, V2 slot. */
    uint32_t block;              /* dp: block being read. */
    uint32_t pkts_left;          /* dp: packets left in it (0: none
                                  * opened). */
    uint8_t *next_pkt;           /* dp */
    uint32_t slot;               /* dp: next V2 slot to read. */

    _Atomic uint64_t ring_drops; /* atomic: PACKET_STATISTICS tp_drops. */
};

/* One received frame as its ring slot describes it, V2 or V3. */
struct afp_frame {
    const uint8_t *data;         /* The frame's first 'snap' bytes. */
    uint32_t snap;               /* Bytes in the ring. */
    uint32_t len;                /* Bytes of the whole frame. */
    uint32_t status;             /* TP_STATUS_* */
    uint16_t vlan_tci;
    uint16_t vlan_tpid;
    bool outgoing;               /* PACKET_OUTGOING (no IGNORE_OUTGOING). */
    bool bad;                    /* Offsets outside its slot or block. */
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

/* Fills 'req' for a ring of about 'ring_frames' * AFP_FRAME_UNIT bytes
 * and sets the geometry fields of 'a'. */
static void
afp_ring_geometry(struct port_afpacket *a, uint32_t ring_frames,
                  uint32_t mtu, struct tpacket_req3 *req)
{
    uint64_t bytes = (uint64_t) ring_frames * AFP_FRAME_UNIT;
    memset(req, 0, sizeof *req);
    if (!a->v2) {
        a->block_size = AFP_BLOCK_SIZE;
        a->n_blocks = (uint32_t) VF_MAX(bytes / AFP_BLOCK_SIZE,
                                        (uint64_t) AFP_MIN_BLOCKS);
        req->tp_frame_size = AFP_FRAME_UNIT;
        req->tp_frame_nr = a->n_blocks * (AFP_BLOCK_SIZE / AFP_FRAME_UNIT);
        req->tp_retire_blk_tov = AFP_BLOCK_TOV_MS;
    } else {
        long page = sysconf(_SC_PAGESIZE);
        uint32_t pg = page > 0 ? (uint32_t) page : 4096u;
        uint32_t need = AFP_V2_NET_ROOM + mtu;
        uint32_t slot = AFP_V2_MIN_SLOT;
        while (slot < need && slot < pg) {
            slot *= 2;
        }
        if (slot < need) {
            slot = VF_ROUND_UP(need, pg);
        }
        a->slot_size = slot;
        a->block_size = slot <= pg ? VF_MAX(AFP_V2_BLOCK_SIZE, pg) : slot;
        a->n_blocks = (uint32_t) VF_MAX(bytes / a->block_size,
                                        (uint64_t) AFP_MIN_BLOCKS);
        a->n_slots = a->n_blocks * (a->block_size / slot);
        req->tp_frame_size = slot;
        req->tp_frame_nr = a->n_slots;
    }
    req->tp_block_size = a->block_size;
    req->tp_block_nr = a->n_blocks;
}

/* Sets up the RX ring, with vnet headers if the kernel allows them on
 * rings; turns them off and retries otherwise. */
static int
afp_setup_ring(struct port_afpacket *a, uint32_t ring_frames, uint32_t mtu,
               char **errp)
{
    struct tpacket_req3 req;
    afp_ring_geometry(a, ring_frames, mtu, &req);
    if (a->v2) {
        /* Frames larger than a slot are queued whole on the socket. */
        int err = setsockopt_int(a->fd, SOL_PACKET, PACKET_COPY_THRESH, 1);
        if (err) {
            *errp = vf_xasprintf("port %s: PACKET_COPY_THRESH: %s",
                                 a->up.name, strerror(-err));
            return err;
        }
        if (setsockopt_int(a->fd, SOL_SOCKET, SO_RCVBUFFORCE, AFP_RCVBUF)) {
            (void) setsockopt_int(a->fd, SOL_SOCKET, SO_RCVBUF, AFP_RCVBUF);
        }
    }
    /* tpacket_req is the head of tpacket_req3; V2 reads only that. */
    socklen_t req_len = a->v2 ? sizeof(struct tpacket_req) : sizeof req;
    int err = setsockopt(a->fd, SOL_PACKET, PACKET_RX_RING, &req, req_len)
              ? -errno : 0;
    if (err == -EINVAL && a->vnet) {
        VF_LOG_WARN(port_afpacket, "%s: kernel refuses virtio-net headers "
                    "with TPACKET_V%d rings; offloads rebuilt from ring "
                    "status", a->up.name, a->v2 ? 2 : 3);
        a->vnet = false;
        err = setsockopt_int(a->fd, SOL_PACKET, PACKET_VNET_HDR, 0);
        if (!err) {
            err = setsockopt(a->fd, SOL_PACKET, PACKET_RX_RING, &req,
                             req_len) ? -errno : 0;
        }
    }
    if (err) {
        *errp = vf_xasprintf("port %s: PACKET_RX_RING (TPACKET_V%d, %u "
                             "blocks of %u bytes): %s", a->up.name,
                             a->v2 ? 2 : 3, a->n_blocks, a->block_size,
                             strerror(-err));
        return err;
    }
    a->ring_size = (size_t) a->n_blocks * a->block_size;
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
         uint32_t mtu, char **errp)
{
    a->fd = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (a->fd < 0) {
        int err = -errno;
        *errp = vf_xasprintf("port %s: AF_PACKET socket: %s%s", cfg->name,
                             strerror(errno),
                             errno == EPERM ? " (needs CAP_NET_RAW)" : "");
        return err;
    }
    enum port_rx_ring ring = cfg->rx_ring == PORT_RX_RING_DEFAULT
                             ? AFP_RX_RING_DEFAULT : cfg->rx_ring;
    a->v2 = ring == PORT_RX_RING_V2;
    int err = setsockopt_int(a->fd, SOL_PACKET, PACKET_VERSION,
                             a->v2 ? TPACKET_V2 : TPACKET_V3);
    if (err) {
        *errp = vf_xasprintf("port %s: TPACKET_V%d: %s", cfg->name,
                             a->v2 ? 2 : 3, strerror(-err));
        return err;
    }
    a->vnet = !setsockopt_int(a->fd, SOL_PACKET, PACKET_VNET_HDR, 1);
    err = afp_setup_ring(a, cfg->ring_frames ? cfg->ring_frames
                                             : AFP_RING_FRAMES_DEFAULT,
                         mtu, errp);
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
    uint32_t mtu;
    if (port_netdev_get_mtu(cfg->name, &mtu)) {
        *errp = vf_xasprintf("port %s: interface vanished", cfg->name);
        return -ENODEV;
    }
    /* The V2 slots are sized for this MTU; a frame larger than a slot
     * (GSO, or a later MTU increase) takes the socket-queue path. */
    err = afp_open(a, cfg, ifindex, VF_MIN(mtu, PORT_MTU_MAX), errp);
    if (err) {
        afp_close(a);
        return err;
    }
    unsigned int flags;
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
    if (a->v2) {
        VF_LOG_INFO(port_afpacket, "%s: ifindex %d, TPACKET_V2 ring of %u "
                    "slots of %u bytes, vnet headers %s, ignore-outgoing %s",
                    port->name, ifindex, a->n_slots, a->slot_size,
                    a->vnet ? "on" : "off",
                    a->ignore_outgoing ? "on" : "off");
    } else {
        VF_LOG_INFO(port_afpacket, "%s: ifindex %d, TPACKET_V3 ring of %u "
                    "blocks, vnet headers %s, ignore-outgoing %s",
                    port->name, ifindex, a->n_blocks,
                    a->vnet ? "on" : "off",
                    a->ignore_outgoing ? "on" : "off");
    }
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

/* ---- TPACKET_V3 reader ---- */

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

/* True if the frame whose ring header 'h' is 'hdr_len' bytes long (its
 * sockaddr_ll follows) is one of our own transmissions echoed back
 * (only possible without PACKET_IGNORE_OUTGOING). */
static bool
afp_outgoing(const struct port_afpacket *a, const void *h, size_t hdr_len)
{
    if (a->ignore_outgoing) {
        return false;
    }
    const struct sockaddr_ll *sll = (const void *) ((const uint8_t *) h
                                                    + hdr_len);
    return sll->sll_pkttype == PACKET_OUTGOING;
}

/* Describes the V3 packet at the reader position in 'f'. */
static void
afp_frame_v3(const struct port_afpacket *a, struct afp_frame *f)
{
    const struct tpacket3_hdr *h = (const void *) a->next_pkt;
    const uint8_t *block = (const uint8_t *) afp_block(a, a->block);
    f->data = (const uint8_t *) h + h->tp_mac;
    f->snap = h->tp_snaplen;
    f->len = h->tp_len;
    f->status = h->tp_status;
    f->vlan_tci = (uint16_t) h->hv1.tp_vlan_tci;
    f->vlan_tpid = (uint16_t) h->hv1.tp_vlan_tpid;
    f->outgoing = afp_outgoing(a, h, TPACKET_ALIGN(sizeof *h));
    f->bad = h->tp_mac < VNET_HDR_SIZE
             || (size_t) (f->data - block) + f->snap > AFP_BLOCK_SIZE;
}

/* ---- TPACKET_V2 reader ---- */

static struct tpacket2_hdr *
afp_slot(const struct port_afpacket *a, uint32_t i)
{
    /* Blocks hold a whole number of slots, so slots are contiguous. */
    return (struct tpacket2_hdr *) (void *) (a->ring
                                             + (size_t) i * a->slot_size);
}

static uint32_t
afp_slot_next(const struct port_afpacket *a, uint32_t i)
{
    return i + 1 == a->n_slots ? 0 : i + 1;
}

static bool
afp_slot_ready(const struct port_afpacket *a, uint32_t i)
{
    return __atomic_load_n(&afp_slot(a, i)->tp_status, __ATOMIC_ACQUIRE)
           & TP_STATUS_USER;
}

/* Returns how many slots from the reader position on (which is ready)
 * the kernel has handed over, up to 'max'. */
static uint32_t
afp_slots_ready(const struct port_afpacket *a, uint32_t max)
{
    uint32_t n = 1;
    for (uint32_t i = afp_slot_next(a, a->slot);
         n < max && afp_slot_ready(a, i); i = afp_slot_next(a, i)) {
        n++;
    }
    return n;
}

static void
afp_release_slot(struct port_afpacket *a)
{
    __atomic_store_n(&afp_slot(a, a->slot)->tp_status, TP_STATUS_KERNEL,
                     __ATOMIC_RELEASE);
    a->slot = afp_slot_next(a, a->slot);
}

/* Describes the V2 frame in the slot at the reader position in 'f'. */
static void
afp_frame_v2(const struct port_afpacket *a, struct afp_frame *f)
{
    const struct tpacket2_hdr *h = afp_slot(a, a->slot);
    f->data = (const uint8_t *) h + h->tp_mac;
    f->snap = h->tp_snaplen;
    f->len = h->tp_len;
    f->status = h->tp_status;
    f->vlan_tci = h->tp_vlan_tci;
    f->vlan_tpid = h->tp_vlan_tpid;
    f->outgoing = afp_outgoing(a, h, TPACKET_ALIGN(sizeof *h));
    f->bad = h->tp_mac < VNET_HDR_SIZE
             || (size_t) h->tp_mac + f->snap > a->slot_size;
}

/* recvmsg() for a V2 copy; retries once after a pending socket error,
 * which the kernel reports (and clears) before it looks at the queue.
 * Returns the frame's length with the virtio-net header, or -errno. */
static ssize_t
afp_recv_copy__(struct port_afpacket *a, struct msghdr *msg)
{
    for (int i = 0; i < 2; i++) {
        ssize_t r = recvmsg(a->fd, msg, MSG_DONTWAIT | MSG_TRUNC);
        if (r >= 0) {
            return r;
        }
        if (errno == EAGAIN) {
            break;
        }
    }
    return -errno;
}

/* Reads the whole frame of a TP_STATUS_COPY slot, 'len' bytes, from the
 * socket queue into 'd' and its virtio-net header (if on) into 'vh'.
 * Returns 0, or -EIO if the queue was empty or its frame was not 'len'
 * bytes long (never from a sane kernel). */
static int
afp_recv_copy(struct port_afpacket *a, uint8_t *d, uint32_t len,
              struct virtio_net_hdr *vh)
{
    struct iovec iov[2] = {{vh, VNET_HDR_SIZE}, {d, len}};
    struct msghdr msg;
    memset(&msg, 0, sizeof msg);
    msg.msg_iov = a->vnet ? iov : iov + 1;
    msg.msg_iovlen = a->vnet ? 2 : 1;
    ssize_t r = afp_recv_copy__(a, &msg);
    ssize_t want = (ssize_t) len + (a->vnet ? VNET_HDR_SIZE : 0);
    return r == want && !(msg.msg_flags & MSG_TRUNC) ? 0 : -EIO;
}

/* Takes the frame of a TP_STATUS_COPY slot off the socket queue and
 * throws it away (the frame is dropped; the queue stays in step with the
 * ring). */
static void
afp_discard_copy(struct port_afpacket *a)
{
    uint8_t scratch[64];
    struct iovec iov = {scratch, sizeof scratch};
    struct msghdr msg;
    memset(&msg, 0, sizeof msg);
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    (void) afp_recv_copy__(a, &msg);
}

/* ---- Both ring versions ---- */

/* Translates the offload information of the frame now in 'p' ('f', its
 * virtio-net header 'vh', 'vlan_shift' bytes of tag re-inserted).
 * Returns 0 or -EINVAL. */
static int
afp_offload(struct port_afpacket *a, const struct afp_frame *f,
            const struct virtio_net_hdr *vh, uint32_t vlan_shift,
            struct pkt *p)
{
    if (!a->vnet) {
        if (f->status & TP_STATUS_CSUM_VALID) {
            p->offload.csum_valid = 1;
            p->flags |= PKT_F_OFFLOAD;
        }
        return gso_infer_offload(p, a->mtu,
                                 f->status & TP_STATUS_CSUMNOTREADY);
    }
    if (VF_LIKELY(!vh->flags && vh->gso_type == VIRTIO_NET_HDR_GSO_NONE
                  && !vh->gso_size)) {
        return 0;
    }
    if (vnet_hdr_decode(vh, f->len, &p->offload, NULL)) {
        return -EINVAL;
    }
    if (p->offload.needs_csum) {
        p->offload.csum_start = (uint16_t) (p->offload.csum_start
                                            + vlan_shift);
    }
    p->flags |= PKT_F_OFFLOAD;
    return 0;
}

/* Copies the frame 'f' into 'mtu_buf', or into a new GSO buffer if it is
 * larger (from the ring, or from the socket queue for a V2 copy).
 * Returns 0 with '*out' = the frame, or NULL if it was dropped (counted);
 * or -EDQUOT/-ENOBUFS (no GSO buffer: the frame stays where it is). */
static int
afp_take(struct port_afpacket *a, const struct afp_frame *f,
         struct pkt *mtu_buf, struct pkt_cache *cache, struct pkt **out)
{
    *out = NULL;
    bool copy = f->status & TP_STATUS_COPY;    /* V2 only. */
    if (f->outgoing) {
        goto discard;
    }
    if (VF_UNLIKELY(!copy && f->snap < f->len)) {
        port_count_rx_dropped(&a->up, 1);      /* Ring frame too small. */
        return 0;
    }
    if (VF_UNLIKELY(f->bad || f->len < 14)) {
        port_count_rx_errors(&a->up, 1);       /* Never from a sane kernel. */
        goto discard;
    }
    uint32_t shift = f->status & TP_STATUS_VLAN_VALID ? 4 : 0;
    uint32_t size = f->len + shift;
    struct pkt *p = mtu_buf;
    if (VF_UNLIKELY(size > PKT_MTU_ROOM && !a->gso_pool)
        || VF_UNLIKELY(size > PKT_GSO_ROOM)) {
        /* Larger than any buffer we have (a pool without GSO buffers, or
         * BIG TCP beyond 64 KiB raised on the device): drop, don't stall. */
        port_count_rx_dropped(&a->up, 1);
        goto discard;
    }
    if (size > PKT_MTU_ROOM) {
        p = pkt_alloc(cache, a->up.pool, PKT_CLASS_GSO, a->up.owner);
        if (!p) {
            return -errno;
        }
    }
    uint8_t *d = pkt_data(p);
    struct virtio_net_hdr vh;
    if (copy) {
        if (VF_UNLIKELY(afp_recv_copy(a, d + shift, f->len, &vh))) {
            port_count_rx_errors(&a->up, 1);
            goto free;
        }
        if (shift) {
            memmove(d, d + 4, 12);
        }
    } else {
        if (a->vnet) {
            memcpy(&vh, f->data - VNET_HDR_SIZE, sizeof vh);
        }
        if (shift) {
            memcpy(d, f->data, 12);
            memcpy(d + 16, f->data + 12, f->snap - 12);
        } else {
            memcpy(d, f->data, f->snap);
        }
    }
    if (shift) {
        uint16_t tpid = f->status & TP_STATUS_VLAN_TPID_VALID
                            ? f->vlan_tpid : 0x8100;
        vf_put_u16(d + 12, vf_htons(tpid));
        vf_put_u16(d + 14, vf_htons(f->vlan_tci));
    }
    p->size = size;
    if (VF_UNLIKELY(afp_offload(a, f, &vh, shift, p))) {
        port_count_rx_errors(&a->up, 1);
        goto free;
    }
    *out = p;
    return 0;

free:
    if (p != mtu_buf) {
        pkt_free(cache, p);
    } else {
        p->flags = 0;
        memset(&p->offload, 0, sizeof p->offload);
    }
    return 0;

discard:
    if (copy) {
        afp_discard_copy(a);
    }
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

/* Describes the frame at the reader position in 'f'; returns false if
 * the kernel has not handed one over. */
static bool
afp_peek(struct port_afpacket *a, struct afp_frame *f)
{
    if (a->v2) {
        if (!afp_slot_ready(a, a->slot)) {
            return false;
        }
        afp_frame_v2(a, f);
        return true;
    }
    if (!a->pkts_left && !afp_open_block(a)) {
        return false;
    }
    afp_frame_v3(a, f);
    return true;
}

/* After a successful afp_peek(): how many frames, up to 'max', are ready
 * from the reader position on. */
static uint32_t
afp_n_ready(const struct port_afpacket *a, uint32_t max)
{
    return a->v2 ? afp_slots_ready(a, max) : VF_MIN(a->pkts_left, max);
}

/* Gives the frame at the reader position back to the kernel (V2) or
 * moves past it (V3: the block goes back when done). */
static void
afp_advance(struct port_afpacket *a)
{
    if (a->v2) {
        afp_release_slot(a);
    } else {
        afp_next_pkt(a);
    }
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
        struct afp_frame fr;
        if (!afp_peek(a, &fr)) {
            break;
        }
        if (used == n_bufs) {
            uint32_t want = afp_n_ready(a, VF_MIN(n - out, AFP_BURST));
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
        err = afp_take(a, &fr, bufs[used], cache, &f);
        if (err) {
            break;
        }
        if (f) {
            pkts[out++] = f;
            if (f == bufs[used]) {
                used++;
            }
        }
        afp_advance(a);
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
