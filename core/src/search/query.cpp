// The bound query: a query code's planes, SDC terms and lookup table, made once per query, and
// the limits its filters derive from a distance threshold (bebr/search.hpp).
#include <algorithm>
#include <cmath>
#include <limits>

#include "../kernels/kernels.hpp"
#include "bebr/search.hpp"

namespace bebr {

BoundQuery::BoundQuery(const CodeView& query, Metric metric) : shape_(query.shape), metric_(metric) {
  const CodeStats stats = code_stats(query);
  planes_.resize(query.shape.bits * plane_words(query.shape.dim));
  for (std::size_t i = 0; i < planes_.size(); ++i) planes_[i] = load_u64(query.planes + 8 * i);
  const std::uint32_t K = query.shape.bits;
  scale_ = query.scale;
  offset_ = query.offset;
  digit_sum_ = static_cast<double>(stats.digit_sum);
  norm2_ = sdc_norm2(query, stats);
  hamming_ = metric == Metric::cosine && query.shape.kind == BinarizerKind::raw && K == 1 && query.scale > 0 &&
             query.offset == 0;
  if (K == 2 && kernels().sdc_filter_fastscan2) {
    lut_.resize(16 * 32 * plane_words(query.shape.dim));
    fastscan2_lut(planes_.data(), plane_words(query.shape.dim), lut_.data());
  }
}

SdcTerms BoundQuery::terms() const noexcept {
  const std::uint32_t K = shape_.bits;
  SdcTerms t;
  t.scale = scale_;
  t.offset = offset_;
  t.digit_sum = digit_sum_;
  t.norm2 = norm2_;
  t.c = static_cast<double>((std::int64_t{1} << K) - 1);
  t.m = shape_.dim;
  t.s2 = static_cast<double>(std::int64_t{1} << (2 * (K - 1)));
  t.metric = static_cast<int>(metric_);
  return t;
}

std::uint32_t BoundQuery::hamming_limit(double threshold) const noexcept {
  const double m = shape_.dim, x = threshold * m / 2;
  if (!(x < m)) return static_cast<std::uint32_t>(m);  // +inf, NaN: every code
  return static_cast<std::uint32_t>(std::floor(std::max(0.0, x) + 1e-6));
}

float BoundQuery::key_limit(const KeyBounds& bounds, double threshold) const noexcept {
  constexpr float kNone = std::numeric_limits<float>::infinity();
  if (!std::isfinite(threshold)) return kNone;
  const SdcTerms t = terms();
  double limit;
  switch (metric_) {
    case Metric::ip: limit = threshold + t.offset; break;
    case Metric::cosine:
      if (!(t.norm2 > 0)) return kNone;  // every distance is 1
      limit = (threshold - 1.0) * std::sqrt(t.norm2);
      break;
    case Metric::l2: limit = threshold * threshold - t.norm2 + 2.0 * t.offset; break;
    default: return kNone;
  }
  const double A = t.scale / t.s2, Q2 = t.m * t.c * t.c - 2.0 * t.c * t.digit_sum;
  // Float rounding: a few operations of 2^-24 relative error each on terms no larger than these,
  // plus the rounding of the coefficients and of dot; 1e-5 is over ten times the bound.
  const double dot_max = t.m * t.c * t.c;
  const double scale = std::abs(A) * (bounds.P * (4.0 * dot_max + std::abs(Q2)) + bounds.R) + bounds.S +
                       std::abs(t.offset) * bounds.T + bounds.U + std::abs(limit);
  const double widened = limit + 1e-5 * scale;
  if (!std::isfinite(widened) || std::abs(widened) > 1e30) return kNone;
  return std::nextafter(static_cast<float>(widened), kNone);
}

}  // namespace bebr
