// Training of the learned binarizer: exact neighbours of every training row, batches of
// neighbourhoods (so every batch holds hard negatives), the soft contrastive loss whose targets are
// the float similarities (optionally the one-positive InfoNCE too), Adam; and the adapter that
// makes a new model compatible with an old one.
#include "bebr/train.hpp"

#include <Eigen/Dense>
#include <algorithm>
#include <chrono>
#include <cmath>
#include <numeric>
#include <random>
#include <string>

#include "bebr/binarize.hpp"
#include "bebr/codes.hpp"
#include "bebr/error.hpp"

namespace bebr {

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

Mat normalized_rows(std::span<const float> data, std::size_t rows, std::uint32_t dim) {
  Mat x = Eigen::Map<const Mat>(data.data(), static_cast<Eigen::Index>(rows), dim);
  return mlp::l2_normalize<float>(x);
}

// The `k` nearest rows of every row of x by cosine (rows normalised), itself excluded, best first.
std::vector<std::uint32_t> neighbours_of(const Mat& x, std::uint32_t k) {
  const Eigen::Index n = x.rows();
  std::vector<std::uint32_t> out(static_cast<std::size_t>(n) * k);
  constexpr Eigen::Index kBlock = 512;
  std::vector<std::uint32_t> order(static_cast<std::size_t>(n));
  for (Eigen::Index r0 = 0; r0 < n; r0 += kBlock) {
    const Eigen::Index rb = std::min(kBlock, n - r0);
    const Mat sim = x.middleRows(r0, rb) * x.transpose();
    for (Eigen::Index i = 0; i < rb; ++i) {
      std::iota(order.begin(), order.end(), 0u);
      const auto self = static_cast<std::uint32_t>(r0 + i);
      const auto better = [&](std::uint32_t a, std::uint32_t b) {
        if (a == self || b == self) return b == self && a != self;
        const float sa = sim(i, a), sb = sim(i, b);
        return sa > sb || (sa == sb && a < b);
      };
      std::partial_sort(order.begin(), order.begin() + k, order.end(), better);
      std::copy_n(order.begin(), k, out.begin() + static_cast<std::ptrdiff_t>((r0 + i) * k));
    }
  }
  return out;
}

struct Parameter {
  float* w;
  const float* g;
  Eigen::Index size;
};

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

// Adam (Kingma & Ba 2015, default betas) over a fixed list of parameters.
class Adam {
 public:
  explicit Adam(std::vector<Parameter> params) : params_(std::move(params)) {
    for (const Parameter& p : params_) {
      m_.emplace_back(static_cast<std::size_t>(p.size), 0.f);
      v_.emplace_back(static_cast<std::size_t>(p.size), 0.f);
    }
  }
  void step(double lr) {
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

 private:
  static constexpr double kBeta1 = 0.9, kBeta2 = 0.999;
  std::vector<Parameter> params_;
  std::uint64_t t_ = 0;
  std::vector<std::vector<float>> m_, v_;
};

Mat random_orthogonal(Eigen::Index n, std::mt19937_64& rng) {
  std::normal_distribution<float> g;
  Eigen::MatrixXf gauss(n, n);
  for (Eigen::Index i = 0; i < gauss.size(); ++i) gauss.data()[i] = g(rng);
  return Eigen::HouseholderQR<Eigen::MatrixXf>(gauss).householderQ();
}

// The skip paths start from this m x d matrix of orthonormal rows, so an untrained model is the
// centred recurrent binarization of A x.
// - m >= d: the identity first, then rows of random orthogonal matrices.
// - m < d: the top m principal directions of the training rows, turned by a random rotation of
//   the m-space. Dropping the weakest directions frees bits for more planes on the rest (bible at
//   256 bytes, untrained: 4 bits x 512 reach recall 0.928, 2 bits x 1024 0.858); the rotation
//   spreads the kept variance evenly, which one step size for every coordinate needs (without
//   it: bible 4 x 512 0.665, sap 3 x 256 0.627 against 0.899).
Mat projection(const Mat& x, const RowF& mu, std::uint32_t m, std::mt19937_64& rng) {
  const auto d = static_cast<std::uint32_t>(x.cols());
  if (m < d) {
    const Mat c = x.rowwise() - mu;
    const Eigen::SelfAdjointEigenSolver<Eigen::MatrixXf> eig(c.transpose() * c);
    Mat top(m, d);  // eigenvalues ascend: the last columns are the strongest directions
    for (std::uint32_t r = 0; r < m; ++r) top.row(r) = eig.eigenvectors().col(d - 1 - r).transpose();
    return random_orthogonal(m, rng) * top;
  }
  Mat a(m, d);
  for (std::uint32_t r = 0; r < m; r += d) {
    const std::uint32_t take = std::min(d, m - r);
    a.middleRows(r, take) = r == 0 ? Mat(Mat::Identity(d, d)) : Mat(random_orthogonal(d, rng).topRows(take));
  }
  return a;
}

// Passes over the data when the options leave them at 0: 10, or fewer on big sets, so that
// training takes about 600 steps. Fashion-MNIST's 20,000 rows at 4 bits x 384: 4 passes reach
// recall 0.907 in 146 s, 10 passes 0.916 in 419 s (2 cores).
std::uint32_t default_epochs(std::uint64_t steps_per_epoch) {
  constexpr std::uint64_t kSteps = 600;
  return static_cast<std::uint32_t>(std::clamp<std::uint64_t>((kSteps + steps_per_epoch - 1) / steps_per_epoch, 1, 10));
}

double learning_rate(const MlpOptions& o) { return o.lr > 0 ? o.lr : o.bits == 1 ? 1e-3 : 1e-4; }

void check_options(const MlpOptions& o, std::size_t rows, std::uint32_t dim) {
  const auto bad = [](const std::string& what) { throw Error(Errc::invalid_argument, what); };
  if (o.bits < 1 || o.bits > kMaxBits) bad("option bits must be in 1..8; got " + std::to_string(o.bits));
  if (dim < 1 || dim > kMaxDim) bad("vectors must have 1.." + std::to_string(kMaxDim) + " floats; got " + std::to_string(dim));
  if (o.code_dim > kMaxDim) bad("option dim must be in 1.." + std::to_string(kMaxDim) + "; got " + std::to_string(o.code_dim));
  if (o.hidden > 16384) bad("option hidden must be in 1..16384; got " + std::to_string(o.hidden));
  if (o.batch < 4 || o.batch > 65536) bad("option batch must be in 4..65536; got " + std::to_string(o.batch));
  if (o.neighbours < 1 || o.neighbours > 256) bad("option neighbours must be in 1..256; got " + std::to_string(o.neighbours));
  if (!(o.lr >= 0 && o.lr <= 1)) bad("option lr must be in (0, 1]; got " + std::to_string(o.lr));
  if (!(o.tau > 0 && o.tau <= 10)) bad("option tau must be in (0, 10]; got " + std::to_string(o.tau));
  if (o.epochs > 100000) bad("option epochs must be at most 100000; got " + std::to_string(o.epochs));
  if (rows < 2) bad("training needs at least 2 vectors; got " + std::to_string(rows));
}

}  // namespace

void MlpModel::allocate() {
  const Eigen::Index d = inner_dim, m = code_dim, h = hidden;
  if (adapter_hidden) adapter = empty_block(input_dim, adapter_hidden, d);
  W = empty_block(d, h, m);
  B.assign(bits - 1, empty_block(m, h, d));
  R.assign(bits - 1, empty_block(d, h, m));
}

MlpModel MlpModel::fold(const mlp::Recurrent<float>& r, std::uint32_t input_dim, std::uint32_t code_dim,
                        std::uint32_t hidden) {
  MlpModel m;
  m.input_dim = input_dim;
  m.inner_dim = input_dim;
  m.code_dim = code_dim;
  m.hidden = hidden;
  m.bits = static_cast<std::uint32_t>(r.planes);
  m.W = r.W.fold();
  for (std::size_t i = 0; i < r.B.size(); ++i) {
    m.B.push_back(r.B[i].fold());
    m.R.push_back(r.R[i].fold());
  }
  return m;
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
    for (std::uint32_t j = 0; j < code_dim; ++j) out[j] = static_cast<std::uint8_t>(2 * out[j] + (z(0, j) >= 0 ? 1 : 0));
  }
}

