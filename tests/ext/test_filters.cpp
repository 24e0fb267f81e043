// Filters of a kNN query that bebr applies inside its scan (docs/sql.md, "Filters"): IS [NOT]
// NULL, IS [NOT], LIKE, GLOB, an upper bound on the distance, and the comparisons SQLite hands
// over under a collation bebr does not apply. The oracle is SQLite itself: the same condition on
// a plain table of the same rows, ranked by brute-force SDC distances (bebr_sdc_distance of the
// two codes), ties by rowid. Each query must give the same k rows in the same order, at several
// k; before the filter was applied in the scan, SQLite checked it after the top k and a query
// gave fewer rows. The conditions SQLite never hands to a virtual table (NOT IN of a list, OR
// across columns or operators, NOT LIKE, a joined table's columns) are checked in the rewritten
// forms docs/sql.md shows, which do give k rows.
#include <catch2/catch.hpp>

#include <algorithm>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "db.hpp"
#include "testing.hpp"
#include "vtab_checks.hpp"

using bebr::testing::check_same;
using bebr::testing::Db;
using bebr::testing::rows_of;

namespace {

constexpr std::size_t kDim = 16;
constexpr int kRows = 300;
const char* const kBits = "2";

// The same rows in the bebr table v and the plain table p (with a column id = rowid), with
// NULLs in every metadata column. A table meta(id, lang) stands for another table to join.
void fill(Db& db, std::mt19937_64& rng) {
  db.exec("CREATE VIRTUAL TABLE v USING bebr(e float[16], tag text, g integer, score float, bits=2, metric=cosine)");
  db.exec("CREATE TABLE p(id INTEGER PRIMARY KEY, e BLOB, tag TEXT, g INTEGER, score REAL)");
  db.exec("CREATE TABLE meta(id INTEGER PRIMARY KEY, lang TEXT)");
  const std::vector<std::string> tags{"apple", "Apricot", "APPLE", "banana", "b_x", "b%y", "avocado", "Banana", "é"};
  auto ins_v = db.prepare("INSERT INTO v(rowid, e, tag, g, score) VALUES (?1, ?2, ?3, ?4, ?5)");
  auto ins_p = db.prepare("INSERT INTO p(id, e, tag, g, score) VALUES (?1, ?2, ?3, ?4, ?5)");
  auto ins_m = db.prepare("INSERT INTO meta(id, lang) VALUES (?1, ?2)");
  db.exec("BEGIN");
  for (int r = 1; r <= kRows; ++r) {
    const auto e = bebr::testing::random_vector(rng, kDim);
    const int t = static_cast<int>(rng() % (tags.size() + 3));  // about a quarter NULL
    const int g = static_cast<int>(rng() % 8);                  // 0..5, or NULL for 6 and 7
    const int s = static_cast<int>(rng() % 5);                  // NULL for 4
    for (auto* s_ : {&ins_v, &ins_p}) {
      auto& st = *s_;
      st.bind(1, static_cast<long long>(r)).bind(2, e);
      if (t < static_cast<int>(tags.size())) st.bind(3, tags[static_cast<std::size_t>(t)]);
      else sqlite3_bind_null(st.get(), 3);
      if (g < 6) st.bind(4, static_cast<long long>(g * 7));
      else sqlite3_bind_null(st.get(), 4);
      if (s < 4) st.bind(5, 0.25 * s);
      else sqlite3_bind_null(st.get(), 5);
      st.step();
      st.reset();
    }
    ins_m.bind(1, static_cast<long long>(r)).bind(2, std::string(rng() % 3 ? "en" : "de"));
    ins_m.step();
    ins_m.reset();
  }
  db.exec("COMMIT");
}

const std::string kSdc = std::string("bebr_sdc_distance(bebr_binarize(?1, ") + kBits + "), bebr_binarize(e, " +
                         kBits + "), 'cosine')";

// The oracle: the k nearest rows of p under `where` (a condition on p's columns), ties by rowid.
std::vector<std::pair<long long, double>> oracle(Db& db, const std::vector<float>& q, const std::string& where,
                                                 long long k) {
  auto s = db.prepare("SELECT id, " + kSdc + " AS d FROM p" + (where.empty() ? "" : " WHERE " + where) +
                      " ORDER BY d, id LIMIT ?2");
  s.bind(1, q).bind(2, k);
  return rows_of(s);
}

std::vector<std::pair<long long, double>> knn(Db& db, const std::vector<float>& q, const std::string& where,
                                              long long k) {
  auto s = db.prepare("SELECT rowid, distance FROM v WHERE e MATCH ?1 AND k = ?2" +
                      (where.empty() ? "" : " AND " + where));
  s.bind(1, q).bind(2, k);
  return rows_of(s);
}

// The same query without k, streamed nearest first and cut by LIMIT.
std::vector<std::pair<long long, double>> streamed(Db& db, const std::vector<float>& q, const std::string& where,
                                                   long long k) {
  auto s = db.prepare("SELECT rowid, distance FROM v WHERE e MATCH ?1" + (where.empty() ? "" : " AND " + where) +
                      " ORDER BY distance LIMIT ?2");
  s.bind(1, q).bind(2, k);
  return rows_of(s);
}

const std::vector<long long> kKs{1, 5, 10, 37, kRows + 3};

}  // namespace

