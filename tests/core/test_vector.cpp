// JSON vectors and float32 BLOBs.
#include <catch2/catch.hpp>

#include <cmath>

#include "bebr/error.hpp"
#include "bebr/vector.hpp"

using namespace bebr;

TEST_CASE("JSON vectors parse", "[vector]") {
  CHECK(parse_json_vector("[0.5, -1, 2e-3]") == std::vector<float>{0.5f, -1.f, 0.002f});
  CHECK(parse_json_vector(" [ 1 ] ") == std::vector<float>{1.f});
  CHECK(parse_json_vector("[]").empty());
  CHECK(parse_json_vector("[1e-50]") == std::vector<float>{0.f});  // underflow rounds to zero
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
