#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# bench/e2e-overlay.sh: the overlay benchmark of issue 5.
#
#   bench/run overlay          (or VFAB_BUILD=DIR bench/e2e-overlay.sh)
#   OVERLAY_QUICK=1 bench/run overlay      a quick pass (~1.5 minutes)
#
# Parts, each printing "metric: value unit" lines (comments start '#'):
#
#  1. In process (bench-overlay): VXLAN/Geneve encap and decap of 64-byte
#     inner frames on one core (goal: >= 15 Mpps encap).
#  2. Cross-host TCP: two "hypervisor" namespaces, each with its vfabd
#     (fabric bridge, afpacket uplink, one tap VNIC moved into a "VM"
#     namespace), joined by one underlay veth; vfab-policyd on a separate
#     management bridge.  The same shape with the Linux kernel's VXLAN
#     (per hypervisor: VM veth + VTEP on a bridge, as the peer script
#     /work/shared/bench/peers/40-vxlan-kernel.sh "hv" builds it) is up at
#     the same time, and the trials alternate between the paths, so both
#     see the same machine load.  VM MTU 1450 on every path.  iperf3 TCP
#     one stream and four streams (receiver Gbit/s), ping RTT (average).
#     A second pair of vfab hosts runs Geneve (the kernel here has no
#     geneve driver to compare with).  Goal: vfab >= the kernel's VXLAN.
#  3. vfab-policyd translations per second per core, batched
#     (bench-policyd; goal >= 100 k/s).
#  4. Invalidation latency: with three agents (vfabd) following the
#     policy server, N model writes through the REST API (policy and VNIC
#     changes, alternating); for each, the time from sending the write to
#     the last agent applying its change record (each agent reports the
#     wall-clock time at which it applied a model version: `fabric/show`
#     "applied_wall_us").  p50/p99 (goal: p99 < 50 ms).
#
# Knobs: TRIALS (3; quick 1), SECS per iperf3 run (5; quick 2), PINGS (200
# at 10 ms; quick 50), WRITES (200; quick 100), PARTS (default "inproc tcp
# policyd inval").  Nothing is pinned except the in-process benchmarks.
# Never asserts.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
export VF_BUILD=${VFAB_BUILD:-$here/../build/bench}
VFAB_BUILD=$VF_BUILD
VF_P=${VF_P:-obench$(( $$ % 1000 ))}
. "$here/../tests/integration/lib.sh"
. "$here/../tests/integration/fabric-lib.sh"

if [ -n "${OVERLAY_QUICK:-}" ]; then
    TRIALS=${TRIALS:-1} SECS=${SECS:-2} PINGS=${PINGS:-50} WRITES=${WRITES:-100}
    PD_SECS=${PD_SECS:-1}
fi
TRIALS=${TRIALS:-3}
SECS=${SECS:-5}
PINGS=${PINGS:-200}
WRITES=${WRITES:-200}
PD_SECS=${PD_SECS:-3}
PARTS=${PARTS:-inproc tcp policyd inval}
VM_MTU=1450

has_part() { [[ " $PARTS " == *" $1 "* ]]; }
median() { grep -E '^[0-9.]+$' | sort -g | awk '{ a[NR] = $1 } END { if (NR) print a[int((NR + 1) / 2)]; else print "NA" }'; }

# ---- Part 1: in process ------------------------------------------------
part_inproc() {
    echo "# part 1: in-process encap/decap (bench-overlay, CPU 1)"
    "$VF_BUILD/bench/bench-overlay"
}

# ---- Part 3: policy server ----------------------------------------------
part_policyd() {
    echo "# part 3: vfab-policyd translations (bench-policyd, $PD_SECS s per run)"
    "$VF_BUILD/bench/bench-policyd" "$PD_SECS"
}

