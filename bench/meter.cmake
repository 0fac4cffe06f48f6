vfab_bench(meter vfab_qos vfab_util)
