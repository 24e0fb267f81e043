// The AVX-512 kernels of the avx512 level (F, BW, VL, VPOPCNTDQ, BITALG, VNNI: Ice Lake, Zen 4
// and later): the counts that level's 256-bit filters take (Avx512Counts: vpopcntq word counts,
// vpopcntb byte counts) and the four-bit nibble kernels by VNNI multiply-adds. Included only by
// arch_avx512.cpp, which names them in its table:
//
//   k.sdc_filter = &sdc_filter_avx2<xsimd::avx512bw, Avx512Counts>;
//   k.sdc_filter_nibbles = &sdc_filter_nibbles_avx512;
//
// Internal linkage throughout (see generic-inl.hpp).
#pragma once

#include <immintrin.h>

#include "x86_avx2-inl.hpp"

namespace bebr::detail {
namespace {

// The counts of the 256-bit filters with AVX-512's popcounts (the interface of Avx2Counts):
// one-bit dots and Hamming distances as word counts straight into the u64 lanes, two-bit dots
// as three word-count sums by weight, wider codes by plane_sums with vpopcntb byte counts.
struct Avx512Counts {
  static __m256i bytes(__m256i v) noexcept { return _mm256_popcnt_epi8(v); }

  template <std::size_t K>
  static __m256i dot_sums(const __m256i* q, std::size_t blocks, const std::uint8_t* c) noexcept {
    const __m256i zero = _mm256_setzero_si256();
    if constexpr (K == 1) {
      __m256i acc = zero;
      for (std::size_t b = 0; b < blocks; ++b)  // word counts straight into the u64 lanes
        acc = _mm256_add_epi64(acc, _mm256_popcnt_epi64(_mm256_and_si256(
                                        q[b], _mm256_loadu_si256(reinterpret_cast<const __m256i*>(c + 32 * b)))));
      return acc;
    } else if constexpr (K == 2) {  // word counts straight into the u64 lanes, no byte sums
      // Three independent sums by weight: Q0 & C0 (4), Q0 & C1 + Q1 & C0 (2), Q1 & C1 (1).
      __m256i hi = zero, mid = zero, lo = zero;
      for (std::size_t b = 0; b < blocks; ++b) {
        const __m256i x0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(c + 32 * b));
        const __m256i x1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(c + 32 * (blocks + b)));
        hi = _mm256_add_epi64(hi, _mm256_popcnt_epi64(_mm256_and_si256(q[b], x0)));
        mid = _mm256_add_epi64(mid, _mm256_add_epi64(_mm256_popcnt_epi64(_mm256_and_si256(q[b], x1)),
                                                     _mm256_popcnt_epi64(_mm256_and_si256(q[blocks + b], x0))));
        lo = _mm256_add_epi64(lo, _mm256_popcnt_epi64(_mm256_and_si256(q[blocks + b], x1)));
      }
      const __m256i two = _mm256_add_epi64(_mm256_add_epi64(hi, hi), mid);
      return _mm256_add_epi64(_mm256_add_epi64(two, two), lo);
    } else {
      return plane_sums<Avx512Counts, K>(q, blocks, c);
    }
  }

  static __m256i xor_sums(const __m256i* q, std::size_t blocks, const std::uint8_t* c) noexcept {
    __m256i acc = _mm256_setzero_si256();
    for (std::size_t b = 0; b < blocks; ++b) {
      const __m256i x = _mm256_xor_si256(q[b], _mm256_loadu_si256(reinterpret_cast<const __m256i*>(c + 32 * b)));
      acc = _mm256_add_epi64(acc, _mm256_popcnt_epi64(x));
    }
    return acc;
  }
};

// One code plane word of 64 dimensions as 64 digit bytes: 0xff where the bit is set, masked to
// the plane's weight, or-ed over the 4 planes (plane 0 weighs 8).
inline __m512i digit_bytes(const std::uint8_t* planes, std::size_t words, std::size_t w) noexcept {
  __m512i d = _mm512_setzero_si512();
  for (std::size_t l = 0; l < 4; ++l)
    d = _mm512_or_si512(
        d, _mm512_maskz_set1_epi8(_cvtu64_mask64(load_word(planes + 8 * (l * words + w))), static_cast<char>(8 >> l)));
  return d;
}

