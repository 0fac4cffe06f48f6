#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""vfab demo fabric: three hosts, two tenants with two virtual networks
each (overlapping subnets), six VMs, one policy server -- all network
namespaces on this machine.  Run through ./vfab-demo (which installs and
builds first).

  vfab-demo up [-j]     bring the fabric up (or re-check it if it is up),
                        prove it: connectivity matrix, iperf3, VNIs seen
                        on the underlay
  vfab-demo down        remove everything 'up' created, and nothing else
  vfab-demo status [-j] the proof again, without changing anything
"""
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time

STATE_DIR = os.environ.get("VFAB_DEMO_STATE", "/run/vfab-demo")
STATE = os.path.join(STATE_DIR, "state.json")
PREFIX = "vfd-"
SERVER_IP = "10.99.0.254"
SERVER = f"http://{SERVER_IP}:8470"
TUNNEL = os.environ.get("VFAB_DEMO_TUNNEL", "vxlan")

TENANTS = ["blue", "red"]
NETWORKS = [  # name, tenant, vni, subnet
    ("blue-web", "blue", 1001, "10.10.1.0/24"),
    ("blue-db", "blue", 1002, "10.10.2.0/24"),
    ("red-web", "red", 2001, "10.10.1.0/24"),
    ("red-db", "red", 2002, "10.10.2.0/24"),
]
# red-web1 deliberately has blue-web1's address: a blue VM pinging it must
# reach blue-web1 (its own tenant), never red-web1.
VMS = [  # name, network, host, ip, mac
    ("blue-web1", "blue-web", 1, "10.10.1.11", "02:00:0b:01:01:11"),
    ("blue-web2", "blue-web", 2, "10.10.1.12", "02:00:0b:01:01:12"),
    ("blue-db1", "blue-db", 3, "10.10.2.11", "02:00:0b:01:02:11"),
    ("red-web1", "red-web", 2, "10.10.1.11", "02:00:0e:01:01:11"),
    ("red-web2", "red-web", 3, "10.10.1.22", "02:00:0e:01:01:22"),
    ("red-db1", "red-db", 1, "10.10.2.21", "02:00:0e:01:02:21"),
]
ROUTER_MAC = "02:fa:b0:00:00:01"
HOSTS = [1, 2, 3]

JSON_OUT = "-j" in sys.argv
BIN = os.environ.get("VFAB_DEMO_BIN")      # build dir, set by ./vfab-demo


class DemoError(Exception):
    pass


def say(msg):
    if not JSON_OUT:
        print(msg, flush=True)


class Progress:
    """'step ... done (1.2 s)', with dots while a step is slow."""

    def __init__(self, what):
        self.what = what
        self.t0 = time.monotonic()
        self.stop = threading.Event()
        self.thread = None

    def __enter__(self):
        if not JSON_OUT:
            print(f"  {self.what} ...", end="", flush=True)
            self.thread = threading.Thread(target=self._dots, daemon=True)
            self.thread.start()
        return self

    def _dots(self):
        while not self.stop.wait(1.0):
            print(".", end="", flush=True)

    def __exit__(self, exc_type, exc, tb):
        self.stop.set()
        if self.thread:
            self.thread.join()
        if not JSON_OUT:
            took = time.monotonic() - self.t0
            print(" done" if exc is None else " FAILED", f"({took:.1f} s)",
                  flush=True)
        return False


def run(*args, check=True, ns=None, timeout=60, input=None):
    cmd = list(args)
    if ns:
        cmd = ["ip", "netns", "exec", ns] + cmd
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout,
                       input=input)
    if check and p.returncode != 0:
        raise DemoError(f"'{' '.join(cmd)}' failed: "
                        f"{(p.stderr or p.stdout).strip()[:300]}")
    return p


def ns(name):
    return PREFIX + name


def binpath(rel):
    return os.path.join(BIN, rel)


def vfabctl(*args, host=None, server=False, check=True):
    cmd = [binpath("src/vfabctl/vfabctl")]
    if server:
        cmd += ["--server", SERVER, "--token-file",
                os.path.join(STATE_DIR, "admin.token")]
        return run(*cmd, *args, ns=ns("ul"), check=check)
    cmd += ["--socket", os.path.join(STATE_DIR, f"h{host}.sock")]
    return run(*cmd, *args, ns=ns(f"h{host}"), check=check)


def load_state():
    try:
        with open(STATE) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def save_state(st):
    os.makedirs(STATE_DIR, mode=0o700, exist_ok=True)
    with open(STATE + ".tmp", "w") as f:
        json.dump(st, f, indent=1)
    os.replace(STATE + ".tmp", STATE)


def existing_namespaces():
    p = run("ip", "netns", "list", check=False)
    return {line.split()[0] for line in p.stdout.splitlines() if line}


def alive(pid):
    try:
        os.kill(pid, 0)
        return True
    except OSError:
        return False


def preflight():
    if os.geteuid() != 0:
        raise DemoError("needs root (network namespaces, TAP devices): "
                        "run it with sudo")
    probe = ns("probe")
    p = run("ip", "netns", "add", probe, check=False)
    if p.returncode != 0:
        raise DemoError("cannot create network namespaces here "
                        f"({p.stderr.strip()}); use a VM or a privileged "
                        "container")
    run("ip", "netns", "del", probe, check=False)
    for tool in ("ip", "ping", "iperf3", "tshark"):
        if not shutil.which(tool):
            raise DemoError(f"missing tool '{tool}': run ./vfab-demo up, "
                            "which installs it")
    if not BIN or not os.path.exists(binpath("src/vfabd/vfabd")):
        raise DemoError("vfab is not built: run ./vfab-demo up")


def add_ns(st, name):
    full = ns(name)
    if full in existing_namespaces():
        raise DemoError(f"namespace {full} exists but is not ours (remove "
                        f"it with 'ip netns del {full}' or './vfab-demo "
                        "down')")
    run("ip", "netns", "add", full)
    st["namespaces"].append(full)
    save_state(st)
    run("ip", "link", "set", "lo", "up", ns=full)


def veth(ns_a, if_a, ns_b, if_b):
    tmp_a, tmp_b = "vfdtmpa", "vfdtmpb"
    run("ip", "link", "add", tmp_a, "type", "veth", "peer", "name", tmp_b)
    run("ip", "link", "set", tmp_a, "netns", ns(ns_a), "name", if_a)
    run("ip", "link", "set", tmp_b, "netns", ns(ns_b), "name", if_b)
    run("ip", "link", "set", if_a, "up", ns=ns(ns_a))
    run("ip", "link", "set", if_b, "up", ns=ns(ns_b))


def start_daemon(st, key, nsname, argv, log):
    """Starts a daemon in its own session so it outlives this script."""
    logf = open(log, "ab")
    p = subprocess.Popen(["ip", "netns", "exec", ns(nsname)] + argv,
                         stdout=logf, stderr=logf, stdin=subprocess.DEVNULL,
                         start_new_session=True)
    st["pids"][key] = p.pid
    save_state(st)
    return p


def wait_for(what, fn, timeout=20):
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        try:
            if fn():
                return
        except (DemoError, subprocess.TimeoutExpired):
            pass
        time.sleep(0.2)
    raise DemoError(f"{what} did not come up within {timeout} s "
                    f"(logs in {STATE_DIR})")


def underlay(st):
    add_ns(st, "ul")
    for br in ("br-ul", "br-mg"):
        run("ip", "link", "add", br, "type", "bridge", "stp_state", "0",
            ns=ns("ul"))
        run("ip", "link", "set", br, "up", ns=ns("ul"))
    run("ip", "addr", "add", f"{SERVER_IP}/24", "dev", "br-mg", ns=ns("ul"))


def policy_server(st):
    start_daemon(st, "policyd", "ul",
                 [binpath("src/policyd/vfab-policyd"), "--listen",
                  f"{SERVER_IP}:8470", "--db",
                  os.path.join(STATE_DIR, "policy.db"), "--admin-token-file",
                  os.path.join(STATE_DIR, "admin.token")],
                 os.path.join(STATE_DIR, "policyd.log"))
    wait_for("vfab-policyd",
             lambda: vfabctl("server-status", server=True,
                             check=False).returncode == 0)


def model():
    for t in TENANTS:
        vfabctl("tenant-create", t, server=True)
    for name, tenant, vni, subnet in NETWORKS:
        vfabctl("net-create", name, "--tenant", tenant, "--vni", str(vni),
                "--subnet", subnet, server=True)
    for t in TENANTS:
        # Web and database tiers of a tenant may talk, both ways; other
        # tenants never (there is no policy between tenants at all).
        vfabctl("policy-add", f"{t}-web-db", "--tenant", t, "--action",
                "allow", "--from", f"network:{t}-web", "--to",
                f"network:{t}-db", server=True)
        vfabctl("policy-add", f"{t}-db-web", "--tenant", t, "--action",
                "allow", "--from", f"network:{t}-db", "--to",
                f"network:{t}-web", server=True)


def host(st, n):
    add_ns(st, f"h{n}")
    veth(f"h{n}", "up0", "ul", f"u{n}")
    run("ip", "link", "set", f"u{n}", "master", "br-ul", ns=ns("ul"))
    veth(f"h{n}", "mg0", "ul", f"m{n}")
    run("ip", "link", "set", f"m{n}", "master", "br-mg", ns=ns("ul"))
    run("ip", "addr", "add", f"10.99.0.{n}/24", "dev", "mg0", ns=ns(f"h{n}"))
    token = os.path.join(STATE_DIR, f"h{n}.token")
    vfabctl("host-register", f"h{n}", "--underlay-ip", f"192.168.100.{n}",
            "--token-file", token, server=True)
    start_daemon(st, f"h{n}", f"h{n}",
                 [binpath("src/vfabd/vfabd"), "--socket",
                  os.path.join(STATE_DIR, f"h{n}.sock"), "--db",
                  os.path.join(STATE_DIR, f"h{n}.db"), "--fabric-server",
                  SERVER, "--fabric-host", f"h{n}", "--fabric-token-file",
                  token],
                 os.path.join(STATE_DIR, f"h{n}.log"))
    wait_for(f"vfabd on h{n}",
             lambda: vfabctl("version", host=n, check=False).returncode == 0)
    vfabctl("add-br", "fab", f"fabric={TUNNEL}",
            f"underlay=192.168.100.{n}/24", "uplink=up0", host=n)
    vfabctl("add-port", "fab", "up0", "type=afpacket", host=n)


def vm(st, name, network, hostn, ip, mac):
    vfabctl("vnic-create", name, "--network", network, "--mac", mac, "--ip",
            ip, "--host", f"h{hostn}", server=True)
    add_ns(st, name)
    tap = "vfd" + name.replace("-", "")[:12]
    vfabctl("add-port", "fab", tap, "type=tap", f"vnic={name}", host=hostn)
    run("ip", "link", "set", tap, "netns", ns(name), ns=ns(f"h{hostn}"))
    run("ip", "link", "set", tap, "address", mac, ns=ns(name))
    run("ip", "addr", "add", f"{ip}/24", "dev", tap, ns=ns(name))
    run("ip", "link", "set", tap, "up", ns=ns(name))
    gw = ip.rsplit(".", 1)[0] + ".1"
    run("ip", "route", "add", "default", "via", gw, ns=ns(name))


def tenant_of(name):
    return name.split("-")[0]


def ping(src, dst_ip, tries=3):
    for _ in range(tries):
        p = run("ping", "-c", "1", "-W", "1", dst_ip, ns=ns(src), check=False)
        if p.returncode == 0:
            return True
    return False


def answering_mac(src, dst_ip):
    """The MAC the source's kernel resolved for 'dst_ip' (on-link), or the
    router's for routed destinations."""
    p = run("ip", "-j", "neigh", "show", "to", dst_ip, ns=ns(src),
            check=False)
    try:
        entries = json.loads(p.stdout or "[]")
    except ValueError:
        entries = []
    for e in entries:
        if e.get("lladdr"):
            return e["lladdr"]
    return ROUTER_MAC


