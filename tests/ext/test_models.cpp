// Models as tables use them: stored once per database (storage format 4), loaded only to
// encode, tables that outlive their model row, format 3 tables that carry their own copy,
// versions named as 'name@V', models in ATTACHed databases, and 'recode'.
#include <catch2/catch.hpp>

#include <cstdio>
#include <random>
#include <unistd.h>

#include "db.hpp"
#include "testing.hpp"

using bebr::testing::Db;

namespace {

std::string temp_path(const char* stem) {
  char path[64];
  std::snprintf(path, sizeof path, "/tmp/%s_XXXXXX", stem);
  const int fd = mkstemp(path);
  REQUIRE(fd >= 0);
  close(fd);
  std::remove(path);
  return path;
}

// 40 random 8-d vectors as JSON text in items(id, v); `shift` moves their mean, so that models
// trained on different shifts differ.
void fill(Db& db, float shift, std::uint64_t seed, const std::string& schema = "main") {
  std::mt19937_64 rng(seed);
  db.exec("CREATE TABLE IF NOT EXISTS " + schema + ".items(id INTEGER PRIMARY KEY, v BLOB)");
  for (int i = 0; i < 40; ++i)
    db.prepare("INSERT INTO " + schema + ".items(v) VALUES (?1)")
        .bind(1, bebr::testing::random_vector(rng, 8, shift))
        .step();
}

long long scalar(Db& db, const std::string& sql) {
  auto s = db.prepare(sql);
  REQUIRE(s.step());
  return s.integer(0);
}

std::string error_of(Db& db, const std::string& sql) {
  try {
    db.exec(sql);
  } catch (const std::exception& e) {
    return e.what();
  }
  return "";
}

// The kNN rows of `knn` (bound to :q at ?1) equal the brute-force SDC order of `brute` (also
// bound at ?1): rowid and distance, k rows each.
void same_rows(Db& db, const std::string& knn, const std::string& brute, const std::vector<float>& q) {
  auto a = db.prepare(knn);
  auto b = db.prepare(brute);
  a.bind(1, q);
  b.bind(1, q);
  int rows = 0;
  while (b.step()) {
    REQUIRE(a.step());
    CHECK(a.integer(0) == b.integer(0));
    CHECK(a.real(1) == Approx(b.real(1)).margin(1e-6));
    ++rows;
  }
  CHECK_FALSE(a.step());
  CHECK(rows == 5);
}

}  // namespace

TEST_CASE("a table stores a reference to its model, not the model", "[models]") {
  Db db;
  fill(db, 0.5f, 1);
  db.exec("SELECT bebr_train('m', 'SELECT v FROM items', '{\"bits\":2}')");
  db.exec("CREATE VIRTUAL TABLE docs USING bebr(v float[8], model='m')");
  CHECK(scalar(db, "SELECT count(*) FROM docs_info WHERE key = 'model'") == 0);
  CHECK(scalar(db, "SELECT value FROM docs_info WHERE key = 'format'") == 4);
  CHECK(scalar(db, "SELECT value FROM docs_info WHERE key = 'model_version'") == 1);
  CHECK(scalar(db, "SELECT value = (SELECT model_id FROM bebr_models) FROM docs_info WHERE key = 'model_id'") == 1);
  // No bigger than a table without a model: keys and short values only.
  CHECK(scalar(db, "SELECT max(length(value)) FROM docs_info") < 32);
  // A table without a model keeps format 3, which older builds read.
  db.exec("CREATE VIRTUAL TABLE plain USING bebr(v float[8], bits=2)");
  CHECK(scalar(db, "SELECT value FROM plain_info WHERE key = 'format'") == 3);
}

