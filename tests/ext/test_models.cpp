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

namespace {

using Rows = std::vector<std::pair<long long, double>>;

// The rows of `sql` with :q bound at ?1 to `q`: (rowid, distance).
Rows rows_of(Db& db, const std::string& sql, const std::vector<float>& q) {
  auto s = db.prepare(sql);
  s.bind(1, q);
  Rows out;
  while (s.step()) out.emplace_back(s.integer(0), s.real(1));
  return out;
}

// The kNN queries a re-coded table must answer as a fresh one: a vector query, a code query
// under the latest version ('m'), rescore, and a filter, each at k = 5 and k = every row.
std::vector<std::string> recode_queries(const std::string& table) {
  std::vector<std::string> out;
  for (const char* k : {"5", "1000"}) {
    const std::string head = "SELECT rowid, distance FROM " + table + " WHERE v MATCH ";
    out.push_back(head + "?1 AND k = " + k);
    out.push_back(head + "bebr_binarize(?1, 'm') AND k = " + k);
    out.push_back(head + "?1 AND k = " + k + " AND rescore = 20");
    out.push_back(head + "bebr_binarize(?1, 'm') AND k = " + k + " AND tag = 'a'");
  }
  return out;
}

void same_as_fresh(Db& db, const std::string& table, Db& fresh_db, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  for (int round = 0; round < 3; ++round) {
    const std::vector<float> q = bebr::testing::random_vector(rng, 8, round ? 3.0f : 0.5f);
    const auto want = recode_queries("fresh");
    const auto got = recode_queries(table);
    for (std::size_t i = 0; i < got.size(); ++i) {
      INFO(got[i]);
      const Rows w = rows_of(fresh_db, want[i], q);
      CHECK(!w.empty());
      CHECK(rows_of(db, got[i], q) == w);
    }
  }
}

}  // namespace

TEST_CASE("'recode' codes a table again from its vectors: it answers as a fresh table of the new version",
          "[models]") {
  const std::string path = temp_path("bebr_recode");
  {
    Db db(path);
    fill(db, 0.5f, 11);  // items 1..40
    fill(db, 3.0f, 12);  // items 41..80
    db.exec("SELECT bebr_train('m', 'SELECT v FROM items WHERE id <= 40', '{\"bits\":2}')");
    // Ranged rows 1..80 and listed ones at scattered rowids, in chunks of 64, some deleted.
    db.exec("CREATE VIRTUAL TABLE docs USING bebr(v float[8], tag text, model='m', store_vectors=1, chunk_size=64)");
    db.exec("INSERT INTO docs(rowid, v, tag) SELECT id, v, CASE WHEN id % 3 THEN 'a' ELSE 'b' END FROM items");
    db.exec("INSERT INTO docs(rowid, v, tag) SELECT id * 1000 + 7, v, 'a' FROM items WHERE id % 4 = 0");
    db.exec("DELETE FROM docs WHERE rowid % 5 = 0");
    db.exec("SELECT bebr_train('m', 'SELECT v FROM items WHERE id > 40', '{\"bits\":2}')");  // m@2
    // Another connection has the table open, its codes loaded, under version 1.
    Db other(path);
    std::mt19937_64 rng(13);
    const auto q = bebr::testing::random_vector(rng, 8, 0.5f);
    CHECK(rows_of(other, "SELECT rowid, distance FROM docs WHERE v MATCH ?1 AND k = 5", q).size() == 5);
    // Edits waiting in the write log, the recode, a row written after it: one transaction.
    db.exec("BEGIN");
    db.exec("UPDATE docs SET v = (SELECT v FROM items WHERE id = 1) WHERE rowid = 2");
    db.exec("INSERT INTO docs(docs) VALUES ('recode')");
    db.exec("INSERT INTO docs(rowid, v, tag) SELECT 500, v, 'a' FROM items WHERE id = 3");
    db.exec("COMMIT");
    CHECK(scalar(db, "SELECT value FROM docs_info WHERE key = 'model_version'") == 2);
    CHECK(scalar(db, "SELECT value = (SELECT model_id FROM bebr_models WHERE version = 2) FROM docs_info "
                     "WHERE key = 'model_id'") == 1);
    db.exec("INSERT INTO docs(docs) VALUES ('integrity-check')");
    // The oracle: a table created on version 2, holding the same vectors.
    db.exec("CREATE VIRTUAL TABLE fresh USING bebr(v float[8], tag text, model='m@2', store_vectors=1, chunk_size=64)");
    db.exec("INSERT INTO fresh(rowid, v, tag) SELECT rowid, v, tag FROM docs");
    REQUIRE(scalar(db, "SELECT count(*) FROM docs") == scalar(db, "SELECT count(*) FROM fresh"));
    same_as_fresh(db, "docs", db, 14);
    // The other connection sees the committed recode: its codes and its model.
    same_as_fresh(other, "docs", db, 15);
    // 'recode=m@1' goes back: the same answers as a fresh table of version 1.
    db.exec("INSERT INTO docs(docs) VALUES ('recode=m@1')");
    CHECK(scalar(db, "SELECT value FROM docs_info WHERE key = 'model_version'") == 1);
    std::mt19937_64 rng1(16);
    const auto q1 = bebr::testing::random_vector(rng1, 8, 0.5f);
    db.exec("CREATE VIRTUAL TABLE one USING bebr(v float[8], tag text, model='m@1', store_vectors=1)");
    db.exec("INSERT INTO one(rowid, v, tag) SELECT rowid, v, tag FROM docs");
    for (const char* k : {"5", "1000"})
      CHECK(rows_of(db, std::string("SELECT rowid, distance FROM docs WHERE v MATCH bebr_binarize(?1, 'm@1') AND k = ") + k,
                    q1) ==
            rows_of(db, std::string("SELECT rowid, distance FROM one WHERE v MATCH bebr_binarize(?1, 'm@1') AND k = ") + k,
                    q1));
  }
  Db db(path);  // reopened: the table names version 1 again
  CHECK(scalar(db, "SELECT value FROM docs_info WHERE key = 'model_version'") == 1);
  db.exec("INSERT INTO docs(docs) VALUES ('integrity-check')");
  std::remove(path.c_str());
}

