// bebr_vectors(data, dim): a table-valued function that slices a headerless little-endian
// float32 array (a .f32 file read with the shell's readfile()), or a NumPy .npy file of float32
// or float64 values, into rows (i, vector):
//
//   SELECT i, vector FROM bebr_vectors(readfile('base.f32'), 1024);   -- i = 0, 1, 2, ...
//   SELECT i, vector FROM bebr_vectors(readfile('base.npy'), 1024);   -- numpy.save's file
//   INSERT INTO passages(id, embedding)
//     SELECT i, vector FROM bebr_vectors(readfile('base.f32'), 1024);
//
// Plan encoding (xBestIndex): idxNum 1 when both data and dim are bound by equality; the two
// values then arrive in xFilter as argv[0] = data, argv[1] = dim. Any other plan is unusable.
#include <cmath>
#include <cstring>
#include <stdexcept>

#include "bebr/vector.hpp"
#include "common.hpp"

namespace bebr::ext {
namespace {

constexpr const char* kModule = "bebr_vectors";
enum Column { kI = 0, kVector = 1, kData = 2, kDim = 3 };

struct Cursor : sqlite3_vtab_cursor {
  sqlite3_value* data = nullptr;  // a private copy of the argument
  const std::uint8_t* bytes = nullptr;
  std::size_t size = 0, rows = 0, dim = 0, row = 0;
  bool npy = false;
  NpyArray array;  // when npy
};

int x_connect(sqlite3* db, void*, int, const char* const*, sqlite3_vtab** out, char** err) noexcept {
  const int rc = sqlite3_declare_vtab(db, "CREATE TABLE x(i INTEGER, vector BLOB, data HIDDEN, dim HIDDEN)");
  if (rc != SQLITE_OK) return rc;
  auto* vtab = static_cast<sqlite3_vtab*>(sqlite3_malloc(sizeof(sqlite3_vtab)));
  if (!vtab) return SQLITE_NOMEM;
  std::memset(vtab, 0, sizeof *vtab);
  sqlite3_vtab_config(db, SQLITE_VTAB_INNOCUOUS);
  *out = vtab;
  (void)err;
  return SQLITE_OK;
}

int x_disconnect(sqlite3_vtab* vtab) noexcept {
  sqlite3_free(vtab);
  return SQLITE_OK;
}

int x_best_index(sqlite3_vtab* vtab, sqlite3_index_info* info) noexcept {
  int data = -1, dim = -1;
  bool seen_data = false, seen_dim = false;
  for (int i = 0; i < info->nConstraint; ++i) {
    const auto& c = info->aConstraint[i];
    if (c.iColumn == kData) seen_data = true;
    if (c.iColumn == kDim) seen_dim = true;
    if (!c.usable || c.op != SQLITE_INDEX_CONSTRAINT_EQ) continue;
    if (c.iColumn == kData) data = i;
    if (c.iColumn == kDim) dim = i;
  }
  if (!seen_data || !seen_dim) {
    sqlite3_free(vtab->zErrMsg);
    vtab->zErrMsg = sqlite3_mprintf("%s: expected two arguments, bebr_vectors(data BLOB, dim INTEGER)", kModule);
    return SQLITE_ERROR;
  }
  if (data < 0 || dim < 0) return SQLITE_CONSTRAINT;
  info->aConstraintUsage[data].argvIndex = 1;
  info->aConstraintUsage[data].omit = 1;
  info->aConstraintUsage[dim].argvIndex = 2;
  info->aConstraintUsage[dim].omit = 1;
  info->idxNum = 1;
  info->estimatedCost = 1000;
  info->estimatedRows = 1000;
  if (info->nOrderBy == 1 && info->aOrderBy[0].iColumn == kI && !info->aOrderBy[0].desc) info->orderByConsumed = 1;
  return SQLITE_OK;
}

int x_open(sqlite3_vtab*, sqlite3_vtab_cursor** out) noexcept { return open_cursor<Cursor>(out); }

int x_close(sqlite3_vtab_cursor* base) noexcept {
  auto* cur = static_cast<Cursor*>(base);
  sqlite3_value_free(cur->data);
  delete cur;
  return SQLITE_OK;
}

int x_filter(sqlite3_vtab_cursor* base, int idx_num, const char*, int argc, sqlite3_value** argv) noexcept {
  auto* cur = static_cast<Cursor*>(base);
  return guard_vtab(cur->pVtab, kModule, [&] {
    sqlite3_value_free(cur->data);
    cur->data = nullptr;
    cur->bytes = nullptr;
    cur->rows = cur->row = 0;
    if (idx_num != 1 || argc != 2) throw std::logic_error("unexpected plan");  // xBestIndex makes no other
    // NULL data is almost always readfile() of a file it could not read: say so, rather than
    // return no rows.
    if (sqlite3_value_type(argv[0]) == SQLITE_NULL)
      fail("data is NULL; expected a BLOB of float32 values (readfile() gives NULL for a file it cannot read)");
    if (sqlite3_value_type(argv[1]) == SQLITE_NULL)
      fail("dim is NULL; expected an integer in 1.." + std::to_string(kMaxDim));
    if (sqlite3_value_type(argv[0]) != SQLITE_BLOB)
      fail(std::string("data must be a BLOB of float32 values (e.g. readfile('x.f32')); got ") + type_name(argv[0]));
    if (sqlite3_value_type(argv[1]) != SQLITE_INTEGER)
      fail(std::string("dim must be an integer; got ") + type_name(argv[1]));
    const sqlite3_int64 dim = sqlite3_value_int64(argv[1]);
    if (dim < 1 || dim > kMaxDim) fail("dim must be in 1.." + std::to_string(kMaxDim) + "; got " + std::to_string(dim));
    const auto n = static_cast<std::size_t>(sqlite3_value_bytes(argv[0]));
    const auto* p = static_cast<const std::uint8_t*>(sqlite3_value_blob(argv[0]));
    cur->npy = is_npy({p, n});
    if (cur->npy) {
      try {
        cur->array = parse_npy({p, n}, static_cast<std::size_t>(dim));
      } catch (const Error& e) {
        fail(std::string("data ") + e.what());
      }
    } else if (n % (4 * static_cast<std::size_t>(dim)) != 0)
      fail("data has " + std::to_string(n) + " bytes, not a whole number of " + std::to_string(dim) +
           "-float rows; expected a multiple of " + std::to_string(4 * dim));
    cur->data = sqlite3_value_dup(argv[0]);
    if (!cur->data) return SQLITE_NOMEM;
    cur->bytes = static_cast<const std::uint8_t*>(sqlite3_value_blob(cur->data));
    cur->size = n;
    cur->dim = static_cast<std::size_t>(dim);
    cur->rows = cur->npy ? cur->array.rows : n / (4 * cur->dim);
    return SQLITE_OK;
  });
}

int x_next(sqlite3_vtab_cursor* base) noexcept {
  ++static_cast<Cursor*>(base)->row;
  return SQLITE_OK;
}

int x_eof(sqlite3_vtab_cursor* base) noexcept {
  const auto* cur = static_cast<Cursor*>(base);
  return cur->row >= cur->rows;
}

int x_column(sqlite3_vtab_cursor* base, sqlite3_context* ctx, int col) noexcept {
  auto* cur = static_cast<Cursor*>(base);
  return guard_vtab(cur->pVtab, kModule, [&] {
    if (col == kI) {
      sqlite3_result_int64(ctx, static_cast<sqlite3_int64>(cur->row));
    } else if (col == kVector) {
      std::vector<float> x;
      if (cur->npy) {
        try {
          x = npy_row({cur->bytes, cur->size}, cur->array, cur->row);
        } catch (const Error& e) {
          fail(std::string("data ") + e.what());
        }
      } else {
        x = floats_from_blob({cur->bytes + cur->row * 4 * cur->dim, 4 * cur->dim});
      }
      if (const long bad = first_non_finite(x); bad >= 0)
        fail("row " + std::to_string(cur->row) + " has NaN or Inf at element " + std::to_string(bad) +
             "; expected finite floats");
      const std::vector<std::uint8_t> blob = floats_to_blob(x);
      sqlite3_result_blob64(ctx, blob.data(), blob.size(), SQLITE_TRANSIENT);
    } else if (col == kDim) {
      sqlite3_result_int64(ctx, static_cast<sqlite3_int64>(cur->dim));
    } else {
      sqlite3_result_value(ctx, cur->data);
    }
    return SQLITE_OK;
  });
}

int x_rowid(sqlite3_vtab_cursor* base, sqlite3_int64* rowid) noexcept {
  *rowid = static_cast<sqlite3_int64>(static_cast<Cursor*>(base)->row);
  return SQLITE_OK;
}

// Value-initialised, then the slots set by name: every slot a newer sqlite3.h appends (3.44's
// xIntegrity) stays null, and no initializer depends on the header's field count.
sqlite3_module make_module() {
  sqlite3_module m{};
  m.iVersion = 0;
  m.xCreate = nullptr;  // eponymous-only
  m.xConnect = x_connect;
  m.xBestIndex = x_best_index;
  m.xDisconnect = x_disconnect;
  m.xDestroy = nullptr;
  m.xOpen = x_open;
  m.xClose = x_close;
  m.xFilter = x_filter;
  m.xNext = x_next;
  m.xEof = x_eof;
  m.xColumn = x_column;
  m.xRowid = x_rowid;
  return m;
}

const sqlite3_module kVectorsModule = make_module();

}  // namespace

int register_vectors_table(sqlite3* db) { return sqlite3_create_module(db, kModule, &kVectorsModule, nullptr); }

}  // namespace bebr::ext
