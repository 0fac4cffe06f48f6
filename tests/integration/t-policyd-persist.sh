#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# vfab-policyd's persistence: the model, host tokens and the change feed
# survive a clean restart and kill -9 (every acknowledged write is there
# afterwards, with its version); a second server on the same database is
# refused; a corrupt or foreign database file is refused with a message.
. "$(dirname "$0")/t-policyd-common.bash"

pd_start p
expect 201 POST /v1/tenants '{"name":"t"}'
expect 201 POST /v1/networks '{"name":"n","tenant":"t","vni":7,"subnets":["10.7.0.0/24"]}'
expect 201 POST /v1/hosts '{"name":"h","underlay_ip":"192.0.2.7"}'
HTOK=$(jq -r .token <<<"$BODY")
expect 201 POST /v1/vnics '{"name":"v","network":"n","mac":"02:00:00:00:07:01","ips":["10.7.0.1"],"host":"h"}'
expect 200 GET /v1/vnics
BEFORE=$(jq -c . <<<"$BODY")

# A second server on the same database is refused.
rc=0
timeout 20 "$PD_BIN" --listen 127.0.0.1:0 --db "$VF_TMP/p.db" \
    --admin-token-file "$VF_TMP/admin.token" >"$VF_TMP/second.log" 2>&1 || rc=$?
[ "$rc" != 0 ] || vf_fail "a second vfab-policyd opened the same database"
grep -q 'locked' "$VF_TMP/second.log" || { cat "$VF_TMP/second.log"; vf_fail "second: message"; }

# Clean restart.
pd_stop
[ "$PD_RC" = 0 ] || vf_fail "exit status $PD_RC"
pd_start p
[ "$(version)" = 4 ] || vf_fail "version after restart: $(version)"
expect 200 GET /v1/vnics
[ "$(jq -c . <<<"$BODY")" = "$BEFORE" ] || vf_fail "model changed across restart"
expect 200 GET /v1/hosts/h "" "$HTOK"
expect 200 GET '/v1/changes?since=2'
[ "$(jq -r '[.changes[].version]|join(",")' <<<"$BODY")" = 3,4 ] || vf_fail "feed after restart: $BODY"
expect_err 409 mac POST /v1/vnics '{"name":"w","network":"n","mac":"02:00:00:00:07:01"}'

# kill -9 while writes stream in: every acknowledged write must survive.
: >"$VF_TMP/acked"
(
    for i in $(seq 1 400); do
        st=$(curl -s -o /dev/null -w '%{http_code}' -X POST \
             -H "Authorization: Bearer $ADMIN" -H 'Content-Type: application/json' \
             --data-binary "{\"name\":\"k$i\"}" "$PD_URL/v1/tenants") || break
        [ "$st" = 201 ] && echo "k$i" >>"$VF_TMP/acked"
    done
) &
writer=$!
n_acked() { [ "$(wc -l <"$VF_TMP/acked")" -ge "$1" ]; }
vf_wait 20 n_acked 30 || vf_fail "writes too slow"
pd_stop KILL
wait "$writer"
N=$(wc -l <"$VF_TMP/acked")
vf_log "$N writes acknowledged before kill -9"
pd_start p
V=$(version)
[ "$V" -ge $((4 + N)) ] || vf_fail "version $V < $((4 + N)) acknowledged"
[ "$V" -le $((4 + N + 1)) ] || vf_fail "version $V: more than one unacknowledged write"
expect 200 GET /v1/tenants
for name in $(cat "$VF_TMP/acked"); do
    jq -e --arg n "$name" 'any(.tenants[]; .name == $n)' <<<"$BODY" >/dev/null \
        || vf_fail "acknowledged tenant $name lost"
done
[ "$(jq '.tenants | length' <<<"$BODY")" = $((V - 3)) ] || vf_fail "tenants vs version"
# The feed is contiguous up to the version.
expect 200 "GET" "/v1/changes?since=4&limit=1000"
[ "$(jq '.changes | length' <<<"$BODY")" = $((V - 4)) ] || vf_fail "feed length"
jq -e '[.changes[].version] == [range(5; '"$((V + 1))"')]' <<<"$BODY" >/dev/null \
    || vf_fail "feed versions not contiguous"
expect 201 POST /v1/tenants '{"name":"after"}'
[ "$(jq -r .version <<<"$BODY")" = $((V + 1)) ] || vf_fail "version after kill"
pd_stop

# Foreign and corrupt databases are refused.
head -c 8192 /dev/urandom >"$VF_TMP/garbage.db"
rc=0
"$PD_BIN" --listen 127.0.0.1:0 --db "$VF_TMP/garbage.db" \
    --admin-token-file "$VF_TMP/admin.token" >"$VF_TMP/garbage.log" 2>&1 || rc=$?
[ "$rc" != 0 ] || vf_fail "started on a garbage file"
grep -q 'ERR' "$VF_TMP/garbage.log" || vf_fail "no error message"
if command -v sqlite3 >/dev/null; then
    sqlite3 "$VF_TMP/foreign.db" 'CREATE TABLE customers (name TEXT);'
    rc=0
    "$PD_BIN" --listen 127.0.0.1:0 --db "$VF_TMP/foreign.db" \
        --admin-token-file "$VF_TMP/admin.token" >"$VF_TMP/foreign.log" 2>&1 || rc=$?
    [ "$rc" != 0 ] || vf_fail "started on a foreign database"
    grep -q 'not a vfab-policyd database' "$VF_TMP/foreign.log" || vf_fail "foreign: message"
fi
# A bad admin token file is refused too.
echo short >"$VF_TMP/short.token"
rc=0
"$PD_BIN" --listen 127.0.0.1:0 --db "$VF_TMP/x.db" --admin-token-file "$VF_TMP/short.token" \
    >"$VF_TMP/short.log" 2>&1 || rc=$?
[ "$rc" != 0 ] || vf_fail "accepted a short admin token"
vf_log "PASS"
