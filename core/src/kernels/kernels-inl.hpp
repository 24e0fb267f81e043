// Kernel bodies, templated on the xsimd architecture tag. Included only by arch_<tag>.cpp,
// which is compiled with that architecture's flags; nothing else sees these definitions.
#pragma once

#include <algorithm>
#include <cstring>

#include <type_traits>

#include <xsimd/xsimd.hpp>
#if defined(__AVX2__)
#include <immintrin.h>
#endif

#include "bebr/simd.hpp"

// Everything here has internal linkage: each arch TU gets its own copies, so the linker can
// never merge a body compiled for one instruction set into another's table.
namespace bebr::detail {
namespace {

inline unsigned popcount64(std::uint64_t w) noexcept { return static_cast<unsigned>(__builtin_popcountll(w)); }

inline std::uint64_t load_word(const std::uint8_t* p) noexcept {
  std::uint64_t w;
  std::memcpy(&w, p, 8);  // the format is little-endian; so are all hosts we build for
  return w;
}

struct hamming_many_k {
  template <class Arch>
  void operator()(Arch, const std::uint64_t* q, const std::uint8_t* codes, std::size_t stride,
                  std::size_t words, std::size_t n, std::uint32_t* out) const noexcept {
    for (std::size_t i = 0; i < n; ++i) {
      const std::uint8_t* c = codes + i * stride;
      std::uint64_t d = 0;
      for (std::size_t w = 0; w < words; ++w) d += popcount64(q[w] ^ load_word(c + 8 * w));
      out[i] = static_cast<std::uint32_t>(d);
    }
  }
};

// popcount(q AND c) over `words` words, four independent sums so the popcounts overlap.
inline std::uint64_t and_popcount(const std::uint64_t* q, const std::uint8_t* c, std::size_t words) noexcept {
  std::uint64_t s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  std::size_t w = 0;
  for (; w + 4 <= words; w += 4) {
    s0 += popcount64(q[w] & load_word(c + 8 * w));
    s1 += popcount64(q[w + 1] & load_word(c + 8 * w + 8));
    s2 += popcount64(q[w + 2] & load_word(c + 8 * w + 16));
    s3 += popcount64(q[w + 3] & load_word(c + 8 * w + 24));
  }
  for (; w < words; ++w) s0 += popcount64(q[w] & load_word(c + 8 * w));
  return (s0 + s1) + (s2 + s3);
}

// The same for a word count known at compile time: fully unrolled.
template <std::size_t W>
inline std::uint64_t and_popcount_fixed(const std::uint64_t* q, const std::uint8_t* c) noexcept {
  std::uint64_t s[4] = {0, 0, 0, 0};
  for (std::size_t w = 0; w < W; ++w) s[w % 4] += popcount64(q[w] & load_word(c + 8 * w));
  return (s[0] + s[1]) + (s[2] + s[3]);
}

#if defined(__AVX2__)
// Per-byte popcounts: vpopcntb where the CPU has BITALG, else two nibble lookups.
inline __m256i popcount_bytes(__m256i v) noexcept {
#if defined(__AVX512BITALG__)
  return _mm256_popcnt_epi8(v);
#else
  const __m256i lut = _mm256_setr_epi8(0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4, 0, 1, 1, 2, 1, 2, 2, 3, 1,
                                       2, 2, 3, 2, 3, 3, 4);
  const __m256i low = _mm256_set1_epi8(0x0f);
  return _mm256_add_epi8(_mm256_shuffle_epi8(lut, _mm256_and_si256(v, low)),
                         _mm256_shuffle_epi8(lut, _mm256_and_si256(_mm256_srli_epi16(v, 4), low)));
#endif
}

// The sums of eight codes c, c + stride, ..., as eight u32 lanes in code order; sums(code) gives
// four u64 partial sums of one code, their total below 2^32.
template <class Sums>
inline __m256i gather8(const Sums& sums, const std::uint8_t* c, std::size_t stride) noexcept {
  const auto pair = [&](const std::uint8_t* c0, const std::uint8_t* c1) {  // [c0 lo, c1 lo, c0 hi, c1 hi]
    const __m256i s0 = sums(c0), s1 = sums(c1);
    return _mm256_add_epi64(_mm256_unpacklo_epi64(s0, s1), _mm256_unpackhi_epi64(s0, s1));
  };
  const __m256i p01 = pair(c, c + stride), p23 = pair(c + 2 * stride, c + 3 * stride);
  const __m256i p45 = pair(c + 4 * stride, c + 5 * stride), p67 = pair(c + 6 * stride, c + 7 * stride);
  // Two u64 lanes become a pair of u32 lanes; then the halves add up.
  const __m256i t0 = _mm256_or_si256(p01, _mm256_slli_epi64(p23, 32));  // codes 0 2 1 3 | 0 2 1 3
  const __m256i t1 = _mm256_or_si256(p45, _mm256_slli_epi64(p67, 32));  // codes 4 6 5 7 | 4 6 5 7
  const __m256i u = _mm256_add_epi32(_mm256_permute2x128_si256(t0, t1, 0x20), _mm256_permute2x128_si256(t0, t1, 0x31));
  return _mm256_permutevar8x32_epi32(u, _mm256_setr_epi32(0, 2, 1, 3, 4, 6, 5, 7));
}
#endif

#if defined(__AVX2__)
// The float keys of codes i..i+7 from their dot products (exact integers below 2^24), compared
// with the limit: the generic path's float operations in its order, so keys and masks match.
// With the integer pre-filter (SdcKeys::sums) a group whose e = 4 dot - 2c N are all below emin
// is done after one 16-byte load: no coefficient reads, no float work.
struct KeyTail {
  const SdcKeys& k;
  __m256 a, q2, vq, four, lim;
  __m256i twice_c, below;
  KeyTail(const SdcKeys& keys, float A, float Q2, float oq, float limit) noexcept
      : k(keys), a(_mm256_set1_ps(A)), q2(_mm256_set1_ps(Q2)), vq(_mm256_set1_ps(oq)), four(_mm256_set1_ps(4.f)),
        lim(_mm256_set1_ps(limit)), twice_c(_mm256_set1_epi32(keys.twice_c)),
        below(_mm256_set1_epi32(keys.emin > INT32_MIN ? keys.emin - 1 : INT32_MIN)) {}
  void operator()(std::size_t i, __m256i idot, std::uint64_t* mask, float* keys_out) const noexcept {
    if (k.sums) {
      const __m256i n = _mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(k.sums + i)));
      const __m256i e = _mm256_sub_epi32(_mm256_slli_epi32(idot, 2), _mm256_mullo_epi32(n, twice_c));
      if (!_mm256_movemask_ps(_mm256_castsi256_ps(_mm256_cmpgt_epi32(e, below)))) return;
      if (k.passed) ++*k.passed;
    }
    const __m256 dot = _mm256_cvtepi32_ps(idot);
    __m256 key = _mm256_mul_ps(
        a, _mm256_add_ps(_mm256_mul_ps(_mm256_loadu_ps(k.P + i), _mm256_add_ps(_mm256_mul_ps(four, dot), q2)),
                         _mm256_loadu_ps(k.R + i)));
    if (k.S) key = _mm256_add_ps(key, _mm256_loadu_ps(k.S + i));
    if (k.T) key = _mm256_add_ps(key, _mm256_mul_ps(vq, _mm256_loadu_ps(k.T + i)));
    key = _mm256_xor_ps(key, _mm256_set1_ps(-0.f));  // negation, as -key
    if (k.U) key = _mm256_add_ps(key, _mm256_loadu_ps(k.U + i));
    const unsigned bits = static_cast<unsigned>(_mm256_movemask_ps(_mm256_cmp_ps(key, lim, _CMP_LE_OQ)));
    if (bits) {  // once the heap is full most groups have no candidate: no key traffic for them
      _mm256_storeu_ps(keys_out + i, key);
      mask[i / 64] |= static_cast<std::uint64_t>(bits) << (i % 64);
    }
  }
};
#endif

