// Recall@10 of kNN through the bebr virtual table on the real datasets of ../shared/data,
// against their exact cosine ground truth (gt.i32): raw and center binarizers at 1, 2 and 4
// bits, without rescoring and with rescore = 20, 40 and 80 over the stored float vectors. One
// test case a dataset; a dataset that is absent reports its test skipped, naming the missing
// file (BEBR_DATA_DIR overrides the directory). Floors sit a little under the figures measured
// when they were set (printed by this test as a table; docs/bebr.md and bench/README.md carry
// the no-rescore columns).
#include <catch2/catch.hpp>

#include <chrono>
#include <cstdio>
#include <set>

#include "db.hpp"
#include "testing.hpp"

using bebr::testing::Db;

namespace {

constexpr int kRescore[] = {0, 20, 40, 80};

struct Case {
  const char* dataset;
  std::size_t dim;
  std::size_t queries;  // the first queries of queries.f32 (all for the small sets)
  // Minimum recall@10 by binarizer (raw, center), bits (1, 2, 4) and rescore (0, 20, 40, 80).
  double floor[2][3][4];
};

// Measured when set (recall@10, rescore 0/20/40/80; bench/README.md and docs/bebr.md give the
// rescore-0 column of the same runs):
//   bible  raw    .584 .770 .892 .961 | .776 .942 .993 1.00 | .918 1.00 1.00 1.00
//          center .662 .853 .949 .985 | .858 .989 1.00 1.00 | .956 1.00 1.00 1.00
//   sap    raw    .648 .854 .959 .991 | .802 .975 .999 1.00 | .929 1.00 1.00 1.00
//          center .664 .872 .956 .992 | .846 .992 1.00 1.00 | .949 1.00 1.00 1.00
//   fmnist raw    .0006 .0011 .0021 .0039 | .514 .707 .845 .923 | .853 .987 .999 1.00
//          center .457 .634 .771 .870 | .700 .900 .975 .993 | .936 .999 1.00 1.00
// The bible floors for center are the ones the issue set from a plain model of the same
// quantiser.
const Case kBible{"bible-web-bge-large-1024",
                  1024,
                  1000,
                  {{{0.56, 0.75, 0.87, 0.94}, {0.75, 0.92, 0.97, 0.98}, {0.89, 0.98, 0.98, 0.98}},
                   {{0.64, 0.83, 0.94, 0.96}, {0.83, 0.97, 0.98, 0.98}, {0.93, 0.98, 0.98, 0.98}}}};
const Case kSap{"sap-fiori-docs-minilm-384",
                384,
                100,
                {{{0.62, 0.83, 0.93, 0.97}, {0.77, 0.95, 0.97, 0.97}, {0.90, 0.97, 0.97, 0.97}},
                 {{0.63, 0.85, 0.93, 0.97}, {0.82, 0.97, 0.97, 0.97}, {0.92, 0.97, 0.97, 0.97}}}};
// Uncentred pixels are all >= 0, so at 1 bit every raw code has the same bits: the codes say
// nothing, every distance ties, and the kNN keeps the lowest max(10, rescore) rowids, of which
// rescoring finds the true neighbours among them. Recall is then about max(10, rescore) / 20000
// of the ten neighbours (0.0005, 0.001, 0.002, 0.004): raw cannot work there, hence center. The
// floors under the measured .0006 .0011 .0021 .0039 still fail if the rows kept on a tie or the
// number of rows rescored change (rescore ignored: .0006 at 80).
const Case kFashion{"fashion-mnist-784",
                    784,
                    1000,
                    {{{0.0005, 0.0009, 0.0018, 0.0035}, {0.49, 0.68, 0.82, 0.90}, {0.83, 0.96, 0.97, 0.97}},
                     {{0.43, 0.61, 0.75, 0.85}, {0.68, 0.88, 0.95, 0.97}, {0.91, 0.97, 0.97, 0.97}}}};

// Recall@10 of the first nq queries of d through `sql` (?1 the query; extra binds by `bind`).
template <class Bind>
double recall_at_10(Db& db, const std::string& sql, const bebr::testing::Dataset& d, std::size_t nq, Bind bind) {
  auto q = db.prepare(sql);
  double hits = 0;
  for (std::size_t i = 0; i < nq; ++i) {
    q.reset();
    q.bind(1, d.queries.data() + i * d.dim, d.dim * 4);
    bind(q);
    std::set<long long> truth(d.gt.begin() + i * 100, d.gt.begin() + i * 100 + 10);
    while (q.step()) hits += truth.count(q.integer(0));
  }
  return hits / (10.0 * double(nq));
}

// The dataset's table of recall by binarizer, bits and rescore, each checked against its floor.
void check_recall(const Case& c) {
  if (const std::string missing = bebr::testing::missing_dataset_file(c.dataset); !missing.empty()) {
    bebr::testing::report_skipped(std::string(c.dataset) + ": " + missing + " not found");
    return;
  }
  const auto d = bebr::testing::load_dataset(c.dataset, c.dim);
  REQUIRE(d);
  const std::size_t nq = std::min(c.queries, d->q);
  std::printf("\nrecall@10, %s: %zu base vectors, %zu queries\n", c.dataset, d->n, nq);
  std::printf("  binarizer bits  rescore=0     20     40     80   (seconds: load, all queries)\n");
  Db db;
  const std::string dim = std::to_string(c.dim);
  db.exec("CREATE TABLE base(id INTEGER PRIMARY KEY, v BLOB)");
  db.prepare("INSERT INTO base SELECT i, vector FROM bebr_vectors(?1, " + dim + ")").bind(1, d->base).step();
  for (int kind = 0; kind < 2; ++kind) {
    for (int b = 0; b < 3; ++b) {
      const std::string bits = std::to_string(1 << b);
      const auto t0 = std::chrono::steady_clock::now();
      std::string options = "bits=" + bits;
      if (kind == 1) {
        db.exec("SELECT bebr_train('c" + bits + "', 'SELECT v FROM base', '{\"kind\":\"center\",\"bits\":" + bits +
                "}')");
        options = "model='c" + bits + "'";
      }
      db.exec("DROP TABLE IF EXISTS t");
      db.exec("CREATE VIRTUAL TABLE t USING bebr(e float[" + dim + "], " + options + ", store_vectors=1)");
      db.exec("INSERT INTO t(rowid, e) SELECT id, v FROM base");
      const auto t1 = std::chrono::steady_clock::now();
      double recall[4];
      for (int r = 0; r < 4; ++r) {
        recall[r] = recall_at_10(db, "SELECT rowid FROM t WHERE e MATCH ?1 AND k = 10 AND rescore = ?2", *d, nq,
                                 [&](Db::Stmt& q) { q.bind(2, static_cast<long long>(kRescore[r])); });
      }
      const auto t2 = std::chrono::steady_clock::now();
      std::printf("  %-9s %4s  %9.4f %6.4f %6.4f %6.4f   (%.1f, %.1f)\n", kind ? "center" : "raw", bits.c_str(),
                  recall[0], recall[1], recall[2], recall[3], std::chrono::duration<double>(t1 - t0).count(),
                  std::chrono::duration<double>(t2 - t1).count());
      for (int r = 0; r < 4; ++r) {
        INFO(c.dataset << " " << (kind ? "center" : "raw") << " bits " << bits << " rescore " << kRescore[r]);
        CHECK(recall[r] >= c.floor[kind][b][r]);
      }
    }
  }
}

}  // namespace

