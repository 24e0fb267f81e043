// The resident cache of a bebr table: arenas, resident chunk images, key coefficients, the
// filter's copy of the codes, metadata values.
#include "cache.hpp"

#include <sys/mman.h>

#include <algorithm>
#include <bit>
#include <cstdlib>
#include <cstring>

#include "bebr/bits.hpp"
#include "directory.hpp"

namespace bebr::ext {

static_assert(std::endian::native == std::endian::little,
              "the resident cache uses the little-endian chunk image as it is");

namespace {

constexpr std::size_t round64(std::size_t n) noexcept { return (n + 63) / 64 * 64; }


}  // namespace

std::uint8_t* Arena::alloc(std::size_t bytes, std::size_t hint) {
  bytes = round64(bytes);
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
  const std::size_t size = round64(std::max<std::size_t>(n, 1));
  auto* p = static_cast<std::uint8_t*>(std::aligned_alloc(64, size));
  if (!p) throw std::bad_alloc();
  p_.reset(p);
}
void AlignedBytes::Free::operator()(std::uint8_t* p) const noexcept { std::free(p); }

ResidentCache::ResidentCache(const TableConfig& cfg, const Binarizer& binarizer)
    : shape_(binarizer.shape()),
      metric_(cfg.metric),
      C_(cfg.chunk_size),
      stable_(cfg.cache),
      planes_bytes_(planes_bytes(shape_)),
      validity_bytes_(cfg.chunk_size / 8),
      layout_(key_layout(shape_, cfg.metric)),
      metadata_columns_(cfg.metadata.size()) {
  const std::size_t C = C_;
  const int keys = 2 + layout_.S + layout_.T + layout_.U;
  image_bytes_ = round64(validity_bytes_ + 16 * C);
  chunk_planes_bytes_ = round64(C * planes_bytes_);
  sums16_ = digit_sums16_fit(shape_);
  keys_bytes_ = keys * round64(4 * C) + (sums16_ ? round64(2 * C) : 0);
  copy_ = resident_layout(shape_, cfg.metric);
}

void ResidentCache::clear() noexcept {
  codes_ = metadata_ = false;
  arena_.clear();
  planes_arena_.clear();
  nibbles_arena_.clear();
  key_arena_.clear();
  chunks_.clear();
  bounds_ = KeyBounds{};
}

void ResidentCache::make_resident(CachedChunk& c, std::size_t expected_chunks) {
  c.image = arena_.alloc(image_bytes_, expected_chunks * image_bytes_);
  c.planes = planes_arena_.alloc(chunk_planes_bytes_, expected_chunks * chunk_planes_bytes_);
  const std::size_t nib = C_ * copy_.copy_bytes;
  c.nibbles = nib ? nibbles_arena_.alloc(nib, expected_chunks * nib) : nullptr;
  c.hamming_ok = true;
  for (float*& k : c.key) k = nullptr;
  c.sums16 = nullptr;
  c.range = KeyRange{};
}

void ResidentCache::add_chunk(std::int64_t id) {
  if (!codes_ && !metadata_) return;
  CachedChunk& c = chunks_[id];
  if (codes_) {
    make_resident(c, 64);  // zeroed, as the new BLOB
    std::int64_t* r = rowids(c);
    for (std::uint32_t slot = 0; slot < C_; ++slot) r[slot] = listed_chunk(id) ? 0 : rowid_at(id, slot, C_);
  }
  if (metadata_) c.meta.assign(metadata_columns_, std::vector<Value>(C_));
}

CachedChunk& ResidentCache::load_chunk(ChunkBlob& blob, const ChunkLayout& layout, std::int64_t id,
                                       std::size_t expected) {
  CachedChunk& c = chunks_[id];
  make_resident(c, expected);
  read_image(blob, layout, id, c);
  if (c.nibbles) copy_.fill(c.planes, planes_bytes_, C_, c.nibbles);
  return c;
}

void ResidentCache::read_image(ChunkBlob& blob, const ChunkLayout& layout, std::int64_t id, CachedChunk& c) const {
  layout.read_parts(blob, id, c.image, c.planes, scales(c));
  const ChunkLayout::Parts& d = layout.of(id);
  if (d.rowids == ChunkLayout::npos) {
    std::int64_t* r = rowids(c);
    for (std::uint32_t s = 0; s < C_; ++s) r[s] = rowid_at(id, s, C_);
  }
  if (d.offsets == ChunkLayout::npos) std::memset(offsets(c), 0, 4 * C_);
}

// A slot of a resident image: rowid, planes, scale, offset (body: scale, offset, planes).
void ResidentCache::write_slot(CachedChunk& c, std::uint32_t slot, std::int64_t rowid, const std::uint8_t* body) {
  rowids(c)[slot] = rowid;
  std::uint8_t* planes = c.planes + slot * planes_bytes_;
  std::memcpy(planes, body + kBodyPlanes, planes_bytes_);
  if (c.nibbles) copy_.store(planes, slot, c.nibbles);
  std::memcpy(scales(c) + slot, body + kBodyScale, 4);
  std::memcpy(offsets(c) + slot, body + kBodyOffset, 4);
}

void ResidentCache::check_slot(CachedChunk& c, std::size_t slot) const noexcept {
  if (!(scales(c)[slot] > 0) || offsets(c)[slot] != 0) c.hamming_ok = false;
}

void ResidentCache::check_hamming(CachedChunk& c, const std::vector<std::uint64_t>& valid) const noexcept {
  for_each_set_bit(valid.data(), valid.size(), [&](std::size_t slot) { check_slot(c, slot); });
}

void ResidentCache::ensure_keys(CachedChunk& c, const std::vector<std::uint64_t>& valid) {
  if (c.key[0]) return;
  std::uint8_t* k = key_arena_.alloc(keys_bytes_, chunks_.size() * keys_bytes_);
  const bool used[5] = {true, true, layout_.S, layout_.T, layout_.U};
  for (int j = 0; j < 5; ++j) {
    if (!used[j]) continue;
    c.key[j] = reinterpret_cast<float*>(k);
    k += round64(4 * C_);
  }
  if (sums16_) c.sums16 = reinterpret_cast<std::uint16_t*>(k);
  compute_keys(c, 0, C_);
  c.range = KeyRange{};
  for_each_set_bit(valid.data(), valid.size(), [&](std::size_t slot) { widen_range(c, slot); });
}

void ResidentCache::compute_keys(CachedChunk& c, std::size_t first, std::size_t n) {
  const auto at = [&](int j) { return c.key[j] ? c.key[j] + first : nullptr; };
  key_coefficients(shape_, metric_, c.planes + first * planes_bytes_, planes_bytes_, scales(c) + first,
                   offsets(c) + first, n, at(0), at(1), at(2), at(3), at(4), bounds_,
                   c.sums16 ? c.sums16 + first : nullptr);
}

void ResidentCache::widen_range(CachedChunk& c, std::size_t slot) const noexcept {
  const auto at = [&](int j) { return c.key[j] ? c.key[j][slot] : 0.f; };
  c.range.add(at(0), at(2), at(3), at(4));
}

CodeBlock ResidentCache::block(const CachedChunk& c) const {
  CodeBlock b;
  b.planes = c.planes;
  b.stride = planes_bytes_;
  b.scale = scales(c);
  b.offset = offsets(c);
  b.n = C_;
  b.keys = KeyArrays{c.key[0], c.key[1], c.key[2], c.key[3], c.key[4]};
  b.digit_sums16 = c.sums16;
  b.range = c.range;
  b.hamming_ok = c.image && c.hamming_ok;
  b.stable = stable_;
  copy_.attach(c.nibbles, b);
  return b;
}

void ResidentCache::set_row(std::int64_t id, std::uint32_t slot, std::int64_t rowid, const RowData& row) {
  if (!codes_ && !metadata_) return;
  CachedChunk& c = chunks_.at(id);
  if (c.image) {
    write_slot(c, slot, rowid, row.body.data());
    if (c.key[0]) {
      compute_keys(c, slot, 1);
      widen_range(c, slot);
    }
    check_slot(c, slot);
  }
  if (!c.meta.empty())
    for (std::size_t j = 0; j < metadata_columns_; ++j) c.meta[j][slot] = row.meta[j];
}

void ResidentCache::add_metadata(std::int64_t id) {
  chunks_[id].meta.assign(metadata_columns_, std::vector<Value>(C_));
}

ResidentCache::Scratch::Scratch(const ResidentCache& cache)
    : image_(cache.image_bytes_), planes_(cache.chunk_planes_bytes_) {
  c_.image = image_.data();
  c_.planes = planes_.data();
}

}  // namespace bebr::ext
