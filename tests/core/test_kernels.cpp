// Every compiled and available SIMD level against the bebr::ref oracles: integer kernels must
// match exactly, float kernels to float rounding, the one-bit encoder and the batched SDC scan
// bit for bit. Codes sit at odd strides (unaligned). The filter kernels and the code layouts
// are in test_kernel_filters.cpp.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstring>

#include "bebr/binarize.hpp"
#include "bebr/codes.hpp"
#include "bebr/distance.hpp"
#include "bebr/search.hpp"
#include "kernels/kernels.hpp"
#include "testing.hpp"

using namespace bebr;

namespace {

std::vector<std::uint8_t> random_planes(std::mt19937_64& rng, std::uint32_t dim, std::uint32_t bits, std::size_t n,
                                        std::size_t stride) {
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

std::vector<std::uint8_t> from_hex(const std::string& hex) {
  std::vector<std::uint8_t> out;
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2) out.push_back(std::uint8_t(std::stoul(hex.substr(i, 2), nullptr, 16)));
  return out;
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
      CHECK(k->dot_f32(q.data(), x.data(), dim) ==
            Approx(r.dot_f32(q.data(), x.data(), dim)).margin(1e-4 * std::sqrt(double(dim))));
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

TEST_CASE("every level fills every slot, and each layout comes with its filter", "[kernels]") {
  for (const std::string& level : compiled_levels()) {
    const Kernels* k = level == "ref" ? &ref::kernels() : kernels_for(level);
    if (!k) continue;  // compiled, but this CPU cannot run it
    INFO("level " << level);
    CHECK(std::string(k->name) == level);
    CHECK(k->hamming_many);
    CHECK(k->sdc_dot_many);
    CHECK(k->sdc_scan);
    CHECK(k->sdc_filter);
    CHECK(k->hamming_filter);
    CHECK(k->encode_one_bit);
    CHECK(k->dot_f32);
    CHECK(k->l2sq_f32);
    CHECK(k->dot_f32_many);
    CHECK(k->l2sq_f32_many);
    // Optional layouts: a conversion and its filter, both or neither (ref has every one).
    CHECK(!k->planes_to_nibbles == !k->sdc_filter_nibbles);
    CHECK(!k->planes_to_fastscan2 == !k->sdc_filter_fastscan2);
  }
  const Kernels& r = ref::kernels();
  CHECK((r.planes_to_nibbles && r.planes_to_fastscan2));
}

TEST_CASE("ref encode_one_bit: the sign bits and the partial sums in order, by hand", "[kernels]") {
  const Kernels& r = ref::kernels();
  // r >= 0 sets the bit (0 and -0 included); part[i] sums |r_j| over j = i mod 4.
  const float x[7] = {1.5f, -2.f, 0.f, -0.f, 3.f, -1.f, 0.25f};
  std::uint64_t word = ~std::uint64_t{0};
  double part[4] = {-1, -1, -1, -1};
  r.encode_one_bit(x, nullptr, 7, &word, part);
  CHECK(word == 0b1011101u);
  CHECK(part[0] == 4.5);
  CHECK(part[1] == 3.0);
  CHECK(part[2] == 0.25);
  CHECK(part[3] == 0.0);
  const float mean[7] = {1.f, 0.f, 0.f, 0.f, 0.f, 0.f, 0.5f};  // r_0 = 0.5, r_6 = -0.25
  r.encode_one_bit(x, mean, 7, &word, part);
  CHECK(word == 0b0011101u);
  CHECK(part[0] == 3.5);
  CHECK(part[2] == 0.25);
  // In order of j: 2^53 + 1 rounds back to 2^53 (ties to even), and so does the next + 1; the
  // other order would give 2^53 + 2.
  std::vector<float> big(9, 0.f);
  big[0] = 9007199254740992.f;
  big[4] = big[8] = 1.f;
  r.encode_one_bit(big.data(), nullptr, 9, &word, part);
  CHECK(part[0] == 9007199254740992.0);
  CHECK(word == 0x1ffu);
}

TEST_CASE("every SIMD level's one-bit encoder equals ref: the same words, bit-identical sums", "[kernels]") {
  const std::uint64_t seed = 1357;
  std::mt19937_64 rng(seed);
  INFO("seed " << seed);
  const Kernels& r = ref::kernels();
  for (const std::uint32_t dim :
       {1u, 2u, 3u, 4u, 5u, 7u, 63u, 64u, 65u, 100u, 127u, 128u, 129u, 768u, 1000u, kMaxDim}) {
    for (const bool centred : {false, true}) {
      for (int t = 0; t < 4; ++t) {
        // One float in: the loads start unaligned.
        std::vector<float> xs = testing::random_vector(rng, dim + 1), ms = testing::random_vector(rng, dim + 1, 0.3f);
        float* x = xs.data() + 1;
        const float* mean = centred ? ms.data() + 1 : nullptr;
        if (t == 1) {                 // zeros of both signs, residuals of exactly 0, a tiny and a huge value
          const float tiny = 1e-40f;  // subnormal
          for (std::uint32_t j = 0; j < dim; ++j) {
            if (j % 5 == 0) x[j] = 0.f;
            if (j % 5 == 1) x[j] = -0.f;
            if (j % 5 == 2) x[j] = centred ? mean[j] : tiny;
            if (j % 5 == 3) x[j] = -3e38f;
          }
        }
        if (t == 2) std::fill(x, x + dim, 0.f);
        const std::size_t words = plane_words(dim);
        const std::uint64_t past = 0x5a5a5a5a5a5a5a5aull;  // the word after the code must stay
        std::vector<std::uint64_t> want(words + 1, past);
        double want_part[4];
        r.encode_one_bit(x, mean, dim, want.data(), want_part);
        REQUIRE(want.back() == past);
        for (const std::string& level : available_levels()) {
          INFO("level " << level << " dim " << dim << " centred " << centred << " t " << t);
          const Kernels* k = kernels_for(level);
          REQUIRE(k->encode_one_bit);
          std::vector<std::uint64_t> got(words + 1, past);
          double part[4] = {-1, -1, -1, -1};
          k->encode_one_bit(x, mean, dim, got.data(), part);
          CHECK(got == want);
          CHECK(std::memcmp(part, want_part, sizeof part) == 0);
        }
      }
    }
  }
}

TEST_CASE("the batched SDC scan equals sdc_finish bit for bit on every level", "[kernels]") {
  const std::uint64_t seed = 4242;
  std::mt19937_64 rng(seed);
  INFO("seed " << seed);
  for (const std::uint32_t dim : {1u, 5u, 64u, 100u, 768u}) {
    for (const std::uint32_t bits : {1u, 2u, 3u, 4u, 8u}) {
      for (const bool centred : {false, true}) {
        const Binarizer bin =
            centred ? Binarizer::center(bebr::testing::random_vector(rng, dim, 0.5f), bits) : Binarizer::raw(dim, bits);
        // 11 codes (not a multiple of any batch width), one all-zero vector among them.
        const std::size_t n = 11, P = planes_bytes(bin.shape());
        std::vector<std::vector<std::uint8_t>> blobs;
        std::vector<std::uint8_t> planes(n * P);
        std::vector<float> scale(n), offset(n);
        std::vector<std::uint32_t> sums(n), self(n);
        for (std::size_t i = 0; i < n; ++i) {
          auto x = bebr::testing::random_vector(rng, dim, 0.3f);
          if (i == 4) std::fill(x.begin(), x.end(), 0.f);
          blobs.push_back(bin.encode_blob(x));
          const CodeView c = parse_code(blobs.back(), "code");
          std::memcpy(planes.data() + i * P, c.planes, P);
          scale[i] = c.scale;
          offset[i] = c.offset;
        }
        block_stats(bin.shape(), planes.data(), P, n, sums.data(), self.data());
        const auto qblob = bin.encode_blob(bebr::testing::random_vector(rng, dim));
        const CodeView qv = parse_code(qblob, "query");
        for (const Metric metric : {Metric::cosine, Metric::ip, Metric::l2}) {
          const BoundQuery bound(qv, metric);
          ScanState query(bound);
          std::vector<double> got(n);
          query.distances(CodeBlock{planes.data(), P, scale.data(), offset.data(), sums.data(), self.data(), n, {}},
                          got.data());
          for (const std::string& level : available_levels()) {
            const Kernels* k = kernels_for(level);
            std::vector<double> lv(n);
            SdcTerms t;  // the terms BoundQuery binds, through the public pieces
            const CodeStats qs = code_stats(qv);
            t.scale = qv.scale;
            t.offset = qv.offset;
            t.digit_sum = static_cast<double>(qs.digit_sum);
            t.norm2 = sdc_norm2(qv, qs);
            t.c = static_cast<double>((1u << bits) - 1);
            t.m = dim;
            t.s2 = static_cast<double>(std::uint64_t{1} << (2 * (bits - 1)));
            t.metric = static_cast<int>(metric);
            std::vector<std::uint64_t> qw(bits * plane_words(dim));
            for (std::size_t w = 0; w < qw.size(); ++w) qw[w] = load_u64(qv.planes + 8 * w);
            k->sdc_scan(qw.data(), t, planes.data(), P, bits, plane_words(dim), scale.data(), offset.data(),
                        sums.data(), self.data(), n, lv.data());
            for (std::size_t i = 0; i < n; ++i) {
              INFO("dim " << dim << " bits " << bits << " centred " << centred << " metric " << metric_name(metric)
                          << " level " << level << " code " << i);
              const CodeView c = parse_code(blobs[i], "code");
              const double want = sdc_distance(qv, c, metric);
              CHECK(std::memcmp(&lv[i], &want, sizeof want) == 0);  // bit for bit, signed zeros too
              CHECK(std::memcmp(&got[i], &want, sizeof want) == 0);
            }
          }
        }
      }
    }
  }
}

TEST_CASE("the Hamming filter kernel marks the codes within the limit on every level", "[kernels]") {
  std::mt19937_64 rng(2718);
  for (const std::size_t words : {1u, 2u, 4u, 12u, 16u}) {
    const std::size_t n = 128, stride = 8 * words + (words == 12 ? 0 : 8);  // padded and packed rows
    std::vector<std::uint8_t> codes(n * stride);
    for (auto& b : codes) b = static_cast<std::uint8_t>(rng());
    std::vector<std::uint64_t> q(words);
    for (auto& w : q) w = rng();
    // The oracle: a bit-by-bit count.
    std::vector<std::uint32_t> want(n);
    for (std::size_t i = 0; i < n; ++i)
      for (std::size_t b = 0; b < 64 * words; ++b)
        want[i] += ((q[b / 64] >> (b % 64)) & 1) != ((codes[i * stride + b / 8] >> (b % 8)) & 1);
    std::vector<std::uint32_t> sorted = want;
    std::sort(sorted.begin(), sorted.end());
    for (const std::uint32_t limit : {0u, sorted[3], sorted[64], sorted[127], 1000000u}) {
      for (const std::string& level : available_levels()) {
        INFO("words " << words << " limit " << limit << " level " << level);
        std::vector<std::uint64_t> mask(2, ~std::uint64_t{0});
        std::vector<std::uint32_t> hams(n, 0xdeadu);
        kernels_for(level)->hamming_filter(q.data(), words, codes.data(), stride, n, limit, mask.data(), hams.data());
        for (std::size_t i = 0; i < n; ++i) {
          const bool in = (mask[i / 64] >> (i % 64)) & 1;
          CHECK(in == (want[i] <= limit));
          if (in) CHECK(hams[i] == want[i]);
        }
      }
    }
  }
}

TEST_CASE("a code's l2 SDC distance to itself is 0 on every level at any scale and offset", "[kernels]") {
  // The offsets are summed before they join the dot product's term, as the norms add 2 offset;
  // summed one at a time, a scale of 4.6e-13 with offset 1.4e-38 left 2^-64 (a fuzz_code find).
  std::vector<std::vector<std::uint8_t>> blobs = {
      from_hex("42454252010202002800000000000020dca1002b002894000100000000000000010000fffc000000")};
  const std::uint64_t seed = 77;
  std::mt19937_64 rng(seed);
  INFO("seed " << seed);
  for (const std::uint32_t bits : {1u, 2u, 4u}) {
    const Binarizer bin = Binarizer::center(bebr::testing::random_vector(rng, 40, 0.5f), bits);
    for (int i = 0; i < 200; ++i) {
      auto blob = bin.encode_blob(bebr::testing::random_vector(rng, 40, 0.3f));
      // Scale 2^e and offset of either sign, each over the whole float range.
      const float scale = std::ldexp(float(rng() % 1000 + 1) / 1000.f, int(rng() % 250) - 125);
      const float offset = std::ldexp(float(rng() % 2001) / 1000.f - 1.f, int(rng() % 250) - 125);
      std::memcpy(blob.data() + 16, &scale, 4);
      std::memcpy(blob.data() + 20, &offset, 4);
      blobs.push_back(blob);
    }
  }
  for (const auto& blob : blobs) {
    const CodeView c = parse_code(blob, "code");
    INFO("bits " << c.shape.bits << " scale " << c.scale << " offset " << c.offset);
    CHECK(sdc_distance(c, c, Metric::l2) == 0);
    const std::size_t P = planes_bytes(c.shape);
    std::uint32_t sum = 0, self = 0;
    block_stats(c.shape, c.planes, P, 1, &sum, &self);
    const BoundQuery bound(c, Metric::l2);
    ScanState query(bound);
    double got = -1;
    query.distances(CodeBlock{c.planes, P, &c.scale, &c.offset, &sum, &self, 1, {}}, &got);
    CHECK(got == 0);
    for (const std::string& level : available_levels()) {
      INFO("level " << level);
      double lv = -1;
      std::vector<std::uint64_t> qw(c.shape.bits * plane_words(c.shape.dim));
      for (std::size_t w = 0; w < qw.size(); ++w) qw[w] = load_u64(c.planes + 8 * w);
      SdcTerms t;
      t.scale = c.scale;
      t.offset = c.offset;
      t.digit_sum = sum;
      t.norm2 = sdc_norm2(c, code_stats(c));
      t.c = static_cast<double>((1u << c.shape.bits) - 1);
      t.m = c.shape.dim;
      t.s2 = static_cast<double>(std::uint64_t{1} << (2 * (c.shape.bits - 1)));
      t.metric = static_cast<int>(Metric::l2);
      kernels_for(level)->sdc_scan(qw.data(), t, c.planes, P, c.shape.bits, plane_words(c.shape.dim), &c.scale,
                                   &c.offset, &sum, &self, 1, &lv);
      CHECK(lv == 0);
    }
  }
}
