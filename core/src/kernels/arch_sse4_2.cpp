// The kernel table of the sse4_2 level (xsimd::sse4_2, compiled with -msse4.2 -mpopcnt; see
// CMakeLists.txt): the portable bodies of generic-inl.hpp, popcounts by popcnt, float and double
// batches of 128 bits. The nibble and fast-scan layouts are offered by the AVX2 levels only (null
// slots here: callers keep the plane layout).
#include "generic-inl.hpp"

namespace bebr::detail {

namespace {
constexpr Kernels kTable = generic_table<xsimd::sse4_2>("sse4_2");
}  // namespace

const Kernels& kernels_sse4_2() noexcept { return kTable; }

}  // namespace bebr::detail