inline void planes_to_nibbles_avx512(const std::uint8_t* planes, std::size_t stride, std::size_t words, std::size_t n,
                                     std::uint8_t* out, std::size_t out_stride) noexcept {
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t w = 0; w < words; ++w) {
      const __m512i d = digit_bytes(planes + i * stride, words, w);
      const __m256i lo = _mm512_castsi512_si256(d), hi = _mm512_extracti64x4_epi64(d, 1);
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + i * out_stride + 32 * w),
                          _mm256_or_si256(lo, _mm256_slli_epi16(hi, 4)));  // hi digits < 16: no carry across bytes
    }
}

// The dot products of eight nibble codes at a time by vpdpbusd (code nibbles unsigned, query
// digits signed bytes <= 15), summed across lanes by three rounds of horizontal adds.
inline void filter_nibbles_avx512(const std::uint64_t* q, std::size_t words, const std::uint8_t* digits,
                                  std::size_t stride, std::size_t n, const KeyTail& tail, std::uint64_t* mask,
                                  float* keys_out) noexcept {
  alignas(32) __m256i qlo[32], qhi[32];  // words <= 32
  for (std::size_t w = 0; w < words; ++w) {
    const __m512i d = digit_bytes(reinterpret_cast<const std::uint8_t*>(q), words, w);
    qlo[w] = _mm512_castsi512_si256(d);
    qhi[w] = _mm512_extracti64x4_epi64(d, 1);
  }
  const __m256i low = _mm256_set1_epi8(0x0f);
  // Two codes at once: four independent vpdpbusd chains (one code, two chains, was
  // latency-bound). Returns hadd(code 0's i32 partial sums, code 1's).
  const auto dot2 = [&](const std::uint8_t* c0, const std::uint8_t* c1) {
    __m256i a0 = _mm256_setzero_si256(), b0 = a0, a1 = a0, b1 = a0;
    for (std::size_t w = 0; w < words; ++w) {
      const __m256i x = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(c0 + 32 * w));
      const __m256i y = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(c1 + 32 * w));
      a0 = _mm256_dpbusd_epi32(a0, _mm256_and_si256(x, low), qlo[w]);
      b0 = _mm256_dpbusd_epi32(b0, _mm256_and_si256(_mm256_srli_epi16(x, 4), low), qhi[w]);
      a1 = _mm256_dpbusd_epi32(a1, _mm256_and_si256(y, low), qlo[w]);
      b1 = _mm256_dpbusd_epi32(b1, _mm256_and_si256(_mm256_srli_epi16(y, 4), low), qhi[w]);
    }
    return _mm256_hadd_epi32(_mm256_add_epi32(a0, b0), _mm256_add_epi32(a1, b1));
  };
  for (std::size_t w = 0; w < (n + 63) / 64; ++w) mask[w] = 0;
  for (std::size_t i = 0; i < n; i += 8) {
    const std::uint8_t* c = digits + i * stride;
    const __m256i h01 = dot2(c, c + stride), h23 = dot2(c + 2 * stride, c + 3 * stride);
    const __m256i h45 = dot2(c + 4 * stride, c + 5 * stride), h67 = dot2(c + 6 * stride, c + 7 * stride);
    const __m256i h0123 = _mm256_hadd_epi32(h01, h23), h4567 = _mm256_hadd_epi32(h45, h67);
    const __m256i sum = _mm256_add_epi32(_mm256_permute2x128_si256(h0123, h4567, 0x20),
                                         _mm256_permute2x128_si256(h0123, h4567, 0x31));  // codes 0..7
    tail(i, sum, mask, keys_out);
  }
}

// Kernels::sdc_filter_nibbles: words <= 32 (the query's registers) and n a multiple of 8, other
// shapes by ref.
inline void sdc_filter_nibbles_avx512(const std::uint64_t* q, std::size_t words, const std::uint8_t* digits,
                                      std::size_t stride, std::size_t n, const SdcKeys& keys, float A, float Q2,
                                      float oq, float limit, std::uint64_t* mask, float* keys_out) noexcept {
  if (words > 32 || n % 8)
    return ref::kernels().sdc_filter_nibbles(q, words, digits, stride, n, keys, A, Q2, oq, limit, mask, keys_out);
  filter_nibbles_avx512(q, words, digits, stride, n, KeyTail(keys, A, Q2, oq, limit), mask, keys_out);
}

}  // namespace
}  // namespace bebr::detail
