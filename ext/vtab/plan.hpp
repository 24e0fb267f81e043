// Query plans of the bebr table: what xBestIndex tells xFilter (plan.cpp chooses them, query.cpp
// and filters.cpp read them). The encoding, SQLite-style (docs/architecture.md repeats it):
//
//   idxNum bit  meaning                                          argv (in this order)
//   ----------  -----------------------------------------------  ----------------------------
//   1  kKnn     kNN                                              the MATCH operand (vector or code)
//   2  kHasK    k = ? given                                      next: k
//   4  kHasLimit LIMIT given (used when k is absent)             next: the LIMIT
//   -           neither 2 nor 4: every row streamed nearest first
//               (ORDER BY distance LIMIT on SQLite 3.40, which
//               does not pass LIMIT along with MATCH)
//   8  kHasRescore rescore = ? given                             next: rescore
//   16 kPoint   rowid = ? point lookup                           the rowid
//   32 kMisuse  k or rescore without MATCH: an error at xFilter  the value
//   64 kPointKey primary key = ? point lookup (no rowid = ?)     the key
//   0           full scan in rowid order                         none
//
// With bit 1, idxStr lists the filters whose values follow in argv, in order, each as
// "<op><column>," where column is a metadata column's index, -1 for the rowid or -2 for the
// distance (then op is < or {: an upper bound), or -3 for the primary key (then op is = or I:
// xFilter turns the keys into a rowid filter), and op is:
//
//   op  constraint            op  constraint            op  constraint
//   =   =                     {   <=                    N   IS NULL (its argv value unused)
//   !   !=                    >   >                     n   IS NOT NULL (likewise)
//   <   <                     }   >=                    S   IS
//   I   IN (its values all at once, through sqlite3_vtab_in)  s   IS NOT
//   L   LIKE (two-argument form; ESCAPE is not passed)   G   GLOB
//
// A text comparison under a collation other than BINARY carries it after the column, as
// "@<length>:<name>" (e.g. "=1@6:NOCASE,"); xFilter has SQLite apply that collation.
//
//   CREATE VIRTUAL TABLE v USING bebr(e float[4], g integer, tag text);
//   SELECT rowid FROM v WHERE e MATCH ?1 AND k = 10 AND tag IN ('a', 'b') AND rowid > 5;
//   -> idxNum 3, idxStr "I1,>-1," (the filters in the order SQLite lists the constraints),
//      argv: the query, 10, the IN list, 5
//
// Every used constraint is omitted (bebr applies it exactly). A plan without a usable MATCH, k
// or rescore constraint that the query has is refused with SQLITE_CONSTRAINT, so SQLite picks a
// join order that feeds them.
#pragma once

#include "../common.hpp"

namespace bebr::ext::vtab {

enum Plan { kKnn = 1, kHasK = 2, kHasLimit = 4, kHasRescore = 8, kPoint = 16, kMisuse = 32, kPointKey = 64 };

// xBestIndex.
int x_best_index(sqlite3_vtab* v, sqlite3_index_info* info) noexcept;

}  // namespace bebr::ext::vtab
