// Binarizers and SDC against independent double-precision computations on the decoded
// reconstructions.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstring>

#include "bebr/binarize.hpp"
#include "bebr/distance.hpp"
#include "bebr/error.hpp"
#include "bebr/search.hpp"
#include "code_blocks.hpp"
#include "kernels/kernels.hpp"
#include "testing.hpp"

using namespace bebr;
using bebr::testing::Block;
using bebr::testing::make_block;

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
            const BoundQuery bound(qv, metric);
            ScanState query(bound);
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
