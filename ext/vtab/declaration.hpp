// The declaration of a bebr table: the arguments of CREATE VIRTUAL TABLE ... USING bebr(...)
// parsed into a TableConfig, and the CREATE TABLE statement that declares its columns to SQLite.
//
//   CREATE VIRTUAL TABLE docs USING bebr(embedding float[768], book text, +passage text,
//                                        bits=2, metric=l2, store_vectors=1, chunk_size=1024);
//
// Arguments, in any order: one vector column `name float[dim]`; metadata columns `name integer|
// float|text|boolean` (filterable in kNN queries); auxiliary columns `+name [type]` (returned,
// not filterable); options bits, metric, model, store_vectors, chunk_size, cache, each at most
// once. docs/sql.md lists each with its errors.
#pragma once

#include <string>

#include "../store/types.hpp"

namespace bebr::ext::vtab {

// The table named `table` from argv[3..argc) of xCreate; with model=, loads the model from db
// and checks it against the vector column. Throws Error with a message naming the bad argument.
TableConfig parse_declaration(sqlite3* db, const std::string& table, int argc, const char* const* argv);

// Refuses column names that clash with each other, with the hidden columns (distance, k,
// rescore) or with `table` (the command column's name): at creation and at rename.
void check_names(const TableConfig& c, const std::string& table);

// The statement for sqlite3_declare_vtab: the columns in the order of vtab::Column, then the
// metadata and auxiliary columns. Throws when a name holds a double quote.
std::string declare_sql(const TableConfig& c, const std::string& table);

}  // namespace bebr::ext::vtab
