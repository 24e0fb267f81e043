// The shadow tables of a bebr table: names, DDL, configuration, drop, rename, row statements.
#include "shadow.hpp"

#include <algorithm>
#include <cstdlib>
#include <map>

#include "directory.hpp"

namespace bebr::ext {

namespace {

// Cached statements of a Shadow.
enum Stmts {
  kDataVersion,
  kFind,
  kInsertRowid,
  kInsertVector,
  kInsertAux,
  kDeleteRowid,
  kDeleteVector,
  kDeleteAux,
  kReadRow,
  kReadVector,
  kMove,
  kNewChunk,
  kMaxRowid,
  kFindKey,
  kStmtCount
};

// Resets a cached statement when the scope ends.
struct Reset {
  sqlite3_stmt* s;
  ~Reset() {
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
  }
};

// ", m0, m1, ...": shadow columns are declared without a type, so they have no affinity and
// keep values exactly as given.
std::string column_list(const char* prefix, std::size_t n) {
  std::string out;
  for (std::size_t i = 0; i < n; ++i) out += ", " + (prefix + std::to_string(i));
  return out;
}

std::string placeholders(std::size_t first, std::size_t n) {
  std::string out;
  for (std::size_t i = 0; i < n; ++i) out += ", ?" + std::to_string(first + i);
  return out;
}

// One "<type> <name>" entry of metadata.<i> or auxiliary.<i> in <name>_info.
ColumnDef parse_column(const std::string& table, const std::string& v) {
  const auto sp = v.find(' ');
  if (sp == std::string::npos) corrupt(table, "bad column entry '" + v + "'");
  ColumnDef d;
  d.name = v.substr(sp + 1);
  const std::string type = v.substr(0, sp);
  if (type == "integer") d.type = ColumnType::integer;
  else if (type == "float") d.type = ColumnType::real;
  else if (type == "text") d.type = ColumnType::text;
  else if (type == "boolean") d.type = ColumnType::boolean;
  else if (type == "any") d.type = ColumnType::any;
  else corrupt(table, "unknown column type '" + type + "'");
  return d;
}

// A count or size read back from <name>_info: decimal digits without a leading zero (strtoul
// would read "-64" as 4294967232), within lo..hi, the bounds CREATE VIRTUAL TABLE enforces.
std::uint32_t parse_number(const std::string& table, const std::string& key, const std::string& v, std::uint32_t lo,
                           std::uint32_t hi) {
  const bool digits = !v.empty() && v.size() <= 10 && (v.size() == 1 || v[0] != '0') &&
                      std::all_of(v.begin(), v.end(), [](char ch) { return ch >= '0' && ch <= '9'; });
  const unsigned long long n = digits ? std::strtoull(v.c_str(), nullptr, 10) : 0;
  if (!digits || n < lo || n > hi)
    corrupt(table, key + " is '" + v + "'; expected an integer in " + std::to_string(lo) + ".." + std::to_string(hi));
  return static_cast<std::uint32_t>(n);
}

// SQLite's largest column count (SQLITE_MAX_COLUMN): no table has more metadata columns.
constexpr std::uint32_t kMaxColumnIndex = 32767;

}  // namespace

void corrupt(const std::string& table, const std::string& what) {
  throw Error(Errc::corrupt, "the " + table + " shadow table is corrupt: " + what);
}

Shadow::Shadow(sqlite3* db, std::string schema, std::string name, TableConfig cfg)
    : db_(db), schema_(std::move(schema)), name_(std::move(name)), cfg_(std::move(cfg)) {
  stmts_.resize(kStmtCount);
}

std::string Shadow::table(const char* suffix) const {
  return mprintf("\"%w\".\"%w_%s\"", schema_.c_str(), name_.c_str(), suffix);
}

sqlite3_stmt* Shadow::cached(int which, const std::function<std::string()>& sql) {
  if (!stmts_[which]) stmts_[which] = prepare(db_, sql());  // SQL text built only the first time
  return stmts_[which].get();
}

void Shadow::create() {
  const std::size_t nm = cfg_.metadata.size(), na = cfg_.auxiliary.size();
  exec(db_, "CREATE TABLE " + table("info") + "(key TEXT PRIMARY KEY, value) WITHOUT ROWID");
  exec(db_, "CREATE TABLE " + table("chunks") + "(chunk_id INTEGER PRIMARY KEY, data BLOB NOT NULL)");
  exec(db_, "CREATE TABLE " + table("rowids") +
                "(rowid INTEGER PRIMARY KEY, chunk_id INTEGER NOT NULL, "
                "slot INTEGER NOT NULL" +
                column_list("m", nm) + ")");
  if (cfg_.store_vectors)
    exec(db_, "CREATE TABLE " + table("vectors") + "(rowid INTEGER PRIMARY KEY, vector BLOB NOT NULL)");
  if (na)
    exec(db_, "CREATE TABLE " + table("auxiliary") + "(rowid INTEGER PRIMARY KEY" +
                  (cfg_.primary_key ? ", a0 NOT NULL UNIQUE" + column_list("a", na).substr(4) : column_list("a", na)) +
                  ")");
  Stmt s = prepare(db_, "INSERT INTO " + table("info") + "(key, value) VALUES (?1, ?2)");
  const auto put = [&](const std::string& k, const std::string& v) {
    sqlite3_bind_text(s.get(), 1, k.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(s.get(), 2, v.c_str(), -1, SQLITE_TRANSIENT);
    step_done(db_, s.get());
    sqlite3_reset(s.get());
  };
  // Format 4 only where it differs from 3 (a model named by reference), so that tables without
  // a model stay readable by builds that read format 3 only; format 5 for a primary key, which
  // a build without them must not write to as if it were an auxiliary column.
  put("format", cfg_.primary_key ? "5" : cfg_.model_id ? "4" : "3");
  if (cfg_.primary_key) put("primary_key", "0");
  put("column", cfg_.column);
  put("dim", std::to_string(cfg_.dim));
  put("bits", std::to_string(cfg_.bits));
  put("metric", metric_name(cfg_.metric));
  put("store_vectors", cfg_.store_vectors ? "1" : "0");
  put("chunk_size", std::to_string(cfg_.chunk_size));
  put("cache", cfg_.cache ? "1" : "0");
  put("model_name", cfg_.model_name);
  if (cfg_.model_id) {
    put("model_version", std::to_string(cfg_.model_version));
    put("model_id", std::to_string(cfg_.model_id));
    put("model_kind", kind_name(cfg_.model_kind));
    put("code_dim", std::to_string(cfg_.code_dim));
  }
  for (std::size_t i = 0; i < nm; ++i)
    put("metadata." + std::to_string(i),
        std::string(column_type_name(cfg_.metadata[i].type)) + " " + cfg_.metadata[i].name);
  for (std::size_t i = 0; i < na; ++i)
    put("auxiliary." + std::to_string(i),
        std::string(column_type_name(cfg_.auxiliary[i].type)) + " " + cfg_.auxiliary[i].name);
  if (cfg_.model_id) return;
  sqlite3_bind_text(s.get(), 1, "model", -1, SQLITE_STATIC);
  sqlite3_bind_blob64(s.get(), 2, cfg_.model.data(), cfg_.model.size(), SQLITE_TRANSIENT);
  step_done(db_, s.get());
}

namespace {

// The keys each storage format requires and forbids (format 4 names its model; format 3 holds
// a copy of it; format 5 has a primary key, and its model as 4 when it names one, else as 3).
void check_format_keys(const std::string& name, const std::string& format, const std::map<std::string, int>& seen,
                       const TableConfig& c) {
  const std::string table = name + "_info";
  if (format != "3" && format != "4" && format != "5")
    throw Error(Errc::corrupt, "table " + name + " was created by another version of bebr (storage format '" + format +
                                   "'; this build reads formats 3, 4 and 5)");
  for (const char* required : {"dim", "bits", "chunk_size"})
    if (!seen.count(required)) corrupt(table, std::string(required) + " is missing");
  if ((format == "5") != (seen.count("primary_key") != 0))
    corrupt(table, format == "5" ? "primary_key is missing" : "primary_key is set in a format " + format + " table");
  if (format == "4" || (format == "5" && seen.count("model_id"))) {
    for (const char* required : {"model_name", "model_version", "model_id", "model_kind", "code_dim"})
      if (!seen.count(required)) corrupt(table, std::string(required) + " is missing");
    if (seen.count("model")) corrupt(table, "a format 4 table holds no model BLOB");
  } else {
    for (const char* absent : {"model_version", "model_id", "model_kind", "code_dim"})
      if (seen.count(absent)) corrupt(table, std::string(absent) + " is set in a format 3 table");
    if (!c.model_name.empty() && c.model.empty())
      corrupt(table, "model is missing for model_name '" + c.model_name + "'");
  }
}

}  // namespace

TableConfig Shadow::read_config(sqlite3* db, const std::string& schema, const std::string& name) {
  TableConfig c;
  const std::string table = name + "_info";
  Stmt exists = prepare(db, mprintf("SELECT 1 FROM \"%w\".sqlite_master WHERE type = 'table' AND name = '%q_info'",
                                    schema.c_str(), name.c_str()));
  if (const int rc = sqlite3_step(exists.get()); rc == SQLITE_DONE)
    throw Error(Errc::corrupt, "the " + table + " shadow table is missing (dropped by hand?)");
  else if (rc != SQLITE_ROW) fail_sqlite(db, rc);  // an I/O error is not corruption
  Stmt s;
  try {
    s = prepare(db, mprintf("SELECT key, value FROM \"%w\".\"%w_info\"", schema.c_str(), name.c_str()));
  } catch (const Error& e) {
    if (sqlite3_errcode(db) != SQLITE_ERROR) throw;                       // I/O, locks: not corruption
    corrupt(table, std::string("it cannot be read (") + e.what() + ")");  // not the (key, value) table CREATE makes
  }
  std::map<std::size_t, ColumnDef> meta, aux;
  std::string format;
  std::map<std::string, int> seen;
  int rc;
  while ((rc = sqlite3_step(s.get())) == SQLITE_ROW) {
    const char* k = reinterpret_cast<const char*>(sqlite3_column_text(s.get(), 0));
    if (!k) corrupt(table, "a key is NULL");
    const std::string key = k;
    if (seen[key]++) corrupt(table, "key " + key + " is given twice");
    const char* v = reinterpret_cast<const char*>(sqlite3_column_text(s.get(), 1));
    const std::string value = v ? v : "";
    if (key == "format") format = value;
    else if (key == "column") c.column = value;
    else if (key == "dim") c.dim = parse_number(table, key, value, 1, kMaxDim);
    else if (key == "bits") c.bits = parse_number(table, key, value, 1, kMaxBits);
    else if (key == "metric") {
      const auto m = parse_metric(value);
      if (!m) corrupt(table, "unknown metric '" + value + "'");
      c.metric = *m;
    } else if (key == "store_vectors") c.store_vectors = value == "1";
    else if (key == "chunk_size") {
      c.chunk_size = parse_number(table, key, value, kMinChunkSize, kMaxChunkSize);
      if (c.chunk_size % 64) corrupt(table, "chunk_size is '" + value + "'; expected a multiple of 64");
    } else if (key == "cache") c.cache = value == "1";
    else if (key == "model_name") c.model_name = value;
    else if (key == "model_version") c.model_version = parse_number(table, key, value, 1, 0xffffffffu);
    else if (key == "model_id") c.model_id = static_cast<std::uint32_t>(parse_number(table, key, value, 1, 0xffffffffu));
    else if (key == "code_dim") c.code_dim = parse_number(table, key, value, 1, kMaxDim);
    else if (key == "model_kind") {
      if (value == "center") c.model_kind = BinarizerKind::center;
      else if (value == "mlp") c.model_kind = BinarizerKind::mlp;
      else corrupt(table, "unknown model_kind '" + value + "'");
    }
    else if (key == "primary_key") {
      if (value != "0") corrupt(table, "primary_key is '" + value + "'; expected 0 (the first auxiliary column)");
      c.primary_key = true;
    } else if (key.rfind("metadata.", 0) == 0)
      meta[parse_number(table, "key " + key, key.substr(9), 0, kMaxColumnIndex)] = parse_column(table, value);
    else if (key.rfind("auxiliary.", 0) == 0)
      aux[parse_number(table, "key " + key, key.substr(10), 0, kMaxColumnIndex)] = parse_column(table, value);
    else if (key == "model") {
      const auto* p = static_cast<const std::uint8_t*>(sqlite3_column_blob(s.get(), 1));
      c.model.assign(p, p + sqlite3_column_bytes(s.get(), 1));
    }
  }
  if (rc != SQLITE_DONE) fail(sqlite3_errmsg(db));
  check_format_keys(name, format, seen, c);
  // Column entries numbered 0..n-1 (keys are unique and their numbers canonical).
  const auto columns = [&](const std::map<std::size_t, ColumnDef>& m, const char* what) {
    if (!m.empty() && m.rbegin()->first != m.size() - 1)
      corrupt(table, std::string(what) + " entries are not numbered 0.." + std::to_string(m.size() - 1));
  };
  columns(meta, "metadata");
  columns(aux, "auxiliary");
  for (auto& [i, d] : meta) c.metadata.push_back(d);
  for (auto& [i, d] : aux) c.auxiliary.push_back(d);
  if (c.primary_key && (c.auxiliary.empty() || (c.auxiliary[0].type != ColumnType::text &&
                                                 c.auxiliary[0].type != ColumnType::integer)))
    corrupt(table, "the primary key is not a text or integer auxiliary column 0");
  return c;
}

void Shadow::drop() {
  stmts_.clear();
  stmts_.resize(kStmtCount);
  for (const char* const* s = kSuffixes; *s; ++s) exec(db_, "DROP TABLE IF EXISTS " + table(*s));
}

void Shadow::rename(const std::string& new_name) {
  stmts_.clear();
  stmts_.resize(kStmtCount);
  for (const char* const* s = kSuffixes; *s; ++s) {
    Stmt exists = prepare(db_, mprintf("SELECT 1 FROM \"%w\".sqlite_master WHERE type = 'table' AND name = '%q_%q'",
                                       schema_.c_str(), name_.c_str(), *s));
    if (sqlite3_step(exists.get()) != SQLITE_ROW) continue;
    exists.reset();
    exec(db_, mprintf("ALTER TABLE \"%w\".\"%w_%s\" RENAME TO \"%w_%s\"", schema_.c_str(), name_.c_str(), *s,
                      new_name.c_str(), *s));
  }
  name_ = new_name;
}

std::int64_t Shadow::data_version() {
  sqlite3_stmt* s = cached(kDataVersion, [&] { return mprintf("PRAGMA \"%w\".data_version", schema_.c_str()); });
  Reset r{s};
  if (sqlite3_step(s) != SQLITE_ROW) fail(sqlite3_errmsg(db_));
  return sqlite3_column_int64(s, 0);
}

void Shadow::each_chunk(const std::function<void(std::int64_t)>& f) {
  Stmt s = prepare(db_, "SELECT chunk_id FROM " + table("chunks") + " ORDER BY chunk_id");
  int rc;
  while ((rc = sqlite3_step(s.get())) == SQLITE_ROW) f(sqlite3_column_int64(s.get(), 0));
  if (rc != SQLITE_DONE) fail(sqlite3_errmsg(db_));
}

void Shadow::insert_chunk(std::int64_t id, std::size_t bytes) {
  sqlite3_stmt* s = cached(kNewChunk, [&] {
    return std::string("INSERT INTO " + table("chunks") + "(chunk_id, data) VALUES (?1, zeroblob(?2))");
  });
  Reset r{s};
  sqlite3_bind_int64(s, 1, id);
  sqlite3_bind_int64(s, 2, static_cast<sqlite3_int64>(bytes));
  step_done(db_, s);
}

void Shadow::delete_chunk(std::int64_t id) {
  Stmt d = prepare(db_, "DELETE FROM " + table("chunks") + " WHERE chunk_id = ?1");
  sqlite3_bind_int64(d.get(), 1, id);
  step_done(db_, d.get());
}

void Shadow::insert_row(std::int64_t rowid, const Location& at, bool map_row, const RowData& row) {
  const std::size_t nm = cfg_.metadata.size(), na = cfg_.auxiliary.size();
  if (map_row) {
    sqlite3_stmt* s = cached(kInsertRowid, [&] {
      return std::string("INSERT INTO " + table("rowids") + "(rowid, chunk_id, slot" + column_list("m", nm) +
                         ") VALUES (?1, ?2, ?3" + placeholders(4, nm) + ")");
    });
    Reset r{s};
    sqlite3_bind_int64(s, 1, rowid);
    sqlite3_bind_int64(s, 2, at.chunk);
    sqlite3_bind_int64(s, 3, at.slot);
    for (std::size_t j = 0; j < nm; ++j) row.meta[j].bind(s, static_cast<int>(4 + j));
    step_done(db_, s);
  }
  if (cfg_.store_vectors) {
    sqlite3_stmt* v = cached(kInsertVector, [&] {
      return std::string("INSERT INTO " + table("vectors") + "(rowid, vector) VALUES (?1, ?2)");
    });
    Reset r{v};
    sqlite3_bind_int64(v, 1, rowid);
    sqlite3_bind_blob64(v, 2, row.vector.data(), row.vector.size(), SQLITE_STATIC);
    step_done(db_, v);
  }
  if (na) {
    sqlite3_stmt* a = cached(kInsertAux, [&] {
      return std::string("INSERT INTO " + table("auxiliary") + "(rowid" + column_list("a", na) + ") VALUES (?1" +
                         placeholders(2, na) + ")");
    });
    Reset r{a};
    sqlite3_bind_int64(a, 1, rowid);
    for (std::size_t j = 0; j < na; ++j) row.aux[j].bind(a, static_cast<int>(2 + j));
    step_done(db_, a);
  }
}

void Shadow::delete_row(std::int64_t rowid) {
  for (int which : {kDeleteRowid, kDeleteVector, kDeleteAux}) {
    const char* suffix = which == kDeleteRowid ? "rowids" : which == kDeleteVector ? "vectors" : "auxiliary";
    if (which == kDeleteVector && !cfg_.store_vectors) continue;
    if (which == kDeleteAux && cfg_.auxiliary.empty()) continue;
    sqlite3_stmt* d = cached(which, [&] { return std::string("DELETE FROM ") + table(suffix) + " WHERE rowid = ?1"; });
    Reset r{d};
    sqlite3_bind_int64(d, 1, rowid);
    step_done(db_, d);
  }
}

void Shadow::move_row(std::int64_t rowid, const Location& to, bool map_row) {
  if (map_row) {
    sqlite3_stmt* m = cached(kMove, [&] {
      return std::string("UPDATE " + table("rowids") + " SET chunk_id = ?2, slot = ?3 WHERE rowid = ?1");
    });
    Reset r{m};
    sqlite3_bind_int64(m, 1, rowid);
    sqlite3_bind_int64(m, 2, to.chunk);
    sqlite3_bind_int64(m, 3, to.slot);
    step_done(db_, m);
  } else {
    sqlite3_stmt* d =
        cached(kDeleteRowid, [&] { return std::string("DELETE FROM ") + table("rowids") + " WHERE rowid = ?1"; });
    Reset r{d};
    sqlite3_bind_int64(d, 1, rowid);
    step_done(db_, d);
  }
}

void Shadow::read_row(std::int64_t rowid, RowData& row) {
  const std::size_t nm = cfg_.metadata.size(), na = cfg_.auxiliary.size();
  if (nm + na) {
    sqlite3_stmt* s =
        cached(kReadRow, [&] { return row_select() + (nm ? " WHERE r.rowid = ?1" : " WHERE x.rowid = ?1"); });
    Reset r{s};
    sqlite3_bind_int64(s, 1, rowid);
    if (sqlite3_step(s) != SQLITE_ROW)
      corrupt(name_ + (nm ? "_rowids" : "_auxiliary"), "row " + std::to_string(rowid) + " has no entry");
    for (std::size_t j = 0; j < nm; ++j) row.meta.push_back(Value::copy_column(s, static_cast<int>(1 + j)));
    for (std::size_t j = 0; j < na; ++j) row.aux.push_back(Value::copy_column(s, static_cast<int>(1 + nm + j)));
  }
  if (cfg_.store_vectors) {
    sqlite3_stmt* v = cached(
        kReadVector, [&] { return std::string("SELECT vector FROM " + table("vectors") + " WHERE rowid = ?1"); });
    Reset r{v};
    sqlite3_bind_int64(v, 1, rowid);
    if (sqlite3_step(v) != SQLITE_ROW)
      corrupt(name_ + "_vectors", "the vector of row " + std::to_string(rowid) + " is missing");
    const auto* p = static_cast<const std::uint8_t*>(sqlite3_column_blob(v, 0));
    row.vector.assign(p, p + sqlite3_column_bytes(v, 0));
  }
}

std::optional<Location> Shadow::find_listed(std::int64_t rowid) {
  sqlite3_stmt* s =
      cached(kFind, [&] { return std::string("SELECT chunk_id, slot FROM " + table("rowids") + " WHERE rowid = ?1"); });
  Reset r{s};
  sqlite3_bind_int64(s, 1, rowid);
  const int rc = sqlite3_step(s);
  if (rc == SQLITE_DONE) return std::nullopt;
  if (rc != SQLITE_ROW) fail(sqlite3_errmsg(db_));
  const std::int64_t chunk = sqlite3_column_int64(s, 0);
  const sqlite3_int64 at = sqlite3_column_int64(s, 1);
  if (!listed_chunk(chunk) || at < 0 || at >= cfg_.chunk_size)  // a ranged row's home slot is empty
    corrupt(name_ + "_rowids",
            "row " + std::to_string(rowid) + " has chunk " + std::to_string(chunk) + " and slot " + std::to_string(at));
  return Location{chunk, static_cast<std::uint32_t>(at)};
}

std::optional<std::int64_t> Shadow::find_key(const Value& key) {
  sqlite3_stmt* s =
      cached(kFindKey, [&] { return std::string("SELECT rowid FROM " + table("auxiliary") + " WHERE a0 = ?1"); });
  Reset r{s};
  key.bind(s, 1);
  const int rc = sqlite3_step(s);
  if (rc == SQLITE_DONE) return std::nullopt;
  if (rc != SQLITE_ROW) fail(sqlite3_errmsg(db_));
  return sqlite3_column_int64(s, 0);
}

std::optional<std::int64_t> Shadow::max_mapped_rowid() {
  sqlite3_stmt* s = cached(kMaxRowid, [&] { return std::string("SELECT max(rowid) FROM " + table("rowids")); });
  Reset r{s};
  if (sqlite3_step(s) != SQLITE_ROW) fail(sqlite3_errmsg(db_));
  if (sqlite3_column_type(s, 0) != SQLITE_INTEGER) return std::nullopt;
  return sqlite3_column_int64(s, 0);
}

void Shadow::listed_rowids(std::vector<std::int64_t>& out) {
  Stmt s = prepare(db_, "SELECT rowid FROM " + table("rowids") + " WHERE chunk_id >= ?1 ORDER BY rowid");
  sqlite3_bind_int64(s.get(), 1, kListedBase);
  int rc;
  while ((rc = sqlite3_step(s.get())) == SQLITE_ROW) out.push_back(sqlite3_column_int64(s.get(), 0));
  if (rc != SQLITE_DONE) fail(sqlite3_errmsg(db_));
}

std::vector<std::pair<std::int64_t, Location>> Shadow::listed_rows() {
  std::vector<std::pair<std::int64_t, Location>> out;
  Stmt s = prepare(db_, "SELECT rowid, chunk_id, slot FROM " + table("rowids") + " WHERE chunk_id >= ?1");
  sqlite3_bind_int64(s.get(), 1, kListedBase);
  int rc;
  while ((rc = sqlite3_step(s.get())) == SQLITE_ROW) {
    const std::int64_t rowid = sqlite3_column_int64(s.get(), 0);
    const sqlite3_int64 slot = sqlite3_column_int64(s.get(), 2);
    if (slot < 0 || slot >= cfg_.chunk_size)
      corrupt(name_ + "_rowids", "row " + std::to_string(rowid) + " has slot " + std::to_string(slot));
    out.push_back({rowid, Location{sqlite3_column_int64(s.get(), 1), static_cast<std::uint32_t>(slot)}});
  }
  if (rc != SQLITE_DONE) fail(sqlite3_errmsg(db_));
  return out;
}

void Shadow::each_mapped_row(const std::function<void(std::int64_t, sqlite3_int64, std::int64_t, sqlite3_stmt*)>& f) {
  Stmt s = prepare(
      db_, "SELECT chunk_id, slot, rowid" + column_list("m", cfg_.metadata.size()) + " FROM " + table("rowids"));
  int rc;
  while ((rc = sqlite3_step(s.get())) == SQLITE_ROW)
    f(sqlite3_column_int64(s.get(), 0), sqlite3_column_int64(s.get(), 1), sqlite3_column_int64(s.get(), 2), s.get());
  if (rc != SQLITE_DONE) fail(sqlite3_errmsg(db_));
}

std::string Shadow::row_select() const {
  const std::size_t nm = cfg_.metadata.size(), na = cfg_.auxiliary.size();
  if (nm) {
    std::string sql =
        "SELECT r.rowid" + column_list("r.m", nm) + column_list("x.a", na) + " FROM " + table("rowids") + " r";
    if (na) sql += " LEFT JOIN " + table("auxiliary") + " x ON x.rowid = r.rowid";
    return sql;
  }
  if (na) return "SELECT x.rowid" + column_list("x.a", na) + " FROM " + table("auxiliary") + " x";
  return "";
}

}  // namespace bebr::ext