namespace {

// Batches of neighbourhoods: groups of a seed row (every row in turn, shuffled each pass) and
// random ones of its k nearest neighbours, so the rows of a batch are hard negatives for each
// other.
class NeighbourhoodBatches {
 public:
  NeighbourhoodBatches(const Mat& x, std::uint32_t neighbours, std::uint32_t group)
      : k_(static_cast<std::uint32_t>(std::min<std::size_t>(neighbours, static_cast<std::size_t>(x.rows()) - 1))),
        group_(std::min(group, k_ + 1)), nn_(neighbours_of(x, k_)), seeds_(static_cast<std::size_t>(x.rows())) {
    std::iota(seeds_.begin(), seeds_.end(), 0u);
    next_ = seeds_.size();
  }
  void anchors(std::uint32_t* pick, std::uint32_t n, std::mt19937_64& rng) {
    for (std::uint32_t i = 0; i < n;) {
      if (next_ == seeds_.size()) {
        std::shuffle(seeds_.begin(), seeds_.end(), rng);
        next_ = 0;
      }
      const std::uint32_t seed = seeds_[next_++];
      pick[i++] = seed;
      for (std::uint32_t g = 1; g < group_ && i < n; ++g) pick[i++] = neighbour(seed, k_, rng);
    }
  }
  // One of the `among` nearest neighbours of `row`.
  std::uint32_t neighbour(std::uint32_t row, std::uint32_t among, std::mt19937_64& rng) const {
    const std::uint32_t top = std::min(among, k_);
    return nn_[std::size_t{row} * k_ + std::uniform_int_distribution<std::uint32_t>(0, top - 1)(rng)];
  }

