// The waiting chunk edits and savepoint marks of a bebr table.
#include "write_log.hpp"

namespace bebr::ext {

void WriteLog::add(std::int64_t chunk, std::uint32_t slot, std::int64_t rowid, const std::uint8_t* body) {
  Edit e;
  e.chunk = chunk;
  e.slot = slot;
  e.set = body != nullptr;
  e.rowid = rowid;
  e.body = bodies_.size();
  if (body) bodies_.insert(bodies_.end(), body, body + body_bytes_);
  log_.push_back(e);
  note_edit(log_.size() - 1);
}

void WriteLog::note_edit(std::size_t index) {
  const Edit& e = log_[index];
  Patch& p = pending_[e.chunk];
  if (p.edit.empty()) p.edit.assign(C_, -1);
  p.edit[e.slot] = e.set ? static_cast<std::int32_t>(index) : -1;
}

const WriteLog::Edit* WriteLog::waiting(std::int64_t chunk, std::uint32_t slot) const {
  const auto p = pending_.find(chunk);
  if (p == pending_.end() || p->second.edit[slot] < 0) return nullptr;
  return &log_[static_cast<std::size_t>(p->second.edit[slot])];
}

void WriteLog::rebuild_pending() {
  pending_.clear();
  std::size_t end = 0;
  for (std::size_t i = 0; i < log_.size(); ++i) {
    note_edit(i);
    if (log_[i].set) end = log_[i].body + body_bytes_;
  }
  bodies_.resize(end);
}

void WriteLog::savepoint(int level) {
  int from = level;
  if (joining_) from = marks_.empty() ? 0 : marks_.back().first + 1;
  if (from > level) from = level;
  marks_.reserve(marks_.size() + static_cast<std::size_t>(level - from + 1));
  for (int l = from; l <= level; ++l) marks_.emplace_back(l, log_.size());
  joining_ = false;
}

void WriteLog::release(int level) noexcept {
  while (!marks_.empty() && marks_.back().first >= level) marks_.pop_back();
}

void WriteLog::rollback_to(int level) noexcept {
  // The edits since the oldest open savepoint at this level or deeper are undone. Level -1 is a
  // transaction opened by SAVEPOINT (SQLite does not count it as a level): all of them are.
  std::size_t keep = 0;
  for (const auto& [l, at] : marks_)
    if (level >= 0 && l >= level) {
      keep = at;
      break;
    }
  while (!marks_.empty() && marks_.back().first > level) marks_.pop_back();
  if (keep < log_.size()) log_.resize(keep);
  try {
    rebuild_pending();
  } catch (...) {  // out of memory: drop everything; the transaction cannot go on consistently
    clear_edits();
  }
}

void WriteLog::clear_edits() noexcept {
  log_.clear();
  bodies_.clear();
  pending_.clear();
}

void WriteLog::clear() noexcept {
  clear_edits();
  marks_.clear();
  joining_ = false;
}

}  // namespace bebr::ext
