// The learned binarizer's evaluation: the codes and digits of vectors through the folded blocks,
// and the blocks' shapes for a model read from its BLOB.
#include "train/mlp_model.hpp"

#include <cmath>

namespace bebr::detail {

using Mat = mlp::Matrix<float>;
using RowF = mlp::Row<float>;

namespace {

mlp::Folded<float> empty_block(Eigen::Index in, Eigen::Index hidden, Eigen::Index out) {
  mlp::Folded<float> f;
  f.first.W = Mat::Zero(hidden, in);
  f.first.b = RowF::Zero(hidden);
  f.second.W = Mat::Zero(out, hidden);
  f.second.b = RowF::Zero(out);
  f.skip.W = Mat::Zero(out, in);
  f.skip.b = RowF::Zero(out);
  return f;
}

}  // namespace

void MlpModel::allocate() {
  const Eigen::Index d = inner_dim, m = code_dim, h = hidden;
  if (adapter_hidden) adapter = empty_block(input_dim, adapter_hidden, d);
  W = empty_block(d, h, m);
  B.assign(bits - 1, empty_block(m, h, d));
  R.assign(bits - 1, empty_block(d, h, m));
}

Mat MlpModel::inner(const Mat& x) const {
  const Mat xn = mlp::l2_normalize<float>(x);
  return adapter_hidden ? mlp::l2_normalize<float>(adapter.apply(xn)) : xn;
}

Mat MlpModel::codes(const Mat& x) const {
  const Mat xn = inner(x);
  Mat u = mlp::sign<float>(W.apply(xn));
  for (std::uint32_t i = 1; i < bits; ++i) {
    const Mat r = xn - mlp::l2_normalize<float>(B[i - 1].apply(u));
    u += std::ldexp(1.f, -static_cast<int>(i)) * mlp::sign<float>(R[i - 1].apply(r));
  }
  return u;
}

void MlpModel::digits(std::span<const float> x, std::uint8_t* out) const {
  const Mat xn = inner(Eigen::Map<const Mat>(x.data(), 1, input_dim));
  Mat z = W.apply(xn);
  Mat u = mlp::sign<float>(z);
  for (std::uint32_t j = 0; j < code_dim; ++j) out[j] = z(0, j) >= 0 ? 1 : 0;
  for (std::uint32_t i = 1; i < bits; ++i) {
    z = R[i - 1].apply(xn - mlp::l2_normalize<float>(B[i - 1].apply(u)));
    u += std::ldexp(1.f, -static_cast<int>(i)) * mlp::sign<float>(z);
    for (std::uint32_t j = 0; j < code_dim; ++j)
      out[j] = static_cast<std::uint8_t>(2 * out[j] + (z(0, j) >= 0 ? 1 : 0));
  }
}

}  // namespace bebr::detail
