// bebr_train and bebr_models: storage, versions, lookups, persistence and every bad input.
#include <catch2/catch.hpp>

#include <cstdio>
#include <random>
#include <unistd.h>

#include "db.hpp"
#include "testing.hpp"

using bebr::testing::Db;
using bebr::testing::fill_items;
using bebr::testing::floats_of;

namespace {
// A kNN query and its brute-force oracle, both bound to x: the same rowids and distances, and
// the kNN gives no more rows than the oracle.
void same_neighbours(Db& db, const std::string& knn_sql, const std::string& brute_sql, const std::vector<float>& x) {
  auto knn = db.prepare(knn_sql);
  auto brute = db.prepare(brute_sql);
  knn.bind(1, x);
  brute.bind(1, x);
  while (brute.step()) {
    REQUIRE(knn.step());
    CHECK(knn.integer(0) == brute.integer(0));
    CHECK(knn.real(1) == Approx(brute.real(1)).margin(1e-6));
  }
  CHECK_FALSE(knn.step());
}
}  // namespace

TEST_CASE("bebr_train stores a versioned center model whose mean is the data mean", "[train]") {
  Db db;
  db.exec("CREATE TABLE items(id INTEGER PRIMARY KEY, v BLOB)");
  db.exec("INSERT INTO items(v) VALUES ('[1, 2, 3]'), ('[3, 2, 1]'), ('[2, 5, -1]')");
  auto t = db.prepare("SELECT bebr_train('m', 'SELECT v FROM items', '{\"kind\":\"center\",\"bits\":2}')");
  REQUIRE(t.step());
  CHECK(t.text(0).find("\"name\":\"m\",\"version\":1,\"kind\":\"center\",\"dim\":3,\"bits\":2,\"rows\":3") !=
        std::string::npos);

  auto row = db.prepare("SELECT version, kind, dim, bits, rows, options, hex(substr(params, 17)) FROM bebr_models");
  REQUIRE(row.step());
  CHECK(row.integer(0) == 1);
  CHECK(row.text(1) == "center");
  CHECK(row.integer(2) == 3);
  CHECK(row.integer(3) == 2);
  CHECK(row.integer(4) == 3);
  CHECK(row.text(5) == "{\"kind\":\"center\",\"bits\":2}");
  CHECK(row.text(6) ==
        "00000040"
        "00004040"
        "0000803F");  // mean [2, 3, 1] as float32 LE

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
    fill_items(db, 50, 40, 2.f, 1);
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
  fill_items(db, 4, 5, 0.f, 2);
  db.exec("CREATE TABLE mixed(v); INSERT INTO mixed VALUES ('[1,2]'), ('[1,2,3]')");
  db.exec("CREATE TABLE nulls(v); INSERT INTO nulls VALUES ('[1,2]'), (NULL)");
  db.exec("CREATE TABLE junk(v); INSERT INTO junk VALUES (42)");
  db.exec("CREATE TABLE nan(v); INSERT INTO nan VALUES (x'0000C07F')");
  const std::pair<const char*, const char*> cases[] = {
      {"SELECT bebr_train(1, 'SELECT v FROM items')",
       "bebr_train: first argument (model name) must be text; got integer"},
      {"SELECT bebr_train('', 'SELECT v FROM items')", "model name must be 1..128 characters"},
      {"SELECT bebr_train('m', NULL)", "second argument (training query) must be text; got null"},
      {"SELECT bebr_train('m', 'SELECT v FROM nope')", "training query does not compile: no such table: nope"},
      {"SELECT bebr_train('m', 'SELECT v FROM items WHERE 0')", "training query returned no rows"},
      {"SELECT bebr_train('m', 'SELECT v FROM mixed')", "rows have mixed dimensions; row 1 has 2 floats, row 2 has 3"},
      {"SELECT bebr_train('m', 'SELECT v FROM nulls')", "training query row 2 is NULL"},
      {"SELECT bebr_train('m', 'SELECT v FROM junk')",
       "training query row 1 must be a vector; expected a float32 BLOB or JSON array text, got integer"},
      {"SELECT bebr_train('m', 'SELECT v FROM nan')", "training query row 1 has NaN or Inf at element 0"},
      {"SELECT bebr_train('m', 'SELECT v, id FROM items')", "must return exactly one column"},
      {"SELECT bebr_train('m', 'DELETE FROM items')", "must be read-only"},
      {"SELECT bebr_train('m', 'SELECT v FROM items; SELECT 1')", "must be a single statement"},
      {"SELECT bebr_train('m', 'SELECT v FROM items', 'nonsense')", "third argument must be a JSON object"},
      {"SELECT bebr_train('m', 'SELECT v FROM items', '[1]')", "third argument must be a JSON object"},
      {"SELECT bebr_train('m', 'SELECT v FROM items', '{\"kind\":\"pca\"}')",
       "unknown kind 'pca'; expected 'center' or 'mlp'"},
      {"SELECT bebr_train('m', 'SELECT v FROM items', '{\"bits\":9}')",
       "option bits must be an integer in 1..8; got 9"},
      {"SELECT bebr_train('m', 'SELECT v FROM items', '{\"bits\":1.5}')",
       "option bits must be an integer in 1..8; got 1.5"},
      {"SELECT bebr_train('m', 'SELECT v FROM items', '{\"epochs\":3}')", "option epochs applies to kind 'mlp' only"},
      {"SELECT bebr_train('m', 'SELECT v FROM items', '{\"colour\":3}')", "unknown option 'colour'"},
      {"SELECT bebr_train('m', 'SELECT v FROM items', '{\"progress\":1}')",
       "option progress must be true or false; got 1"},
  };
  for (const auto& [sql, want] : cases) {
    INFO(sql);
    CHECK_THAT(db.error_of(sql), Catch::Contains(want));
  }
  CHECK(db.error_of("SELECT count(*) FROM bebr_models").find("no such table") != std::string::npos);
}

