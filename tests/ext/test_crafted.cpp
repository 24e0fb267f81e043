// Crafted database files (docs/security.md): each defect a hostile file can carry, made by hand in
// the shadow tables of a file that a second connection (the victim) then opens. The victim gets a
// clear error naming the table and the field, in small memory, and can still DROP the
// table.
#include <catch2/catch.hpp>

#include <sys/resource.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <functional>
#include <string>

#include "db.hpp"

using bebr::testing::Db;

namespace {

// A database file holding table t (4-d, metadata tag, chunk_size 64) with 3 rows.
class CraftedFile {
 public:
  CraftedFile() {
    path_ = bebr::testing::temp_db_path("bebr_crafted");
    Db db(path_);
    db.exec("CREATE VIRTUAL TABLE t USING bebr(e float[4], tag text, bits=2, chunk_size=64)");
    db.exec(
        "INSERT INTO t(rowid, e, tag) VALUES (1, '[1, 2, 3, 4]', 'a'), (2, '[4, 3, 2, 1]', 'b'), "
        "(3, '[1, -1, 1, -1]', 'c')");
  }
  ~CraftedFile() {
    for (const char* suffix : {"", "-journal", "-wal", "-shm"}) std::remove((path_ + suffix).c_str());
  }
  // Damages the file through a connection of its own (without the extension: plain SQL).
  void damage(const std::string& sql) {
    Db db(path_, false);
    db.exec(sql);
  }
  // Sets 4 bytes of the chunk BLOB holding `rowid` (read from <table>_rowids), at
  // from_end(chunk_size, slot) bytes before the BLOB's end.
  void damage_slot(const std::string& table, long long rowid, std::size_t (*from_end)(std::size_t, std::size_t),
                   const std::uint8_t (&bytes)[4]) {
    Db db(path_, false);
    auto at = db.prepare("SELECT chunk_id, slot FROM " + table + "_rowids WHERE rowid = ?1");
    at.bind(1, rowid);
    REQUIRE(at.step());
    const long long chunk = at.integer(0), slot = at.integer(1);
    auto read = db.prepare("SELECT data FROM " + table + "_chunks WHERE chunk_id = ?1");
    read.bind(1, chunk);
    REQUIRE(read.step());
    std::vector<std::uint8_t> data = read.blob(0);
    std::memcpy(data.data() + data.size() - from_end(64, static_cast<std::size_t>(slot)), bytes, 4);
    auto write = db.prepare("UPDATE " + table + "_chunks SET data = ?2 WHERE chunk_id = ?1");
    write.bind(1, chunk).bind(2, data);
    write.drain();
    chunk_ = chunk;
  }
  long long damaged_chunk() const { return chunk_; }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  long long chunk_ = -1;
};

long peak_rss_kib() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_maxrss;
}

// The victim's error for `query` on the damaged file, checked to come in less than 32 MB of
// memory (no timing here: that belongs in bench/).
std::string victim_error(const CraftedFile& f, const std::string& query) {
  Db victim(f.path());
  const long rss = peak_rss_kib();
  const std::string e = victim.error_of(query);
  CHECK(peak_rss_kib() - rss < 32 * 1024);
  return e;
}

// DROP TABLE t works on the damaged file and removes every shadow table.
void check_drop(const CraftedFile& f) {
  Db victim(f.path());
  CHECK(victim.error_of("DROP TABLE t") == "");
  CHECK(victim.text("SELECT count(*) FROM sqlite_master WHERE name LIKE 't%'") == "0");
}

// The 40-byte mlp model BLOB whose header claims 8192 x 8192 blocks (805 MB).
const std::string kBombModel = "x'4245424D01020100002000000020000000200000000000000000803F000000000020000000000000'";

}  // namespace

TEST_CASE("crafted file: a model BLOB in t_info claiming gigabytes", "[security]") {
  CraftedFile f;
  f.damage("UPDATE t_info SET value = " + kBombModel + " WHERE key = 'model'");
  CHECK(victim_error(f, "SELECT count(*) FROM t") ==
        "bebr: the t_info shadow table is corrupt: model: corrupt model BLOB: wrong length: header says 805437480 "
        "bytes, BLOB has 40");
  check_drop(f);
}

