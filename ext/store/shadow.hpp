// The shadow tables of a bebr table and every SQL statement on them: their names, creation,
// the configuration in <name>_info, drop and rename, and the row statements on <name>_chunks,
// <name>_rowids, <name>_vectors and <name>_auxiliary (docs/architecture.md, "Shadow tables").
//
//   <name>_info(key, value)                          the configuration (read_config)
//   <name>_chunks(chunk_id, data)                    one chunk BLOB a row (chunk_blob.hpp)
//   <name>_rowids(rowid, chunk_id, slot, m0..)       the rows of listed chunks and, when the table
//                                                    has metadata columns, every row with them
//   <name>_vectors(rowid, vector)                    the float32 vectors (store_vectors=1)
//   <name>_auxiliary(rowid, a0..)                    the auxiliary columns
//
//   Shadow s(db, "main", "docs", cfg);
//   s.create();
//   s.insert_row(7, Location{0, 7}, false, row);
//   TableConfig again = Shadow::read_config(db, "main", "docs");
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "../common.hpp"
#include "types.hpp"

namespace bebr::ext {

// Throws the error of a corrupt shadow table: "the <table> shadow table is corrupt: <what>".
[[noreturn]] void corrupt(const std::string& table, const std::string& what);

class Shadow {
 public:
  static constexpr const char* kSuffixes[] = {"info", "chunks", "rowids", "vectors", "auxiliary", nullptr};

  Shadow(sqlite3* db, std::string schema, std::string name, TableConfig cfg);

  sqlite3* db() const noexcept { return db_; }
  const std::string& schema() const noexcept { return schema_; }
  const std::string& name() const noexcept { return name_; }
  const TableConfig& config() const noexcept { return cfg_; }
  // "schema"."name_suffix", quoted.
  std::string table(const char* suffix) const;

  // Creation, reading and removal of the tables; rename renames those that exist.
  void create();
  static TableConfig read_config(sqlite3* db, const std::string& schema, const std::string& name);
  void drop();
  void rename(const std::string& new_name);

  // The table's model reference in <name>_info and in config(): name, version, id, kind and code
  // width of `shape` (storage format 4, which names the model; a format 3 table's model BLOB
  // goes). set_model writes it (inside the caller's transaction); adopt_model only takes the
  // reference of `disk`, the configuration as <name>_info holds it now (after a rollback).
  void set_model(const std::string& model_name, sqlite3_int64 version, const CodeShape& shape);
  void adopt_model(const TableConfig& disk);
  // The model reference <name>_info holds now: model_name, model_version and model_id (0 and 0
  // for a format 3 table), without reading a format 3 table's model BLOB.
  struct ModelReference {
    std::string name;
    sqlite3_int64 version = 0;
    std::uint32_t id = 0;
  };
  ModelReference model_reference();

  // PRAGMA data_version of the table's schema.
  std::int64_t data_version();
  // <name>_chunks: calls f(chunk_id) for every chunk, ascending; a new zeroed chunk BLOB of
  // `bytes`; a chunk's removal.
  void each_chunk(const std::function<void(std::int64_t)>& f);
  void insert_chunk(std::int64_t id, std::size_t bytes);
  void delete_chunk(std::int64_t id);

  // A row's rows in <name>_rowids (when map_row), <name>_vectors and <name>_auxiliary.
  void insert_row(std::int64_t rowid, const Location& at, bool map_row, const RowData& row);
  void delete_row(std::int64_t rowid);
  // The row's map row moved to `to`; map_row false: it has no map row there (a ranged row of a
  // table without metadata), so it is deleted.
  void move_row(std::int64_t rowid, const Location& to, bool map_row);
  // Fills row.meta, row.aux and row.vector of a row.
  void read_row(std::int64_t rowid, RowData& row);
  // The rowid of the row whose primary key (a0 of <name>_auxiliary) is `key`.
  std::optional<std::int64_t> find_key(const Value& key);
  // The map row of a row in a listed chunk, checked; none when there is none.
  std::optional<Location> find_listed(std::int64_t rowid);
  // max(rowid) of <name>_rowids; none when it is empty.
  std::optional<std::int64_t> max_mapped_rowid();
  // The rowids of the listed chunks' rows, ascending, appended to out.
  void listed_rowids(std::vector<std::int64_t>& out);
  // The listed chunks' rows with where they are (slots checked to be in range).
  std::vector<std::pair<std::int64_t, Location>> listed_rows();
  // Calls f(chunk, slot, rowid, stmt) for every row of <name>_rowids; the metadata values are
  // columns 3 .. 3 + metadata - 1 of stmt.
  void each_mapped_row(const std::function<void(std::int64_t, sqlite3_int64, std::int64_t, sqlite3_stmt*)>& f);
  // "SELECT <rowid>, m0.., a0.. FROM ..." over every row, aliased r (metadata) and x
  // (auxiliary); empty when the table has neither metadata nor auxiliary columns.
  std::string row_select() const;

 private:
  sqlite3_stmt* cached(int which, const std::function<std::string()>& sql);

  sqlite3* db_;
  std::string schema_, name_;
  TableConfig cfg_;
  std::vector<Stmt> stmts_;
};

}  // namespace bebr::ext
