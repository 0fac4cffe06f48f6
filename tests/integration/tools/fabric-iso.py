# SPDX-License-Identifier: Apache-2.0
"""Frames for the tenant-isolation test (t-fabric-isolation.sh).  Run with
/usr/bin/python3 (scapy).

PLAN is a JSON file: {"vms": [{"name", "tenant", "ns", "iface", "mac",
"ip"}...], "vteps": {"h1": {"ip", "mac"}, ...}, "vnis": {"blue": N, ...},
"hosts": {"VM": "hN"}}.

  fabric-iso.py send PLAN ROUND
      From every VM (entering its namespace), writes on its interface:
      ARP requests, UDP to 255.255.255.255 and the subnet broadcast, IPv4
      and IPv6 multicast, unicast to every other VM's MAC (both tenants:
      the same tenant's are the positive controls), frames with forged
      802.1Q tags, and frames with forged source MACs (the other tenant's
      and a random one).  Every UDP payload is the marker
      "VFISO:<tenant>:<vm>:<kind>:<round>".

  fabric-iso.py inject PLAN NS IFACE
      From the underlay (namespace NS, interface IFACE), VXLAN frames to
      each host's VTEP with the right VNI but a forged source VTEP (an
      address no host has, and another host's), and with a VNI that is on
      no host; inner payload "VFISO:underlay:<kind>".

  fabric-iso.py check PLAN DIR
      Reads DIR/<vm>.pcap (frames the VM received) and prints one JSON
      line per VM: frames, foreign (from the other tenant by source MAC,
      ARP sender or marker), underlay (injected markers), own markers
      seen.  Exit 1 if any VM saw a foreign or injected frame, or missed
      its positive controls.
"""
import ctypes
import json
import os
import random
import socket
import sys

from scapy.all import (ARP, UDP, Dot1Q, Ether, ICMPv6EchoRequest, IP, IPv6,
                       Raw, conf, rdpcap)
from scapy.layers.vxlan import VXLAN

conf.verb = 0
CLONE_NEWNET = 0x40000000
libc = ctypes.CDLL("libc.so.6", use_errno=True)


def setns(ns):
    fd = os.open("/run/netns/" + ns, os.O_RDONLY)
    try:
        if libc.setns(fd, CLONE_NEWNET) != 0:
            err = ctypes.get_errno()
            raise OSError(err, "setns %s: %s" % (ns, os.strerror(err)))
    finally:
        os.close(fd)


def mcast_mac6(addr):
    b = socket.inet_pton(socket.AF_INET6, addr)
    return "33:33:%02x:%02x:%02x:%02x" % tuple(b[12:16])


def lladdr(mac):
    b = [int(x, 16) for x in mac.split(":")]
    b[0] ^= 2
    return "fe80::%02x%02x:%02xff:fe%02x:%02x%02x" % tuple(b)


def frames_of(vm, vms, rnd):
    me, ip, ten = vm["mac"], vm["ip"], vm["tenant"]

    def mark(kind):
        return Raw(("VFISO:%s:%s:%s:%s" % (ten, vm["name"], kind, rnd))
                   .encode())

    bc = "ff:ff:ff:ff:ff:ff"
    udp = UDP(sport=4242, dport=9999)
    out = []
    for last in range(1, 5):
        out.append(Ether(src=me, dst=bc) / ARP(
            op=1, hwsrc=me, psrc=ip, pdst="10.1.0.%d" % last))
    out.append(Ether(src=me, dst=bc) / IP(src=ip, dst="255.255.255.255")
               / udp / mark("bcast"))
    out.append(Ether(src=me, dst=bc) / IP(src=ip, dst="10.1.0.255")
               / udp / mark("subnet-bcast"))
    out.append(Ether(src=me, dst="01:00:5e:00:00:01")
               / IP(src=ip, dst="224.0.0.1") / udp / mark("mcast4"))
    for grp in ("ff02::1", "ff02::1:ff00:1"):
        out.append(Ether(src=me, dst=mcast_mac6(grp))
                   / IPv6(src=lladdr(me), dst=grp) / udp / mark("mcast6"))
    out.append(Ether(src=me, dst=mcast_mac6("ff02::1"))
               / IPv6(src=lladdr(me), dst="ff02::1")
               / ICMPv6EchoRequest(data=bytes(mark("echo6"))))
    for o in vms:
        if o is vm:
            continue
        kind = "uc" if o["tenant"] == ten else "xuc"
        out.append(Ether(src=me, dst=o["mac"]) / IP(src=ip, dst=o["ip"])
                   / udp / mark(kind))
        out.append(Ether(src=me, dst=o["mac"]) / ARP(
            op=2, hwsrc=me, psrc=ip, hwdst=o["mac"], pdst=o["ip"]))
        if o["tenant"] != ten:
            for vid in (0, 1, 5002 & 0xfff, 4094):
                out.append(Ether(src=me, dst=o["mac"]) / Dot1Q(vlan=vid)
                           / IP(src=ip, dst=o["ip"]) / udp / mark("vlan"))
            # Forged source: the other tenant's VM with the same address.
            out.append(Ether(src=o["mac"], dst=bc)
                       / IP(src=o["ip"], dst="255.255.255.255") / udp
                       / mark("spoof-bcast"))
            out.append(Ether(src=o["mac"], dst=o["mac"])
                       / IP(src=o["ip"], dst=o["ip"]) / udp
                       / mark("spoof-uc"))
            out.append(Ether(src=o["mac"], dst=bc) / ARP(
                op=1, hwsrc=o["mac"], psrc=o["ip"], pdst=o["ip"]))
            # Own Ethernet source, the other tenant's in the ARP body.
            out.append(Ether(src=me, dst=bc) / ARP(
                op=1, hwsrc=o["mac"], psrc=o["ip"], pdst=o["ip"]))
            out.append(Ether(src=me, dst=o["mac"]) / ARP(
                op=2, hwsrc=o["mac"], psrc=o["ip"], hwdst=o["mac"],
                pdst=o["ip"]))
    for vid in (1, 100, 4094):
        out.append(Ether(src=me, dst=bc) / Dot1Q(vlan=vid)
                   / IP(src=ip, dst="255.255.255.255") / udp / mark("vlan"))
        out.append(Ether(src=me, dst=bc) / Dot1Q(vlan=vid) / ARP(
            op=1, hwsrc=me, psrc=ip, pdst="10.1.0.1"))
    rmac = "02:5a:%02x:%02x:%02x:%02x" % tuple(random.randrange(256)
                                              for _ in range(4))
    out.append(Ether(src=rmac, dst=bc) / IP(src=ip, dst="255.255.255.255")
               / udp / mark("spoof-rand"))
    return out


