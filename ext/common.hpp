// Shared pieces of the SQLite glue: the guards that keep C++ exceptions out of SQLite, the
// readers that turn sqlite3_value arguments into core types with clear errors, and the
// per-connection state. ext/ holds no numeric loops: it converts and calls core/.
#pragma once

#include <sqlite3ext.h>

#include <cstdint>
#include <memory>
#include <new>
#include <string>
#include <unordered_map>
#include <vector>

#include "bebr/binarize.hpp"
#include "bebr/codes.hpp"
#include "bebr/distance.hpp"
#include "bebr/error.hpp"

SQLITE_EXTENSION_INIT3

namespace bebr::ext {

// An error raised by the glue itself; the guard prefixes the function or module name.
[[noreturn]] inline void fail(const std::string& message) { throw Error(Errc::invalid_argument, message); }

// The three guards below hold every body SQLite calls into. Their handlers format messages with
// sqlite3_mprintf, never std::string: a handler that threw std::bad_alloc would leave a noexcept
// function and terminate the host. Messages: "<fn or module>: <message>" for a bebr::Error,
// SQLITE_NOMEM for std::bad_alloc (and for a message SQLite has no memory to format), and
// "bebr internal error in <fn or module>: ..." for anything else, which is a bug.

// Sets a scalar function's error to `msg` (from sqlite3_mprintf, freed here; null: no memory).
inline void result_error(sqlite3_context* ctx, char* msg) noexcept {
  if (!msg) return sqlite3_result_error_nomem(ctx);
  sqlite3_result_error(ctx, msg, -1);
  sqlite3_free(msg);
}

// Runs a scalar function body; any exception becomes the function's error result.
template <class F>
void guard_scalar(sqlite3_context* ctx, const char* fn, F&& body) noexcept {
  try {
    body();
  } catch (const Error& e) {
    char* msg = sqlite3_mprintf("%s: %s", fn, e.what());
    const bool nomem = !msg;
    result_error(ctx, msg);
    if (!nomem && e.code() == Errc::interrupted) sqlite3_result_error_code(ctx, SQLITE_INTERRUPT);
  } catch (const std::bad_alloc&) {
    sqlite3_result_error_nomem(ctx);
  } catch (const std::exception& e) {
    result_error(ctx, sqlite3_mprintf("bebr internal error in %s: %s", fn, e.what()));
  } catch (...) {
    result_error(ctx, sqlite3_mprintf("bebr internal error in %s: unknown exception", fn));
  }
}

// Replaces a virtual table's error message with `msg` (from sqlite3_mprintf; null: no memory)
// and returns `rc`, or SQLITE_NOMEM when there is no message.
inline int set_vtab_error(sqlite3_vtab* vtab, char* msg, int rc) noexcept {
  sqlite3_free(vtab->zErrMsg);
  vtab->zErrMsg = msg;
  return msg ? rc : SQLITE_NOMEM;
}

// Runs a virtual-table method body; errors go to the vtab's zErrMsg and a return code.
template <class F>
int guard_vtab(sqlite3_vtab* vtab, const char* module, F&& body) noexcept {
  try {
    return body();
  } catch (const Error& e) {
    return set_vtab_error(vtab, sqlite3_mprintf("%s: %s", module, e.what()),
                          e.code() == Errc::interrupted ? SQLITE_INTERRUPT : SQLITE_ERROR);
  } catch (const std::bad_alloc&) {
    return SQLITE_NOMEM;
  } catch (const std::exception& e) {
    return set_vtab_error(vtab, sqlite3_mprintf("bebr internal error in %s: %s", module, e.what()), SQLITE_ERROR);
  } catch (...) {
    return set_vtab_error(vtab, sqlite3_mprintf("bebr internal error in %s: unknown exception", module), SQLITE_ERROR);
  }
}

// Runs the body of xCreate or xConnect; errors go to *err (SQLite frees it) and a return code.
template <class F>
int guard_init(char** err, const char* module, F&& body) noexcept {
  const auto set = [&](char* msg) noexcept {
    *err = msg;
    return msg ? SQLITE_ERROR : SQLITE_NOMEM;
  };
  try {
    return body();
  } catch (const Error& e) {
    return set(sqlite3_mprintf("%s: %s", module, e.what()));
  } catch (const std::bad_alloc&) {
    return SQLITE_NOMEM;
  } catch (const std::exception& e) {
    return set(sqlite3_mprintf("bebr internal error in %s: %s", module, e.what()));
  } catch (...) {
    return set(sqlite3_mprintf("bebr internal error in %s: unknown exception", module));
  }
}

// The failure `rc` of an SQLite call as an exception: std::bad_alloc for SQLITE_NOMEM (which
// the guards return as SQLITE_NOMEM), else an Error with SQLite's message.
[[noreturn]] inline void fail_sqlite(sqlite3* db, int rc) {
  if (rc == SQLITE_NOMEM) throw std::bad_alloc();
  fail(sqlite3_errmsg(db));
}

// xOpen of a virtual table whose cursor type C is default-constructible: no exception escapes.
template <class C>
int open_cursor(sqlite3_vtab_cursor** out) noexcept {
  auto* c = new (std::nothrow) C();
  if (!c) return SQLITE_NOMEM;
  *out = c;
  return SQLITE_OK;
}

// A string from SQLite's allocator (sqlite3_mprintf, sqlite3_exec's message), freed with it.
struct SqliteFree {
  void operator()(char* p) const noexcept { sqlite3_free(p); }
};
using SqliteString = std::unique_ptr<char, SqliteFree>;

// sqlite3_mprintf into a std::string (SQLite's %q, %Q and %w quoting); std::bad_alloc when
// SQLite is out of memory, never a std::string built from a null pointer.
template <class... Args>
std::string mprintf(const char* format, Args... args) {
  // Owned before the std::string is built: that may throw std::bad_alloc too.
  const SqliteString s(sqlite3_mprintf(format, args...));
  if (!s) throw std::bad_alloc();
  return std::string(s.get());
}

// "integer", "real", "text", "blob" or "null": for messages.
const char* type_name(sqlite3_value* v) noexcept;

// A float vector argument: a little-endian float32 BLOB or JSON array text, finite, 1..kMaxDim
// floats. `what` names it in messages ("first argument").
std::vector<float> vector_arg(sqlite3_value* v, const std::string& what);

// A code BLOB argument (see bebr/codes.hpp); the view points into the value's memory.
CodeView code_arg(sqlite3_value* v, const std::string& what);

// A metric name argument: cosine, ip or l2.
Metric metric_arg(sqlite3_value* v, const std::string& what);

// Owned statement handle.
struct StmtDeleter {
  void operator()(sqlite3_stmt* s) const noexcept { sqlite3_finalize(s); }
};
using Stmt = std::unique_ptr<sqlite3_stmt, StmtDeleter>;
// Prepares `sql`; throws with SQLite's message on failure.
Stmt prepare(sqlite3* db, const std::string& sql);
// Runs `sql` (any number of statements); throws with SQLite's message on failure.
void exec(sqlite3* db, const std::string& sql);
// Steps a statement that returns no row; throws with SQLite's message unless it is done.
void step_done(sqlite3* db, sqlite3_stmt* s);

// Nesting of bebr calls that run SQL (bebr_train and its training query, the model lookups of
// bebr_binarize, bebr_decode and CREATE VIRTUAL TABLE): that SQL can call bebr again (a training
// query calling bebr_train, a generated column of bebr_models calling bebr_binarize), so a
// database or a query could recurse until the stack overflows. A NestedSql lives while such a
// call runs and refuses a level past kMaxNesting. Counted per thread: recursion stays on one
// thread, whose stack is what it exhausts.
class NestedSql {
 public:
  static constexpr int kMaxNesting = 8;
  // Throws (before counting) past kMaxNesting; `what` names the call for the message.
  explicit NestedSql(const char* what) {
    if (depth_ >= kMaxNesting)
      fail(std::string(what) + " nests bebr calls that run SQL too deeply; expected at most " +
           std::to_string(kMaxNesting) + " levels, got " + std::to_string(depth_ + 1));
    ++depth_;
  }
  ~NestedSql() { --depth_; }
  NestedSql(const NestedSql&) = delete;
  NestedSql& operator=(const NestedSql&) = delete;

