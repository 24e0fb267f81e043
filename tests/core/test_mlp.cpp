// The layers of the learned binarizer against finite differences (double precision): every
// analytic gradient of Linear, BatchNorm (training mode), the Linear-BN-ReLU-Linear block and its
// input, for the loss L = sum(Y .* G) with a fixed random G; folding BatchNorm for evaluation; the
// straight-through sign.
#include <catch2/catch.hpp>

#include <functional>
#include <random>
#include <vector>

#include "train/loss.hpp"
#include "train/mlp.hpp"

using namespace bebr::detail::mlp;
using M = Matrix<double>;

namespace {

M random_matrix(std::mt19937_64& rng, Eigen::Index r, Eigen::Index c, double scale = 1.0) {
  std::normal_distribution<double> n(0.0, scale);
  M m(r, c);
  for (Eigen::Index i = 0; i < m.size(); ++i) m.data()[i] = n(rng);
  return m;
}

// Central differences of loss() with respect to every entry of p, against `analytic`.
void check_gradient(double* p, Eigen::Index size, const std::function<double()>& loss, const double* analytic,
                    const char* what) {
  const double h = 1e-6;
  for (Eigen::Index i = 0; i < size; ++i) {
    const double keep = p[i];
    p[i] = keep + h;
    const double up = loss();
    p[i] = keep - h;
    const double down = loss();
    p[i] = keep;
    INFO(what << " entry " << i);
    CHECK(analytic[i] == Approx((up - down) / (2 * h)).epsilon(1e-5).margin(1e-6));
  }
}

double dot(const M& a, const M& b) { return (a.array() * b.array()).sum(); }

// A parameter (its storage), the analytic gradient computed for it, and its name.
struct Param {
  M& value;
  M gradient;
  const char* name;
};

// check_gradient for each parameter in turn.
void check_gradients(const std::vector<Param>& params, const std::function<double()>& loss) {
  for (const Param& p : params) check_gradient(p.value.data(), p.value.size(), loss, p.gradient.data(), p.name);
}

}  // namespace

TEST_CASE("Linear gradients match finite differences", "[mlp]") {
  std::mt19937_64 rng(1);
  Linear<double> l(4, 3, rng);
  l.b = random_matrix(rng, 1, 3);
  M x = random_matrix(rng, 5, 4);
  const M g = random_matrix(rng, 5, 3);
  l.forward(x);
  const M dx = l.backward(g);
  const M dW = l.dW;
  const M db = l.db;
  const auto loss = [&] { return dot(l.apply(x), g); };
  check_gradient(l.W.data(), l.W.size(), loss, dW.data(), "dW");
  check_gradient(l.b.data(), l.b.size(), loss, db.data(), "db");
  check_gradient(x.data(), x.size(), loss, dx.data(), "dx");
}

TEST_CASE("BatchNorm gradients in training mode match finite differences", "[mlp]") {
  std::mt19937_64 rng(2);
  BatchNorm<double> bn(3);
  bn.gamma = random_matrix(rng, 1, 3);
  bn.beta = random_matrix(rng, 1, 3);
  M x = random_matrix(rng, 6, 3, 2.0);
  const M g = random_matrix(rng, 6, 3);
  bn.forward(x, true);
  const M dx = bn.backward(g);
  M gamma = bn.gamma, beta = bn.beta;  // checked through copies written back before each loss
  const auto loss = [&] {
    bn.gamma = gamma;
    bn.beta = beta;
    return dot(bn.forward(x, true), g);
  };
  check_gradients({{gamma, bn.dgamma, "dgamma"}, {beta, bn.dbeta, "dbeta"}, {x, dx, "dx"}}, loss);
}