TEST_CASE("bebr_binarize with a model: unknown names and wrong dimensions", "[train]") {
  Db db;
  CHECK_THAT(
      db.error_of("SELECT bebr_binarize('[1,2,3,4]', 'nope')"),
      Catch::Equals(
          "bebr_binarize: unknown model 'nope'; this database has no bebr_models table (train one with bebr_train)"));
  fill_items(db, 4, 5, 0.f, 3);
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
  fill_items(db, 8, 200, 0.f, 4);
  int calls = 0;
  sqlite3_progress_handler(
      db.get(), 100, [](void* p) { return ++*static_cast<int*>(p) > 5 ? 1 : 0; }, &calls);
  CHECK_THAT(db.error_of("SELECT bebr_train('m', 'SELECT v FROM items')"), Catch::Contains("interrupt"));
  sqlite3_progress_handler(db.get(), 0, nullptr, nullptr);
  CHECK(db.error_of("SELECT count(*) FROM bebr_models").find("no such table") != std::string::npos);
}

// One trained model walked through every use in order (storage, codes, a table, export,
// import): training it once per step would multiply the test's time.
TEST_CASE("bebr_train kind mlp: the stored model, its codes, a bebr table, export and import", "[train][mlp]") {
  Db db;
  fill_items(db, 16, 300, 0.5f, 11);
  auto t = db.prepare(
      "SELECT bebr_train('m', 'SELECT v FROM items', "
      "'{\"kind\":\"mlp\",\"bits\":2,\"dim\":24,\"hidden\":8,\"epochs\":3,\"threads\":1,\"progress\":false}')");
  REQUIRE(t.step());
  CHECK_THAT(t.text(0), Catch::Contains("\"kind\":\"mlp\",\"dim\":16,\"bits\":2,\"rows\":300") &&
                            Catch::Contains("\"code_dim\":24"));
  auto row = db.prepare(
      "SELECT kind, dim, bits, rows, json_extract(options, '$.dim'), json_extract(options, '$.hidden'), "
      "json_extract(options, '$.epochs'), json_array_length(history, '$.loss'), "
      "json_extract(history, '$.rows'), model_id FROM bebr_models WHERE name = 'm'");
  REQUIRE(row.step());
  CHECK(row.text(0) == "mlp");
  CHECK(row.integer(1) == 16);
  CHECK(row.integer(2) == 2);
  CHECK(row.integer(3) == 300);
  CHECK(row.integer(4) == 24);
  CHECK(row.integer(5) == 8);
  CHECK(row.integer(6) == 3);
  CHECK(row.integer(7) == 3);  // the loss of every epoch
  CHECK(row.integer(8) == 300);
  const long long id = row.integer(9);

  // Codes: 24 dimensions, 2 planes, binarizer 2, the model's id; decoded to 24 floats.
  auto code = db.prepare(
      "SELECT length(c), hex(substr(c, 5, 4)), bebr_decode(c) FROM (SELECT bebr_binarize(v, 'm') AS c "
      "FROM items LIMIT 1)");
  REQUIRE(code.step());
  CHECK(code.integer(0) == 16 + 8 + 2 * 8);
  CHECK(code.text(1) == "01020200");
  CHECK(floats_of(code.blob(2)).size() == 24);
  auto cid = db.prepare("SELECT bebr_binarize(v, 'm') FROM items LIMIT 1");
  REQUIRE(cid.step());
  const auto* c = static_cast<const unsigned char*>(sqlite3_column_blob(cid.get(), 0));
  CHECK((c[12] | c[13] << 8 | c[14] << 16 | static_cast<long long>(c[15]) << 24) == id);

  // A bebr table with the model: kNN equals brute-force SDC over bebr_binarize's codes.
  db.exec("CREATE VIRTUAL TABLE t USING bebr(v float[16], model=m)");
  db.exec("INSERT INTO t(rowid, v) SELECT id, v FROM items");
  std::mt19937_64 rng(12);
  for (int q = 0; q < 10; ++q) {
    const std::vector<float> x = bebr::testing::random_vector(rng, 16, 0.5f);
    same_neighbours(db, "SELECT rowid, distance FROM t WHERE v MATCH ?1 AND k = 7",
                    "SELECT id, bebr_sdc_distance(bebr_binarize(?1, 'm'), bebr_binarize(v, 'm')) AS d "
                    "FROM items ORDER BY d, id LIMIT 7",
                    x);
  }
  CHECK_THAT(db.error_of("CREATE VIRTUAL TABLE t24 USING bebr(v float[24], model=m)"),
             Catch::Contains("model 'm@1' has dimension 16; the table's vector column has 24"));

  // Export the BLOB, import it into another database: the same bytes, id and codes.
  auto params = db.prepare("SELECT params FROM bebr_models WHERE name = 'm'");
  REQUIRE(params.step());
  const std::vector<std::uint8_t> blob = params.blob(0);
  Db other;
  auto imp = other.prepare("SELECT bebr_import_model('shipped', ?1)");
  imp.bind(1, blob);
  REQUIRE(imp.step());
  CHECK(imp.integer(0) == 1);
  auto back = other.prepare(
      "SELECT params = ?1, model_id, kind, dim, bits, json_extract(options, '$.imported') FROM bebr_models");
  back.bind(1, blob);
  REQUIRE(back.step());
  CHECK(back.integer(0) == 1);
  CHECK(back.integer(1) == id);
  CHECK(back.text(2) == "mlp");
  CHECK(back.integer(3) == 16);
  CHECK(back.integer(4) == 2);
  CHECK(back.integer(5) == 1);
  for (int q = 0; q < 5; ++q) {
    const std::vector<float> x = bebr::testing::random_vector(rng, 16, 0.5f);
    auto here = db.prepare("SELECT bebr_binarize(?1, 'm')");
    auto there = other.prepare("SELECT bebr_binarize(?1, 'shipped')");
    here.bind(1, x);
    there.bind(1, x);
    REQUIRE(here.step());
    REQUIRE(there.step());
    CHECK(here.blob(0) == there.blob(0));
  }
  std::vector<std::uint8_t> bad = blob;
  bad.resize(bad.size() - 4);
  imp.reset();
  imp.bind(1, bad);
  CHECK_THROWS_WITH(imp.step(), Catch::Contains("bebr_import_model: corrupt model BLOB: wrong length"));
  CHECK_THAT(other.error_of("SELECT bebr_import_model('x', 'text')"),
             Catch::Contains("second argument must be a model BLOB (bebr_models.params); got text"));
  CHECK_THAT(other.error_of("SELECT bebr_import_model(NULL, x'00')"),
             Catch::Contains("first argument (model name) must be text"));
  CHECK_THAT(other.error_of("SELECT bebr_import_model('x', x'00')"), Catch::Contains("corrupt model BLOB: bad magic"));
  CHECK_THAT(other.error_of("SELECT bebr_import_model('x', x'')"), Catch::Contains("corrupt model BLOB: bad magic"));
  CHECK_THAT(other.error_of("SELECT bebr_import_model('', x'00')"),
             Catch::Contains("model name must be 1..128 characters"));
  CHECK_THAT(other.error_of("SELECT bebr_import_model('x', NULL)"),
             Catch::Contains("must be a model BLOB (bebr_models.params); got null"));
}

