// The search layer: a query bound once (immutable), a scan state that streams blocks of codes
// against it into a bounded top-k, the key filter's per-table coefficients, and the choice of
// what a resident cache keeps for the scan to read.
//
//   const bebr::BoundQuery q(query_code, bebr::Metric::cosine);   // may be shared
//   bebr::ScanState scan(q);                                       // one per scan, holds all scratch
//   bebr::TopK top(10);
//   scan.scan(block, bounds, valid, rowids, top, accept);  // only what can enter top, per block
//   scan.finish(top);                                      // after the last block
//   std::vector<bebr::Neighbor> best = top.take();         // ascending distance, ties by rowid
//
//   scan.stream(block, valid, rowids, accept, [&](double d, std::int64_t rowid) { ... });
//   scan.distances(block, out);                            // every code of a block
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <vector>

#include "bebr/bits.hpp"
#include "bebr/code_block.hpp"
#include "bebr/codes.hpp"
#include "bebr/distance.hpp"

namespace bebr {

struct Kernels;   // one SIMD level's kernel table, private to core
struct SdcTerms;  // what the kernels take of a bound query, private to core

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

// ---- The key filter's coefficients (core/src/search/keys.cpp) --------------------------------

// Fills digit_sum[i] and self_dot[i] (see CodeStats) of n codes' planes at a stride.
void block_stats(const CodeShape& shape, const std::uint8_t* planes, std::size_t stride, std::size_t n,
                 std::uint32_t* digit_sum, std::uint32_t* self_dot);

// The key filter. For a query q and code i with scale s, offset o, digit sum N, reconstruction
// squared norm nb and rho = 1 / sqrt(nb), the inner product of the reconstructions is
// ip = A (s (4 dot + Q2) - 2 c s N) + o + oq with A = s_q / 4^(K-1) and Q2 = m c^2 - 2 c N_q
// (docs/bebr.md), so with w = -2 c s N:
//   ip:     P = s,       R = w,       S = o,       T = 0,   U = 0    key = -ip + oq = d + oq
//   cosine: P = s rho,   R = w rho,   S = o rho,   T = rho, U = 0    key = -ip rho = (d - 1) sqrt(nq)
//   l2:     P = 2 s,     R = 2 w,     S = 2 o,     T = 0,   U = nb   key = nb - 2 (ip - oq) = d^2 - nq + 2 oq
// Which of S, T, U a table needs:
KeyLayout key_layout(const CodeShape& shape, Metric metric) noexcept;

// Fills the coefficients of n codes (the arrays of the layout; the others may be null) and
// widens `bounds` to cover them; and, when sums16 is not null, each code's digit sum (which must
// fit: dim x (2^bits - 1) <= 65535, see digit_sums16_fit).
void key_coefficients(const CodeShape& shape, Metric metric, const std::uint8_t* planes, std::size_t stride,
                      const float* scale, const float* offset, std::size_t n, float* P, float* R, float* S, float* T,
                      float* U, KeyBounds& bounds, std::uint16_t* sums16 = nullptr);
bool digit_sums16_fit(const CodeShape& shape) noexcept;

// The integer pre-filter's floor: with the key constants A, Q2, oq and limit as the filter kernel
// gets them, every code of `range` whose float key is <= limit has e = 4 dot - 2 (2^bits - 1) N
// >= the result. INT32_MIN when nothing can be said (an empty range, coefficients of both signs,
// non-finite values). `bounds` gives the scale of the float rounding.
std::int32_t key_floor(const KeyRange& range, const KeyBounds& bounds, const CodeShape& shape, float A, float Q2,
                       float oq, float limit) noexcept;

// ---- The bound query and the scan state (core/src/search/query.cpp, scan.cpp) ------------------

// A query code bound once to a metric: its planes, its SDC terms and, for two-bit codes on a level
// with the fast-scan filter, its lookup table. Immutable: any number of ScanStates may read one.
// Distances are to code bodies (scalars then planes, no header) of the same shape.
class BoundQuery {
 public:
  BoundQuery(const CodeView& query, Metric metric);
  const CodeShape& shape() const noexcept { return shape_; }
  Metric metric() const noexcept { return metric_; }
  // Whether scan filters blocks with hamming_ok by Hamming distance alone (no key coefficients):
  // a one-bit raw query with scale > 0 and offset 0, under cosine.
  bool hamming() const noexcept { return hamming_; }

