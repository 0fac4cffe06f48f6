#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Writes sample.pcap: a handful of frames of every protocol vfab parses,
built by scapy (not by vfab), for the README's first command and as golden
input.  Regenerate with: /usr/bin/python3 tests/data/make-sample.py"""
import os
from scapy.all import (ARP, ICMP, IP, SCTP, TCP, UDP, Dot1AD, Dot1Q, Ether,
                       ICMPv6EchoRequest, ICMPv6ND_NA, ICMPv6ND_NS,
                       ICMPv6NDOptDstLLAddr, ICMPv6NDOptSrcLLAddr, IPv6,
                       IPv6ExtHdrFragment, IPv6ExtHdrHopByHop, Raw, wrpcap)
from scapy.contrib.geneve import GENEVE
from scapy.layers.vxlan import VXLAN

A, B = "02:00:00:00:00:01", "02:00:00:00:00:02"
frames = [
    Ether(src=A, dst=B) / IP(src="10.0.0.1", dst="10.0.0.2", tos=0xb8) /
    TCP(sport=40000, dport=80, flags="S"),
    Ether(src=A, dst="ff:ff:ff:ff:ff:ff") / ARP(op=1, hwsrc=A, psrc="10.0.0.1",
                                              pdst="10.0.0.2"),
    Ether(src=A, dst=B) / Dot1Q(vlan=100, prio=5) /
    IP(src="10.1.0.1", dst="10.1.0.2") / UDP(sport=5353, dport=53) / Raw(b"q"),
    Ether(src=A, dst=B) / Dot1AD(vlan=10) / Dot1Q(vlan=20) /
    IP(src="10.2.0.1", dst="10.2.0.2") / ICMP(type=8),
    Ether(src=A, dst=B) / IPv6(src="2001:db8::1", dst="2001:db8::2", fl=0x12345) /
    IPv6ExtHdrHopByHop() / TCP(sport=1, dport=443, flags="PA"),
    Ether(src=A, dst="33:33:ff:00:00:02") /
    IPv6(src="fe80::1", dst="ff02::1:ff00:2") /
    ICMPv6ND_NS(tgt="fe80::2") / ICMPv6NDOptSrcLLAddr(lladdr=A),
    Ether(src=B, dst=A) / IPv6(src="fe80::2", dst="fe80::1") /
    ICMPv6ND_NA(tgt="fe80::2") / ICMPv6NDOptDstLLAddr(lladdr=B),
    Ether(src=A, dst=B) / IPv6(src="2001:db8::1", dst="2001:db8::2") /
    IPv6ExtHdrFragment(offset=100, m=0, nh=17) / Raw(b"x" * 16),
    Ether(src=A, dst=B) / IPv6(src="2001:db8::1", dst="2001:db8::2") /
    ICMPv6EchoRequest(),
    Ether(src=A, dst=B) / IP(src="10.3.0.1", dst="10.3.0.2") /
    SCTP(sport=5000, dport=36412),
    Ether(src="02:00:00:00:aa:01", dst="02:00:00:00:aa:02") /
    IP(src="192.168.1.1", dst="192.168.1.2") / UDP(sport=49152, dport=4789) /
    VXLAN(vni=5001) / Ether(src=A, dst=B) /
    IP(src="10.0.0.1", dst="10.0.0.2") / TCP(sport=40001, dport=22),
    Ether(src="02:00:00:00:aa:01", dst="02:00:00:00:aa:02") /
    IP(src="192.168.1.1", dst="192.168.1.2") / UDP(sport=49153, dport=6081) /
    GENEVE(vni=7001, proto=0x6558) / Ether(src=B, dst=A) /
    IP(src="10.0.0.2", dst="10.0.0.1") / UDP(sport=7, dport=7),
    # Malformed: IPv4 total length beyond the frame, then a cut TCP header.
    Ether(src=A, dst=B) / IP(src="10.0.0.1", dst="10.0.0.2", len=1000) /
    TCP(),
    (Ether(src=A, dst=B) / IP(src="10.0.0.1", dst="10.0.0.2") / TCP())
    .__class__(bytes(Ether(src=A, dst=B) / IP(src="10.0.0.1", dst="10.0.0.2",
                                              len=30) / TCP())[:44]),
    # Found by the judge (tests/integration/t-judge-parse.py): an ICMP
    # message shorter than its 8-byte header, an IPv6 payload length of 0
    # with Ethernet padding after it, and a complete ARP packet of another
    # hardware/protocol size (16 bytes).
    Ether(src=A, dst=B) / IP(src="10.0.0.1", dst="10.0.0.2", proto=1) /
    Raw(b"\x08\x00\xf7\xff\x00\x01"),
    Ether(src=A, dst=B) / IPv6(src="2001:db8::1", dst="2001:db8::2", nh=17,
                               plen=0) / Raw(b"\0" * 6),
    Ether(src=A, dst="ff:ff:ff:ff:ff:ff", type=0x0806) /
    Raw(bytes([0, 1, 8, 0, 2, 2, 0, 1, 0xaa, 0xbb, 10, 1, 0xcc, 0xdd, 10, 2])),
]
out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "sample.pcap")
wrpcap(out, frames)
print(f"wrote {len(frames)} frames to {out}")
