#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# vfab-policyd's REST API over real HTTP (curl): authentication (no token,
# wrong token, a host token acting as another host), CRUD, every class of
# bad request (a 4xx with a JSON error naming the field, and the model
# version unmoved), clashes (409), translations (allowed, denied,
# filtered, overlapping subnets of two tenants), body limits, and
# /metrics as Prometheus text.
. "$(dirname "$0")/t-policyd-common.bash"

pd_start api --max-body 65536
vf_log "vfab-policyd at $PD_URL"

# --- The admin token file was created, private.
[ "$(stat -c %a "$VF_TMP/admin.token")" = 600 ] || vf_fail "token file mode"

# --- Set-up through the API.
expect 201 POST /v1/tenants '{"name":"red"}'
expect 201 POST /v1/tenants '{"name":"blue","description":"the other one"}'
expect 201 POST /v1/networks '{"name":"red-a","tenant":"red","vni":100,"subnets":["10.0.0.0/24","fd00:a::/64"]}'
expect 201 POST /v1/networks '{"name":"red-b","tenant":"red","vni":101,"subnets":["10.0.1.0/24"]}'
expect 201 POST /v1/networks '{"name":"blue-a","tenant":"blue","vni":200,"subnets":["10.0.0.0/24"]}'
expect 201 POST /v1/hosts '{"name":"h1","underlay_ip":"192.0.2.1","capabilities":["vxlan"],"state_format":1}'
H1=$(jq -r .token <<<"$BODY")
expect 201 POST /v1/hosts '{"name":"h2","underlay_ip":"192.0.2.2"}'
H2=$(jq -r .token <<<"$BODY")
[[ $H1 == vfh.h1.* ]] || vf_fail "host token format: $H1"
expect 201 POST /v1/vnics '{"name":"r1","network":"red-a","mac":"02:00:00:00:01:01","ips":["10.0.0.1","fd00:a::1"],"host":"h1","security_groups":["web"]}'
expect 201 POST /v1/vnics '{"name":"r2","network":"red-a","mac":"02:00:00:00:01:02","ips":["10.0.0.2"],"host":"h2"}'
expect 201 POST /v1/vnics '{"name":"r3","network":"red-b","mac":"02:00:00:00:01:03","ips":["10.0.1.3"],"host":"h2","security_groups":["db"]}'
expect 201 POST /v1/vnics '{"name":"b1","network":"blue-a","mac":"02:00:00:00:01:01","ips":["10.0.0.1"],"host":"h2"}'
expect 201 POST /v1/vnics '{"name":"b2","network":"blue-a","mac":"02:00:00:00:01:02","ips":["10.0.0.2"],"host":"h1"}'
expect 201 POST /v1/policies '{"name":"web-db","tenant":"red","action":"allow","src":{"group":"web"},"dst":{"group":"db"},"protocol":"tcp","ports":"5432"}'
V=$(version)
[ "$V" = 13 ] || vf_fail "version $V after 13 writes"

# --- Authentication and host tokens.
expect_err 401 - GET /v1/tenants "" ""
expect_err 401 - GET /v1/tenants "" "not-the-token-0000000000"
expect_err 401 - GET /v1/hosts/h1 "" "vfh.h1.0000000000000000000000000000000000000000000000000000000000000000"
api GET /v1/tenants "" ""
curl -s -D - -o /dev/null "$PD_URL/v1/tenants" | grep -qi '^WWW-Authenticate: Bearer' \
    || vf_fail "no WWW-Authenticate on 401"
expect 200 GET /v1/hosts/h1 "" "$H1"
expect_err 403 - GET /v1/hosts/h2 "" "$H1"
expect_err 403 - GET /v1/hosts/h2/vnics "" "$H1"
expect_err 403 - GET /v1/vnics "" "$H1"
expect_err 403 - POST /v1/tenants '{"name":"x"}' "$H1"
expect_err 403 - DELETE /v1/vnics/r1 "" "$H1"
expect_err 403 host PATCH /v1/vnics/r2 '{"host":"h1"}' "$H1"
expect_err 403 ips PATCH /v1/vnics/r1 '{"ips":["10.0.0.9"]}' "$H1"
expect_err 403 underlay_ip PATCH /v1/hosts/h1 '{"underlay_ip":"192.0.2.9"}' "$H1"
expect 200 PATCH /v1/hosts/h1 '{"state_format":2}' "$H1"
expect 200 GET /v1/hosts/h1/vnics "" "$H1"
[ "$(jq '.vnics | length' <<<"$BODY")" = 2 ] || vf_fail "h1 vnics: $BODY"
expect 200 GET /v1/changes?since=0 "" "$H1"