 private:
  friend class ScanState;
  // The largest Hamming distance whose cosine distance 2 h / dim may be within `threshold`, with
  // a margin far above the double rounding of the exact distance.
  std::uint32_t hamming_limit(double threshold) const noexcept;
  // The float key limit for a distance threshold, widened by the rounding bound; +inf when the
  // key cannot decide (no finite threshold, an undefined key).
  float key_limit(const KeyBounds& bounds, double threshold) const noexcept;
  // The terms Kernels::sdc_scan takes.
  SdcTerms terms() const noexcept;

  CodeShape shape_;
  Metric metric_;
  bool hamming_ = false;
  // The SDC terms (Kernels::sdc_scan's SdcTerms without what the shape gives): the query's
  // scalars, its digit sum and the squared norm of its reconstruction.
  double scale_ = 0, offset_ = 0, digit_sum_ = 0, norm2_ = 0;
  std::vector<std::uint64_t> planes_;
  std::vector<std::uint8_t> lut_;  // two-bit queries: fastscan2_lut
};

// One scan of blocks against a bound query: the scratch every block reuses and the candidates a
// deferred (Hamming) scan keeps waiting until finish(). Holds a reference to the query, which
// must outlive it. One thread at a time.
class ScanState {
 public:
  explicit ScanState(const BoundQuery& query) noexcept : query_(query) {}
  ScanState(const ScanState&) = delete;
  ScanState& operator=(const ScanState&) = delete;
  const BoundQuery& query() const noexcept { return query_; }

  // out[i] = distance to code i of the block, for i < block.n.
  void distances(const CodeBlock& block, double* out);

  // Hands sink(distance, rowids[i]) the exact distance of every code i of the block whose bit is
  // set in `valid` (ceil(n / 64) words) and which accept(i) takes, in ascending i. No filter,
  // no top-k: every row, for a caller that orders them itself.
  template <class Accept, class Sink>
  void stream(const CodeBlock& block, const std::uint64_t* valid, const std::int64_t* rowids, Accept&& accept,
              Sink&& sink);

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
  void scan(const CodeBlock& block, const KeyBounds& bounds, const std::uint64_t* valid, const std::int64_t* rowids,
            TopK& top, Accept&& accept);

  // Offers top the exact distances of the candidates scan left waiting; then the state is ready
  // for another scan.
  void finish(TopK& top);

 private:
  struct Waiting {  // a candidate by reference (h: its Hamming distance, when deferred)
    const std::uint8_t* planes;
    const float* scale;
    const float* offset;
    const std::int64_t* rowid;
    std::uint32_t h;
  };
  // Whether scan defers the block's candidates (see scan).
  bool deferred(const CodeBlock& b) const noexcept {
    return query_.hamming_ && b.hamming_ok && b.stable && b.n % 64 == 0;
  }
  // The deferred scan's filter: marks in mask_ the codes within limit_ and keeps their Hamming
  // distances in hams_ (the histogram starts at the first block).
  void hamming_pass(const CodeBlock& block);
  // Keeps candidate i (Hamming distance h) waiting and lowers the limit while the k best are all
  // below it.
  void defer(const CodeBlock& b, const std::int64_t* rowids, std::size_t i, std::uint32_t h, std::size_t k) {
    waiting_.push_back({b.planes + i * b.stride, b.scale + i, b.offset + i, rowids + i, h});
    ++hist_[h];
    ++alive_;
    while (alive_ - hist_[limit_] >= k) {  // the k best are all below the limit
      alive_ -= hist_[limit_];
      hist_[limit_--] = 0;
    }
  }
  // Marks the codes whose distance may be within `threshold`, by the Hamming filter where it is
  // exact (CodeBlock::hamming_ok) or else by the key filter; false when neither applies (no
  // threshold yet, no keys, a query whose key is undefined) and every code is a candidate.
  bool filter(const CodeBlock& block, const KeyBounds& bounds, double threshold, std::uint64_t* mask);
  // Drops the waiting candidates beyond the limit.
  void prune();
  // Offers top the exact distances of the codes in candidates_ (slots of the block).
  void offer(const CodeBlock& block, const std::int64_t* rowids, TopK& top);
  // Offers top the exact distances of the listed codes, computed in one batch of copies.
  void score(const std::vector<Waiting>& list, TopK& top);

