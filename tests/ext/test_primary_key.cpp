// A primary key column besides the rowid (`id text primary key`, `n integer primary key`):
// random writes by key and kNN queries filtered by key, against a plain SQLite table with the
// same key as the oracle; the key read back from a file by a new connection; and damaged
// <name>_info entries of a keyed table.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "db.hpp"

using bebr::testing::Db;

namespace {

std::string vec(std::mt19937_64& rng) {
  std::uniform_real_distribution<float> u(-1.f, 1.f);
  std::string s = "[";
  for (int j = 0; j < 8; ++j) s += (j ? "," : "") + std::to_string(u(rng));
  return s + "]";
}

// Every row as "key=vector" in key order, from `table`.
std::string listing(Db& db, const std::string& sql) {
  std::string out;
  auto s = db.prepare(sql);
  while (s.step()) out += s.text(0) + "=" + s.text(1) + ";";
  return out;
}

// A file-backed database path, removed at the end.
struct TempFile {
  std::string path;
  TempFile() : path(bebr::testing::temp_db_path("bebr_pk")) {}
  ~TempFile() {
    for (const char* suffix : {"", "-journal", "-wal"}) std::remove((path + suffix).c_str());
  }
};

}  // namespace

TEST_CASE("primary key: random writes by key and filtered kNN equal a plain keyed table", "[vtab][key]") {
  const std::uint64_t seed = 20261202;
  std::mt19937_64 rng(seed);
  INFO("seed " << seed);
  for (const bool text_key : {true, false}) {
    Db db;
    const std::string type = text_key ? "text" : "integer";
    db.exec("CREATE VIRTUAL TABLE t USING bebr(id " + type + " primary key, e float[8], bits=2, store_vectors=1, " +
            "chunk_size=64)");
    db.exec("CREATE TABLE o(id " + type + " PRIMARY KEY, e TEXT NOT NULL)");
    const auto key = [&](unsigned i) { return text_key ? "'k" + std::to_string(i) + "'" : std::to_string(i * 7); };
    for (int step = 0; step < 600; ++step) {
      const std::string k = key(static_cast<unsigned>(rng() % 150)), v = vec(rng);
      switch (rng() % 5) {
        case 0:
        case 1: {  // a plain insert: a taken key is refused by both
          const std::string sql = "INSERT INTO %(id, e) VALUES (" + k + ", '" + v + "')";
          const auto on = [&](const char* table) {
            std::string s = sql;
            s.replace(s.find('%'), 1, table);
            return db.error_of(s);
          };
          const std::string oracle = on("o"), got = on("t");
          CHECK((oracle.empty() == got.empty()));
          if (!oracle.empty()) CHECK(got == "UNIQUE constraint failed: t.id");
          break;
        }
        case 2:
          db.exec("INSERT OR REPLACE INTO t(id, e) VALUES (" + k + ", '" + v + "')");
          db.exec("INSERT OR REPLACE INTO o(id, e) VALUES (" + k + ", '" + v + "')");
          break;
        case 3:
          db.exec("DELETE FROM t WHERE id = " + k);
          db.exec("DELETE FROM o WHERE id = " + k);
          break;
        default: {  // a key changed, refused by both when the new one is taken
          const std::string to = key(static_cast<unsigned>(rng() % 150));
          const std::string a = db.error_of("UPDATE o SET id = " + to + " WHERE id = " + k);
          const std::string b = db.error_of("UPDATE t SET id = " + to + " WHERE id = " + k);
          CHECK((a.empty() == b.empty()));
        }
      }
    }
    // The rows, each vector as stored, by key.
    CHECK(listing(db, "SELECT id, bebr_to_json(e) FROM t ORDER BY id") ==
          listing(db, "SELECT id, bebr_to_json(bebr_f32(e)) FROM o ORDER BY id"));
    // Point lookups by key, present and absent (and a text key given as a number).
    for (unsigned i = 0; i < 150; i += 7)
      CHECK(db.text("SELECT count(*) FROM t WHERE id = " + key(i)) ==
            db.text("SELECT count(*) FROM o WHERE id = " + key(i)));
    // kNN filtered by key (exact under full rescore), against the oracle's order.
    for (int q = 0; q < 20; ++q) {
      const std::string query = vec(rng);
      std::string in;
      for (int j = 0; j < 12; ++j) in += (j ? "," : "") + key(static_cast<unsigned>(rng() % 150));
      const std::string got = listing(db,
                                      "SELECT id, distance FROM t WHERE e MATCH '" + query +
                                          "' AND k = 5 AND rescore = 1000 AND id IN (" + in + ")");
      const std::string want = listing(db, "SELECT id, bebr_distance(bebr_f32(e), '" + query + "') AS d FROM o WHERE id IN (" +
                                               in + ") ORDER BY d, (SELECT rowid FROM t WHERE t.id = o.id) LIMIT 5");
      CHECK(got == want);
      const std::string one = key(static_cast<unsigned>(rng() % 150));
      CHECK(db.text("SELECT count(*) FROM t WHERE e MATCH '" + query + "' AND k = 5 AND id = " + one) ==
            db.text("SELECT count(*) FROM o WHERE id = " + one));
    }
  }
}

