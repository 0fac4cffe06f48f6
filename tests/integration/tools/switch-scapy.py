# SPDX-License-Identifier: Apache-2.0
"""Raw-socket frame injection and capture for the switch tests
(tests/integration/t-switch-*.sh).  Run with /usr/bin/python3 (scapy).

  switch-scapy.py send IFACE COUNT EXPR [EXPR...]
      Builds each EXPR (a scapy expression, e.g.
      "Ether(dst='ff:ff:ff:ff:ff:ff')/Dot1Q(vlan=10)/IP()/UDP()/'SWT-x'")
      and writes it COUNT times on an AF_PACKET socket bound to IFACE.
      Frames are sent exactly as built (tags included).

  switch-scapy.py sniff IFACE SECONDS READY_FILE
      Captures every frame on IFACE (received and sent) for SECONDS or
      until SIGTERM, and prints one JSON object per frame, flushed at once:
        {"dir": "in"|"out", "src", "dst", "vlan": N|null, "etype",
         "ipsrc", "ipdst", "proto", "icmp6", "arp_op", "psrc", "hwsrc",
         "tgt", "mark"}
      ("mark" = the UDP payload when it starts with "SWT").  An 802.1Q tag
      the kernel moved into packet metadata (PACKET_AUXDATA) is put back
      into the frame first, so "vlan" is what was on the wire.  Creates
      READY_FILE once the socket is open.
"""
import json
import os
import select
import signal
import socket
import struct
import sys
import time

from scapy.all import (ARP, ICMPv6ND_NA, ICMPv6ND_NS, ICMPv6ND_RA,  # noqa
                       ICMPv6NDOptDstLLAddr, ICMPv6NDOptPrefixInfo,
                       ICMPv6NDOptSrcLLAddr, Dot1Q, Ether, ICMP, IP, IPv6,
                       Raw, UDP, TCP, ICMPv6EchoRequest, conf)

ETH_P_ALL = 0x0003
SOL_PACKET = 263
PACKET_AUXDATA = 8
TP_STATUS_VLAN_VALID = 0x10
TP_STATUS_VLAN_TPID_VALID = 0x40
conf.verb = 0


def send(iface, count, exprs):
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind((iface, 0))
    frames = [bytes(eval(e)) for e in exprs]      # noqa: S307 (test input)
    for _ in range(count):
        for f in frames:
            if len(f) < 60:
                f = f + b"\0" * (60 - len(f))
            s.send(f)
    s.close()
    return 0


def describe(frame, outgoing):
    p = Ether(frame)
    d = {"dir": "out" if outgoing else "in", "src": p.src, "dst": p.dst,
         "vlan": None, "etype": "%04x" % p.type}
    if Dot1Q in p:
        d["vlan"] = p[Dot1Q].vlan
        d["etype"] = "%04x" % p[Dot1Q].type
    if IP in p:
        d["ipsrc"], d["ipdst"], d["proto"] = p[IP].src, p[IP].dst, p[IP].proto
    if IPv6 in p:
        d["ipsrc"], d["ipdst"] = p[IPv6].src, p[IPv6].dst
        d["proto"] = p[IPv6].nh
        for layer in (ICMPv6ND_NA, ICMPv6ND_NS, ICMPv6ND_RA):
            if layer in p:
                d["icmp6"] = layer.__name__
                if hasattr(p[layer], "tgt"):
                    d["tgt"] = p[layer].tgt
    if ARP in p:
        d["arp_op"], d["psrc"], d["hwsrc"] = (p[ARP].op, p[ARP].psrc,
                                              p[ARP].hwsrc)
    if UDP in p and Raw in p:
        load = bytes(p[Raw].load)
        if load.startswith(b"SWT"):
            d["mark"] = load.split(b"\0")[0].decode("ascii", "replace")
    return d


def sniff(iface, seconds, ready):
    stop = [False]

    def on_term(signo, frame):
        stop[0] = True
    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGINT, on_term)
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW,
                      socket.htons(ETH_P_ALL))
    s.setsockopt(SOL_PACKET, PACKET_AUXDATA, 1)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    s.bind((iface, 0))
    with open(ready, "w") as f:
        f.write("%d\n" % os.getpid())
    deadline = time.time() + seconds
    while not stop[0]:
        left = deadline - time.time()
        if left <= 0:
            break
        try:
            r, _, _ = select.select([s], [], [], min(left, 0.2))
        except InterruptedError:
            continue
        if not r:
            continue
        data, anc, _, addr = s.recvmsg(65536, socket.CMSG_SPACE(32))
        for level, typ, cdata in anc:
            if level != SOL_PACKET or typ != PACKET_AUXDATA:
                continue
            status, _, _, _, _, tci, tpid = struct.unpack("IIIHHHH",
                                                          cdata[:20])
            if status & TP_STATUS_VLAN_VALID:
                if not status & TP_STATUS_VLAN_TPID_VALID:
                    tpid = 0x8100
                data = data[:12] + struct.pack("!HH", tpid, tci) + data[12:]
        try:
            d = describe(data, addr[2] == socket.PACKET_OUTGOING)
        except Exception as e:                 # noqa: BLE001
            d = {"error": str(e)}
        print(json.dumps(d), flush=True)
    return 0


def main(argv):
    if len(argv) >= 4 and argv[1] == "send":
        return send(argv[2], int(argv[3]), argv[4:])
    if len(argv) == 5 and argv[1] == "sniff":
        return sniff(argv[2], float(argv[3]), argv[4])
    sys.stderr.write(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
