// The training query of bebr_train and SQL that bebr runs for itself: bounded recursion, no
// side effects, one read-only SELECT (docs/sql.md, "bebr_train").
#include <catch2/catch.hpp>

#include <cstdio>
#include <unistd.h>

#include "db.hpp"
#include "testing.hpp"

using bebr::testing::Db;

namespace {
bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

// run_sql(sql): runs SQL from inside SQL and returns its first value, as an application's
// function (or another extension's virtual table) may; registered deterministic, so that a
// generated column can call it.
void run_sql(sqlite3_context* ctx, int, sqlite3_value** argv) {
  sqlite3* db = sqlite3_context_db_handle(ctx);
  sqlite3_stmt* s = nullptr;
  if (sqlite3_prepare_v2(db, reinterpret_cast<const char*>(sqlite3_value_text(argv[0])), -1, &s, nullptr) !=
      SQLITE_OK) {
    sqlite3_result_error(ctx, sqlite3_errmsg(db), -1);
    return;
  }
  const int rc = sqlite3_step(s);
  if (rc == SQLITE_ROW) sqlite3_result_value(ctx, sqlite3_column_value(s, 0));
  else if (rc != SQLITE_DONE) sqlite3_result_error(ctx, sqlite3_errmsg(db), -1);
  sqlite3_finalize(s);
}
}  // namespace

TEST_CASE("a training query that calls bebr_train is refused, not recursed into", "[train][surface]") {
  Db db;
  db.exec("CREATE TABLE items(v BLOB)");
  db.exec("INSERT INTO items VALUES ('[1, 2]'), ('[2, 1]')");
  // The query trains again with itself as its query: without a bound, a stack overflow.
  const std::string self = "SELECT bebr_train('m', 'SELECT bebr_train(''m'', ''SELECT v FROM items'') FROM items')";
  const std::string err = db.error_of(self);
  CHECK(contains(err, "bebr_train cannot run inside a training query"));
  const std::string deep = db.error_of(
      "SELECT bebr_train('m', 'SELECT v FROM items WHERE bebr_train(''n'', ''SELECT v FROM items'') IS NULL')");
  CHECK(contains(deep, "bebr_train cannot run inside a training query"));
  CHECK(db.text("SELECT count(*) FROM sqlite_schema WHERE name = 'bebr_models'") == "0");
  // The connection trains normally afterwards.
  CHECK(contains(db.text("SELECT bebr_train('m', 'SELECT v FROM items')"), "\"version\":1"));
}

TEST_CASE("model lookups that call back into bebr are bounded", "[train][surface]") {
  Db db;
  REQUIRE(sqlite3_create_function(db.get(), "run_sql", 1, SQLITE_UTF8 | SQLITE_DETERMINISTIC, nullptr, run_sql, nullptr,
                                  nullptr) == SQLITE_OK);
  // A bebr_models whose params is a generated column running SQL that looks the model up: each
  // lookup reads params, which looks the model up again.
  db.exec("CREATE TABLE bebr_models(name TEXT, version INTEGER, model_id INTEGER)");
  db.exec("INSERT INTO bebr_models(name, version, model_id) VALUES ('m', 1, 7)");
  db.exec("ALTER TABLE bebr_models ADD COLUMN params AS (run_sql('SELECT bebr_binarize(''[1, 2]'', ''m'')'))");
  const std::string err = db.error_of("SELECT bebr_binarize('[1, 2]', 'm')");
  CHECK(contains(err, "the model lookup nests bebr calls that run SQL too deeply; expected at most 8 levels, got 9"));
}

TEST_CASE("model lookups by id that call back into bebr are bounded", "[train][surface]") {
  // As above, through a code's model id: bebr_decode of a center code made by model id 7.
  Db db;
  REQUIRE(sqlite3_create_function(db.get(), "run_sql", 1, SQLITE_UTF8 | SQLITE_DETERMINISTIC, nullptr, run_sql, nullptr,
                                  nullptr) == SQLITE_OK);
  db.exec("CREATE TABLE bebr_models(name TEXT, version INTEGER, model_id INTEGER)");
  db.exec("INSERT INTO bebr_models(name, version, model_id) VALUES ('m', 1, 7)");
  db.exec(
      "ALTER TABLE bebr_models ADD COLUMN params AS (run_sql('SELECT bebr_decode(CAST("
      "x''42454252010101000200000007000000'' || substr(bebr_binarize(''[1, 2]''), 17) AS BLOB))'))");
  CHECK(contains(db.error_of("SELECT bebr_decode(CAST(x'42454252010101000200000007000000' || "
                             "substr(bebr_binarize('[1, 2]'), 17) AS BLOB))"),
                 "the model lookup nests bebr calls that run SQL too deeply; expected at most 8 levels, got 9"));
}

