# SPDX-License-Identifier: Apache-2.0
# Warnings are errors everywhere: a warning ignored today is a bug tomorrow.
add_compile_options(
  -Wall -Wextra -Werror
  -Wstrict-prototypes -Wmissing-prototypes -Wshadow
  -Wpointer-arith -Wformat=2 -Wno-format-nonliteral
  -fno-strict-aliasing
  -fvisibility=hidden)
# _GNU_SOURCE: Linux interfaces (TUN/TAP ioctls, recvmmsg, CPU affinity).
add_compile_definitions(_GNU_SOURCE)
if(CMAKE_BUILD_TYPE STREQUAL "Release")
  add_compile_options(-O2 -g -march=x86-64-v2)
endif()
