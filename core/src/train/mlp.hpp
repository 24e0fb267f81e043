// Building blocks of the learned BEBR binarizer (private to core: the only Eigen header chain,
// included by the model's encode path and by training, never by a public header): the layers of
// the paper's transformation blocks, Linear -> BatchNorm -> ReLU -> Linear, with exact backward
// passes, the sign with a straight-through (hard-tanh) gradient, and the recurrent model built
// from them. Batches are row-major matrices (one example per row). Templated on the scalar so
// tests check gradients in double. The losses are in train/loss.hpp.
//
//   bebr::detail::mlp::Block<float> block(in, hidden, out, rng);
//   Eigen::MatrixXf y = block.forward(x, /*train=*/true);   // caches what backward needs
//   Eigen::MatrixXf dx = block.backward(dy);                // fills the parameter gradients
//   bebr::detail::mlp::Folded<float> f = block.fold();      // eval mode, BatchNorm folded in
#pragma once

#include <Eigen/Dense>

#include <cmath>
#include <random>
#include <vector>

namespace bebr::detail::mlp {

template <class S>
using Matrix = Eigen::Matrix<S, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
template <class S>
using Vector = Eigen::Matrix<S, Eigen::Dynamic, 1>;
template <class S>
using Row = Eigen::Matrix<S, 1, Eigen::Dynamic>;

// y = x W^T + b, W: out x in.
template <class S>
struct Linear {
  Matrix<S> W, dW;
  Row<S> b, db;
  Matrix<S> x;  // the input of the last forward, for backward

  Linear() = default;
  // He-style uniform start: U(-a, a) with a = sqrt(6 / in) (scaled for ReLU), zero bias.
  template <class Rng>
  Linear(Eigen::Index in, Eigen::Index out, Rng& rng) : W(out, in), dW(out, in), b(Row<S>::Zero(out)), db(out) {
    std::uniform_real_distribution<double> u(-1.0, 1.0);
    const double a = std::sqrt(6.0 / static_cast<double>(in));
    for (Eigen::Index i = 0; i < W.size(); ++i) W.data()[i] = static_cast<S>(a * u(rng));
  }
  Matrix<S> forward(const Matrix<S>& in) {
    x = in;
    return apply(in);
  }
  Matrix<S> apply(const Matrix<S>& in) const { return (in * W.transpose()).rowwise() + b; }
  // Accumulates nothing: sets dW, db from dy; returns dL/dx.
  Matrix<S> backward(const Matrix<S>& dy) {
    dW = dy.transpose() * x;
    db = dy.colwise().sum();
    return dy * W;
  }
};

// Batch normalisation over the batch (training) or with running statistics (evaluation).
template <class S>
struct BatchNorm {
  Row<S> gamma, beta, dgamma, dbeta, mean, var;  // mean, var: running statistics
  S eps = S(1e-5), momentum = S(0.1);
  // Cache of the last training forward.
  Matrix<S> xhat;
  Row<S> inv_std;

  BatchNorm() = default;
  explicit BatchNorm(Eigen::Index n)
      : gamma(Row<S>::Ones(n)),
        beta(Row<S>::Zero(n)),
        dgamma(n),
        dbeta(n),
        mean(Row<S>::Zero(n)),
        var(Row<S>::Ones(n)) {}

