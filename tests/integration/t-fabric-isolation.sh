#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# A VM never receives a frame of another tenant, even with overlapping
# subnets and identical addresses.  Tenants blue (VNI 5001) and red (VNI
# 5002) both use 10.1.0.0/24 with the same IPs on three hosts (two VMs of
# each tenant on h1, so host-local flooding is exercised too).  Every VM
# captures what it receives while every VM sends (tools/fabric-iso.py):
# ARP, UDP broadcast, IPv4/IPv6 multicast, unicast to every MAC of both
# tenants (own tenant: positive controls), forged 802.1Q tags, forged
# source MACs.  Then from the underlay: VXLAN frames with a valid VNI but a
# forged source VTEP, an unknown inner source, and a VNI on no host.
# Asserted: no VM saw a frame of the other tenant (by source MAC, ARP
# sender or payload marker) nor an injected one; every VM saw its
# controls; drops were counted at the source (policy, spoof_*) and
# on the uplinks (vtep, no_dest).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/fabric-lib.sh"
vf_require_root_netns
command -v tcpdump >/dev/null || vf_skip "tcpdump missing"
/usr/bin/python3 -c "import scapy" 2>/dev/null || vf_skip "scapy missing"
ISO="/usr/bin/python3 $VF_SRC/tests/integration/tools/fabric-iso.py"

fab_init
padm tenant-create blue >/dev/null && padm tenant-create red >/dev/null \
    || vf_fail "tenants"
padm net-create blue-net --tenant blue --vni 5001 --subnet 10.1.0.0/24 >/dev/null \
    && padm net-create red-net --tenant red --vni 5002 --subnet 10.1.0.0/24 >/dev/null \
    || vf_fail "networks"
fab_host 1
fab_host 2
fab_host 3
VMS=()
declare -A HOST_OF
# name tenant-digit host last-octet
for spec in b1:1:1:1 b2:1:2:2 b3:1:3:3 b4:1:1:4 r1:2:1:1 r2:2:2:2 r3:2:3:3 r4:2:1:4; do
    IFS=: read -r name t h n <<<"$spec"
    net=$([ "$t" = 1 ] && echo blue-net || echo red-net)
    padm vnic-create "$name" --network "$net" --mac "02:00:00:00:0$t:0$n" \
        --ip "10.1.0.$n" --host "h$h" >/dev/null || vf_fail "vnic $name"
    fab_vm "$name" "h$h" "$name" "10.1.0.$n/24"
    VMS+=("$name")
    HOST_OF[$name]=h$h
done

# Both tenants work (and the translations are warm).
vf_wait 15 vf_in b1 ping -c 1 -W 1 10.1.0.2 || vf_fail "blue b1 -> b2"
vf_wait 15 vf_in r1 ping -c 1 -W 1 10.1.0.3 || vf_fail "red r1 -> r3"

# The plan for fabric-iso.py.
{
    printf '{"vms": ['
    sep=
    for vm in "${VMS[@]}"; do
        tap="${VF_P}$vm"; tap=${tap:0:15}
        mac=$(vf_in "$vm" cat "/sys/class/net/$tap/address")
        ten=$([ "${vm:0:1}" = b ] && echo blue || echo red)
        printf '%s{"name":"%s","tenant":"%s","ns":"%s","iface":"%s","mac":"%s","ip":"10.1.0.%s"}' \
            "$sep" "$vm" "$ten" "$(vf_ns "$vm")" "$tap" "$mac" "${vm:1}"
        sep=,
    done
    printf '], "hosts": {'
    sep=
    for vm in "${VMS[@]}"; do
        printf '%s"%s":"%s"' "$sep" "$vm" "${HOST_OF[$vm]}"; sep=,
    done
    printf '}, "vnis": {"blue": 5001, "red": 5002}, "vteps": {'
    sep=
    for h in 1 2 3; do
        vmac=$(vfctl h$h -j call fabric/show | jq -r .bridge.vtep_mac)
        printf '%s"h%s":{"ip":"192.168.100.%s","mac":"%s"}' "$sep" "$h" "$h" "$vmac"
        sep=,
    done
    printf '}}\n'
} >"$VF_TMP/plan.json"
jq -e . "$VF_TMP/plan.json" >/dev/null || vf_fail "plan: $(cat "$VF_TMP/plan.json")"

# Sniffers: what each VM receives.
SNIFF_PIDS=()
for vm in "${VMS[@]}"; do
    tap="${VF_P}$vm"; tap=${tap:0:15}
    vf_bg "$vm" tcpdump -i "$tap" -Q in -U -n -s 0 -w "$VF_TMP/$vm.pcap"
    SNIFF_PIDS+=("$VF_LAST_PID")
    log=$VF_LAST_LOG
    vf_wait 10 grep -q "listening on" "$log" || vf_fail "tcpdump in $vm: $(cat "$log")"
done

snapshot() {
    local h c
    for h in 1 2 3; do
        vfctl h$h -j port-stats fab >"$VF_TMP/stats-$1-h$h.json" || vf_fail "port-stats h$h"
    done
}
# sum_drops TAG HOST PORT-REGEX COUNTER
sum_drops() {
    jq "[.ports[] | select(.port | test(\"$3\")) | .drops.$4 // 0] | add // 0" \
        "$VF_TMP/stats-$1-$2.json"
}
snapshot a
$ISO send "$VF_TMP/plan.json" 1 || vf_fail "send round 1"
sleep 1
$ISO send "$VF_TMP/plan.json" 2 || vf_fail "send round 2"
sleep 1
$ISO inject "$VF_TMP/plan.json" "$(vf_ns ul)" br-ul || vf_fail "inject"
sleep 1.5
snapshot b
for pid in "${SNIFF_PIDS[@]}"; do
    fab_stop "$pid"
done

$ISO check "$VF_TMP/plan.json" "$VF_TMP" >"$VF_TMP/check.out" 2>&1
rc=$?
while read -r line; do vf_log "$line"; done <"$VF_TMP/check.out"
[ $rc -eq 0 ] || vf_fail "isolation violated or controls missing (see above)"

# Drops at the sources and on the uplinks.
# (A forged 802.1Q tag is tenant payload: such frames reach the sender's
# own tenant only, like any other; cross-tenant ones are policy drops.)
for c in policy spoof_mac spoof_arp; do
    n=0
    for h in 1 2 3; do
        a=$(sum_drops a h$h "^${VF_P}" "$c"); b=$(sum_drops b h$h "^${VF_P}" "$c")
        n=$((n + b - a))
    done
    vf_log "VM ports, drops.$c: $n"
    [ "$n" -gt 0 ] || vf_fail "no drops.$c counted at the source hosts"
done
for c in vtep no_dest; do
    n=0
    for h in 1 2 3; do
        a=$(sum_drops a h$h '^up0$' "$c"); b=$(sum_drops b h$h '^up0$' "$c")
        vf_log "h$h up0 drops.$c: +$((b - a))"
        [ $((b - a)) -gt 0 ] || vf_fail "h$h: no drops.$c for the injected frames"
    done
done
vf_log "PASS"