TEST_CASE("a table whose model row is deleted still reads and answers code queries", "[models]") {
  const std::string path = temp_path("bebr_models");
  {
    Db db(path);
    fill(db, 0.5f, 2);
    db.exec("SELECT bebr_train('m', 'SELECT v FROM items', '{\"bits\":2}')");
    db.exec("CREATE VIRTUAL TABLE docs USING bebr(v float[8], model='m')");
    db.exec("INSERT INTO docs(rowid, v) SELECT id, v FROM items");
    // The oracle: the codes as bebr_binarize makes them, in a plain table.
    db.exec("CREATE TABLE codes AS SELECT id, bebr_binarize(v, 'm') AS c FROM items");
    db.exec("CREATE TABLE saved AS SELECT * FROM bebr_models");
    db.exec("DELETE FROM bebr_models");
  }
  Db db(path);
  CHECK(scalar(db, "SELECT count(*) FROM docs") == 40);
  CHECK(scalar(db, "SELECT count(*) FROM docs JOIN items ON items.id = docs.rowid") == 40);
  // kNN with a code query: the brute-force SDC order over the saved codes.
  auto q = db.prepare("SELECT c FROM codes WHERE id = 7");
  REQUIRE(q.step());
  const std::vector<std::uint8_t> code = q.blob(0);
  auto a = db.prepare("SELECT rowid, distance FROM docs WHERE v MATCH ?1 AND k = 5");
  auto b = db.prepare("SELECT id, bebr_sdc_distance(?1, c) AS d FROM codes ORDER BY d, id LIMIT 5");
  a.bind(1, code);
  b.bind(1, code);
  for (int i = 0; i < 5; ++i) {
    REQUIRE(b.step());
    REQUIRE(a.step());
    CHECK(a.integer(0) == b.integer(0));
    CHECK(a.real(1) == Approx(b.real(1)).margin(1e-6));
  }
  // Encoding needs the model, and says which.
  const std::string err = error_of(db, "INSERT INTO docs(rowid, v) SELECT 100, v FROM items WHERE id = 1");
  CHECK_THAT(err, Catch::Contains("table docs codes with model 'm@1' (id ") &&
                      Catch::Contains("which is not in bebr_models any more"));
  // Restored, it encodes again.
  db.exec("INSERT INTO bebr_models SELECT * FROM saved");
  db.exec("INSERT INTO docs(rowid, v) SELECT 100, v FROM items WHERE id = 1");
  CHECK(scalar(db, "SELECT count(*) FROM docs") == 41);
  std::remove(path.c_str());
}

TEST_CASE("a format 3 table, which carries its own model BLOB, still opens and encodes", "[models]") {
  const std::string path = temp_path("bebr_format3");
  {
    Db db(path);
    fill(db, 0.5f, 3);
    db.exec("SELECT bebr_train('m', 'SELECT v FROM items', '{\"bits\":2}')");
    db.exec("CREATE VIRTUAL TABLE docs USING bebr(v float[8], model='m')");
    db.exec("INSERT INTO docs(rowid, v) SELECT id, v FROM items WHERE id <= 20");
    // The <name>_info of a table made before format 4: format 3, the model BLOB in it.
    db.exec("UPDATE docs_info SET value = '3' WHERE key = 'format'");
    db.exec("DELETE FROM docs_info WHERE key IN ('model_version', 'model_id', 'model_kind', 'code_dim')");
    db.exec("INSERT INTO docs_info(key, value) SELECT 'model', params FROM bebr_models");
    db.exec("DROP TABLE bebr_models");
  }
  Db db(path);
  db.exec("INSERT INTO docs(rowid, v) SELECT id, v FROM items WHERE id > 20");
  CHECK(scalar(db, "SELECT count(*) FROM docs") == 40);
  db.exec("INSERT INTO docs(docs) VALUES ('integrity-check')");
  // Its codes are those of the model it carries: a vector query finds the row itself first.
  auto s = db.prepare("SELECT rowid FROM docs WHERE v MATCH (SELECT v FROM items WHERE id = 33) AND k = 1");
  REQUIRE(s.step());
  CHECK(s.integer(0) == 33);
  std::remove(path.c_str());
}

