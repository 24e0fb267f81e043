// SDC, Hamming and exact float distances (the algebra is derived in docs/bebr.md).
#include "bebr/distance.hpp"

#include <algorithm>
#include <cmath>
#include <vector>

#include "bebr/error.hpp"
#include "kernels/kernels.hpp"

namespace bebr {

std::optional<Metric> parse_metric(std::string_view name) noexcept {
  // Case-insensitive, as SQL keywords are: 'L2' and 'Cosine' name the same metrics.
  const auto is = [&](std::string_view want) {
    if (name.size() != want.size()) return false;
    for (std::size_t i = 0; i < want.size(); ++i) {
      const char c = name[i] >= 'A' && name[i] <= 'Z' ? static_cast<char>(name[i] - 'A' + 'a') : name[i];
      if (c != want[i]) return false;
    }
    return true;
  };
  if (is("cosine")) return Metric::cosine;
  if (is("ip")) return Metric::ip;
  if (is("l2")) return Metric::l2;
  return std::nullopt;
}

const char* metric_name(Metric m) noexcept {
  switch (m) {
    case Metric::cosine: return "cosine";
    case Metric::ip: return "ip";
    case Metric::l2: return "l2";
  }
  return "unknown";
}

void require_same_shape(const CodeShape& a, const CodeShape& b) {
  const auto fail = [](const std::string& what, const std::string& x, const std::string& y) {
    throw Error(Errc::mismatch, "codes differ in " + what + "; first has " + x + ", second has " + y);
  };
  if (a.dim != b.dim) fail("dimension", std::to_string(a.dim), std::to_string(b.dim));
  if (a.bits != b.bits) fail("bits", std::to_string(a.bits), std::to_string(b.bits));
  if (a.kind != b.kind) fail("binarizer", kind_name(a.kind), kind_name(b.kind));
  if (a.model_id != b.model_id)
    fail("model (they come from different trained models)", "model id " + std::to_string(a.model_id),
         "model id " + std::to_string(b.model_id));
}

std::uint64_t digit_sum(const std::uint8_t* planes, const CodeShape& shape) noexcept {
  const std::size_t words = plane_words(shape.dim);
  std::uint64_t n = 0;
  for (std::uint32_t k = 0; k < shape.bits; ++k) {
    std::uint64_t pc = 0;
    for (std::size_t w = 0; w < words; ++w)
      pc += static_cast<std::uint64_t>(__builtin_popcountll(load_u64(planes + 8 * (k * words + w))));
    n += pc << (shape.bits - 1 - k);
  }
  return n;
}

namespace {
// The planes of a code as aligned words: the query side of the kernels.
std::vector<std::uint64_t> plane_words_of(const CodeView& c) {
  std::vector<std::uint64_t> w(c.shape.bits * plane_words(c.shape.dim));
  for (std::size_t i = 0; i < w.size(); ++i) w[i] = load_u64(c.planes + 8 * i);
  return w;
}
}  // namespace

CodeStats code_stats(const CodeView& code) {
  CodeStats s;
  s.digit_sum = digit_sum(code.planes, code.shape);
  const std::vector<std::uint64_t> q = plane_words_of(code);
  kernels().sdc_dot_many(q.data(), code.planes, 0, code.shape.bits, plane_words(code.shape.dim), 1, &s.self_dot);
  return s;
}

// With c = 2^K - 1 and u_j = (2 n_j - c) / 2^(K-1), v = scale * u (+ mean):
//   sum_j (2na_j - c)(2nb_j - c) = 4 dot - 2c (Na + Nb) + m c^2             (exact integers)
//   <va, vb> = scale_a scale_b T_ab / 4^(K-1);  <va + mu, vb + mu> = <va, vb> + off_a + off_b
// where off = <v, mu> + |mu|^2 / 2 is stored per code (0 for raw).
// The offsets are summed before they are added, so that a code's ip with itself rounds exactly as
// its norm (off + off == 2 off) and its l2 distance to itself is 0 at every scale.
// Kernels::sdc_scan repeats this arithmetic operation for operation (kernels-inl.hpp, ref.cpp):
// change them together. Tests check they agree bit for bit.
double sdc_norm2(const CodeView& a, const CodeStats& sa) noexcept {
  const std::uint32_t K = a.shape.bits;
  const std::int64_t m = a.shape.dim, c = (std::int64_t{1} << K) - 1;
  const double s2 = double(std::int64_t{1} << (2 * (K - 1)));
  const std::int64_t t =
      4 * static_cast<std::int64_t>(sa.self_dot) - 2 * c * static_cast<std::int64_t>(2 * sa.digit_sum) + m * c * c;
  return double{a.scale} * double{a.scale} * double(t) / s2 + 2.0 * double{a.offset};
}

double sdc_finish(const CodeView& a, const CodeStats& sa, const CodeView& b, const CodeStats& sb, std::uint64_t dot,
                  Metric metric) noexcept {
  const std::uint32_t K = a.shape.bits;
  const std::int64_t m = a.shape.dim, c = (std::int64_t{1} << K) - 1;
  const double s2 = double(std::int64_t{1} << (2 * (K - 1)));
  const auto t = [&](std::uint64_t d, std::uint64_t na, std::uint64_t nb) {
    return 4 * static_cast<std::int64_t>(d) - 2 * c * static_cast<std::int64_t>(na + nb) + m * c * c;
  };
  const double ip = double{a.scale} * double{b.scale} * double(t(dot, sa.digit_sum, sb.digit_sum)) / s2 +
                    (double{a.offset} + double{b.offset});
  if (metric == Metric::ip) return -ip;
  const double na = double{a.scale} * double{a.scale} * double(t(sa.self_dot, sa.digit_sum, sa.digit_sum)) / s2 +
                    2.0 * double{a.offset};
  const double nb = double{b.scale} * double{b.scale} * double(t(sb.self_dot, sb.digit_sum, sb.digit_sum)) / s2 +
                    2.0 * double{b.offset};
  if (metric == Metric::l2) return std::sqrt(std::max(0.0, na + nb - 2.0 * ip));
  if (!(na > 0) || !(nb > 0)) return 1.0;
  return 1.0 - ip / std::sqrt(na * nb);
}

double sdc_distance(const CodeView& a, const CodeView& b, Metric metric) {
  require_same_shape(a.shape, b.shape);
  const std::vector<std::uint64_t> q = plane_words_of(a);
  std::uint64_t dot = 0;
  kernels().sdc_dot_many(q.data(), b.planes, 0, a.shape.bits, plane_words(a.shape.dim), 1, &dot);
  return sdc_finish(a, code_stats(a), b, code_stats(b), dot, metric);
}

std::uint64_t hamming_distance(const CodeView& a, const CodeView& b) {
  require_same_shape(a.shape, b.shape);
  const std::vector<std::uint64_t> q = plane_words_of(a);
  std::uint32_t d = 0;
  kernels().hamming_many(q.data(), b.planes, 0, q.size(), 1, &d);
  return d;
}

namespace {

// Sums of products of float32 values in double, four interleaved partial sums: a product of
// two floats is exact in double and no sum of 16384 of them overflows or underflows it, so
// components from denormals to FLT_MAX give the right answer (float32 accumulation overflowed
// above ~1.8e19 and flushed products of denormals to zero).
struct Sums {
  double ab = 0, aa = 0, bb = 0;
};

Sums dot_sums(std::span<const float> a, std::span<const float> b, bool norms) noexcept {
  double ab[4] = {0, 0, 0, 0}, aa[4] = {0, 0, 0, 0}, bb[4] = {0, 0, 0, 0};
  for (std::size_t j = 0; j < a.size(); ++j) {
    const double x = a[j], y = b[j];
    ab[j % 4] += x * y;
    if (norms) {
      aa[j % 4] += x * x;
      bb[j % 4] += y * y;
    }
  }
  const auto total = [](const double* p) { return (p[0] + p[1]) + (p[2] + p[3]); };
  return Sums{total(ab), total(aa), total(bb)};
}

double l2_squared(std::span<const float> a, std::span<const float> b) noexcept {
  double part[4] = {0, 0, 0, 0};
  for (std::size_t j = 0; j < a.size(); ++j) {
    const double d = double{a[j]} - double{b[j]};  // exact in double
    part[j % 4] += d * d;
  }
  return (part[0] + part[1]) + (part[2] + part[3]);
}

}  // namespace

// Rescore calls this for the k candidates only, so plain double loops cost nothing that shows.
double float_distance(std::span<const float> a, std::span<const float> b, Metric metric) noexcept {
  switch (metric) {
    case Metric::ip: return -dot_sums(a, b, false).ab;
    case Metric::l2: return std::sqrt(l2_squared(a, b));
    case Metric::cosine: {
      const Sums s = dot_sums(a, b, true);
      if (!(s.aa > 0) || !(s.bb > 0)) return 1.0;
      return 1.0 - s.ab / (std::sqrt(s.aa) * std::sqrt(s.bb));
    }
  }
  return 0;
}

}  // namespace bebr
