#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# VLANs in vfabd.  This kernel has no 8021q driver, so tagged frames are
# crafted and captured by scapy on raw sockets (tools/switch-scapy.py).
#
#   h1 (vfabd sw1)                          h2 (vfabd sw2)
#     a10 tap vlan=10 ┐                    ┌ b10 tap vlan=10
#     a20 tap vlan=20 ┼ trk ══ veth ══ trk ┼ b20 tap vlan=20
#     obs afpacket    ┘  trunks=10,20      ┘
#     trunks=10,20 ── veth ── ns "obs" (scapy injects tagged frames)
#
#   h3 (vfabd sw3): brA {c10 vlan=10, c20 vlan=20, patch pa} and
#                   brB {d10 vlan=10, d20 vlan=20, patch pb}, pa<->pb
#                   patch ports with trunks=10,20.
#
# Checks: same-VLAN VMs ping across the trunk, different VLANs do not
# (same subnet, so only the VLAN separates them); a broadcast from a vlan-10
# VM reaches the vlan-10 VM on the other host and no vlan-20 VM; every
# frame on the trunk veth carries the right 802.1Q tag; frames tagged
# 10/20/30 (and untagged) injected on the obs trunk reach only their VLAN,
# 30 and untagged are dropped and counted in drops.vlan; the same
# isolation across patch ports in one daemon.
. "$(dirname "$0")/lib.sh"
. "$VF_SRC/tests/integration/tools/switch-lib.sh"
vf_require_root_netns
sw_require

for n in h1 h2 h3 obs a10 a20 b10 b20 c10 c20 d10 d20; do vf_ns_add $n; done
# No IPv6 chatter from the hosts' and the observer's own stacks on the
# trunks: every frame there must come from the switches.
for n in h1 h2 obs; do
    vf_in $n sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
        net.ipv6.conf.default.disable_ipv6=1
done
vf_vfabd h1 sw1
vf_vfabd h2 sw2
vf_vfabd h3 sw3

T=$VF_P                              # tap name prefix
vf_veth h1 trk h2 trk
vf_veth h1 obs obs eth0
for s in 1 2; do
    vfctl sw$s add-br br0 || vf_fail "add-br sw$s"
    vfctl sw$s add-port br0 trk type=afpacket trunks=10,20 \
        || vf_fail "add-port trk sw$s"
done
vfctl sw1 add-port br0 obs type=afpacket trunks=10,20 || vf_fail "add-port obs"
ip=1
for vm in a10 a20 b10 b20; do
    h=h1; s=sw1
    [ "${vm:0:1}" = b ] && { h=h2; s=sw2; }
    vfctl $s add-port br0 "$T$vm" type=tap vlan=${vm:1} \
        || vf_fail "add-port $vm"
    vf_vm $vm "$T$vm" $h 10.60.0.$ip/24
    ip=$((ip + 1))
done
# a10 = .1, a20 = .2, b10 = .3, b20 = .4

# 1. Same VLAN across the trunk pings; other VLANs are invisible.  The
#    trunk veth is captured meanwhile, at both ends: vfabd's AF_PACKET
#    ports bypass the qdisc, so a capture sees only received frames.
sw_sniff h1 trk 60 trunk1
sw_sniff h2 trk 60 trunk2
vf_ping a10 10.60.0.3 3
vf_ping a20 10.60.0.4 3
vf_ping b10 10.60.0.1 2
vf_ping b20 10.60.0.2 2
vf_no_ping a10 10.60.0.4
vf_no_ping a10 10.60.0.2
vf_no_ping b20 10.60.0.3
vf_no_ping b10 10.60.0.2
sw_sniff_stop trunk1
sw_sniff_stop trunk2
cat "$VF_TMP/trunk1.json" "$VF_TMP/trunk2.json" >"$VF_TMP/trunk.json"

