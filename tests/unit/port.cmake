# SPDX-License-Identifier: Apache-2.0
# Unit tests of src/lib/port and net/gso (no privileges needed).
vfab_unit_test(gso vfab_net)
vfab_unit_test(vnet-hdr vfab_port)
vfab_unit_test(port vfab_port)
vfab_unit_test(port-dummy vfab_port)
vfab_unit_test(port-patch vfab_port)
