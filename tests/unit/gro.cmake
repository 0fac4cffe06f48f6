# SPDX-License-Identifier: Apache-2.0
# net/gro.c: software receive coalescing of TCP segments (bench/RESULTS.md
# "Overlay").
vfab_unit_test(gro vfab_net)
# net/csum.c: the fast checksum against its simple twin.
vfab_unit_test(csum-twin vfab_net)