TEST_CASE("the Linear-BN-ReLU-Linear block's gradients match finite differences", "[mlp]") {
  for (const bool skip : {false, true}) {
    INFO("skip path " << skip);
    std::mt19937_64 rng(3);
    Block<double> block(5, 7, 4, rng);
    block.bn.gamma = random_matrix(rng, 1, 7);
    block.bn.beta = random_matrix(rng, 1, 7);
    block.has_skip = skip;
    block.skip = Linear<double>(5, 4, rng);
    block.skip.b = random_matrix(rng, 1, 4);
    M x = random_matrix(rng, 8, 5);
    const M g = random_matrix(rng, 8, 4);
    block.forward(x, true);
    const M dx = block.backward(g);
    M W1 = block.l1.W, b1 = block.l1.b, gamma = block.bn.gamma, beta = block.bn.beta, W2 = block.l2.W, b2 = block.l2.b;
    M Ws = block.skip.W, bs = block.skip.b;
    const auto loss = [&] {
      block.l1.W = W1, block.l1.b = b1, block.bn.gamma = gamma, block.bn.beta = beta, block.l2.W = W2, block.l2.b = b2;
      block.skip.W = Ws, block.skip.b = bs;
      return dot(block.forward(x, true), g);
    };
    std::vector<Param> params = {{W1, block.l1.dW, "dW1"},
                                 {b1, block.l1.db, "db1"},
                                 {gamma, block.bn.dgamma, "dgamma"},
                                 {beta, block.bn.dbeta, "dbeta"},
                                 {W2, block.l2.dW, "dW2"},
                                 {b2, block.l2.db, "db2"},
                                 {x, dx, "dx"}};
    if (skip) {
      params.push_back({Ws, block.skip.dW, "dWskip"});
      params.push_back({bs, block.skip.db, "dbskip"});
    }
    check_gradients(params, loss);
  }
}

TEST_CASE("folding BatchNorm gives the evaluation-mode block exactly", "[mlp]") {
  std::mt19937_64 rng(4);
  Block<double> block(6, 9, 3, rng);
  block.bn.gamma = random_matrix(rng, 1, 9);
  block.bn.beta = random_matrix(rng, 1, 9);
  block.bn.mean = random_matrix(rng, 1, 9);
  block.bn.var = random_matrix(rng, 1, 9).array().square() + 0.1;
  const M x = random_matrix(rng, 10, 6);
  const M want = block.forward(x, false);
  const M got = block.fold().apply(x);
  REQUIRE(got.rows() == want.rows());
  for (Eigen::Index i = 0; i < got.size(); ++i) CHECK(got.data()[i] == Approx(want.data()[i]).margin(1e-12));
  // And evaluation mode is (x W1^T + b1 - mean) gamma / sqrt(var + eps) + beta, by hand.
  const M h = ((((x * block.l1.W.transpose()).rowwise() + block.l1.b).rowwise() - block.bn.mean).array().rowwise() *
               (block.bn.gamma.array() / (block.bn.var.array() + block.bn.eps).sqrt()))
                  .rowwise() +
              block.bn.beta.array();
  const M by_hand = (h.cwiseMax(0.0) * block.l2.W.transpose()).rowwise() + block.l2.b;
  for (Eigen::Index i = 0; i < got.size(); ++i) CHECK(by_hand.data()[i] == Approx(want.data()[i]).margin(1e-12));

  // With a skip path: the folded block adds x Ws^T + bs.
  block.has_skip = true;
  block.skip = Linear<double>(6, 3, rng);
  block.skip.b = random_matrix(rng, 1, 3);
  const M with_skip = block.fold().apply(x);
  const M skip_by_hand = by_hand + ((x * block.skip.W.transpose()).rowwise() + block.skip.b);
  for (Eigen::Index i = 0; i < got.size(); ++i)
    CHECK(with_skip.data()[i] == Approx(skip_by_hand.data()[i]).margin(1e-12));
  CHECK((block.forward(x, false) - with_skip).cwiseAbs().maxCoeff() < 1e-12);
}

TEST_CASE("L2 normalisation's gradient matches finite differences", "[mlp]") {
  std::mt19937_64 rng(5);
  M x = random_matrix(rng, 4, 6);
  x.row(2).setZero();  // a zero row: output and gradient 0
  const M g = random_matrix(rng, 4, 6);
  const M y = l2_normalize<double>(x);
  for (Eigen::Index i : {0, 1, 3}) CHECK(y.row(i).norm() == Approx(1.0).margin(1e-15));
  CHECK(y.row(2).norm() == 0.0);
  const M dx = l2_normalize_backward<double>(x, g);
  const auto loss = [&] { return dot(l2_normalize<double>(x), g); };
  // The zero row has no derivative at 0; check the others.
  for (Eigen::Index r : {0, 1, 3}) {
    const M want = dx.row(r);
    check_gradient(x.row(r).data(), x.cols(), loss, want.data(), "dx");
  }
  CHECK(dx.row(2).norm() == 0.0);
}

