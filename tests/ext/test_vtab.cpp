// The bebr virtual table against a brute-force oracle over a plain table of the same vectors:
// random inserts, updates and deletes, then kNN queries (k from 1 to past the row count, with
// and without rescore) whose rowids and distances must match exactly. Also durability across
// close and reopen.
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

// The database is intact, and the table v used both kinds of chunk.
void check_chunks(Db& db) {
  auto ic = db.prepare("PRAGMA integrity_check");
  REQUIRE(ic.step());
  CHECK(ic.text(0) == "ok");
  auto kinds =
      db.prepare("SELECT sum(chunk_id < 4611686018427387904), sum(chunk_id >= 4611686018427387904) FROM v_chunks");
  REQUIRE(kinds.step());
  CHECK(kinds.integer(0) > 0);
  CHECK(kinds.integer(1) > 0);
}

// A rowid for a random write: mostly dense (ranged chunks of 64), some scattered far apart
// (listed chunks), some negative, some at the ends of the rowid space.
long long pick_id(std::mt19937_64& rng) {
  const int r = static_cast<int>(rng() % 20);
  if (r < 14) return static_cast<long long>(rng() % 400) + 1;
  if (r < 18) return 100000 + static_cast<long long>(rng() % 60) * 1000;
  if (r < 19) return -static_cast<long long>(rng() % 200);
  return rng() % 2 ? std::numeric_limits<long long>::max() - static_cast<long long>(rng() % 70)
                   : std::numeric_limits<long long>::min() + static_cast<long long>(rng() % 70);
}

}  // namespace

namespace {

// The whole table as text, from a full scan: every stored column of every row.
std::string dump(Db& db, const std::string& table) {
  auto s = db.prepare(
      "SELECT group_concat(x, '|') FROM (SELECT rowid || ',' || hex(e) || ',' || quote(g) || ',' || "
      "quote(tag) || ',' || quote(score) || ',' || quote(flag) || ',' || quote(note) AS x FROM " +
      table + " ORDER BY rowid)");
  s.step();
  return s.is_null(0) ? "" : s.text(0);
}

}  // namespace

