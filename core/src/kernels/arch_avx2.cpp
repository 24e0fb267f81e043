// The kernel table of the avx2 level (xsimd::avx2, compiled with -mavx2 -mpopcnt; see
// CMakeLists.txt): the 256-bit filters of x86_avx2-inl.hpp with its nibble-lookup byte counts,
// the four-bit nibble filter by vpmaddubsw, the two-bit fast scan (here it runs at 1.24x a plain
// read against 1.86x for plane pairs with nibble-lookup popcounts; the avx512 level's byte
// popcounts make the plane kernel as fast, so that level offers no fast scan), and the portable
// bodies of generic-inl.hpp for the rest.
#include "generic-inl.hpp"
#include "x86_avx2-inl.hpp"

namespace bebr::detail {

namespace {
// The portable table with this level's kernels in place of the generic ones.
constexpr Kernels make_table() noexcept {
  Kernels k = generic_table<xsimd::avx2>("avx2");
  k.sdc_filter = &sdc_filter_avx2<xsimd::avx2, Avx2Counts>;
  k.hamming_filter = &hamming_filter_avx2<Avx2Counts>;
  k.planes_to_nibbles = &planes_to_nibbles_avx2;
  k.sdc_filter_nibbles = &sdc_filter_nibbles_avx2;
  k.planes_to_fastscan2 = &planes_to_fastscan2_avx2;
  k.sdc_filter_fastscan2 = &sdc_filter_fastscan2_avx2;
  k.encode_one_bit = &encode_one_bit_avx2;
  return k;
}
constexpr Kernels kTable = make_table();
}  // namespace

const Kernels& kernels_avx2() noexcept { return kTable; }

}  // namespace bebr::detail