TEST_CASE("the recurrent model's gradients match finite differences (sign as identity)", "[mlp]") {
  std::mt19937_64 rng(6);
  Recurrent<double> model(5, 6, 4, 3, rng);
  model.straight_through = false;  // a smooth function: the chain rule through every block
  M x = l2_normalize<double>(random_matrix(rng, 7, 5));
  const M g = random_matrix(rng, 7, 6);
  model.forward(x, true);
  const M dx = model.backward(g);
  const M dW = model.W.l1.dW, dB1 = model.B[1].l2.dW, dR0 = model.R[0].l1.dW;
  const M dB0b = model.B[0].l1.db, dR1g = model.R[1].bn.dgamma;
  const auto loss = [&] { return dot(model.forward(x, true), g); };
  check_gradient(model.W.l1.W.data(), model.W.l1.W.size(), loss, dW.data(), "W.l1.W");
  check_gradient(model.B[1].l2.W.data(), model.B[1].l2.W.size(), loss, dB1.data(), "B[1].l2.W");
  check_gradient(model.R[0].l1.W.data(), model.R[0].l1.W.size(), loss, dR0.data(), "R[0].l1.W");
  check_gradient(model.B[0].l1.b.data(), model.B[0].l1.b.size(), loss, dB0b.data(), "B[0].l1.b");
  check_gradient(model.R[1].bn.gamma.data(), model.R[1].bn.gamma.size(), loss, dR1g.data(), "R[1].bn.gamma");
  check_gradient(x.data(), x.size(), loss, dx.data(), "x");
}

TEST_CASE("the recurrent model's code is the code format's digits", "[mlp]") {
  std::mt19937_64 rng(7);
  for (const int bits : {1, 2, 4}) {
    Recurrent<double> model(8, 10, 6, bits, rng);
    const M x = l2_normalize<double>(random_matrix(rng, 9, 8));
    const M u = model.forward(x, false);
    // Every value is (2 n - (2^K - 1)) / 2^(K-1) for an integer digit n in [0, 2^K).
    const double c = (1 << bits) - 1, s = 1 << (bits - 1);
    for (Eigen::Index i = 0; i < u.size(); ++i) {
      const double n = (u.data()[i] * s + c) / 2;
      INFO("bits " << bits << " value " << u.data()[i]);
      CHECK(n == std::round(n));
      CHECK(n >= 0);
      CHECK(n <= c);
    }
  }
}

TEST_CASE("the contrastive loss and its gradient", "[mlp]") {
  std::mt19937_64 rng(8);
  M a = random_matrix(rng, 6, 5), p = random_matrix(rng, 6, 5);
  M da, dp;
  const double tau = 0.5;  // the training default is 0.05; a milder one keeps differences well scaled
  contrastive_loss<double>(a, p, tau, da, dp);
  const M want_a = da, want_p = dp;
  M ga, gp;
  const auto loss = [&] { return contrastive_loss<double>(a, p, tau, ga, gp); };
  check_gradient(a.data(), a.size(), loss, want_a.data(), "dA");
  check_gradient(p.data(), p.size(), loss, want_p.data(), "dP");
  // By hand, two pairs: identical pairs aligned, the others orthogonal: S = I / tau.
  M x(2, 2), y(2, 2);
  x << 1, 0, 0, 1;
  y << 3, 0, 0, 2;                                                  // norms do not matter
  const double want = std::log(std::exp(1 / tau) + 1.0) - 1 / tau;  // per row, both directions alike
  CHECK(contrastive_loss<double>(x, y, tau, ga, gp) == Approx(want).epsilon(1e-12));
  // Swapping the positives makes the loss larger.
  M swapped(2, 2);
  swapped << 0, 2, 3, 0;
  CHECK(contrastive_loss<double>(x, swapped, tau, ga, gp) > want + 1.0);
}

TEST_CASE("the straight-through sign", "[mlp]") {
  M x(1, 5);
  x << -2.0, -0.5, 0.0, 0.5, 2.0;
  const M s = sign<double>(x);
  CHECK(s(0, 0) == -1.0);
  CHECK(s(0, 1) == -1.0);
  CHECK(s(0, 2) == 1.0);  // sign(0) := +1, as every binarizer
  CHECK(s(0, 3) == 1.0);
  CHECK(s(0, 4) == 1.0);
  const M g = M::Constant(1, 5, 3.0);
  const M d = sign_backward<double>(x, g);
  CHECK(d(0, 0) == 0.0);  // |x| > 1: no gradient (hard tanh)
  CHECK(d(0, 1) == 3.0);
  CHECK(d(0, 2) == 3.0);
  CHECK(d(0, 3) == 3.0);
  CHECK(d(0, 4) == 0.0);
}
