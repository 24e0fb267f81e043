// The store's facade: keeps the shadow tables, the directory, the write log and the resident
// cache of a bebr table consistent (store.hpp).
#include "store.hpp"

#include <algorithm>
#include <cstring>
#include <limits>
#include <set>
#include <stdexcept>

namespace bebr::ext {

Store::Store(sqlite3* db, std::string schema, std::string name, TableConfig cfg,
             std::shared_ptr<const Binarizer> binarizer)
    : shadow_(db, std::move(schema), std::move(name), std::move(cfg)),
      binarizer_(std::move(binarizer)),
      layout_(shadow_.config().chunk_size, planes_bytes(binarizer_->shape()),
              binarizer_->shape().kind != BinarizerKind::raw),  // raw codes' offsets are 0: not stored
      dir_(shadow_.config().chunk_size),
      log_(kScalarBytes + layout_.planes_bytes(), shadow_.config().chunk_size),
      cache_(shadow_.config(), *binarizer_) {}

std::shared_ptr<const Binarizer> Store::binarizer_of(sqlite3* db, const std::string& schema, const TableConfig& cfg,
                                                     const std::string& name) {
  if (cfg.model_id) {
    const CodeShape shape{cfg.code_dim, cfg.bits, cfg.model_kind, cfg.model_id};
    return std::make_shared<Binarizer>(Binarizer::deferred(shape, cfg.dim, [=] {
      return load_table_model(db, schema, name, cfg.model_name, cfg.model_version, cfg.model_id);
    }));
  }
  if (cfg.model.empty()) return std::make_shared<Binarizer>(Binarizer::raw(cfg.dim, cfg.bits));
  std::shared_ptr<const Binarizer> b;
  try {
    b = std::make_shared<Binarizer>(Binarizer::parse(cfg.model));
  } catch (const Error& e) {
    if (e.code() != Errc::corrupt) throw;
    corrupt(name + "_info", std::string("model: ") + e.what());
  }
  if (b->input_dim() != cfg.dim || b->shape().bits != cfg.bits)
    corrupt(name + "_info", "the model codes " + std::to_string(b->input_dim()) + "-d vectors with " +
                                std::to_string(b->shape().bits) + " bits; expected dim " + std::to_string(cfg.dim) +
                                " and bits " + std::to_string(cfg.bits));
  return b;
}

void Store::create() {
  const auto limit = static_cast<std::size_t>(sqlite3_limit(shadow_.db(), SQLITE_LIMIT_LENGTH, -1));
  const std::size_t bytes = layout_.of(kListedBase).bytes;  // a listed chunk is the larger kind
  if (bytes > limit) {
    // The chunk's size grows by the size of 64 slots for every 64 more slots.
    const std::size_t per64 =
        ChunkLayout(64, layout_.planes_bytes(), layout_.of(kListedBase).offsets != ChunkLayout::npos)
            .of(kListedBase)
            .bytes;
    fail("chunk_size=" + std::to_string(chunk_size()) + " makes chunk BLOBs of " + std::to_string(bytes) +
         " bytes, over this connection's SQLITE_LIMIT_LENGTH of " + std::to_string(limit) +
         " bytes; expected a smaller chunk_size (at most " + std::to_string(limit / per64 * 64) + " for this shape)");
  }
  shadow_.create();
}

void Store::drop() {
  rollback();
  shadow_.drop();
}

void Store::rename(const std::string& new_name) {
  flush();
  shadow_.rename(new_name);
}

void Store::forget() noexcept {
  dir_.clear();
  cache_.clear();
  data_version_ = -1;
}

// ---- transactions -----------------------------------------------------------------------------

void Store::maybe_flush() {
  if (log_.wants_flush()) flush();
}

void Store::savepoint(int level) {
  maybe_flush();  // before the savepoint exists: what is written belongs to the enclosing level
  log_.savepoint(level);
}

void Store::rollback_to(int level) noexcept {
  log_.rollback_to(level);
  forget();
}

void Store::rollback() noexcept {
  log_.clear();
  forget();
}

void Store::flush() {
  if (log_.pending().empty()) {
    log_.clear_edits();
    return;
  }
  if (!dir_.loaded()) sync();  // the bitmaps to write are the directory's: disk + the edits
  ChunkBlob blob(shadow_, true);
  ChunkWriter writer(layout_);
  for (const auto& [id, patch] : log_.pending()) {
    const DirChunk* c = dir_.find(id);
    if (!c) continue;  // deleted since
    writer.write(blob, id, c->valid, log_, patch);
  }
  log_.clear_edits();
}

// ---- loading ----------------------------------------------------------------------------------

void Store::sync() {
  // With edits waiting this connection holds the write lock: nobody else can have committed.
  if (dir_.loaded() && !log_.empty()) return;
  const std::int64_t v = shadow_.data_version();
  if (dir_.loaded() && v == data_version_) return;
  forget();
  data_version_ = v;  // read before the data, so a commit in between forces another reload
  reload_model();
  load_directory();
}

// A table with a model may have been re-coded since (by this connection, then rolled back, or
// by another one that committed): the reference <name>_info holds is the one its codes are of.
void Store::reload_model() {
  if (config().model_name.empty()) return;  // a table without a model never gets one
  const Shadow::ModelReference r = shadow_.model_reference();  // one small read; the full one on a change
  if (r.id == config().model_id && r.version == config().model_version && r.name == config().model_name) return;
  const TableConfig disk = Shadow::read_config(shadow_.db(), shadow_.schema(), shadow_.name());
  binarizer_ = binarizer_of(shadow_.db(), shadow_.schema(), disk, shadow_.name());
  shadow_.adopt_model(disk);
  cache_.set_model_id(binarizer_->shape().model_id);
}

// The directory as on disk, then the waiting edits over it.
void Store::load_directory() {
  ChunkBlob blob(shadow_, false);
  shadow_.each_chunk([&](std::int64_t id) {
    layout_.open(blob, id);
    dir_.add(id, layout_.read_validity(blob));
  });
  std::set<std::int64_t> touched;
  for (const WriteLog::Edit& e : log_.edits())
    if (dir_.mark(e.chunk, e.slot, e.set)) touched.insert(e.chunk);
  for (std::int64_t id : touched) dir_.recount(id);
  log_.keep_chunks([&](std::int64_t id) { return dir_.contains(id); });
  dir_.set_loaded();
}

void Store::load_codes() {
  // Each chunk's BLOB goes straight into its resident image: three incremental reads a chunk.
  ChunkBlob blob(shadow_, false);
  const std::size_t total = dir_.size();
  for (const auto& [id, c] : dir_) {
    layout_.open(blob, id);
    CachedChunk& r = cache_.load_chunk(blob, layout_, id, total);
    // The waiting edits of this chunk, over what the disk holds.
    log_.for_each_waiting(id, [&](std::uint32_t slot, std::int64_t rowid, const std::uint8_t* body) {
      cache_.write_slot(r, slot, rowid, body);
    });
    cache_.check_hamming(r, c.valid);
  }
  cache_.set_codes_loaded();
}

void Store::load_metadata() {
  const std::size_t nm = config().metadata.size();
  const std::uint32_t C = chunk_size();
  for (const auto& [id, c] : dir_) cache_.add_metadata(id);
  if (nm)
    shadow_.each_mapped_row([&](std::int64_t chunk, sqlite3_int64 slot, std::int64_t rowid, sqlite3_stmt* s) {
      if (slot < 0 || slot >= C || !dir_.holds(chunk, static_cast<std::uint32_t>(slot)) ||
          (!listed(chunk) && (chunk != home_chunk(rowid, C) || slot != home_slot(rowid, C))))
        corrupt(name() + "_rowids", "row " + std::to_string(rowid) + " points to chunk " + std::to_string(chunk) +
                                        " slot " + std::to_string(slot));
      std::vector<std::vector<Value>>& meta = cache_.metadata(chunk);
      for (std::size_t j = 0; j < nm; ++j)
        meta[j][static_cast<std::size_t>(slot)] = Value::copy_column(s, static_cast<int>(3 + j));
    });
  cache_.set_metadata_loaded();
}

// ---- reads ------------------------------------------------------------------------------------

std::optional<Location> Store::find(std::int64_t rowid) {
  sync();
  const Location home{home_chunk(rowid, chunk_size()), home_slot(rowid, chunk_size())};
  if (dir_.holds(home.chunk, home.slot)) return home;
  if (!dir_.has_listed()) return std::nullopt;
  return shadow_.find_listed(rowid);
}

void Store::read_slot(std::int64_t chunk, std::uint32_t slot, std::int64_t* rowid, std::uint8_t* body) {
  if (const WriteLog::Edit* e = log_.waiting(chunk, slot)) {
    *rowid = e->rowid;
    std::memcpy(body, log_.body_of(*e), body_bytes());
    return;
  }
  ChunkBlob blob(shadow_, false);
  layout_.open(blob, chunk);
  layout_.read_slot(blob, chunk, slot, rowid, body);
}

RowData Store::read_row(std::int64_t rowid, const Location& at) {
  RowData row;
  row.body.resize(body_bytes());
  std::int64_t stored = 0;
  read_slot(at.chunk, at.slot, &stored, row.body.data());
  if (stored != rowid)
    corrupt(name() + "_chunks", "slot " + std::to_string(at.slot) + " of chunk " + std::to_string(at.chunk) +
                                    " does not hold row " + std::to_string(rowid));
  shadow_.read_row(rowid, row);
  return row;
}

std::vector<std::int64_t> Store::rowids() {
  sync();
  std::vector<std::int64_t> out;
  out.reserve(dir_.rows());
  dir_.ranged_rowids(out);
  if (dir_.has_listed()) {
    const std::size_t ranged = out.size();
    shadow_.listed_rowids(out);
    std::inplace_merge(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(ranged), out.end());
  }
  return out;
}

void Store::scan(bool metadata, bool keys, const std::function<void(const ChunkView&)>& visit) {
  sync();
  if (metadata && !cache_.has_metadata()) load_metadata();
  if (!config().cache) {
    scan_disk(visit);
    return;
  }
  if (!cache_.has_codes()) load_codes();
  auto r = cache_.begin();  // the cache holds every chunk of the directory, in the same order
  for (const auto& [id, c] : dir_) {
    if (r == cache_.end() || r->first != id)
      throw std::logic_error("the resident cache lost chunk " + std::to_string(id));
    CachedChunk& res = (r++)->second;
    if (keys || !res.hamming_ok) cache_.ensure_keys(res, c.valid);
    visit(ChunkView{ChunkRows{c.valid, res.meta}, cache_.rowids_of(res), cache_.block(res)});
  }
}

// No cache: each chunk's BLOB into one scratch image, three incremental reads a chunk.
void Store::scan_disk(const std::function<void(const ChunkView&)>& visit) {
  static const std::vector<std::vector<Value>> no_meta;
  ResidentCache::Scratch scratch(cache_);
  CachedChunk& s = scratch.chunk();
  ChunkBlob blob(shadow_, false);
  for (const auto& [id, c] : dir_) {
    layout_.open(blob, id);
    cache_.read_image(blob, layout_, id, s);
    log_.for_each_waiting(id, [&](std::uint32_t slot, std::int64_t rowid, const std::uint8_t* body) {
      cache_.write_slot(s, slot, rowid, body);  // waiting edits over the disk
    });
    s.hamming_ok = true;
    cache_.check_hamming(s, c.valid);
    CodeBlock b = cache_.block(s);  // no key coefficients: the Hamming filter or exact distances
    b.keys = KeyArrays{};
    visit(ChunkView{ChunkRows{c.valid, cache_.has_metadata() ? cache_.metadata(id) : no_meta}, cache_.rowids_of(s), b});
  }
}

// ---- writes -----------------------------------------------------------------------------------

void Store::new_chunk(std::int64_t id) {
  shadow_.insert_chunk(id, layout_.of(id).bytes);
  dir_.add_empty(id);
  cache_.add_chunk(id);
}

void Store::free_chunk(std::int64_t chunk) {
  shadow_.delete_chunk(chunk);
  dir_.erase(chunk);
  log_.drop_chunk(chunk);
  cache_.erase(chunk);
}

Location Store::allocate() {
  if (!dir_.lowest_open()) new_chunk(dir_.next_listed_id());
  if (const auto at = dir_.free_slot()) return *at;
  corrupt(name() + "_chunks", "an open chunk has no free slot");
}

// The directory decides (Directory::place); a run that makes a new ranged chunk brings the
// connection's last C / 8 rows, listed so far, into it.
Location Store::place(std::int64_t rowid) {
  const Directory::Placement p = dir_.place(rowid);
  if (p.kind == Directory::Placement::listed) return allocate();
  if (p.kind == Directory::Placement::ranged) return p.at;
  new_chunk(p.at.chunk);
  if (p.take_run) {
    std::vector<std::uint8_t> body(body_bytes());
    for (std::int64_t r = rowid - dir_.run_span() + 1; r < rowid; ++r) {
      const auto at = find(r);
      if (!at || !listed(at->chunk)) continue;  // deleted since, or moved
      std::int64_t stored = 0;
      read_slot(at->chunk, at->slot, &stored, body.data());
      move_row(r, *at, Location{p.at.chunk, home_slot(r, chunk_size())}, body.data());
    }
  }
  return p.at;
}

std::int64_t Store::next_rowid() {
  std::optional<std::int64_t> top = dir_.top_ranged_rowid();  // an empty table starts at 1
  if (dir_.has_listed())
    if (const auto m = shadow_.max_mapped_rowid()) top = top ? std::max(*top, *m) : *m;
  if (top && *top == std::numeric_limits<std::int64_t>::max())
    fail("table " + name() + " holds the largest rowid (9223372036854775807): give each new row its rowid");
  return top ? *top + 1 : 1;
}

std::int64_t Store::insert(std::optional<std::int64_t> rowid, const RowData& row) {
  sync();
  try {
    const std::int64_t id = rowid ? *rowid : next_rowid();
    const Location at = place(id);
    dir_.note_insert(id);
    shadow_.insert_row(id, at, !config().metadata.empty() || listed(at.chunk), row);
    if (!dir_.occupy(at)) corrupt(name() + "_chunks", "row " + std::to_string(id) + " is there already");
    log_.add(at.chunk, at.slot, id, row.body.data());
    cache_.set_row(at.chunk, at.slot, id, row);
    maybe_flush();
    return id;
  } catch (...) {
    forget();  // SQLite undoes the statement; memory reloads as disk + the logged edits
    throw;
  }
}

void Store::remove(std::int64_t rowid, const Location& at) {
  sync();
  try {
    if (!dir_.holds(at.chunk, at.slot))
      corrupt(name() + "_rowids", "row " + std::to_string(rowid) + " points to an empty slot");
    shadow_.delete_row(rowid);
    const bool empty = dir_.vacate(at);
    log_.add(at.chunk, at.slot, 0, nullptr);
    if (empty) {
      free_chunk(at.chunk);
      return;
    }
    maybe_flush();
  } catch (...) {
    forget();
    throw;
  }
}

// Moves a row (its code: body) in the log, the directory and the map rows; not in the resident
// cache.
void Store::move_row(std::int64_t rowid, const Location& from, const Location& to, const std::uint8_t* body) {
  log_.add(to.chunk, to.slot, rowid, body);
  if (!dir_.occupy(to)) corrupt(name() + "_chunks", "row " + std::to_string(rowid) + " is there already");
  // A ranged row of a table without metadata has no map row.
  shadow_.move_row(rowid, to, !config().metadata.empty() || listed(to.chunk));
  const bool empty = dir_.vacate(from);
  log_.add(from.chunk, from.slot, 0, nullptr);
  if (empty) free_chunk(from.chunk);
}

}  // namespace bebr::ext
