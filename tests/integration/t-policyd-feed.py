#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""vfab-policyd's change feed over real HTTP.

Checks: a long-poll with nothing new waits for its timeout and answers
empty; several parked long-polls all wake on one write, each with exactly
that change; records say exactly what changed (object and previous
state); pagination with limit/next delivers every record once, in order;
a cursor survives a server restart (kill -9 included) and resumes; a
cursor older than the retained history, or ahead of the server, gets 410
naming "since"; SIGTERM answers parked long-polls and exits cleanly.
"""
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

BUILD = os.environ.get("VFAB_BUILD") or os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", "..", "build", "asan")
BIN = os.path.join(BUILD, "src", "policyd", "vfab-policyd")
if not os.access(BIN, os.X_OK):
    print("SKIP: vfab-policyd not built at " + BIN)
    sys.exit(77)

TMP = tempfile.mkdtemp(prefix="pol-feed.")
DB = os.path.join(TMP, "feed.db")
TOKEN_FILE = os.path.join(TMP, "admin.token")
PORT_FILE = os.path.join(TMP, "port")
RETENTION = 16
server = None
url = None
admin = None


def log(msg):
    print("[%s] %s" % (time.strftime("%T"), msg), flush=True)


def start():
    global server, url, admin
    if os.path.exists(PORT_FILE):
        os.unlink(PORT_FILE)
    server = subprocess.Popen(
        [BIN, "--listen", "127.0.0.1:0", "--db", DB, "--admin-token-file",
         TOKEN_FILE, "--port-file", PORT_FILE, "--change-retention",
         str(RETENTION)], stdout=subprocess.DEVNULL,
        stderr=open(os.path.join(TMP, "server.log"), "a"))
    deadline = time.time() + 20
    while not (os.path.exists(PORT_FILE) and open(PORT_FILE).read().strip()):
        assert server.poll() is None, "vfab-policyd exited"
        assert time.time() < deadline, "vfab-policyd did not start"
        time.sleep(0.05)
    url = "http://127.0.0.1:%s" % open(PORT_FILE).read().strip()
    admin = open(TOKEN_FILE).read().strip()


def stop(sig=signal.SIGTERM):
    server.send_signal(sig)
    return server.wait(timeout=20)


def call(method, path, body=None, token=None, timeout=30):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url + path, data=data, method=method)
    req.add_header("Authorization", "Bearer " + (token or admin))
    if data is not None:
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def ok(method, path, body=None, status=None):
    st, j = call(method, path, body)
    assert st == (status or (201 if method == "POST" else 200)), (st, j)
    return j


def version():
    return call("GET", "/healthz")[1]["version"]


def changes(since, **kw):
    q = "&".join("%s=%s" % kv for kv in [("since", since)] + list(kw.items()))
    return call("GET", "/v1/changes?" + q, timeout=70)


def main():
    start()
    ok("POST", "/v1/tenants", {"name": "t"})
    ok("POST", "/v1/networks", {"name": "n", "tenant": "t", "vni": 9,
                                "subnets": ["10.9.0.0/24"]})
    ok("POST", "/v1/hosts", {"name": "h1", "underlay_ip": "192.0.2.1"})
    host_token = ok("POST", "/v1/hosts",
                    {"name": "h2", "underlay_ip": "192.0.2.2"})["token"]
    ok("POST", "/v1/vnics", {"name": "v", "network": "n",
                             "mac": "02:00:00:00:09:01",
                             "ips": ["10.9.0.1"], "host": "h1"})
    v0 = version()
    assert v0 == 5

    log("an idle long-poll waits for its timeout")
    t = time.time()
    st, j = changes(v0, timeout=2)
    took = time.time() - t
    assert st == 200 and j["changes"] == [] and j["next"] == v0, j
    assert 1.8 <= took < 4, took

    log("parked long-polls all wake on one write")
    results = []

    def waiter(token):
        results.append(call("GET", "/v1/changes?since=%d&timeout=20" % v0,
                            token=token, timeout=40))

    threads = [threading.Thread(target=waiter, args=(tok,))
               for tok in (None, None, host_token)]
    for th in threads:
        th.start()
    time.sleep(0.5)
    t = time.time()
    ok("PATCH", "/v1/vnics/v", {"host": "h2"})
    for th in threads:
        th.join()
    assert time.time() - t < 3
    assert len(results) == 3
    for st, j in results:
        assert st == 200, (st, j)
        assert len(j["changes"]) == 1, j
        c = j["changes"][0]
        assert (c["version"], c["op"], c["kind"], c["name"]) == \
            (v0 + 1, "update", "vnic", "v"), c
        assert c["previous"]["host"] == "h1" and c["object"]["host"] == "h2"
        assert c["object"]["version"] == v0 + 1
        assert j["next"] == v0 + 1

    log("records say exactly what changed")
    ok("POST", "/v1/policies", {"name": "p", "tenant": "t",
                                "action": "deny", "src": {"group": "a"},
                                "dst": {"network": "n"}})
    ok("PATCH", "/v1/policies/p", {"src": {"group": "b"}})
    ok("DELETE", "/v1/policies/p")
    st, j = changes(v0 + 1)
    recs = j["changes"]
    assert [(c["op"], c["kind"]) for c in recs] == [
        ("create", "policy"), ("update", "policy"), ("delete", "policy")]
    assert recs[0]["previous"] is None
    assert recs[1]["previous"]["src"] == {"group": "a"}
    assert recs[1]["object"]["src"] == {"group": "b"}
    assert recs[2]["object"] is None and recs[2]["previous"]["name"] == "p"
    assert all("token" not in json.dumps(c) for c in recs)

    log("pagination delivers every record once, in order")
    for i in range(5):
        ok("POST", "/v1/tenants", {"name": "x%d" % i})
    cursor, seen = v0, []
    while True:
        st, j = changes(cursor, limit=2)
        assert st == 200 and len(j["changes"]) <= 2
        seen += [c["version"] for c in j["changes"]]
        cursor = j["next"]
        if not j["more"]:
            break
    assert seen == list(range(v0 + 1, version() + 1)), seen
    assert cursor == version()

    log("a cursor survives a restart and kill -9")
    cursor = version()
    assert stop() == 0
    start()
    assert version() == cursor
    ok("POST", "/v1/tenants", {"name": "after-restart"})
    st, j = changes(cursor, timeout=5)
    assert [c["name"] for c in j["changes"]] == ["after-restart"]
    cursor = j["next"]
    stop(signal.SIGKILL)
    start()
    ok("DELETE", "/v1/tenants/after-restart")
    st, j = changes(cursor, timeout=5)
    assert [(c["op"], c["name"]) for c in j["changes"]] == [
        ("delete", "after-restart")], j

    log("too old or ahead: 410 naming 'since'")
    old = version()
    for i in range(RETENTION + 2):
        ok("PATCH", "/v1/tenants/t", {"description": "rev %d" % i})
    st, j = changes(old)
    assert st == 410 and j["field"] == "since", (st, j)
    assert j["oldest"] > old + 1
    st, j = changes(j["oldest"] - 1)
    assert st == 200 and len(j["changes"]) == RETENTION, \
        (st, len(j["changes"]))
    st, j = changes(version() + 5)
    assert st == 410 and j["field"] == "since"

    log("SIGTERM answers a parked long-poll and exits 0")
    results.clear()
    v0 = version()
    th = threading.Thread(target=lambda: results.append(
        changes(v0, timeout=30)))
    th.start()
    time.sleep(0.5)
    t = time.time()
    assert stop() == 0
    th.join()
    assert time.time() - t < 5
    assert results and results[0][0] == 200 and results[0][1]["changes"] == []
    log("PASS")


try:
    main()
finally:
    if server and server.poll() is None:
        server.kill()
        server.wait()
    subprocess.call(["rm", "-rf", TMP])
