# SPDX-License-Identifier: Apache-2.0
# tests/integration/tools/switch-lib.sh: helpers of the t-switch-*.sh
# tests, on top of tests/integration/lib.sh (source that first).
#
#   sw_require                      skip unless scapy is usable
#   sw_sniff NS IFACE SECS NAME     starts a capture (switch-scapy.py sniff)
#                                   into $VF_TMP/NAME.json, waits until ready
#   sw_sniff_stop NAME              ends it (SIGTERM) and waits
#   sw_send NS IFACE COUNT EXPR...  injects scapy-built frames
#   sw_count NAME JQ-SELECT         frames of capture NAME matching a jq
#                                   condition, e.g. '.mark=="SWT-a"'
#   sw_wait_count SECS NAME JQ-SELECT MIN
#                                   polls until sw_count >= MIN (false on
#                                   time-out)
#   sw_port_json SW BR PORT         the port's object of `-j port-stats`
#   sw_drop SW BR PORT REASON       its drops.REASON counter (0 if absent)
#   sw_mac NS IFACE                 the interface's MAC address
#   sw_stop_clean NAME              SIGTERM to vfabd NAME: exit 0, no
#                                   sanitizer report in its log

SW_SCAPY=${SW_SCAPY:-$VF_SRC/tests/integration/tools/switch-scapy.py}

sw_require() {
    /usr/bin/python3 -c 'import scapy.all' 2>/dev/null \
        || vf_skip "python3-scapy missing"
    command -v jq >/dev/null || vf_skip "jq missing"
}

sw_sniff() {
    local ns=$1 ifc=$2 secs=$3 name=$4
    rm -f "$VF_TMP/$name.ready"
    ip netns exec "$(vf_ns "$ns")" /usr/bin/python3 "$SW_SCAPY" sniff \
        "$ifc" "$secs" "$VF_TMP/$name.ready" >"$VF_TMP/$name.json" \
        2>"$VF_TMP/$name.err" &
    VF_PIDS+=("$!")
    eval "SW_SNIFF_PID_${name//-/_}=$!"
    vf_wait 15 test -s "$VF_TMP/$name.ready" \
        || { cat "$VF_TMP/$name.err" >&2; vf_fail "sniffer $name did not start"; }
}

sw_sniff_stop() {
    local var="SW_SNIFF_PID_${1//-/_}"
    local pid=${!var}
    kill "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    return 0
}

sw_send() {
    local ns=$1 ifc=$2 count=$3
    shift 3
    ip netns exec "$(vf_ns "$ns")" /usr/bin/python3 "$SW_SCAPY" send \
        "$ifc" "$count" "$@" || vf_fail "scapy send on $ns/$ifc failed"
}

sw_count() {
    jq -c "select($2)" "$VF_TMP/$1.json" | wc -l
}

sw_count_ge() {
    [ "$(sw_count "$1" "$2")" -ge "$3" ]
}

sw_wait_count() {
    vf_wait "$1" sw_count_ge "$2" "$3" "$4"
}

sw_port_json() {
    vfctl "$1" -j port-stats "$2" \
        | jq -c ".ports[] | select(.port==\"$3\")"
}

sw_drop() {
    sw_port_json "$1" "$2" "$3" | jq -r ".drops.$4 // 0"
}

sw_mac() {
    vf_in "$1" cat "/sys/class/net/$2/address"
}

# sw_stop_clean NAME : SIGTERM to the vfabd started by vf_vfabd NAME; it
# must exit 0 with no sanitizer report in its log.
sw_stop_clean() {
    local pidvar="VF_VFABD_PID_$1" logvar="VF_VFABD_LOG_$1"
    local pid=${!pidvar} log=${!logvar} rc
    kill -TERM "$pid" 2>/dev/null || vf_fail "vfabd $1 is not running"
    wait "$pid"
    rc=$?
    if grep -qE 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' \
        "$log"; then
        cat "$log" >&2
        vf_fail "vfabd $1: sanitizer report"
    fi
    [ "$rc" = 0 ] || { tail -20 "$log" >&2; vf_fail "vfabd $1 exited $rc"; }
}
