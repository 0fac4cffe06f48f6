#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# bench/e2e-ports.sh: end-to-end figures of the port layer (src/lib/port),
# with the Linux bridge between the same two namespaces in the same run.
#
#   bench/run ports            (or VFAB_BUILD=DIR bench/e2e-ports.sh)
#
# Topology: namespaces v1 and v2 ("VMs"), sw (the switch).  port-wire
# (tests/integration/tools) forwards between two TAPs (one per VM) or a TAP
# and an afpacket port on a veth into v2; the Linux bridge joins a second
# pair of interfaces (veths) of the same two namespaces.  For each path:
# iperf3 TCP, one stream (Gbit/s, receiver side), iperf3 UDP with 18-byte
# payloads (64-byte frames on the wire) at full speed (received packets
# per second), and ping RTT (average of 50 at 10 ms); for the afpacket
# paths also TCP and UDP from v2 to v1 ("_r": frames received by the
# afpacket port), once per receive ring (AFP_RINGS).  Then the AF_PACKET
# transmit methods (afpacket-txbench).  Every figure is the median of
# $TRIALS trials (default 3).  Nothing is pinned: port-wire, the iperf3
# ends and the kernel share the machine's cores, as they would on a host.
# Prints "metric: value unit" lines; never asserts.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
export VF_BUILD=${VFAB_BUILD:-$here/../build/bench}
VFAB_BUILD=$VF_BUILD
. "$here/../tests/integration/lib.sh"
. "$here/../tests/integration/tools/port-lib.sh"
pw_require
TRIALS=${TRIALS:-3}
SECS=${SECS:-4}
TXBENCH=$PW_BUILD/tests/integration/tools/afpacket-txbench

median() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }

# tcp_gbps CLIENT_NS SERVER_IP [-R]
tcp_gbps() {
    vf_in "$1" iperf3 -c "$2" -t "$SECS" -J ${3:-} 2>/dev/null | python3 -c '
import json, sys
print("%.2f" % (json.load(sys.stdin)["end"]["sum_received"]["bits_per_second"] / 1e9))'
}

# udp64_kpps CLIENT_NS SERVER_IP [-R]: received packets per second / 1000.
udp64_kpps() {
    vf_in "$1" iperf3 -c "$2" -u -l 18 -b 0 -t "$SECS" -J ${3:-} 2>/dev/null \
        | python3 -c '
import json, sys
s = json.load(sys.stdin)["end"]["sum"]
print("%.0f" % ((s["packets"] - s["lost_packets"]) / s["seconds"] / 1e3))'
}

ping_ms() {
    vf_in "$1" ping -q -c 50 -i 0.01 "$2" | awk -F/ '/^rtt/ { print $5 }'
}

# measure LABEL CLIENT SERVER_NS SERVER_IP [rev]: "rev" adds the reverse
# direction (iperf3 -R: server to client), "_r" figures.
measure() {
    local label=$1 client=$2 server=$3 ip=$4 rev=${5:-} t
    vf_bg "$server" iperf3 -s -B "$ip"
    local spid=$VF_LAST_PID
    sleep 0.5
    vf_in "$client" ping -c 2 -W 2 "$ip" >/dev/null \
        || { echo "# $label: no connectivity"; kill "$spid"; return; }
    t=$(for _ in $(seq "$TRIALS"); do tcp_gbps "$client" "$ip"; done | median)
    echo "${label}_tcp_gbps: $t Gbit/s"
    t=$(for _ in $(seq "$TRIALS"); do udp64_kpps "$client" "$ip"; done | median)
    echo "${label}_udp64_kpps: $t kpps"
    if [ "$rev" = rev ]; then
        t=$(for _ in $(seq "$TRIALS"); do tcp_gbps "$client" "$ip" -R; done | median)
        echo "${label}_tcp_r_gbps: $t Gbit/s"
        t=$(for _ in $(seq "$TRIALS"); do udp64_kpps "$client" "$ip" -R; done | median)
        echo "${label}_udp64_r_kpps: $t kpps"
    fi
    echo "${label}_ping_rtt_ms: $(ping_ms "$client" "$ip") ms"
    kill "$spid"
    wait "$spid" 2>/dev/null
}

vf_ns_add sw
vf_ns_add v1
vf_ns_add v2
echo "# $(uname -r), $(nproc) CPUs, $TRIALS trials of ${SECS}s, build $VF_BUILD"