def matrix():
    """Every VM pings every other VM by IP.  Cells:
      ok     reached, as it must (same tenant)
      --     blocked, as it must (other tenant)
      own    the address also exists in the source's own tenant, and the
             answer came from there (checked by MAC), not from the other
             tenant's VM
      LEAK!  / FAIL!   the fabric did not do what is configured"""
    rows = []
    by_ip = {}
    for v in VMS:
        by_ip.setdefault(v[3], []).append(v)
    for src, *_ in VMS:
        src_ip = next(v[3] for v in VMS if v[0] == src)
        row = []
        for dst, _net, _h, dst_ip, dst_mac in VMS:
            if src == dst:
                row.append(None)
                continue
            same = tenant_of(src) == tenant_of(dst)
            twin = next((v for v in by_ip[dst_ip]
                         if tenant_of(v[0]) == tenant_of(src)), None)
            if not same and twin is not None:
                # Answered by our own tenant's VM at that address (or by
                # ourselves).  Prove it was not the other tenant's.
                ok = ping(src, dst_ip, tries=3)
                mac = ROUTER_MAC if dst_ip == src_ip else \
                    answering_mac(src, dst_ip)
                leaked = ok and mac == dst_mac
                row.append({"dst": dst, "reachable": ok, "expected": True,
                            "cell": "LEAK!" if leaked else "own",
                            "answered_by": twin[0], "leak": leaked})
                continue
            ok = ping(src, dst_ip, tries=3 if same else 1)
            good = ok == same
            cell = ("ok" if ok else "--") if good else \
                ("LEAK!" if ok else "FAIL!")
            row.append({"dst": dst, "reachable": ok, "expected": same,
                        "cell": cell, "leak": ok and not same})
        rows.append({"src": src, "cells": row})
    return rows