# --- Every class of bad request: 4xx, a JSON error naming the field, and
# the version unmoved.
expect_err 404 - GET /v1/nothing
expect_err 404 - GET /v2/tenants
expect_err 404 - GET /v1/vnics/nope
expect_err 405 - PUT /v1/vnics/r1 '{}'
expect_err 400 body POST /v1/tenants '{"name":'
expect_err 400 body POST /v1/tenants '[1,2]'
expect_err 400 body POST /v1/tenants '{"name":"a","name":"b"}'
expect_err 400 colour POST /v1/tenants '{"name":"green","colour":"green"}'
expect_err 400 name POST /v1/tenants '{"name":"bad name"}'
expect_err 400 name POST /v1/tenants '{"name":"'"$(printf 'x%.0s' {1..70})"'"}'
expect_err 400 description POST /v1/tenants '{"name":"green","description":7}'
expect_err 400 vni POST /v1/networks '{"name":"n9","tenant":"red","vni":16777216}'
expect_err 400 'subnets[0]' POST /v1/networks '{"name":"n9","tenant":"red","subnets":["10.9.0.1/24"]}'
expect_err 400 'subnets[0]' POST /v1/networks '{"name":"n9","tenant":"red","subnets":["10.9.0.0/40"]}'
expect_err 422 tenant POST /v1/networks '{"name":"n9","tenant":"green"}'
expect_err 400 mac POST /v1/vnics '{"name":"v9","network":"red-a","mac":"02:00:00:00:01"}'
expect_err 400 mac POST /v1/vnics '{"name":"v9","network":"red-a","mac":"01:00:5e:00:00:01"}'
expect_err 400 'ips[0]' POST /v1/vnics '{"name":"v9","network":"red-a","mac":"02:00:00:00:09:09","ips":["10.0.0.300"]}'
expect_err 422 'ips[0]' POST /v1/vnics '{"name":"v9","network":"red-a","mac":"02:00:00:00:09:09","ips":["10.0.1.9"]}'
expect_err 422 network POST /v1/vnics '{"name":"v9","network":"nowhere","mac":"02:00:00:00:09:09"}'
expect_err 422 host POST /v1/vnics '{"name":"v9","network":"red-a","mac":"02:00:00:00:09:09","host":"h9"}'
expect_err 400 underlay_ip POST /v1/hosts '{"name":"h9","underlay_ip":"192.0.2"}'
expect_err 400 action POST /v1/policies '{"name":"p9","tenant":"red","action":"maybe","src":"any","dst":"any"}'
expect_err 400 ports POST /v1/policies '{"name":"p9","tenant":"red","action":"deny","src":"any","dst":"any","protocol":"icmp","ports":"1"}'
expect_err 422 src.network POST /v1/policies '{"name":"p9","tenant":"red","action":"deny","src":{"network":"blue-a"},"dst":"any"}'
expect_err 400 network PATCH /v1/vnics/r1 '{"network":"red-b"}'
expect_err 400 tenant PATCH /v1/networks/red-a '{"tenant":"blue"}'
expect_err 409 version PATCH /v1/vnics/r1 '{"version":1,"host":"h2"}'
expect_err 400 colour GET '/v1/vnics?colour=red'
expect_err 400 since GET '/v1/changes?since=x'
expect_err 400 timeout GET '/v1/changes?since=0&timeout=100000'
expect_err 400 'requests[1].dst_ip' POST /v1/translate '{"requests":[{"src_vnic":"r1","dst_ip":"10.0.0.2"},{"src_vnic":"r1","dst_ip":"10.0.0.256"}]}'
expect_err 400 'requests[0].src_vnic' POST /v1/translate '{"requests":[{"dst_ip":"10.0.0.2"}]}'
expect_err 400 body DELETE /v1/vnics/r1 '{}'
# Content type and size limits (the HTTP layer).
ST=$(curl -s -o "$VF_TMP/body" -w '%{http_code}' -X POST -H "Authorization: Bearer $ADMIN" \
     -H 'Content-Type: text/plain' --data-binary '{"name":"green"}' "$PD_URL/v1/tenants")
