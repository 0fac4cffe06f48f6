#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Meters (token buckets, `actions=meter:N`): two VMs on tap ports of br0.
#
#   meter 1: 20000 kbps (20 Mbit/s, default burst 2000 kbit)
#     flow priority=100,in_port=T1,udp,actions=meter:1,normal
#   iperf3 UDP at 100 Mbit/s vm1 -> vm2 for 2 s: vm2 receives 14..26
#   Mbit/s, dump-meters counts drops, port-stats shows drops.meter;
#   ping (ICMP, not metered) still works.
#   meter 2: 100 pktps burst 10, on UDP to port 5300: 1000 datagrams at
#     ~2000/s pass about 10 + 100/s.
#   Refusals, each with its exact message and nothing changed: a flow
#   naming an unknown meter, del-meter of a meter in use, a bad unit,
#   rate=0, a duplicate id.
#   vfabd restart (SIGTERM, same database): meters and flows come back
#   without errors and still limit.
. "$(dirname "$0")/lib.sh"
. "$VF_SRC/tests/integration/tools/switch-lib.sh"
vf_require_root_netns
command -v iperf3 >/dev/null || vf_skip "iperf3 missing"
command -v jq >/dev/null || vf_skip "jq missing"

for n in host vm1 vm2; do vf_ns_add $n; done
T1=${VF_P}t1 T2=${VF_P}t2
vf_vfabd host sw
vfctl sw add-br br0 || vf_fail "add-br"
vfctl sw add-port br0 "$T1" type=tap || vf_fail "add-port t1"
vfctl sw add-port br0 "$T2" type=tap || vf_fail "add-port t2"

attach() {
    vf_wait 10 ip -n "$(vf_ns host)" link show "$T1" \
        || vf_fail "TAP $T1 not there"
    vf_vm vm1 "$T1" host 10.66.0.1/24
    vf_vm vm2 "$T2" host 10.66.0.2/24
    vf_ping vm1 10.66.0.2 2
}
attach

# expect_err MESSAGE VFCTL-ARGS... : the command fails with exactly
# "vfabctl: CMD: MESSAGE" on stderr.
expect_err() {
    local want=$1 got
    shift
    if vfctl sw "$@" >/dev/null 2>"$VF_TMP/err"; then
        vf_fail "succeeded but must not: $*"
    fi
    got=$(cat "$VF_TMP/err")
    [ "$got" = "vfabctl: $1: $want" ] \
        || vf_fail "$*: got '$got', want 'vfabctl: $1: $want'"
}

expect_err "meter 1 does not exist on bridge br0" \
    add-flow br0 "priority=100,in_port=$T1,udp,actions=meter:1,normal"
vfctl sw add-meter br0 1 kbps rate=20000 || vf_fail "add-meter 1"
vfctl sw add-meter br0 2 pktps rate=100 burst=10 || vf_fail "add-meter 2"
vfctl sw add-flow br0 "priority=100,in_port=$T1,udp,actions=meter:1,normal" \
    || vf_fail "add-flow meter:1"
vfctl sw add-flow br0 \
    "priority=110,in_port=$T1,udp,tp_dst=5300,actions=meter:2,normal" \
    || vf_fail "add-flow meter:2"

config() {
    { vfctl sw -j dump-meters br0 | jq -c '[.meters[] | {id, unit, rate, burst, error}]'
      vfctl sw -j dump-flows br0; } | jq -S -c .
}
want=$(config)
vf_log "meters: $(vfctl sw -j dump-meters br0 | jq -c '[.meters[] | {id, unit, rate, burst}]')"
expect_err "meter 5 does not exist on bridge br0" \
    add-flow br0 "priority=120,udp,actions=meter:5,normal"
expect_err "meter 1 on bridge br0 is used by 1 flow (remove it first)" \
    del-meter br0 1
expect_err "unknown meter unit 'mbps' (valid: kbps, pktps)" \
    add-meter br0 3 mbps rate=5
expect_err "rate 0 is out of range 1..100000000 (kbps)" \
    add-meter br0 3 kbps rate=0
expect_err "meter 1 already exists on bridge br0" \
    add-meter br0 1 pktps rate=5
expect_err "meter 9 does not exist on bridge br0" del-meter br0 9
[ "$(config)" = "$want" ] || vf_fail "a refused command changed something:
$want
$(config)"

