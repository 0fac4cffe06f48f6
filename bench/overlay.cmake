vfab_bench(overlay vfab_overlay vfab_net vfab_pkt)
