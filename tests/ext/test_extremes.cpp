// Finite inputs at the edges of float32 (components near FLT_MAX, above 1.8e19, denormals):
// every one gives a code that can be found and a finite, right distance, or a clear error.
// Oracles: a brute-force SDC scan of a plain table, and long-double arithmetic on the floats.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "db.hpp"

using bebr::testing::Db;

namespace {

// Vectors of dimension 4 whose components span float32: the two, then random signs
// and exponents from denormal to FLT_MAX.
std::vector<std::vector<float>> extreme_vectors() {
  std::vector<std::vector<float>> out = {{1e38f, -1e38f, 1e38f, 3e38f},
                                         {3e38f, 1.f, 2.f, 3.f},
                                         {3.4028235e38f, -3.4028235e38f, 3.4028235e38f, -3.4028235e38f},
                                         {1e20f, 1e20f, 1e20f, 1e20f},
                                         {1e-45f, 0.f, 0.f, 0.f},
                                         {1.f, 2.f, 3.f, 4.f}};
  std::mt19937_64 rng(17);
  std::uniform_int_distribution<int> exponent(-45, 38);
  for (int i = 0; i < 30; ++i) {
    std::vector<float> v(4);
    const int e = exponent(rng);
    for (float& x : v)
      x = static_cast<float>((rng() % 2 ? -1.0 : 1.0) * double(rng() % 1000 + 1) / 1000 * std::pow(10.0, e));
    out.push_back(v);
  }
  return out;
}

}  // namespace

TEST_CASE("huge and tiny finite vectors are stored with finite codes and found at k = N", "[sql][extremes]") {
  const auto rows = extreme_vectors();
  const int n = static_cast<int>(rows.size());
  for (int bits : {1, 2, 4, 8}) {
    for (const std::string metric : {"cosine", "ip", "l2"}) {
      INFO("bits " << bits << " metric " << metric);
      Db db;
      db.exec("CREATE VIRTUAL TABLE t USING bebr(e float[4], bits=" + std::to_string(bits) + ", metric=" + metric +
              ")");
      db.exec("CREATE TABLE p(id INTEGER PRIMARY KEY, v BLOB)");
      for (int i = 0; i < n; ++i) {
        db.prepare("INSERT INTO t(rowid, e) VALUES (?1, ?2)").bind(1, (long long)i + 1).bind(2, rows[i]).step();
        db.prepare("INSERT INTO p VALUES (?1, ?2)").bind(1, (long long)i + 1).bind(2, rows[i]).step();
      }
      // Every stored code has a finite scale: bebr_sdc_distance accepts it and gives a number.
      CHECK(db.text("SELECT count(*) FROM p WHERE bebr_sdc_distance(bebr_binarize(v, " + std::to_string(bits) +
                    "), bebr_binarize(v, " + std::to_string(bits) + "), '" + metric + "') IS NOT NULL") ==
            std::to_string(n));
      for (int q : {0, 1, 2, 3, 4, 9}) {
        INFO("query row " << q + 1);
        // The brute-force oracle: SDC distance against every row, ascending, ties by id.
        auto oracle = db.prepare("SELECT id, bebr_sdc_distance(bebr_binarize(?1, " + std::to_string(bits) +
                                 "), bebr_binarize(v, " + std::to_string(bits) + "), '" + metric +
                                 "') AS d FROM p ORDER BY d, id");
        oracle.bind(1, rows[q]);
        auto knn = db.prepare("SELECT rowid, distance FROM t WHERE e MATCH ?1 AND k = ?2");
        knn.bind(1, rows[q]).bind(2, (long long)n);
        auto ordered = db.prepare("SELECT rowid, distance FROM t WHERE e MATCH ?1 ORDER BY distance LIMIT ?2");
        ordered.bind(1, rows[q]).bind(2, (long long)n);
        int got = 0;
        while (oracle.step()) {
          REQUIRE(knn.step());
          REQUIRE(ordered.step());
          REQUIRE_FALSE(oracle.is_null(1));
          REQUIRE_FALSE(knn.is_null(1));
          REQUIRE_FALSE(ordered.is_null(1));
          CHECK(std::isfinite(knn.real(1)));
          CHECK(knn.integer(0) == oracle.integer(0));
          CHECK(knn.real(1) == oracle.real(1));
          CHECK(ordered.integer(0) == oracle.integer(0));
          CHECK(ordered.real(1) == oracle.real(1));
          ++got;
        }
        CHECK(got == n);
        CHECK_FALSE(knn.step());
      }
    }
  }
}

