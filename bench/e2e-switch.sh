#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# bench/e2e-switch.sh: vfabd end to end beside the Linux bridge and Open
# vSwitch's userspace datapath, same topology, same run.
#
#   bench/run e2e                        (or bench/run switch)
#   VFAB_BUILD=DIR bench/e2e-switch.sh   (DIR holds a release build of
#                                         src/vfabd/vfabd and vfabctl)
#   E2E_QUICK=1 bench/run e2e            one repetition of 3 s (~4 min)
#
# The peers and the measurements are the shared peer baselines'
# (/work/shared/bench/peers, README.md there): two "VMs" pb-vm1 10.77.0.1
# and pb-vm2 10.77.0.2, the switch in pb-host; pb_measure runs iperf3 TCP
# (1 and 4 streams), iperf3 UDP with 64-byte payloads, 200 pings at 10 ms
# and trafgen 64-byte frames (1 flow, 1024 flows), PB_REPS times each, and
# reports medians.  This script adds one peer, "vfab": vfabd in pb-host
# with two tap ports moved into the VM namespaces (as
# 21-ovs-netdev-tap.sh does for OVS), then runs, in this order:
#
#   vfab           vfabd (this build), taps with offloads (GSO pass-through)
#   vfab-busypoll  the same with `vfabd --busy-poll 50` (E2E_BUSY_METRICS,
#                  default "ping iperf")
#   linuxbr        10-linux-bridge.sh (kernel bridge, veths)
#   ovs            21-ovs-netdev-tap.sh (OVS userspace, tap ports)
#   ovstso         the same with userspace-tso-enable=true
#
# every one in its own process with PB_RESULTS in a temporary directory
# (kept with E2E_KEEP=1), and prints for each PREFIX (vfab, vfabbp,
# linuxbr, ovs, ovstso):
#   PREFIX_tcp_gbps  PREFIX_tcp4_gbps  PREFIX_udp64_kpps  PREFIX_rtt_avg_us
#   PREFIX_rtt_p99_us  PREFIX_rtt_min_us  PREFIX_tg1_mpps  PREFIX_tgn_mpps
#   PREFIX_tcp_switch_cores (the switch process, where there is one)
# then the ratios the goals are stated in.  RTT p99 comes from every
# per-packet RTT of the ping runs: lib.sh runs `ping -q`, so a `ping`
# wrapper first in PATH drops -q for runs of 50 pings or more and keeps
# the samples (E2E_PING_LOG); nothing else changes.
#
# Knobs: E2E_PEERS (subset, default all five), E2E_QUICK, PB_REPS, PB_DUR,
# PB_PINGS, PB_TG_DUR, PB_QUIET_MAX (default 30 s here: wait at most this
# long for a quiet machine before each run), E2E_BUSY_POLL (50 us),
# E2E_PEERS_DIR (/work/shared/bench/peers).  Never asserts.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
PEERS_DIR=${E2E_PEERS_DIR:-/work/shared/bench/peers}
VFAB_BUILD=${VFAB_BUILD:-$here/../build/bench}
VFAB_BUILD=$(cd "$VFAB_BUILD" && pwd)
export VFAB_BUILD

# ---------------------------------------------------------------- peer "vfab"
# Runs as a child process: `e2e-switch.sh --peer vfab`.
vfab_peer() {
    set -euo pipefail
    . "$PEERS_DIR/lib.sh"
    local bp=${E2E_VFAB_BUSY_POLL:-0}
    pb_init "vfab$([[ $bp != 0 ]] && echo -busypoll || true)"
    # Globals, not locals: the cleanup trap (vfab_save_stats) runs after
    # this function has returned.
    VFABD_BIN=$VFAB_BUILD/src/vfabd/vfabd
    VFABCTL_BIN=$VFAB_BUILD/src/vfabctl/vfabctl
    [[ -x $VFABD_BIN && -x $VFABCTL_BIN ]] \
        || pb_die "no vfabd/vfabctl in $VFAB_BUILD"
    sw() { "$VFABCTL_BIN" --socket "$PB_TMP/vfabd.sock" "$@"; }

    pb_netns_add pb-host
    pb_netns_add pb-vm1
    pb_netns_add pb-vm2
    pb_start_bg pb-host "$PB_TMP/vfabd.log" "$VFABD_BIN" \
        --socket "$PB_TMP/vfabd.sock" --db "$PB_TMP/vfabd.db" \
        --busy-poll "$bp"
    PB_SWITCH_PID=$PB_LAST_PID
    local i
    for i in $(seq 100); do sw version >/dev/null 2>&1 && break; sleep 0.1; done
    sw version >/dev/null || pb_die "vfabd did not start: $(cat "$PB_TMP/vfabd.log")"
    sw add-br pbbr0 >/dev/null
    for i in 1 2; do
        sw add-port pbbr0 pbtap$i type=tap >/dev/null
        ip -n pb-host link set pbtap$i netns pb-vm$i
    done
    pb_vm_addr pb-vm1 pbtap1 "$PB_VM1_IP/24"
    pb_vm_addr pb-vm2 pbtap2 "$PB_VM2_IP/24"
    pb_record_offloads pb-vm1 pbtap1 pb-vm2 pbtap2
    {
        echo "== vfabd $("$VFABD_BIN" --version 2>&1 | head -1) busy-poll=$bp us, build $VFAB_BUILD"
    } >>"$PB_INFO"
    vfab_save_stats() {
        { echo "== vfabctl port-stats"; sw -j port-stats pbbr0; } >>"$PB_INFO" 2>&1 || true
    }
    PB_PRE_CLEANUP=vfab_save_stats
    pb_measure
}