 private:
  std::uint32_t k_, group_;
  std::vector<std::uint32_t> nn_, seeds_;
  std::size_t next_ = 0;
};

// The step loop both trainings share: progress and interruption before every step, Adam with a
// cosine-decayed step size, the mean loss of every epoch. `step` computes the gradients of one
// batch and returns its loss.
template <class Step>
std::vector<double> run_steps(std::uint32_t epochs, std::uint64_t steps_per_epoch, double lr, Adam& adam,
                              const MlpProgressFn& progress, const std::function<double()>& elapsed, Step&& step,
                              const std::function<void()>& after_update = {}) {
  std::vector<double> losses;
  MlpProgress p;
  p.epochs = epochs;
  p.steps = steps_per_epoch * epochs;
  for (std::uint32_t e = 0; e < epochs; ++e) {
    double sum = 0;
    for (std::uint64_t s = 0; s < steps_per_epoch; ++s) {
      p.epoch = e + 1;
      p.seconds = elapsed();
      if (progress && !progress(p)) throw Error(Errc::interrupted, "training interrupted");
      sum += step();
      adam.step(lr * 0.5 * (1 + std::cos(M_PI * double(p.step) / double(p.steps))));
      if (after_update) after_update();
      ++p.step;
    }
    losses.push_back(sum / double(steps_per_epoch));
    p.loss = losses.back();
  }
  return losses;
}

}  // namespace

MlpTraining train_mlp(std::span<const float> data, std::size_t rows, std::uint32_t dim, const MlpOptions& opt,
                      const MlpProgressFn& progress) {
  check_options(opt, rows, dim);
  if (data.size() != rows * dim) throw Error(Errc::internal, "train_mlp: data size does not match rows x dim");
  const auto started = std::chrono::steady_clock::now();
  const auto elapsed = [&] { return std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count(); };
  if (opt.threads) Eigen::setNbThreads(static_cast<int>(opt.threads));

  const std::uint32_t m = opt.code_dim ? opt.code_dim : dim;
  const std::uint32_t hidden = opt.hidden ? opt.hidden : std::min<std::uint32_t>(dim, 512);
  const Mat x = normalized_rows(data, rows, dim);
  std::mt19937_64 rng(opt.seed);
  mlp::Recurrent<float> model(dim, m, hidden, static_cast<int>(opt.bits), rng);
  // Start as the centred recurrent binarization of the projections A x (see projection()): the
  // skip paths carry it, the MLP paths start at zero. The codes' reconstruction in code space is
  // v = alpha u + mu_c (mu_c = A mu), compared de-centred like the center binarizer's.
  const RowF mu = x.colwise().mean();
  const Mat a = projection(x, mu, m, rng);
  RowF mu_c = mu * a.transpose();
  // The plane-0 step: mean |value| at 1 bit (the least-squares scale of sign bits); at K bits the
  // step of the best uniform quantiser of a Gaussian of the same RMS, as the center binarizer
  // starts (bits 4 untrained on sap: 0.937 against 0.913 with mean |value|).
  float alpha;
  {
    const Mat centred = (x.rowwise() - mu) * a.transpose();
    const double rms = std::sqrt(centred.squaredNorm() / double(centred.size()));
    alpha = opt.bits == 1 ? centred.cwiseAbs().mean()
                          : static_cast<float>(rms * kGaussianStep[opt.bits - 1] * std::ldexp(1.0, int(opt.bits) - 2));
  }
  if (!(alpha > 0)) alpha = 1;  // every training row the same vector
  const float alpha0 = alpha;
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
  skip(model.W, a / alpha, -mu_c / alpha);
  for (std::size_t i = 0; i < model.B.size(); ++i) {
    skip(model.B[i], std::min(1.f, float(dim) / float(m)) * a.transpose(), mu / alpha);  // A^+ (normalised after)
    skip(model.R[i], std::ldexp(1.f, static_cast<int>(i) + 1) / alpha * a, RowF::Zero(m));
  }
  std::vector<Parameter> params = parameters_of(model);
  RowF dmu_c(m);
  float dalpha = 0;
  params.push_back({mu_c.data(), dmu_c.data(), m});
  params.push_back({&alpha, &dalpha, 1});
  Adam adam(std::move(params));

  // A batch: `half` anchors in groups of neighbours, then one positive per anchor (one of its 3
  // nearest neighbours).
  NeighbourhoodBatches batches(x, opt.neighbours, 4);
  const std::uint32_t half = static_cast<std::uint32_t>(std::min<std::size_t>(opt.batch / 2, rows));
  const std::uint64_t steps_per_epoch = std::max<std::uint64_t>(1, rows / half);
  const std::uint32_t epochs = opt.epochs ? opt.epochs : default_epochs(steps_per_epoch);
  std::vector<std::uint32_t> pick(2 * half);
  Mat batch(2 * half, dim);
  const auto wc = static_cast<float>(opt.contrastive), ws = static_cast<float>(opt.similarity);
  const auto tau = static_cast<float>(opt.tau);

  MlpTraining out;
  out.lr = learning_rate(opt);
  out.loss = run_steps(epochs, steps_per_epoch, out.lr, adam, progress, elapsed, [&] {
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
  }, [&] { alpha = std::max(alpha, alpha0 * 1e-3f); });  // the reconstruction's scale stays positive
  out.model = MlpModel::fold(model, dim, m, hidden);
  out.model.alpha = alpha;
  out.model.mean.assign(mu_c.data(), mu_c.data() + m);
  out.epochs = epochs;
  out.seconds = elapsed();
  return out;
}

