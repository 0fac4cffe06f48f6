#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# bench/e2e-overlay.sh: the overlay benchmark of issue 5.
#
#   bench/run overlay          (or VFAB_BUILD=DIR bench/e2e-overlay.sh)
#   OVERLAY_QUICK=1 bench/run overlay      a quick pass (~1 minute)
#
# Parts, each printing "metric: value unit" lines (comments start '#'):
#
#  1. In process (bench-overlay): VXLAN/Geneve encap and decap of 64-byte
#     inner frames on one core (goal: >= 15 Mpps encap).
#  2. Cross-host TCP.  vfab: two "hypervisor" namespaces, each with its
#     vfabd (fabric bridge, afpacket uplink, one tap VNIC moved into a "VM"
#     namespace), joined by one underlay veth; vfab-policyd on a separate
#     management bridge.  Three such pairs: VXLAN, Geneve, and VXLAN with
#     the TCP accelerations off (vfabd --no-gro --no-tunnel-gso: their
#     simple twins, src/lib/dp/dp-accel.h), to show before/after in one
#     run.  The kernel: the same shape with Linux's VXLAN (per hypervisor
#     a VM veth and the VTEP on a bridge, underlay veth between them: the
#     "hv" topology of /work/shared/bench/peers/40-vxlan-kernel.sh).  All
#     are up at once and the trials alternate between them, so they share
#     the machine's load.  VM MTU 1450 everywhere.  iperf3 TCP, one stream
#     and four (receiver Gbit/s, median of TRIALS runs of SECS s), ping RTT
#     (average of PINGS at 10 ms).  Goal: vfab >= the kernel's VXLAN.
#  3. vfab-policyd translations per second per core, batched
#     (bench-policyd; goal >= 100 k/s).
#  4. Invalidation latency: with every vfabd of part 2 (six agents)
#     following the policy server, WRITES model writes through the REST API
#     (policy and VNIC changes, alternating), one at a time; each write's
#     latency runs from sending it to the last agent applying its change
#     record (bench/overlay-inval.py; agents report when they applied a
#     version in `fabric/show` "applied").  p50/p99 (goal: p99 < 50 ms).
#
# Knobs: TRIALS (3; quick 1), SECS (5; quick 2), PINGS (200; quick 50),
# WRITES (200; quick 100), PD_SECS per bench-policyd run (3; quick 1),
# PARTS ("inproc tcp policyd inval"), OVERLAY_KEEP=SECONDS keeps the
# topology up afterwards (for perf).  Nothing is pinned except the
# in-process benchmarks.  Never asserts.
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

# ---- Topologies ---------------------------------------------------------
# ob_host NAME N [VFABD-ARGS...]: hypervisor namespace NAME (exists, with
# its uplink up0) gets a management veth, vfabd, and the fabric bridge
# (tunnel $FAB_TUNNEL, VTEP 192.168.100.N).
ob_host() {
    local h=$1 n=$2
    shift 2
    vf_veth "$h" mg0 ul "m$n"
    vf_in ul ip link set "m$n" master br-mg
    vf_in "$h" ip addr add "10.99.0.$n/24" dev mg0
    padm host-register "$h" --underlay-ip "192.168.100.$n" \
        --token-file "$VF_TMP/$h.token" >/dev/null || vf_fail "host-register $h"
    vf_vfabd "$h" "$h" --fabric-server "http://10.99.0.254:$FAB_PORT" \
        --fabric-host "$h" --fabric-token-file "$VF_TMP/$h.token" \
        --log-level warn "$@"
    vfctl "$h" add-br fab "fabric=$FAB_TUNNEL" "underlay=192.168.100.$n/24" \
        uplink=up0 >/dev/null || vf_fail "add-br fab on $h"
    vfctl "$h" add-port fab up0 type=afpacket >/dev/null || vf_fail "uplink on $h"
}

# ob_vm VM HOST VNIC IP: a VM namespace on HOST bound to VNIC.
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

