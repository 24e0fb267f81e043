// The filter kernels of every compiled and available SIMD level against bebr::ref's plane filter:
// the same masks, and the same float keys wherever a mask is set; the integer pre-filter's floor
// against ref's keys; the four-bit nibble and two-bit fast-scan layouts against digit() of
// codes.hpp, and their filters against the plane filter.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstring>

#include "bebr/binarize.hpp"
#include "bebr/codes.hpp"
#include "bebr/search.hpp"
#include "code_blocks.hpp"
#include "kernels/kernels.hpp"
#include "testing.hpp"

using namespace bebr;
using bebr::testing::Block;
using bebr::testing::make_block;

TEST_CASE("the key filter kernel gives the same mask on every level", "[kernels]") {
  std::mt19937_64 rng(99);
  // 256 to 1280 dimensions: 1 to 5 blocks of 32 bytes, the block counts with unrolled kernels
  // (2, 3, 4) and those without on either side.
  for (const std::uint32_t dim : {64u, 100u, 256u, 512u, 768u, 1024u, 1280u}) {
    for (const std::uint32_t bits : {1u, 2u, 3u, 4u}) {
      const Binarizer bin = Binarizer::center(bebr::testing::random_vector(rng, dim, 0.5f), bits);
      const Block b = make_block(bin, Metric::cosine, 128, rng, 1.f);
      const auto qblob = bin.encode_blob(bebr::testing::random_vector(rng, dim));
      const CodeView qv = parse_code(qblob, "q");
      std::vector<std::uint64_t> q(bits * plane_words(dim));
      for (std::size_t w = 0; w < q.size(); ++w) q[w] = load_u64(qv.planes + 8 * w);
      const CodeBlock cb = b.block(true);
      for (const float limit : {-1e9f, -3.f, 0.f, 2.5f, 1e9f}) {
        std::vector<std::uint64_t> want(2), got(2);
        std::vector<float> want_keys(128), got_keys(128);
        ref::kernels().sdc_filter(q.data(), bits, plane_words(dim), cb.planes, cb.stride, cb.n, cb.keys, 0.37f, -12.5f,
                                  0.8f, limit, want.data(), want_keys.data());
        for (const std::string& level : available_levels()) {
          INFO("dim " << dim << " bits " << bits << " level " << level << " limit " << limit);
          kernels_for(level)->sdc_filter(q.data(), bits, plane_words(dim), cb.planes, cb.stride, cb.n, cb.keys, 0.37f,
                                         -12.5f, 0.8f, limit, got.data(), got_keys.data());
          CHECK(got == want);
          for (std::size_t i = 0; i < 128; ++i)  // keys are promised where the bit is set
            if (want[i / 64] >> (i % 64) & 1) CHECK(got_keys[i] == want_keys[i]);
        }
      }
    }
  }
}