#if defined(__AVX2__)
// The key filter for one-bit codes of `blocks` 32-byte blocks, eight codes at a time and in
// registers throughout: byte-wise popcounts, per-code sums gathered into eight int32 lanes, the
// float key, the comparison as a bit mask. The same float operations in the same order as the
// generic path (dot below 2^24 converts exactly), so the keys and masks are identical.
// Kb, when not 0, is `blocks` known at compile time: the loops unroll and the per-code chains
// interleave. Two-bit codes only: 768-d codes in cache went from 7.9 to 5.2 ns a code. One-bit
// codes unrolled ran 1.5x slower from memory (the scheduler interleaves the eight codes' loads).
template <std::size_t K, std::size_t Kb = 0>
inline void filter_avx2(const __m256i* q, std::size_t blocks_rt, const std::uint8_t* planes,
                        std::size_t stride, std::size_t n, const KeyTail& tail, std::uint64_t* mask,
                        float* keys_out) noexcept {
  const std::size_t blocks = Kb ? Kb : blocks_rt;
  const __m256i zero = _mm256_setzero_si256();
  const auto count = [](__m256i v) { return popcount_bytes(v); };
  // Four u64 partial sums of one code's dot: for each code plane l and block, the query planes
  // combine per byte as t = 2 t + popcount(Q_k & C_l) (at most 8 (2^K - 1) <= 120: a byte), summed
  // by vpsadbw; planes fold as acc = 2 acc + sum_l. For K = 1 this is the plain popcount.
  const auto sums = [&](const std::uint8_t* c) {
    if constexpr (K == 1) {
      __m256i acc = zero;
#if defined(__AVX512VPOPCNTDQ__)
      for (std::size_t b = 0; b < blocks; ++b)  // word counts straight into the u64 lanes
        acc = _mm256_add_epi64(acc, _mm256_popcnt_epi64(_mm256_and_si256(q[b], _mm256_loadu_si256(reinterpret_cast<const __m256i*>(c + 32 * b)))));
      return acc;
#else
      for (std::size_t b = 0; b < blocks; ++b)
        acc = _mm256_add_epi8(acc, count(_mm256_and_si256(q[b], _mm256_loadu_si256(reinterpret_cast<const __m256i*>(c + 32 * b)))));
      return _mm256_sad_epu8(acc, zero);
#endif
    } else {
      __m256i acc = zero;
#if defined(__AVX512VPOPCNTDQ__)
      if constexpr (K == 2) {  // word counts straight into the u64 lanes, no byte sums
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
      }
#endif
      for (std::size_t l = 0; l < K; ++l) {
        const std::uint8_t* cl = c + 32 * blocks * l;
        __m256i plane = zero;
        for (std::size_t b = 0; b < blocks; ++b) {
          const __m256i x = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(cl + 32 * b));
          __m256i t = count(_mm256_and_si256(q[b], x));
          for (std::size_t kq = 1; kq < K; ++kq) t = _mm256_add_epi8(_mm256_add_epi8(t, t), count(_mm256_and_si256(q[kq * blocks + b], x)));
          plane = _mm256_add_epi64(plane, _mm256_sad_epu8(t, zero));
        }
        acc = _mm256_add_epi64(_mm256_add_epi64(acc, acc), plane);
      }
      return acc;
    }
  };
  for (std::size_t w = 0; w < (n + 63) / 64; ++w) mask[w] = 0;
  for (std::size_t i = 0; i < n; i += 8) {
    const std::uint8_t* c = planes + i * stride;
    if constexpr (K > 2) _mm_prefetch(reinterpret_cast<const char*>(c + 8 * stride), _MM_HINT_T0);
    tail(i, gather8(sums, c, stride), mask, keys_out);
  }
}
#endif

