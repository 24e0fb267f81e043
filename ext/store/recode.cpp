// INSERT INTO t(t) VALUES ('recode'): every row's code made again from its stored vector under
// another version of the table's model (Store::recode, store.hpp).
#include <cstring>

#include "bebr/bits.hpp"
#include "bebr/vector.hpp"
#include "store.hpp"

namespace bebr::ext {

// Each row's new code goes into the write log as an edit of its own slot (the directory, the
// map rows and the metadata stay as they are), so savepoints and rollbacks undo it as any
// write; the log is flushed between chunks when no savepoint is open, as for inserts.
std::size_t Store::recode(std::shared_ptr<const Binarizer> model, const std::string& model_name,
                          sqlite3_int64 version, const std::function<void(std::size_t, std::size_t)>& report) {
  sync();
  std::size_t done = 0;
  try {
    const std::size_t total = dir_.rows();
    const std::uint32_t dim = config().dim;
    std::vector<std::uint8_t> old_body(body_bytes()), body(body_bytes());
    Stmt vec = prepare(shadow_.db(), "SELECT vector FROM " + shadow("vectors") + " WHERE rowid = ?1");
    std::vector<std::int64_t> chunks;
    for (const auto& [id, c] : dir_) chunks.push_back(id);
    for (const std::int64_t id : chunks) {
      const DirChunk* c = dir_.find(id);
      if (!c) continue;
      const std::vector<std::uint64_t> valid = c->valid;  // the slots stay: the bitmap does not change
      {
      ChunkBlob blob(shadow_, false);  // closed before a flush writes the chunk
      layout_.open(blob, id);
      for_each_set_bit(valid.data(), valid.size(), [&](std::size_t s) {
        const auto slot = static_cast<std::uint32_t>(s);
        std::int64_t rowid = 0;
        if (const WriteLog::Edit* e = log_.waiting(id, slot)) rowid = e->rowid;
        else layout_.read_slot(blob, id, slot, &rowid, old_body.data());
        sqlite3_bind_int64(vec.get(), 1, rowid);
        const int rc = sqlite3_step(vec.get());
        if (rc == SQLITE_INTERRUPT)
          throw Error(Errc::interrupted, "recode of table " + name() + " interrupted; the table is unchanged");
        if (rc != SQLITE_ROW) {
          if (rc != SQLITE_DONE) fail_sqlite(shadow_.db(), rc);
          corrupt(name() + "_vectors", "the stored vector of row " + std::to_string(rowid) + " is missing");
        }
        const auto* p = static_cast<const std::uint8_t*>(sqlite3_column_blob(vec.get(), 0));
        const std::vector<float> x =
            floats_from_blob({p, static_cast<std::size_t>(sqlite3_column_bytes(vec.get(), 0))});
        sqlite3_reset(vec.get());
        if (x.size() != dim)
          corrupt(name() + "_vectors", "the stored vector of row " + std::to_string(rowid) + " has " +
                                           std::to_string(x.size()) + " floats; expected " + std::to_string(dim));
        model->encode_body(x, body.data());
        log_.add(id, slot, rowid, body.data());
        if (++done % 1024 == 0) report(done, total);
      });
      }
      maybe_flush();
    }
    report(done, total);
    shadow_.set_model(model_name, version, model->shape());
    binarizer_ = std::move(model);
    cache_.set_model_id(binarizer_->shape().model_id);
  } catch (...) {
    forget();  // SQLite undoes the statement; memory reloads as disk + the logged edits
    throw;
  }
  forget();  // the resident codes are the old model's: reload them (disk + edits) at the next query
  return done;
}

}  // namespace bebr::ext
