// k-nearest-neighbour building blocks shared by the virtual table and the benchmarks: a query
// bound once to compute SDC distances to blocks of codes in the resident layout, and a bounded top-k.
//
//   bebr::SdcQuery q(query_code, bebr::Metric::cosine);
//   bebr::TopK top(10);
//   q.distances(block, dist);                       // exact distances to a block of codes
//   q.scan(block, bounds, valid, rowids, top, accept);  // or: only what can enter top
//   q.finish(top);                                  // after the last scan: deferred candidates
//   std::vector<bebr::Neighbor> best = top.take();  // ascending distance, ties by rowid
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "bebr/codes.hpp"
#include "bebr/distance.hpp"
#include "bebr/simd.hpp"

namespace bebr {

struct Neighbor {
  double distance;
  std::int64_t rowid;
  bool operator<(const Neighbor& o) const noexcept {
    return distance < o.distance || (distance == o.distance && rowid < o.rowid);
  }
};

// The k best (smallest distance, then smallest rowid) of everything pushed. Pushes append to a
// buffer; when it holds 2k results a linear-time selection keeps the best k and the k-th best
// becomes the threshold. No per-result heap walk: a scan offers thousands of results at large k.
class TopK {
 public:
  explicit TopK(std::size_t k) : k_(k), fill_(k) {}
  void push(double distance, std::int64_t rowid) {
    if (k_ == 0 || !(distance <= threshold_)) return;
    buffer_.push_back(Neighbor{distance, rowid});
    if (buffer_.size() >= fill_) compact();
  }
  // How many results take() returns so far.
  std::size_t size() const noexcept { return buffer_.size() < k_ ? buffer_.size() : k_; }
  std::size_t capacity() const noexcept { return k_; }
  // No result with a larger distance can get in (+inf until k results are kept); results within
  // it may or may not (the threshold tightens at each selection, not at each push).
  double threshold() const noexcept { return threshold_; }
  // The results in ascending order; empties the buffer.
  std::vector<Neighbor> take();