  Matrix<S> forward(const Matrix<S>& x, bool train) {
    if (!train) return apply(x);
    const auto rows = static_cast<S>(x.rows());
    const Row<S> mu = x.colwise().mean();
    const Matrix<S> centred = x.rowwise() - mu;
    const Row<S> v = centred.array().square().colwise().sum() / rows;  // biased, as in training
    inv_std = (v.array() + eps).rsqrt();
    xhat = centred.array().rowwise() * inv_std.array();
    mean = (S(1) - momentum) * mean + momentum * mu;
    const S unbiased = x.rows() > 1 ? rows / (rows - S(1)) : S(1);
    var = (S(1) - momentum) * var + momentum * unbiased * v;
    return (xhat.array().rowwise() * gamma.array()).rowwise() + beta.array();
  }
  Matrix<S> apply(const Matrix<S>& x) const {
    const Row<S> scale = gamma.array() * (var.array() + eps).rsqrt();
    return (((x.rowwise() - mean).array().rowwise() * scale.array()).rowwise() + beta.array()).matrix();
  }
  // Backward of the training forward.
  Matrix<S> backward(const Matrix<S>& dy) {
    const auto rows = static_cast<S>(dy.rows());
    dgamma = (dy.array() * xhat.array()).colwise().sum();
    dbeta = dy.colwise().sum();
    const Matrix<S> dxhat = dy.array().rowwise() * gamma.array();
    // dx = inv_std / N * (N dxhat - sum(dxhat) - xhat * sum(dxhat * xhat)), per column.
    const Row<S> sum_d = dxhat.colwise().sum();
    const Row<S> sum_dx = (dxhat.array() * xhat.array()).colwise().sum();
    Matrix<S> dx = (rows * dxhat.array()).matrix();
    dx = dx.rowwise() - sum_d;
    dx = dx - Matrix<S>(xhat.array().rowwise() * sum_dx.array());
    return dx.array().rowwise() * (inv_std.array() / rows);
  }
};

template <class S>
Matrix<S> relu(const Matrix<S>& x) {
  return x.cwiseMax(S(0));
}
// dL/dx of relu given its input x.
template <class S>
Matrix<S> relu_backward(const Matrix<S>& x, const Matrix<S>& dy) {
  return (x.array() > S(0)).select(dy, S(0));
}

// sign with sign(0) = +1; its straight-through gradient passes dy where |x| <= 1 (hard tanh).
template <class S>
Matrix<S> sign(const Matrix<S>& x) {
  return (x.array() >= S(0)).select(Matrix<S>::Constant(x.rows(), x.cols(), S(1)), S(-1));
}
template <class S>
Matrix<S> sign_backward(const Matrix<S>& x, const Matrix<S>& dy) {
  return (x.array().abs() <= S(1)).select(dy, S(0));
}

// Row-wise L2 normalisation y = x / |x| (the reconstruction blocks' output); a zero row stays 0.
template <class S>
Matrix<S> l2_normalize(const Matrix<S>& x) {
  Matrix<S> y = x;
  for (Eigen::Index i = 0; i < x.rows(); ++i) {
    const S n = x.row(i).norm();
    if (n > S(0)) y.row(i) /= n;
  }
  return y;
}
// dL/dx given x and dL/dy: (dy - y <y, dy>) / |x| per row.
template <class S>
Matrix<S> l2_normalize_backward(const Matrix<S>& x, const Matrix<S>& dy) {
  Matrix<S> dx = Matrix<S>::Zero(x.rows(), x.cols());
  for (Eigen::Index i = 0; i < x.rows(); ++i) {
    const S n = x.row(i).norm();
    if (!(n > S(0))) continue;
    const Row<S> y = x.row(i) / n;
    dx.row(i) = (dy.row(i) - y * y.dot(dy.row(i))) / n;
  }
  return dx;
}

// Evaluation form of a Block: BatchNorm folded into the first Linear.
template <class S>
struct Folded {
  Linear<S> first, second, skip;  // skip: empty (0 x 0) when the block has none
  Matrix<S> apply(const Matrix<S>& x) const {
    Matrix<S> y = second.apply(relu<S>(first.apply(x)));
    if (skip.W.size()) y += skip.apply(x);
    return y;
  }
};

// Linear -> BatchNorm -> ReLU -> Linear, plus optionally a linear skip path from input to output:
// y = l2(relu(bn(l1(x)))) + skip(x). With the skip set to a known linear map and l2 zero, the block
// starts as that map and training learns the non-linear correction.
template <class S>
struct Block {
  Linear<S> l1, l2, skip;
  BatchNorm<S> bn;
  bool has_skip = false;
  Matrix<S> pre_relu;  // cache

  Block() = default;
  template <class Rng>
  Block(Eigen::Index in, Eigen::Index hidden, Eigen::Index out, Rng& rng)
      : l1(in, hidden, rng), l2(hidden, out, rng), bn(hidden) {}

