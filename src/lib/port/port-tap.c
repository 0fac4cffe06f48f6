/* SPDX-License-Identifier: Apache-2.0 */
/* TAP ports: theory of operation.
 *
 * A tap port is a VM's NIC: vfabd creates the TAP device named by the
 * operator and holds its only fd; the VM side (QEMU, or in tests a network
 * namespace the device is moved into) sees an ordinary interface.  Closing
 * the fd deletes the device (it is never made persistent), so a crashed
 * daemon leaves nothing behind.
 *
 * Set-up (construct): open /dev/net/tun non-blocking; TUNSETIFF with
 * IFF_TAP | IFF_NO_PI | IFF_TUN_EXCL (refuse to attach to an existing
 * device) and, with offloads, IFF_VNET_HDR; TUNSETVNETHDRSZ 10 (the legacy
 * struct virtio_net_hdr); TUNSETOFFLOAD with CSUM, TSO4, TSO6, TSO_ECN and
 * USO4/USO6, falling back to the set without USO on kernels before 6.2 and
 * to CSUM alone when the pool has no GSO buffers (then the kernel
 * segments before handing frames over); MTU if configured; IFF_UP.
 * TUNSETOFFLOAD says what *we* accept from the kernel; what we write is
 * accepted with any GSO type the kernel's virtio_net_hdr_to_skb() knows,
 * so the caps are: tx_csum, tx_tso4, tx_tso6 with vnet headers, tx_uso
 * where the USO flags were accepted (same kernel support).
 *
 * Receive.  A TAP has no batch read: one readv() per frame, each frame
 * preceded by its virtio-net header.  The frame's size is not known before
 * the read, and most frames are small, so a read scatters into
 *
 *     iov[0]  the 10-byte virtio-net header (on the stack)
 *     iov[1]  an MTU buffer, first 'split' bytes
 *     iov[2]  a spare GSO buffer, from offset 'split' on
 *
 * A frame of at most 'split' bytes lands whole in the MTU buffer (the
 * common case: no copy).  A larger one (a GSO super-frame) continues in the
 * spare at the right offset, and only its first 'split' bytes are copied
 * from the MTU buffer to the front of the spare; the spare becomes the
 * frame and a new spare is taken on the next read.  'split' starts at the
 * device's MTU frame size (1536 bytes for MTU 1500), so a 64 KiB
 * super-frame costs one extra copy of 1.5 KiB (about 2% of what the
 * super-frame costs to read and write at the 20 Gbit/s measured in
 * bench/RESULTS.md), not 9 KiB; a plain frame larger than 'split' (the VM
 * raised its MTU) raises 'split' to the whole MTU buffer.  The other
 * obvious design, reading every frame into a GSO buffer and copying the
 * small ones out, would copy every small frame and charge 8 units per
 * read.  The spare is charged to the port's owner while held
 * (PKT_GSO_CHARGE units).  MTU buffers are taken in growing chunks (4, 8,
 * 16) so that a wakeup for one frame does not take and return 32.  If no
 * spare can be had (quota, pool), reading stops rather than truncating a
 * super-frame: frames wait in the device's queue.
 *
 * Transmit: one writev() per frame ([virtio-net header, frame]).  EIO means
 * the device is down on the VM side: the frame is counted in tx_dropped
 * and the carrier goes down until a write succeeds again.
 *
 * Errors on receive: a read the kernel could not describe (EINVAL: it
 * could not build a header for that skb) and a header that fails
 * validation (vnet-hdr.h) count as rx_errors; a truncated frame (only
 * without a spare) as rx_dropped.  Each is dropped; reading goes on. */
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/uio.h>
#include <unistd.h>

#include "port/port-provider.h"
#include "port/vnet-hdr.h"
#include "util/buf.h"
#include "util/log.h"

VF_LOG_MODULE(port_tap);

#ifndef TUN_F_USO4
#define TUN_F_USO4 0x20          /* Linux 6.2+. */
#define TUN_F_USO6 0x40
#endif

#define TAP_RX_MAX 32            /* Frames read per rx_burst at most. */
#define TAP_RX_FIRST_CHUNK 4     /* MTU buffers taken first per rx_burst. */
#define TAP_TX_RETRIES 2         /* writev() attempts after EINTR. */