TEST_CASE("a training query cannot change the connection or write", "[train][surface]") {
  char path[] = "/tmp/bebr_train_query_XXXXXX";
  const int fd = mkstemp(path);
  REQUIRE(fd >= 0);
  close(fd);
  {
    Db db(path);
    db.exec("PRAGMA journal_mode = WAL");
    db.exec("PRAGMA secure_delete = 0");  // Debian's SQLite defaults to 1
    db.exec("CREATE TABLE items(v BLOB)");
    db.exec("INSERT INTO items VALUES ('[1, 2]'), ('[2, 1]')");
    const auto state = [&] {
      return db.text("PRAGMA locking_mode") + " " + db.text("PRAGMA secure_delete") + " " +
             db.text("PRAGMA mmap_size") + " " + db.text("PRAGMA wal_autocheckpoint") + " " +
             db.text("PRAGMA query_only");
    };
    const std::string before = state();
    CHECK(before == "normal 0 0 1000 0");
    // Each compiles to a statement that acts while it compiles; each is refused before that.
    for (const char* pragma :
         {"PRAGMA locking_mode = EXCLUSIVE", "PRAGMA secure_delete = 1", "PRAGMA mmap_size = 1048576",
          "PRAGMA wal_autocheckpoint = 7", "  /* c */ pragma query_only = 1"}) {
      INFO(pragma);
      CHECK_THAT(db.error_of(std::string("SELECT bebr_train('m', '") + pragma + "')"),
                 Catch::Contains("training query must be read-only, one SELECT statement; expected SELECT, WITH or "
                                 "VALUES first, got '"));
      CHECK_THAT(db.error_of(std::string("SELECT bebr_train('m', 'SELECT v FROM items; ") + pragma + "')"),
                 Catch::Contains("training query must be a single statement"));
      CHECK(state() == before);
    }
    CHECK_THAT(db.error_of("SELECT bebr_train('m', 'ATTACH '':memory:'' AS x')"),
               Catch::Contains("must be read-only, one SELECT statement"));
    CHECK(db.text("SELECT count(*) FROM pragma_database_list") == "1");

    // A writing function inside the query does not run: bebr_import_model refuses, and writes
    // through any other function fail (the connection is query_only while the query runs).
    db.exec("SELECT bebr_train('src', 'SELECT v FROM items')");
    const std::string imported = db.error_of(
        "SELECT bebr_train('m', 'SELECT v FROM items WHERE bebr_import_model(''x'', "
        "(SELECT params FROM bebr_models WHERE name = ''src'')) > 0')");
    CHECK_THAT(imported, Catch::Contains("bebr_import_model cannot run inside a training query"));
    REQUIRE(sqlite3_create_function(db.get(), "run_sql", 1, SQLITE_UTF8, nullptr, run_sql, nullptr, nullptr) ==
            SQLITE_OK);
    db.exec("CREATE TABLE side(x)");
    CHECK_THAT(db.error_of("SELECT bebr_train('m', 'SELECT v FROM items WHERE run_sql(''INSERT INTO side VALUES "
                           "(1) RETURNING 1'') IS NOT 0')"),
               Catch::Contains("readonly"));
    CHECK(db.text("SELECT count(*) FROM side") == "0");
    CHECK(db.text("SELECT group_concat(name) FROM bebr_models") == "src");
    CHECK(state() == before);  // query_only is off again

    // Blanks, semicolons and comments after the statement are no second statement.
    for (const char* sql : {"SELECT v FROM items -- the vectors", "SELECT v FROM items;  ", "SELECT v FROM items; ;",
                            "SELECT v FROM items /* all */;\n-- done",
                            "-- vectors\nWITH x AS (SELECT v FROM items) "
                            "SELECT v FROM x"}) {
      INFO(sql);
      auto s = db.prepare("SELECT bebr_train('c', ?1)");
      s.bind(1, std::string(sql));
      REQUIRE(s.step());
      CHECK_THAT(s.text(0), Catch::Contains("\"rows\":2"));
    }
    CHECK_THAT(db.error_of("SELECT bebr_train('m', 'SELECT v FROM items -- one\n; SELECT v FROM items')"),
               Catch::Contains("training query must be a single statement"));
  }
  std::remove(path);
  std::remove((std::string(path) + "-wal").c_str());
  std::remove((std::string(path) + "-shm").c_str());
}