TEST_CASE("a rolled back 'recode' leaves the table as it was: codes, model and caches", "[models]") {
  Db db;
  fill(db, 0.5f, 21);
  fill(db, 3.0f, 22);
  db.exec("SELECT bebr_train('m', 'SELECT v FROM items WHERE id <= 40', '{\"bits\":2}')");
  db.exec("CREATE VIRTUAL TABLE docs USING bebr(v float[8], tag text, model='m', store_vectors=1)");
  db.exec("INSERT INTO docs(rowid, v, tag) SELECT id, v, 'a' FROM items");
  db.exec("SELECT bebr_train('m', 'SELECT v FROM items WHERE id > 40', '{\"bits\":2}')");  // m@2
  std::mt19937_64 rng(23);
  const auto q = bebr::testing::random_vector(rng, 8, 0.5f);
  const std::string by_vector = "SELECT rowid, distance FROM docs WHERE v MATCH ?1 AND k = 10";
  const std::string by_code1 = "SELECT rowid, distance FROM docs WHERE v MATCH bebr_binarize(?1, 'm@1') AND k = 10";
  const std::string by_code = "SELECT rowid, distance FROM docs WHERE v MATCH bebr_binarize(?1, 'm') AND k = 10";
  // Brute force under version 2, as the re-coded table must answer inside the transaction.
  const std::string brute2 = "SELECT id, bebr_sdc_distance(bebr_binarize(?1, 'm'), bebr_binarize(v, 'm')) AS d "
                             "FROM items ORDER BY d, id LIMIT 10";
  const Rows vector_before = rows_of(db, by_vector, q), code_before = rows_of(db, by_code1, q);
  REQUIRE(vector_before.size() == 10);
  const auto unchanged = [&] {
    CHECK(scalar(db, "SELECT value FROM docs_info WHERE key = 'model_version'") == 1);
    CHECK(rows_of(db, by_vector, q) == vector_before);
    CHECK(rows_of(db, by_code1, q) == code_before);
    CHECK_THAT(error_of(db, "SELECT rowid FROM docs WHERE v MATCH bebr_binarize('[1,2,3,4,5,6,7,8]', 'm') AND k = 3"),
               Catch::Contains("first has 'm@1' (id ") && Catch::Contains("second has 'm@2' (id "));
    db.exec("INSERT INTO docs(docs) VALUES ('integrity-check')");
  };
  SECTION("ROLLBACK") {
    db.exec("BEGIN");
    db.exec("INSERT INTO docs(docs) VALUES ('recode')");
    CHECK(rows_of(db, by_code, q) == rows_of(db, brute2, q));
    db.exec("INSERT INTO docs(rowid, v, tag) SELECT 100, v, 'b' FROM items WHERE id = 5");  // coded by m@2
    db.exec("ROLLBACK");
    unchanged();
    // A row written now is coded by version 1, as the table's other rows.
    db.exec("INSERT INTO docs(rowid, v, tag) SELECT 100, v, 'b' FROM items WHERE id = 5");
    CHECK(scalar(db, "SELECT rowid FROM docs WHERE v MATCH bebr_binarize((SELECT v FROM items WHERE id = 5), 'm@1') "
                     "AND k = 1 AND tag = 'b'") == 100);
  }
  SECTION("ROLLBACK TO a savepoint before it") {
    db.exec("BEGIN");
    db.exec("SAVEPOINT s");
    db.exec("INSERT INTO docs(docs) VALUES ('recode')");
    CHECK(rows_of(db, by_code, q) == rows_of(db, brute2, q));
    db.exec("ROLLBACK TO s");
    db.exec("RELEASE s");
    unchanged();
    db.exec("COMMIT");
    unchanged();
  }
  SECTION("an interrupt stops it, and the table is as it was") {
    // The progress handler interrupts the statement once it has run a while: within the
    // recode's reads of the stored vectors.
    int calls = 0;
    struct Ctx {
      sqlite3* db;
      int* calls;
    } ctx{db.get(), &calls};
    sqlite3_progress_handler(
        db.get(), 1,
        [](void* p) {
          auto* c = static_cast<Ctx*>(p);
          if (++*c->calls == 500) sqlite3_interrupt(c->db);
          return 0;
        },
        &ctx);
    CHECK_THAT(error_of(db, "INSERT INTO docs(docs) VALUES ('recode')"),
               Catch::Contains("recode of table docs interrupted; the table is unchanged"));
    sqlite3_progress_handler(db.get(), 0, nullptr, nullptr);
    CHECK(calls >= 500);
    unchanged();
  }
}

