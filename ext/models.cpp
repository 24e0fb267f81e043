// Trained binarizers stored in the database: the main.bebr_models table, its versions and the
// lookups every other part makes (by name, by model id, compatible ids), and bebr_import_model.
// bebr_train, which fills the table, is in ext/train_fn.cpp.
//
//   SELECT bebr_train('bible_c', 'SELECT embedding FROM passages', '{"kind":"center","bits":2}');
//   SELECT bebr_binarize(embedding, 'bible_c') FROM passages;   -- the latest version
//   SELECT bebr_import_model('shipped', (SELECT params FROM other.bebr_models WHERE name = 'm'));
//
// main.bebr_models(name, version, kind, dim, bits, model_id, params, options, rows, seconds,
// created, history): one row per trained version; params is the model BLOB (docs/format.md) and
// model_id its content hash, which every code made by the model carries in its header.
#include "models.hpp"

#include <algorithm>
#include <span>

#include "bebr/model.hpp"
#include "json.hpp"

namespace bebr::ext {
namespace {

constexpr const char* kCreateModels =
    "CREATE TABLE IF NOT EXISTS main.bebr_models("
    "name TEXT NOT NULL, version INTEGER NOT NULL, kind TEXT NOT NULL, dim INTEGER NOT NULL, "
    "bits INTEGER NOT NULL, model_id INTEGER NOT NULL, params BLOB NOT NULL, "
    "options TEXT NOT NULL, rows INTEGER NOT NULL, seconds REAL NOT NULL, "
    "created TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ','now')), history TEXT, "
    "PRIMARY KEY(name, version))";

// A schema name for "%w"-style quoting inside double quotes.
std::string quote_ident(const std::string& schema) { return mprintf("%w", schema.c_str()); }

// Steps a lookup in bebr_models: true for a row, false for none; an error (such as SQL that
// the table runs failing) comes through with SQLite's message instead of reading as "absent".
bool step_lookup(sqlite3* db, sqlite3_stmt* s) {
  const int rc = sqlite3_step(s);
  if (rc == SQLITE_ROW) return true;
  if (rc != SQLITE_DONE) fail_sqlite(db, rc);
  return false;
}

bool models_table_exists(sqlite3* db, const std::string& schema) {
  Stmt s = prepare(db, "SELECT 1 FROM \"" + quote_ident(schema) +
                           "\".sqlite_schema WHERE type = 'table' AND name = 'bebr_models'");
  return sqlite3_step(s.get()) == SQLITE_ROW;
}

// The databases whose bebr_models a lookup reads, in order: `first` (when given), main, then the
// others as PRAGMA database_list lists them (temp, then the attached ones). Only those that have
// a bebr_models table.
std::vector<std::string> model_schemas(sqlite3* db, const std::string& first = "") {
  std::vector<std::string> all;
  if (!first.empty()) all.push_back(first);
  Stmt s = prepare(db, "SELECT name FROM pragma_database_list ORDER BY seq");
  int rc;
  while ((rc = sqlite3_step(s.get())) == SQLITE_ROW) {
    const std::string name = reinterpret_cast<const char*>(sqlite3_column_text(s.get(), 0));
    if (sqlite3_stricmp(name.c_str(), first.c_str()) != 0) all.push_back(name);
  }
  if (rc != SQLITE_DONE) fail_sqlite(db, rc);
  std::vector<std::string> with;
  for (const std::string& name : all)
    if (models_table_exists(db, name)) with.push_back(name);
  return with;
}

// "name" or "name@version" of a model argument.
struct ModelSpec {
  std::string name;
  sqlite3_int64 version = 0;  // 0: the latest
};
ModelSpec parse_spec(const std::string& spec) {
  const auto at = spec.rfind('@');
  if (at == std::string::npos || at == 0 || at + 1 == spec.size() ||
      spec.find_first_not_of("0123456789", at + 1) != std::string::npos)
    return {spec, 0};
  const std::string digits = spec.substr(at + 1);
  if (digits.size() > 18 || std::stoll(digits) < 1)
    fail("model '" + spec + "' names version " + digits + "; expected a version 1 or more");
  return {spec.substr(0, at), std::stoll(digits)};
}

// The bytes of a params column.
std::span<const std::uint8_t> params_of(sqlite3_stmt* s, int col) {
  const auto* p = static_cast<const std::uint8_t*>(sqlite3_column_blob(s, col));
  return {p, static_cast<std::size_t>(sqlite3_column_bytes(s, col))};
}

std::shared_ptr<const Binarizer> model_from_row(sqlite3_stmt* s, int col) {
  return std::make_shared<Binarizer>(Binarizer::parse(params_of(s, col)));
}

void ensure_models_table(sqlite3* db, const std::string& schema = "main") {
  std::string create = kCreateModels;
  create.replace(create.find("main."), 5, "\"" + quote_ident(schema) + "\".");
  if (sqlite3_exec(db, create.c_str(), nullptr, nullptr, nullptr) != SQLITE_OK)
    fail(std::string("cannot create bebr_models: ") + sqlite3_errmsg(db));
  // Tables made by bebr 0.1 lack the history column.
  Stmt has = prepare(db, mprintf("SELECT 1 FROM pragma_table_info('bebr_models', %Q) WHERE name = 'history'",
                                 schema.c_str()));
  const int rc = sqlite3_step(has.get());
  if (rc == SQLITE_INTERRUPT) throw Error(Errc::interrupted, "interrupted while storing the model; no model was stored");
  if (rc != SQLITE_ROW && rc != SQLITE_DONE) fail_sqlite(db, rc);
  if (rc == SQLITE_DONE &&
      sqlite3_exec(db, mprintf("ALTER TABLE \"%w\".bebr_models ADD COLUMN history TEXT", schema.c_str()).c_str(),
                   nullptr, nullptr, nullptr) != SQLITE_OK)
    fail(std::string("cannot add bebr_models.history: ") + sqlite3_errmsg(db));
}

// bebr_import_model(name, params) -> the stored version: a model BLOB exported from another
// database (SELECT params FROM bebr_models ...) becomes the next version of `name` here. The
// BLOB is checked in full; its model id (its hash) is unchanged, so codes made elsewhere compare.
void fn_import(sqlite3_context* ctx, int, sqlite3_value** argv) noexcept {
  guard_scalar(ctx, "bebr_import_model", [&] {
    refuse_in_training_query("bebr_import_model");
    const NestedSql nested("bebr_import_model");
    sqlite3* db = sqlite3_context_db_handle(ctx);
    if (sqlite3_value_type(argv[0]) != SQLITE_TEXT)
      fail(std::string("first argument (model name) must be text; got ") + type_name(argv[0]));
    if (sqlite3_value_type(argv[1]) != SQLITE_BLOB)
      fail(std::string("second argument must be a model BLOB (bebr_models.params); got ") + type_name(argv[1]));
    const std::string name = text_of(argv[0]);
    check_model_name(name);
    const auto* p = static_cast<const std::uint8_t*>(sqlite3_value_blob(argv[1]));
    const Binarizer model = Binarizer::parse({p, static_cast<std::size_t>(sqlite3_value_bytes(argv[1]))});
    const std::string options = JsonObject()
                                    .add("kind", kind_name(model.shape().kind))
                                    .add("bits", sqlite3_int64{model.shape().bits})
                                    .add_json("imported", "true")
                                    .text(db);
    sqlite3_result_int64(ctx, store_model(db, name, model, model.input_dim(), options, 0, 0.0, ""));
  });
}

}  // namespace

std::string text_of(sqlite3_value* v) {
  return std::string(reinterpret_cast<const char*>(sqlite3_value_text(v)),
                     static_cast<std::size_t>(sqlite3_value_bytes(v)));
}

void refuse_in_training_query(const char* fn) {
  if (TrainingQueryScope::active())
    fail(std::string(fn) +
         " cannot run inside a training query; expected a query free of side effects, without bebr_train and "
         "bebr_import_model");
}

void check_model_name(const std::string& name) {
  if (name.empty() || name.size() > 128) fail("model name must be 1..128 characters; got '" + name + "'");
}

// Stores a new version of `name`; one INSERT picks the next version and stores the row atomically.
sqlite3_int64 store_model(sqlite3* db, const std::string& name, const Binarizer& model, std::uint32_t input_dim,
                          const std::string& options, std::uint64_t rows, double seconds, const std::string& history) {
  ensure_models_table(db);
  const std::vector<std::uint8_t> params = model.serialize();
  Stmt ins = prepare(db,
                     "INSERT INTO main.bebr_models(name, version, kind, dim, bits, model_id, params, "
                     "options, rows, seconds, history) SELECT ?1, coalesce(max(version), 0) + 1, ?2, ?3, ?4, "
                     "?5, ?6, ?7, ?8, ?9, ?10 FROM main.bebr_models WHERE name = ?1 RETURNING version");
  sqlite3_bind_text(ins.get(), 1, name.c_str(), -1, SQLITE_TRANSIENT);
  sqlite3_bind_text(ins.get(), 2, kind_name(model.shape().kind), -1, SQLITE_STATIC);
  sqlite3_bind_int64(ins.get(), 3, input_dim);
  sqlite3_bind_int64(ins.get(), 4, model.shape().bits);
  sqlite3_bind_int64(ins.get(), 5, model.shape().model_id);
  sqlite3_bind_blob64(ins.get(), 6, params.data(), params.size(), SQLITE_TRANSIENT);
  sqlite3_bind_text(ins.get(), 7, options.c_str(), -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64(ins.get(), 8, static_cast<sqlite3_int64>(rows));
  sqlite3_bind_double(ins.get(), 9, seconds);
  if (history.empty()) sqlite3_bind_null(ins.get(), 10);
  else sqlite3_bind_text(ins.get(), 10, history.c_str(), -1, SQLITE_TRANSIENT);
  if (sqlite3_step(ins.get()) != SQLITE_ROW) fail(std::string("cannot store the model: ") + sqlite3_errmsg(db));
  const sqlite3_int64 version = sqlite3_column_int64(ins.get(), 0);
  if (sqlite3_step(ins.get()) != SQLITE_DONE) fail(std::string("cannot store the model: ") + sqlite3_errmsg(db));
  return version;
}

StoredModel load_model(sqlite3* db, const std::string& spec, const std::string& schema) {
  const NestedSql nested("the model lookup");
  const ModelSpec m = parse_spec(spec);
  const std::vector<std::string> schemas = model_schemas(db, schema);
  if (schemas.empty())
    throw Error(Errc::not_found,
                "unknown model '" + spec + "'; this database has no bebr_models table (train one with bebr_train)");
  sqlite3_int64 latest = 0;
  for (const std::string& in : schemas) {
    Stmt s = prepare(db, "SELECT version, model_id, params FROM \"" + quote_ident(in) +
                             "\".bebr_models WHERE name = ?1 AND (?2 = 0 OR version = ?2) ORDER BY version DESC "
                             "LIMIT 1");
    sqlite3_bind_text(s.get(), 1, m.name.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(s.get(), 2, m.version);
    if (step_lookup(db, s.get()))
      return StoredModel{in, m.name, sqlite3_column_int64(s.get(), 0),
                         static_cast<std::uint32_t>(sqlite3_column_int64(s.get(), 1)), model_from_row(s.get(), 2)};
    if (m.version) {
      Stmt v = prepare(db, "SELECT max(version) FROM \"" + quote_ident(in) + "\".bebr_models WHERE name = ?1");
      sqlite3_bind_text(v.get(), 1, m.name.c_str(), -1, SQLITE_TRANSIENT);
      if (step_lookup(db, v.get())) latest = std::max(latest, sqlite3_column_int64(v.get(), 0));
    }
  }
  if (latest)
    throw Error(Errc::not_found, "model '" + m.name + "' has no version " + std::to_string(m.version) +
                                     "; its latest is version " + std::to_string(latest));
  throw Error(Errc::not_found, "unknown model '" + spec + "'; expected a name in bebr_models");
}

std::shared_ptr<const Binarizer> load_model_by_name(sqlite3* db, const std::string& name) {
  return load_model(db, name).binarizer;
}

std::shared_ptr<const Binarizer> load_model_by_id(sqlite3* db, Connection& conn, std::uint32_t id) {
  if (auto it = conn.models_by_id.find(id); it != conn.models_by_id.end()) return it->second;
  const NestedSql nested("the model lookup");
  const std::string what = "code was made by a trained model (id " + std::to_string(id) + ")";
  const std::vector<std::string> schemas = model_schemas(db);
  if (schemas.empty()) throw Error(Errc::not_found, what + " but this database has no bebr_models table");
  for (const std::string& in : schemas) {
    Stmt s = prepare(db, "SELECT params FROM \"" + quote_ident(in) + "\".bebr_models WHERE model_id = ?1 LIMIT 1");
    sqlite3_bind_int64(s.get(), 1, id);
    if (!step_lookup(db, s.get())) continue;
    auto model = model_from_row(s.get(), 0);
    conn.models_by_id.emplace(id, model);
    return model;
  }
  throw Error(Errc::not_found, what + " that is not in bebr_models");
}

std::uint32_t compatible_id_of(sqlite3* db, std::uint32_t id) {
  const NestedSql nested("the model lookup");
  for (const std::string& in : model_schemas(db)) {
    Stmt s = prepare(db, "SELECT substr(params, 1, 64) FROM \"" + quote_ident(in) +
                             "\".bebr_models WHERE model_id = ?1 LIMIT 1");
    sqlite3_bind_int64(s.get(), 1, id);
    if (step_lookup(db, s.get())) return parse_model_header(params_of(s.get(), 0)).compatible_id;  // 0 for center
  }
  return 0;
}

Binarizer load_table_model(sqlite3* db, const std::string& schema, const std::string& table, const std::string& name,
                           sqlite3_int64 version, std::uint32_t id) {
  const NestedSql nested("the model lookup");
  for (const std::string& in : model_schemas(db, schema)) {
    Stmt s = prepare(db, "SELECT params FROM \"" + quote_ident(in) + "\".bebr_models WHERE model_id = ?1 LIMIT 1");
    sqlite3_bind_int64(s.get(), 1, id);
    if (step_lookup(db, s.get())) return Binarizer::parse(params_of(s.get(), 0));
  }
  throw Error(Errc::not_found, "table " + table + " codes with model '" + name + "@" + std::to_string(version) +
                                   "' (id " + std::to_string(id) +
                                   "), which is not in bebr_models any more; reads and code queries work without "
                                   "it, encoding a vector needs it: restore the row (bebr_import_model) or "
                                   "re-create the table");
}

void keep_model_in(sqlite3* db, const std::string& schema, const StoredModel& m) {
  if (sqlite3_stricmp(schema.c_str(), m.schema.c_str()) == 0) return;
  ensure_models_table(db, schema);
  const std::string to = "\"" + quote_ident(schema) + "\".bebr_models";
  Stmt has = prepare(db, "SELECT model_id FROM " + to + " WHERE name = ?1 AND version = ?2");
  sqlite3_bind_text(has.get(), 1, m.name.c_str(), -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64(has.get(), 2, m.version);
  if (step_lookup(db, has.get())) {
    if (static_cast<std::uint32_t>(sqlite3_column_int64(has.get(), 0)) == m.model_id) return;
    throw Error(Errc::mismatch, "model '" + m.name + "@" + std::to_string(m.version) + "' of database " + m.schema +
                                    " differs from the model of that name and version in database " + schema +
                                    "; a table names its model in its own database");
  }
  constexpr const char* kColumns = "name, version, kind, dim, bits, model_id, params, options, rows, seconds, created";
  Stmt copy = prepare(db, "INSERT INTO " + to + "(" + kColumns + ") SELECT " + kColumns + " FROM \"" +
                              quote_ident(m.schema) + "\".bebr_models WHERE name = ?1 AND version = ?2");
  sqlite3_bind_text(copy.get(), 1, m.name.c_str(), -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64(copy.get(), 2, m.version);
  if (const int rc = sqlite3_step(copy.get()); rc != SQLITE_DONE)
    fail(std::string("cannot copy the model into ") + schema + ".bebr_models: " + sqlite3_errmsg(db));
}

std::string describe_model(sqlite3* db, std::uint32_t id) {
  const std::string bare = "id " + std::to_string(id);
  try {
    const NestedSql nested("the model lookup");
    for (const std::string& in : model_schemas(db)) {
      Stmt s = prepare(db, "SELECT name, version FROM \"" + quote_ident(in) +
                               "\".bebr_models WHERE model_id = ?1 ORDER BY version LIMIT 1");
      sqlite3_bind_int64(s.get(), 1, id);
      if (sqlite3_step(s.get()) == SQLITE_ROW)
        return "'" + std::string(reinterpret_cast<const char*>(sqlite3_column_text(s.get(), 0))) + "@" +
               std::to_string(sqlite3_column_int64(s.get(), 1)) + "' (" + bare + ")";
    }
  } catch (const Error&) {
    // A description only: the error it goes into is the one to report.
  }
  return bare;
}

void require_same_model_shape(sqlite3* db, const CodeShape& a, const CodeShape& b) {
  if (a.dim == b.dim && a.bits == b.bits && a.kind == b.kind && a.model_id != b.model_id)
    throw Error(Errc::mismatch, "codes differ in model (they come from different trained models); first has " +
                                    describe_model(db, a.model_id) + ", second has " + describe_model(db, b.model_id));
  require_same_shape(a, b);
}

void admit_compatible(sqlite3* db, Connection& conn, const CodeView& a, CodeView& b) {
  if (a.shape.model_id == b.shape.model_id || a.shape.kind != BinarizerKind::mlp ||
      b.shape.kind != BinarizerKind::mlp || a.shape.dim != b.shape.dim || a.shape.bits != b.shape.bits)
    return;
  const auto compatible = [&](std::uint32_t from, std::uint32_t to) {
    return load_model_by_id(db, conn, from)->model_header().compatible_id == to;
  };
  if (compatible(b.shape.model_id, a.shape.model_id) || compatible(a.shape.model_id, b.shape.model_id))
    b.shape.model_id = a.shape.model_id;
}

int register_model_functions(sqlite3* db, const std::shared_ptr<Connection>& conn) {
  if (const int rc = register_train_function(db, conn); rc != SQLITE_OK) return rc;
  return create_function(db, "bebr_import_model", 2, SQLITE_DIRECTONLY, conn, fn_import);
}

}  // namespace bebr::ext
