// What a trained model is to its users, read from the header of its model BLOB (docs/format.md,
// "Model BLOB") without building the model: the kind, the dimensions, the bits, the widths, and
// the model whose codes its codes search. Binarizer::parse builds the whole model; this reads the
// fixed header only (16 bytes for center, 40 for mlp), so it costs the same for any model size.
//
//   const bebr::ModelHeader h = bebr::parse_model_header(blob);   // throws on a corrupt header
//   if (h.kind == bebr::BinarizerKind::mlp && h.compatible_id == id) ...
//   const std::uint32_t id = bebr::model_id_of(blob);             // what its codes carry
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "bebr/codes.hpp"

namespace bebr {

inline constexpr std::size_t kModelHeaderBytes = 16;     // every model BLOB's header
inline constexpr std::size_t kMlpModelHeaderBytes = 40;  // an mlp model's, the widths included
inline constexpr std::uint32_t kMaxHidden = 16384;       // hidden widths of an mlp model's blocks

struct ModelHeader {
  BinarizerKind kind = BinarizerKind::raw;  // center or mlp (raw: a Binarizer without a model)
  std::uint32_t dim = 0;                    // the codes' dimensions (center: the vectors' too)
  std::uint32_t bits = 1;                   // planes per dimension
  std::uint32_t input_dim = 0;              // floats per input vector
  // mlp only (0 for center and raw):
  std::uint32_t hidden = 0;          // hidden width of the blocks
  std::uint32_t compatible_id = 0;   // model id whose codes these codes search (0: none)
  float alpha = 0;                   // the codes' scale
  std::uint32_t adapter_hidden = 0;  // the adapter's hidden width: nonzero exactly with compatible_id
  std::uint32_t inner_dim = 0;       // the blocks' input width (input_dim without an adapter)

  bool operator==(const ModelHeader&) const = default;
};

// Checks and reads the header of a model BLOB: magic, version, kind, reserved bytes, ranges and
// the consistency of the mlp widths; for center also the whole length. Throws
// Error(corrupt, "corrupt model BLOB: <why>"). An mlp BLOB's length past its header, and every
// parameter, are checked by Binarizer::parse.
ModelHeader parse_model_header(std::span<const std::uint8_t> blob);

// The model id that every code of the model carries: the FNV-1a hash of its BLOB, 1 where the
// hash is 0 (0 marks raw codes).
std::uint32_t model_id_of(std::span<const std::uint8_t> blob) noexcept;

}  // namespace bebr
