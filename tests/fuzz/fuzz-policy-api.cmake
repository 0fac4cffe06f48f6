# SPDX-License-Identifier: Apache-2.0
# fuzz-policy-api: the REST handlers need the policy server library.
target_link_libraries(${name} PRIVATE vfab_policy_server)