 private:
  static inline thread_local int depth_ = 0;
};

// Per-connection state shared by the functions of one connection.
struct Connection {
  // Trained binarizers by model id. Ids are content hashes, so an entry can never go stale.
  std::unordered_map<std::uint32_t, std::shared_ptr<const Binarizer>> models_by_id;
};

// Models (ext/models.cpp).
// A model row of some database's bebr_models.
struct StoredModel {
  std::string schema, name;
  sqlite3_int64 version = 0;
  std::uint32_t model_id = 0;
  std::shared_ptr<const Binarizer> binarizer;
};
// Model `spec`: 'name' (its latest version) or 'name@V' (version V), looked up in the bebr_models
// of `schema` first (when given), then of main, then of the other databases in PRAGMA
// database_list order; the first database that has the name answers. Throws a clear error if
// absent (naming the latest version when the version asked for is not there).
StoredModel load_model(sqlite3* db, const std::string& spec, const std::string& schema = "");
// load_model(db, spec).binarizer.
std::shared_ptr<const Binarizer> load_model_by_name(sqlite3* db, const std::string& name);
// The model a table of database `schema` names by id (storage format 4): from that database's
// bebr_models, else another's. Throws, naming the table, the model and its version, when no
// bebr_models holds it any more.
Binarizer load_table_model(sqlite3* db, const std::string& schema, const std::string& table, const std::string& name,
                           sqlite3_int64 version, std::uint32_t id);
// Makes sure database `schema`'s bebr_models holds model row `m` (found elsewhere by
// load_model): a table of that database names its model there. Copies the row when it is not
// there; refuses when that name and version hold another model.
void keep_model_in(sqlite3* db, const std::string& schema, const StoredModel& m);
// "'name@V' (id N)" for a model id found in some bebr_models, else "id N" (for messages).
std::string describe_model(sqlite3* db, std::uint32_t id);
// require_same_shape (bebr/distance.hpp), but a difference of model names both models with
// their versions.
void require_same_model_shape(sqlite3* db, const CodeShape& a, const CodeShape& b);
// The model with this id (cached per connection); throws if absent.
std::shared_ptr<const Binarizer> load_model_by_id(sqlite3* db, Connection& conn, std::uint32_t id);
// The model id that model `id` is recorded compatible with (its codes search that model's
// codes), or 0: none, or no such model here.
std::uint32_t compatible_id_of(sqlite3* db, std::uint32_t id);
// Lets code `b` be compared with code `a` when they differ only in model id and one model is
// recorded compatible with the other: b's model id becomes a's. Otherwise leaves b as it is
// (require_same_shape then reports the difference).
void admit_compatible(sqlite3* db, Connection& conn, const CodeView& a, CodeView& b);

// Registration (each returns an SQLite result code).
int register_functions(sqlite3* db, const std::shared_ptr<Connection>& conn);
int register_model_functions(sqlite3* db, const std::shared_ptr<Connection>& conn);
int register_vector_functions(sqlite3* db, const std::shared_ptr<Connection>& conn);
int register_vectors_table(sqlite3* db);
// bebr_each(vector): one row (i, value) per element (each_table.cpp).
int register_each_table(sqlite3* db);
int register_bebr_table(sqlite3* db);

// Registers a scalar function whose user data is a shared Connection.
int create_function(sqlite3* db, const char* name, int nargs, int flags, const std::shared_ptr<Connection>& conn,
                    void (*fn)(sqlite3_context*, int, sqlite3_value**));
Connection& connection_of(sqlite3_context* ctx) noexcept;

}  // namespace bebr::ext