TEST_CASE("crafted file: counts and sizes in t_info out of range", "[security]") {
  struct Case {
    const char* key;
    const char* value;
    const char* error;
  };
  const Case cases[] = {
      {"chunk_size", "-64", "chunk_size is '-64'; expected an integer in 64..65536"},
      {"chunk_size", "4294967232", "chunk_size is '4294967232'; expected an integer in 64..65536"},
      {"chunk_size", "131072", "chunk_size is '131072'; expected an integer in 64..65536"},
      {"chunk_size", "100", "chunk_size is '100'; expected a multiple of 64"},
      {"chunk_size", "064", "chunk_size is '064'; expected an integer in 64..65536"},
      {"chunk_size", " 64", "chunk_size is ' 64'; expected an integer in 64..65536"},
      {"dim", "0", "dim is '0'; expected an integer in 1..16384"},
      {"dim", "16385", "dim is '16385'; expected an integer in 1..16384"},
      {"bits", "9", "bits is '9'; expected an integer in 1..8"},
      {"bits", "-1", "bits is '-1'; expected an integer in 1..8"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.key, c.value);
    CraftedFile f;
    f.damage(std::string("UPDATE t_info SET value = '") + c.value + "' WHERE key = '" + c.key + "'");
    CHECK(victim_error(f, "SELECT count(*) FROM t") ==
          std::string("bebr: the t_info shadow table is corrupt: ") + c.error);
    check_drop(f);
  }
  CraftedFile f;
  f.damage("UPDATE t_info SET key = 'metadata.5' WHERE key = 'metadata.0'");
  CHECK(victim_error(f, "SELECT count(*) FROM t") ==
        "bebr: the t_info shadow table is corrupt: metadata entries are not numbered 0..0");
  check_drop(f);
  CraftedFile g;
  g.damage("DELETE FROM t_info WHERE key = 'chunk_size'");
  CHECK(victim_error(g, "SELECT count(*) FROM t") == "bebr: the t_info shadow table is corrupt: chunk_size is missing");
  check_drop(g);
}

TEST_CASE("crafted file: a table with a damaged t_info can still be dropped", "[security]") {
  const std::function<void(CraftedFile&)> damages[] = {
      [](CraftedFile& f) { f.damage("UPDATE t_info SET value = 'abc' WHERE key = 'dim'"); },
      [](CraftedFile& f) { f.damage("UPDATE t_info SET value = '2' WHERE key = 'format'"); },
      [](CraftedFile& f) { f.damage("DELETE FROM t_info"); },
      [](CraftedFile& f) { f.damage("DROP TABLE t_info"); },
      [](CraftedFile& f) { f.damage("DROP TABLE t_info; CREATE TABLE t_info(x)"); },
      [](CraftedFile& f) { f.damage("DROP TABLE t_info; DROP TABLE t_chunks; DROP TABLE t_rowids"); },
  };
  int i = 0;
  for (const auto& damage : damages) {
    CAPTURE(i++);
    CraftedFile f;
    damage(f);
    {
      // Every other use still fails with the reason, the declared columns included.
      Db victim(f.path());
      const std::string e = victim.error_of("SELECT rowid, tag FROM t WHERE e MATCH '[1, 2, 3, 4]' AND k = 2");
      CHECK_THAT(e, Catch::StartsWith("bebr: "));
      CHECK(victim.error_of("SELECT count(*) FROM t") == e);
      CHECK(victim.error_of("INSERT INTO t(rowid, e, tag) VALUES (9, '[1, 1, 1, 1]', 'z')") == e);
      CHECK(victim.error_of("ALTER TABLE t RENAME TO u") != "");
    }
    check_drop(f);
  }
}