#if defined(__AVX2__)
// filter_avx2 with the block count of 512, 768 and 1024 dimensions fixed at compile time.
template <std::size_t K>
inline void filter_blocks(const __m256i* q, std::size_t blocks, const std::uint8_t* planes, std::size_t stride,
                          std::size_t n, const KeyTail& tail, std::uint64_t* mask, float* keys_out) noexcept {
  switch (blocks) {
    case 2: return filter_avx2<K, 2>(q, blocks, planes, stride, n, tail, mask, keys_out);
    case 3: return filter_avx2<K, 3>(q, blocks, planes, stride, n, tail, mask, keys_out);
    case 4: return filter_avx2<K, 4>(q, blocks, planes, stride, n, tail, mask, keys_out);
    default: return filter_avx2<K>(q, blocks, planes, stride, n, tail, mask, keys_out);
  }
}
#endif

#if defined(__AVX2__)
// The bits of x at the even positions of 64 bits (bit i to bit 2i).
inline std::uint64_t spread_bits(std::uint64_t x) noexcept {
  x &= 0xffffffffu;
  x = (x | x << 16) & 0x0000ffff0000ffffull;
  x = (x | x << 8) & 0x00ff00ff00ff00ffull;
  x = (x | x << 4) & 0x0f0f0f0f0f0f0f0full;
  x = (x | x << 2) & 0x3333333333333333ull;
  return (x | x << 1) & 0x5555555555555555ull;
}

// Kernels::planes_to_fastscan2 a word at a time: the two planes' words interleave into the
// code's 32 pair nibbles (16 bytes, pairs 2t and 2t + 1 in byte t), which then spread over the
// 32 pairs' rows of the block, 16 codes per row.
inline void planes_to_fastscan2_words(const std::uint8_t* planes, std::size_t stride, std::size_t words,
                                      std::size_t n, std::uint8_t* out) noexcept {
  alignas(16) std::uint8_t z[16][32];  // z[t][c]: byte t of code c's nibbles
  for (std::size_t block = 0; block < n / 32; ++block) {
    std::uint8_t* o = out + 512 * words * block;
    for (std::size_t w = 0; w < words; ++w) {
      for (std::size_t c = 0; c < 32; ++c) {
        const std::uint8_t* p = planes + (32 * block + c) * stride;
        const std::uint64_t p0 = load_word(p + 8 * w), p1 = load_word(p + 8 * (words + w));
        const std::uint64_t lo = spread_bits(p1) | spread_bits(p0) << 1, hi = spread_bits(p1 >> 32) | spread_bits(p0 >> 32) << 1;
        for (std::size_t t = 0; t < 8; ++t) {
          z[t][c] = static_cast<std::uint8_t>(lo >> (8 * t));
          z[8 + t][c] = static_cast<std::uint8_t>(hi >> (8 * t));
        }
      }
      for (std::size_t t = 0; t < 16; ++t) {
        std::uint8_t* even = o + 16 * (32 * w + 2 * t);
        for (std::size_t c = 0; c < 16; ++c) {
          even[c] = static_cast<std::uint8_t>((z[t][c] & 15) | z[t][c + 16] << 4);
          even[16 + c] = static_cast<std::uint8_t>(z[t][c] >> 4 | (z[t][c + 16] & 0xf0));
        }
      }
    }
  }
}

// The fast-scan filter of two-bit codes: per block of 32 codes, each 32-byte load holds two
// dimension pairs of all 32 codes; vpshufb looks the low and the high nibbles up in the two
// pairs' tables (one per 128-bit lane), byte sums run for 14 loads (at most 14 x 18 = 252),
// then widen into 16-bit sums of 16 codes each.
inline void filter_fastscan2_avx2(const std::uint8_t* lut, std::size_t words, const std::uint8_t* blocks, std::size_t n,
                                  const KeyTail& tail, std::uint64_t* mask, float* keys_out) noexcept {
  const std::size_t pairs = 32 * words;
  const __m256i low = _mm256_set1_epi8(15);
  const auto widen = [](__m256i a8) {
    return _mm256_add_epi16(_mm256_cvtepu8_epi16(_mm256_castsi256_si128(a8)), _mm256_cvtepu8_epi16(_mm256_extracti128_si256(a8, 1)));
  };
  for (std::size_t w = 0; w < (n + 63) / 64; ++w) mask[w] = 0;
  for (std::size_t i = 0; i < n; i += 32) {
    const std::uint8_t* b = blocks + 512 * words * (i / 32);
    __m256i lo16 = _mm256_setzero_si256(), hi16 = _mm256_setzero_si256();
    for (std::size_t g = 0; g < pairs; g += 28) {
      __m256i lo8 = _mm256_setzero_si256(), hi8 = _mm256_setzero_si256();
      const std::size_t end = std::min(pairs, g + 28);
      for (std::size_t h = g; h < end; h += 2) {
        const __m256i x = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b + 16 * h));
        const __m256i t = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(lut + 16 * h));
        lo8 = _mm256_add_epi8(lo8, _mm256_shuffle_epi8(t, _mm256_and_si256(x, low)));
        hi8 = _mm256_add_epi8(hi8, _mm256_shuffle_epi8(t, _mm256_and_si256(_mm256_srli_epi16(x, 4), low)));
      }
      lo16 = _mm256_add_epi16(lo16, widen(lo8));
      hi16 = _mm256_add_epi16(hi16, widen(hi8));
    }
    const auto eight = [](__m128i v) { return _mm256_cvtepu16_epi32(v); };
    tail(i, eight(_mm256_castsi256_si128(lo16)), mask, keys_out);
    tail(i + 8, eight(_mm256_extracti128_si256(lo16, 1)), mask, keys_out);
    tail(i + 16, eight(_mm256_castsi256_si128(hi16)), mask, keys_out);
    tail(i + 24, eight(_mm256_extracti128_si256(hi16, 1)), mask, keys_out);
  }
}
#endif

