// A database connection with extensions loaded, for the tests and benchmarks that drive bebr
// through SQL: the tests' Db() opens an in-memory database with the built extension
// (BEBR_EXTENSION_PATH), the benchmarks name the file and the extensions.
//   Db db;  db.exec("CREATE VIRTUAL TABLE t USING bebr(e float[4])");
//   Db bench("/tmp/x.db", {"build/bebr", "vec0.so"});
#pragma once

#include <sqlite3.h>
#include <unistd.h>

#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

#include "testing.hpp"

namespace bebr::testing {

// A new empty file under /tmp for a database (the caller removes it and its journals).
inline std::string temp_db_path(const char* prefix) {
  std::string path = std::string("/tmp/") + prefix + "_XXXXXX";
  const int fd = mkstemp(path.data());
  if (fd < 0) throw std::runtime_error("cannot make a temporary file");
  close(fd);
  return path;
}

class Db {
 public:
  // Opens `path` and loads each extension in turn, SQLite finding each entry point from the
  // file name (bebr.so: sqlite3_bebr_init; vec0.so: sqlite3_vec_init).
  Db(const std::string& path, const std::vector<std::string>& extensions) {
    open(path);
    for (const auto& e : extensions) load(e.c_str(), nullptr, e);
  }
#ifdef BEBR_EXTENSION_PATH
  // The built extension (unless load is false).
  explicit Db(const std::string& path = ":memory:", bool load_bebr = true) {
    open(path);
    if (load_bebr) load(BEBR_EXTENSION_PATH, "sqlite3_bebr_init", "bebr");
  }
#endif
  ~Db() { sqlite3_close(db_); }
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;
  sqlite3* get() const { return db_; }

  void exec(const std::string& sql) {
    char* err = nullptr;
    if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
      std::string msg = err ? err : "?";
      sqlite3_free(err);
      throw std::runtime_error(msg);
    }
  }

  // A statement with bound parameters; step() it yourself.
  class Stmt {
   public:
    Stmt(sqlite3* db, const std::string& sql) : db_(db) {
      if (sqlite3_prepare_v2(db, sql.c_str(), -1, &s_, nullptr) != SQLITE_OK)
        throw std::runtime_error(sqlite3_errmsg(db));
    }
    ~Stmt() { sqlite3_finalize(s_); }
    Stmt(const Stmt&) = delete;
    Stmt& operator=(const Stmt&) = delete;
    Stmt& bind(int i, const void* data, std::size_t n) {
      sqlite3_bind_blob64(s_, i, data, n, SQLITE_TRANSIENT);
      return *this;
    }
    // A BLOB SQLite does not copy: `data` must stay as it is until the statement is reset and
    // rebound (the benchmarks' timed loops).
    Stmt& bind_static(int i, const void* data, std::size_t n) {
      sqlite3_bind_blob64(s_, i, data, n, SQLITE_STATIC);
      return *this;
    }
    Stmt& bind(int i, const std::vector<float>& v) { return bind(i, v.data(), v.size() * 4); }
    Stmt& bind(int i, const std::vector<std::uint8_t>& v) { return bind(i, v.data(), v.size()); }
    Stmt& bind(int i, const std::string& t) {
      sqlite3_bind_text(s_, i, t.c_str(), -1, SQLITE_TRANSIENT);
      return *this;
    }
    Stmt& bind(int i, double v) {
      sqlite3_bind_double(s_, i, v);
      return *this;
    }
    Stmt& bind(int i, long long v) {
      sqlite3_bind_int64(s_, i, v);
      return *this;
    }
    // true: a row; false: done; throws with SQLite's message on error.
    bool step() {
      const int rc = sqlite3_step(s_);
      if (rc == SQLITE_ROW) return true;
      if (rc == SQLITE_DONE) return false;
      throw std::runtime_error(sqlite3_errmsg(db_));
    }
    void reset() { sqlite3_reset(s_); }
    // Steps to the end and resets; returns the rows.
    int drain() {
      int n = 0;
      while (step()) ++n;
      reset();
      return n;
    }
    sqlite3_stmt* get() const { return s_; }
    double real(int c) const { return sqlite3_column_double(s_, c); }
    long long integer(int c) const { return sqlite3_column_int64(s_, c); }
    std::string text(int c) const {
      const auto* p = sqlite3_column_text(s_, c);
      return p ? reinterpret_cast<const char*>(p) : "NULL";
    }
    std::vector<std::uint8_t> blob(int c) const {
      const auto* p = static_cast<const std::uint8_t*>(sqlite3_column_blob(s_, c));
      return std::vector<std::uint8_t>(p, p + sqlite3_column_bytes(s_, c));
    }
    bool is_null(int c) const { return sqlite3_column_type(s_, c) == SQLITE_NULL; }

   private:
    sqlite3* db_;
    sqlite3_stmt* s_ = nullptr;
  };

  Stmt prepare(const std::string& sql) { return Stmt(db_, sql); }

  // The first column of the first row of `sql` as text ("" when there is none).
  std::string text(const std::string& sql) {
    Stmt s(db_, sql);
    return s.step() && !s.is_null(0) ? s.text(0) : "";
  }

  // The error message a statement fails with, or "" if it succeeds.
  std::string error_of(const std::string& sql) {
    try {
      Stmt s(db_, sql);
      while (s.step()) {
      }
    } catch (const std::runtime_error& e) {
      return e.what();
    }
    return "";
  }

 private:
  void open(const std::string& path) {
    if (sqlite3_open(path.c_str(), &db_) != SQLITE_OK) {
      sqlite3_close(db_);
      throw std::runtime_error("cannot open " + path);
    }
  }
  // Called from the constructors: on failure the destructor does not run, so close here.
  void load(const char* file, const char* entry, const std::string& what) {
    sqlite3_enable_load_extension(db_, 1);
    char* err = nullptr;
    if (sqlite3_load_extension(db_, file, entry, &err) != SQLITE_OK) {
      std::string msg = err ? err : "?";
      sqlite3_free(err);
      sqlite3_close(db_);
      throw std::runtime_error("cannot load " + what + ": " + msg);
    }
  }

  sqlite3* db_ = nullptr;
};

inline std::vector<float> floats_of(const std::vector<std::uint8_t>& b) {
  std::vector<float> v(b.size() / 4);
  std::memcpy(v.data(), b.data(), v.size() * 4);
  return v;
}

// Adds `rows` random vectors (dim floats around `shift`, from `seed`) to a plain table
// items(id INTEGER PRIMARY KEY, v BLOB), created if missing: training data.
inline void fill_items(Db& db, std::uint32_t dim, int rows, float shift, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  db.exec("CREATE TABLE IF NOT EXISTS items(id INTEGER PRIMARY KEY, v BLOB)");
  for (int i = 0; i < rows; ++i) db.prepare("INSERT INTO items(v) VALUES (?1)").bind(1, random_vector(rng, dim, shift)).step();
}

}  // namespace bebr::testing
