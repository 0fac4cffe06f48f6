#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# tests/soak/soak-switch.sh: vfabd under mixed load for a long time, under
# the sanitizer build.  Run on demand, not in CI (see tests/soak/README.md):
#
#   SOAK_SECONDS=600 tests/soak/soak-switch.sh          (default 600 s)
#   VFAB_BUILD=build/swt-asan SOAK_SECONDS=180 tests/soak/soak-switch.sh
#
# Topology (namespaces prefixed like the integration tests):
#   br0: taps t1 (mac= ip= identity), t2, t3, t4; afpacket up0 -> ns phys;
#        patch pa <-> br1; afpacket up1 -> ns phys2 that comes and goes
#   br1: patch pb, tap t5 (quota=64); a tap t6 that comes and goes (vm6)
# Load, all at once until the deadline:
#   - iperf3 TCP vm1 -> vm2 (1 or 2 streams, 10 s runs) and vm5 -> vm1
#     through the patch ports
#   - iperf3 UDP vm3 -> phys through the AF_PACKET uplink, 200 Mbit/s
#   - pings every 2 ms vm4 -> vm1 and vm5 -> vm2
#   - a broadcast flood from vm4 with random source MACs (MAC learning
#     churn, flooding to every port), ~2000 frames/s
#   - flow churn: add-flow / del-flows of drop, controller and goto rules
#     (with UDP to the controller rule, so upcalls flow), dump-flows
#   - port churn: tap t6 added, moved into vm6, pinged, removed; a second
#     afpacket port on a veth added and removed
# Every 5 s vfabd must be alive and answering.  At the end vfabd gets
# SIGTERM: it must exit 0 and its stderr must hold no AddressSanitizer,
# LeakSanitizer or UBSan report.  Prints a summary of what was done.
here=$(cd "$(dirname "$0")" && pwd)
export VFAB_BUILD=${VFAB_BUILD:-$here/../../build/asan}
. "$here/../integration/lib.sh"
vf_require_root_netns
SOAK_SECONDS=${SOAK_SECONDS:-600}
for t in iperf3 jq /usr/bin/python3; do
    command -v $t >/dev/null || vf_skip "$t missing"
done
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1}

for n in host phys vm1 vm2 vm3 vm4 vm5 vm6 phys2; do vf_ns_add $n; done
vf_in host sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
    net.ipv6.conf.default.disable_ipv6=1
T=$VF_P
MAC1=02:65:00:00:00:01
vf_veth host up0 phys eth0
vf_veth host up1 phys2 eth0
vf_vfabd host sw
vfctl sw add-br br0 && vfctl sw add-br br1 || vf_fail "add-br"
vfctl sw add-port br0 ${T}t1 type=tap mac=$MAC1 ip=10.65.0.1 || vf_fail t1
for i in 2 3 4; do vfctl sw add-port br0 ${T}t$i type=tap || vf_fail t$i; done
vfctl sw add-port br0 up0 type=afpacket || vf_fail up0
vfctl sw add-port br0 ${T}pa type=patch peer=${T}pb || vf_fail pa
vfctl sw add-port br1 ${T}pb type=patch peer=${T}pa || vf_fail pb
vfctl sw add-port br1 ${T}t5 type=tap quota=64 || vf_fail t5
ip -n "$(vf_ns host)" link set ${T}t1 address $MAC1
for i in 1 2 3 4 5; do vf_vm vm$i ${T}t$i host 10.65.0.$i/24; done
vf_in phys ip addr add 10.65.0.100/24 dev eth0
vf_in phys2 ip addr add 10.65.0.101/24 dev eth0
for i in 2 3 4 5; do vf_ping vm1 10.65.0.$i 1; done
vf_ping vm3 10.65.0.100 1

DEADLINE=$(( $(date +%s) + SOAK_SECONDS ))
alive() { [ "$(date +%s)" -lt "$DEADLINE" ]; }
STATS=$VF_TMP/soak.stats
count() { echo "$1" >>"$STATS"; }

tcp_worker() {      # CLIENT SERVER_NS SERVER_IP PORT
    vf_in "$2" iperf3 -s -p "$4" >/dev/null 2>&1 &
    local srv=$!
    sleep 0.5
    while alive; do
        if vf_in "$1" timeout 30 iperf3 -c "$3" -p "$4" -t 10 \
            -P $((RANDOM % 2 + 1)) >/dev/null 2>&1; then
            count tcp_ok
        else
            count tcp_fail
        fi
    done
    kill $srv 2>/dev/null
}

udp_worker() {
    vf_in phys iperf3 -s -p 5400 >/dev/null 2>&1 &
    local srv=$!
    sleep 0.5
    while alive; do
        if vf_in vm3 timeout 30 iperf3 -c 10.65.0.100 -p 5400 -u -b 200M \
            -t 10 >/dev/null 2>&1; then
            count udp_ok
        else
            count udp_fail
        fi
    done
    kill $srv 2>/dev/null
}

ping_worker() {     # NS DST
    while alive; do
        if vf_in "$1" ping -q -c 500 -i 0.002 -W 1 "$2" >/dev/null 2>&1; then
            count ping_ok
        else
            count ping_loss
        fi
    done
}