TEST_CASE("recall@10 of kNN through the virtual table: bible-web-bge-large-1024", "[recall]") { check_recall(kBible); }

TEST_CASE("recall@10 of kNN through the virtual table: sap-fiori-docs-minilm-384", "[recall]") { check_recall(kSap); }

TEST_CASE("recall@10 of kNN through the virtual table: fashion-mnist-784", "[recall]") { check_recall(kFashion); }

TEST_CASE("recall@10 of a learned binarizer against center at the same code bytes", "[recall]") {
  // The issue's target on the smallest real set (it trains in seconds): at 1 and 2 bits per input
  // dimension, mlp beats center by >= 3 points at no more code bytes. The mlp codes spend those
  // bytes on more planes over fewer coordinates (3 x 128 = 48 bytes against center's 1 x 384;
  // 4 x 192 = 96 bytes against 2 x 384). Measured when set: 0.874 against 0.664, 0.929 against
  // 0.846 (bench/recall_mlp.py has every dataset).
  const char* const name = "sap-fiori-docs-minilm-384";
  if (const std::string missing = bebr::testing::missing_dataset_file(name); !missing.empty()) {
    bebr::testing::report_skipped(std::string(name) + ": " + missing + " not found");
    return;
  }
  const auto d = bebr::testing::load_dataset(name, 384);
  REQUIRE(d);
  Db db;
  db.exec("CREATE TABLE base(id INTEGER PRIMARY KEY, v BLOB)");
  db.prepare("INSERT INTO base SELECT i, vector FROM bebr_vectors(?1, 384)").bind(1, d->base).step();
  const auto recall_of = [&](const std::string& model, const std::string& options) {
    db.exec("SELECT bebr_train('" + model + "', 'SELECT v FROM base', '" + options + "')");
    db.exec("DROP TABLE IF EXISTS t");
    db.exec("CREATE VIRTUAL TABLE t USING bebr(e float[384], model=" + model + ")");
    db.exec("INSERT INTO t(rowid, e) SELECT id, v FROM base");
    const double recall =
        recall_at_10(db, "SELECT rowid FROM t WHERE e MATCH ?1 AND k = 10", *d, d->q, [](Db::Stmt&) {});
    auto size = db.prepare("SELECT length(bebr_binarize(v, '" + model + "')) FROM base LIMIT 1");
    size.step();
    return std::pair{recall, size.integer(0)};
  };
  struct Pair {
    const char* center;
    const char* mlp;
  } pairs[] = {{R"({"kind":"center","bits":1})", R"({"kind":"mlp","bits":3,"dim":128})"},
               {R"({"kind":"center","bits":2})", R"({"kind":"mlp","bits":4,"dim":192})"}};
  int k = 0;
  for (const Pair& p : pairs) {
    const auto [center, center_bytes] = recall_of("c" + std::to_string(k), p.center);
    const auto [learned, learned_bytes] = recall_of("m" + std::to_string(k++), p.mlp);
    std::printf("sap: center %s %.3f (%lld-byte code BLOBs); mlp %s %.3f (%lld bytes)\n", p.center, center,
                center_bytes, p.mlp, learned, learned_bytes);
    INFO(p.mlp << " " << learned << " against " << p.center << " " << center);
    CHECK(learned_bytes <= center_bytes);
    CHECK(learned >= center + 0.03);
  }
}
