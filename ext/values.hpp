// Values of metadata and auxiliary columns: an owned copy of an SQLite value, the column types
// a bebr table declares, and the check of a value written to a column of each type.
//
//   Value v = metadata_value(ColumnDef{"chapter", ColumnType::integer}, argv[7]);
//   // 3 and 3.0 give the integer 3; 3.5 or 'three' throw "column chapter is integer; got ..."
#pragma once

#include <cstdint>
#include <string>
#include <vector>

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

// A value written to metadata column `c`, checked against its type: NULL is always allowed; an
// integer column takes integers and integral floats (as integers), a float column finite
// numbers (as floats), a text column text, a boolean column 0 or 1; `any` takes anything.
// Throws Error(invalid_argument) naming the column, its type and what came in.
Value metadata_value(const ColumnDef& c, sqlite3_value* v);
// The same for an auxiliary column (`any`, the default, takes blobs too).
Value auxiliary_value(const ColumnDef& c, sqlite3_value* v);

// The value written to the vector column `column` of `dim` floats: not NULL, a vector
// (vector_arg) of exactly `dim` floats.
std::vector<float> vector_value(const std::string& column, std::uint32_t dim, sqlite3_value* v);

}  // namespace bebr::ext
