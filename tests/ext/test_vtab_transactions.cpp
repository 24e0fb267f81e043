// The bebr virtual table across connections and transactions: another connection's commit,
// rollback of the resident cache, the pre-filter's range after writes, a process killed inside a
// transaction, and corrupt shadow tables (the rest of the vtab tests are in test_vtab.cpp).
#include <catch2/catch.hpp>

#include <csignal>
#include <cstdio>
#include <limits>
#include <random>
#include <sys/wait.h>
#include <unistd.h>

#include "db.hpp"
#include "testing.hpp"
#include "vtab_checks.hpp"

using bebr::testing::check_same;
using bebr::testing::Db;
using bebr::testing::rows_of;

namespace {

std::string temp_path() {
  char path[] = "/tmp/bebr_vtab_XXXXXX";
  const int fd = mkstemp(path);
  REQUIRE(fd >= 0);
  close(fd);
  return path;
}

void remove_db(const std::string& path) {
  for (const char* suffix : {"", "-journal", "-wal", "-shm"}) std::remove((path + suffix).c_str());
}

std::vector<long long> knn_ids(Db& db, const std::vector<float>& q, long long k) {
  auto s = db.prepare("SELECT rowid FROM v WHERE e MATCH ?1 AND k = ?2");
  s.bind(1, q).bind(2, k);
  std::vector<long long> out;
  while (s.step()) out.push_back(s.integer(0));
  return out;
}

}  // namespace

TEST_CASE("the next kNN query sees what another connection committed", "[vtab]") {
  std::mt19937_64 rng(11);
  for (const std::string cache : {"1", "0"}) {
    INFO("cache " << cache);
    const std::string path = temp_path();
    {
      Db a(path), b(path);
      a.exec("CREATE VIRTUAL TABLE v USING bebr(e float[16], bits=2, chunk_size=64, cache=" + cache + ")");
      for (long long id = 1; id <= 100; ++id)
        a.prepare("INSERT INTO v(rowid, e) VALUES (?1, ?2)")
            .bind(1, id)
            .bind(2, bebr::testing::random_vector(rng, 16))
            .step();
      const auto q = bebr::testing::random_vector(rng, 16);
      CHECK(knn_ids(a, q, 1000).size() == 100);  // a's cache is now resident
      b.prepare("INSERT INTO v(rowid, e) VALUES (500, ?1)").bind(1, q).step();
      CHECK(knn_ids(a, q, 1) == std::vector<long long>{500});
      CHECK(knn_ids(a, q, 1000).size() == 101);
      b.prepare("DELETE FROM v WHERE rowid = 500").step();
      CHECK(knn_ids(a, q, 1) != std::vector<long long>{500});
      b.prepare("UPDATE v SET e = ?1 WHERE rowid = 42").bind(1, q).step();
      CHECK(knn_ids(a, q, 1) == std::vector<long long>{42});
      b.exec("DELETE FROM v WHERE rowid BETWEEN 50 AND 100; INSERT INTO v(v) VALUES ('optimize')");
      const auto left = knn_ids(a, q, 1000);
      CHECK(left.size() == 49);
      CHECK(left.front() == 42);
      // And the other way round: b's cache follows a's writes.
      CHECK(knn_ids(b, q, 1) == std::vector<long long>{42});
      a.prepare("INSERT INTO v(rowid, e) VALUES (700, ?1)").bind(1, q).step();
      CHECK(knn_ids(b, q, 2) == std::vector<long long>{42, 700});
    }
    remove_db(path);
  }
}

