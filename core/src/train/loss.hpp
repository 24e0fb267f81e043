// The training losses of the learned binarizer, on batches of codes (one row per example,
// row-major Eigen matrices; templated on the scalar so tests check gradients in double): the
// paper's symmetric contrastive loss, and the soft contrastive losses whose targets are the
// float vectors' similarities. Each returns the loss and writes its exact gradient.
//
//   Matrix<float> du;
//   const Matrix<float> t = softmax_rows<float>(x * x.transpose() / tau, true);
//   const float loss = similarity_loss<float>(u, t, tau, du);
#pragma once

#include <algorithm>
#include <cmath>
#include <limits>

#include "train/mlp.hpp"

namespace bebr::detail::mlp {

// The symmetric contrastive loss of the paper on the cosine similarity of two batches of codes:
// row i of A and row i of P are a positive pair, every other row of the batch a negative (the
// batch carries the hard negatives). With S = norm(A) norm(P)^T / tau,
//   loss = (CE(S, diagonal) + CE(S^T, diagonal)) / 2, CE averaged over rows.
// Returns the loss and sets dA, dP.
template <class S>
S contrastive_loss(const Matrix<S>& a, const Matrix<S>& p, S tau, Matrix<S>& da, Matrix<S>& dp) {
  const Eigen::Index n = a.rows();
  const Matrix<S> an = l2_normalize<S>(a), pn = l2_normalize<S>(p);
  const Matrix<S> logits = an * pn.transpose() / tau;
  // Softmax of the rows of `l` and its cross-entropy against the diagonal.
  const auto softmax_ce = [&](const Matrix<S>& l, Matrix<S>& probs) {
    probs.resize(n, n);
    S loss = 0;
    for (Eigen::Index i = 0; i < n; ++i) {
      const S mx = l.row(i).maxCoeff();
      const Row<S> e = (l.row(i).array() - mx).exp();
      const S sum = e.sum();
      probs.row(i) = e / sum;
      loss += std::log(sum) + mx - l(i, i);
    }
    return loss / static_cast<S>(n);
  };
  Matrix<S> p_rows, p_cols;
  const S loss = (softmax_ce(logits, p_rows) + softmax_ce(logits.transpose(), p_cols)) / S(2);
  // dL/dlogits: (softmax - I) / n for each direction, halved.
  const Matrix<S> eye = Matrix<S>::Identity(n, n);
  const Matrix<S> dl = ((p_rows - eye) + (p_cols - eye).transpose()) / (S(2) * static_cast<S>(n));
  const Matrix<S> dan = dl * pn / tau, dpn = dl.transpose() * an / tau;
  da = l2_normalize_backward<S>(a, dan);
  dp = l2_normalize_backward<S>(p, dpn);
  return loss;
}

// Row softmax of `logits`; with off_diagonal the diagonal is left out (its probability 0).
template <class S>
Matrix<S> softmax_rows(const Matrix<S>& logits, bool off_diagonal) {
  Matrix<S> p(logits.rows(), logits.cols());
  for (Eigen::Index i = 0; i < logits.rows(); ++i) {
    S mx = -std::numeric_limits<S>::infinity();
    for (Eigen::Index j = 0; j < logits.cols(); ++j)
      if (j != i || !off_diagonal) mx = std::max(mx, logits(i, j));
    S sum = 0;
    for (Eigen::Index j = 0; j < logits.cols(); ++j) {
      p(i, j) = j == i && off_diagonal ? S(0) : std::exp(logits(i, j) - mx);
      sum += p(i, j);
    }
    p.row(i) /= sum;
  }
  return p;
}

// The soft contrastive loss: every row of a batch of codes U against every other row, the target
// distribution T (rows summing to 1, zero diagonal) given by the float vectors' similarities:
//   loss = mean_i KL(T_i || softmax_j!=i(cos(u_i, u_j) / tau))
// so the codes of a batch rank one another as the floats do (a one-hot T is InfoNCE with one
// positive; neighbours in the batch are the hard negatives). Symmetric in U. Returns the loss,
// sets du.
template <class S>
S similarity_loss(const Matrix<S>& u, const Matrix<S>& target, S tau, Matrix<S>& du) {
  const Eigen::Index n = u.rows();
  const Matrix<S> un = l2_normalize<S>(u);
  const Matrix<S> p = softmax_rows<S>(un * un.transpose() / tau, true);
  S loss = 0;
  for (Eigen::Index i = 0; i < n; ++i)
    for (Eigen::Index j = 0; j < n; ++j)
      if (j != i && target(i, j) > 0)
        loss += target(i, j) * (std::log(target(i, j)) - std::log(std::max(p(i, j), std::numeric_limits<S>::min())));
  const Matrix<S> ds = (p - target) / static_cast<S>(n);
  du = l2_normalize_backward<S>(u, (ds + ds.transpose()) * un / tau);
  return loss / static_cast<S>(n);
}

// The same loss across two sets: row i of A (trained) against every row of B (fixed), diagonal
// included: mean_i KL(T_i || softmax_j(cos(a_i, b_j) / tau)). Returns the loss, sets da.
template <class S>
S cross_similarity_loss(const Matrix<S>& a, const Matrix<S>& b, const Matrix<S>& target, S tau, Matrix<S>& da) {
  const Eigen::Index n = a.rows();
  const Matrix<S> an = l2_normalize<S>(a), bn = l2_normalize<S>(b);
  const Matrix<S> p = softmax_rows<S>(an * bn.transpose() / tau, false);
  S loss = 0;
  for (Eigen::Index i = 0; i < n; ++i)
    for (Eigen::Index j = 0; j < p.cols(); ++j)
      if (target(i, j) > 0)
        loss += target(i, j) * (std::log(target(i, j)) - std::log(std::max(p(i, j), std::numeric_limits<S>::min())));
  da = l2_normalize_backward<S>(a, (p - target) * bn / (tau * static_cast<S>(n)));
  return loss / static_cast<S>(n);
}

}  // namespace bebr::detail::mlp
