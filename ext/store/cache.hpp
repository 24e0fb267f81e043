// The per-connection resident cache of a bebr table (docs/architecture.md, "The chunk directory
// and the resident cache"): with cache=1, each chunk's codes in aligned memory after the first
// kNN query, their key coefficients once a query needs them, and for some levels the codes again
// in the layout the filter reads; after the first filtered query, the metadata values. All of it
// is updated by this connection's writes and dropped (clear) on rollback or when another
// connection has committed.
//
// A resident chunk is split: its planes in one arena, where consecutive chunks' planes follow
// each other so a scan reads one unbroken stream (25-35% faster than whole images side by side,
// measured), and the rest of its image (validity, rowids, scales, offsets) in another; key
// coefficients (64-byte rounded) in a third, the filter's copy of the codes in a fourth.
//
//   ResidentCache cache(cfg, binarizer);
//   CachedChunk& c = cache.load_chunk(blob, layout, id, chunks);   // then cache.set_codes_loaded()
//   cache.ensure_keys(c, valid);
//   const CodeBlock b = cache.block(c);
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <vector>

#include "chunk_blob.hpp"
#include "types.hpp"

namespace bebr::ext {

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

// What the cache holds of one chunk.
struct CachedChunk {
  // Resident codes (cache=1, after the first kNN query): the chunk BLOB's image without its
  // planes (validity as on disk at load, the directory's is current; rowids; scales; offsets),
  // the planes, the filter's copy (nibbles or fast-scan blocks, where kept), and once a query
  // needs them the key coefficients P, R, S, T, U of the filter (only those the table's layout
  // needs). Null while not resident.
  std::uint8_t* image = nullptr;
  std::uint8_t* planes = nullptr;   // the codes' planes, chunk_size x planes bytes
  std::uint8_t* nibbles = nullptr;  // the filter's copy of the codes, where kept
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

class ResidentCache {
 public:
  ResidentCache(const TableConfig& cfg, const Binarizer& binarizer);
  ResidentCache(const ResidentCache&) = delete;
  ResidentCache& operator=(const ResidentCache&) = delete;

  // The magnitudes of the resident key coefficients (for the filter's error bound).
  const KeyBounds& key_bounds() const noexcept { return bounds_; }
  bool has_codes() const noexcept { return codes_; }
  bool has_metadata() const noexcept { return metadata_; }
  // Drops everything: the next use reloads (disk + waiting edits).
  void clear() noexcept;
  // The table's codes now come from another model of the same kind, width and bits (a recode,
  // or its rollback): the layouts stay, only the id changes.
  void set_model_id(std::uint32_t id) noexcept { shape_.model_id = id; }

  // The cached chunks by id: once codes or metadata are loaded, every chunk of the directory.
  std::map<std::int64_t, CachedChunk>::iterator begin() noexcept { return chunks_.begin(); }
  std::map<std::int64_t, CachedChunk>::iterator end() noexcept { return chunks_.end(); }
  CachedChunk& at(std::int64_t id) { return chunks_.at(id); }
  // A new chunk (zeroed, as its new BLOB; rowids computed for a ranged one), and a deleted one.
  void add_chunk(std::int64_t id);
  void erase(std::int64_t id) noexcept { chunks_.erase(id); }

  // Codes. load_chunk makes chunk id resident from its BLOB (blob open on it, size checked),
  // with `expected` the number of chunks to load (the arenas' first slab); set_codes_loaded
  // once every chunk is. write_slot overlays one slot (body: scale, offset, planes);
  // check_hamming looks at every slot set in `valid`.
  CachedChunk& load_chunk(ChunkBlob& blob, const ChunkLayout& layout, std::int64_t id, std::size_t expected);
  void set_codes_loaded() noexcept { codes_ = true; }
  void write_slot(CachedChunk& c, std::uint32_t slot, std::int64_t rowid, const std::uint8_t* body);
  void check_hamming(CachedChunk& c, const std::vector<std::uint64_t>& valid) const noexcept;
  // The key coefficients of a resident chunk, computed when a query first needs them (queries
  // that take the Hamming filter never do); the range covers the slots set in `valid`.
  void ensure_keys(CachedChunk& c, const std::vector<std::uint64_t>& valid);
  const std::int64_t* rowids_of(const CachedChunk& c) const noexcept { return rowids(c); }
  CodeBlock block(const CachedChunk& c) const;

  // A row written into slot of chunk id: its code where the chunk is resident, its metadata
  // where loaded.
  void set_row(std::int64_t id, std::uint32_t slot, std::int64_t rowid, const RowData& row);

  // Metadata: add_metadata makes room for chunk id's values (null), set_metadata_loaded once
  // every chunk's are in.
  void add_metadata(std::int64_t id);
  std::vector<std::vector<Value>>& metadata(std::int64_t id) { return chunks_.at(id).meta; }
  void set_metadata_loaded() noexcept { metadata_ = true; }

  // A chunk image of its own, for a scan without the cache (cache=0): one chunk at a time,
  // read by read_image, never keys or the filter's copy.
  class Scratch {
   public:
    explicit Scratch(const ResidentCache& cache);
    CachedChunk& chunk() noexcept { return c_; }

   private:
    AlignedBytes image_, planes_;
    CachedChunk c_;
  };
  // Reads chunk id's BLOB (blob open on it, size checked) into c's image and planes: three
  // incremental reads.
  void read_image(ChunkBlob& blob, const ChunkLayout& layout, std::int64_t id, CachedChunk& c) const;

 private:
  void make_resident(CachedChunk& c, std::size_t expected_chunks);
  void compute_keys(CachedChunk& c, std::size_t first, std::size_t n);
  void widen_range(CachedChunk& c, std::size_t slot) const noexcept;
  void check_slot(CachedChunk& c, std::size_t slot) const noexcept;

  // The resident image: validity, rowids (8 C), scales (4 C), offsets (4 C).
  std::int64_t* rowids(const CachedChunk& c) const noexcept {
    return reinterpret_cast<std::int64_t*>(c.image + validity_bytes_);
  }
  float* scales(const CachedChunk& c) const noexcept {
    return reinterpret_cast<float*>(c.image + validity_bytes_ + 8 * C_);
  }
  float* offsets(const CachedChunk& c) const noexcept { return scales(c) + C_; }

  CodeShape shape_;
  Metric metric_;
  std::uint32_t C_;
  bool stable_;  // cache=1: resident images live until the next write or reload
  std::size_t planes_bytes_, validity_bytes_;
  KeyLayout layout_;
  KeyBounds bounds_;
  bool codes_ = false, metadata_ = false;
  std::size_t metadata_columns_;
  std::map<std::int64_t, CachedChunk> chunks_;

  std::size_t image_bytes_, chunk_planes_bytes_, keys_bytes_;
  // Which copy of the planes the filter reads (nibbles, fast-scan blocks or none), chosen by core
  // for the active SIMD level (bebr::ResidentLayout).
  ResidentLayout copy_;
  bool sums16_ = false;  // digit sums kept with the keys (digit_sums16_fit)
  Arena arena_, planes_arena_, key_arena_, nibbles_arena_;
};

}  // namespace bebr::ext
