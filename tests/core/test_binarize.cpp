// Binarizers and SDC against independent double-precision computations on the decoded
// reconstructions.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstring>

#include "bebr/binarize.hpp"
#include "bebr/distance.hpp"
#include "bebr/error.hpp"
#include "bebr/knn.hpp"
#include "bebr/simd.hpp"
#include "testing.hpp"

using namespace bebr;

namespace {

double exact(const std::vector<float>& a, const std::vector<float>& b, Metric m) {
  return testing::exact_distance(a, b, metric_name(m));
}

double sq_error(const std::vector<float>& x, const std::vector<float>& v) {
  double e = 0;
  for (std::size_t j = 0; j < x.size(); ++j) e += (double{x[j]} - v[j]) * (double{x[j]} - v[j]);
  return e;
}

}  // namespace

TEST_CASE("SDC equals the metric of the decoded reconstructions", "[sdc]") {
  const std::uint64_t seed = 42;
  std::mt19937_64 rng(seed);
  INFO("seed " << seed);
  for (std::uint32_t dim : {1u, 2u, 5u, 63u, 64u, 65u, 100u, 384u, 768u, 1030u}) {
    std::vector<float> mean = testing::random_vector(rng, dim, 0.5f);
    for (std::uint32_t bits = 1; bits <= 8; ++bits) {
      for (bool centred : {false, true}) {
        const Binarizer bz = centred ? Binarizer::center(mean, bits) : Binarizer::raw(dim, bits);
        for (int trial = 0; trial < 3; ++trial) {
          const auto x = testing::random_vector(rng, dim, centred ? 0.5f : 0.f);
          const auto y = testing::random_vector(rng, dim, centred ? 0.5f : 0.f);
          const auto ba = bz.encode_blob(x), bb = bz.encode_blob(y);
          const CodeView a = parse_code(ba, "a"), b = parse_code(bb, "b");
          const auto va = bz.decode(a), vb = bz.decode(b);
          INFO("dim " << dim << " bits " << bits << " centred " << centred);
          // Tolerances: decoded values and the stored scalars are float32, so the inner product
          // is exact to ~1e-7 of (|a| + |mean|)(|b| + |mean|).
          const double na = std::sqrt(-exact(va, va, Metric::ip)), nb = std::sqrt(-exact(vb, vb, Metric::ip));
          const double nm = centred ? std::sqrt(-exact(mean, mean, Metric::ip)) : 0.0;
          const double tol = 2e-6 * (na + nm) * (nb + nm) + 1e-12;
          CHECK(sdc_distance(a, b, Metric::cosine) == Approx(exact(va, vb, Metric::cosine)).margin(tol / (na * nb)));
          CHECK(sdc_distance(a, b, Metric::ip) == Approx(exact(va, vb, Metric::ip)).margin(tol));
          const double l2 = exact(va, vb, Metric::l2);
          CHECK(sdc_distance(a, b, Metric::l2) * sdc_distance(a, b, Metric::l2) == Approx(l2 * l2).margin(4 * tol));
          CHECK(sdc_distance(a, a, Metric::l2) == Approx(0).margin(2e-3 * na + 1e-9));
        }
      }
    }
  }
}

TEST_CASE("at 1 bit, raw SDC cosine is 2 * Hamming / dim", "[sdc]") {
  std::mt19937_64 rng(3);
  for (std::uint32_t dim : {10u, 64u, 777u}) {
    const Binarizer bz = Binarizer::raw(dim, 1);
    const auto ba = bz.encode_blob(testing::random_vector(rng, dim));
    const auto bb = bz.encode_blob(testing::random_vector(rng, dim));
    const CodeView a = parse_code(ba, "a"), b = parse_code(bb, "b");
    CHECK(sdc_distance(a, b, Metric::cosine) == Approx(2.0 * double(hamming_distance(a, b)) / dim).margin(1e-12));
  }
}

