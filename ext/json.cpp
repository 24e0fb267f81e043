// JSON through SQLite's json_object (ext/json.hpp).
#include "json.hpp"

#include <cmath>
#include <cstdio>

namespace bebr::ext {

std::string json_number(double v) {
  if (!std::isfinite(v)) return "null";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.9g", v);
  return buf;
}

std::string json_number_array(std::span<const double> v) {
  std::string out = "[";
  for (std::size_t i = 0; i < v.size(); ++i) out += (i ? "," : "") + json_number(v[i]);
  return out + "]";
}

JsonObject& JsonObject::add(std::string key, sqlite3_int64 v) {
  fields_.push_back({std::move(key), Kind::integer, v, {}});
  return *this;
}

JsonObject& JsonObject::add(std::string key, std::string text) {
  fields_.push_back({std::move(key), Kind::text, 0, std::move(text)});
  return *this;
}

JsonObject& JsonObject::add_number(std::string key, double v) { return add_json(std::move(key), json_number(v)); }

JsonObject& JsonObject::add_json(std::string key, std::string json) {
  fields_.push_back({std::move(key), Kind::json, 0, std::move(json)});
  return *this;
}

std::string JsonObject::text(sqlite3* db) const {
  // json_object(?1, ?2, ?3, json(?4), ...): a key, then its value, for every field.
  std::string sql = "SELECT json_object(";
  for (std::size_t f = 0; f < fields_.size(); ++f) {
    const std::string key = "?" + std::to_string(2 * f + 1), value = "?" + std::to_string(2 * f + 2);
    sql += (f ? ", " : "") + key + ", " + (fields_[f].kind == Kind::json ? "json(" + value + ")" : value);
  }
  Stmt s = prepare(db, sql + ")");
  for (std::size_t f = 0; f < fields_.size(); ++f) {
    const Field& field = fields_[f];
    const int at = static_cast<int>(2 * f + 1);
    sqlite3_bind_text64(s.get(), at, field.key.data(), field.key.size(), SQLITE_STATIC, SQLITE_UTF8);
    if (field.kind == Kind::integer) sqlite3_bind_int64(s.get(), at + 1, field.i);
    else sqlite3_bind_text64(s.get(), at + 1, field.s.data(), field.s.size(), SQLITE_STATIC, SQLITE_UTF8);
  }
  const int rc = sqlite3_step(s.get());
  if (rc == SQLITE_INTERRUPT) throw Error(Errc::interrupted, "interrupted while storing the model; no model was stored");
  if (rc != SQLITE_ROW)
    throw Error(Errc::internal, std::string("bebr internal error: json_object failed: ") + sqlite3_errmsg(db));
  const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(s.get(), 0));
  if (!text) throw std::bad_alloc();
  return std::string(text, static_cast<std::size_t>(sqlite3_column_bytes(s.get(), 0)));
}

}  // namespace bebr::ext
