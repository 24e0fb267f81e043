// The search layer's own pieces (bebr/search.hpp): the streaming scan against exact distances,
// and scan states sharing one bound query.
#include <catch2/catch.hpp>

#include <cstring>

#include "bebr/binarize.hpp"
#include "bebr/search.hpp"
#include "testing.hpp"

using namespace bebr;

namespace {

// n codes of a binarizer in the resident layout (planes at their natural stride).
struct Codes {
  std::vector<std::vector<std::uint8_t>> blobs;
  std::vector<std::uint8_t> planes;
  std::vector<float> scale, offset;
  CodeBlock block() const {
    bool hamming_ok = true;
    for (std::size_t i = 0; i < scale.size(); ++i) hamming_ok &= scale[i] > 0 && offset[i] == 0;
    return CodeBlock{.planes = planes.data(), .stride = planes.size() / scale.size(), .scale = scale.data(),
                     .offset = offset.data(), .n = scale.size(), .keys = {}, .hamming_ok = hamming_ok};
  }
};

Codes make_codes(const Binarizer& bin, std::size_t n, std::mt19937_64& rng) {
  Codes c;
  const std::size_t P = planes_bytes(bin.shape());
  c.planes.resize(n * P);
  for (std::size_t i = 0; i < n; ++i) {
    c.blobs.push_back(bin.encode_blob(bebr::testing::random_vector(rng, bin.shape().dim, 0.2f)));
    const CodeView v = parse_code(c.blobs.back(), "code");
    std::memcpy(c.planes.data() + i * P, v.planes, P);
    c.scale.push_back(v.scale);
    c.offset.push_back(v.offset);
  }
  return c;
}

}  // namespace

TEST_CASE("a streaming scan hands over the exact distance of every valid code it accepts", "[sdc]") {
  const std::uint64_t seed = 1618;
  std::mt19937_64 rng(seed);
  INFO("seed " << seed);
  for (const std::uint32_t bits : {1u, 2u, 4u}) {
    const Binarizer bin = Binarizer::center(bebr::testing::random_vector(rng, 100, 0.5f), bits);
    const Codes c = make_codes(bin, 128, rng);
    std::vector<std::int64_t> rowids(128);
    for (std::size_t i = 0; i < 128; ++i) rowids[i] = static_cast<std::int64_t>(5000 + 3 * i);
    const std::vector<std::uint64_t> valid{0xf0f0f0f0f0f0f0f1ull, 0x8000000000000001ull};
    const auto qblob = bin.encode_blob(bebr::testing::random_vector(rng, 100, 0.3f));
    const CodeView qv = parse_code(qblob, "q");
    for (const Metric metric : {Metric::cosine, Metric::ip, Metric::l2}) {
      INFO("bits " << bits << " metric " << metric_name(metric));
      const BoundQuery q(qv, metric);
      ScanState scan(q);
      std::vector<Neighbor> got;
      std::vector<std::size_t> asked;
      scan.stream(
          c.block(), valid.data(), rowids.data(),
          [&](std::size_t i) {
            asked.push_back(i);
            return i % 3 != 0;
          },
          [&](double d, std::int64_t r) { got.push_back({d, r}); });
      std::vector<Neighbor> want;
      std::vector<std::size_t> want_asked;
      for (std::size_t i = 0; i < 128; ++i) {
        if (!((valid[i / 64] >> (i % 64)) & 1)) continue;
        want_asked.push_back(i);
        if (i % 3 != 0) want.push_back({sdc_distance(qv, parse_code(c.blobs[i], "code"), metric), rowids[i]});
      }
      CHECK(asked == want_asked);
      REQUIRE(got.size() == want.size());
      for (std::size_t i = 0; i < got.size(); ++i) {
        CHECK(got[i].rowid == want[i].rowid);
        CHECK(got[i].distance == want[i].distance);
      }
    }
  }
}

TEST_CASE("scan states sharing one bound query keep their own candidates", "[sdc]") {
  const std::uint64_t seed = 1414;
  std::mt19937_64 rng(seed);
  INFO("seed " << seed);
  // One-bit raw cosine codes in stable blocks: the deferred scan, whose state lives until finish.
  const Binarizer bin = Binarizer::raw(256, 1);
  std::vector<Codes> blocks;
  for (int j = 0; j < 4; ++j) blocks.push_back(make_codes(bin, 128, rng));
  const std::vector<std::uint64_t> valid{~0ull, ~0ull};
  std::vector<std::vector<std::int64_t>> rowids(blocks.size(), std::vector<std::int64_t>(128));
  const auto qblob = bin.encode_blob(bebr::testing::random_vector(rng, 256));
  const CodeView qv = parse_code(qblob, "q");
  const BoundQuery q(qv, Metric::cosine);
  REQUIRE(q.hamming());
  ScanState a(q), b(q);
  TopK top_a(5), top_b(50), slow_a(5), slow_b(50);
  const KeyBounds bounds;
  for (std::size_t j = 0; j < blocks.size(); ++j) {
    for (std::size_t i = 0; i < 128; ++i) rowids[j][i] = static_cast<std::int64_t>(1000 * j + i);
    CodeBlock cb = blocks[j].block();
    cb.stable = true;
    REQUIRE(cb.hamming_ok);
    a.scan(cb, bounds, valid.data(), rowids[j].data(), top_a, [](std::size_t) { return true; });
    b.scan(cb, bounds, valid.data(), rowids[j].data(), top_b, [](std::size_t i) { return i % 2 == 0; });
    for (std::size_t i = 0; i < 128; ++i) {
      const double d = sdc_distance(qv, parse_code(blocks[j].blobs[i], "code"), Metric::cosine);
      slow_a.push(d, rowids[j][i]);
      if (i % 2 == 0) slow_b.push(d, rowids[j][i]);
    }
  }
  a.finish(top_a);
  b.finish(top_b);
  for (auto [fast, slow] : {std::pair{&top_a, &slow_a}, std::pair{&top_b, &slow_b}}) {
    const auto f = fast->take(), s = slow->take();
    REQUIRE(f.size() == s.size());
    for (std::size_t i = 0; i < f.size(); ++i) {
      CHECK(f[i].rowid == s[i].rowid);
      CHECK(f[i].distance == s[i].distance);
    }
  }
}