struct port_tap {
    struct port up;
    int fd;                      /* const */
    bool vnet;                   /* const: IFF_VNET_HDR. */
    bool gso_rx;                 /* const: kernel may hand us GSO frames. */
    uint32_t split;              /* dp: bytes read into the MTU buffer. */
    struct pkt *spare;           /* dp: GSO buffer for the next read. */
};

static struct port_tap *
tap_cast(const struct port *port)
{
    return VF_CONTAINER_OF(port, struct port_tap, up);
}

static struct port *
tap_alloc(void)
{
    struct port_tap *t = calloc(1, sizeof *t);
    if (!t) {
        return NULL;
    }
    t->fd = -1;
    return &t->up;
}

/* Negotiates offloads; sets t->gso_rx and the tx caps. */
static int
tap_set_offload(struct port_tap *t, bool gso_pool, char **errp)
{
    struct port *port = &t->up;
    int hdr_size = (int) VNET_HDR_SIZE;
    if (ioctl(t->fd, TUNSETVNETHDRSZ, &hdr_size) < 0) {
        int err = -errno;
        *errp = vf_xasprintf("port %s: TUNSETVNETHDRSZ: %s", port->name,
                             strerror(errno));
        return err;
    }
    const unsigned int tso = TUN_F_TSO4 | TUN_F_TSO6 | TUN_F_TSO_ECN;
    const unsigned int uso = TUN_F_USO4 | TUN_F_USO6;
    unsigned int tries[3] = {
        TUN_F_CSUM | tso | uso,
        TUN_F_CSUM | tso,
        TUN_F_CSUM,
    };
    unsigned int flags = 0;
    for (int i = gso_pool ? 0 : 2; i < 3; i++) {
        if (ioctl(t->fd, TUNSETOFFLOAD, (unsigned long) tries[i]) == 0) {
            flags = tries[i];
            break;
        }
    }
    if (!flags) {
        int err = -errno;
        *errp = vf_xasprintf("port %s: TUNSETOFFLOAD: %s", port->name,
                             strerror(errno));
        return err;
    }
    t->gso_rx = (flags & tso) != 0;
    port->caps.tx_csum = true;
    port->caps.tx_tso4 = true;
    port->caps.tx_tso6 = true;
    port->caps.tx_uso = (flags & uso) != 0;
    port->caps.rx_offload = true;
    return 0;
}

static int
tap_open(struct port_tap *t, const struct port_config *cfg, char **errp)
{
    int ifindex;
    if (!port_netdev_get_ifindex(cfg->name, &ifindex)) {
        *errp = vf_xasprintf("port %s: a device of that name already "
                             "exists (ifindex %d)", cfg->name, ifindex);
        return -EEXIST;
    }
    t->fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
    if (t->fd < 0) {
        int err = -errno;
        *errp = vf_xasprintf("port %s: cannot open /dev/net/tun: %s",
                             cfg->name, strerror(errno));
        return err;
    }
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "%s", cfg->name);
    unsigned int flags = IFF_TAP | IFF_NO_PI | IFF_TUN_EXCL;
    if (cfg->offload) {
        flags |= IFF_VNET_HDR;
    }
    ifr.ifr_flags = (short) flags;   /* IFF_TUN_EXCL is bit 15. */
    if (ioctl(t->fd, TUNSETIFF, &ifr) < 0) {
        int err = errno == EBUSY ? -EEXIST : -errno;
        *errp = vf_xasprintf("port %s: cannot create TAP device: %s%s",
                             cfg->name, strerror(errno),
                             errno == EPERM ? " (needs CAP_NET_ADMIN)" : "");
        return err;
    }
    t->vnet = cfg->offload;
    return 0;
}

