// Recall@10 of SDC search through SQL on the real datasets of ../shared/data, against their
// exact cosine ground truth (gt.i32), for the raw and center binarizers at 1, 2 and 4 bits.
// The search is a plain SQL scan: ORDER BY bebr_sdc_distance(code, :query_code) LIMIT 10.
// Skipped with a message when the data is absent. Thresholds sit a few points under the
// figures measured when they were set (printed by this test; see the issue notes).
#include <catch2/catch.hpp>

#include <chrono>
#include <cstdio>
#include <map>
#include <set>

#include "db.hpp"
#include "testing.hpp"

using bebr::testing::Db;

namespace {

struct Case {
  const char* dataset;
  std::size_t dim;
  std::size_t queries;  // the first queries of queries.f32 (all for the small sets)
  // Minimum recall@10 for {raw 1, raw 2, raw 4, center 1, center 2, center 4}.
  double floor[6];
};

double recall_at_10(Db& db, const bebr::testing::Dataset& d, std::size_t nq, const std::string& binarizer) {
  db.exec("DROP TABLE IF EXISTS codes");
  db.exec("CREATE TABLE codes(id INTEGER PRIMARY KEY, code BLOB)");
  db.exec("INSERT INTO codes SELECT id, bebr_binarize(v, " + binarizer + ") FROM base");
  auto encode = db.prepare("SELECT bebr_binarize(?1, " + binarizer + ")");
  auto q = db.prepare("SELECT id FROM codes ORDER BY bebr_sdc_distance(code, ?1), id LIMIT 10");
  double hits = 0;
  for (std::size_t i = 0; i < nq; ++i) {
    encode.reset();
    encode.bind(1, d.queries.data() + i * d.dim, d.dim * 4);
    REQUIRE(encode.step());
    q.reset();
    q.bind(1, encode.blob(0));
    std::set<long long> truth(d.gt.begin() + i * 100, d.gt.begin() + i * 100 + 10);
    while (q.step()) hits += truth.count(q.integer(0));
  }
  return hits / (10.0 * nq);
}

}  // namespace

TEST_CASE("recall@10 of SDC search on the real datasets", "[recall]") {
  const Case cases[] = {
      // Measured when set: bible .584 .776 .918 .662 .858 .956; sap .648 .802 .929 .664 .846
      // .949; fashion-mnist .002 .511 .843 .434 .696 .932 (uncentred pixels have all sign bits
      // +1 at 1 bit: raw cannot work there, which is why `center` exists).
      {"bible-web-bge-large-1024", 1024, 1000, {0.55, 0.74, 0.89, 0.63, 0.83, 0.93}},
      {"sap-fiori-docs-minilm-384", 384, 100, {0.60, 0.75, 0.89, 0.61, 0.80, 0.91}},
      {"fashion-mnist-784", 784, 200, {0.0, 0.47, 0.80, 0.40, 0.66, 0.90}},
  };
  for (const Case& c : cases) {
    const auto d = bebr::testing::load_dataset(c.dataset, c.dim);
    if (!d) {
      WARN("skipped " << c.dataset << ": not found under " << bebr::testing::data_dir());
      continue;
    }
    Db db;
    db.exec("CREATE TABLE base(id INTEGER PRIMARY KEY, v BLOB)");
    db.prepare("INSERT INTO base SELECT i, vector FROM bebr_vectors(?1, " + std::to_string(c.dim) + ")")
        .bind(1, d->base)
        .step();
    const std::size_t nq = std::min(c.queries, d->q);
    int i = 0;
    for (const char* kind : {"raw", "center"}) {
      for (int bits : {1, 2, 4}) {
        std::string binarizer = std::to_string(bits);
        const auto t0 = std::chrono::steady_clock::now();
        if (std::string(kind) == "center") {
          binarizer = "'c" + std::to_string(bits) + "'";
          db.exec("SELECT bebr_train('c" + std::to_string(bits) + "', 'SELECT v FROM base', '{\"kind\":\"center\",\"bits\":" +
                  std::to_string(bits) + "}')");
        }
        const double r = recall_at_10(db, *d, nq, binarizer);
        const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        std::printf("recall@10 %-26s %-6s bits=%d  %.3f  (%zu queries, %.1f s)\n", c.dataset, kind, bits, r, nq, secs);
        INFO(c.dataset << " " << kind << " bits " << bits);
        CHECK(r >= c.floor[i]);
        ++i;
      }
    }
  }
}
