#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Seeds the fuzz corpora from the judge's frame generator.

    make_corpus.py [--parse N] [--top DIR]

tests/fuzz/corpus/parse/: N (default 300) frames of gen_frames.py (seed 1:
valid frames of every protocol, tunnels, truncations, malformed headers,
garbage), raw bytes, one file per frame named by the SHA-1 of its content.

tests/fuzz/corpus/pcap/: small capture files in every form the reader
(src/lib/net/pcap-file.c) accepts, and a few it must refuse: classic pcap
little- and big-endian, microsecond and nanosecond, with snapshot-length
cuts; pcapng written by scapy; pcapng crafted here: big-endian sections,
several sections in one file (of both byte orders), several interfaces
with if_tsresol options and another link type, Enhanced, Simple and
obsolete Packet Blocks, unknown and name-resolution blocks to skip; and
broken ones (a record cut short, a bad block length, a wrong byte-order
magic).

Deterministic: running it again writes the same files.
"""
import argparse
import hashlib
import os
import random
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gen_frames  # noqa: E402

import logging  # noqa: E402
logging.getLogger("scapy.runtime").setLevel(logging.ERROR)


def pcap_bytes(frames, endian="<", nsec=False, snaplen=65535, linktype=1):
    magic = 0xa1b23c4d if nsec else 0xa1b2c3d4
    out = struct.pack(endian + "IHHiIII", magic, 2, 4, 0, 0, snaplen,
                      linktype)
    for i, (data, wirelen) in enumerate(frames):
        data = data[:snaplen]
        frac = (i * 1000 + 7) * (1000 if nsec else 1)
        out += struct.pack(endian + "IIII", 1700000000 + i, frac, len(data),
                           max(wirelen, len(data)))
        out += data
    return out


# ---- pcapng blocks -------------------------------------------------------
def pad4(b):
    return b + b"\0" * (-len(b) % 4)


def options(e, opts):
    """opts: list of (code, bytes); ends with opt_endofopt."""
    if not opts:
        return b""
    out = b""
    for code, val in opts:
        out += struct.pack(e + "HH", code, len(val)) + pad4(val)
    return out + struct.pack(e + "HH", 0, 0)


def block(e, btype, body):
    body = pad4(body)
    n = 12 + len(body)
    return struct.pack(e + "II", btype, n) + body + struct.pack(e + "I", n)


def shb(e, opts=()):
    body = struct.pack(e + "IHHq", 0x1a2b3c4d, 1, 0, -1)
    return block(e, 0x0a0d0d0a, body + options(e, list(opts)))


def idb(e, linktype=1, snaplen=0, opts=()):
    body = struct.pack(e + "HHI", linktype, 0, snaplen)
    return block(e, 1, body + options(e, list(opts)))


def epb(e, iface, ts, data, wirelen=None, opts=()):
    body = struct.pack(e + "IIIII", iface, ts >> 32, ts & 0xffffffff,
                       len(data), wirelen if wirelen else len(data))
    return block(e, 6, pad4(body + data) + options(e, list(opts)))


def spb(e, data, wirelen=None):
    body = struct.pack(e + "I", wirelen if wirelen else len(data)) + data
    return block(e, 3, body)


def opb(e, iface, ts, data):
    body = struct.pack(e + "HHIIII", iface, 0, ts >> 32, ts & 0xffffffff,
                       len(data), len(data)) + data
    return block(e, 2, body)


def make_pcaps(frames):
    """Returns {name: bytes}."""
    f = [(d, w) for d, w, _ in frames]
    out = {}
    out["le-usec.pcap"] = pcap_bytes(f[:12])
    out["be-usec.pcap"] = pcap_bytes(f[12:24], endian=">")
    out["le-nsec.pcap"] = pcap_bytes(f[24:36], nsec=True)
    out["be-nsec-snap64.pcap"] = pcap_bytes(f[36:48], endian=">", nsec=True,
                                            snaplen=64)
    out["raw-ip-linktype.pcap"] = pcap_bytes([(d[14:], w - 14)
                                              for d, w in f[48:52]
                                              if len(d) > 14], linktype=101)
    # Cut in the middle of the third record's data.
    cut = pcap_bytes(f[52:56])
    out["cut-record.pcap"] = cut[:24 + 2 * 16 + len(f[52][0])
                                 + len(f[53][0]) + 16 + 3]
    # A record claiming more than the snapshot length and the file.
    bad = bytearray(pcap_bytes(f[56:58]))
    struct.pack_into("<I", bad, 24 + 8, 0x7fffffff)
    out["huge-caplen.pcap"] = bytes(bad)

    le, be = "<", ">"
    # One section, two interfaces (Ethernet in microseconds, Ethernet in
    # nanoseconds via if_tsresol), all three packet block kinds, blocks to
    # skip (name resolution, interface statistics, a custom block).
    ng = shb(le, [(4, b"vfab judge")])
    ng += idb(le, 1, 0, [(2, b"eth0"), (9, b"\x06")])
    ng += idb(le, 1, 128, [(2, b"eth1"), (9, b"\x09")])
    ng += block(le, 4, struct.pack("<HH", 1, 8) + bytes([10, 0, 0, 1])
                + b"h\0\0\0" + struct.pack("<HH", 0, 0))
    ts = 1700000000 * 1000000
    for i, (d, w) in enumerate(f[60:70]):
        ng += epb(le, i % 2, ts + i, d, w, [(1, b"comment")] if i == 3 else ())
    ng += spb(le, f[70][0])
    ng += opb(le, 0, ts, f[71][0])
    ng += block(le, 5, struct.pack("<III", 0, 0, 0))       # Statistics.
    ng += block(le, 0x40000bad, b"\0\0\0\0custom")         # Custom.
    out["le-ifaces-blocks.pcapng"] = ng

    # Big-endian, then a second (little-endian) section in the same file
    # with another link type on one of its interfaces.
    ng = shb(be) + idb(be, 1) + b"".join(epb(be, 0, ts + i, d, w)
                                         for i, (d, w) in
                                         enumerate(f[72:78]))
    ng += shb(le) + idb(le, 101) + idb(le, 1, 0, [(9, b"\x83")])
    ng += b"".join(epb(le, 1 if i % 3 else 0, ts + i,
                       d if i % 3 else d[14:], w)
                   for i, (d, w) in enumerate(f[78:86]))
    out["multi-section.pcapng"] = ng

    # Broken pcapng: a block length that is not a multiple of 4, a block
    # longer than the file, a packet on an undefined interface, a bad BOM.
    ok = shb(le) + idb(le, 1) + epb(le, 0, ts, f[86][0])
    bad = bytearray(epb(le, 0, ts, f[87][0]))
    struct.pack_into("<I", bad, 4, len(bad) - 2)
    out["bad-block-length.pcapng"] = ok + bytes(bad)
    out["block-past-end.pcapng"] = (ok + epb(le, 0, ts, f[88][0]))[:-9]
    out["undefined-iface.pcapng"] = ok + epb(le, 7, ts, f[89][0])
    bom = bytearray(shb(le))
    struct.pack_into("<I", bom, 8, 0x12345678)
    out["bad-bom.pcapng"] = bytes(bom) + idb(le, 1)

    # scapy's own pcapng writer.
    try:
        from scapy.all import Ether, wrpcapng
        import tempfile
        with tempfile.NamedTemporaryFile(suffix=".pcapng") as t:
            pkts = [Ether(d) for d, _ in f[90:100]]
            for i, p in enumerate(pkts):
                p.time = 1700000000 + i       # Deterministic output.
            wrpcapng(t.name, pkts)
            with open(t.name, "rb") as fh:
                out["scapy.pcapng"] = fh.read()
    except ImportError:
        pass
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--parse", type=int, default=300)
    ap.add_argument("--top", default=os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "..", "..", ".."))
    a = ap.parse_args()
    frames = gen_frames.generate(10000, 1)

    pdir = os.path.join(a.top, "tests", "fuzz", "corpus", "parse")
    os.makedirs(pdir, exist_ok=True)
    r = random.Random(2)
    picked = r.sample(frames, a.parse)
    # Also the 802.3/garbage/short ones the sample may miss: the 40
    # shortest frames.
    picked += sorted(frames, key=lambda x: len(x[0]))[:40:4]
    n = 0
    for data, _, _ in picked:
        path = os.path.join(pdir, hashlib.sha1(data).hexdigest())
        if not os.path.exists(path):
            with open(path, "wb") as fh:
                fh.write(data)
            n += 1
    print("parse: %d new frames in %s" % (n, pdir))

    cdir = os.path.join(a.top, "tests", "fuzz", "corpus", "pcap")
    os.makedirs(cdir, exist_ok=True)
    # Small frames keep the capture files small.
    small = [x for x in frames if len(x[0]) <= 160]
    for name, data in make_pcaps(small).items():
        with open(os.path.join(cdir, name), "wb") as fh:
            fh.write(data)
        print("pcap: %s (%d bytes)" % (name, len(data)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
