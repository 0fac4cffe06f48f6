#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# vfabd + vfabctl, the operator's view: socket and database created with
# the right modes; only root (or vfabd's user) can talk to it; every
# command works with and without -j; every bad argument or command gets
# one precise line on stderr, a non-zero exit, and changes nothing; time
# and log commands; a second vfabd on the same socket or database refuses
# to start; SIGHUP reopens the log file; SIGTERM exits 0 and removes the
# socket, its lock and the pid file.
# lib.sh reads VF_BUILD; ctest passes VFAB_BUILD.
if [ -n "${VFAB_BUILD:-}" ]; then VF_BUILD=$VFAB_BUILD; fi
. "$(dirname "$0")/lib.sh"

export LC_ALL=C
[ "$(id -u)" -eq 0 ] || vf_skip "needs root"
VFABD=$(vf_bin src/vfabd/vfabd)
VFABCTL=$(vf_bin src/vfabctl/vfabctl)
[ -x "$VFABD" ] && [ -x "$VFABCTL" ] || vf_skip "vfabd/vfabctl not built"
command -v jq >/dev/null || vf_skip "jq missing"
# vfabd creates real devices (TAPs) and attaches afpacket ports to real
# interfaces: it runs in a namespace of its own, with an 'up0' to attach.
vf_require_root_netns
vf_ns_add host
vf_in host ip link add up0 type veth peer name up0p || vf_fail "veth up0"
vf_in host ip link set up0 up

SOCK=$VF_TMP/run/vfabd.sock
DB=$VF_TMP/lib/vfabd.db
LOG=$VF_TMP/vfabd.log
PIDF=$VF_TMP/vfabd.pid

ctl() { "$VFABCTL" --socket "$SOCK" "$@"; }

start_vfabd() {
    vf_bg host "$VFABD" --socket "$SOCK" --db "$DB" --log-file "$LOG" \
        --pidfile "$PIDF" "$@"
    VFABD_PID=$VF_LAST_PID
    vf_wait 10 ctl version || vf_fail "vfabd did not start: $(cat "$LOG")"
}

# expect_error EXIT NEEDLE CMD...: CMD exits with EXIT, prints exactly one
# line on stderr containing NEEDLE, nothing on stdout, and changes nothing.
expect_error() {
    local want=$1 needle=$2
    shift 2
    local before after rc
    before=$(ctl -j show)
    "$@" >"$VF_TMP/out" 2>"$VF_TMP/err"
    rc=$?
    [ "$rc" -eq "$want" ] || vf_fail "$* exited $rc, not $want: $(cat "$VF_TMP/err")"
    [ "$(wc -l <"$VF_TMP/err")" -eq 1 ] || vf_fail "$*: not one line: $(cat "$VF_TMP/err")"
    grep -qF -- "$needle" "$VF_TMP/err" || vf_fail "$*: '$(cat "$VF_TMP/err")' lacks '$needle'"
    [ ! -s "$VF_TMP/out" ] || vf_fail "$*: printed on stdout: $(cat "$VF_TMP/out")"
    after=$(ctl -j show)
    [ "$before" = "$after" ] || vf_fail "$* changed the configuration"
}

start_vfabd

# Files and modes.
[ "$(stat -c %a "$SOCK")" = 600 ] || vf_fail "socket mode $(stat -c %a "$SOCK")"
[ "$(stat -c %a "$VF_TMP/run")" = 700 ] || vf_fail "socket dir mode"
[ "$(stat -c %a "$DB")" = 600 ] || vf_fail "db mode $(stat -c %a "$DB")"
[ "$(stat -c %a "$VF_TMP/lib")" = 700 ] || vf_fail "db dir mode"
[ "$(cat "$PIDF")" = "$VFABD_PID" ] || vf_fail "pid file"
[ "$(cat "$SOCK.lock")" = "$VFABD_PID" ] || vf_fail "lock file holds pid"

# Only root or vfabd's own user: the file mode stops others, and so do the
# peer credentials when the mode is opened up by mistake.
if command -v setpriv >/dev/null && id nobody >/dev/null 2>&1; then
    chmod 711 "$VF_TMP" "$VF_TMP/run"
    as_nobody() { setpriv --reuid=nobody --regid=nogroup --clear-groups "$@"; }
    as_nobody "$VFABCTL" --socket "$SOCK" show >"$VF_TMP/out" 2>&1 \
        && vf_fail "nobody could connect"
    grep -q "Permission denied" "$VF_TMP/out" || vf_fail "nobody: $(cat "$VF_TMP/out")"
    chmod 666 "$SOCK"
    as_nobody "$VFABCTL" --socket "$SOCK" add-br evil >"$VF_TMP/out" 2>&1 \
        && vf_fail "nobody was served"
    grep -q "permission denied" "$VF_TMP/out" || vf_fail "nobody: $(cat "$VF_TMP/out")"
    chmod 600 "$SOCK"
    chmod 700 "$VF_TMP/run" "$VF_TMP"
    [ "$(ctl -j show | jq '.bridges | length')" = 0 ] || vf_fail "nobody changed something"