flood_worker() {
    local left
    while alive; do
        left=$(( DEADLINE - $(date +%s) ))
        [ "$left" -gt 10 ] && left=10
        [ "$left" -le 0 ] && break
        vf_in vm4 /usr/bin/python3 -c '
import os, socket, struct, sys, time
def csum(b):
    t = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    t = (t >> 16) + (t & 0xffff)
    return ~(t + (t >> 16)) & 0xffff
ip = bytearray(struct.pack("!BBHHHBBH4s4s", 0x45, 0, 46, 0, 0, 64, 17, 0,
                           bytes([10, 65, 0, 4]), b"\xff" * 4))
ip[10:12] = struct.pack("!H", csum(bytes(ip)))
l3 = bytes(ip) + struct.pack("!HHHH", 7, 9, 26, 0) + b"SWT-flood" + bytes(9)
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind((sys.argv[1], 0))
end = time.time() + float(sys.argv[2])
while time.time() < end:
    for _ in range(20):
        src = bytes([2, 0x66]) + os.urandom(4)
        s.send(b"\xff" * 6 + src + b"\x08\x00" + l3)
    time.sleep(0.01)
' ${T}t4 "$left" && count flood_10s
    done
}

flow_worker() {
    local i=0
    while alive; do
        i=$((i + 1))
        vfctl sw add-flow br0 "priority=$((100 + i % 50)),ip,nw_dst=10.65.9.$((i % 250)),actions=drop" \
            >/dev/null && count flow_add
        vfctl sw add-flow br0 "priority=90,in_port=${T}t2,udp,tp_dst=9999,actions=controller" \
            >/dev/null && count flow_add
        vfctl sw add-flow br1 "table=0,priority=80,in_port=${T}t5,icmp,actions=goto_table:1" \
            >/dev/null && vfctl sw add-flow br1 "table=1,priority=1,actions=normal" \
            >/dev/null && count flow_add
        vf_in vm2 bash -c 'for j in $(seq 50); do echo x >/dev/udp/10.65.0.3/9999; done' \
            2>/dev/null
        vfctl sw -j dump-flows br0 >/dev/null || count ctl_fail
        if [ $((i % 5)) = 0 ]; then
            vfctl sw del-flows br0 "ip,nw_dst=10.65.9.0/24" >/dev/null \
                && count flow_del
            vfctl sw del-flows br1 >/dev/null && count flow_del
        fi
        sleep 0.2
    done
}

port_worker() {
    while alive; do
        vfctl sw add-port br1 ${T}t6 type=tap >/dev/null \
            || { count port_fail; sleep 1; continue; }
        ip -n "$(vf_ns host)" link set ${T}t6 netns "$(vf_ns vm6)" \
            && vf_in vm6 ip addr add 10.65.0.6/24 dev ${T}t6 \
            && vf_in vm6 ip link set ${T}t6 up || count port_fail
        vf_in vm6 ping -q -c 20 -i 0.01 -W 1 10.65.0.1 >/dev/null 2>&1 \
            && count port_ping_ok || count port_ping_loss
        vfctl sw add-port br0 up1 type=afpacket >/dev/null || count port_fail
        vf_in phys2 ping -q -c 5 -i 0.02 -W 1 10.65.0.2 >/dev/null 2>&1
        vfctl sw -j port-stats br0 >/dev/null || count ctl_fail
        vfctl sw del-port br0 up1 >/dev/null || count port_fail
        vfctl sw del-port br1 ${T}t6 >/dev/null || count port_fail
        count port_cycle
        sleep 0.5
    done
}

vf_log "soak: $SOAK_SECONDS s, vfabd $VF_BUILD/src/vfabd/vfabd (pid $VF_VFABD_PID_sw)"
workers=()
tcp_worker vm1 vm2 10.65.0.2 5401 & workers+=($!)
tcp_worker vm5 vm1 10.65.0.1 5402 & workers+=($!)
udp_worker & workers+=($!)
ping_worker vm4 10.65.0.1 & workers+=($!)
ping_worker vm5 10.65.0.2 & workers+=($!)
flood_worker & workers+=($!)
flow_worker & workers+=($!)
port_worker & workers+=($!)
VF_PIDS+=("${workers[@]}")

while alive; do
    sleep 5
    kill -0 "$VF_VFABD_PID_sw" 2>/dev/null \
        || { tail -50 "$VF_VFABD_LOG_sw" >&2; vf_fail "vfabd died"; }
    vfctl sw version >/dev/null || vf_fail "vfabd does not answer"
done
for w in "${workers[@]}"; do wait "$w" 2>/dev/null; done

# The switch still switches after all that.
vfctl sw del-flows br0 >/dev/null; vfctl sw del-flows br1 >/dev/null
for i in 2 3 4 5; do vf_ping vm1 10.65.0.$i 2; done
vfctl sw -j port-stats br0 | jq -c '.ports[] | {port, rx_packets, tx_packets, drops}' >&2

kill -TERM "$VF_VFABD_PID_sw"
wait "$VF_VFABD_PID_sw"
rc=$?
summary=$(sort "$STATS" | uniq -c | awk '{printf "%s=%s ", $2, $1}')
vf_log "soak done: $summary"
if grep -nE 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:|SUMMARY: ' \
    "$VF_VFABD_LOG_sw"; then
    cp "$VF_VFABD_LOG_sw" "/tmp/${VF_P}-soak-vfabd.log"
    vf_fail "sanitizer report in vfabd's stderr (kept in /tmp/${VF_P}-soak-vfabd.log)"
fi
[ "$rc" = 0 ] || { tail -20 "$VF_VFABD_LOG_sw" >&2; vf_fail "vfabd exited $rc on SIGTERM"; }
grep -q "exited cleanly" "$VF_VFABD_LOG_sw" || vf_fail "no clean exit in the log"
for k in tcp_fail udp_fail ctl_fail port_fail; do
    grep -qx $k "$STATS" && vf_log "warning: $(grep -cx $k "$STATS") x $k"
done
grep -qx ctl_fail "$STATS" && vf_fail "control commands failed during the soak"
grep -qx tcp_ok "$STATS" || vf_fail "no TCP run completed"
vf_log "PASS"
