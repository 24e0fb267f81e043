// The values a bebr table's store hands to the virtual table and takes from it: the table's
// configuration, where a row lives, everything stored for one row, and one chunk as a scan sees
// it. ext/vtab includes this through store.hpp; the parts of ext/store/ include it alone.
//
//   store.scan(false, false, [&](const ChunkView& c) {
//     bebr::for_each_set_bit(c.chunk.valid.data(), c.chunk.valid.size(), [&](std::size_t s) {
//       use(c.rowids[s], c.chunk.meta.empty() ? nullptr : &c.chunk.meta[0][s]);
//     });
//   });
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "../values.hpp"
#include "bebr/search.hpp"

namespace bebr::ext {

// The chunk sizes CREATE VIRTUAL TABLE accepts (multiples of 64), and reading <name>_info checks.
inline constexpr std::uint32_t kMinChunkSize = 64;
inline constexpr std::uint32_t kMaxChunkSize = 65536;

// What CREATE VIRTUAL TABLE declared, as <name>_info keeps it (docs/architecture.md).
struct TableConfig {
  std::string column = "embedding";
  std::uint32_t dim = 0;
  std::uint32_t bits = 0;  // 0 while parsing: not given
  Metric metric = Metric::cosine;
  std::string model_name;
  // Storage format 4 (docs/design.md): the table names its model by version and id, kept once
  // in the database's bebr_models; model_id 0 without a model. Format 3 tables carry the model
  // BLOB itself in `model` (empty for raw and for format 4).
  sqlite3_int64 model_version = 0;
  std::uint32_t model_id = 0;
  std::uint32_t code_dim = 0;  // the codes' dimensions (an mlp model's may differ from dim)
  BinarizerKind model_kind = BinarizerKind::raw;
  std::vector<std::uint8_t> model;
  bool store_vectors = false;
  std::uint32_t chunk_size = 1024;
  bool cache = true;
  std::vector<ColumnDef> metadata, auxiliary;
  // auxiliary[0] is the table's primary key (`id text primary key`): text or integer, unique,
  // never NULL, kept in <name>_auxiliary with a UNIQUE index (storage format 5).
  bool primary_key = false;
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

// The rows of one chunk: which slots hold one (chunk_size bits, the directory's current
// bitmap) and, once a filtered query has loaded them, their metadata values by column then slot
// (empty before).
struct ChunkRows {
  const std::vector<std::uint64_t>& valid;
  const std::vector<std::vector<Value>>& meta;
};

// One chunk as the scan sees it (resident or just read from the database).
struct ChunkView {
  ChunkRows chunk;
  const std::int64_t* rowids;  // chunk_size rowids, by slot
  CodeBlock codes;             // codes.n = chunk_size
};

}  // namespace bebr::ext
