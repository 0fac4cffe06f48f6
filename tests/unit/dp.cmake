vfab_unit_test(dp vfab_dp jansson)