namespace {

// A filter of the 128 codes of cb, filter(limit, mask, keys), against ref's plane filter with
// the same query constants: the same mask at every limit, the same keys wherever it marks.
template <class Filter>
void check_filter(const std::vector<std::uint64_t>& q, std::size_t bits, std::size_t words, const CodeBlock& cb,
                  Filter&& filter) {
  for (const float limit : {-1e9f, -3.f, 0.f, 2.5f, 1e9f}) {
    std::vector<std::uint64_t> m_want(2), m_got(2);
    std::vector<float> k_want(128), k_got(128);
    ref::kernels().sdc_filter(q.data(), bits, words, cb.planes, cb.stride, cb.n, cb.keys, 0.37f, -12.5f, 0.8f, limit,
                              m_want.data(), k_want.data());
    filter(limit, m_got.data(), k_got.data());
    INFO("limit " << limit);
    CHECK(m_got == m_want);
    for (std::size_t i = 0; i < 128; ++i)
      if (m_want[i / 64] >> (i % 64) & 1) CHECK(k_got[i] == k_want[i]);
  }
}

// The integer pre-filter on one block: its floor (key_floor) is sound against ref's keys, and
// every filter kernel given it marks what ref's plane filter marks without it, and counts the
// groups it lets through where it applies it. Counts the floors that were computed (not
// INT32_MIN) in `active`, and the kernel calls that counted groups in `counted`.
void check_prefilter(std::mt19937_64& rng, std::uint32_t dim, std::uint32_t bits, Metric metric, bool raw,
                     std::size_t& active, std::size_t& counted) {
  const Binarizer bin =
      raw ? Binarizer::raw(dim, bits) : Binarizer::center(bebr::testing::random_vector(rng, dim, 0.5f), bits);
  const Block b = make_block(bin, metric, 128, rng, 1.f, true);
  const std::size_t words = plane_words(dim), P = planes_bytes(bin.shape());
  const auto qblob = bin.encode_blob(bebr::testing::random_vector(rng, dim));
  const CodeView qv = parse_code(qblob, "q");
  std::vector<std::uint64_t> q(bits * words);
  for (std::size_t w = 0; w < q.size(); ++w) q[w] = load_u64(qv.planes + 8 * w);
  // The oracle: digit sums and dots by ref, keys by ref's filter with every code kept.
  std::vector<std::uint64_t> dot(128), all(2);
  ref::kernels().sdc_dot_many(q.data(), b.planes.data(), P, bits, words, 128, dot.data());
  std::vector<std::uint32_t> sums(128), self(128);
  block_stats(bin.shape(), b.planes.data(), P, 128, sums.data(), self.data());
  const CodeBlock cb = b.block(true);
  for (const float A : {0.37f, -0.37f}) {
    std::vector<float> keys(128);
    ref::kernels().sdc_filter(q.data(), bits, words, cb.planes, cb.stride, cb.n, cb.keys, A, -12.5f, 0.8f, 1e30f,
                              all.data(), keys.data());
    std::vector<float> sorted = keys;
    std::sort(sorted.begin(), sorted.end());
    for (const float limit : {sorted[0], sorted[3], sorted[20], sorted[127], -1e9f, 1e9f}) {
      INFO("dim " << dim << " bits " << bits << " metric " << metric_name(metric) << " A " << A << " limit " << limit);
      std::size_t dropped = 0;
      SdcKeys k = cb.keys;
      k.sums = b.sums16.data();
      k.twice_c = static_cast<std::int32_t>(2 * ((1u << bits) - 1));
      k.emin = key_floor(b.range, b.bounds, bin.shape(), A, -12.5f, 0.8f, limit);
      if (A < 0) CHECK(k.emin == INT32_MIN);  // a P of the wrong sign: no floor
      if (k.emin != INT32_MIN) ++active;
      for (std::size_t i = 0; i < 128; ++i) {
        REQUIRE(b.sums16[i] == sums[i]);
        const std::int64_t e = 4 * static_cast<std::int64_t>(dot[i]) - k.twice_c * std::int64_t{sums[i]};
        if (keys[i] <= limit) CHECK(e >= k.emin);  // sound: every kept code is at or above the floor
        if (e < k.emin) ++dropped;
      }
      // And tight where the coefficients barely vary: raw codes under cosine (P = s rho
      // depends on the digits only) at a limit that keeps 4 codes drop 3 in 4 or more.
      if (raw && metric == Metric::cosine && dim >= 256 && A > 0 && limit == sorted[3]) CHECK(dropped >= 96);
      // The groups of eight a pre-filtering kernel must let through: those with an e >= the floor.
      std::uint64_t through = 0;
      for (std::size_t g = 0; g < 16; ++g) {
        bool any = false;
        for (std::size_t i = 8 * g; i < 8 * g + 8; ++i)
          any |= 4 * static_cast<std::int64_t>(dot[i]) - k.twice_c * std::int64_t{sums[i]} >= k.emin;
        through += any;
      }
      std::uint64_t passed = 0;
      k.passed = &passed;
      // Every kernel with the pre-filter against ref's plane filter without it.
      std::vector<std::uint64_t> m_want(2);
      std::vector<float> k_want(128);
      ref::kernels().sdc_filter(q.data(), bits, words, cb.planes, cb.stride, cb.n, cb.keys, A, -12.5f, 0.8f, limit,
                                m_want.data(), k_want.data());
      const auto same = [&](const auto& run) {
        std::vector<std::uint64_t> m(2, ~std::uint64_t{0});
        std::vector<float> got(128);
        passed = 0;
        run(m.data(), got.data());
        CHECK(m == m_want);
        // The count of groups let through: exact where the kernel applies the pre-filter.
        if (k.emin != INT32_MIN) CHECK((passed == 0 || passed == through));
        if (passed) ++counted;
        for (std::size_t i = 0; i < 128; ++i)
          if (m_want[i / 64] >> (i % 64) & 1) CHECK(got[i] == k_want[i]);
      };
      for (const std::string& level : available_levels()) {
        INFO("level " << level);
        const Kernels* kl = kernels_for(level);
        same([&](std::uint64_t* m, float* out) {
          kl->sdc_filter(q.data(), bits, words, cb.planes, cb.stride, cb.n, k, A, -12.5f, 0.8f, limit, m, out);
        });
        if (bits == 4 && kl->planes_to_nibbles) {
          std::vector<std::uint8_t> nib(128 * 32 * words);
          kl->planes_to_nibbles(b.planes.data(), P, words, 128, nib.data(), 32 * words);
          same([&](std::uint64_t* m, float* out) {
            kl->sdc_filter_nibbles(q.data(), words, nib.data(), 32 * words, 128, k, A, -12.5f, 0.8f, limit, m, out);
          });
        }
        if (bits == 2 && kl->planes_to_fastscan2) {
          std::vector<std::uint8_t> fs(128 * 16 * words), lut(16 * 32 * words);
          kl->planes_to_fastscan2(b.planes.data(), P, words, 128, fs.data());
          fastscan2_lut(q.data(), words, lut.data());
          same([&](std::uint64_t* m, float* out) {
            kl->sdc_filter_fastscan2(lut.data(), words, fs.data(), 128, k, A, -12.5f, 0.8f, limit, m, out);
          });
        }
      }
    }
  }
}

}  // namespace

