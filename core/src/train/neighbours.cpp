// Exact neighbours and batches of neighbourhoods (train/neighbours.hpp).
#include "train/neighbours.hpp"

#include <algorithm>
#include <numeric>

namespace bebr::detail {

using Mat = mlp::Matrix<float>;

std::vector<std::uint32_t> neighbours_of(const Mat& x, std::uint32_t k, const std::function<void(std::uint64_t)>& tick) {
  const Eigen::Index n = x.rows();
  std::vector<std::uint32_t> out(static_cast<std::size_t>(n) * k);
  // Rows per block: about 2^28 multiply-adds (n x d each), at least 1, at most 512.
  const Eigen::Index per_row = std::max<Eigen::Index>(1, n * x.cols());
  const Eigen::Index kBlock = std::clamp<Eigen::Index>((Eigen::Index{1} << 28) / per_row, 1, 512);
  std::vector<std::uint32_t> order(static_cast<std::size_t>(n));
  for (Eigen::Index r0 = 0; r0 < n; r0 += kBlock) {
    if (tick) tick(static_cast<std::uint64_t>(r0));
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

NeighbourhoodBatches::NeighbourhoodBatches(const Mat& x, std::uint32_t neighbours, std::uint32_t group,
                                           const std::function<void(std::uint64_t)>& tick)
    : k_(static_cast<std::uint32_t>(std::min<std::size_t>(neighbours, static_cast<std::size_t>(x.rows()) - 1))),
      group_(std::min(group, k_ + 1)),
      nn_(neighbours_of(x, k_, tick)),
      seeds_(static_cast<std::size_t>(x.rows())) {
  std::iota(seeds_.begin(), seeds_.end(), 0u);
  next_ = seeds_.size();
}

void NeighbourhoodBatches::anchors(std::uint32_t* pick, std::uint32_t n, std::mt19937_64& rng) {
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

std::uint32_t NeighbourhoodBatches::neighbour(std::uint32_t row, std::uint32_t among, std::mt19937_64& rng) const {
  const std::uint32_t top = std::min(among, k_);
  return nn_[std::size_t{row} * k_ + std::uniform_int_distribution<std::uint32_t>(0, top - 1)(rng)];
}

}  // namespace bebr::detail
