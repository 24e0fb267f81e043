// Where training starts: the linear map whose centred recurrent binarization an untrained model
// is (the principal directions of the training rows when the code is narrower than its input).
//
//   std::mt19937_64 rng(seed);
//   const Matrix<float> a = projection(x, x.colwise().mean(), m, rng);   // m x d
#pragma once

#include <cstdint>
#include <functional>
#include <random>

#include "train/mlp.hpp"

namespace bebr::detail {

// An n x n random orthogonal matrix (the Q of a Gaussian matrix's QR), drawn from rng.
mlp::Matrix<float> random_orthogonal(Eigen::Index n, std::mt19937_64& rng);

// The skip paths start from this m x d matrix of orthonormal rows (x: rows x d training rows,
// normalised; mu: their mean), so an untrained model is the centred recurrent binarization of
// A x. Draws from rng in a fixed order, so a seed gives one start. tick(rows done) between blocks
// of rows (it may throw to stop).
mlp::Matrix<float> projection(const mlp::Matrix<float>& x, const mlp::Row<float>& mu, std::uint32_t m,
                              std::mt19937_64& rng, const std::function<void(std::uint64_t)>& tick = {});

// Rows per block of a rows x d pass so that one block is about 2^28 multiply-adds of d x d.
Eigen::Index rows_per_block(Eigen::Index d);

}  // namespace bebr::detail
