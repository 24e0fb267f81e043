// The key filter's per-table side: each code's key coefficients and digit statistics, the
// bounds and ranges over a table, and the integer pre-filter's floor (bebr/search.hpp derives
// the coefficients; the kernels in core/src/kernels evaluate the keys).
#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "../kernels/kernels.hpp"
#include "bebr/search.hpp"

namespace bebr {

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

std::int32_t key_floor(const KeyRange& r, const KeyBounds& bounds, const CodeShape& shape, float A, float Q2, float oq,
                       float limit) noexcept {
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
                      const float* scale, const float* offset, std::size_t n, float* P, float* R, float* S, float* T,
                      float* U, KeyBounds& bounds, std::uint16_t* sums16) {
  const std::int64_t c = (std::int64_t{1} << shape.bits) - 1, m = shape.dim;
  const double s2 = double(std::int64_t{1} << (2 * (shape.bits - 1)));
  std::vector<std::uint32_t> sums(n), selfs(n);
  block_stats(shape, planes, stride, n, sums.data(), selfs.data());
  if (sums16)
    for (std::size_t i = 0; i < n; ++i) sums16[i] = static_cast<std::uint16_t>(sums[i]);
  // Plain array loops (sdc_norm2's expression, in its order), then one pass for the bounds.
  std::vector<double> nb(n), rho(n);
  for (std::size_t i = 0; i < n; ++i) {
    const std::int64_t t =
        4 * static_cast<std::int64_t>(selfs[i]) - 2 * c * static_cast<std::int64_t>(2 * sums[i]) + m * c * c;
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
