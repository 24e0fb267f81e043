// bebr::ref: the oracles, one for every slot of the kernel table. Plain loops, a bit-by-bit
// popcount, double accumulators: written to be obviously right rather than fast. Tests compare
// every compiled level against these (tests/core/test_kernels.cpp, test_kernel_filters.cpp).
#include <cmath>
#include <cstring>

#include "kernels.hpp"

namespace bebr::ref {
namespace {

std::uint64_t word_at(const std::uint8_t* p) noexcept {
  std::uint64_t w = 0;
  for (int b = 7; b >= 0; --b) w = (w << 8) | p[b];  // explicit little-endian
  return w;
}

unsigned bit_count(std::uint64_t w) noexcept {
  unsigned n = 0;
  for (int b = 0; b < 64; ++b) n += (w >> b) & 1u;
  return n;
}

void hamming_many(const std::uint64_t* q, const std::uint8_t* codes, std::size_t stride, std::size_t words,
                  std::size_t n, std::uint32_t* out) noexcept {
  for (std::size_t i = 0; i < n; ++i) {
    std::uint64_t d = 0;
    for (std::size_t w = 0; w < words; ++w) d += bit_count(q[w] ^ word_at(codes + i * stride + 8 * w));
    out[i] = static_cast<std::uint32_t>(d);
  }
}

// Digit by digit: sum_j nq_j * nc_j, with the digits read back from the planes.
void sdc_dot_many(const std::uint64_t* q, const std::uint8_t* codes, std::size_t stride, std::size_t bits,
                  std::size_t words, std::size_t n, std::uint64_t* out) noexcept {
  for (std::size_t i = 0; i < n; ++i) {
    const std::uint8_t* c = codes + i * stride;
    std::uint64_t s = 0;
    for (std::size_t j = 0; j < words * 64; ++j) {
      std::uint64_t nq = 0, nc = 0;
      for (std::size_t k = 0; k < bits; ++k) {
        nq = 2 * nq + ((q[k * words + j / 64] >> (j % 64)) & 1u);
        nc = 2 * nc + ((word_at(c + 8 * (k * words + j / 64)) >> (j % 64)) & 1u);
      }
      s += nq * nc;
    }
    out[i] = s;
  }
}

// One code at a time, sdc_finish's arithmetic written out with the digit-by-digit dot.
void sdc_scan(const std::uint64_t* q, const SdcTerms& t, const std::uint8_t* planes, std::size_t stride,
              std::size_t bits, std::size_t words, const float* scale, const float* offset,
              const std::uint32_t* digit_sum, const std::uint32_t* self_dot, std::size_t n, double* out) noexcept {
  for (std::size_t i = 0; i < n; ++i) {
    std::uint64_t dot = 0;
    sdc_dot_many(q, planes + i * stride, 0, bits, words, 1, &dot);
    const double tab = (4.0 * static_cast<double>(dot) - 2.0 * t.c * (t.digit_sum + digit_sum[i])) + t.m * t.c * t.c;
    const double ip = t.scale * double{scale[i]} * tab / t.s2 + (t.offset + double{offset[i]});
    if (t.metric == 1) {
      out[i] = -ip;
      continue;
    }
    const double tbb = (4.0 * self_dot[i] - 2.0 * t.c * (double(digit_sum[i]) + digit_sum[i])) + t.m * t.c * t.c;
    const double nb = double{scale[i]} * double{scale[i]} * tbb / t.s2 + 2.0 * double{offset[i]};
    if (t.metric == 2) {
      const double x = t.norm2 + nb - 2.0 * ip;
      out[i] = __builtin_sqrt(x > 0 ? x : 0.0);
    } else {
      out[i] = (!(t.norm2 > 0) || !(nb > 0)) ? 1.0 : 1.0 - ip / __builtin_sqrt(t.norm2 * nb);
    }
  }
}

// Code i's key from its dot product, and its bit when the key is within the limit.
void key_of(const SdcKeys& k, std::size_t i, std::uint64_t dot, float A, float Q2, float oq, float limit,
            std::uint64_t* mask, float* keys_out) noexcept {
  float key = A * (k.P[i] * (4.f * static_cast<float>(dot) + Q2) + k.R[i]);
  if (k.S) key = key + k.S[i];
  if (k.T) key = key + oq * k.T[i];
  key = -key;
  if (k.U) key = key + k.U[i];
  keys_out[i] = key;
  if (key <= limit) mask[i / 64] |= std::uint64_t{1} << (i % 64);
}

void sdc_filter(const std::uint64_t* q, std::size_t bits, std::size_t words, const std::uint8_t* planes,
                std::size_t stride, std::size_t n, const SdcKeys& k, float A, float Q2, float oq, float limit,
                std::uint64_t* mask, float* keys_out) noexcept {
  for (std::size_t w = 0; w < (n + 63) / 64; ++w) mask[w] = 0;
  for (std::size_t i = 0; i < n; ++i) {
    std::uint64_t dot = 0;
    sdc_dot_many(q, planes + i * stride, 0, bits, words, 1, &dot);
    key_of(k, i, dot, A, Q2, oq, limit, mask, keys_out);
  }
}

void hamming_filter(const std::uint64_t* q, std::size_t words, const std::uint8_t* codes, std::size_t stride,
                    std::size_t n, std::uint32_t limit, std::uint64_t* mask, std::uint32_t* hams_out) noexcept {
  for (std::size_t w = 0; w < (n + 63) / 64; ++w) mask[w] = 0;
  for (std::size_t i = 0; i < n; ++i) {
    std::uint32_t h = 0;
    hamming_many(q, codes + i * stride, 0, words, 1, &h);
    hams_out[i] = h;
    if (h <= limit) mask[i / 64] |= std::uint64_t{1} << (i % 64);
  }
}

unsigned digit_of(const std::uint8_t* planes, std::size_t words, std::size_t j, std::size_t bits = 4) noexcept {
  unsigned d = 0;
  for (std::size_t l = 0; l < bits; ++l) d = 2 * d + ((planes[8 * (l * words) + j / 8] >> (j % 8)) & 1);
  return d;
}

void planes_to_fastscan2(const std::uint8_t* planes, std::size_t stride, std::size_t words, std::size_t n,
                         std::uint8_t* out) noexcept {
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t g = 0; g < 32 * words; ++g) {
      const unsigned nib =
          digit_of(planes + i * stride, words, 2 * g, 2) | digit_of(planes + i * stride, words, 2 * g + 1, 2) << 2;
      std::uint8_t& byte = out[512 * words * (i / 32) + 16 * g + i % 16];
      byte = static_cast<std::uint8_t>(i % 32 < 16 ? (byte & 0xf0) | nib : (byte & 0x0f) | nib << 4);
    }
}

void sdc_filter_fastscan2(const std::uint8_t* lut, std::size_t words, const std::uint8_t* blocks, std::size_t n,
                          const SdcKeys& k, float A, float Q2, float oq, float limit, std::uint64_t* mask,
                          float* keys_out) noexcept {
  for (std::size_t w = 0; w < (n + 63) / 64; ++w) mask[w] = 0;
  for (std::size_t i = 0; i < n; ++i) {
    std::uint64_t dot = 0;
    for (std::size_t g = 0; g < 32 * words; ++g) {
      const std::uint8_t byte = blocks[512 * words * (i / 32) + 16 * g + i % 16];
      dot += lut[16 * g + (i % 32 < 16 ? byte & 15u : byte >> 4)];
    }
    key_of(k, i, dot, A, Q2, oq, limit, mask, keys_out);
  }
}

void planes_to_nibbles(const std::uint8_t* planes, std::size_t stride, std::size_t words, std::size_t n,
                       std::uint8_t* out, std::size_t out_stride) noexcept {
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t w = 0; w < words; ++w)
      for (std::size_t b = 0; b < 32; ++b)
        out[i * out_stride + 32 * w + b] =
            static_cast<std::uint8_t>(digit_of(planes + i * stride, words, 64 * w + b) |
                                      digit_of(planes + i * stride, words, 64 * w + 32 + b) << 4);
}

