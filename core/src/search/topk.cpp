// TopK's selection: the buffer of pushed results cut back to the best k (bebr/search.hpp).
#include <algorithm>
#include <limits>

#include "bebr/search.hpp"

namespace bebr {

std::vector<Neighbor> TopK::take() {
  std::sort(buffer_.begin(), buffer_.end());
  if (buffer_.size() > k_) buffer_.resize(k_);
  std::vector<Neighbor> out;
  out.swap(buffer_);
  threshold_ = std::numeric_limits<double>::infinity();
  fill_ = k_;
  return out;
}

void TopK::compact() {
  std::nth_element(buffer_.begin(), buffer_.begin() + static_cast<std::ptrdiff_t>(k_ - 1), buffer_.end());
  buffer_.resize(k_);
  threshold_ = buffer_[k_ - 1].distance;  // the k-th best: nth_element put the largest kept last
  fill_ = 2 * k_;
}

}  // namespace bebr
