// The kernel table for AVX-512 with per-word and per-byte popcounts (F, BW, VL, VPOPCNTDQ,
// BITALG: Ice Lake, Zen 4 and later), compiled with those flags (see CMakeLists.txt). The float
// kernels use xsimd::avx512bw; the popcount scans use 256-bit registers with vpopcnt.
#include "kernels-inl.hpp"

namespace bebr::detail {

const Kernels& kernels_avx512() noexcept {
  static const Kernels table = make_kernels<xsimd::avx512bw>("avx512");
  return table;
}

}  // namespace bebr::detail
