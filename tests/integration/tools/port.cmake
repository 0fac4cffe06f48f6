# SPDX-License-Identifier: Apache-2.0
# port-wire: forwards between two ports (t-port-*.sh, bench/e2e-ports.sh).
add_executable(port-wire port-wire.c)
target_link_libraries(port-wire PRIVATE vfab_port)
# afpacket-txbench: AF_PACKET transmit methods compared (bench/e2e-ports.sh).
add_executable(afpacket-txbench afpacket-txbench.c)
