#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# vfabctl's policy commands against vfab-policyd: create/list/show/set/
# delete of every object kind, human and -j output, host registration with
# a token file and what that token may do, translations, the change feed,
# server selection by option and environment, and exit statuses (1 for an
# error answer, 2 when the server is unreachable).
. "$(dirname "$0")/t-policyd-common.bash"
[ -x "$VFABCTL_BIN" ] || vf_skip "vfabctl not built"

pd_start ctl
ctl() { "$VFABCTL_BIN" --server "$PD_URL" --token-file "$VF_TMP/admin.token" "$@"; }
must() { "$@" >"$VF_TMP/out" 2>&1 || { cat "$VF_TMP/out" >&2; vf_fail "failed: $*"; }; }
mustnt() { # STATUS CMD...
    local want=$1 rc=0
    shift
    "$@" >"$VF_TMP/out" 2>&1 || rc=$?
    [ "$rc" = "$want" ] || { cat "$VF_TMP/out" >&2; vf_fail "exit $rc, want $want: $*"; }
}

must ctl tenant-create acme --description "ACME corp"
must ctl net-create web --tenant acme --vni 5000 --subnet 10.1.0.0/24 --subnet fd01::/64
must ctl net-create db --tenant acme --subnet 10.2.0.0/24
must ctl host-register hv1 --underlay-ip 198.51.100.1 --capability vxlan \
    --capability afxdp --state-format 3 --token-file "$VF_TMP/hv1.token"
[ "$(stat -c %a "$VF_TMP/hv1.token")" = 600 ] || vf_fail "host token file mode"
grep -q '^vfh\.hv1\.' "$VF_TMP/hv1.token" || vf_fail "host token content"
must ctl host-register hv2 --underlay-ip 198.51.100.2
grep -q '^token: vfh\.hv2\.' "$VF_TMP/out" || vf_fail "printed token"
must ctl vnic-create w1 --network web --mac 02:aa:00:00:00:01 --ip 10.1.0.11 --ip fd01::11 --host hv1 --group web
must ctl vnic-create w2 --network web --mac 02:aa:00:00:00:02 --ip 10.1.0.12 --host hv2 --group web
must ctl vnic-create d1 --network db --mac 02:aa:00:00:00:03 --ip 10.2.0.13 --host hv2 --group db
must ctl policy-add web-to-db --tenant acme --action allow --from group:web \
    --to network:db --protocol tcp --ports 5432 --priority 300

# Human output.
must ctl vnic-list
grep -Eq '^w1 +web +02:aa:00:00:00:01 +10\.1\.0\.11,fd01::11 +hv1 +web' "$VF_TMP/out" \
    || { cat "$VF_TMP/out"; vf_fail "vnic-list table"; }
must ctl net-show web
grep -q '^vni: 5000$' "$VF_TMP/out" || vf_fail "net-show"
must ctl policy-list --tenant acme
grep -Eq '^web-to-db +acme +300 +allow +group:web +network:db +tcp +5432' "$VF_TMP/out" \
    || { cat "$VF_TMP/out"; vf_fail "policy-list"; }
# JSON output (global -j and -j among the arguments).
must ctl -j host-show hv1
[ "$(jq -r '.capabilities|join(",")' "$VF_TMP/out")" = vxlan,afxdp ] || vf_fail "-j host-show"
must ctl net-list -j
[ "$(jq -r '[.networks[].name]|join(",")' "$VF_TMP/out")" = db,web ] || vf_fail "net-list -j"

# Translations.
must ctl translate w1 10.1.0.12 10.2.0.13 02:aa:00:00:00:02
grep -Eq '^w1 +10\.1\.0\.12 +ok +allow +w2 +5000 +hv2 +198\.51\.100\.2' "$VF_TMP/out" \
    || { cat "$VF_TMP/out"; vf_fail "translate table"; }
