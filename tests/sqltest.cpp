// The SQL golden-test runner: sqltest <extension> <file.test>.
// Built with BEBR_SQLTEST_STATIC (the WASM build, which has no dlopen), bebr is linked in and
// `sqltest --static <file.test>` registers it on the connection at the `load` record, the point
// where the other build loads the library.
//
// A sqllogictest subset. Records are separated by blank lines; '#' starts a comment line.
//   load                      load the extension into the connection (tests begin without it)
//   statement ok              the SQL that follows must succeed
//   statement error           the SQL must fail; after a '----' line, a substring of the message
//   query                     the SQL's rows after '----', one line a row, columns tab-separated;
//                             NULL as NULL, BLOBs as upper-case hex, numbers as SQLite prints them
// Each file runs in a fresh in-memory database. Prints "N passed, N failed".
#include <sqlite3.h>
#if defined(BEBR_SQLTEST_STATIC)
#include <bebr.h>
#endif

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace {

struct Record {
  int line = 0;
  std::string kind;  // load | statement ok | statement error | query
  std::string sql, expected;
};

std::vector<Record> parse(std::istream& in) {
  std::vector<Record> out;
  std::string line;
  int n = 0;
  Record cur;
  bool in_expected = false;
  const auto flush = [&] {
    if (!cur.kind.empty()) out.push_back(cur);
    cur = Record{};
    in_expected = false;
  };
  while (std::getline(in, line)) {
    ++n;
    if (line.empty()) {
      flush();
      continue;
    }
    if (cur.kind.empty()) {
      if (line[0] == '#') continue;
      cur.line = n;
      cur.kind = line.rfind("query", 0) == 0 ? "query" : line;
      continue;
    }
    if (line == "----") {
      in_expected = true;
      continue;
    }
    std::string& dst = in_expected ? cur.expected : cur.sql;
    if (!dst.empty()) dst += '\n';
    dst += line;
  }
  flush();
  return out;
}

std::string render(sqlite3_stmt* s, int c) {
  switch (sqlite3_column_type(s, c)) {
    case SQLITE_NULL: return "NULL";
    case SQLITE_BLOB: {
      const auto* p = static_cast<const unsigned char*>(sqlite3_column_blob(s, c));
      std::string h;
      char buf[3];
      for (int i = 0; i < sqlite3_column_bytes(s, c); ++i) {
        std::snprintf(buf, sizeof buf, "%02X", p[i]);
        h += buf;
      }
      return h;
    }
    default: return reinterpret_cast<const char*>(sqlite3_column_text(s, c));
  }
}

// Runs all statements of `sql`; returns "" or the error message; rows appended to `rows`.
std::string run(sqlite3* db, const std::string& sql, std::string& rows) {
  const char* tail = sql.c_str();
  while (tail && *tail) {
    sqlite3_stmt* s = nullptr;
    if (sqlite3_prepare_v2(db, tail, -1, &s, &tail) != SQLITE_OK) return sqlite3_errmsg(db);
    if (!s) break;
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
      for (int c = 0; c < sqlite3_column_count(s); ++c) {
        if (c) rows += '\t';
        rows += render(s, c);
      }
      rows += "\n";
    }
    if (rc != SQLITE_DONE) {
      std::string msg = sqlite3_errmsg(db);
      sqlite3_finalize(s);
      return msg.empty() ? "error" : msg;
    }
    sqlite3_finalize(s);
  }
  return "";
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: sqltest EXTENSION FILE.test\n");
    return 2;
  }
  std::ifstream in(argv[2]);
  if (!in) {
    std::fprintf(stderr, "cannot read %s\n", argv[2]);
    return 2;
  }
  sqlite3* db = nullptr;
  sqlite3_open(":memory:", &db);
  int passed = 0, failed = 0;
  for (const Record& r : parse(in)) {
    std::string rows, err;
    bool ok = true;
    if (r.kind == "load") {
      char* msg = nullptr;
#if defined(BEBR_SQLTEST_STATIC)
      if (std::string(argv[1]) != "--static") {
        msg = sqlite3_mprintf("this runner has bebr linked in; pass --static, not %s", argv[1]);
        ok = false;
      } else {
        ok = sqlite3_bebr_init(db, &msg, nullptr) == SQLITE_OK;
      }
#else
      sqlite3_enable_load_extension(db, 1);
      ok = sqlite3_load_extension(db, argv[1], "sqlite3_bebr_init", &msg) == SQLITE_OK;
#endif
      if (!ok) err = msg ? msg : "?";
      sqlite3_free(msg);
    } else if (r.kind == "statement ok") {
      err = run(db, r.sql, rows);
      ok = err.empty();
    } else if (r.kind == "statement error") {
      err = run(db, r.sql, rows);
      ok = !err.empty() && err.find(r.expected) != std::string::npos;
      if (err.empty()) err = "(no error)";
    } else if (r.kind == "query") {
      err = run(db, r.sql, rows);
      if (!rows.empty()) rows.pop_back();
      ok = err.empty() && rows == r.expected;
    } else {
      err = "unknown record '" + r.kind + "'";
      ok = false;
    }
    if (ok) {
      ++passed;
    } else {
      ++failed;
      std::fprintf(stderr, "%s:%d: FAILED %s\n%s\n", argv[2], r.line, r.kind.c_str(), r.sql.c_str());
      if (!err.empty()) std::fprintf(stderr, "  error: %s\n", err.c_str());
      if (r.kind == "statement error") std::fprintf(stderr, "  expected error containing: %s\n", r.expected.c_str());
      if (r.kind == "query") std::fprintf(stderr, "  expected:\n%s\n  got:\n%s\n", r.expected.c_str(), rows.c_str());
    }
  }
  sqlite3_close(db);
  std::printf("%d passed, %d failed\n", passed, failed);
  return failed == 0 && passed > 0 ? 0 : 1;
}
