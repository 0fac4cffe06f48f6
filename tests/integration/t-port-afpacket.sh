#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# AF_PACKET ports on real devices: port-wire joins a TAP (moved into VM
# namespace v1) and an afpacket port on a veth whose other end is in
# namespace v2.  Checks: ping (IPv4, IPv6), iperf3 TCP both ways and UDP
# both ways, GSO super-frames crossing whole in both directions (the
# default receive ring, TPACKET_V2 with MTU-sized slots, super-frames
# through the socket queue, virtio-net headers on receive; sendmmsg with
# headers on transmit), no receive errors; 802.1Q tags the kernel strips before the
# ring are put back (both directions); the link monitor sees the veth go down and
# up (peer side and own side) within 100 ms; while the interface is
# administratively down port-wire does not spin (the socket error the
# kernel raises is cleared); traffic flows again after it comes back.
# Both rings, named, and V2's latency: t-port-afpacket-rings.sh.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/tools/port-lib.sh"
pw_require

vf_ns_add sw
vf_ns_add v1
vf_ns_add v2
T1=${VF_P}t1
U=${VF_P}u
vf_veth sw "$U" v2 eth0
vf_in v2 ip addr add 10.92.0.2/24 dev eth0
vf_in v2 ip addr add fd92::2/64 dev eth0 nodad

pw_start sw "tap:$T1" "afpacket:$U"
vm_up v1 "$T1" 10.92.0.1/24 fd92::1/64
grep -q "$U: .*TPACKET_V2 ring" "$PW_LOG" \
    || { cat "$PW_LOG" >&2; vf_fail "the default ring is not TPACKET_V2"; }

vf_in v1 ping -c 3 -i 0.2 -W 2 10.92.0.2 >/dev/null || vf_fail "ping IPv4"
vf_in v1 ping -6 -c 3 -i 0.2 -W 2 fd92::2 >/dev/null || vf_fail "ping IPv6"
rtt=$(vf_in v1 ping -c 20 -i 0.05 10.92.0.2 | awk -F/ '/^rtt/ { print $5 }')
vf_log "ping ok (average RTT ${rtt} ms over the default ring)"
pw_stats
cp "$PW_STATS" "$VF_TMP/base.stats"
base() { awk -v k="$1:" '$1 == k { print $2 }' "$VF_TMP/base.stats"; }

vf_bg v2 iperf3 -s
iperf_listening v2 || vf_fail "iperf3 server did not start"
run_iperf() {
    local name=$1
    shift
    vf_in v1 iperf3 -c 10.92.0.2 -J "$@" >"$VF_TMP/$name.json" \
        || { cat "$VF_TMP/$name.json" >&2; vf_fail "iperf3 $name"; }
}
run_iperf tcp -t 3
run_iperf tcp_r -t 2 -R
run_iperf udp -t 2 -u -b 500M -l 1400
run_iperf udp_r -t 2 -u -b 500M -l 1400 -R
summary() {
    python3 - "$VF_TMP" <<'EOF'
import json, sys
d = sys.argv[1]
for n in ("tcp", "tcp_r"):
    e = json.load(open(f"{d}/{n}.json"))["end"]
    print(f"{n} {e['sum_received']['bits_per_second'] / 1e6:.0f} Mbit/s")
for n in ("udp", "udp_r"):
    s = json.load(open(f"{d}/{n}.json"))["end"]["sum"]
    assert s["packets"] > 0, n
    print(f"{n} {s['bits_per_second'] / 1e6:.0f} Mbit/s "
          f"lost {s['lost_percent']:.2f}%")
EOF
}
vf_log "iperf3: $(summary | tr '\n' ',')"

pw_stats
cat "$PW_STATS" >&2
[ "$(pw_stat a_to_b.gso_frames)" -gt 100 ] || vf_fail "no GSO frames tap -> afpacket"
[ "$(pw_stat b_to_a.gso_frames)" -gt 100 ] || vf_fail "no GSO frames afpacket -> tap"
[ "$(pw_stat b_to_a.max_frame)" -gt 1514 ] || vf_fail "no super-frame from the ring"
[ "$(pw_stat a_to_b.big_whole)" -gt 100 ] || vf_fail "super-frames not sent whole"
for k in a.rx_errors b.rx_errors a.tx_errors b.tx_errors \
         a_to_b.prepare_errors b_to_a.prepare_errors a_to_b.segmented \
         b_to_a.segmented; do
    [ "$(pw_stat $k)" = "$(base $k)" ] \
        || vf_fail "$k went from $(base $k) to $(pw_stat $k)"
done
vf_log "GSO frames: $(pw_stat a_to_b.gso_frames) tap->afpacket," \
       "$(pw_stat b_to_a.gso_frames) afpacket->tap;" \
       "ring drops $(pw_stat b.rx_dropped)"

