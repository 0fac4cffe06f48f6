#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Frame generator for the parser judge (tests/integration/t-judge-parse.py).

Builds a deterministic (seeded) mix of Ethernet frames covering every
protocol vfab's parser reads -- Ethernet, 802.1Q, 802.1ad double tags, ARP
(also non-Ethernet/IPv4 ARP), IPv4 with options and fragments, IPv6 with
hop-by-hop / routing / fragment / destination-options / AH extension
headers, ICMP, ICMPv6, neighbor discovery with link-layer options (and
malformed ones), TCP with options and every flag combination, UDP, SCTP,
VXLAN and Geneve (with options) carrying inner frames of all these kinds,
802.3 length frames -- plus:

  - truncations at many cut points, both "cut" (the frame really is that
    short: wire length = captured length) and "snap" (captured with a
    snapshot length: wire length > captured length);
  - targeted malformations: wrong IP versions, header/total/payload lengths
    that are too small or too large, bad TCP data offsets, Geneve versions
    and option lengths, VXLAN without the I flag, ND options of length 0,
    overlong extension-header chains, ...;
  - random garbage (biased towards interesting Ethertypes) and random byte
    mutations of valid frames.

Headers are put together from scapy layers where scapy does the job and from
raw bytes where we need exact control (extension-header chains, AH, bad
lengths).  Nothing here comes from vfab.

Usage:
  gen_frames.py [-n COUNT] [--seed N] [--tags FILE] OUT.pcap

