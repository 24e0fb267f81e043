// The model reference in <name>_info: written by a recode, read back on every reload (a
// recode by another connection, or this one's rolled back).
#include "shadow.hpp"

namespace bebr::ext {

void Shadow::set_model(const std::string& model_name, sqlite3_int64 version, const CodeShape& shape) {
  Stmt s = prepare(db_, "INSERT OR REPLACE INTO " + table("info") + "(key, value) VALUES (?1, ?2)");
  const auto put = [&](const char* k, const std::string& v) {
    sqlite3_bind_text(s.get(), 1, k, -1, SQLITE_STATIC);
    sqlite3_bind_text(s.get(), 2, v.c_str(), -1, SQLITE_TRANSIENT);
    step_done(db_, s.get());
    sqlite3_reset(s.get());
  };
  put("format", cfg_.primary_key ? "5" : "4");
  put("model_name", model_name);
  put("model_version", std::to_string(version));
  put("model_id", std::to_string(shape.model_id));
  put("model_kind", kind_name(shape.kind));
  put("code_dim", std::to_string(shape.dim));
  exec(db_, "DELETE FROM " + table("info") + " WHERE key = 'model'");
  cfg_.model_name = model_name;
  cfg_.model_version = version;
  cfg_.model_id = shape.model_id;
  cfg_.model_kind = shape.kind;
  cfg_.code_dim = shape.dim;
  cfg_.model.clear();
}

Shadow::ModelReference Shadow::model_reference() {
  Stmt s = prepare(db_, "SELECT key, value FROM " + table("info") +
                            " WHERE key IN ('model_name', 'model_version', 'model_id')");
  ModelReference r;
  int rc;
  while ((rc = sqlite3_step(s.get())) == SQLITE_ROW) {
    const char* k = reinterpret_cast<const char*>(sqlite3_column_text(s.get(), 0));
    if (!k) continue;  // a damaged t_info: read_config, which a difference leads to, reports it
    const std::string key = k;
    const char* v = reinterpret_cast<const char*>(sqlite3_column_text(s.get(), 1));
    if (key == "model_name") r.name = v ? v : "";
    else if (key == "model_version") r.version = sqlite3_column_int64(s.get(), 1);
    else r.id = static_cast<std::uint32_t>(sqlite3_column_int64(s.get(), 1));
  }
  if (rc != SQLITE_DONE) fail_sqlite(db_, rc);
  return r;
}

void Shadow::adopt_model(const TableConfig& disk) {
  cfg_.model_name = disk.model_name;
  cfg_.model_version = disk.model_version;
  cfg_.model_id = disk.model_id;
  cfg_.model_kind = disk.model_kind;
  cfg_.code_dim = disk.code_dim;
  cfg_.model = disk.model;
}

}  // namespace bebr::ext
