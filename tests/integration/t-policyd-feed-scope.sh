#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# What a host token sees of vfab-policyd's change feed, over real HTTP
# (curl, raw bodies checked with grep and jq): a host never receives a
# tenant's VNIC names, MACs or IPs unless that tenant has (or had, since
# its cursor) a VNIC placed on it, nor other hosts' descriptions or
# capabilities; it does receive every change of its own tenants, the
# VNICs placed on or taken from it, and other hosts' underlay moves
# reduced to name and underlay IP.  Its long-poll stays parked through
# writes it may not see, wakes for its tenants' writes, and at its
# deadline answers nothing with "next" past the withheld records.  The
# admin token still sees every record.
. "$(dirname "$0")/t-policyd-common.bash"

pd_start feedscope
vf_log "vfab-policyd at $PD_URL"

# Two tenants with overlapping addresses; acme on h1 (and h2), globex on
# h2 only; h3 serves nobody.
expect 201 POST /v1/tenants '{"name":"acme"}'
expect 201 POST /v1/tenants '{"name":"globex","description":"globex secret plans"}'
expect 201 POST /v1/networks '{"name":"acme-net","tenant":"acme","vni":10,"subnets":["10.1.0.0/24"]}'
expect 201 POST /v1/networks '{"name":"globex-net","tenant":"globex","vni":20,"subnets":["10.2.0.0/24"]}'
expect 201 POST /v1/hosts '{"name":"h1","underlay_ip":"192.0.2.1"}'
H1=$(jq -r .token <<<"$BODY")
expect 201 POST /v1/hosts '{"name":"h2","underlay_ip":"192.0.2.2","description":"rack 7","capabilities":["vxlan"]}'
H2=$(jq -r .token <<<"$BODY")
expect 201 POST /v1/hosts '{"name":"h3","underlay_ip":"192.0.2.3"}'
H3=$(jq -r .token <<<"$BODY")
expect 201 POST /v1/vnics '{"name":"acme-web","network":"acme-net","mac":"02:ac:00:00:00:01","ips":["10.1.0.1"],"host":"h1"}'
expect 201 POST /v1/vnics '{"name":"acme-db","network":"acme-net","mac":"02:ac:00:00:00:02","ips":["10.1.0.2"],"host":"h2","security_groups":["db"]}'
expect 201 POST /v1/vnics '{"name":"globex-db","network":"globex-net","mac":"02:6e:00:00:00:01","ips":["10.2.0.1"],"host":"h2"}'
expect 201 POST /v1/policies '{"name":"globex-in","tenant":"globex","action":"allow","src":"any","dst":{"network":"globex-net"}}'
expect 201 POST /v1/policies '{"name":"acme-in","tenant":"acme","action":"allow","src":"any","dst":{"group":"db"}}'
V0=$(version)

# Fetches the feed with TOKEN since SINCE into $FEED (the raw body).
feed() {
    FEED=$(curl -sf -H "Authorization: Bearer $1" "$PD_URL/v1/changes?since=$2${3:-}") \
        || vf_fail "GET /v1/changes?since=$2 failed"
}

# Fails if the raw body $FEED holds any of the strings given.
never() {
    local s
    for s in "$@"; do
        if grep -qiF -- "$s" <<<"$FEED"; then
            vf_fail "$WHO's feed holds '$s': $FEED"
        fi
    done
}

# Fails unless the raw body $FEED holds every string given.
always() {
    local s
    for s in "$@"; do
        grep -qiF -- "$s" <<<"$FEED" || vf_fail "$WHO's feed lacks '$s': $FEED"
    done
}

GLOBEX=(globex 02:6e:00:00:00:01 10.2.0.1 "secret plans")
OTHER_HOSTS=("rack 7" vxlan 192.0.2.2 192.0.2.3 token)

# --- h1 serves acme only: all of acme, nothing of globex or other hosts.
WHO=h1
feed "$H1" 0
never "${GLOBEX[@]}" "${OTHER_HOSTS[@]}"
always acme-web acme-db 02:ac:00:00:00:01 02:ac:00:00:00:02 10.1.0.2 acme-in
[ "$(jq -r '[.changes[] | "\(.kind):\(.name)"] | join(" ")' <<<"$FEED")" = \
  "tenant:acme network:acme-net host:h1 vnic:acme-web vnic:acme-db policy:acme-in" ] \
    || vf_fail "h1's records: $FEED"
[ "$(jq .next <<<"$FEED")" = "$V0" ] || vf_fail "h1's next: $FEED"

# --- h3 serves nobody: its own host record only.
WHO=h3
feed "$H3" 0
never "${GLOBEX[@]}" acme 02:ac 10.1.0 "rack 7" 192.0.2.2
[ "$(jq -c '[.changes[].name]' <<<"$FEED")" = '["h3"]' ] || vf_fail "h3: $FEED"

# --- h2 serves both; the admin sees every record.
WHO=h2
feed "$H2" 0
always globex-db 02:6e:00:00:00:01 acme-web "rack 7"
feed "$ADMIN" 0
[ "$(jq '.changes | length' <<<"$FEED")" = "$V0" ] || vf_fail "admin feed: $FEED"

# --- Other hosts' changes: only an underlay move, reduced.
expect 200 PATCH /v1/hosts/h2 '{"description":"rack 8","capabilities":["geneve"]}'
expect 200 PATCH /v1/hosts/h2 '{"underlay_ip":"192.0.2.22"}'
expect 200 POST /v1/hosts/h2/token
H2=$(jq -r .token <<<"$BODY")
WHO=h1
feed "$H1" "$V0"
never "rack 8" geneve vxlan token capabilities
jq -e '.changes | length == 1 and .[0].kind == "host"
       and .[0].object == {"name":"h2","underlay_ip":"192.0.2.22"}
       and .[0].previous == {"name":"h2","underlay_ip":"192.0.2.2"}' \
    <<<"$FEED" >/dev/null || vf_fail "h1's view of h2's move: $FEED"
