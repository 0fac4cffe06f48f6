/* SPDX-License-Identifier: Apache-2.0 */
/* afpacket-txbench: compares the two ways an AF_PACKET port can send a
 * burst (the choice made in src/lib/port/port-afpacket.c):
 *
 *   mmsg   sendmmsg() of up to 32 [virtio-net header, frame] iovecs;
 *   ring   PACKET_TX_RING (TPACKET_V3 frames of 2048 bytes): frames are
 *          copied into the ring and one send() per burst hands them over.
 *
 *   afpacket-txbench IFNAME mmsg|ring SIZE VNET(0|1) [SECONDS]
 *
 * Sends SIZE-byte frames (a local experimental Ethertype, 0x88b5, to
 * 02:00:00:00:00:02) as fast as it can for SECONDS (default 2) and prints
 * "afpacket_tx_<method>_<size>_mpps: X Mpps".  Run it on a veth whose
 * peer nobody reads; bench/e2e-ports.sh does. */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <linux/virtio_net.h>
#include <net/if.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#define BURST 32
#define RING_FRAME 2048u
#define RING_FRAMES 512u

static int64_t
now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000000000ll + ts.tv_nsec;
}

static int
setopt(int fd, int level, int name, int v)
{
    return setsockopt(fd, level, name, &v, sizeof v);
}

int
main(int argc, char **argv)
{
    if (argc < 5) {
        fprintf(stderr, "usage: afpacket-txbench IFNAME mmsg|ring SIZE "
                "VNET [SECONDS]\n");
        return 2;
    }
    int ring_mode = !strcmp(argv[2], "ring");
    uint32_t size = (uint32_t) atoi(argv[3]);
    int vnet = atoi(argv[4]);
    double seconds = argc > 5 ? atof(argv[5]) : 2.0;
    uint32_t hdr = vnet ? (uint32_t) sizeof(struct virtio_net_hdr) : 0;
    if (size < 60 || size + hdr > RING_FRAME - 64) {
        fprintf(stderr, "afpacket-txbench: size out of range\n");
        return 2;
    }
    int fd = socket(AF_PACKET, SOCK_RAW, 0);
    if (fd < 0 || setopt(fd, SOL_PACKET, PACKET_VERSION, TPACKET_V3)
        || (vnet && setopt(fd, SOL_PACKET, PACKET_VNET_HDR, 1))
        || setopt(fd, SOL_PACKET, PACKET_QDISC_BYPASS, 1)) {
        perror("afpacket-txbench: socket");
        return 1;
    }
    if (setopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, 4 << 20)) {
        setopt(fd, SOL_SOCKET, SO_SNDBUF, 4 << 20);
    }
    uint8_t *ring = NULL;
    if (ring_mode) {
        struct tpacket_req3 req = {
            .tp_block_size = 1u << 16,
            .tp_block_nr = RING_FRAMES * RING_FRAME / (1u << 16),
            .tp_frame_size = RING_FRAME,
            .tp_frame_nr = RING_FRAMES,
        };
        if (setsockopt(fd, SOL_PACKET, PACKET_TX_RING, &req, sizeof req)) {
            perror("afpacket-txbench: PACKET_TX_RING");
            return 1;
        }
        ring = mmap(NULL, RING_FRAMES * RING_FRAME, PROT_READ | PROT_WRITE,
                    MAP_SHARED, fd, 0);
        if (ring == MAP_FAILED) {
            perror("afpacket-txbench: mmap");
            return 1;
        }
    }
    struct sockaddr_ll sll = {.sll_family = AF_PACKET,
                              .sll_protocol = htons(ETH_P_ALL),
                              .sll_ifindex = (int) if_nametoindex(argv[1])};
    if (!sll.sll_ifindex || bind(fd, (struct sockaddr *) &sll, sizeof sll)) {
        perror("afpacket-txbench: bind");
        return 1;
    }

    uint8_t frame[RING_FRAME] = {0x02, 0, 0, 0, 0, 2, 0x02, 0, 0, 0, 0, 1,
                                 0x88, 0xb5};
    struct virtio_net_hdr vh;
    memset(&vh, 0, sizeof vh);
    struct mmsghdr msgs[BURST];
    struct iovec iov[BURST][2];
    for (int i = 0; i < BURST; i++) {
        iov[i][0] = (struct iovec) {&vh, hdr};
        iov[i][1] = (struct iovec) {frame, size};
        memset(&msgs[i], 0, sizeof msgs[i]);
        msgs[i].msg_hdr.msg_iov = vnet ? iov[i] : &iov[i][1];
        msgs[i].msg_hdr.msg_iovlen = vnet ? 2 : 1;
    }

    uint64_t sent = 0;
    uint32_t head = 0;
    int64_t start = now_ns();
    int64_t end = start + (int64_t) (seconds * 1e9);
    while (now_ns() < end) {
        if (!ring_mode) {
            int n = sendmmsg(fd, msgs, BURST, MSG_DONTWAIT);
            sent += n > 0 ? (uint64_t) n : 0;
            continue;
        }
        uint32_t queued = 0;
        for (; queued < BURST; queued++) {
            struct tpacket3_hdr *h = (void *) (ring + (size_t) head
                                                      * RING_FRAME);
            if (__atomic_load_n(&h->tp_status, __ATOMIC_ACQUIRE)
                != TP_STATUS_AVAILABLE) {
                break;
            }
            uint8_t *d = (uint8_t *) h + TPACKET3_HDRLEN
                         - sizeof(struct sockaddr_ll);
            memcpy(d, &vh, hdr);
            memcpy(d + hdr, frame, size);
            h->tp_len = size + hdr;
            h->tp_next_offset = 0;
            __atomic_store_n(&h->tp_status, TP_STATUS_SEND_REQUEST,
                             __ATOMIC_RELEASE);
            head = (head + 1) % RING_FRAMES;
        }
        if (queued && send(fd, NULL, 0, MSG_DONTWAIT) >= 0) {
            sent += queued;
        }
    }
    double secs = (double) (now_ns() - start) / 1e9;
    printf("afpacket_tx_%s_%u%s_mpps: %.3f Mpps\n", argv[2], size,
           vnet ? "_vnet" : "", (double) sent / secs / 1e6);
    close(fd);
    return 0;
}
