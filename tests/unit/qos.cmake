# SPDX-License-Identifier: Apache-2.0
# The token bucket of meters (src/lib/qos).
vfab_unit_test(meter vfab_qos)
