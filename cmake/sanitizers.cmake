# SPDX-License-Identifier: Apache-2.0
# One switch turns on ASan + UBSan for every target, tests included.
if(VFAB_SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer
                      -fno-sanitize-recover=undefined -O1 -g)
  add_link_options(-fsanitize=address,undefined)
  add_compile_definitions(VFAB_DEBUG_CHECKS=1)
endif()
if(CMAKE_BUILD_TYPE STREQUAL "Debug")
  add_compile_definitions(VFAB_DEBUG_CHECKS=1)
endif()
# Fuzzing: every library is instrumented for coverage; only the fuzz
# targets link libFuzzer's main (tests/fuzz/CMakeLists.txt).
if(VFAB_FUZZ)
  add_compile_options(-fsanitize=fuzzer-no-link)
  add_link_options(-fsanitize=fuzzer-no-link)
endif()