MlpTraining train_compatible(std::span<const float> data, std::span<const float> old_data, std::size_t rows,
                             std::uint32_t dim, const MlpModel& old_model, const MlpOptions& opt,
                             const MlpProgressFn& progress) {
  MlpOptions o = opt;
  o.bits = old_model.bits;
  o.code_dim = old_model.code_dim;
  check_options(o, rows, dim);
  if (old_model.adapter_hidden)
    throw Error(Errc::invalid_argument, "the old model is itself compatible with another model; train against that one");
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
  const float lambda = 1e-2f * xn.squaredNorm() / float(dim);
  const Mat gram = xn.transpose() * xn + lambda * Mat::Identity(dim, dim);
  const Mat map = gram.ldlt().solve(Mat(xn.transpose() * xo));  // dim x old_dim
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
  block_parameters(g, params);
  Adam adam(std::move(params));

  // Batches of neighbourhoods in the old space; a new vector should rank the batch's old
  // vectors as its own old vector does (itself first).
  NeighbourhoodBatches batches(xo, o.neighbours, 4);
  const std::uint32_t n = static_cast<std::uint32_t>(std::min<std::size_t>(o.batch, rows));
  const std::uint64_t steps_per_epoch = std::max<std::uint64_t>(1, rows / n);
  const std::uint32_t epochs = o.epochs ? o.epochs : default_epochs(steps_per_epoch);
  const auto tau = static_cast<float>(o.tau);
  std::vector<std::uint32_t> pick(n);
  Mat bn(n, dim), bo(n, old_dim);
  MlpTraining out;
  out.lr = o.lr > 0 ? o.lr : 1e-3;
  out.loss = run_steps(epochs, steps_per_epoch, out.lr, adam, progress, elapsed, [&] {
    batches.anchors(pick.data(), n, rng);
    for (std::uint32_t i = 0; i < n; ++i) {
      bn.row(i) = xn.row(pick[i]);
      bo.row(i) = xo.row(pick[i]);
    }
    const Mat y = g.forward(bn, true);
    Mat dy;
    const double loss = mlp::cross_similarity_loss<float>(y, bo, mlp::softmax_rows<float>(bo * bo.transpose() / tau, false),
                                                          tau, dy);
    g.backward(dy);
    return loss;
  });
  out.model = old_model;
  out.model.adapter = g.fold();
  out.model.adapter_hidden = hidden;
  out.model.input_dim = dim;
  out.model.inner_dim = old_dim;
  out.epochs = epochs;
  out.seconds = elapsed();
  return out;
}

}  // namespace bebr
