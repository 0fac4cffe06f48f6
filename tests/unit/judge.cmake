# SPDX-License-Identifier: Apache-2.0
# The parser's output format, pinned: `vfabctl decode tests/data/sample.pcap`
# must print tests/data/sample.decode.jsonl byte for byte.  (The parser is
# judged against Wireshark by tests/integration/t-judge-parse.py.)
add_test(NAME unit/decode-golden
  COMMAND sh ${CMAKE_SOURCE_DIR}/tests/data/check-decode.sh
          $<TARGET_FILE:vfabctl>
          ${CMAKE_SOURCE_DIR}/tests/data/sample.pcap
          ${CMAKE_SOURCE_DIR}/tests/data/sample.decode.jsonl)
set_tests_properties(unit/decode-golden PROPERTIES LABELS unit TIMEOUT 60)
