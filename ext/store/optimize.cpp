// INSERT INTO t(t) VALUES ('optimize'): the store's compaction (Store::optimize, store.hpp).
#include <map>

#include "store.hpp"

namespace bebr::ext {

std::size_t Store::optimize() {
  sync();
  std::size_t moved = 0;
  try {
    const std::uint32_t C = chunk_size();
    const std::size_t P = layout_.planes_bytes();
    std::vector<std::uint8_t> body(body_bytes());
    // The listed rows, by the ranged chunk they belong to.
    std::map<std::int64_t, std::vector<std::pair<std::int64_t, Location>>> by_home;
    if (dir_.has_listed())
      for (const auto& [rowid, at] : shadow_.listed_rows()) by_home[home_chunk(rowid, C)].push_back({rowid, at});
    // A ranged chunk pays for itself when its rows would take more room listed: each listed row
    // costs its slot with the rowid (8 bytes more) and a map row (about 16 bytes).
    const std::size_t ranged_bytes = C * (P + 8);
    for (auto& [h, rows] : by_home) {
      if (!dir_.contains(h) && rows.size() * (P + 8 + 8 + 16) < ranged_bytes) continue;
      if (!dir_.contains(h)) new_chunk(h);
      for (const auto& [rowid, from] : rows) {
        std::int64_t stored = 0;
        read_slot(from.chunk, from.slot, &stored, body.data());
        if (stored != rowid)
          corrupt(name() + "_chunks", "slot " + std::to_string(from.slot) + " of chunk " + std::to_string(from.chunk) +
                                          " does not hold row " + std::to_string(rowid));
        move_row(rowid, from, Location{h, home_slot(rowid, C)}, body.data());
        ++moved;
      }
    }
    // Fill the lowest holes of listed chunks with the highest listed rows until they meet.
    while (dir_.has_listed()) {
      const DirChunk& last = dir_.last_listed();
      const auto open = dir_.lowest_open();
      if (!open || *open >= last.id) break;
      const Location from{last.id, Directory::highest_slot(last).value_or(0)};
      const Location to = allocate();  // a listed chunk has room: no chunk is made
      std::int64_t rowid = 0;
      read_slot(from.chunk, from.slot, &rowid, body.data());
      move_row(rowid, from, to, body.data());
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