// Long because it lists its conditions, one a line: one table and its twin serve them all.
TEST_CASE("null tests, IS, LIKE and GLOB filter inside the scan", "[filters]") {
  const std::uint64_t seed = 1717;
  std::mt19937_64 rng(seed);
  INFO("seed " << seed);
  Db db;
  fill(db, rng);
  // Each condition is written the same way for both tables: p has the same column names.
  const std::vector<std::string> conditions{
      "tag IS NULL",
      "tag IS NOT NULL",
      "g IS NULL",
      "g IS NOT NULL",
      "score IS NULL",
      "score IS NOT NULL AND tag IS NULL",
      "tag IS 'apple'",
      "tag IS NOT 'apple'",
      "g IS 14",
      "g IS NOT 14",
      "g IS 14.0",
      "score IS NOT 0.5",
      "rowid IS NOT NULL AND rowid IS NOT 3",
      "tag LIKE 'a%'",
      "tag LIKE 'A%'",
      "tag LIKE 'b_x'",
      "tag LIKE '%an%'",
      "tag LIKE 'É'",
      "tag LIKE '%'",
      "g LIKE '1%'",
      "score LIKE '0.5'",
      "rowid LIKE '1%'",
      "tag GLOB 'a*'",
      "tag GLOB '[AB]*'",
      "tag GLOB '*an*'",
      "tag GLOB 'b?x'",
      "tag LIKE 'a%' AND g IS NOT NULL AND rowid > 40",
      "tag GLOB 'B*' AND score IS NULL",
      "tag != 'apple'",
      "tag = 'APPLE' COLLATE NOCASE",
      "tag COLLATE NOCASE IN ('apple', 'Banana')",
      "tag > 'b' COLLATE NOCASE",
      "(tag = 'apple' OR tag = 'banana')",  // SQLite makes it tag IN (...)
  };
  for (int round = 0; round < 3; ++round) {
    const auto q = bebr::testing::random_vector(rng, kDim);
    for (const auto& c : conditions) {
      for (const long long k : kKs) {
        INFO("round " << round << " condition " << c << " k " << k);
        const auto want = oracle(db, q, c, k);
        check_same(knn(db, q, c, k), want);
        check_same(streamed(db, q, c, k), want);
      }
    }
  }
  SECTION("a bound parameter: IS ? with NULL is IS NULL, LIKE NULL matches nothing") {
    const auto q = bebr::testing::random_vector(rng, kDim);
    for (const char* c : {"tag IS ?3", "tag IS NOT ?3", "tag LIKE ?3", "tag GLOB ?3"}) {
      INFO(c);
      auto got = db.prepare("SELECT rowid, distance FROM v WHERE e MATCH ?1 AND k = ?2 AND " + std::string(c));
      got.bind(1, q).bind(2, 10LL);
      sqlite3_bind_null(got.get(), 3);
      auto want = db.prepare("SELECT id, " + kSdc + " AS d FROM p WHERE " +
                             std::string(c).replace(std::string(c).find("?3"), 2, "NULL") + " ORDER BY d, id LIMIT ?2");
      want.bind(1, q).bind(2, 10LL);
      check_same(rows_of(got), rows_of(want));
    }
  }
  SECTION("LIKE follows PRAGMA case_sensitive_like, where the SQLite build has it") {
    db.exec("PRAGMA case_sensitive_like = 1");
    const auto q = bebr::testing::random_vector(rng, kDim);
    for (const char* c : {"tag LIKE 'a%'", "tag LIKE 'A%'", "tag LIKE 'b%'"})
      for (const long long k : kKs) {
        INFO(c << " k " << k);
        check_same(knn(db, q, c, k), oracle(db, q, c, k));
      }
    db.exec("PRAGMA case_sensitive_like = 0");
  }
  SECTION("an application's own like() is the one applied") {
    // like(pattern, x) true exactly when x has as many characters as the pattern.
    REQUIRE(sqlite3_create_function(
                db.get(), "like", 2, SQLITE_UTF8, nullptr,
                [](sqlite3_context* ctx, int, sqlite3_value** argv) {
                  sqlite3_result_int(ctx, sqlite3_value_bytes(argv[0]) == sqlite3_value_bytes(argv[1]));
                },
                nullptr, nullptr) == SQLITE_OK);
    const auto q = bebr::testing::random_vector(rng, kDim);
    for (const long long k : kKs) {
      INFO("k " << k);
      check_same(knn(db, q, "tag LIKE 'xxxxx'", k), oracle(db, q, "tag LIKE 'xxxxx'", k));
    }
  }
}

