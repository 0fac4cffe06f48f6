#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Two hosts, one policy server, two tenants with overlapping subnets:
# same-tenant VMs reach each other across hosts over VXLAN (or Geneve with
# FAB_TUNNEL=geneve), other tenants never; the underlay carries the right
# VNI (seen by tshark), ARP is answered locally, denied traffic is counted
# at the source, and `fabric/translate` shows what the server answers.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/fabric-lib.sh"
vf_require_root_netns
command -v tshark >/dev/null || vf_skip "tshark missing"

fab_init
padm tenant-create blue >/dev/null && padm tenant-create red >/dev/null \
    || vf_fail "tenants"
padm net-create blue-net --tenant blue --vni 5001 --subnet 10.1.0.0/24 >/dev/null \
    && padm net-create red-net --tenant red --vni 5002 --subnet 10.1.0.0/24 >/dev/null \
    || vf_fail "networks"
fab_host 1
fab_host 2
padm vnic-create b1 --network blue-net --mac 02:00:00:00:01:01 --ip 10.1.0.1 --host h1 >/dev/null &&
padm vnic-create b2 --network blue-net --mac 02:00:00:00:01:02 --ip 10.1.0.2 --host h2 >/dev/null &&
padm vnic-create r1 --network red-net --mac 02:00:00:00:02:01 --ip 10.1.0.1 --host h2 >/dev/null &&
padm vnic-create r2 --network red-net --mac 02:00:00:00:02:02 --ip 10.1.0.2 --host h1 >/dev/null \
    || vf_fail "vnics"
fab_vm b1 h1 b1 10.1.0.1/24
fab_vm b2 h2 b2 10.1.0.2/24
fab_vm r1 h2 r1 10.1.0.1/24
fab_vm r2 h1 r2 10.1.0.2/24

# Capture the underlay while the VMs talk.
fab_capture ul br-ul "udp port 4789 or udp port 6081" "$VF_TMP/ul.pcap"
vf_wait 15 vf_in b1 ping -c 1 -W 1 10.1.0.2 || {
    vfctl h1 -j call fabric/show >&2; vf_fail "blue b1 -> b2 across hosts"; }
vf_ping b1 10.1.0.2 3
vf_ping r1 10.1.0.2 3
# Overlapping addresses: each tenant reaches its own 10.1.0.2 only.
mac=$(vf_in b1 ip neigh show 10.1.0.2 | awk '{print $5}')
[ "$mac" = 02:00:00:00:01:02 ] || vf_fail "b1 resolved 10.1.0.2 to $mac"
mac=$(vf_in r1 ip neigh show 10.1.0.2 | awk '{print $5}')
[ "$mac" = 02:00:00:00:02:02 ] || vf_fail "r1 resolved 10.1.0.2 to $mac"
# 10.1.0.1 is the first address of the subnet (the implicit gateway), but
# a VNIC owns it: b2 must reach b1 itself, not the distributed router.
mac=$(vf_in b2 ip neigh show 10.1.0.1 | awk '{print $5}')
[ "$mac" = 02:00:00:00:01:01 ] || vf_fail "b2 resolved 10.1.0.1 to $mac"
fab_capture_stop
vnis=$(for v in $(tshark -r "$VF_TMP/ul.pcap" -T fields -e vxlan.vni \
                      -e geneve.vni 2>/dev/null | tr '\t,' '\n\n' | sort -u); do
          printf '%d\n' "$v"      # tshark prints Geneve VNIs in hex
      done | sort -un | tr '\n' ' ')
vf_log "VNIs on the underlay: $vnis"
[ "$vnis" = "5001 5002 " ] || vf_fail "underlay VNIs '$vnis', want '5001 5002 '"

# Isolation: a blue VM that sends to red's MAC gets nothing through.
vf_in b1 ip neigh replace 10.1.0.2 lladdr 02:00:00:00:02:02 nud permanent \
    dev "${VF_P}b1" || vf_fail "neigh replace"
vf_no_ping b1 10.1.0.2
vf_in b1 ip neigh del 10.1.0.2 dev "${VF_P}b1"
stats=$(vfctl h1 -j port-stats fab)
pol=$(jq "[.ports[] | select(.port==\"${VF_P}b1\") | .drops.policy // 0] | add" <<<"$stats")
vf_log "policy drops at b1's port: $pol"
[ "$pol" -gt 0 ] || vf_fail "the cross-tenant frame was not dropped at the source"

# What the datapath uses equals what the server answers.
dp=$(vfctl h1 -j call fabric/translate b1 02:00:00:00:01:02)
srv=$(padm -j translate b1 02:00:00:00:01:02)
for f in vni underlay_ip dst_mac; do
    a=$(jq -r ".$f" <<<"$dp"); b=$(jq -r ".results[0].$f" <<<"$srv")
    [ "$a" = "$b" ] || vf_fail "translate $f: datapath '$a', server '$b'"
done
vf_log "PASS"
