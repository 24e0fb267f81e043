// Float vectors from SQL values: JSON text and float32 BLOBs.
#include "bebr/vector.hpp"

#include <bit>

#include <charconv>
#include <cmath>
#include <cstring>
#include <string>

#include "bebr/error.hpp"

namespace bebr {
namespace {

bool is_space(char c) noexcept { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

[[noreturn]] void bad_json(std::size_t at, const std::string& expected, std::string_view text) {
  std::string got = at < text.size() ? "'" + std::string(text.substr(at, 12)) + "'" : "the end";
  throw Error(Errc::invalid_argument, "is not a JSON array of numbers; expected " + expected + " at offset " +
                                          std::to_string(at) + ", got " + got);
}

}  // namespace

std::vector<float> parse_json_vector(std::string_view text) {
  std::vector<float> out;
  std::size_t i = 0;
  const auto skip = [&] {
    while (i < text.size() && is_space(text[i])) ++i;
  };
  skip();
  if (i >= text.size() || text[i] != '[') bad_json(i, "'['", text);
  ++i;
  skip();
  if (i < text.size() && text[i] == ']') {
    ++i;
  } else {
    for (;;) {
      skip();
      // JSON numbers never start with '+' or '.', and are never nan/inf: from_chars would
      // accept some of those, so screen the first character.
      if (i >= text.size() || !(text[i] == '-' || (text[i] >= '0' && text[i] <= '9'))) bad_json(i, "a number", text);
      double value = 0;
      const auto [end, ec] = std::from_chars(text.data() + i, text.data() + text.size(), value);
      if (ec == std::errc::result_out_of_range || (ec == std::errc{} && std::fabs(value) > 3.4028234663852886e38))
        throw Error(Errc::invalid_argument,
                    "has element " + std::to_string(out.size()) + " out of float32 range; expected finite floats");
      if (ec != std::errc{}) bad_json(i, "a number", text);
      out.push_back(static_cast<float>(value));
      i = static_cast<std::size_t>(end - text.data());
      skip();
      if (i < text.size() && text[i] == ',') {
        ++i;
        continue;
      }
      if (i < text.size() && text[i] == ']') {
        ++i;
        break;
      }
      bad_json(i, "',' or ']'", text);
    }
  }
  skip();
  if (i != text.size()) bad_json(i, "nothing after ']'", text);
  return out;
}

std::vector<float> floats_from_blob(std::span<const std::uint8_t> bytes) {
  std::vector<float> out(bytes.size() / 4);
  if constexpr (std::endian::native == std::endian::little) {
    if (!out.empty()) std::memcpy(out.data(), bytes.data(), 4 * out.size());
    return out;
  }
  for (std::size_t i = 0; i < out.size(); ++i) {
    const std::uint8_t* p = bytes.data() + 4 * i;
    const std::uint32_t u =
        std::uint32_t{p[0]} | std::uint32_t{p[1]} << 8 | std::uint32_t{p[2]} << 16 | std::uint32_t{p[3]} << 24;
    std::memcpy(&out[i], &u, 4);
  }
  return out;
}

std::vector<std::uint8_t> floats_to_blob(std::span<const float> x) {
  std::vector<std::uint8_t> out(4 * x.size());
  if constexpr (std::endian::native == std::endian::little) {
    if (!x.empty()) std::memcpy(out.data(), x.data(), out.size());
    return out;
  }
  for (std::size_t i = 0; i < x.size(); ++i) {
    std::uint32_t u;
    std::memcpy(&u, &x[i], 4);
    for (int b = 0; b < 4; ++b) out[4 * i + b] = static_cast<std::uint8_t>(u >> (8 * b));
  }
  return out;
}

long first_non_finite(std::span<const float> x) noexcept {
  // A float is NaN or infinite when its exponent bits are all ones. One branch-free pass (it
  // vectorises), then the index only when there is something to report.
  std::uint32_t any = 0;
  for (float f : x) {
    std::uint32_t u;
    std::memcpy(&u, &f, 4);
    any |= static_cast<std::uint32_t>((u & 0x7f800000u) == 0x7f800000u);
  }
  if (!any) return -1;
  for (std::size_t i = 0; i < x.size(); ++i)
    if (!std::isfinite(x[i])) return static_cast<long>(i);
  return -1;
}

}  // namespace bebr
