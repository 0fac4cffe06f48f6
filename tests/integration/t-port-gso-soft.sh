#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Software segmentation: the output port cannot take TSO or partial
# checksums, so port-wire cuts the TAP's GSO super-frames with net/gso.c and
# completes their checksums.  Two outputs without offloads:
#   1. an afpacket port with offload=0 on a veth (frames captured on the
#      veth's other end, in namespace v2);
#   2. a TAP with offload=0 (no IFF_VNET_HDR), captured inside its VM.
# Checks: TCP works (iperf3), port-wire segmented super-frames, and tshark,
# an independent decoder, finds every IPv4 and TCP checksum of the frames
# port-wire produced correct and none larger than the MTU.  Then UDP GSO
# (USO) through the TAP without offloads: every datagram arrives intact and
# every UDP checksum is correct.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/tools/port-lib.sh"
pw_require
command -v tshark >/dev/null || vf_skip "no tshark"

# capture_check CLIENT NS DEV: iperf3 from namespace CLIENT (10.93.0.1) at
# a capturable rate while tshark records what 10.93.0.1 sends, as it
# arrives on DEV in NS; then judges the capture.
capture_check() {
    local client=$1 ns=$2 dev=$3 cap=$VF_TMP/$2-$3.pcapng
    vf_bg "$ns" tshark -n -i "$dev" -w "$cap" -f "src host 10.93.0.1 and tcp"
    local tpid=$VF_LAST_PID tlog=$VF_LAST_LOG
    vf_wait 10 grep -q "Capturing on" "$tlog" || vf_fail "tshark did not start"
    vf_in "$client" iperf3 -c 10.93.0.2 -t 2 -b 150M -J >"$VF_TMP/iperf.json" \
        || vf_fail "iperf3 through software segmentation"
    sleep 0.5
    kill -INT "$tpid"
    vf_wait 10 sh -c "! kill -0 $tpid 2>/dev/null" || vf_fail "tshark did not stop"
    tshark -n -r "$cap" -o ip.check_checksum:TRUE -o tcp.check_checksum:TRUE \
        -T fields -e frame.len -e ip.checksum.status -e tcp.checksum.status \
        >"$VF_TMP/fields.txt" 2>/dev/null || vf_fail "tshark could not read $cap"
    # Status 1 = good, 0 = bad (2 = not checked).
    read -r n bad maxlen < <(awk '{ n++; if ($2 != 1 || $3 != 1) bad++;
        if ($1 > m) m = $1 } END { print n + 0, bad + 0, m + 0 }' \
        "$VF_TMP/fields.txt")
    vf_log "$ns/$dev: $n frames captured, $bad with a bad checksum," \
           "largest $maxlen bytes"
    [ "$n" -gt 1000 ] || vf_fail "only $n frames captured"
    [ "$bad" = 0 ] || { head "$VF_TMP/fields.txt" >&2; vf_fail "bad checksums"; }
    [ "$maxlen" -le 1514 ] || vf_fail "a $maxlen-byte frame left port-wire"
    pw_stats
    local seg segs
    seg=$(pw_stat a_to_b.segmented)
    segs=$(pw_stat a_to_b.segments)
    vf_log "port-wire segmented $seg super-frames into $segs frames"
    [ "$seg" -gt 50 ] || vf_fail "no software segmentation ($seg)"
    [ "$segs" -gt $(( seg * 2 )) ] || vf_fail "segments: $segs for $seg frames"
    [ "$(pw_stat a_to_b.prepare_errors)" = 0 ] || vf_fail "prepare errors"
    [ "$(pw_stat b.tx_errors)" = 0 ] || vf_fail "transmit errors"
}

# 1. TAP -> afpacket without offloads.
vf_ns_add sw
vf_ns_add v1
vf_ns_add v2
T1=${VF_P}t1
U=${VF_P}u
vf_veth sw "$U" v2 eth0
vf_in v2 ip addr add 10.93.0.2/24 dev eth0
vf_in v2 ip addr add fd93::2/64 dev eth0 nodad
pw_start sw "tap:$T1" "afpacket:$U,offload=0"
pw_stats
[ "$(pw_stat b.tx_tso4)" = 0 ] && [ "$(pw_stat b.tx_csum)" = 0 ] \
    || vf_fail "afpacket offload=0 still takes offloads"
