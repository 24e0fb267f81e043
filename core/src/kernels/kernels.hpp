// The kernel table and runtime dispatch, private to core: the engine's sources call it, the
// public headers do not show it (bebr/simd_levels.hpp names the levels).
//
// Every kernel exists once per compiled instruction set (a table of function pointers filled by
// core/src/kernels/arch_<tag>.cpp, each built with that arch's compiler flags) and once as a
// plain-loop oracle in bebr::ref. The active table is chosen once per process from what the
// CPU supports, or forced with the environment variable BEBR_SIMD=ref|sse2|sse4_2|avx2|avx512|neon64
// (for tests and benchmarks). Callers fetch the table once per batch:
//
//   const bebr::Kernels& k = bebr::kernels();
//   k.hamming_many(query, codes, stride, words, n, out);
//
// Guarantees: integer kernels (hamming, sdc_dot) return exactly the reference result on every
// level. Float kernels accumulate in float32 lanes (ref: in double) and agree with the reference
// to float rounding.
//
// The arch translation units, built with their own instruction-set flags, include this header:
// what they use of it and of what it includes stays plain data and declarations. An inline
// function that both they and a baseline translation unit emit is one symbol to the linker, which
// may keep the AVX-512 copy for every caller.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "bebr/code_block.hpp"
#include "bebr/simd_levels.hpp"

namespace bebr {

// What an SDC distance needs of the query besides its planes (see sdc_finish in distance.hpp).
struct SdcTerms {
  double scale = 0, offset = 0;  // the query code's scalars
  double digit_sum = 0;          // N_q
  double norm2 = 0;              // squared norm of the query's reconstruction
  double c = 1, m = 0, s2 = 1;   // 2^bits - 1, dim, 4^(bits-1)
  int metric = 0;                // 0 cosine, 1 ip, 2 l2 (the order of bebr::Metric)
};

// Per-code coefficients of the approximate SDC key of a query (search/keys.cpp derives them):
// for the integer dot product `dot` of the query and code i,
//   key_i = -(A * (P_i * (4 dot + Q2) + R_i) + S_i + oq * T_i) + U_i
// is, to float rounding, a strictly increasing function of the exact distance. A null array
// stands for zeros (P and R are always given). The arrays are a block's KeyArrays
// (bebr/code_block.hpp).
//
// Optional integer pre-filter: with R_i = -twice_c N_i P_i (twice_c = 2 (2^bits - 1), N_i code i's
// digit sum in sums[i]) the key is a function of e_i = 4 dot - twice_c N_i, and a caller that knows
// no code with e_i < emin can pass (key_floor in bebr/search.hpp) sets sums and emin: a kernel may
// then skip the float key of a group of codes whose e are all below emin. Masks and keys stay those
// of the full filter; kernels without the pre-filter ignore these fields. Where `passed` is not null
// a kernel that applies the pre-filter adds to it the number of groups of eight that it let
// through to the float key (how tight the floor is; the caller may stop using it).
struct SdcKeys : KeyArrays {
  SdcKeys() = default;
  SdcKeys(const KeyArrays& arrays) noexcept : KeyArrays(arrays) {}  // implicit: a block's keys as they are
  SdcKeys(const float* p, const float* r, const float* s = nullptr, const float* t = nullptr,
          const float* u = nullptr) noexcept
      : KeyArrays{p, r, s, t, u} {}
  const std::uint16_t* sums = nullptr;
  std::int32_t emin = 0, twice_c = 0;
  std::uint64_t* passed = nullptr;
};

struct Kernels {
  const char* name;

  // out[i] = popcount(q XOR code_i) over `words` 64-bit words; code i starts at
  // codes + i * stride (bytes, any alignment). q: `words` words.
  void (*hamming_many)(const std::uint64_t* q, const std::uint8_t* codes, std::size_t stride, std::size_t words,
                       std::size_t n, std::uint32_t* out) noexcept;

  // out[i] = sum_j nq_j * nc_ij, the integer dot product of the digit vectors of two codes of
  // `bits` planes of `words` words each (plane 0 = most significant bit):
  //   sum_k sum_l 2^((bits-1-k) + (bits-1-l)) popcount(Q_k AND C_l).
  void (*sdc_dot_many)(const std::uint64_t* q, const std::uint8_t* codes, std::size_t stride, std::size_t bits,
                       std::size_t words, std::size_t n, std::uint64_t* out) noexcept;

  // out[i] = the SDC distance from the query (planes q, terms t) to code i, whose planes start
  // at planes + i * stride and whose scale, offset, digit sum and squared digit norm are
  // scale[i], offset[i], digit_sum[i], self_dot[i]. Bit for bit the value of sdc_finish on every
  // level: the same IEEE double operations in the same order, vectorised across codes.
  void (*sdc_scan)(const std::uint64_t* q, const SdcTerms& t, const std::uint8_t* planes, std::size_t stride,
                   std::size_t bits, std::size_t words, const float* scale, const float* offset,
                   const std::uint32_t* digit_sum, const std::uint32_t* self_dot, std::size_t n, double* out) noexcept;

  // Sets bit i of mask (ceil(n/64) words, cleared first) when key_i <= limit, with the query
  // constants A, Q2, oq of the key above, and stores key_i in keys_out[i] for every bit it sets
  // (other entries are unspecified). n must be a multiple of 64. Float arithmetic: the caller
  // widens `limit` by a bound on the rounding error.
  void (*sdc_filter)(const std::uint64_t* q, std::size_t bits, std::size_t words, const std::uint8_t* planes,
                     std::size_t stride, std::size_t n, const SdcKeys& keys, float A, float Q2, float oq, float limit,
                     std::uint64_t* mask, float* keys_out) noexcept;

