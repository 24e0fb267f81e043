// Code format v1: parsing and validation of code BLOBs (layout in codes.hpp, docs/format.md).
#include "bebr/codes.hpp"

#include <bit>
#include <cstring>

#include <cmath>
#include <cstring>

#include "bebr/error.hpp"

namespace bebr {
namespace {
constexpr std::size_t kModelIdOffset = 12;  // docs/format.md: the header's model id (u32)
}  // namespace

const char* kind_name(BinarizerKind kind) noexcept {
  switch (kind) {
    case BinarizerKind::raw: return "raw";
    case BinarizerKind::center: return "center";
    case BinarizerKind::mlp: return "mlp";
  }
  return "unknown";
}

std::uint64_t load_u64(const std::uint8_t* p) noexcept {
  std::uint64_t v = 0;
  if constexpr (std::endian::native == std::endian::little) {
    std::memcpy(&v, p, 8);
  } else {
    for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
  }
  return v;
}
void store_u64(std::uint8_t* p, std::uint64_t v) noexcept {
  if constexpr (std::endian::native == std::endian::little) {
    std::memcpy(p, &v, 8);
  } else {
    for (int i = 0; i < 8; ++i) p[i] = static_cast<std::uint8_t>(v >> (8 * i));
  }
}
std::uint32_t load_u32(const std::uint8_t* p) noexcept {
  if constexpr (std::endian::native == std::endian::little) {
    std::uint32_t v;
    std::memcpy(&v, p, 4);
    return v;
  }
  return std::uint32_t{p[0]} | std::uint32_t{p[1]} << 8 | std::uint32_t{p[2]} << 16 | std::uint32_t{p[3]} << 24;
}
void store_u32(std::uint8_t* p, std::uint32_t v) noexcept {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<std::uint8_t>(v >> (8 * i));
}
float load_f32(const std::uint8_t* p) noexcept {
  const std::uint32_t u = load_u32(p);
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}
void store_f32(std::uint8_t* p, float v) noexcept {
  std::uint32_t u;
  std::memcpy(&u, &v, 4);
  store_u32(p, u);
}

void write_header(const CodeShape& s, std::uint8_t* out) noexcept {
  std::memcpy(out, "BEBR", 4);
  out[4] = kFormatVersion;
  out[5] = static_cast<std::uint8_t>(s.bits);
  out[6] = static_cast<std::uint8_t>(s.kind);
  out[7] = 0;
  store_u32(out + 8, s.dim);
  store_u32(out + kModelIdOffset, s.model_id);
}

void set_model_id(std::span<std::uint8_t> code, std::uint32_t id) {
  if (code.size() < kHeaderBytes)
    throw Error(Errc::invalid_argument, "a code BLOB has a " + std::to_string(kHeaderBytes) + "-byte header; got " +
                                            std::to_string(code.size()) + " bytes");
  store_u32(code.data() + kModelIdOffset, id);
}

std::uint32_t digit(const std::uint8_t* planes, const CodeShape& s, std::uint32_t j) noexcept {
  const std::size_t words = plane_words(s.dim);
  std::uint32_t n = 0;
  for (std::uint32_t k = 0; k < s.bits; ++k) {
    const std::uint64_t w = load_u64(planes + 8 * (k * words + j / 64));
    n = 2 * n + static_cast<std::uint32_t>((w >> (j % 64)) & 1u);
  }
  return n;
}

std::uint32_t fnv1a32(std::span<const std::uint8_t> bytes) noexcept {
  std::uint32_t h = 2166136261u;
  for (std::uint8_t b : bytes) {
    h ^= b;
    h *= 16777619u;
  }
  return h;
}

namespace {
[[noreturn]] void corrupt(const std::string& what, const std::string& problem) {
  throw Error(Errc::corrupt, what + " " + problem);
}
}  // namespace

CodeView parse_code(std::span<const std::uint8_t> blob, const std::string& what) {
  const std::size_t n = blob.size();
  if (n < kHeaderBytes || std::memcmp(blob.data(), "BEBR", 4) != 0)
    corrupt(what, "is not a bebr code; expected a BLOB made by bebr_binarize, got " + std::to_string(n) +
                      " bytes without the BEBR header");
  const std::uint8_t* p = blob.data();
  if (p[4] != kFormatVersion)
    corrupt(what,
            "has code format version " + std::to_string(p[4]) + "; expected version " + std::to_string(kFormatVersion));
  CodeView v;
  v.shape.bits = p[5];
  v.shape.dim = load_u32(p + 8);
  v.shape.model_id = load_u32(p + 12);
  if (v.shape.bits < 1 || v.shape.bits > kMaxBits)
    corrupt(what, "is a corrupt code; expected bits in 1..8, got " + std::to_string(v.shape.bits));
  if (p[6] > static_cast<std::uint8_t>(BinarizerKind::mlp))
    corrupt(what,
            "is a corrupt code; expected binarizer kind 0 (raw), 1 (center) or 2 (mlp), got " + std::to_string(p[6]));
  v.shape.kind = static_cast<BinarizerKind>(p[6]);
  if (p[7] != 0) corrupt(what, "is a corrupt code; expected reserved byte 7 to be 0");
  if (v.shape.dim < 1 || v.shape.dim > kMaxDim)
    corrupt(what, "is a corrupt code; expected dim in 1.." + std::to_string(kMaxDim) + ", got " +
                      std::to_string(v.shape.dim));
  if ((v.shape.kind == BinarizerKind::raw) != (v.shape.model_id == 0))
    corrupt(what, "is a corrupt code; a raw code has model id 0 and a trained one does not");
  if (n != blob_bytes(v.shape))
    corrupt(what, "is a truncated or overlong code; expected " + std::to_string(blob_bytes(v.shape)) +
                      " bytes for dim " + std::to_string(v.shape.dim) + " and bits " + std::to_string(v.shape.bits) +
                      ", got " + std::to_string(n));
  v.scale = load_f32(p + kHeaderBytes);
  v.offset = load_f32(p + kHeaderBytes + 4);
  if (!std::isfinite(v.scale) || v.scale < 0 || !std::isfinite(v.offset) ||
      (v.shape.kind == BinarizerKind::raw && v.offset != 0))
    corrupt(what, "is a corrupt code; its scale or offset is out of range");
  v.planes = p + kHeaderBytes + kScalarBytes;
  if (const std::uint32_t tail = v.shape.dim % 64; tail != 0) {
    const std::size_t words = plane_words(v.shape.dim);
    for (std::uint32_t k = 0; k < v.shape.bits; ++k)
      if (load_u64(v.planes + 8 * (k * words + words - 1)) >> tail)
        corrupt(what, "is a corrupt code; padding bits past dim " + std::to_string(v.shape.dim) + " must be zero");
  }
  return v;
}

}  // namespace bebr
