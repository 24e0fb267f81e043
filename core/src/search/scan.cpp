// The scan state's out-of-line half: exact distances of a block, the Hamming and key filters
// that pick a block's candidates, and the batched scoring of candidates (bebr/search.hpp has the
// per-block loops, which inline the caller's accept).
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "../kernels/kernels.hpp"
#include "bebr/search.hpp"

namespace bebr {

void ScanState::distances(const CodeBlock& b, double* out) {
  const CodeShape& shape = query_.shape_;
  const std::uint32_t* sums = b.digit_sum;
  const std::uint32_t* self = b.self_dot;
  if (!sums || !self) {
    sums_.resize(b.n);
    self_.resize(b.n);
    block_stats(shape, b.planes, b.stride, b.n, sums_.data(), self_.data());
    sums = sums_.data();
    self = self_.data();
  }
  kernels().sdc_scan(query_.planes_.data(), query_.terms(), b.planes, b.stride, shape.bits, plane_words(shape.dim),
                     b.scale, b.offset, sums, self, b.n, out);
}

void ScanState::hamming_pass(const CodeBlock& b) {
  if (hist_.empty()) {
    hist_.assign(query_.shape_.dim + 1, 0);
    limit_ = query_.shape_.dim;
  }
  hams_.resize(b.n);
  kernels().hamming_filter(query_.planes_.data(), query_.planes_.size(), b.planes, b.stride, b.n, limit_, mask_.data(),
                           hams_.data());
}

bool ScanState::filter(const CodeBlock& b, const KeyBounds& bounds, double threshold, std::uint64_t* mask) {
  const BoundQuery& q = query_;
  if (b.n % 64 || !std::isfinite(threshold)) return false;
  if (q.hamming_ && b.hamming_ok) {
    hams_.resize(b.n);
    kernels().hamming_filter(q.planes_.data(), q.planes_.size(), b.planes, b.stride, b.n, q.hamming_limit(threshold),
                             mask, hams_.data());
    return true;
  }
  if (!b.keys.P || !b.keys.R) return false;
  const float limit = q.key_limit(bounds, threshold);
  if (std::isinf(limit)) return false;
  const SdcTerms t = q.terms();
  const double A = t.scale / t.s2, Q2 = t.m * t.c * t.c - 2.0 * t.c * t.digit_sum;
  keys_.resize(b.n);
  const Kernels& k = kernels();
  const float fa = static_cast<float>(A), fq2 = static_cast<float>(Q2), fo = static_cast<float>(t.offset);
  SdcKeys keys = b.keys;
  std::uint64_t passed = 0;
  const bool loose = pre_groups_ >= kPrefilterProbe && 4 * pre_passed_ > pre_groups_;
  if (b.digit_sums16 && !loose) {
    keys.emin = key_floor(b.range, bounds, q.shape_, fa, fq2, fo, limit);
    if (keys.emin != std::numeric_limits<std::int32_t>::min()) {
      keys.sums = b.digit_sums16;
      keys.twice_c = static_cast<std::int32_t>(2 * t.c);
      keys.passed = &passed;
      pre_groups_ += b.n / 8;
    }
  }
  const std::size_t words = plane_words(q.shape_.dim);
  const std::uint32_t bits = q.shape_.bits;
  if (b.fastscan && bits == 2 && !q.lut_.empty())
    k.sdc_filter_fastscan2(q.lut_.data(), words, b.fastscan, b.n, keys, fa, fq2, fo, limit, mask, keys_.data());
  else if (b.nibbles && bits == 4 && k.sdc_filter_nibbles)
    k.sdc_filter_nibbles(q.planes_.data(), words, b.nibbles, b.nibble_stride, b.n, keys, fa, fq2, fo, limit, mask,
                         keys_.data());
  else
    k.sdc_filter(q.planes_.data(), bits, words, b.planes, b.stride, b.n, keys, fa, fq2, fo, limit, mask, keys_.data());
  pre_passed_ += passed;
  return true;
}

void ScanState::prune() {
  const std::uint32_t limit = limit_;
  waiting_.erase(std::remove_if(waiting_.begin(), waiting_.end(), [limit](const Waiting& w) { return w.h > limit; }),
                 waiting_.end());
}

void ScanState::finish(TopK& top) {
  prune();
  score(waiting_, top);
  waiting_.clear();
  hist_.clear();
  limit_ = 0;
  alive_ = 0;
}

void ScanState::offer(const CodeBlock& b, const std::int64_t* rowids, TopK& top) {
  batch_.clear();
  for (const std::size_t i : candidates_)
    batch_.push_back({b.planes + i * b.stride, b.scale + i, b.offset + i, rowids + i, 0});
  score(batch_, top);
}

void ScanState::score(const std::vector<Waiting>& list, TopK& top) {
  const std::size_t n = list.size(), P = planes_bytes(query_.shape_);
  if (!n) return;
  // Scalars and rowids were not read by the filter: all their misses in flight at once.
  for (const Waiting& w : list) {
    __builtin_prefetch(w.scale);
    __builtin_prefetch(w.offset);
    __builtin_prefetch(w.rowid);
  }
  cand_planes_.resize(n * P);
  cand_scale_.resize(n);
  cand_offset_.resize(n);
  for (std::size_t j = 0; j < n; ++j) std::memcpy(cand_planes_.data() + j * P, list[j].planes, P);
  for (std::size_t j = 0; j < n; ++j) {
    cand_scale_[j] = *list[j].scale;
    cand_offset_[j] = *list[j].offset;
  }
  CodeBlock c;
  c.planes = cand_planes_.data();
  c.stride = P;
  c.scale = cand_scale_.data();
  c.offset = cand_offset_.data();
  c.n = n;
  exact_.resize(n);
  distances(c, exact_.data());
  for (std::size_t j = 0; j < n; ++j)
    if (exact_[j] <= top.threshold()) top.push(exact_[j], *list[j].rowid);
}

}  // namespace bebr
