#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# AF_PACKET receive rings (port-afpacket.c, theory block): for each ring
# (rx_ring=v2, rx_ring=v3) port-wire joins a TAP (in namespace v1) and an
# afpacket port on a veth whose other end is in namespace v2.  Checks:
#   - the port set up the ring asked for (V2: slots sized for the MTU,
#     2048 bytes at MTU 1500, not for 64 KiB);
#   - traffic crosses: ping, iperf3 TCP v2 -> v1 (frames received by the
#     afpacket port), plain and on VLAN 300 if the host has 802.1Q
#     devices (tag stripped by the veth, re-inserted by the port): GSO
#     super-frames from the veth arrive whole (V2: through the socket
#     queue, TP_STATUS_COPY), with no receive errors (a V2 ring and
#     socket queue out of step would show as rx_errors);
#   - 802.1Q-tagged frames larger than a V2 slot (the MTU raised after
#     set-up) arrive whole with their tag put back (needs scapy);
#   - V2 hands a lone frame over at once: the median RTT of 20 pings at
#     50 ms (each reply crosses the afpacket receive ring alone) is below
#     0.3 ms in at least one of three rounds.  A V3 ring may keep such a
#     frame until its block's retire timer (>= 1 ms) fires (medians of
#     0.16-0.9 ms seen, depending on the timer's phase); its figure is
#     only logged.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/tools/port-lib.sh"
pw_require

vf_ns_add sw
vf_ns_add v1
vf_ns_add v2
U=${VF_P}u
vf_veth sw "$U" v2 eth0
vf_in v2 ip addr add 10.93.0.2/24 dev eth0
# VLAN 300 needs 802.1Q devices (module 8021q); without them, skipped.
ips=10.93.0.2
if vf_in v2 ip link add link eth0 name eth0.300 type vlan id 300 2>/dev/null; then
    vf_in v2 ip addr add 10.93.3.2/24 dev eth0.300
    vf_in v2 ip link set eth0.300 up
    ips="$ips 10.93.3.2"
else
    vf_log "no 802.1Q devices: VLAN 300 checks skipped"
fi
vf_bg v2 iperf3 -s
iperf_listening v2 || vf_fail "iperf3 server did not start"

# median_rtt_ms NS IP: median RTT (ms) of 20 pings at 50 ms.
median_rtt_ms() {
    vf_in "$1" ping -c 20 -i 0.05 -W 1 "$2" \
        | sed -n 's/.* time=\([0-9.]*\) ms/\1/p' | sort -g \
        | awk '{ a[NR] = $1 } END { if (NR >= 10) print a[int((NR + 1) / 2)]; else print 99 }'
}

