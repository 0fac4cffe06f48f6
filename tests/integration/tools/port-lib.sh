# SPDX-License-Identifier: Apache-2.0
# tests/integration/tools/port-lib.sh: helpers shared by t-port-*.sh and
# bench/e2e-ports.sh, on top of tests/integration/lib.sh (source that
# first).
#
#   pw_require                      skip unless port-wire and iperf3 exist
#   pw_start NS SPEC_A SPEC_B [ARGS] port-wire in namespace NS (or -),
#                                    waits until its ports exist
#   pw_stats                        refreshes $PW_STATS (SIGUSR1)
#   pw_stat KEY                     one counter from the last refresh
#   pw_cpu_ticks                    utime+stime of port-wire (clock ticks)
#   vm_up NS DEV IP4/LEN IP6/LEN    moves DEV (in the port-wire namespace)
#                                   into NS and configures it
#   iperf_listening NS              waits for an iperf3 server in NS

# CTest passes VFAB_BUILD; lib.sh reads VF_BUILD.
PW_BUILD=${VFAB_BUILD:-$VF_BUILD}
PW_BIN=${PW_BIN:-$PW_BUILD/tests/integration/tools/port-wire}

pw_require() {
    vf_require_root_netns
    [ -x "$PW_BIN" ] || vf_skip "no $PW_BIN (build target port-wire)"
    command -v iperf3 >/dev/null || vf_skip "no iperf3"
    [ -c /dev/net/tun ] || vf_skip "no /dev/net/tun"
}

# pw_start NS SPEC_A SPEC_B [ARGS...]
pw_start() {
    local ns=$1 a=$2 b=$3
    shift 3
    PW_READY=$VF_TMP/pw.ready
    PW_STATS=$VF_TMP/pw.stats
    PW_NS=$ns
    rm -f "$PW_READY" "$PW_STATS"
    vf_bg "$ns" "$PW_BIN" --ready "$PW_READY" --stats "$PW_STATS" "$@" \
        "$a" "$b"
    PW_PID=$VF_LAST_PID
    PW_LOG=$VF_LAST_LOG
    if ! vf_wait 10 test -s "$PW_READY"; then
        cat "$PW_LOG" >&2
        vf_fail "port-wire did not start"
    fi
}

pw_stats() {
    local before=0
    [ -f "$PW_STATS" ] && before=$(stat -c %Y%N "$PW_STATS" 2>/dev/null)
    rm -f "$PW_STATS"
    kill -USR1 "$PW_PID" || vf_fail "port-wire is gone"
    vf_wait 5 test -s "$PW_STATS" || vf_fail "no statistics from port-wire"
}

pw_stat() {
    awk -v k="$1:" '$1 == k { print $2 }' "$PW_STATS"
}

pw_cpu_ticks() {
    awk '{ print $14 + $15 }' "/proc/$PW_PID/stat"
}

# vm_up NS DEV IP4/LEN IP6/LEN: DEV lives in port-wire's namespace.
vm_up() {
    local ns=$1 dev=$2 ip4=$3 ip6=$4 full
    full=$(vf_ns "$ns")
    if [ "$PW_NS" = - ]; then
        ip link set "$dev" netns "$full" || vf_fail "move $dev"
    else
        vf_in "$PW_NS" ip link set "$dev" netns "$full" || vf_fail "move $dev"
    fi
    vf_in "$ns" ip addr add "$ip4" dev "$dev"
    vf_in "$ns" ip addr add "$ip6" dev "$dev" nodad
    vf_in "$ns" ip link set "$dev" up
}

listening__() { vf_in "$1" ss -ltnH "sport = :5201" | grep -q .; }

iperf_listening() { vf_wait 5 listening__ "$1"; }
