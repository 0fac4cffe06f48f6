#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# check-decode.sh VFABCTL CAPTURE GOLDEN: `vfabctl decode CAPTURE` must print
# GOLDEN byte for byte (the JSON format of flow-format.h is an interface:
# operators' scripts parse it).  After an intended change of the format or
# of the parser, check the new output with the judge
# (tests/integration/judges/compare.py) and regenerate:
#   vfabctl decode tests/data/sample.pcap > tests/data/sample.decode.jsonl
set -u
if [ $# -ne 3 ]; then
    echo "usage: check-decode.sh VFABCTL CAPTURE GOLDEN" >&2
    exit 2
fi
out=$(mktemp "${TMPDIR:-/tmp}/vfab-judge-decode.XXXXXX") || exit 2
trap 'rm -f "$out"' EXIT
if ! "$1" decode "$2" >"$out"; then
    echo "FAIL: vfabctl decode $2 exited with status $?" >&2
    exit 1
fi
if ! cmp -s "$out" "$3"; then
    echo "FAIL: vfabctl decode $2 differs from $3:" >&2
    diff -u "$3" "$out" >&2
    exit 1
fi
echo "ok: vfabctl decode $2 matches $3 ($(wc -l <"$3") frames)"