def iperf():
    srv = subprocess.Popen(["ip", "netns", "exec", ns("blue-web2"), "iperf3",
                            "-s", "-1", "-p", "5299"],
                           stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
    time.sleep(0.5)
    try:
        p = run("iperf3", "-c", "10.10.1.12", "-p", "5299", "-t", "3", "-J",
                ns=ns("blue-web1"), check=False, timeout=30)
        j = json.loads(p.stdout or "{}")
        bps = j.get("end", {}).get("sum_received", {}).get("bits_per_second")
        return round(bps / 1e9, 2) if bps else None
    except ValueError:
        return None
    finally:
        srv.kill()
        srv.wait()


def underlay_vnis():
    """Captures the underlay while a few VM pairs talk and reports, per
    pair, the VNI of the encapsulated frames and the hosts they crossed
    between (inner MACs identify the VMs; a routed frame carries the
    distributed router's MAC as its inner source)."""
    pcap = os.path.join(STATE_DIR, "underlay.pcap")
    cap = subprocess.Popen(["ip", "netns", "exec", ns("ul"), "tshark", "-i",
                            "br-ul", "-f", "udp port 4789 or udp port 6081",
                            "-w", pcap, "-q"],
                           stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
    time.sleep(1.5)
    pairs = [("blue-web1", "blue-web2"), ("red-web1", "red-web2"),
             ("blue-web1", "blue-db1"), ("red-db1", "red-web1")]
    ips = {v[0]: v[3] for v in VMS}
    for a, b in pairs:
        ping(a, ips[b], tries=1)
    time.sleep(0.5)
    cap.send_signal(signal.SIGINT)
    cap.wait()
    p = run("tshark", "-r", pcap, "-T", "fields", "-e", "ip.src", "-e",
            "ip.dst", "-e", "eth.src", "-e", "eth.dst", "-e", "vxlan.vni",
            "-e", "geneve.vni", check=False)
    names = {v[4]: v[0] for v in VMS}
    names[ROUTER_MAC] = "router"
    seen = {}
    for line in p.stdout.splitlines():
        f = line.split("\t")
        if len(f) < 6 or not (f[4] or f[5]):
            continue
        src_mac = f[2].split(",")[-1]
        dst_mac = f[3].split(",")[-1]
        vni = int((f[4] or f[5]).split(",")[0], 0)
        key = (names.get(src_mac, src_mac), names.get(dst_mac, dst_mac))
        hosts = f"{f[0].split(',')[0]} -> {f[1].split(',')[0]}"
        seen.setdefault(key, (set(), hosts))[0].add(vni)
    out = []
    for a, b in pairs:
        # A routed pair's frames come from the router on the source host.
        key = (a, b) if (a, b) in seen else ("router", b)
        vnis, hosts = seen.get(key, (set(), "-"))
        out.append({"from": a, "to": b, "underlay": hosts,
                    "vnis": sorted(vnis), "routed": key[0] == "router"})
    return out


def prove(st):
    say("Proving the fabric:")
    with Progress("connectivity matrix (every VM pings every other VM)"):
        m = matrix()
    with Progress("iperf3 blue-web1 (h1) -> blue-web2 (h2), 3 s"):
        gbps = iperf()
    with Progress("capturing the underlay while VMs talk"):
        vnis = underlay_vnis()
    bad = [(r["src"], c["dst"]) for r in m for c in r["cells"]
           if c and c["cell"] in ("LEAK!", "FAIL!")]
    result = {"matrix": m, "iperf3_gbps": gbps, "underlay": vnis,
              "ok": not bad, "mismatches": bad,
              "explore": explore_cmds()}
    if JSON_OUT:
        print(json.dumps(result, indent=1))
    else:
        print_matrix(m)
        print(f"\niperf3 TCP blue-web1 -> blue-web2 across hosts: "
              f"{gbps} Gbit/s" if gbps else "\niperf3: no result")
        print("\nOn the underlay (tshark on the underlay bridge):")
        for v in vnis:
            how = " (routed)" if v["routed"] else ""
            print(f"  {v['from']:>9} -> {v['to']:<9} {v['underlay']:<32} "
                  f"VNI {', '.join(map(str, v['vnis'])) or '-'}{how}")
        print()
        print("RESULT: the fabric behaves as configured" if not bad else
              f"RESULT: MISMATCH for {bad}")
        print_explore()
    return not bad


def print_matrix(m):
    names = [v[0] for v in VMS]
    w = max(map(len, names)) + 1
    print("\nConnectivity (every VM pings every other VM's IP):")
    print(" " * (w + 2) + "".join(f"{n:>{w}}" for n in names))
    for r in m:
        cells = [f"{'.':>{w}}" if c is None else f"{c['cell']:>{w}}"
                 for c in r["cells"]]
        print(f"  {r['src']:<{w}}" + "".join(cells))
    print("  ok  = reachable: same tenant (other network: routed, allowed by "
          "policy web<->db)\n"
          "  --  = blocked: other tenant\n"
          "  own = that IP also exists in the pinger's own tenant (red-web1 "
          "has blue-web1's address):\n"
          "        the answer came from its own tenant's VM, checked by MAC\n"
          "  LEAK!/FAIL! = not as configured")


def explore_cmds():
    return {
        "host_show": f"ip netns exec {ns('h1')} {binpath('src/vfabctl/vfabctl')} "
                     f"--socket {STATE_DIR}/h1.sock show",
        "fabric_show": f"ip netns exec {ns('h1')} {binpath('src/vfabctl/vfabctl')} "
                       f"--socket {STATE_DIR}/h1.sock -j call fabric/show",
        "vm_ping": f"ip netns exec {ns('blue-web1')} ping 10.10.2.11",
        "rest_url": SERVER + " (reachable inside namespace " + ns("ul") + ")",
        "rest_example": f"ip netns exec {ns('ul')} curl -s -H "
                        f"\"Authorization: Bearer $(cat {STATE_DIR}/admin.token)\" "
                        f"{SERVER}/v1/vnics",
        "token_file": f"{STATE_DIR}/admin.token",
        "down": "./vfab-demo down",
    }


def print_explore():
    e = explore_cmds()
    print("\nThe fabric keeps running.  Explore it:")
    print(f"  {e['host_show']}")
    print(f"  {e['vm_ping']}")
    print(f"  {e['rest_example']}")
    print(f"  (policy server {SERVER}, admin token in {e['token_file']})")
    print(f"Remove it: {e['down']}")


def is_up(st):
    if not st:
        return False
    have = existing_namespaces()
    return (all(n in have for n in st["namespaces"])
            and all(alive(p) for p in st["pids"].values())
            and st.get("complete"))


def up():
    preflight()
    st = load_state()
    if is_up(st):
        say("vfab-demo: the fabric is already up; checking it again.")
        return prove(st)
    if st:
        say("vfab-demo: a previous fabric is incomplete; removing it first.")
        down(quiet=True)
    st = {"namespaces": [], "pids": {}, "complete": False}
    os.makedirs(STATE_DIR, mode=0o700, exist_ok=True)
    save_state(st)
    say(f"Bringing up the demo fabric ({TUNNEL}), state in {STATE_DIR}:")
    steps = [
        ("underlay namespace with VTEP and management bridges",
         lambda: underlay(st)),
        ("vfab-policyd on " + SERVER + " (SQLite store)",
         lambda: policy_server(st)),
        ("model: tenants blue, red; networks *-web 10.10.1.0/24, "
         "*-db 10.10.2.0/24; policies", model),
    ]
    for n in HOSTS:
        steps.append((f"host h{n}: vfabd, fabric bridge, uplink VTEP "
                      f"192.168.100.{n}", lambda n=n: host(st, n)))
    for v in VMS:
        steps.append((f"VM {v[0]} ({v[3]}) on h{v[2]}, network {v[1]}",
                      lambda v=v: vm(st, *v)))
    for what, fn in steps:
        with Progress(what):
            fn()
    st["complete"] = True
    save_state(st)
    return prove(st)


def down(quiet=False):
    st = load_state()
    if not st:
        if not quiet:
            say("vfab-demo: nothing to remove")
        return True
    for key, pid in st.get("pids", {}).items():
        try:
            os.killpg(pid, signal.SIGTERM)
        except OSError:
            pass
    t0 = time.monotonic()
    while (any(alive(p) for p in st.get("pids", {}).values())
           and time.monotonic() - t0 < 5):
        time.sleep(0.1)
    for pid in st.get("pids", {}).values():
        try:
            os.killpg(pid, signal.SIGKILL)
        except OSError:
            pass
    have = existing_namespaces()
    for n in reversed(st.get("namespaces", [])):
        if n in have:
            run("ip", "netns", "del", n, check=False)
    shutil.rmtree(STATE_DIR, ignore_errors=True)
    if not quiet:
        say("vfab-demo: removed the demo fabric (namespaces, daemons, "
            f"{STATE_DIR})")
    return True


def main():
    args = [a for a in sys.argv[1:] if a != "-j"]
    cmd = args[0] if args else "up"
    try:
        if cmd == "up":
            return 0 if up() else 1
        if cmd == "down":
            return 0 if down() else 1
        if cmd == "status":
            preflight()
            st = load_state()
            if not is_up(st):
                raise DemoError("the demo fabric is not up (./vfab-demo up)")
            return 0 if prove(st) else 1
        print(__doc__, file=sys.stderr)
        return 2
    except DemoError as e:
        print(f"\nvfab-demo: {e}", file=sys.stderr)
        return 1
    except subprocess.TimeoutExpired as e:
        print(f"\nvfab-demo: timed out: {' '.join(e.cmd)}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