TEST_CASE("a center model refuses what its float32 offsets cannot hold", "[sql][extremes]") {
  Db db;
  db.exec("CREATE TABLE big(v)");
  db.exec("INSERT INTO big VALUES ('[1e20, 1e20]'), ('[3e20, 1e20]')");
  CHECK_THAT(db.error_of("SELECT bebr_train('m', 'SELECT v FROM big')"),
             Catch::Contains("model mean is too large: |mean|^2 / 2 exceeds float32 range"));
  const bool stored = db.text("SELECT count(*) FROM sqlite_master WHERE name = 'bebr_models'") == "1" &&
                      db.text("SELECT count(*) FROM bebr_models") != "0";
  CHECK_FALSE(stored);
  db.exec("CREATE TABLE small(v)");
  db.exec("INSERT INTO small VALUES ('[1000, 1000]'), ('[3000, 1000]')");
  db.exec("SELECT bebr_train('c', 'SELECT v FROM small', '{\"bits\":2}')");
  db.exec("CREATE VIRTUAL TABLE t USING bebr(e float[2], model=c)");
  CHECK_THAT(db.error_of("INSERT INTO t(rowid, e) VALUES (1, '[3e38, 3e38]')"),
             Catch::Contains("bebr: vector is too large for this model's codes"));
  CHECK_THAT(db.error_of("SELECT bebr_binarize('[3e38, 3e38]', 'c')"),
             Catch::Contains("bebr_binarize: vector is too large for this model's codes"));
  CHECK(db.text("SELECT count(*) FROM t") == "0");
  db.exec("INSERT INTO t(rowid, e) VALUES (1, '[1e30, -1e30]'), (2, '[1, 2]')");
  CHECK(db.text("SELECT count(*) FROM t WHERE e MATCH '[1e30, -1e30]' AND k = 2 AND distance IS NOT NULL") == "2");
}

TEST_CASE("an imported mlp model whose codes' offsets could overflow is refused", "[sql][extremes][mlp]") {
  Db db;
  db.exec("CREATE TABLE items(v)");
  std::mt19937_64 rng(3);
  std::normal_distribution<float> g;
  for (int i = 0; i < 64; ++i) {
    std::vector<float> v(8);
    for (float& x : v) x = g(rng);
    db.prepare("INSERT INTO items VALUES (?1)").bind(1, v).step();
  }
  db.exec(
      "SELECT bebr_train('m', 'SELECT v FROM items', "
      "'{\"kind\":\"mlp\",\"bits\":2,\"hidden\":4,\"epochs\":1,\"threads\":1,\"progress\":false}')");
  auto s = db.prepare("SELECT params FROM bebr_models WHERE name = 'm'");
  REQUIRE(s.step());
  std::vector<std::uint8_t> params = s.blob(0);
  s.reset();
  // alpha (float32 at byte 24) near FLT_MAX and the first mean component (byte 40) 1: finite,
  // so the BLOB parses, but alpha <u, mean> can leave float range.
  const float huge = 3e38f, one = 1.f;
  std::memcpy(params.data() + 24, &huge, 4);
  std::memcpy(params.data() + 40, &one, 4);
  auto imp = db.prepare("SELECT bebr_import_model('huge', ?1)");
  imp.bind(1, params);
  CHECK_THROWS_WITH(imp.step(), Catch::Contains("offset exceeds float32 range"));
}

namespace {

// The oracle: the metric in long double, each term exact.
long double oracle_distance(const std::vector<float>& a, const std::vector<float>& b, const std::string& metric) {
  long double ab = 0, aa = 0, bb = 0, d2 = 0;
  for (std::size_t j = 0; j < a.size(); ++j) {
    const long double x = a[j], y = b[j];
    ab += x * y, aa += x * x, bb += y * y, d2 += (x - y) * (x - y);
  }
  if (metric == "ip") return -ab;
  if (metric == "l2") return std::sqrt(d2);
  return (aa > 0 && bb > 0) ? 1 - ab / (std::sqrt(aa) * std::sqrt(bb)) : 1.0L;
}

}  // namespace

TEST_CASE("bebr_distance is right for every finite input, denormals to FLT_MAX", "[sql][extremes]") {
  Db db;
  CHECK(db.text("SELECT bebr_distance('[1e20,1e20]', '[1e20,1e20]')") == "0.0");
  CHECK(db.text("SELECT bebr_distance('[1e-45,0]', '[1e-45,0]')") == "0.0");
  CHECK(db.text("SELECT bebr_distance('[1e20,1e20]', '[1e20,1e20]', 'ip') BETWEEN -2.0001e40 AND -1.9999e40") == "1");
  std::mt19937_64 rng(23);
  std::uniform_int_distribution<int> exponent(-45, 38);
  for (std::size_t dim : {1u, 2u, 7u, 64u, 1000u}) {
    for (int trial = 0; trial < 20; ++trial) {
      // One magnitude per vector pair (some pairs share it, some do not), random signs, and a
      // second vector close in direction to the first half the time.
      const double ea = std::pow(10.0, exponent(rng)), eb = trial % 3 ? ea : std::pow(10.0, exponent(rng));
      std::vector<float> a(dim), b(dim);
      for (std::size_t j = 0; j < dim; ++j) {
        a[j] = static_cast<float>((rng() % 2 ? -1.0 : 1.0) * double(rng() % 1000 + 1) / 1000 * ea);
        b[j] = trial % 2 ? static_cast<float>(a[j] / ea * eb)
                         : static_cast<float>((rng() % 2 ? -1.0 : 1.0) * double(rng() % 1000 + 1) / 1000 * eb);
      }
      for (const std::string metric : {"cosine", "ip", "l2"}) {
        INFO("dim " << dim << " trial " << trial << " metric " << metric << " scales " << ea << " " << eb);
        auto s = db.prepare("SELECT bebr_distance(?1, ?2, '" + metric + "')");
        s.bind(1, a).bind(2, b);
        REQUIRE(s.step());
        REQUIRE_FALSE(s.is_null(0));
        const long double want = oracle_distance(a, b, metric);
        const double got = s.real(0);
        if (metric == "cosine") CHECK(std::fabs(got - double(want)) <= 1e-12);
        else CHECK(std::fabs(got - double(want)) <= 1e-12 * std::fabs(double(want)) + 1e-300);
      }
    }
  }
}

