// The bitmap walks of bebr/bits.hpp against a bit-by-bit oracle on random and edge-case maps.
#include <catch2/catch.hpp>

#include <cstdint>
#include <optional>
#include <random>
#include <vector>

#include "bebr/bits.hpp"

namespace {

bool bit(const std::vector<std::uint64_t>& m, std::size_t i) { return (m[i / 64] >> (i % 64)) & 1; }

}  // namespace

TEST_CASE("bitmap walks visit exactly the bits a bit-by-bit loop finds", "[bits]") {
  std::mt19937_64 rng(7);
  for (int trial = 0; trial < 200; ++trial) {
    const std::size_t words = 1 + trial % 5;
    std::vector<std::uint64_t> a(words), b(words);
    for (std::size_t w = 0; w < words; ++w) {
      const int kind = static_cast<int>((trial + w) % 4);
      a[w] = kind == 0 ? 0 : kind == 1 ? ~std::uint64_t{0} : rng() & rng();
      b[w] = rng() | (kind == 3 ? rng() : 0);
    }
    INFO("trial " << trial);
    std::vector<std::size_t> want, want_and, got, got_and;
    std::optional<std::size_t> high, low_clear;
    std::size_t count = 0;
    for (std::size_t i = 0; i < 64 * words; ++i) {
      if (bit(a, i)) want.push_back(i), high = i, ++count;
      if (bit(a, i) && bit(b, i)) want_and.push_back(i);
      if (!bit(a, i) && !low_clear) low_clear = i;
    }
    bebr::for_each_set_bit(a.data(), words, [&](std::size_t i) { got.push_back(i); });
    bebr::for_each_set_bit(a.data(), b.data(), words, [&](std::size_t i) { got_and.push_back(i); });
    CHECK(got == want);
    CHECK(got_and == want_and);
    CHECK(bebr::count_set_bits(a.data(), words) == count);
    CHECK(bebr::highest_set_bit(a.data(), words) == high);
    CHECK(bebr::lowest_clear_bit(a.data(), words) == low_clear);
  }
}
