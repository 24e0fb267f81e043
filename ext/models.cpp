// Trained binarizers stored in the database: bebr_train and the bebr_models table.
//
//   SELECT bebr_train('bible_c', 'SELECT embedding FROM passages', '{"kind":"center","bits":2}');
//   -> {"name":"bible_c","version":1,"kind":"center","dim":1024,"bits":2,"rows":2124,...}
//   SELECT bebr_binarize(embedding, 'bible_c') FROM passages;   -- the latest version
//
// main.bebr_models(name, version, kind, dim, bits, model_id, params, options, rows, seconds,
// created): one row per trained version; params is the model BLOB (docs/format.md) and
// model_id its content hash, which every code made by the model carries in its header.
#include <cctype>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <map>

#include "bebr/vector.hpp"
#include "common.hpp"

namespace bebr::ext {
namespace {

constexpr const char* kCreateModels =
    "CREATE TABLE IF NOT EXISTS main.bebr_models("
    "name TEXT NOT NULL, version INTEGER NOT NULL, kind TEXT NOT NULL, dim INTEGER NOT NULL, "
    "bits INTEGER NOT NULL, model_id INTEGER NOT NULL, params BLOB NOT NULL, "
    "options TEXT NOT NULL, rows INTEGER NOT NULL, seconds REAL NOT NULL, "
    "created TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ','now')), "
    "PRIMARY KEY(name, version))";

bool models_table_exists(sqlite3* db) {
  Stmt s = prepare(db, "SELECT 1 FROM main.sqlite_schema WHERE type = 'table' AND name = 'bebr_models'");
  return sqlite3_step(s.get()) == SQLITE_ROW;
}

std::shared_ptr<const Binarizer> model_from_row(sqlite3_stmt* s, int col) {
  const auto* p = static_cast<const std::uint8_t*>(sqlite3_column_blob(s, col));
  const auto n = static_cast<std::size_t>(sqlite3_column_bytes(s, col));
  return std::make_shared<Binarizer>(Binarizer::parse({p, n}));
}

std::string text_of(sqlite3_value* v) {
  return std::string(reinterpret_cast<const char*>(sqlite3_value_text(v)),
                     static_cast<std::size_t>(sqlite3_value_bytes(v)));
}

std::string json_string(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    if (static_cast<unsigned char>(c) < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      out += buf;
      continue;
    }
    out += c;
  }
  return out + "\"";
}

struct TrainOptions {
  std::string kind = "center";
  std::uint32_t bits = 1;
  std::string json;  // normalised, stored with the model
};

// Options come as a JSON object; SQLite's own JSON functions parse it.
TrainOptions parse_options(sqlite3* db, sqlite3_value* options) {
  TrainOptions o;
  if (sqlite3_value_type(options) != SQLITE_TEXT)
    fail(std::string("third argument must be a JSON object of options; got ") + type_name(options));
  Stmt s = prepare(db, "SELECT json_valid(?1) AND json_type(?1) = 'object'");
  sqlite3_bind_value(s.get(), 1, options);
  if (sqlite3_step(s.get()) != SQLITE_ROW || sqlite3_column_int(s.get(), 0) != 1)
    fail("third argument must be a JSON object of options such as '{\"kind\":\"center\",\"bits\":2}'; got '" +
         text_of(options) + "'");
  Stmt each = prepare(db, "SELECT key, type, value FROM json_each(?1)");
  sqlite3_bind_value(each.get(), 1, options);
  while (sqlite3_step(each.get()) == SQLITE_ROW) {
    const std::string key = reinterpret_cast<const char*>(sqlite3_column_text(each.get(), 0));
    const std::string type = reinterpret_cast<const char*>(sqlite3_column_text(each.get(), 1));
    if (key == "kind") {
      if (type != "text") fail("option kind must be a string; got " + type);
      o.kind = reinterpret_cast<const char*>(sqlite3_column_text(each.get(), 2));
    } else if (key == "bits") {
      const sqlite3_int64 bits = sqlite3_column_int64(each.get(), 2);
      if (type != "integer" || bits < 1 || bits > kMaxBits)
        fail("option bits must be an integer in 1..8; got " +
             std::string(reinterpret_cast<const char*>(sqlite3_column_text(each.get(), 2))));
      o.bits = static_cast<std::uint32_t>(bits);
    } else {
      fail("unknown option '" + key + "'; expected kind or bits");
    }
  }
  if (o.kind == "mlp") fail("option kind 'mlp' is not available in this version; expected 'center'");
  if (o.kind != "center") fail("unknown kind '" + o.kind + "'; expected 'center'");
  o.json = "{\"kind\":" + json_string(o.kind) + ",\"bits\":" + std::to_string(o.bits) + "}";
  return o;
}

// bebr_train(name, select_sql [, options_json]) -> JSON text describing the stored model.
void fn_train(sqlite3_context* ctx, int argc, sqlite3_value** argv) noexcept {
  guard_scalar(ctx, "bebr_train", [&] {
    sqlite3* db = sqlite3_context_db_handle(ctx);
    for (int i = 0; i < 2; ++i)
      if (sqlite3_value_type(argv[i]) != SQLITE_TEXT)
        fail(std::string(i == 0 ? "first argument (model name)" : "second argument (training query)") +
             " must be text; got " + type_name(argv[i]));
    const std::string name = text_of(argv[0]);
    if (name.empty() || name.size() > 128) fail("model name must be 1..128 characters; got '" + name + "'");
    const TrainOptions opt = argc > 2 ? parse_options(db, argv[2]) : TrainOptions{"center", 1, "{\"kind\":\"center\",\"bits\":1}"};
    const auto started = std::chrono::steady_clock::now();

    const std::string sql = text_of(argv[1]);
    sqlite3_stmt* raw = nullptr;
    const char* tail = nullptr;
    if (sqlite3_prepare_v2(db, sql.c_str(), -1, &raw, &tail) != SQLITE_OK) {
      sqlite3_finalize(raw);
      fail(std::string("training query does not compile: ") + sqlite3_errmsg(db));
    }
    Stmt q(raw);
    if (!q) fail("training query is empty; expected a SELECT returning one vector column");
    for (; tail && *tail; ++tail)
      if (!std::isspace(static_cast<unsigned char>(*tail)) && *tail != ';')
        fail("training query must be a single statement");
    if (!sqlite3_stmt_readonly(q.get())) fail("training query must be read-only (a SELECT)");
    if (sqlite3_column_count(q.get()) != 1)
      fail("training query must return exactly one column (the vectors); it returns " +
           std::to_string(sqlite3_column_count(q.get())));

    std::unique_ptr<MeanAccumulator> acc;
    std::uint32_t dim = 0;
    std::uint64_t row = 0;
    int rc;
    while ((rc = sqlite3_step(q.get())) == SQLITE_ROW) {
      sqlite3_value* v = sqlite3_column_value(q.get(), 0);
      if (sqlite3_value_type(v) == SQLITE_NULL)
        fail("training query row " + std::to_string(row + 1) + " is NULL; expected a vector");
      const std::vector<float> x = vector_arg(v, "training query row " + std::to_string(row + 1));
      if (!acc) {
        dim = static_cast<std::uint32_t>(x.size());
        acc = std::make_unique<MeanAccumulator>(dim);
      } else if (x.size() != dim) {
        throw Error(Errc::mismatch, "training query rows have mixed dimensions; row 1 has " +
                                        std::to_string(dim) + " floats, row " + std::to_string(row + 1) +
                                        " has " + std::to_string(x.size()));
      }
      acc->add(x);
      ++row;
    }
    if (rc == SQLITE_INTERRUPT) throw Error(Errc::interrupted, "interrupted; no model was stored");
    if (rc != SQLITE_DONE) fail(std::string("training query failed: ") + sqlite3_errmsg(db));
    if (!acc) fail("training query returned no rows; expected at least one vector");
    q.reset();

    const Binarizer model = Binarizer::center(acc->mean(), opt.bits);
    const std::vector<std::uint8_t> params = model.serialize();
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();

    if (sqlite3_exec(db, kCreateModels, nullptr, nullptr, nullptr) != SQLITE_OK)
      fail(std::string("cannot create bebr_models: ") + sqlite3_errmsg(db));
    // One INSERT picks the next version and stores the row atomically.
    Stmt ins = prepare(db,
                       "INSERT INTO main.bebr_models(name, version, kind, dim, bits, model_id, params, "
                       "options, rows, seconds) SELECT ?1, coalesce(max(version), 0) + 1, ?2, ?3, ?4, "
                       "?5, ?6, ?7, ?8, ?9 FROM main.bebr_models WHERE name = ?1 RETURNING version");
    sqlite3_bind_text(ins.get(), 1, name.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(ins.get(), 2, opt.kind.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(ins.get(), 3, dim);
    sqlite3_bind_int64(ins.get(), 4, opt.bits);
    sqlite3_bind_int64(ins.get(), 5, model.shape().model_id);
    sqlite3_bind_blob64(ins.get(), 6, params.data(), params.size(), SQLITE_TRANSIENT);
    sqlite3_bind_text(ins.get(), 7, opt.json.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(ins.get(), 8, static_cast<sqlite3_int64>(row));
    sqlite3_bind_double(ins.get(), 9, seconds);
    if (sqlite3_step(ins.get()) != SQLITE_ROW) fail(std::string("cannot store the model: ") + sqlite3_errmsg(db));
    const sqlite3_int64 version = sqlite3_column_int64(ins.get(), 0);
    if (sqlite3_step(ins.get()) != SQLITE_DONE) fail(std::string("cannot store the model: ") + sqlite3_errmsg(db));

    const std::string out = "{\"name\":" + json_string(name) + ",\"version\":" + std::to_string(version) +
                            ",\"kind\":" + json_string(opt.kind) + ",\"dim\":" + std::to_string(dim) +
                            ",\"bits\":" + std::to_string(opt.bits) + ",\"rows\":" + std::to_string(row) +
                            ",\"model_id\":" + std::to_string(model.shape().model_id) + "}";
    sqlite3_result_text(ctx, out.c_str(), -1, SQLITE_TRANSIENT);
  });
}

}  // namespace

std::shared_ptr<const Binarizer> load_model_by_name(sqlite3* db, const std::string& name) {
  if (!models_table_exists(db))
    throw Error(Errc::not_found, "unknown model '" + name +
                                     "'; this database has no bebr_models table (train one with bebr_train)");
  Stmt s = prepare(db, "SELECT params FROM main.bebr_models WHERE name = ?1 ORDER BY version DESC LIMIT 1");
  sqlite3_bind_text(s.get(), 1, name.c_str(), -1, SQLITE_TRANSIENT);
  if (sqlite3_step(s.get()) != SQLITE_ROW)
    throw Error(Errc::not_found, "unknown model '" + name + "'; expected a name in bebr_models");
  return model_from_row(s.get(), 0);
}

std::shared_ptr<const Binarizer> load_model_by_id(sqlite3* db, Connection& conn, std::uint32_t id) {
  if (auto it = conn.models_by_id.find(id); it != conn.models_by_id.end()) return it->second;
  const std::string what = "code was made by a trained model (id " + std::to_string(id) + ")";
  if (!models_table_exists(db))
    throw Error(Errc::not_found, what + " but this database has no bebr_models table");
  Stmt s = prepare(db, "SELECT params FROM main.bebr_models WHERE model_id = ?1 LIMIT 1");
  sqlite3_bind_int64(s.get(), 1, id);
  if (sqlite3_step(s.get()) != SQLITE_ROW) throw Error(Errc::not_found, what + " that is not in bebr_models");
  auto model = model_from_row(s.get(), 0);
  conn.models_by_id.emplace(id, model);
  return model;
}

int register_model_functions(sqlite3* db, const std::shared_ptr<Connection>& conn) {
  // Training runs SQL text and writes: never from a trigger, view or schema.
  for (int nargs : {2, 3})
    if (const int rc = create_function(db, "bebr_train", nargs, SQLITE_DIRECTONLY, conn, fn_train); rc != SQLITE_OK)
      return rc;
  return SQLITE_OK;
}

}  // namespace bebr::ext