#if defined(__AVX512VNNI__) && defined(__AVX512BW__)
// One code plane word of 64 dimensions as 64 digit bytes: 0xff where the bit is set, masked to
// the plane's weight, or-ed over the 4 planes (plane 0 weighs 8).
inline __m512i digit_bytes(const std::uint8_t* planes, std::size_t words, std::size_t w) noexcept {
  __m512i d = _mm512_setzero_si512();
  for (std::size_t l = 0; l < 4; ++l)
    d = _mm512_or_si512(d, _mm512_maskz_set1_epi8(_cvtu64_mask64(load_word(planes + 8 * (l * words + w))),
                                                  static_cast<char>(8 >> l)));
  return d;
}

inline void planes_to_nibbles_avx512(const std::uint8_t* planes, std::size_t stride, std::size_t words,
                                     std::size_t n, std::uint8_t* out, std::size_t out_stride) noexcept {
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
#endif

#if defined(__AVX2__) && !defined(__AVX512VNNI__)
// 32 bits as 32 bytes: byte b is `weight` where bit b of x is set, else 0.
inline __m256i bits_to_bytes(std::uint32_t x, std::int8_t weight) noexcept {
  const __m256i spread = _mm256_shuffle_epi8(_mm256_set1_epi32(static_cast<int>(x)),
                                             _mm256_setr_epi8(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2,
                                                              2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3));
  const __m256i bit = _mm256_set1_epi64x(static_cast<long long>(0x8040201008040201ull));
  return _mm256_and_si256(_mm256_cmpeq_epi8(_mm256_and_si256(spread, bit), bit), _mm256_set1_epi8(weight));
}

// The digits of dimensions 64 w + h * 32 .. + 31 of 4-plane codes (plane 0 weighs 8) as bytes.
inline __m256i digit_bytes_avx2(const std::uint8_t* planes, std::size_t words, std::size_t w, std::size_t h) noexcept {
  __m256i d = _mm256_setzero_si256();
  for (std::size_t l = 0; l < 4; ++l)
    d = _mm256_or_si256(d, bits_to_bytes(static_cast<std::uint32_t>(load_word(planes + 8 * (l * words + w)) >> (32 * h)),
                                         static_cast<std::int8_t>(8 >> l)));
  return d;
}

inline void planes_to_nibbles_avx2(const std::uint8_t* planes, std::size_t stride, std::size_t words, std::size_t n,
                                   std::uint8_t* out, std::size_t out_stride) noexcept {
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t w = 0; w < words; ++w) {
      const __m256i lo = digit_bytes_avx2(planes + i * stride, words, w, 0);
      const __m256i hi = digit_bytes_avx2(planes + i * stride, words, w, 1);
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + i * out_stride + 32 * w),
                          _mm256_or_si256(lo, _mm256_slli_epi16(hi, 4)));  // digits < 16: no carry across bytes
    }
}

// The nibble filter without VNNI: vpmaddubsw (code nibble x query digit, pairs summed: <= 450)
// into int16 lanes, which hold a code's sum over all words (<= 900 a word, words <= 32), then one
// vpmaddwd into int32 lanes; two codes at a time, summed across lanes by horizontal adds.
inline void filter_nibbles_avx2(const std::uint64_t* q, std::size_t words, const std::uint8_t* digits,
                                std::size_t stride, std::size_t n, const KeyTail& tail, std::uint64_t* mask,
                                float* keys_out) noexcept {
  alignas(32) __m256i qlo[32], qhi[32];  // words <= 32
  for (std::size_t w = 0; w < words; ++w) {
    qlo[w] = digit_bytes_avx2(reinterpret_cast<const std::uint8_t*>(q), words, w, 0);
    qhi[w] = digit_bytes_avx2(reinterpret_cast<const std::uint8_t*>(q), words, w, 1);
  }
  const __m256i low = _mm256_set1_epi8(0x0f), ones = _mm256_set1_epi16(1);
  // Two codes, two words at a time: the four query registers of the two words are loaded once
  // for both codes. With each multiply-add reading its query operand from memory (four reads a
  // word) the scan through SQL ran 1.27-1.32x 4 x bits=1, and 0.98x or 1.56x in builds that only
  // moved the query arrays: reads of the query and the codes in lockstep, likely conflicting in L1
  // by their addresses. Now 0.99-1.06x.
  const auto dot2 = [&](const std::uint8_t* c0, const std::uint8_t* c1) {
    __m256i a0 = _mm256_setzero_si256(), b0 = a0, a1 = a0, b1 = a0;
    const auto add = [&](__m256i& a, __m256i& b, const std::uint8_t* c, std::size_t w, __m256i ql, __m256i qh) {
      const __m256i x = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(c + 32 * w));
      a = _mm256_add_epi16(a, _mm256_maddubs_epi16(_mm256_and_si256(x, low), ql));
      b = _mm256_add_epi16(b, _mm256_maddubs_epi16(_mm256_and_si256(_mm256_srli_epi16(x, 4), low), qh));
    };
    std::size_t w = 0;
    for (; w + 2 <= words; w += 2) {  // the query's registers loaded once for both codes
      const __m256i l0 = qlo[w], h0 = qhi[w], l1 = qlo[w + 1], h1 = qhi[w + 1];
      add(a0, b0, c0, w, l0, h0);
      add(a0, b0, c0, w + 1, l1, h1);
      add(a1, b1, c1, w, l0, h0);
      add(a1, b1, c1, w + 1, l1, h1);
    }
    if (w < words) {
      add(a0, b0, c0, w, qlo[w], qhi[w]);
      add(a1, b1, c1, w, qlo[w], qhi[w]);
    }
    return _mm256_hadd_epi32(_mm256_madd_epi16(_mm256_add_epi16(a0, b0), ones),
                             _mm256_madd_epi16(_mm256_add_epi16(a1, b1), ones));
  };
  for (std::size_t w = 0; w < (n + 63) / 64; ++w) mask[w] = 0;
  for (std::size_t i = 0; i < n; i += 8) {
    const std::uint8_t* c = digits + i * stride;
    // One pair after another, in address order. Without the barriers GCC fuses the four loops
    // into one over the words, the eight codes' reads interleave, and the scan's speed depended
    // on the codes' alignment: 14.5-19.1 ns a 768-d code from memory, against 14.0-14.9 with.
    const __m256i h01 = dot2(c, c + stride);
    asm volatile("" ::: "memory");
    const __m256i h23 = dot2(c + 2 * stride, c + 3 * stride);
    asm volatile("" ::: "memory");
    const __m256i h45 = dot2(c + 4 * stride, c + 5 * stride);
    asm volatile("" ::: "memory");
    const __m256i h67 = dot2(c + 6 * stride, c + 7 * stride);
    const __m256i h0123 = _mm256_hadd_epi32(h01, h23), h4567 = _mm256_hadd_epi32(h45, h67);
    tail(i,
         _mm256_add_epi32(_mm256_permute2x128_si256(h0123, h4567, 0x20), _mm256_permute2x128_si256(h0123, h4567, 0x31)),
         mask, keys_out);
  }
}
#endif