// One long randomised scenario on purpose: the writes, the kNN checks after each batch and the
// close-and-reopen share one database, so splitting it would lose the interleavings it tests.
TEST_CASE("kNN through the virtual table equals brute force over a plain table", "[vtab]") {
  const std::uint64_t seed = 777;
  std::mt19937_64 rng(seed);
  INFO("seed " << seed);
  struct Setup {
    int bits;
    std::string metric;
    int cache;
  };
  const std::vector<std::string> tags{"a", "b", "c"};
  for (const Setup& setup : {Setup{1, "cosine", 1}, Setup{2, "l2", 0}, Setup{4, "ip", 1}, Setup{2, "cosine", 0},
                             Setup{1, "l2", 1}, Setup{1, "cosine", 0}, Setup{2, "cosine", 1}}) {
    const int dim = 37;
    const std::string b = std::to_string(setup.bits), metric = setup.metric;
    Db db;
    db.exec(
        "CREATE VIRTUAL TABLE v USING bebr(e float[37], g integer, tag text, score float, flag boolean, +note text, "
        "bits=" +
        b + ", metric=" + metric + ", store_vectors=1, chunk_size=64, cache=" + std::to_string(setup.cache) + ")");
    db.exec(
        "CREATE TABLE p(rowid INTEGER PRIMARY KEY, e BLOB, g INTEGER, tag TEXT, score REAL, flag INTEGER, note TEXT)");
    const auto maybe_null = [&](Db::Stmt& s, int i, auto value) {
      if (rng() % 8 == 0) sqlite3_bind_null(s.get(), i);
      else s.bind(i, value);
    };
    // One random write, applied to both tables.
    const auto write = [&] {
      const int op = static_cast<int>(rng() % 12);
      const long long id = pick_id(rng);
      auto x = bebr::testing::random_vector(rng, dim);
      // Now and then a zero vector: its code has scale 0, which turns the Hamming filter off for
      // its chunk (the distance to it is 1 whatever the bits).
      if (rng() % 32 == 0) std::fill(x.begin(), x.end(), 0.f);
      const long long g = static_cast<long long>(rng() % 5), flag = static_cast<long long>(rng() % 2);
      const std::string tag = tags[rng() % 3], note = "n" + std::to_string(rng() % 1000);
      const double score = static_cast<double>(rng() % 1000) / 1000.0;
      if (op < 6) {
        for (const std::string t : {"v", "p"}) {
          auto s = db.prepare("INSERT OR REPLACE INTO " + t +
                              "(rowid, e, g, tag, score, flag, note) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)");
          std::mt19937_64 same = rng;  // the same NULLs for both tables
          std::swap(rng, same);
          s.bind(1, id).bind(2, x);
          maybe_null(s, 3, g);
          maybe_null(s, 4, tag);
          maybe_null(s, 5, score);
          maybe_null(s, 6, flag);
          maybe_null(s, 7, note);
          s.step();
          if (t == "v") rng = same;
        }
      } else if (op < 7) {
        for (const std::string t : {"v", "p"})
          db.prepare("UPDATE " + t + " SET e = ?2 WHERE rowid = ?1").bind(1, id).bind(2, x).step();
      } else if (op < 8) {  // metadata only: the code and vector stay
        for (const std::string t : {"v", "p"})
          db.prepare("UPDATE " + t + " SET g = ?2, tag = ?3 WHERE rowid = ?1")
              .bind(1, id)
              .bind(2, g)
              .bind(3, tag)
              .step();
      } else if (op < 9) {  // a new rowid
        const long long to = pick_id(rng);
        for (const std::string t : {"v", "p"})
          db.prepare("UPDATE OR REPLACE " + t + " SET rowid = ?2 WHERE rowid = ?1").bind(1, id).bind(2, to).step();
      } else if (op < 11) {
        for (const std::string t : {"v", "p"}) db.prepare("DELETE FROM " + t + " WHERE rowid = ?1").bind(1, id).step();
      } else {  // a range: empties whole chunks
        for (const std::string t : {"v", "p"})
          db.prepare("DELETE FROM " + t + " WHERE rowid BETWEEN ?1 AND ?1 + 40").bind(1, id).step();
      }
    };
    // A base of 300 rows (several chunks of 64, so the key filter runs on all chunks after the
    // first), then random writes.
    db.exec("BEGIN");
    for (int i = 0; i < 300; ++i) {
      const auto x = bebr::testing::random_vector(rng, dim);
      // A run (ranged chunks), then every other rowid (listed chunks).
      const long long id = i < 150 ? i + 1 : 2 * i + 1, g = static_cast<long long>(rng() % 5);
      for (const std::string t : {"v", "p"})
        db.prepare("INSERT INTO " + t +
                   "(rowid, e, g, tag, score, flag, note) VALUES (?1, ?2, ?3, 'a', 0.25, 1, 'base')")
            .bind(1, id)
            .bind(2, x)
            .bind(3, g)
            .step();
    }
    db.exec("COMMIT");
    const std::vector<std::string> filters{"",
                                           "g = 2",
                                           "g != 2",
                                           "g < 2",
                                           "g <= 2",
                                           "g > 1 AND flag = 1",
                                           "score >= 0.5",
                                           "tag IN ('a', 'c')",
                                           "tag = 'b' AND g IN (0, 3)",
                                           "tag < 'b' AND score < 0.7",
                                           "rowid = 17",
                                           "rowid IN (3, 5, 8, 13, 21, 34, 55, 89, 144)",
                                           "flag = 0 AND rowid IN (2, 4, 6, 8, 10, 12, 100, 150)"};
    for (int step = 0; step < 400; ++step) {
      const int mode = static_cast<int>(rng() % 20);
      if (mode == 0) {  // a transaction rolled back
        db.exec("BEGIN");
        for (int i = 0; i < 5; ++i) write();
        db.exec("ROLLBACK");
      } else if (mode == 1) {  // a savepoint rolled back inside a committed transaction
        db.exec("BEGIN");
        write();
        db.exec("SAVEPOINT s");
        for (int i = 0; i < 4; ++i) write();
        db.exec("ROLLBACK TO s");
        write();
        db.exec("RELEASE s");
        db.exec("COMMIT");
      } else if (mode == 2) {  // a statement that fails on its second row changes nothing
        auto s = db.prepare("INSERT INTO v(rowid, e) VALUES (?1, ?2), (?3, '[1, 2]')");
        s.bind(1, 1000LL + step).bind(2, bebr::testing::random_vector(rng, dim)).bind(3, 2000LL + step);
        CHECK_THROWS(s.step());
      } else if (mode == 3) {
        db.exec("INSERT INTO v(v) VALUES ('optimize')");
      } else if (mode == 4) {  // a committed batch
        db.exec("BEGIN");
        for (int i = 0; i < 10; ++i) write();
        db.exec("COMMIT");
      } else {
        write();
      }
      if (step % 10 != 9) continue;
      REQUIRE(dump(db, "v") == dump(db, "p"));
      auto count = db.prepare("SELECT count(*) FROM p");
      count.step();
      const long long n = count.integer(0);
      const auto q = bebr::testing::random_vector(rng, dim);
      const std::string filter = filters[rng() % filters.size()];
      const std::string where = filter.empty() ? "" : " AND " + filter;
      for (const long long k : {1LL, 5LL, n, n + 3}) {
        for (const long long rescore : {0LL, 8LL}) {
          INFO("bits " << b << " metric " << metric << " cache " << setup.cache << " step " << step << " k " << k
                       << " rescore " << rescore << " filter " << filter);
          auto got = db.prepare("SELECT rowid, distance FROM v WHERE e MATCH ?1 AND k = ?2 AND rescore = ?3" + where);
          got.bind(1, q).bind(2, k).bind(3, rescore);
          const std::string sdc =
              "bebr_sdc_distance(bebr_binarize(?1, " + b + "), bebr_binarize(e, " + b + "), '" + metric + "')";
          const std::string pw = filter.empty() ? "" : " WHERE " + filter;
          std::string oracle = "SELECT rowid, " + sdc + " AS d FROM p" + pw + " ORDER BY d, rowid LIMIT ?2";
          if (rescore)
            oracle = "SELECT rowid, bebr_distance(?1, e, '" + metric + "') AS x FROM (SELECT rowid, e, " + sdc +
                     " AS d FROM p" + pw + " ORDER BY d, rowid LIMIT max(?2, ?3)) ORDER BY x, rowid LIMIT ?2";
          auto want = db.prepare(oracle);
          want.bind(1, q).bind(2, k);
          if (rescore) want.bind(3, rescore);
          const auto w = rows_of(want);
          check_same(rows_of(got), w);
          if (rescore) continue;
          // The same query without k: ORDER BY distance LIMIT over the streamed results.
          auto streamed =
              db.prepare("SELECT rowid, distance FROM v WHERE e MATCH ?1" + where + " ORDER BY distance LIMIT ?2");
          streamed.bind(1, q).bind(2, k);
          check_same(rows_of(streamed), w);
        }
      }
    }
    check_chunks(db);
  }
}

