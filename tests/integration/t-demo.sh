#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The README's main job must never rot: bring the demo fabric up (with the
# build under test), check its connectivity matrix and underlay VNIs, run
# 'up' again (must be safe), 'status', then 'down', which must leave
# nothing behind.
. "$(dirname "$0")/lib.sh"
vf_require_root_netns
if ip netns list | grep -q '^vfd-'; then
    vf_skip "a demo fabric is running on this machine (./vfab-demo down first)"
fi
export VFAB_DEMO_BIN=$VF_BUILD VFAB_DEMO_STATE=$VF_TMP/demo
demo() { "$VF_SRC/vfab-demo" "$@"; }
vf_on_exit 'demo down >/dev/null 2>&1'

out=$(timeout 300 "$VF_SRC/vfab-demo" up -j) || { echo "$out" >&2; vf_fail "vfab-demo up failed"; }
[ "$(jq -r .ok <<<"$out")" = true ] || vf_fail "matrix mismatches: $(jq -c .mismatches <<<"$out")"
cells=$(jq '[.matrix[].cells[] | select(. != null)] | length' <<<"$out")
[ "$cells" = 30 ] || vf_fail "matrix has $cells cells, want 30"
# Same tenant reachable, other tenant blocked (or answered by the own
# tenant's twin), never a leak.
leaks=$(jq '[.matrix[].cells[] | select(. != null and .leak)] | length' <<<"$out")
[ "$leaks" = 0 ] || vf_fail "$leaks cross-tenant leaks"
blocked=$(jq '[.matrix[].cells[] | select(. != null and .cell == "--")] | length' <<<"$out")
[ "$blocked" = 12 ] || vf_fail "$blocked blocked cells, want 12"
vnis=$(jq -c '[.underlay[].vnis]' <<<"$out")
[ "$vnis" = '[[1001],[2001],[1002],[2001]]' ] || vf_fail "underlay VNIs $vnis"
vf_log "demo up: matrix ok, VNIs $vnis, iperf3 $(jq .iperf3_gbps <<<"$out") Gbit/s"

# Safe to run twice: the running fabric is checked again, not rebuilt.
out2=$(timeout 300 "$VF_SRC/vfab-demo" up) || vf_fail "second up failed: $out2"
grep -q "already up" <<<"$out2" || vf_fail "second up did not notice the running fabric"
grep -q "RESULT: the fabric behaves as configured" <<<"$out2" || vf_fail "second up: $out2"
# show on a host reports the fabric.
show=$(ip netns exec vfd-h1 "$(vf_bin src/vfabctl/vfabctl)" --socket "$VFAB_DEMO_STATE/h1.sock" show)
grep -q "policy server .*: reachable" <<<"$show" || vf_fail "show: $show"

demo down >/dev/null || vf_fail "vfab-demo down failed"
left=$(ip netns list | grep -c '^vfd-' || true)
[ "$left" = 0 ] || vf_fail "$left demo namespaces left after down"
[ ! -e "$VFAB_DEMO_STATE" ] || vf_fail "state directory left after down"
vf_log "PASS"