  const BoundQuery& query_;
  std::vector<std::uint64_t> mask_;
  std::vector<float> keys_;
  std::vector<std::uint32_t> hams_;
  std::vector<Waiting> waiting_;     // the deferred Hamming scan: candidates,
  std::vector<std::uint32_t> hist_;  // how many alive ones have each Hamming distance,
  std::uint32_t limit_ = 0;          // the largest Hamming distance still alive,
  std::size_t alive_ = 0;            // and how many are alive (h <= limit_)
  std::vector<std::uint32_t> sums_, self_;
  std::vector<double> exact_;
  // The key filter's integer pre-filter: groups of eight offered to it and let through so far.
  // Where the floor is loose (centred codes, whose offsets spread the bound, let about half
  // through) it only costs, so after kPrefilterProbe groups it stays off unless under a quarter
  // passed.
  static constexpr std::uint64_t kPrefilterProbe = 8192;
  std::uint64_t pre_groups_ = 0, pre_passed_ = 0;
  std::vector<std::size_t> candidates_;    // offer(): the chunk's candidate slots,
  std::vector<Waiting> batch_;             // as references,
  std::vector<std::uint8_t> cand_planes_;  // and score()'s copies
  std::vector<float> cand_scale_, cand_offset_;
};

template <class Accept, class Sink>
void ScanState::stream(const CodeBlock& block, const std::uint64_t* valid, const std::int64_t* rowids, Accept&& accept,
                       Sink&& sink) {
  exact_.resize(block.n);
  distances(block, exact_.data());
  for_each_set_bit(valid, (block.n + 63) / 64, [&](std::size_t i) {
    if (accept(i)) sink(exact_[i], rowids[i]);
  });
}

template <class Accept>
void ScanState::scan(const CodeBlock& block, const KeyBounds& bounds, const std::uint64_t* valid,
                     const std::int64_t* rowids, TopK& top, Accept&& accept) {
  const std::size_t words = (block.n + 63) / 64;
  mask_.resize(words);
  if (deferred(block)) {
    const std::size_t k = top.capacity();
    if (k == 0) return;
    hamming_pass(block);
    for_each_set_bit(mask_.data(), valid, words, [&](std::size_t i) {
      const std::uint32_t h = hams_[i];
      if (h <= limit_ && accept(i)) defer(block, rowids, i, h, k);
    });
    if (waiting_.size() > 2 * alive_ + 4096) prune();
    return;
  }
  if (!filter(block, bounds, top.threshold(), mask_.data())) {
    exact_.resize(block.n);
    distances(block, exact_.data());
    for_each_set_bit(valid, words, [&](std::size_t i) {
      if (exact_[i] <= top.threshold() && accept(i)) top.push(exact_[i], rowids[i]);
    });
    return;
  }
  // The candidates' exact distances in one batch, then the heap.
  candidates_.clear();
  for_each_set_bit(mask_.data(), valid, words, [&](std::size_t i) {
    if (accept(i)) candidates_.push_back(i);
  });
  offer(block, rowids, top);
}

// ---- What a resident cache keeps for the scan (core/src/search/resident.cpp) -------------------

// The arrays a table's resident cache holds for the scan besides planes and scalars, chosen once
// per table for one SIMD level: which key arrays, whether 16-bit digit sums, and whether a second
// copy of the planes in the layout the level's fastest key filter reads (nibbles for four-bit
// codes on a level with the nibble kernels, the fast-scan blocks for two-bit codes on a level with
// the fast-scan filter). The methods make and point at that copy.
struct ResidentLayout {
  enum class Copy { none, nibbles, fastscan2 };
  KeyLayout keys;                  // the S, T, U key arrays kept (P and R always)
  bool sums16 = false;             // each code's digit sum in 16 bits beside the keys
  Copy copy = Copy::none;          // the second copy of the planes
  std::size_t copy_words = 0;      // plane words of a code, when copy != none
  std::size_t copy_bytes = 0;      // bytes per code of the copy (nibbles 32, fast scan 16 per word)
  std::size_t planes_bytes = 0;    // bytes of one code's planes
  const Kernels* level = nullptr;  // the level the copy is made by and for

  // The copy of n codes whose planes start `stride` bytes apart, into out (n * copy_bytes bytes;
  // fast scan: n a multiple of 32). Nothing when copy is none.
  void fill(const std::uint8_t* planes, std::size_t stride, std::size_t n, std::uint8_t* out) const noexcept;
  // Code `slot`'s planes (planes_bytes bytes) into the copy of a block (`copy`: its first code's
  // copy), leaving the other codes' as they are. Nothing when copy is none.
  void store(const std::uint8_t* planes, std::size_t slot, std::uint8_t* copy) const noexcept;
  // Points the block at its copy (`copy`: its first code's; null when none is kept).
  void attach(const std::uint8_t* copy, CodeBlock& block) const noexcept;
};

// The layout for the active level, and for a given one (tests).
ResidentLayout resident_layout(const CodeShape& shape, Metric metric) noexcept;
ResidentLayout resident_layout(const CodeShape& shape, Metric metric, const Kernels& level) noexcept;

}  // namespace bebr