TEST_CASE("the integer pre-filter drops no code the key filter keeps, and the filters give the same masks with it",
          "[kernels]") {
  std::mt19937_64 rng(1717);
  std::size_t active = 0, counted = 0;
  for (const std::uint32_t dim : {100u, 256u, 768u, 1024u})
    for (const std::uint32_t bits : {1u, 2u, 4u})
      for (const Metric metric : {Metric::cosine, Metric::ip, Metric::l2})
        for (const bool raw : {true, false}) {
          INFO("dim " << dim << " bits " << bits << " metric " << metric_name(metric) << " raw " << raw);
          check_prefilter(rng, dim, bits, metric, raw, active, counted);
        }
  CHECK(active > 200);
  // The SIMD levels count the groups they let through; a build with ref alone (WASM: xsimd 8.1
  // has no wasm arch) has no level that applies the pre-filter.
  if (available_levels().size() > 1) CHECK(counted > 100);
  else WARN("only the ref level is available: no kernel applies the pre-filter to count");
}

namespace {

// The inputs of the layout tests below: 128 codes of `bits` bits of a centred binarizer (code 5 a
// zero vector) and a query's code and planes.
struct LayoutCase {
  Binarizer bin;
  Block b;
  std::size_t words, P;
  std::vector<std::uint8_t> qblob;
  std::vector<std::uint64_t> q;
};

LayoutCase layout_case(std::mt19937_64& rng, std::uint32_t dim, std::uint32_t bits) {
  Binarizer bin = Binarizer::center(bebr::testing::random_vector(rng, dim, 0.5f), bits);
  Block b = make_block(bin, Metric::cosine, 128, rng, 1.f);
  const std::size_t words = plane_words(dim), P = planes_bytes(bin.shape());
  std::vector<std::uint8_t> qblob = bin.encode_blob(bebr::testing::random_vector(rng, dim));
  const CodeView qv = parse_code(qblob, "q");
  std::vector<std::uint64_t> q(bits * words);
  for (std::size_t w = 0; w < q.size(); ++w) q[w] = load_u64(qv.planes + 8 * w);
  return {std::move(bin), std::move(b), words, P, std::move(qblob), std::move(q)};
}

}  // namespace

