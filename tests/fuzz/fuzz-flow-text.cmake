# SPDX-License-Identifier: Apache-2.0
# fuzz-flow-text: the classifier's rule text parser (src/lib/cls).
target_link_libraries(${name} PRIVATE vfab_cls)
