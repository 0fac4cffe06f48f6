# SPDX-License-Identifier: Apache-2.0
# Helpers shared by the t-policyd-*.sh integration tests (sourced after
# lib.sh; not a test itself).  vfab-policyd runs on 127.0.0.1 with port 0
# (the kernel picks a free port; --port-file tells which), so tests never
# clash with each other or with anything else on the machine.
#
#   pd_start NAME [ARGS...]   start vfab-policyd on $VF_TMP/NAME.db; sets
#                             PD_URL, PD_PID, ADMIN (the admin token)
#   pd_stop [SIGNAL]          stop it (TERM by default) and wait
#   api METHOD PATH [BODY] [TOKEN]   sets ST (HTTP status) and BODY
#   expect STATUS METHOD PATH [BODY] [TOKEN]
#   expect_err STATUS FIELD METHOD PATH [BODY] [TOKEN]
#                             a JSON error naming FIELD ("-": none), and
#                             the model version unchanged
#   version                   the model version (from /healthz)

VF_BUILD=${VFAB_BUILD:-${VF_BUILD:-}}
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

PD_BIN=$VF_BUILD/src/policyd/vfab-policyd
VFABCTL_BIN=$VF_BUILD/src/vfabctl/vfabctl
[ -x "$PD_BIN" ] || vf_skip "vfab-policyd not built ($PD_BIN)"
command -v curl >/dev/null || vf_skip "curl missing"
command -v jq >/dev/null || vf_skip "jq missing"

pd_start() {
    local name=$1
    shift
    rm -f "$VF_TMP/$name.port"
    vf_bg - "$PD_BIN" --listen 127.0.0.1:0 --db "$VF_TMP/$name.db" \
        --admin-token-file "$VF_TMP/admin.token" \
        --port-file "$VF_TMP/$name.port" "$@"
    PD_PID=$VF_LAST_PID
    PD_LOG=$VF_LAST_LOG
    vf_wait 20 test -s "$VF_TMP/$name.port" \
        || { cat "$PD_LOG" >&2; vf_fail "vfab-policyd did not start"; }
    PD_URL="http://127.0.0.1:$(cat "$VF_TMP/$name.port")"
    ADMIN=$(cat "$VF_TMP/admin.token")
    vf_wait 10 curl -sf "$PD_URL/healthz" \
        || vf_fail "vfab-policyd does not answer"
}

pd_stop() {
    local sig=${1:-TERM}
    kill -"$sig" "$PD_PID" 2>/dev/null || true
    local rc=0
    wait "$PD_PID" 2>/dev/null || rc=$?
    PD_RC=$rc
}

api() {
    local method=$1 path=$2 body=${3:-} token=${4-$ADMIN}
    local args=(-s -o "$VF_TMP/body" -w '%{http_code}' -X "$method")
    [ -n "$token" ] && args+=(-H "Authorization: Bearer $token")
    [ -n "$body" ] && args+=(-H 'Content-Type: application/json' \
                             --data-binary "$body")
    ST=$(curl "${args[@]}" "$PD_URL$path")
    BODY=$(cat "$VF_TMP/body")
}

expect() {
    local want=$1
    shift
    api "$@"
    [ "$ST" = "$want" ] || vf_fail "$1 $2: HTTP $ST, want $want: $BODY"
}

version() {
    curl -sf "$PD_URL/healthz" | jq -r .version
}

expect_err() {
    local want=$1 field=$2
    shift 2
    local v0
    v0=$(version)
    api "$@"
    [ "$ST" = "$want" ] || vf_fail "$1 $2 ${3:-}: HTTP $ST, want $want: $BODY"
    jq -e '.error | type == "string"' <<<"$BODY" >/dev/null \
        || vf_fail "$1 $2: no JSON error: $BODY"
    local got
    got=$(jq -r '.field // "-"' <<<"$BODY")
    [ "$got" = "$field" ] || vf_fail "$1 $2 ${3:-}: field '$got', want '$field': $BODY"
    [ "$(version)" = "$v0" ] || vf_fail "$1 $2: the version moved on error"
}
