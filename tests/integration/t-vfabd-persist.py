#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""vfabd's configuration survives restarts, and crashes leave no half state.

1. A configuration (bridges, ports of every kind with options, flows) is
   identical after a clean restart (SIGTERM), port numbers and flow
   sequence numbers included.
2. kill -9 in the middle of a burst of pipelined commands (each adds or
   removes bridges with ports and flows): the database passes SQLite's
   integrity check, vfabd starts, and its configuration is exactly the
   result of the first K commands for some K >= the number of commands
   acknowledged before the kill (every acknowledged command is durable,
   no command is half-applied).  Three rounds, killed at different points.
3. A database failure injected in the middle of a multi-statement command
   (debug/fail-db, --test-hooks) gets a storage error and changes nothing,
   neither in the running daemon nor on disk.
"""
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

BUILD = os.environ.get("VFAB_BUILD") or os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "../../build/asan")
VFABD = os.path.join(BUILD, "src/vfabd/vfabd")
PREFIX = "vtq%d" % (os.getpid() % 100000)


def log(msg):
    print("[%s] %s" % (time.strftime("%T"), msg), file=sys.stderr, flush=True)


def fail(msg):
    log("FAIL: " + msg)
    sys.exit(1)


class Client:
    def __init__(self, path):
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.s.settimeout(30)
        self.s.connect(path)
        self.f = self.s.makefile("rb")
        self.next_id = 1

    def call(self, method, *params):
        req = {"jsonrpc": "2.0", "method": method, "id": self.next_id,
               "params": list(params)}
        self.next_id += 1
        self.s.sendall(json.dumps(req).encode() + b"\n")
        return json.loads(self.f.readline())

    def ok(self, method, *params):
        r = self.call(method, *params)
        if "result" not in r:
            fail("%s %r: %r" % (method, params, r))
        return r["result"]

    def close(self):
        self.f.close()
        self.s.close()


class Daemon:
    def __init__(self, tmp):
        self.sock = os.path.join(tmp, "vfabd.sock")
        self.db = os.path.join(tmp, "vfabd.db")
        self.logpath = os.path.join(tmp, "vfabd.log")
        self.proc = None

    def start(self):
        logf = open(self.logpath, "a")
        # In a namespace of its own: vfabd creates real TAP devices and
        # attaches afpacket ports to real interfaces ('up0', made by main).
        self.proc = subprocess.Popen(
            ["ip", "netns", "exec", NETNS, VFABD, "--socket", self.sock,
             "--db", self.db, "--test-hooks"],
            stdout=logf, stderr=subprocess.STDOUT)
        logf.close()
        deadline = time.time() + 15
        while time.time() < deadline:
            if self.proc.poll() is not None:
                fail("vfabd exited %d: %s" % (self.proc.returncode,
                                               open(self.logpath).read()))
            try:
                c = Client(self.sock)
                c.ok("version")
                return c
            except (FileNotFoundError, ConnectionRefusedError):
                time.sleep(0.05)
        fail("vfabd did not start")

    def stop(self, sig=signal.SIGTERM):
        self.proc.send_signal(sig)
        rc = self.proc.wait(timeout=20)
        if sig == signal.SIGTERM and rc != 0:
            fail("vfabd exited %d on SIGTERM" % rc)

    def kill(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def snapshot(c):
    """The whole configuration: show + every bridge's flows."""
    show = c.ok("switch/show")
    state = {}
    for br in show["bridges"]:
        state[br["name"]] = {
            "ports": br["ports"],
            "flows": c.ok("flow/dump", br["name"])["flows"],
        }
    return state


