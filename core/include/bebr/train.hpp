// The learned BEBR binarizer (kind "mlp"): its evaluation form (MlpModel, BatchNorm folded in)
// and its training on unlabelled vectors (train_mlp). docs/bebr.md explains the model and the
// loss; docs/format.md the model BLOB.
//
//   bebr::MlpOptions opt;  opt.bits = 2;
//   bebr::MlpTraining t = bebr::train_mlp(rows, n, d, opt, nullptr);
//   Eigen rows of codes: t.model.codes(x)   // values (2n - (2^K - 1)) / 2^(K-1) of the code format
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <vector>

#include "bebr/mlp.hpp"

namespace bebr {

// Evaluation form of mlp::Recurrent: the code of a row x (L2-normalised first) is
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

  static MlpModel fold(const mlp::Recurrent<float>& r, std::uint32_t input_dim, std::uint32_t code_dim,
                       std::uint32_t hidden);
  // The code values of every row of x (rows x input_dim, rows L2-normalised here).
  mlp::Matrix<float> codes(const mlp::Matrix<float>& x) const;
  // The integer digits n_j in [0, 2^bits) of one vector (input_dim floats), code_dim of them.
  void digits(std::span<const float> x, std::uint8_t* out) const;

  // Parameters in BLOB order (docs/format.md): per block first.W, first.b, second.W, second.b,
  // skip.W, skip.b; blocks: the adapter if any, W, then B_1, R_1, B_2, R_2, ...
  template <class F>
  void each_parameter(F&& f) { visit(*this, f); }
  template <class F>
  void each_parameter(F&& f) const { visit(*this, f); }
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

struct MlpOptions {
  std::uint32_t bits = 1;
  std::uint32_t code_dim = 0;     // m; 0 = the input dimension
  std::uint32_t hidden = 0;       // 0 = min(input dim, 512)
  std::uint32_t epochs = 0;       // passes over the data; 0 = 10, fewer past ~600 steps
  std::uint32_t batch = 256;      // rows per step: anchors in groups of neighbours, and positives
  std::uint32_t neighbours = 16;  // exact neighbours found per training row
  double lr = 0;                  // Adam's step; 0 = 1e-3 at 1 bit, 1e-4 at more (measured best)
  double tau = 0.05;              // temperature of the codes' similarities
  double similarity = 1.0;        // weight of the soft contrastive term (targets: float similarities)
  double contrastive = 0.0;       // weight of the hard contrastive term (anchor vs one positive)
  std::uint64_t seed = 1;
  std::uint32_t threads = 0;      // 0 = all cores
};

struct MlpProgress {
  std::uint32_t epoch = 0, epochs = 0;  // 1-based epoch being run
  std::uint64_t step = 0, steps = 0;    // over the whole run
  double loss = 0;                      // mean loss of the last finished epoch (0 before)
  double seconds = 0;
};
// Called between steps; returning false stops the training with Error(Errc::interrupted).
using MlpProgressFn = std::function<bool(const MlpProgress&)>;

struct MlpTraining {
  MlpModel model;
  std::vector<double> loss;  // mean loss per epoch
  std::uint32_t epochs = 0;
  double lr = 0;  // the step size used
  double seconds = 0;
};

// Trains on `rows` vectors of `dim` floats (row-major). Throws Error(invalid_argument) for bad
// options or data, Error(interrupted) when progress returns false.
MlpTraining train_mlp(std::span<const float> data, std::size_t rows, std::uint32_t dim, const MlpOptions& opt,
                      const MlpProgressFn& progress);

// Backward-compatible training (the paper's compatible versions): `old_model` unchanged behind a
// new adapter block that maps the new vectors (data, `dim` floats) into the old model's input
// space, trained on pairs (row i of data and row i of old_data are the same item) so that a new
// vector ranks the old vectors as its old vector does. The codes of the result therefore search
// codes of old_model. Uses opt.hidden (adapter width), epochs, batch, lr, tau, seed, threads.
MlpTraining train_compatible(std::span<const float> data, std::span<const float> old_data, std::size_t rows,
                             std::uint32_t dim, const MlpModel& old_model, const MlpOptions& opt,
                             const MlpProgressFn& progress);

}  // namespace bebr
