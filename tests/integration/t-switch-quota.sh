#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Per-VNIC buffer quotas (pkt-pool.h, dp-thread.c): a VNIC whose frames go
# to the agent is throttled by its own quota, not the switch.
#
#   vm q: tap port q, quota=8; "udp,tp_dst=9999" from it -> controller
#   vm a, vm b: tap ports with the default quota
#
# q blasts UDP to port 9999 (every datagram an upcall, drained by the
# agent at a bounded rate per loop, dp.c) for a few seconds; meanwhile a
# pings b every 10 ms and runs iperf3 to b.  Checks: q's ordinary
# traffic works under quota 8; during the blast a->b loses no ping and
# keeps a fair share of its TCP throughput; q's port-stats show
# quota_skips > 0 and quota denials > 0, in_use and peak never above the
# limit, in_use back to 0 once the blast ends; other ports never skipped.
. "$(dirname "$0")/lib.sh"
. "$VF_SRC/tests/integration/tools/switch-lib.sh"
vf_require_root_netns
sw_require
command -v iperf3 >/dev/null || vf_skip "iperf3 missing"

for n in host q a b; do vf_ns_add $n; done
vf_vfabd host sw
Q=${VF_P}q A=${VF_P}a B=${VF_P}b
vfctl sw add-br br0 || vf_fail "add-br"
vfctl sw add-port br0 "$Q" type=tap quota=8 || vf_fail "add-port q"
vfctl sw add-port br0 "$A" type=tap || vf_fail "add-port a"
vfctl sw add-port br0 "$B" type=tap || vf_fail "add-port b"
vf_vm q "$Q" host 10.63.0.1/24
vf_vm a "$A" host 10.63.0.2/24
vf_vm b "$B" host 10.63.0.3/24
vfctl sw add-flow br0 "priority=100,in_port=$Q,udp,tp_dst=9999,actions=controller" \
    || vf_fail "add-flow controller"

qstat() { sw_port_json sw br0 "$Q"; }

# 1. Quota 8 is enough for q's ordinary traffic, ping and TCP.
vf_ping q 10.63.0.2 3
vf_ping a 10.63.0.1 2
vf_in a iperf3 -s -1 -D -p 5301 >/dev/null
sleep 0.3
vf_in q timeout 20 iperf3 -c 10.63.0.2 -p 5301 -t 1 >/dev/null \
    || vf_fail "TCP from the quota-8 VNIC failed"
j=$(qstat)
vf_log "q after ordinary traffic: $(jq -c '{quota, quota_skips}' <<<"$j")"

# 2. Baseline a -> b TCP, alone.
vf_in b iperf3 -s -D -p 5302 >/dev/null
sleep 0.3
base=$(vf_in a timeout 20 iperf3 -c 10.63.0.3 -p 5302 -t 2 -J \
    | jq '.end.sum_received.bits_per_second / 1e6 | floor') \
    || vf_fail "baseline iperf3"
vf_log "a->b TCP alone: $base Mbit/s"

# 3. The blast: every datagram is an upcall.
skips0=$(jq '.quota_skips' <<<"$(qstat)")
den0=$(jq '.quota.denials' <<<"$(qstat)")
vf_bg q /usr/bin/python3 -c '
import socket, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 1 << 20)
end = time.time() + 6
n = 0
while time.time() < end:
    for _ in range(256):
        try:
            s.sendto(b"x" * 32, ("10.63.0.2", 9999))
            n += 1
        except OSError:
            pass
print("sent", n)'
blast=$VF_LAST_PID
blast_log=$VF_LAST_LOG
sleep 0.5
peak=0
monitor() {
    while kill -0 "$blast" 2>/dev/null; do
        qstat | jq -c '.quota' >>"$VF_TMP/quota.samples"
        sleep 0.1
    done
}
monitor &
mon=$!
out=$(vf_in a ping -q -c 200 -i 0.01 -W 1 10.63.0.3) || true
loss=$(grep -oE '[0-9.]+% packet loss' <<<"$out" | cut -d% -f1)
tcp=$(vf_in a timeout 20 iperf3 -c 10.63.0.3 -p 5302 -t 2 -J \
    | jq '.end.sum_received.bits_per_second / 1e6 | floor') \
    || vf_fail "iperf3 during the blast"
wait "$blast"
wait "$mon"
vf_log "blast: $(cat "$blast_log"); a->b ping loss $loss %, TCP $tcp Mbit/s"
[ "${loss:-100}" = 0 ] || vf_fail "a->b lost $loss % of its pings during the blast"
# Two cores are shared by the blaster, the datapath and agent threads and
# both iperf3 ends: a->b must keep a share, not its solo figure.
[ "$tcp" -ge $((base / 8)) ] && [ "$tcp" -ge 500 ] \
    || vf_fail "a->b TCP $tcp Mbit/s during the blast, $base alone"

# 4. q's counters.
j=$(qstat)
vf_log "q after the blast: $(jq -c '{rx_packets, quota, quota_skips, drops}' <<<"$j")"
skips=$(( $(jq '.quota_skips' <<<"$j") - skips0 ))
den=$(( $(jq '.quota.denials' <<<"$j") - den0 ))
[ "$skips" -gt 0 ] || vf_fail "no quota_skips during the blast"
[ "$den" -gt 0 ] || vf_fail "no quota denials during the blast"
[ "$(jq '.quota.limit' <<<"$j")" = 8 ] || vf_fail "quota limit is not 8"
[ "$(jq '.quota.peak <= .quota.limit' <<<"$j")" = true ] \
    || vf_fail "peak above the limit: $(jq -c .quota <<<"$j")"
over=$(jq -s '[.[] | select(.in_use > .limit)] | length' "$VF_TMP/quota.samples")
n_samples=$(wc -l <"$VF_TMP/quota.samples")
busy=$(jq -s '[.[] | select(.in_use > 0)] | length' "$VF_TMP/quota.samples")
vf_log "$n_samples samples during the blast, $busy with buffers in use, $over over the limit"
[ "$over" = 0 ] || vf_fail "in_use went above the limit"
q_idle() { [ "$(qstat | jq '.quota.in_use')" = 0 ]; }
vf_wait 5 q_idle \
    || vf_fail "q still holds buffers after the blast: $(qstat | jq -c .quota)"
for p in "$A" "$B"; do
    [ "$(sw_port_json sw br0 "$p" | jq '.quota_skips')" = 0 ] \
        || vf_fail "port $p was skipped for quota"
done
# The quota-limited VNIC recovers at once.
vf_ping q 10.63.0.2 3

sw_stop_clean sw
vf_log "PASS"
