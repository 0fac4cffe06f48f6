# SPDX-License-Identifier: Apache-2.0
# bench/run classifier: classifier and exact-match cache (src/lib/cls).
vfab_bench(classifier vfab_cls)