[ "$ST" = 415 ] || vf_fail "text/plain: HTTP $ST"
[ "$(jq -r .field "$VF_TMP/body")" = Content-Type ] || vf_fail "415 field"
head -c 70000 /dev/zero | tr '\0' ' ' >"$VF_TMP/big"
ST=$(curl -s -o "$VF_TMP/body" -w '%{http_code}' -X POST -H "Authorization: Bearer $ADMIN" \
     -H 'Content-Type: application/json' --data-binary @"$VF_TMP/big" "$PD_URL/v1/tenants")
[ "$ST" = 413 ] || vf_fail "big body: HTTP $ST"
[ "$(jq -r .field "$VF_TMP/body")" = body ] || vf_fail "413 field"

# --- Clashes: 409 naming the field, nothing written.
expect_err 409 mac POST /v1/vnics '{"name":"v9","network":"red-a","mac":"02:00:00:00:01:02"}'
expect_err 409 'ips[0]' POST /v1/vnics '{"name":"v9","network":"red-a","mac":"02:00:00:00:09:09","ips":["10.0.0.2"]}'
expect_err 409 'ips[1]' POST /v1/vnics '{"name":"v9","network":"red-a","mac":"02:00:00:00:09:09","ips":["10.0.0.9","fd00:a::1"]}'
expect_err 409 vni POST /v1/networks '{"name":"n9","tenant":"red","vni":200}'
expect_err 409 name POST /v1/networks '{"name":"red-a","tenant":"red"}'
expect_err 409 'subnets[0]' POST /v1/networks '{"name":"n9","tenant":"red","subnets":["10.0.0.128/25"]}'
expect_err 409 underlay_ip POST /v1/hosts '{"name":"h9","underlay_ip":"192.0.2.1"}'
expect_err 409 - DELETE /v1/networks/red-a
expect_err 409 - DELETE /v1/hosts/h1
expect_err 409 - DELETE /v1/tenants/red
# ...while the same MAC and IP in another network are fine.
expect 200 GET /v1/vnics/b1
# An update moving a MAC onto a taken one is refused too.
expect_err 409 mac PATCH /v1/vnics/r2 '{"mac":"02:00:00:00:01:01"}'

# --- Translations.
expect 200 POST /v1/translate '{"requests":[
  {"src_vnic":"r1","dst_ip":"10.0.0.2"},
  {"src_vnic":"r1","dst_mac":"02:00:00:00:01:02"},
  {"src_vnic":"r1","dst_ip":"10.0.1.3"},
  {"src_vnic":"r1","dst_ip":"10.0.1.3","protocol":"tcp","dst_port":5432},
  {"src_vnic":"r1","dst_ip":"10.0.1.3","protocol":"tcp","dst_port":22},
  {"src_vnic":"r2","dst_ip":"10.0.1.3"},
  {"src_vnic":"b2","dst_ip":"10.0.0.1"},
  {"src_vnic":"b2","dst_ip":"10.0.1.3"},
  {"src_vnic":"zz","dst_ip":"10.0.0.1"}]}'
R=$BODY
chk() { # INDEX JQ-EXPR EXPECTED
    local got
    got=$(jq -r ".results[$1] | $2" <<<"$R")
    [ "$got" = "$3" ] || vf_fail "translation $1: $2 = '$got', want '$3': $(jq -c ".results[$1]" <<<"$R")"
}
chk 0 '[.status,.verdict,.dst_vnic,.underlay_ip,.vni,.dst_mac,.local]|join(" ")' \
    "ok allow r2 192.0.2.2 100 02:00:00:00:01:02 false"
