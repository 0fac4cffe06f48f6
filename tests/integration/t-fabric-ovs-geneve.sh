#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Geneve interop with a VTEP no one here wrote (this kernel has no geneve
# driver): Open vSwitch's userspace datapath, privately run in namespace
# "ovs".  Its underlay bridge ovphy has the underlay veth as a port and
# the VTEP address 192.168.100.60 on its internal port (OVS native
# tunnelling routes and ARPs through it); its VM bridge ovvm has a tap
# "VM" port (moved into namespace ovm) and a type=geneve port to vfab host
# h1 (remote_ip 192.168.100.1, key = the VNI).  OVS's Geneve frames carry
# no vfab option, vfab's carry one OVS does not know (not critical): each
# side must accept the other's.  Ping both ways, then a short iperf3 TCP
# run each way.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/fabric-lib.sh"
vf_require_root_netns
command -v iperf3 >/dev/null || vf_skip "iperf3 missing"
command -v ovs-vswitchd >/dev/null || vf_skip "Open vSwitch missing"
command -v ethtool >/dev/null || vf_skip "ethtool missing"

FAB_TUNNEL=geneve
VNI=5003
OMAC=02:00:00:00:06:60
fab_init
padm tenant-create blue >/dev/null \
    && padm net-create blue-net --tenant blue --vni $VNI --subnet 10.3.0.0/24 >/dev/null \
    || vf_fail "tenant/network"
fab_host 1
fab_model_host ovs 192.168.100.60
padm vnic-create v1 --network blue-net --mac 02:00:00:00:01:01 --ip 10.3.0.1 --host h1 >/dev/null \
    && padm vnic-create o1 --network blue-net --mac $OMAC --ip 10.3.0.60 --host ovs >/dev/null \
    || vf_fail "vnics"
fab_vm v1 h1 v1 10.3.0.1/24

# The OVS host.
fab_peer ovs 192.168.100.60
vf_in ovs ip addr flush dev ul0        # the address goes on OVS's port
# OVS 3.1's userspace datapath reads its ports with plain AF_PACKET (no
# virtio-net headers without userspace TSO): it can read neither GSO
# super-frames (vfab's tunnel GSO sends UDP GSO frames, the kernel's vxlan
# UDP-tunnel TSO frames) nor partial checksums, and a veth passes both on
# untouched.  A NIC segments and sums on the wire; here the underlay
# bridge's port towards OVS does it in software, as a NIC without those
# offloads would (tx checksumming off takes the segmentation offloads with
# it).  Found by this test: OVS counted datapath_drop_tunnel_pop_error for
# every datagram of a UDP GSO frame with a partial outer checksum.
vf_in ul ethtool -K "$FAB_PEER_PORT" tx off >/dev/null \
    || vf_fail "ethtool on the underlay port towards OVS"
vf_ns_add ovm
fab_ovs_start ovs
fab_ovs_vsctl ovs add-br ovphy -- set bridge ovphy datapath_type=netdev \
    fail_mode=standalone -- add-port ovphy ul0 || vf_fail "ovphy"
vf_in ovs ip addr add 192.168.100.60/24 dev ovphy
vf_in ovs ip link set ovphy up
fab_ovs_vsctl ovs add-br ovvm -- set bridge ovvm datapath_type=netdev \
    fail_mode=standalone \
    -- add-port ovvm gnv0 -- set Interface gnv0 type=geneve \
       options:remote_ip=192.168.100.1 options:key=$VNI \
    -- add-port ovvm ovtap -- set Interface ovtap type=tap \
    || vf_fail "ovvm"
vf_wait 10 vf_in ovs ip link show ovtap || vf_fail "OVS tap port missing"
ip -n "$(vf_ns ovs)" link set ovtap netns "$(vf_ns ovm)" || vf_fail "move ovtap"
vf_in ovm ip link set ovtap address $OMAC mtu 1450
vf_in ovm ip addr add 10.3.0.60/24 dev ovtap
vf_in ovm ip link set ovtap up

fab_capture ul br-ul "udp port 6081" "$VF_TMP/ul.pcap"
vf_wait 30 vf_in ovm ping -c 1 -W 1 10.3.0.1 || {
    fab_ovs_appctl ovs tnl/neigh/show >&2; fab_ovs_appctl ovs ovs/route/show >&2
    fab_ovs_appctl ovs dpctl/dump-flows >&2
    vfctl h1 -j call fabric/show >&2; vfctl h1 -j port-stats fab >&2
    vf_fail "OVS VM -> vfab VM"; }
vf_ping ovm 10.3.0.1 5
vf_ping v1 10.3.0.60 5
mac=$(vf_in ovm ip neigh show 10.3.0.1 | awk '{print $5}')
[ "$mac" = 02:00:00:00:01:01 ] || vf_fail "OVS VM resolved 10.3.0.1 to '$mac'"
fab_capture_stop

# On the wire: Geneve VNI 5003 both ways; OVS sends no options, vfab its
# own (class 0xff56), which OVS accepted since the pings came back.
tshark -r "$VF_TMP/ul.pcap" -T fields -E occurrence=f -e ip.src -e ip.dst \
    -e geneve.vni -e geneve.option.class 2>/dev/null | sort | uniq -c >"$VF_TMP/wire"
vf_log "underlay frames: $(tr '\n' ';' <"$VF_TMP/wire")"
grep -Eq "192\.168\.100\.60\s+192\.168\.100\.1\s+0x0*138b\s*$" "$VF_TMP/wire" \
    || vf_fail "no option-less Geneve VNI $VNI from OVS"
grep -Eq "192\.168\.100\.1\s+192\.168\.100\.60\s+0x0*138b\s+0xff56" "$VF_TMP/wire" \
    || vf_fail "no Geneve VNI $VNI with vfab's option from h1"

vf_bg v1 iperf3 -s -1 -B 10.3.0.1
sleep 0.5
vf_in ovm timeout 30 iperf3 -c 10.3.0.1 -t 2 -J >"$VF_TMP/o2v.json" \
    || { cat "$VF_TMP/o2v.json" >&2; vfctl h1 -j port-stats fab >&2
         vf_fail "iperf3 OVS VM -> vfab VM"; }
vf_bg ovm iperf3 -s -1 -B 10.3.0.60
sleep 0.5
vf_in v1 timeout 30 iperf3 -c 10.3.0.60 -t 2 -J >"$VF_TMP/v2o.json" \
    || { cat "$VF_TMP/v2o.json" >&2; vfctl h1 -j port-stats fab >&2
         vf_fail "iperf3 vfab VM -> OVS VM"; }
for d in o2v v2o; do
    bps=$(jq '.end.sum_received.bits_per_second' "$VF_TMP/$d.json")
    vf_log "iperf3 $d: $(awk -v b="$bps" 'BEGIN{printf "%.0f", b/1e6}') Mbit/s"
    awk -v b="$bps" 'BEGIN{exit !(b > 1e6)}' || {
        vfctl h1 -j port-stats fab >&2; vf_fail "iperf3 $d: $bps bit/s"; }
done
vf_log "PASS"
