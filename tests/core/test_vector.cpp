// JSON vectors and float32 BLOBs.
#include <catch2/catch.hpp>

#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <random>
#include <string>

#include "bebr/error.hpp"
#include "bebr/vector.hpp"

using namespace bebr;

TEST_CASE("JSON vectors parse", "[vector]") {
  CHECK(parse_json_vector("[0.5, -1, 2e-3]") == std::vector<float>{0.5f, -1.f, 0.002f});
  CHECK(parse_json_vector(" [ 1 ] ") == std::vector<float>{1.f});
  CHECK(parse_json_vector("[]").empty());
  CHECK(parse_json_vector("[1e-50]") == std::vector<float>{0.f});  // underflow rounds to zero
}

TEST_CASE("JSON numbers round to the nearest float, FLT_MAX as printed included", "[vector]") {
  const float max = std::numeric_limits<float>::max();
  CHECK(parse_json_vector("[3.4028235e38, -3.4028235e38]") == std::vector<float>{max, -max});
  CHECK(parse_json_vector("[3.40282347e+38]") == std::vector<float>{max});
  CHECK(parse_json_vector("[3.4028235677973366e38]") == std::vector<float>{max});  // just under the midpoint
  CHECK_THROWS_WITH(parse_json_vector("[3.4028235677973367e38]"), Catch::Contains("out of float32 range"));
  CHECK_THROWS_WITH(parse_json_vector("[3.5e38]"), Catch::Contains("element 0 out of float32 range"));
  // Denormals and the nearest float to decimal text (an oracle: the float's own 9-digit print).
  CHECK(parse_json_vector("[1e-45]") == std::vector<float>{std::numeric_limits<float>::denorm_min()});
  CHECK(parse_json_vector("[0.1, 1E2, -0, 0e0, 2.5e-3]") == std::vector<float>{0.1f, 100.f, -0.f, 0.f, 0.0025f});
  std::mt19937 rng(8);
  for (int i = 0; i < 20000; ++i) {
    std::uint32_t u = rng();
    float f;
    std::memcpy(&f, &u, 4);
    if (!std::isfinite(f)) continue;
    char buf[40];
    std::snprintf(buf, sizeof buf, "[%.9g]", double{f});
    INFO(buf);
    const std::vector<float> got = parse_json_vector(buf);
    REQUIRE(got.size() == 1);
    CHECK(std::memcmp(&got[0], &f, 4) == 0);
  }
}

TEST_CASE("JSON vectors follow JSON's number grammar", "[vector]") {
  CHECK_THROWS_WITH(parse_json_vector("[1.]"), Catch::Contains("expected a digit after '.' at offset 3, got ']'"));
  CHECK_THROWS_WITH(parse_json_vector("[.5]"), Catch::Contains("expected a number at offset 1"));
  CHECK_THROWS_WITH(parse_json_vector("[01]"), Catch::Contains("expected no leading zero at offset 2"));
  CHECK_THROWS_WITH(parse_json_vector("[1e]"), Catch::Contains("expected a digit in the exponent at offset 3"));
  CHECK_THROWS_WITH(parse_json_vector("[1e+]"), Catch::Contains("expected a digit in the exponent at offset 4"));
  CHECK_THROWS_WITH(parse_json_vector("[-]"), Catch::Contains("expected a number at offset 2"));
  CHECK_THROWS_WITH(parse_json_vector("[0x10]"), Catch::Contains("expected ',' or ']' at offset 2"));
  CHECK_THROWS_WITH(parse_json_vector("[1.5.2]"), Catch::Contains("expected ',' or ']' at offset 4"));
}

TEST_CASE("malformed JSON vectors are rejected with a position", "[vector]") {
  CHECK_THROWS_WITH(parse_json_vector(""), Catch::Contains("expected '[' at offset 0, got the end"));
  CHECK_THROWS_WITH(parse_json_vector("1, 2"), Catch::Contains("expected '['"));
  CHECK_THROWS_WITH(parse_json_vector("[1, 2"), Catch::Contains("expected ',' or ']'"));
  CHECK_THROWS_WITH(parse_json_vector("[1,,2]"), Catch::Contains("expected a number at offset 3"));
  CHECK_THROWS_WITH(parse_json_vector("[NaN]"), Catch::Contains("expected a number"));
  CHECK_THROWS_WITH(parse_json_vector("[Infinity]"), Catch::Contains("expected a number"));
  CHECK_THROWS_WITH(parse_json_vector("[+1]"), Catch::Contains("expected a number"));
  CHECK_THROWS_WITH(parse_json_vector("[\"1\"]"), Catch::Contains("expected a number"));
  CHECK_THROWS_WITH(parse_json_vector("[1] x"), Catch::Contains("nothing after ']'"));
  CHECK_THROWS_WITH(parse_json_vector("[1e39]"), Catch::Contains("out of float32 range"));
}