TEST_CASE("'recode' refuses tables and models it cannot re-code, naming why", "[models]") {
  Db db;
  fill(db, 0.5f, 31);
  db.exec("SELECT bebr_train('m', 'SELECT v FROM items', '{\"bits\":2}')");
  db.exec("CREATE VIRTUAL TABLE docs USING bebr(v float[8], model='m', store_vectors=1)");
  db.exec("INSERT INTO docs(rowid, v) SELECT id, v FROM items");
  db.exec("CREATE TABLE four(v BLOB)");
  db.exec("INSERT INTO four(v) VALUES ('[1, 2, 3, 4]'), ('[4, 3, 2, 1]'), ('[0, 1, 0, 1]')");
  db.exec("SELECT bebr_train('w', 'SELECT v FROM four', '{\"bits\":2}')");
  db.exec("SELECT bebr_train('m', 'SELECT v FROM items', '{\"bits\":1}')");  // m@2: 1 bit
  CHECK_THAT(error_of(db, "INSERT INTO docs(docs) VALUES ('recode')"),
             Catch::Equals("bebr: recode: model 'm@2' makes center codes of 8 dimensions and 1 bits; table docs "
                           "stores center codes of 8 dimensions and 2 bits, and a recode keeps the codes' size: create "
                           "a table with model='m@2' and insert the rows there"));
  CHECK_THAT(error_of(db, "INSERT INTO docs(docs) VALUES ('recode=w')"),
             Catch::Equals("bebr: recode: model 'w@1' codes 4-d vectors; table docs holds 8-d vectors"));
  CHECK_THAT(error_of(db, "INSERT INTO docs(docs) VALUES ('recode=m@9')"),
             Catch::Contains("model 'm' has no version 9; its latest is version 2"));
  CHECK_THAT(error_of(db, "INSERT INTO docs(docs) VALUES ('recode=nope')"), Catch::Contains("unknown model 'nope'"));
  CHECK_THAT(error_of(db, "INSERT INTO docs(docs) VALUES ('recoded')"),
             Catch::Equals("bebr: unknown command 'recoded'; expected 'optimize', 'integrity-check', 'recode' or "
                           "'recode=<model>'"));
  CHECK(scalar(db, "SELECT value FROM docs_info WHERE key = 'model_version'") == 1);
  db.exec("CREATE VIRTUAL TABLE novec USING bebr(v float[8], model='m@1')");
  CHECK_THAT(error_of(db, "INSERT INTO novec(novec) VALUES ('recode')"),
             Catch::Equals("bebr: recode: table novec keeps no vectors to code again (created without "
                           "store_vectors=1); re-create it with store_vectors=1 and model='name@V', and insert the "
                           "rows again"));
  db.exec("CREATE VIRTUAL TABLE raw USING bebr(v float[8], store_vectors=1)");
  CHECK_THAT(error_of(db, "INSERT INTO raw(raw) VALUES ('recode')"),
             Catch::Equals("bebr: recode: table raw has no model (created without model=); expected a table made "
                           "with model='name'"));
}