TEST_CASE("primary key: written, read back by a new connection, renamed", "[vtab][key]") {
  TempFile f;
  {
    Db db(f.path);
    db.exec("CREATE VIRTUAL TABLE docs USING bebr(id text primary key, embedding float[4], book text, +passage text)");
    db.exec("INSERT INTO docs(id, embedding, book, passage) VALUES ('gen-1', '[1,0,0,0]', 'Genesis', 'In the "
            "beginning'), ('john-1', '[0,1,0,0]', 'John', 'In the beginning was the Word')");
  }
  Db db(f.path);
  CHECK(db.text("SELECT value FROM docs_info WHERE key = 'format'") == "5");
  CHECK(db.text("SELECT passage FROM docs WHERE id = 'john-1'") == "In the beginning was the Word");
  CHECK(db.error_of("INSERT INTO docs(id, embedding) VALUES ('gen-1', '[1,1,1,1]')") ==
        "UNIQUE constraint failed: docs.id");
  db.exec("ALTER TABLE docs RENAME TO passages");
  CHECK(db.text("SELECT rowid FROM passages WHERE id = 'gen-1'") == "1");
  CHECK(db.error_of("INSERT INTO passages(id, embedding) VALUES ('gen-1', '[1,1,1,1]')") ==
        "UNIQUE constraint failed: passages.id");
}

TEST_CASE("primary key: the declaration's errors and a damaged key entry", "[vtab][key][security]") {
  Db db;
  CHECK(db.error_of("CREATE VIRTUAL TABLE a USING bebr(id float primary key, e float[2])") ==
        "bebr: primary key column 'id' must be text or integer ('id text primary key'); got 'float primary key'");
  CHECK(db.error_of("CREATE VIRTUAL TABLE a USING bebr(id text primary key, n integer primary key, e float[2])") ==
        "bebr: only one primary key column is supported; got a second, 'n'");
  CHECK(db.error_of("CREATE VIRTUAL TABLE a USING bebr(id text primary key, ID text, e float[2])") ==
        "bebr: column name 'id' is used twice; expected each column name once (case-insensitive)");
  db.exec("CREATE VIRTUAL TABLE a USING bebr(id text PRIMARY   KEY, e float[2])");
  CHECK(db.error_of("INSERT INTO a(e) VALUES ('[1,2]')") ==
        "bebr: column id is the table's primary key; expected a text value, got NULL");
  CHECK(db.error_of("INSERT INTO a(id, e) VALUES (5, '[1,2]')") == "bebr: column id is text; got integer");

  struct Case {
    const char* damage;
    const char* error;
  };
  const Case cases[] = {
      {"DELETE FROM t_info WHERE key = 'primary_key'", "primary_key is missing"},
      {"UPDATE t_info SET value = '3' WHERE key = 'format'", "primary_key is set in a format 3 table"},
      {"UPDATE t_info SET value = '1' WHERE key = 'primary_key'",
       "primary_key is '1'; expected 0 (the first auxiliary column)"},
      {"UPDATE t_info SET value = 'float id' WHERE key = 'auxiliary.0'",
       "the primary key is not a text or integer auxiliary column 0"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.damage);
    TempFile f;
    {
      Db maker(f.path);
      maker.exec("CREATE VIRTUAL TABLE t USING bebr(id text primary key, e float[2])");
      maker.exec("INSERT INTO t(id, e) VALUES ('a', '[1,2]')");
    }
    {
      Db plain(f.path, false);
      plain.exec(c.damage);
    }
    Db victim(f.path);
    CHECK(victim.error_of("SELECT count(*) FROM t") ==
          std::string("bebr: the t_info shadow table is corrupt: ") + c.error);
    CHECK(victim.error_of("DROP TABLE t") == "");
  }
}
