// The AVX2 intrinsic kernels: 256-bit registers, eight codes a step. The avx2 level uses them
// with the byte popcounts of this file (Avx2Counts: two nibble lookups), the avx512 level with
// vpopcntq/vpopcntb (Avx512Counts, x86_avx512-inl.hpp): a kernel that counts bits takes its
// counts as a template parameter, and the arch TU names the pair in its table, e.g.
//
//   k.sdc_filter = &sdc_filter_avx2<xsimd::avx2, Avx2Counts>;
//
// Shapes a kernel does not take (other word counts, n not a multiple of its group) go to the
// generic body of the same level or to bebr::ref, as each kernel says. Included only by
// arch_avx2.cpp and arch_avx512.cpp; internal linkage throughout (see generic-inl.hpp).
#pragma once

#include <algorithm>

#include <immintrin.h>

#include "generic-inl.hpp"

namespace bebr::detail {
namespace {

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

// The float keys of codes i..i+7 from their dot products (exact integers below 2^24), compared
// with the limit: the generic path's float operations in its order, so keys and masks match.
// With the integer pre-filter (SdcKeys::sums) a group whose e = 4 dot - 2c N are all below emin
// is done after one 16-byte load: no coefficient reads, no float work.
struct KeyTail {
  const SdcKeys& k;
  __m256 a, q2, vq, four, lim;
  __m256i twice_c, below;
  KeyTail(const SdcKeys& keys, float A, float Q2, float oq, float limit) noexcept
      : k(keys),
        a(_mm256_set1_ps(A)),
        q2(_mm256_set1_ps(Q2)),
        vq(_mm256_set1_ps(oq)),
        four(_mm256_set1_ps(4.f)),
        lim(_mm256_set1_ps(limit)),
        twice_c(_mm256_set1_epi32(keys.twice_c)),
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

// The four u64 partial sums of one code's dot with the query, K planes of `blocks` 32-byte blocks
// (code planes at c + 32 blocks l): for each code plane l and block, the query planes combine per
// byte as t = 2 t + popcount(Q_k & C_l) (at most 8 (2^K - 1) <= 120: a byte), summed by vpsadbw;
// planes fold as acc = 2 acc + sum_l. Counts::bytes gives the per-byte popcounts.
template <class Counts, std::size_t K>
inline __m256i plane_sums(const __m256i* q, std::size_t blocks, const std::uint8_t* c) noexcept {
  const __m256i zero = _mm256_setzero_si256();
  __m256i acc = zero;
  for (std::size_t l = 0; l < K; ++l) {
    const std::uint8_t* cl = c + 32 * blocks * l;
    __m256i plane = zero;
    for (std::size_t b = 0; b < blocks; ++b) {
      const __m256i x = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(cl + 32 * b));
      __m256i t = Counts::bytes(_mm256_and_si256(q[b], x));
      for (std::size_t kq = 1; kq < K; ++kq)
        t = _mm256_add_epi8(_mm256_add_epi8(t, t), Counts::bytes(_mm256_and_si256(q[kq * blocks + b], x)));
      plane = _mm256_add_epi64(plane, _mm256_sad_epu8(t, zero));
    }
    acc = _mm256_add_epi64(_mm256_add_epi64(acc, acc), plane);
  }
  return acc;
}

// The avx2 level's counts: per-byte popcounts by two nibble lookups (AVX2 has no vpopcntb).
// dot_sums<K>(q, blocks, c) and xor_sums(q, blocks, c) give four u64 partial sums of one code's
// K-bit dot and of popcount(q XOR c), their totals below 2^32 (blocks <= 31: byte counters).
struct Avx2Counts {
  static __m256i bytes(__m256i v) noexcept {
    const __m256i lut = _mm256_setr_epi8(0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4, 0, 1, 1, 2, 1, 2, 2, 3, 1, 2,
                                         2, 3, 2, 3, 3, 4);
    const __m256i low = _mm256_set1_epi8(0x0f);
    return _mm256_add_epi8(_mm256_shuffle_epi8(lut, _mm256_and_si256(v, low)),
                           _mm256_shuffle_epi8(lut, _mm256_and_si256(_mm256_srli_epi16(v, 4), low)));
  }

