// Values of metadata and auxiliary columns: an owned copy of an SQLite value, and the column
// types a bebr table declares.
#pragma once

#include <cstdint>
#include <string>

#include "common.hpp"

namespace bebr::ext {

// The value of a metadata or auxiliary column, owned.
struct Value {
  enum Kind : std::uint8_t { null, integer, real, text, blob };
  Kind kind = null;
  std::int64_t i = 0;
  double r = 0;
  std::string s;  // text or blob bytes

  static Value copy(sqlite3_value* v);
  static Value copy_column(sqlite3_stmt* s, int col);
  void bind(sqlite3_stmt* s, int index) const;
  void result(sqlite3_context* ctx) const;
};

enum class ColumnType { integer, real, text, boolean, any };
const char* column_type_name(ColumnType t) noexcept;

struct ColumnDef {
  std::string name;
  ColumnType type = ColumnType::any;
};

}  // namespace bebr::ext
