// The bebr virtual table: codes stored in the database in chunks, kNN by SDC over a resident
// cache, filters on metadata inside the scan, optional exact rescoring.
//
//   CREATE VIRTUAL TABLE docs USING bebr(embedding float[1024], book text, chapter integer,
//                                        +passage text, model='bible_c2', store_vectors=1);
//   INSERT INTO docs(rowid, embedding, book, chapter, passage) VALUES (...);
//   SELECT rowid, distance, passage FROM docs
//    WHERE embedding MATCH :q AND k = 10 AND book IN ('John', 'Mark') AND rescore = 40;
//   INSERT INTO docs(docs) VALUES ('optimize');   -- compact the chunks
//
// This header holds the two objects SQLite hands back to every slot: the table and its cursor.
// The slots live in module.cpp (registration, cursors, transactions), declaration.cpp (the
// CREATE VIRTUAL TABLE arguments), plan.cpp (xBestIndex), query.cpp (xFilter: kNN, point
// lookups, full scans), filters.cpp (the metadata and rowid filters of a kNN query) and
// write.cpp (xUpdate). Storage is the Store (store/store.hpp); docs/architecture.md documents
// the shadow tables and the plan encoding.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "../common.hpp"
#include "../store/store.hpp"

namespace bebr::ext::vtab {

inline constexpr const char* kModule = "bebr";

// The declared columns, in order (declaration.cpp's CREATE TABLE): the vector, the hidden
// distance, k, rescore and command columns, then the metadata, then the auxiliary columns.
enum Column { kVector = 0, kDistance = 1, kK = 2, kRescore = 3, kCommand = 4, kFirstMeta = 5 };

struct Table : sqlite3_vtab {
  std::unique_ptr<Store> store;  // null when `broken`
  // Why the shadow tables could not be read (corrupt, of another storage format, dropped by
  // hand): such a table is connected only so that DROP TABLE works; every other use fails with
  // this message (module.cpp).
  std::string broken, broken_name;
  sqlite3* db = nullptr;
  std::string schema;
  // Models recorded compatible with ours (model id compatible_for), seen so far.
  std::vector<std::uint32_t> compatible_ids;
  std::uint32_t compatible_for = 0;
  const TableConfig& cfg() const { return store->config(); }
  int first_aux() const { return kFirstMeta + static_cast<int>(cfg().metadata.size()); }
  // The primary key's column index (the first auxiliary column), -100 without one.
  int key_column() const { return cfg().primary_key ? first_aux() : -100; }
};

struct Cursor : sqlite3_vtab_cursor {
  std::vector<Neighbor> rows;  // kNN and point results; a min-heap when `stream`
  bool stream = false;         // kNN without k: every row, nearest first, popped one by one
  Stmt scan;                   // full scan: rowid, metadata..., auxiliary...
  bool scan_done = false;
  Stmt fetch;  // one row's rowid, metadata..., auxiliary...
  std::int64_t fetched = 0;
  bool has_fetched = false;
  Stmt vector;
  bool has_distance = false;
  sqlite3_int64 k = 0, rescore = 0;
  std::size_t at = 0;
};

// Heap order for streamed results: the nearest (smallest distance, then rowid) on top.
inline bool nearest_last(const Neighbor& a, const Neighbor& b) { return b < a; }

// The rowid column of Store::row_select: r.rowid with metadata, x.rowid without.
inline std::string row_key(const Table& t) { return t.cfg().metadata.empty() ? "x.rowid" : "r.rowid"; }

}  // namespace bebr::ext::vtab