if [[ ${1:-} == --peer ]]; then
    vfab_peer
    exit $?
fi

# ---------------------------------------------------------------- main
[[ $(id -u) == 0 ]] || { echo "e2e-switch: must run as root" >&2; exit 2; }
[[ -r $PEERS_DIR/lib.sh ]] || { echo "e2e-switch: no $PEERS_DIR/lib.sh" >&2; exit 2; }
if [[ ${E2E_QUICK:-0} == 1 ]]; then
    export PB_REPS=${PB_REPS:-1} PB_DUR=${PB_DUR:-3} PB_PINGS=${PB_PINGS:-200} \
        PB_TG_DUR=${PB_TG_DUR:-2} PB_QUIET_MAX=${PB_QUIET_MAX:-10}
fi
export PB_QUIET_MAX=${PB_QUIET_MAX:-30}
PEERS=${E2E_PEERS:-vfab vfab-busypoll linuxbr ovs ovstso}
RES=$(mktemp -d /tmp/pb-e2e-switch.XXXXXX)
export PB_RESULTS=$RES
[[ ${E2E_KEEP:-0} == 1 ]] || trap 'rm -rf "$RES"' EXIT

# The ping wrapper (see the header).
real_ping=$(command -v ping)
mkdir -p "$RES/bin"
cat >"$RES/bin/ping" <<EOF
#!/usr/bin/env bash
# e2e-switch.sh: records the per-packet RTTs of ping runs of 50 or more.
args=() quiet=0 count=0 prev=
for a in "\$@"; do
    [[ \$prev == -c ]] && count=\$a
    prev=\$a
    if [[ \$a == -q ]]; then quiet=1; else args+=("\$a"); fi
done
if [[ \$quiet == 1 && \$count -ge 50 && -n \${E2E_PING_LOG:-} ]]; then
    out=\$($real_ping "\${args[@]}")
    rc=\$?
    grep -o 'time=[0-9.]*' <<<"\$out" | cut -d= -f2 >>"\$E2E_PING_LOG"
    grep -v 'time=' <<<"\$out"
    exit \$rc
fi
exec $real_ping "\$@"
EOF
chmod +x "$RES/bin/ping"
export PATH="$RES/bin:$PATH"

echo "# e2e-switch: $(uname -r), $(nproc) CPUs; vfabd from $VFAB_BUILD"
echo "# PB_REPS=${PB_REPS:-3} PB_DUR=${PB_DUR:-10} PB_PINGS=${PB_PINGS:-200} PB_TG_DUR=${PB_TG_DUR:-5} PB_QUIET_MAX=$PB_QUIET_MAX; results in $RES"

# run PEER SUMMARY-NAME ENV... -- CMD...
run_peer() {
    local peer=$1 name=$2
    shift 2
    local envs=()
    while [[ $1 != -- ]]; do envs+=("$1"); shift; done
    shift
    echo "# running $peer ($name): ${envs[*]} $*" >&2
    env "${envs[@]}" E2E_PING_LOG="$RES/ping-$name.txt" "$@" \
        >"$RES/run-$name.log" 2>&1 \
        || echo "# $peer FAILED (see $RES/run-$name.log)" >&2
}

