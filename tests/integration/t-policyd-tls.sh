#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# vfab-policyd over HTTPS (--tls-cert/--tls-key): the API answers over TLS
# with the certificate it was given, plain HTTP on the same port does not
# get an answer, and a bad key is refused at start.
. "$(dirname "$0")/t-policyd-common.bash"
command -v openssl >/dev/null || vf_skip "openssl missing"

openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj "/CN=127.0.0.1" \
    -keyout "$VF_TMP/key.pem" -out "$VF_TMP/cert.pem" >/dev/null 2>&1 \
    || vf_skip "cannot make a certificate"
rm -f "$VF_TMP/tls.port"
vf_bg - "$PD_BIN" --listen 127.0.0.1:0 --db "$VF_TMP/tls.db" \
    --admin-token-file "$VF_TMP/admin.token" --port-file "$VF_TMP/tls.port" \
    --tls-cert "$VF_TMP/cert.pem" --tls-key "$VF_TMP/key.pem"
PID=$VF_LAST_PID
vf_wait 20 test -s "$VF_TMP/tls.port" || vf_fail "no start"
PORT=$(cat "$VF_TMP/tls.port")
ADMIN=$(cat "$VF_TMP/admin.token")
out=$(curl -s --cacert "$VF_TMP/cert.pem" "https://127.0.0.1:$PORT/healthz") \
    || vf_fail "https /healthz"
[ "$(jq -r .status <<<"$out")" = ok ] || vf_fail "healthz: $out"
st=$(curl -s -o /dev/null -w '%{http_code}' --cacert "$VF_TMP/cert.pem" -X POST \
     -H "Authorization: Bearer $ADMIN" -H 'Content-Type: application/json' \
     --data-binary '{"name":"t"}' "https://127.0.0.1:$PORT/v1/tenants")
[ "$st" = 201 ] || vf_fail "https POST: $st"
if curl -s -m 3 "http://127.0.0.1:$PORT/healthz" | grep -q '"ok"'; then
    vf_fail "plain HTTP answered on the TLS port"
fi
kill "$PID"
wait "$PID" || vf_fail "exit status $?"

echo "not a key" >"$VF_TMP/bad.pem"
rc=0
"$PD_BIN" --listen 127.0.0.1:0 --db "$VF_TMP/tls.db" --admin-token-file \
    "$VF_TMP/admin.token" --tls-cert "$VF_TMP/cert.pem" --tls-key "$VF_TMP/bad.pem" \
    >"$VF_TMP/bad.log" 2>&1 || rc=$?
[ "$rc" != 0 ] || vf_fail "started with a bad key"
grep -q 'TLS' "$VF_TMP/bad.log" || { cat "$VF_TMP/bad.log"; vf_fail "bad key: message"; }
vf_log "PASS"