chk 1 '[.status,.verdict,.dst_vnic,.dst_host]|join(" ")' "ok allow r2 h2"
chk 2 '[.status,.verdict,.default,(.acl|length),.vni]|join(" ")' "ok filtered deny 1 101"
chk 3 '[.verdict,.policy]|join(" ")' "allow web-db"
chk 4 '.verdict' deny
chk 4 '.underlay_ip' null
chk 5 '[.status,.verdict,.dst_network]|join(" ")' "ok deny red-b"
chk 5 '.underlay_ip' null
chk 6 '[.dst_vnic,.underlay_ip,.vni]|join(" ")' "b1 192.0.2.2 200"
chk 7 '.status' not_found
chk 8 '.status' no_such_src
chk 0 '.lifetime' 300
chk 7 '.lifetime' 30
[ "$(jq -r .version <<<"$R")" = "$(version)" ] || vf_fail "translate version"
# A host token translates only for its own VNICs.
expect 200 POST /v1/translate '{"requests":[{"src_vnic":"r1","dst_ip":"10.0.0.2"},{"src_vnic":"r2","dst_ip":"10.0.0.1"}]}' "$H1"
[ "$(jq -r '[.results[].status]|join(",")' <<<"$BODY")" = "ok,forbidden" ] \
    || vf_fail "host translate: $BODY"
# Batches: 1024 items answered in order.
python3 - "$VF_TMP/batch.json" <<'EOF'
import json, sys
reqs = [{"src_vnic": "r1", "dst_ip": "10.0.0.%d" % (i % 250 + 1)} for i in range(1024)]
json.dump({"requests": reqs}, open(sys.argv[1], "w"))
EOF
expect 200 POST /v1/translate "$(cat "$VF_TMP/batch.json")"
[ "$(jq '.results | length' <<<"$BODY")" = 1024 ] || vf_fail "batch length"
[ "$(jq -r '.results[1].dst_vnic' <<<"$BODY")" = r2 ] || vf_fail "batch order"

# --- CRUD round trip: PATCH, no-op PATCH, DELETE.
V=$(version)
expect 200 PATCH /v1/vnics/r2 '{"security_groups":["db","web"],"description":"moved"}'
[ "$(jq -r .version <<<"$BODY")" = $((V + 1)) ] || vf_fail "patch version"
expect 200 PATCH /v1/vnics/r2 '{"security_groups":["db","web"]}'
[ "$(version)" = $((V + 1)) ] || vf_fail "a no-op PATCH moved the version"
expect 201 POST /v1/tenants '{"name":"green"}'
expect 200 DELETE /v1/tenants/green
expect 404 GET /v1/tenants/green
expect 200 GET '/v1/vnics?network=red-a'
[ "$(jq -r '[.vnics[].name]|join(",")' <<<"$BODY")" = "r1,r2" ] || vf_fail "filter: $BODY"

# --- /metrics: Prometheus text (every sample line parses; TYPE lines
# precede their samples; counters moved).
curl -sf "$PD_URL/metrics" >"$VF_TMP/metrics" || vf_fail "/metrics"
python3 - "$VF_TMP/metrics" <<'EOF' || vf_fail "metrics do not parse"
import re, sys
sample = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([a-zA-Z_][a-zA-Z0-9_]*="(\\.|[^"\\])*"(,[a-zA-Z_][a-zA-Z0-9_]*="(\\.|[^"\\])*")*)?\})? (-?[0-9.e+-]+|\+Inf|NaN)$')
types, values = {}, {}
for n, line in enumerate(open(sys.argv[1]), 1):
    line = line.rstrip("\n")
    if line.startswith("# TYPE "):
        _, _, name, kind = line.split(" ", 3)
        assert kind in ("counter", "gauge", "histogram"), line
        types[name] = kind
        continue
    if line.startswith("#") or not line:
        continue
    m = sample.match(line)
    assert m, "line %d: %r" % (n, line)
    name = m.group(1)
    base = re.sub(r"_(bucket|sum|count)$", "", name)
    assert name in types or base in types, "no TYPE for " + name
    values[line.rsplit(" ", 1)[0]] = float(line.rsplit(" ", 1)[1])
assert values['vfab_policyd_objects{kind="vnic"}'] == 5, values
assert values['vfab_policyd_translations_total{status="ok"}'] >= 8
assert values['vfab_policyd_auth_failures_total{reason="missing"}'] >= 1
assert values['vfab_policyd_http_requests_total{endpoint="vnics",method="POST",code="409"}'] >= 2
assert values['vfab_policyd_http_request_duration_seconds_count{endpoint="translate"}'] >= 3
EOF

pd_stop
[ "$PD_RC" = 0 ] || vf_fail "vfab-policyd exited $PD_RC on SIGTERM"
vf_log "PASS"
