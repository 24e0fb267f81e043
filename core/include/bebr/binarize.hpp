// Binarizers: float vector -> code (docs/bebr.md derives the algebra).
//
// Recurrent binarization (BEBR, KDD 2023): plane 0 is sign(r), each later plane k the sign of
// what the planes so far fail to reconstruct, weighted alpha * 2^-k. With sign(0) := +1 the K
// planes are the binary digits (MSB first) of n_j in [0, 2^K), and the reconstruction is
//   v_j = alpha * (2 n_j - (2^K - 1)) / 2^(K-1)   (+ mean_j for the center binarizer).
// alpha is fitted per vector by alternating least squares (exact for K = 1: mean |r|).
//
//   bebr::Binarizer b = bebr::Binarizer::raw(768, 2);
//   std::vector<std::uint8_t> blob = b.encode_blob(x);   // x: 768 floats
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <vector>

#include "bebr/codes.hpp"
#include "bebr/model.hpp"

namespace bebr {

// Step / sigma of the MSE-optimal uniform quantiser with 2^K levels for a unit Gaussian
// (Max 1960, Table II), K = 1..8.
inline constexpr double kGaussianStep[8] = {1.596, 0.9957, 0.5860, 0.3352, 0.1881, 0.1041, 0.0569, 0.0308};

namespace detail {
class MlpModel;       // core/src/train/mlp_model.hpp (private: Eigen)
struct DeferredLoad;  // core/src/binarize.cpp
}  // namespace detail

class Binarizer {
 public:
  // The model-free binarizer.
  static Binarizer raw(std::uint32_t dim, std::uint32_t bits);
  // Subtracts `mean` before quantising; distances are those of the de-centred reconstructions.
  static Binarizer center(std::vector<float> mean, std::uint32_t bits);

  // The learned binarizer (docs/bebr.md): codes of code_dim dimensions from input_dim floats,
  // reconstructions alpha u + mean in code space, scale alpha. Made by train_mlp (bebr/train.hpp)
  // or parse.
  static Binarizer mlp(std::shared_ptr<const detail::MlpModel> model);

  // A binarizer known by its shape until it must encode, decode or serialize: then `load` builds
  // the full one (once; again on the next use if it threw), which must have this shape and
  // input_dim (else Error(corrupt)). Until loaded, mean() is empty, model() null and
  // model_header() that of a raw binarizer. A table holds its model this way, so that reading it
  // or searching it with codes never parses a model of tens of megabytes.
  static Binarizer deferred(CodeShape shape, std::uint32_t input_dim, std::function<Binarizer()> load);
  bool loaded() const noexcept;  // false only for a deferred binarizer not loaded yet

  const CodeShape& shape() const noexcept { return shape_; }
  // Floats per input vector: shape().dim except for mlp, whose codes may have another width.
  std::uint32_t input_dim() const noexcept { return input_dim_; }
  const std::vector<float>& mean() const noexcept { return mean_; }
  const detail::MlpModel* model() const noexcept { return mlp_.get(); }
  // What serialize()'s header says (raw: kind raw, input_dim = dim, no widths).
  ModelHeader model_header() const noexcept;

  // Writes body_bytes(shape()) bytes (scalars, then planes) for x (dim finite floats).
  void encode_body(std::span<const float> x, std::uint8_t* body) const;
  // A self-describing code BLOB.
  std::vector<std::uint8_t> encode_blob(std::span<const float> x) const;
  // The reconstruction of a code of this binarizer's shape, dim floats.
  std::vector<float> decode(const CodeView& code) const;

  // Model BLOB (docs/format.md, "model BLOB"): what bebr_models.params holds.
  std::vector<std::uint8_t> serialize() const;
  static Binarizer parse(std::span<const std::uint8_t> blob);

 private:
  void encode_one_bit(std::span<const float> x, std::uint8_t* body) const;
  Binarizer(CodeShape shape, std::vector<float> mean);
  void encode_mlp(std::span<const float> x, std::uint8_t* body) const;
  // Scale alpha, offset <alpha u, mean> + |mean|^2 / 2 (mean may be empty) and planes of digits n.
  void store_body(const std::uint8_t* n, double alpha, std::uint8_t* body) const;
  CodeShape shape_;
  std::uint32_t input_dim_ = 0;
  std::shared_ptr<const detail::MlpModel> mlp_;
  std::vector<float> mean_;     // empty for raw
  double mean_half_norm2_ = 0;  // |mean|^2 / 2
  std::shared_ptr<detail::DeferredLoad> deferred_;  // null unless made by deferred()
  const Binarizer& resolved() const;               // the loaded binarizer of a deferred one
};

// The mean of rows fed one at a time, in double (the `center` model's training).
class MeanAccumulator {
 public:
  explicit MeanAccumulator(std::uint32_t dim) : sum_(dim, 0.0) {}
  void add(std::span<const float> x) noexcept;
  std::uint64_t rows() const noexcept { return rows_; }
  std::vector<float> mean() const;

 private:
  std::vector<double> sum_;
  std::uint64_t rows_ = 0;
};

}  // namespace bebr
