# SPDX-License-Identifier: Apache-2.0
# Unit tests of the ctl part and of vfabd's configuration store/model.
vfab_unit_test(jsonrpc vfab_ctl)
vfab_unit_test(ctl-command vfab_ctl)
vfab_unit_test(ctl-server vfab_ctl)
vfab_unit_test(config-db vfabd_core)
vfab_unit_test(ctl-switch-config vfabd_core)
