# The shared part of the Debian cross toolchain files (cmake/aarch64-linux-gnu.cmake,
# cmake/arm-linux-gnueabihf.cmake), which set BEBR_CROSS_TRIPLE and BEBR_CROSS_PROCESSOR and
# include this. Debian's cross g++ (g++-<triple>) builds; the target's libraries come from the
# multiarch packages of that architecture (libsqlite3-dev:arm64, libxsimd-dev:arm64, ...) in
# /usr/lib/<triple>, the header-only Catch2 and Eigen from their architecture-independent
# config in /usr/lib/cmake and /usr/share. The tests run under qemu-user
# (CMAKE_CROSSCOMPILING_EMULATOR): `ctest` then runs on this machine as it does natively.
#   cmake -S . -B build-aarch64 --toolchain cmake/aarch64-linux-gnu.cmake -DBEBR_BUILD_TESTS=ON
#   ctest --test-dir build-aarch64
# scripts/test-cross.sh installs all of it and does both.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR ${BEBR_CROSS_PROCESSOR})
set(CMAKE_C_COMPILER ${BEBR_CROSS_TRIPLE}-gcc)
set(CMAKE_CXX_COMPILER ${BEBR_CROSS_TRIPLE}-g++)
set(CMAKE_LIBRARY_ARCHITECTURE ${BEBR_CROSS_TRIPLE})
# The cross toolchain's own tree first, then the host's root re-rooted nowhere: libraries and
# packages are looked up in the target's multiarch directories only (CMAKE_LIBRARY_ARCHITECTURE
# puts lib/<triple> before lib/), programs on the host.
set(CMAKE_FIND_ROOT_PATH /usr/${BEBR_CROSS_TRIPLE} /)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
# pkg-config (cluster/'s libdqlite) reads the target's .pc files only.
set(ENV{PKG_CONFIG_LIBDIR} /usr/lib/${BEBR_CROSS_TRIPLE}/pkgconfig:/usr/share/pkgconfig)
# qemu-user with the cross toolchain's loader and runtime (libc, libstdc++, libgomp).
find_program(BEBR_QEMU qemu-${BEBR_QEMU_ARCH} REQUIRED)
set(CMAKE_CROSSCOMPILING_EMULATOR ${BEBR_QEMU} -L /usr/${BEBR_CROSS_TRIPLE})