  Matrix<S> forward(const Matrix<S>& x, bool train) {
    pre_relu = bn.forward(l1.forward(x), train);
    Matrix<S> y = l2.forward(relu<S>(pre_relu));
    if (has_skip) y += skip.forward(x);
    return y;
  }
  Matrix<S> backward(const Matrix<S>& dy) {
    Matrix<S> dx = l1.backward(bn.backward(relu_backward<S>(pre_relu, l2.backward(dy))));
    if (has_skip) dx += skip.backward(dy);
    return dx;
  }
  // y = x W^T + b then BN(y) = (y - mean) * s + beta with s = gamma / sqrt(var + eps):
  // W' = diag(s) W, b' = (b - mean) * s + beta.
  Folded<S> fold() const {
    Folded<S> f;
    const Row<S> s = bn.gamma.array() * (bn.var.array() + bn.eps).rsqrt();
    f.first.W = s.transpose().asDiagonal() * l1.W;
    f.first.b = ((l1.b - bn.mean).array() * s.array()).matrix() + bn.beta;
    f.second.W = l2.W;
    f.second.b = l2.b;
    if (has_skip) {
      f.skip.W = skip.W;
      f.skip.b = skip.b;
    }
    return f;
  }
};

// Recurrent binarization with learned transformations (the paper's model): for an input x
// (one unit-norm embedding per row, d columns) and K planes of m bits,
//   b_0 = sign(W(x)),                u_0 = b_0
//   r_i = normalize(B_i(u_{i-1}))    the reconstruction from the code so far (d columns)
//   b_i = sign(R_i(x - r_i)),        u_i = u_{i-1} + 2^-i b_i,   i = 1 .. K-1
// W, B_i, R_i are Linear-BN-ReLU-Linear blocks. u = u_{K-1} is the code: its planes are b_k and
// its values (2 n - (2^K - 1)) / 2^(K-1) with the digits n of the code format (scale 1).
template <class S>
struct Recurrent {
  Block<S> W;
  std::vector<Block<S>> B, R;  // K - 1 each
  int planes = 1;
  bool straight_through = true;  // false: identity in place of sign (gradient checks only)

  Recurrent() = default;
  template <class Rng>
  Recurrent(Eigen::Index d, Eigen::Index m, Eigen::Index hidden, int bits, Rng& rng)
      : W(d, hidden, m, rng), planes(bits) {
    for (int i = 1; i < bits; ++i) {
      B.emplace_back(m, hidden, d, rng);
      R.emplace_back(d, hidden, m, rng);
    }
  }

  // The code u (n x m); caches what backward needs when train.
  Matrix<S> forward(const Matrix<S>& x, bool train) {
    x_ = x;
    z_.assign(static_cast<std::size_t>(planes), Matrix<S>());
    y_.assign(static_cast<std::size_t>(planes), Matrix<S>());
    z_[0] = W.forward(x, train);
    Matrix<S> u = binarize(z_[0]);
    for (int i = 1; i < planes; ++i) {
      const auto k = static_cast<std::size_t>(i);
      y_[k] = B[k - 1].forward(u, train);
      const Matrix<S> residual = x - l2_normalize<S>(y_[k]);
      z_[k] = R[k - 1].forward(residual, train);
      u += std::ldexp(S(1), -i) * binarize(z_[k]);
    }
    return u;
  }

  // dL/dx from dL/du; fills every block's parameter gradients.
  Matrix<S> backward(const Matrix<S>& du_in) {
    Matrix<S> du = du_in, dx = Matrix<S>::Zero(x_.rows(), x_.cols());
    for (int i = planes - 1; i >= 1; --i) {
      const auto k = static_cast<std::size_t>(i);
      const Matrix<S> dz = binarize_backward(z_[k], std::ldexp(S(1), -i) * du);
      const Matrix<S> dres = R[k - 1].backward(dz);  // residual = x - normalize(y)
      dx += dres;
      du += B[k - 1].backward(l2_normalize_backward<S>(y_[k], -dres));
    }
    return dx + W.backward(binarize_backward(z_[0], du));
  }

 private:
  Matrix<S> binarize(const Matrix<S>& z) const { return straight_through ? sign<S>(z) : z; }
  Matrix<S> binarize_backward(const Matrix<S>& z, const Matrix<S>& d) const {
    return straight_through ? sign_backward<S>(z, d) : d;
  }
  Matrix<S> x_;
  std::vector<Matrix<S>> z_, y_;
};

}  // namespace bebr::detail::mlp
