#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# vfabd as a learning switch: four VM namespaces on TAP ports and an uplink
# AF_PACKET port on a veth to a namespace acting as the physical network.
# Ping between every pair, iperf3 TCP (GSO frames cross whole) and UDP,
# MAC learning visible in fdb-show, counters in port-stats, operator rules
# overriding the default pipeline.
. "$(dirname "$0")/lib.sh"
vf_require_root_netns
command -v iperf3 >/dev/null || vf_skip "iperf3 missing"

vf_ns_add host
vf_ns_add phys
for i in 1 2 3 4; do vf_ns_add vm$i; done
vf_vfabd host sw

vfctl sw add-br br0 || vf_fail "add-br"
for i in 1 2 3 4; do
    vfctl sw add-port br0 "${VF_P}t$i" type=tap || vf_fail "add-port tap$i"
    vf_vm vm$i "${VF_P}t$i" host 10.50.0.$i/24
done
vf_veth host up0 phys eth0
vf_in phys ip addr add 10.50.0.100/24 dev eth0
vfctl sw add-port br0 up0 type=afpacket || vf_fail "add-port uplink"

# Connectivity: every VM to every other VM and to the physical network.
for i in 1 2 3 4; do
    for j in 1 2 3 4; do
        [ $i = $j ] || vf_ping vm$i 10.50.0.$j 1
    done
    vf_ping vm$i 10.50.0.100 1
done
vf_ping phys 10.50.0.3

# MAC learning: the VMs' MACs are in the table, on their ports.
fdb=$(vfctl sw -j fdb-show br0) || vf_fail "fdb-show"
for i in 1 2 3 4; do
    mac=$(vf_in vm$i cat /sys/class/net/${VF_P}t$i/address)
    port=$(vf_jq "$fdb" ".entries[] | select(.mac==\"$mac\") | .port")
    [ "$port" = "${VF_P}t$i" ] || vf_fail "fdb: $mac on '$port', want ${VF_P}t$i"
done

# TCP through the switch, with GSO super-frames crossing whole.
vf_in vm2 iperf3 -s -1 -D -p 5201 >/dev/null
sleep 0.3
out=$(vf_in vm1 timeout 20 iperf3 -c 10.50.0.2 -p 5201 -t 2 -J) \
    || vf_fail "iperf3 TCP failed"
gbps=$(jq '.end.sum_received.bits_per_second / 1e9' <<<"$out")
vf_log "TCP vm1->vm2: $gbps Gbit/s"
stats=$(vfctl sw -j port-stats br0)
rx_pkts=$(vf_jq "$stats" ".ports[] | select(.port==\"${VF_P}t1\") | .rx_packets")
rx_bytes=$(vf_jq "$stats" ".ports[] | select(.port==\"${VF_P}t1\") | .rx_bytes")
avg=$(( rx_bytes / rx_pkts ))
vf_log "vm1 port: $rx_pkts frames, $avg bytes on average"
[ "$avg" -gt 3000 ] || vf_fail "no GSO super-frames crossed (avg frame $avg bytes)"

# UDP through the uplink (AF_PACKET, software segmentation not needed).
vf_in phys iperf3 -s -1 -D -p 5202 >/dev/null
sleep 0.3
out=$(vf_in vm3 timeout 20 iperf3 -c 10.50.0.100 -p 5202 -u -b 50M -t 2 -J) \
    || vf_fail "iperf3 UDP failed"
lost=$(jq '.end.sum.lost_percent' <<<"$out")
vf_log "UDP vm3->phys 50 Mbit/s: $lost % lost"
awk -v l="$lost" 'BEGIN{exit !(l < 5)}' || vf_fail "UDP loss $lost %"

# TCP to the physical network through the AF_PACKET uplink.
vf_in phys iperf3 -s -1 -D -p 5203 >/dev/null
sleep 0.3
vf_in vm4 timeout 20 iperf3 -c 10.50.0.100 -p 5203 -t 2 >/dev/null \
    || vf_fail "iperf3 TCP to the uplink failed"

# Operator rules override the learning switch: vm1 may no longer reach vm2.
vfctl sw add-flow br0 "priority=200,in_port=${VF_P}t1,ip,nw_dst=10.50.0.2,actions=drop" \
    || vf_fail "add-flow"
vf_no_ping vm1 10.50.0.2
vf_ping vm1 10.50.0.3 1
flows=$(vfctl sw -j dump-flows br0)
[ "$(vf_jq "$flows" '.flows | length')" = 1 ] || vf_fail "dump-flows: $flows"
vfctl sw del-flows br0 || vf_fail "del-flows"
vf_ping vm1 10.50.0.2 1

# Bad rules are refused with the offending token named; nothing changes.
err=$(vfctl sw add-flow br0 "priority=5,nw_dst=10.0.0.0/33,actions=drop" 2>&1) \
    && vf_fail "a bad rule was accepted"
grep -q "33" <<<"$err" || vf_fail "error does not name the bad prefix: $err"
err=$(vfctl sw add-flow br0 "in_port=nosuch,actions=normal" 2>&1) \
    && vf_fail "a rule naming an unknown port was accepted"
[ "$(vf_jq "$(vfctl sw -j dump-flows br0)" '.flows | length')" = 0 ] \
    || vf_fail "a refused rule was stored"
vf_log "PASS"
