// Float vectors as they arrive from SQL: little-endian float32 BLOBs or JSON arrays.
//
//   std::vector<float> v = bebr::parse_json_vector("[0.5, -1, 2e-3]");   // {0.5f, -1.f, 0.002f}
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace bebr {

// Parses a JSON array of numbers (RFC 8259's grammar: no '1.', '.5', '+1', '01', NaN or
// Infinity); throws Error(invalid_argument) saying where and why it is not one. Each number
// becomes the nearest float; one that rounds beyond float range is rejected (it would be Inf),
// so 3.4028235e38 (FLT_MAX as printed with 8 digits) is taken and 3.5e38 is not.
std::vector<float> parse_json_vector(std::string_view text);

// Copies a float32 BLOB (bytes % 4 == 0, checked by the caller) into floats.
std::vector<float> floats_from_blob(std::span<const std::uint8_t> bytes);

// The float32 BLOB of x: 4 x.size() bytes, little-endian (what floats_from_blob reads).
std::vector<std::uint8_t> floats_to_blob(std::span<const float> x);

// The index of the first NaN or Inf, or -1 when all are finite.
long first_non_finite(std::span<const float> x) noexcept;

// The shortest text that reads back as the finite float f, exactly as std::to_chars(f) writes
// it ("0.1", "-2.5e-07", "1e+20", "240823472": an integer in plain notation prints exactly):
// locale-free, valid JSON.
std::string float_text(float f);

namespace detail {
// float_text without floating-point std::to_chars (LLVM 14's libc++, the WASM build's, lacks
// it), from correctly rounded printf digits checked with strtof; tested equal to std::to_chars.
std::string float_text_printf(float f);
}  // namespace detail

}  // namespace bebr

namespace bebr {

// A NumPy .npy array of float32 or float64 vectors (format v1, v2 or v3, little-endian, C
// order), read from untrusted bytes: every size in the header is checked against the bytes
// before anything is allocated.
//   if (is_npy(bytes)) { NpyArray a = parse_npy(bytes, 768); ... npy_row(bytes, a, i) ... }
struct NpyArray {
  std::size_t data_offset = 0;  // where the values start
  std::size_t rows = 0;         // vectors of `dim` values
  std::size_t dim = 0;
  bool float64 = false;  // '<f8' (else '<f4')
};

// True when bytes start with the .npy magic "\x93NUMPY".
bool is_npy(std::span<const std::uint8_t> bytes) noexcept;

// Parses the header; throws Error(invalid_argument) naming what is wrong: a malformed header,
// a dtype other than '<f4' or '<f8', fortran_order True, a shape other than (n, dim) or
// (n * dim,), or a data length that does not match the shape.
NpyArray parse_npy(std::span<const std::uint8_t> bytes, std::size_t dim);

// Row i as float32 (float64 values rounded; one outside float32 range is an Error).
std::vector<float> npy_row(std::span<const std::uint8_t> bytes, const NpyArray& a, std::size_t i);

}  // namespace bebr