static int
tap_construct(struct port *port, const struct port_config *cfg,
              char **errp)
{
    struct port_tap *t = tap_cast(port);
    int err = tap_open(t, cfg, errp);
    if (err) {
        goto err;
    }
    bool gso_pool = pkt_pool_n_bufs(port->pool, PKT_CLASS_GSO) > 0;
    if (t->vnet) {
        err = tap_set_offload(t, gso_pool, errp);
        if (err) {
            goto err;
        }
    }
    if (cfg->mtu) {
        err = port_netdev_set_mtu(cfg->name, cfg->mtu);
        if (err) {
            *errp = vf_xasprintf("port %s: cannot set mtu %u: %s",
                                 cfg->name, cfg->mtu, strerror(-err));
            goto err;
        }
    }
    uint32_t mtu;
    int ifindex;
    err = port_netdev_get_mtu(cfg->name, &mtu);
    if (!err) {
        err = port_netdev_get_ifindex(cfg->name, &ifindex);
    }
    if (!err) {
        err = port_netdev_set_up(cfg->name);
    }
    if (err) {
        *errp = vf_xasprintf("port %s: cannot set the device up: %s",
                             cfg->name, strerror(-err));
        goto err;
    }
    atomic_store(&port->ifindex, ifindex);
    port->caps.mtu = mtu;
    port->caps.max_frame = t->vnet ? PKT_GSO_ROOM : port_frame_for_mtu(mtu);
    t->split = t->gso_rx ? VF_MIN(VF_ROUND_UP(port_frame_for_mtu(mtu), 64u),
                                  PKT_MTU_ROOM)
                         : PKT_MTU_ROOM;  /* No spare: read whole frames. */
    return 0;

err:
    if (t->fd >= 0) {
        close(t->fd);
        t->fd = -1;
    }
    return err;
}

static void
tap_destruct(struct port *port)
{
    struct port_tap *t = tap_cast(port);
    pkt_free(NULL, t->spare);
    t->spare = NULL;
    close(t->fd);                /* Deletes the (non-persistent) device. */
}

static void
tap_dealloc(struct port *port)
{
    free(tap_cast(port));
}

/* Makes sure a spare GSO buffer is at hand if the kernel may send GSO
 * frames.  Returns 0, or -EDQUOT/-ENOBUFS if none can be had. */
static int
tap_get_spare(struct port_tap *t, struct pkt_cache *cache)
{
    if (t->spare || !t->gso_rx) {
        return 0;
    }
    t->spare = pkt_alloc(cache, t->up.pool, PKT_CLASS_GSO, t->up.owner);
    return t->spare ? 0 : -errno;
}

/* Reads one frame into 'p' (and the spare if it is larger than 'split').
 * Returns the frame (p or the former spare), or NULL with '*err':
 * -EAGAIN (nothing waiting), 0 (frame dropped; go on), other -errno (stop). */
static struct pkt *
tap_read_one(struct port_tap *t, struct pkt *p, int *err)
{
    struct virtio_net_hdr vh;
    struct iovec iov[3];
    int n_iov = 0;
    if (t->vnet) {
        iov[n_iov++] = (struct iovec) {&vh, VNET_HDR_SIZE};
    }
    iov[n_iov++] = (struct iovec) {pkt_data(p), t->split};
    uint32_t cap = t->split;
    if (t->spare) {
        uint32_t room = pkt_tailroom(t->spare);
        iov[n_iov++] = (struct iovec) {pkt_data(t->spare) + t->split,
                                       room - t->split};
        cap = room;
    }
    ssize_t r = readv(t->fd, iov, n_iov);
    uint32_t hdr = t->vnet ? VNET_HDR_SIZE : 0;
    if (r < 0) {
        *err = errno == EAGAIN || errno == EWOULDBLOCK ? -EAGAIN
               : errno == EINTR                        ? 0
                                                       : -errno;
        if (errno == EINVAL) {
            port_count_rx_errors(&t->up, 1);   /* No header for it. */
            *err = 0;
        }
        return NULL;
    }
    *err = 0;
    if ((size_t) r < hdr + 14) {
        port_count_rx_errors(&t->up, 1);
        return NULL;
    }
    uint32_t size = (uint32_t) r - hdr;
    if (size > cap) {
        port_count_rx_dropped(&t->up, 1);      /* Truncated. */
        return NULL;
    }
    struct pkt *f = p;
    if (size > t->split) {
        f = t->spare;
        t->spare = NULL;
        memcpy(pkt_data(f), pkt_data(p), t->split);
    }
    f->size = size;
    if (t->vnet && VF_UNLIKELY(vnet_hdr_to_pkt(&vh, f, NULL))) {
        port_count_rx_errors(&t->up, 1);
        if (f != p) {
            pkt_reset_meta(f);
            t->spare = f;
        }
        return NULL;
    }
    if (VF_UNLIKELY(f != p) && size <= PKT_MTU_ROOM
        && (!(f->flags & PKT_F_OFFLOAD)
            || f->offload.gso_type == PKT_GSO_NONE)) {
        t->split = PKT_MTU_ROOM;  /* Plain frames beyond the MTU: adapt. */
    }
    return f;
}

