#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# vfabd's fabric configuration refuses bad input: every bad fabric bridge
# option, vnic= on a non-tap port, off the fabric bridge or with a bad
# name, a second fabric bridge, a fabric bridge on a vfabd without
# --fabric-*, bad arguments of the fabric/* commands.  Each gets exactly one precise error line on
# stderr (exit 1, nothing on stdout) and changes nothing (`show` before
# and after equal); then the same vfabd still takes good input.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/fabric-lib.sh"
vf_require_root_netns

fab_init
padm tenant-create blue >/dev/null \
    && padm net-create blue-net --tenant blue --vni 5001 --subnet 10.1.0.0/24 >/dev/null \
    || vf_fail "model"
fab_host 1
padm vnic-create v1 --network blue-net --mac 02:00:00:00:01:01 --ip 10.1.0.1 \
    --host h1 >/dev/null || vf_fail "vnic"
vf_in h1 ip link add up1 type veth peer name up1p
vf_in h1 ip link set up1 up
vf_in h1 ip link set up1p up

# expect_error HOST NEEDLE VFABCTL-ARGS...: exit 1, exactly one line on
# stderr containing NEEDLE, nothing on stdout, `show` unchanged.
N_CASES=0
expect_error() {
    local host=$1 needle=$2
    shift 2
    local before after rc
    before=$(vfctl "$host" -j show) || vf_fail "show on $host"
    vfctl "$host" "$@" >"$VF_TMP/out" 2>"$VF_TMP/err"
    rc=$?
    [ "$rc" -eq 1 ] || vf_fail "$* exited $rc, not 1: $(cat "$VF_TMP/err")"
    [ "$(wc -l <"$VF_TMP/err")" -eq 1 ] || vf_fail "$*: not one line: $(cat "$VF_TMP/err")"
    grep -qF -- "$needle" "$VF_TMP/err" \
        || vf_fail "$*: '$(cat "$VF_TMP/err")' lacks '$needle'"
    [ ! -s "$VF_TMP/out" ] || vf_fail "$*: printed on stdout: $(cat "$VF_TMP/out")"
    after=$(vfctl "$host" -j show)
    [ "$before" = "$after" ] || vf_fail "$* changed the configuration:
before $before
after  $after"
    N_CASES=$((N_CASES + 1))
}

UL="underlay=192.168.100.1/24"
# Bad fabric bridge options (a fresh bridge f2; "fab" exists and is fine).
expect_error h1 "fabric must be vxlan or geneve" add-br f2 fabric=gre $UL uplink=up1
expect_error h1 "fabric=: empty value (expected vxlan|geneve)" add-br f2 fabric= $UL uplink=up1
expect_error h1 "fabric must be vxlan or geneve" add-br f2 $UL uplink=up1
U="underlay must be the VTEP's IPv4 address with its prefix length"
expect_error h1 "$U" add-br f2 fabric=vxlan uplink=up1
for bad in 192.168.100.1 192.168.100.1/33 192.168.100.1/0 192.168.100.1/-1 \
           192.168.300.1/24 192.168.100.1/24x 0.0.0.0/24 fd00::1/64 /24 vtep; do
    expect_error h1 "$U" add-br f2 fabric=vxlan "underlay=$bad" uplink=up1
done
for gw in 10.0.0.1 192.168.101.1 banana 192.168.100.1/24; do
    expect_error h1 "gateway '$gw' must be an IPv4 address on the underlay subnet" \
        add-br f2 fabric=geneve $UL "gateway=$gw" uplink=up1
done
expect_error h1 "uplink must name the underlay port" add-br f2 fabric=vxlan $UL
expect_error h1 "uplink=: empty value (expected PORT)" add-br f2 fabric=vxlan $UL uplink=
for m in 100 9001 big; do
    expect_error h1 "mtu=$m: expected an integer 576..9000" \
        add-br f2 fabric=vxlan $UL uplink=up1 mtu=$m
done
expect_error h1 "unknown option 'tunnel'" add-br f2 fabric=vxlan $UL uplink=up1 tunnel=vxlan
expect_error h1 "'vxlan' is not KEY=VALUE" add-br f2 vxlan
# One fabric bridge per vfabd.
expect_error h1 "bridge fab is already this host's fabric bridge" \
    add-br f2 fabric=vxlan underlay=192.168.100.11/24 uplink=up1

# vnic= only on tap ports of the fabric bridge, and only a model name.
expect_error h1 "option 'vnic' is only valid for tap ports" \
    add-port fab up1 type=afpacket vnic=v1
expect_error h1 "option 'vnic' is only valid for tap ports" \
    add-port fab d9 type=dummy vnic=v1
vfctl h1 add-br br1 >/dev/null || vf_fail "add-br br1"
expect_error h1 "option 'vnic' is only valid on the fabric bridge (br1 is not one)" \
    add-port br1 t1 type=tap vnic=v1
V="vnic must be a VNIC name of vfab-policyd"
long=$(printf 'v%.0s' $(seq 64))
for bad in "" "bad name" "a/b" "-x" ".x" "$long" "v1;rm"; do
    [ -z "$bad" ] && need="vnic=: empty value (expected NAME)" || need=$V
    expect_error h1 "$need" add-port fab t9 type=tap "vnic=$bad"
done

# The fabric commands.
expect_error h1 "'zz:zz' is not a MAC, IPv4 or IPv6 address" \
    call fabric/translate v1 zz:zz
expect_error h1 "no VNIC nosuch on this host" \
    call fabric/translate nosuch 02:00:00:00:01:02
expect_error h1 "'fabric/translate' takes 2 arguments (VNIC DST), got 1" \
    call fabric/translate v1
expect_error h1 "'fabric/show' takes 0 arguments" call fabric/show extra

# A vfabd without --fabric-* has no fabric.
vf_ns_add plain
vf_vfabd plain plain
vf_in plain ip link add up0 type veth peer name up0p
expect_error plain "a fabric bridge needs vfabd started with --fabric-server, --fabric-host and --fabric-token-file" \
    add-br fab fabric=vxlan underlay=192.168.100.9/24 uplink=up0
expect_error plain "a fabric bridge needs vfabd" \
    add-br fab fabric=geneve underlay=192.168.100.9/24 uplink=up0 gateway=192.168.100.254
expect_error plain "unknown command 'fabric/show'" call fabric/show
vfctl plain add-br br0 >/dev/null || vf_fail "plain add-br br0"
expect_error plain "option 'vnic' is only valid on the fabric bridge (br0 is not one)" \
    add-port br0 t1 type=tap vnic=v1
vf_log "$N_CASES bad inputs refused, nothing changed"

# Good input still works.
vfctl h1 add-port fab t9 type=tap vnic=v1 >/dev/null || vf_fail "add-port t9 vnic=v1"
t9_bound() {
    vfctl h1 -j call fabric/show \
        | jq -e '.vnics[] | select(.port=="t9") | .bound == true' >/dev/null
}
vf_wait 10 t9_bound || { vfctl h1 -j call fabric/show >&2; vf_fail "t9 not bound to v1"; }
vf_log "PASS"
