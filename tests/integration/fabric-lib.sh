# SPDX-License-Identifier: Apache-2.0
# tests/integration/fabric-lib.sh: a multi-host fabric out of namespaces,
# for the overlay tests (source after lib.sh).
#
#   fab_init                      underlay namespace "ul" with two bridges:
#                                 br-ul (VTEPs, 192.168.100.0/24) and
#                                 br-mg (management, 10.99.0.0/24), and
#                                 vfab-policyd on 10.99.0.254
#   fab_host N                    namespace hN: uplink veth up0 on br-ul
#                                 (no kernel address: vfabd owns VTEP
#                                 192.168.100.N), mgmt veth on br-mg
#                                 (10.99.0.N), its vfabd with a fabric
#                                 bridge "fab" (tunnel $FAB_TUNNEL)
#   fab_vm NAME HOST VNIC CIDR    namespace for a VM on host HOST, bound to
#                                 VNIC (created in the model beforehand)
#   padm ARGS...                  vfabctl against the policy server (admin)
#   fab_policyd_start [ARGS...]   (re)start vfab-policyd on the same db/port
#   fab_policyd_kill [SIGNAL]     stop it (default SIGKILL)
#   fab_peer NAME IP              namespace NAME with a veth "ul0" on br-ul
#                                 holding the kernel address IP/24 (a VTEP
#                                 nobody here wrote: kernel vxlan, OVS);
#                                 FAB_PEER_PORT: its bridge port in "ul"
#   fab_model_host NAME IP        register host NAME (underlay IP) in the
#                                 model only (for such foreign VTEPs)
#   fab_capture NS IF FILTER FILE tshark on IF in NS into FILE, waiting until
#                                 it captures; sets FAB_CAPTURE_PID
#   fab_capture_stop              stops it (the file is complete after)
#   fab_stop PID [SIGNAL]         stops a process started with vf_bg
#   fab_stat HOST PORT COUNTER    drops.COUNTER of PORT on bridge fab of HOST
#   fab_ovs_start NS              a private Open vSwitch (ovsdb-server +
#                                 ovs-vswitchd --disable-system: userspace
#                                 datapath only) running in namespace NS,
#                                 with its db, sockets, pid and log files in
#                                 $VF_TMP/ovs-NS; killed by pid at exit
#   fab_ovs_vsctl NS ARGS...      ovs-vsctl / ovs-appctl against it
#   fab_ovs_appctl NS ARGS...

FAB_TUNNEL=${FAB_TUNNEL:-vxlan}
FAB_PORT=8470

padm() {
    vf_in ul "$(vf_bin src/vfabctl/vfabctl)" --server "http://10.99.0.254:$FAB_PORT" \
        --token-file "$VF_TMP/admin.token" "$@"
}

fab_init() {
    vf_ns_add ul
    vf_in ul ip link add br-ul type bridge stp_state 0
    vf_in ul ip link add br-mg type bridge stp_state 0
    vf_in ul ip link set br-ul up
    vf_in ul ip link set br-mg up
    vf_in ul ip addr add 10.99.0.254/24 dev br-mg
    fab_policyd_start
}

fab_policyd_start() {
    vf_bg ul "$(vf_bin src/policyd/vfab-policyd)" \
        --listen "10.99.0.254:$FAB_PORT" --db "$VF_TMP/policy.db" \
        --admin-token-file "$VF_TMP/admin.token" "$@"
    FAB_POLICYD_PID=$VF_LAST_PID
    FAB_POLICYD_LOG=$VF_LAST_LOG
    vf_wait 10 padm server-status || { cat "$VF_LAST_LOG" >&2; vf_fail "vfab-policyd did not start"; }
}

fab_policyd_kill() { fab_stop "$FAB_POLICYD_PID" "${1:-KILL}"; }

# fab_stop PID [SIGNAL]: signals a process this test started with vf_bg,
# reaps it and forgets it (so the cleanup never signals a reused pid).
fab_stop() {
    kill "-${2:-TERM}" "$1" 2>/dev/null
    wait "$1" 2>/dev/null
    local i
    for i in "${!VF_PIDS[@]}"; do
        [ "${VF_PIDS[$i]}" = "$1" ] && unset "VF_PIDS[$i]"
    done
    VF_PIDS=("${VF_PIDS[@]}")
}

fab_peer() {
    local name=$1 ip=$2
    local port="p${name:0:6}"
    FAB_PEER_PORT=$port
    vf_ns_add "$name"
    vf_veth "$name" ul0 ul "$port"
    vf_in ul ip link set "$port" master br-ul
    vf_in "$name" ip addr add "$ip/24" dev ul0
}

fab_model_host() {
    padm host-register "$1" --underlay-ip "$2" \
        --token-file "$VF_TMP/$1.token" >/dev/null || vf_fail "host-register $1"
}