TEST_CASE("bebr_train kind mlp: bad options", "[train][mlp]") {
  Db db;
  fill_items(db, 8, 20, 0.f, 13);
  db.exec("CREATE TABLE one(v BLOB); INSERT INTO one SELECT v FROM items LIMIT 1");
  const std::pair<const char*, const char*> cases[] = {
      {"{\"kind\":\"mlp\",\"bits\":0}", "option bits must be an integer in 1..8; got 0"},
      {"{\"kind\":\"mlp\",\"bits\":9}", "option bits must be an integer in 1..8; got 9"},
      {"{\"kind\":\"mlp\",\"hidden\":0}", "option hidden must be an integer in 1..16384; got 0"},
      {"{\"kind\":\"mlp\",\"dim\":0}", "option dim must be an integer in 1..16384; got 0"},
      {"{\"kind\":\"mlp\",\"epochs\":\"many\"}", "option epochs must be an integer in 1..100000; got many"},
      {"{\"kind\":\"mlp\",\"batch\":2}", "option batch must be an integer in 4..65536; got 2"},
      {"{\"kind\":\"mlp\",\"lr\":0}", "option lr must be a number in (0, 1]; got 0"},
      {"{\"kind\":\"mlp\",\"lr\":2}", "option lr must be a number in (0, 1]; got 2"},
      {"{\"kind\":\"mlp\",\"tau\":-1}", "option tau must be a number in (0, 10]; got -1"},
      {"{\"kind\":\"mlp\",\"seed\":-1}", "option seed must be an integer"},
      {"{\"kind\":\"mlp\",\"sample\":1}", "option sample must be an integer in 2.."},
      {"{\"kind\":\"mlp\",\"similarity\":0}", "options similarity and contrastive are both 0"},
      {"{\"kind\":\"mlp\",\"hiden\":8}", "unknown option 'hiden'"},
      {"{\"kind\":\"MLP\"}", "unknown kind 'MLP'"},
  };
  for (const auto& [options, want] : cases) {
    INFO(options);
    auto s = db.prepare("SELECT bebr_train('m', 'SELECT v FROM items', ?1)");
    s.bind(1, std::string(options));
    CHECK_THROWS_WITH(s.step(), Catch::Contains(want));
  }
  CHECK_THAT(db.error_of("SELECT bebr_train('m', 'SELECT v FROM one', '{\"kind\":\"mlp\"}')"),
             Catch::Contains("training query returned 1 row; kind 'mlp' needs at least 2 vectors"));
  CHECK_THAT(db.error_of("SELECT bebr_train('m', 'SELECT v FROM items WHERE 0', '{\"kind\":\"mlp\"}')"),
             Catch::Contains("training query returned no rows"));
  CHECK(db.error_of("SELECT count(*) FROM bebr_models").find("no such table") != std::string::npos);
}