def check_clean_restart(d):
    c = d.start()
    c.ok("bridge/add", "br0")
    c.ok("bridge/add", "br1")
    c.ok("port/add", "br0", "vm1", {"type": "tap", "vlan": 10,
                                    "mac": "02:00:00:00:00:01",
                                    "ip": ["10.0.0.1", "fd00::1"],
                                    "quota": 256})
    c.ok("port/add", "br0", "up0", {"type": "afpacket", "trunks": [1, 2, 3]})
    c.ok("port/add", "br0", "gone", {"type": "dummy"})
    c.ok("port/add", "br0", "vm2", {"type": "tap"})
    c.ok("port/remove", "br0", "gone")          # Leaves a hole: port 3.
    c.ok("port/add", "br1", "pa", {"type": "patch", "peer": "pb"})
    for i in range(5):
        c.ok("flow/add", "br0",
             "priority=%d,udp,tp_dst=%d,actions=drop" % (i, 1000 + i))
    # Non-strict deletion (OpenFlow): selects the flow with that port.
    c.ok("flow/remove", "br0", "udp,tp_dst=1002")
    before = snapshot(c)
    c.close()
    d.stop()
    c = d.start()
    after = snapshot(c)
    if before != after:
        fail("clean restart changed the configuration:\n%r\n%r"
             % (before, after))
    if c.ok("port/add", "br0", "vm3", {"type": "tap"})["port_no"] != 3:
        fail("port number hole not reused after restart")
    if c.ok("flow/add", "br0", "actions=flood")["seq"] != 6:
        fail("flow sequence restarted")
    c.ok("bridge/remove", "br0")
    c.ok("bridge/remove", "br1")
    c.close()
    d.stop()
    log("clean restart: ok")


def burst_ops(round_, n):
    """The command sequence of a burst and a model to replay it."""
    ops = []
    for i in range(n):
        z = "z%d_%d" % (round_, i)
        ops.append(("bridge/add", [z]))
        ops.append(("port/add", [z, "p%d_%d" % (round_, i),
                                 {"type": "tap", "vlan": i % 4096}]))
        ops.append(("flow/add", [z, "priority=%d,actions=drop" % i]))
        ops.append(("port/add", ["base", "q%d_%d" % (round_, i),
                                 {"type": "dummy"}]))
        if i > 0:
            # Removes a bridge with a port and a flow: three rows, one
            # transaction.
            ops.append(("bridge/remove", ["z%d_%d" % (round_, i - 1)]))
    return ops


def model_states(base_state, ops):
    """Yields (k, state) for k = 0..len(ops): the model after k ops, in the
    shape of a comparable summary."""
    bridges = {b: {"ports": set(v["ports"]), "flows": list(v["flows"])}
               for b, v in base_state.items()}

    def summary():
        return {b: (sorted(v["ports"]), list(v["flows"]))
                for b, v in bridges.items()}

    yield 0, summary()
    for k, (method, params) in enumerate(ops, 1):
        if method == "bridge/add":
            bridges[params[0]] = {"ports": set(), "flows": []}
        elif method == "bridge/remove":
            del bridges[params[0]]
        elif method == "port/add":
            bridges[params[0]]["ports"].add(params[1])
        elif method == "flow/add":
            # vfabd stores rules in the classifier's canonical form.
            bridges[params[0]]["flows"].append("table=0," + params[1])
        yield k, summary()


def summarize(state):
    return {b: (sorted(p["name"] for p in v["ports"]),
                [f["rule"] for f in v["flows"]])
            for b, v in state.items()}


