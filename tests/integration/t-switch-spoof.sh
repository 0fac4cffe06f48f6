#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Anti-spoofing of a VNIC with an identity (mac= and ip=, bridge/vnic.h).
#
#   vm "v": tap port v, mac=02:62:00:00:00:01 ip=10.62.0.1,fd62::1
#   vm "p": tap port p, no identity (the sniffing peer), .2 / fd62::2
#   vm "x": tap port x, no identity (claims v's MAC)
#
# From inside v, scapy writes on a raw socket: frames with a wrong source
# MAC, a wrong source IPv4, forged ARP replies (wrong sender IP, wrong
# sender MAC), IPv6 from a wrong source, a neighbor advertisement for p's
# address, a router advertisement.  None reaches p; each is counted under
# its drops.* reason, exactly.  Legitimate traffic (ping, ARP, ping6 to a
# global and to an EUI-64 link-local address, so ND) still works and is
# not counted.  A frame from x with v's MAC does not move v's MAC-table
# entry (static) and x never gets v's traffic.
. "$(dirname "$0")/lib.sh"
. "$VF_SRC/tests/integration/tools/switch-lib.sh"
vf_require_root_netns
sw_require

VMAC=02:62:00:00:00:01
BAD=02:62:00:00:00:99
for n in host v p x; do vf_ns_add $n; done
# The taps are born in "host": no IPv6 there, or its stack would send MLD
# and DAD frames from their initial random MAC (counted as spoof_mac).
vf_in host sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
    net.ipv6.conf.default.disable_ipv6=1
vf_vfabd host sw
vfctl sw add-br br0 || vf_fail "add-br"
vfctl sw add-port br0 "${VF_P}v" type=tap mac=$VMAC ip=10.62.0.1,fd62::1 \
    || vf_fail "add-port v"
vfctl sw add-port br0 "${VF_P}p" type=tap || vf_fail "add-port p"
vfctl sw add-port br0 "${VF_P}x" type=tap || vf_fail "add-port x"
V=${VF_P}v P=${VF_P}p X=${VF_P}x
# v's interface takes its VNIC MAC before it comes up, so its link-local
# address is the EUI-64 one vfabd expects.
ip -n "$(vf_ns host)" link set "$V" address $VMAC || vf_fail "set v MAC"
for vm in v p x; do
    vf_in $vm sysctl -qw "net.ipv6.conf.all.addr_gen_mode=0" \
        "net.ipv6.conf.default.addr_gen_mode=0" "net.ipv6.conf.all.accept_dad=0" \
        "net.ipv6.conf.default.accept_dad=0"
done
vf_vm v "$V" host 10.62.0.1/24
vf_vm p "$P" host 10.62.0.2/24
vf_vm x "$X" host 10.62.0.3/24
vf_in v ip addr add fd62::1/64 dev "$V" nodad
vf_in p ip addr add fd62::2/64 dev "$P" nodad
vf_in x ip addr add fd62::3/64 dev "$X" nodad
vf_wait 10 bash -c "ip -n $(vf_ns v) -6 addr show dev $V scope link | grep -q fe80::62:ff:fe00:1" \
    || vf_fail "v has no EUI-64 link-local address: $(vf_in v ip -6 addr)"

spoof_counts() {
    local j
    j=$(sw_port_json sw br0 "$V")
    jq -r '[.drops.spoof_mac // 0, .drops.spoof_ip // 0, .drops.spoof_arp // 0,
            .drops.spoof_nd // 0, .drops.spoof_ra // 0] | @tsv' <<<"$j"
}

# 1. Legitimate traffic: IPv4 (ARP both ways), IPv6 global and link-local
#    (neighbor solicitations and advertisements from v).
vf_ping v 10.62.0.2 3
vf_ping p 10.62.0.1 2
vf_in v ping -6 -q -c 3 -i 0.1 -W 2 fd62::2 >/dev/null \
    || vf_fail "ping6 v -> fd62::2 failed"
p_ll=$(vf_in p ip -6 -o addr show dev "$P" scope link | awk '{print $4}' | cut -d/ -f1)
vf_in v ping -6 -q -c 2 -i 0.1 -W 2 "$p_ll%$V" >/dev/null \
    || vf_fail "ping6 v -> p's link-local $p_ll failed"
vf_in p ping -6 -q -c 2 -i 0.1 -W 2 "fe80::62:ff:fe00:1%$P" >/dev/null \
    || vf_fail "ping6 p -> v's EUI-64 link-local failed"
vf_in p ping -6 -q -c 2 -i 0.1 -W 2 fd62::1 >/dev/null \
    || vf_fail "ping6 p -> fd62::1 failed"
vf_in p ip neigh show 10.62.0.1 | grep -qi "$VMAC" \
    || vf_fail "p did not learn v's MAC by ARP"
vf_in p ip -6 neigh show fd62::1 | grep -qi "$VMAC" \
    || vf_fail "p did not learn v's MAC by ND"
legit=$(spoof_counts)
[ "$(tr '\t' '+' <<<"$legit" | bc)" = 0 ] \
    || vf_fail "legitimate traffic was counted as spoofed: $legit"

