// Storage of one bebr virtual table: its shadow tables, the chunk directory, and the
// per-connection resident cache of codes and metadata (docs/architecture.md).
//
// Codes live in chunks of C = `chunk_size` slots, one row of <name>_chunks(chunk_id, data) per
// chunk. A chunk is of one of two kinds, told by its id:
//   ranged (id < 2^62): chunk id holds the rows floor(rowid / C) == id, row r in slot r - id C,
//     so it stores no rowids and needs no map row: the common case of dense rowids;
//   listed (id >= 2^62): any rows, each in a free slot, with its rowid stored in the chunk and
//     its (chunk_id, slot) in <name>_rowids.
// A chunk's data BLOB is, in order:
//   validity  C / 8 bytes, bit s set when slot s holds a row
//   rowids    C little-endian int64 (listed chunks only)
//   planes    the planes of every slot (C x planes_bytes): the scan-friendly layout
//   scales    C float32, then offsets C float32 (not for the raw binarizer: always 0)
// The resident cache holds validity, rowids (computed for ranged chunks), scales and offsets in
// one arena and the planes in another, then the chunk's key coefficients.
// Chunk edits are kept in memory, in order, and written in place with incremental BLOB I/O at
// the next flush: when the transaction commits, or when no savepoint is open and many edits
// are waiting. Reads of chunks overlay the waiting edits. Each savepoint (SQLite opens one per
// statement inside a transaction) remembers how many edits there were; ROLLBACK TO drops the
// later ones, and memory is rebuilt as disk + the remaining edits. So a bulk load writes each
// chunk a few times, not once per row.
// <name>_rowids(rowid, chunk_id, slot, metadata...) maps the rows of listed chunks to slots and,
// when the table has metadata columns, holds every row with its metadata; <name>_vectors(rowid,
// vector) the float32 vectors (store_vectors=1); <name>_auxiliary(rowid, auxiliary columns...)
// the auxiliary columns.
//
// The directory (validity and counts) is always in memory: inserts find a slot and lookups find
// a ranged row without a query. With cache=1 the codes, their statistics and rowids are resident
// in aligned memory after the first kNN query; metadata values are resident after the first
// filtered query. All of it is updated by this connection's writes, forgotten on rollback, and
// rebuilt when PRAGMA data_version says another connection has committed.
#pragma once

#include <bit>
#include <functional>
#include <limits>
#include <map>
#include <optional>
#include <set>

#include "bebr/knn.hpp"
#include "common.hpp"
#include "values.hpp"

namespace bebr::ext {

class ChunkBlob;  // table_store.cpp

struct TableConfig {
  std::string column = "embedding";
  std::uint32_t dim = 0;
  std::uint32_t bits = 0;  // 0 while parsing: not given
  Metric metric = Metric::cosine;
  std::string model_name;
  std::vector<std::uint8_t> model;  // the model BLOB, empty for raw
  bool store_vectors = false;
  std::uint32_t chunk_size = 1024;
  bool cache = true;
  std::vector<ColumnDef> metadata, auxiliary;
};

// Memory for the resident cache: 64-byte aligned blocks carved from large anonymous mappings
// that ask for transparent huge pages (a 100 MB cache then costs tens of page faults, not tens
// of thousands). Blocks are zeroed and live until clear().
class Arena {
 public:
  Arena() = default;
  ~Arena() { clear(); }
  Arena(const Arena&) = delete;
  Arena& operator=(const Arena&) = delete;
  // A block of `bytes`; the next slab is at least `hint` bytes (pass the expected total).
  std::uint8_t* alloc(std::size_t bytes, std::size_t hint = 0);
  void clear() noexcept;

 private:
  struct Slab {
    std::uint8_t* base;
    std::size_t size, used;
  };
  std::vector<Slab> slabs_;
};

// A 64-byte aligned byte buffer.
class AlignedBytes {
 public:
  AlignedBytes() = default;
  explicit AlignedBytes(std::size_t n);
  std::uint8_t* data() noexcept { return p_.get(); }
  const std::uint8_t* data() const noexcept { return p_.get(); }

