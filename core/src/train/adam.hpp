// The optimiser of the learned binarizer's training: Adam (Kingma & Ba 2015, default betas) over
// a fixed list of parameters, each a weight array paired with the gradient array backward fills.
//
//   std::vector<Parameter> params = parameters_of(model);   // every block's weights
//   Adam adam(std::move(params));
//   model.backward(du);  adam.step(lr);                     // one step
#pragma once

#include <cstdint>
#include <vector>

#include "train/mlp.hpp"

namespace bebr::detail {

// `size` floats of weights at w and of their gradient at g.
struct Parameter {
  float* w;
  const float* g;
  Eigen::Index size;
};

// The trainable parameters of a block (its skip path's only when it has one), in a fixed order.
void block_parameters(mlp::Block<float>& b, std::vector<Parameter>& out);
// Every block's: W, then B_1, R_1, B_2, R_2, ...
std::vector<Parameter> parameters_of(mlp::Recurrent<float>& r);

class Adam {
 public:
  explicit Adam(std::vector<Parameter> params);
  // One update of every parameter from its gradient, with step size lr.
  void step(double lr);

 private:
  static constexpr double kBeta1 = 0.9, kBeta2 = 0.999;
  std::vector<Parameter> params_;
  std::uint64_t t_ = 0;
  std::vector<std::vector<float>> m_, v_;
};

}  // namespace bebr::detail