// The four-bit nibble kernels of this file's level: VNNI multiply-adds where it is compiled with
// them (the avx512 level), vpmaddubsw on the avx2 level.
#if defined(__AVX512VNNI__) && defined(__AVX512BW__)
using NibbleArch = xsimd::avx512bw;
constexpr auto* kPlanesToNibbles = &planes_to_nibbles_avx512;
constexpr auto* kFilterNibbles = &filter_nibbles_avx512;
#elif defined(__AVX2__)
using NibbleArch = xsimd::avx2;
constexpr auto* kPlanesToNibbles = &planes_to_nibbles_avx2;
constexpr auto* kFilterNibbles = &filter_nibbles_avx2;
#endif

#if defined(__AVX2__)
// The Hamming filter for codes of `blocks` 32-byte blocks (at most 31), eight codes at a time in
// registers: XOR, per-word (VPOPCNTDQ) or per-byte (nibble lookup) counts, one u32 lane per code.
inline void hamming_filter_avx2(const __m256i* q, std::size_t blocks, const std::uint8_t* codes, std::size_t stride,
                                std::size_t n, std::uint32_t limit, std::uint64_t* mask,
                                std::uint32_t* hams_out) noexcept {
  const __m256i zero = _mm256_setzero_si256();
  const __m256i lim = _mm256_set1_epi32(static_cast<int>(std::min<std::uint32_t>(limit, 0x7fffffff)));
  const auto sums = [&](const std::uint8_t* c) {  // four u64 partial counts of one code
    __m256i acc = zero;
    for (std::size_t b = 0; b < blocks; ++b) {
      const __m256i x = _mm256_xor_si256(q[b], _mm256_loadu_si256(reinterpret_cast<const __m256i*>(c + 32 * b)));
#if defined(__AVX512VPOPCNTDQ__)
      acc = _mm256_add_epi64(acc, _mm256_popcnt_epi64(x));
#else
      acc = _mm256_add_epi8(acc, popcount_bytes(x));
#endif
    }
#if defined(__AVX512VPOPCNTDQ__)
    return acc;
#else
    return _mm256_sad_epu8(acc, zero);
#endif
  };
  for (std::size_t w = 0; w < (n + 63) / 64; ++w) mask[w] = 0;
  for (std::size_t i = 0; i < n; i += 8) {
    const __m256i h = gather8(sums, codes + i * stride, stride);
    const unsigned over = static_cast<unsigned>(_mm256_movemask_ps(_mm256_castsi256_ps(_mm256_cmpgt_epi32(h, lim))));
    if (const unsigned bits = ~over & 0xffu) {
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(hams_out + i), h);
      mask[i / 64] |= static_cast<std::uint64_t>(bits) << (i % 64);
    }
  }
}
#endif

struct hamming_filter_k {
  template <class Arch>
  void operator()(Arch, const std::uint64_t* q, std::size_t words, const std::uint8_t* codes, std::size_t stride,
                  std::size_t n, std::uint32_t limit, std::uint64_t* mask, std::uint32_t* hams_out) const noexcept {
#if defined(__AVX2__)
    constexpr bool kAvx2 = std::is_same_v<Arch, xsimd::avx2> || std::is_same_v<Arch, xsimd::avx512bw>;
    const std::size_t blocks = words / 4;
    if (kAvx2 && words % 4 == 0 && blocks <= 31 && n % 8 == 0) {
      alignas(32) __m256i qv[31];
      for (std::size_t b = 0; b < blocks; ++b) qv[b] = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(q + 4 * b));
      hamming_filter_avx2(qv, blocks, codes, stride, n, limit, mask, hams_out);
      return;
    }
#endif
    for (std::size_t w = 0; w < (n + 63) / 64; ++w) mask[w] = 0;
    for (std::size_t i = 0; i < n; i += 64) {
      const std::size_t m = n - i < 64 ? n - i : 64;
      std::uint32_t h[64];
      hamming_many_k{}(Arch{}, q, codes + i * stride, stride, words, m, h);
      std::uint64_t bits = 0;
      for (std::size_t j = 0; j < m; ++j)
        if (h[j] <= limit) {
          hams_out[i + j] = h[j];
          bits |= std::uint64_t{1} << j;
        }
      mask[i / 64] = bits;
    }
  }
};

// The same for K bits known at compile time: the K sums stay in registers.
template <std::size_t K>
inline std::uint64_t sdc_dot_fixed(const std::uint64_t* q, const std::uint8_t* c, std::size_t words) noexcept {
  std::uint64_t s = 0;
  for (std::size_t l = 0; l < K; ++l) {
    const std::uint8_t* cl = c + 8 * l * words;
    std::uint64_t acc[K] = {};
    for (std::size_t w = 0; w < words; ++w) {
      const std::uint64_t x = load_word(cl + 8 * w);
      for (std::size_t k = 0; k < K; ++k) acc[k] += popcount64(q[k * words + w] & x);
    }
    std::uint64_t dl = 0;
    for (std::size_t k = 0; k < K; ++k) dl += acc[k] << (K - 1 - k);
    s += dl << (K - 1 - l);
  }
  return s;
}

