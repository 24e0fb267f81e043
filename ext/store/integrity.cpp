// The integrity check of a bebr table (Store::check_integrity), run by
//   INSERT INTO docs(docs) VALUES ('integrity-check');
// It reads the shadow tables as they are on disk (after writing the waiting edits) and reports
// the first problem as the error of a corrupt shadow table; a healthy table passes silently.
#include <map>
#include <utility>

#include "bebr/vector.hpp"
#include "store.hpp"

namespace bebr::ext {
namespace {

// Whether a stored metadata value has the storage type its column's writes give it (NULL: any).
bool stored_as_declared(ColumnType type, sqlite3_value* v) {
  const int t = sqlite3_value_type(v);
  if (t == SQLITE_NULL) return true;
  switch (type) {
    case ColumnType::integer: return t == SQLITE_INTEGER;
    case ColumnType::real: return t == SQLITE_FLOAT;
    case ColumnType::text: return t == SQLITE_TEXT;
    case ColumnType::boolean:
      return t == SQLITE_INTEGER && (sqlite3_value_int64(v) == 0 || sqlite3_value_int64(v) == 1);
    case ColumnType::any: return true;
  }
  return false;
}

}  // namespace

// Checks, in order: <name>_info (re-read with every load check, the model parsed in full); the
// map rows of <name>_rowids (slots in range, metadata of the declared types); every chunk of
// <name>_chunks (its size, finite scales and offsets of the rows it holds, each row's map row
// where it needs one, its stored vector); then map rows that point at no row. Linear in the
// table's size; one chunk BLOB in memory at a time. One function, long, so that the checks read
// in the order they run.
void Store::check_integrity() {
  flush();
  const std::string info = name() + "_info", rowids_table = name() + "_rowids";
  const TableConfig now = Shadow::read_config(shadow_.db(), shadow_.schema(), name());
  if (!now.model.empty()) {
    try {
      (void)Binarizer::parse(now.model);
    } catch (const Error& e) {
      corrupt(info, std::string("model: ") + e.what());
    }
  }
  if (now.dim != config().dim || now.bits != config().bits || now.chunk_size != config().chunk_size ||
      now.model != config().model || now.metadata.size() != config().metadata.size())
    corrupt(info, "it changed since the table was opened");

  const std::uint32_t C = chunk_size();
  const std::size_t nm = config().metadata.size();
  std::map<std::pair<std::int64_t, std::uint32_t>, std::int64_t> mapped;  // (chunk, slot) -> rowid
  shadow_.each_mapped_row([&](std::int64_t chunk, sqlite3_int64 slot, std::int64_t rowid, sqlite3_stmt* s) {
    const std::string row = "row " + std::to_string(rowid);
    if (slot < 0 || slot >= C) corrupt(rowids_table, row + " has slot " + std::to_string(slot));
    for (std::size_t j = 0; j < nm; ++j) {
      const ColumnDef& col = config().metadata[j];
      if (!stored_as_declared(col.type, sqlite3_column_value(s, static_cast<int>(3 + j))))
        corrupt(rowids_table, row + " has a value of type " +
                                  type_name(sqlite3_column_value(s, static_cast<int>(3 + j))) + " in column " +
                                  col.name + "; expected " + column_type_name(col.type));
    }
    if (!mapped.emplace(std::make_pair(chunk, static_cast<std::uint32_t>(slot)), rowid).second)
      corrupt(rowids_table, row + " has the slot of another row (chunk " + std::to_string(chunk) + " slot " +
                                std::to_string(slot) + ")");
  });

  ChunkBlob blob(shadow_, false);
  std::vector<std::uint8_t> head(layout_.validity_bytes() + 8 * std::size_t{C}), planes(C * layout_.planes_bytes());
  std::vector<float> scalars(2 * std::size_t{C});
  Stmt vector = config().store_vectors
                    ? prepare(shadow_.db(), "SELECT vector FROM " + shadow_.table("vectors") + " WHERE rowid = ?1")
                    : Stmt();
  std::size_t rows = 0;
  shadow_.each_chunk([&](std::int64_t id) {
    layout_.open(blob, id);                                                    // the size
    layout_.read_parts(blob, id, head.data(), planes.data(), scalars.data());  // finite scales, offsets
    const ChunkLayout::Parts& d = layout_.of(id);
    for (std::uint32_t s = 0; s < C; ++s) {
      if (!((head[s / 8] >> (s % 8)) & 1)) continue;
      ++rows;
      const std::int64_t rowid = d.rowids != ChunkLayout::npos
                                     ? static_cast<std::int64_t>(load_u64(head.data() + d.rowids + 8 * s))
                                     : rowid_at(id, s, C);
      const std::string where = "chunk " + std::to_string(id) + " slot " + std::to_string(s);
      if (listed(id) || nm) {
        const auto m = mapped.find({id, s});
        if (m == mapped.end())
          corrupt(rowids_table, "row " + std::to_string(rowid) + " of " + where + " has no map row");
        if (m->second != rowid)
          corrupt(rowids_table, "row " + std::to_string(m->second) + " points at " + where + ", which holds row " +
                                    std::to_string(rowid));
        mapped.erase(m);
      }
      if (vector) {
        sqlite3_reset(vector.get());
        sqlite3_bind_int64(vector.get(), 1, rowid);
        const int rc = sqlite3_step(vector.get());
        if (rc != SQLITE_ROW && rc != SQLITE_DONE) fail(sqlite3_errmsg(shadow_.db()));
        if (rc == SQLITE_DONE || sqlite3_column_type(vector.get(), 0) != SQLITE_BLOB ||
            sqlite3_column_bytes(vector.get(), 0) != static_cast<int>(4 * config().dim))
          corrupt(name() + "_vectors", "the vector of row " + std::to_string(rowid) + " is missing or not " +
                                           std::to_string(4 * config().dim) + " bytes of float32");
        const auto* p = static_cast<const std::uint8_t*>(sqlite3_column_blob(vector.get(), 0));
        if (const long bad = first_non_finite(floats_from_blob({p, 4 * std::size_t{config().dim}})); bad >= 0)
          corrupt(name() + "_vectors", "the vector of row " + std::to_string(rowid) + " holds NaN or Inf (element " +
                                           std::to_string(bad) + ")");
      }
    }
  });
  if (!mapped.empty()) {
    const auto& [at, rowid] = *mapped.begin();
    corrupt(rowids_table, "row " + std::to_string(rowid) + " points at chunk " + std::to_string(at.first) + " slot " +
                              std::to_string(at.second) + ", which holds no row");
  }
  if (config().store_vectors) {
    Stmt count = prepare(shadow_.db(), "SELECT count(*) FROM " + shadow_.table("vectors"));
    if (sqlite3_step(count.get()) != SQLITE_ROW) fail(sqlite3_errmsg(shadow_.db()));
    if (const auto n = static_cast<std::size_t>(sqlite3_column_int64(count.get(), 0)); n != rows)
      corrupt(name() + "_vectors", "it holds " + std::to_string(n) + " vectors for " + std::to_string(rows) + " rows");
  }
}

}  // namespace bebr::ext