TEST_CASE("four-bit codes as nibbles: the layout, and the nibble filter equals the plane filter", "[kernels]") {
  std::mt19937_64 rng(4444);
  for (const std::uint32_t dim : {64u, 100u, 768u, 1024u}) {
    const auto [bin, b, words, P, qblob, q] = layout_case(rng, dim, 4);
    const std::size_t N = 32 * words;
    // The layout, against digit() of codes.hpp: byte b of block w holds dimensions 64 w + b (low
    // nibble) and 64 w + 32 + b (high nibble); dimensions past dim are 0.
    std::vector<std::uint8_t> want(128 * N, 0);
    for (std::size_t i = 0; i < 128; ++i)
      for (std::uint32_t j = 0; j < dim; ++j)
        want[i * N + 32 * (j / 64) + j % 32] |=
            static_cast<std::uint8_t>(digit(b.planes.data() + i * P, bin.shape(), j) << (j % 64 < 32 ? 0 : 4));
    const CodeBlock cb = b.block(true);
    for (const std::string& level : available_levels()) {
      const Kernels* k = kernels_for(level);
      if (!k->planes_to_nibbles) continue;
      INFO("dim " << dim << " level " << level);
      std::vector<std::uint8_t> got(128 * N, 0xee);
      k->planes_to_nibbles(b.planes.data(), P, words, 128, got.data(), N);
      CHECK(got == want);
      // Captured by name: C++20 lets a lambda capture structured bindings, clang 14 (emscripten's) does not.
      check_filter(q, 4, words, cb, [&, &q = q, words = words](float limit, std::uint64_t* mask, float* keys) {
        k->sdc_filter_nibbles(q.data(), words, want.data(), N, 128, cb.keys, 0.37f, -12.5f, 0.8f, limit, mask, keys);
      });
    }
  }
}

TEST_CASE("two-bit codes in the fast-scan layout: the layout, and the fast-scan filter equals the plane filter",
          "[kernels]") {
  std::mt19937_64 rng(2222);
  for (const std::uint32_t dim : {64u, 100u, 768u, 1024u, 7232u, 7300u}) {
    const auto [bin, b, words, P, qblob, q] = layout_case(rng, dim, 2);
    const std::size_t B = 512 * words;
    // The layout, against digit() of codes.hpp: in block i / 32, the 16 bytes of pair g hold code
    // i's nibble digit(2g) + 4 digit(2g + 1) in byte i % 16, low half for i % 32 < 16.
    std::vector<std::uint8_t> want(4 * B, 0);
    for (std::size_t i = 0; i < 128; ++i)
      for (std::uint32_t j = 0; j < dim; ++j)
        want[B * (i / 32) + 16 * (j / 2) + i % 16] |= static_cast<std::uint8_t>(
            digit(b.planes.data() + i * P, bin.shape(), j) << (2 * (j % 2) + (i % 32 < 16 ? 0 : 4)));
    // One code at a time into its block (a write to the resident copy): the same bytes.
    std::vector<std::uint8_t> stored(4 * B, 0xee);
    for (std::size_t i = 0; i < 128; ++i)
      fastscan2_store(b.planes.data() + i * P, words, stored.data() + B * (i / 32), i % 32);
    CHECK(stored == want);
    const CodeView qv = parse_code(qblob, "q");
    // The table, against the query's digits.
    std::vector<std::uint8_t> lut(16 * 32 * words);
    fastscan2_lut(q.data(), words, lut.data());
    for (std::size_t g = 0; g < 32 * words; ++g)
      for (unsigned e = 0; e < 16; ++e) {
        const unsigned a = 2 * g < dim ? digit(qv.planes, bin.shape(), static_cast<std::uint32_t>(2 * g)) : 0;
        const unsigned c = 2 * g + 1 < dim ? digit(qv.planes, bin.shape(), static_cast<std::uint32_t>(2 * g + 1)) : 0;
        REQUIRE(lut[16 * g + e] == a * (e & 3) + c * (e >> 2));
      }
    const CodeBlock cb = b.block(true);
    for (const std::string& level : available_levels()) {
      const Kernels* k = kernels_for(level);
      if (!k->planes_to_fastscan2) continue;
      INFO("dim " << dim << " level " << level);
      std::vector<std::uint8_t> got(4 * B, 0xee);
      k->planes_to_fastscan2(b.planes.data(), P, words, 128, got.data());
      CHECK(got == want);
      check_filter(q, 2, words, cb, [&, words = words](float limit, std::uint64_t* mask, float* keys) {
        k->sdc_filter_fastscan2(lut.data(), words, want.data(), 128, cb.keys, 0.37f, -12.5f, 0.8f, limit, mask, keys);
      });
    }
  }
}
