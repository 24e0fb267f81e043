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
using Arch = xsimd::avx2;
constexpr Kernels kTable{
    .name = "avx2",
    .hamming_many = &hamming_many_generic,
    .sdc_dot_many = &sdc_dot_many_generic,
    .sdc_scan = &sdc_scan_generic<Arch>,
    .sdc_filter = &sdc_filter_avx2<Arch, Avx2Counts>,
    .hamming_filter = &hamming_filter_avx2<Avx2Counts>,
    .planes_to_nibbles = &planes_to_nibbles_avx2,
    .sdc_filter_nibbles = &sdc_filter_nibbles_avx2,
    .planes_to_fastscan2 = &planes_to_fastscan2_avx2,
    .sdc_filter_fastscan2 = &sdc_filter_fastscan2_avx2,
    .encode_one_bit = &encode_one_bit_avx2,
    .dot_f32 = &dot_f32_generic<Arch>,
    .l2sq_f32 = &l2sq_f32_generic<Arch>,
    .dot_f32_many = &dot_f32_many_generic<Arch>,
    .l2sq_f32_many = &l2sq_f32_many_generic<Arch>,
};
}  // namespace

const Kernels& kernels_avx2() noexcept { return kTable; }

}  // namespace bebr::detail
