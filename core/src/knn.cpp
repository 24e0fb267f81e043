// Top-k selection and bound SDC queries.
#include "bebr/knn.hpp"

#include <algorithm>

#include "bebr/simd.hpp"

namespace bebr {

std::vector<Neighbor> TopK::take() {
  std::vector<Neighbor> out;
  out.reserve(heap_.size());
  while (!heap_.empty()) {
    out.push_back(heap_.top());
    heap_.pop();
  }
  std::reverse(out.begin(), out.end());
  return out;
}

CodeView body_view(const CodeShape& shape, const std::uint8_t* body) noexcept {
  CodeView v;
  v.shape = shape;
  v.scale = load_f32(body);
  v.offset = load_f32(body + 4);
  v.planes = body + kScalarBytes;
  return v;
}

SdcQuery::SdcQuery(const CodeView& query, Metric metric)
    : query_(query), stats_(code_stats(query)), metric_(metric) {
  planes_.resize(query.shape.bits * plane_words(query.shape.dim));
  for (std::size_t i = 0; i < planes_.size(); ++i) planes_[i] = load_u64(query.planes + 8 * i);
  query_.planes = nullptr;  // the view's bytes may not outlive the caller's buffer
}

void SdcQuery::distances(const std::uint8_t* bodies, std::size_t stride, std::size_t n, double* out) const {
  const Kernels& k = kernels();
  const std::size_t words = plane_words(query_.shape.dim);
  std::vector<std::uint64_t> dots(n);
  k.sdc_dot_many(planes_.data(), bodies + kScalarBytes, stride, query_.shape.bits, words, n, dots.data());
  for (std::size_t i = 0; i < n; ++i) {
    const CodeView c = body_view(query_.shape, bodies + i * stride);
    out[i] = sdc_finish(query_, stats_, c, code_stats(c), dots[i], metric_);
  }
}

void SdcQuery::distances(const CodeBlock& b, double* out) const {
  const std::size_t words = plane_words(query_.shape.dim);
  if (dots_.size() < b.n) dots_.resize(b.n);
  kernels().sdc_dot_many(planes_.data(), b.planes, b.stride, query_.shape.bits, words, b.n, dots_.data());
  CodeView c;
  c.shape = query_.shape;
  for (std::size_t i = 0; i < b.n; ++i) {
    c.scale = b.scale[i];
    c.offset = b.offset[i];
    out[i] = sdc_finish(query_, stats_, c, CodeStats{b.digit_sum[i], b.self_dot[i]}, dots_[i], metric_);
  }
}

void block_stats(const CodeShape& shape, const std::uint8_t* planes, std::size_t stride, std::size_t n,
                 std::uint32_t* sums, std::uint32_t* self_dot) {
  const Kernels& k = kernels();
  const std::size_t words = plane_words(shape.dim);
  std::vector<std::uint64_t> q(shape.bits * words);
  for (std::size_t i = 0; i < n; ++i) {
    const std::uint8_t* p = planes + i * stride;
    const std::uint64_t sum = digit_sum(p, shape);
    sums[i] = static_cast<std::uint32_t>(sum);
    if (shape.bits == 1) {  // digits are 0/1: n_j^2 = n_j
      self_dot[i] = static_cast<std::uint32_t>(sum);
      continue;
    }
    for (std::size_t w = 0; w < q.size(); ++w) q[w] = load_u64(p + 8 * w);
    std::uint64_t dot = 0;
    k.sdc_dot_many(q.data(), p, 0, shape.bits, words, 1, &dot);
    self_dot[i] = static_cast<std::uint32_t>(dot);
  }
}

}  // namespace bebr