else
    vf_log "no setpriv/nobody: skipping the non-root check"
fi

# Commands, human output.
ctl add-br br0 || vf_fail add-br
ctl add-br br1 || vf_fail add-br br1
out=$(ctl add-port br0 vm1 type=tap vlan=10 mac=02:00:00:00:00:01 \
      ip=10.0.0.1,fd00::1 quota=512) || vf_fail add-port
[ -z "$out" ] || vf_fail "add-port printed '$out'"
ctl add-port br0 up0 type=afpacket trunks=1,2,100-102 rx_ring=v3 \
    || vf_fail trunk port
ctl add-port br1 pa type=patch peer=pb || vf_fail patch port
ctl add-port br1 d0 type=dummy || vf_fail dummy port
ctl add-flow br0 "priority=10,in_port=1,actions=drop" || vf_fail add-flow
ctl add-flow br0 "priority=20,dl_vlan=10,actions=output:2" || vf_fail add-flow
ctl show >"$VF_TMP/show" || vf_fail show
grep -q "^Bridge br0$" "$VF_TMP/show" && grep -q "^    Port vm1$" "$VF_TMP/show" \
    && grep -q "^        ip: 10.0.0.1, fd00::1$" "$VF_TMP/show" \
    && grep -q "^        trunks: 1, 2, 100, 101, 102$" "$VF_TMP/show" \
    && grep -q "^        rx_ring: v3$" "$VF_TMP/show" \
    || vf_fail "show: $(cat "$VF_TMP/show")"
ctl dump-flows br0 >"$VF_TMP/flows" || vf_fail dump-flows
# Stored as the classifier understood it (canonical text, port names).
[ "$(sed -n 2p "$VF_TMP/flows")" = " seq=2, table=0,priority=20,dl_vlan=10,actions=output:up0" ] \
    || vf_fail "dump-flows: $(cat "$VF_TMP/flows")"
ctl list-commands | grep -q "^  port/add " || vf_fail list-commands
ctl version | grep -q "^vfabd " || vf_fail version

# The same with -j, before or after the command.
[ "$(ctl -j add-br br2 | jq -r .bridge)" = br2 ] || vf_fail "add-br -j"
[ "$(ctl add-port br2 t9 type=tap -j | jq .port_no)" = 1 ] || vf_fail "add-port -j"
[ "$(ctl -j show br0 | jq -r '.bridges[0].ports[0].mac')" = 02:00:00:00:00:01 ] \
    || vf_fail "show -j"
[ "$(ctl -j show | jq '[.bridges[].name] | join(",")')" = '"br0,br1,br2"' ] \
    || vf_fail "show -j order"
[ "$(ctl dump-flows br0 -j | jq '.flows | length')" = 2 ] || vf_fail "dump-flows -j"
[ "$(ctl -j add-flow br2 actions=drop | jq .seq)" = 1 ] || vf_fail "add-flow -j"
[ "$(ctl -j del-flows br2 | jq .n_removed)" = 1 ] || vf_fail "del-flows -j"
[ "$(ctl -j del-port br2 t9 | jq -r .port)" = t9 ] || vf_fail "del-port -j"
[ "$(ctl -j del-br br2 | jq .ports_removed)" = 0 ] || vf_fail "del-br -j"
ctl -j list-commands | jq -e '.[] | select(.name == "time/warp")' >/dev/null \
    || vf_fail "list-commands -j"
ctl -j version | jq -e '.db_schema == 3' >/dev/null || vf_fail "version -j"