TEST_CASE("a rolled-back write leaves the resident cache", "[vtab]") {
  std::mt19937_64 rng(12);
  Db db;
  db.exec("CREATE VIRTUAL TABLE v USING bebr(e float[16], bits=1, chunk_size=64)");
  for (long long id = 1; id <= 70; ++id)
    db.prepare("INSERT INTO v(rowid, e) VALUES (?1, ?2)")
        .bind(1, id)
        .bind(2, bebr::testing::random_vector(rng, 16))
        .step();
  const auto q = bebr::testing::random_vector(rng, 16);
  const auto before = knn_ids(db, q, 1000);
  REQUIRE(before.size() == 70);

  db.exec("BEGIN");
  db.prepare("INSERT INTO v(rowid, e) VALUES (900, ?1)").bind(1, q).step();
  CHECK(knn_ids(db, q, 1) == std::vector<long long>{900});  // our own uncommitted write
  db.exec("ROLLBACK");
  CHECK(knn_ids(db, q, 1000) == before);

  db.exec("BEGIN; DELETE FROM v;");
  CHECK(knn_ids(db, q, 1000).empty());
  db.exec("ROLLBACK");
  CHECK(knn_ids(db, q, 1000) == before);

  db.exec("BEGIN; SAVEPOINT s;");
  db.prepare("UPDATE v SET e = ?1 WHERE rowid = 3").bind(1, q).step();
  CHECK(knn_ids(db, q, 1) == std::vector<long long>{3});
  db.exec("ROLLBACK TO s; RELEASE s; COMMIT");
  CHECK(knn_ids(db, q, 1000) == before);
}

TEST_CASE("a write to a chunk whose filter keys exist widens the pre-filter's range", "[vtab]") {
  // Under ip the key coefficient P is the code's scale. Once a query has built a chunk's keys, a
  // code written into that chunk with 200 times the norm must still be found: the chunk's range
  // of P has to grow with it, or the integer pre-filter's floor drops it. Unit vectors keep the
  // range narrow, so the floor is tight. The oracle: a second connection, whose keys and ranges
  // are built afresh once the write is committed.
  std::mt19937_64 rng(31);
  const auto unit = [&] {
    auto v = bebr::testing::random_vector(rng, 256);
    double n = 0;
    for (float x : v) n += double{x} * x;
    for (float& x : v) x = static_cast<float>(x / std::sqrt(n));
    return v;
  };
  const std::string path = temp_path();
  {
    Db a(path);
    // 256 dimensions: planes of whole 32-byte blocks, which the SIMD filter with the pre-filter takes.
    a.exec("CREATE VIRTUAL TABLE v USING bebr(e float[256], bits=2, metric=ip, chunk_size=64)");
    const auto q = unit();
    std::vector<float> minus_q = q;
    for (float& x : minus_q) x = -x;
    // Rows 1001-1007 share a group of eight with row 1000 (slots 40-47 of the last chunk): as -q
    // they sit at the bottom, so only row 1000 can bring that group through the floor.
    for (long long id = 1; id <= 1024; ++id)
      a.prepare("INSERT INTO v(rowid, e) VALUES (?1, ?2)")
          .bind(1, id)
          .bind(2, id > 1000 && id < 1008 ? minus_q : unit())
          .step();
    REQUIRE(knn_ids(a, q, 5).size() == 5);  // every chunk's keys now exist
    // A unit vector whose code's inner product with q's is small and positive (0.005 to 0.02,
    // where the rows' reach about 0.2), scaled by 200: the largest inner product of the table,
    // but digits whose e sits far below the floor of a range that did not grow.
    std::vector<float> w;
    double ip = 0;
    auto sdc = a.prepare("SELECT -bebr_sdc_distance(bebr_binarize(?1, 2), bebr_binarize(?2, 2), 'ip')");
    do {
      w = unit();
      sdc.reset();
      sdc.bind(1, w).bind(2, q);
      REQUIRE(sdc.step());
      ip = sdc.real(0);
    } while (ip < 0.005 || ip > 0.02);
    for (float& x : w) x *= 200.f;
    // Inside a transaction: the write goes into the resident chunk (a commit reloads it).
    a.exec("BEGIN");
    a.prepare("UPDATE v SET e = ?1 WHERE rowid = 1000").bind(1, w).step();  // in the last chunk scanned
    const auto got = knn_ids(a, q, 5);
    a.exec("COMMIT");
    Db b(path);
    CHECK(got == knn_ids(b, q, 5));
    CHECK(got.front() == 1000);
  }
  remove_db(path);
}

