// The kernel table of the avx512 level: AVX-512 F, BW, VL, DQ, CD, VPOPCNTDQ, BITALG and VNNI
// (Ice Lake, Zen 4 and later; compiled with those flags, see CMakeLists.txt). The scans keep the
// 256-bit filters of x86_avx2-inl.hpp with AVX-512's popcounts (x86_avx512-inl.hpp), four-bit
// codes take the VNNI nibble filter, the float kernels use xsimd::avx512bw batches. No two-bit
// fast scan: with vpopcntb the plane kernel is as fast (1.08-1.11x a plain read against
// 1.10-1.23x, Zen 4) and needs no second copy of the codes.
#include "generic-inl.hpp"
#include "x86_avx2-inl.hpp"
#include "x86_avx512-inl.hpp"

namespace bebr::detail {

namespace {
// The portable table with this level's kernels in place of the generic ones.
constexpr Kernels make_table() noexcept {
  Kernels k = generic_table<xsimd::avx512bw>("avx512");
  k.sdc_filter = &sdc_filter_avx2<xsimd::avx512bw, Avx512Counts>;
  k.hamming_filter = &hamming_filter_avx2<Avx512Counts>;
  k.planes_to_nibbles = &planes_to_nibbles_avx512;
  k.sdc_filter_nibbles = &sdc_filter_nibbles_avx512;
  k.encode_one_bit = &encode_one_bit_avx2;
  return k;
}
constexpr Kernels kTable = make_table();
}  // namespace

const Kernels& kernels_avx512() noexcept { return kTable; }

}  // namespace bebr::detail
