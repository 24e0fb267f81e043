// Test fixtures shared by the kernel filter tests and the scan tests: blocks of codes of a
// binarizer in the resident layout, with their key coefficients for a metric.
//
//   const Block b = make_block(Binarizer::raw(768, 2), Metric::cosine, 128, rng, 1.f);
//   const CodeBlock cb = b.block(true);  // the planes, scalars and key coefficients
#pragma once

#include <algorithm>
#include <cstring>
#include <random>
#include <vector>

#include "bebr/binarize.hpp"
#include "bebr/search.hpp"
#include "testing.hpp"

namespace bebr::testing {

// n codes of a binarizer in the resident layout, with their key coefficients for `metric`.
struct Block {
  std::vector<std::vector<std::uint8_t>> blobs;
  std::vector<std::uint8_t> planes;
  std::vector<float> scale, offset, key[5];
  std::vector<std::uint16_t> sums16;  // digit sums, for the integer pre-filter
  KeyRange range;                     // of the coefficients over every code
  KeyBounds bounds;
  CodeBlock block(bool keys) const {
    CodeBlock b;
    b.planes = planes.data();
    b.stride = planes.size() / scale.size();
    b.scale = scale.data();
    b.offset = offset.data();
    b.n = scale.size();
    const auto at = [&](int j) { return key[j].empty() ? nullptr : key[j].data(); };
    if (keys) b.keys = KeyArrays{at(0), at(1), at(2), at(3), at(4)};
    b.hamming_ok = true;
    for (std::size_t i = 0; i < scale.size(); ++i) b.hamming_ok &= scale[i] > 0 && offset[i] == 0;
    return b;
  }
};

// Code 5 is the code of a zero vector (scale 0) unless `no_zero`.
inline Block make_block(const Binarizer& bin, Metric metric, std::size_t n, std::mt19937_64& rng, float spread,
                        bool no_zero = false) {
  Block b;
  const std::size_t P = planes_bytes(bin.shape());
  b.planes.resize(n * P);
  b.scale.resize(n);
  b.offset.resize(n);
  for (std::size_t i = 0; i < n; ++i) {
    auto x = random_vector(rng, bin.shape().dim, 0.2f);
    for (auto& v : x) v *= spread * static_cast<float>(1 + i % 7);  // codes of different norms
    if (i == 5 && !no_zero) std::fill(x.begin(), x.end(), 0.f);
    b.blobs.push_back(bin.encode_blob(x));
    const CodeView c = parse_code(b.blobs.back(), "code");
    std::memcpy(b.planes.data() + i * P, c.planes, P);
    b.scale[i] = c.scale;
    b.offset[i] = c.offset;
  }
  const KeyLayout l = key_layout(bin.shape(), metric);
  const bool used[5] = {true, true, l.S, l.T, l.U};
  for (int j = 0; j < 5; ++j)
    if (used[j]) b.key[j].assign(n, 0.f);
  const auto at = [&](int j) { return b.key[j].empty() ? nullptr : b.key[j].data(); };
  b.sums16.assign(n, 0xeeee);
  key_coefficients(bin.shape(), metric, b.planes.data(), P, b.scale.data(), b.offset.data(), n, at(0), at(1), at(2),
                   at(3), at(4), b.bounds, b.sums16.data());
  for (std::size_t i = 0; i < n; ++i) {
    const auto v = [&](int j) { return b.key[j].empty() ? 0.f : b.key[j][i]; };
    b.range.add(v(0), v(2), v(3), v(4));
  }
  return b;
}

}  // namespace bebr::testing