TEST_CASE("rescore ranks huge and tiny vectors by their exact distance", "[sql][extremes]") {
  for (const std::string metric : {"cosine", "ip", "l2"}) {
    INFO("metric " << metric);
    Db db;
    db.exec("CREATE VIRTUAL TABLE t USING bebr(e float[2], metric=" + metric + ", store_vectors=1)");
    const std::vector<std::vector<float>> rows = {{1e20f, 1e20f}, {2e20f, 2.1e20f}, {3e20f, -1e20f}, {-1e20f, 1e20f},
                                                  {1e-45f, 0.f},  {3e38f, 3e38f},   {1.f, 2.f}};
    for (std::size_t i = 0; i < rows.size(); ++i)
      db.prepare("INSERT INTO t(rowid, e) VALUES (?1, ?2)").bind(1, (long long)i + 1).bind(2, rows[i]).step();
    for (const auto& q : rows) {
      std::vector<std::pair<long double, long long>> want;
      for (std::size_t i = 0; i < rows.size(); ++i) want.emplace_back(oracle_distance(q, rows[i], metric), i + 1);
      std::sort(want.begin(), want.end());
      auto s = db.prepare("SELECT rowid, distance FROM t WHERE e MATCH ?1 AND k = 3 AND rescore = 7");
      s.bind(1, q);
      const auto tol = [&](long double d) {
        return 1e-12 * std::fabs(double(d)) + (metric == "cosine" ? 1e-12 : 1e-300);
      };
      // Rows whose oracle distances a double cannot tell apart may come in either order.
      const auto tied = [&](std::size_t r, std::size_t o) {
        return o < want.size() && std::fabs(double(want[r].first - want[o].first)) <= tol(want[r].first);
      };
      for (std::size_t r = 0; r < 3; ++r) {
        REQUIRE(s.step());
        REQUIRE_FALSE(s.is_null(1));
        CHECK(std::fabs(s.real(1) - double(want[r].first)) <= tol(want[r].first));
        if (!tied(r, r + 1) && (r == 0 || !tied(r, r - 1))) CHECK(s.integer(0) == want[r].second);
      }
    }
  }
}

TEST_CASE("mutated .npy headers never crash: rows or a clear error", "[sql][fuzz][npy]") {
  // numpy.save of float32 [[1, 2, 3], [4, 5, 6]] (version 1 header).
  const std::string header = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }";
  std::vector<std::uint8_t> base = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, 0, 0};
  std::string padded = header + std::string(64 - (10 + header.size() + 1) % 64, ' ') + "\n";
  base[8] = static_cast<std::uint8_t>(padded.size());
  base.insert(base.end(), padded.begin(), padded.end());
  for (float f : {1.f, 2.f, 3.f, 4.f, 5.f, 6.f}) {
    std::uint8_t b[4];
    std::memcpy(b, &f, 4);
    base.insert(base.end(), b, b + 4);
  }
  Db db;
  auto s = db.prepare("SELECT count(*), sum(length(vector)) FROM bebr_vectors(?1, 3)");
  s.bind(1, base);
  REQUIRE(s.step());
  CHECK(s.integer(0) == 2);
  s.reset();
  std::mt19937_64 rng(41);
  int errors = 0;
  for (int trial = 0; trial < 3000; ++trial) {
    std::vector<std::uint8_t> m = base;
    const int edits = 1 + static_cast<int>(rng() % 3);
    for (int e = 0; e < edits; ++e) {
      const std::size_t at = rng() % (trial % 2 ? 12 : m.size());  // half in the fixed prefix
      m[at] = trial % 3 ? static_cast<std::uint8_t>(rng()) : static_cast<std::uint8_t>("0123456789(),' "[rng() % 15]);
    }
    if (trial % 5 == 0) m.resize(rng() % m.size());
    auto q = db.prepare("SELECT count(*), sum(length(vector)) FROM bebr_vectors(?1, 3)");
    q.bind(1, m);
    std::string error;
    bool row = false;
    try {
      row = q.step();
    } catch (const std::runtime_error& e) {
      error = e.what();
    }
    if (!error.empty()) {
      CHECK_THAT(error, Catch::StartsWith("bebr_vectors: data"));
      ++errors;
    } else {
      REQUIRE(row);
      CHECK(q.integer(1) == 12 * q.integer(0));
    }
  }
  CHECK(errors > 100);
}
