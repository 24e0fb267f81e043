// Shadow tables, chunk directory and resident cache of a bebr virtual table.
#include "table_store.hpp"

#include <sys/mman.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <limits>

#include "bebr/bits.hpp"

namespace bebr::ext {

// An incremental-I/O handle on the data BLOB of <name>_chunks rows, closed when it goes out of
// scope: an open handle counts as a running statement and would hold the transaction open.
class ChunkBlob {
 public:
  ChunkBlob(sqlite3* db, const std::string& schema, const std::string& name, bool write)
      : db_(db), schema_(schema), table_(name + "_chunks"), write_(write) {}
  ~ChunkBlob() { sqlite3_blob_close(h_); }
  ChunkBlob(const ChunkBlob&) = delete;
  ChunkBlob& operator=(const ChunkBlob&) = delete;

  void seek(std::int64_t row) {
    if (h_ && row == row_) return;
    const int rc = h_ ? sqlite3_blob_reopen(h_, row)
                      : sqlite3_blob_open(db_, schema_.c_str(), table_.c_str(), "data", row, write_, &h_);
    if (rc != SQLITE_OK) {
      const std::string msg = sqlite3_errmsg(db_);
      sqlite3_blob_close(h_);
      h_ = nullptr;
      throw Error(Errc::corrupt, "cannot open chunk " + std::to_string(row) + " of " + table_ + ": " + msg);
    }
    row_ = row;
  }
  std::size_t bytes() const { return static_cast<std::size_t>(sqlite3_blob_bytes(h_)); }
  void read(void* out, std::size_t n, std::size_t offset) {
    check(sqlite3_blob_read(h_, out, static_cast<int>(n), static_cast<int>(offset)), "read");
  }
  void write(const void* in, std::size_t n, std::size_t offset) {
    check(sqlite3_blob_write(h_, in, static_cast<int>(n), static_cast<int>(offset)), "write");
  }

 private:
  void check(int rc, const char* what) {
    if (rc != SQLITE_OK)
      fail(std::string("cannot ") + what + " chunk " + std::to_string(row_) + " of " + table_ + ": " + sqlite3_errstr(rc));
  }
  sqlite3* db_;
  std::string schema_, table_;
  bool write_;
  sqlite3_blob* h_ = nullptr;
  std::int64_t row_ = 0;
};

namespace {

// Cached statements of a Store.
enum Stmts { kDataVersion, kFind, kInsertRowid, kInsertVector, kInsertAux, kDeleteRowid, kDeleteVector, kDeleteAux,
             kReadRow, kReadVector, kMove, kNewChunk, kMaxRowid, kStmtCount };


// Resets a cached statement when the scope ends.
struct Reset {
  sqlite3_stmt* s;
  ~Reset() {
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
  }
};

void exec(sqlite3* db, const std::string& sql) {
  char* err = nullptr;
  if (sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
    std::string msg = err ? err : sqlite3_errmsg(db);
    sqlite3_free(err);
    fail(msg);
  }
}

void step_done(sqlite3* db, sqlite3_stmt* s) {
  if (sqlite3_step(s) != SQLITE_DONE) fail(sqlite3_errmsg(db));
}

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

[[noreturn]] void corrupt(const std::string& table, const std::string& what) {
  throw Error(Errc::corrupt, "the " + table + " shadow table is corrupt: " + what);
}

unsigned popcount(const std::vector<std::uint64_t>& words) {
  return static_cast<unsigned>(count_set_bits(words.data(), words.size()));
}

bool test_bit(const std::vector<std::uint64_t>& v, std::uint32_t i) { return (v[i / 64] >> (i % 64)) & 1; }

}  // namespace

static_assert(std::endian::native == std::endian::little,
              "the resident cache uses the little-endian chunk image as it is");

std::uint8_t* Arena::alloc(std::size_t bytes, std::size_t hint) {
  bytes = (bytes + 63) / 64 * 64;
  if (slabs_.empty() || slabs_.back().size - slabs_.back().used < bytes) {
    constexpr std::size_t kHuge = std::size_t{2} << 20;
    const std::size_t size = (std::max({bytes, hint, kHuge}) + kHuge - 1) / kHuge * kHuge;
    void* p = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) throw std::bad_alloc();
#ifdef MADV_HUGEPAGE
    madvise(p, size, MADV_HUGEPAGE);  // a hint: ignored where unsupported
#endif
    slabs_.push_back({static_cast<std::uint8_t*>(p), size, 0});
  }
  Slab& s = slabs_.back();
  std::uint8_t* out = s.base + s.used;
  s.used += bytes;
  return out;
}

void Arena::clear() noexcept {
  for (const Slab& s : slabs_) munmap(s.base, s.size);
  slabs_.clear();
}

AlignedBytes::AlignedBytes(std::size_t n) {
  const std::size_t size = (std::max<std::size_t>(n, 1) + 63) / 64 * 64;
  auto* p = static_cast<std::uint8_t*>(std::aligned_alloc(64, size));
  if (!p) throw std::bad_alloc();
  p_.reset(p);
}
void AlignedBytes::Free::operator()(std::uint8_t* p) const noexcept { std::free(p); }

// ---- Store ------------------------------------------------------------------------------------

const char* const Store::kShadowSuffixes[] = {"info", "chunks", "rowids", "vectors", "auxiliary", nullptr};

Store::Store(sqlite3* db, std::string schema, std::string name, TableConfig cfg, std::shared_ptr<const Binarizer> binarizer)
    : db_(db), schema_(std::move(schema)), name_(std::move(name)), cfg_(std::move(cfg)),
      binarizer_(std::move(binarizer)), planes_bytes_(planes_bytes(binarizer_->shape())),
      layout_(key_layout(binarizer_->shape(), cfg_.metric)) {
  const std::size_t C = cfg_.chunk_size, none = std::string::npos;
  validity_bytes_ = C / 8;
  const bool offsets = binarizer_->shape().kind != BinarizerKind::raw;  // raw codes' offsets are 0
  for (const bool with_rowids : {false, true}) {
    DiskLayout& d = with_rowids ? listed_ : ranged_;
    d.rowids = with_rowids ? validity_bytes_ : none;
    d.planes = validity_bytes_ + (with_rowids ? 8 * C : 0);
    d.scales = d.planes + C * planes_bytes_;
    d.offsets = offsets ? d.scales + 4 * C : none;
    d.bytes = d.scales + (offsets ? 8 : 4) * C;
  }
  const int keys = 2 + layout_.S + layout_.T + layout_.U;
  image_bytes_ = (validity_bytes_ + 16 * C + 63) / 64 * 64;
  chunk_planes_bytes_ = (C * planes_bytes_ + 63) / 64 * 64;
  sums16_ = digit_sums16_fit(binarizer_->shape());
  keys_bytes_ = keys * ((4 * C + 63) / 64 * 64) + (sums16_ ? (2 * C + 63) / 64 * 64 : 0);
  if (binarizer_->shape().bits == 4 && kernels().planes_to_nibbles && kernels().sdc_filter_nibbles) {
    nibble_words_ = plane_words(binarizer_->shape().dim);
    nibble_bytes_ = 32 * nibble_words_;
  } else if (binarizer_->shape().bits == 2 && kernels().planes_to_fastscan2 && kernels().sdc_filter_fastscan2 &&
             plane_words(binarizer_->shape().dim) <= kFastscan2MaxWords) {
    fastscan_ = true;
    nibble_words_ = plane_words(binarizer_->shape().dim);
    nibble_bytes_ = 16 * nibble_words_;
  }
  stmts_.resize(kStmtCount);
}

