#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# vfabd restarts with its whole switch configuration and forwards again.
#
#   br0: tap t1 (vlan=10 mac= ip= quota=512), tap t2 (vlan=10),
#        afpacket up0 (trunks=10,20, rx_ring=v3; veth to ns "phys"),
#        patch pa (peer pb, trunks=10,20), operator flows
#   br1: patch pb (peer pa, trunks=10,20), tap t3 (vlan=10, quota=16), flows
#
# Three restarts: SIGTERM; kill -9 while idle; kill -9 in the middle of a
# burst of add-flow commands.  Each time: `-j show` and `-j dump-flows`
# equal what they were (the burst: exactly the acknowledged flows, plus at
# most the one in flight, in order); no port carries a start-up "error"
# (the datapath refused nothing); the TAP devices exist again in vfabd's
# namespace, the VMs re-attach them (move + address, as a hypervisor
# would) and traffic flows on both bridges and through the patch.
. "$(dirname "$0")/lib.sh"
. "$VF_SRC/tests/integration/tools/switch-lib.sh"
vf_require_root_netns
command -v jq >/dev/null || vf_skip "jq missing"

for n in host phys vm1 vm2 vm3; do vf_ns_add $n; done
T1=${VF_P}t1 T2=${VF_P}t2 T3=${VF_P}t3
MAC1=02:64:00:00:00:01
vf_veth host up0 phys eth0
vf_vfabd host sw

vfctl sw add-br br0 || vf_fail "add-br br0"
vfctl sw add-br br1 || vf_fail "add-br br1"
vfctl sw add-port br0 "$T1" type=tap vlan=10 mac=$MAC1 ip=10.64.0.1,fd64::1 \
    quota=512 || vf_fail "add-port t1"
vfctl sw add-port br0 "$T2" type=tap vlan=10 || vf_fail "add-port t2"
vfctl sw add-port br0 up0 type=afpacket trunks=10,20 rx_ring=v3 \
    || vf_fail "add-port up0"
vfctl sw add-port br0 "${VF_P}pa" type=patch peer="${VF_P}pb" trunks=10,20 \
    || vf_fail "add-port pa"
vfctl sw add-port br1 "${VF_P}pb" type=patch peer="${VF_P}pa" trunks=10,20 \
    || vf_fail "add-port pb"
vfctl sw add-port br1 "$T3" type=tap vlan=10 quota=16 || vf_fail "add-port t3"
flows=(
    "br0|priority=200,in_port=$T1,ip,nw_dst=10.64.0.99,actions=drop"
    "br0|priority=150,udp,tp_dst=9999,actions=controller"
    "br0|table=0,priority=120,in_port=$T2,icmp,actions=goto_table:1"
    "br0|table=1,priority=10,actions=normal"
    "br0|cookie=0x42,priority=100,arp,actions=normal"
    "br1|priority=300,dl_src=02:00:00:00:00:99,actions=drop"
    "br1|priority=50,ipv6,actions=normal"
)
for f in "${flows[@]}"; do
    vfctl sw add-flow "${f%%|*}" "${f#*|}" || vf_fail "add-flow ${f#*|}"
done

attach() {
    vf_wait 10 ip -n "$(vf_ns host)" link show "$T1" \
        || vf_fail "TAP $T1 not recreated"
    ip -n "$(vf_ns host)" link set "$T1" address $MAC1
    vf_vm vm1 "$T1" host 10.64.0.1/24
    vf_vm vm2 "$T2" host 10.64.0.2/24
    vf_vm vm3 "$T3" host 10.64.0.3/24
}

traffic() {
    vf_ping vm1 10.64.0.2 2
    vf_ping vm2 10.64.0.1 2
    vf_ping vm1 10.64.0.3 2        # br0 -> patch -> br1
    vf_ping vm3 10.64.0.2 2
    vf_no_ping vm1 10.64.0.99
}

state() {
    {
        vfctl sw -j show
        vfctl sw -j dump-flows br0
        vfctl sw -j dump-flows br1
    } | jq -S -c .
}

