// The code format: the worked example of docs/format.md byte for byte, and rejection of every
// kind of malformed BLOB.
#include <catch2/catch.hpp>

#include "bebr/binarize.hpp"
#include "bebr/codes.hpp"
#include "bebr/distance.hpp"
#include "bebr/error.hpp"

using namespace bebr;

namespace {
std::vector<std::uint8_t> hex(const char* s) {
  std::vector<std::uint8_t> out;
  for (; s[0] && s[1]; s += 2) {
    if (*s == ' ') {
      --s;
      continue;
    }
    out.push_back(static_cast<std::uint8_t>(std::stoi(std::string(s, 2), nullptr, 16)));
  }
  return out;
}
}  // namespace

TEST_CASE("worked example of docs/format.md", "[format]") {
  // x = [1, -2, 3, 4], bits = 2, raw. Worked by hand in docs/format.md: alpha = 2.4,
  // digits [2, 1, 3, 3], plane 0 = 0b1101, plane 1 = 0b1110.
  const std::vector<float> x = {1, -2, 3, 4};
  const auto blob = Binarizer::raw(4, 2).encode_blob(x);
  const auto want =
      hex("42454252 01020000 04000000 00000000 9a991940 00000000"
          "0d00000000000000 0e00000000000000");
  CHECK(blob == want);

  const CodeView a = parse_code(blob, "code");
  CHECK(a.shape.dim == 4);
  CHECK(a.shape.bits == 2);
  CHECK(a.scale == 2.4f);
  const std::vector<float> v = Binarizer::raw(4, 2).decode(a);
  CHECK(v == std::vector<float>{float(2.4f * 0.5), float(2.4f * -0.5), float(2.4f * 1.5), float(2.4f * 1.5)});

  // y = [1, 2, 3, 4] -> digits [2, 2, 3, 3]: Hamming 2, cosine of reconstructions 0.9.
  const std::vector<float> y = {1, 2, 3, 4};
  const auto blob_b = Binarizer::raw(4, 2).encode_blob(y);
  const CodeView b = parse_code(blob_b, "code");
  CHECK(hamming_distance(a, b) == 2);
  CHECK(sdc_distance(a, b, Metric::cosine) == Approx(0.1).margin(1e-12));
  CHECK(sdc_distance(a, b, Metric::ip) == Approx(-25.92).epsilon(1e-6));
  CHECK(sdc_distance(a, b, Metric::l2) == Approx(2.4).epsilon(1e-6));
}

TEST_CASE("sign(0) is +1 and the zero vector has scale 0", "[format]") {
  const std::vector<float> z(70, 0.f);
  for (std::uint32_t bits : {1u, 3u, 8u}) {
    const auto blob = Binarizer::raw(70, bits).encode_blob(z);
    const CodeView c = parse_code(blob, "code");
    CHECK(c.scale == 0.f);
    for (std::uint32_t j = 0; j < 70; ++j) CHECK(digit(c.planes, c.shape, j) == (1u << bits) - 1);
    CHECK(sdc_distance(c, c, Metric::cosine) == 1.0);  // cosine with a zero vector: 1 by definition
    CHECK(sdc_distance(c, c, Metric::l2) == 0.0);
  }
}

TEST_CASE("parse_code rejects malformed BLOBs with a reason", "[format]") {
  const std::vector<float> x = {0.5f, -1.f, 2.f, 0.f, 3.f};
  const auto good = Binarizer::raw(5, 3).encode_blob(x);
  REQUIRE_NOTHROW(parse_code(good, "arg"));
  const auto rejects = [](std::vector<std::uint8_t> b, const char* text) {
    INFO(text);
    CHECK_THROWS_WITH(parse_code(b, "arg"), Catch::Contains(text));
  };
  rejects({}, "is not a bebr code");
  rejects({'B', 'E', 'B'}, "is not a bebr code");
  auto b = good;
  b[0] = 'X';
  rejects(b, "is not a bebr code");
  b = good;
  b[4] = 2;
  rejects(b, "format version 2");
  b = good;
  b[5] = 0;
  rejects(b, "bits in 1..8, got 0");
  b = good;
  b[5] = 9;
  rejects(b, "bits in 1..8, got 9");
  b = good;
  b[6] = 7;
  rejects(b, "binarizer kind");
  b = good;
  b[7] = 1;
  rejects(b, "reserved byte");
  b = good;
  store_u32(b.data() + 8, 0);
  rejects(b, "dim in 1..16384, got 0");
  b = good;
  store_u32(b.data() + 8, 100000);
  rejects(b, "dim in 1..16384, got 100000");
  b = good;
  store_u32(b.data() + 12, 5);
  rejects(b, "model id");
  b = good;
  b.pop_back();
  rejects(b, "truncated or overlong code; expected 48 bytes");
  b = good;
  b.push_back(0);
  rejects(b, "got 49");
  b = good;
  store_f32(b.data() + 16, std::numeric_limits<float>::quiet_NaN());
  rejects(b, "scale or offset");
  b = good;
  store_f32(b.data() + 16, -1.f);
  rejects(b, "scale or offset");
  b = good;
  store_f32(b.data() + 20, 1.f);
  rejects(b, "scale or offset");
  b = good;
  b[24] |= 0x80;
  rejects(b, "padding bits past dim 5 must be zero");
}

TEST_CASE("size helpers", "[format]") {
  CHECK(plane_words(1) == 1);
  CHECK(plane_words(64) == 1);
  CHECK(plane_words(65) == 2);
  CHECK(blob_bytes({768, 1, BinarizerKind::raw, 0}) == 16 + 8 + 96);
  CHECK(blob_bytes({1024, 4, BinarizerKind::raw, 0}) == 16 + 8 + 4 * 128);
}
