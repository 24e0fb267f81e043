// The start of training: random rotations and the principal directions (train/start.hpp).
#include "train/start.hpp"

#include <algorithm>

namespace bebr::detail {

using Mat = mlp::Matrix<float>;

Mat random_orthogonal(Eigen::Index n, std::mt19937_64& rng) {
  std::normal_distribution<float> g;
  Eigen::MatrixXf gauss(n, n);
  for (Eigen::Index i = 0; i < gauss.size(); ++i) gauss.data()[i] = g(rng);
  return Eigen::HouseholderQR<Eigen::MatrixXf>(gauss).householderQ();
}

// - m >= d: the identity first, then rows of random orthogonal matrices.
// - m < d: the top m principal directions of the training rows, turned by a random rotation of
//   the m-space. Dropping the weakest directions frees bits for more planes on the rest (bible at
//   256 bytes, untrained: 4 bits x 512 reach recall 0.928, 2 bits x 1024 0.858); the rotation
//   spreads the kept variance evenly, which one step size for every coordinate needs (without
//   it: bible 4 x 512 0.665, sap 3 x 256 0.627 against 0.899).
Eigen::Index rows_per_block(Eigen::Index d) {
  return std::max<Eigen::Index>(1, (Eigen::Index{1} << 28) / std::max<Eigen::Index>(1, d * d));
}

Mat projection(const Mat& x, const mlp::Row<float>& mu, std::uint32_t m, std::mt19937_64& rng,
               const std::function<void(std::uint64_t)>& tick) {
  const auto d = static_cast<std::uint32_t>(x.cols());
  if (m < d) {
    // The scatter matrix in blocks of rows, so that progress and interrupts come between them.
    Mat scatter = Mat::Zero(d, d);
    const Eigen::Index block = rows_per_block(d);
    for (Eigen::Index r0 = 0; r0 < x.rows(); r0 += block) {
      if (tick) tick(static_cast<std::uint64_t>(r0));
      const Mat c = x.middleRows(r0, std::min(block, x.rows() - r0)).rowwise() - mu;
      scatter.noalias() += c.transpose() * c;
    }
    if (tick) tick(static_cast<std::uint64_t>(x.rows()));
    const Eigen::SelfAdjointEigenSolver<Eigen::MatrixXf> eig(scatter);
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

}  // namespace bebr::detail
