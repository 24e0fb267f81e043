// Distances between codes (SDC, Hamming) and between float vectors.
//
// SDC is exact: the integer digit dot product of two codes comes from plane-pair popcounts, and
// the per-code scalars turn it into the inner product, cosine or L2 of the two reconstructions
// with O(1) work. So sdc_distance(a, b) equals the same metric computed in double on
// decode(a), decode(b), up to float rounding of the decoded values.
//
//   double d = bebr::sdc_distance(a, b, bebr::Metric::cosine);   // 1 - cos of reconstructions
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "bebr/codes.hpp"

namespace bebr {

// Smaller is closer for every metric:
//   cosine: 1 - cos(a, b) (1 when either vector is zero); ip: -<a, b>; l2: |a - b|.
enum class Metric { cosine, ip, l2 };

// 'cosine', 'ip' or 'l2' in any letter case.
std::optional<Metric> parse_metric(std::string_view name) noexcept;
const char* metric_name(Metric m) noexcept;

// Throws Error(mismatch) naming the first difference (dimension, bits, binarizer, model).
void require_same_shape(const CodeShape& a, const CodeShape& b);

// Sum of the digits n_j of a code: sum_k 2^(bits-1-k) popcount(plane k).
std::uint64_t digit_sum(const std::uint8_t* planes, const CodeShape& shape) noexcept;

// Per-code integers the SDC needs besides the pair term: digit sum and squared digit norm.
struct CodeStats {
  std::uint64_t digit_sum = 0;  // N = sum_j n_j
  std::uint64_t self_dot = 0;   // sum_j n_j^2
};
CodeStats code_stats(const CodeView& code);

// The squared norm of a code's reconstruction (for center codes, of the de-centred one).
double sdc_norm2(const CodeView& code, const CodeStats& stats) noexcept;

// The metric of the two reconstructions, from their pair term `dot` = sum_j na_j nb_j.
double sdc_finish(const CodeView& a, const CodeStats& sa, const CodeView& b, const CodeStats& sb, std::uint64_t dot,
                  Metric metric) noexcept;

// Distances of two codes of the same shape (checked).
double sdc_distance(const CodeView& a, const CodeView& b, Metric metric);
std::uint64_t hamming_distance(const CodeView& a, const CodeView& b);

// Exact float distance of two vectors of the same length (checked by the caller), accumulated
// in double: right for every finite input, denormals to FLT_MAX.
double float_distance(std::span<const float> a, std::span<const float> b, Metric metric) noexcept;

}  // namespace bebr
