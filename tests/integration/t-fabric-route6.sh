#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The distributed router with IPv6 (and IPv4 alongside): two networks of
# tenant blue with a policy between them, VMs on two hosts and two on the
# same host.  The gateway fd00:11::1 is answered with the router's MAC
# (router flag set); ping -6 works across the networks, same host and
# across hosts, both ways, with the hop limit decremented once (seen in
# the receiving VM by tshark and in the reply's hlim); TCP too (iperf3,
# through "packet too big" / "fragmentation needed" sent from the
# gateway's address); a TTL / hop limit of 1 is dropped ("loop") and
# answered with time exceeded from the gateway; a network of the tenant
# without a policy and another tenant's VM cannot be reached (default
# deny, counted at the source); a VNIC that owns its subnet's first
# address is reached as itself.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/fabric-lib.sh"
vf_require_root_netns
command -v tshark >/dev/null || vf_skip "tshark missing"
ROUTER=02:fa:b0:00:00:01

fab_init
padm tenant-create blue >/dev/null && padm tenant-create red >/dev/null \
    || vf_fail "tenants"
padm net-create web --tenant blue --vni 5101 --subnet 10.11.0.0/24 \
        --subnet fd00:11::/64 >/dev/null &&
padm net-create db --tenant blue --vni 5102 --subnet 10.12.0.0/24 \
        --subnet fd00:12::/64 >/dev/null &&
padm net-create iso --tenant blue --vni 5103 --subnet fd00:13::/64 >/dev/null &&
padm net-create red-net --tenant red --vni 5201 --subnet fd00:21::/64 >/dev/null \
    || vf_fail "networks"
padm policy-add web-db --tenant blue --action allow --from network:web \
        --to network:db >/dev/null &&
padm policy-add db-web --tenant blue --action allow --from network:db \
        --to network:web >/dev/null || vf_fail "policies"
fab_host 1
fab_host 2

# vm NAME HOST NETWORK MAC IPV4 IPV6 [GW6]: a VNIC and its VM, with a
# default route via GW6 (and via the IPv4 gateway if it has IPv4).
vm() {
    local name=$1 host=$2 net=$3 mac=$4 ip4=$5 ip6=$6 gw6=${7:-}
    local ips=(--ip "$ip6")
    [ "$ip4" = - ] || ips+=(--ip "$ip4")
    padm vnic-create "$name" --network "$net" --mac "$mac" "${ips[@]}" \
        --host "$host" >/dev/null || vf_fail "vnic $name"
    # A VM without IPv4 still gets an address on the tap from fab_vm:
    # 192.168.x (not in the model, never used here).
    fab_vm "$name" "$host" "$name" "$([ "$ip4" = - ] && echo 192.168.77.1/32 \
        || echo "$ip4/24")"
    local tap="${VF_P}$name"
    tap=${tap:0:15}
    vf_in "$name" ip -6 addr add "$ip6/64" dev "$tap" nodad \
        || vf_fail "ip6 on $name"
    if [ -n "$gw6" ]; then
        vf_in "$name" ip -6 route add default via "$gw6" dev "$tap" \
            || vf_fail "route6 on $name"
    fi
    if [ "$ip4" != - ]; then
        vf_in "$name" ip route add default via "${ip4%.*}.1" \
            || vf_fail "route on $name"
    fi
}
vm w1 h1 web 02:00:00:00:11:10 10.11.0.10 fd00:11::10 fd00:11::1
vm d1 h2 db 02:00:00:00:12:10 10.12.0.10 fd00:12::10 fd00:12::1
vm d2 h1 db 02:00:00:00:12:20 10.12.0.20 fd00:12::20 fd00:12::1
vm i1 h1 iso 02:00:00:00:13:01 - fd00:13::1
vm i2 h2 iso 02:00:00:00:13:02 - fd00:13::2 fd00:13::1
vm r1 h2 red-net 02:00:00:00:21:10 - fd00:21::10 fd00:21::1
tap() { local t="${VF_P}$1"; printf '%s' "${t:0:15}"; }

