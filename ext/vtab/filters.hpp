// The filters of a kNN query: conditions on metadata columns and the rowid, applied to each
// candidate inside the scan.
//
//   SELECT rowid FROM docs WHERE embedding MATCH :q AND k = 10
//     AND book IN ('John', 'Mark') AND chapter >= 3 AND rowid != 7;
//
// xBestIndex lists them in idxStr (plan.hpp); parse_filters reads that list and the operands in
// argv into Conditions. Comparisons follow SQLite's for the column's class: numbers as numbers
// (an integer column matches 3.0 = 3; integers against floats exactly, as SQLite compares them),
// text by bytes (BINARY collation); NULL matches nothing.
#pragma once

#include <vector>

#include "../store/store.hpp"
#include "../values.hpp"

namespace bebr::ext::vtab {

// Numbers compare as numbers, text by bytes (BINARY collation). Both values are non-NULL and of
// the same class (checked when the filter is built): -1, 0 or 1.
int compare(const Value& a, const Value& b);

struct Condition {
  int column;                 // metadata index, or -1 for the rowid
  char op;                    // = ! < { > } I (plan.hpp)
  std::vector<Value> values;  // one, or the sorted IN list; empty: matches nothing (NULL)
  bool test(const Value& v) const;
};

// A filter operand as a Value of the column's class (column: a metadata index or -1 for the
// rowid); a NULL operand yields nullopt. Throws when the operand cannot compare with the column.
std::optional<Value> operand(const TableConfig& cfg, int column, sqlite3_value* v);

// The filters listed in idxStr `idx`, their operands read from argv[a], argv[a + 1], ...;
// a ends past the last.
std::vector<Condition> parse_filters(const TableConfig& cfg, const char* idx, sqlite3_value** argv, int& a);

}  // namespace bebr::ext::vtab