# 1. Linux bridge (veths), addresses 10.95.1.0/24.
vf_veth v1 eth1 sw b1
vf_veth v2 eth1 sw b2
vf_in sw ip link add br0 type bridge
vf_in sw ip link set b1 master br0
vf_in sw ip link set b2 master br0
vf_in sw ip link set br0 up
vf_in v1 ip addr add 10.95.1.1/24 dev eth1
vf_in v2 ip addr add 10.95.1.2/24 dev eth1
measure linux_bridge v1 v2 10.95.1.2

# 2. port-wire tap <-> tap with offloads, 10.95.0.0/24.
T1=${VF_P}t1
T2=${VF_P}t2
pw_start sw "tap:$T1" "tap:$T2"
vm_up v1 "$T1" 10.95.0.1/24 fd95::1/64
vm_up v2 "$T2" 10.95.0.2/24 fd95::2/64
measure port_wire_tap_tap v1 v2 10.95.0.2
pw_stats
echo "# tap<->tap: $(pw_stat a_to_b.gso_frames) GSO frames crossed whole," \
     "largest $(pw_stat a_to_b.max_frame) bytes"
kill "$PW_PID"
vf_wait 5 sh -c "! kill -0 $PW_PID 2>/dev/null"

# 3. port-wire tap <-> tap, output without offloads: software GSO.
T3=${VF_P}t3
T4=${VF_P}t4
pw_start sw "tap:$T3" "tap:$T4,offload=0"
vm_up v1 "$T3" 10.95.2.1/24 fd95:2::1/64
vm_up v2 "$T4" 10.95.2.2/24 fd95:2::2/64
vf_bg v2 iperf3 -s -B 10.95.2.2
spid=$VF_LAST_PID
sleep 0.5
t=$(for _ in $(seq "$TRIALS"); do tcp_gbps v1 10.95.2.2; done | median)
echo "port_wire_tap_tap_soft_gso_tcp_gbps: $t Gbit/s"
kill "$spid"
pw_stats
echo "# soft GSO: $(pw_stat a_to_b.segmented) super-frames cut into" \
     "$(pw_stat a_to_b.segments)"
kill "$PW_PID"
vf_wait 5 sh -c "! kill -0 $PW_PID 2>/dev/null"

# 4. port-wire tap <-> afpacket (veth into v2), 10.95.3.0/24: the
# port's default receive ring, then each ring named (rx_ring=v2|v3) when
# the build has the option; AFP_RINGS="default v2 v3" by default.
afp_rings=${AFP_RINGS:-default v2 v3}
{ "$PW_BIN" 2>&1 || true; } | grep -q rx_ring || afp_rings=default
vf_veth sw "${VF_P}u" v2 eth3
vf_in v2 ip addr add 10.95.3.2/24 dev eth3
n=5
for ring in $afp_rings; do
    spec="afpacket:${VF_P}u" label=port_wire_tap_afpacket
    if [ "$ring" != default ]; then
        spec="$spec,rx_ring=$ring" label=${label}_$ring
    fi
    pw_start sw "tap:${VF_P}t$n" "$spec"
    vm_up v1 "${VF_P}t$n" 10.95.3.1/24 "fd95:3::$n/64"
    vf_in v2 ip neigh flush dev eth3     # The new tap has a new MAC.
    echo "# $label: $(grep -o 'TPACKET_V[23] ring[^,]*' "$PW_LOG" | head -1)"
    measure "$label" v1 v2 10.95.3.2 rev
    pw_stats
    echo "# $label: $(pw_stat b_to_a.gso_frames) GSO frames received whole," \
         "largest $(pw_stat b_to_a.max_frame) bytes; rx_dropped" \
         "$(pw_stat b.rx_dropped), rx_errors $(pw_stat b.rx_errors)"
    kill "$PW_PID"
    vf_wait 5 sh -c "! kill -0 $PW_PID 2>/dev/null"
    n=$((n + 1))
done

# 5. AF_PACKET transmit: sendmmsg vs TX ring, on a veth nobody reads.
if [ -x "$TXBENCH" ]; then
    vf_veth sw tx0 v2 tx1
    for size in 60 1514; do
        for m in mmsg ring; do
            v=$(for _ in $(seq "$TRIALS"); do
                    vf_in sw "$TXBENCH" tx0 "$m" "$size" 1 2 | awk '{ print $2 }'
                done | median)
            echo "afpacket_tx_${m}_${size}_mpps: $v Mpps"
        done
    done
fi
