// The chunk directory: validity bitmaps, row counts, the listed chunks with room, placement.
#include "directory.hpp"

#include <bit>

#include "bebr/bits.hpp"

namespace bebr::ext {

namespace {

bool test_bit(const std::vector<std::uint64_t>& v, std::uint32_t i) noexcept { return (v[i / 64] >> (i % 64)) & 1; }

std::uint32_t count_of(const std::vector<std::uint64_t>& valid) noexcept {
  return static_cast<std::uint32_t>(count_set_bits(valid.data(), valid.size()));
}

}  // namespace

void Directory::add(std::int64_t id, std::vector<std::uint64_t> valid) {
  DirChunk c;
  c.id = id;
  c.valid = std::move(valid);
  c.count = count_of(c.valid);
  rows_ += c.count;
  if (listed_chunk(id) && c.count < C_) open_.insert(id);
  chunks_.emplace(id, std::move(c));
}

void Directory::add_empty(std::int64_t id) {
  DirChunk c;
  c.id = id;
  c.valid.assign(C_ / 64, 0);
  if (listed_chunk(id)) open_.insert(id);
  chunks_.emplace(id, std::move(c));
}

void Directory::erase(std::int64_t id) noexcept {
  chunks_.erase(id);
  open_.erase(id);
}

void Directory::clear() noexcept {
  loaded_ = false;
  chunks_.clear();
  open_.clear();
  rows_ = 0;
}

bool Directory::mark(std::int64_t chunk, std::uint32_t slot, bool set) noexcept {
  const auto it = chunks_.find(chunk);
  if (it == chunks_.end()) return false;  // deleted since (a chunk is deleted when it empties)
  std::uint64_t& word = it->second.valid[slot / 64];
  const std::uint64_t bit = std::uint64_t{1} << (slot % 64);
  word = set ? word | bit : word & ~bit;
  return true;
}

void Directory::recount(std::int64_t chunk) {
  DirChunk& c = chunks_.at(chunk);
  rows_ -= c.count;
  c.count = count_of(c.valid);
  rows_ += c.count;
  if (listed_chunk(chunk) && c.count < C_) open_.insert(chunk);
  else open_.erase(chunk);
}

bool Directory::occupy(const Location& at) {
  DirChunk& c = chunks_.at(at.chunk);
  if (test_bit(c.valid, at.slot)) return false;
  c.valid[at.slot / 64] |= std::uint64_t{1} << (at.slot % 64);
  if (++c.count == C_) open_.erase(c.id);
  ++rows_;
  return true;
}

bool Directory::vacate(const Location& at) {
  DirChunk& c = chunks_.at(at.chunk);
  c.valid[at.slot / 64] &= ~(std::uint64_t{1} << (at.slot % 64));
  --c.count;
  --rows_;
  if (c.count == 0) return true;
  if (listed_chunk(c.id)) open_.insert(c.id);
  return false;
}

const DirChunk* Directory::find(std::int64_t id) const noexcept {
  const auto it = chunks_.find(id);
  return it == chunks_.end() ? nullptr : &it->second;
}

bool Directory::holds(std::int64_t chunk, std::uint32_t slot) const noexcept {
  const DirChunk* c = find(chunk);
  return c && test_bit(c->valid, slot);
}

std::optional<std::int64_t> Directory::lowest_open() const noexcept {
  if (open_.empty()) return std::nullopt;
  return *open_.begin();
}

std::optional<std::uint32_t> Directory::highest_slot(const DirChunk& c) noexcept {
  if (const auto s = highest_set_bit(c.valid.data(), c.valid.size())) return static_cast<std::uint32_t>(*s);
  return std::nullopt;
}

void Directory::ranged_rowids(std::vector<std::int64_t>& out) const {
  for (const auto& chunk : chunks_) {
    const std::int64_t id = chunk.first;  // not a structured binding: clang 14 cannot capture one
    const DirChunk& c = chunk.second;
    if (listed_chunk(id)) break;
    for_each_set_bit(c.valid.data(), c.valid.size(),
                     [&](std::size_t s) { out.push_back(rowid_at(id, static_cast<std::uint32_t>(s), C_)); });
  }
}

std::optional<std::int64_t> Directory::top_ranged_rowid() const noexcept {
  const auto it = chunks_.lower_bound(kListedBase);
  if (it == chunks_.begin()) return std::nullopt;
  const DirChunk& c = std::prev(it)->second;  // the highest ranged chunk's highest row
  if (const auto s = highest_slot(c)) return rowid_at(c.id, *s, C_);
  return std::nullopt;
}

Directory::Placement Directory::place(std::int64_t rowid) const noexcept {
  Placement p;
  p.at = Location{home_chunk(rowid, C_), home_slot(rowid, C_)};
  if (contains(p.at.chunk)) {
    p.kind = Placement::ranged;
    return p;
  }
  const std::uint32_t span = run_span();
  const bool crossing =
      rowid > std::numeric_limits<std::int64_t>::min() && holds(home_chunk(rowid - 1, C_), home_slot(rowid - 1, C_));
  p.take_run = follows_last(rowid) && run_ + 1 >= span && p.at.slot + 1 >= span;
  p.kind = crossing || p.take_run ? Placement::new_ranged : Placement::listed;
  return p;
}

void Directory::note_insert(std::int64_t rowid) noexcept {
  run_ = follows_last(rowid) ? run_ + 1 : 1;
  last_insert_ = rowid;
}

std::optional<Location> Directory::free_slot() const noexcept {
  if (open_.empty()) return std::nullopt;
  const DirChunk& c = chunks_.find(*open_.begin())->second;
  if (const auto s = lowest_clear_bit(c.valid.data(), c.valid.size()))
    return Location{c.id, static_cast<std::uint32_t>(*s)};
  return std::nullopt;
}

}  // namespace bebr::ext