TEST_CASE("a version is named as 'name@V', and errors name versions", "[models]") {
  Db db;
  fill(db, 0.5f, 4);
  db.exec("SELECT bebr_train('m', 'SELECT v FROM items', '{\"bits\":2}')");
  db.exec("CREATE VIRTUAL TABLE docs USING bebr(v float[8], model='m')");
  db.exec("INSERT INTO docs(rowid, v) SELECT id, v FROM items");
  // Retrained on other data: version 2, another model id.
  fill(db, 3.0f, 5);  // rows 41..80
  db.exec("SELECT bebr_train('m', 'SELECT v FROM items WHERE id > 40', '{\"bits\":2}')");
  REQUIRE(scalar(db, "SELECT count(DISTINCT model_id) FROM bebr_models WHERE name = 'm'") == 2);

  // The latest version's code against the table of version 1: the error names both versions.
  const std::string err =
      error_of(db, "SELECT rowid FROM docs WHERE v MATCH bebr_binarize('[1,2,3,4,5,6,7,8]', 'm') AND k = 3");
  CHECK_THAT(err, Catch::Contains("first has 'm@1' (id ") && Catch::Contains("second has 'm@2' (id "));
  // Named, version 1 codes the query as the table does: brute force over version 1's codes.
  std::mt19937_64 rng(9);
  const std::vector<float> q = bebr::testing::random_vector(rng, 8, 0.5f);
  same_rows(db, "SELECT rowid, distance FROM docs WHERE v MATCH bebr_binarize(?1, 'm@1') AND k = 5",
            "SELECT id, bebr_sdc_distance(bebr_binarize(?1, 'm@1'), bebr_binarize(v, 'm@1')) AS d FROM items "
            "WHERE id <= 40 ORDER BY d, id LIMIT 5",
            q);
  // 'm@2' is the latest; 'm@3' is not there; a version must be 1 or more.
  CHECK(scalar(db, "SELECT bebr_binarize('[1,2,3,4,5,6,7,8]', 'm@2') = bebr_binarize('[1,2,3,4,5,6,7,8]', 'm')") == 1);
  CHECK_THAT(error_of(db, "SELECT bebr_binarize('[1,2,3,4,5,6,7,8]', 'm@3')"),
             Catch::Equals("bebr_binarize: model 'm' has no version 3; its latest is version 2"));
  CHECK_THAT(error_of(db, "SELECT bebr_binarize('[1,2,3,4,5,6,7,8]', 'm@0')"),
             Catch::Equals("bebr_binarize: model 'm@0' names version 0; expected a version 1 or more"));
  // A table made on a named version keeps it.
  db.exec("CREATE VIRTUAL TABLE docs1 USING bebr(v float[8], model='m@1')");
  CHECK(scalar(db, "SELECT value FROM docs1_info WHERE key = 'model_version'") == 1);
  CHECK_THAT(error_of(db, "CREATE VIRTUAL TABLE docs9 USING bebr(v float[8], model='m@9')"),
             Catch::Contains("model 'm' has no version 9; its latest is version 2"));
}

TEST_CASE("a model stored in an ATTACHed database is used there", "[models]") {
  Db db;
  db.exec("ATTACH ':memory:' AS aux");
  fill(db, 0.5f, 6, "aux");
  // Trained in main, then moved to aux: main has no bebr_models left.
  db.exec("SELECT bebr_train('m', 'SELECT v FROM aux.items', '{\"bits\":2}')");
  db.exec("CREATE TABLE aux.bebr_models AS SELECT * FROM main.bebr_models");
  db.exec("DROP TABLE main.bebr_models");
  db.exec("CREATE VIRTUAL TABLE aux.docs USING bebr(v float[8], model='m')");
  db.exec("INSERT INTO aux.docs(rowid, v) SELECT id, v FROM aux.items");
  std::mt19937_64 rng(10);
  const std::vector<float> q = bebr::testing::random_vector(rng, 8, 0.5f);
  same_rows(db, "SELECT rowid, distance FROM aux.docs WHERE v MATCH ?1 AND k = 5",
            "SELECT id, bebr_sdc_distance(bebr_binarize(?1, 'm'), bebr_binarize(v, 'm')) AS d FROM aux.items "
            "ORDER BY d, id LIMIT 5",
            q);
  CHECK(scalar(db, "SELECT count(*) FROM aux.items WHERE bebr_decode(bebr_binarize(v, 'm')) IS NOT NULL") == 40);
  // A table in main on aux's model: the model row is copied into main, where the table finds it.
  db.exec("CREATE VIRTUAL TABLE docs USING bebr(v float[8], model='m')");
  CHECK(scalar(db, "SELECT count(*) FROM main.bebr_models WHERE name = 'm' AND version = 1") == 1);
  CHECK(scalar(db, "SELECT (SELECT model_id FROM main.bebr_models) = (SELECT model_id FROM aux.bebr_models)") == 1);
}