TEST_CASE("an upper bound on the distance is a range search, with or without k", "[filters]") {
  const std::uint64_t seed = 2024;
  std::mt19937_64 rng(seed);
  INFO("seed " << seed);
  Db db;
  fill(db, rng);
  for (int round = 0; round < 4; ++round) {
    const auto q = bebr::testing::random_vector(rng, kDim);
    const auto all = oracle(db, q, "", kRows);
    // Bounds at a row's distance (ties across it at 2 bits), between two, and past every row.
    for (const std::size_t at : {std::size_t{0}, std::size_t{6}, std::size_t{40}, std::size_t{kRows - 1}}) {
      const double x = all[at].second;
      for (const char* op : {"<", "<="}) {
        const std::string bound = std::string("distance ") + op + " " + std::to_string(x);
        INFO("round " << round << " " << bound);
        const std::string sql = "SELECT rowid, distance FROM v WHERE e MATCH ?1 AND distance " + std::string(op) + " ?2";
        // The bound as a bound parameter, so it is the very double of the oracle.
        auto range = db.prepare(sql);
        range.bind(1, q).bind(2, x);
        auto want = db.prepare("SELECT id, d FROM (SELECT id, " + kSdc + " AS d FROM p) WHERE d " + op +
                               " ?2 ORDER BY d, id");
        want.bind(1, q).bind(2, x);
        const auto w = rows_of(want);
        check_same(rows_of(range), w);  // nearest first, as a kNN without k streams
        for (const long long k : kKs) {
          INFO("k " << k);
          auto with_k = db.prepare(sql + " AND k = ?3");
          with_k.bind(1, q).bind(2, x).bind(3, k);
          const auto n = static_cast<std::ptrdiff_t>(std::min<std::size_t>(static_cast<std::size_t>(k), w.size()));
          const std::vector<std::pair<long long, double>> wk(w.begin(), w.begin() + n);
          check_same(rows_of(with_k), wk);
          auto with_limit = db.prepare(sql + " ORDER BY distance LIMIT ?3");
          with_limit.bind(1, q).bind(2, x).bind(3, k);
          check_same(rows_of(with_limit), wk);
          // With a metadata filter too: the k nearest rows that pass both.
          auto both = db.prepare(sql + " AND k = ?3 AND tag LIKE 'a%'");
          both.bind(1, q).bind(2, x).bind(3, k);
          auto want_both = db.prepare("SELECT id, d FROM (SELECT id, tag, " + kSdc + " AS d FROM p) WHERE d " + op +
                                      " ?2 AND tag LIKE 'a%' ORDER BY d, id LIMIT ?3");
          want_both.bind(1, q).bind(2, x).bind(3, k);
          check_same(rows_of(both), rows_of(want_both));
        }
      }
    }
  }
  SECTION("a bound that is not a number is an error naming it") {
    auto s = db.prepare("SELECT rowid FROM v WHERE e MATCH ?1 AND k = 3 AND distance < 'near'");
    s.bind(1, bebr::testing::random_vector(rng, kDim));
    REQUIRE_THROWS_WITH(s.step(), Catch::Contains("filter on distance: expected a number; got text"));
  }
  SECTION("a NULL bound matches nothing, as distance < NULL is NULL") {
    auto s = db.prepare("SELECT rowid FROM v WHERE e MATCH ?1 AND distance < ?2");
    s.bind(1, bebr::testing::random_vector(rng, kDim));
    sqlite3_bind_null(s.get(), 2);
    CHECK(s.drain() == 0);
  }
}

