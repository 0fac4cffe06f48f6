#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# TAP ports on real devices: port-wire creates two TAPs (vnet headers,
# checksum/TSO offloads) in a switch namespace and forwards between them;
# each TAP is then moved into its own "VM" namespace (the fds keep
# working).  Checks: ping (IPv4, IPv6), iperf3 TCP over IPv4 and IPv6,
# GSO super-frames larger than the MTU crossed whole in both address
# families (counted by port-wire), UDP GSO (USO) super-frames too with every
# datagram intact, jumbo frames without GSO, no errors or drops, and that
# closing the fds deletes the devices.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/tools/port-lib.sh"
pw_require

vf_ns_add sw
vf_ns_add v1
vf_ns_add v2
T1=${VF_P}t1
T2=${VF_P}t2

# Bad configurations: precise errors, nothing left behind.
vf_expect_fail vf_in sw "$PW_BIN" "tap:${VF_P}x" "afpacket:${VF_P}none"
grep -q "port ${VF_P}none: interface '${VF_P}none' does not exist" \
    "$VF_TMP/expect_fail.out" || { cat "$VF_TMP/expect_fail.out" >&2;
    vf_fail "no precise error for a missing device"; }
vf_in sw ip link show "${VF_P}x" >/dev/null 2>&1 && vf_fail "TAP left behind"
vf_expect_fail vf_in sw "$PW_BIN" "tap:${VF_P}0123456789abc" "tap:$T2"
grep -q "port name .* is too long (.* bytes; at most 15)" \
    "$VF_TMP/expect_fail.out" \
    || vf_fail "no precise error for a long name"

pw_start sw "tap:$T1" "tap:$T2"
vm_up v1 "$T1" 10.91.0.1/24 fd91::1/64
vm_up v2 "$T2" 10.91.0.2/24 fd91::2/64

vf_in v1 ping -c 3 -i 0.2 -W 2 10.91.0.2 >/dev/null || vf_fail "ping IPv4"
vf_in v1 ping -6 -c 3 -i 0.2 -W 2 fd91::2 >/dev/null || vf_fail "ping IPv6"
vf_log "ping ok"
# Frames sent while the other VM's interface was still down were dropped
# (EIO): counted from here on.
pw_stats
cp "$PW_STATS" "$VF_TMP/base.stats"
base() { awk -v k="$1:" '$1 == k { print $2 }' "$VF_TMP/base.stats"; }

vf_bg v2 iperf3 -s
iperf_listening v2 || vf_fail "iperf3 server did not start"
vf_in v1 iperf3 -c 10.91.0.2 -t 3 -J >"$VF_TMP/tcp4.json" \
    || vf_fail "iperf3 TCP over IPv4"
pw_stats
gso4=$(pw_stat a_to_b.gso_frames)
vf_in v1 iperf3 -6 -c fd91::2 -t 2 -J >"$VF_TMP/tcp6.json" \
    || vf_fail "iperf3 TCP over IPv6"
vf_in v1 iperf3 -c 10.91.0.2 -t 2 -R -J >"$VF_TMP/tcp4r.json" \
    || vf_fail "iperf3 TCP over IPv4, reverse"

bps() {
    python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(int(d["end"]["sum_received"]["bits_per_second"]))' "$1"
}
vf_log "TCP/IPv4 $(( $(bps "$VF_TMP/tcp4.json") / 1000000 )) Mbit/s," \
       "TCP/IPv6 $(( $(bps "$VF_TMP/tcp6.json") / 1000000 )) Mbit/s," \
       "reverse $(( $(bps "$VF_TMP/tcp4r.json") / 1000000 )) Mbit/s"

# UDP GSO (USO): 16-datagram super-frames cross whole; the receiver gets
# every datagram with its boundaries intact.
pw_stats
uso0=$(pw_stat a_to_b.gso_frames)
vf_bg v2 /usr/bin/python3 "$VF_SRC/tests/integration/tools/uso.py" \
    recv 10.91.0.2 7001 3200 15
rpid=$VF_LAST_PID
rlog=$VF_LAST_LOG
sleep 0.5
vf_in v1 /usr/bin/python3 "$VF_SRC/tests/integration/tools/uso.py" \
    send 10.91.0.2 7001 200 1200 || vf_fail "USO sender"
wait "$rpid" || { cat "$rlog" >&2; vf_fail "USO datagrams lost or damaged"; }
pw_stats
uso=$(( $(pw_stat a_to_b.gso_frames) - uso0 ))
vf_log "USO: $(cat "$rlog"); $uso UDP GSO frames crossed"
[ "$uso" -gt 50 ] || vf_fail "USO frames did not cross whole ($uso)"

# Jumbo frames without GSO: the VMs raise their MTU past the TAPs' read
# split; frames of 9000 bytes land in the spare GSO buffer and the split
# adapts.
vf_in v1 ip link set "$T1" mtu 9000
vf_in v2 ip link set "$T2" mtu 9000
vf_in v1 ping -M do -s 8972 -c 3 -i 0.2 -W 2 10.91.0.2 >/dev/null \
    || vf_fail "jumbo ping"
vf_log "jumbo ping ok"

pw_stats
cat "$PW_STATS" >&2
gso=$(pw_stat a_to_b.gso_frames)
gso_r=$(pw_stat b_to_a.gso_frames)
max=$(pw_stat a_to_b.max_frame)
whole=$(pw_stat a_to_b.big_whole)
[ "$gso4" -gt 100 ] || vf_fail "only $gso4 GSO frames over IPv4"
[ $(( gso - gso4 - uso )) -gt 100 ] \
    || vf_fail "only $(( gso - gso4 - uso )) GSO frames over IPv6"
[ "$gso_r" -gt 100 ] || vf_fail "only $gso_r GSO frames in reverse"
[ "$max" -gt 1514 ] || vf_fail "largest frame $max: no super-frame crossed"
[ "$whole" -gt 100 ] || vf_fail "super-frames were not sent whole ($whole)"
for k in a_to_b.segmented b_to_a.segmented a_to_b.prepare_errors \
         b_to_a.prepare_errors a.rx_errors b.rx_errors a.tx_errors \
         b.tx_errors a.rx_dropped b.rx_dropped a.tx_dropped b.tx_dropped; do
    [ "$(pw_stat $k)" = "$(base $k)" ] \
        || vf_fail "$k went from $(base $k) to $(pw_stat $k)"
done
vf_log "GSO frames: $gso a->b (largest $max bytes), $gso_r b->a"

# Closing the fds deletes the devices, wherever they are.
kill "$PW_PID"
vf_wait 5 sh -c "! kill -0 $PW_PID 2>/dev/null" || vf_fail "port-wire did not exit"
grep -q "ERROR: AddressSanitizer\|LeakSanitizer" "$PW_LOG" && vf_fail "sanitizer report"
vf_in v1 ip link show "$T1" >/dev/null 2>&1 && vf_fail "$T1 still exists"
vf_in v2 ip link show "$T2" >/dev/null 2>&1 && vf_fail "$T2 still exists"
vf_log "PASS"
