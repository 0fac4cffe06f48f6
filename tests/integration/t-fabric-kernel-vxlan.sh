#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Interop with a VTEP no one here wrote: the Linux kernel's vxlan driver.
# Namespace "kpeer" (kernel address 192.168.100.50 on br-ul) holds a vxlan
# device (VNI 5001, dstport 4789, no learning, one static default FDB entry
# to vfab host h1's VTEP) enslaved to a Linux bridge together with a veth
# into the "VM" namespace kvm.  In the model, host kpeer (underlay
# 192.168.100.50) holds VNIC k1 with the kernel VM's MAC and IP.  The
# kernel VM resolves the vfab VM by ARP broadcast (flooded by vfab to the
# local VNICs of the VNI after the model check of its source), then ping
# both ways and a short iperf3 TCP run.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/fabric-lib.sh"
vf_require_root_netns
command -v iperf3 >/dev/null || vf_skip "iperf3 missing"

VNI=5001
KMAC=02:00:00:00:05:50
fab_init
padm tenant-create blue >/dev/null \
    && padm net-create blue-net --tenant blue --vni $VNI --subnet 10.1.0.0/24 >/dev/null \
    || vf_fail "tenant/network"
fab_host 1
fab_model_host kpeer 192.168.100.50
padm vnic-create v1 --network blue-net --mac 02:00:00:00:01:01 --ip 10.1.0.1 --host h1 >/dev/null \
    && padm vnic-create k1 --network blue-net --mac $KMAC --ip 10.1.0.50 --host kpeer >/dev/null \
    || vf_fail "vnics"
fab_vm v1 h1 v1 10.1.0.1/24

# The kernel VTEP and its VM.
fab_peer kpeer 192.168.100.50
vf_ns_add kvm
vf_in kpeer ip link add vx0 type vxlan id $VNI dstport 4789 \
    local 192.168.100.50 dev ul0 nolearning || vf_fail "kernel vxlan device"
vf_in kpeer bridge fdb append 00:00:00:00:00:00 dev vx0 dst 192.168.100.1 \
    || vf_fail "static FDB entry"
vf_in kpeer ip link add br0 type bridge stp_state 0
vf_in kpeer ip link set vx0 master br0
vf_veth kpeer kv0 kvm eth0
vf_in kpeer ip link set kv0 master br0
vf_in kpeer ip link set vx0 up
vf_in kpeer ip link set br0 up
kmtu=$(vf_in kpeer cat /sys/class/net/vx0/mtu)
vf_in kvm ip link set eth0 address $KMAC mtu "$kmtu"
vf_in kvm ip addr add 10.1.0.50/24 dev eth0
vf_log "kernel vxlan MTU $kmtu"

fab_capture ul br-ul "udp port 4789" "$VF_TMP/ul.pcap"
# kernel VM -> vfab VM first: the kernel's ARP request is the broadcast.
vf_wait 20 vf_in kvm ping -c 1 -W 1 10.1.0.1 || {
    vfctl h1 -j call fabric/show >&2; vfctl h1 -j port-stats fab >&2
    vf_fail "kernel VM -> vfab VM"; }
vf_ping kvm 10.1.0.1 5
vf_ping v1 10.1.0.50 5
mac=$(vf_in kvm ip neigh show 10.1.0.1 | awk '{print $5}')
[ "$mac" = 02:00:00:00:01:01 ] || vf_fail "kernel VM resolved 10.1.0.1 to '$mac'"
vf_log "kernel VM resolved the vfab VM by ARP across the fabric"

fab_capture_stop
# The wire: only VNI 5001, both VTEPs talk.
pairs=$(tshark -r "$VF_TMP/ul.pcap" -T fields -E occurrence=f -e ip.src -e ip.dst -e vxlan.vni \
        2>/dev/null | awk '{print $1">"$2"/"$3}' | sort -u | tr '\n' ' ')
vf_log "underlay flows: $pairs"
for want in "192.168.100.50>192.168.100.1/$VNI" "192.168.100.1>192.168.100.50/$VNI"; do
    [[ " $pairs " == *" $want "* ]] || vf_fail "no $want on the underlay"
done
# The outer UDP source port carries the inner flow's hash (RFC 7348
# section 5): ARP, echo requests and echo replies are different flows.
sports=$(tshark -r "$VF_TMP/ul.pcap" -Y "ip.src == 192.168.100.1" -T fields \
         -E occurrence=f -e udp.srcport 2>/dev/null | sort -u | wc -l)
vf_log "vfab's outer UDP source ports: $sports distinct"
[ "$sports" -ge 2 ] || vf_fail "vfab's outer UDP source port ignores the inner flow"
other=$(tshark -r "$VF_TMP/ul.pcap" -T fields -e vxlan.vni 2>/dev/null \
        | sort -u | grep -vx "$VNI" | tr '\n' ' ')
[ -z "$other" ] || vf_fail "other VNIs on the underlay: $other"

# TCP both directions, short.  Linux's vxlan hands its UDP-tunnel TSO
# frames over the veth whole (the inner TCP checksum partial, the GSO
# request the inner segment's): vfab must carry the request into the
# inner frame (tunnel_decap()), not drop or mangle it.
vf_bg v1 iperf3 -s -1 -B 10.1.0.1
sleep 0.5
vf_in kvm timeout 30 iperf3 -c 10.1.0.1 -t 2 -J >"$VF_TMP/k2v.json" \
    || { cat "$VF_TMP/k2v.json" >&2; vfctl h1 -j port-stats fab >&2
         vf_fail "iperf3 kernel VM -> vfab VM"; }
vf_bg kvm iperf3 -s -1 -B 10.1.0.50
sleep 0.5
vf_in v1 timeout 30 iperf3 -c 10.1.0.50 -t 2 -J >"$VF_TMP/v2k.json" \
    || { cat "$VF_TMP/v2k.json" >&2; vfctl h1 -j port-stats fab >&2
         vf_fail "iperf3 vfab VM -> kernel VM"; }
for d in k2v v2k; do
    bps=$(jq '.end.sum_received.bits_per_second' "$VF_TMP/$d.json")
    vf_log "iperf3 $d: $(awk -v b="$bps" 'BEGIN{printf "%.0f", b/1e6}') Mbit/s"
    awk -v b="$bps" 'BEGIN{exit !(b > 1e6)}' || {
        vfctl h1 -j port-stats fab >&2; vf_fail "iperf3 $d: $bps bit/s"; }
done

bad=$(fab_stat h1 up0 malformed)
[ "$bad" -eq 0 ] || vf_fail "h1 dropped $bad of the kernel's frames as malformed"
vf_log "PASS"