TEST_CASE("a process killed inside a transaction loses nothing committed", "[vtab]") {
  const std::string path = temp_path();
  const int dim = 32, committed = 600;
  const auto vectors = [&](std::uint64_t seed, int n) {
    std::mt19937_64 rng(seed);
    std::vector<std::vector<float>> out;
    for (int i = 0; i < n; ++i) out.push_back(bebr::testing::random_vector(rng, dim));
    return out;
  };
  const pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {  // the child: no test macros, just work and die
    try {
      Db db(path);
      db.exec("PRAGMA cache_size = 4");  // a tiny page cache: dirty pages reach the file before COMMIT
      db.exec("CREATE VIRTUAL TABLE v USING bebr(e float[32], bits=2, store_vectors=1, chunk_size=64)");
      const auto base = vectors(1, committed);
      db.exec("BEGIN");
      for (int i = 0; i < committed; ++i)
        db.prepare("INSERT INTO v(rowid, e) VALUES (?1, ?2)")
            .bind(1, static_cast<long long>(i + 1))
            .bind(2, base[i])
            .step();
      db.exec("COMMIT");
      db.exec("BEGIN");
      db.exec("DELETE FROM v WHERE rowid <= 300");
      const auto more = vectors(2, 2000);
      for (int i = 0; i < 2000; ++i)
        db.prepare("INSERT INTO v(rowid, e) VALUES (?1, ?2)")
            .bind(1, static_cast<long long>(10000 + i))
            .bind(2, more[i])
            .step();
      db.exec("INSERT INTO v(v) VALUES ('optimize')");
      raise(SIGKILL);
    } catch (...) {
      _exit(3);
    }
    _exit(4);
  }
  int status = 0;
  REQUIRE(waitpid(pid, &status, 0) == pid);
  REQUIRE(WIFSIGNALED(status));
  CHECK(WTERMSIG(status) == SIGKILL);
  // A hot journal: the transaction had written pages to the file when the process died.
  CHECK(access((path + "-journal").c_str(), F_OK) == 0);
  {
    Db db(path);
    auto ic = db.prepare("PRAGMA integrity_check");
    REQUIRE(ic.step());
    CHECK(ic.text(0) == "ok");
    auto n = db.prepare("SELECT count(*), min(rowid), max(rowid) FROM v");
    REQUIRE(n.step());
    CHECK(n.integer(0) == committed);
    CHECK(n.integer(1) == 1);
    CHECK(n.integer(2) == committed);
    // kNN over the committed rows equals brute force over the same vectors.
    const auto base = vectors(1, committed);
    db.exec("CREATE TEMP TABLE p(rowid INTEGER PRIMARY KEY, e BLOB)");
    for (int i = 0; i < committed; ++i)
      db.prepare("INSERT INTO p(rowid, e) VALUES (?1, ?2)")
          .bind(1, static_cast<long long>(i + 1))
          .bind(2, base[i])
          .step();
    std::mt19937_64 rng(3);
    for (int t = 0; t < 5; ++t) {
      const auto q = bebr::testing::random_vector(rng, dim);
      auto got = db.prepare("SELECT rowid, distance FROM v WHERE e MATCH ?1 AND k = 10 AND rescore = 30");
      got.bind(1, q);
      auto want = db.prepare(
          "SELECT rowid, bebr_distance(?1, e) AS x FROM (SELECT rowid, e FROM p ORDER BY "
          "bebr_sdc_distance(bebr_binarize(?1, 2), bebr_binarize(e, 2)), rowid LIMIT 30) ORDER BY x, rowid LIMIT 10");
      want.bind(1, q);
      check_same(rows_of(got), rows_of(want));
    }
  }
  remove_db(path);
}