for p in $PEERS; do
    case $p in
    vfab) run_peer vfab vfab E2E_VFAB_BUSY_POLL=0 -- "$0" --peer vfab ;;
    vfab-busypoll)
        run_peer vfab-busypoll vfab-busypoll \
            E2E_VFAB_BUSY_POLL="${E2E_BUSY_POLL:-50}" \
            PB_METRICS="${E2E_BUSY_METRICS:-ping iperf}" -- "$0" --peer vfab ;;
    linuxbr) run_peer linuxbr linux-bridge -- "$PEERS_DIR/10-linux-bridge.sh" ;;
    ovs) run_peer ovs ovs-netdev-tap PB_OVS_TSO=false -- "$PEERS_DIR/21-ovs-netdev-tap.sh" ;;
    ovstso) run_peer ovstso ovs-netdev-tap-tso PB_OVS_TSO=true -- "$PEERS_DIR/21-ovs-netdev-tap.sh" ;;
    *) echo "# unknown peer $p (vfab vfab-busypoll linuxbr ovs ovstso)" >&2 ;;
    esac
done

# ---------------------------------------------------------------- report
med() {     # med SUMMARY-NAME METRIC -> median or empty
    awk -F'\t' -v m="$2" '$1 == m && $2 != "NA" { print $2 }' \
        "$RES/summary-$1.tsv" 2>/dev/null
}
p99() {     # p99 SUMMARY-NAME -> 99th percentile of the ping samples (us)
    [[ -s $RES/ping-$1.txt ]] || return 0
    sort -g "$RES/ping-$1.txt" | awk '{ a[NR] = $1 }
        END { i = int(NR * 0.99 + 0.999); if (i < 1) i = 1; if (i > NR) i = NR;
              printf "%.0f", a[i] * 1000 }'
}
line() {    # line METRIC VALUE UNIT
    [[ -n $2 ]] && printf '%s: %s %s\n' "$1" "$2" "$3"
}
declare -A V
for pair in vfab:vfab vfabbp:vfab-busypoll linuxbr:linux-bridge \
            ovs:ovs-netdev-tap ovstso:ovs-netdev-tap-tso; do
    pre=${pair%%:*} name=${pair#*:}
    [[ -f $RES/summary-$name.tsv ]] || continue
    st=$(awk -F'\t' '$1 == "status" { print $2 }' "$RES/summary-$name.tsv")
    [[ $st == ok ]] || { echo "# $name: $st"; continue; }
    V[${pre}_tcp]=$(med "$name" tcp1_gbps)
    V[${pre}_tg1]=$(med "$name" tg1_rx_mpps)
    V[${pre}_udp]=$(med "$name" udp64_rx_kpps)
    V[${pre}_rtt]=$(med "$name" ping_avg_us)
    line "${pre}_tcp_gbps" "${V[${pre}_tcp]}" Gbit/s
    line "${pre}_tcp4_gbps" "$(med "$name" tcp4_gbps)" Gbit/s
    line "${pre}_udp64_kpps" "${V[${pre}_udp]}" kpps
    line "${pre}_udp64_loss_pct" "$(med "$name" udp64_loss_pct)" %
    line "${pre}_rtt_avg_us" "${V[${pre}_rtt]}" us
    line "${pre}_rtt_min_us" "$(med "$name" ping_min_us)" us
    line "${pre}_rtt_p99_us" "$(p99 "$name")" us
    line "${pre}_tg1_mpps" "${V[${pre}_tg1]}" Mpps
    line "${pre}_tgn_mpps" "$(med "$name" tgn_rx_mpps)" Mpps
    line "${pre}_tcp_switch_cores" "$(med "$name" tcp1_swcpu)" cores
    line "${pre}_tg1_switch_cores" "$(med "$name" tg1_swcpu)" cores
done
ratio() {   # ratio METRIC A B UNIT-LESS
    [[ -n ${V[$2]:-} && -n ${V[$3]:-} ]] || return 0
    awk -v a="${V[$2]}" -v b="${V[$3]}" -v m="$1" \
        'BEGIN { if (b > 0) printf "%s: %.2f x\n", m, a / b }'
}
echo "# goals: TCP >= Linux bridge and >= 3x OVS userspace; 64-byte pps >= 2x OVS userspace"
ratio vfab_tcp_vs_linuxbr vfab_tcp linuxbr_tcp
ratio vfab_tcp_vs_ovs vfab_tcp ovs_tcp
ratio vfab_tcp_vs_ovstso vfab_tcp ovstso_tcp
ratio vfab_tg1_vs_ovs vfab_tg1 ovs_tg1
ratio vfab_tg1_vs_ovstso vfab_tg1 ovstso_tg1
ratio vfab_udp64_vs_ovs vfab_udp ovs_udp
ratio vfab_udp64_vs_ovstso vfab_udp ovstso_udp
ratio vfab_tg1_vs_linuxbr vfab_tg1 linuxbr_tg1
ratio vfabbp_rtt_vs_vfab vfabbp_rtt vfab_rtt
exit 0