TEST_CASE("compatible versions: v2 query codes search a table of v1 codes, others are refused", "[train][mlp]") {
  Db db;
  // Old vectors (16-d) and a simulated upgrade of each: another projection (12-d) plus noise.
  std::mt19937_64 rng(15);
  std::normal_distribution<float> noise(0.f, 0.02f);
  db.exec("CREATE TABLE items(id INTEGER PRIMARY KEY, vo BLOB, vn BLOB)");
  const auto upgrade = [&](const std::vector<float>& old) {
    std::vector<float> y(12);
    for (std::size_t j = 0; j < 12; ++j)
      y[j] = (j % 2 ? -1.f : 1.f) * old[(j * 5 + 3) % 16] + 0.5f * old[j] + noise(rng);
    return y;
  };
  for (int i = 0; i < 300; ++i) {
    const std::vector<float> old = bebr::testing::random_vector(rng, 16, 0.3f);
    db.prepare("INSERT INTO items(vo, vn) VALUES (?1, ?2)").bind(1, old).bind(2, upgrade(old)).step();
  }
  db.exec("SELECT bebr_train('v1', 'SELECT vo FROM items', '{\"kind\":\"mlp\",\"epochs\":3,\"progress\":false}')");
  auto v2 = db.prepare(
      "SELECT bebr_train('v2', 'SELECT vn, vo FROM items', "
      "'{\"kind\":\"mlp\",\"compatible_with\":\"v1\",\"hidden\":8,\"epochs\":3,\"progress\":false}')");
  REQUIRE(v2.step());
  CHECK_THAT(v2.text(0), Catch::Contains("\"dim\":12,\"bits\":1"));
  auto rec = db.prepare(
      "SELECT json_extract(b.options, '$.compatible_with'), json_extract(b.options, '$.compatible_id') = a.model_id, "
      "b.dim FROM bebr_models a, bebr_models b WHERE a.name = 'v1' AND b.name = 'v2'");
  REQUIRE(rec.step());
  CHECK(rec.text(0) == "v1");
  CHECK(rec.integer(1) == 1);
  CHECK(rec.integer(2) == 12);

  db.exec("CREATE VIRTUAL TABLE t USING bebr(v float[16], model=v1)");
  db.exec("INSERT INTO t(rowid, v) SELECT id, vo FROM items");
  for (int q = 0; q < 8; ++q) {
    const std::vector<float> x = upgrade(bebr::testing::random_vector(rng, 16, 0.3f));
    same_neighbours(db, "SELECT rowid, distance FROM t WHERE v MATCH bebr_binarize(?1, 'v2') AND k = 5",
                    "SELECT id, bebr_sdc_distance(bebr_binarize(?1, 'v2'), bebr_binarize(vo, 'v1')) AS d "
                    "FROM items ORDER BY d, id LIMIT 5",
                    x);
  }
  // A model trained on its own, with the same code shape, is not compatible: refused by name.
  db.exec(
      "SELECT bebr_train('v3', 'SELECT vo FROM items', "
      "'{\"kind\":\"mlp\",\"epochs\":1,\"seed\":9,\"progress\":false}')");
  CHECK_THAT(
      db.error_of("SELECT rowid FROM t WHERE v MATCH (SELECT bebr_binarize(vo, 'v3') FROM items LIMIT 1) AND k = 5"),
      Catch::Contains("was made by model 'v3@1' (id ") && Catch::Contains("this table's model 'v1@1' (id ") && Catch::Contains("not recorded as compatible with this table's model"));
  CHECK_THAT(db.error_of("SELECT bebr_sdc_distance(bebr_binarize(vo, 'v3'), bebr_binarize(vo, 'v1')) FROM items"),
             Catch::Contains("codes differ in model"));

  db.exec("SELECT bebr_train('c1', 'SELECT vo FROM items')");
  const std::pair<const char*, const char*> cases[] = {
      {"'SELECT vn, vo FROM items', '{\"kind\":\"mlp\",\"compatible_with\":\"nope\"}'", "unknown model 'nope'"},
      {"'SELECT vn, vo FROM items', '{\"kind\":\"mlp\",\"compatible_with\":\"c1\"}'",
       "compatible_with names model 'c1', a center model; expected an mlp model"},
      {"'SELECT vn, vo FROM items', '{\"kind\":\"mlp\",\"compatible_with\":\"v2\"}'",
       "which is itself compatible with another model"},
      {"'SELECT vn, vo FROM items', '{\"kind\":\"mlp\",\"compatible_with\":5}'",
       "option compatible_with must be a model name (text); got 5"},
      {"'SELECT vn, vo FROM items', '{\"compatible_with\":\"v1\"}'",
       "option compatible_with applies to kind 'mlp' only"},
      {"'SELECT vn FROM items', '{\"kind\":\"mlp\",\"compatible_with\":\"v1\"}'",
       "must return two columns (each item's new vector, then its old vector); it returns 1"},
      {"'SELECT vn, vn FROM items', '{\"kind\":\"mlp\",\"compatible_with\":\"v1\"}'",
       "the training query's old vectors have 12 floats; model 'v1' takes 16"},
      {"'SELECT vn, NULL FROM items', '{\"kind\":\"mlp\",\"compatible_with\":\"v1\"}'",
       "training query row 1 (old vector) is NULL"},
      {"'SELECT vn, vo FROM items', '{\"kind\":\"mlp\",\"compatible_with\":\"v1\",\"bits\":2}'",
       "bits=2 but compatible_with names model 'v1', which codes with 1 bits"},
      {"'SELECT vn, vo FROM items', '{\"kind\":\"mlp\",\"compatible_with\":\"v1\",\"dim\":8}'",
       "dim=8 but compatible_with names model 'v1', whose codes have 16 dimensions"},
  };
  for (const auto& [args, want] : cases) {
    INFO(args);
    CHECK_THAT(db.error_of(std::string("SELECT bebr_train('v4', ") + args + ")"), Catch::Contains(want));
  }
  auto none = db.prepare("SELECT count(*) FROM bebr_models WHERE name = 'v4'");
  REQUIRE(none.step());
  CHECK(none.integer(0) == 0);
}