 private:
  void compact();
  std::size_t k_, fill_;
  double threshold_ = std::numeric_limits<double>::infinity();
  std::vector<Neighbor> buffer_;
};

// The range of key coefficients over a set of codes (absent arrays count as zeros), for
// key_floor. Empty until the first add.
struct KeyRange {
  double Pmin = 0, Pmax = 0, Smax = 0, Tmin = 0, Tmax = 0, Umin = 0;
  bool empty = true;
  void add(float P, float S, float T, float U) noexcept;
};

// Codes in the resident, structure-of-arrays layout of the virtual table: n codes whose planes
// start `stride` bytes apart, and per-code scalars and statistics in parallel arrays.
struct CodeBlock {
  const std::uint8_t* planes = nullptr;
  std::size_t stride = 0;
  const float* scale = nullptr;
  const float* offset = nullptr;
  // Optional: each code's digit sum and squared digit norm (computed from the planes when null).
  const std::uint32_t* digit_sum = nullptr;
  const std::uint32_t* self_dot = nullptr;
  std::size_t n = 0;
  // Optional: the key coefficients of the fast filter (key_coefficients); keys.P null: none.
  SdcKeys keys;
  // Optional, with keys: each code's digit sum, and the range of the coefficients over every code
  // the scan may accept (KeyRange), for the filter's integer pre-filter (key_floor).
  const std::uint16_t* digit_sums16 = nullptr;
  KeyRange range{};
  // Every code whose distance may be asked has scale > 0 and offset 0: then a one-bit raw code's
  // cosine distance is 2 h / dim of its Hamming distance h to the query, and scan filters on h
  // alone (no coefficient reads). False: the key filter above.
  bool hamming_ok = false;
  // The block's memory stays as it is until the query's finish(): scan may keep pointers into it.
  bool stable = false;
  // Optional, four-bit codes only: the same codes as nibbles (Kernels::planes_to_nibbles), which
  // the key filter reads instead of the planes where the CPU has a nibble kernel.
  const std::uint8_t* nibbles = nullptr;
  std::size_t nibble_stride = 0;
  // Optional, two-bit codes only: the same codes in the fast-scan layout
  // (Kernels::planes_to_fastscan2), which the key filter reads instead of the planes where the
  // level has the fast-scan filter.
  const std::uint8_t* fastscan = nullptr;
};

// Fills digit_sum[i] and self_dot[i] (see CodeStats) of n codes' planes at a stride.
void block_stats(const CodeShape& shape, const std::uint8_t* planes, std::size_t stride, std::size_t n,
                 std::uint32_t* digit_sum, std::uint32_t* self_dot);

// The key filter (SdcKeys in simd.hpp). For a query q and code i with scale s, offset o, digit
// sum N, reconstruction squared norm nb and rho = 1 / sqrt(nb), the inner product of the
// reconstructions is ip = A (s (4 dot + Q2) - 2 c s N) + o + oq with A = s_q / 4^(K-1) and
// Q2 = m c^2 - 2 c N_q (docs/bebr.md), so with w = -2 c s N:
//   ip:     P = s,       R = w,       S = o,       T = 0,   U = 0    key = -ip + oq = d + oq
//   cosine: P = s rho,   R = w rho,   S = o rho,   T = rho, U = 0    key = -ip rho = (d - 1) sqrt(nq)
//   l2:     P = 2 s,     R = 2 w,     S = 2 o,     T = 0,   U = nb   key = nb - 2 (ip - oq) = d^2 - nq + 2 oq
// Which of S, T, U a table needs (raw codes have o = 0; only cosine uses T, only l2 uses U).
struct KeyLayout {
  bool S = false, T = false, U = false;
};
KeyLayout key_layout(const CodeShape& shape, Metric metric) noexcept;

// The largest magnitude of each coefficient over a table: the scale of the float rounding error.
struct KeyBounds {
  double P = 0, R = 0, S = 0, T = 0, U = 0;
  void widen(double p, double r, double s, double t, double u) noexcept;
};

// Fills the coefficients of n codes (the arrays of the layout; the others may be null) and
// widens `bounds` to cover them; and, when sums16 is not null, each code's digit sum (which must
// fit: dim x (2^bits - 1) <= 65535, see digit_sums16_fit).
void key_coefficients(const CodeShape& shape, Metric metric, const std::uint8_t* planes, std::size_t stride,
                      const float* scale, const float* offset, std::size_t n, float* P, float* R, float* S,
                      float* T, float* U, KeyBounds& bounds, std::uint16_t* sums16 = nullptr);
bool digit_sums16_fit(const CodeShape& shape) noexcept;

// The integer pre-filter's floor (SdcKeys::emin): with the key constants A, Q2, oq and limit as
// the filter kernel gets them, every code of `range` whose float key is <= limit has
// e = 4 dot - 2 (2^bits - 1) N >= the result. INT32_MIN when nothing can be said (an empty range,
// coefficients of both signs, non-finite values). `bounds` gives the scale of the float rounding.
std::int32_t key_floor(const KeyRange& range, const KeyBounds& bounds, const CodeShape& shape, float A, float Q2,
                       float oq, float limit) noexcept;

// A query code bound once; distances to code bodies (scalars then planes, no header) of the
// same shape.
class SdcQuery {
 public:
  SdcQuery(const CodeView& query, Metric metric);
  // out[i] = distance to code i of the block, for i < block.n.
  void distances(const CodeBlock& block, double* out) const;
  // Offers top the exact distances of the candidates scan left waiting; then the query is ready
  // for another scan.
  void finish(TopK& top) const;
  // Whether scan filters blocks with hamming_ok by Hamming distance alone (no key coefficients).
  bool hamming() const noexcept { return hamming_; }

  // Offers top every code i of the block whose bit is set in `valid` and which accept(i) takes,
  // with its exact distance and rowids[i]. The same result as pushing them all, but codes whose
  // key (when the block has keys and top is full) shows they cannot get in are skipped without
  // computing their distance. block.n must be a multiple of 64. After the last block, finish(top)
  // before top.take().
  //
  // Stable blocks that take the Hamming filter are not offered at once: their candidates wait as
  // (Hamming distance, pointers) while a histogram keeps the limit at the k-th smallest Hamming
  // distance so far, and finish() computes the exact distances of the survivors only. Distances
  // of different Hamming distances differ by 2 / dim, far above rounding, so the survivors (every
  // code up to the k-th smallest, ties included) hold the exact top k.
  template <class Accept>
  void scan(const CodeBlock& block, const KeyBounds& bounds, const std::uint64_t* valid,
            const std::int64_t* rowids, TopK& top, Accept&& accept) const {
    const std::size_t words = (block.n + 63) / 64;
    mask_.resize(words);
    if (hamming_ && block.hamming_ok && block.stable && block.n % 64 == 0) {
      const std::size_t k = top.capacity();
      if (k == 0) return;
      if (hist_.empty()) {
        hist_.assign(query_.shape.dim + 1, 0);
        limit_ = query_.shape.dim;
      }
      hams_.resize(block.n);
      kernels().hamming_filter(planes_.data(), planes_.size(), block.planes, block.stride, block.n, limit_,
                               mask_.data(), hams_.data());
      for (std::size_t w = 0; w < words; ++w)
        for (std::uint64_t b = mask_[w] & valid[w]; b; b &= b - 1) {
          const std::size_t i = 64 * w + static_cast<std::size_t>(__builtin_ctzll(b));
          const std::uint32_t h = hams_[i];
          if (h > limit_ || !accept(i)) continue;
          waiting_.push_back({block.planes + i * block.stride, block.scale + i, block.offset + i, rowids + i, h});
          ++hist_[h];
          ++alive_;
          while (alive_ - hist_[limit_] >= k) {  // the k best are all below the limit
            alive_ -= hist_[limit_];
            hist_[limit_--] = 0;
          }
        }
      if (waiting_.size() > 2 * alive_ + 4096) prune();
      return;
    }
    if (!filter(block, bounds, top.threshold(), mask_.data())) {
      exact_.resize(block.n);
      distances(block, exact_.data());
      for (std::size_t w = 0; w < words; ++w)
        for (std::uint64_t b = valid[w]; b; b &= b - 1) {
          const std::size_t i = 64 * w + static_cast<std::size_t>(__builtin_ctzll(b));
          if (exact_[i] <= top.threshold() && accept(i)) top.push(exact_[i], rowids[i]);
        }
      return;
    }
    // The candidates' exact distances in one batch, then the heap.
    candidates_.clear();
    for (std::size_t w = 0; w < words; ++w)
      for (std::uint64_t b = mask_[w] & valid[w]; b; b &= b - 1) {
        const std::size_t i = 64 * w + static_cast<std::size_t>(__builtin_ctzll(b));
        if (accept(i)) candidates_.push_back(i);
      }
    offer(block, rowids, top);
  }