# ---- Part 2: topologies -------------------------------------------------
# ob_host NAME N UNDERLAY_IF_PEER : hypervisor namespace NAME with vfabd,
# VTEP 192.168.100.N (tunnel $FAB_TUNNEL); its uplink up0 must exist.
ob_host() {
    local h=$1 n=$2
    vf_veth "$h" mg0 ul "m$n"
    vf_in ul ip link set "m$n" master br-mg
    vf_in "$h" ip addr add "10.99.0.$n/24" dev mg0
    padm host-register "$h" --underlay-ip "192.168.100.$n" \
        --token-file "$VF_TMP/$h.token" >/dev/null || vf_fail "host-register $h"
    vf_vfabd "$h" "$h" --fabric-server "http://10.99.0.254:$FAB_PORT" \
        --fabric-host "$h" --fabric-token-file "$VF_TMP/$h.token" \
        --log-level warn
    vfctl "$h" add-br fab "fabric=$FAB_TUNNEL" "underlay=192.168.100.$n/24" \
        uplink=up0 >/dev/null || vf_fail "add-br fab on $h"
    vfctl "$h" add-port fab up0 type=afpacket >/dev/null || vf_fail "uplink on $h"
}

# ob_vm VM HOST VNIC IP : a VM namespace on HOST bound to VNIC.
ob_vm() {
    local vm=$1 host=$2 vnic=$3 ip=$4 mac tap
    mac=$(padm -j vnic-show "$vnic" | jq -r .mac) || vf_fail "vnic $vnic"
    vf_ns_add "$vm"
    tap="${VF_P}$vm"
    tap=${tap:0:15}
    vfctl "$host" add-port fab "$tap" type=tap vnic="$vnic" >/dev/null \
        || vf_fail "add-port $tap"
    vf_vm "$vm" "$tap" "$host" "$ip/24"
    vf_in "$vm" ip link set "$tap" address "$mac" mtu "$VM_MTU"
}

# The vfab fabric: hosts h1/h2 (VXLAN) and g1/g2 (Geneve), each pair
# joined by an underlay veth; VMs v1..v2 and w1..w2.
setup_vfab() {
    fab_init
    padm tenant-create bench >/dev/null || vf_fail "tenant"
    padm net-create bnet --tenant bench --vni 5001 --subnet 10.1.0.0/24 \
        >/dev/null || vf_fail "network"
    padm net-create gnet --tenant bench --vni 5002 --subnet 10.2.0.0/24 \
        >/dev/null || vf_fail "network"
    local pair
    for pair in "h vxlan 1 bnet 10.1.0" "g geneve 11 gnet 10.2.0"; do
        set -- $pair
        local p=$1 tun=$2 base=$3 net=$4 sub=$5
        vf_ns_add "${p}1"
        vf_ns_add "${p}2"
        vf_veth "${p}1" up0 "${p}2" up0
        FAB_TUNNEL=$tun ob_host "${p}1" "$base"
        FAB_TUNNEL=$tun ob_host "${p}2" "$((base + 1))"
        local vm=$([ "$p" = h ] && echo v || echo w)
        padm vnic-create "${vm}1" --network "$net" --mac "02:00:00:00:$(printf %02x "$base"):01" \
            --ip "$sub.1" --host "${p}1" >/dev/null || vf_fail "vnic"
        padm vnic-create "${vm}2" --network "$net" --mac "02:00:00:00:$(printf %02x "$base"):02" \
            --ip "$sub.2" --host "${p}2" >/dev/null || vf_fail "vnic"
        ob_vm "${vm}1" "${p}1" "${vm}1" "$sub.1"
        ob_vm "${vm}2" "${p}2" "${vm}2" "$sub.2"
    done
}

# The kernel's VXLAN, as 40-vxlan-kernel.sh "hv": k1/k2 hypervisors with
# VTEP + VM veth on a bridge, underlay veth 10.77.1.1 <-> 10.77.1.2, VMs
# kv1/kv2 (10.77.0.1/2).
setup_kernel() {
    vf_ns_add k1
    vf_ns_add k2
    vf_ns_add kv1
    vf_ns_add kv2
    vf_veth k1 u0 k2 u0
    local i
    for i in 1 2; do
        local me=10.77.1.$i peer=10.77.1.$((3 - i))
        vf_in "k$i" ip addr add "$me/24" dev u0
        vf_in "k$i" ip link add vx0 type vxlan id 100 local "$me" \
            remote "$peer" dstport 4789 dev u0
        vf_in "k$i" ip link add br0 type bridge stp_state 0
        vf_veth "kv$i" eth0 "k$i" vm0
        vf_in "kv$i" ip link set eth0 mtu "$VM_MTU"
        vf_in "k$i" ip link set vm0 mtu "$VM_MTU"
        vf_in "k$i" ip link set vm0 master br0
        vf_in "k$i" ip link set vx0 master br0
        vf_in "k$i" ip link set vx0 up
        vf_in "k$i" ip link set br0 up
        vf_in "kv$i" ip addr add "10.77.0.$i/24" dev eth0
    done
}

