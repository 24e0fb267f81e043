// Training of the learned BEBR binarizer (kind "mlp") on unlabelled vectors, and of a new model
// whose codes search an old model's codes (compatible versions). docs/bebr.md explains the model
// and the loss; docs/format.md the model BLOB. The model itself is private to core (Eigen): a
// training returns it as a Binarizer, ready to encode and to serialize.
//
//   bebr::MlpOptions opt;  opt.bits = 2;
//   bebr::MlpTraining t = bebr::train_mlp(rows, n, d, opt, nullptr);
//   std::vector<std::uint8_t> code = t.model.encode_blob(x);   // x: d floats
//   std::vector<std::uint8_t> blob = t.model.serialize();      // what bebr_models.params holds
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <vector>

#include "bebr/binarize.hpp"

namespace bebr {

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
  std::uint32_t threads = 0;  // 0 = all cores
};

// What a training is doing: the start (principal directions, scales, the compatible adapter's
// least-squares map), the exact neighbours of every training row, then the steps.
enum class MlpPhase { start, neighbours, steps };
const char* phase_name(MlpPhase p) noexcept;  // "start", "exact neighbours", "steps"

struct MlpProgress {
  MlpPhase phase = MlpPhase::start;
  std::uint64_t done = 0, total = 0;    // start and neighbours: training rows processed, of total
  std::uint32_t epoch = 0, epochs = 0;  // steps: 1-based epoch being run
  std::uint64_t step = 0, steps = 0;    // steps: over the whole run
  double loss = 0;                      // mean loss of the last finished epoch (0 before)
  double epoch_loss = 0;                // mean loss of the steps of this epoch so far (0 before)
  std::uint64_t epoch_steps = 0;        // steps of this epoch done
  double seconds = 0;                   // since the training started
  double phase_seconds = 0;             // since this phase started
};
// Called in every phase, at least once per ~1e9 floating-point operations (well under a second on
// one core), and between steps; returning false stops the training with Error(Errc::interrupted)
// at once, before any more work.
using MlpProgressFn = std::function<bool(const MlpProgress&)>;

struct MlpTraining {
  Binarizer model;           // kind mlp; model.model_header() has its sizes
  std::vector<double> loss;  // mean loss per epoch
  std::uint32_t epochs = 0;
  double lr = 0;  // the step size used
  double seconds = 0;
};

// Trains on `rows` vectors of `dim` floats (row-major). Throws Error(invalid_argument) for bad
// options or data, Error(interrupted) when progress returns false.
MlpTraining train_mlp(std::span<const float> data, std::size_t rows, std::uint32_t dim, const MlpOptions& opt,
                      const MlpProgressFn& progress);

// Backward-compatible training (the paper's compatible versions): `old_model` (kind mlp)
// unchanged behind a new adapter block that maps the new vectors (data, `dim` floats) into the
// old model's input space, trained on pairs (row i of data and row i of old_data are the same
// item) so that a new vector ranks the old vectors as its old vector does. The result is recorded
// compatible with old_model (model_header().compatible_id is old_model's id): its codes search
// codes of old_model. Uses opt.hidden (adapter width), epochs, batch, lr, tau, seed, threads.
MlpTraining train_compatible(std::span<const float> data, std::span<const float> old_data, std::size_t rows,
                             std::uint32_t dim, const Binarizer& old_model, const MlpOptions& opt,
                             const MlpProgressFn& progress);

}  // namespace bebr