// sum_k sum_l 2^((bits-1-k) + (bits-1-l)) popcount(Q_k AND C_l) for one code c.
inline std::uint64_t sdc_dot_one(const std::uint64_t* q, const std::uint8_t* c, std::size_t bits,
                                 std::size_t words) noexcept {
  switch (bits) {  // 1..kMaxBits, checked wherever a code or table is made
    case 1: return and_popcount(q, c, words);
    case 2: return sdc_dot_fixed<2>(q, c, words);
    case 3: return sdc_dot_fixed<3>(q, c, words);
    case 4: return sdc_dot_fixed<4>(q, c, words);
    case 5: return sdc_dot_fixed<5>(q, c, words);
    case 6: return sdc_dot_fixed<6>(q, c, words);
    case 7: return sdc_dot_fixed<7>(q, c, words);
    default: return sdc_dot_fixed<8>(q, c, words);
  }
}

struct sdc_dot_many_k {
  template <class Arch>
  void operator()(Arch, const std::uint64_t* q, const std::uint8_t* codes, std::size_t stride,
                  std::size_t bits, std::size_t words, std::size_t n,
                  std::uint64_t* out) const noexcept {
    for (std::size_t i = 0; i < n; ++i) out[i] = sdc_dot_one(q, codes + i * stride, bits, words);
  }
};

// The integer dot products of a batch of codes, then sdc_finish's double arithmetic on whole
// batches (its operations, in its order: the results are identical). T-terms are integers below
// 2^53, so they are exact in double as they are in sdc_finish's int64.
struct sdc_scan_k {
  template <class Arch>
  void operator()(Arch, const std::uint64_t* q, const SdcTerms& t, const std::uint8_t* planes,
                  std::size_t stride, std::size_t bits, std::size_t words, const float* scale,
                  const float* offset, const std::uint32_t* digit_sum,
                  const std::uint32_t* self_dot, std::size_t n, double* out) const noexcept {
    using B = xsimd::batch<double, Arch>;
    constexpr std::size_t L = B::size;
    alignas(64) double dot[L], sc[L], oc[L], nc[L], sd[L], res[L];
    const B c(t.c), m(t.m), s2(t.s2), two(2.0), four(4.0), one(1.0), zero(0.0);
    const B sq(t.scale), oq(t.offset), nq(t.digit_sum), na(t.norm2);
    const B two_c = two * c, mcc = (m * c) * c;
    for (std::size_t i = 0; i < n; i += L) {
      const std::size_t lanes = n - i < L ? n - i : L;
      for (std::size_t j = 0; j < L; ++j) {
        if (j < lanes) {
          const std::size_t x = i + j;
          dot[j] = static_cast<double>(sdc_dot_one(q, planes + x * stride, bits, words));
          sc[j] = scale[x];
          oc[j] = offset[x];
          nc[j] = digit_sum[x];
          sd[j] = self_dot[x];
        } else {
          dot[j] = sc[j] = oc[j] = nc[j] = sd[j] = 0;
        }
      }
      const B vs = B::load_aligned(sc), vo = B::load_aligned(oc), vn = B::load_aligned(nc);
      const B tab = (four * B::load_aligned(dot) - two_c * (nq + vn)) + mcc;
      const B ip = (((sq * vs) * tab) / s2 + oq) + vo;
      B d;
      if (t.metric == 1) {
        d = xsimd::bitwise_xor(ip, B(-0.0));  // -ip with its sign bit flipped: -0 for 0 (xsimd 8.1 avx512 negates as 0 - x)
      } else {
        const B tbb = (four * B::load_aligned(sd) - two_c * (vn + vn)) + mcc;
        const B nb = ((vs * vs) * tbb) / s2 + two * vo;
        if (t.metric == 2) {
          d = xsimd::sqrt(xsimd::max((na + nb) - two * ip, zero));  // max(x, 0): 0 for x = -0, as std::max(0.0, x)
        } else {
          const auto ok = (na > zero) & (nb > zero);
          d = xsimd::select(ok, one - ip / xsimd::sqrt(na * nb), one);
        }
      }
      d.store_aligned(res);
      for (std::size_t j = 0; j < lanes; ++j) out[i + j] = res[j];
    }
  }
};

