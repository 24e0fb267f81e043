// bebr_train and bebr_models: storage, versions, lookups, persistence and every bad input.
#include <catch2/catch.hpp>

#include <cstdio>
#include <unistd.h>
#include <random>

#include "db.hpp"
#include "testing.hpp"

using bebr::testing::Db;
using bebr::testing::floats_of;

namespace {
void fill(Db& db, std::uint32_t dim, int rows, float shift, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  db.exec("CREATE TABLE IF NOT EXISTS items(id INTEGER PRIMARY KEY, v BLOB)");
  for (int i = 0; i < rows; ++i)
    db.prepare("INSERT INTO items(v) VALUES (?1)").bind(1, bebr::testing::random_vector(rng, dim, shift)).step();
}
}  // namespace

TEST_CASE("bebr_train stores a versioned center model whose mean is the data mean", "[train]") {
  Db db;
  db.exec("CREATE TABLE items(id INTEGER PRIMARY KEY, v BLOB)");
  db.exec("INSERT INTO items(v) VALUES ('[1, 2, 3]'), ('[3, 2, 1]'), ('[2, 5, -1]')");
  auto t = db.prepare("SELECT bebr_train('m', 'SELECT v FROM items', '{\"kind\":\"center\",\"bits\":2}')");
  REQUIRE(t.step());
  CHECK(t.text(0).find("\"name\":\"m\",\"version\":1,\"kind\":\"center\",\"dim\":3,\"bits\":2,\"rows\":3") != std::string::npos);

  auto row = db.prepare("SELECT version, kind, dim, bits, rows, options, hex(substr(params, 17)) FROM bebr_models");
  REQUIRE(row.step());
  CHECK(row.integer(0) == 1);
  CHECK(row.text(1) == "center");
  CHECK(row.integer(2) == 3);
  CHECK(row.integer(3) == 2);
  CHECK(row.integer(4) == 3);
  CHECK(row.text(5) == "{\"kind\":\"center\",\"bits\":2}");
  CHECK(row.text(6) == "00000040" "00004040" "0000803F");  // mean [2, 3, 1] as float32 LE

  // Retraining makes version 2, which bebr_binarize(v, 'm') then uses.
  db.exec("INSERT INTO items(v) VALUES ('[10, 10, 10]')");
  db.exec("SELECT bebr_train('m', 'SELECT v FROM items', '{\"bits\":1}')");
  auto v2 = db.prepare("SELECT max(version), count(*) FROM bebr_models WHERE name = 'm'");
  REQUIRE(v2.step());
  CHECK(v2.integer(0) == 2);
  CHECK(v2.integer(1) == 2);
  auto code = db.prepare("SELECT hex(substr(bebr_binarize('[1,1,1]', 'm'), 6, 1))");
  REQUIRE(code.step());
  CHECK(code.text(0) == "01");  // bits of version 2
}

TEST_CASE("center codes decode through the model and persist across reopen", "[train]") {
  char path[] = "/tmp/bebr_train_XXXXXX";
  const int fd = mkstemp(path);
  REQUIRE(fd >= 0);
  close(fd);
  std::vector<std::uint8_t> code;
  std::vector<float> decoded;
  {
    Db db(path);
    fill(db, 50, 40, 2.f, 1);
    db.exec("SELECT bebr_train('c', 'SELECT v FROM items', '{\"kind\":\"center\",\"bits\":4}')");
    auto s = db.prepare("SELECT bebr_binarize(v, 'c'), bebr_decode(bebr_binarize(v, 'c')), v FROM items LIMIT 1");
    REQUIRE(s.step());
    code = s.blob(0);
    decoded = floats_of(s.blob(1));
    const auto x = floats_of(s.blob(2));
    double err = 0, norm = 0;
    for (std::size_t j = 0; j < x.size(); ++j) {
      err += (x[j] - decoded[j]) * (x[j] - decoded[j]);
      norm += x[j] * x[j];
    }
    CHECK(err < 0.01 * norm);  // 4 bits: a close reconstruction of a shifted vector
  }
  {
    Db db(path);
    auto s = db.prepare("SELECT bebr_decode(?1)");
    s.bind(1, code);
    REQUIRE(s.step());
    CHECK(floats_of(s.blob(0)) == decoded);
  }
  {
    Db other;  // a database without the model
    CHECK(other.error_of("SELECT bebr_decode(x'" + std::string() + "')").find("bebr_decode") == 0);
    auto s = other.prepare("SELECT bebr_decode(?1)");
    s.bind(1, code);
    CHECK_THROWS_WITH(s.step(), Catch::Contains("bebr_decode: code was made by a trained model") &&
                                    Catch::Contains("no bebr_models table"));
  }
  std::remove(path);
}