 private:
  struct Free {
    void operator()(std::uint8_t* p) const noexcept;
  };
  std::unique_ptr<std::uint8_t, Free> p_;
};

struct Chunk {
  std::int64_t id = 0;
  std::uint32_t count = 0;            // rows held
  std::vector<std::uint64_t> valid;   // chunk_size bits
  // Resident codes (cache=1, after the first kNN query): the chunk BLOB's image without its
  // planes (validity as on disk at load, the directory's `valid` is current; rowids; scales;
  // offsets), the planes, and once a query needs them the key coefficients P, R, S, T, U of the
  // filter (only those the table's layout needs), each in its own arena.
  std::uint8_t* image = nullptr;
  std::uint8_t* planes = nullptr;     // the codes' planes, chunk_size x planes bytes
  std::uint8_t* nibbles = nullptr;    // four-bit tables, where kept: the codes as nibbles
  float* key[5] = {nullptr, nullptr, nullptr, nullptr, nullptr};
  // With the keys, where they fit in 16 bits: each slot's digit sum, and the coefficients' range
  // over every slot written since the keys were made (a superset of the valid ones: still a
  // bound), for the filter's integer pre-filter (CodeBlock::range).
  std::uint16_t* sums16 = nullptr;
  KeyRange range;
  // No code written since the image was made has a scale <= 0 or an offset != 0 (CodeBlock).
  bool hamming_ok = true;
  // Metadata values by column then slot (after the first filtered query).
  std::vector<std::vector<Value>> meta;
};

// One chunk as the scan sees it (resident or just read from the database).
struct ChunkView {
  const Chunk& chunk;  // validity and metadata
  const std::int64_t* rowids;
  CodeBlock codes;     // codes.n = chunk_size
};

// Where a row lives.
struct Location {
  std::int64_t chunk = 0;
  std::uint32_t slot = 0;
};

// Everything stored for one row.
struct RowData {
  std::vector<std::uint8_t> body;    // code body: scale, offset, planes
  std::vector<std::uint8_t> vector;  // float32 LE bytes; empty unless store_vectors
  std::vector<Value> meta, aux;
};

class Store {
 public:
  Store(sqlite3* db, std::string schema, std::string name, TableConfig cfg, std::shared_ptr<const Binarizer> binarizer);
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  const TableConfig& config() const noexcept { return cfg_; }
  const Binarizer& binarizer() const noexcept { return *binarizer_; }
  const std::string& name() const noexcept { return name_; }
  // The magnitudes of the resident key coefficients (for the filter's error bound).
  const KeyBounds& key_bounds() const noexcept { return bounds_; }
  // "schema"."name_suffix", quoted.
  std::string shadow(const char* suffix) const;
  static const char* const kShadowSuffixes[];

  // Creation, reading and removal of the shadow tables.
  void create();
  static TableConfig read_config(sqlite3* db, const std::string& schema, const std::string& name);
  void drop();
  void rename(const std::string& new_name);

  // Transaction hooks. flush writes the waiting chunk edits (xSync); savepoint, release and
  // rollback_to follow SQLite's savepoint levels; rollback drops every waiting edit (xRollback).
  // forget drops the resident state so that the next use reloads it (disk + waiting edits).
  void flush();
  void savepoint(int level);
  void release(int level) noexcept;
  void rollback_to(int level) noexcept;
  void rollback() noexcept;
  void forget() noexcept;

  // Chunk ids from kListedBase up are listed chunks; below it, ranged ones (see the top).
  static constexpr std::int64_t kListedBase = std::int64_t{1} << 62;
  static bool listed(std::int64_t chunk) noexcept { return chunk >= kListedBase; }

  // Reads.
  std::optional<Location> find(std::int64_t rowid);
  RowData read_row(std::int64_t rowid, const Location& at);
  // Every rowid, ascending (for a full scan of a table with neither metadata nor auxiliary
  // columns, whose rows have no row in any shadow table but the chunks).
  std::vector<std::int64_t> rowids();
  // "SELECT <rowid>, m0.., a0.. FROM ..." over every row, aliased r (metadata) and x
  // (auxiliary); empty when the table has neither metadata nor auxiliary columns.
  std::string row_select() const;
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
  std::size_t optimize();

 private:
  void sync();  // reload the directory if another connection committed
  void load_directory();
  void load_codes();
  void load_metadata();
  Location allocate();  // a free slot of a listed chunk
  // Where a new row goes: its ranged chunk when that exists or is worth making, else a listed one.
  Location place(std::int64_t rowid);
  Chunk& new_chunk(std::int64_t id);
  std::int64_t next_rowid();
  // The ranged chunk and slot of a rowid, and back (two's complement wrap-around keeps the
  // products in range at the ends of the rowid space).
  std::int64_t home(std::int64_t rowid) const noexcept;
  std::uint32_t home_slot(std::int64_t rowid) const noexcept;
  std::int64_t rowid_at(std::int64_t chunk, std::uint32_t slot) const noexcept {
    return static_cast<std::int64_t>(static_cast<std::uint64_t>(chunk) * cfg_.chunk_size + slot);
  }
  bool has_listed() const noexcept { return chunks_.lower_bound(kListedBase) != chunks_.end(); }
  void move_row(std::int64_t rowid, const Location& from, const Location& to, const std::uint8_t* body);
  void free_chunk(std::int64_t chunk);
  void read_slot(std::int64_t chunk, std::uint32_t slot, std::int64_t* rowid, std::uint8_t* body);
  void set_resident(Chunk& c, std::uint32_t slot, std::int64_t rowid, const RowData& row);
  void compute_keys(Chunk& c, std::size_t first, std::size_t n);
  void check_hamming(Chunk& c, std::size_t slot) const noexcept;
  void widen_range(Chunk& c, std::size_t slot) const noexcept;
  void write_slot(Chunk& c, std::uint32_t slot, std::int64_t rowid, const std::uint8_t* body);
  CodeBlock block(const Chunk& c) const;
  sqlite3_stmt* cached(int which, const std::function<std::string()>& sql);