TEST_CASE("crafted file: a non-finite scale or offset in a chunk BLOB", "[security]") {
  // The chunk BLOB ends with C float32 scales, then (not for raw codes) C float32 offsets.
  const std::uint8_t nan[4] = {0x00, 0x00, 0xC0, 0x7F}, inf[4] = {0x00, 0x00, 0x80, 0x7F};
  const auto raw_scale = [](std::size_t C, std::size_t slot) { return 4 * C - 4 * slot; };
  const auto model_scale = [](std::size_t C, std::size_t slot) { return 8 * C - 4 * slot; };
  const auto model_offset = [](std::size_t C, std::size_t slot) { return 4 * C - 4 * slot; };
  const std::string knn = "SELECT rowid, distance FROM %s WHERE e MATCH '[1, 2, 3, 4]' AND k = 1000";
  const std::string ordered = "SELECT rowid FROM %s WHERE e MATCH '[1, 2, 3, 4]' ORDER BY distance LIMIT 3";
  const auto on = [](std::string q, const std::string& table) { return q.replace(q.find("%s"), 2, table); };
  {
    CraftedFile f;
    f.damage_slot("t", 2, raw_scale, nan);
    const std::string want = "bebr: the t_chunks shadow table is corrupt: chunk " + std::to_string(f.damaged_chunk()) +
                             " row 2 has a non-finite scale (nan)";
    CHECK(victim_error(f, on(knn, "t")) == want);
    CHECK(victim_error(f, on(ordered, "t")) == want);
    CHECK(victim_error(f, on(knn, "t") + " AND tag = 'b'") == want);
  }
  {
    // A center model's codes store offsets too.
    CraftedFile f;
    f.damage(
        "CREATE TABLE bebr_models(name TEXT NOT NULL, version INTEGER NOT NULL, kind TEXT NOT NULL, dim INTEGER NOT "
        "NULL, bits INTEGER NOT NULL, model_id INTEGER NOT NULL, params BLOB NOT NULL, options TEXT NOT NULL, rows "
        "INTEGER NOT NULL, seconds REAL NOT NULL, created TEXT, history TEXT, PRIMARY KEY(name, version))");
    {
      Db db(f.path());
      db.exec("SELECT bebr_import_model('c', x'4245424D01010200040000000000000000000000000000000000000000000000')");
      db.exec("CREATE VIRTUAL TABLE u USING bebr(e float[4], tag text, model='c', chunk_size=64)");
      db.exec("INSERT INTO u(rowid, e, tag) VALUES (1, '[1, 2, 3, 4]', 'a'), (2, '[4, 3, 2, 1]', 'b')");
      CHECK(db.error_of(on(knn, "u")) == "");
    }
    f.damage_slot("u", 2, model_scale, nan);
    CHECK_THAT(victim_error(f, on(ordered, "u")), Catch::Contains("row 2 has a non-finite scale (nan)"));
    // The first damaged slot is reported: row 1's comes before row 2's.
    f.damage_slot("u", 1, model_offset, inf);
    CHECK(victim_error(f, on(knn, "u")) == "bebr: the u_chunks shadow table is corrupt: chunk " +
                                               std::to_string(f.damaged_chunk()) +
                                               " row 1 has a non-finite offset (inf)");
  }
}

