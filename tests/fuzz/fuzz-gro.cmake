# SPDX-License-Identifier: Apache-2.0
# fuzz-gro: the in-place tunnel merge lives in the overlay part.
target_link_libraries(${name} PRIVATE vfab_overlay vfab_pkt)
