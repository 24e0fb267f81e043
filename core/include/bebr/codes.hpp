// Code format v1: the bytes of a bebr code BLOB (docs/format.md has the full layout and a worked
// example). A code is a 16-byte header, two float32 scalars, then `bits` planes of `dim` bits,
// each plane padded to whole little-endian 64-bit words:
//
//   offset 0   "BEBR" magic           offset 8   dim (u32 LE)
//   offset 4   format version (1)     offset 12  model id (u32 LE, 0 for raw)
//   offset 5   bits (1..8)            offset 16  scale (f32 LE)
//   offset 6   binarizer kind         offset 20  offset (f32 LE)
//              (0 raw, 1 center, 2 mlp)
//   offset 7   reserved (0)           offset 24  plane 0 (weight 1), plane 1 (weight 1/2), ...
//
// Inside the virtual table the header is dropped: a "code body" is the scalars and the planes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace bebr {

inline constexpr std::uint32_t kMaxDim = 16384;  // keeps every integer SDC term inside 32 bits
inline constexpr std::uint32_t kMaxBits = 8;
inline constexpr std::uint8_t kFormatVersion = 1;
inline constexpr std::size_t kHeaderBytes = 16;
inline constexpr std::size_t kScalarBytes = 8;

enum class BinarizerKind : std::uint8_t { raw = 0, center = 1, mlp = 2 };

const char* kind_name(BinarizerKind kind) noexcept;

// Everything two codes must share to be compared.
struct CodeShape {
  std::uint32_t dim = 0;   // m: dimensions of the code (bits per plane)
  std::uint32_t bits = 1;  // K: planes per dimension, 1..8
  BinarizerKind kind = BinarizerKind::raw;
  std::uint32_t model_id = 0;  // content hash of the trained model; 0 for raw

  bool operator==(const CodeShape&) const = default;
};

// 64-bit words per plane.
constexpr std::size_t plane_words(std::uint32_t dim) noexcept { return (dim + 63) / 64; }
// Bytes of all planes of one code.
constexpr std::size_t planes_bytes(const CodeShape& s) noexcept { return std::size_t{s.bits} * plane_words(s.dim) * 8; }
// Bytes of a headerless code body: scalars then planes.
constexpr std::size_t body_bytes(const CodeShape& s) noexcept { return kScalarBytes + planes_bytes(s); }
// Bytes of a self-describing code BLOB.
constexpr std::size_t blob_bytes(const CodeShape& s) noexcept { return kHeaderBytes + body_bytes(s); }

// A parsed code BLOB. `planes` points into the BLOB (not necessarily aligned: kernels load
// words with memcpy); it lives as long as the BLOB does.
struct CodeView {
  CodeShape shape;
  float scale = 0;   // alpha: the reconstruction is scale * u (+ the model's mean for center)
  float offset = 0;  // center: <v, mean> + |mean|^2 / 2 of the reconstruction v; raw: 0
  const std::uint8_t* planes = nullptr;
};

// Checks every byte that can be checked (magic, version, bits, kind, dim, length, zero padding
// bits, finite scalars) and throws Error(corrupt|invalid_argument) with a message that says
// what is wrong. `what` names the argument in the message ("first argument").
CodeView parse_code(std::span<const std::uint8_t> blob, const std::string& what);

// Writes the 16-byte header for `shape` into out[0..16).
void write_header(const CodeShape& shape, std::uint8_t* out) noexcept;

// Relabels a code BLOB as made by model `id`: the u32 at offset 12 of the header
// (docs/format.md). For a code of a model recorded compatible with another, whose codes it
// searches. `code` is a whole code BLOB (parse_code accepted it); a span shorter than the
// header throws Error(invalid_argument).
void set_model_id(std::span<std::uint8_t> code, std::uint32_t id);

// Little-endian helpers (the format is little-endian on every host).
std::uint64_t load_u64(const std::uint8_t* p) noexcept;
void store_u64(std::uint8_t* p, std::uint64_t v) noexcept;
std::uint32_t load_u32(const std::uint8_t* p) noexcept;
void store_u32(std::uint8_t* p, std::uint32_t v) noexcept;
float load_f32(const std::uint8_t* p) noexcept;
void store_f32(std::uint8_t* p, float v) noexcept;

// The integer digit n_j in [0, 2^bits) of dimension j (plane 0 is the most significant bit).
std::uint32_t digit(const std::uint8_t* planes, const CodeShape& shape, std::uint32_t j) noexcept;

// FNV-1a 32-bit hash: model ids are the hash of the model's parameter BLOB.
std::uint32_t fnv1a32(std::span<const std::uint8_t> bytes) noexcept;

}  // namespace bebr