TEST_CASE("float32 BLOBs are little-endian", "[vector]") {
  const std::uint8_t bytes[8] = {0x00, 0x00, 0x80, 0x3f, 0x00, 0x00, 0x00, 0xc0};  // 1.0, -2.0
  CHECK(floats_from_blob(bytes) == std::vector<float>{1.f, -2.f});
  const std::vector<float> x = {1.f, NAN, INFINITY};
  CHECK(first_non_finite(x) == 1);
  CHECK(first_non_finite(std::vector<float>{1.f, 2.f}) == -1);
}

// float_text's fallback (the WASM build's) against std::to_chars, the oracle, where the
// standard library has it: random bit patterns, the floats around every power of two (where
// the rounding interval is lopsided), decimal grids, integers in plain notation.
#if defined(__cpp_lib_to_chars)
TEST_CASE("float_text without to_chars writes what std::to_chars writes", "[vector]") {
  const auto to_chars_text = [](float f) {
    char buf[64];
    const auto r = std::to_chars(buf, buf + sizeof buf, f);
    return std::string(buf, r.ptr);
  };
  std::size_t checked = 0, differ = 0;
  const auto check = [&](float f) {
    if (!std::isfinite(f)) return;
    ++checked;
    const std::string want = to_chars_text(f), got = detail::float_text_printf(f);
    if (want != got && ++differ <= 10) {
      char hex[32];
      std::snprintf(hex, sizeof hex, "%a", static_cast<double>(f));
      FAIL_CHECK(hex << ": to_chars " << want << ", fallback " << got);
    }
  };
  const std::uint32_t seed = 20261202;
  INFO("seed " << seed);
  std::mt19937 rng(seed);
  for (int i = 0; i < 200000; ++i) {
    const std::uint32_t u = rng();
    float f;
    std::memcpy(&f, &u, 4);
    check(f);
  }
  for (std::uint32_t u = 0; u < 20000; ++u) {  // zero and the smallest subnormals
    float f;
    std::memcpy(&f, &u, 4);
    check(f);
    check(-f);
  }
  for (int e = -149; e <= 127; ++e) {
    float lo = std::ldexp(1.0f, e), hi = lo;
    for (int k = 0; k < 4; ++k) {
      check(lo);
      check(hi);
      lo = std::nextafter(lo, 0.f);
      hi = std::nextafter(hi, std::numeric_limits<float>::max());
    }
  }
  for (int e = -45; e <= 38; ++e)
    for (int j = 1; j < 200; ++j)
      check(std::strtof((std::to_string(j) + "e" + std::to_string(e)).c_str(), nullptr));
  for (int i = 0; i < 20000; ++i) {
    check(static_cast<float>(i));
    check(static_cast<float>(i) / 7);
    check(123456789.f + static_cast<float>(i) * 100.f);
  }
  check(std::numeric_limits<float>::max());
  check(std::numeric_limits<float>::min());
  check(std::numeric_limits<float>::denorm_min());
  INFO(checked << " floats checked");
  CHECK(differ == 0);
}
#endif

TEST_CASE("float_text is the shortest text that reads back as the float", "[vector]") {
  // Worked by hand: JSON-valid text, %f or %e whichever is shorter, integers exactly.
  CHECK(float_text(0.1f) == "0.1");
  CHECK(float_text(-0.0f) == "-0");
  CHECK(float_text(0.0f) == "0");
  CHECK(float_text(1e20f) == "1e+20");
  CHECK(float_text(-2.5e-7f) == "-2.5e-07");
  CHECK(float_text(1.5f) == "1.5");
  CHECK(float_text(0x1.cb5596p+27f) == "240823472");
  CHECK(detail::float_text_printf(0x1.cb5596p+27f) == "240823472");
  CHECK(detail::float_text_printf(1e20f) == "1e+20");
  CHECK(detail::float_text_printf(-0.0f) == "-0");
  for (float f : {0.3f, 3.4028235e38f, 1.17549435e-38f, 1e-45f, 16777217.f, -123.456f})
    CHECK(std::strtof(float_text(f).c_str(), nullptr) == f);
}