n=1
for ring in v2 v3; do
    T=${VF_P}t$n
    pw_start sw "tap:$T" "afpacket:$U,rx_ring=$ring"
    vm_up v1 "$T" 10.93.0.1/24 "fd93::$n/64"
    if [ "$ips" != 10.93.0.2 ]; then
        vf_in v1 ip link add link "$T" name "$T.300" type vlan id 300
        vf_in v1 ip addr add 10.93.3.1/24 dev "$T.300"
        vf_in v1 ip link set "$T.300" up
    fi
    vf_in v2 ip neigh flush all         # The new tap has a new MAC.

    case $ring in
        v2) grep -q "$U: .*TPACKET_V2 ring of [0-9]* slots of 2048 bytes" \
                "$PW_LOG" || { cat "$PW_LOG" >&2; vf_fail "$ring: no MTU-sized V2 ring"; } ;;
        v3) grep -q "$U: .*TPACKET_V3 ring" "$PW_LOG" \
                || { cat "$PW_LOG" >&2; vf_fail "$ring: no V3 ring"; } ;;
    esac
    for ip in $ips; do
        vf_wait 10 vf_in v1 ping -c 1 -W 1 "$ip" >/dev/null \
            || vf_fail "$ring: ping $ip"
    done
    pw_stats
    cp "$PW_STATS" "$VF_TMP/base.stats"
    base() { awk -v k="$1:" '$1 == k { print $2 }' "$VF_TMP/base.stats"; }

    for ip in $ips; do
        vf_in v1 iperf3 -c "$ip" -R -t 2 -J >"$VF_TMP/tcp.json" \
            || { cat "$VF_TMP/tcp.json" >&2; vf_fail "$ring: iperf3 -R to $ip"; }
        gbps=$(python3 -c 'import json, sys
e = json.load(open(sys.argv[1]))["end"]
print("%.1f" % (e["sum_received"]["bits_per_second"] / 1e9))' "$VF_TMP/tcp.json")
        vf_log "$ring: TCP $ip -> v1: $gbps Gbit/s"
    done
    pw_stats
    gso=$(( $(pw_stat b_to_a.gso_frames) - $(base b_to_a.gso_frames) ))
    [ "$gso" -gt 100 ] || vf_fail "$ring: $gso GSO frames from the ring"
    [ "$(pw_stat b_to_a.max_frame)" -gt 9000 ] \
        || vf_fail "$ring: largest frame received $(pw_stat b_to_a.max_frame)"
    for k in b.rx_errors a.tx_errors b_to_a.prepare_errors b_to_a.segmented; do
        [ "$(pw_stat $k)" = "$(base $k)" ] \
            || vf_fail "$ring: $k went from $(base $k) to $(pw_stat $k)"
    done
    vf_log "$ring: $gso GSO frames received whole, largest" \
           "$(pw_stat b_to_a.max_frame) bytes; rx_dropped $(pw_stat b.rx_dropped)"

    # A tagged frame larger than a V2 slot (MTU raised after the port was
    # set up): 20 of them, 3000 bytes of payload, sent with scapy from
    # v2, must all reach the tap tagged and whole (V2: copy path).
    if /usr/bin/python3 -c "import scapy" 2>/dev/null; then
        vf_in sw ip link set "$U" mtu 4000
        vf_in v2 ip link set eth0 mtu 4000
        cap=$VF_TMP/big-$ring.pcapng
        vf_bg v1 tshark -n -i "$T" -w "$cap" -a duration:20
        tpid=$VF_LAST_PID
        vf_wait 10 grep -q "Capturing on" "$VF_LAST_LOG" || vf_fail "tshark did not start"
        sleep 0.3
        vf_in v2 /usr/bin/python3 -c '
from scapy.all import Ether, Dot1Q, IP, UDP, Raw, sendp
f = (Ether(dst="02:00:00:00:00:99") / Dot1Q(vlan=301)
     / IP(src="10.93.9.1", dst="10.93.9.2") / UDP(sport=7101, dport=7101)
     / Raw(b"x" * 3000))
sendp(f, iface="eth0", count=20, verbose=False)' 2>/dev/null \
            || vf_fail "scapy could not send"
        sleep 0.5
        kill -INT "$tpid"
        vf_wait 10 sh -c "! kill -0 $tpid 2>/dev/null" || vf_fail "tshark did not stop"
        big=$(tshark -n -r "$cap" -Y "vlan.id == 301 && udp.dstport == 7101 && frame.len == 3046" \
              2>/dev/null | wc -l)
        vf_log "$ring: $big of 20 tagged 3046-byte frames arrived whole and tagged"
        [ "$big" = 20 ] || vf_fail "$ring: $big of 20 large tagged frames"
        vf_in v2 ip link set eth0 mtu 1500
        vf_in sw ip link set "$U" mtu 1500
    fi

    meds=()
    rounds=3
    [ "$ring" = v3 ] && rounds=1
    for _ in $(seq "$rounds"); do
        meds+=("$(median_rtt_ms v1 10.93.0.2)")
        [ "$ring" = v2 ] && awk -v m="${meds[-1]}" 'BEGIN { exit !(m < 0.3) }' \
            && break
    done
    vf_log "$ring: median RTT over 20 pings: ${meds[*]} ms"
    if [ "$ring" = v2 ]; then
        awk -v m="${meds[-1]}" 'BEGIN { exit !(m < 0.3) }' \
            || vf_fail "v2: median RTT ${meds[*]} ms (a frame waits in the ring?)"
    fi

    kill "$PW_PID"
    vf_wait 5 sh -c "! kill -0 $PW_PID 2>/dev/null" || vf_fail "port-wire did not exit"
    grep -q "AddressSanitizer\|LeakSanitizer" "$PW_LOG" && vf_fail "sanitizer report"
    n=$((n + 1))
done
vf_log "PASS"
