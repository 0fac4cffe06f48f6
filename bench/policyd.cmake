# SPDX-License-Identifier: Apache-2.0
# bench-policyd: translations per second served by vfab-policyd (in process
# and over HTTP against the binary).
vfab_bench(policyd vfab_policy_server vfab_policy_client)
add_dependencies(bench-policyd vfab-policyd)
