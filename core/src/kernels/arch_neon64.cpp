// The kernel table of the neon64 level (xsimd::neon64; see CMakeLists.txt): the portable bodies
// of generic-inl.hpp, float and double batches of 128 bits. No kernel is NEON-specific yet, so
// there is no neon-inl.hpp; the nibble and fast-scan layouts are offered by the AVX2 levels only.
#include "generic-inl.hpp"

namespace bebr::detail {

namespace {
using Arch = xsimd::neon64;
constexpr Kernels kTable{
    .name = "neon64",
    .hamming_many = &hamming_many_generic,
    .sdc_dot_many = &sdc_dot_many_generic,
    .sdc_scan = &sdc_scan_generic<Arch>,
    .sdc_filter = &sdc_filter_generic<Arch>,
    .hamming_filter = &hamming_filter_generic,
    .planes_to_nibbles = nullptr,
    .sdc_filter_nibbles = nullptr,
    .planes_to_fastscan2 = nullptr,
    .sdc_filter_fastscan2 = nullptr,
    .encode_one_bit = &encode_one_bit_generic,
    .dot_f32 = &dot_f32_generic<Arch>,
    .l2sq_f32 = &l2sq_f32_generic<Arch>,
    .dot_f32_many = &dot_f32_many_generic<Arch>,
    .l2sq_f32_many = &l2sq_f32_many_generic<Arch>,
};
}  // namespace

const Kernels& kernels_neon64() noexcept { return kTable; }

}  // namespace bebr::detail
