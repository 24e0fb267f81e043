// libFuzzer target: the bebr virtual table's declaration, CREATE VIRTUAL TABLE t USING
// bebr(<input>), with whatever columns and options the input spells. A declaration is refused
// with an error, or the table works: it counts its rows, takes 'optimize' and drops cleanly,
// leaving no shadow table behind.
#include <sqlite3.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

extern "C" int sqlite3_bebr_init(sqlite3* db, char** err, const sqlite3_api_routines* api);

namespace {

[[noreturn]] void finding(const std::string& what, sqlite3* db) {
  std::fprintf(stderr, "fuzz_declaration: %s: %s\n", what.c_str(), sqlite3_errmsg(db));
  std::abort();
}

long long count(sqlite3* db, const char* sql) {
  sqlite3_stmt* s = nullptr;
  if (sqlite3_prepare_v2(db, sql, -1, &s, nullptr) != SQLITE_OK) finding(sql, db);
  long long n = -1;
  if (sqlite3_step(s) == SQLITE_ROW) n = sqlite3_column_int64(s, 0);
  sqlite3_finalize(s);
  return n;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  sqlite3_auto_extension(reinterpret_cast<void (*)()>(sqlite3_bebr_init));
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size > 4096) return 0;
  const std::string args(reinterpret_cast<const char*>(data), size);
  if (args.find('\0') != std::string::npos) return 0;
  sqlite3* db = nullptr;
  if (sqlite3_open(":memory:", &db) != SQLITE_OK) std::abort();
  const std::string create = "CREATE VIRTUAL TABLE t USING bebr(" + args + ")";
  if (sqlite3_exec(db, create.c_str(), nullptr, nullptr, nullptr) == SQLITE_OK &&
      count(db, "SELECT count(*) FROM sqlite_schema WHERE name = 't'") == 1) {
    if (count(db, "SELECT count(*) FROM t") != 0) finding("a new table is not empty", db);
    if (sqlite3_exec(db, "INSERT INTO t(t) VALUES ('optimize')", nullptr, nullptr, nullptr) != SQLITE_OK)
      finding("optimize on an empty table failed", db);
    if (sqlite3_exec(db, "DROP TABLE t", nullptr, nullptr, nullptr) != SQLITE_OK) finding("DROP TABLE failed", db);
    if (count(db, "SELECT count(*) FROM sqlite_schema") != 0) finding("DROP TABLE left tables behind", db);
  }
  sqlite3_close(db);
  return 0;
}