# 2. Tags on the trunk: ICMP and ARP of .1/.3 in VLAN 10, of .2/.4 in VLAN
#    20, and nothing untagged or in another VLAN.
n10=$(sw_count trunk '.proto==1 and .vlan==10 and (.ipsrc=="10.60.0.1" or .ipsrc=="10.60.0.3")')
n20=$(sw_count trunk '.proto==1 and .vlan==20 and (.ipsrc=="10.60.0.2" or .ipsrc=="10.60.0.4")')
bad=$(sw_count trunk '(.vlan!=10 and .vlan!=20)
    or (.vlan==10 and ((.ipsrc // .psrc) | test("^10\\.60\\.0\\.[24]$")))
    or (.vlan==20 and ((.ipsrc // .psrc) | test("^10\\.60\\.0\\.[13]$")))')
arp=$(sw_count trunk '.etype=="0806" and (.vlan==10 or .vlan==20)')
vf_log "trunk capture: $n10 ICMP in VLAN 10, $n20 in VLAN 20, $arp ARP tagged, $bad wrong"
[ "$n10" -ge 10 ] && [ "$n20" -ge 10 ] && [ "$arp" -ge 2 ] \
    || vf_fail "trunk capture lacks tagged frames: $(head -5 "$VF_TMP/trunk.json")"
[ "$bad" = 0 ] || vf_fail "frames with a wrong or no tag on the trunk: \
$(jq -c 'select((.vlan!=10 and .vlan!=20))' "$VF_TMP/trunk.json" | head -3)"

# 3. A broadcast from a10 reaches b10 (and the obs trunk, tagged 10), never
#    a vlan-20 VM.
for vm in b10 a20 b20; do sw_sniff $vm "$T$vm" 30 bc-$vm; done
sw_sniff obs eth0 30 bc-obs
a10mac=$(sw_mac a10 "${T}a10")
sw_send a10 "${T}a10" 3 \
    "Ether(src='$a10mac',dst='ff:ff:ff:ff:ff:ff')/IP(src='10.60.0.1',dst='10.60.0.255')/UDP(sport=7,dport=9)/'SWT-bc10'"
sw_wait_count 5 bc-b10 '.mark=="SWT-bc10"' 3 \
    || vf_fail "b10 did not get a10's broadcast"
sw_wait_count 5 bc-obs '.mark=="SWT-bc10" and .vlan==10' 3 \
    || vf_fail "the obs trunk did not get a10's broadcast tagged 10"
sleep 0.5
for vm in b10 a20 b20 obs; do sw_sniff_stop bc-$vm; done
for vm in a20 b20; do
    [ "$(sw_count bc-$vm '.mark=="SWT-bc10"')" = 0 ] \
        || vf_fail "$vm (VLAN 20) saw a VLAN 10 broadcast"
done
[ "$(sw_count bc-obs '.mark=="SWT-bc10" and .vlan!=10')" = 0 ] \
    || vf_fail "the broadcast left the obs trunk with a wrong tag"
[ "$(sw_count bc-b10 '.mark=="SWT-bc10" and .vlan!=null')" = 0 ] \
    || vf_fail "b10 (access port) received a tagged frame"

# 4. Frames injected on the obs trunk: tagged 10, 20, 30 and untagged.
drops0=$(sw_drop sw1 br0 obs vlan)
for vm in a10 a20 b10 b20; do sw_sniff $vm "$T$vm" 30 in-$vm; done
bc="Ether(src='02:5e:00:00:00:01',dst='ff:ff:ff:ff:ff:ff')"
udp="IP(src='10.60.0.200',dst='10.60.0.255')/UDP(sport=7,dport=9)"
sw_send obs eth0 3 "$bc/Dot1Q(vlan=10)/$udp/'SWT-i10'" \
    "$bc/Dot1Q(vlan=20)/$udp/'SWT-i20'" \
    "$bc/Dot1Q(vlan=30)/$udp/'SWT-i30'" "$bc/$udp/'SWT-i0'"
for vm in a10 b10; do
    sw_wait_count 5 in-$vm '.mark=="SWT-i10"' 3 \
        || vf_fail "$vm did not get the frames tagged 10"
done
for vm in a20 b20; do
    sw_wait_count 5 in-$vm '.mark=="SWT-i20"' 3 \
        || vf_fail "$vm did not get the frames tagged 20"
done
sleep 0.5
for vm in a10 a20 b10 b20; do sw_sniff_stop in-$vm; done
for vm in a10 b10; do
    [ "$(sw_count in-$vm '.mark!=null and .mark!="SWT-i10"')" = 0 ] \
        || vf_fail "$vm got frames of another VLAN: $(jq -c 'select(.mark!=null)' "$VF_TMP/in-$vm.json" | sort | uniq -c)"
done
for vm in a20 b20; do
    [ "$(sw_count in-$vm '.mark!=null and .mark!="SWT-i20"')" = 0 ] \
        || vf_fail "$vm got frames of another VLAN: $(jq -c 'select(.mark!=null)' "$VF_TMP/in-$vm.json" | sort | uniq -c)"
done
for vm in a10 a20 b10 b20; do
    [ "$(sw_count in-$vm '.vlan!=null')" = 0 ] \
        || vf_fail "$vm (access port) received a tagged frame"
done
drops1=$(sw_drop sw1 br0 obs vlan)
vf_log "obs trunk drops.vlan: $drops0 -> $drops1"
[ $((drops1 - drops0)) = 6 ] \
    || vf_fail "drops.vlan grew by $((drops1 - drops0)), want 6 (3 tagged 30, 3 untagged)"
[ "$(sw_drop sw2 br0 trk vlan)" = 0 ] \
    || vf_fail "VLAN 30 or untagged frames crossed the trunk to sw2"

# 5. Two bridges in one daemon joined by patch ports with trunks.
vfctl sw3 add-br brA || vf_fail "add-br brA"
vfctl sw3 add-br brB || vf_fail "add-br brB"
vfctl sw3 add-port brA "${T}pa" type=patch peer="${T}pb" trunks=10,20 \
    || vf_fail "add-port patch pa"
vfctl sw3 add-port brB "${T}pb" type=patch peer="${T}pa" trunks=10,20 \
    || vf_fail "add-port patch pb"
ip=1
for vm in c10 c20 d10 d20; do
    br=brA
    [ "${vm:0:1}" = d ] && br=brB
    vfctl sw3 add-port $br "$T$vm" type=tap vlan=${vm:1} \
        || vf_fail "add-port $vm"
    vf_vm $vm "$T$vm" h3 10.61.0.$ip/24
    ip=$((ip + 1))
done
vf_ping c10 10.61.0.3 3
vf_ping c20 10.61.0.4 3
vf_ping d10 10.61.0.1 2
vf_no_ping c10 10.61.0.4
vf_no_ping c20 10.61.0.3
vf_no_ping c10 10.61.0.2
for vm in d10 d20 c20; do sw_sniff $vm "$T$vm" 30 pbc-$vm; done
c10mac=$(sw_mac c10 "${T}c10")
sw_send c10 "${T}c10" 3 \
    "Ether(src='$c10mac',dst='ff:ff:ff:ff:ff:ff')/IP(src='10.61.0.1',dst='10.61.0.255')/UDP(sport=7,dport=9)/'SWT-pbc10'"
sw_wait_count 5 pbc-d10 '.mark=="SWT-pbc10"' 3 \
    || vf_fail "d10 did not get c10's broadcast through the patch"
sleep 0.5
for vm in d10 d20 c20; do sw_sniff_stop pbc-$vm; done
for vm in d20 c20; do
    [ "$(sw_count pbc-$vm '.mark=="SWT-pbc10"')" = 0 ] \
        || vf_fail "$vm (VLAN 20) saw a VLAN 10 broadcast through the patch"
done
fdb=$(vfctl sw3 -j fdb-show brB)
c10_on=$(vf_jq "$fdb" ".entries[] | select(.mac==\"$c10mac\") | \"\(.port)/\(.vlan)\"")
[ "$c10_on" = "${T}pb/10" ] || vf_fail "brB learned c10 as '$c10_on', want ${T}pb/10"
for s in 1 2 3; do sw_stop_clean sw$s; done
vf_log "PASS"