# ---- Part 2: measurements -----------------------------------------------
# tcp_gbps CLIENT SERVER SERVER_IP [IPERF ARGS]: receiver Gbit/s, or NA.
tcp_gbps() {
    local c=$1 s=$2 ip=$3
    shift 3
    vf_bg "$s" iperf3 -s -1 -B "$ip" --rcv-timeout 5000
    local spid=$VF_LAST_PID
    vf_wait 5 sh -c "ip netns exec $(vf_ns "$s") ss -Hltn 'sport = :5201' | grep -q ."
    local out
    out=$(timeout $((SECS + 20)) ip netns exec "$(vf_ns "$c")" iperf3 -c "$ip" \
          -t "$SECS" -J --connect-timeout 3000 "$@" 2>/dev/null)
    kill "$spid" 2>/dev/null
    wait "$spid" 2>/dev/null
    jq -r '.end.sum_received.bits_per_second / 1e9 * 100 | round / 100' \
        <<<"$out" 2>/dev/null | grep -E '^[0-9.]+$' || echo NA
}

# rtt_us CLIENT IP: average ping RTT in microseconds.
rtt_us() {
    vf_in "$1" ping -q -c "$PINGS" -i 0.01 -W 1 "$2" 2>/dev/null \
        | awk -F/ '/^rtt/ { printf "%.0f\n", $5 * 1000 }' | grep . || echo NA
}

part_tcp() {
    echo "# part 2: cross-host TCP, $TRIALS trial(s) of $SECS s, paths alternate; VM MTU $VM_MTU"
    setup_vfab
    setup_kernel
    local path
    for path in "v1 v2 10.1.0.2" "w1 w2 10.2.0.2" "kv1 kv2 10.77.0.2"; do
        set -- $path
        vf_wait 20 vf_in "$1" ping -c 1 -W 1 "$3" \
            || { echo "# no connectivity $1 -> $3"; }
        vf_in "$1" ping -q -c 5 -i 0.05 "$3" >/dev/null 2>&1
    done
    declare -A res
    local t name
    for t in $(seq "$TRIALS"); do
        for path in "vfab_vxlan v1 v2 10.1.0.2" "kernel_vxlan kv1 kv2 10.77.0.2" \
                    "vfab_geneve w1 w2 10.2.0.2"; do
            set -- $path
            name=$1
            res[${name}_tcp]+="$(tcp_gbps "$2" "$3" "$4") "
            res[${name}_tcp4]+="$(tcp_gbps "$2" "$3" "$4" -P 4) "
            vf_log "trial $t $name: tcp ${res[${name}_tcp]} tcp4 ${res[${name}_tcp4]}"
        done
    done
    for path in "vfab_vxlan v1 10.1.0.2" "kernel_vxlan kv1 10.77.0.2" \
                "vfab_geneve w1 10.2.0.2"; do
        set -- $path
        echo "${1}_tcp_gbps: $(tr ' ' '\n' <<<"${res[${1}_tcp]}" | median) Gbit/s"
        echo "${1}_tcp4_gbps: $(tr ' ' '\n' <<<"${res[${1}_tcp4]}" | median) Gbit/s"
        echo "${1}_rtt_avg_us: $(rtt_us "$2" "$3") us"
    done
    if [ -n "${OVERLAY_KEEP:-}" ]; then
        vf_log "topology kept for $OVERLAY_KEEP s (VF_P=$VF_P)"
        sleep "$OVERLAY_KEEP"
    fi
}

vf_require_root_netns
for p in inproc tcp policyd inval; do
    if has_part "$p"; then
        "part_$p"
    fi
done