--tags writes one line per frame ("<frame number> <category> <what>"), so
that a disagreement can be traced back to how the frame was made.
make_corpus.py seeds the fuzz corpora from these frames.
"""
import argparse
import logging
import random
import struct
import sys

logging.getLogger("scapy.runtime").setLevel(logging.ERROR)

from scapy.all import (ARP, ICMP, IP, SCTP, TCP, UDP,  # noqa: E402
                       Ether, ICMPv6EchoReply, ICMPv6EchoRequest,
                       ICMPv6ND_NA, ICMPv6ND_NS, ICMPv6ND_RA, ICMPv6ND_RS,
                       ICMPv6NDOptMTU, ICMPv6PacketTooBig,
                       ICMPv6DestUnreach, IPOption_NOP, IPOption_Router_Alert,
                       IPOption_RR, IPOption_Timestamp, IPv6, LLC, SNAP, STP,
                       Raw, SCTPChunkData, SCTPChunkInit)
from scapy.contrib.geneve import GENEVE, GeneveOptions  # noqa: E402
from scapy.layers.vxlan import VXLAN  # noqa: E402

VXLAN_PORT = 4789
GENEVE_PORT = 6081

# IP protocol numbers (IANA).
P_HOPOPTS, P_ICMP, P_TCP, P_UDP = 0, 1, 6, 17
P_ROUTING, P_FRAGMENT, P_ESP, P_AH = 43, 44, 50, 51
P_ICMPV6, P_NONE, P_DSTOPTS, P_SCTP = 58, 59, 60, 132


class Gen:
    """One generator; every random choice comes from self.r (seeded)."""

    def __init__(self, seed):
        self.r = random.Random(seed)

    # ---- small values -------------------------------------------------
    def mac(self, multicast_ok=True):
        b = [self.r.randrange(256) for _ in range(6)]
        if not multicast_ok or self.r.random() < 0.8:
            b[0] &= 0xfe
        return ":".join("%02x" % x for x in b)

    def ip4(self):
        r = self.r
        first = r.choice([10, 172, 192, 100, 203, r.randrange(1, 224)])
        return "%d.%d.%d.%d" % (first, r.randrange(256), r.randrange(256),
                                r.randrange(256))

    def ip6(self):
        r = self.r
        kind = r.randrange(5)
        if kind == 0:
            return "fe80::%x:%x" % (r.randrange(65536), r.randrange(1, 65536))
        if kind == 1:
            return "ff02::1:ff%02x:%x" % (r.randrange(256), r.randrange(65536))
        if kind == 2:
            return "::"
        words = [r.randrange(65536) for _ in range(8)]
        words[0] = 0x2001
        words[1] = 0xdb8
        if r.random() < 0.5:
            words[3:7] = [0, 0, 0, 0]
        return ":".join("%x" % w for w in words)

    def port(self, avoid_tunnel=True):
        r = self.r
        while True:
            p = r.choice([r.randrange(1, 1024), r.randrange(1024, 65536),
                          r.choice([22, 53, 80, 123, 443, 179, 5000, 8080]),
                          0])
            if not avoid_tunnel or p not in (VXLAN_PORT, GENEVE_PORT):
                return p

    def ephemeral(self):
        # Above 6081, so that tshark (which tries the lower UDP port first)
        # picks VXLAN/Geneve from the destination port.
        return self.r.randrange(49152, 65536)

    def payload(self, maxlen=64):
        n = self.r.choice([0, 0, 1, 4, self.r.randrange(maxlen + 1)])
        return bytes(self.r.randrange(256) for _ in range(n))

    # ---- L4 -------------------------------------------------------------
    def tcp(self):
        r = self.r
        opts_pool = [("MSS", r.randrange(536, 9000)), ("NOP", None),
                     ("WScale", r.randrange(15)), ("SAckOK", b""),
                     ("Timestamp", (r.randrange(2**32), r.randrange(2**32))),
                     ("SAck", (r.randrange(2**32), r.randrange(2**32))),
                     ("EOL", None)]
        opts = [r.choice(opts_pool) for _ in range(r.choice([0, 0, 1, 2, 4]))]
        flags = r.randrange(0x1000)          # Every combination, 12 bits.
        t = TCP(sport=self.port(False), dport=self.port(False),
                seq=r.randrange(2**32), ack=r.randrange(2**32),
                flags=flags & 0x1ff, reserved=flags >> 9,
                window=r.randrange(65536), urgptr=r.randrange(65536),
                options=opts)
        raw = bytes(t)
        return raw + self.payload(), "tcp"

    def udp(self):
        u = UDP(sport=self.port(), dport=self.port())
        return bytes(u / Raw(self.payload())), "udp"

    def sctp(self):
        r = self.r
        s = SCTP(sport=self.port(False), dport=self.port(False),
                 tag=r.randrange(2**32))
        chunk = r.randrange(3)
        if chunk == 0:
            s = s / SCTPChunkData(data=self.payload(16) or b"x")
        elif chunk == 1:
            s = s / SCTPChunkInit(init_tag=r.randrange(1, 2**32))
        return bytes(s), "sctp"

    def icmp(self):
        r = self.r
        kind = r.randrange(4)
        if kind == 0:
            h = ICMP(type=r.choice([0, 8]), id=r.randrange(65536),
                     seq=r.randrange(65536)) / Raw(self.payload())
        elif kind == 1:       # Error quoting an IP header.
            inner = IP(src=self.ip4(), dst=self.ip4()) / UDP(sport=1, dport=2)
            h = ICMP(type=3, code=r.randrange(16)) / Raw(bytes(inner)[:28])
        else:
            h = ICMP(type=r.randrange(256), code=r.randrange(256)) / \
                Raw(self.payload(16))
        return bytes(h), "icmp"

    def nd_opts(self, good_type):
        """Link-layer address options; sometimes odd ones."""
        r = self.r
        out = b""
        for _ in range(r.choice([0, 1, 1, 1, 2, 3])):
            k = r.randrange(10)
            if k < 5:
                typ = good_type
            elif k < 7:
                typ = 3 - good_type          # The other LLA option.
            elif k < 8:
                out += bytes(ICMPv6NDOptMTU(mtu=1500))
                continue
            else:
                typ = r.choice([good_type, 14, 24, 1, 2])
            length = 1 if r.random() < 0.85 else r.choice([2, 3])
            body = bytes.fromhex(self.mac().replace(":", ""))
            body += bytes(r.randrange(256) for _ in range(length * 8 - 8))
            out += bytes([typ, length]) + body
        return out

    def icmpv6(self):
        r = self.r
        kind = r.randrange(8)
        code = 0 if r.random() < 0.9 else r.randrange(1, 256)
        if kind < 3:
            msg = ICMPv6ND_NS(tgt=self.ip6(), code=code)
            return bytes(msg) + self.nd_opts(1), "nd-ns"
        if kind < 6:
            msg = ICMPv6ND_NA(tgt=self.ip6(), code=code, R=r.randrange(2),
                              S=r.randrange(2), O=r.randrange(2))
            return bytes(msg) + self.nd_opts(2), "nd-na"
        if kind == 6:
            m = r.choice([ICMPv6EchoRequest, ICMPv6EchoReply])
            return bytes(m(id=r.randrange(65536), seq=r.randrange(65536),
                           data=self.payload())), "icmpv6-echo"
        m = r.choice([ICMPv6ND_RS(), ICMPv6ND_RA(),
                      ICMPv6PacketTooBig(mtu=1280), ICMPv6DestUnreach(code=4)])
        return bytes(m), "icmpv6-other"

    def l4(self, v6):
        r = self.r
        k = r.randrange(10)
        if k < 3:
            return self.tcp()
        if k < 5:
            return self.udp()
        if k < 6:
            return self.sctp()
        if k < 8:
            return self.icmpv6() if v6 else self.icmp()
        if k < 9:
            # The other family's ICMP, or an unknown protocol.
            return self.payload(), "raw"
        return (self.icmp() if v6 else self.icmpv6())

    @staticmethod
    def proto_of(l4kind, v6):
        return {"tcp": P_TCP, "udp": P_UDP, "sctp": P_SCTP,
                "icmp": P_ICMP, "nd-ns": P_ICMPV6, "nd-na": P_ICMPV6,
                "icmpv6-echo": P_ICMPV6, "icmpv6-other": P_ICMPV6,
                "raw": None}[l4kind]

    # ---- L3 -------------------------------------------------------------
    def ipv4(self, l4, l4kind, proto=None):
        r = self.r
        if proto is None:
            proto = self.proto_of(l4kind, False)
        if proto is None:
            proto = r.choice([P_ESP, 47, 89, 103, 255, P_ICMPV6, 4, 41])
        opts = []
        if r.random() < 0.25:
            pool = [IPOption_NOP(), IPOption_Router_Alert(),
                    IPOption_RR(routers=[self.ip4()]),
                    IPOption_Timestamp(flg=0, timestamp=[r.randrange(2**31)])]
            opts = [r.choice(pool) for _ in range(r.randrange(1, 4))]
        frag = 0
        flags = r.choice([0, 0, 2, 2, 1, 4])    # DF usual, MF sometimes.
        if r.random() < 0.15:
            flags |= 1
            frag = r.choice([0, 0, r.randrange(1, 8192)])
        elif r.random() < 0.1:
            frag = r.randrange(1, 8192)
        ip = IP(src=self.ip4(), dst=self.ip4(), proto=proto,
                tos=r.randrange(256), ttl=r.randrange(256),
                id=r.randrange(65536), flags=flags, frag=frag, options=opts)
        what = "ipv4/%s%s%s" % (l4kind, "+opts" if opts else "",
                                "+frag" if (flags & 1 or frag) else "")
        return bytes(ip / Raw(l4)), what

    def ext_chain(self, final_proto):
        """Raw IPv6 extension headers ending in 'final_proto'; returns
        (first next-header, bytes, description)."""
        r = self.r
        kinds = []
        n = r.choice([0, 0, 1, 1, 2, 3, 4])
        for _ in range(n):
            kinds.append(r.choice([P_HOPOPTS, P_ROUTING, P_FRAGMENT,
                                   P_DSTOPTS, P_AH]))
        if kinds and P_HOPOPTS in kinds[1:] and r.random() < 0.7:
            kinds = [k for k in kinds if k != P_HOPOPTS] or [P_DSTOPTS]
        out = []
        for i, k in enumerate(kinds):
            nh = kinds[i + 1] if i + 1 < len(kinds) else final_proto
            out.append(self.ext_hdr(k, nh))
        first = kinds[0] if kinds else final_proto
        names = {P_HOPOPTS: "hbh", P_ROUTING: "rt", P_FRAGMENT: "frag",
                 P_DSTOPTS: "dst", P_AH: "ah"}
        return first, b"".join(out), "+".join(names[k] for k in kinds)

    def ext_hdr(self, kind, nh):
        r = self.r
        if kind == P_FRAGMENT:
            off = r.choice([0, 0, r.randrange(1, 8192)])
            m = r.randrange(2)
            return struct.pack("!BBHI", nh, 0, off << 3 | m,
                               r.randrange(2**32))
        if kind == P_AH:
            icv_words = r.choice([1, 3, 3, 5])        # 4, 12, 20 bytes.
            ln = icv_words + 1                        # (len + 2) * 4 total.
            return (struct.pack("!BBHII", nh, ln, 0, r.randrange(2**32),
                                r.randrange(2**32))
                    + bytes(r.randrange(256) for _ in range(icv_words * 4)))
        if kind == P_ROUTING:
            return self.routing_hdr(nh)
        # Hop-by-hop or destination options: PadN-filled, 8 or 16 bytes.
        ln = r.choice([0, 0, 1])
        total = (ln + 1) * 8
        opts = b""
        if r.random() < 0.3 and kind == P_HOPOPTS:
            opts += bytes([5, 2, 0, 0])               # Router alert.
        pad = total - 2 - len(opts)
        if pad == 1:
            opts += b"\0"
        elif pad >= 2:
            opts += bytes([1, pad - 2]) + b"\0" * (pad - 2)
        return bytes([nh, ln]) + opts

    def routing_hdr(self, nh, valid=True):
        """A routing header of a type tshark knows how to check (type 0,
        2 = mobile IPv6, 4 = segment routing, 253 = experimental) and, if
        'valid', as tshark wants it (it stops at a malformed one)."""
        r = self.r
        rtype = r.choice([0, 2, 4, 253])
        naddr = r.randrange(1, 3)
        segleft = r.randrange(naddr + 1)
        first = 0
        if rtype == 2:
            naddr, segleft = 1, 1
        elif rtype == 4:
            first = naddr - 1               # Last entry.
            segleft = r.randrange(naddr)
        if not valid:
            naddr = r.randrange(3)
            segleft = r.randrange(4)
        body = struct.pack("!BBBBBBH", nh, naddr * 2, rtype, segleft, first,
                           0, 0)
        for _ in range(naddr):
            body += bytes(r.randrange(256) for _ in range(16))
        return body

    def ipv6(self, l4, l4kind, proto=None):
        r = self.r
        if proto is None:
            proto = self.proto_of(l4kind, True)
        if proto is None:
            proto = r.choice([P_NONE, P_ESP, 135, 89, 103, P_ICMP, 4, 41])
        first, ext, ext_what = self.ext_chain(proto)
        ip = IPv6(src=self.ip6(), dst=self.ip6(), nh=first,
                  tc=r.randrange(256), fl=r.randrange(1 << 20),
                  hlim=r.randrange(256))
        what = "ipv6/%s%s" % (ext_what + "/" if ext_what else "", l4kind)
        return bytes(ip / Raw(ext + l4)), what

    def arp(self):
        r = self.r
        if r.random() < 0.8:
            a = ARP(op=r.choice([1, 2, 1, 2, 3, 4, r.randrange(65536)]),
                    hwsrc=self.mac(), psrc=self.ip4(),
                    hwdst=r.choice(["00:00:00:00:00:00", self.mac()]),
                    pdst=self.ip4())
            return bytes(a), "arp"
        # Another hardware or protocol type.
        hwtype, ptype, hlen, plen = r.choice([
            (6, 0x0800, 6, 4), (1, 0x86dd, 6, 16), (1, 0x0800, 8, 4),
            (1, 0x0800, 6, 16), (32, 0x0800, 20, 4), (1, 0x0806, 6, 4),
            (1, 0x0800, 2, 2)])
        body = struct.pack("!HHBBH", hwtype, ptype, hlen, plen,
                           r.choice([1, 2]))
        body += bytes(r.randrange(256) for _ in range(2 * (hlen + plen)))
        return body, "arp-other(%d,%#x,%d,%d)" % (hwtype, ptype, hlen, plen)

    def l3(self):
        """An L3 payload: (ethertype, bytes, what)."""
        r = self.r
        k = r.randrange(20)
        if k < 8:
            l4, kind = self.l4(False)
            b, what = self.ipv4(l4, kind)
            return 0x0800, b, what
        if k < 16:
            l4, kind = self.l4(True)
            b, what = self.ipv6(l4, kind)
            return 0x86dd, b, what
        if k < 19:
            b, what = self.arp()
            return 0x0806, b, what
        et = r.choice([0x88cc, 0x8809, 0x88e5, 0x9000, 0x0842, 0x8847,
                       r.randrange(0x600, 0x10000)])
        if et in (0x0800, 0x86dd, 0x0806, 0x8100, 0x88a8, 0x9100):
            et = 0x88b5
        return et, self.payload(46), "ethertype-%#06x" % et

    # ---- L2 -------------------------------------------------------------
    def tags(self):
        """A list of (tpid, tci)."""
        r = self.r
        k = r.randrange(20)
        tci = lambda: r.randrange(65536)            # noqa: E731
        if k < 11:
            return []
        if k < 15:
            return [(0x8100, tci())]
        if k < 17:
            return [(0x88a8, tci()), (0x8100, tci())]
        if k < 18:
            return [(0x8100, tci()), (0x8100, tci())]
        if k < 19:
            return [(0x88a8, tci())]
        return [(0x88a8, tci()), (0x8100, tci()), (0x8100, tci())]

    def l2(self, ethertype, l3, tags=None):
        if tags is None:
            tags = self.tags()
        hdr = bytes.fromhex(self.mac().replace(":", ""))
        hdr += bytes.fromhex(self.mac(False).replace(":", ""))
        types = [t for t, _ in tags] + [ethertype]
        hdr += struct.pack("!H", types[0])
        for i, (_, tci) in enumerate(tags):
            hdr += struct.pack("!HH", tci, types[i + 1])
        what = "".join("q" if t == 0x8100 else "ad" if t == 0x88a8 else
                       "%#x" % t for t, _ in tags)
        return hdr + l3, (what + "/" if what else "")

    def pad60(self, frame):
        if len(frame) < 60 and self.r.random() < 0.7:
            frame += b"\0" * (60 - len(frame))
        return frame

    def plain(self):
        et, l3, what = self.l3()
        frame, tw = self.l2(et, l3)
        return self.pad60(frame), "eth/" + tw + what

    def dot3(self):
        r = self.r
        k = r.randrange(4)
        if k == 0:
            body = bytes(LLC() / STP())
        elif k == 1:
            body = bytes(LLC() / SNAP(code=0x2000)) + self.payload(30)
        else:
            body = bytes(LLC(dsap=r.randrange(256), ssap=r.randrange(256),
                             ctrl=3)) + self.payload(40)
        if k == 3:
            ln = r.randrange(0x5dd, 0x600)          # Neither length nor type.
        else:
            ln = len(body) if r.random() < 0.8 else r.randrange(1501)
        tags = [] if r.random() < 0.8 else [(0x8100, r.randrange(65536))]
        frame, tw = self.l2(ln, body, tags)
        return self.pad60(frame), "eth/%s802.3(len=%d)" % (tw, ln)

    # ---- tunnels ----------------------------------------------------------
    def inner(self):
        if self.r.random() < 0.05:
            return self.dot3()
        return self.plain()

    def tunnel(self, kind=None):
        r = self.r
        kind = kind or r.choice(["vxlan", "geneve"])
        inner, iwhat = self.inner()
        vni = r.choice([0, 1, r.randrange(1 << 24), (1 << 24) - 1])
        if kind == "vxlan":
            hdr = bytes(VXLAN(flags=0x08, vni=vni))
            dport = VXLAN_PORT
        else:
            opts = []
            for _ in range(r.choice([0, 0, 1, 2, 3])):
                dlen = r.choice([0, 4, 8, 12])
                opts.append(GeneveOptions(
                    classid=r.choice([0xff56, 0x0102, r.randrange(65536)]),
                    type=r.randrange(256),
                    data=bytes(r.randrange(256) for _ in range(dlen))))
            proto = 0x6558 if r.random() < 0.93 else r.choice([0x0800,
                                                                0x86dd])
            g = GENEVE(vni=vni, proto=proto, options=opts,
                       oam=int(r.random() < 0.1),
                       critical=int(r.random() < 0.2))
            hdr = bytes(g)
            dport = GENEVE_PORT
            if proto != 0x6558:
                # An L3 tunnel: the inner frame starts with IP.
                inner = inner[14:]
                iwhat += "(no-eth,proto=%#x)" % proto
        udp = bytes(UDP(sport=self.ephemeral(), dport=dport,
                        len=8 + len(hdr) + len(inner)))
        udp = udp[:6] + b"\0\0"                   # No checksum.
        l4 = udp + hdr + inner
        if r.random() < 0.75:
            l3, _ = self.ipv4(l4, "udp", P_UDP)
            # Tunnels don't fragment: clear MF and the offset.
            l3 = l3[:6] + b"\0\0" + l3[8:]
            et, fam = 0x0800, "ipv4"
        else:
            first, ext, ext_what = self.ext_chain_nofrag(P_UDP)
            ip = IPv6(src=self.ip6(), dst=self.ip6(), nh=first,
                      tc=r.randrange(256), fl=r.randrange(1 << 20))
            l3 = bytes(ip / Raw(ext + l4))
            et, fam = 0x86dd, "ipv6" + ("/" + ext_what if ext_what else "")
        tags = self.tags() if r.random() < 0.3 else []
        frame, tw = self.l2(et, l3, tags)
        return frame, "eth/%s%s/udp/%s(vni=%d)/%s" % (tw, fam, kind, vni,
                                                       iwhat)

    def ext_chain_nofrag(self, final):
        while True:
            first, ext, what = self.ext_chain(final)
            if "frag" not in what:
                return first, ext, what

    def valid(self):
        k = self.r.randrange(20)
        if k < 1:
            return self.dot3()
        if k < 6:
            return self.tunnel()
        return self.plain()


# ---- offsets of the headers, for interesting cut points -----------------
def header_offsets(frame):
    """Offsets where a header starts, found by scapy's own dissection."""
    offs = set()
    try:
        p = Ether(frame)
    except Exception:
        return offs
    total = len(frame)
    layer = p
    while layer is not None and not isinstance(layer, Raw):
        try:
            offs.add(total - len(bytes(layer)))
        except Exception:
            break
        layer = layer.payload if layer.payload else None
    return {o for o in offs if 0 <= o <= total}