vm_up v1 "$T1" 10.93.0.1/24 fd93::1/64
vf_in v1 ping -c 2 -i 0.2 -W 2 10.93.0.2 >/dev/null || vf_fail "ping"
vf_bg v2 iperf3 -s
iperf_listening v2 || vf_fail "iperf3 server did not start"
capture_check v1 v2 eth0
kill "$PW_PID"
vf_wait 5 sh -c "! kill -0 $PW_PID 2>/dev/null" || vf_fail "port-wire did not exit"
grep -q "AddressSanitizer\|LeakSanitizer" "$PW_LOG" && vf_fail "sanitizer report"

# 2. TAP -> TAP without offloads (no virtio-net header at all).
vf_ns_add w1
vf_ns_add w2
T3=${VF_P}t3
T4=${VF_P}t4
pw_start sw "tap:$T3" "tap:$T4,offload=0"
vm_up w1 "$T3" 10.93.0.1/24 fd93::1/64
vm_up w2 "$T4" 10.93.0.2/24 fd93::2/64
vf_in w1 ping -c 2 -i 0.2 -W 2 10.93.0.2 >/dev/null || vf_fail "ping (tap)"
vf_bg w2 iperf3 -s
iperf_listening w2 || vf_fail "iperf3 server did not start"
capture_check w1 w2 "$T4"

# Software USO: UDP GSO super-frames cut into datagrams whose checksums
# tshark verifies; the receiver gets every datagram intact.
pw_stats
seg0=$(pw_stat a_to_b.segmented)
cap=$VF_TMP/uso.pcapng
vf_bg w2 tshark -n -i "$T4" -w "$cap" -f "src host 10.93.0.1 and udp"
tpid=$VF_LAST_PID
vf_wait 10 grep -q "Capturing on" "$VF_LAST_LOG" || vf_fail "tshark did not start"
vf_bg w2 /usr/bin/python3 "$VF_SRC/tests/integration/tools/uso.py" \
    recv 10.93.0.2 7002 1600 15
rpid=$VF_LAST_PID
rlog=$VF_LAST_LOG
sleep 0.5
vf_in w1 /usr/bin/python3 "$VF_SRC/tests/integration/tools/uso.py" \
    send 10.93.0.2 7002 100 1000 || vf_fail "USO sender"
wait "$rpid" || { cat "$rlog" >&2; vf_fail "USO datagrams lost or damaged"; }
sleep 0.3
kill -INT "$tpid"
vf_wait 10 sh -c "! kill -0 $tpid 2>/dev/null" || vf_fail "tshark did not stop"
read -r n bad < <(tshark -n -r "$cap" -o ip.check_checksum:TRUE \
    -o udp.check_checksum:TRUE -T fields -e ip.checksum.status \
    -e udp.checksum.status 2>/dev/null \
    | awk '{ n++; if ($1 != 1 || $2 != 1) bad++ } END { print n + 0, bad + 0 }')
pw_stats
vf_log "USO: $(cat "$rlog"); $(( $(pw_stat a_to_b.segmented) - seg0 ))" \
       "frames cut in software; $n datagrams captured, $bad bad checksums"
[ $(( $(pw_stat a_to_b.segmented) - seg0 )) -ge 90 ] || vf_fail "no software USO"
[ "$n" -ge 1600 ] && [ "$bad" = 0 ] || vf_fail "USO checksums ($n, $bad bad)"
kill "$PW_PID"
vf_wait 5 sh -c "! kill -0 $PW_PID 2>/dev/null" || vf_fail "port-wire did not exit"
grep -q "AddressSanitizer\|LeakSanitizer" "$PW_LOG" && vf_fail "sanitizer report"
vf_log "PASS"
