// Top-k selection and bound SDC queries.
#include "bebr/knn.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "bebr/simd.hpp"

namespace bebr {

std::vector<Neighbor> TopK::take() {
  std::sort(buffer_.begin(), buffer_.end());
  if (buffer_.size() > k_) buffer_.resize(k_);
  std::vector<Neighbor> out;
  out.swap(buffer_);
  threshold_ = std::numeric_limits<double>::infinity();
  fill_ = k_;
  return out;
}

void TopK::compact() {
  std::nth_element(buffer_.begin(), buffer_.begin() + static_cast<std::ptrdiff_t>(k_ - 1), buffer_.end());
  buffer_.resize(k_);
  threshold_ = buffer_[k_ - 1].distance;  // the k-th best: nth_element put the largest kept last
  fill_ = 2 * k_;
}

SdcQuery::SdcQuery(const CodeView& query, Metric metric)
    : query_(query), stats_(code_stats(query)), metric_(metric) {
  planes_.resize(query.shape.bits * plane_words(query.shape.dim));
  for (std::size_t i = 0; i < planes_.size(); ++i) planes_[i] = load_u64(query.planes + 8 * i);
  query_.planes = nullptr;  // the view's bytes may not outlive the caller's buffer
  const std::uint32_t K = query.shape.bits;
  terms_.scale = query.scale;
  terms_.offset = query.offset;
  terms_.digit_sum = static_cast<double>(stats_.digit_sum);
  terms_.norm2 = sdc_norm2(query, stats_);
  terms_.c = static_cast<double>((std::int64_t{1} << K) - 1);
  terms_.m = query.shape.dim;
  terms_.s2 = static_cast<double>(std::int64_t{1} << (2 * (K - 1)));
  terms_.metric = static_cast<int>(metric);
  hamming_ = metric == Metric::cosine && query.shape.kind == BinarizerKind::raw && K == 1 && query.scale > 0 &&
             query.offset == 0;
  if (K == 2 && kernels().sdc_filter_fastscan2) {
    lut_.resize(16 * 32 * plane_words(query.shape.dim));
    fastscan2_lut(planes_.data(), plane_words(query.shape.dim), lut_.data());
  }
}

std::uint32_t SdcQuery::hamming_limit(double threshold) const noexcept {
  const double m = query_.shape.dim, x = threshold * m / 2;
  if (!(x < m)) return static_cast<std::uint32_t>(m);  // +inf, NaN: every code
  return static_cast<std::uint32_t>(std::floor(std::max(0.0, x) + 1e-6));
}


void SdcQuery::distances(const CodeBlock& b, double* out) const {
  const std::uint32_t* sums = b.digit_sum;
  const std::uint32_t* self = b.self_dot;
  if (!sums || !self) {
    sums_.resize(b.n);
    self_.resize(b.n);
    block_stats(query_.shape, b.planes, b.stride, b.n, sums_.data(), self_.data());
    sums = sums_.data();
    self = self_.data();
  }
  kernels().sdc_scan(planes_.data(), terms_, b.planes, b.stride, query_.shape.bits, plane_words(query_.shape.dim),
                     b.scale, b.offset, sums, self, b.n, out);
}

float SdcQuery::key_limit(const KeyBounds& bounds, double threshold) const noexcept {
  constexpr float kNone = std::numeric_limits<float>::infinity();
  if (!std::isfinite(threshold)) return kNone;
  const SdcTerms& t = terms_;
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

bool SdcQuery::filter(const CodeBlock& b, const KeyBounds& bounds, double threshold, std::uint64_t* mask) const {
  if (b.n % 64 || !std::isfinite(threshold)) return false;
  if (hamming_ && b.hamming_ok) {
    hams_.resize(b.n);
    kernels().hamming_filter(planes_.data(), planes_.size(), b.planes, b.stride, b.n, hamming_limit(threshold), mask,
                             hams_.data());
    return true;
  }
  if (!b.keys.P || !b.keys.R) return false;
  const float limit = key_limit(bounds, threshold);
  if (std::isinf(limit)) return false;
  const SdcTerms& t = terms_;
  const double A = t.scale / t.s2, Q2 = t.m * t.c * t.c - 2.0 * t.c * t.digit_sum;
  keys_.resize(b.n);
  const Kernels& k = kernels();
  const float fa = static_cast<float>(A), fq2 = static_cast<float>(Q2), fo = static_cast<float>(t.offset);
  SdcKeys keys = b.keys;
  std::uint64_t passed = 0;
  const bool loose = pre_groups_ >= kPrefilterProbe && 4 * pre_passed_ > pre_groups_;
  if (b.digit_sums16 && !loose) {
    keys.emin = key_floor(b.range, bounds, query_.shape, fa, fq2, fo, limit);
    if (keys.emin != std::numeric_limits<std::int32_t>::min()) {
      keys.sums = b.digit_sums16;
      keys.twice_c = static_cast<std::int32_t>(2 * t.c);
      keys.passed = &passed;
      pre_groups_ += b.n / 8;
    }
  }
  if (b.fastscan && query_.shape.bits == 2 && !lut_.empty())
    k.sdc_filter_fastscan2(lut_.data(), plane_words(query_.shape.dim), b.fastscan, b.n, keys, fa, fq2, fo, limit, mask,
                           keys_.data());
  else if (b.nibbles && query_.shape.bits == 4 && k.sdc_filter_nibbles)
    k.sdc_filter_nibbles(planes_.data(), plane_words(query_.shape.dim), b.nibbles, b.nibble_stride, b.n, keys, fa, fq2,
                         fo, limit, mask, keys_.data());
  else
    k.sdc_filter(planes_.data(), query_.shape.bits, plane_words(query_.shape.dim), b.planes, b.stride, b.n, keys, fa,
                 fq2, fo, limit, mask, keys_.data());
  pre_passed_ += passed;
  return true;
}

void SdcQuery::prune() const {
  const std::uint32_t limit = limit_;
  waiting_.erase(std::remove_if(waiting_.begin(), waiting_.end(), [limit](const Waiting& w) { return w.h > limit; }),
                 waiting_.end());
}

void SdcQuery::finish(TopK& top) const {
  prune();
  score(waiting_, top);
  waiting_.clear();
  hist_.clear();
  limit_ = 0;
  alive_ = 0;
}

void SdcQuery::offer(const CodeBlock& b, const std::int64_t* rowids, TopK& top) const {
  batch_.clear();
  for (const std::size_t i : candidates_)
    batch_.push_back({b.planes + i * b.stride, b.scale + i, b.offset + i, rowids + i, 0});
  score(batch_, top);
}

void SdcQuery::score(const std::vector<Waiting>& list, TopK& top) const {
  const std::size_t n = list.size(), P = planes_bytes(query_.shape);
  if (!n) return;
  // Scalars and rowids were not read by the filter: all their misses in flight at once.
  for (const Waiting& w : list) {
    __builtin_prefetch(w.scale);
    __builtin_prefetch(w.offset);
    __builtin_prefetch(w.rowid);
  }
  cand_planes_.resize(n * P);
  cand_scale_.resize(n);
  cand_offset_.resize(n);
  for (std::size_t j = 0; j < n; ++j) std::memcpy(cand_planes_.data() + j * P, list[j].planes, P);
  for (std::size_t j = 0; j < n; ++j) {
    cand_scale_[j] = *list[j].scale;
    cand_offset_[j] = *list[j].offset;
  }
  CodeBlock c;
  c.planes = cand_planes_.data();
  c.stride = P;
  c.scale = cand_scale_.data();
  c.offset = cand_offset_.data();
  c.n = n;
  exact_.resize(n);
  distances(c, exact_.data());
  for (std::size_t j = 0; j < n; ++j)
    if (exact_[j] <= top.threshold()) top.push(exact_[j], *list[j].rowid);
}

KeyLayout key_layout(const CodeShape& shape, Metric metric) noexcept {
  KeyLayout l;
  const bool offsets = shape.kind != BinarizerKind::raw;
  l.S = offsets;
  l.T = offsets && metric == Metric::cosine;
  l.U = metric == Metric::l2;
  return l;
}

bool digit_sums16_fit(const CodeShape& shape) noexcept {
  return std::uint64_t{shape.dim} * ((std::uint64_t{1} << shape.bits) - 1) <= 65535;
}

void KeyRange::add(float P, float S, float T, float U) noexcept {
  if (empty) {
    Pmin = Pmax = P;
    Smax = S;
    Tmin = Tmax = T;
    Umin = U;
    empty = false;
    return;
  }
  Pmin = std::min<double>(Pmin, P);
  Pmax = std::max<double>(Pmax, P);
  Smax = std::max<double>(Smax, S);
  Tmin = std::min<double>(Tmin, T);
  Tmax = std::max<double>(Tmax, T);
  Umin = std::min<double>(Umin, U);
}

std::int32_t key_floor(const KeyRange& r, const KeyBounds& bounds, const CodeShape& shape, float A, float Q2,
                       float oq, float limit) noexcept {
  constexpr std::int32_t kNone = std::numeric_limits<std::int32_t>::min();
  if (r.empty || !std::isfinite(limit)) return kNone;
  // key_f <= limit implies, for the exact key* = -a P (e + Q2) - S - oq T + U (R = -2c N P
  // exactly), key* <= limit + err, with err the float rounding of the kernel's key and of R: a
  // few operations of 2^-24 relative error on terms below `scale`; 1e-5 is over ten times that.
  const double a = A, q2 = Q2, o = oq, lim = limit;
  const double c = static_cast<double>((std::int64_t{1} << shape.bits) - 1);
  const double dot_max = static_cast<double>(shape.dim) * c * c;
  const double scale = std::abs(a) * (bounds.P * (4.0 * dot_max + std::abs(q2)) + bounds.R) + bounds.S +
                       std::abs(o) * bounds.T + bounds.U + std::abs(lim);
  // So a P_i (e_i + Q2) >= G, the smallest right-hand side over the range.
  const double G = -(lim + 1e-5 * scale) - r.Smax - (o >= 0 ? o * r.Tmax : o * r.Tmin) + r.Umin;
  const double lo = a > 0 ? a * r.Pmin : a * r.Pmax, hi = a > 0 ? a * r.Pmax : a * r.Pmin;
  if (!(lo > 0) || !std::isfinite(hi) || !std::isfinite(G)) return kNone;
  // With 0 < lo <= a P_i <= hi: e_i + Q2 >= G / (a P_i) >= G / hi (G >= 0) or G / lo (G < 0).
  const double e = (G >= 0 ? G / hi : G / lo) - q2;
  const double f = std::floor(e) - 1.0;
  if (!(f > -2147483647.0)) return kNone;
  return f >= 2147483647.0 ? std::numeric_limits<std::int32_t>::max() : static_cast<std::int32_t>(f);
}

void KeyBounds::widen(double p, double r, double s, double t, double u) noexcept {
  P = std::max(P, std::abs(p));
  R = std::max(R, std::abs(r));
  S = std::max(S, std::abs(s));
  T = std::max(T, std::abs(t));
  U = std::max(U, std::abs(u));
}

void key_coefficients(const CodeShape& shape, Metric metric, const std::uint8_t* planes, std::size_t stride,
                      const float* scale, const float* offset, std::size_t n, float* P, float* R, float* S,
                      float* T, float* U, KeyBounds& bounds, std::uint16_t* sums16) {
  const std::int64_t c = (std::int64_t{1} << shape.bits) - 1, m = shape.dim;
  const double s2 = double(std::int64_t{1} << (2 * (shape.bits - 1)));
  std::vector<std::uint32_t> sums(n), selfs(n);
  block_stats(shape, planes, stride, n, sums.data(), selfs.data());
  if (sums16)
    for (std::size_t i = 0; i < n; ++i) sums16[i] = static_cast<std::uint16_t>(sums[i]);
  // Plain array loops (sdc_norm2's expression, in its order), then one pass for the bounds.
  std::vector<double> nb(n), rho(n);
  for (std::size_t i = 0; i < n; ++i) {
    const std::int64_t t = 4 * static_cast<std::int64_t>(selfs[i]) - 2 * c * static_cast<std::int64_t>(2 * sums[i]) + m * c * c;
    nb[i] = double{scale[i]} * double{scale[i]} * double(t) / s2 + 2.0 * double{offset[i]};
  }
  if (metric == Metric::cosine)
    for (std::size_t i = 0; i < n; ++i) rho[i] = nb[i] > 0 ? 1.0 / std::sqrt(nb[i]) : 0.0;
  const double cc = static_cast<double>(c);
  double mp = bounds.P, mr = bounds.R, ms = bounds.S, mt = bounds.T, mu = bounds.U;
  for (std::size_t i = 0; i < n; ++i) {
    const double sc = scale[i], o = offset[i], w = -2.0 * cc * sc * sums[i];
    double p = sc, r = w, so = o, t = 0, u = 0;
    if (metric == Metric::cosine) {
      p = sc * rho[i], r = w * rho[i], so = o * rho[i], t = rho[i];
    } else if (metric == Metric::l2) {
      p = 2 * sc, r = 2 * w, so = 2 * o, u = nb[i];
    }
    P[i] = static_cast<float>(p);
    R[i] = static_cast<float>(r);
    if (S) S[i] = static_cast<float>(so);
    if (T) T[i] = static_cast<float>(t);
    if (U) U[i] = static_cast<float>(u);
    mp = std::max(mp, std::abs(p));
    mr = std::max(mr, std::abs(r));
    ms = std::max(ms, std::abs(so));
    mt = std::max(mt, std::abs(t));
    mu = std::max(mu, std::abs(u));
  }
  bounds.widen(mp, mr, ms, mt, mu);
}

void block_stats(const CodeShape& shape, const std::uint8_t* planes, std::size_t stride, std::size_t n,
                 std::uint32_t* sums, std::uint32_t* self_dot) {
  const Kernels& k = kernels();
  const std::size_t words = plane_words(shape.dim);
  // The digit sum is the SDC dot with a query whose digits are all 1: only its last plane set.
  std::vector<std::uint64_t> q(shape.bits * words, 0);
  std::fill(q.end() - static_cast<std::ptrdiff_t>(words), q.end(), ~std::uint64_t{0});
  std::vector<std::uint64_t> out(n);
  k.sdc_dot_many(q.data(), planes, stride, shape.bits, words, n, out.data());
  for (std::size_t i = 0; i < n; ++i) sums[i] = static_cast<std::uint32_t>(out[i]);
  if (shape.bits == 1) {  // digits are 0/1: n_j^2 = n_j
    std::copy(sums, sums + n, self_dot);
    return;
  }
  for (std::size_t i = 0; i < n; ++i) {
    const std::uint8_t* p = planes + i * stride;
    for (std::size_t w = 0; w < q.size(); ++w) q[w] = load_u64(p + 8 * w);
    std::uint64_t dot = 0;
    k.sdc_dot_many(q.data(), p, 0, shape.bits, words, 1, &dot);
    self_dot[i] = static_cast<std::uint32_t>(dot);
  }
}

}  // namespace bebr
