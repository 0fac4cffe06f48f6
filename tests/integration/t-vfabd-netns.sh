#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Two vfabd side by side, one per host namespace (as multi-host tests run
# them), each with its own --socket and --db: each vfabctl --socket talks
# to its own daemon, configurations stay apart (also across restarts), and
# stopping one leaves the other serving.
if [ -n "${VFAB_BUILD:-}" ]; then VF_BUILD=$VFAB_BUILD; fi
. "$(dirname "$0")/lib.sh"

vf_require_root_netns
VFABD=$(vf_bin src/vfabd/vfabd)
VFABCTL=$(vf_bin src/vfabctl/vfabctl)
[ -x "$VFABD" ] && [ -x "$VFABCTL" ] || vf_skip "vfabd/vfabctl not built"
command -v jq >/dev/null || vf_skip "jq missing"

declare -A PID
start() {   # start HOST
    vf_bg "$1" "$VFABD" --socket "$VF_TMP/$1/vfabd.sock" \
        --db "$VF_TMP/$1/vfabd.db" --log-level info
    PID[$1]=$VF_LAST_PID
    vf_wait 10 ctl "$1" version || vf_fail "vfabd in $1 did not start: $(cat "$VF_LAST_LOG")"
}
ctl() {     # ctl HOST ARGS...: vfabctl inside HOST's namespace
    local h=$1
    shift
    vf_in "$h" "$VFABCTL" --socket "$VF_TMP/$h/vfabd.sock" "$@"
}
bridges() { ctl "$1" -j show | jq -c '[.bridges[] | [.name, [.ports[].name]]]'; }

vf_ns_add h1
vf_ns_add h2
start h1
start h2

ctl h1 add-br br-a || vf_fail "h1 add-br"
ctl h1 add-port br-a vm1 type=tap mac=02:00:00:00:01:01 || vf_fail "h1 add-port"
ctl h2 add-br br-a || vf_fail "h2 add-br (same name, other host)"
ctl h2 add-port br-a vm1 type=tap mac=02:00:00:00:02:01 || vf_fail "h2 add-port"
ctl h2 add-br br-b || vf_fail "h2 add-br br-b"
ctl h1 add-flow br-a "priority=1,actions=drop" || vf_fail "h1 add-flow"

[ "$(bridges h1)" = '[["br-a",["vm1"]]]' ] || vf_fail "h1: $(bridges h1)"
[ "$(bridges h2)" = '[["br-a",["vm1"]],["br-b",[]]]' ] || vf_fail "h2: $(bridges h2)"
[ "$(ctl h1 -j show | jq -r '.bridges[0].ports[0].mac')" = 02:00:00:00:01:01 ] \
    || vf_fail "h1 sees the wrong port"
[ "$(ctl h2 -j dump-flows br-a | jq '.flows | length')" = 0 ] \
    || vf_fail "h1's flow leaked to h2"

# Each daemon's namespace is its own: the daemons really run inside them.
for h in h1 h2; do
    [ "$(readlink /proc/${PID[$h]}/ns/net)" = \
      "$(vf_in "$h" readlink /proc/self/ns/net)" ] || vf_fail "vfabd $h not in its namespace"
done

# Stopping h1 leaves h2 alone; h1 comes back with its own configuration.
kill -TERM "${PID[h1]}"
wait "${PID[h1]}" || vf_fail "h1 vfabd exit status"
[ ! -e "$VF_TMP/h1/vfabd.sock" ] || vf_fail "h1 socket left"
ctl h2 show >/dev/null || vf_fail "h2 hurt by h1's shutdown"
ctl h1 show >/dev/null 2>&1 && vf_fail "h1 still answers"
start h1
[ "$(bridges h1)" = '[["br-a",["vm1"]]]' ] || vf_fail "h1 after restart: $(bridges h1)"
[ "$(bridges h2)" = '[["br-a",["vm1"]],["br-b",[]]]' ] || vf_fail "h2 after h1 restart"

# kill -9 of h2: h1 unaffected, h2 restarts over its stale socket.
kill -KILL "${PID[h2]}"
wait "${PID[h2]}" 2>/dev/null
[ -S "$VF_TMP/h2/vfabd.sock" ] || vf_fail "expected a stale socket after kill -9"
ctl h1 show >/dev/null || vf_fail "h1 hurt by h2's death"
start h2
[ "$(bridges h2)" = '[["br-a",["vm1"]],["br-b",[]]]' ] || vf_fail "h2 after kill -9"

for h in h1 h2; do
    kill -TERM "${PID[$h]}"
    wait "${PID[$h]}" || vf_fail "$h vfabd exit status"
done
vf_log "PASS"
