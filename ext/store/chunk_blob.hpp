// A chunk BLOB of <name>_chunks on disk: the incremental-I/O handle, where each part of the BLOB
// starts, its size check, and the reads and writes of its parts (docs/architecture.md, "The chunk
// BLOB"). A chunk's data BLOB of C = chunk_size slots and P = planes bytes a code is, in order:
//   validity  C / 8 bytes, bit s set when slot s holds a row
//   rowids    C little-endian int64 (listed chunks only)
//   planes    the planes of every slot (C x P): the scan-friendly layout
//   scales    C float32, then offsets C float32 (not for the raw binarizer: always 0)
//
//   const ChunkLayout layout(1024, planes_bytes, true);
//   ChunkBlob blob(shadow, false);
//   layout.open(blob, chunk);                          // seek, then the size check
//   layout.read_slot(blob, chunk, slot, &rowid, body);
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "shadow.hpp"
#include "write_log.hpp"

namespace bebr::ext {

// Where the parts of a code body (bebr/codes.hpp: a code without its header) start: the scale
// (float32), the offset (float32), then the planes.
inline constexpr std::size_t kBodyScale = 0, kBodyOffset = 4, kBodyPlanes = kScalarBytes;

// An incremental-I/O handle on the data BLOB of <name>_chunks rows, closed when it goes out of
// scope: an open handle counts as a running statement and would hold the transaction open.
class ChunkBlob {
 public:
  ChunkBlob(const Shadow& shadow, bool write)
      : db_(shadow.db()), schema_(shadow.schema()), table_(shadow.name() + "_chunks"), write_(write) {}
  ~ChunkBlob() { sqlite3_blob_close(h_); }
  ChunkBlob(const ChunkBlob&) = delete;
  ChunkBlob& operator=(const ChunkBlob&) = delete;

  void seek(std::int64_t row);
  std::size_t bytes() const { return static_cast<std::size_t>(sqlite3_blob_bytes(h_)); }
  void read(void* out, std::size_t n, std::size_t offset) {
    check(sqlite3_blob_read(h_, out, static_cast<int>(n), static_cast<int>(offset)), "read");
  }
  void write(const void* in, std::size_t n, std::size_t offset) {
    check(sqlite3_blob_write(h_, in, static_cast<int>(n), static_cast<int>(offset)), "write");
  }
  // "<name>_chunks", for messages.
  const std::string& table() const noexcept { return table_; }

 private:
  void check(int rc, const char* what);
  sqlite3* db_;
  std::string schema_, table_;
  bool write_;
  sqlite3_blob* h_ = nullptr;
  std::int64_t row_ = 0;
};

// Where each part of a chunk BLOB starts, by the kind of chunk.
class ChunkLayout {
 public:
  static constexpr std::size_t npos = std::string::npos;  // a part this kind of chunk does not store
  struct Parts {
    std::size_t rowids, planes, scales, offsets, bytes;
  };

  // offsets: the binarizer's codes have offsets (raw codes' are 0 and not stored).
  ChunkLayout(std::uint32_t chunk_size, std::size_t planes_bytes, bool offsets);

  const Parts& of(std::int64_t chunk) const noexcept;
  std::uint32_t chunk_size() const noexcept { return C_; }
  std::size_t planes_bytes() const noexcept { return planes_bytes_; }
  std::size_t validity_bytes() const noexcept { return C_ / 8; }

  // Points blob at chunk and checks the BLOB's size.
  void open(ChunkBlob& blob, std::int64_t chunk) const;
  // The validity bitmap of the chunk blob is on, as C / 64 words.
  std::vector<std::uint64_t> read_validity(ChunkBlob& blob) const;
  // One slot of the chunk blob is on: its rowid (computed for a ranged chunk) and code body
  // (scale, offset, planes: kScalarBytes + planes_bytes).
  void read_slot(ChunkBlob& blob, std::int64_t chunk, std::uint32_t slot, std::int64_t* rowid,
                 std::uint8_t* body) const;
  // The chunk's parts in three incremental reads: validity and (listed chunks) rowids into
  // `head` (validity_bytes + 8 C), the planes into `planes` (C x planes_bytes), the scales and,
  // where stored, the offsets into `scalars` (8 C). A ranged chunk's rowids and raw codes'
  // offsets are left for the caller to fill.
  void read_parts(ChunkBlob& blob, std::int64_t chunk, std::uint8_t* head, std::uint8_t* planes, float* scalars) const;

 private:
  std::uint32_t C_;
  std::size_t planes_bytes_;
  Parts ranged_, listed_;
};

// Writes the waiting edits of chunks into their BLOBs; keeps its buffers from chunk to chunk.
class ChunkWriter {
 public:
  explicit ChunkWriter(const ChunkLayout& layout) : layout_(layout) {}
  // The chunk's validity bitmap (the directory's), then its waiting set edits: runs of
  // consecutive slots go out as up to four writes each (rowids, planes, scales, offsets: the
  // parts this kind of chunk stores).
  void write(ChunkBlob& blob, std::int64_t chunk, const std::vector<std::uint64_t>& valid, const WriteLog& log,
             const WriteLog::Patch& patch);

 private:
  void write_run(ChunkBlob& blob, std::int64_t chunk, std::uint32_t first, std::uint32_t n, const WriteLog& log,
                 const WriteLog::Patch& patch);

  const ChunkLayout& layout_;
  std::vector<std::uint8_t> validity_, rowids_, planes_, scales_, offsets_;
};

}  // namespace bebr::ext
