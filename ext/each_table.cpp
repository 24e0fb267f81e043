// bebr_each(vector): a table-valued function with one row (i, value) per element of a vector
// (JSON text or a float32 BLOB, validated as every vector argument is), i from 0, value the
// float32 element as a REAL:
//
//   SELECT i, value FROM bebr_each('[0.5, -1, 2]');           -- 0|0.5  1|-1.0  2|2.0
//   SELECT max(abs(value)) FROM docs, bebr_each(docs.embedding) WHERE docs.rowid = 7;
//
// A NULL vector gives no rows (as json_each(NULL) does); a code is refused (bebr_decode gives a
// code's floats). Plan encoding (xBestIndex): idxNum 1 when the vector is bound by equality,
// which arrives in xFilter as argv[0]. Any other plan is unusable.
#include <cstring>
#include <stdexcept>
#include <vector>

#include "common.hpp"

namespace bebr::ext {
namespace {

constexpr const char* kModule = "bebr_each";
enum Column { kI = 0, kValue = 1, kVector = 2 };

struct Cursor : sqlite3_vtab_cursor {
  sqlite3_value* arg = nullptr;  // a private copy of the argument, for the hidden column
  std::vector<float> x;
  std::size_t row = 0;
};

int x_connect(sqlite3* db, void*, int, const char* const*, sqlite3_vtab** out, char**) noexcept {
  const int rc = sqlite3_declare_vtab(db, "CREATE TABLE x(i INTEGER, value REAL, vector HIDDEN)");
  if (rc != SQLITE_OK) return rc;
  auto* vtab = static_cast<sqlite3_vtab*>(sqlite3_malloc(sizeof(sqlite3_vtab)));
  if (!vtab) return SQLITE_NOMEM;
  std::memset(vtab, 0, sizeof *vtab);
  sqlite3_vtab_config(db, SQLITE_VTAB_INNOCUOUS);
  *out = vtab;
  return SQLITE_OK;
}

int x_disconnect(sqlite3_vtab* vtab) noexcept {
  sqlite3_free(vtab);
  return SQLITE_OK;
}

int x_best_index(sqlite3_vtab* vtab, sqlite3_index_info* info) noexcept {
  int vector = -1;
  bool seen = false;
  for (int i = 0; i < info->nConstraint; ++i) {
    const auto& c = info->aConstraint[i];
    if (c.iColumn != kVector) continue;
    seen = true;
    if (c.usable && c.op == SQLITE_INDEX_CONSTRAINT_EQ) vector = i;
  }
  if (!seen)
    return set_vtab_error(vtab, sqlite3_mprintf("%s: expected one argument, bebr_each(vector)", kModule), SQLITE_ERROR);
  if (vector < 0) return SQLITE_CONSTRAINT;
  info->aConstraintUsage[vector].argvIndex = 1;
  info->aConstraintUsage[vector].omit = 1;
  info->idxNum = 1;
  info->estimatedCost = 100;
  info->estimatedRows = 100;
  if (info->nOrderBy == 1 && info->aOrderBy[0].iColumn == kI && !info->aOrderBy[0].desc) info->orderByConsumed = 1;
  return SQLITE_OK;
}

int x_open(sqlite3_vtab*, sqlite3_vtab_cursor** out) noexcept { return open_cursor<Cursor>(out); }

int x_close(sqlite3_vtab_cursor* base) noexcept {
  auto* cur = static_cast<Cursor*>(base);
  sqlite3_value_free(cur->arg);
  delete cur;
  return SQLITE_OK;
}

int x_filter(sqlite3_vtab_cursor* base, int idx_num, const char*, int argc, sqlite3_value** argv) noexcept {
  auto* cur = static_cast<Cursor*>(base);
  return guard_vtab(cur->pVtab, kModule, [&] {
    cur->x.clear();
    cur->row = 0;
    if (idx_num != 1 || argc != 1) throw std::logic_error("unexpected plan");  // xBestIndex makes no other
    sqlite3_value* v = argv[0];
    if (sqlite3_value_type(v) == SQLITE_NULL) return SQLITE_OK;
    if (sqlite3_value_type(v) == SQLITE_BLOB && sqlite3_value_bytes(v) >= 4 &&
        std::memcmp(sqlite3_value_blob(v), "BEBR", 4) == 0)
      fail("vector is a bebr code; expected a vector (bebr_decode gives a code's floats)");
    cur->x = vector_arg(v, "vector");
    sqlite3_value_free(cur->arg);
    cur->arg = sqlite3_value_dup(v);
    if (!cur->arg) return SQLITE_NOMEM;
    return SQLITE_OK;
  });
}

int x_next(sqlite3_vtab_cursor* base) noexcept {
  ++static_cast<Cursor*>(base)->row;
  return SQLITE_OK;
}

int x_eof(sqlite3_vtab_cursor* base) noexcept {
  const auto* cur = static_cast<Cursor*>(base);
  return cur->row >= cur->x.size();
}

int x_column(sqlite3_vtab_cursor* base, sqlite3_context* ctx, int col) noexcept {
  const auto* cur = static_cast<Cursor*>(base);
  if (col == kI) sqlite3_result_int64(ctx, static_cast<sqlite3_int64>(cur->row));
  else if (col == kValue) sqlite3_result_double(ctx, static_cast<double>(cur->x[cur->row]));
  else sqlite3_result_value(ctx, cur->arg);
  return SQLITE_OK;
}

int x_rowid(sqlite3_vtab_cursor* base, sqlite3_int64* rowid) noexcept {
  *rowid = static_cast<sqlite3_int64>(static_cast<Cursor*>(base)->row);
  return SQLITE_OK;
}

// Value-initialised, then the slots set by name (as bebr_vectors' module).
sqlite3_module make_module() {
  sqlite3_module m{};
  m.iVersion = 0;
  m.xCreate = nullptr;  // eponymous-only
  m.xConnect = x_connect;
  m.xBestIndex = x_best_index;
  m.xDisconnect = x_disconnect;
  m.xOpen = x_open;
  m.xClose = x_close;
  m.xFilter = x_filter;
  m.xNext = x_next;
  m.xEof = x_eof;
  m.xColumn = x_column;
  m.xRowid = x_rowid;
  return m;
}

const sqlite3_module kEachModule = make_module();

}  // namespace

int register_each_table(sqlite3* db) { return sqlite3_create_module(db, kModule, &kEachModule, nullptr); }

}  // namespace bebr::ext
