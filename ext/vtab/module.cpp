// The bebr module: its registration and the slots SQLite calls on a table and its cursors,
// each through a guard (common.hpp) so that no exception reaches SQLite. The work is elsewhere
// (table.hpp lists where); this file connects, reads the cursor's current row, dispatches
// writes and forwards transactions to the Store.
//
//   CREATE VIRTUAL TABLE docs USING bebr(embedding float[768], book text);
//   BEGIN; INSERT INTO docs(rowid, embedding, book) VALUES (1, :v, 'John'); COMMIT;
//   ALTER TABLE docs RENAME TO passages;   -- renames the shadow tables too
#include <algorithm>
#include <cctype>
#include <cstring>

#include "declaration.hpp"
#include "plan.hpp"
#include "query.hpp"
#include "table.hpp"
#include "write.hpp"

namespace bebr::ext::vtab {
namespace {

// ---- Connecting -------------------------------------------------------------------------------

// A table whose shadow tables cannot be read is connected anyway, so that DROP TABLE (which
// connects first) can remove it: its columns come from the declaration SQLite kept (without
// looking up a model), or, where even that fails, the command column alone.
void connect_broken(Table& t, int argc, const char* const* argv, const std::string& name, const Error& why) {
  t.broken = why.what();
  t.broken_name = name;
  std::vector<const char*> args;
  for (int i = 0; i < argc; ++i) {
    std::string a = argv[i];
    const auto eq = a.find('=');
    std::string key = eq == std::string::npos ? "" : a.substr(0, eq);
    key.erase(std::remove_if(key.begin(), key.end(), [](unsigned char ch) { return std::isspace(ch); }), key.end());
    std::transform(key.begin(), key.end(), key.begin(), [](unsigned char ch) { return std::tolower(ch); });
    if (i < 3 || key != "model") args.push_back(argv[i]);
  }
  std::string decl;
  try {
    decl = declare_sql(parse_declaration(t.db, name, static_cast<int>(args.size()), args.data()), name);
  } catch (const Error&) {
    if (name.find('"') != std::string::npos) throw;
    decl = "CREATE TABLE x(\"" + name + "\" HIDDEN)";
  }
  if (const int rc = sqlite3_declare_vtab(t.db, decl.c_str()); rc != SQLITE_OK) {
    if (rc == SQLITE_NOMEM) throw std::bad_alloc();
    throw why;
  }
}

// xCreate (create: parse the declaration and make the shadow tables) and xConnect (read the
// configuration the shadow tables hold). Every allocation happens inside the guard.
int x_init(sqlite3* db, int argc, const char* const* argv, sqlite3_vtab** out, char** err, bool create) {
  return guard_init(err, kModule, [&] {
    auto t = std::make_unique<Table>();
    std::memset(static_cast<sqlite3_vtab*>(t.get()), 0, sizeof(sqlite3_vtab));
    t->db = db;
    t->schema = argv[1];
    const std::string name = argv[2];
    TableConfig cfg;
    std::shared_ptr<const Binarizer> binarizer;
    try {
      cfg = create ? parse_declaration(db, name, argc, argv) : Store::read_config(db, argv[1], name);
      binarizer = Store::binarizer_of(db, t->schema, cfg, name);
    } catch (const Error& e) {
      if (create || e.code() != Errc::corrupt) throw;
      connect_broken(*t, argc, argv, name, e);
      *out = t.release();
      return SQLITE_OK;
    }
    t->store = std::make_unique<Store>(db, t->schema, name, cfg, std::move(binarizer));
    if (create) t->store->create();
    const std::string decl = declare_sql(cfg, name);
    if (const int rc = sqlite3_declare_vtab(db, decl.c_str()); rc != SQLITE_OK) {
      if (rc == SQLITE_NOMEM) throw std::bad_alloc();
      fail(std::string("cannot declare the table: ") + sqlite3_errmsg(db));
    }
    sqlite3_vtab_config(db, SQLITE_VTAB_CONSTRAINT_SUPPORT, 1);
    *out = t.release();
    return SQLITE_OK;
  });
}

// Refuses every use of a broken table but DROP with the reason.
int refuse_broken(sqlite3_vtab* v) noexcept {
  return guard_vtab(v, kModule, [&]() -> int { throw Error(Errc::corrupt, static_cast<Table*>(v)->broken); });
}
bool is_broken(sqlite3_vtab* v) noexcept { return !static_cast<Table*>(v)->store; }

int x_create(sqlite3* db, void*, int argc, const char* const* argv, sqlite3_vtab** out, char** err) noexcept {
  return x_init(db, argc, argv, out, err, true);
}
int x_connect(sqlite3* db, void*, int argc, const char* const* argv, sqlite3_vtab** out, char** err) noexcept {
  return x_init(db, argc, argv, out, err, false);
}

int x_disconnect(sqlite3_vtab* v) noexcept {
  delete static_cast<Table*>(v);
  return SQLITE_OK;
}

int x_destroy(sqlite3_vtab* v) noexcept {
  auto* t = static_cast<Table*>(v);
  const int rc = guard_vtab(v, kModule, [&] {
    if (t->store) t->store->drop();
    else Shadow(t->db, t->schema, t->broken_name, TableConfig{}).drop();
    return SQLITE_OK;
  });
  if (rc == SQLITE_OK) delete t;
  return rc;
}

// ---- Cursors ----------------------------------------------------------------------------------

int x_open(sqlite3_vtab* v, sqlite3_vtab_cursor** out) noexcept {
  return is_broken(v) ? refuse_broken(v) : open_cursor<Cursor>(out);
}
int x_best_index_checked(sqlite3_vtab* v, sqlite3_index_info* info) noexcept {
  return is_broken(v) ? refuse_broken(v) : x_best_index(v, info);
}

int x_close(sqlite3_vtab_cursor* c) noexcept {
  delete static_cast<Cursor*>(c);
  return SQLITE_OK;
}

int x_next(sqlite3_vtab_cursor* base) noexcept {
  auto* cur = static_cast<Cursor*>(base);
  if (cur->stream) {
    std::pop_heap(cur->rows.begin(), cur->rows.end(), nearest_last);
    cur->rows.pop_back();
    return SQLITE_OK;
  }
  if (!cur->scan) {
    ++cur->at;
    return SQLITE_OK;
  }
  const int rc = sqlite3_step(cur->scan.get());
  cur->scan_done = rc != SQLITE_ROW;
  return rc == SQLITE_ROW || rc == SQLITE_DONE ? SQLITE_OK : rc;
}

int x_eof(sqlite3_vtab_cursor* base) noexcept {
  auto* cur = static_cast<Cursor*>(base);
  if (cur->stream) return cur->rows.empty();
  return cur->scan ? cur->scan_done : cur->at >= cur->rows.size();
}

// The current kNN or point result (the heap's top when streaming).
const Neighbor& current(const Cursor& cur) { return cur.stream ? cur.rows.front() : cur.rows[cur.at]; }

std::int64_t current_rowid(Cursor& cur) {
  return cur.scan ? sqlite3_column_int64(cur.scan.get(), 0) : current(cur).rowid;
}

// The statement positioned on the current row's rowid, metadata and auxiliary values.
sqlite3_stmt* current_row(Table& t, Cursor& cur) {
  if (cur.scan) return cur.scan.get();
  const std::int64_t id = current(cur).rowid;
  if (cur.has_fetched && cur.fetched == id) return cur.fetch.get();
  if (!cur.fetch) cur.fetch = prepare(t.db, t.store->row_select() + " WHERE " + row_key(t) + " = ?1");
  cur.has_fetched = false;
  sqlite3_reset(cur.fetch.get());
  sqlite3_bind_int64(cur.fetch.get(), 1, id);
  if (const int rc = sqlite3_step(cur.fetch.get()); rc != SQLITE_ROW) {
    if (rc != SQLITE_DONE) fail_sqlite(t.db, rc);
    throw Error(Errc::corrupt, "row " + std::to_string(id) + " has no entry in " + t.store->name() +
                                   (t.cfg().metadata.empty() ? "_auxiliary" : "_rowids"));
  }
  cur.fetched = id;
  cur.has_fetched = true;
  return cur.fetch.get();
}

// The stored float vector of the current row (NULL without store_vectors=1).
void result_vector(Table& t, Cursor& cur, sqlite3_context* ctx) {
  if (!t.cfg().store_vectors) return;
  if (!cur.vector) cur.vector = prepare(t.db, "SELECT vector FROM " + t.store->shadow("vectors") + " WHERE rowid = ?1");
  sqlite3_reset(cur.vector.get());
  sqlite3_bind_int64(cur.vector.get(), 1, current_rowid(cur));
  const int rc = sqlite3_step(cur.vector.get());
  if (rc == SQLITE_ROW) sqlite3_result_value(ctx, sqlite3_column_value(cur.vector.get(), 0));
  else if (rc != SQLITE_DONE) fail_sqlite(t.db, rc);
}

int x_column(sqlite3_vtab_cursor* base, sqlite3_context* ctx, int col) noexcept {
  auto* cur = static_cast<Cursor*>(base);
  auto& t = *static_cast<Table*>(cur->pVtab);
  return guard_vtab(cur->pVtab, kModule, [&] {
    if (col != kDistance && col >= kVector && col <= kCommand && sqlite3_vtab_nochange(ctx)) return SQLITE_OK;
    switch (col) {
      case kVector: result_vector(t, *cur, ctx); break;
      case kDistance:
        if (cur->has_distance) sqlite3_result_double(ctx, current(*cur).distance);
        break;
      case kK:
        if (cur->has_distance && !cur->stream) sqlite3_result_int64(ctx, cur->k);
        break;
      case kRescore:
        if (cur->has_distance) sqlite3_result_int64(ctx, cur->rescore);
        break;
      case kCommand: break;
      default: {
        if (col >= t.first_aux() && sqlite3_vtab_nochange(ctx)) break;
        sqlite3_stmt* s = current_row(t, *cur);
        sqlite3_result_value(ctx, sqlite3_column_value(s, 1 + col - kFirstMeta));
      }
    }
    return SQLITE_OK;
  });
}

int x_rowid(sqlite3_vtab_cursor* base, sqlite3_int64* rowid) noexcept {
  *rowid = current_rowid(*static_cast<Cursor*>(base));
  return SQLITE_OK;
}

// ---- Writes -----------------------------------------------------------------------------------

int x_update(sqlite3_vtab* v, int argc, sqlite3_value** argv, sqlite3_int64* out_rowid) noexcept {
  if (is_broken(v)) return refuse_broken(v);
  auto& t = *static_cast<Table*>(v);
  return guard_vtab(v, kModule, [&] {
    if (argc == 1) return delete_row(t, argv[0]);
    const bool is_update = sqlite3_value_type(argv[0]) != SQLITE_NULL;
    sqlite3_value* command = argv[2 + kCommand];
    if (!sqlite3_value_nochange(command) && sqlite3_value_type(command) != SQLITE_NULL) {
      if (is_update) fail("the " + t.store->name() + " column takes commands in INSERT only");
      return run_command(t, command);
    }
    return write_row(t, argv, out_rowid);
  });
}

// ---- Transactions, rename, shadow names -------------------------------------------------------

int x_begin(sqlite3_vtab* v) noexcept {
  if (is_broken(v)) return SQLITE_OK;
  static_cast<Table*>(v)->store->begin();
  return SQLITE_OK;
}
int x_sync(sqlite3_vtab* v) noexcept {
  if (is_broken(v)) return SQLITE_OK;
  auto* t = static_cast<Table*>(v);
  return guard_vtab(v, kModule, [&] {
    t->store->flush();
    return SQLITE_OK;
  });
}
int x_commit(sqlite3_vtab* v) noexcept {
  if (is_broken(v)) return SQLITE_OK;
  static_cast<Table*>(v)->store->release(0);  // every savepoint ends with the transaction
  return SQLITE_OK;
}
int x_rollback(sqlite3_vtab* v) noexcept {
  if (is_broken(v)) return SQLITE_OK;
  static_cast<Table*>(v)->store->rollback();
  return SQLITE_OK;
}
// SQLite calls these for user savepoints and for the statement journal of each statement inside
// a transaction. xSavepoint comes before the savepoint exists, so a flush there belongs to the
// enclosing level. A table first written inside nested savepoints gets xBegin, then one
// xSavepoint for the innermost level only (the write log counts it for the outer ones too);
// ROLLBACK TO a transaction opened by SAVEPOINT comes as level -1. A table first written inside nested savepoints gets
// xBegin, then one xSavepoint for the innermost level only; the write log counts it for the outer ones too.
int x_savepoint(sqlite3_vtab* v, int level) noexcept {
  if (is_broken(v)) return SQLITE_OK;
  auto* t = static_cast<Table*>(v);
  return guard_vtab(v, kModule, [&] {
    t->store->savepoint(level);
    return SQLITE_OK;
  });
}
int x_release(sqlite3_vtab* v, int level) noexcept {
  if (is_broken(v)) return SQLITE_OK;
  static_cast<Table*>(v)->store->release(level);
  return SQLITE_OK;
}
int x_rollback_to(sqlite3_vtab* v, int level) noexcept {
  if (is_broken(v)) return SQLITE_OK;
  static_cast<Table*>(v)->store->rollback_to(level);
  return SQLITE_OK;
}

int x_rename(sqlite3_vtab* v, const char* new_name) noexcept {
  if (is_broken(v)) return refuse_broken(v);
  auto& t = *static_cast<Table*>(v);
  return guard_vtab(v, kModule, [&] {
    check_names(t.cfg(), new_name);
    t.store->rename(new_name);
    return SQLITE_OK;
  });
}

int x_shadow_name(const char* suffix) noexcept {
  for (const char* const* s = Store::kShadowSuffixes; *s; ++s)
    if (sqlite3_stricmp(suffix, *s) == 0) return 1;
  return 0;
}

sqlite3_module make_module() {
  sqlite3_module m{};
  m.iVersion = 3;
  m.xCreate = x_create;
  m.xConnect = x_connect;
  m.xBestIndex = x_best_index_checked;
  m.xDisconnect = x_disconnect;
  m.xDestroy = x_destroy;
  m.xOpen = x_open;
  m.xClose = x_close;
  m.xFilter = x_filter;
  m.xNext = x_next;
  m.xEof = x_eof;
  m.xColumn = x_column;
  m.xRowid = x_rowid;
  m.xUpdate = x_update;
  m.xBegin = x_begin;
  m.xSync = x_sync;
  m.xCommit = x_commit;
  m.xRollback = x_rollback;
  m.xRename = x_rename;
  m.xSavepoint = x_savepoint;
  m.xRelease = x_release;
  m.xRollbackTo = x_rollback_to;
  m.xShadowName = x_shadow_name;
  return m;
}

const sqlite3_module kBebrModule = make_module();

}  // namespace
}  // namespace bebr::ext::vtab

namespace bebr::ext {
int register_bebr_table(sqlite3* db) { return sqlite3_create_module(db, vtab::kModule, &vtab::kBebrModule, nullptr); }
}  // namespace bebr::ext
