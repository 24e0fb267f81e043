// Training of the learned binarizer (bebr/train.hpp): the start as the centred recurrent
// binarization of a projection, batches of neighbourhoods (so every batch holds hard negatives),
// the soft contrastive loss whose targets are the float similarities (optionally the one-positive
// InfoNCE too), Adam; and the adapter that makes a new model compatible with an old one. The
// pieces are in train/: mlp.hpp (the model's layers), loss.hpp, adam, neighbours, start (the
// projection), loop.hpp (the step loop both trainings share), mlp_model (the trained result).
#include "bebr/train.hpp"

#include <Eigen/Dense>
#include <algorithm>
#include <chrono>
#include <cmath>
#include <memory>
#include <random>
#include <string>

#include "bebr/binarize.hpp"
#include "bebr/codes.hpp"
#include "bebr/error.hpp"
#include "train/adam.hpp"
#include "train/loop.hpp"
#include "train/loss.hpp"
#include "train/mlp.hpp"
#include "train/mlp_model.hpp"
#include "train/neighbours.hpp"
#include "train/start.hpp"

namespace bebr {

const char* phase_name(MlpPhase p) noexcept {
  switch (p) {
    case MlpPhase::start: return "start";
    case MlpPhase::neighbours: return "exact neighbours";
    case MlpPhase::steps: return "steps";
  }
  return "?";
}

using detail::Adam;
using detail::MlpModel;
using detail::NeighbourhoodBatches;
using detail::Parameter;
namespace mlp = detail::mlp;
using Mat = mlp::Matrix<float>;
using RowF = mlp::Row<float>;

namespace {

Mat normalized_rows(std::span<const float> data, std::size_t rows, std::uint32_t dim) {
  Mat x = Eigen::Map<const Mat>(data.data(), static_cast<Eigen::Index>(rows), dim);
  return mlp::l2_normalize<float>(x);
}

// The evaluation form of a trained recurrent model: BatchNorm folded into every block.
std::shared_ptr<MlpModel> fold(const mlp::Recurrent<float>& r, std::uint32_t input_dim, std::uint32_t code_dim,
                               std::uint32_t hidden) {
  auto m = std::make_shared<MlpModel>();
  m->input_dim = input_dim;
  m->inner_dim = input_dim;
  m->code_dim = code_dim;
  m->hidden = hidden;
  m->bits = static_cast<std::uint32_t>(r.planes);
  m->W = r.W.fold();
  for (std::size_t i = 0; i < r.B.size(); ++i) {
    m->B.push_back(r.B[i].fold());
    m->R.push_back(r.R[i].fold());
  }
  return m;
}

// An untrained model and its reconstruction v = alpha u + mu_c in code space.
struct Start {
  mlp::Recurrent<float> model;
  RowF mu_c;
  float alpha = 1;
};

// Start as the centred recurrent binarization of the projections A x (see projection()): the skip
// paths carry it, the MLP paths start at zero. The codes' reconstruction in code space is
// v = alpha u + mu_c (mu_c = A mu), compared de-centred like the center binarizer's. Draws from
// rng: the blocks' weights, then the projection's rotations.
Start start_model(const Mat& x, std::uint32_t m, std::uint32_t hidden, std::uint32_t bits, std::mt19937_64& rng,
                  const detail::Tick& tick) {
  const auto dim = static_cast<std::uint32_t>(x.cols());
  Start s{mlp::Recurrent<float>(dim, m, hidden, static_cast<int>(bits), rng), RowF(), 1};
  mlp::Recurrent<float>& model = s.model;
  const RowF mu = x.colwise().mean();
  // Progress counts rows twice: the projection's pass, then the scales' pass.
  const auto rows = static_cast<std::uint64_t>(x.rows());
  const Mat a = detail::projection(x, mu, m, rng, tick);
  s.mu_c = mu * a.transpose();
  // The plane-0 step: mean |value| at 1 bit (the least-squares scale of sign bits); at K bits the
  // step of the best uniform quantiser of a Gaussian of the same RMS, as the center binarizer
  // starts (bits 4 untrained on sap: 0.937 against 0.913 with mean |value|). The projected rows
  // in blocks, as the projection's pass.
  float alpha;
  {
    double squares = 0, absolutes = 0;
    const Eigen::Index block = detail::rows_per_block(std::max<Eigen::Index>(dim, m));
    for (Eigen::Index r0 = 0; r0 < x.rows(); r0 += block) {
      if (tick) tick(rows + static_cast<std::uint64_t>(r0));
      const Mat centred = (x.middleRows(r0, std::min(block, x.rows() - r0)).rowwise() - mu) * a.transpose();
      squares += double{centred.squaredNorm()};
      absolutes += double{centred.cwiseAbs().sum()};
    }
    const double values = double(x.rows()) * double(m);
    const double rms = std::sqrt(squares / values);
    alpha = bits == 1 ? static_cast<float>(absolutes / values)
                      : static_cast<float>(rms * kGaussianStep[bits - 1] * std::ldexp(1.0, int(bits) - 2));
  }
  if (!(alpha > 0)) alpha = 1;  // every training row the same vector
  s.alpha = alpha;
  const auto skip = [](mlp::Block<float>& blk, const Mat& w, const RowF& b) {
    blk.has_skip = true;
    blk.skip.W = w;
    blk.skip.b = b;
    blk.skip.dW.resize(w.rows(), w.cols());
    blk.skip.db.resize(b.size());
    blk.l2.W.setZero();
  };
  // Pre-sign values of order 1, where the straight-through gradient is meaningful: plane i's
  // residual is about alpha 2^-i per coordinate.
  skip(model.W, a / alpha, -s.mu_c / alpha);
  for (std::size_t i = 0; i < model.B.size(); ++i) {
    skip(model.B[i], std::min(1.f, float(dim) / float(m)) * a.transpose(), mu / alpha);  // A^+ (normalised after)
    skip(model.R[i], std::ldexp(1.f, static_cast<int>(i) + 1) / alpha * a, RowF::Zero(m));
  }
  return s;
}

double learning_rate(const MlpOptions& o) { return o.lr > 0 ? o.lr : o.bits == 1 ? 1e-3 : 1e-4; }

void check_options(const MlpOptions& o, std::size_t rows, std::uint32_t dim) {
  const auto bad = [](const std::string& what) { throw Error(Errc::invalid_argument, what); };
  if (o.bits < 1 || o.bits > kMaxBits) bad("option bits must be in 1..8; got " + std::to_string(o.bits));
  if (dim < 1 || dim > kMaxDim)
    bad("vectors must have 1.." + std::to_string(kMaxDim) + " floats; got " + std::to_string(dim));
  if (o.code_dim > kMaxDim)
    bad("option dim must be in 1.." + std::to_string(kMaxDim) + "; got " + std::to_string(o.code_dim));
  if (o.hidden > 16384) bad("option hidden must be in 1..16384; got " + std::to_string(o.hidden));
  if (o.batch < 4 || o.batch > 65536) bad("option batch must be in 4..65536; got " + std::to_string(o.batch));
  if (o.neighbours < 1 || o.neighbours > 256)
    bad("option neighbours must be in 1..256; got " + std::to_string(o.neighbours));
  if (!(o.lr >= 0 && o.lr <= 1)) bad("option lr must be in (0, 1]; got " + std::to_string(o.lr));
  if (!(o.tau > 0 && o.tau <= 10)) bad("option tau must be in (0, 10]; got " + std::to_string(o.tau));
  if (o.epochs > 100000) bad("option epochs must be at most 100000; got " + std::to_string(o.epochs));
  if (rows < 2) bad("training needs at least 2 vectors; got " + std::to_string(rows));
}

}  // namespace

MlpTraining train_mlp(std::span<const float> data, std::size_t rows, std::uint32_t dim, const MlpOptions& opt,
                      const MlpProgressFn& progress) {
  check_options(opt, rows, dim);
  if (data.size() != rows * dim) throw Error(Errc::internal, "train_mlp: data size does not match rows x dim");
  const auto started = std::chrono::steady_clock::now();
  const std::function<double()> elapsed = [&] {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  };
  if (opt.threads) Eigen::setNbThreads(static_cast<int>(opt.threads));

  const std::uint32_t m = opt.code_dim ? opt.code_dim : dim;
  const std::uint32_t hidden = opt.hidden ? opt.hidden : std::min<std::uint32_t>(dim, 512);
  const Mat x = normalized_rows(data, rows, dim);
  std::mt19937_64 rng(opt.seed);
  detail::PhaseProgress start_progress(progress, elapsed, MlpPhase::start, 2 * std::uint64_t{rows});
  Start start = start_model(x, m, hidden, opt.bits, rng, std::ref(start_progress));
  mlp::Recurrent<float>& model = start.model;
  RowF& mu_c = start.mu_c;
  float& alpha = start.alpha;
  const float alpha0 = alpha;
  std::vector<Parameter> params = detail::parameters_of(model);
  RowF dmu_c(m);
  float dalpha = 0;
  params.push_back({mu_c.data(), dmu_c.data(), dmu_c.size()});
  params.push_back({&alpha, &dalpha, 1});
  Adam adam(std::move(params));

  // A batch: `half` anchors in groups of neighbours, then one positive per anchor (one of its 3
  // nearest neighbours).
  detail::PhaseProgress neighbours_progress(progress, elapsed, MlpPhase::neighbours, rows);
  NeighbourhoodBatches batches(x, opt.neighbours, 4, std::ref(neighbours_progress));
  const std::uint32_t half = static_cast<std::uint32_t>(std::min<std::size_t>(opt.batch / 2, rows));
  const std::uint64_t steps_per_epoch = std::max<std::uint64_t>(1, rows / half);
  const std::uint32_t epochs = opt.epochs ? opt.epochs : detail::default_epochs(steps_per_epoch);
  std::vector<std::uint32_t> pick(2 * half);
  Mat batch(2 * half, dim);
  const auto wc = static_cast<float>(opt.contrastive), ws = static_cast<float>(opt.similarity);
  const auto tau = static_cast<float>(opt.tau);

  const double lr = learning_rate(opt);
  std::vector<double> losses = detail::run_steps(
      epochs, steps_per_epoch, lr, adam, progress, elapsed,
      [&] {
        batches.anchors(pick.data(), half, rng);
        for (std::uint32_t i = 0; i < half; ++i) pick[half + i] = batches.neighbour(pick[i], 3, rng);
        for (std::uint32_t i = 0; i < 2 * half; ++i) batch.row(i) = x.row(pick[i]);

        const Mat u = model.forward(batch, true);
        const Mat v = (alpha * u).rowwise() + mu_c;
        // Contrastive: anchor i and positive i, every other row of the other half a negative.
        Mat da = Mat::Zero(half, m), dp = Mat::Zero(half, m);
        float loss = 0;
        if (wc != 0) loss += wc * mlp::contrastive_loss<float>(v.topRows(half), v.bottomRows(half), tau, da, dp);
        // Similarities: the whole batch ranked as the floats rank it.
        const Mat target = mlp::softmax_rows<float>(batch * batch.transpose() / tau, true);
        Mat ds;
        loss += ws * mlp::similarity_loss<float>(v, target, tau, ds);
        Mat dv(2 * half, m);
        dv.topRows(half) = wc * da + ws * ds.topRows(half);
        dv.bottomRows(half) = wc * dp + ws * ds.bottomRows(half);
        dmu_c = dv.colwise().sum();
        dalpha = (dv.array() * u.array()).sum();
        model.backward(alpha * dv);
        return double{loss};
      },
      [&] { alpha = std::max(alpha, alpha0 * 1e-3f); });  // the reconstruction's scale stays positive
  std::shared_ptr<MlpModel> trained = fold(model, dim, m, hidden);
  trained->alpha = alpha;
  trained->mean.assign(mu_c.data(), mu_c.data() + m);
  Binarizer binarizer = Binarizer::mlp(std::move(trained));
  return MlpTraining{std::move(binarizer), std::move(losses), epochs, lr, elapsed()};
}

namespace {

// The ridge least-squares linear map from the rows of xn to those of xo, its normal equations
// summed in blocks of rows so that progress and interrupts come between them.
Mat ridge_map(const Mat& xn, const Mat& xo, detail::PhaseProgress& progress) {
  const auto dim = static_cast<std::uint32_t>(xn.cols()), old_dim = static_cast<std::uint32_t>(xo.cols());
  const float lambda = 1e-2f * xn.squaredNorm() / float(dim);
  Mat gram = lambda * Mat::Identity(dim, dim), cross = Mat::Zero(dim, old_dim);
  const Eigen::Index block = detail::rows_per_block(std::max(dim, old_dim));
  for (Eigen::Index r0 = 0; r0 < xn.rows(); r0 += block) {
    progress(static_cast<std::uint64_t>(r0));
    const Eigen::Index nb = std::min(block, xn.rows() - r0);
    gram.noalias() += xn.middleRows(r0, nb).transpose() * xn.middleRows(r0, nb);
    cross.noalias() += xn.middleRows(r0, nb).transpose() * xo.middleRows(r0, nb);
  }
  progress(static_cast<std::uint64_t>(xn.rows()));
  return gram.ldlt().solve(cross);
}

}  // namespace

MlpTraining train_compatible(std::span<const float> data, std::span<const float> old_data, std::size_t rows,
                             std::uint32_t dim, const Binarizer& old_binarizer, const MlpOptions& opt,
                             const MlpProgressFn& progress) {
  if (!old_binarizer.model())
    throw Error(Errc::invalid_argument, std::string("the old model is a ") + kind_name(old_binarizer.shape().kind) +
                                            " model; expected an mlp model");
  const MlpModel& old_model = *old_binarizer.model();
  MlpOptions o = opt;
  o.bits = old_model.bits;
  o.code_dim = old_model.code_dim;
  check_options(o, rows, dim);
  if (old_model.adapter_hidden)
    throw Error(Errc::invalid_argument,
                "the old model is itself compatible with another model; train against that one");
  const std::uint32_t old_dim = old_model.input_dim;
  if (data.size() != rows * dim || old_data.size() != rows * old_dim)
    throw Error(Errc::internal, "train_compatible: data sizes do not match rows x dims");
  const auto started = std::chrono::steady_clock::now();
  const std::function<double()> elapsed = [&] {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  };
  if (opt.threads) Eigen::setNbThreads(static_cast<int>(opt.threads));

  const Mat xn = normalized_rows(data, rows, dim), xo = normalized_rows(old_data, rows, old_dim);
  const std::uint32_t hidden = opt.hidden ? opt.hidden : std::min<std::uint32_t>(dim, 512);
  std::mt19937_64 rng(opt.seed);
  // The adapter starts as the ridge least-squares linear map from new to old vectors (its skip
  // path), its MLP path at zero.
  mlp::Block<float> g(dim, hidden, old_dim, rng);
  detail::PhaseProgress start_progress(progress, elapsed, MlpPhase::start, rows);
  const Mat map = ridge_map(xn, xo, start_progress);  // dim x old_dim
  g.has_skip = true;
  // Scaled to order-1 outputs (the adapter's output is normalised, so any scale encodes the same
  // vectors): at the map's own scale (entries ~1/sqrt(d)) Adam's per-weight steps swamped it and
  // training took bible's v2 -> v1 recall from 0.66 (the map alone) to 0.49; scaled, 0.66.
  g.skip.W = std::sqrt(float(old_dim)) * map.transpose();
  g.skip.b = RowF::Zero(old_dim);
  g.skip.dW.resize(old_dim, dim);
  g.skip.db.resize(old_dim);
  g.l2.W.setZero();
  std::vector<Parameter> params;
  detail::block_parameters(g, params);
  Adam adam(std::move(params));

  // Batches of neighbourhoods in the old space; a new vector should rank the batch's old
  // vectors as its own old vector does (itself first).
  detail::PhaseProgress neighbours_progress(progress, elapsed, MlpPhase::neighbours, rows);
  NeighbourhoodBatches batches(xo, o.neighbours, 4, std::ref(neighbours_progress));
  const std::uint32_t n = static_cast<std::uint32_t>(std::min<std::size_t>(o.batch, rows));
  const std::uint64_t steps_per_epoch = std::max<std::uint64_t>(1, rows / n);
  const std::uint32_t epochs = o.epochs ? o.epochs : detail::default_epochs(steps_per_epoch);
  const auto tau = static_cast<float>(o.tau);
  std::vector<std::uint32_t> pick(n);
  Mat bn(n, dim), bo(n, old_dim);
  const double lr = o.lr > 0 ? o.lr : 1e-3;
  std::vector<double> losses = detail::run_steps(epochs, steps_per_epoch, lr, adam, progress, elapsed, [&] {
    batches.anchors(pick.data(), n, rng);
    for (std::uint32_t i = 0; i < n; ++i) {
      bn.row(i) = xn.row(pick[i]);
      bo.row(i) = xo.row(pick[i]);
    }
    const Mat y = g.forward(bn, true);
    Mat dy;
    const double loss =
        mlp::cross_similarity_loss<float>(y, bo, mlp::softmax_rows<float>(bo * bo.transpose() / tau, false), tau, dy);
    g.backward(dy);
    return loss;
  });
  auto trained = std::make_shared<MlpModel>(old_model);
  trained->adapter = g.fold();
  trained->adapter_hidden = hidden;
  trained->input_dim = dim;
  trained->inner_dim = old_dim;
  trained->compatible_with = old_binarizer.shape().model_id;
  Binarizer binarizer = Binarizer::mlp(std::move(trained));
  return MlpTraining{std::move(binarizer), std::move(losses), epochs, lr, elapsed()};
}

}  // namespace bebr
