vfab_unit_test(tunnel vfab_overlay)
vfab_unit_test(reply vfab_overlay)
