// Kernel bodies, templated on the xsimd architecture tag. Included only by arch_<tag>.cpp,
// which is compiled with that architecture's flags; nothing else sees these definitions.
#pragma once

#include <cstring>

#include <xsimd/xsimd.hpp>

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

struct sdc_dot_many_k {
  template <class Arch>
  void operator()(Arch, const std::uint64_t* q, const std::uint8_t* codes, std::size_t stride,
                  std::size_t bits, std::size_t words, std::size_t n,
                  std::uint64_t* out) const noexcept {
    if (bits == 1) {
      for (std::size_t i = 0; i < n; ++i) {
        const std::uint8_t* c = codes + i * stride;
        std::uint64_t s = 0;
        for (std::size_t w = 0; w < words; ++w) s += popcount64(q[w] & load_word(c + 8 * w));
        out[i] = s;
      }
      return;
    }
    for (std::size_t i = 0; i < n; ++i) {
      const std::uint8_t* c = codes + i * stride;
      std::uint64_t s = 0;
      for (std::size_t l = 0; l < bits; ++l) {
        const std::uint8_t* cl = c + 8 * l * words;
        for (std::size_t k = 0; k < bits; ++k) {
          const std::uint64_t* qk = q + k * words;
          std::uint64_t pc = 0;
          for (std::size_t w = 0; w < words; ++w) pc += popcount64(qk[w] & load_word(cl + 8 * w));
          s += pc << ((bits - 1 - k) + (bits - 1 - l));
        }
      }
      out[i] = s;
    }
  }
};

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