# ---- 802.1Q tags ----
# The kernel strips a VLAN tag before the ring (TP_STATUS_VLAN_VALID);
# the port puts it back, so tagged frames cross as they were sent.
# vlan_cross FROM_NS FROM_DEV TO_NS TO_DEV VID: 20 tagged UDP frames sent
# with scapy must all be seen tagged by tshark on the other side.
vlan_cross() {
    local cap=$VF_TMP/vlan$5.pcapng
    vf_bg "$3" tshark -n -i "$4" -w "$cap" -a duration:20
    local tpid=$VF_LAST_PID
    vf_wait 10 grep -q "Capturing on" "$VF_LAST_LOG" || vf_fail "tshark did not start"
    sleep 0.3
    vf_in "$1" /usr/bin/python3 -c '
import sys
from scapy.all import Ether, Dot1Q, IP, UDP, Raw, sendp
f = (Ether(dst="02:00:00:00:00:99") / Dot1Q(vlan=int(sys.argv[2]))
     / IP(src="10.92.9.1", dst="10.92.9.2") / UDP(sport=7100, dport=7100)
     / Raw(b"vlan" * 20))
sendp(f, iface=sys.argv[1], count=20, verbose=False)' "$2" "$5" \
        2>/dev/null || vf_fail "scapy could not send"
    sleep 0.5
    kill -INT "$tpid"
    vf_wait 10 sh -c "! kill -0 $tpid 2>/dev/null" || vf_fail "tshark did not stop"
    local n
    n=$(tshark -n -r "$cap" -Y "vlan.id == $5 && udp.dstport == 7100" \
        2>/dev/null | wc -l)
    vf_log "VLAN $5 $1/$2 -> $3/$4: $n of 20 frames arrived tagged"
    [ "$n" = 20 ] || vf_fail "VLAN $5: $n of 20 tagged frames"
}
if /usr/bin/python3 -c "import scapy" 2>/dev/null; then
    vlan_cross v2 eth0 v1 "$T1" 100
    vlan_cross v1 "$T1" v2 eth0 200
else
    vf_log "no scapy: VLAN check skipped"
fi

# ---- Link monitor ----
# link_time STATE N: timestamp (ns) of the Nth "link $U STATE" line.
link_time() {
    awk -v s="$1" -v n="$2" -v u="$U" \
        '$1 == "link" && $2 == u && $3 == s && ++c == n { print $4 }' \
        "$PW_LOG"
}
has_link_line() { [ -n "$(link_time "$1" "$2")" ]; }
# set_link NS DEV up|down: sets the flags with one ioctl and prints the
# wall-clock time (ns) taken just before it, so that process start-up
# (slow on a loaded machine) is not counted as the monitor's delay.
set_link() {
    vf_in "$1" /usr/bin/python3 -c '
import fcntl, socket, struct, sys, time
SIOCGIFFLAGS, SIOCSIFFLAGS, IFF_UP = 0x8913, 0x8914, 1
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
name = sys.argv[1].encode()
flags = struct.unpack("16sH", fcntl.ioctl(
    s, SIOCGIFFLAGS, struct.pack("16sH22x", name, 0))[:18])[1]
flags = flags | IFF_UP if sys.argv[2] == "up" else flags & ~IFF_UP
t = time.time_ns()
fcntl.ioctl(s, SIOCSIFFLAGS, struct.pack("16sH22x", name, flags))
print(t)' "$2" "$3"
}
# flip NS DEV STATE N: sets DEV in NS to STATE, checks the Nth STATE line
# of port-wire comes within 100 ms.
flip() {
    local ns=$1 state=$3 n=$4 t0 t1
    t0=$(set_link "$ns" "$2" "$state") || vf_fail "cannot set $2 $state"
    vf_wait 2 has_link_line "$state" "$n" \
        || vf_fail "link monitor did not see $2 go $state"
    t1=$(link_time "$state" "$n")
    local ms=$(( (t1 - t0) / 1000000 ))
    vf_log "$ns/$2 $state: seen after $(( (t1 - t0) / 1000 )) us"
    [ "$ms" -lt 100 ] || vf_fail "$2 $state took $ms ms"
}
flip v2 eth0 down 1
flip v2 eth0 up 1
flip sw "$U" down 2
c0=$(pw_cpu_ticks)
sleep 1
c1=$(pw_cpu_ticks)
vf_log "port-wire CPU while its interface is down: $(( c1 - c0 )) ticks/s"
[ $(( c1 - c0 )) -lt 30 ] || vf_fail "port-wire spins while the link is down"
flip sw "$U" up 2
vf_wait 10 vf_in v1 ping -c 1 -W 1 10.92.0.2 || vf_fail "no traffic after link up"
pw_stats
[ "$(pw_stat b.link_up)" = 1 ] || vf_fail "port not up again"

kill "$PW_PID"
vf_wait 5 sh -c "! kill -0 $PW_PID 2>/dev/null" || vf_fail "port-wire did not exit"
grep -q "AddressSanitizer\|LeakSanitizer" "$PW_LOG" && vf_fail "sanitizer report"
vf_log "PASS"