TEST_CASE("bebr_train rejects bad input with clear errors and stores nothing", "[train]") {
  Db db;
  fill(db, 4, 5, 0.f, 2);
  db.exec("CREATE TABLE mixed(v); INSERT INTO mixed VALUES ('[1,2]'), ('[1,2,3]')");
  db.exec("CREATE TABLE nulls(v); INSERT INTO nulls VALUES ('[1,2]'), (NULL)");
  db.exec("CREATE TABLE junk(v); INSERT INTO junk VALUES (42)");
  db.exec("CREATE TABLE nan(v); INSERT INTO nan VALUES (x'0000C07F')");
  const std::pair<const char*, const char*> cases[] = {
      {"SELECT bebr_train(1, 'SELECT v FROM items')", "bebr_train: first argument (model name) must be text; got integer"},
      {"SELECT bebr_train('', 'SELECT v FROM items')", "model name must be 1..128 characters"},
      {"SELECT bebr_train('m', NULL)", "second argument (training query) must be text; got null"},
      {"SELECT bebr_train('m', 'SELECT v FROM nope')", "training query does not compile: no such table: nope"},
      {"SELECT bebr_train('m', 'SELECT v FROM items WHERE 0')", "training query returned no rows"},
      {"SELECT bebr_train('m', 'SELECT v FROM mixed')", "rows have mixed dimensions; row 1 has 2 floats, row 2 has 3"},
      {"SELECT bebr_train('m', 'SELECT v FROM nulls')", "training query row 2 is NULL"},
      {"SELECT bebr_train('m', 'SELECT v FROM junk')", "training query row 1 must be a vector; expected a float32 BLOB or JSON array text, got integer"},
      {"SELECT bebr_train('m', 'SELECT v FROM nan')", "training query row 1 has NaN or Inf at element 0"},
      {"SELECT bebr_train('m', 'SELECT v, id FROM items')", "must return exactly one column"},
      {"SELECT bebr_train('m', 'DELETE FROM items')", "must be read-only"},
      {"SELECT bebr_train('m', 'SELECT v FROM items; SELECT 1')", "must be a single statement"},
      {"SELECT bebr_train('m', 'SELECT v FROM items', 'nonsense')", "third argument must be a JSON object"},
      {"SELECT bebr_train('m', 'SELECT v FROM items', '[1]')", "third argument must be a JSON object"},
      {"SELECT bebr_train('m', 'SELECT v FROM items', '{\"kind\":\"pca\"}')", "unknown kind 'pca'; expected 'center'"},
      {"SELECT bebr_train('m', 'SELECT v FROM items', '{\"kind\":\"mlp\"}')", "'mlp' is not available"},
      {"SELECT bebr_train('m', 'SELECT v FROM items', '{\"bits\":9}')", "option bits must be an integer in 1..8; got 9"},
      {"SELECT bebr_train('m', 'SELECT v FROM items', '{\"bits\":1.5}')", "option bits must be an integer in 1..8; got 1.5"},
      {"SELECT bebr_train('m', 'SELECT v FROM items', '{\"epochs\":3}')", "unknown option 'epochs'"},
  };
  for (const auto& [sql, want] : cases) {
    INFO(sql);
    CHECK_THAT(db.error_of(sql), Catch::Contains(want));
  }
  CHECK(db.error_of("SELECT count(*) FROM bebr_models").find("no such table") != std::string::npos);
}

TEST_CASE("bebr_binarize with a model: unknown names and wrong dimensions", "[train]") {
  Db db;
  CHECK_THAT(db.error_of("SELECT bebr_binarize('[1,2,3,4]', 'nope')"),
             Catch::Equals("bebr_binarize: unknown model 'nope'; this database has no bebr_models table (train one with bebr_train)"));
  fill(db, 4, 5, 0.f, 3);
  db.exec("SELECT bebr_train('m4', 'SELECT v FROM items')");
  CHECK_THAT(db.error_of("SELECT bebr_binarize('[1,2,3,4]', 'nope')"),
             Catch::Equals("bebr_binarize: unknown model 'nope'; expected a name in bebr_models"));
  CHECK_THAT(db.error_of("SELECT bebr_binarize('[1,2,3]', 'm4')"),
             Catch::Equals("bebr_binarize: first argument has 3 floats; expected 4, the dimension of the model"));
  CHECK_THAT(db.error_of("SELECT bebr_sdc_distance(bebr_binarize('[1,2,3,4]', 'm4'), bebr_binarize('[1,2,3,4]'))"),
             Catch::Contains("codes differ in binarizer; first has center, second has raw"));
}

TEST_CASE("an interrupted training stores no model", "[train]") {
  Db db;
  fill(db, 8, 200, 0.f, 4);
  int calls = 0;
  sqlite3_progress_handler(db.get(), 100, [](void* p) { return ++*static_cast<int*>(p) > 5 ? 1 : 0; }, &calls);
  CHECK_THAT(db.error_of("SELECT bebr_train('m', 'SELECT v FROM items')"), Catch::Contains("interrupt"));
  sqlite3_progress_handler(db.get(), 0, nullptr, nullptr);
  CHECK(db.error_of("SELECT count(*) FROM bebr_models").find("no such table") != std::string::npos);
}
