// libFuzzer target: model BLOBs (bebr_models.params, <t>_info.model, bebr_import_model), read
// from untrusted databases. A rejected BLOB must be rejected before memory is spent on what its
// header claims (run with -rss_limit_mb / -malloc_limit_mb); an accepted one either refuses to
// encode with a clear error or encodes a vector to a code that parse_code accepts, and
// serialises back to a BLOB that parses to a model encoding the same code.
#include <bebr/binarize.hpp>
#include <bebr/codes.hpp>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::optional<bebr::Binarizer> b;
  try {
    b.emplace(bebr::Binarizer::parse({data, size}));
  } catch (const std::exception&) {
    return 0;
  }
  std::vector<float> x(b->input_dim());
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = static_cast<float>(i % 7) - 3.f;
  std::vector<std::uint8_t> code;
  try {
    code = b->encode_blob(x);
  } catch (const std::exception&) {
    return 0;  // refused with an error: allowed
  }
  try {
    (void)bebr::parse_code(code, "encoded code");
    if (bebr::Binarizer::parse(b->serialize()).encode_blob(x) != code) {
      std::fprintf(stderr, "fuzz_model: the re-serialised model encodes another code\n");
      std::abort();
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "fuzz_model: bebr wrote a code or a model it cannot read back: %s\n", e.what());
    std::abort();
  }
  return 0;
}