TEST_CASE("bebr_train's JSON is valid, and odd names come back as given", "[train]") {
  Db db;
  fill_items(db, 8, 30, 0.f, 16);
  const std::string name = "we\"ird\nname\\";
  auto t = db.prepare(
      "SELECT r, json_valid(r), json_extract(r, '$.name'), json_extract(r, '$.kind') FROM "
      "(SELECT bebr_train(?1, 'SELECT v FROM items') AS r)");
  t.bind(1, name);
  REQUIRE(t.step());
  CHECK(t.integer(1) == 1);
  CHECK(t.text(2) == name);
  CHECK(t.text(3) == "center");
  auto stored = db.prepare("SELECT name, options FROM bebr_models");
  REQUIRE(stored.step());
  CHECK(stored.text(0) == name);
  CHECK(stored.text(1) == "{\"kind\":\"center\",\"bits\":1}");

  // mlp: what it returns, and stores as options and history, is valid JSON; numbers keep nine
  // significant digits and integral ones read as integers (similarity 1, not 1.0).
  auto m = db.prepare(
      "SELECT bebr_train(?1, 'SELECT v FROM items', "
      "'{\"kind\":\"mlp\",\"epochs\":2,\"tau\":0.125,\"progress\":false}')");
  m.bind(1, name + "2");
  REQUIRE(m.step());
  const std::string result = m.text(0);
  auto check = db.prepare(
      "SELECT json_valid(?1), json_valid(options), json_valid(history), json_extract(?1, '$.history') = history, "
      "json_extract(?1, '$.name'), typeof(json_extract(options, '$.similarity')), "
      "json_extract(options, '$.tau'), json_extract(options, '$.lr'), json_array_length(history, '$.loss'), "
      "typeof(json_extract(history, '$.loss[0]')) FROM bebr_models WHERE name = ?2");
  check.bind(1, result).bind(2, name + "2");
  REQUIRE(check.step());
  CHECK(check.integer(0) == 1);
  CHECK(check.integer(1) == 1);
  CHECK(check.integer(2) == 1);
  CHECK(check.integer(3) == 1);
  CHECK(check.text(4) == name + "2");
  CHECK(check.text(5) == "integer");
  CHECK(check.real(6) == 0.125);
  CHECK(check.real(7) == 0.001);
  CHECK(check.integer(8) == 2);
  CHECK(check.text(9) == "real");
  CHECK(result.find("\"tau\"") == std::string::npos);  // the result names the model; options hold tau
  auto opts = db.prepare("SELECT options FROM bebr_models WHERE name = ?1");
  opts.bind(1, name + "2");
  REQUIRE(opts.step());
  CHECK_THAT(opts.text(0), Catch::Contains("\"lr\":0.001,\"tau\":0.125,\"similarity\":1,\"contrastive\":0,"));
}
