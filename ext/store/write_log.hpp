// The waiting chunk edits of a bebr table, its savepoint marks, and per edited chunk the latest
// edit of each slot (docs/architecture.md, "Waiting edits, savepoints and flushing").
//
// Chunk edits are kept in memory, in order, and written in place with incremental BLOB I/O at
// the next flush: when the transaction commits, or when no savepoint is open and many edits are
// waiting. Reads of chunks overlay the waiting edits. Each savepoint (SQLite opens one per
// statement inside a transaction) remembers how many edits there were; ROLLBACK TO drops the
// later ones, and memory is rebuilt as disk + the remaining edits. So a bulk load writes each
// chunk a few times, not once per row.
//
//   WriteLog log(body_bytes, chunk_size);
//   log.add(chunk, slot, rowid, body);      // body null: the slot is cleared
//   log.savepoint(1); ...; log.rollback_to(1);
//   if (const WriteLog::Edit* e = log.waiting(chunk, slot)) read(log.body_of(*e));
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <utility>
#include <vector>

namespace bebr::ext {

class WriteLog {
 public:
  static constexpr std::size_t kFlushEdits = 16384;  // waiting edits that trigger a flush when allowed

  // A slot set to (rowid, body), or cleared.
  struct Edit {
    std::int64_t chunk = 0;
    std::uint32_t slot = 0;
    bool set = false;
    std::int64_t rowid = 0;
    std::size_t body = 0;  // offset in bodies_
  };
  // Per edited chunk, the latest set edit of each slot (index into the log, -1 for none): what a
  // flush writes (the validity bitmap is the directory's).
  struct Patch {
    std::vector<std::int32_t> edit;
  };

  // body_bytes: a code body (scale, offset, planes); chunk_size: slots a chunk.
  WriteLog(std::size_t body_bytes, std::uint32_t chunk_size) : body_bytes_(body_bytes), C_(chunk_size) {}

  // Records an edit: body null clears the slot, otherwise sets it to (rowid, body).
  void add(std::int64_t chunk, std::uint32_t slot, std::int64_t rowid, const std::uint8_t* body);
  // The waiting set edit of a slot, null when none.
  const Edit* waiting(std::int64_t chunk, std::uint32_t slot) const;
  const std::uint8_t* body_of(const Edit& e) const noexcept { return bodies_.data() + e.body; }
  // Calls f(slot, rowid, body) for every slot of chunk with a waiting set edit, by slot.
  template <class F>
  void for_each_waiting(std::int64_t chunk, F&& f) const {
    const auto p = pending_.find(chunk);
    if (p == pending_.end()) return;
    for (std::uint32_t slot = 0; slot < C_; ++slot)
      if (p->second.edit[slot] >= 0) {
        const Edit& e = log_[static_cast<std::size_t>(p->second.edit[slot])];
        f(slot, e.rowid, body_of(e));
      }
  }

  bool empty() const noexcept { return log_.empty(); }
  const std::vector<Edit>& edits() const noexcept { return log_; }
  const Edit& edit(std::int32_t index) const noexcept { return log_[static_cast<std::size_t>(index)]; }
  const std::map<std::int64_t, Patch>& pending() const noexcept { return pending_; }
  // No savepoint is open and enough edits wait for a flush to pay.
  bool wants_flush() const noexcept { return marks_.empty() && log_.size() >= kFlushEdits; }

  // A chunk deleted: its slots have nothing left to write.
  void drop_chunk(std::int64_t chunk) noexcept { pending_.erase(chunk); }
  // Keeps the patches of the chunks for which exists(chunk) is true.
  template <class F>
  void keep_chunks(F&& exists) {
    for (auto it = pending_.begin(); it != pending_.end();) it = exists(it->first) ? std::next(it) : pending_.erase(it);
  }

  // Savepoint levels as SQLite numbers them. rollback_to cuts the log back to the oldest open
  // savepoint at this level or deeper; level -1 (a transaction opened by SAVEPOINT, which
  // SQLite does not count as a level) drops every edit. clear_edits drops every edit (they are written: a
  // flush), clear every edit and mark (xRollback).
  //
  // begin: the table joins a transaction (xBegin). SQLite then calls xSavepoint once, for the
  // innermost open level only, when the table is first written inside nested savepoints (and
  // a statement journal): the first savepoint after begin stands for every level up to it, all
  // opened while this table had nothing waiting, so ROLLBACK TO an outer one undoes its edits.
  void begin() noexcept { joining_ = true; }
  void savepoint(int level);
  void release(int level) noexcept;
  void rollback_to(int level) noexcept;
  void clear_edits() noexcept;
  void clear() noexcept;

 private:
  void note_edit(std::size_t index);
  void rebuild_pending();

  std::size_t body_bytes_;
  std::uint32_t C_;
  // Unflushed chunk edits, in order. Bodies (scale, offset, planes) sit back to back in
  // bodies_, which keeps its capacity across flushes.
  std::vector<Edit> log_;
  std::vector<std::uint8_t> bodies_;
  std::vector<std::pair<int, std::size_t>> marks_;  // open savepoints: level, log size then
  bool joining_ = false;                            // begin() seen, no savepoint since
  std::map<std::int64_t, Patch> pending_;
};

}  // namespace bebr::ext
