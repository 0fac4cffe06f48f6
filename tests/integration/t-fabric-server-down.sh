#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Server down: established traffic keeps flowing; new destinations are
# resolved after it returns.
#
#   1. a1 (h1) pings a2 (h2) continuously while vfab-policyd is killed
#      (SIGKILL): at most a few packets lost; `vfabctl show` and
#      `call fabric/show` say the server is unreachable, and since when;
#   2. meanwhile b1 (h1) cannot reach b2 (h2): they never talked;
#   3. vfab-policyd restarts on the same database and port: b1 reaches b2
#      within a bounded time;
#   4. it runs with --lifetime 2 --negative-lifetime 2, is killed again,
#      and b1 keeps pinging b2 for longer than that: the expired
#      translations are still served (stale hits counted).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/fabric-lib.sh"
vf_require_root_netns

fab_init
padm tenant-create blue >/dev/null \
    && padm net-create blue-net --tenant blue --vni 5001 --subnet 10.1.0.0/24 >/dev/null \
    || vf_fail "tenant/network"
fab_host 1
fab_host 2
i=0
for v in a1:h1 a2:h2 b1:h1 b2:h2; do
    i=$((i + 1))
    padm vnic-create "${v%:*}" --network blue-net --mac "02:00:00:00:01:0$i" \
        --ip "10.1.0.$i" --host "${v#*:}" >/dev/null || vf_fail "vnic $v"
    fab_vm "${v%:*}" "${v#*:}" "${v%:*}" "10.1.0.$i/24"
done
vf_wait 15 vf_in a1 ping -c 1 -W 1 10.1.0.2 || vf_fail "a1 -> a2 before the test"

# 1. Kill the server under a running ping (0.1 s apart, 8 s).
vf_in a1 ping -c 80 -i 0.1 -W 1 10.1.0.2 >"$VF_TMP/ping1" 2>&1 &
ping_pid=$!
sleep 2
t_kill=$(date +%s)
fab_policyd_kill KILL
vf_log "vfab-policyd killed"
unreachable() {
    vfctl "$1" -j call fabric/show | jq -e '.reachable == false' >/dev/null
}
vf_wait 10 unreachable h1 && vf_wait 10 unreachable h2 \
    || { vfctl h1 -j call fabric/show >&2; vf_fail "agents still see the server"; }
since=$(vfctl h1 -j call fabric/show | jq '.unreachable_since_ms')
[ "$since" != null ] && [ $((since / 1000)) -ge $((t_kill - 1)) ] \
    && [ $((since / 1000)) -le $(($(date +%s) + 1)) ] \
    || vf_fail "unreachable_since_ms '$since' (killed at $t_kill)"
line=$(vfctl h1 show | grep -m1 '^Fabric:')
vf_log "show: $line"
[[ $line == *UNREACHABLE\ since\ * ]] || { vfctl h1 show >&2; vf_fail "vfabctl show does not say unreachable since"; }

# 2. A pair that never talked cannot resolve meanwhile.
if vf_in b1 ping -c 3 -i 0.2 -W 1 10.1.0.4 >/dev/null 2>&1; then
    vf_fail "b1 reached b2 with the server down"
fi
nei=$(vf_in b1 ip neigh show 10.1.0.4 | awk '{print $NF}')
vf_log "b1's neighbour entry for b2 while down: ${nei:-none}"

wait $ping_pid
recv=$(sed -n 's/.* \([0-9]*\) received.*/\1/p' "$VF_TMP/ping1")
vf_log "a1 -> a2 across the kill: ${recv:-0}/80 received"
[ "${recv:-0}" -ge 77 ] || { cat "$VF_TMP/ping1" >&2; vf_fail "established traffic lost"; }

# 3. Back on the same database and port: the new pair resolves.
t0=$(date +%s%N)
fab_policyd_start --lifetime 2 --negative-lifetime 2
vf_wait 30 vf_in b1 ping -c 1 -W 1 10.1.0.4 || {
    vfctl h1 -j call fabric/show >&2; vf_fail "b1 -> b2 after the server returned"; }
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
vf_log "b1 -> b2 answered ${ms} ms after the restart"
vfctl h1 -j call fabric/show | jq -e '.reachable == true' >/dev/null \
    || vf_fail "h1 does not see the server back"
vf_ping a1 10.1.0.2 3

# 4. Lifetime 2 s: kill again and keep pinging for 6 s (entries expire
#    after 2 s, the agents keep serving them).
vf_ping b1 10.1.0.4 3     # fresh 2 s translations on both sides
stale_hits() {
    vfctl "$1" -j call fabric/show \
        | jq "[.vnics[] | select(.vnic==\"$2\") | .translations.stale_hits // 0] | add // 0"
}
s1=$(stale_hits h1 b1)
fab_policyd_kill KILL
vf_in b1 ping -c 30 -i 0.2 -W 1 10.1.0.4 >"$VF_TMP/ping2" 2>&1
recv=$(sed -n 's/.* \([0-9]*\) received.*/\1/p' "$VF_TMP/ping2")
s2=$(stale_hits h1 b1)
s3=$(stale_hits h2 b2)
vf_log "b1 -> b2 past the lifetime, server down: ${recv:-0}/30 received;" \
    "stale hits h1/b1 $s1 -> $s2, h2/b2 $s3"
[ "${recv:-0}" -ge 28 ] || { cat "$VF_TMP/ping2" >&2; vf_fail "expired entries not served"; }
[ "$s2" -gt "$s1" ] && [ "$s3" -gt 0 ] || vf_fail "no stale hits counted"
vf_log "PASS"
