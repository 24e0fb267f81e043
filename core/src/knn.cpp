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

}  // namespace bebr
