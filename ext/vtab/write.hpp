// Writes to the bebr table (xUpdate): inserts, updates, deletes and commands.
//
//   INSERT INTO docs(rowid, embedding, book) VALUES (7, :vec, 'John');
//   UPDATE docs SET book = 'Mark' WHERE rowid = 7;       -- the code and vector stay
//   DELETE FROM docs WHERE rowid = 7;
//   INSERT INTO docs(docs) VALUES ('optimize');          -- a command, in the table's column
//   INSERT INTO docs(docs) VALUES ('recode');            -- codes again under the model's latest version
//
// An INSERT reads straight down: the row is built (values.cpp types each column, the binarizer
// encodes the vector), then Store::insert stores it.
#pragma once

#include "table.hpp"

namespace bebr::ext::vtab {

// DELETE of the row `rowid` (gone already: nothing to do).
int delete_row(Table& t, sqlite3_value* rowid);
// A command written to the table's own column: 'optimize', 'integrity-check', 'recode',
// 'recode=<model>'.
int run_command(Table& t, sqlite3_value* command);
// INSERT (argv[0] NULL) or UPDATE of argv[0] with xUpdate's argv (argv[1] the new rowid,
// argv[2 + column] the values); *out_rowid is the row's rowid.
int write_row(Table& t, sqlite3_value** argv, sqlite3_int64* out_rowid);

}  // namespace bebr::ext::vtab