 private:
  // Marks the codes whose distance may be within `threshold`, by the Hamming filter where it is
  // exact (CodeBlock::hamming_ok) or else by the key filter; false when neither applies (no
  // threshold yet, no keys, a query whose key is undefined) and every code is a candidate.
  bool filter(const CodeBlock& block, const KeyBounds& bounds, double threshold, std::uint64_t* mask) const;
  struct Waiting {  // a candidate by reference (h: its Hamming distance, when deferred)
    const std::uint8_t* planes;
    const float* scale;
    const float* offset;
    const std::int64_t* rowid;
    std::uint32_t h;
  };
  // Drops the waiting candidates beyond the limit.
  void prune() const;
  // Offers top the exact distances of the codes in candidates_ (slots of the block).
  void offer(const CodeBlock& block, const std::int64_t* rowids, TopK& top) const;
  // Offers top the exact distances of the listed codes, computed in one batch of copies.
  void score(const std::vector<Waiting>& list, TopK& top) const;
  // The largest Hamming distance whose cosine distance 2 h / dim may be within `threshold`, with
  // a margin far above the double rounding of the exact distance.
  std::uint32_t hamming_limit(double threshold) const noexcept;
  // The float key limit for a distance threshold, widened by the rounding bound; +inf when the
  // key cannot decide (no finite threshold, an undefined key).
  float key_limit(const KeyBounds& bounds, double threshold) const noexcept;

  CodeView query_;
  CodeStats stats_;
  Metric metric_;
  bool hamming_ = false;  // a one-bit raw query with scale > 0 and offset 0, under cosine
  SdcTerms terms_;
  std::vector<std::uint64_t> planes_;
  std::vector<std::uint8_t> lut_;  // two-bit queries: fastscan2_lut
  mutable std::vector<std::uint64_t> mask_;  // scratch, reused across calls
  mutable std::vector<float> keys_;
  mutable std::vector<std::uint32_t> hams_;
  mutable std::vector<Waiting> waiting_;     // the deferred Hamming scan: candidates,
  mutable std::vector<std::uint32_t> hist_;  // how many alive ones have each Hamming distance,
  mutable std::uint32_t limit_ = 0;          // the largest Hamming distance still alive,
  mutable std::size_t alive_ = 0;            // and how many are alive (h <= limit_)
  mutable std::vector<std::uint32_t> sums_, self_;
  mutable std::vector<double> exact_;
  // The key filter's integer pre-filter: groups of eight offered to it and let through so far.
  // Where the floor is loose (centred codes, whose offsets spread the bound, let about half
  // through) it only costs, so after kPrefilterProbe groups it stays off unless under a quarter
  // passed.
  static constexpr std::uint64_t kPrefilterProbe = 8192;
  mutable std::uint64_t pre_groups_ = 0, pre_passed_ = 0;
  mutable std::vector<std::size_t> candidates_;  // offer(): the chunk's candidate slots,
  mutable std::vector<Waiting> batch_;           // as references,
  mutable std::vector<std::uint8_t> cand_planes_;  // and score()'s copies
  mutable std::vector<float> cand_scale_, cand_offset_;
};


}  // namespace bebr