# 2. Forged frames from v.  p captures; all are broadcast or all-nodes
#    multicast, so a forged frame that passed would reach p.
before=($(spoof_counts))
sw_sniff p "$P" 60 peer
V_LL=fe80::62:ff:fe00:1
B="dst='ff:ff:ff:ff:ff:ff'"
M6="dst='33:33:00:00:00:01'"
N=3
sw_send v "$V" $N \
    "Ether(src='$BAD',$B)/IP(src='10.62.0.1',dst='10.62.0.255')/UDP(sport=7,dport=9)/'SWT-smac'" \
    "Ether(src='$VMAC',$B)/IP(src='10.62.0.99',dst='10.62.0.255')/UDP(sport=7,dport=9)/'SWT-sip4'" \
    "Ether(src='$VMAC',$B)/ARP(op=2,hwsrc='$VMAC',psrc='10.62.0.2',hwdst='ff:ff:ff:ff:ff:ff',pdst='10.62.0.2')" \
    "Ether(src='$VMAC',$B)/ARP(op=2,hwsrc='$BAD',psrc='10.62.0.1',hwdst='ff:ff:ff:ff:ff:ff',pdst='10.62.0.2')" \
    "Ether(src='$VMAC',$M6)/IPv6(src='fd62::99',dst='ff02::1')/UDP(sport=7,dport=9)/'SWT-sip6'" \
    "Ether(src='$VMAC',$M6)/IPv6(src='fd62::1',dst='ff02::1',hlim=255)/ICMPv6ND_NA(tgt='fd62::2',R=0,S=0,O=1)/ICMPv6NDOptDstLLAddr(lladdr='$VMAC')" \
    "Ether(src='$VMAC',$M6)/IPv6(src='$V_LL',dst='ff02::1',hlim=255)/ICMPv6ND_RA()/ICMPv6NDOptSrcLLAddr(lladdr='$VMAC')/ICMPv6NDOptPrefixInfo(prefix='fd99::',prefixlen=64)"
# A control frame that must pass, so the capture is known to work.
sw_send v "$V" 1 \
    "Ether(src='$VMAC',$B)/IP(src='10.62.0.1',dst='10.62.0.255')/UDP(sport=7,dport=9)/'SWT-legit'"
sw_wait_count 5 peer '.mark=="SWT-legit"' 1 \
    || vf_fail "p did not get v's legitimate broadcast"
sleep 0.5
sw_sniff_stop peer
leaked=$(sw_count peer '.dir=="in" and (
    (.mark // "" | test("^SWT-s")) or .src=="'$BAD'"
    or (.arp_op==2 and (.psrc=="10.62.0.2" or .hwsrc=="'$BAD'"))
    or (.icmp6=="ICMPv6ND_NA" and .tgt=="fd62::2")
    or .icmp6=="ICMPv6ND_RA")')
[ "$leaked" = 0 ] || vf_fail "forged frames reached p: \
$(jq -c 'select(.dir=="in")' "$VF_TMP/peer.json" | grep -v SWT-legit | head -5)"
vf_in p ip -6 addr show | grep -q fd99:: \
    && vf_fail "p configured an address from the rogue router advertisement"
after=($(spoof_counts))
names=(spoof_mac spoof_ip spoof_arp spoof_nd spoof_ra)
want=($N $((2 * N)) $((2 * N)) $N $N)
for i in 0 1 2 3 4; do
    got=$((after[i] - before[i]))
    vf_log "drops.${names[i]}: +$got (want +${want[i]})"
    [ "$got" = "${want[i]}" ] \
        || vf_fail "drops.${names[i]} grew by $got, want ${want[i]}"
done

# 3. Legitimate traffic still works after the forgeries.
vf_ping p 10.62.0.1 2
vf_in p ping -6 -q -c 2 -i 0.1 -W 2 fd62::1 >/dev/null \
    || vf_fail "ping6 p -> fd62::1 failed after the forgeries"

# 4. x claims v's MAC: v's entry stays static on v, x never gets v's
#    traffic, p still reaches v.
xmac=$(sw_mac x "$X")
sw_sniff x "$X" 60 thief
sw_send x "$X" 5 \
    "Ether(src='$VMAC',$B)/IP(src='10.62.0.1',dst='10.62.0.255')/UDP(sport=7,dport=9)/'SWT-claim'" \
    "Ether(src='$VMAC',dst='$(sw_mac p "$P")')/IP(src='10.62.0.1',dst='10.62.0.2')/UDP(sport=7,dport=9)/'SWT-claim'"
sleep 0.3
fdb=$(vfctl sw -j fdb-show br0)
entry=$(vf_jq "$fdb" ".entries[] | select(.mac==\"$VMAC\") | \"\(.port) \(.static)\"")
[ "$entry" = "$V true" ] || vf_fail "v's MAC entry is '$entry' after x claimed it"
vf_in p ip neigh flush dev "$P"
vf_ping p 10.62.0.1 5
vf_in p ping -q -c 20 -i 0.01 -W 1 10.62.0.1 >/dev/null || vf_fail "ping p -> v"
sleep 0.3
sw_sniff_stop thief
stolen=$(sw_count thief '.dir=="in" and .dst=="'$VMAC'"')
[ "$stolen" = 0 ] || vf_fail "x received $stolen frames addressed to v"
[ "$(vf_jq "$(vfctl sw -j fdb-show br0)" ".entries[] | select(.mac==\"$xmac\") | .port")" != "$V" ] \
    || vf_fail "x's own MAC moved to v"

sw_stop_clean sw
vf_log "PASS"
