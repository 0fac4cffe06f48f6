# SPDX-License-Identifier: Apache-2.0
"""UDP GSO (USO) traffic for the port tests.

  uso.py send DST_IP PORT BUFFERS SEGMENT   sends BUFFERS sends of 16
      SEGMENT-byte datagrams each through one UDP_SEGMENT socket call, so
      the kernel emits UDP GSO super-frames (virtio GSO_UDP_L4)
  uso.py recv BIND_IP PORT EXPECT TIMEOUT   receives until EXPECT datagrams
      or TIMEOUT seconds and prints "datagrams=N bad=M sizes=..."; exit 0
      if all EXPECT came and every one is well-formed

Each datagram is its 4-byte sequence number followed by SEGMENT-4 bytes of
(sequence & 0xff), so a receiver can tell a datagram boundary moved.
"""
import socket
import struct
import sys
import time

UDP_SEGMENT = 103
PER_SEND = 16


def datagram(seq, size):
    return struct.pack("!I", seq) + bytes([seq & 0xFF]) * (size - 4)


def send(dst, port, buffers, seg):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.IPPROTO_UDP, UDP_SEGMENT, seg)
    seq = 0
    for _ in range(buffers):
        buf = b"".join(datagram(seq + i, seg) for i in range(PER_SEND))
        seq += PER_SEND
        s.sendto(buf, (dst, port))
        time.sleep(0.001)
    return 0


def recv(bind, port, expect, timeout):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
    s.bind((bind, port))
    s.settimeout(0.2)
    n = bad = 0
    sizes = {}
    end = time.time() + timeout
    while n < expect and time.time() < end:
        try:
            d = s.recv(65536)
        except socket.timeout:
            continue
        n += 1
        sizes[len(d)] = sizes.get(len(d), 0) + 1
        seq = struct.unpack("!I", d[:4])[0]
        if d != datagram(seq, len(d)):
            bad += 1
    print(f"datagrams={n} bad={bad} sizes={sizes}")
    return 0 if n == expect and bad == 0 else 1


if __name__ == "__main__":
    a = sys.argv
    if a[1] == "send":
        sys.exit(send(a[2], int(a[3]), int(a[4]), int(a[5])))
    sys.exit(recv(a[2], int(a[3]), int(a[4]), float(a[5])))
