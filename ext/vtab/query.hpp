// Queries of the bebr table (xFilter): kNN, point lookups by rowid and full scans in rowid order.
//
//   SELECT rowid, distance FROM docs WHERE embedding MATCH :q AND k = 10 AND rescore = 40;
//   SELECT rowid, distance FROM docs WHERE embedding MATCH :code ORDER BY distance LIMIT 5;
//   SELECT * FROM docs WHERE rowid = 7;
//   SELECT * FROM docs;
//
// A kNN query reads straight down: its arguments (the query as a code, k, rescore, the filters)
// -> the scan over the Store's chunks, which keeps the k best codes by SDC distance -> the
// rescore of the survivors by exact float distance. The results wait in the cursor for xNext.
#pragma once

#include <cstdint>
#include <vector>

#include "table.hpp"

namespace bebr::ext::vtab {

// xFilter: runs the plan `plan` (plan.hpp) and positions the cursor on its first row.
int x_filter(sqlite3_vtab_cursor* base, int plan, const char* idx, int argc, sqlite3_value** argv) noexcept;

// The MATCH operand as a code BLOB of the table's shape: a code of that shape (or of a model
// recorded compatible with the table's, relabelled as the table's), or a vector binarized with
// the table's binarizer.
std::vector<std::uint8_t> query_code(Table& t, sqlite3_value* v);

}  // namespace bebr::ext::vtab
