// The filters of a kNN query: conditions on metadata columns and the rowid, applied to each
// candidate inside the scan.
//
//   SELECT rowid FROM docs WHERE embedding MATCH :q AND k = 10
//     AND book IN ('John', 'Mark') AND chapter >= 3 AND rowid != 7;
//
// xBestIndex lists them in idxStr (plan.hpp); parse_filters reads that list and the operands in
// argv into Conditions. Comparisons follow SQLite's for the column's class: numbers as numbers
// (an integer column matches 3.0 = 3; integers against floats exactly, as SQLite compares them),
// text by bytes (BINARY collation); in a column declared without a type, whose values may be of
// any kind, values of different kinds compare in SQLite's order (NULL < numbers < text < blobs)
// with neither side converted, as on a plain column without affinity; NULL matches nothing, except through IS [NOT] NULL, IS and
// IS NOT, which follow SQLite's: NULL IS NULL. LIKE and GLOB call the connection's own like()
// and glob() functions, so PRAGMA case_sensitive_like, SQLITE_LIKE_DOESNT_MATCH_BLOBS and an
// application's override of like() all hold exactly as they do for SQLite's own check; each
// distinct column value is matched once per query.
#pragma once

#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "../store/store.hpp"
#include "../values.hpp"

namespace bebr::ext::vtab {

// SQLite's comparison of two values (BINARY collation), -1, 0 or 1: of different kinds, NULL <
// numbers < text < blobs; numbers as numbers (integers against reals exactly), text and blobs
// by their bytes. A typed column's operand has the column's class (checked when the filter is
// built); a column without a type holds and compares values of every kind.
int compare(const Value& a, const Value& b);

// A condition SQLite itself decides, one statement per query: LIKE and GLOB through the
// connection's like() and glob(), a text comparison under a collation other than BINARY
// through that collation. ?1 is the column's value, ?2 each operand in turn (any one true is a
// match: IN); each distinct value is decided once.
class SqlTest {
 public:
  SqlTest(sqlite3* db, const std::string& sql, std::vector<Value> operands);
  bool test(const Value& v);

 private:
  bool step();
  Stmt stmt_;
  std::vector<Value> operands_;
  std::unordered_map<std::string, bool> seen_;
};

struct Condition {
  int column;                 // metadata index, -1 for the rowid, -2 for the distance, -3 the key
  char op;                    // = ! < { > } I N n S s L G (plan.hpp)
  std::vector<Value> values;  // one, or the sorted IN list; empty: a NULL operand
  std::string collation;      // of a text comparison; empty: BINARY
  std::shared_ptr<SqlTest> sql;  // L and G, and comparisons under `collation`
  bool test(const Value& v) const;
};

// A filter operand as a Value of the column's class (column: a metadata index or -1 for the
// rowid); a NULL operand yields nullopt. Throws when the operand cannot compare with the column.
std::optional<Value> operand(const TableConfig& cfg, int column, sqlite3_value* v);

// A primary key operand (`id = ?`, in a point lookup or a kNN filter) under the key column's
// affinity; nullopt for NULL, which no key equals.
std::optional<Value> key_operand(const ColumnDef& key, sqlite3_value* v);

// The filters listed in idxStr `idx`, their operands read from argv[a], argv[a + 1], ...;
// a ends past the last. LIKE and GLOB bind their pattern to `db`'s functions.
std::vector<Condition> parse_filters(sqlite3* db, const TableConfig& cfg, const char* idx, sqlite3_value** argv,
                                     int& a);

}  // namespace bebr::ext::vtab
