// The kernel table of the neon64 level (xsimd::neon64; see CMakeLists.txt): the portable bodies
// of generic-inl.hpp, float and double batches of 128 bits, the key filter with the integer
// pre-filter (int32 batches, groups of eight as on the avx2 level). No kernel is NEON-specific
// yet, so there is no neon-inl.hpp; the nibble and fast-scan layouts are offered by the AVX2
// levels only.
#include "generic-inl.hpp"

namespace bebr::detail {

namespace {
constexpr Kernels make_table() noexcept {
  Kernels k = generic_table<xsimd::neon64>("neon64");
  k.sdc_filter = &sdc_filter_generic<xsimd::neon64, true>;
  return k;
}
constexpr Kernels kTable = make_table();
}  // namespace

const Kernels& kernels_neon64() noexcept { return kTable; }

}  // namespace bebr::detail
