// k-nearest-neighbour building blocks shared by the virtual table and the benchmarks: a query
// bound once to compute SDC distances to many headerless code bodies, and a bounded top-k.
//
//   bebr::SdcQuery q(query_code, bebr::Metric::cosine);
//   bebr::TopK top(10);
//   q.distances(bodies, stride, n, dist);          // dist[i] for body i
//   for (i...) top.push(dist[i], rowid[i]);
//   std::vector<bebr::Neighbor> best = top.take(); // ascending distance, ties by rowid
#pragma once

#include <cstdint>
#include <queue>
#include <vector>

#include "bebr/codes.hpp"
#include "bebr/distance.hpp"

namespace bebr {

struct Neighbor {
  double distance;
  std::int64_t rowid;
  bool operator<(const Neighbor& o) const noexcept {
    return distance < o.distance || (distance == o.distance && rowid < o.rowid);
  }
};

// The k best (smallest distance, then smallest rowid) of everything pushed.
class TopK {
 public:
  explicit TopK(std::size_t k) : k_(k) {}
  void push(double distance, std::int64_t rowid) {
    if (k_ == 0) return;
    const Neighbor n{distance, rowid};
    if (heap_.size() < k_) {
      heap_.push(n);
    } else if (n < heap_.top()) {
      heap_.pop();
      heap_.push(n);
    }
  }
  std::size_t size() const noexcept { return heap_.size(); }
  std::size_t capacity() const noexcept { return k_; }
  // The results in ascending order; empties the heap.
  std::vector<Neighbor> take();

 private:
  std::size_t k_;
  std::priority_queue<Neighbor> heap_;  // max-heap: the worst kept result on top
};

// Codes in the resident, structure-of-arrays layout of the virtual table: n codes whose planes
// start `stride` bytes apart, and per-code scalars and statistics in parallel arrays.
struct CodeBlock {
  const std::uint8_t* planes = nullptr;
  std::size_t stride = 0;
  const float* scale = nullptr;
  const float* offset = nullptr;
  const std::uint32_t* digit_sum = nullptr;
  const std::uint32_t* self_dot = nullptr;
  std::size_t n = 0;
};

// Fills digit_sum[i] and self_dot[i] (see CodeStats) of n codes' planes at a stride.
void block_stats(const CodeShape& shape, const std::uint8_t* planes, std::size_t stride, std::size_t n,
                 std::uint32_t* digit_sum, std::uint32_t* self_dot);

// A query code bound once; distances to code bodies (scalars then planes, no header) of the
// same shape.
class SdcQuery {
 public:
  SdcQuery(const CodeView& query, Metric metric);
  // out[i] = distance to the body at bodies + i * stride, for i < n.
  void distances(const std::uint8_t* bodies, std::size_t stride, std::size_t n, double* out) const;
  // out[i] = distance to code i of the block, for i < block.n.
  void distances(const CodeBlock& block, double* out) const;

 private:
  CodeView query_;
  CodeStats stats_;
  Metric metric_;
  std::vector<std::uint64_t> planes_;
  mutable std::vector<std::uint64_t> dots_;  // scratch, reused across calls
};

// A CodeView over a headerless body of a known shape.
CodeView body_view(const CodeShape& shape, const std::uint8_t* body) noexcept;

}  // namespace bebr
