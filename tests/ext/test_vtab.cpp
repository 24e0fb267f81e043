// The bebr virtual table against a brute-force oracle over a plain table of the same vectors:
// random inserts, updates and deletes, then kNN queries (k from 1 to past the row count, with
// and without rescore) whose rowids and distances must match exactly. Also durability across
// close and reopen.
#include <catch2/catch.hpp>

#include <cstdio>
#include <random>
#include <unistd.h>

#include "db.hpp"
#include "testing.hpp"

using bebr::testing::Db;

namespace {

std::vector<std::pair<long long, double>> rows_of(Db::Stmt& s) {
  std::vector<std::pair<long long, double>> out;
  while (s.step()) out.emplace_back(s.integer(0), s.real(1));
  return out;
}

}  // namespace

TEST_CASE("kNN through the virtual table equals brute force over a plain table", "[vtab]") {
  const std::uint64_t seed = 777;
  std::mt19937_64 rng(seed);
  INFO("seed " << seed);
  for (const int bits : {1, 2, 4}) {
    for (const std::string metric : {"cosine", "l2"}) {
      Db db;
      const int dim = 37;
      db.exec("CREATE VIRTUAL TABLE v USING bebr(e float[37], bits=" + std::to_string(bits) + ", metric=" + metric +
              ", store_vectors=1)");
      db.exec("CREATE TABLE p(rowid INTEGER PRIMARY KEY, e BLOB)");
      const std::string b = std::to_string(bits);
      for (int step = 0; step < 300; ++step) {
        const int op = static_cast<int>(rng() % 10);
        const long long id = static_cast<long long>(rng() % 120) + 1;
        const auto x = bebr::testing::random_vector(rng, dim);
        if (op < 6) {
          db.prepare("INSERT OR REPLACE INTO v(rowid, e) VALUES (?1, ?2)").bind(1, id).bind(2, x).step();
          db.prepare("INSERT OR REPLACE INTO p(rowid, e) VALUES (?1, ?2)").bind(1, id).bind(2, x).step();
        } else if (op < 8) {
          db.prepare("UPDATE v SET e = ?2 WHERE rowid = ?1").bind(1, id).bind(2, x).step();
          db.prepare("UPDATE p SET e = ?2 WHERE rowid = ?1").bind(1, id).bind(2, x).step();
        } else {
          db.prepare("DELETE FROM v WHERE rowid = ?1").bind(1, id).step();
          db.prepare("DELETE FROM p WHERE rowid = ?1").bind(1, id).step();
        }
        if (step % 10 != 9) continue;
        auto count = db.prepare("SELECT count(*) FROM p");
        count.step();
        const long long n = count.integer(0);
        const auto q = bebr::testing::random_vector(rng, dim);
        for (const long long k : {1LL, 5LL, n, n + 3}) {
          for (const long long rescore : {0LL, 8LL}) {
            INFO("bits " << bits << " metric " << metric << " step " << step << " k " << k << " rescore " << rescore);
            auto got = db.prepare("SELECT rowid, distance FROM v WHERE e MATCH ?1 AND k = ?2 AND rescore = ?3");
            got.bind(1, q).bind(2, k).bind(3, rescore);
            const std::string sdc = "bebr_sdc_distance(bebr_binarize(?1, " + b + "), bebr_binarize(e, " + b + "), '" + metric + "')";
            std::string oracle = "SELECT rowid, " + sdc + " AS d FROM p ORDER BY d, rowid LIMIT ?2";
            if (rescore)
              oracle = "SELECT rowid, bebr_distance(?1, e, '" + metric + "') AS x FROM (SELECT rowid, e, " + sdc +
                       " AS d FROM p ORDER BY d, rowid LIMIT max(?2, ?3)) ORDER BY x, rowid LIMIT ?2";
            auto want = db.prepare(oracle);
            want.bind(1, q).bind(2, k);
            if (rescore) want.bind(3, rescore);
            const auto g = rows_of(got), w = rows_of(want);
            REQUIRE(g.size() == w.size());
            for (std::size_t i = 0; i < g.size(); ++i) {
              CHECK(g[i].first == w[i].first);
              CHECK(g[i].second == Approx(w[i].second).margin(1e-12));
            }
          }
        }
      }
    }
  }
}

TEST_CASE("a table survives close and reopen", "[vtab]") {
  char path[] = "/tmp/bebr_vtab_XXXXXX";
  const int fd = mkstemp(path);
  REQUIRE(fd >= 0);
  close(fd);
  {
    Db db(path);
    db.exec("CREATE VIRTUAL TABLE v USING bebr(e float[3], bits=3, metric=ip, store_vectors=1)");
    db.exec("INSERT INTO v(rowid, e) VALUES (1, '[1,0,0]'), (2, '[0,1,0]'), (3, '[0.9,0.1,0]')");
  }
  {
    Db db(path);
    auto s = db.prepare("SELECT rowid FROM v WHERE e MATCH '[1,0,0]' AND k = 2");
    REQUIRE(s.step());
    CHECK(s.integer(0) == 1);
    REQUIRE(s.step());
    CHECK(s.integer(0) == 3);
    CHECK_FALSE(s.step());
    auto c = db.prepare("PRAGMA integrity_check");
    REQUIRE(c.step());
    CHECK(c.text(0) == "ok");
  }
  std::remove(path);
}
