// What a resident cache keeps for the scan besides planes and scalars (ResidentLayout in
// bebr/search.hpp): the choice for a level, and the second copy of the planes its fastest key
// filter reads, made for a whole chunk or one code at a time.
#include "../kernels/kernels.hpp"
#include "bebr/search.hpp"

namespace bebr {

ResidentLayout resident_layout(const CodeShape& shape, Metric metric, const Kernels& k) noexcept {
  ResidentLayout l;
  l.keys = key_layout(shape, metric);
  l.sums16 = digit_sums16_fit(shape);
  l.planes_bytes = planes_bytes(shape);
  l.level = &k;
  const std::size_t words = plane_words(shape.dim);
  // The copy is worth its memory only where the level has the filter that reads it (BoundQuery
  // and ScanState::filter test the same slots, so a copy is never kept and then ignored).
  if (shape.bits == 4 && k.planes_to_nibbles && k.sdc_filter_nibbles) {
    l.copy = ResidentLayout::Copy::nibbles;
    l.copy_words = words;
    l.copy_bytes = 32 * words;
  } else if (shape.bits == 2 && k.planes_to_fastscan2 && k.sdc_filter_fastscan2 && words <= kFastscan2MaxWords) {
    l.copy = ResidentLayout::Copy::fastscan2;
    l.copy_words = words;
    l.copy_bytes = 16 * words;
  }
  return l;
}

ResidentLayout resident_layout(const CodeShape& shape, Metric metric) noexcept {
  return resident_layout(shape, metric, kernels());
}

void ResidentLayout::fill(const std::uint8_t* planes, std::size_t stride, std::size_t n,
                          std::uint8_t* out) const noexcept {
  switch (copy) {
    case Copy::none: break;
    case Copy::nibbles: level->planes_to_nibbles(planes, stride, copy_words, n, out, copy_bytes); break;
    case Copy::fastscan2: level->planes_to_fastscan2(planes, stride, copy_words, n, out); break;
  }
}

void ResidentLayout::store(const std::uint8_t* planes, std::size_t slot, std::uint8_t* out) const noexcept {
  switch (copy) {
    case Copy::none: break;
    case Copy::nibbles:
      level->planes_to_nibbles(planes, planes_bytes, copy_words, 1, out + slot * copy_bytes, copy_bytes);
      break;
    case Copy::fastscan2: fastscan2_store(planes, copy_words, out + slot / 32 * 32 * copy_bytes, slot % 32); break;
  }
}

void ResidentLayout::attach(const std::uint8_t* out, CodeBlock& b) const noexcept {
  (copy == Copy::fastscan2 ? b.fastscan : b.nibbles) = out;
  b.nibble_stride = copy_bytes;
}

}  // namespace bebr