grep -Eq '^w1 +10\.2\.0\.13 +ok +filtered' "$VF_TMP/out" || vf_fail "filtered"
must ctl -j translate w1 10.2.0.13 --protocol tcp --port 5432
[ "$(jq -r '.results[0].verdict' "$VF_TMP/out")" = allow ] || vf_fail "tcp 5432"
must ctl -j translate w1 10.2.0.13 --protocol tcp --port 80
[ "$(jq -r '.results[0].verdict' "$VF_TMP/out")" = deny ] || vf_fail "tcp 80"

# Updates and moves.
must ctl vnic-set w2 --host hv1
must ctl host-vnics hv1
[ "$(grep -c '^w[12] ' "$VF_TMP/out")" = 2 ] || { cat "$VF_TMP/out"; vf_fail "host-vnics"; }
must ctl vnic-set w2 --unplace
must ctl -j vnic-show w2
[ "$(jq -r '.host // "none"' "$VF_TMP/out")" = none ] || vf_fail "unplace"
must ctl policy-set web-to-db --ports 5432-5433
must ctl -j policy-show web-to-db
[ "$(jq -r .ports "$VF_TMP/out")" = 5432-5433 ] || vf_fail "policy-set"

# The change feed.
must ctl changes --since 9
grep -q '^10 update vnic w2$' "$VF_TMP/out" || { cat "$VF_TMP/out"; vf_fail "changes"; }
grep -q '^12 update policy web-to-db$' "$VF_TMP/out" || vf_fail "changes policy"
must ctl -j changes --since 11
[ "$(jq -s 'length' "$VF_TMP/out")" = 1 ] || vf_fail "changes -j"

# Error answers: exit 1 with the server's message and field.
mustnt 1 ctl vnic-create w3 --network web --mac 02:aa:00:00:00:01
grep -q 'HTTP 409: mac: .*(field mac)' "$VF_TMP/out" || { cat "$VF_TMP/out"; vf_fail "409 message"; }
mustnt 1 ctl net-create web2 --tenant acme --vni 5000
grep -q '(field vni)' "$VF_TMP/out" || vf_fail "vni clash"
mustnt 1 ctl net-delete web
mustnt 1 ctl vnic-show nope
mustnt 1 ctl vnic-create w3 --network web --mac 02:aa:00:00:00:09 --colour red
mustnt 1 ctl policy-add p --tenant acme --action deny --from somewhere --to any

# The host token: its own VNICs only.
H="$VFABCTL_BIN --server $PD_URL --token-file $VF_TMP/hv1.token"
must $H host-vnics hv1
mustnt 1 $H host-vnics hv2
grep -q 'HTTP 403' "$VF_TMP/out" || vf_fail "403 for another host"
mustnt 1 $H vnic-list
must $H vnic-set w2 --host hv1
mustnt 1 $H vnic-set d1 --host hv1
must $H -j translate w1 10.1.0.12
mustnt 1 $H tenant-create evil

# Environment fallbacks and an unreachable server.
must env VFAB_SERVER="$PD_URL" VFAB_TOKEN_FILE="$VF_TMP/admin.token" "$VFABCTL_BIN" server-status
grep -q '^status: ok$' "$VF_TMP/out" || vf_fail "server-status"
mustnt 2 "$VFABCTL_BIN" --server http://127.0.0.1:1 --token x tenant-list
mustnt 1 "$VFABCTL_BIN" --server "$PD_URL" --token wrong-token-xxxxxxxxxxxx tenant-list
grep -q 'HTTP 401' "$VF_TMP/out" || vf_fail "401"

# Deletes, in dependency order.
for c in "vnic-delete w1" "vnic-delete w2" "vnic-delete d1" "policy-delete web-to-db" \
         "net-delete web" "net-delete db" "host-delete hv1" "host-delete hv2" \
         "tenant-delete acme"; do
    must ctl $c
done
must ctl -j tenant-list
[ "$(jq '.tenants | length' "$VF_TMP/out")" = 0 ] || vf_fail "all deleted"
pd_stop
vf_log "PASS"
