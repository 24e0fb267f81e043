// The chunk directory of a bebr table: which chunks exist, which of their slots hold a row, and
// where a new row goes. Always in memory (N / 8 bytes for N rows), so inserts find a slot and
// lookups find a ranged row without a query.
//
// Codes live in chunks of C = chunk_size slots. A chunk is of one of two kinds, told by its id:
//   ranged (id < 2^62): chunk id holds the rows floor(rowid / C) == id, row r in slot r - id C,
//     so it stores no rowids and needs no map row: the common case of dense rowids;
//   listed (id >= 2^62): any rows, each in a free slot, with its rowid stored in the chunk and
//     its (chunk_id, slot) in <name>_rowids.
//
//   Directory dir(1024);
//   dir.add(0, valid_words_read_from_disk);
//   const Directory::Placement p = dir.place(rowid);   // then the store makes chunks, moves rows
//   dir.occupy(p.at);
#pragma once

#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <vector>

#include "types.hpp"

namespace bebr::ext {

// Chunk ids from kListedBase up are listed chunks; below it, ranged ones.
inline constexpr std::int64_t kListedBase = std::int64_t{1} << 62;
constexpr bool listed_chunk(std::int64_t chunk) noexcept { return chunk >= kListedBase; }

// The ranged chunk and slot of a rowid with C slots a chunk, and back (two's complement
// wrap-around keeps the products in range at the ends of the rowid space).
constexpr std::int64_t home_chunk(std::int64_t rowid, std::uint32_t C) noexcept {
  const std::int64_t c = C;
  return rowid / c - (rowid % c < 0 ? 1 : 0);  // floor division
}
constexpr std::uint32_t home_slot(std::int64_t rowid, std::uint32_t C) noexcept {
  return static_cast<std::uint32_t>(static_cast<std::uint64_t>(rowid) -
                                    static_cast<std::uint64_t>(home_chunk(rowid, C)) * C);
}
constexpr std::int64_t rowid_at(std::int64_t chunk, std::uint32_t slot, std::uint32_t C) noexcept {
  return static_cast<std::int64_t>(static_cast<std::uint64_t>(chunk) * C + slot);
}

// A chunk as the directory knows it.
struct DirChunk {
  std::int64_t id = 0;
  std::uint32_t count = 0;           // rows held
  std::vector<std::uint64_t> valid;  // chunk_size bits, bit s set when slot s holds a row
};

class Directory {
 public:
  explicit Directory(std::uint32_t chunk_size) : C_(chunk_size) {}

  // Loading. add takes a chunk as read from disk, add_empty a new one; loaded() is set by the
  // store once the directory reflects disk + waiting edits.
  void add(std::int64_t id, std::vector<std::uint64_t> valid);
  void add_empty(std::int64_t id);
  void erase(std::int64_t id) noexcept;
  bool loaded() const noexcept { return loaded_; }
  void set_loaded() noexcept { loaded_ = true; }
  // Forgets every chunk; the run of inserts (place) is this connection's and stays.
  void clear() noexcept;

  // A waiting edit over a directory just read: sets or clears the bit of the slot, false when
  // the chunk no longer exists. recount then fixes the counts of the chunks marked.
  bool mark(std::int64_t chunk, std::uint32_t slot, bool set) noexcept;
  void recount(std::int64_t chunk);

  // A row comes into a free slot (false, and nothing changes, when the slot is taken) or leaves
  // one; vacate is true when the chunk is then empty (the store deletes it).
  bool occupy(const Location& at);
  bool vacate(const Location& at);

  std::size_t size() const noexcept { return chunks_.size(); }
  std::size_t rows() const noexcept { return rows_; }
  std::map<std::int64_t, DirChunk>::const_iterator begin() const noexcept { return chunks_.begin(); }
  std::map<std::int64_t, DirChunk>::const_iterator end() const noexcept { return chunks_.end(); }
  const DirChunk* find(std::int64_t id) const noexcept;
  bool contains(std::int64_t id) const noexcept { return chunks_.count(id) != 0; }
  bool holds(std::int64_t chunk, std::uint32_t slot) const noexcept;
  bool has_listed() const noexcept { return chunks_.lower_bound(kListedBase) != chunks_.end(); }
  // The listed chunk with the highest id (has_listed), and the lowest listed one with room.
  const DirChunk& last_listed() const noexcept { return chunks_.rbegin()->second; }
  std::optional<std::int64_t> lowest_open() const noexcept;
  // The highest slot of a chunk that holds a row (none for an empty chunk).
  static std::optional<std::uint32_t> highest_slot(const DirChunk& c) noexcept;

  // Every rowid of the ranged chunks, ascending, appended to out.
  void ranged_rowids(std::vector<std::int64_t>& out) const;
  // The highest rowid of the ranged chunks, none when there are none.
  std::optional<std::int64_t> top_ranged_rowid() const noexcept;

  // Placement (docs/architecture.md). A row goes to its ranged chunk when that exists. A
  // missing one is made only for a row that continues a run: rowid - 1 is in its own ranged
  // chunk (a run crossing into the next range), or this connection's last C / 8 inserts were
  // rowid - C / 8 + 1 .. rowid - 1, all in this range (they move into the new chunk, take_run).
  // Everything else goes to a listed chunk. So rowids given in order, or chosen by bebr, fill
  // ranged chunks, while rowids in random order, scattered ones and short runs (say the passages
  // of one document under ids with gaps) go to listed chunks: a chunk made for a shorter run, or
  // for any row with a ranged neighbour, would stay mostly empty.
  struct Placement {
    enum Kind { ranged, new_ranged, listed } kind = listed;
    Location at;            // ranged and new_ranged: the home of the row
    bool take_run = false;  // new_ranged: move rowid - C / 8 + 1 .. rowid - 1 into it
  };
  Placement place(std::int64_t rowid) const noexcept;
  // After an insert of rowid: the run place looks at.
  void note_insert(std::int64_t rowid) noexcept;
  std::uint32_t run_span() const noexcept { return C_ / 8; }
  // The lowest free slot of the lowest listed chunk with room; none when no listed chunk has
  // room (the store makes chunk next_listed_id() and asks again).
  std::optional<Location> free_slot() const noexcept;
  std::int64_t next_listed_id() const noexcept { return has_listed() ? chunks_.rbegin()->first + 1 : kListedBase; }

 private:
  bool follows_last(std::int64_t rowid) const noexcept {
    return last_insert_ && rowid > std::numeric_limits<std::int64_t>::min() && *last_insert_ == rowid - 1;
  }

  std::uint32_t C_;
  bool loaded_ = false;
  std::map<std::int64_t, DirChunk> chunks_;
  std::set<std::int64_t> open_;  // listed chunks with a free slot
  std::size_t rows_ = 0;
  // The rowid of this connection's last insert, and how many inserts before it ran up to it one
  // by one (place).
  std::optional<std::int64_t> last_insert_;
  std::uint32_t run_ = 0;
};

}  // namespace bebr::ext