void sdc_filter_nibbles(const std::uint64_t* q, std::size_t words, const std::uint8_t* digits, std::size_t stride,
                        std::size_t n, const SdcKeys& k, float A, float Q2, float oq, float limit, std::uint64_t* mask,
                        float* keys_out) noexcept {
  for (std::size_t w = 0; w < (n + 63) / 64; ++w) mask[w] = 0;
  const auto* qb = reinterpret_cast<const std::uint8_t*>(q);  // little-endian words
  for (std::size_t i = 0; i < n; ++i) {
    std::uint64_t dot = 0;
    for (std::size_t j = 0; j < 64 * words; ++j) {
      const std::uint8_t byte = digits[i * stride + 32 * (j / 64) + j % 32];
      const unsigned nc = j % 64 < 32 ? byte & 15u : byte >> 4;
      dot += digit_of(qb, words, j) * nc;
    }
    key_of(k, i, dot, A, Q2, oq, limit, mask, keys_out);
  }
}

// One float at a time into cleared words and sums: bit j of the planes is r_j >= 0, and
// part[j % 4] gathers |r_j| in order of j.
void encode_one_bit(const float* x, const float* mean, std::size_t m, std::uint64_t* words, double* part) noexcept {
  for (std::size_t w = 0; w < (m + 63) / 64; ++w) words[w] = 0;
  for (int i = 0; i < 4; ++i) part[i] = 0;
  for (std::size_t j = 0; j < m; ++j) {
    const double r = double{x[j]} - (mean ? double{mean[j]} : 0.0);
    part[j % 4] += std::fabs(r);
    if (r >= 0) words[j / 64] |= std::uint64_t{1} << (j % 64);
  }
}

