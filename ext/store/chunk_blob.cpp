// Chunk BLOBs on disk: the incremental-I/O handle, the layout of the parts, reads and writes.
#include "chunk_blob.hpp"

#include <cmath>
#include <cstring>

#include "directory.hpp"

namespace bebr::ext {
namespace {

// A non-finite scale or offset in a crafted or damaged chunk would come back as a distance of 0
// or NaN, and NaN breaks the top-k order: refused where the chunk is read, once per load.
void check_scalars(const std::string& table, std::int64_t chunk, std::int64_t rowid, float scale, float offset) {
  const char* bad = !std::isfinite(scale) ? "scale" : !std::isfinite(offset) ? "offset" : nullptr;
  if (bad)
    corrupt(table, "chunk " + std::to_string(chunk) + " row " + std::to_string(rowid) + " has a non-finite " + bad +
                       " (" + std::to_string(!std::isfinite(scale) ? scale : offset) + ")");
}

}  // namespace

void ChunkBlob::seek(std::int64_t row) {
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

void ChunkBlob::check(int rc, const char* what) {
  if (rc != SQLITE_OK)
    fail(std::string("cannot ") + what + " chunk " + std::to_string(row_) + " of " + table_ + ": " +
         sqlite3_errstr(rc));
}

ChunkLayout::ChunkLayout(std::uint32_t chunk_size, std::size_t planes_bytes, bool offsets)
    : C_(chunk_size), planes_bytes_(planes_bytes) {
  const std::size_t C = chunk_size, validity = validity_bytes();
  for (const bool with_rowids : {false, true}) {
    Parts& d = with_rowids ? listed_ : ranged_;
    d.rowids = with_rowids ? validity : npos;
    d.planes = validity + (with_rowids ? 8 * C : 0);
    d.scales = d.planes + C * planes_bytes_;
    d.offsets = offsets ? d.scales + 4 * C : npos;
    d.bytes = d.scales + (offsets ? 8 : 4) * C;
  }
}

const ChunkLayout::Parts& ChunkLayout::of(std::int64_t chunk) const noexcept {
  return listed_chunk(chunk) ? listed_ : ranged_;
}

void ChunkLayout::open(ChunkBlob& blob, std::int64_t chunk) const {
  blob.seek(chunk);
  const std::size_t want = of(chunk).bytes;
  if (blob.bytes() != want)
    corrupt(blob.table(), "chunk " + std::to_string(chunk) + " has " + std::to_string(blob.bytes()) +
                              " bytes; expected " + std::to_string(want));
}

std::vector<std::uint64_t> ChunkLayout::read_validity(ChunkBlob& blob) const {
  std::vector<std::uint8_t> bytes(validity_bytes());
  blob.read(bytes.data(), bytes.size(), 0);
  std::vector<std::uint64_t> valid(C_ / 64);
  for (std::size_t w = 0; w < valid.size(); ++w) valid[w] = load_u64(bytes.data() + 8 * w);
  return valid;
}

void ChunkLayout::read_slot(ChunkBlob& blob, std::int64_t chunk, std::uint32_t slot, std::int64_t* rowid,
                            std::uint8_t* body) const {
  const Parts& d = of(chunk);
  if (d.rowids != npos) {
    std::uint8_t r[8];
    blob.read(r, 8, d.rowids + 8 * slot);
    *rowid = static_cast<std::int64_t>(load_u64(r));
  } else {
    *rowid = rowid_at(chunk, slot, C_);
  }
  blob.read(body + kBodyScale, 4, d.scales + 4 * slot);
  if (d.offsets != npos) blob.read(body + kBodyOffset, 4, d.offsets + 4 * slot);
  else std::memset(body + kBodyOffset, 0, 4);
  blob.read(body + kBodyPlanes, planes_bytes_, d.planes + slot * planes_bytes_);
  check_scalars(blob.table(), chunk, *rowid, load_f32(body + kBodyScale), load_f32(body + kBodyOffset));
}

void ChunkLayout::read_parts(ChunkBlob& blob, std::int64_t chunk, std::uint8_t* head, std::uint8_t* planes,
                             float* scalars) const {
  const Parts& d = of(chunk);
  blob.read(head, d.planes, 0);  // validity, and the rowids of a listed chunk
  blob.read(planes, C_ * planes_bytes_, d.planes);
  blob.read(scalars, (d.offsets != npos ? 8 : 4) * C_, d.scales);  // scales, and offsets where stored
  for (std::uint32_t s = 0; s < C_; ++s) {
    if (!((head[s / 8] >> (s % 8)) & 1)) continue;  // an empty slot's values are never read
    const float offset = d.offsets != npos ? scalars[C_ + s] : 0.f;
    if (std::isfinite(scalars[s]) && std::isfinite(offset)) continue;
    const std::int64_t rowid =
        d.rowids != npos ? static_cast<std::int64_t>(load_u64(head + d.rowids + 8 * s)) : rowid_at(chunk, s, C_);
    check_scalars(blob.table(), chunk, rowid, scalars[s], offset);
  }
}

void ChunkWriter::write(ChunkBlob& blob, std::int64_t chunk, const std::vector<std::uint64_t>& valid,
                        const WriteLog& log, const WriteLog::Patch& patch) {
  blob.seek(chunk);
  validity_.resize(layout_.validity_bytes());
  for (std::size_t w = 0; w < valid.size(); ++w) store_u64(validity_.data() + 8 * w, valid[w]);
  blob.write(validity_.data(), validity_.size(), 0);
  const std::uint32_t C = layout_.chunk_size();
  for (std::uint32_t first = 0; first < C;) {
    if (patch.edit[first] < 0) {
      ++first;
      continue;
    }
    std::uint32_t n = 0;
    while (first + n < C && patch.edit[first + n] >= 0) ++n;
    write_run(blob, chunk, first, n, log, patch);
    first += n;
  }
}

void ChunkWriter::write_run(ChunkBlob& blob, std::int64_t chunk, std::uint32_t first, std::uint32_t n,
                            const WriteLog& log, const WriteLog::Patch& patch) {
  const std::size_t P = layout_.planes_bytes();
  rowids_.resize(8 * n);
  planes_.resize(n * P);
  scales_.resize(4 * n);
  offsets_.resize(4 * n);
  for (std::uint32_t i = 0; i < n; ++i) {
    const WriteLog::Edit& e = log.edit(patch.edit[first + i]);
    const std::uint8_t* body = log.body_of(e);
    store_u64(rowids_.data() + 8 * i, static_cast<std::uint64_t>(e.rowid));
    std::memcpy(scales_.data() + 4 * i, body + kBodyScale, 4);
    std::memcpy(offsets_.data() + 4 * i, body + kBodyOffset, 4);
    std::memcpy(planes_.data() + i * P, body + kBodyPlanes, P);
  }
  const ChunkLayout::Parts& d = layout_.of(chunk);
  if (d.rowids != ChunkLayout::npos) blob.write(rowids_.data(), rowids_.size(), d.rowids + 8 * first);
  blob.write(planes_.data(), planes_.size(), d.planes + first * P);
  blob.write(scales_.data(), scales_.size(), d.scales + 4 * first);
  if (d.offsets != ChunkLayout::npos) blob.write(offsets_.data(), offsets_.size(), d.offsets + 4 * first);
}

}  // namespace bebr::ext
