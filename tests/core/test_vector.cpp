// JSON vectors and float32 BLOBs.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <random>

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