float dot_f32(const float* a, const float* b, std::size_t dim) noexcept {
  double s = 0;
  for (std::size_t i = 0; i < dim; ++i) s += double{a[i]} * double{b[i]};
  return static_cast<float>(s);
}

float l2sq_f32(const float* a, const float* b, std::size_t dim) noexcept {
  double s = 0;
  for (std::size_t i = 0; i < dim; ++i) {
    const double d = double{a[i]} - double{b[i]};
    s += d * d;
  }
  return static_cast<float>(s);
}

void dot_f32_many(const float* q, const float* x, std::size_t dim, std::size_t n, float* out) noexcept {
  for (std::size_t i = 0; i < n; ++i) out[i] = dot_f32(q, x + i * dim, dim);
}

void l2sq_f32_many(const float* q, const float* x, std::size_t dim, std::size_t n, float* out) noexcept {
  for (std::size_t i = 0; i < n; ++i) out[i] = l2sq_f32(q, x + i * dim, dim);
}

constexpr Kernels kTable{
    .name = "ref",
    .hamming_many = &hamming_many,
    .sdc_dot_many = &sdc_dot_many,
    .sdc_scan = &sdc_scan,
    .sdc_filter = &sdc_filter,
    .hamming_filter = &hamming_filter,
    .planes_to_nibbles = &planes_to_nibbles,
    .sdc_filter_nibbles = &sdc_filter_nibbles,
    .planes_to_fastscan2 = &planes_to_fastscan2,
    .sdc_filter_fastscan2 = &sdc_filter_fastscan2,
    .encode_one_bit = &encode_one_bit,
    .dot_f32 = &dot_f32,
    .l2sq_f32 = &l2sq_f32,
    .dot_f32_many = &dot_f32_many,
    .l2sq_f32_many = &l2sq_f32_many,
};

}  // namespace

const Kernels& kernels() noexcept { return kTable; }

}  // namespace bebr::ref

namespace bebr {

void fastscan2_store(const std::uint8_t* planes, std::size_t words, std::uint8_t* block, std::size_t b) noexcept {
  const auto bit = [&](std::size_t plane, std::size_t j) {
    return (planes[8 * plane * words + j / 8] >> (j % 8)) & 1u;
  };
  const unsigned shift = b < 16 ? 0 : 4;
  for (std::size_t g = 0; g < 32 * words; ++g) {
    const unsigned nib = (2 * bit(0, 2 * g) + bit(1, 2 * g)) | (2 * bit(0, 2 * g + 1) + bit(1, 2 * g + 1)) << 2;
    std::uint8_t& byte = block[16 * g + b % 16];
    byte = static_cast<std::uint8_t>((byte & (0xf0u >> shift)) | nib << shift);
  }
}

void fastscan2_lut(const std::uint64_t* q, std::size_t words, std::uint8_t* lut) noexcept {
  const auto digit = [&](std::size_t j) {
    return static_cast<unsigned>(2 * ((q[j / 64] >> (j % 64)) & 1) + ((q[words + j / 64] >> (j % 64)) & 1));
  };
  for (std::size_t g = 0; g < 32 * words; ++g) {
    const unsigned a = digit(2 * g), b = digit(2 * g + 1);
    for (unsigned e = 0; e < 16; ++e) lut[16 * g + e] = static_cast<std::uint8_t>(a * (e & 3) + b * (e >> 2));
  }
}

}  // namespace bebr