# Every bad argument or command: one line, non-zero, nothing changed.
expect_error 1 "bridge br0 already exists" ctl add-br br0
expect_error 1 "bridge name 'abcdefghijklmnop' is longer than 15 bytes" ctl add-br abcdefghijklmnop
expect_error 1 "invalid character '/'" ctl add-br a/b
expect_error 1 "must not start with '-'" ctl add-br -- -x
expect_error 1 "bridge name is empty" ctl add-br ""
expect_error 1 "missing arguments (usage: vfabctl add-br BRIDGE [fabric=" ctl add-br
expect_error 1 "'y' is not KEY=VALUE" ctl add-br x y
expect_error 1 "no bridge named br9" ctl del-br br9
expect_error 1 "no bridge named br9" ctl add-port br9 p9 type=tap
expect_error 1 "port vm1 already exists on bridge br0" ctl add-port br0 vm1 type=tap
expect_error 1 "port vm1 already exists on bridge br0 (port names are unique" ctl add-port br1 vm1 type=tap
expect_error 1 "missing type=tap|afpacket|patch|dummy" ctl add-port br0 p9
expect_error 1 "unknown port type 'veth'" ctl add-port br0 p9 type=veth
expect_error 1 "vlan=4096: expected an integer 0..4095" ctl add-port br0 p9 type=tap vlan=4096
expect_error 1 "vlan=ten: expected an integer" ctl add-port br0 p9 type=tap vlan=ten
expect_error 1 "trunks=1,,2: expected a list of integers" ctl add-port br0 p9 type=tap trunks=1,,2
expect_error 1 "trunk VLAN 5 is listed twice" ctl add-port br0 p9 type=tap trunks=5,5
expect_error 1 "vlan and trunks are mutually exclusive" ctl add-port br0 p9 type=tap vlan=1 trunks=2
expect_error 1 "mac '02:00:00:00:00' is not a MAC address" ctl add-port br0 p9 type=tap mac=02:00:00:00:00
expect_error 1 "mac 01:00:5e:00:00:01 is not a unicast address" ctl add-port br0 p9 type=tap mac=01:00:5e:00:00:01
expect_error 1 "ip '10.0.0.300' is not an IPv4 or IPv6 address" ctl add-port br0 p9 type=tap ip=10.0.0.300
expect_error 1 "ip 224.0.0.1 is not a unicast host address" ctl add-port br0 p9 type=tap ip=224.0.0.1
expect_error 1 "ip 10.0.0.1 is listed twice" ctl add-port br0 p9 type=tap ip=10.0.0.1,10.0.0.1
expect_error 1 "quota=0: expected an integer 1..16777216" ctl add-port br0 p9 type=tap quota=0
expect_error 1 "option 'peer' is only valid for patch ports" ctl add-port br0 p9 type=tap peer=x
expect_error 1 "a patch port needs peer=PORT" ctl add-port br0 p9 type=patch
expect_error 1 "option 'rx_ring' is only valid for afpacket ports" ctl add-port br0 p9 type=tap rx_ring=v3
expect_error 1 "rx_ring must be v2 (TPACKET_V2" ctl add-port br0 p9 type=afpacket rx_ring=v4
expect_error 1 "rx_ring must be v2 (TPACKET_V2" ctl add-port br0 p9 type=afpacket rx_ring=default
expect_error 1 "unknown option 'color'" ctl add-port br0 p9 type=tap color=red
expect_error 1 "option 'vlan' given twice" ctl add-port br0 p9 type=tap vlan=1 vlan=2
expect_error 1 "'junk' is not KEY=VALUE" ctl add-port br0 p9 type=tap junk
expect_error 1 "port name 'waytoolongportname' is longer" ctl add-port br0 waytoolongportname type=tap
expect_error 1 "no port named zz on bridge br0" ctl del-port br0 zz
expect_error 1 "port pa is not on bridge br0 (it is on br1)" ctl del-port br0 pa
expect_error 1 "flow rule is empty" ctl add-flow br0 ""
expect_error 1 "flow rule has an invalid byte 0x0a" ctl add-flow br0 $'a\nb'
expect_error 1 "no bridge named nob" ctl dump-flows nob
ctl -j fdb-show br0 | jq -e '.entries | type == "array"' >/dev/null \
    || vf_fail "fdb-show"
ctl -j port-stats br0 | jq -e '.ports | length == 2' >/dev/null \
    || vf_fail "port-stats: $(ctl -j port-stats br0)"
expect_error 1 "no bridge named br9" ctl fdb-show br9
expect_error 1 "unknown command 'nope/nope' (see list-commands)" ctl call nope/nope
expect_error 1 "'time/warp' takes 1 argument (MSEC), got 0" ctl call time/warp
expect_error 1 "'x' is not a number of milliseconds" ctl call time/warp x
expect_error 1 "unknown log level 'loud'" ctl call log/set-level all loud
expect_error 1 "no log module named 'nomod'" ctl call log/set-level nomod dbg
expect_error 1 "unknown command 'frobnicate'" ctl frobnicate
expect_error 1 "argument '"$'\xff'"' is not valid UTF-8" ctl add-br $'\xff'
expect_error 2 "cannot connect to $VF_TMP/none.sock" "$VFABCTL" --socket "$VF_TMP/none.sock" show
n=$(ctl del-flows br0 in_port=99) || vf_fail "del-flows no match"
[ "$n" = "no flow matched on bridge br0" ] || vf_fail "del-flows no match: $n"
[ "$(ctl -j dump-flows br0 | jq '.flows | length')" = 2 ] || vf_fail "flows lost"