// One case for every kind of damage the check reports, in the order it checks: each block makes a
// fresh file, damages one thing and reads the message, so splitting it would only repeat set-up.
TEST_CASE("integrity-check: silent on a healthy table, the first problem of a damaged one", "[security]") {
  const std::string check = "INSERT INTO t(t) VALUES ('integrity-check')";
  {
    CraftedFile f;
    Db db(f.path());
    CHECK(db.error_of(check) == "");
    db.exec("BEGIN; INSERT INTO t(rowid, e, tag) VALUES (4, '[1, 1, 1, 1]', 'd'); DELETE FROM t WHERE rowid = 1");
    CHECK(db.error_of(check) == "");  // the waiting edits are written first
    db.exec("COMMIT; INSERT INTO t(t) VALUES ('optimize')");
    CHECK(db.error_of(check) == "");
  }
  // Where row r is: "chunk <c> slot <s>", from t_rowids.
  const auto where = [](const CraftedFile& f, int rowid) {
    Db db(f.path(), false);
    return db.text("SELECT 'chunk ' || chunk_id || ' slot ' || slot FROM t_rowids WHERE rowid = " +
                   std::to_string(rowid));
  };
  const auto chunk_of = [](const CraftedFile& f, int rowid) {
    Db db(f.path(), false);
    return db.text("SELECT chunk_id FROM t_rowids WHERE rowid = " + std::to_string(rowid));
  };
  const auto victim_check = [&](const CraftedFile& f) { return victim_error(f, check); };
  {
    CraftedFile f;
    const std::string c = chunk_of(f, 1);
    f.damage("UPDATE t_chunks SET data = x'00'");
    CHECK_THAT(victim_check(f),
               Catch::StartsWith("bebr: the t_chunks shadow table is corrupt: chunk " + c + " has 1 bytes; expected "));
  }
  {
    CraftedFile f;
    f.damage_slot("t", 2, [](std::size_t C, std::size_t slot) { return 4 * C - 4 * slot; }, {0x00, 0x00, 0xC0, 0x7F});
    CHECK(victim_check(f) == "bebr: the t_chunks shadow table is corrupt: chunk " + chunk_of(f, 2) +
                                 " row 2 has a non-finite scale (nan)");
  }
  {
    CraftedFile f;
    const std::string at = where(f, 2);
    f.damage("DELETE FROM t_rowids WHERE rowid = 2");
    CHECK(victim_check(f) == "bebr: the t_rowids shadow table is corrupt: row 2 of " + at + " has no map row");
  }
  {
    CraftedFile f;
    const std::string at = where(f, 3);
    f.damage("UPDATE t_rowids SET rowid = 99 WHERE rowid = 3");
    CHECK(victim_check(f) ==
          "bebr: the t_rowids shadow table is corrupt: row 99 points at " + at + ", which holds row 3");
  }
  {
    CraftedFile f;
    const std::string at = where(f, 1);
    f.damage("UPDATE t_chunks SET data = zeroblob(8) || substr(data, 9)");  // every validity bit clear
    CHECK(victim_check(f) ==
          "bebr: the t_rowids shadow table is corrupt: row 1 points at " + at + ", which holds no row");
  }
  {
    CraftedFile f;
    f.damage("UPDATE t_rowids SET m0 = 5 WHERE rowid = 1");
    CHECK(victim_check(f) ==
          "bebr: the t_rowids shadow table is corrupt: row 1 has a value of type integer in column tag; expected text");
  }
  {
    CraftedFile f;
    f.damage("UPDATE t_rowids SET slot = 64 WHERE rowid = 1");
    CHECK(victim_check(f) == "bebr: the t_rowids shadow table is corrupt: row 1 has slot 64");
  }
  {
    // The model, damaged under an open connection.
    CraftedFile f;
    Db db(f.path());
    CHECK(db.error_of(check) == "");
    db.exec("UPDATE t_info SET value = " + kBombModel + " WHERE key = 'model'");
    CHECK(db.error_of(check) ==
          "bebr: the t_info shadow table is corrupt: model: corrupt model BLOB: wrong length: header says 805437480 "
          "bytes, BLOB has 40");
    db.exec("UPDATE t_info SET value = '128' WHERE key = 'chunk_size'");
    CHECK_THAT(db.error_of(check), Catch::Contains("model: corrupt model BLOB"));
    db.exec("UPDATE t_info SET value = x'' WHERE key = 'model'");
    CHECK(db.error_of(check) == "bebr: the t_info shadow table is corrupt: it changed since the table was opened");
  }
  {
    // Stored vectors: each row's, of the right length.
    CraftedFile f;
    Db db(f.path());
    db.exec("CREATE VIRTUAL TABLE v USING bebr(e float[4], store_vectors=1, chunk_size=64)");
    db.exec("INSERT INTO v(rowid, e) VALUES (1, '[1, 2, 3, 4]'), (2, '[4, 3, 2, 1]')");
    CHECK(db.error_of("INSERT INTO v(v) VALUES ('integrity-check')") == "");
    db.exec("UPDATE v_vectors SET vector = x'00' WHERE rowid = 2");
    CHECK(db.error_of("INSERT INTO v(v) VALUES ('integrity-check')") ==
          "bebr: the v_vectors shadow table is corrupt: the vector of row 2 is missing or not 16 bytes of float32");
    db.exec("DELETE FROM v_vectors WHERE rowid = 2; INSERT INTO v_vectors VALUES (2, zeroblob(16)), (3, zeroblob(16))");
    CHECK(db.error_of("INSERT INTO v(v) VALUES ('integrity-check')") ==
          "bebr: the v_vectors shadow table is corrupt: it holds 3 vectors for 2 rows");
  }
}