  sqlite3* db_;
  std::string schema_, name_;
  TableConfig cfg_;
  std::shared_ptr<const Binarizer> binarizer_;
  std::size_t planes_bytes_;
  KeyLayout layout_;
  KeyBounds bounds_;

  bool loaded_ = false, codes_ = false, metadata_ = false;
  std::int64_t data_version_ = -1;
  std::map<std::int64_t, Chunk> chunks_;
  std::set<std::int64_t> open_;  // listed chunks with a free slot
  std::size_t rows_ = 0;
  // The rowid of this connection's last insert, and how many inserts before it ran up to it one
  // by one (place).
  std::optional<std::int64_t> last_insert_;
  std::uint32_t run_ = 0;
  bool follows_last(std::int64_t rowid) const noexcept {
    return last_insert_ && rowid > std::numeric_limits<std::int64_t>::min() && *last_insert_ == rowid - 1;
  }

  // Unflushed chunk edits, in order: a slot set to (rowid, body), or cleared. Bodies (scale,
  // offset, planes) sit back to back in bodies_, which keeps its capacity across flushes.
  struct Edit {
    std::int64_t chunk = 0;
    std::uint32_t slot = 0;
    bool set = false;
    std::int64_t rowid = 0;
    std::size_t body = 0;  // offset in bodies_
  };
  std::vector<Edit> log_;
  std::vector<std::uint8_t> bodies_;
  std::vector<std::pair<int, std::size_t>> marks_;  // open savepoints: level, log size then
  // Per edited chunk, the latest set edit of each slot (index into log_, -1 for none): what a
  // flush writes (the validity bitmap is the directory's).
  struct Patch {
    std::vector<std::int32_t> edit;
  };
  std::map<std::int64_t, Patch> pending_;
  const Edit* waiting(std::int64_t chunk, std::uint32_t slot) const;
  const std::uint8_t* body_of(const Edit& e) const noexcept { return bodies_.data() + e.body; }
  void log_edit(std::int64_t chunk, std::uint32_t slot, std::int64_t rowid, const std::uint8_t* body);
  void note_edit(std::size_t index);
  void rebuild_pending();
  void replay_directory();
  void maybe_flush();
  // Where each part of a chunk BLOB starts; npos for a part the kind of chunk does not store.
  struct DiskLayout {
    std::size_t rowids, planes, scales, offsets, bytes;
  };
  DiskLayout ranged_, listed_;
  const DiskLayout& disk(std::int64_t chunk) const noexcept { return listed(chunk) ? listed_ : ranged_; }
  void check_size(ChunkBlob& blob, std::int64_t chunk) const;
  std::size_t validity_bytes_;
  // A resident chunk is split: its planes in one arena, where consecutive chunks' planes follow
  // each other so a scan reads one unbroken stream (25-35% faster than whole images side by side,
  // measured), and the rest of its image (validity, rowids, scales, offsets, whatever the kind
  // of chunk stores on disk) in another. Key coefficients (64-byte rounded) in a third.
  std::size_t image_bytes_, chunk_planes_bytes_, keys_bytes_;
  // Four-bit tables on CPUs with a nibble kernel (Kernels::sdc_filter_nibbles) also keep their
  // codes as nibbles for the filter: the same bytes again, read instead of the planes, with one
  // multiply-add per digit instead of 16 plane-pair counts. 0: not kept.
  std::size_t nibble_bytes_ = 0, nibble_words_ = 0;
  // Two-bit tables on levels with a fast-scan filter (Kernels::sdc_filter_fastscan2) keep their
  // codes in that layout instead, in the same arena: blocks of 32 codes, the same bytes again.
  bool fastscan_ = false;
  bool sums16_ = false;  // digit sums kept with the keys (digit_sums16_fit)
  Arena arena_, planes_arena_, key_arena_, nibbles_arena_;
  // Reads a chunk's BLOB into a resident chunk's image and planes: three incremental reads.
  void read_resident(ChunkBlob& blob, Chunk& c);
  void make_resident(Chunk& c, std::size_t expected_chunks);
  // The key coefficients of a resident chunk, computed when a query first needs them (queries
  // that take the Hamming filter never do).
  void ensure_keys(Chunk& c);
  // The resident image: validity, rowids (8 C), scales (4 C), offsets (4 C).
  std::int64_t* rowids_of(const Chunk& c) const noexcept {
    return reinterpret_cast<std::int64_t*>(c.image + validity_bytes_);
  }
  float* scales_of(const Chunk& c) const noexcept {
    return reinterpret_cast<float*>(c.image + validity_bytes_ + 8 * cfg_.chunk_size);
  }
  float* offsets_of(const Chunk& c) const noexcept {
    return reinterpret_cast<float*>(c.image + validity_bytes_ + 12 * cfg_.chunk_size);
  }
  std::vector<Stmt> stmts_;
};

}  // namespace bebr::ext