struct sdc_filter_k {
  template <class Arch>
  void operator()(Arch, const std::uint64_t* q, std::size_t bits, std::size_t words,
                  const std::uint8_t* planes, std::size_t stride, std::size_t n, const SdcKeys& k,
                  float A, float Q2, float oq, float limit, std::uint64_t* mask,
                  float* keys_out) const noexcept {
    using B = xsimd::batch<float, Arch>;
    constexpr std::size_t L = B::size;  // divides 64
    alignas(64) float dot[L], keep[L];
#if defined(__AVX2__)
    // AVX2, planes of whole 32-byte blocks, up to 4 bits (byte-wise weighted counts) and 31
    // blocks (byte counters): everything in registers.
    alignas(32) __m256i qv[4 * 31];
    const std::size_t blocks = words / 4;
    constexpr bool kAvx2 = std::is_same_v<Arch, xsimd::avx2> || std::is_same_v<Arch, xsimd::avx512bw>;
    const bool wide = kAvx2 && bits <= 4 && words % 4 == 0 && blocks <= 31;
    if (wide) {
      for (std::size_t kq = 0; kq < bits; ++kq)
        for (std::size_t b = 0; b < blocks; ++b)
          qv[kq * blocks + b] = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(q + kq * words + 4 * b));
      const KeyTail tail(k, A, Q2, oq, limit);
      switch (bits) {
        case 1: filter_avx2<1>(qv, blocks, planes, stride, n, tail, mask, keys_out); return;
        case 2: filter_blocks<2>(qv, blocks, planes, stride, n, tail, mask, keys_out); return;
        case 3: filter_avx2<3>(qv, blocks, planes, stride, n, tail, mask, keys_out); return;
        default: filter_avx2<4>(qv, blocks, planes, stride, n, tail, mask, keys_out); return;
      }
    }
#endif
    for (std::size_t w = 0; w < (n + 63) / 64; ++w) mask[w] = 0;
    const B a(A), q2(Q2), vq(oq), four(4.f), lim(limit), one(1.f), zero(0.f);
    // One-bit codes of the common widths get an unrolled popcount.
    const auto fill = [&](std::size_t i) {
      const std::uint8_t* c = planes + i * stride;
#define BEBR_FIXED(W)                                                                        \
  case W:                                                                                    \
    for (std::size_t j = 0; j < L; ++j) dot[j] = static_cast<float>(and_popcount_fixed<W>(q, c + j * stride)); \
    return;
      if (bits == 1) switch (words) {
          BEBR_FIXED(2) BEBR_FIXED(4) BEBR_FIXED(6) BEBR_FIXED(8) BEBR_FIXED(12) BEBR_FIXED(16) BEBR_FIXED(24)
          BEBR_FIXED(32) default: break;
        }
#undef BEBR_FIXED
      for (std::size_t j = 0; j < L; ++j) dot[j] = static_cast<float>(sdc_dot_one(q, c + j * stride, bits, words));
    };
    for (std::size_t i = 0; i < n; i += L) {
      fill(i);
      B key = a * (B::load_unaligned(k.P + i) * (four * B::load_aligned(dot) + q2) + B::load_unaligned(k.R + i));
      if (k.S) key = key + B::load_unaligned(k.S + i);
      if (k.T) key = key + vq * B::load_unaligned(k.T + i);
      key = -key;
      if (k.U) key = key + B::load_unaligned(k.U + i);
      key.store_unaligned(keys_out + i);
      xsimd::select(key <= lim, one, zero).store_aligned(keep);
      std::uint64_t bitsw = 0;
      for (std::size_t j = 0; j < L; ++j) bitsw |= static_cast<std::uint64_t>(keep[j] != 0.f) << j;
      mask[i / 64] |= bitsw << (i % 64);
    }
  }
};

#if defined(__AVX2__)
// Four floats at a time in double lanes: lane i accumulates |r_j| for j = i mod 4 in order of j,
// exactly the scalar partial sums; the comparison mask gives four sign bits.
inline void encode_one_bit_avx2(const float* x, const float* mean, std::size_t m, std::uint64_t* words,
                                double* part) noexcept {
  const __m256d zero = _mm256_setzero_pd(), sign = _mm256_set1_pd(-0.0);
  __m256d acc = zero;
  std::uint64_t word = 0;
  std::size_t j = 0;
  for (; j + 4 <= m; j += 4) {
    __m256d r = _mm256_cvtps_pd(_mm_loadu_ps(x + j));
    if (mean) r = _mm256_sub_pd(r, _mm256_cvtps_pd(_mm_loadu_ps(mean + j)));
    acc = _mm256_add_pd(acc, _mm256_andnot_pd(sign, r));
    const auto bits = static_cast<std::uint64_t>(_mm256_movemask_pd(_mm256_cmp_pd(r, zero, _CMP_GE_OQ)));
    word |= bits << (j % 64);
    if (j % 64 == 60) {
      words[j / 64] = word;
      word = 0;
    }
  }
  alignas(32) double lanes[4];
  _mm256_store_pd(lanes, acc);
  for (; j < m; ++j) {
    const double r = double{x[j]} - (mean ? double{mean[j]} : 0.0);
    lanes[j % 4] += r < 0 ? -r : r;
    word |= std::uint64_t{r >= 0} << (j % 64);
  }
  if (m % 64) words[m / 64] = word;
  for (int i = 0; i < 4; ++i) part[i] = lanes[i];
}
#endif

// Float reductions: four independent batch accumulators hide the add latency.
struct dot_f32_k {
  template <class Arch>
  float operator()(Arch, const float* a, const float* b, std::size_t dim) const noexcept {
    using B = xsimd::batch<float, Arch>;
    constexpr std::size_t L = B::size;
    B s0(0.f), s1(0.f), s2(0.f), s3(0.f);
    std::size_t i = 0;
    for (; i + 4 * L <= dim; i += 4 * L) {
      s0 = xsimd::fma(B::load_unaligned(a + i), B::load_unaligned(b + i), s0);
      s1 = xsimd::fma(B::load_unaligned(a + i + L), B::load_unaligned(b + i + L), s1);
      s2 = xsimd::fma(B::load_unaligned(a + i + 2 * L), B::load_unaligned(b + i + 2 * L), s2);
      s3 = xsimd::fma(B::load_unaligned(a + i + 3 * L), B::load_unaligned(b + i + 3 * L), s3);
    }
    for (; i + L <= dim; i += L) s0 = xsimd::fma(B::load_unaligned(a + i), B::load_unaligned(b + i), s0);
    float s = xsimd::hadd((s0 + s1) + (s2 + s3));
    for (; i < dim; ++i) s += a[i] * b[i];
    return s;
  }
};

struct l2sq_f32_k {
  template <class Arch>
  float operator()(Arch, const float* a, const float* b, std::size_t dim) const noexcept {
    using B = xsimd::batch<float, Arch>;
    constexpr std::size_t L = B::size;
    B s0(0.f), s1(0.f), s2(0.f), s3(0.f);
    std::size_t i = 0;
    for (; i + 4 * L <= dim; i += 4 * L) {
      B d0 = B::load_unaligned(a + i) - B::load_unaligned(b + i);
      B d1 = B::load_unaligned(a + i + L) - B::load_unaligned(b + i + L);
      B d2 = B::load_unaligned(a + i + 2 * L) - B::load_unaligned(b + i + 2 * L);
      B d3 = B::load_unaligned(a + i + 3 * L) - B::load_unaligned(b + i + 3 * L);
      s0 = xsimd::fma(d0, d0, s0);
      s1 = xsimd::fma(d1, d1, s1);
      s2 = xsimd::fma(d2, d2, s2);
      s3 = xsimd::fma(d3, d3, s3);
    }
    for (; i + L <= dim; i += L) {
      B d = B::load_unaligned(a + i) - B::load_unaligned(b + i);
      s0 = xsimd::fma(d, d, s0);
    }
    float s = xsimd::hadd((s0 + s1) + (s2 + s3));
    for (; i < dim; ++i) s += (a[i] - b[i]) * (a[i] - b[i]);
    return s;
  }
};

