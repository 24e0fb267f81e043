// The search layer's own pieces (bebr/search.hpp): the resident layout against the rule the
// table cache applied by probing the kernel table, its copies against the kernels that make
// them, the streaming scan against exact distances, and scan states sharing one bound query.
#include <catch2/catch.hpp>

#include <cstring>

#include "bebr/binarize.hpp"
#include "bebr/search.hpp"
#include "kernels/kernels.hpp"
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
    return CodeBlock{.planes = planes.data(),
                     .stride = planes.size() / scale.size(),
                     .scale = scale.data(),
                     .offset = offset.data(),
                     .n = scale.size(),
                     .keys = {},
                     .hamming_ok = hamming_ok};
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

TEST_CASE("the resident layout is the table cache's rule on every level", "[kernels]") {
  for (const std::string& level : available_levels()) {
    const Kernels& k = *kernels_for(level);
    for (const std::uint32_t dim : {1u, 64u, 100u, 768u, 64u * 113, 64u * 113 + 1, 16384u}) {
      for (std::uint32_t bits = 1; bits <= kMaxBits; ++bits) {
        for (const BinarizerKind kind : {BinarizerKind::raw, BinarizerKind::center}) {
          for (const Metric metric : {Metric::cosine, Metric::ip, Metric::l2}) {
            const CodeShape shape{dim, bits, kind, kind == BinarizerKind::raw ? 0u : 7u};
            INFO("level " << level << " dim " << dim << " bits " << bits << " kind " << kind_name(kind) << " metric "
                          << metric_name(metric));
            const ResidentLayout l = resident_layout(shape, metric, k);
            // The rule as the cache applied it: a nibble copy where the level has both nibble
            // kernels, else a fast-scan copy of two-bit codes of at most kFastscan2MaxWords words.
            const std::size_t words = plane_words(dim);
            const bool nibbles = bits == 4 && k.planes_to_nibbles && k.sdc_filter_nibbles;
            const bool fastscan =
                !nibbles && bits == 2 && k.planes_to_fastscan2 && k.sdc_filter_fastscan2 && words <= kFastscan2MaxWords;
            CHECK(l.copy == (nibbles    ? ResidentLayout::Copy::nibbles
                             : fastscan ? ResidentLayout::Copy::fastscan2
                                        : ResidentLayout::Copy::none));
            CHECK(l.copy_words == (nibbles || fastscan ? words : 0));
            CHECK(l.copy_bytes == (nibbles ? 32 * words : fastscan ? 16 * words : 0));
            CHECK(l.planes_bytes == planes_bytes(shape));
            CHECK(l.sums16 == digit_sums16_fit(shape));
            const KeyLayout want = key_layout(shape, metric);
            CHECK(l.keys.S == want.S);
            CHECK(l.keys.T == want.T);
            CHECK(l.keys.U == want.U);
            CHECK(l.level == &k);
          }
        }
      }
    }
  }
  const CodeShape shape{768, 2, BinarizerKind::raw, 0};
  CHECK(resident_layout(shape, Metric::cosine).level == &kernels());
  CHECK(std::string(active_level()) == kernels().name);
}

TEST_CASE("a resident copy is the kernels' layout, filled at once or stored code by code", "[kernels]") {
  const std::uint64_t seed = 2718;
  std::mt19937_64 rng(seed);
  INFO("seed " << seed);
  for (const std::string& level : available_levels()) {
    const Kernels& k = *kernels_for(level);
    for (const std::uint32_t dim : {40u, 768u}) {
      for (const std::uint32_t bits : {1u, 2u, 4u}) {
        INFO("level " << level << " dim " << dim << " bits " << bits);
        const Binarizer bin = Binarizer::raw(dim, bits);
        const ResidentLayout l = resident_layout(bin.shape(), Metric::cosine, k);
        const std::size_t n = 128, P = planes_bytes(bin.shape()), words = plane_words(dim);
        const Codes a = make_codes(bin, n, rng), b = make_codes(bin, n, rng);
        // What the table cache wrote with the kernels, for the whole chunk.
        std::vector<std::uint8_t> want(n * l.copy_bytes + 1, 0x5a), got(want.size(), 0x5a);
        if (l.copy == ResidentLayout::Copy::nibbles)
          k.planes_to_nibbles(a.planes.data(), P, words, n, want.data(), l.copy_bytes);
        else if (l.copy == ResidentLayout::Copy::fastscan2)
          k.planes_to_fastscan2(a.planes.data(), P, words, n, want.data());
        l.fill(a.planes.data(), P, n, got.data());
        CHECK(got == want);
        // Storing every code of b over a's copy gives b's copy; and one code leaves the others.
        std::vector<std::uint8_t> b_copy(want.size(), 0x5a);
        l.fill(b.planes.data(), P, n, b_copy.data());
        std::vector<std::uint8_t> one = got;
        l.store(b.planes.data() + 37 * P, 37, one.data());
        for (std::size_t i = 0; i < n; ++i) l.store(b.planes.data() + i * P, i, got.data());
        CHECK(got == b_copy);
        if (l.copy == ResidentLayout::Copy::none) continue;
        std::vector<std::uint8_t> mixed(want.size(), 0x5a);
        std::vector<std::uint8_t> mixed_planes = a.planes;
        std::memcpy(mixed_planes.data() + 37 * P, b.planes.data() + 37 * P, P);
        l.fill(mixed_planes.data(), P, n, mixed.data());
        CHECK(one == mixed);
        // The block reads the copy the filter of its bits looks for.
        CodeBlock cb = a.block();
        l.attach(got.data(), cb);
        CHECK(cb.nibble_stride == l.copy_bytes);
        CHECK(cb.nibbles == (l.copy == ResidentLayout::Copy::nibbles ? got.data() : nullptr));
        CHECK(cb.fastscan == (l.copy == ResidentLayout::Copy::fastscan2 ? got.data() : nullptr));
      }
    }
  }
}

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
          [&](double d, std::int64_t r) {
            got.push_back({d, r});
          });
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
