// The model BLOB's header (bebr/model.hpp; layout in docs/format.md, "Model BLOB").
#include "bebr/model.hpp"

#include <cmath>
#include <cstring>
#include <string>

#include "bebr/error.hpp"

namespace bebr {

ModelHeader parse_model_header(std::span<const std::uint8_t> blob) {
  const auto bad = [](const std::string& why) { throw Error(Errc::corrupt, "corrupt model BLOB: " + why); };
  if (blob.size() < kModelHeaderBytes || std::memcmp(blob.data(), "BEBM", 4) != 0) bad("bad magic");
  if (blob[4] != 1) bad("unsupported model format version " + std::to_string(blob[4]));
  ModelHeader h;
  h.bits = blob[6];
  h.dim = load_u32(blob.data() + 8);
  if (blob[5] != static_cast<std::uint8_t>(BinarizerKind::center) &&
      blob[5] != static_cast<std::uint8_t>(BinarizerKind::mlp))
    bad("unknown model kind " + std::to_string(blob[5]));
  h.kind = static_cast<BinarizerKind>(blob[5]);
  if (blob[7] != 0) bad("reserved byte 7 is not 0");
  if (h.dim < 1 || h.dim > kMaxDim || h.bits < 1 || h.bits > kMaxBits) bad("dim or bits out of range");
  if (h.kind == BinarizerKind::center) {
    if (load_u32(blob.data() + 12) != 0) bad("reserved word at offset 12 is not 0");
    if (blob.size() != kModelHeaderBytes + 4 * std::size_t{h.dim}) bad("wrong length");
    h.input_dim = h.dim;
    return h;
  }
  if (blob.size() < kMlpModelHeaderBytes) bad("wrong length");
  h.input_dim = load_u32(blob.data() + 12);
  h.hidden = load_u32(blob.data() + 16);
  h.compatible_id = load_u32(blob.data() + 20);
  h.alpha = load_f32(blob.data() + 24);
  h.adapter_hidden = load_u32(blob.data() + 28);
  h.inner_dim = load_u32(blob.data() + 32);
  if (load_u32(blob.data() + 36) != 0) bad("reserved word at offset 36 is not 0");
  if (h.input_dim < 1 || h.input_dim > kMaxDim || h.inner_dim < 1 || h.inner_dim > kMaxDim || h.hidden < 1 ||
      h.hidden > kMaxHidden || h.adapter_hidden > kMaxHidden)
    bad("input dim, inner dim or hidden width out of range");
  if (!h.adapter_hidden && h.inner_dim != h.input_dim) bad("inner dim differs from input dim without an adapter");
  if ((h.adapter_hidden != 0) != (h.compatible_id != 0)) bad("an adapter goes with a compatible model id");
  if (!(std::isfinite(h.alpha) && h.alpha > 0)) bad("alpha is not finite and positive");
  return h;
}

std::uint32_t model_id_of(std::span<const std::uint8_t> blob) noexcept {
  const std::uint32_t id = fnv1a32(blob);
  return id == 0 ? 1 : id;  // 0 means raw
}

}  // namespace bebr
