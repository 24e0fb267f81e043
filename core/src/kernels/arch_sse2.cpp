// The kernel table of the sse2 level (xsimd::sse2, compiled with -msse2; see CMakeLists.txt):
// the portable bodies of generic-inl.hpp, float and double batches of 128 bits. The
// nibble and fast-scan layouts are offered by the AVX2 levels only (null slots here: callers
// keep the plane layout).
#include "generic-inl.hpp"

namespace bebr::detail {

namespace {
constexpr Kernels kTable = generic_table<xsimd::sse2>("sse2");
}  // namespace

const Kernels& kernels_sse2() noexcept { return kTable; }

}  // namespace bebr::detail