TEST_CASE("reconstruction error shrinks as bits grow", "[binarize]") {
  std::mt19937_64 rng(11);
  for (std::uint32_t dim : {64u, 384u, 1024u}) {
    for (float shift : {0.f, 3.f}) {
      const auto x = testing::random_vector(rng, dim, shift);
      std::vector<float> mean(dim, shift);
      double prev_raw = INFINITY, prev_center = INFINITY;
      for (std::uint32_t bits = 1; bits <= 8; ++bits) {
        INFO("dim " << dim << " shift " << shift << " bits " << bits);
        const Binarizer raw = Binarizer::raw(dim, bits), cen = Binarizer::center(mean, bits);
        const auto br = raw.encode_blob(x), bc = cen.encode_blob(x);
        const double er = sq_error(x, raw.decode(parse_code(br, "r")));
        const double ec = sq_error(x, cen.decode(parse_code(bc, "c")));
        CHECK(er < prev_raw);
        CHECK(ec < prev_center);
        // Each extra plane roughly halves the residual: demand at least a third off.
        if (bits > 1 && bits < 7) CHECK(ec < 0.67 * prev_center);
        prev_raw = er;
        prev_center = ec;
      }
    }
  }
}

TEST_CASE("center binarizer: model BLOB round trip and id", "[binarize]") {
  std::mt19937_64 rng(5);
  const auto mean = testing::random_vector(rng, 33);
  const Binarizer a = Binarizer::center(mean, 3);
  const auto blob = a.serialize();
  const Binarizer b = Binarizer::parse(blob);
  CHECK(b.serialize() == blob);
  CHECK(b.shape() == a.shape());
  CHECK(b.mean() == mean);
  CHECK(a.shape().model_id != 0);
  CHECK(Binarizer::center(mean, 4).shape().model_id != a.shape().model_id);
  auto bad = blob;
  bad.pop_back();
  CHECK_THROWS_WITH(Binarizer::parse(bad), Catch::Contains("wrong length"));
  bad = blob;
  bad[0] = 'X';
  CHECK_THROWS_WITH(Binarizer::parse(bad), Catch::Contains("bad magic"));
}

TEST_CASE("center codes decode to the de-centred reconstruction", "[binarize]") {
  const std::vector<float> mean = {10, 10, 10, 10};
  const Binarizer bz = Binarizer::center(mean, 2);
  // x - mean = [1, -2, 3, 4]: the worked example of docs/format.md, shifted by 10.
  const auto blob = bz.encode_blob(std::vector<float>{11, 8, 13, 14});
  const CodeView c = parse_code(blob, "c");
  CHECK(c.scale == 2.4f);
  const auto v = bz.decode(c);
  CHECK(v[0] == Approx(11.2f));
  CHECK(v[1] == Approx(8.8f));
  CHECK(v[2] == Approx(13.6f));
  // offset = <v - mean, mean> + |mean|^2 / 2 = 10 * (1.2 - 1.2 + 3.6 + 3.6) + 200
  CHECK(c.offset == Approx(272.f));
}

TEST_CASE("binarizer argument checks", "[binarize]") {
  CHECK_THROWS_WITH(Binarizer::raw(0, 1), Catch::Contains("dimension"));
  CHECK_THROWS_WITH(Binarizer::raw(4, 0), Catch::Contains("bits must be in 1..8"));
  CHECK_THROWS_WITH(Binarizer::raw(4, 9), Catch::Contains("bits must be in 1..8"));
  CHECK_THROWS_WITH(Binarizer::raw(4, 1).encode_blob(std::vector<float>{1, 2}),
                    Catch::Contains("expected a vector of 4 floats, got 2"));
  MeanAccumulator acc(2);
  acc.add(std::vector<float>{1, 2});
  acc.add(std::vector<float>{3, -2});
  CHECK(acc.mean() == std::vector<float>{2, 0});
  CHECK(acc.rows() == 2);
}