[ "$(jq .next <<<"$FEED")" = "$(version)" ] || vf_fail "next: $FEED"

# --- A parked long-poll of h1 stays parked through globex's writes and
# wakes for acme's, with acme's record only.
V1=$(version)
curl -sf -H "Authorization: Bearer $H1" -o "$VF_TMP/poll1" \
    "$PD_URL/v1/changes?since=$V1&timeout=20" &
POLL=$!
sleep 0.5
expect 200 PATCH /v1/vnics/globex-db '{"ips":["10.2.0.99"],"mac":"02:6e:00:00:00:99"}'
expect 200 PATCH /v1/policies/globex-in '{"priority":5}'
sleep 1
kill -0 "$POLL" 2>/dev/null || vf_fail "h1's long-poll woke for globex: $(cat "$VF_TMP/poll1")"
expect 200 PATCH /v1/vnics/acme-db '{"ips":["10.1.0.22"]}'
wait "$POLL" || vf_fail "h1's long-poll failed"
FEED=$(cat "$VF_TMP/poll1")
never "${GLOBEX[@]}" 10.2.0.99 02:6e:00:00:00:99
jq -e '.changes | length == 1 and .[0].name == "acme-db"
       and .[0].object.ips == ["10.1.0.22"]
       and .[0].previous.ips == ["10.1.0.2"]' <<<"$FEED" >/dev/null \
    || vf_fail "h1's long-poll answer: $FEED"
[ "$(jq .next <<<"$FEED")" = "$(version)" ] || vf_fail "next: $FEED"

# --- Only withheld writes until the deadline: an empty answer at the
# deadline (not before), whose next is past them.
V2=$(version)
T0=$(date +%s%N)
curl -sf -H "Authorization: Bearer $H1" -o "$VF_TMP/poll2" \
    "$PD_URL/v1/changes?since=$V2&timeout=3" &
POLL=$!
sleep 2
expect 200 PATCH /v1/tenants/globex '{"description":"more secret plans"}'
wait "$POLL" || vf_fail "h1's second long-poll failed"
MS=$((($(date +%s%N) - T0) / 1000000))
FEED=$(cat "$VF_TMP/poll2")
# Parked again after the write, it keeps its first deadline (3 s, not 5).
[ "$MS" -ge 2500 ] && [ "$MS" -lt 4500 ] \
    || vf_fail "long-poll answered after ${MS} ms, want its deadline (3 s): $FEED"
never "${GLOBEX[@]}"
jq -e '.changes == [] and .more == false' <<<"$FEED" >/dev/null \
    || vf_fail "h1's empty answer: $FEED"
[ "$(jq .next <<<"$FEED")" = "$(version)" ] || vf_fail "next past withheld: $FEED"

# --- Pagination with limit=1: every record h1 may see, once, in order.
WHO=h1
feed "$H1" 0
ALL=$(jq -c '[.changes[].version]' <<<"$FEED")
CURSOR=0
SEEN=()
for _ in $(seq 100); do
    feed "$H1" "$CURSOR" "&limit=1"
    never "${GLOBEX[@]}"
    SEEN+=($(jq -r '.changes[].version' <<<"$FEED"))
    CURSOR=$(jq .next <<<"$FEED")
    [ "$(jq .more <<<"$FEED")" = true ] || break
done
[ "$(jq -c -n '$ARGS.positional | map(tonumber)' --args "${SEEN[@]}")" = "$ALL" ] \
    || vf_fail "paged ${SEEN[*]} != $ALL"
[ "$CURSOR" = "$(version)" ] || vf_fail "paged cursor $CURSOR"

# --- A VNIC placed on h3 makes its tenant visible to h3 from its cursor
# on (the earlier records of the window included); once it has left, a
# cursor after that sees nothing of the tenant again.
V3=$(version)
expect 200 PATCH /v1/policies/globex-in '{"priority":6}'
expect 200 PATCH /v1/vnics/globex-db '{"host":null}'
expect 200 PATCH /v1/vnics/globex-db '{"host":"h3"}' "$H3"
WHO=h3
feed "$H3" "$V3"
jq -e '[.changes[] | "\(.kind):\(.name)"] == ["policy:globex-in", "vnic:globex-db", "vnic:globex-db"]' \
    <<<"$FEED" >/dev/null || vf_fail "h3 after the claim: $FEED"
expect 200 PATCH /v1/vnics/globex-db '{"host":null}' "$H3"
V4=$(version)
expect 200 PATCH /v1/vnics/globex-db '{"ips":["10.2.0.77"]}'
feed "$H3" "$V4"
never "${GLOBEX[@]}" 10.2.0.77
[ "$(jq '.changes | length' <<<"$FEED")" = 0 ] || vf_fail "h3 after leaving: $FEED"

# --- The same scope after a restart (rebuilt from the store).
V5=$(version)
feed "$H1" 0
BEFORE=$FEED
pd_stop
[ "$PD_RC" = 0 ] || vf_fail "vfab-policyd exited $PD_RC on SIGTERM"
pd_start feedscope
[ "$(version)" = "$V5" ] || vf_fail "version after restart"
feed "$H1" 0
[ "$FEED" = "$BEFORE" ] || vf_fail "h1's feed differs after a restart: $FEED"
WHO=h1
never "${GLOBEX[@]}"

pd_stop
[ "$PD_RC" = 0 ] || vf_fail "vfab-policyd exited $PD_RC on SIGTERM"
vf_log "PASS"