TEST_CASE("'recode' of a format 3 table writes format 4; rolled back, the table carries its BLOB again",
          "[models]") {
  const std::string path = temp_path("bebr_recode3");
  {
    Db db(path);
    fill(db, 0.5f, 41);
    fill(db, 3.0f, 42);
    db.exec("SELECT bebr_train('m', 'SELECT v FROM items WHERE id <= 40', '{\"bits\":2}')");
    db.exec("CREATE VIRTUAL TABLE docs USING bebr(v float[8], tag text, model='m', store_vectors=1)");
    db.exec("INSERT INTO docs(rowid, v, tag) SELECT id, v, 'a' FROM items");
    // Made before format 4: the model BLOB in <name>_info.
    db.exec("UPDATE docs_info SET value = '3' WHERE key = 'format'");
    db.exec("DELETE FROM docs_info WHERE key IN ('model_version', 'model_id', 'model_kind', 'code_dim')");
    db.exec("INSERT INTO docs_info(key, value) SELECT 'model', params FROM bebr_models");
    db.exec("SELECT bebr_train('m', 'SELECT v FROM items WHERE id > 40', '{\"bits\":2}')");  // m@2
  }
  Db db(path);
  std::mt19937_64 rng(43);
  const auto q = bebr::testing::random_vector(rng, 8, 0.5f);
  const std::string by_code1 = "SELECT rowid, distance FROM docs WHERE v MATCH bebr_binarize(?1, 'm@1') AND k = 10";
  const Rows before = rows_of(db, by_code1, q);
  REQUIRE(before.size() == 10);
  db.exec("BEGIN");
  db.exec("INSERT INTO docs(docs) VALUES ('recode')");
  CHECK(scalar(db, "SELECT value FROM docs_info WHERE key = 'format'") == 4);
  CHECK(scalar(db, "SELECT count(*) FROM docs_info WHERE key = 'model'") == 0);
  db.exec("ROLLBACK");
  CHECK(scalar(db, "SELECT value FROM docs_info WHERE key = 'format'") == 3);
  CHECK(rows_of(db, by_code1, q) == before);
  db.exec("INSERT INTO docs(rowid, v, tag) SELECT 100, v, 'b' FROM items WHERE id = 5");  // encodes with the BLOB
  db.exec("INSERT INTO docs(docs) VALUES ('recode')");
  db.exec("INSERT INTO docs(docs) VALUES ('integrity-check')");
  db.exec("CREATE VIRTUAL TABLE fresh USING bebr(v float[8], tag text, model='m@2', store_vectors=1)");
  db.exec("INSERT INTO fresh(rowid, v, tag) SELECT rowid, v, tag FROM docs");
  same_as_fresh(db, "docs", db, 44);
  std::remove(path.c_str());
}
