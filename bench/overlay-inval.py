#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Invalidation latency, for bench/e2e-overlay.sh (part 4).

    overlay-inval.py URL TOKEN_FILE WRITES POLICY VNIC SOCKET...

Makes WRITES model writes through vfab-policyd's REST API at URL, one at a
time, alternating a policy change (PATCH /v1/policies/POLICY, priority 100
<-> 101: drops the tenant's cached translations on every agent) and a VNIC
change (PATCH /v1/vnics/VNIC, security groups [] <-> ["bench-inval"]: drops
the translations to and from it).  For each write it notes the wall-clock
time just before sending it and the model version the answer carries, then
polls every vfabd (JSON-RPC `fabric/show` on its control SOCKET) until each
has applied that version; each agent reports when it applied it
("applied": {"version", "wall_us"}, taken where the change record was
applied to its translation cache).  A write's latency is the latest of
those times minus the send time.  Prints metric lines: p50, p99, max in
milliseconds, and the count.  Never asserts.
"""
import http.client
import json
import math
import socket
import sys
import time
import urllib.parse

POLL_S = 0.0002                  # Between polls of the agents.
TIMEOUT_S = 10.0                 # Per write: give up (counted).


class Agent:
    def __init__(self, path):
        self.path = path
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(path)
        self.buf = b""
        self.next_id = 1

    def call(self, method, params=None):
        req = {"jsonrpc": "2.0", "method": method, "id": self.next_id}
        if params is not None:
            req["params"] = params
        self.next_id += 1
        self.sock.sendall(json.dumps(req).encode() + b"\n")
        while b"\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise OSError("vfabd closed " + self.path)
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        reply = json.loads(line)
        if "error" in reply:
            raise OSError("%s: %s" % (method, reply["error"]))
        return reply["result"]

    def applied(self):
        a = self.call("fabric/show").get("applied", {})
        return a.get("version", 0), a.get("wall_us", 0)


def percentile(values, p):
    v = sorted(values)                         # Nearest rank.
    return v[max(0, min(len(v) - 1, math.ceil(p / 100.0 * len(v)) - 1))]


def main():
    url, token_file, writes, policy, vnic = sys.argv[1:6]
    agents = [Agent(p) for p in sys.argv[6:]]
    writes = int(writes)
    token = open(token_file).read().strip()
    u = urllib.parse.urlparse(url)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=10)
    headers = {"Authorization": "Bearer " + token,
               "Content-Type": "application/json"}

    def patch(path, body):
        conn.request("PATCH", path, json.dumps(body), headers)
        r = conn.getresponse()
        data = r.read()
        if r.status != 200:
            raise OSError("PATCH %s: HTTP %d %s" % (path, r.status, data))
        return json.loads(data)

    lat_ms, lost = [], 0
    for i in range(writes):
        if i % 2 == 0:
            path = "/v1/policies/" + urllib.parse.quote(policy)
            body = {"priority": 101 if (i // 2) % 2 == 0 else 100}
        else:
            path = "/v1/vnics/" + urllib.parse.quote(vnic)
            body = {"security_groups": ["bench-inval"] if (i // 2) % 2 == 0
                    else []}
        t0_us = time.time() * 1e6
        version = patch(path, body)["version"]
        deadline = time.monotonic() + TIMEOUT_S
        done = {}
        while len(done) < len(agents) and time.monotonic() < deadline:
            for a in agents:
                if a.path in done:
                    continue
                v, wall_us = a.applied()
                if v >= version:
                    done[a.path] = wall_us
            if len(done) < len(agents):
                time.sleep(POLL_S)
        if len(done) < len(agents):
            lost += 1
            continue
        lat_ms.append((max(done.values()) - t0_us) / 1000.0)
    print("# invalidation: %d writes (policy and VNIC changes alternating), "
          "%d agents" % (writes, len(agents)))
    if lat_ms:
        print("invalidation_p50_ms: %.2f ms" % percentile(lat_ms, 50))
        print("invalidation_p99_ms: %.2f ms" % percentile(lat_ms, 99))
        print("invalidation_max_ms: %.2f ms" % max(lat_ms))
    print("invalidation_writes: %d writes" % len(lat_ms))
    if lost:
        print("invalidation_timeouts: %d writes" % lost)


if __name__ == "__main__":
    main()