# The receiving VM sees the echo requests with the hop limit decremented.
fab_capture d1 "$(tap d1)" "icmp6 and ip6[40] == 128" "$VF_TMP/d1.pcap"
vf_wait 15 vf_in w1 ping -6 -c 1 -W 1 fd00:12::10 || {
    vfctl h1 -j call fabric/show >&2; vf_fail "w1 -> d1 (routed, across hosts)"; }
out=$(vf_in w1 ping -6 -c 3 -i 0.2 -W 2 fd00:12::10) \
    || vf_fail "w1 -> d1: $out"
# The reply left d1 with 64 and crossed the router once.
grep -Eq '(ttl|hlim)=63 ' <<<"$out" || vf_fail "reply hop limit: $out"
fab_capture_stop
hl=$(tshark -r "$VF_TMP/d1.pcap" -T fields -e ipv6.hlim 2>/dev/null | sort -u | tr '\n' ' ')
vf_log "hop limits of the echo requests at d1: $hl"
[ "$hl" = "63 " ] || vf_fail "d1 saw hop limits '$hl', want '63 '"

# The gateway was resolved to the router, as a router.
n=$(vf_in w1 ip -6 neigh show fd00:11::1 dev "$(tap w1)")
vf_log "w1: $n"
grep -q "lladdr $ROUTER router" <<<"$n" || vf_fail "w1's gateway: '$n'"
n=$(vf_in d1 ip -6 neigh show fd00:12::1 dev "$(tap d1)")
grep -q "lladdr $ROUTER router" <<<"$n" || vf_fail "d1's gateway: '$n'"

# Same host (w1, d2 on h1), both ways; the other way across hosts.
vf_wait 10 vf_in w1 ping -6 -c 1 -W 1 fd00:12::20 || vf_fail "w1 -> d2 (same host)"
vf_ping w1 fd00:12::20 3
vf_ping d2 fd00:11::10 3
vf_ping d1 fd00:11::10 3
# TCP (offloaded segments from the tap) routed across hosts, IPv6 and
# IPv4: segments larger than the overlay allows get "packet too big" /
# "fragmentation needed" from the router's MAC, and then pass.
if command -v iperf3 >/dev/null; then
    # The errors come from the router: w1's gateway is their source.
    fab_capture w1 "$(tap w1)" "(icmp6 and ip6[40] == 2) or (icmp and icmp[0] == 3 and icmp[1] == 4)" \
        "$VF_TMP/w1-too-big.pcap"
    for dst in fd00:12::10 10.12.0.10; do
        vf_bg d1 iperf3 -s -1 -B "$dst"
        vf_wait 5 sh -c "ip netns exec $(vf_ns d1) ss -ltn | grep -q ':5201'"
        vf_in w1 timeout 20 iperf3 -c "$dst" -t 1 -J >"$VF_TMP/tcp.json" \
            || { cat "$VF_TMP/tcp.json" >&2; vf_fail "iperf3 w1 -> $dst"; }
        bps=$(jq '.end.sum_received.bits_per_second' "$VF_TMP/tcp.json")
        vf_log "iperf3 w1 -> $dst (routed): $(awk -v b="$bps" 'BEGIN{printf "%.0f", b/1e6}') Mbit/s"
        awk -v b="$bps" 'BEGIN{exit !(b > 1e6)}' || vf_fail "iperf3 w1 -> $dst: $bps bit/s"
        vf_wait 5 sh -c "! ip netns exec $(vf_ns d1) ss -ltn | grep -q ':5201'"
    done
    fab_capture_stop
    srcs=$(tshark -r "$VF_TMP/w1-too-big.pcap" -T fields -E occurrence=f \
        -e ipv6.src -e ip.src \
        2>/dev/null | tr -s '\t ' '\n' | sed '/^$/d' | sort -u | tr '\n' ' ')
    vf_log "sources of the ICMP errors w1 received: $srcs"
    [ "$srcs" = "10.11.0.1 fd00:11::1 " ] \
        || vf_fail "w1's too-big errors came from '$srcs', want its gateways"
    tb=$(vfctl h1 -j call fabric/show | jq '.. | .too_big? // empty' | head -1)
    vf_log "too_big answered on h1: $tb"
    [ "${tb:-0}" -gt 0 ] || vf_fail "h1 sent no packet too big"
