// Model BLOBs from an untrusted source (docs/security.md): a header that claims more weights than
// the BLOB holds is refused from the header alone, before anything is allocated for them.
#include <catch2/catch.hpp>

#include <sys/resource.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "bebr/binarize.hpp"
#include "bebr/error.hpp"

using namespace bebr;

namespace {

void put_u32(std::vector<std::uint8_t>& b, std::size_t at, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) b[at + i] = static_cast<std::uint8_t>(v >> (8 * i));
}

// A 40-byte mlp header (docs/format.md, "Model BLOB") and nothing after it.
std::vector<std::uint8_t> mlp_header(std::uint32_t dim, std::uint32_t bits, std::uint32_t hidden) {
  std::vector<std::uint8_t> b(40, 0);
  std::memcpy(b.data(), "BEBM", 4);
  b[4] = 1;
  b[5] = static_cast<std::uint8_t>(BinarizerKind::mlp);
  b[6] = static_cast<std::uint8_t>(bits);
  put_u32(b, 8, dim);      // code dim
  put_u32(b, 12, dim);     // input dim
  put_u32(b, 16, hidden);  // hidden
  const float alpha = 1;
  std::memcpy(b.data() + 24, &alpha, 4);
  put_u32(b, 32, dim);  // inner dim
  return b;
}

// The length such a header claims, counted independently: the mean, then 2 bits - 1 blocks of
// (hidden x dim + hidden) + (dim x hidden + dim) + (dim x dim + dim) floats, at 4 bytes each.
std::uint64_t claimed_bytes(std::uint64_t dim, std::uint64_t bits, std::uint64_t hidden) {
  const std::uint64_t block = hidden * dim + hidden + dim * hidden + dim + dim * dim + dim;
  return 40 + 4 * (dim + (2 * bits - 1) * block);
}

long peak_rss_kib() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_maxrss;
}

}  // namespace

TEST_CASE("a model BLOB claiming gigabytes is refused in small memory", "[binarize][security]") {
  struct Shape {
    std::uint32_t dim, bits, hidden;
  };
  for (const Shape s : {Shape{8192, 1, 8192}, Shape{16384, 8, 16384}, Shape{64, 2, 16}}) {
    CAPTURE(s.dim, s.bits, s.hidden);
    const std::vector<std::uint8_t> blob = mlp_header(s.dim, s.bits, s.hidden);
    const long rss_before = peak_rss_kib();
    const std::string want = "corrupt model BLOB: wrong length: header says " +
                             std::to_string(claimed_bytes(s.dim, s.bits, s.hidden)) + " bytes, BLOB has 40";
    CHECK_THROWS_WITH(Binarizer::parse(blob), want);
    CHECK(peak_rss_kib() - rss_before < 16 * 1024);
  }
  // One byte short of a real model's length, and one byte over: the same check.
  const std::vector<std::uint8_t> small = mlp_header(64, 2, 16);
  std::vector<std::uint8_t> whole(claimed_bytes(64, 2, 16), 0);
  std::memcpy(whole.data(), small.data(), 40);
  whole.pop_back();
  CHECK_THROWS_WITH(Binarizer::parse(whole), Catch::Contains("header says " + std::to_string(whole.size() + 1) +
                                                             " bytes, BLOB has " + std::to_string(whole.size())));
  whole.resize(whole.size() + 2, 0);
  CHECK_THROWS_WITH(Binarizer::parse(whole), Catch::Contains("BLOB has " + std::to_string(whole.size())));
  // The exact length (zero weights) parses.
  whole.pop_back();
  CHECK_NOTHROW(Binarizer::parse(whole));
}