TEST_CASE("corrupt shadow tables give clear errors and never crash", "[vtab]") {
  const std::string path = temp_path();
  const auto fresh = [&] {
    remove_db(path);
    Db db(path);
    db.exec("CREATE VIRTUAL TABLE v USING bebr(e float[4], tag text, bits=2, chunk_size=64)");
    db.exec("INSERT INTO v(rowid, e, tag) VALUES (1, '[1, 2, 3, 4]', 'a'), (2, '[4, 3, 2, 1]', 'b')");
    db.exec(
        "INSERT INTO v(rowid, e, tag) VALUES (3, '[1, 1, 1, 1]', 'c'), (4, '[1, 1, 1, 1]', 'c'), "
        "(5, '[1, 1, 1, 1]', 'c'), (6, '[1, 1, 1, 1]', 'c'), (7, '[1, 1, 1, 1]', 'c'), (8, '[1, 1, 1, 1]', 'c')");
    // Rows 1-8 (a run of chunk_size / 8) are in ranged chunk 0. Without metadata: the same, and
    // row 10^9 in a listed chunk with a map row.
    db.exec("CREATE VIRTUAL TABLE w USING bebr(e float[4], chunk_size=64)");
    db.exec(
        "WITH RECURSIVE s(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM s WHERE x < 8) "
        "INSERT INTO w(rowid, e) SELECT x, json_array(x, 2, 3, 4) FROM s");
    db.exec("INSERT INTO w(rowid, e) VALUES (1000000000, '[4, 3, 2, 1]')");
  };
  const auto expect_error = [&](const std::string& damage, const std::string& query, const std::string& text) {
    fresh();
    {
      Db db(path);
      db.exec(damage);
    }
    Db db(path);
    INFO(damage << " then " << query);
    try {
      auto s = db.prepare(query);
      while (s.step()) {
      }
      FAIL("no error");
    } catch (const std::runtime_error& e) {
      CHECK_THAT(e.what(), Catch::Contains(text));
    }
  };
  const std::string knn = "SELECT rowid, tag FROM v WHERE e MATCH '[1, 2, 3, 4]' AND k = 10";
  expect_error("UPDATE v_chunks SET data = x'00'", knn, "v_chunks shadow table is corrupt");
  expect_error("UPDATE v_chunks SET data = zeroblob(100000)", knn, "v_chunks shadow table is corrupt");
  expect_error("UPDATE v_info SET value = 'abc' WHERE key = 'dim'", knn, "v_info shadow table is corrupt");
  expect_error("UPDATE v_info SET value = '1' WHERE key = 'format'", knn, "created by another version of bebr");
  expect_error("UPDATE v_info SET value = 'hamming' WHERE key = 'metric'", knn, "unknown metric 'hamming'");
  expect_error("DELETE FROM v_info", knn, "another version of bebr");
  expect_error("DELETE FROM v_rowids WHERE rowid = 1", "UPDATE v SET tag = 'c' WHERE rowid = 1",
               "v_rowids shadow table is corrupt");
  expect_error("UPDATE v_rowids SET slot = 99999 WHERE rowid = 1", knn + " AND tag = 'a'",
               "v_rowids shadow table is corrupt");
  expect_error("DELETE FROM v_rowids WHERE rowid = 2", knn, "row 2 has no entry in v_rowids");
  expect_error("UPDATE v_rowids SET chunk_id = 1 WHERE rowid = 1", knn + " AND tag = 'a'",
               "v_rowids shadow table is corrupt");
  expect_error("DROP TABLE v_chunks", knn, "no such table");
  const std::string wknn = "SELECT rowid FROM w WHERE e MATCH '[1, 2, 3, 4]' AND k = 2";
  expect_error("UPDATE w_chunks SET data = zeroblob(10) WHERE chunk_id = 0", wknn, "w_chunks shadow table is corrupt");
  expect_error("UPDATE w_chunks SET data = zeroblob(10) WHERE chunk_id > 0", wknn, "w_chunks shadow table is corrupt");
  expect_error("UPDATE w_rowids SET chunk_id = 0", "DELETE FROM w WHERE rowid = 1000000000",
               "w_rowids shadow table is corrupt");
  expect_error("UPDATE w_rowids SET slot = 5", "UPDATE w SET e = '[1, 1, 1, 1]' WHERE rowid = 1000000000",
               "does not hold row 1000000000");
  expect_error("UPDATE w_rowids SET slot = 5", "DELETE FROM w WHERE rowid = 1000000000", "points to an empty slot");
  remove_db(path);
}