fi
# IPv4 through the same router.
vf_wait 10 vf_in w1 ping -c 1 -W 1 10.12.0.10 || vf_fail "w1 -> d1 over IPv4"
vf_ping d2 10.11.0.10 3

# Hop limit / TTL 1: the router drops it, counts it, and tells the
# sender "time exceeded" from its gateway address (traceroute's first
# hop), IPv6 and IPv4.
loop0=$(fab_stat h1 "$(tap w1)" loop)
out=$(vf_in w1 ping -6 -c 1 -W 2 -t 1 fd00:12::10 2>&1) \
    && vf_fail "hop limit 1 reached d1: $out"
grep -q "From fd00:11::1 .*Time exceeded: Hop limit" <<<"$out" \
    || vf_fail "hop limit 1: no time exceeded from the gateway: $out"
out=$(vf_in w1 ping -c 1 -W 2 -t 1 10.12.0.10 2>&1) \
    && vf_fail "TTL 1 reached d1: $out"
grep -q "From 10.11.0.1 .*Time to live exceeded" <<<"$out" \
    || vf_fail "TTL 1: no time exceeded from the gateway: $out"
loop1=$(fab_stat h1 "$(tap w1)" loop)
[ "$loop1" -ge $((loop0 + 2)) ] || vf_fail "TTL 1: loop drops $loop0 -> $loop1"
te=$(vfctl h1 -j call fabric/show | jq '.. | .time_exceeded? // empty' | head -1)
[ "${te:-0}" -ge 2 ] || vf_fail "h1 counted $te time exceeded errors"
# The errors are rate limited (1000/s, burst 50): a burst of 2000 TTL-1
# pings gets far fewer answers, the rest counted as limited.
vf_in w1 ping -c 2000 -l 2000 -t 1 -W 1 -q 10.12.0.10 >/dev/null 2>&1
te2=$(vfctl h1 -j call fabric/show | jq '.. | .time_exceeded? // empty' | head -1)
lim=$(vfctl h1 -j call fabric/show | jq '.. | .icmp_limited? // empty' | head -1)
vf_log "2000 TTL-1 pings at once: $((te2 - te)) time exceeded sent, $lim limited"
[ "${lim:-0}" -gt 0 ] && [ $((te2 - te)) -lt 1000 ] \
    || vf_fail "ICMP errors not rate limited: $((te2 - te)) sent, $lim limited"
# Denied destinations get no error (nothing reveals them).
out=$(vf_in w1 ping -6 -c 1 -W 1 -t 1 fd00:13::2 2>&1) && vf_fail "iso: $out"
grep -q "Time exceeded" <<<"$out" && vf_fail "denied destination answered: $out"

# A VNIC owning its subnet's first address is answered as itself.
vf_wait 10 vf_in i2 ping -6 -c 1 -W 1 fd00:13::1 || vf_fail "i2 -> i1"
n=$(vf_in i2 ip -6 neigh show fd00:13::1 dev "$(tap i2)")
grep -q "lladdr 02:00:00:00:13:01" <<<"$n" || vf_fail "i2 resolved fd00:13::1: '$n'"

# Default deny: a network without a policy, another tenant.
pol0=$(fab_stat h1 "$(tap w1)" policy)
vf_no_ping w1 fd00:13::1
vf_no_ping w1 fd00:13::2
vf_no_ping w1 fd00:21::10
vf_in r1 ping -6 -c 1 -W 1 fd00:11::10 >/dev/null 2>&1 && vf_fail "red reached blue"
pol1=$(fab_stat h1 "$(tap w1)" policy)
vf_log "policy drops at w1: $pol0 -> $pol1"
[ "$pol1" -gt "$pol0" ] || vf_fail "denied routed frames were not counted at the source"
nd=$(vfctl h1 -j call fabric/show | jq '.. | .nd_answered? // empty' | head -1)
vf_log "nd_answered on h1: $nd"
[ "${nd:-0}" -gt 0 ] || vf_fail "h1 answered no neighbor solicitation"
vf_log "PASS"