  template <std::size_t K>
  static __m256i dot_sums(const __m256i* q, std::size_t blocks, const std::uint8_t* c) noexcept {
    if constexpr (K == 1) {
      const __m256i zero = _mm256_setzero_si256();
      __m256i acc = zero;
      for (std::size_t b = 0; b < blocks; ++b)
        acc = _mm256_add_epi8(
            acc, bytes(_mm256_and_si256(q[b], _mm256_loadu_si256(reinterpret_cast<const __m256i*>(c + 32 * b)))));
      return _mm256_sad_epu8(acc, zero);
    } else {
      return plane_sums<Avx2Counts, K>(q, blocks, c);
    }
  }

  static __m256i xor_sums(const __m256i* q, std::size_t blocks, const std::uint8_t* c) noexcept {
    const __m256i zero = _mm256_setzero_si256();
    __m256i acc = zero;
    for (std::size_t b = 0; b < blocks; ++b) {
      const __m256i x = _mm256_xor_si256(q[b], _mm256_loadu_si256(reinterpret_cast<const __m256i*>(c + 32 * b)));
      acc = _mm256_add_epi8(acc, bytes(x));
    }
    return _mm256_sad_epu8(acc, zero);
  }
};

// The key filter for codes of `blocks` 32-byte blocks, eight codes at a time and in registers
// throughout: per-code sums (Counts::dot_sums) gathered into eight int32 lanes, the float key,
// the comparison as a bit mask. The same float operations in the same order as the generic path
// (dot below 2^24 converts exactly), so the keys and masks are identical.
// Kb, when not 0, is `blocks` known at compile time: the loops unroll and the per-code chains
// interleave. Two-bit codes only: 768-d codes in cache went from 7.9 to 5.2 ns a code. One-bit
// codes unrolled ran 1.5x slower from memory (the scheduler interleaves the eight codes' loads).
template <class Counts, std::size_t K, std::size_t Kb = 0>
inline void filter_avx2(const __m256i* q, std::size_t blocks_rt, const std::uint8_t* planes, std::size_t stride,
                        std::size_t n, const KeyTail& tail, std::uint64_t* mask, float* keys_out) noexcept {
  const std::size_t blocks = Kb ? Kb : blocks_rt;
  const auto sums = [&](const std::uint8_t* c) { return Counts::template dot_sums<K>(q, blocks, c); };
  for (std::size_t w = 0; w < (n + 63) / 64; ++w) mask[w] = 0;
  for (std::size_t i = 0; i < n; i += 8) {
    const std::uint8_t* c = planes + i * stride;
    if constexpr (K > 2) _mm_prefetch(reinterpret_cast<const char*>(c + 8 * stride), _MM_HINT_T0);
    tail(i, gather8(sums, c, stride), mask, keys_out);
  }
}

// filter_avx2 with the block count of 512, 768 and 1024 dimensions fixed at compile time. Out of
// line, where GCC put it when sdc_filter_avx2 held the generic body too: inlined there, the
// avx512 level's 768-d two-bit loop came out with other registers and 16 fewer instructions,
// a loop never measured.
template <class Counts, std::size_t K>
[[gnu::noinline]] inline void filter_blocks(const __m256i* q, std::size_t blocks, const std::uint8_t* planes,
                                            std::size_t stride, std::size_t n, const KeyTail& tail, std::uint64_t* mask,
                                            float* keys_out) noexcept {
  switch (blocks) {
    case 2: return filter_avx2<Counts, K, 2>(q, blocks, planes, stride, n, tail, mask, keys_out);
    case 3: return filter_avx2<Counts, K, 3>(q, blocks, planes, stride, n, tail, mask, keys_out);
    case 4: return filter_avx2<Counts, K, 4>(q, blocks, planes, stride, n, tail, mask, keys_out);
    default: return filter_avx2<Counts, K>(q, blocks, planes, stride, n, tail, mask, keys_out);
  }
}

// Kernels::sdc_filter. Planes of whole 32-byte blocks, up to 4 bits (byte-wise weighted counts)
// and 31 blocks (byte counters): everything in registers; other shapes take the generic body.
template <class Arch, class Counts>
inline void sdc_filter_avx2(const std::uint64_t* q, std::size_t bits, std::size_t words, const std::uint8_t* planes,
                            std::size_t stride, std::size_t n, const SdcKeys& k, float A, float Q2, float oq,
                            float limit, std::uint64_t* mask, float* keys_out) noexcept {
  alignas(32) __m256i qv[4 * 31];
  const std::size_t blocks = words / 4;
  if (bits <= 4 && words % 4 == 0 && blocks <= 31) {
    for (std::size_t kq = 0; kq < bits; ++kq)
      for (std::size_t b = 0; b < blocks; ++b)
        qv[kq * blocks + b] = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(q + kq * words + 4 * b));
    const KeyTail tail(k, A, Q2, oq, limit);
    switch (bits) {
      case 1: filter_avx2<Counts, 1>(qv, blocks, planes, stride, n, tail, mask, keys_out); return;
      case 2: filter_blocks<Counts, 2>(qv, blocks, planes, stride, n, tail, mask, keys_out); return;
      case 3: filter_avx2<Counts, 3>(qv, blocks, planes, stride, n, tail, mask, keys_out); return;
      default: filter_avx2<Counts, 4>(qv, blocks, planes, stride, n, tail, mask, keys_out); return;
    }
  }
  sdc_filter_generic<Arch>(q, bits, words, planes, stride, n, k, A, Q2, oq, limit, mask, keys_out);
}

// The Hamming filter for codes of `blocks` 32-byte blocks (at most 31), eight codes at a time in
// registers: XOR, the counts of Counts::xor_sums, one u32 lane per code.
template <class Counts>
inline void hamming_filter_regs(const __m256i* q, std::size_t blocks, const std::uint8_t* codes, std::size_t stride,
                                std::size_t n, std::uint32_t limit, std::uint64_t* mask,
                                std::uint32_t* hams_out) noexcept {
  const __m256i lim = _mm256_set1_epi32(static_cast<int>(std::min<std::uint32_t>(limit, 0x7fffffff)));
  const auto sums = [&](const std::uint8_t* c) { return Counts::xor_sums(q, blocks, c); };
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

// Kernels::hamming_filter: whole 32-byte blocks (at most 31) and n a multiple of 8 in registers,
// other shapes by the generic body.
template <class Counts>
inline void hamming_filter_avx2(const std::uint64_t* q, std::size_t words, const std::uint8_t* codes,
                                std::size_t stride, std::size_t n, std::uint32_t limit, std::uint64_t* mask,
                                std::uint32_t* hams_out) noexcept {
  const std::size_t blocks = words / 4;
  if (words % 4 == 0 && blocks <= 31 && n % 8 == 0) {
    alignas(32) __m256i qv[31];
    for (std::size_t b = 0; b < blocks; ++b) qv[b] = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(q + 4 * b));
    hamming_filter_regs<Counts>(qv, blocks, codes, stride, n, limit, mask, hams_out);
    return;
  }
  hamming_filter_generic(q, words, codes, stride, n, limit, mask, hams_out);
}

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
inline void planes_to_fastscan2_words(const std::uint8_t* planes, std::size_t stride, std::size_t words, std::size_t n,
                                      std::uint8_t* out) noexcept {
  alignas(16) std::uint8_t z[16][32];  // z[t][c]: byte t of code c's nibbles
  for (std::size_t block = 0; block < n / 32; ++block) {
    std::uint8_t* o = out + 512 * words * block;
    for (std::size_t w = 0; w < words; ++w) {
      for (std::size_t c = 0; c < 32; ++c) {
        const std::uint8_t* p = planes + (32 * block + c) * stride;
        const std::uint64_t p0 = load_word(p + 8 * w), p1 = load_word(p + 8 * (words + w));
        const std::uint64_t lo = spread_bits(p1) | spread_bits(p0) << 1,
                            hi = spread_bits(p1 >> 32) | spread_bits(p0 >> 32) << 1;
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

// Kernels::planes_to_fastscan2: whole blocks of 32 codes a word at a time, other counts by ref.
inline void planes_to_fastscan2_avx2(const std::uint8_t* planes, std::size_t stride, std::size_t words, std::size_t n,
                                     std::uint8_t* out) noexcept {
  if (n % 32) return ref::kernels().planes_to_fastscan2(planes, stride, words, n, out);
  planes_to_fastscan2_words(planes, stride, words, n, out);
}

// The fast-scan filter of two-bit codes: per block of 32 codes, each 32-byte load holds two
// dimension pairs of all 32 codes; vpshufb looks the low and the high nibbles up in the two
// pairs' tables (one per 128-bit lane), byte sums run for 14 loads (at most 14 x 18 = 252),
// then widen into 16-bit sums of 16 codes each.
inline void filter_fastscan2_blocks(const std::uint8_t* lut, std::size_t words, const std::uint8_t* blocks,
                                    std::size_t n, const KeyTail& tail, std::uint64_t* mask, float* keys_out) noexcept {
  const std::size_t pairs = 32 * words;
  const __m256i low = _mm256_set1_epi8(15);
  const auto widen = [](__m256i a8) {
    return _mm256_add_epi16(_mm256_cvtepu8_epi16(_mm256_castsi256_si128(a8)),
                            _mm256_cvtepu8_epi16(_mm256_extracti128_si256(a8, 1)));
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

// Kernels::sdc_filter_fastscan2: whole blocks and words <= kFastscan2MaxWords (16-bit sums), other
// shapes by ref.
inline void sdc_filter_fastscan2_avx2(const std::uint8_t* lut, std::size_t words, const std::uint8_t* blocks,
                                      std::size_t n, const SdcKeys& keys, float A, float Q2, float oq, float limit,
                                      std::uint64_t* mask, float* keys_out) noexcept {
  if (words > kFastscan2MaxWords || n % 32)
    return ref::kernels().sdc_filter_fastscan2(lut, words, blocks, n, keys, A, Q2, oq, limit, mask, keys_out);
  filter_fastscan2_blocks(lut, words, blocks, n, KeyTail(keys, A, Q2, oq, limit), mask, keys_out);
}

// 32 bits as 32 bytes: byte b is `weight` where bit b of x is set, else 0.
inline __m256i bits_to_bytes(std::uint32_t x, std::int8_t weight) noexcept {
  const __m256i spread = _mm256_shuffle_epi8(
      _mm256_set1_epi32(static_cast<int>(x)),
      _mm256_setr_epi8(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3));
  const __m256i bit = _mm256_set1_epi64x(static_cast<long long>(0x8040201008040201ull));
  return _mm256_and_si256(_mm256_cmpeq_epi8(_mm256_and_si256(spread, bit), bit), _mm256_set1_epi8(weight));
}

// The digits of dimensions 64 w + h * 32 .. + 31 of 4-plane codes (plane 0 weighs 8) as bytes.
inline __m256i digit_bytes_avx2(const std::uint8_t* planes, std::size_t words, std::size_t w, std::size_t h) noexcept {
  __m256i d = _mm256_setzero_si256();
  for (std::size_t l = 0; l < 4; ++l)
    d = _mm256_or_si256(d,
                        bits_to_bytes(static_cast<std::uint32_t>(load_word(planes + 8 * (l * words + w)) >> (32 * h)),
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

// Kernels::sdc_filter_nibbles: words <= 32 (the query's registers, int16 sums) and n a multiple
// of 8, other shapes by ref.
inline void sdc_filter_nibbles_avx2(const std::uint64_t* q, std::size_t words, const std::uint8_t* digits,
                                    std::size_t stride, std::size_t n, const SdcKeys& keys, float A, float Q2, float oq,
                                    float limit, std::uint64_t* mask, float* keys_out) noexcept {
  if (words > 32 || n % 8)
    return ref::kernels().sdc_filter_nibbles(q, words, digits, stride, n, keys, A, Q2, oq, limit, mask, keys_out);
  filter_nibbles_avx2(q, words, digits, stride, n, KeyTail(keys, A, Q2, oq, limit), mask, keys_out);
}

// Kernels::encode_one_bit.
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

}  // namespace
}  // namespace bebr::detail
