// The kernel table of the neon64 level (xsimd::neon64; see CMakeLists.txt): the portable bodies
// of generic-inl.hpp, float and double batches of 128 bits. No kernel is NEON-specific yet, so
// there is no neon-inl.hpp; the nibble and fast-scan layouts are offered by the AVX2 levels only.
#include "generic-inl.hpp"

namespace bebr::detail {

namespace {
constexpr Kernels kTable = generic_table<xsimd::neon64>("neon64");
}  // namespace

const Kernels& kernels_neon64() noexcept { return kTable; }

}  // namespace bebr::detail
