// Exact neighbours of the training rows, and the batches of neighbourhoods training draws from
// them: every batch holds groups of near rows, which are the hard negatives for each other.
//
//   NeighbourhoodBatches batches(x, 16, 4);   // x: rows L2-normalised
//   batches.anchors(pick.data(), n, rng);     // n row indices in groups of 4 neighbours
//   batches.neighbour(pick[0], 3, rng);       // one of the 3 nearest of a row
#pragma once

#include <cstdint>
#include <functional>
#include <random>
#include <vector>

#include "train/mlp.hpp"

namespace bebr::detail {

// The `k` nearest rows of every row of x by cosine (rows normalised), itself excluded, best
// first, ties to the lower index: rows x k indices. Exact: blocks of rows against all rows, each
// block about 2^28 multiply-adds; tick(rows done) before every block (it may throw to stop).
std::vector<std::uint32_t> neighbours_of(const mlp::Matrix<float>& x, std::uint32_t k,
                                         const std::function<void(std::uint64_t)>& tick = {});

// Batches of neighbourhoods: groups of a seed row (every row in turn, shuffled each pass) and
// random ones of its k nearest neighbours, so the rows of a batch are hard negatives for each
// other.
class NeighbourhoodBatches {
 public:
  // Finds min(neighbours, rows - 1) neighbours of every row of x; groups of `group` rows.
  NeighbourhoodBatches(const mlp::Matrix<float>& x, std::uint32_t neighbours, std::uint32_t group,
                       const std::function<void(std::uint64_t)>& tick = {});
  // Writes n row indices to pick.
  void anchors(std::uint32_t* pick, std::uint32_t n, std::mt19937_64& rng);
  // One of the `among` nearest neighbours of `row`.
  std::uint32_t neighbour(std::uint32_t row, std::uint32_t among, std::mt19937_64& rng) const;

 private:
  std::uint32_t k_, group_;
  std::vector<std::uint32_t> nn_, seeds_;
  std::size_t next_ = 0;
};

}  // namespace bebr::detail
