# Cross build for 32-bit ARM, hard float (Debian armhf) with g++-arm-linux-gnueabihf, tests
# under qemu-arm (cmake/cross-linux-gnu.cmake says how; scripts/test-cross.sh armhf runs it all).
# No SIMD level of ours for it: the kernels are ref's.
#   cmake -S . -B build-armhf --toolchain cmake/arm-linux-gnueabihf.cmake
set(BEBR_CROSS_TRIPLE arm-linux-gnueabihf)
set(BEBR_CROSS_PROCESSOR armv7l)
set(BEBR_QEMU_ARCH arm)
include(${CMAKE_CURRENT_LIST_DIR}/cross-linux-gnu.cmake)
