// Storage of one bebr virtual table (docs/architecture.md): the facade over its parts, each of
// which owns its state:
//   shadow.hpp      the shadow tables: names, DDL, configuration, every SQL statement on them
//   chunk_blob.hpp  a chunk BLOB on disk: the incremental-I/O handle, its layout, its reads/writes
//   directory.hpp   the chunk directory: validity, counts, placement, rowid <-> (chunk, slot)
//   write_log.hpp   the waiting chunk edits and savepoint marks
//   cache.hpp       the resident cache: codes, key coefficients, the filter's copy, metadata
// The facade keeps them consistent: a write goes to the shadow tables, the directory, the log
// and the cache; a read overlays the log on the disk; another connection's commit (PRAGMA
// data_version) or a rollback drops the directory and the cache, which reload as disk + log.
//
//   Store store(db, "main", "docs", cfg, binarizer);
//   store.create();
//   const std::int64_t id = store.insert(std::nullopt, row);
//   store.scan(false, false, [&](const ChunkView& c) { ... });
//   store.flush();                                  // xSync
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "cache.hpp"
#include "chunk_blob.hpp"
#include "directory.hpp"
#include "shadow.hpp"
#include "types.hpp"
#include "write_log.hpp"

namespace bebr::ext {

class Store {
 public:
  Store(sqlite3* db, std::string schema, std::string name, TableConfig cfg, std::shared_ptr<const Binarizer> binarizer);
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  const TableConfig& config() const noexcept { return shadow_.config(); }
  // The table's binarizer: its model (loaded when first needed) or the raw one. A recode, a
  // rollback of one or another connection's committed recode changes it; refresh() first.
  const Binarizer& binarizer() const noexcept { return *binarizer_; }
  // The binarizer of configuration `cfg` of table `name`: a format 4 table's model, loaded from
  // bebr_models only when something must be encoded or decoded (Binarizer::deferred); a format 3
  // table's own model BLOB (checked: corrupt names the table); raw without a model.
  static std::shared_ptr<const Binarizer> binarizer_of(sqlite3* db, const std::string& schema, const TableConfig& cfg,
                                                       const std::string& name);
  // Brings the state in memory up to the database's: after another connection's commit or a
  // rollback, the directory and the cache reload and the model reference is read again.
  void refresh() { sync(); }
  const std::string& name() const noexcept { return shadow_.name(); }
  // The magnitudes of the resident key coefficients (for the filter's error bound).
  const KeyBounds& key_bounds() const noexcept { return cache_.key_bounds(); }
  // "schema"."name_suffix", quoted.
  std::string shadow(const char* suffix) const { return shadow_.table(suffix); }
  static constexpr const char* const* kShadowSuffixes = Shadow::kSuffixes;

  // Creation, reading and removal of the shadow tables. create refuses a shape whose chunk BLOB
  // would exceed the connection's SQLITE_LIMIT_LENGTH (every insert would then fail).
  void create();
  static TableConfig read_config(sqlite3* db, const std::string& schema, const std::string& name) {
    return Shadow::read_config(db, schema, name);
  }
  void drop();
  void rename(const std::string& new_name);

  // Transaction hooks. begin: the table joins a transaction (xBegin). flush writes the waiting
  // chunk edits (xSync); savepoint, release and rollback_to follow SQLite's savepoint levels;
  // rollback drops every waiting edit (xRollback). forget drops the resident state so that the
  // next use reloads it (disk + waiting edits).
  void begin() noexcept { log_.begin(); }
  void flush();
  void savepoint(int level);
  void release(int level) noexcept { log_.release(level); }
  void rollback_to(int level) noexcept;
  void rollback() noexcept;
  void forget() noexcept;

  // Chunk ids from kListedBase up are listed chunks; below it, ranged ones (directory.hpp).
  static constexpr std::int64_t kListedBase = ext::kListedBase;
  static bool listed(std::int64_t chunk) noexcept { return listed_chunk(chunk); }

  // Reads.
  std::optional<Location> find(std::int64_t rowid);
  // The rowid of the row whose primary key is `key` (a table with one); none when no row has it.
  std::optional<std::int64_t> find_key(const Value& key) { return shadow_.find_key(key); }
  RowData read_row(std::int64_t rowid, const Location& at);
  // Every rowid, ascending (for a full scan of a table with neither metadata nor auxiliary
  // columns, whose rows have no row in any shadow table but the chunks).
  std::vector<std::int64_t> rowids();
  // "SELECT <rowid>, m0.., a0.. FROM ..." over every row, aliased r (metadata) and x
  // (auxiliary); empty when the table has neither metadata nor auxiliary columns.
  std::string row_select() const { return shadow_.row_select(); }
  // Calls visit once per chunk in chunk_id order. Metadata is loaded first when `metadata`.
  void scan(bool metadata, bool keys, const std::function<void(const ChunkView&)>& visit);

  // Writes (inside the caller's transaction). insert returns the rowid (one more than the
  // largest, as SQLite does, when `rowid` is empty); the caller has checked that an explicit
  // rowid is free.
  std::int64_t insert(std::optional<std::int64_t> rowid, const RowData& row);
  void remove(std::int64_t rowid, const Location& at);
  // Makes ranged chunks for the rowid ranges that fill them, moves listed rows into their
  // ranged chunk where it exists, then packs the listed rows into the lowest free slots so every
  // listed chunk but the last is full, and frees the emptied chunks. Returns the rows moved.
  // (optimize.cpp)
  std::size_t optimize();
  // Codes every row again from its stored vector with `model`, of the same kind, code width and
  // bits as the table's (the caller checks), then names it in <name>_info (model_name@version)
  // and makes it the table's binarizer; returns the rows coded. Inside the caller's transaction:
  // a rollback restores the old codes on disk and, at the next refresh, the old model. Calls
  // report(done, total) every 1024 rows; an interrupt (sqlite3_interrupt) stops it with
  // Error(interrupted). (recode.cpp)
  std::size_t recode(std::shared_ptr<const Binarizer> model, const std::string& model_name, sqlite3_int64 version,
                     const std::function<void(std::size_t, std::size_t)>& report);
  // Verifies every shadow table on disk (after writing the waiting edits) and throws the error
  // of a corrupt shadow table at the first problem (integrity.cpp).
  void check_integrity();

 private:
  void sync();  // reload the directory if another connection committed
  void load_directory();
  void reload_model();  // the model reference as <name>_info holds it now
  void load_codes();
  void load_metadata();
  void scan_disk(const std::function<void(const ChunkView&)>& visit);
  Location allocate();  // a free slot of a listed chunk
  // Where a new row goes: its ranged chunk when that exists or is worth making, else a listed one.
  Location place(std::int64_t rowid);
  void new_chunk(std::int64_t id);
  void free_chunk(std::int64_t chunk);
  std::int64_t next_rowid();
  void move_row(std::int64_t rowid, const Location& from, const Location& to, const std::uint8_t* body);
  void read_slot(std::int64_t chunk, std::uint32_t slot, std::int64_t* rowid, std::uint8_t* body);
  void maybe_flush();
  std::uint32_t chunk_size() const noexcept { return config().chunk_size; }
  std::size_t body_bytes() const noexcept { return kScalarBytes + layout_.planes_bytes(); }

  Shadow shadow_;
  std::shared_ptr<const Binarizer> binarizer_;
  ChunkLayout layout_;
  Directory dir_;
  WriteLog log_;
  ResidentCache cache_;
  std::int64_t data_version_ = -1;  // of the state in memory; -1: none
};

}  // namespace bebr::ext