def send(plan, rnd):
    n = 0
    for vm in plan["vms"]:
        setns(vm["ns"])
        s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
        s.bind((vm["iface"], 0))
        for f in frames_of(vm, plan["vms"], rnd):
            b = bytes(f)
            s.send(b + b"\0" * max(0, 60 - len(b)))
            n += 1
        s.close()
    print("sent %d frames" % n)
    return 0


def inject(plan, ns, iface):
    setns(ns)
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind((iface, 0))
    vms = plan["vms"]
    hosts = plan["hosts"]
    n = 0
    for vm in vms:                       # the victim
        vtep = plan["vteps"][hosts[vm["name"]]]
        vni = plan["vnis"][vm["tenant"]]
        peers = [o for o in vms if o["tenant"] == vm["tenant"]
                 and hosts[o["name"]] != hosts[vm["name"]]]
        others = [h for h in plan["vteps"] if h != hosts[vm["name"]]]
        cases = []
        for o in peers:
            # A real VNIC's MAC, from the wrong VTEPs.
            for src in ["192.168.100.99"] + [
                    plan["vteps"][h]["ip"] for h in others
                    if h != hosts[o["name"]]]:
                for dst in (vm["mac"], "ff:ff:ff:ff:ff:ff"):
                    cases.append((src, vni, o["mac"], o["ip"], dst,
                                  "forged-vtep"))
        # A MAC in no model, from a host's VTEP.
        cases.append((plan["vteps"][others[0]]["ip"], vni,
                      "02:66:66:66:66:66", "10.1.0.66", vm["mac"],
                      "unknown-src"))
        # A VNI on no host, to this VM's MAC and broadcast.
        for dst in (vm["mac"], "ff:ff:ff:ff:ff:ff"):
            cases.append((plan["vteps"][others[0]]["ip"], 7777,
                          peers[0]["mac"], peers[0]["ip"], dst, "no-vni"))
        for src, vni_, imac, iip, dst, kind in cases:
            inner = (Ether(src=imac, dst=dst)
                     / IP(src=iip, dst=vm["ip"] if dst == vm["mac"]
                          else "255.255.255.255")
                     / UDP(sport=4242, dport=9999)
                     / Raw(("VFISO:underlay:%s" % kind).encode()))
            f = (Ether(src="02:99:99:99:99:99", dst=vtep["mac"])
                 / IP(src=src, dst=vtep["ip"], flags="DF")
                 / UDP(sport=50000, dport=4789) / VXLAN(vni=vni_, flags=8)
                 / inner)
            s.send(bytes(f))
            n += 1
    s.close()
    print("injected %d frames" % n)
    return 0


def check(plan, d):
    vms = plan["vms"]
    hosts = plan["hosts"]
    macs = {vm["mac"]: vm["tenant"] for vm in vms}
    bad = 0
    for vm in vms:
        ten = vm["tenant"]
        foreign, underlay, own = [], [], set()
        frames = rdpcap(os.path.join(d, vm["name"] + ".pcap"))
        for p in frames:
            why = []
            if macs.get(p.src, ten) != ten:
                why.append("src " + p.src)
            if ARP in p and macs.get(p[ARP].hwsrc, ten) != ten:
                why.append("arp sender " + p[ARP].hwsrc)
            raw = bytes(p)
            i = raw.find(b"VFISO:")
            if i >= 0:
                fields = raw[i:i + 80].split(b":")
                who = fields[1].decode(errors="replace")
                if who == "underlay":
                    underlay.append(fields[2].decode(errors="replace"))
                elif who != ten:
                    why.append("marker " + raw[i:i + 40].decode(
                        errors="replace"))
                elif len(fields) > 3:
                    own.add("%s:%s" % (fields[2].decode(),
                                       fields[3].decode()))
            if why:
                foreign.append(", ".join(why))
        # Positive controls: unicast from every same-tenant VM; broadcast
        # from same-tenant VMs on the same host (flooding is host-local).
        want = set()
        for o in vms:
            if o is vm or o["tenant"] != ten:
                continue
            want.add("%s:uc" % o["name"])
            if hosts[o["name"]] == hosts[vm["name"]]:
                want.add("%s:bcast" % o["name"])
        missed = sorted(want - own)
        print(json.dumps({"vm": vm["name"], "tenant": ten,
                          "frames": len(frames), "foreign": foreign[:5],
                          "n_foreign": len(foreign), "underlay": underlay,
                          "own": sorted(own), "missed": missed}))
        if foreign or underlay or missed:
            bad += 1
    return 1 if bad else 0


def main(argv):
    plan = json.load(open(argv[2]))
    if argv[1] == "send":
        return send(plan, argv[3])
    if argv[1] == "inject":
        return inject(plan, argv[3], argv[4])
    if argv[1] == "check":
        return check(plan, argv[3])
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
