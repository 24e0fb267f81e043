// Adam over the learned binarizer's parameters (train/adam.hpp).
#include "train/adam.hpp"

#include <cmath>

namespace bebr::detail {

void block_parameters(mlp::Block<float>& b, std::vector<Parameter>& out) {
  out.push_back({b.l1.W.data(), b.l1.dW.data(), b.l1.W.size()});
  out.push_back({b.l1.b.data(), b.l1.db.data(), b.l1.b.size()});
  out.push_back({b.bn.gamma.data(), b.bn.dgamma.data(), b.bn.gamma.size()});
  out.push_back({b.bn.beta.data(), b.bn.dbeta.data(), b.bn.beta.size()});
  out.push_back({b.l2.W.data(), b.l2.dW.data(), b.l2.W.size()});
  out.push_back({b.l2.b.data(), b.l2.db.data(), b.l2.b.size()});
  if (b.has_skip) {
    out.push_back({b.skip.W.data(), b.skip.dW.data(), b.skip.W.size()});
    out.push_back({b.skip.b.data(), b.skip.db.data(), b.skip.b.size()});
  }
}

std::vector<Parameter> parameters_of(mlp::Recurrent<float>& r) {
  std::vector<Parameter> out;
  block_parameters(r.W, out);
  for (std::size_t i = 0; i < r.B.size(); ++i) {
    block_parameters(r.B[i], out);
    block_parameters(r.R[i], out);
  }
  return out;
}

Adam::Adam(std::vector<Parameter> params) : params_(std::move(params)) {
  for (const Parameter& p : params_) {
    m_.emplace_back(static_cast<std::size_t>(p.size), 0.f);
    v_.emplace_back(static_cast<std::size_t>(p.size), 0.f);
  }
}

void Adam::step(double lr) {
  ++t_;
  const double c1 = 1 - std::pow(kBeta1, double(t_)), c2 = 1 - std::pow(kBeta2, double(t_));
  // In float, as whole arrays (vectorised): the update touches every weight at every step.
  const auto step = static_cast<float>(lr / c1), unbias = static_cast<float>(1 / std::sqrt(c2));
  for (std::size_t k = 0; k < params_.size(); ++k) {
    using Array = Eigen::Map<Eigen::ArrayXf>;
    Array w(params_[k].w, params_[k].size), m(m_[k].data(), params_[k].size), v(v_[k].data(), params_[k].size);
    const Eigen::Map<const Eigen::ArrayXf> g(params_[k].g, params_[k].size);
    m = float(kBeta1) * m + float(1 - kBeta1) * g;
    v = float(kBeta2) * v + float(1 - kBeta2) * g.square();
    w -= step * m / (v.sqrt() * unbias + 1e-8f);
  }
}

}  // namespace bebr::detail