# received_mbps : iperf3 UDP at 100 Mbit/s vm1 -> vm2 for 2 s.
received_mbps() {
    vf_in vm2 iperf3 -s -1 -D -p 5201 >/dev/null
    sleep 0.3
    local out
    out=$(vf_in vm1 timeout 20 iperf3 -c 10.66.0.2 -p 5201 -u -b 100M -t 2 -J) \
        || vf_fail "iperf3 UDP failed"
    jq '.end.sum.bits_per_second * (100 - .end.sum.lost_percent) / 100 / 1e6
        | . * 10 | floor / 10' <<<"$out"
}

check_rate() {      # LABEL
    local mbps d0 d1 drops
    d0=$(vfctl sw -j dump-meters br0 | jq '.meters[] | select(.id==1) | .dropped_packets')
    mbps=$(received_mbps)
    d1=$(vfctl sw -j dump-meters br0 | jq '.meters[] | select(.id==1) | .dropped_packets')
    drops=$(sw_drop sw br0 "$T1" meter)
    vf_log "$1: UDP offered 100 Mbit/s, received $mbps Mbit/s; meter 1 dropped $((d1 - d0)) packets (port drops.meter $drops)"
    awk -v m="$mbps" 'BEGIN{exit !(m >= 14 && m <= 26)}' \
        || vf_fail "$1: received $mbps Mbit/s through a 20 Mbit/s meter"
    [ "$((d1 - d0))" -gt 0 ] || vf_fail "$1: meter 1 counted no drops"
    [ "$drops" -gt 0 ] || vf_fail "$1: port-stats shows no meter drops"
    vf_ping vm1 10.66.0.2 3       # ICMP is not metered.
}

# check_pktps LABEL : 1000 datagrams at ~2000/s to UDP port 5300 through
# meter 2 (100 pktps, burst 10).
check_pktps() {
    local m0 m1 secs passed dropped want
    m0=$(vfctl sw -j dump-meters br0 | jq -c '.meters[] | select(.id==2)')
    secs=$(vf_in vm1 /usr/bin/python3 -c '
import socket, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
t = time.monotonic()
for i in range(1000):
    s.sendto(b"x" * 100, ("10.66.0.2", 5300))
    time.sleep(0.0005)
print(time.monotonic() - t)')
    sleep 0.2
    m1=$(vfctl sw -j dump-meters br0 | jq -c '.meters[] | select(.id==2)')
    passed=$(( $(jq .passed_packets <<<"$m1") - $(jq .passed_packets <<<"$m0") ))
    dropped=$(( $(jq .dropped_packets <<<"$m1") - $(jq .dropped_packets <<<"$m0") ))
    want=$(awk -v s="$secs" 'BEGIN{printf "%d", 10 + 100 * s}')
    vf_log "$1: 1000 datagrams in ${secs}s through 100 pktps burst 10: $passed passed (expect ~$want), $dropped dropped"
    [ $((passed + dropped)) = 1000 ] || vf_fail "$1: meter 2 saw $((passed + dropped)) of 1000"
    [ "$passed" -ge $((want * 8 / 10)) ] && [ "$passed" -le $((want * 12 / 10 + 2)) ] \
        || vf_fail "$1: $passed passed, expected about $want"
}

check_rate "before restart"
check_pktps "before restart"

sw_stop_clean sw
vf_vfabd host sw
got=$(config)
[ "$got" = "$want" ] || vf_fail "configuration after restart differs:
$want
$got"
errs=$(vfctl sw -j dump-flows br0 | jq -c '[.flows[] | select(.error)]')
[ "$errs" = "[]" ] || vf_fail "flows refused after restart: $errs"
attach
check_rate "after restart"
check_pktps "after restart"

# A meter no flow uses can go; then the flows' meter can once they are gone.
vfctl sw del-flows br0 "udp,tp_dst=5300" || vf_fail "del-flows 5300"
vfctl sw del-meter br0 2 || vf_fail "del-meter 2"
vfctl sw del-flows br0 || vf_fail "del-flows"
vfctl sw del-meter br0 1 || vf_fail "del-meter 1"
[ "$(vfctl sw -j dump-meters br0 | jq -c .meters)" = "[]" ] \
    || vf_fail "meters left after del-meter"
sw_stop_clean sw
vf_log "PASS"