def check_kill9_burst(d, round_, kill_after):
    c = d.start()
    base = snapshot(c)
    base_model = {b: {"ports": [p["name"] for p in v["ports"]],
                      "flows": [f["rule"] for f in v["flows"]]}
                  for b, v in base.items()}
    ops = burst_ops(round_, 400)
    data = b"".join(
        json.dumps({"jsonrpc": "2.0", "method": m, "params": p,
                    "id": k}).encode() + b"\n"
        for k, (m, p) in enumerate(ops))

    def sender():
        try:
            c.s.sendall(data)
        except OSError:
            pass                  # The daemon died under us: expected.

    t = threading.Thread(target=sender)
    t.start()
    acked = 0
    while acked < kill_after:
        line = c.f.readline()
        if not line:
            fail("connection lost before the kill")
        r = json.loads(line)
        if "result" not in r or r["id"] != acked:
            fail("burst op %d failed: %r" % (acked, r))
        acked += 1
    d.proc.kill()                 # kill -9, mid-burst.
    d.proc.wait()
    t.join()
    # Count replies already in our buffer: they were acknowledged too.
    try:
        c.s.settimeout(1)
        for line in c.f:
            if b"result" in line:
                acked += 1
    except OSError:
        pass
    c.close()
    if shutil.which("sqlite3"):
        out = subprocess.run(["sqlite3", d.db, "PRAGMA integrity_check;"],
                             capture_output=True, text=True).stdout.strip()
        if out != "ok":
            fail("integrity check after kill -9: %s" % out)
    c = d.start()
    got = summarize(snapshot(c))
    match = None
    for k, state in model_states(base_model, ops):
        if k >= acked and state == got:
            match = k
            break
    if match is None:
        fail("after kill -9 (acked %d of %d) the configuration matches no "
             "prefix of the commands: %r" % (acked, len(ops), got))
    c.close()
    d.stop()
    log("kill -9 round %d: acked %d, recovered exactly the first %d of %d "
        "commands" % (round_, acked, match, len(ops)))


def check_injected_failure(d):
    c = d.start()
    before = snapshot(c)
    if "base" not in before or not before["base"]["ports"]:
        fail("no base bridge to test with")
    c.ok("flow/add", "base", "actions=drop")
    before = snapshot(c)
    for step in (1, 2):           # The delete, then the commit.
        c.ok("debug/fail-db", str(step))
        r = c.call("bridge/remove", "base")
        err = r.get("error", {})
        if err.get("code") != -32005 or "injected failure" not in err.get(
                "message", ""):
            fail("injected failure at step %d: %r" % (step, r))
        if snapshot(c) != before:
            fail("failed command changed the running configuration")
    for step in (1, 2):
        c.ok("debug/fail-db", str(step))
        r = c.call("port/add", "base", "inj", {"type": "tap"})
        if r.get("error", {}).get("code") != -32005:
            fail("injected failure in port/add: %r" % r)
    c.ok("debug/fail-db", "0")
    if snapshot(c) != before:
        fail("failed port/add changed the running configuration")
    c.close()
    d.stop()
    c = d.start()
    if snapshot(c) != before:
        fail("failed commands changed the stored configuration")
    c.close()
    d.stop()
    log("injected database failures: ok")


NETNS = "vtp%d-host" % (os.getpid() % 100000)


def netns_setup():
    subprocess.run(["ip", "netns", "add", NETNS], check=True)
    for cmd in (["ip", "link", "add", "up0", "type", "veth", "peer", "name",
                 "up0p"], ["ip", "link", "set", "up0", "up"]):
        subprocess.run(["ip", "netns", "exec", NETNS] + cmd, check=True)


def netns_cleanup():
    subprocess.run(["ip", "netns", "pids", NETNS], capture_output=True)
    subprocess.run(["ip", "netns", "del", NETNS], capture_output=True)


def main():
    if not os.access(VFABD, os.X_OK):
        log("SKIP: %s not built" % VFABD)
        sys.exit(77)
    if os.geteuid() != 0:
        log("SKIP: needs root")
        sys.exit(77)
    tmp = tempfile.mkdtemp(prefix=PREFIX + ".")
    d = Daemon(tmp)
    netns_setup()
    try:
        check_clean_restart(d)
        c = d.start()
        c.ok("bridge/add", "base")
        c.close()
        d.stop()
        for round_, kill_after in enumerate((37, 400, 1201)):
            check_kill9_burst(d, round_, kill_after)
        check_injected_failure(d)
        log("PASS")
    finally:
        d.kill()
        netns_cleanup()
        if os.environ.get("VFAB_KEEP_LOGS"):
            log("logs kept in " + tmp)
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
