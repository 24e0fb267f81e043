// libFuzzer target: code BLOBs, which bebr reads from any SQL value and from the database.
// parse_code either throws or returns a view whose every byte lies inside the BLOB; then the
// code's reconstruction is finite and its SDC distance to itself is a finite number (0 for l2).
#include <bebr/binarize.hpp>
#include <bebr/codes.hpp>
#include <bebr/distance.hpp>

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  bebr::CodeView code;
  try {
    code = bebr::parse_code({data, size}, "code");
  } catch (const std::exception&) {
    return 0;
  }
  if (bebr::blob_bytes(code.shape) != size) std::abort();
  try {
    for (const bebr::Metric m : {bebr::Metric::l2, bebr::Metric::ip, bebr::Metric::cosine}) {
      const double d = bebr::sdc_distance(code, code, m);
      if (std::isnan(d) || (m == bebr::Metric::l2 && d != 0)) std::abort();
    }
    if (code.shape.kind == bebr::BinarizerKind::raw) {
      const auto b = bebr::Binarizer::raw(code.shape.dim, code.shape.bits);
      for (const float x : b.decode(code))
        if (!std::isfinite(x)) std::abort();
    }
  } catch (const std::exception&) {
    // A clean error is an answer; only a crash or a wrong value is a finding.
  }
  return 0;
}