fab_capture() {
    local ns=$1 dev=$2 filter=$3 file=$4
    vf_bg "$ns" tshark -i "$dev" -s 256 -f "$filter" -w "$file" -q
    FAB_CAPTURE_PID=$VF_LAST_PID
    vf_wait 15 grep -q "Capture started" "$VF_LAST_LOG" \
        || { cat "$VF_LAST_LOG" >&2; vf_fail "tshark on $dev did not start"; }
}

# The capture ring hands packets to tshark a block at a time, on a
# timer: stopping right after the traffic would lose the last block.
fab_capture_stop() { sleep 1; fab_stop "$FAB_CAPTURE_PID"; }

fab_stat() {
    vfctl "$1" -j port-stats fab | jq "[.ports[] | select(.port==\"$2\")
        | .drops.$3 // 0] | add // 0"
}

# fab_host N [EXTRA-VFABD-ARGS]
fab_host() {
    local n=$1
    shift
    vf_ns_add h$n
    vf_veth h$n up0 ul u$n
    vf_in ul ip link set u$n master br-ul
    vf_veth h$n mg0 ul m$n
    vf_in ul ip link set m$n master br-mg
    vf_in h$n ip addr add 10.99.0.$n/24 dev mg0
    padm host-register h$n --underlay-ip 192.168.100.$n \
        --token-file "$VF_TMP/h$n.token" >/dev/null \
        || vf_fail "host-register h$n"
    vf_vfabd h$n h$n --fabric-server "http://10.99.0.254:$FAB_PORT" \
        --fabric-host h$n --fabric-token-file "$VF_TMP/h$n.token" "$@"
    vfctl h$n add-br fab fabric=$FAB_TUNNEL underlay=192.168.100.$n/24 uplink=up0 \
        || vf_fail "add-br fab on h$n"
    vfctl h$n add-port fab up0 type=afpacket || vf_fail "uplink on h$n"
}

# fab_vm NAME HOST VNIC CIDR : the VNIC must exist in the model.
fab_vm() {
    local name=$1 host=$2 vnic=$3 cidr=$4
    local mac
    mac=$(padm -j vnic-show "$vnic" | jq -r .mac) || vf_fail "vnic $vnic"
    vf_ns_add "$name"
    local tap="${VF_P}$name"
    tap=${tap:0:15}
    vfctl "$host" add-port fab "$tap" type=tap vnic="$vnic" \
        || vf_fail "add-port $tap"
    vf_vm "$name" "$tap" "$host" "$cidr"
    vf_in "$name" ip link set "$tap" address "$mac"
}

fab_ovs_dir() { printf '%s/ovs-%s' "$VF_TMP" "$1"; }

fab_ovs_vsctl() {
    local d
    d=$(fab_ovs_dir "$1")
    shift
    OVS_RUNDIR=$d OVS_LOGDIR=$d OVS_DBDIR=$d OVS_SYSCONFDIR=$d \
        ovs-vsctl --db="unix:$d/db.sock" --timeout=20 "$@"
}

fab_ovs_appctl() {
    local d
    d=$(fab_ovs_dir "$1")
    shift
    OVS_RUNDIR=$d ovs-appctl -t "$d/ovs-vswitchd.ctl" "$@"
}

fab_ovs_start() {
    local ns=$1 d
    command -v ovs-vswitchd >/dev/null && command -v ovsdb-server >/dev/null \
        || vf_skip "Open vSwitch missing"
    d=$(fab_ovs_dir "$ns")
    mkdir -p "$d"
    ovsdb-tool create "$d/conf.db" /usr/share/openvswitch/vswitch.ovsschema \
        || vf_fail "ovsdb-tool create"
    # Never near /var/run/openvswitch or /etc/openvswitch: everything in $d.
    OVS_RUNDIR=$d OVS_LOGDIR=$d OVS_DBDIR=$d OVS_SYSCONFDIR=$d \
        vf_bg "$ns" ovsdb-server "$d/conf.db" --remote="punix:$d/db.sock" \
        --pidfile="$d/ovsdb-server.pid" --unixctl="$d/ovsdb-server.ctl" \
        --log-file="$d/ovsdb-server.log" -vconsole:off
    vf_wait 10 test -S "$d/db.sock" || vf_fail "ovsdb-server did not start"
    fab_ovs_vsctl "$ns" --no-wait init || vf_fail "ovs-vsctl init"
    OVS_RUNDIR=$d OVS_LOGDIR=$d OVS_DBDIR=$d OVS_SYSCONFDIR=$d \
        vf_bg "$ns" ovs-vswitchd "unix:$d/db.sock" --disable-system \
        --pidfile="$d/ovs-vswitchd.pid" --unixctl="$d/ovs-vswitchd.ctl" \
        --log-file="$d/ovs-vswitchd.log" -vconsole:off
    vf_wait 15 test -S "$d/ovs-vswitchd.ctl" \
        || { cat "$d/ovs-vswitchd.log" >&2; vf_fail "ovs-vswitchd did not start"; }
}
