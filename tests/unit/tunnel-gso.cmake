# SPDX-License-Identifier: Apache-2.0
# overlay/tunnel-gso.c and tunnel-gro.c: super-frames over tunnels as UDP
# GSO frames, and back (bench/RESULTS.md "Overlay").
vfab_unit_test(tunnel-gso vfab_overlay)
vfab_unit_test(tunnel-gro vfab_overlay)
# dp/fabric-accel.c: the accelerations against their twins, end to end.
vfab_unit_test(dp-accel vfab_dp jansson)
