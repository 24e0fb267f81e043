// libFuzzer target: the float-vector parsers (JSON text and float32 BLOB), both fed from
// untrusted SQL values (the caller refuses an empty vector). Accepted JSON must give finite floats that survive a
// print-and-parse round trip unchanged; a float32 BLOB reads back bit for bit and first_non_finite finds its first NaN
// or Inf.
#include <bebr/vector.hpp>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>

namespace {

void json(std::string_view text) {
  std::vector<float> v;
  try {
    v = bebr::parse_json_vector(text);
  } catch (const std::exception&) {
    return;
  }
  std::string again = "[";
  char buf[32];
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (!std::isfinite(v[i])) std::abort();
    std::snprintf(buf, sizeof buf, "%s%.9g", i ? "," : "", static_cast<double>(v[i]));
    again += buf;
  }
  again += "]";
  const std::vector<float> w = bebr::parse_json_vector(again);
  if (w.size() != v.size() || (!v.empty() && std::memcmp(w.data(), v.data(), 4 * v.size()) != 0)) std::abort();
}

void blob(const std::uint8_t* data, std::size_t size) {
  if (size % 4 != 0) return;  // the caller's check (bebr::ext::vector_arg)
  const std::vector<float> v = bebr::floats_from_blob({data, size});
  const std::vector<std::uint8_t> back = bebr::floats_to_blob(v);
  if (v.size() != size / 4 || back.size() != size || (size && std::memcmp(back.data(), data, size) != 0)) std::abort();
  const long bad = bebr::first_non_finite(v);
  for (std::size_t i = 0; i < v.size(); ++i)
    if (!std::isfinite(v[i]) && bad < 0) std::abort();
  if (bad >= 0 && std::isfinite(v[static_cast<std::size_t>(bad)])) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  json({reinterpret_cast<const char*>(data), size});
  blob(data, size);
  return 0;
}
