// Codes as the search reads them: a block of codes in the resident, structure-of-arrays layout
// (planes at a stride, scalars and key coefficients in parallel arrays), and the plain records
// the key filter keeps about a table (bebr/search.hpp has the functions that fill them).
//
//   bebr::CodeBlock b;
//   b.planes = planes; b.stride = bebr::planes_bytes(shape); b.scale = scales; b.offset = offsets;
//   b.n = 1024;
//   scan.distances(b, out);   // bebr::ScanState, bebr/search.hpp
//
// Plain data and declarations only: the private kernel header includes this one from the arch
// translation units (core/src/kernels/kernels.hpp says why that matters).
#pragma once

#include <cstddef>
#include <cstdint>

namespace bebr {

// The key coefficient arrays of a block (key_coefficients in bebr/search.hpp fills them): one
// float per code each; P and R are always given, a null S, T or U stands for zeros.
struct KeyArrays {
  const float* P = nullptr;
  const float* R = nullptr;
  const float* S = nullptr;
  const float* T = nullptr;
  const float* U = nullptr;
};

// The range of key coefficients over a set of codes (absent arrays count as zeros), for
// key_floor. Empty until the first add.
struct KeyRange {
  double Pmin = 0, Pmax = 0, Smax = 0, Tmin = 0, Tmax = 0, Umin = 0;
  bool empty = true;
  void add(float P, float S, float T, float U) noexcept;
};

// Which of S, T, U a table needs (raw codes have o = 0; only cosine uses T, only l2 uses U):
// key_layout in bebr/search.hpp.
struct KeyLayout {
  bool S = false, T = false, U = false;
};

// The largest magnitude of each coefficient over a table: the scale of the float rounding error.
struct KeyBounds {
  double P = 0, R = 0, S = 0, T = 0, U = 0;
  void widen(double p, double r, double s, double t, double u) noexcept;
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
  KeyArrays keys;
  // Optional, with keys: each code's digit sum, and the range of the coefficients over every code
  // the scan may accept (KeyRange), for the filter's integer pre-filter (key_floor).
  const std::uint16_t* digit_sums16 = nullptr;
  KeyRange range{};
  // Every code whose distance may be asked has scale > 0 and offset 0: then a one-bit raw code's
  // cosine distance is 2 h / dim of its Hamming distance h to the query, and scan filters on h
  // alone (no coefficient reads). False: the key filter above.
  bool hamming_ok = false;
  // The block's memory stays as it is until the scan's finish(): scan may keep pointers into it.
  bool stable = false;
  // Optional, four-bit codes only: the same codes as nibbles (ResidentLayout in bebr/search.hpp
  // makes them), which the key filter reads instead of the planes where the level has a nibble
  // kernel.
  const std::uint8_t* nibbles = nullptr;
  std::size_t nibble_stride = 0;
  // Optional, two-bit codes only: the same codes in the fast-scan layout (ResidentLayout), which
  // the key filter reads instead of the planes where the level has the fast-scan filter.
  const std::uint8_t* fastscan = nullptr;
};

}  // namespace bebr
