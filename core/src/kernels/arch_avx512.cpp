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
using Arch = xsimd::avx512bw;
constexpr Kernels kTable{
    .name = "avx512",
    .hamming_many = &hamming_many_generic,
    .sdc_dot_many = &sdc_dot_many_generic,
    .sdc_scan = &sdc_scan_generic<Arch>,
    .sdc_filter = &sdc_filter_avx2<Arch, Avx512Counts>,
    .hamming_filter = &hamming_filter_avx2<Avx512Counts>,
    .planes_to_nibbles = &planes_to_nibbles_avx512,
    .sdc_filter_nibbles = &sdc_filter_nibbles_avx512,
    .planes_to_fastscan2 = nullptr,
    .sdc_filter_fastscan2 = nullptr,
    .encode_one_bit = &encode_one_bit_avx2,
    .dot_f32 = &dot_f32_generic<Arch>,
    .l2sq_f32 = &l2sq_f32_generic<Arch>,
    .dot_f32_many = &dot_f32_many_generic<Arch>,
    .l2sq_f32_many = &l2sq_f32_many_generic<Arch>,
};
}  // namespace

const Kernels& kernels_avx512() noexcept { return kTable; }

}  // namespace bebr::detail
