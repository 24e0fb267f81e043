// The learned binarizer's model in its evaluation form (kind "mlp"; BatchNorm folded in), the one
// type its two users share: the binarizer's encode path, parse and serialize (binarize.cpp) and
// training (train/train.cpp). Private to core, as it holds Eigen matrices; users see it through
// bebr::Binarizer and bebr/model.hpp. docs/bebr.md explains the model, docs/format.md its BLOB.
//
//   auto m = std::make_shared<bebr::detail::MlpModel>();   // sizes set, then
//   m->allocate();                                         // shapes every block (zeros)
//   m->each_parameter([&](float* p, Eigen::Index n) { /* fill n floats */ });
//   m->digits(x, out);                                     // code_dim digits of one vector
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "train/mlp.hpp"

namespace bebr::detail {

// The code of a row x (L2-normalised first) is
//   u = sign(W(x)) + sum_{i>=1} 2^-i sign(R_i(x - normalize(B_i(u_{i-1}))))
// A model made compatible with another (train_compatible) is that model behind an adapter block
// that maps its input vectors into the other model's input space: x = normalize(adapter(x')).
class MlpModel {
 public:
  std::uint32_t input_dim = 0, code_dim = 0, hidden = 0, bits = 1;
  std::uint32_t inner_dim = 0;       // the blocks' input width: input_dim without an adapter
  std::uint32_t adapter_hidden = 0;  // 0: no adapter
  mlp::Folded<float> adapter;        // input_dim -> inner_dim
  mlp::Folded<float> W;
  std::vector<mlp::Folded<float>> B, R;  // bits - 1 each
  // Codes compare as the reconstructions v = alpha u + mean (mean: code_dim floats), like center.
  float alpha = 1;
  std::vector<float> mean;
  std::uint32_t compatible_with = 0;  // model id whose codes these codes search (0: none)

  // The code values of every row of x (rows x input_dim, rows L2-normalised here).
  mlp::Matrix<float> codes(const mlp::Matrix<float>& x) const;
  // The integer digits n_j in [0, 2^bits) of one vector (input_dim floats), code_dim of them.
  void digits(std::span<const float> x, std::uint8_t* out) const;

  // Parameters in BLOB order (docs/format.md): per block first.W, first.b, second.W, second.b,
  // skip.W, skip.b; blocks: the adapter if any, W, then B_1, R_1, B_2, R_2, ...
  template <class F>
  void each_parameter(F&& f) {
    visit(*this, f);
  }
  template <class F>
  void each_parameter(F&& f) const {
    visit(*this, f);
  }
  // Shapes every block for these sizes (zero weights); each_parameter then fills them.
  void allocate();

 private:
  // Rows L2-normalised, through the adapter when there is one.
  mlp::Matrix<float> inner(const mlp::Matrix<float>& x) const;
  template <class Self, class F>
  static void visit(Self& s, F& f) {
    const auto block = [&](auto& b) {
      f(b.first.W.data(), b.first.W.size());
      f(b.first.b.data(), b.first.b.size());
      f(b.second.W.data(), b.second.W.size());
      f(b.second.b.data(), b.second.b.size());
      f(b.skip.W.data(), b.skip.W.size());
      f(b.skip.b.data(), b.skip.b.size());
    };
    if (s.adapter_hidden) block(s.adapter);
    block(s.W);
    for (std::size_t i = 0; i < s.B.size(); ++i) {
      block(s.B[i]);
      block(s.R[i]);
    }
  }
};

}  // namespace bebr::detail
