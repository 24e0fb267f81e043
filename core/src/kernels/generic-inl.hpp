// The portable kernel bodies: scalar loops over 64-bit words (__builtin_popcountll is one popcnt
// where the TU has -mpopcnt) and float/double loops templated on the xsimd architecture tag.
// Every level's table uses some of them; the sse2, sse4_2 and neon64 levels use nothing else.
// Included only by arch_<tag>.cpp (and the other -inl.hpp files), each compiled with its
// architecture's flags; an arch TU names in its table the bodies its slots get, e.g.
//
//   k.sdc_scan = &sdc_scan_generic<xsimd::sse4_2>;
//
// Everything here has internal linkage: each arch TU gets its own copies, so the linker can
// never merge a body compiled for one instruction set into another's table.
#pragma once

#include <cmath>
#include <cstring>

#include <xsimd/xsimd.hpp>

#include "kernels.hpp"

namespace bebr::detail {
namespace {

inline unsigned popcount64(std::uint64_t w) noexcept { return static_cast<unsigned>(__builtin_popcountll(w)); }

inline std::uint64_t load_word(const std::uint8_t* p) noexcept {
  std::uint64_t w;
  std::memcpy(&w, p, 8);  // the format is little-endian; so are all hosts we build for
  return w;
}

// Kernels::hamming_many.
inline void hamming_many_generic(const std::uint64_t* q, const std::uint8_t* codes, std::size_t stride,
                                 std::size_t words, std::size_t n, std::uint32_t* out) noexcept {
  for (std::size_t i = 0; i < n; ++i) {
    const std::uint8_t* c = codes + i * stride;
    std::uint64_t d = 0;
    for (std::size_t w = 0; w < words; ++w) d += popcount64(q[w] ^ load_word(c + 8 * w));
    out[i] = static_cast<std::uint32_t>(d);
  }
}

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

// Kernels::hamming_filter by hamming_many_generic, 64 codes at a time.
inline void hamming_filter_generic(const std::uint64_t* q, std::size_t words, const std::uint8_t* codes,
                                   std::size_t stride, std::size_t n, std::uint32_t limit, std::uint64_t* mask,
                                   std::uint32_t* hams_out) noexcept {
  for (std::size_t w = 0; w < (n + 63) / 64; ++w) mask[w] = 0;
  for (std::size_t i = 0; i < n; i += 64) {
    const std::size_t m = n - i < 64 ? n - i : 64;
    std::uint32_t h[64];
    hamming_many_generic(q, codes + i * stride, stride, words, m, h);
    std::uint64_t bits = 0;
    for (std::size_t j = 0; j < m; ++j)
      if (h[j] <= limit) {
        hams_out[i + j] = h[j];
        bits |= std::uint64_t{1} << j;
      }
    mask[i / 64] = bits;
  }
}

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

// Kernels::sdc_dot_many.
inline void sdc_dot_many_generic(const std::uint64_t* q, const std::uint8_t* codes, std::size_t stride,
                                 std::size_t bits, std::size_t words, std::size_t n, std::uint64_t* out) noexcept {
  for (std::size_t i = 0; i < n; ++i) out[i] = sdc_dot_one(q, codes + i * stride, bits, words);
}

// Kernels::sdc_scan: the integer dot products of a batch of codes, then sdc_finish's double
// arithmetic on whole batches (its operations, in its order: the results are identical). T-terms
// are integers below 2^53, so they are exact in double as they are in sdc_finish's int64.
template <class Arch>
inline void sdc_scan_generic(const std::uint64_t* q, const SdcTerms& t, const std::uint8_t* planes, std::size_t stride,
                             std::size_t bits, std::size_t words, const float* scale, const float* offset,
                             const std::uint32_t* digit_sum, const std::uint32_t* self_dot, std::size_t n,
                             double* out) noexcept {
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
    const B ip = ((sq * vs) * tab) / s2 + (oq + vo);
    B d;
    if (t.metric == 1) {
      d = xsimd::bitwise_xor(ip,
                             B(-0.0));  // -ip with its sign bit flipped: -0 for 0 (xsimd 8.1 avx512 negates as 0 - x)
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

// The integer pre-filter of SdcKeys on the eight codes i..i+7 whose dots (exact integers below
// 2^24) are dot[0..7]: true when some e = 4 dot - twice_c N reaches k.emin, counted in k.passed.
// int32 batches, as the avx2 level's KeyTail (4 dot < 2^26, twice_c N <= 30 * 65535).
template <class Arch>
inline bool group_reaches_floor(const float* dot, const SdcKeys& k, std::size_t i) noexcept {
  using F = xsimd::batch<float, Arch>;
  using I = xsimd::batch<std::int32_t, Arch>;
  constexpr std::size_t L = I::size;
  static_assert(8 % L == 0 && F::size == L);
  alignas(64) std::int32_t sums[8];
  for (std::size_t j = 0; j < 8; ++j) sums[j] = k.sums[i + j];
  const I four(4), twice_c(k.twice_c), emin(k.emin);
  auto reach = xsimd::batch_bool<std::int32_t, Arch>(false);
  for (std::size_t j = 0; j < 8; j += L)
    reach = reach | (four * xsimd::to_int(F::load_aligned(dot + j)) - twice_c * I::load_aligned(sums + j) >= emin);
  if (!xsimd::any(reach)) return false;
  if (k.passed) ++*k.passed;
  return true;
}

// Kernels::sdc_filter, B::size codes at a time: their dots by sdc_dot_one into a float array,
// then the key in float batches. With Prefilter (the neon64 level), and SdcKeys::sums given, the
// codes go in groups of eight, and a group none of whose e reaches emin gets no float key (mask
// bits clear, keys unspecified), as on the avx2 level.
template <class Arch, bool Prefilter = false>
inline void sdc_filter_generic(const std::uint64_t* q, std::size_t bits, std::size_t words, const std::uint8_t* planes,
                               std::size_t stride, std::size_t n, const SdcKeys& k, float A, float Q2, float oq,
                               float limit, std::uint64_t* mask, float* keys_out) noexcept {
  using B = xsimd::batch<float, Arch>;
  constexpr std::size_t L = B::size;             // divides 64
  constexpr std::size_t G = Prefilter ? 8 : L;   // codes a step: the pre-filter's groups of eight
  static_assert(G % L == 0);
  alignas(64) float dot[G], keep[L];
  for (std::size_t w = 0; w < (n + 63) / 64; ++w) mask[w] = 0;
  const B a(A), q2(Q2), vq(oq), four(4.f), lim(limit), one(1.f), zero(0.f);
  // The dots of codes i..i+L-1 into d; one-bit codes of the common widths get an unrolled popcount.
  const auto fill = [&](std::size_t i, float* d) {
    const std::uint8_t* c = planes + i * stride;
#define BEBR_FIXED(W)                                                                                        \
  case W:                                                                                                    \
    for (std::size_t j = 0; j < L; ++j) d[j] = static_cast<float>(and_popcount_fixed<W>(q, c + j * stride)); \
    return;
    if (bits == 1) switch (words) {
        BEBR_FIXED(2)
        BEBR_FIXED(4)
        BEBR_FIXED(6) BEBR_FIXED(8) BEBR_FIXED(12) BEBR_FIXED(16) BEBR_FIXED(24) BEBR_FIXED(32) default : break;
      }
#undef BEBR_FIXED
    for (std::size_t j = 0; j < L; ++j) d[j] = static_cast<float>(sdc_dot_one(q, c + j * stride, bits, words));
  };
  for (std::size_t g = 0; g < n; g += G) {
    for (std::size_t j = 0; j < G; j += L) fill(g + j, dot + j);
    if constexpr (Prefilter)
      if (k.sums && !group_reaches_floor<Arch>(dot, k, g)) continue;
    for (std::size_t j = 0; j < G; j += L) {
      const std::size_t i = g + j;
      B key = a * (B::load_unaligned(k.P + i) * (four * B::load_aligned(dot + j) + q2) + B::load_unaligned(k.R + i));
      if (k.S) key = key + B::load_unaligned(k.S + i);
      if (k.T) key = key + vq * B::load_unaligned(k.T + i);
      key = -key;
      if (k.U) key = key + B::load_unaligned(k.U + i);
      key.store_unaligned(keys_out + i);
      xsimd::select(key <= lim, one, zero).store_aligned(keep);
      std::uint64_t bitsw = 0;
      for (std::size_t l = 0; l < L; ++l) bitsw |= static_cast<std::uint64_t>(keep[l] != 0.f) << l;
      mask[i / 64] |= bitsw << (i % 64);
    }
  }
}

// Kernels::encode_one_bit, one float at a time: the sums in the documented order by
// construction.
inline void encode_one_bit_generic(const float* x, const float* mean, std::size_t m, std::uint64_t* words,
                                   double* part) noexcept {
  double lanes[4] = {0, 0, 0, 0};
  std::uint64_t word = 0;
  for (std::size_t j = 0; j < m; ++j) {
    const double r = double{x[j]} - (mean ? double{mean[j]} : 0.0);
    lanes[j % 4] += std::fabs(r);
    word |= std::uint64_t{r >= 0} << (j % 64);  // sign(0) := +1
    if (j % 64 == 63 || j + 1 == m) {
      words[j / 64] = word;
      word = 0;
    }
  }
  for (int i = 0; i < 4; ++i) part[i] = lanes[i];
}

// Float reductions: four independent batch accumulators hide the add latency.
template <class Arch>
inline float dot_f32_generic(const float* a, const float* b, std::size_t dim) noexcept {
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

template <class Arch>
inline float l2sq_f32_generic(const float* a, const float* b, std::size_t dim) noexcept {
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

template <class Arch>
inline void dot_f32_many_generic(const float* q, const float* x, std::size_t dim, std::size_t n, float* out) noexcept {
  for (std::size_t i = 0; i < n; ++i) out[i] = dot_f32_generic<Arch>(q, x + i * dim, dim);
}

template <class Arch>
inline void l2sq_f32_many_generic(const float* q, const float* x, std::size_t dim, std::size_t n, float* out) noexcept {
  for (std::size_t i = 0; i < n; ++i) out[i] = l2sq_f32_generic<Arch>(q, x + i * dim, dim);
}

// The table of a level that runs only these portable bodies (sse2, sse4_2, neon64): its nibble
// and fast-scan slots are null, so callers keep the plane layout. The AVX2 levels start from it
// and replace the kernels they have.
template <class Arch>
constexpr Kernels generic_table(const char* name) noexcept {
  return Kernels{
      .name = name,
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
}

}  // namespace
}  // namespace bebr::detail