TEST_CASE("conditions SQLite keeps to itself: the documented rewrites give k rows", "[filters]") {
  const std::uint64_t seed = 99;
  std::mt19937_64 rng(seed);
  INFO("seed " << seed);
  Db db;
  fill(db, rng);
  for (int round = 0; round < 3; ++round) {
    const auto q = bebr::testing::random_vector(rng, kDim);
    for (const long long k : kKs) {
      INFO("round " << round << " k " << k);
      // NOT IN of a list: never passed to a virtual table; as != terms it is pushed.
      const auto not_in = oracle(db, q, "tag NOT IN ('apple', 'banana')", k);
      check_same(knn(db, q, "tag != 'apple' AND tag != 'banana'", k), not_in);
      check_same(streamed(db, q, "tag NOT IN ('apple', 'banana')", k), not_in);
      // NOT LIKE: the streaming form.
      check_same(streamed(db, q, "tag NOT LIKE 'a%'", k), oracle(db, q, "tag NOT LIKE 'a%'", k));
      // OR across operators or columns: SQLite passes each branch on its own (SQLite 3.40
      // without MATCH and k, later ones with them), never the OR. With k the OR is checked after
      // the k nearest: the rows are those of the k nearest that pass it, on every version.
      const std::string either = "(tag IS NULL OR g = 14)";
      const auto near = oracle(db, q, "", k);
      std::vector<std::pair<long long, double>> after;
      auto passes = db.prepare("SELECT 1 FROM p WHERE id = ?1 AND " + either);
      for (const auto& r : near) {
        passes.bind(1, r.first);
        if (passes.step()) after.push_back(r);
        passes.reset();
      }
      check_same(knn(db, q, either, k), after);
      // The exact forms: a UNION of one kNN a branch, or the streaming form.
      const auto want = oracle(db, q, either, k);
      auto u = db.prepare(
          "SELECT rowid, distance FROM (SELECT rowid, distance FROM v WHERE e MATCH ?1 AND k = ?2 AND tag IS NULL "
          "UNION SELECT rowid, distance FROM v WHERE e MATCH ?1 AND k = ?2 AND g = 14) "
          "ORDER BY distance, rowid LIMIT ?2");
      u.bind(1, q).bind(2, k);
      check_same(rows_of(u), want);
      check_same(streamed(db, q, either, k), want);
      // A joined table's column: as rowid IN (SELECT ...) it is pushed; over the join, the
      // streaming form.
      auto lang = oracle(db, q, "id IN (SELECT id FROM meta WHERE lang = 'en')", k);
      check_same(knn(db, q, "rowid IN (SELECT id FROM meta WHERE lang = 'en')", k), lang);
      auto join = db.prepare(
          "SELECT v.rowid, distance FROM v JOIN meta ON meta.id = v.rowid "
          "WHERE e MATCH ?1 AND meta.lang = 'en' ORDER BY distance LIMIT ?2");
      join.bind(1, q).bind(2, k);
      check_same(rows_of(join), lang);
    }
  }
}

