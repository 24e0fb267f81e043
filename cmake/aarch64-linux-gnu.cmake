# Cross build for 64-bit ARM (Debian arm64) with g++-aarch64-linux-gnu, tests under qemu-aarch64
# (cmake/cross-linux-gnu.cmake says how; scripts/test-cross.sh aarch64 runs it all).
#   cmake -S . -B build-aarch64 --toolchain cmake/aarch64-linux-gnu.cmake
set(BEBR_CROSS_TRIPLE aarch64-linux-gnu)
set(BEBR_CROSS_PROCESSOR aarch64)
set(BEBR_QEMU_ARCH aarch64)
include(${CMAKE_CURRENT_LIST_DIR}/cross-linux-gnu.cmake)
