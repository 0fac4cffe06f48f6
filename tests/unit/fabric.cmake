# SPDX-License-Identifier: Apache-2.0
# The distributed router of fabric bridges (dp/fabric.c) on dummy ports.
vfab_unit_test(fabric vfab_dp jansson)