# ---- targeted malformations -------------------------------------------------
def put16(b, off, v):
    return b[:off] + struct.pack("!H", v & 0xffff) + b[off + 2:]


def malform(g):
    """A frame with one field made wrong on purpose."""
    r = g.r
    k = r.randrange(18)
    if k == 16:     # IPv4 options with impossible lengths.
        l4, kind = g.l4(False)
        opts = bytes([r.choice([7, 68, 130, 131, 137, 148, 1, 0]),
                      r.choice([0, 1, 2, 3, 39, 255])])
        opts += bytes(r.randrange(256) for _ in range(r.choice([2, 6, 10])))
        ihl = 5 + len(opts) // 4
        ip = bytearray(bytes(IP(src=g.ip4(), dst=g.ip4(), proto=g.proto_of(
            kind, False) or 50) / Raw(l4)))
        ip = bytes(ip[:20]) + opts + bytes(ip[20:])
        ip = bytes([0x40 | ihl]) + ip[1:2] + struct.pack("!H", len(ip)) + \
            ip[4:]
        f, tw = g.l2(0x0800, ip)
        return g.pad60(f), "bad-ipv4-opts/" + kind
    if k == 17:     # TCP options with impossible lengths.
        opts = bytes([r.choice([2, 3, 4, 5, 8, 30, 253]),
                      r.choice([0, 1, 2, 40, 255])])
        opts += bytes(r.randrange(256) for _ in range(r.choice([2, 6])))
        t = bytearray(bytes(TCP(sport=g.port(False), dport=g.port(False),
                                flags=r.randrange(512))))
        t[12] = ((20 + len(opts)) // 4) << 4
        l4 = bytes(t) + opts + g.payload(8)
        v6 = r.random() < 0.4
        ip, what = (g.ipv6 if v6 else g.ipv4)(l4, "tcp")
        f, tw = g.l2(0x86dd if v6 else 0x0800, ip)
        return g.pad60(f), "bad-tcp-opts/" + what
    if k == 0:      # IPv4 version / IHL.
        l4, kind = g.l4(False)
        ip, what = g.ipv4(l4, kind)
        v = r.choice([0, 5, 6, 15, 4])
        ihl = r.choice([0, 1, 4, 5, 6, 15])
        ip = bytes([(v << 4) | ihl]) + ip[1:]
        f, tw = g.l2(0x0800, ip)
        return g.pad60(f), "bad-ipv4-ver-ihl(v=%d,ihl=%d)/%s" % (v, ihl, what)
    if k == 1:      # IPv4 total length.
        l4, kind = g.l4(False)
        ip, what = g.ipv4(l4, kind)
        tl = r.choice([0, 1, 19, 20, (ip[0] & 15) * 4 - 1, len(ip) - 1,
                       len(ip) + 1, len(ip) + 30, 65535, r.randrange(65536)])
        ip = put16(ip, 2, tl)
        f, tw = g.l2(0x0800, ip)
        return g.pad60(f), "bad-ipv4-totlen(%d of %d)/%s" % (tl, len(ip), what)
    if k == 2:      # IPv6 version / payload length.
        l4, kind = g.l4(True)
        ip, what = g.ipv6(l4, kind)
        if r.random() < 0.4:
            v = r.choice([0, 4, 7, 15])
            ip = bytes([(v << 4) | (ip[0] & 15)]) + ip[1:]
            what = "bad-ipv6-ver(%d)/%s" % (v, what)
        else:
            pl = r.choice([0, 0, 1, len(ip) - 41, len(ip) - 39, len(ip),
                           r.randrange(65536)])
            ip = put16(ip, 4, max(pl, 0))
            what = "bad-ipv6-plen(%d of %d)/%s" % (pl, len(ip) - 40, what)
        f, tw = g.l2(0x86dd, ip)
        return g.pad60(f), what
    if k == 3:      # TCP data offset.
        l4, kind = g.tcp()
        off = r.choice([0, 1, 4, 5, 6, 15, r.randrange(16)])
        l4 = l4[:12] + bytes([(off << 4) | (l4[12] & 15)]) + l4[13:]
        v6 = r.random() < 0.4
        ip, what = (g.ipv6 if v6 else g.ipv4)(l4, "tcp")
        f, tw = g.l2(0x86dd if v6 else 0x0800, ip)
        return g.pad60(f), "bad-tcp-doff(%d)/%s" % (off, what)
    if k == 4:      # Geneve version / option length / options.
        f, what = g.tunnel("geneve")
        # Find the Geneve header: after the UDP header to port 6081.
        i = f.find(struct.pack("!H", GENEVE_PORT))
        gofs = i + 6
        b0 = f[gofs]
        m = r.randrange(3)
        if m == 0:
            b0 = (r.choice([1, 2, 3]) << 6) | (b0 & 0x3f)
        elif m == 1:
            b0 = (b0 & 0xc0) | r.randrange(64)
        else:
            # Corrupt an option length byte (if any options).
            if b0 & 0x3f:
                o = gofs + 8 + 3
                f = f[:o] + bytes([r.randrange(256)]) + f[o + 1:]
        f = f[:gofs] + bytes([b0]) + f[gofs + 1:]
        return f, "bad-geneve(%d)/%s" % (m, what)
    if k == 5:      # VXLAN flags (no I flag, or junk).
        f, what = g.tunnel("vxlan")
        i = f.find(struct.pack("!H", VXLAN_PORT))
        vofs = i + 6
        fl = r.choice([0, 0x80, 0x0c, 0xff, 0x08])
        f = f[:vofs] + bytes([fl]) + f[vofs + 1:]
        return f, "vxlan-flags(%#x)/%s" % (fl, what)
    if k == 6:      # ND with malformed options.
        typ = r.choice([135, 136])
        body = bytes((ICMPv6ND_NS if typ == 135 else ICMPv6ND_NA)(
            tgt=g.ip6()))
        m = r.randrange(5)
        mac = bytes.fromhex(g.mac().replace(":", ""))
        if m == 0:
            opts = bytes([1 if typ == 135 else 2, 0]) + mac
        elif m == 1:
            opts = bytes([1 if typ == 135 else 2, 1]) + mac[:r.randrange(6)]
        elif m == 2:
            opts = (bytes([1 if typ == 135 else 2, 1]) + mac) * 2
        elif m == 3:
            opts = bytes([1 if typ == 135 else 2, 1]) + mac + \
                bytes([r.randrange(256) for _ in range(r.randrange(1, 8))])
        else:
            opts = bytes([r.randrange(256), r.randrange(4)]) + mac
        l4 = body + opts
        if r.random() < 0.3:
            l4 = l4[:r.randrange(4, 24)]             # Short target.
        ip, what = g.ipv6(l4, "nd-ns" if typ == 135 else "nd-na")
        f, tw = g.l2(0x86dd, ip)
        return g.pad60(f), "bad-nd(%d)/%s" % (m, what)
    if k == 7:      # Overlong or broken extension-header chains.
        n = r.choice([7, 8, 9, 10, 12])
        kinds = [r.choice([P_DSTOPTS, P_ROUTING, P_HOPOPTS, P_AH])
                 for _ in range(n)]
        l4, kind = g.l4(True)
        fp = g.proto_of(kind, True) or P_NONE
        bad_rt = r.random() < 0.3
        hdrs = []
        for i, kk in enumerate(kinds):
            nh = kinds[i + 1] if i + 1 < n else fp
            if kk == P_ROUTING and bad_rt:
                hdrs.append(g.routing_hdr(nh, False))
            else:
                hdrs.append(g.ext_hdr(kk, nh))
        if r.random() < 0.3:
            # A length that runs past the end.
            j = r.randrange(n)
            h = bytearray(hdrs[j])
            h[1] = 255
            hdrs[j] = bytes(h)
        ext = b"".join(hdrs)
        ip = IPv6(src=g.ip6(), dst=g.ip6(), nh=kinds[0]) / Raw(ext + l4)
        f, tw = g.l2(0x86dd, bytes(ip))
        return f, "ext-chain(%d)/%s" % (n, kind)
    if k == 8:      # ARP of odd sizes.
        b, what = g.arp()
        b = b[:r.choice([7, 8, 20, 27, 28, len(b)])]
        f, tw = g.l2(0x0806, b)
        return f, "short-arp(%d)/%s" % (len(b), what)
    if k == 9:      # Tags that run out, or an unknown QinQ TPID.
        et, l3, what = g.l3()
        tags = [(r.choice([0x8100, 0x88a8, 0x9100]), r.randrange(65536))
                for _ in range(r.randrange(1, 4))]
        f, tw = g.l2(et, l3, tags)
        if r.random() < 0.3:
            f = f[:14 + r.randrange(4 * len(tags))]
        return f, "tags/" + tw + what
    if k == 10:     # UDP length wrong (vfab ignores it; tshark complains).
        l4, kind = g.udp()
        l4 = put16(l4, 4, r.choice([0, 1, 7, 8, len(l4) + 10, 65535]))
        v6 = r.random() < 0.5
        ip, what = (g.ipv6 if v6 else g.ipv4)(l4, "udp")
        f, tw = g.l2(0x86dd if v6 else 0x0800, ip)
        return g.pad60(f), "bad-udp-len/" + what
    if k == 11:     # Wrong family ICMP, ICMP shorter than 8 bytes.
        v6 = r.random() < 0.5
        l4 = bytes([r.randrange(256) for _ in range(r.randrange(0, 10))])
        proto = r.choice([P_ICMP, P_ICMPV6, P_SCTP, P_UDP, P_TCP])
        ip, what = (g.ipv6 if v6 else g.ipv4)(l4, "raw", proto)
        f, tw = g.l2(0x86dd if v6 else 0x0800, ip)
        return f, "short-l4(%d,%d)/%s" % (proto, len(l4), what)
    if k == 12:     # Tunnel on the source port only / wrong ports.
        f, what = g.tunnel()
        return f, "tunnel/" + what
    if k == 13:     # Tunnels nested in tunnels.
        inner, iwhat = g.tunnel()
        vni = r.randrange(1 << 24)
        udp = struct.pack("!HHHH", g.ephemeral(), VXLAN_PORT,
                          16 + len(inner), 0)
        l4 = udp + bytes(VXLAN(flags=0x08, vni=vni)) + inner
        ip, _ = g.ipv4(l4, "udp", P_UDP)
        ip = ip[:6] + b"\0\0" + ip[8:]
        f, tw = g.l2(0x0800, ip, [])
        return f, "nested/vxlan(%d)/%s" % (vni, iwhat)
    if k == 14:     # IPv6 fragments with ext headers after them.
        l4, kind = g.l4(True)
        fp = g.proto_of(kind, True) or P_NONE
        off = r.choice([0, 0, 1, r.randrange(8192)])
        after = r.choice([[], [P_DSTOPTS], [P_ROUTING, P_DSTOPTS], [P_AH]])
        chain = [P_FRAGMENT] + after
        ext = b""
        for i, kk in enumerate(chain):
            nh = chain[i + 1] if i + 1 < len(chain) else fp
            if kk == P_FRAGMENT:
                ext += struct.pack("!BBHI", nh, 0, off << 3 | r.randrange(2),
                                   r.randrange(2**32))
            else:
                ext += g.ext_hdr(kk, nh)
        ip = IPv6(src=g.ip6(), dst=g.ip6(), nh=P_FRAGMENT) / Raw(ext + l4)
        f, tw = g.l2(0x86dd, bytes(ip))
        return g.pad60(f), "ipv6-frag(off=%d)+%s/%s" % (off, after, kind)
    # k == 15: 802.3 frames, also with lengths between 1500 and 1536.
    return g.dot3()


def garbage(g):
    r = g.r
    n = r.choice([r.randrange(0, 20), r.randrange(14, 120),
                  r.randrange(60, 300)])
    b = bytearray(r.randrange(256) for _ in range(n))
    if n >= 14 and r.random() < 0.7:
        et = r.choice([0x0800, 0x86dd, 0x0806, 0x8100, 0x88a8])
        b[12:14] = struct.pack("!H", et)
        if et == 0x0800 and n > 14 and r.random() < 0.7:
            b[14] = 0x40 | r.randrange(5, 16)
        if et == 0x86dd and n > 14 and r.random() < 0.7:
            b[14] = 0x60 | (b[14] & 15)
    return bytes(b), "garbage(%d)" % n


def mutate(g, frame):
    r = g.r
    b = bytearray(frame)
    if not b:
        return bytes(b)
    for _ in range(r.choice([1, 1, 2, 3, 5])):
        i = min(len(b) - 1, int(r.expovariate(1 / 40.0)))
        if r.random() < 0.5:
            b[i] ^= 1 << r.randrange(8)
        else:
            b[i] = r.choice([0, 0xff, 1, 0x7f, 0x80, r.randrange(256)])
    return bytes(b)


def tcp_flag_sweep(g):
    """One TCP frame for each of the 512 combinations of the nine defined
    flags (NS CWR ECE URG ACK PSH RST SYN FIN), the 3 reserved bits at
    random, in IPv4 or IPv6, sometimes tagged or inside a tunnel."""
    r = g.r
    out = []
    for flags in range(512):
        t = TCP(sport=g.port(False), dport=g.port(False), flags=flags,
                reserved=r.randrange(8), seq=r.randrange(2**32))
        l4 = bytes(t)
        v6 = r.random() < 0.4
        # No later fragments: the flags must be visible.
        if v6:
            first, ext, what = g.ext_chain_nofrag(P_TCP)
            ip = bytes(IPv6(src=g.ip6(), dst=g.ip6(), nh=first,
                            tc=r.randrange(256), fl=r.randrange(1 << 20))
                       / Raw(ext + l4))
            what = "ipv6/%stcp" % (what + "/" if what else "")
        else:
            ip, what = g.ipv4(l4, "tcp")
            ip = ip[:6] + bytes([ip[6] & 0x40, 0]) + ip[8:]
        f, tw = g.l2(0x86dd if v6 else 0x0800, ip)
        out.append((g.pad60(f), "valid tcp-flags(%#05x) eth/%s%s"
                    % (flags, tw, what)))
    return out


def generate(count, seed):
    """Returns a list of (captured bytes, wire length, description)."""
    g = Gen(seed)
    r = g.r
    out = []
    if count >= 2048:
        out += [(f, len(f), what) for f, what in tcp_flag_sweep(g)]
    while len(out) < count:
        # Weights per step, chosen so that the output is about 30% valid
        # frames (a third of them tunnels), 30% truncations, 20% targeted
        # malformations, 20% garbage and mutations.
        k = r.random() * 0.76
        if k < 0.20:
            f, what = g.valid()
            out.append((f, len(f), "valid " + what))
        elif k < 0.30:
            f, what = g.tunnel()
            out.append((f, len(f), "valid " + what))
        elif k < 0.36:
            # Truncations: a few cut points of one valid frame, some at
            # random, some around the headers scapy finds.
            f, what = g.valid()
            cuts = set(r.sample(range(len(f)), min(2, len(f))))
            near = set()
            for h in header_offsets(f):
                near.update(x for x in (h - 1, h, h + 1, h + 2)
                            if 0 <= x < len(f))
            cuts.update(r.sample(sorted(near), min(2, len(near))))
            for c in sorted(cuts):
                snap = r.random() < 0.4
                out.append((f[:c], len(f) if snap else c,
                            "%s@%d %s" % ("snap" if snap else "cut", c,
                                          what)))
            # Cuts that keep the IP length consistent, so that the layers
            # inside IP are the ones cut.
            out.extend(consistent_cuts(g, f, what))
        elif k < 0.56:
            f, what = malform(g)
            out.append((f, len(f), "malformed " + what))
        elif k < 0.66:
            f, what = garbage(g)
            out.append((f, len(f), what))
        else:
            f, what = g.valid()
            m = mutate(g, f)
            out.append((m, len(m), "mutated " + what))
    return out[:count]


def consistent_cuts(g, frame, what):
    """Cuts inside the IP payload with the IP length fields fixed up."""
    r = g.r
    out = []
    try:
        p = Ether(frame)
    except Exception:
        return out
    ip = p.getlayer(IP) or p.getlayer(IPv6)
    if ip is None:
        return out
    l3_ofs = len(frame) - len(bytes(ip))
    if isinstance(ip, IP):
        hl = (frame[l3_ofs] & 15) * 4
    else:
        hl = 40
    end = len(frame)
    if end <= l3_ofs + hl + 1:
        return out
    for c in r.sample(range(l3_ofs + hl, end), min(2, end - l3_ofs - hl)):
        b = bytearray(frame[:c])
        if isinstance(ip, IP):
            b[l3_ofs + 2:l3_ofs + 4] = struct.pack("!H", c - l3_ofs)
        else:
            b[l3_ofs + 4:l3_ofs + 6] = struct.pack("!H", c - l3_ofs - 40)
        out.append((bytes(b), c, "lencut@%d %s" % (c, what)))
    return out


def write_pcap(path, frames):
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
        for i, (data, wirelen, _) in enumerate(frames):
            f.write(struct.pack("<IIII", 1700000000 + i // 1000,
                                (i % 1000) * 1000, len(data),
                                max(wirelen, len(data))))
            f.write(data)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("out")
    ap.add_argument("-n", "--count", type=int, default=10000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--tags")
    a = ap.parse_args()
    frames = generate(a.count, a.seed)
    write_pcap(a.out, frames)
    if a.tags:
        with open(a.tags, "w") as f:
            for i, (data, wirelen, what) in enumerate(frames, 1):
                f.write("%d %d/%d %s\n" % (i, len(data), wirelen, what))
    return 0


if __name__ == "__main__":
    sys.exit(main())