  // Sets bit i of mask (ceil(n/64) words, cleared first) when h_i = popcount(q XOR code_i) over
  // `words` words is <= limit, and stores h_i in hams_out[i] for every bit it sets (other entries
  // are unspecified). The filter of one-bit raw codes under cosine, whose distance is 2 h / dim.
  void (*hamming_filter)(const std::uint64_t* q, std::size_t words, const std::uint8_t* codes, std::size_t stride,
                         std::size_t n, std::uint32_t limit, std::uint64_t* mask, std::uint32_t* hams_out) noexcept;

  // The four-bit codes' digits as nibbles, for the nibble filter below: code i's planes
  // (planes + i * stride, 4 planes of `words` words, plane 0 most significant) become 32 * words
  // bytes at out + i * out_stride, where byte b of block w holds the digit of dimension 64 w + b in
  // its low nibble and of 64 w + 32 + b in its high nibble. Null on levels without it.
  void (*planes_to_nibbles)(const std::uint8_t* planes, std::size_t stride, std::size_t words, std::size_t n,
                            std::uint8_t* out, std::size_t out_stride) noexcept;
  // sdc_filter for four-bit codes given as nibbles (planes_to_nibbles): the same mask and keys,
  // with the dot product as one multiply-add per digit (VNNI) instead of 16 plane-pair counts.
  // q: the query's 4 planes of `words` words. Null on levels without it.
  void (*sdc_filter_nibbles)(const std::uint64_t* q, std::size_t words, const std::uint8_t* digits, std::size_t stride,
                             std::size_t n, const SdcKeys& keys, float A, float Q2, float oq, float limit,
                             std::uint64_t* mask, float* keys_out) noexcept;

  // Two-bit codes in the fast-scan layout, for the filter below: blocks of 32 codes (n a multiple
  // of 32) of 512 * words bytes, the same bytes as the planes. In block B the dimension pair g
  // (dimensions 2g and 2g + 1, g < 32 * words) has 16 bytes at out + 512 * words * B + 16 g: byte
  // b holds the pair's nibble of code 32 B + b in its low half and of code 32 B + 16 + b in its
  // high half, the nibble n_2g + 4 n_(2g+1) of the digits n = 2 (plane 0 bit) + (plane 1 bit).
  // Null on levels without the filter.
  void (*planes_to_fastscan2)(const std::uint8_t* planes, std::size_t stride, std::size_t words, std::size_t n,
                              std::uint8_t* out) noexcept;
  // sdc_filter for two-bit codes in the fast-scan layout: the same mask and keys, the digit dot
  // product by one table lookup per dimension pair for 16 codes at once. lut: fastscan2_lut of
  // the query. words <= 113 (the dot stays below 2^16). Null on levels without it.
  void (*sdc_filter_fastscan2)(const std::uint8_t* lut, std::size_t words, const std::uint8_t* blocks, std::size_t n,
                               const SdcKeys& keys, float A, float Q2, float oq, float limit, std::uint64_t* mask,
                               float* keys_out) noexcept;

  // One-bit encoding of x (minus mean, when not null) over m floats: the sign bits (r >= 0) into
  // ceil(m/64) little-endian words, and the four partial sums of |r| (part[i] over j = i mod 4,
  // in order of j), in double, into part[0..3] (overwritten). Every level fills it, with the same
  // words and bit-identical sums as ref's loop.
  void (*encode_one_bit)(const float* x, const float* mean, std::size_t m, std::uint64_t* words, double* part) noexcept;

  // Float kernels over `dim` floats; x is row-major n x dim.
  float (*dot_f32)(const float* a, const float* b, std::size_t dim) noexcept;
  float (*l2sq_f32)(const float* a, const float* b, std::size_t dim) noexcept;
  void (*dot_f32_many)(const float* q, const float* x, std::size_t dim, std::size_t n, float* out) noexcept;
  void (*l2sq_f32_many)(const float* q, const float* x, std::size_t dim, std::size_t n, float* out) noexcept;
};

// The query's table for sdc_filter_fastscan2 (two planes of `words` words): 16 bytes per
// dimension pair g, entry e = q_2g (e & 3) + q_(2g+1) (e >> 2) for the query's digits q.
void fastscan2_lut(const std::uint64_t* q, std::size_t words, std::uint8_t* lut) noexcept;
constexpr std::size_t kFastscan2MaxWords = 113;
// One code (its two planes of `words` words) into slot b (0..31) of a fast-scan block of 32
// codes (Kernels::planes_to_fastscan2), leaving the other 31 as they are.
void fastscan2_store(const std::uint8_t* planes, std::size_t words, std::uint8_t* block, std::size_t b) noexcept;

namespace ref {
// The plain-loop oracles (bit-by-bit popcount, double accumulators).
const Kernels& kernels() noexcept;
}  // namespace ref

// The kernel table of a level by name, or nullptr if it is not compiled or not available here.
const Kernels* kernels_for(const std::string& level) noexcept;
// The active table: BEBR_SIMD if set (an unknown or unavailable level falls back to the best),
// otherwise the best available level.
const Kernels& kernels() noexcept;

}  // namespace bebr