// A table with no column but the vector keeps its rows in the chunks alone: full scans, point
// lookups, rowids chosen by bebr (one more than the largest, as SQLite chooses) and kNN, against
// a plain table given the same writes.
TEST_CASE("a table without metadata keeps any rowids", "[vtab]") {
  const std::uint64_t seed = 4242;
  std::mt19937_64 rng(seed);
  INFO("seed " << seed);
  for (const int cache : {1, 0}) {
    Db db;
    db.exec("CREATE VIRTUAL TABLE v USING bebr(e float[20], chunk_size=64, cache=" + std::to_string(cache) + ")");
    db.exec("CREATE TABLE p(rowid INTEGER PRIMARY KEY, e BLOB)");
    const auto both = [&](const std::string& sql, auto&&... args) {
      for (const std::string t : {"v", "p"}) {
        auto s = db.prepare(std::string(sql).replace(sql.find("{t}"), 3, t));
        int i = 0;
        (s.bind(++i, args), ...);
        s.step();
      }
    };
    for (long long id = 1; id <= 100; ++id)  // a run: ranged chunks
      both("INSERT INTO {t}(rowid, e) VALUES (?1, ?2)", id, bebr::testing::random_vector(rng, 20));
    const auto rowids = [&](const std::string& t, const std::string& where) {
      std::vector<long long> out;
      auto s = db.prepare("SELECT rowid FROM " + t + where);
      while (s.step()) out.push_back(s.integer(0));
      return out;
    };
    for (int step = 0; step < 600; ++step) {
      const int op = static_cast<int>(rng() % 10);
      const long long id = pick_id(rng);
      const auto x = bebr::testing::random_vector(rng, 20);
      if (op < 5) {
        both("INSERT OR REPLACE INTO {t}(rowid, e) VALUES (?1, ?2)", id, x);
      } else if (op < 7) {
        auto top = db.prepare("SELECT max(rowid) FROM p");
        top.step();
        if (!top.is_null(0) && top.integer(0) == std::numeric_limits<long long>::max())
          continue;  // SQLite picks at random
        both("INSERT INTO {t}(e) VALUES (?1)", x);
      } else if (op < 8) {
        both("UPDATE OR REPLACE {t} SET rowid = ?2 WHERE rowid = ?1", id, pick_id(rng));
      } else if (op < 9) {
        both("DELETE FROM {t} WHERE rowid = ?1", id);
      } else if (step % 50 == 0) {
        db.exec("INSERT INTO v(v) VALUES ('optimize')");
      } else {
        db.exec("BEGIN");
        both("INSERT OR REPLACE INTO {t}(rowid, e) VALUES (?1, ?2)", id, x);
        both("DELETE FROM {t} WHERE rowid BETWEEN ?1 AND ?1 + 30", pick_id(rng));
        db.exec("ROLLBACK");
      }
      if (step % 25 != 24) continue;
      INFO("cache " << cache << " step " << step);
      REQUIRE(rowids("v", " ORDER BY rowid") == rowids("p", " ORDER BY rowid"));
      REQUIRE(rowids("v", "") == rowids("p", " ORDER BY rowid"));  // a full scan is in rowid order
      const long long probe = pick_id(rng);
      const std::string point = " WHERE rowid = " + std::to_string(probe);
      CHECK(rowids("v", point) == rowids("p", point));
      const auto q = bebr::testing::random_vector(rng, 20);
      auto got = db.prepare("SELECT rowid, distance FROM v WHERE e MATCH ?1 AND k = 12");
      got.bind(1, q);
      auto want = db.prepare(
          "SELECT rowid, bebr_sdc_distance(bebr_binarize(?1, 1), bebr_binarize(e, 1)) AS d FROM p "
          "ORDER BY d, rowid LIMIT 12");
      want.bind(1, q);
      check_same(rows_of(got), rows_of(want));
    }
    check_chunks(db);
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

TEST_CASE("filters inside kNN compare numbers exactly, as SQLite does", "[vtab][filters]") {
  // The oracle is SQLite: the same condition on a plain table of the same rows. Integers past
  // 2^53 do not survive a trip through double (2^53 + 1 would equal 2^53.0).
  Db db;
  db.exec("CREATE VIRTUAL TABLE t USING bebr(embedding float[2], tag integer, score float)");
  db.exec("CREATE TABLE p(id INTEGER PRIMARY KEY, tag INTEGER, score REAL)");
  const std::vector<std::string> tags = {"9007199254740992",
                                         "9007199254740993",
                                         "9007199254740991",
                                         "-9007199254740993",
                                         "-9223372036854775808",
                                         "9223372036854775807",
                                         "9223372036854775806",
                                         "1",
                                         "2",
                                         "-1",
                                         "0",
                                         "NULL"};
  for (std::size_t i = 0; i < tags.size(); ++i) {
    const std::string id = std::to_string(i + 1);
    const std::string score = tags[i] == "NULL" ? "NULL" : "CAST(" + tags[i] + " AS REAL)";
    db.exec("INSERT INTO t(rowid, embedding, tag, score) VALUES (" + id + ", '[1, " + id + "]', " + tags[i] + ", " +
            score + ")");
    db.exec("INSERT INTO p(id, tag, score) VALUES (" + id + ", " + tags[i] + ", " + score + ")");
  }
  const std::vector<std::string> operands = {"9007199254740992.0",
                                             "9007199254740993",
                                             "9007199254740992",
                                             "9007199254740993.0",
                                             "-9007199254740992.0",
                                             "-9223372036854775808",
                                             "-9223372036854775808.0",
                                             "9223372036854775807",
                                             "9223372036854775807.0",
                                             "1.5",
                                             "-1.5",
                                             "2.0",
                                             "'9007199254740993'",
                                             "1e300",
                                             "-1e300",
                                             "0.0"};
  const auto ids = [&](const std::string& sql) {
    std::string out;
    auto s = db.prepare(sql);
    while (s.step()) out += std::to_string(s.integer(0)) + ",";
    return out;
  };
  for (const char* column : {"tag", "score", "rowid"})
    for (const char* op : {"=", "!=", "<", "<=", ">", ">="})
      for (const std::string& x : operands) {
        if (std::string(column) == "rowid" && std::string(op) != "=") continue;  // rowid: = and IN only
        const std::string cond = std::string(column) + " " + op + " " + x;
        INFO(cond);
        const std::string want =
            ids("SELECT id FROM p WHERE " + std::string(column == std::string("rowid") ? "id" : column) + " " + op +
                " " + x + " ORDER BY id");
        CHECK(ids("SELECT rowid FROM t WHERE embedding MATCH '[1, 1]' AND k = 100 AND " + cond + " ORDER BY rowid") ==
              want);
      }
  for (const std::string& x : operands) {
    const std::string list = "(" + x + ", 1.5, 2)";
    INFO(list);
    CHECK(ids("SELECT rowid FROM t WHERE embedding MATCH '[1, 1]' AND k = 100 AND tag IN " + list +
              " ORDER BY rowid") == ids("SELECT id FROM p WHERE tag IN " + list + " ORDER BY id"));
    CHECK(ids("SELECT rowid FROM t WHERE embedding MATCH '[1, 1]' AND k = 100 AND score IN " + list +
              " ORDER BY rowid") == ids("SELECT id FROM p WHERE score IN " + list + " ORDER BY id"));
  }
}
