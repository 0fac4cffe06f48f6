# SPDX-License-Identifier: Apache-2.0
# tests/integration/lib.sh: shared helpers for integration tests.
#
#   . "$(dirname "$0")/lib.sh"
#   vf_require_root_netns          # exit 77 (skip) where impossible
#   vf_ns_add h1                   # namespace "$VF_P-h1", deleted on exit
#   vf_veth h1 eth0 h2 eth0        # veth pair between two namespaces
#   vf_bg h1 some-daemon --args    # background process, killed on exit
#   vf_wait 5 "cond command"       # poll until true or time out
#
# Every name a test creates starts with $VF_P (unique per test process), so
# tests may run side by side and clean up only what they created.  Use
# addresses in private ranges inside those namespaces only.

set -uo pipefail

VF_P=${VF_P:-vt$(( $$ % 100000 ))}
VF_BUILD=${VF_BUILD:-${VFAB_BUILD:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/build/asan}}
VF_SRC=${VF_SRC:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
VF_TMP=$(mktemp -d "/tmp/$VF_P.XXXXXX")
VF_NAMESPACES=()
VF_PIDS=()
VF_CLEANUPS=()

vf_log() { printf '[%s] %s\n' "$(date +%T.%3N)" "$*" >&2; }

vf_fail() {
    vf_log "FAIL: $*"
    exit 1
}

vf_skip() {
    vf_log "SKIP: $*"
    exit 77
}

# Runs "$@" at exit (last registered runs first).
vf_on_exit() { VF_CLEANUPS+=("$*"); }

vf_cleanup() {
    local rc=$?
    local i
    for (( i=${#VF_CLEANUPS[@]}-1; i>=0; i-- )); do
        eval "${VF_CLEANUPS[$i]}" >/dev/null 2>&1 || true
    done
    for pid in "${VF_PIDS[@]}"; do
        kill "$pid" 2>/dev/null || true
    done
    for pid in "${VF_PIDS[@]}"; do
        for _ in $(seq 50); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -9 "$pid" 2>/dev/null || true
    done
    for ns in "${VF_NAMESPACES[@]}"; do
        ip netns pids "$ns" 2>/dev/null | xargs -r kill -9 2>/dev/null || true
        ip netns del "$ns" 2>/dev/null || true
    done
    if [ $rc -ne 0 ] && [ $rc -ne 77 ] && [ -n "${VF_KEEP_LOGS:-}" ]; then
        vf_log "logs kept in $VF_TMP"
    else
        rm -rf "$VF_TMP"
    fi
    exit $rc
}
trap vf_cleanup EXIT
trap 'exit 130' INT TERM

vf_require_root_netns() {
    [ "$(id -u)" -eq 0 ] || vf_skip "needs root"
    ip netns add "$VF_P-probe" 2>/dev/null || vf_skip "cannot create network namespaces"
    ip netns del "$VF_P-probe"
}

# vf_ns NAME -> the full namespace name
vf_ns() { printf '%s-%s' "$VF_P" "$1"; }

vf_ns_add() {
    local ns
    ns=$(vf_ns "$1")
    ip netns add "$ns" || vf_fail "ip netns add $ns"
    VF_NAMESPACES+=("$ns")
    ip -n "$ns" link set lo up
}

# vf_in NAME CMD... : runs CMD inside namespace NAME
vf_in() {
    local ns
    ns=$(vf_ns "$1")
    shift
    ip netns exec "$ns" "$@"
}

# vf_veth NS1 IF1 NS2 IF2 : a veth pair, IF1 in NS1 and IF2 in NS2, both up.
vf_veth() {
    local tmp1="${VF_P}a$RANDOM" tmp2="${VF_P}b$RANDOM"
    tmp1=${tmp1:0:15}; tmp2=${tmp2:0:15}
    ip link add "$tmp1" type veth peer name "$tmp2" || vf_fail "veth $1/$2"
    ip link set "$tmp1" netns "$(vf_ns "$1")" name "$2" || vf_fail "move $2"
    ip link set "$tmp2" netns "$(vf_ns "$3")" name "$4" || vf_fail "move $4"
    vf_in "$1" ip link set "$2" up
    vf_in "$3" ip link set "$4" up
}

# vf_bg NS CMD... : starts CMD in namespace NS (or "-" for none) in the
# background, output to $VF_TMP/<basename>.<n>.log; sets VF_LAST_PID.
vf_bg() {
    local ns=$1
    shift
    local log="$VF_TMP/$(basename "$1").${#VF_PIDS[@]}.log"
    if [ "$ns" = - ]; then
        "$@" >"$log" 2>&1 &
    else
        ip netns exec "$(vf_ns "$ns")" "$@" >"$log" 2>&1 &
    fi
    VF_LAST_PID=$!
    VF_LAST_LOG=$log
    VF_PIDS+=("$VF_LAST_PID")
}

# vf_wait SECONDS CMD... : polls CMD every 0.1 s until it succeeds.
vf_wait() {
    local secs=$1
    shift
    local deadline=$(( $(date +%s%N) + secs * 1000000000 ))
    while [ "$(date +%s%N)" -lt "$deadline" ]; do
        "$@" >/dev/null 2>&1 && return 0
        sleep 0.1
    done
    return 1
}

# vf_expect_fail CMD... : CMD must exit non-zero.
vf_expect_fail() {
    if "$@" >"$VF_TMP/expect_fail.out" 2>&1; then
        vf_fail "expected failure: $*"
    fi
}

vf_bin() { printf '%s/%s' "$VF_BUILD" "$1"; }

# vf_vfabd NS NAME [VFABD-ARGS...] : starts vfabd in namespace NS ("-" for
# none) with socket $VF_TMP/NAME.sock and database $VF_TMP/NAME.db, and
# waits until it answers.  Its pid is in VF_VFABD_PID_<NAME>.
vf_vfabd() {
    local ns=$1 name=$2
    shift 2
    vf_bg "$ns" "$(vf_bin src/vfabd/vfabd)" --socket "$VF_TMP/$name.sock" \
        --db "$VF_TMP/$name.db" "$@"
    eval "VF_VFABD_PID_$name=$VF_LAST_PID"
    eval "VF_VFABD_LOG_$name=$VF_LAST_LOG"
    vf_wait 10 vfctl "$name" version \
        || { cat "$VF_LAST_LOG" >&2; vf_fail "vfabd $name did not start"; }
}

# vfctl NAME ARGS... : vfabctl against the vfabd called NAME.
vfctl() {
    local name=$1
    shift
    "$(vf_bin src/vfabctl/vfabctl)" --socket "$VF_TMP/$name.sock" "$@"
}

# vf_vm NS_VM TAP HOSTNS CIDR : moves TAP (created by vfabd in HOSTNS) into
# the VM namespace NS_VM and configures CIDR on it.
vf_vm() {
    local vm=$1 tap=$2 host=$3 cidr=$4
    if [ "$host" = - ]; then
        ip link set "$tap" netns "$(vf_ns "$vm")" || vf_fail "move $tap"
    else
        ip -n "$(vf_ns "$host")" link set "$tap" netns "$(vf_ns "$vm")" \
            || vf_fail "move $tap"
    fi
    vf_in "$vm" ip addr add "$cidr" dev "$tap"
    vf_in "$vm" ip link set "$tap" up
}

# vf_ping NS DST [COUNT] : ping must succeed.
vf_ping() {
    vf_in "$1" ping -q -c "${3:-2}" -i 0.1 -W 2 "$2" >/dev/null \
        || vf_fail "ping from $1 to $2 failed"
}

# vf_no_ping NS DST : ping must fail.
vf_no_ping() {
    if vf_in "$1" ping -q -c 2 -i 0.1 -W 1 "$2" >/dev/null 2>&1; then
        vf_fail "ping from $1 to $2 succeeded but must not"
    fi
}

# vf_json_get JSON-TEXT JQ-FILTER
vf_jq() { jq -r "$2" <<<"$1"; }
