// Every compiled and available SIMD level against the bebr::ref oracles: integer kernels must
// match exactly, float kernels to float rounding. Codes sit at odd strides (unaligned).
#include <catch2/catch.hpp>

#include <cmath>
#include <cstring>

#include "bebr/codes.hpp"
#include "bebr/simd.hpp"
#include "testing.hpp"

using namespace bebr;

namespace {

std::vector<std::uint8_t> random_planes(std::mt19937_64& rng, std::uint32_t dim, std::uint32_t bits,
                                        std::size_t n, std::size_t stride) {
  const std::size_t words = plane_words(dim);
  std::vector<std::uint8_t> codes(n * stride + 8);
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t k = 0; k < bits; ++k)
      for (std::size_t w = 0; w < words; ++w) {
        std::uint64_t word = rng();
        if (w == words - 1 && dim % 64) word &= (std::uint64_t{1} << (dim % 64)) - 1;
        store_u64(codes.data() + i * stride + 8 * (k * words + w), word);
      }
  return codes;
}

}  // namespace

TEST_CASE("ref sdc_dot is the digit dot product, by hand", "[kernels]") {
  // Digits of a = [2, 1, 3, 3], b = [2, 2, 3, 3] (bits = 2): 4 + 2 + 9 + 9 = 24.
  const std::uint64_t a[2] = {0b1101, 0b1110};  // plane 0 (MSB), plane 1
  std::uint8_t b[16] = {};
  store_u64(b, 0b1111);
  store_u64(b + 8, 0b1100);
  std::uint64_t dot = 0;
  ref::kernels().sdc_dot_many(a, b, 16, 2, 1, 1, &dot);
  CHECK(dot == 24);
  std::uint32_t ham = 0;
  ref::kernels().hamming_many(a, b, 16, 2, 1, &ham);
  CHECK(ham == 2);
}

TEST_CASE("every SIMD level equals ref exactly on integer kernels", "[kernels]") {
  const std::uint64_t seed = 20261123;
  std::mt19937_64 rng(seed);
  INFO("seed " << seed);
  const Kernels& r = ref::kernels();
  for (const std::string& level : available_levels()) {
    const Kernels* k = kernels_for(level);
    REQUIRE(k != nullptr);
    for (std::uint32_t dim : {1u, 7u, 63u, 64u, 65u, 127u, 128u, 300u, 384u, 768u, 1000u, 1024u}) {
      for (std::uint32_t bits = 1; bits <= 8; ++bits) {
        INFO("level " << level << " dim " << dim << " bits " << bits);
        const std::size_t words = plane_words(dim), n = 9;
        const std::size_t stride = bits * words * 8 + 3;  // odd stride: unaligned codes
        auto codes = random_planes(rng, dim, bits, n, stride);
        auto qbytes = random_planes(rng, dim, bits, 1, bits * words * 8);
        std::vector<std::uint64_t> q(bits * words);
        std::memcpy(q.data(), qbytes.data(), q.size() * 8);

        std::vector<std::uint64_t> got(n), want(n);
        k->sdc_dot_many(q.data(), codes.data(), stride, bits, words, n, got.data());
        r.sdc_dot_many(q.data(), codes.data(), stride, bits, words, n, want.data());
        CHECK(got == want);

        std::vector<std::uint32_t> hg(n), hw(n);
        k->hamming_many(q.data(), codes.data(), stride, bits * words, n, hg.data());
        r.hamming_many(q.data(), codes.data(), stride, bits * words, n, hw.data());
        CHECK(hg == hw);
      }
    }
  }
}

TEST_CASE("every SIMD level matches ref float kernels to rounding", "[kernels]") {
  std::mt19937_64 rng(7);
  const Kernels& r = ref::kernels();
  for (const std::string& level : available_levels()) {
    const Kernels* k = kernels_for(level);
    for (std::size_t dim : {1u, 3u, 8u, 15u, 16u, 31u, 33u, 100u, 384u, 768u, 1024u, 1031u}) {
      INFO("level " << level << " dim " << dim);
      const std::size_t n = 5;
      auto q = testing::random_vector(rng, dim);
      auto x = testing::random_vector(rng, dim * n);
      std::vector<float> got(n), want(n);
      k->dot_f32_many(q.data(), x.data(), dim, n, got.data());
      r.dot_f32_many(q.data(), x.data(), dim, n, want.data());
      for (std::size_t i = 0; i < n; ++i) CHECK(got[i] == Approx(want[i]).margin(1e-4 * std::sqrt(double(dim))));
      k->l2sq_f32_many(q.data(), x.data(), dim, n, got.data());
      r.l2sq_f32_many(q.data(), x.data(), dim, n, want.data());
      for (std::size_t i = 0; i < n; ++i) CHECK(got[i] == Approx(want[i]).epsilon(1e-5));
      CHECK(k->dot_f32(q.data(), x.data(), dim) == Approx(r.dot_f32(q.data(), x.data(), dim)).margin(1e-4 * std::sqrt(double(dim))));
      CHECK(k->l2sq_f32(q.data(), x.data(), dim) == Approx(r.l2sq_f32(q.data(), x.data(), dim)).epsilon(1e-5));
    }
  }
}

TEST_CASE("dispatch reports levels and picks an available one", "[kernels]") {
  const auto compiled = compiled_levels();
  const auto available = available_levels();
  REQUIRE(compiled.front() == "ref");
  REQUIRE(!available.empty());
  CHECK(kernels_for("ref") == &ref::kernels());
  CHECK(kernels_for("no-such-level") == nullptr);
  bool active_is_available = false;
  for (const auto& a : available) active_is_available |= a == kernels().name;
  CHECK(active_is_available);
  if (const char* forced = std::getenv("BEBR_SIMD"); forced && kernels_for(forced))
    CHECK(std::string(kernels().name) == forced);
}
