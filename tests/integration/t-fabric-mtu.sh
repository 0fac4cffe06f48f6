#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Inner frames too large for the underlay get ICMP "fragmentation needed"
# (IPv4) / "packet too big" (IPv6) back to the VM, never silent loss.
# Underlay MTU 1500; the fabric carries inner IP packets of at most
# 1500 - (VXLAN 50 | Geneve 58 with vfab's option) + 14 bytes.  The VMs'
# interfaces have MTU 1500, more than that.  A DF ping of 1500 bytes gets
# an ICMP error with exactly the fabric's MTU (seen by tcpdump in the VM),
# the kernel's PMTU cache takes it, and ping then fits; the same for IPv6;
# a TCP iperf3 run with MTU 1500 completes (PMTU discovery works).
# FAB_TUNNEL=geneve runs it over Geneve.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/fabric-lib.sh"
vf_require_root_netns
command -v tcpdump >/dev/null || vf_skip "tcpdump missing"
command -v iperf3 >/dev/null || vf_skip "iperf3 missing"

if [ "$FAB_TUNNEL" = geneve ]; then PMTU=1442; else PMTU=1450; fi
fab_init
padm tenant-create blue >/dev/null \
    && padm net-create blue-net --tenant blue --vni 5001 --subnet 10.1.0.0/24 \
        --subnet fd00:1::/64 >/dev/null \
    || vf_fail "tenant/network"
fab_host 1
fab_host 2
padm vnic-create a1 --network blue-net --mac 02:00:00:00:01:01 --ip 10.1.0.1 \
        --ip fd00:1::1 --host h1 >/dev/null \
    && padm vnic-create a2 --network blue-net --mac 02:00:00:00:01:02 --ip 10.1.0.2 \
        --ip fd00:1::2 --host h2 >/dev/null \
    || vf_fail "vnics"
fab_vm a1 h1 a1 10.1.0.1/24
fab_vm a2 h2 a2 10.1.0.2/24
for n in 1 2; do
    tap="${VF_P}a$n"; tap=${tap:0:15}
    vf_in a$n ip link set "$tap" mtu 1500
    vf_in a$n ip -6 addr add fd00:1::$n/64 dev "$tap" nodad
done
TAP1="${VF_P}a1"; TAP1=${TAP1:0:15}
vf_log "a1's MTU $(vf_in a1 cat /sys/class/net/$TAP1/mtu), fabric path MTU $PMTU ($FAB_TUNNEL)"

vf_wait 15 vf_in a1 ping -c 1 -W 1 10.1.0.2 || vf_fail "a1 -> a2"
vf_wait 15 vf_in a1 ping -6 -c 1 -W 1 fd00:1::2 || vf_fail "a1 -> a2 (IPv6)"

vf_bg a1 tcpdump -i "$TAP1" -Q in -U -n -s 200 -w "$VF_TMP/icmp.pcap" \
    "icmp[icmptype] == icmp-unreach or icmp6"
tcpdump_pid=$VF_LAST_PID
vf_wait 10 grep -q "listening on" "$VF_LAST_LOG" || vf_fail "tcpdump"

# IPv4: 1472 + 8 + 20 = 1500 bytes with DF.
vf_in a1 ip route flush cache
vf_in a1 ping -c 1 -W 1 -M do -s 1472 10.1.0.2 >"$VF_TMP/ping4" 2>&1
vf_log "first DF ping: $(tr '\n' ' ' <"$VF_TMP/ping4" | cut -c1-200)"
route=$(vf_in a1 ip route get 10.1.0.2)
vf_log "PMTU cache: $route"
[[ $route == *"mtu $PMTU"* ]] || vf_fail "a1's route cache has no mtu $PMTU"
# The kernel now refuses locally ("message too long, mtu=...").
out=$(vf_in a1 ping -c 1 -W 1 -M do -s 1472 10.1.0.2 2>&1)
[[ $out == *"mtu=$PMTU"* || $out == *"mtu = $PMTU"* ]] \
    || vf_fail "second DF ping: $out"
# What fits goes through: PMTU - 28 bytes of ICMP payload.
vf_in a1 ping -c 2 -i 0.2 -W 1 -M do -s $((PMTU - 28)) 10.1.0.2 >/dev/null \
    || vf_fail "a DF ping of exactly $PMTU bytes did not pass"

# IPv6: 1452 + 8 + 40 = 1500 bytes (IPv6 never fragments in routers).
vf_in a1 ip -6 route flush cache 2>/dev/null
vf_in a1 ping -6 -c 1 -W 1 -s 1452 fd00:1::2 >"$VF_TMP/ping6" 2>&1
vf_log "first big ping6: $(tr '\n' ' ' <"$VF_TMP/ping6" | cut -c1-200)"
route6=$(vf_in a1 ip -6 route get fd00:1::2)
vf_log "PMTU cache (IPv6): $route6"
[[ $route6 == *"mtu $PMTU"* ]] || vf_fail "a1's IPv6 route cache has no mtu $PMTU"
# With the PMTU known, the kernel fragments the 1500-byte ping: it passes.
vf_in a1 ping -6 -c 2 -i 0.2 -W 1 -s 1452 fd00:1::2 >/dev/null \
    || vf_fail "IPv6 ping after packet too big"

sleep 0.5
fab_stop "$tcpdump_pid"
tcpdump -r "$VF_TMP/icmp.pcap" -n -v 2>/dev/null >"$VF_TMP/icmp.txt"
vf_log "ICMP errors a1 received: $(grep -c . "$VF_TMP/icmp.txt") lines"
grep -q "need to frag (mtu $PMTU)" "$VF_TMP/icmp.txt" \
    || { cat "$VF_TMP/icmp.txt" >&2; vf_fail "no ICMP fragmentation needed with mtu $PMTU"; }
grep -q "packet too big, mtu $PMTU" "$VF_TMP/icmp.txt" \
    || { cat "$VF_TMP/icmp.txt" >&2; vf_fail "no ICMPv6 packet too big with mtu $PMTU"; }
too_big=$(vfctl h1 -j call fabric/show | jq .counters.too_big)
vf_log "h1 agent too_big: $too_big"
[ "$too_big" -ge 2 ] || vf_fail "too_big counter $too_big"

# TCP with MTU 1500 on both ends: the MSS is 1460, PMTU discovery cuts it.
vf_in a1 ip route flush cache
vf_in a2 ip route flush cache
vf_bg a2 iperf3 -s -1 -B 10.1.0.2
sleep 0.5
vf_in a1 timeout 30 iperf3 -c 10.1.0.2 -t 2 -J >"$VF_TMP/tcp.json" \
    || { cat "$VF_TMP/tcp.json" >&2; vf_fail "iperf3 a1 -> a2 with MTU 1500"; }
bps=$(jq '.end.sum_received.bits_per_second' "$VF_TMP/tcp.json")
vf_log "iperf3 a1 -> a2 (MTU 1500): $(awk -v b="$bps" 'BEGIN{printf "%.0f", b/1e6}') Mbit/s"
awk -v b="$bps" 'BEGIN{exit !(b > 1e6)}' || vf_fail "iperf3: $bps bit/s"
too_big2=$(vfctl h1 -j call fabric/show | jq .counters.too_big)
vf_log "h1 agent too_big after TCP: $too_big2"
[ "$too_big2" -gt "$too_big" ] || vf_fail "TCP did not go through PMTU discovery"
vf_log "PASS"