template <class Arch>
void dot_f32_many(const float* q, const float* x, std::size_t dim, std::size_t n,
                  float* out) noexcept {
  for (std::size_t i = 0; i < n; ++i) out[i] = dot_f32_k{}(Arch{}, q, x + i * dim, dim);
}

template <class Arch>
void l2sq_f32_many(const float* q, const float* x, std::size_t dim, std::size_t n,
                   float* out) noexcept {
  for (std::size_t i = 0; i < n; ++i) out[i] = l2sq_f32_k{}(Arch{}, q, x + i * dim, dim);
}

// The table of one architecture; arch_<tag>.cpp instantiates it.
template <class Arch>
Kernels make_kernels(const char* name) noexcept {
  Kernels k{};
  k.name = name;
  k.hamming_many = [](const std::uint64_t* q, const std::uint8_t* c, std::size_t stride,
                      std::size_t words, std::size_t n, std::uint32_t* out) noexcept {
    hamming_many_k{}(Arch{}, q, c, stride, words, n, out);
  };
  k.sdc_dot_many = [](const std::uint64_t* q, const std::uint8_t* c, std::size_t stride,
                      std::size_t bits, std::size_t words, std::size_t n,
                      std::uint64_t* out) noexcept {
    sdc_dot_many_k{}(Arch{}, q, c, stride, bits, words, n, out);
  };
  k.sdc_scan = [](const std::uint64_t* q, const SdcTerms& t, const std::uint8_t* planes,
                  std::size_t stride, std::size_t bits, std::size_t words, const float* scale,
                  const float* offset, const std::uint32_t* digit_sum, const std::uint32_t* self_dot,
                  std::size_t n, double* out) noexcept {
    sdc_scan_k{}(Arch{}, q, t, planes, stride, bits, words, scale, offset, digit_sum, self_dot, n, out);
  };
  k.sdc_filter = [](const std::uint64_t* q, std::size_t bits, std::size_t words,
                    const std::uint8_t* planes, std::size_t stride, std::size_t n, const SdcKeys& keys,
                    float A, float Q2, float oq, float limit, std::uint64_t* mask, float* keys_out) noexcept {
    sdc_filter_k{}(Arch{}, q, bits, words, planes, stride, n, keys, A, Q2, oq, limit, mask, keys_out);
  };
  k.hamming_filter = [](const std::uint64_t* q, std::size_t words, const std::uint8_t* codes, std::size_t stride,
                        std::size_t n, std::uint32_t limit, std::uint64_t* mask, std::uint32_t* hams_out) noexcept {
    hamming_filter_k{}(Arch{}, q, words, codes, stride, n, limit, mask, hams_out);
  };
#if defined(__AVX2__)
  if constexpr (std::is_same_v<Arch, NibbleArch>) {
    k.planes_to_nibbles = kPlanesToNibbles;
    k.sdc_filter_nibbles = [](const std::uint64_t* q, std::size_t words, const std::uint8_t* digits,
                              std::size_t stride, std::size_t n, const SdcKeys& keys, float A, float Q2, float oq,
                              float limit, std::uint64_t* mask, float* keys_out) noexcept {
      if (words > 32 || n % 8) return ref::kernels().sdc_filter_nibbles(q, words, digits, stride, n, keys, A, Q2, oq,
                                                                        limit, mask, keys_out);
      kFilterNibbles(q, words, digits, stride, n, KeyTail(keys, A, Q2, oq, limit), mask, keys_out);
    };
  }
#endif
#if defined(__AVX2__)
  if constexpr (std::is_same_v<Arch, xsimd::avx2> || std::is_same_v<Arch, xsimd::avx512bw>)
    k.encode_one_bit = &encode_one_bit_avx2;
  // Fast scan for two bits on AVX2 only: there it runs at 1.24x a plain read against 1.86x for
  // plane pairs with nibble-lookup popcounts; with AVX-512's byte popcounts the plane kernel is
  // as fast (1.08-1.11x against 1.10-1.23x, Zen 4) and needs no second copy of the codes.
  if constexpr (std::is_same_v<Arch, xsimd::avx2>) {
    k.planes_to_fastscan2 = [](const std::uint8_t* planes, std::size_t stride, std::size_t words, std::size_t n,
                               std::uint8_t* out) noexcept {
      if (n % 32) return ref::kernels().planes_to_fastscan2(planes, stride, words, n, out);
      planes_to_fastscan2_words(planes, stride, words, n, out);
    };
    k.sdc_filter_fastscan2 = [](const std::uint8_t* lut, std::size_t words, const std::uint8_t* blocks, std::size_t n,
                                const SdcKeys& keys, float A, float Q2, float oq, float limit, std::uint64_t* mask,
                                float* keys_out) noexcept {
      if (words > kFastscan2MaxWords || n % 32)
        return ref::kernels().sdc_filter_fastscan2(lut, words, blocks, n, keys, A, Q2, oq, limit, mask, keys_out);
      filter_fastscan2_avx2(lut, words, blocks, n, KeyTail(keys, A, Q2, oq, limit), mask, keys_out);
    };
  }
#endif
  k.dot_f32 = [](const float* a, const float* b, std::size_t dim) noexcept {
    return dot_f32_k{}(Arch{}, a, b, dim);
  };
  k.l2sq_f32 = [](const float* a, const float* b, std::size_t dim) noexcept {
    return l2sq_f32_k{}(Arch{}, a, b, dim);
  };
  k.dot_f32_many = &dot_f32_many<Arch>;
  k.l2sq_f32_many = &l2sq_f32_many<Arch>;
  return k;
}

}  // namespace
}  // namespace bebr::detail