# Time and log commands.
ctl -j call time/stop | jq -e '.stopped' >/dev/null || vf_fail time/stop
t0=$(ctl -j call time/show | jq .now_ns)
sleep 0.2
[ "$(ctl -j call time/show | jq .now_ns)" = "$t0" ] || vf_fail "stopped clock moved"
t1=$(ctl -j call time/warp 5000 | jq .now_ns)
[ $(( t1 - t0 )) -eq 5000000000 ] || vf_fail "warp: $t0 -> $t1"
ctl -j call time/resume | jq -e '.stopped == false' >/dev/null || vf_fail time/resume
t2=$(ctl -j call time/show | jq .now_ns)
[ "$t2" -ge "$t1" ] || vf_fail "resumed clock went back"
ctl call log/set-level switch_config dbg >/dev/null || vf_fail log/set-level
[ "$(ctl -j call log/list | jq -r .modules.switch_config)" = dbg ] || vf_fail log/list
ctl call log/set-level all info >/dev/null || vf_fail "log/set-level all"

# A second daemon on the same socket, or on the same database, refuses.
"$VFABD" --socket "$SOCK" --db "$VF_TMP/other.db" >"$VF_TMP/second" 2>&1 \
    && vf_fail "second vfabd started on the same socket"
grep -q "^vfabd: control socket $SOCK is in use by another process (pid $VFABD_PID)$" \
    "$VF_TMP/second" || vf_fail "second vfabd said: $(cat "$VF_TMP/second")"
"$VFABD" --socket "$VF_TMP/other.sock" --db "$DB" >"$VF_TMP/second" 2>&1 \
    && vf_fail "second vfabd started on the same database"
grep -q "^vfabd: configuration database $DB is in use by another process$" \
    "$VF_TMP/second" || vf_fail "second vfabd said: $(cat "$VF_TMP/second")"
[ ! -e "$VF_TMP/other.sock" ] || vf_fail "refused vfabd left its socket"
ctl show >/dev/null || vf_fail "first vfabd hurt by the second"

# Bad daemon options.
"$VFABD" --bogus >"$VF_TMP/out" 2>&1 && vf_fail "--bogus accepted"
"$VFABD" --socket "$SOCK" --db "$DB" --log-level loud >"$VF_TMP/out" 2>&1 \
    && vf_fail "bad --log-level accepted"
grep -q "unknown level 'loud'" "$VF_TMP/out" || vf_fail "--log-level: $(cat "$VF_TMP/out")"

# SIGHUP reopens the log file (rotation).
mv "$LOG" "$LOG.1"
kill -HUP "$VFABD_PID"
vf_wait 5 test -s "$LOG" || vf_fail "log not reopened"
grep -q "SIGHUP: log reopened" "$LOG" || vf_fail "log: $(cat "$LOG")"

# SIGTERM: exit 0, socket, lock and pid file gone, configuration kept.
kill -TERM "$VFABD_PID"
wait "$VFABD_PID"
rc=$?
[ $rc -eq 0 ] || vf_fail "vfabd exited $rc after SIGTERM"
[ ! -e "$SOCK" ] && [ ! -e "$SOCK.lock" ] && [ ! -e "$PIDF" ] \
    || vf_fail "files left after SIGTERM: $(ls "$VF_TMP/run" "$PIDF" 2>&1)"
grep -q "exited cleanly" "$LOG" || vf_fail "no clean exit in the log"
start_vfabd
[ "$(ctl -j show | jq '[.bridges[].ports[]] | length')" = 4 ] || vf_fail "ports lost"
kill -INT "$VFABD_PID"
wait "$VFABD_PID" || vf_fail "SIGINT exit status"

# systemd Type=notify: READY=1 once serving, STOPPING=1 on the way out.
/usr/bin/python3 - "$VFABD" "$SOCK" "$DB" "$VF_TMP/notify.sock" <<'PY' \
    || vf_fail "sd_notify protocol"
import os, signal, socket, subprocess, sys
vfabd, sock, db, path = sys.argv[1:]
n = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
n.bind(path)
n.settimeout(10)
env = dict(os.environ, NOTIFY_SOCKET=path)
p = subprocess.Popen([vfabd, "--socket", sock, "--db", db], env=env,
                     stderr=subprocess.DEVNULL)
ready = n.recv(256)
ok = ready == b"READY=1" and os.path.exists(sock)
p.send_signal(signal.SIGTERM)
ok = ok and n.recv(256) == b"STOPPING=1" and p.wait(10) == 0
sys.exit(0 if ok else 1)
PY
vf_log "PASS"