# ob_pair P TUNNEL BASE NET VNI SUBNET VM [VFABD-ARGS...]: hosts P1, P2
# (VTEPs .BASE, .BASE+1) joined by an underlay veth, network NET, VMs VM1
# (SUBNET.1 on P1) and VM2 (SUBNET.2 on P2).
ob_pair() {
    local p=$1 tun=$2 base=$3 net=$4 vni=$5 sub=$6 vm=$7
    shift 7
    padm net-create "$net" --tenant bench --vni "$vni" --subnet "$sub.0/24" \
        >/dev/null || vf_fail "network $net"
    vf_ns_add "${p}1"
    vf_ns_add "${p}2"
    vf_veth "${p}1" up0 "${p}2" up0
    FAB_TUNNEL=$tun ob_host "${p}1" "$base" "$@"
    FAB_TUNNEL=$tun ob_host "${p}2" "$((base + 1))" "$@"
    local i
    for i in 1 2; do
        padm vnic-create "$vm$i" --network "$net" \
            --mac "02:00:00:00:$(printf %02x "$base"):0$i" --ip "$sub.$i" \
            --host "$p$i" >/dev/null || vf_fail "vnic $vm$i"
        ob_vm "$vm$i" "$p$i" "$vm$i" "$sub.$i"
    done
}

VFAB_UP=
setup_vfab() {
    [ -n "$VFAB_UP" ] && return
    fab_init
    padm tenant-create bench >/dev/null || vf_fail "tenant"
    ob_pair h vxlan 1 bnet 5001 10.1.0 v
    ob_pair g geneve 11 gnet 5002 10.2.0 w
    ob_pair s vxlan 21 snet 5003 10.3.0 x --no-gro --no-tunnel-gso
    VFAB_UP=1
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

# name client server server-ip
PATHS=("vfab_vxlan v1 v2 10.1.0.2" "kernel_vxlan kv1 kv2 10.77.0.2"
       "vfab_geneve w1 w2 10.2.0.2" "vfab_vxlan_noaccel x1 x2 10.3.0.2")

part_tcp() {
    echo "# part 2: cross-host TCP, $TRIALS trial(s) of $SECS s, paths alternate; VM MTU $VM_MTU"
    setup_vfab
    setup_kernel
    local path
    for path in "${PATHS[@]}"; do
        set -- $path
        vf_wait 20 vf_in "$2" ping -c 1 -W 1 "$4" \
            || echo "# $1: no connectivity $2 -> $4"
        vf_in "$2" ping -q -c 5 -i 0.05 "$4" >/dev/null 2>&1
    done
    declare -A res
    local t
    for t in $(seq "$TRIALS"); do
        for path in "${PATHS[@]}"; do
            set -- $path
            res[$1_tcp]+="$(tcp_gbps "$2" "$3" "$4") "
            res[$1_tcp4]+="$(tcp_gbps "$2" "$3" "$4" -P 4) "
            vf_log "trial $t $1: tcp ${res[$1_tcp]} tcp4 ${res[$1_tcp4]}"
        done
    done
    for path in "${PATHS[@]}"; do
        set -- $path
        echo "$1_tcp_gbps: $(tr ' ' '\n' <<<"${res[$1_tcp]}" | median) Gbit/s"
        echo "$1_tcp4_gbps: $(tr ' ' '\n' <<<"${res[$1_tcp4]}" | median) Gbit/s"
    done
    for path in "${PATHS[@]}"; do
        set -- $path
        echo "$1_rtt_avg_us: $(rtt_us "$2" "$4") us"
    done
    local h
    for h in h1 h2; do
        echo "# dp/stats accel on $h: $(vfctl "$h" -j call dp/stats | jq -c .accel)"
    done
}

# ---- Part 4: invalidation latency ---------------------------------------
part_inval() {
    setup_vfab
    padm policy-add bench-inval --tenant bench --action allow --from any \
        --to any --priority 100 >/dev/null || vf_fail "policy"
    local socks=() h
    for h in h1 h2 g1 g2 s1 s2; do
        socks+=("$VF_TMP/$h.sock")
    done
    echo "# part 4: invalidation latency, $WRITES writes, ${#socks[@]} agents"
    vf_in ul /usr/bin/python3 "$here/overlay-inval.py" \
        "http://10.99.0.254:$FAB_PORT" "$VF_TMP/admin.token" "$WRITES" \
        bench-inval v1 "${socks[@]}" || echo "# invalidation: failed"
}

vf_require_root_netns
for p in inproc tcp policyd inval; do
    if has_part "$p"; then
        "part_$p"
    fi
done
if [ -n "${OVERLAY_KEEP:-}" ]; then
    vf_log "topology kept for $OVERLAY_KEEP s (VF_P=$VF_P)"
    sleep "$OVERLAY_KEEP" &
    wait $!
fi