no_startup_errors() {
    local errs
    errs=$(vfctl sw -j show | jq -c '[.bridges[].ports[] | select(.error)]')
    [ "$errs" = "[]" ] || vf_fail "the datapath refused ports at start-up: $errs"
}

restart() {       # vfabd again on the same database
    vf_vfabd host sw
    no_startup_errors
    if grep -E '\|(ERR|WARN)\|' "$VF_VFABD_LOG_sw"; then
        vf_fail "vfabd complained at start-up"
    fi
    grep -q 'up0: ifindex [0-9]*, TPACKET_V3 ring' "$VF_VFABD_LOG_sw" \
        || vf_fail "up0 did not come back with its TPACKET_V3 ring"
}

attach
traffic
want=$(state)
vf_log "configuration: $(vfctl sw -j show | jq -c '[.bridges[] | {name, n_flows, ports: [.ports[].name]}]')"

# 1. Clean restart.
sw_stop_clean sw
ip -n "$(vf_ns vm1)" link show "$T1" >/dev/null 2>&1 \
    && vf_fail "TAP $T1 outlived vfabd"
restart
got=$(state)
[ "$got" = "$want" ] || vf_fail "state after SIGTERM differs:
$(diff <(jq . <<<"$want") <(jq . <<<"$got"))"
attach
traffic
vf_log "SIGTERM restart: same state, traffic flows"

# 2. kill -9 while idle.
kill -9 "$VF_VFABD_PID_sw"
wait "$VF_VFABD_PID_sw" 2>/dev/null || true
restart
got=$(state)
[ "$got" = "$want" ] || vf_fail "state after kill -9 differs:
$(diff <(jq . <<<"$want") <(jq . <<<"$got"))"
attach
traffic
vf_log "kill -9 restart: same state, traffic flows"

# 3. kill -9 during a burst of add-flow commands (one vfabctl each, as an
#    operator's script would).  Acknowledged flows are durable; the one in
#    flight may or may not be; nothing else changes.
acked=$VF_TMP/acked
: >"$acked"
(
    for i in $(seq 1 2000); do
        vfctl sw add-flow br0 "cookie=0x77,priority=300,udp,tp_dst=$i,actions=drop" \
            >/dev/null 2>&1 || exit 0
        echo "$i" >>"$acked"
    done
) &
burst=$!
acked_ge() { [ "$(wc -l <"$acked")" -ge "$1" ]; }
vf_wait 20 acked_ge 20 || vf_fail "burst did not start"
sleep 0.$((RANDOM % 5))
kill -9 "$VF_VFABD_PID_sw"
wait "$burst" 2>/dev/null
wait "$VF_VFABD_PID_sw" 2>/dev/null || true
n_acked=$(wc -l <"$acked")
restart
burst_flows=$(vfctl sw -j dump-flows br0 \
    | jq -r '.flows[].rule | select(test("cookie=0x77")) | capture("tp_dst=(?<p>[0-9]+)").p')
n_got=$(grep -c . <<<"$burst_flows")
vf_log "burst: $n_acked add-flow acknowledged before kill -9, $n_got stored"
[ "$n_got" -ge "$n_acked" ] && [ "$n_got" -le $((n_acked + 1)) ] \
    || vf_fail "$n_acked acknowledged but $n_got flows after restart"
[ "$burst_flows" = "$(seq 1 "$n_got")" ] \
    || vf_fail "the stored burst flows are not the first $n_got in order"
vfctl sw del-flows br0 "cookie=0x77/0xffffffffffffffff" >/dev/null || vf_fail "del-flows burst"
got=$(state)
[ "$got" = "$want" ] || vf_fail "state after the burst and kill -9 differs:
$(diff <(jq . <<<"$want") <(jq . <<<"$got"))"
attach
traffic
vf_log "kill -9 during a burst: acknowledged flows kept, traffic flows"

# 4. And once more cleanly, with the burst removed: still the same.
sw_stop_clean sw
restart
[ "$(state)" = "$want" ] || vf_fail "state after the final restart differs"
attach
traffic
sw_stop_clean sw
vf_log "PASS"