std::string Store::shadow(const char* suffix) const {
  return mprintf("\"%w\".\"%w_%s\"", schema_.c_str(), name_.c_str(), suffix);
}

sqlite3_stmt* Store::cached(int which, const std::function<std::string()>& sql) {
  if (!stmts_[which]) stmts_[which] = prepare(db_, sql());  // SQL text built only the first time
  return stmts_[which].get();
}

void Store::create() {
  const std::size_t nm = cfg_.metadata.size(), na = cfg_.auxiliary.size();
  exec(db_, "CREATE TABLE " + shadow("info") + "(key TEXT PRIMARY KEY, value) WITHOUT ROWID");
  exec(db_, "CREATE TABLE " + shadow("chunks") + "(chunk_id INTEGER PRIMARY KEY, data BLOB NOT NULL)");
  exec(db_, "CREATE TABLE " + shadow("rowids") + "(rowid INTEGER PRIMARY KEY, chunk_id INTEGER NOT NULL, "
                                                 "slot INTEGER NOT NULL" + column_list("m", nm) + ")");
  if (cfg_.store_vectors)
    exec(db_, "CREATE TABLE " + shadow("vectors") + "(rowid INTEGER PRIMARY KEY, vector BLOB NOT NULL)");
  if (na) exec(db_, "CREATE TABLE " + shadow("auxiliary") + "(rowid INTEGER PRIMARY KEY" + column_list("a", na) + ")");
  Stmt s = prepare(db_, "INSERT INTO " + shadow("info") + "(key, value) VALUES (?1, ?2)");
  const auto put = [&](const std::string& k, const std::string& v) {
    sqlite3_bind_text(s.get(), 1, k.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(s.get(), 2, v.c_str(), -1, SQLITE_TRANSIENT);
    step_done(db_, s.get());
    sqlite3_reset(s.get());
  };
  put("format", "3");
  put("column", cfg_.column);
  put("dim", std::to_string(cfg_.dim));
  put("bits", std::to_string(cfg_.bits));
  put("metric", metric_name(cfg_.metric));
  put("store_vectors", cfg_.store_vectors ? "1" : "0");
  put("chunk_size", std::to_string(cfg_.chunk_size));
  put("cache", cfg_.cache ? "1" : "0");
  put("model_name", cfg_.model_name);
  for (std::size_t i = 0; i < nm; ++i)
    put("metadata." + std::to_string(i), std::string(column_type_name(cfg_.metadata[i].type)) + " " + cfg_.metadata[i].name);
  for (std::size_t i = 0; i < na; ++i)
    put("auxiliary." + std::to_string(i), std::string(column_type_name(cfg_.auxiliary[i].type)) + " " + cfg_.auxiliary[i].name);
  sqlite3_bind_text(s.get(), 1, "model", -1, SQLITE_STATIC);
  sqlite3_bind_blob64(s.get(), 2, cfg_.model.data(), cfg_.model.size(), SQLITE_TRANSIENT);
  step_done(db_, s.get());
}

TableConfig Store::read_config(sqlite3* db, const std::string& schema, const std::string& name) {
  TableConfig c;
  Stmt s = prepare(db, mprintf("SELECT key, value FROM \"%w\".\"%w_info\"", schema.c_str(), name.c_str()));
  const std::string table = name + "_info";
  std::map<std::size_t, ColumnDef> meta, aux;
  const auto column = [&](const std::string& v) {
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
  };
  const auto number = [&](const std::string& key, const std::string& v) {
    char* end = nullptr;
    const unsigned long n = std::strtoul(v.c_str(), &end, 10);
    if (v.empty() || *end) corrupt(table, key + " is '" + v + "'");
    return static_cast<std::uint32_t>(n);
  };
  std::string format;
  while (sqlite3_step(s.get()) == SQLITE_ROW) {
    const std::string key = reinterpret_cast<const char*>(sqlite3_column_text(s.get(), 0));
    const char* v = reinterpret_cast<const char*>(sqlite3_column_text(s.get(), 1));
    const std::string value = v ? v : "";
    if (key == "format") format = value;
    else if (key == "column") c.column = value;
    else if (key == "dim") c.dim = number(key, value);
    else if (key == "bits") c.bits = number(key, value);
    else if (key == "metric") {
      const auto m = parse_metric(value);
      if (!m) corrupt(table, "unknown metric '" + value + "'");
      c.metric = *m;
    } else if (key == "store_vectors") c.store_vectors = value == "1";
    else if (key == "chunk_size") c.chunk_size = number(key, value);
    else if (key == "cache") c.cache = value == "1";
    else if (key == "model_name") c.model_name = value;
    else if (key.rfind("metadata.", 0) == 0) meta[number(key, key.substr(9))] = column(value);
    else if (key.rfind("auxiliary.", 0) == 0) aux[number(key, key.substr(10))] = column(value);
    else if (key == "model") {
      const auto* p = static_cast<const std::uint8_t*>(sqlite3_column_blob(s.get(), 1));
      c.model.assign(p, p + sqlite3_column_bytes(s.get(), 1));
    }
  }
  if (format != "3")
    throw Error(Errc::corrupt, "table " + name + " was created by another version of bebr (storage format '" + format +
                                   "'; this build reads format 3)");
  if (c.dim < 1 || c.dim > kMaxDim || c.bits < 1 || c.bits > kMaxBits || c.chunk_size < 64 || c.chunk_size % 64)
    corrupt(table, "bad dim, bits or chunk_size");
  for (auto& [i, d] : meta) c.metadata.push_back(d);
  for (auto& [i, d] : aux) c.auxiliary.push_back(d);
  return c;
}

void Store::drop() {
  rollback();
  stmts_.clear();
  stmts_.resize(kStmtCount);
  for (const char* const* s = kShadowSuffixes; *s; ++s) exec(db_, "DROP TABLE IF EXISTS " + shadow(*s));
}

void Store::rename(const std::string& new_name) {
  flush();
  stmts_.clear();
  stmts_.resize(kStmtCount);
  for (const char* const* s = kShadowSuffixes; *s; ++s) {
    Stmt exists = prepare(db_, mprintf("SELECT 1 FROM \"%w\".sqlite_master WHERE type = 'table' AND name = '%q_%q'",
                                       schema_.c_str(), name_.c_str(), *s));
    if (sqlite3_step(exists.get()) != SQLITE_ROW) continue;
    exists.reset();
    exec(db_, mprintf("ALTER TABLE \"%w\".\"%w_%s\" RENAME TO \"%w_%s\"", schema_.c_str(), name_.c_str(), *s,
                      new_name.c_str(), *s));
  }
  name_ = new_name;
}

void Store::forget() noexcept {
  loaded_ = codes_ = metadata_ = false;
  arena_.clear();
  planes_arena_.clear();
  nibbles_arena_.clear();
  key_arena_.clear();
  chunks_.clear();
  open_.clear();
  rows_ = 0;
  data_version_ = -1;
  bounds_ = KeyBounds{};
}

constexpr std::size_t kFlushEdits = 16384;  // waiting edits that trigger a flush when allowed

// Records an edit: body null clears the slot, otherwise sets it to (rowid, body).
void Store::log_edit(std::int64_t chunk, std::uint32_t slot, std::int64_t rowid, const std::uint8_t* body) {
  Edit e;
  e.chunk = chunk;
  e.slot = slot;
  e.set = body != nullptr;
  e.rowid = rowid;
  e.body = bodies_.size();
  if (body) bodies_.insert(bodies_.end(), body, body + kScalarBytes + planes_bytes_);
  log_.push_back(e);
  note_edit(log_.size() - 1);
}

void Store::note_edit(std::size_t index) {
  const Edit& e = log_[index];
  Patch& p = pending_[e.chunk];
  if (p.edit.empty()) p.edit.assign(cfg_.chunk_size, -1);
  p.edit[e.slot] = e.set ? static_cast<std::int32_t>(index) : -1;
}

const Store::Edit* Store::waiting(std::int64_t chunk, std::uint32_t slot) const {
  const auto p = pending_.find(chunk);
  if (p == pending_.end() || p->second.edit[slot] < 0) return nullptr;
  return &log_[static_cast<std::size_t>(p->second.edit[slot])];
}

void Store::rebuild_pending() {
  pending_.clear();
  std::size_t end = 0;
  for (std::size_t i = 0; i < log_.size(); ++i) {
    note_edit(i);
    if (log_[i].set) end = log_[i].body + kScalarBytes + planes_bytes_;
  }
  bodies_.resize(end);
}

// The directory just read from disk, plus the waiting edits.
void Store::replay_directory() {
  std::set<std::int64_t> touched;
  for (const Edit& e : log_) {
    auto it = chunks_.find(e.chunk);
    if (it == chunks_.end()) continue;  // deleted since (a chunk is deleted when it empties)
    auto& word = it->second.valid[e.slot / 64];
    const std::uint64_t bit = std::uint64_t{1} << (e.slot % 64);
    word = e.set ? word | bit : word & ~bit;
    touched.insert(e.chunk);
  }
  for (std::int64_t id : touched) {
    Chunk& c = chunks_.at(id);
    rows_ -= c.count;
    c.count = popcount(c.valid);
    rows_ += c.count;
    if (listed(id) && c.count < cfg_.chunk_size) open_.insert(id);
    else open_.erase(id);
  }
  for (auto it = pending_.begin(); it != pending_.end();)
    it = chunks_.count(it->first) ? std::next(it) : pending_.erase(it);
}

void Store::maybe_flush() {
  if (marks_.empty() && log_.size() >= kFlushEdits) flush();
}

void Store::savepoint(int level) {
  maybe_flush();  // before the savepoint exists: what is written belongs to the enclosing level
  marks_.emplace_back(level, log_.size());
}

void Store::release(int level) noexcept {
  while (!marks_.empty() && marks_.back().first >= level) marks_.pop_back();
}

void Store::rollback_to(int level) noexcept {
  // The edits since the oldest open savepoint at this level or deeper are undone.
  std::size_t keep = 0;
  for (const auto& [l, at] : marks_)
    if (l >= level) {
      keep = at;
      break;
    }
  while (!marks_.empty() && marks_.back().first > level) marks_.pop_back();
  if (keep < log_.size()) log_.resize(keep);
  try {
    rebuild_pending();
  } catch (...) {  // out of memory: drop everything; the transaction cannot go on consistently
    log_.clear();
    bodies_.clear();
    pending_.clear();
  }
  forget();
}

void Store::rollback() noexcept {
  log_.clear();
  bodies_.clear();
  marks_.clear();
  pending_.clear();
  forget();
}

void Store::flush() {
  if (pending_.empty()) {
    log_.clear();
    bodies_.clear();
    return;
  }
  if (!loaded_) sync();  // the bitmaps to write are the directory's: disk + the edits
  ChunkBlob blob(db_, schema_, name_, true);
  std::vector<std::uint8_t> buf;
  std::vector<std::uint8_t> rowids, planes, scales, offsets;
  for (auto& [id, patch] : pending_) {
    const auto found = chunks_.find(id);
    if (found == chunks_.end()) continue;  // deleted since
    const Chunk& c = found->second;
    const DiskLayout& d = disk(id);
    blob.seek(id);
    buf.resize(validity_bytes_);
    for (std::size_t w = 0; w < c.valid.size(); ++w) store_u64(buf.data() + 8 * w, c.valid[w]);
    blob.write(buf.data(), validity_bytes_, 0);
    // Runs of consecutive set slots go out as up to four writes each (rowids, planes, scales,
    // offsets: the parts this kind of chunk stores).
    const std::uint32_t C = cfg_.chunk_size;
    for (std::uint32_t first = 0; first < C;) {
      if (patch.edit[first] < 0) {
        ++first;
        continue;
      }
      std::uint32_t n = 0;
      while (first + n < C && patch.edit[first + n] >= 0) ++n;
      rowids.resize(8 * n);
      planes.resize(n * planes_bytes_);
      scales.resize(4 * n);
      offsets.resize(4 * n);
      for (std::uint32_t i = 0; i < n; ++i) {
        const Edit& e = log_[static_cast<std::size_t>(patch.edit[first + i])];
        const std::uint8_t* body = body_of(e);
        store_u64(rowids.data() + 8 * i, static_cast<std::uint64_t>(e.rowid));
        std::memcpy(scales.data() + 4 * i, body, 4);
        std::memcpy(offsets.data() + 4 * i, body + 4, 4);
        std::memcpy(planes.data() + i * planes_bytes_, body + kScalarBytes, planes_bytes_);
      }
      if (d.rowids != std::string::npos) blob.write(rowids.data(), rowids.size(), d.rowids + 8 * first);
      blob.write(planes.data(), planes.size(), d.planes + first * planes_bytes_);
      blob.write(scales.data(), scales.size(), d.scales + 4 * first);
      if (d.offsets != std::string::npos) blob.write(offsets.data(), offsets.size(), d.offsets + 4 * first);
      first += n;
    }
  }
  pending_.clear();
  log_.clear();
  bodies_.clear();
}

void Store::sync() {
  // With edits waiting this connection holds the write lock: nobody else can have committed.
  if (loaded_ && !log_.empty()) return;
  sqlite3_stmt* s = cached(kDataVersion, [&] {
    return mprintf("PRAGMA \"%w\".data_version", schema_.c_str());
  });
  Reset r{s};
  if (sqlite3_step(s) != SQLITE_ROW) fail(sqlite3_errmsg(db_));
  const std::int64_t v = sqlite3_column_int64(s, 0);
  if (loaded_ && v == data_version_) return;
  forget();
  data_version_ = v;  // read before the data, so a commit in between forces another reload
  load_directory();
}

void Store::load_directory() {
  Stmt s = prepare(db_, "SELECT chunk_id FROM " + shadow("chunks") + " ORDER BY chunk_id");
  ChunkBlob blob(db_, schema_, name_, false);
  std::vector<std::uint8_t> bytes(validity_bytes_);
  int rc;
  while ((rc = sqlite3_step(s.get())) == SQLITE_ROW) {
    Chunk c;
    c.id = sqlite3_column_int64(s.get(), 0);
    blob.seek(c.id);
    check_size(blob, c.id);
    blob.read(bytes.data(), validity_bytes_, 0);
    c.valid.resize(cfg_.chunk_size / 64);
    for (std::size_t w = 0; w < c.valid.size(); ++w) c.valid[w] = load_u64(bytes.data() + 8 * w);
    c.count = popcount(c.valid);
    rows_ += c.count;
    if (listed(c.id) && c.count < cfg_.chunk_size) open_.insert(c.id);
    chunks_.emplace(c.id, std::move(c));
  }
  if (rc != SQLITE_DONE) fail(sqlite3_errmsg(db_));
  replay_directory();
  loaded_ = true;
}


void Store::check_size(ChunkBlob& blob, std::int64_t chunk) const {
  const std::size_t want = disk(chunk).bytes;
  if (blob.bytes() != want)
    corrupt(name_ + "_chunks", "chunk " + std::to_string(chunk) + " has " + std::to_string(blob.bytes()) +
                                   " bytes; expected " + std::to_string(want));
}

void Store::make_resident(Chunk& c, std::size_t expected_chunks) {
  c.image = arena_.alloc(image_bytes_, expected_chunks * image_bytes_);
  c.planes = planes_arena_.alloc(chunk_planes_bytes_, expected_chunks * chunk_planes_bytes_);
  const std::size_t nib = cfg_.chunk_size * nibble_bytes_;
  c.nibbles = nib ? nibbles_arena_.alloc(nib, expected_chunks * nib) : nullptr;
  c.hamming_ok = true;
  for (float*& k : c.key) k = nullptr;
  c.sums16 = nullptr;
  c.range = KeyRange{};
}

void Store::ensure_keys(Chunk& c) {
  if (c.key[0]) return;
  std::uint8_t* k = key_arena_.alloc(keys_bytes_, chunks_.size() * keys_bytes_);
  const bool used[5] = {true, true, layout_.S, layout_.T, layout_.U};
  for (int j = 0; j < 5; ++j) {
    if (!used[j]) continue;
    c.key[j] = reinterpret_cast<float*>(k);
    k += (4 * cfg_.chunk_size + 63) / 64 * 64;
  }
  if (sums16_) c.sums16 = reinterpret_cast<std::uint16_t*>(k);
  compute_keys(c, 0, cfg_.chunk_size);
  c.range = KeyRange{};
  for_each_set_bit(c.valid.data(), c.valid.size(), [&](std::size_t slot) { widen_range(c, slot); });
}

void Store::widen_range(Chunk& c, std::size_t slot) const noexcept {
  const auto at = [&](int j) { return c.key[j] ? c.key[j][slot] : 0.f; };
  c.range.add(at(0), at(2), at(3), at(4));
}

void Store::load_codes() {
  const std::size_t C = cfg_.chunk_size;
  // Each chunk's BLOB goes straight into its resident image: one incremental read per chunk.
  ChunkBlob blob(db_, schema_, name_, false);
  const std::size_t total = chunks_.size();
  for (auto& [id, c] : chunks_) {
    blob.seek(id);
    check_size(blob, id);
    make_resident(c, total);
    read_resident(blob, c);
    if (c.nibbles && fastscan_) kernels().planes_to_fastscan2(c.planes, planes_bytes_, nibble_words_, C, c.nibbles);
    else if (c.nibbles) kernels().planes_to_nibbles(c.planes, planes_bytes_, nibble_words_, C, c.nibbles, nibble_bytes_);
    // The waiting edits of this chunk, over what the disk holds.
    if (auto p = pending_.find(c.id); p != pending_.end())
      for (std::uint32_t slot = 0; slot < C; ++slot)
        if (p->second.edit[slot] >= 0) {
          const Edit& e = log_[static_cast<std::size_t>(p->second.edit[slot])];
          write_slot(c, slot, e.rowid, body_of(e));
        }
    for_each_set_bit(c.valid.data(), c.valid.size(), [&](std::size_t slot) { check_hamming(c, slot); });
  }
  codes_ = true;
}

void Store::read_resident(ChunkBlob& blob, Chunk& c) {
  const std::size_t C = cfg_.chunk_size;
  const DiskLayout& d = disk(c.id);
  blob.read(c.image, d.planes, 0);  // validity, and the rowids of a listed chunk
  if (d.rowids == std::string::npos) {
    std::int64_t* r = rowids_of(c);
    for (std::uint32_t s = 0; s < C; ++s) r[s] = rowid_at(c.id, s);
  }
  blob.read(c.planes, C * planes_bytes_, d.planes);
  const bool offsets = d.offsets != std::string::npos;
  blob.read(scales_of(c), (offsets ? 8 : 4) * C, d.scales);  // scales, and offsets where stored
  if (!offsets) std::memset(offsets_of(c), 0, 4 * C);
}

// A slot of a resident image: rowid, planes, scale, offset (body: scale, offset, planes).
void Store::write_slot(Chunk& c, std::uint32_t slot, std::int64_t rowid, const std::uint8_t* body) {
  rowids_of(c)[slot] = rowid;
  std::memcpy(c.planes + slot * planes_bytes_, body + kScalarBytes, planes_bytes_);
  if (c.nibbles && fastscan_)
    fastscan2_store(body + kScalarBytes, nibble_words_, c.nibbles + slot / 32 * 32 * nibble_bytes_, slot % 32);
  else if (c.nibbles)
    kernels().planes_to_nibbles(c.planes + slot * planes_bytes_, planes_bytes_, nibble_words_, 1,
                                c.nibbles + slot * nibble_bytes_, nibble_bytes_);
  std::memcpy(scales_of(c) + slot, body, 4);
  std::memcpy(offsets_of(c) + slot, body + 4, 4);
}

void Store::compute_keys(Chunk& c, std::size_t first, std::size_t n) {
  const auto at = [&](int j) { return c.key[j] ? c.key[j] + first : nullptr; };
  key_coefficients(binarizer_->shape(), cfg_.metric, c.planes + first * planes_bytes_, planes_bytes_,
                   scales_of(c) + first, offsets_of(c) + first, n, at(0), at(1), at(2), at(3), at(4), bounds_,
                   c.sums16 ? c.sums16 + first : nullptr);
}

void Store::check_hamming(Chunk& c, std::size_t slot) const noexcept {
  if (!(scales_of(c)[slot] > 0) || offsets_of(c)[slot] != 0) c.hamming_ok = false;
}

CodeBlock Store::block(const Chunk& c) const {
  CodeBlock b;
  b.planes = c.planes;
  b.stride = planes_bytes_;
  b.scale = scales_of(c);
  b.offset = offsets_of(c);
  b.n = cfg_.chunk_size;
  b.keys = SdcKeys{c.key[0], c.key[1], c.key[2], c.key[3], c.key[4]};
  b.digit_sums16 = c.sums16;
  b.range = c.range;
  b.hamming_ok = c.image && c.hamming_ok;
  b.stable = cfg_.cache;  // resident images live until the next write or reload
  (fastscan_ ? b.fastscan : b.nibbles) = c.nibbles;
  b.nibble_stride = nibble_bytes_;
  return b;
}

void Store::load_metadata() {
  const std::size_t nm = cfg_.metadata.size();
  for (auto& [id, c] : chunks_) c.meta.assign(nm, std::vector<Value>(cfg_.chunk_size));
  if (nm) {
    Stmt s = prepare(db_, "SELECT chunk_id, slot, rowid" + column_list("m", nm) + " FROM " + shadow("rowids"));
    int rc;
    while ((rc = sqlite3_step(s.get())) == SQLITE_ROW) {
      const std::int64_t chunk = sqlite3_column_int64(s.get(), 0), rowid = sqlite3_column_int64(s.get(), 2);
      auto it = chunks_.find(chunk);
      const sqlite3_int64 slot = sqlite3_column_int64(s.get(), 1);
      if (it == chunks_.end() || slot < 0 || slot >= cfg_.chunk_size || !test_bit(it->second.valid, static_cast<std::uint32_t>(slot)) ||
          (!listed(chunk) && (chunk != home(rowid) || slot != home_slot(rowid))))
        corrupt(name_ + "_rowids", "row " + std::to_string(rowid) + " points to chunk " + std::to_string(chunk) + " slot " +
                                       std::to_string(slot));
      for (std::size_t j = 0; j < nm; ++j)
        it->second.meta[j][static_cast<std::size_t>(slot)] = Value::copy_column(s.get(), static_cast<int>(3 + j));
    }
    if (rc != SQLITE_DONE) fail(sqlite3_errmsg(db_));
  }
  metadata_ = true;
}

std::int64_t Store::home(std::int64_t rowid) const noexcept {
  const std::int64_t C = cfg_.chunk_size;
  return rowid / C - (rowid % C < 0 ? 1 : 0);  // floor division
}

std::uint32_t Store::home_slot(std::int64_t rowid) const noexcept {
  return static_cast<std::uint32_t>(static_cast<std::uint64_t>(rowid) -
                                    static_cast<std::uint64_t>(home(rowid)) * cfg_.chunk_size);
}

std::optional<Location> Store::find(std::int64_t rowid) {
  sync();
  const std::int64_t h = home(rowid);
  const std::uint32_t slot = home_slot(rowid);
  if (const auto it = chunks_.find(h); it != chunks_.end() && test_bit(it->second.valid, slot)) return Location{h, slot};
  if (!has_listed()) return std::nullopt;
  sqlite3_stmt* s = cached(kFind, [&] { return std::string("SELECT chunk_id, slot FROM " + shadow("rowids") + " WHERE rowid = ?1"); });
  Reset r{s};
  sqlite3_bind_int64(s, 1, rowid);
  const int rc = sqlite3_step(s);
  if (rc == SQLITE_DONE) return std::nullopt;
  if (rc != SQLITE_ROW) fail(sqlite3_errmsg(db_));
  const std::int64_t chunk = sqlite3_column_int64(s, 0);
  const sqlite3_int64 at = sqlite3_column_int64(s, 1);
  if (!listed(chunk) || at < 0 || at >= cfg_.chunk_size)  // a ranged row's home slot is empty
    corrupt(name_ + "_rowids", "row " + std::to_string(rowid) + " has chunk " + std::to_string(chunk) + " and slot " +
                                   std::to_string(at));
  return Location{chunk, static_cast<std::uint32_t>(at)};
}

void Store::read_slot(std::int64_t chunk, std::uint32_t slot, std::int64_t* rowid, std::uint8_t* body) {
  if (const Edit* e = waiting(chunk, slot)) {
    *rowid = e->rowid;
    std::memcpy(body, body_of(*e), kScalarBytes + planes_bytes_);
    return;
  }
  ChunkBlob blob(db_, schema_, name_, false);
  blob.seek(chunk);
  check_size(blob, chunk);
  const DiskLayout& d = disk(chunk);
  if (d.rowids != std::string::npos) {
    std::uint8_t r[8];
    blob.read(r, 8, d.rowids + 8 * slot);
    *rowid = static_cast<std::int64_t>(load_u64(r));
  } else {
    *rowid = rowid_at(chunk, slot);
  }
  blob.read(body, 4, d.scales + 4 * slot);
  if (d.offsets != std::string::npos) blob.read(body + 4, 4, d.offsets + 4 * slot);
  else std::memset(body + 4, 0, 4);
  blob.read(body + kScalarBytes, planes_bytes_, d.planes + slot * planes_bytes_);
}

RowData Store::read_row(std::int64_t rowid, const Location& at) {
  RowData row;
  row.body.resize(kScalarBytes + planes_bytes_);
  std::int64_t stored = 0;
  read_slot(at.chunk, at.slot, &stored, row.body.data());
  if (stored != rowid) corrupt(name_ + "_chunks", "slot " + std::to_string(at.slot) + " of chunk " +
                                                      std::to_string(at.chunk) + " does not hold row " + std::to_string(rowid));
  const std::size_t nm = cfg_.metadata.size(), na = cfg_.auxiliary.size();
  if (nm + na) {
    sqlite3_stmt* s = cached(kReadRow, [&] { return row_select() + (nm ? " WHERE r.rowid = ?1" : " WHERE x.rowid = ?1"); });
    Reset r{s};
    sqlite3_bind_int64(s, 1, rowid);
    if (sqlite3_step(s) != SQLITE_ROW)
      corrupt(name_ + (nm ? "_rowids" : "_auxiliary"), "row " + std::to_string(rowid) + " has no entry");
    for (std::size_t j = 0; j < nm; ++j) row.meta.push_back(Value::copy_column(s, static_cast<int>(1 + j)));
    for (std::size_t j = 0; j < na; ++j) row.aux.push_back(Value::copy_column(s, static_cast<int>(1 + nm + j)));
  }
  if (cfg_.store_vectors) {
    sqlite3_stmt* v = cached(kReadVector, [&] { return std::string("SELECT vector FROM " + shadow("vectors") + " WHERE rowid = ?1"); });
    Reset r{v};
    sqlite3_bind_int64(v, 1, rowid);
    if (sqlite3_step(v) != SQLITE_ROW) corrupt(name_ + "_vectors", "the vector of row " + std::to_string(rowid) + " is missing");
    const auto* p = static_cast<const std::uint8_t*>(sqlite3_column_blob(v, 0));
    row.vector.assign(p, p + sqlite3_column_bytes(v, 0));
  }
  return row;
}

std::string Store::row_select() const {
  const std::size_t nm = cfg_.metadata.size(), na = cfg_.auxiliary.size();
  if (nm) {
    std::string sql = "SELECT r.rowid" + column_list("r.m", nm) + column_list("x.a", na) + " FROM " + shadow("rowids") + " r";
    if (na) sql += " LEFT JOIN " + shadow("auxiliary") + " x ON x.rowid = r.rowid";
    return sql;
  }
  if (na) return "SELECT x.rowid" + column_list("x.a", na) + " FROM " + shadow("auxiliary") + " x";
  return "";
}

std::vector<std::int64_t> Store::rowids() {
  sync();
  std::vector<std::int64_t> out;
  out.reserve(rows_);
  for (const auto& [id, c] : chunks_) {
    if (listed(id)) break;
    for_each_set_bit(c.valid.data(), c.valid.size(),
                     [&](std::size_t s) { out.push_back(rowid_at(id, static_cast<std::uint32_t>(s))); });
  }
  if (has_listed()) {
    Stmt s = prepare(db_, "SELECT rowid FROM " + shadow("rowids") + " WHERE chunk_id >= ?1 ORDER BY rowid");
    sqlite3_bind_int64(s.get(), 1, kListedBase);
    const std::size_t ranged = out.size();
    int rc;
    while ((rc = sqlite3_step(s.get())) == SQLITE_ROW) out.push_back(sqlite3_column_int64(s.get(), 0));
    if (rc != SQLITE_DONE) fail(sqlite3_errmsg(db_));
    std::inplace_merge(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(ranged), out.end());
  }
  return out;
}

void Store::scan(bool metadata, bool keys, const std::function<void(const ChunkView&)>& visit) {
  sync();
  if (metadata && !metadata_) load_metadata();
  if (cfg_.cache) {
    if (!codes_) load_codes();
    for (auto& [id, c] : chunks_) {
      if (keys || !c.hamming_ok) ensure_keys(c);
      visit(ChunkView{c, rowids_of(c), block(c)});
    }
    return;
  }
  // No cache: each chunk's BLOB into one scratch image, one incremental read per chunk.
  Chunk scratch;
  AlignedBytes image(image_bytes_), planes(chunk_planes_bytes_);
  scratch.image = image.data();
  scratch.planes = planes.data();
  ChunkBlob blob(db_, schema_, name_, false);
  for (const auto& [id, c] : chunks_) {
    blob.seek(id);
    check_size(blob, id);
    scratch.id = id;
    read_resident(blob, scratch);
    if (auto pe = pending_.find(id); pe != pending_.end())  // waiting edits over the disk
      for (std::uint32_t slot = 0; slot < cfg_.chunk_size; ++slot)
        if (pe->second.edit[slot] >= 0) {
          const Edit& e = log_[static_cast<std::size_t>(pe->second.edit[slot])];
          write_slot(scratch, slot, e.rowid, body_of(e));
        }
    scratch.hamming_ok = true;
    for_each_set_bit(c.valid.data(), c.valid.size(), [&](std::size_t slot) { check_hamming(scratch, slot); });
    CodeBlock b = block(scratch);  // no key coefficients: the Hamming filter or exact distances
    b.keys = SdcKeys{};
    visit(ChunkView{c, rowids_of(scratch), b});
  }
}

Chunk& Store::new_chunk(std::int64_t id) {
  const std::size_t C = cfg_.chunk_size;
  sqlite3_stmt* s = cached(kNewChunk, [&] { return std::string("INSERT INTO " + shadow("chunks") + "(chunk_id, data) VALUES (?1, zeroblob(?2))"); });
  {
    Reset r{s};
    sqlite3_bind_int64(s, 1, id);
    sqlite3_bind_int64(s, 2, static_cast<sqlite3_int64>(disk(id).bytes));
    step_done(db_, s);
  }
  Chunk c;
  c.id = id;
  c.valid.assign(C / 64, 0);
  if (codes_) {
    make_resident(c, 64);  // zeroed, as the new BLOB
    for (std::uint32_t slot = 0; slot < C; ++slot) rowids_of(c)[slot] = listed(id) ? 0 : rowid_at(id, slot);
  }
  if (metadata_) c.meta.assign(cfg_.metadata.size(), std::vector<Value>(C));
  if (listed(id)) open_.insert(id);
  return chunks_.emplace(id, std::move(c)).first->second;
}

Location Store::allocate() {
  if (open_.empty()) new_chunk(has_listed() ? chunks_.rbegin()->first + 1 : kListedBase);
  const Chunk& c = chunks_.at(*open_.begin());
  for (std::uint32_t w = 0; w < c.valid.size(); ++w)
    if (~c.valid[w]) return Location{c.id, w * 64 + static_cast<std::uint32_t>(std::countr_one(c.valid[w]))};
  corrupt(name_ + "_chunks", "an open chunk has no free slot");
}

// A row goes to its ranged chunk when that exists. A missing one is made only for a row that
// continues a run: rowid - 1 is in its own ranged chunk (a run crossing into the next range), or
// this connection's last C / 8 inserts were rowid - C / 8 + 1 .. rowid - 1, all in this range
// (they move into the new chunk). Everything else goes to a listed chunk. So rowids given in
// order, or chosen by bebr, fill ranged chunks, while rowids in random order, scattered ones and
// short runs (say the passages of one document under ids with gaps) go to listed chunks: a chunk
// made for a shorter run, or for any row with a ranged neighbour, would stay mostly empty.
Location Store::place(std::int64_t rowid) {
  const std::int64_t h = home(rowid);
  const std::uint32_t slot = home_slot(rowid), span = cfg_.chunk_size / 8;
  if (chunks_.count(h)) return Location{h, slot};
  bool crossing = false;
  if (rowid > std::numeric_limits<std::int64_t>::min()) {
    const auto it = chunks_.find(home(rowid - 1));
    crossing = it != chunks_.end() && test_bit(it->second.valid, home_slot(rowid - 1));
  }
  const bool run = follows_last(rowid) && run_ + 1 >= span && slot + 1 >= span;
  if (!crossing && !run) return allocate();
  new_chunk(h);
  if (run) {
    std::vector<std::uint8_t> body(kScalarBytes + planes_bytes_);
    for (std::int64_t r = rowid - span + 1; r < rowid; ++r) {
      const auto at = find(r);
      if (!at || !listed(at->chunk)) continue;  // deleted since, or moved
      std::int64_t stored = 0;
      read_slot(at->chunk, at->slot, &stored, body.data());
      move_row(r, *at, Location{h, home_slot(r)}, body.data());
    }
  }
  return Location{h, slot};
}

std::int64_t Store::next_rowid() {
  std::int64_t top = 0;  // an empty table starts at 1
  bool any = false;
  auto it = chunks_.lower_bound(kListedBase);
  if (it != chunks_.begin()) {  // the highest ranged chunk's highest row
    const Chunk& c = std::prev(it)->second;
    for (std::size_t w = c.valid.size(); w-- > 0;)
      if (c.valid[w]) {
        top = rowid_at(c.id, static_cast<std::uint32_t>(64 * w + 63 - static_cast<std::size_t>(std::countl_zero(c.valid[w]))));
        any = true;
        break;
      }
  }
  if (has_listed()) {
    sqlite3_stmt* s = cached(kMaxRowid, [&] { return std::string("SELECT max(rowid) FROM " + shadow("rowids")); });
    Reset r{s};
    if (sqlite3_step(s) != SQLITE_ROW) fail(sqlite3_errmsg(db_));
    if (sqlite3_column_type(s, 0) == SQLITE_INTEGER) {
      const std::int64_t m = sqlite3_column_int64(s, 0);
      top = any ? std::max(top, m) : m;
      any = true;
    }
  }
  if (any && top == std::numeric_limits<std::int64_t>::max())
    fail("table " + name_ + " holds the largest rowid (9223372036854775807): give each new row its rowid");
  return any ? top + 1 : 1;
}

void Store::set_resident(Chunk& c, std::uint32_t slot, std::int64_t rowid, const RowData& row) {
  if (c.image) {
    write_slot(c, slot, rowid, row.body.data());
    if (c.key[0]) {
      compute_keys(c, slot, 1);
      widen_range(c, slot);
    }
    check_hamming(c, slot);
  }
  if (!c.meta.empty())
    for (std::size_t j = 0; j < cfg_.metadata.size(); ++j) c.meta[j][slot] = row.meta[j];
}

std::int64_t Store::insert(std::optional<std::int64_t> rowid, const RowData& row) {
  sync();
  try {
    const std::int64_t id = rowid ? *rowid : next_rowid();
    const Location at = place(id);
    run_ = follows_last(id) ? run_ + 1 : 1;
    last_insert_ = id;
    const std::size_t nm = cfg_.metadata.size(), na = cfg_.auxiliary.size();
    if (nm || listed(at.chunk)) {
      sqlite3_stmt* s = cached(kInsertRowid, [&] { return std::string("INSERT INTO " + shadow("rowids") + "(rowid, chunk_id, slot" +
                                                 column_list("m", nm) + ") VALUES (?1, ?2, ?3" + placeholders(4, nm) + ")"); });
      Reset r{s};
      sqlite3_bind_int64(s, 1, id);
      sqlite3_bind_int64(s, 2, at.chunk);
      sqlite3_bind_int64(s, 3, at.slot);
      for (std::size_t j = 0; j < nm; ++j) row.meta[j].bind(s, static_cast<int>(4 + j));
      step_done(db_, s);
    }
    if (cfg_.store_vectors) {
      sqlite3_stmt* v = cached(kInsertVector, [&] { return std::string("INSERT INTO " + shadow("vectors") + "(rowid, vector) VALUES (?1, ?2)"); });
      Reset r{v};
      sqlite3_bind_int64(v, 1, id);
      sqlite3_bind_blob64(v, 2, row.vector.data(), row.vector.size(), SQLITE_STATIC);
      step_done(db_, v);
    }
    if (na) {
      sqlite3_stmt* a = cached(kInsertAux, [&] { return std::string("INSERT INTO " + shadow("auxiliary") + "(rowid" + column_list("a", na) +
                                               ") VALUES (?1" + placeholders(2, na) + ")"); });
      Reset r{a};
      sqlite3_bind_int64(a, 1, id);
      for (std::size_t j = 0; j < na; ++j) row.aux[j].bind(a, static_cast<int>(2 + j));
      step_done(db_, a);
    }
    Chunk& c = chunks_.at(at.chunk);
    if (test_bit(c.valid, at.slot)) corrupt(name_ + "_chunks", "row " + std::to_string(id) + " is there already");
    log_edit(at.chunk, at.slot, id, row.body.data());
    c.valid[at.slot / 64] |= std::uint64_t{1} << (at.slot % 64);
    if (++c.count == cfg_.chunk_size) open_.erase(c.id);
    ++rows_;
    set_resident(c, at.slot, id, row);
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
    auto it = chunks_.find(at.chunk);
    if (it == chunks_.end() || !test_bit(it->second.valid, at.slot))
      corrupt(name_ + "_rowids", "row " + std::to_string(rowid) + " points to an empty slot");
    Chunk& c = it->second;
    for (int which : {kDeleteRowid, kDeleteVector, kDeleteAux}) {
      const char* table = which == kDeleteRowid ? "rowids" : which == kDeleteVector ? "vectors" : "auxiliary";
      if (which == kDeleteVector && !cfg_.store_vectors) continue;
      if (which == kDeleteAux && cfg_.auxiliary.empty()) continue;
      sqlite3_stmt* d = cached(which, [&] { return std::string("DELETE FROM ") + shadow(table) + " WHERE rowid = ?1"; });
      Reset r{d};
      sqlite3_bind_int64(d, 1, rowid);
      step_done(db_, d);
    }
    c.valid[at.slot / 64] &= ~(std::uint64_t{1} << (at.slot % 64));
    --c.count;
    --rows_;
    log_edit(at.chunk, at.slot, 0, nullptr);
    if (c.count == 0) {
      free_chunk(c.id);
      return;
    }
    if (listed(c.id)) open_.insert(c.id);
    maybe_flush();
  } catch (...) {
    forget();
    throw;
  }
}

void Store::free_chunk(std::int64_t chunk) {
  Stmt d = prepare(db_, "DELETE FROM " + shadow("chunks") + " WHERE chunk_id = ?1");
  sqlite3_bind_int64(d.get(), 1, chunk);
  step_done(db_, d.get());
  chunks_.erase(chunk);
  open_.erase(chunk);
  pending_.erase(chunk);
}

void Store::move_row(std::int64_t rowid, const Location& from, const Location& to, const std::uint8_t* body) {
  Chunk& dst = chunks_.at(to.chunk);
  log_edit(to.chunk, to.slot, rowid, body);
  dst.valid[to.slot / 64] |= std::uint64_t{1} << (to.slot % 64);
  if (++dst.count == cfg_.chunk_size) open_.erase(dst.id);
  if (!cfg_.metadata.empty() || listed(to.chunk)) {
    sqlite3_stmt* m = cached(kMove, [&] { return std::string("UPDATE " + shadow("rowids") + " SET chunk_id = ?2, slot = ?3 WHERE rowid = ?1"); });
    Reset r{m};
    sqlite3_bind_int64(m, 1, rowid);
    sqlite3_bind_int64(m, 2, to.chunk);
    sqlite3_bind_int64(m, 3, to.slot);
    step_done(db_, m);
  } else {  // a ranged row of a table without metadata has no map row
    sqlite3_stmt* d = cached(kDeleteRowid, [&] { return std::string("DELETE FROM ") + shadow("rowids") + " WHERE rowid = ?1"; });
    Reset r{d};
    sqlite3_bind_int64(d, 1, rowid);
    step_done(db_, d);
  }
  Chunk& src = chunks_.at(from.chunk);
  src.valid[from.slot / 64] &= ~(std::uint64_t{1} << (from.slot % 64));
  log_edit(from.chunk, from.slot, 0, nullptr);
  if (--src.count == 0) free_chunk(src.id);
  else if (listed(src.id)) open_.insert(src.id);
}

std::size_t Store::optimize() {
  sync();
  std::size_t moved = 0;
  try {
    const std::size_t C = cfg_.chunk_size;
    std::vector<std::uint8_t> body(kScalarBytes + planes_bytes_);
    // The listed rows, by the ranged chunk they belong to.
    std::map<std::int64_t, std::vector<std::pair<std::int64_t, Location>>> by_home;
    if (has_listed()) {
      Stmt s = prepare(db_, "SELECT rowid, chunk_id, slot FROM " + shadow("rowids") + " WHERE chunk_id >= ?1");
      sqlite3_bind_int64(s.get(), 1, kListedBase);
      int rc;
      while ((rc = sqlite3_step(s.get())) == SQLITE_ROW) {
        const std::int64_t rowid = sqlite3_column_int64(s.get(), 0);
        const sqlite3_int64 slot = sqlite3_column_int64(s.get(), 2);
        if (slot < 0 || slot >= cfg_.chunk_size) corrupt(name_ + "_rowids", "row " + std::to_string(rowid) + " has slot " + std::to_string(slot));
        by_home[home(rowid)].push_back({rowid, Location{sqlite3_column_int64(s.get(), 1), static_cast<std::uint32_t>(slot)}});
      }
      if (rc != SQLITE_DONE) fail(sqlite3_errmsg(db_));
    }
    // A ranged chunk pays for itself when its rows would take more room listed: each listed row
    // costs its slot with the rowid (8 bytes more) and a map row (about 16 bytes).
    const std::size_t ranged_bytes = C * (planes_bytes_ + 8);
    for (auto& [h, rows] : by_home) {
      if (!chunks_.count(h) && rows.size() * (planes_bytes_ + 8 + 8 + 16) < ranged_bytes) continue;
      if (!chunks_.count(h)) new_chunk(h);
      for (const auto& [rowid, from] : rows) {
        std::int64_t stored = 0;
        read_slot(from.chunk, from.slot, &stored, body.data());
        if (stored != rowid) corrupt(name_ + "_chunks", "slot " + std::to_string(from.slot) + " of chunk " +
                                                             std::to_string(from.chunk) + " does not hold row " + std::to_string(rowid));
        move_row(rowid, from, Location{h, home_slot(rowid)}, body.data());
        ++moved;
      }
    }
    // Fill the lowest holes of listed chunks with the highest listed rows until they meet.
    while (has_listed()) {
      Chunk& last = chunks_.rbegin()->second;
      if (open_.empty() || *open_.begin() >= last.id) break;
      const Location to = allocate();
      std::uint32_t from = 0;
      for (std::uint32_t s = cfg_.chunk_size; s-- > 0;)
        if (test_bit(last.valid, s)) {
          from = s;
          break;
        }
      std::int64_t rowid = 0;
      read_slot(last.id, from, &rowid, body.data());
      move_row(rowid, Location{last.id, from}, to, body.data());
      ++moved;
    }
  } catch (...) {
    forget();
    throw;
  }
  forget();  // resident codes moved: reload them (disk + edits) on the next query
  return moved;
}

}  // namespace bebr::ext