TEST_CASE("a column without a type compares across kinds exactly as SQLite does", "[filters]") {
  // SQLite orders NULL < numbers < text < blob, compares numbers as numbers (integer against
  // real exactly) and, with no affinity on either side, converts neither: '' is not 5 and '5'
  // is not 5. Each pushed condition must select the rows the same WHERE selects on a plain
  // table; k is the row count, so every matching row comes back.
  Db db;
  db.exec("CREATE VIRTUAL TABLE v USING bebr(e float[4], tag)");
  db.exec("CREATE TABLE p(id INTEGER PRIMARY KEY, tag)");
  const std::vector<std::string> stored{"''",   "'abc'", "'ABC'",  "'5'", "5",   "5.0",
                                        "2.5",  "-1",    "x'00'",  "x''", "NULL", "9007199254740993"};
  long long id = 0;
  db.exec("BEGIN");
  for (int copy = 0; copy < 2; ++copy)
    for (const auto& s : stored) {
      ++id;
      const std::string e = "'[" + std::to_string(id % 3) + ", 1, " + std::to_string(id % 5) + ", 2]'";
      db.exec("INSERT INTO v(rowid, e, tag) VALUES (" + std::to_string(id) + ", " + e + ", " + s + ")");
      db.exec("INSERT INTO p(id, tag) VALUES (" + std::to_string(id) + ", " + s + ")");
    }
  db.exec("COMMIT");
  const auto ids = [&](const std::string& sql) {
    std::vector<long long> out;
    auto s = db.prepare(sql);
    while (s.step()) out.push_back(s.integer(0));
    return out;
  };
  const std::vector<std::string> constants{"NULL", "5",     "5.0",   "2.5", "7",     "-3",
                                           "''",   "'abc'", "'5'",   "'b'", "x'00'", "x''",
                                           "x'ff'", "9007199254740992.0", "9007199254740993"};
  std::vector<std::string> conditions;
  for (const char* op : {"=", "!=", "<", "<=", ">", ">=", "IS", "IS NOT"})
    for (const auto& c : constants) conditions.push_back(std::string("tag ") + op + " " + c);
  for (const char* in : {"(5, '')", "('abc', x'00', 2.5)", "(NULL, 5.0)", "('5', -1)", "(x'', '', 9007199254740993)"})
    conditions.push_back(std::string("tag IN ") + in);
  // Under another collation, text against text follows it and other kinds compare as before.
  for (const char* c : {"tag = 'abc' COLLATE NOCASE", "tag > 'abc' COLLATE NOCASE", "tag <= 5 COLLATE NOCASE",
                        "tag COLLATE NOCASE IN ('ABC', 5)", "tag != x'00' COLLATE NOCASE"})
    conditions.emplace_back(c);
  const std::string n = std::to_string(id);
  for (const auto& c : conditions) {
    INFO(c);
    const auto want = ids("SELECT id FROM p WHERE " + c + " ORDER BY id");
    const auto got = ids("SELECT rowid FROM v WHERE e MATCH '[1, 1, 1, 1]' AND k = " + n + " AND " + c +
                         " ORDER BY rowid");
    CHECK(got == want);
    // Without k, streamed nearest first and cut by LIMIT.
    const auto streamed = ids("SELECT rowid FROM (SELECT rowid FROM v WHERE e MATCH '[1, 1, 1, 1]' AND " + c +
                              " ORDER BY distance LIMIT " + n + ") ORDER BY rowid");
    CHECK(streamed == want);
  }
  SECTION("bound parameters of each kind") {
    for (const char* op : {"=", "<", ">=", "IS NOT"}) {
      const std::string c = std::string("tag ") + op + " ?1";
      for (int kind = 0; kind < 5; ++kind) {
        INFO(c << " kind " << kind);
        auto w = db.prepare("SELECT id FROM p WHERE " + c + " ORDER BY id");
        auto g = db.prepare("SELECT rowid FROM v WHERE e MATCH '[1, 1, 1, 1]' AND k = " + n + " AND " + c +
                            " ORDER BY rowid");
        for (auto* s : {&w, &g}) {
          if (kind == 0) s->bind(1, 5LL);
          else if (kind == 1) s->bind(1, 5.0);
          else if (kind == 2) s->bind(1, std::string(""));
          else if (kind == 3) s->bind(1, std::vector<std::uint8_t>{0});
          else sqlite3_bind_null(s->get(), 1);
        }
        std::vector<long long> a, b;
        while (w.step()) a.push_back(w.integer(0));
        while (g.step()) b.push_back(g.integer(0));
        CHECK(b == a);
      }
    }
  }
}