static int
tap_rx_burst(struct port *port, struct pkt_cache *cache, struct pkt **pkts,
             uint32_t n)
{
    struct port_tap *t = tap_cast(port);
    struct pkt *bufs[TAP_RX_MAX];
    uint32_t n_bufs = 0;
    uint32_t used = 0;
    uint32_t out = 0;
    uint32_t chunk = TAP_RX_FIRST_CHUNK;
    int err = 0;
    n = VF_MIN(n, (uint32_t) TAP_RX_MAX);
    while (out < n) {
        if (used == n_bufs) {
            /* Buffers in growing chunks: a wakeup for one frame takes 4
             * (one is for the read that finds the queue empty), not 32. */
            uint32_t want = VF_MIN(chunk, TAP_RX_MAX - n_bufs);
            int got = pkt_alloc_burst(cache, port->pool, PKT_CLASS_MTU,
                                      port->owner, bufs + n_bufs, want);
            if (got < 0) {
                err = got;
                break;
            }
            n_bufs += (uint32_t) got;
            chunk *= 2;
        }
        err = tap_get_spare(t, cache);
        if (err) {
            break;
        }
        struct pkt *f = tap_read_one(t, bufs[used], &err);
        if (f) {
            pkts[out++] = f;
            if (f == bufs[used]) {
                used++;
            }
        } else if (err) {
            break;
        }
    }
    if (used < n_bufs) {
        pkt_free_burst(cache, bufs + used, n_bufs - used);
    }
    if (err && err != -EAGAIN && err != -EDQUOT && err != -ENOBUFS) {
        port_count_rx_errors(port, 1);
        VF_LOG_WARN_RL(port_tap, "%s: read: %s", port->name, strerror(-err));
    }
    if (!out && (err == -EDQUOT || err == -ENOBUFS)) {
        return err;
    }
    return (int) out;
}

static uint32_t
tap_tx_burst(struct port *port, struct pkt_cache *cache, struct pkt **pkts,
             uint32_t n)
{
    struct port_tap *t = tap_cast(port);
    uint32_t sent = 0;
    uint64_t bytes = 0;
    uint32_t n_drop = 0;
    uint32_t n_err = 0;
    int last_err = 0;
    for (uint32_t i = 0; i < n; i++) {
        struct pkt *p = pkts[i];
        struct virtio_net_hdr vh;
        struct iovec iov[2];
        int n_iov = 0;
        if (t->vnet) {
            vnet_hdr_from_pkt(p, &vh);
            iov[n_iov++] = (struct iovec) {&vh, VNET_HDR_SIZE};
        }
        iov[n_iov++] = (struct iovec) {pkt_data(p), p->size};
        ssize_t r;
        int tries = 0;
        do {
            r = writev(t->fd, iov, n_iov);
        } while (r < 0 && errno == EINTR && ++tries < TAP_TX_RETRIES);
        if (VF_LIKELY(r >= 0)) {
            sent++;
            bytes += p->size;
        } else if (errno == EIO || errno == EAGAIN || errno == ENOBUFS
                   || errno == EINTR) {
            n_drop++;
            last_err = errno;
        } else {
            n_err++;
            last_err = errno;
        }
    }
    pkt_free_burst(cache, pkts, n);
    port_count_tx(port, sent, bytes);
    if (n_drop) {
        port_count_tx_dropped(port, n_drop);
    }
    if (n_err) {
        port_count_tx_errors(port, n_err);
        VF_LOG_WARN_RL(port_tap, "%s: write: %s", port->name,
                       strerror(last_err));
    }
    bool up = sent || last_err != EIO;
    if (up != atomic_load_explicit(&port->carrier, memory_order_relaxed)) {
        port_set_carrier__(port, up);
    }
    return sent;
}

static int
tap_get_fd(const struct port *port)
{
    return tap_cast(port)->fd;
}

const struct port_class port_tap_class = {
    .kind = PORT_KIND_TAP,
    .name = "tap",
    .alloc = tap_alloc,
    .construct = tap_construct,
    .destruct = tap_destruct,
    .dealloc = tap_dealloc,
    .rx_burst = tap_rx_burst,
    .tx_burst = tap_tx_burst,
    .get_fd = tap_get_fd,
};
