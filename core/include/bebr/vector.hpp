// Float vectors as they arrive from SQL: little-endian float32 BLOBs or JSON arrays.
//
//   std::vector<float> v = bebr::parse_json_vector("[0.5, -1, 2e-3]");   // {0.5f, -1.f, 0.002f}
#pragma once

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

namespace bebr {

// Parses a JSON array of numbers; throws Error(invalid_argument) saying where and why it is
// not one. Numbers outside float range are rejected (they would become Inf).
std::vector<float> parse_json_vector(std::string_view text);

// Copies a float32 BLOB (bytes % 4 == 0, checked by the caller) into floats.
std::vector<float> floats_from_blob(std::span<const std::uint8_t> bytes);

// The float32 BLOB of x: 4 x.size() bytes, little-endian (what floats_from_blob reads).
std::vector<std::uint8_t> floats_to_blob(std::span<const float> x);

// The index of the first NaN or Inf, or -1 when all are finite.
long first_non_finite(std::span<const float> x) noexcept;

}  // namespace bebr