TEST_CASE("the batched SDC scan equals sdc_finish bit for bit on every level", "[kernels]") {
  const std::uint64_t seed = 4242;
  std::mt19937_64 rng(seed);
  INFO("seed " << seed);
  for (const std::uint32_t dim : {1u, 5u, 64u, 100u, 768u}) {
    for (const std::uint32_t bits : {1u, 2u, 3u, 4u, 8u}) {
      for (const bool centred : {false, true}) {
        const Binarizer bin = centred ? Binarizer::center(bebr::testing::random_vector(rng, dim, 0.5f), bits)
                                      : Binarizer::raw(dim, bits);
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
          const SdcQuery query(qv, metric);
          std::vector<double> got(n);
          query.distances(CodeBlock{planes.data(), P, scale.data(), offset.data(), sums.data(), self.data(), n, {}}, got.data());
          for (const std::string& level : available_levels()) {
            const Kernels* k = kernels_for(level);
            std::vector<double> lv(n);
            SdcTerms t;  // the terms SdcQuery binds, through the public pieces
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
            k->sdc_scan(qw.data(), t, planes.data(), P, bits, plane_words(dim), scale.data(), offset.data(), sums.data(),
                        self.data(), n, lv.data());
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

namespace {

// n codes of a binarizer in the resident layout, with their key coefficients for `metric`.
struct Block {
  std::vector<std::vector<std::uint8_t>> blobs;
  std::vector<std::uint8_t> planes;
  std::vector<float> scale, offset, key[5];
  std::vector<std::uint16_t> sums16;  // digit sums, for the integer pre-filter
  KeyRange range;                     // of the coefficients over every code
  KeyBounds bounds;
  CodeBlock block(bool keys) const {
    CodeBlock b;
    b.planes = planes.data();
    b.stride = planes.size() / scale.size();
    b.scale = scale.data();
    b.offset = offset.data();
    b.n = scale.size();
    const auto at = [&](int j) { return key[j].empty() ? nullptr : key[j].data(); };
    if (keys) b.keys = SdcKeys{at(0), at(1), at(2), at(3), at(4)};
    b.hamming_ok = true;
    for (std::size_t i = 0; i < scale.size(); ++i) b.hamming_ok &= scale[i] > 0 && offset[i] == 0;
    return b;
  }
};

// Code 5 is the code of a zero vector (scale 0) unless `no_zero`.
Block make_block(const Binarizer& bin, Metric metric, std::size_t n, std::mt19937_64& rng, float spread,
                 bool no_zero = false) {
  Block b;
  const std::size_t P = planes_bytes(bin.shape());
  b.planes.resize(n * P);
  b.scale.resize(n);
  b.offset.resize(n);
  for (std::size_t i = 0; i < n; ++i) {
    auto x = bebr::testing::random_vector(rng, bin.shape().dim, 0.2f);
    for (auto& v : x) v *= spread * static_cast<float>(1 + i % 7);  // codes of different norms
    if (i == 5 && !no_zero) std::fill(x.begin(), x.end(), 0.f);
    b.blobs.push_back(bin.encode_blob(x));
    const CodeView c = parse_code(b.blobs.back(), "code");
    std::memcpy(b.planes.data() + i * P, c.planes, P);
    b.scale[i] = c.scale;
    b.offset[i] = c.offset;
  }
  const KeyLayout l = key_layout(bin.shape(), metric);
  const bool used[5] = {true, true, l.S, l.T, l.U};
  for (int j = 0; j < 5; ++j)
    if (used[j]) b.key[j].assign(n, 0.f);
  const auto at = [&](int j) { return b.key[j].empty() ? nullptr : b.key[j].data(); };
  b.sums16.assign(n, 0xeeee);
  key_coefficients(bin.shape(), metric, b.planes.data(), P, b.scale.data(), b.offset.data(), n, at(0), at(1), at(2),
                   at(3), at(4), b.bounds, b.sums16.data());
  for (std::size_t i = 0; i < n; ++i) {
    const auto v = [&](int j) { return b.key[j].empty() ? 0.f : b.key[j][i]; };
    b.range.add(v(0), v(2), v(3), v(4));
  }
  return b;
}

}  // namespace

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
  CHECK(counted > 100);  // the SIMD levels count the groups they let through
}

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
      check_filter(q, 4, words, cb, [&](float limit, std::uint64_t* mask, float* keys) {
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
    for (std::size_t i = 0; i < 128; ++i) fastscan2_store(b.planes.data() + i * P, words, stored.data() + B * (i / 32), i % 32);
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
      check_filter(q, 2, words, cb, [&](float limit, std::uint64_t* mask, float* keys) {
        k->sdc_filter_fastscan2(lut.data(), words, want.data(), 128, cb.keys, 0.37f, -12.5f, 0.8f, limit, mask, keys);
      });
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

TEST_CASE("TopK keeps the k smallest (distance, rowid) pairs in ascending order", "[kernels]") {
  std::mt19937_64 rng(1618);
  for (const std::size_t k : {0u, 1u, 2u, 7u, 100u, 1000u}) {
    for (const int spread : {3, 1000000}) {  // few distinct distances (many ties) and many
      std::vector<Neighbor> all;
      TopK top(k);
      for (int i = 0; i < 5000; ++i) {
        const Neighbor n{static_cast<double>(rng() % static_cast<std::uint64_t>(spread)) / 7.0,
                         static_cast<std::int64_t>(rng() % 100000)};
        all.push_back(n);
        top.push(n.distance, n.rowid);
        CHECK(top.size() == std::min<std::size_t>(k, all.size()));
      }
      std::sort(all.begin(), all.end());  // the oracle: a full sort
      all.resize(std::min(k, all.size()));
      INFO("k " << k << " spread " << spread);
      // The threshold is a bound: nothing beyond it can get in, and the k-th best is within it.
      if (k) CHECK(top.threshold() >= all.back().distance);
      const auto got = top.take();
      REQUIRE(got.size() == all.size());
      for (std::size_t i = 0; i < got.size(); ++i) {
        CHECK(got[i].distance == all[i].distance);
        CHECK(got[i].rowid == all[i].rowid);
      }
      CHECK(top.size() == 0);
    }
  }
}

TEST_CASE("the filtered scan keeps exactly the brute-force top k", "[kernels]") {
  const std::uint64_t seed = 31337;
  std::mt19937_64 rng(seed);
  INFO("seed " << seed);
  for (const std::uint32_t dim : {40u, 768u}) {
    for (const std::uint32_t bits : {1u, 2u, 4u}) {
      for (const bool centred : {false, true}) {
        for (const Metric metric : {Metric::cosine, Metric::ip, Metric::l2}) {
          const Binarizer bin = centred ? Binarizer::center(bebr::testing::random_vector(rng, dim, 0.5f), bits)
                                        : Binarizer::raw(dim, bits);
          // Several blocks, so the filter runs once the heap is full; some slots invalid.
          std::vector<Block> blocks;
          KeyBounds bounds;
          for (int j = 0; j < 5; ++j) {
            // Odd blocks have no zero vector: raw one-bit cosine codes take the Hamming filter there.
            blocks.push_back(make_block(bin, metric, 128, rng, 0.5f + j, j % 2 == 1));
            const KeyBounds& kb = blocks.back().bounds;
            bounds.widen(kb.P, kb.R, kb.S, kb.T, kb.U);
          }
          const std::vector<std::uint64_t> valid{0xffffffffffff7fffull, 0x7fffffffffffffffull};
          for (int t = 0; t < 3; ++t) {
            const auto qblob = bin.encode_blob(bebr::testing::random_vector(rng, dim, 0.3f));
            const CodeView qv = parse_code(qblob, "q");
            const SdcQuery query(qv, metric);
            // Stable blocks (the resident cache) let one-bit raw cosine scans defer exact distances.
            for (const bool stable : {false, true})
            for (const std::size_t k : {1u, 10u, 100u, 300u}) {
              TopK fast(k), slow(k);
              std::vector<std::vector<std::int64_t>> rowids(blocks.size(), std::vector<std::int64_t>(128));
              for (std::size_t j = 0; j < blocks.size(); ++j) {
                for (std::size_t i = 0; i < 128; ++i) rowids[j][i] = static_cast<std::int64_t>(1000 * j + i);
                CodeBlock cb = blocks[j].block(true);
                cb.stable = stable;
                std::vector<std::uint8_t> nib;
                if (bits == 4 && kernels().planes_to_nibbles && kernels().sdc_filter_nibbles && stable) {
                  const std::size_t N = 32 * plane_words(dim);
                  nib.resize(128 * N);
                  kernels().planes_to_nibbles(cb.planes, cb.stride, plane_words(dim), 128, nib.data(), N);
                  cb.nibbles = nib.data();
                  cb.nibble_stride = N;
                }
                if (bits == 2 && kernels().planes_to_fastscan2 && stable) {  // the fast-scan copy
                  nib.resize(128 * 16 * plane_words(dim));
                  kernels().planes_to_fastscan2(cb.planes, cb.stride, plane_words(dim), 128, nib.data());
                  cb.fastscan = nib.data();
                }
                query.scan(cb, bounds, valid.data(), rowids[j].data(), fast, [](std::size_t) { return true; });
                for (std::size_t i = 0; i < 128; ++i)
                  if ((valid[i / 64] >> (i % 64)) & 1)
                    slow.push(sdc_distance(qv, parse_code(blocks[j].blobs[i], "code"), metric), rowids[j][i]);
              }
              query.finish(fast);
              INFO("dim " << dim << " bits " << bits << " centred " << centred << " metric " << metric_name(metric)
                          << " k " << k << " stable " << stable);
              const auto f = fast.take(), s = slow.take();
              REQUIRE(f.size() == s.size());
              for (std::size_t i = 0; i < f.size(); ++i) {
                CHECK(f[i].rowid == s[i].rowid);
                CHECK(f[i].distance == s[i].distance);
              }
            }
          }
        }
      }
    }
  }
}

TEST_CASE("one-bit codes are the signs of the residual with scale mean |r|", "[binarize]") {
  std::mt19937_64 rng(5150);
  for (const std::uint32_t dim : {1u, 63u, 64u, 65u, 200u, 768u}) {
    for (const bool centred : {false, true}) {
      const auto mean = bebr::testing::random_vector(rng, dim, 0.3f);
      const Binarizer bin = centred ? Binarizer::center(mean, 1) : Binarizer::raw(dim, 1);
      for (int t = 0; t < 5; ++t) {
        auto x = bebr::testing::random_vector(rng, dim);
        if (t == 0) x = centred ? mean : std::vector<float>(dim, 0.f);  // zero residual
        const auto blob = bin.encode_blob(x);
        const CodeView c = parse_code(blob, "code");
        double part[4] = {0, 0, 0, 0}, offset = 0;  // the documented summation order
        std::vector<bool> plus(dim);
        for (std::uint32_t j = 0; j < dim; ++j) {
          const double r = double{x[j]} - (centred ? double{mean[j]} : 0.0);
          plus[j] = r >= 0;
          part[j % 4] += plus[j] ? r : -r;
          CHECK(digit(c.planes, c.shape, j) == (plus[j] ? 1u : 0u));
        }
        const float scale = static_cast<float>(((part[0] + part[1]) + (part[2] + part[3])) / dim);
        INFO("dim " << dim << " centred " << centred << " t " << t);
        CHECK(c.scale == scale);
        if (centred) {
          double half = 0;
          for (float m : mean) half += double{m} * double{m};
          for (std::uint32_t j = 0; j < dim; ++j) offset += double{scale} * (plus[j] ? 1.0 : -1.0) * mean[j];
          CHECK(c.offset == static_cast<float>(offset + half / 2));
        }
      }
    }
  }
}
