#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""vfabd's control socket under raw, hostile JSON-RPC traffic.

Every malformed input class gets the right JSON-RPC error on the same
connection, which keeps working; notifications get no reply; batches;
pipelining; a client that sends half a line and stalls blocks nobody and
is dropped after the stall timeout; oversized messages are refused and the
connection closed; clients beyond the limit are refused; clients that
vanish mid-request do no harm.  Afterwards the configuration holds exactly
what the valid requests asked for, and SIGTERM exits 0.
"""
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

BUILD = os.environ.get("VFAB_BUILD") or os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "../../build/asan")
VFABD = os.path.join(BUILD, "src/vfabd/vfabd")
PREFIX = "vtp%d" % (os.getpid() % 100000)


def log(msg):
    print("[%s] %s" % (time.strftime("%T"), msg), file=sys.stderr, flush=True)


def fail(msg):
    log("FAIL: " + msg)
    sys.exit(1)


class Conn:
    """A raw client: sends bytes, reads lines."""

    def __init__(self, path, timeout=5.0):
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.s.settimeout(timeout)
        self.s.connect(path)
        self.buf = b""

    def send(self, data):
        if isinstance(data, str):
            data = data.encode()
        self.s.sendall(data)

    def line(self):
        """The next line as bytes, or None at EOF."""
        while b"\n" not in self.buf:
            try:
                chunk = self.s.recv(65536)
            except ConnectionResetError:
                chunk = b""
            if not chunk:
                return None
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return line

    def reply(self):
        line = self.line()
        if line is None:
            fail("connection closed, expected a reply")
        return json.loads(line)

    def call(self, method, params=None, id_=1):
        req = {"jsonrpc": "2.0", "method": method, "id": id_}
        if params is not None:
            req["params"] = params
        self.send(json.dumps(req) + "\n")
        return self.reply()

    def close(self):
        self.s.close()


def expect_error(reply, code, id_=None, needle=""):
    err = reply.get("error") if isinstance(reply, dict) else None
    if (not err or err.get("code") != code or reply.get("id") != id_
            or needle not in err.get("message", "")
            or reply.get("jsonrpc") != "2.0"):
        fail("expected error %d (id %r, '%s'), got %r"
             % (code, id_, needle, reply))


def main():
    if not os.access(VFABD, os.X_OK):
        log("SKIP: %s not built" % VFABD)
        sys.exit(77)
    tmp = tempfile.mkdtemp(prefix=PREFIX + ".")
    sock = os.path.join(tmp, "run", "vfabd.sock")
    logf = open(os.path.join(tmp, "vfabd.log"), "w")
    proc = subprocess.Popen(
        [VFABD, "--socket", sock, "--db", os.path.join(tmp, "vfabd.db")],
        stdout=logf, stderr=subprocess.STDOUT)
    try:
        run(sock, proc)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        logf.close()
        if os.environ.get("VFAB_KEEP_LOGS"):
            log("logs kept in " + tmp)
        else:
            shutil.rmtree(tmp, ignore_errors=True)


def wait_for_socket(sock, proc):
    deadline = time.time() + 10
    while time.time() < deadline:
        if proc.poll() is not None:
            fail("vfabd exited with %d" % proc.returncode)
        try:
            c = Conn(sock)
            c.call("version")
            c.close()
            return
        except (FileNotFoundError, ConnectionRefusedError):
            time.sleep(0.05)
    fail("vfabd did not start")


def check_malformed(sock):
    """Each line gets its error and the connection goes on."""
    c = Conn(sock)
    P, R, M, I = -32700, -32600, -32601, -32602
    cases = [
        (b"not json", P, None, "parse error"),
        (b"{", P, None, "parse error"),
        (b"{\"jsonrpc\":\"2.0\",\"method\":\"version\",\"id\":1} trailing", P,
         None, ""),
        (b"{\"a\":1,\"a\":2}", P, None, "duplicate"),
        (b"{\"jsonrpc\":\"2.0\",\"method\":\"v\xff\",\"id\":1}", P, None, ""),
        (b"{\"jsonrpc\":\"2.0\",\"method\":\"version\x00\",\"id\":1}", P,
         None, ""),
        (b"[" * 100000, P, None, ""),
        (b"{\"jsonrpc\":\"2.0\",\"method\":\"version\",\"id\":1e999}", P,
         None, ""),
        (b"42", R, None, "must be an object"),
        (b"null", R, None, ""),
        (b"[]", R, None, "empty batch"),
        (b"{}", R, None, ""),
        (b"{\"jsonrpc\":\"1.0\",\"method\":\"version\",\"id\":2}", R, 2,
         "\"jsonrpc\" must be the string \"2.0\""),
        (b"{\"method\":\"version\",\"id\":3}", R, 3, ""),
        (b"{\"jsonrpc\":\"2.0\",\"method\":7,\"id\":4}", R, 4,
         "\"method\" must be a string"),
        (b"{\"jsonrpc\":\"2.0\",\"method\":\"\",\"id\":5}", R, 5, ""),
        (b"{\"jsonrpc\":\"2.0\",\"method\":\"version\",\"params\":\"x\","
         b"\"id\":6}", R, 6, "\"params\" must be an array or an object"),
        (b"{\"jsonrpc\":\"2.0\",\"method\":\"version\",\"id\":{}}", R, None,
         "\"id\" must be"),
        (b"{\"jsonrpc\":\"2.0\",\"method\":\"version\",\"id\":7,\"x\":1}",
         R, 7, "unexpected member \"x\""),
        (b"{\"jsonrpc\":\"2.0\",\"result\":1,\"id\":8}", R, 8,
         "got a response"),
        (b"{\"jsonrpc\":\"2.0\",\"method\":\"nope\",\"id\":9}", M, 9,
         "unknown command 'nope'"),
        (b"{\"jsonrpc\":\"2.0\",\"method\":\"bridge/add\",\"id\":10}", I, 10,
         "takes 1 argument"),
        (b"{\"jsonrpc\":\"2.0\",\"method\":\"bridge/add\",\"params\":[1],"
         b"\"id\":\"s\"}", I, "s", "must be a string"),
        (b"{\"jsonrpc\":\"2.0\",\"method\":\"port/add\",\"params\":[\"b\","
         b"\"p\",{\"type\":\"tap\",\"vlan\":99999}],\"id\":11}", I, 11,
         "option 'vlan' must be an integer 0..4095 (got 99999)"),
        (b"{\"jsonrpc\":\"2.0\",\"method\":\"port/add\",\"params\":[\"b\","
         b"\"p\",{\"vlan\":1}],\"id\":12}", I, 12, "missing option 'type'"),
        (b"{\"jsonrpc\":\"2.0\",\"method\":\"bridge/add\",\"params\":"
         b"[\"a b\"],\"id\":13}", I, 13, "invalid character ' '"),
    ]
    for data, code, id_, needle in cases:
        c.send(data + b"\n")
        expect_error(c.reply(), code, id_, needle)
    # CRLF and blank lines are fine; the connection still works.
    c.send(b"\r\n\n{\"jsonrpc\":\"2.0\",\"method\":\"version\",\"id\":20}\r\n")
    r = c.reply()
    if r.get("id") != 20 or r["result"]["name"] != "vfabd":
        fail("after malformed input: %r" % r)

    # A notification gets no reply: the next line answers the next request.
    c.send(b"{\"jsonrpc\":\"2.0\",\"method\":\"bridge/add\","
           b"\"params\":[\"nb\"]}\n"
           b"{\"jsonrpc\":\"2.0\",\"method\":\"nope\"}\n"
           b"{\"jsonrpc\":\"2.0\",\"method\":\"version\",\"id\":21}\n")
    if c.reply().get("id") != 21:
        fail("a notification was answered")

    # A batch: replies in order, none for notifications.
    batch = [
        {"jsonrpc": "2.0", "method": "bridge/add", "params": ["bb"],
         "id": "a"},
        {"jsonrpc": "2.0", "method": "bridge/add", "params": ["bc"]},
        {"jsonrpc": "2.0", "method": "bridge/add", "params": ["bb"],
         "id": "b"},
        5,
    ]
    c.send(json.dumps(batch) + "\n")
    r = c.reply()
    if (not isinstance(r, list) or len(r) != 3 or r[0]["id"] != "a"
            or "result" not in r[0]):
        fail("batch: %r" % r)
    expect_error(r[1], -32002, "b", "bridge bb already exists")
    expect_error(r[2], -32600, None)
    c.send(json.dumps([{"jsonrpc": "2.0", "method": "version"}]) + "\n")
    c.send(b"{\"jsonrpc\":\"2.0\",\"method\":\"version\",\"id\":22}\n")
    if c.reply().get("id") != 22:
        fail("a batch of notifications was answered")
    c.send(json.dumps([{"jsonrpc": "2.0", "method": "version", "id": i}
                       for i in range(257)]) + "\n")
    expect_error(c.reply(), -32600, None, "exceeds 256")
    c.close()
    log("malformed input: ok")


def check_half_line(sock, proc):
    """Half a line stalls nobody; completing it gets the reply."""
    slow = Conn(sock)
    slow.send(b"{\"jsonrpc\":\"2.0\",\"method\":\"vers")
    idle = Conn(sock)                    # Connected, never sends.
    c = Conn(sock)
    t0 = time.time()
    for i in range(50):
        if "result" not in c.call("version", id_=i):
            fail("call failed while a client stalls")
    if time.time() - t0 > 5:
        fail("50 calls took %.1f s beside a stalled client" % (time.time() - t0))
    slow.send(b"ion\",\"id\":99}\n")
    if slow.reply().get("id") != 99:
        fail("the slow client's request was lost")

    # A client stalling mid-message is dropped after the stall timeout (10 s).
    slow.send(b"{\"jsonrpc\":")
    slow.s.settimeout(20)
    t0 = time.time()
    if slow.line() is not None:
        fail("stalled client got data")
    took = time.time() - t0
    if not 8 <= took <= 15:
        fail("stalled client dropped after %.1f s" % took)
    # The idle one (no partial message) is still served.
    if "result" not in idle.call("version"):
        fail("idle client dropped")
    for x in (slow, idle, c):
        x.close()
    log("half line and stall: ok (dropped after %.1f s)" % took)


def check_oversized(sock):
    limit = 1024 * 1024
    c = Conn(sock)
    try:
        c.send(b"{\"jsonrpc\":\"2.0\",\"method\":\"version\",\"params\":[\""
               + b"x" * (limit + 100) + b"\"],\"id\":1}\n")
    except (BrokenPipeError, ConnectionResetError):
        pass                             # Closed while we were still sending.
    expect_error(c.reply(), -32006, None, "message exceeds 1048576 bytes")
    if c.line() is not None:
        fail("connection not closed after an oversized message")
    c.close()

    # Exactly the limit is served (and refused for its content).
    head = b"{\"jsonrpc\":\"2.0\",\"method\":\"bridge/add\",\"id\":2,\"params\":[\""
    tail = b"\"]}"
    msg = head + b"y" * (limit - len(head) - len(tail)) + tail
    assert len(msg) == limit
    c = Conn(sock)
    c.send(msg + b"\n")
    expect_error(c.reply(), -32602, 2, "is longer than 15 bytes")
    if "result" not in c.call("version"):
        fail("connection unusable after a 1 MiB message")
    c.close()
    log("oversized messages: ok")


def check_many_clients(sock):
    conns = []
    for i in range(64):
        c = Conn(sock)
        if "result" not in c.call("version", id_=i):
            fail("client %d not served" % i)
        conns.append(c)
    extra = Conn(sock)
    expect_error(extra.reply(), -32007, None, "too many clients")
    if extra.line() is not None:
        fail("client over the limit not closed")
    extra.close()
    conns.pop().close()
    time.sleep(0.2)
    c = Conn(sock)
    if "result" not in c.call("version"):
        fail("freed slot not reusable")
    conns.append(c)
    for c in conns:
        c.close()
    time.sleep(0.2)                      # Let the daemon see them go.
    log("client limit: ok")


def check_pipelining_and_vanishing(sock):
    c = Conn(sock)
    n = 500
    c.send(b"".join(b"{\"jsonrpc\":\"2.0\",\"method\":\"time/show\",\"id\":%d}\n"
                    % i for i in range(n)))
    for i in range(n):
        r = c.reply()
        if r.get("id") != i:
            fail("pipelined reply %d has id %r" % (i, r.get("id")))
    c.close()
    # Clients that vanish mid-request or mid-reply.
    for i in range(20):
        v = Conn(sock)
        v.send(b"{\"jsonrpc\":\"2.0\",\"method\":\"list-commands\",\"id\":1}\n"
               * 50)
        v.s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                       b"\x01\x00\x00\x00\x00\x00\x00\x00")
        v.close()
    c = Conn(sock)
    if "result" not in c.call("version"):
        fail("daemon hurt by vanishing clients")
    c.close()
    log("pipelining, vanishing clients: ok")


def run(sock, proc):
    wait_for_socket(sock, proc)
    check_malformed(sock)
    check_half_line(sock, proc)
    check_oversized(sock)
    check_many_clients(sock)
    check_pipelining_and_vanishing(sock)

    # The configuration holds exactly what the valid requests asked for.
    c = Conn(sock)
    names = [b["name"] for b in c.call("switch/show")["result"]["bridges"]]
    if names != ["nb", "bb", "bc"]:
        fail("configuration after the abuse: %r" % names)
    c.close()

    proc.send_signal(signal.SIGTERM)
    try:
        rc = proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        fail("vfabd did not exit on SIGTERM")
    if rc != 0:
        fail("vfabd exited %d" % rc)
    if os.path.exists(sock):
        fail("socket left behind")
    log("PASS")


if __name__ == "__main__":
    main()
