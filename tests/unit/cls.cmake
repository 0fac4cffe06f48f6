# SPDX-License-Identifier: Apache-2.0
# Classifier tests (src/lib/cls).
vfab_unit_test(cls vfab_cls)
vfab_unit_test(cls-text vfab_cls)
vfab_unit_test(emc vfab_cls)
vfab_unit_test(field vfab_cls)
