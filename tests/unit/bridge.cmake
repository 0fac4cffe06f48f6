vfab_unit_test(mac-table vfab_bridge)
vfab_unit_test(vnic vfab_bridge)
