// Trained binarizers stored in the database: bebr_train and the bebr_models table.
//
//   SELECT bebr_train('bible_c', 'SELECT embedding FROM passages', '{"kind":"center","bits":2}');
//   -> {"name":"bible_c","version":1,"kind":"center","dim":1024,"bits":2,"rows":2124,...}
//   SELECT bebr_binarize(embedding, 'bible_c') FROM passages;   -- the latest version
//
// main.bebr_models(name, version, kind, dim, bits, model_id, params, options, rows, seconds,
// created, history): one row per trained version; params is the model BLOB (docs/format.md) and
// model_id its content hash, which every code made by the model carries in its header.
#include <cctype>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <limits>
#include <map>
#include <random>
#include <span>
#include <unistd.h>

#include "bebr/model.hpp"
#include "bebr/train.hpp"
#include "bebr/vector.hpp"
#include "common.hpp"

namespace bebr::ext {
namespace {

constexpr const char* kCreateModels =
    "CREATE TABLE IF NOT EXISTS main.bebr_models("
    "name TEXT NOT NULL, version INTEGER NOT NULL, kind TEXT NOT NULL, dim INTEGER NOT NULL, "
    "bits INTEGER NOT NULL, model_id INTEGER NOT NULL, params BLOB NOT NULL, "
    "options TEXT NOT NULL, rows INTEGER NOT NULL, seconds REAL NOT NULL, "
    "created TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ','now')), history TEXT, "
    "PRIMARY KEY(name, version))";

bool models_table_exists(sqlite3* db) {
  Stmt s = prepare(db, "SELECT 1 FROM main.sqlite_schema WHERE type = 'table' AND name = 'bebr_models'");
  return sqlite3_step(s.get()) == SQLITE_ROW;
}

// The bytes of a params column.
std::span<const std::uint8_t> params_of(sqlite3_stmt* s, int col) {
  const auto* p = static_cast<const std::uint8_t*>(sqlite3_column_blob(s, col));
  return {p, static_cast<std::size_t>(sqlite3_column_bytes(s, col))};
}

std::shared_ptr<const Binarizer> model_from_row(sqlite3_stmt* s, int col) {
  return std::make_shared<Binarizer>(Binarizer::parse(params_of(s, col)));
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
  MlpOptions mlp;
  std::uint64_t sample = 50000;  // mlp: rows kept for training (uniform reservoir sample)
  std::string compatible_with;   // mlp: the model whose codes the new model's codes search
  bool bits_given = false;
  int progress = -1;             // -1: when stderr is a terminal
  std::string json;              // normalised, stored with the model
};

std::string number_text(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.9g", v);
  return buf;
}

// Options come as a JSON object; SQLite's own JSON functions parse it.
TrainOptions parse_options(sqlite3* db, sqlite3_value* options) {
  TrainOptions o;
  if (!options) {
    o.json = "{\"kind\":\"center\",\"bits\":1}";
    return o;
  }
  if (sqlite3_value_type(options) != SQLITE_TEXT)
    fail(std::string("third argument must be a JSON object of options; got ") + type_name(options));
  Stmt s = prepare(db, "SELECT json_valid(?1) AND json_type(?1) = 'object'");
  sqlite3_bind_value(s.get(), 1, options);
  if (sqlite3_step(s.get()) != SQLITE_ROW || sqlite3_column_int(s.get(), 0) != 1)
    fail("third argument must be a JSON object of options such as '{\"kind\":\"center\",\"bits\":2}'; got '" +
         text_of(options) + "'");
  std::vector<std::string> mlp_only;
  Stmt each = prepare(db, "SELECT key, type, value FROM json_each(?1)");
  sqlite3_bind_value(each.get(), 1, options);
  while (sqlite3_step(each.get()) == SQLITE_ROW) {
    const std::string key = reinterpret_cast<const char*>(sqlite3_column_text(each.get(), 0));
    const std::string type = reinterpret_cast<const char*>(sqlite3_column_text(each.get(), 1));
    const char* text = reinterpret_cast<const char*>(sqlite3_column_text(each.get(), 2));
    const std::string value = text ? text : "null";
    // An integer option in [lo, hi].
    const auto integer = [&](sqlite3_int64 lo, sqlite3_int64 hi) {
      const sqlite3_int64 v = sqlite3_column_int64(each.get(), 2);
      if (type != "integer" || v < lo || v > hi)
        fail("option " + key + " must be an integer in " + std::to_string(lo) + ".." + std::to_string(hi) + "; got " + value);
      return v;
    };
    const auto real = [&](double lo, double hi) {
      const double v = sqlite3_column_double(each.get(), 2);
      if ((type != "integer" && type != "real") || !(v > lo && v <= hi))
        fail("option " + key + " must be a number in (" + number_text(lo) + ", " + number_text(hi) + "]; got " + value);
      return v;
    };
    if (key == "kind") {
      if (type != "text") fail("option kind must be a string; got " + type);
      o.kind = value;
    } else if (key == "bits") {
      o.bits = static_cast<std::uint32_t>(integer(1, kMaxBits));
      o.bits_given = true;
    } else if (key == "progress") {
      if (type != "true" && type != "false") fail("option progress must be true or false; got " + value);
      o.progress = type == "true";
    } else {
      mlp_only.push_back(key);
      if (key == "dim") o.mlp.code_dim = static_cast<std::uint32_t>(integer(1, kMaxDim));
      else if (key == "hidden") o.mlp.hidden = static_cast<std::uint32_t>(integer(1, 16384));
      else if (key == "epochs") o.mlp.epochs = static_cast<std::uint32_t>(integer(1, 100000));
      else if (key == "batch") o.mlp.batch = static_cast<std::uint32_t>(integer(4, 65536));
      else if (key == "neighbours") o.mlp.neighbours = static_cast<std::uint32_t>(integer(1, 256));
      else if (key == "threads") o.mlp.threads = static_cast<std::uint32_t>(integer(1, 1024));
      else if (key == "seed") o.mlp.seed = static_cast<std::uint64_t>(integer(0, std::numeric_limits<sqlite3_int64>::max()));
      else if (key == "sample") o.sample = static_cast<std::uint64_t>(integer(2, std::numeric_limits<sqlite3_int64>::max()));
      else if (key == "compatible_with") {
        if (type != "text" || value.empty()) fail("option compatible_with must be a model name (text); got " + value);
        o.compatible_with = value;
      }
      else if (key == "lr") o.mlp.lr = real(0, 1);
      else if (key == "tau") o.mlp.tau = real(0, 10);
      else if (key == "similarity") o.mlp.similarity = real(-1e-300, 1000);
      else if (key == "contrastive") o.mlp.contrastive = real(-1e-300, 1000);
      else
        fail("unknown option '" + key + "'; expected kind, bits, progress, or for kind mlp: dim, hidden, epochs, "
             "batch, neighbours, lr, tau, similarity, contrastive, seed, threads, sample, compatible_with");
    }
  }
  if (o.kind != "center" && o.kind != "mlp") fail("unknown kind '" + o.kind + "'; expected 'center' or 'mlp'");
  if (o.kind == "center") {
    if (!mlp_only.empty()) fail("option " + mlp_only.front() + " applies to kind 'mlp' only");
    o.json = "{\"kind\":\"center\",\"bits\":" + std::to_string(o.bits) + "}";
    return o;
  }
  if (o.mlp.similarity == 0 && o.mlp.contrastive == 0) fail("options similarity and contrastive are both 0; nothing to train");
  o.mlp.bits = o.bits;
  return o;
}

// The resolved options of an mlp training, as stored in bebr_models.options.
std::string mlp_options_json(const TrainOptions& o, const MlpTraining& t) {
  const ModelHeader m = t.model.model_header();
  std::string compat;
  if (!o.compatible_with.empty())
    compat = ",\"compatible_with\":" + json_string(o.compatible_with) + ",\"compatible_id\":" + std::to_string(m.compatible_id) +
             ",\"adapter_hidden\":" + std::to_string(m.adapter_hidden);
  return "{\"kind\":\"mlp\",\"bits\":" + std::to_string(m.bits) + ",\"dim\":" + std::to_string(m.dim) + compat +
         ",\"hidden\":" + std::to_string(m.hidden) + ",\"epochs\":" + std::to_string(t.epochs) +
         ",\"batch\":" + std::to_string(o.mlp.batch) + ",\"neighbours\":" + std::to_string(o.mlp.neighbours) +
         ",\"lr\":" + number_text(t.lr) + ",\"tau\":" + number_text(o.mlp.tau) +
         ",\"similarity\":" + number_text(o.mlp.similarity) + ",\"contrastive\":" + number_text(o.mlp.contrastive) +
         ",\"seed\":" + std::to_string(o.mlp.seed) + ",\"sample\":" + std::to_string(o.sample) + "}";
}

// Rows of the training query: all of them (center: as a running mean) or a uniform sample of at
// most `sample` rows (mlp).
struct TrainingData {
  std::uint32_t dim = 0, old_dim = 0;
  std::uint64_t rows = 0;  // rows the query returned
  std::unique_ptr<MeanAccumulator> mean;
  std::vector<float> kept, kept_old;  // mlp: sample rows x dim (and x old_dim with compatible_with)
};

TrainingData read_training_rows(sqlite3* db, sqlite3_value* sql_arg, const TrainOptions& opt) {
  const std::string sql = text_of(sql_arg);
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
  const bool pairs = !opt.compatible_with.empty();
  if (!pairs && sqlite3_column_count(q.get()) != 1)
    fail("training query must return exactly one column (the vectors); it returns " +
         std::to_string(sqlite3_column_count(q.get())));
  if (pairs && sqlite3_column_count(q.get()) != 2)
    fail("with compatible_with the training query must return two columns (each item's new vector, then its "
         "old vector); it returns " + std::to_string(sqlite3_column_count(q.get())));

  TrainingData d;
  const bool keep = opt.kind == "mlp";
  std::mt19937_64 rng(opt.mlp.seed);
  // Column c of row `row`: a vector of the same length as that column's first.
  const auto column = [&](int c, std::uint64_t row, std::uint32_t& dim) {
    sqlite3_value* v = sqlite3_column_value(q.get(), c);
    const std::string where = "training query row " + std::to_string(row) + (pairs ? (c ? " (old vector)" : " (new vector)") : "");
    if (sqlite3_value_type(v) == SQLITE_NULL) fail(where + " is NULL; expected a vector");
    std::vector<float> x = vector_arg(v, where);
    if (row == 1) {
      dim = static_cast<std::uint32_t>(x.size());
    } else if (x.size() != dim) {
      throw Error(Errc::mismatch, "training query rows have mixed dimensions" + std::string(pairs ? (c ? " (old vectors)" : " (new vectors)") : "") +
                                      "; row 1 has " + std::to_string(dim) + " floats, row " + std::to_string(row) +
                                      " has " + std::to_string(x.size()));
    }
    return x;
  };
  // Reservoir sampling (Vitter's algorithm R): every row is kept with probability sample / rows.
  const auto reservoir = [&](std::vector<float>& kept, const std::vector<float>& x, std::int64_t slot) {
    if (slot < 0) kept.insert(kept.end(), x.begin(), x.end());
    else std::copy(x.begin(), x.end(), kept.begin() + static_cast<std::ptrdiff_t>(static_cast<std::size_t>(slot) * x.size()));
  };
  int rc;
  while ((rc = sqlite3_step(q.get())) == SQLITE_ROW) {
    const std::uint64_t row = d.rows + 1;
    const std::vector<float> x = column(0, row, d.dim);
    std::vector<float> old;
    if (pairs) old = column(1, row, d.old_dim);
    if (!d.mean) d.mean = std::make_unique<MeanAccumulator>(d.dim);
    d.mean->add(x);
    if (keep) {
      std::int64_t slot = -1;
      if (d.rows >= opt.sample) {
        const std::uint64_t j = std::uniform_int_distribution<std::uint64_t>(0, d.rows)(rng);
        slot = j < opt.sample ? static_cast<std::int64_t>(j) : -2;
      }
      if (slot != -2) {
        reservoir(d.kept, x, slot);
        if (pairs) reservoir(d.kept_old, old, slot);
      }
    }
    ++d.rows;
  }
  if (rc == SQLITE_INTERRUPT) throw Error(Errc::interrupted, "interrupted; no model was stored");
  if (rc != SQLITE_DONE) fail(std::string("training query failed: ") + sqlite3_errmsg(db));
  if (!d.mean) fail("training query returned no rows; expected at least one vector");
  if (keep && d.rows < 2) fail("training query returned 1 row; kind 'mlp' needs at least 2 vectors");
  return d;
}

// Progress lines on stderr (the shell's and a script's terminal), at most one a second, and a
// check for sqlite3_interrupt (Ctrl-C in the shell, Connection.interrupt() in Python): stepping
// a statement while the flag is set fails with SQLITE_INTERRUPT.
class TrainingMonitor {
 public:
  TrainingMonitor(sqlite3* db, std::string name, bool print) : db_(db), name_(std::move(name)), print_(print) {
    probe_ = prepare(db, "SELECT 1");
  }
  bool operator()(const MlpProgress& p) {
    const int rc = sqlite3_step(probe_.get());
    sqlite3_reset(probe_.get());
    if (rc == SQLITE_INTERRUPT) return false;
    if (print_ && (p.seconds - last_ >= 1.0 || p.step == 0)) {
      last_ = p.seconds;
      const double left = p.step ? p.seconds / double(p.step) * double(p.steps - p.step) : 0;
      std::fprintf(stderr, "bebr_train %s: epoch %u/%u, step %llu/%llu, loss %.4f, %.0f s, about %.0f s left\n",
                   name_.c_str(), p.epoch, p.epochs, static_cast<unsigned long long>(p.step),
                   static_cast<unsigned long long>(p.steps), p.loss, p.seconds, left);
    }
    return true;
  }

 private:
  sqlite3* db_;
  std::string name_;
  bool print_;
  Stmt probe_;
  double last_ = -1;
};

void ensure_models_table(sqlite3* db) {
  if (sqlite3_exec(db, kCreateModels, nullptr, nullptr, nullptr) != SQLITE_OK)
    fail(std::string("cannot create bebr_models: ") + sqlite3_errmsg(db));
  // Tables made by bebr 0.1 lack the history column.
  Stmt has = prepare(db, "SELECT 1 FROM pragma_table_info('bebr_models', 'main') WHERE name = 'history'");
  if (sqlite3_step(has.get()) != SQLITE_ROW &&
      sqlite3_exec(db, "ALTER TABLE main.bebr_models ADD COLUMN history TEXT", nullptr, nullptr, nullptr) != SQLITE_OK)
    fail(std::string("cannot add bebr_models.history: ") + sqlite3_errmsg(db));
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
    const TrainOptions opt = parse_options(db, argc > 2 ? argv[2] : nullptr);
    const auto started = std::chrono::steady_clock::now();
    const auto elapsed = [&] {
      return std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    };

    // compatible_with: the old model, checked before any data is read.
    std::shared_ptr<const Binarizer> old;
    if (!opt.compatible_with.empty()) {
      old = load_model_by_name(db, opt.compatible_with);
      const std::string what = "compatible_with names model '" + opt.compatible_with + "'";
      if (old->shape().kind != BinarizerKind::mlp)
        fail(what + ", a " + kind_name(old->shape().kind) + " model; expected an mlp model");
      const ModelHeader om = old->model_header();
      if (om.adapter_hidden)
        fail(what + ", which is itself compatible with another model; name the model that coded the documents");
      if (opt.bits_given && opt.bits != om.bits)
        throw Error(Errc::mismatch, "bits=" + std::to_string(opt.bits) + " but " + what + ", which codes with " +
                                        std::to_string(om.bits) + " bits; leave bits out");
      if (opt.mlp.code_dim && opt.mlp.code_dim != om.dim)
        throw Error(Errc::mismatch, "dim=" + std::to_string(opt.mlp.code_dim) + " but " + what + ", whose codes have " +
                                        std::to_string(om.dim) + " dimensions; leave dim out");
    }
    TrainingData data = read_training_rows(db, argv[1], opt);
    std::string json = "{\"name\":" + json_string(name);
    std::string options = opt.json, history;
    std::shared_ptr<Binarizer> model;
    if (opt.kind == "center") {
      model = std::make_shared<Binarizer>(Binarizer::center(data.mean->mean(), opt.bits));
    } else {
      const std::size_t kept = data.kept.size() / data.dim;
      TrainingMonitor monitor(db, name, opt.progress < 0 ? isatty(2) != 0 : opt.progress == 1);
      const auto run = [&] {
        if (!old) return train_mlp(data.kept, kept, data.dim, opt.mlp, std::ref(monitor));
        if (data.old_dim != old->input_dim())
          throw Error(Errc::mismatch, "the training query's old vectors have " + std::to_string(data.old_dim) +
                                          " floats; model '" + opt.compatible_with + "' takes " + std::to_string(old->input_dim()));
        return train_compatible(data.kept, data.kept_old, kept, data.dim, *old, opt.mlp, std::ref(monitor));
      };
      MlpTraining t = run();
      options = mlp_options_json(opt, t);
      history = "{\"rows\":" + std::to_string(kept) + ",\"epochs\":" + std::to_string(t.epochs) +
                ",\"seconds\":" + number_text(t.seconds) + ",\"loss\":[";
      for (std::size_t e = 0; e < t.loss.size(); ++e) history += (e ? "," : "") + number_text(t.loss[e]);
      history += "]}";
      model = std::make_shared<Binarizer>(std::move(t.model));
    }
    const double seconds = elapsed();
    const sqlite3_int64 version = store_model(db, name, *model, data.dim, options, data.rows, seconds, history);
    json += ",\"version\":" + std::to_string(version) + ",\"kind\":" + json_string(opt.kind) +
            ",\"dim\":" + std::to_string(data.dim) + ",\"bits\":" + std::to_string(model->shape().bits) +
            ",\"rows\":" + std::to_string(data.rows) + ",\"model_id\":" + std::to_string(model->shape().model_id);
    if (opt.kind == "mlp")
      json += ",\"code_dim\":" + std::to_string(model->shape().dim) + ",\"seconds\":" + number_text(seconds) +
              ",\"history\":" + history;
    json += "}";
    sqlite3_result_text(ctx, json.c_str(), -1, SQLITE_TRANSIENT);
  });
}

// bebr_import_model(name, params) -> the stored version: a model BLOB exported from another
// database (SELECT params FROM bebr_models ...) becomes the next version of `name` here. The
// BLOB is checked in full; its model id (its hash) is unchanged, so codes made elsewhere compare.
void fn_import(sqlite3_context* ctx, int, sqlite3_value** argv) noexcept {
  guard_scalar(ctx, "bebr_import_model", [&] {
    sqlite3* db = sqlite3_context_db_handle(ctx);
    if (sqlite3_value_type(argv[0]) != SQLITE_TEXT)
      fail(std::string("first argument (model name) must be text; got ") + type_name(argv[0]));
    if (sqlite3_value_type(argv[1]) != SQLITE_BLOB)
      fail(std::string("second argument must be a model BLOB (bebr_models.params); got ") + type_name(argv[1]));
    const std::string name = text_of(argv[0]);
    if (name.empty() || name.size() > 128) fail("model name must be 1..128 characters; got '" + name + "'");
    const auto* p = static_cast<const std::uint8_t*>(sqlite3_value_blob(argv[1]));
    const Binarizer model = Binarizer::parse({p, static_cast<std::size_t>(sqlite3_value_bytes(argv[1]))});
    const std::string options = std::string("{\"kind\":") + json_string(kind_name(model.shape().kind)) +
                                ",\"bits\":" + std::to_string(model.shape().bits) + ",\"imported\":true}";
    sqlite3_result_int64(ctx, store_model(db, name, model, model.input_dim(), options, 0, 0.0, ""));
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

std::uint32_t compatible_id_of(sqlite3* db, std::uint32_t id) {
  if (!models_table_exists(db)) return 0;
  Stmt s = prepare(db, "SELECT params FROM main.bebr_models WHERE model_id = ?1 LIMIT 1");
  sqlite3_bind_int64(s.get(), 1, id);
  if (sqlite3_step(s.get()) != SQLITE_ROW) return 0;
  return parse_model_header(params_of(s.get(), 0)).compatible_id;  // 0 for center
}

void admit_compatible(sqlite3* db, Connection& conn, const CodeView& a, CodeView& b) {
  if (a.shape.model_id == b.shape.model_id || a.shape.kind != BinarizerKind::mlp || b.shape.kind != BinarizerKind::mlp ||
      a.shape.dim != b.shape.dim || a.shape.bits != b.shape.bits)
    return;
  const auto compatible = [&](std::uint32_t from, std::uint32_t to) {
    return load_model_by_id(db, conn, from)->model_header().compatible_id == to;
  };
  if (compatible(b.shape.model_id, a.shape.model_id) || compatible(a.shape.model_id, b.shape.model_id))
    b.shape.model_id = a.shape.model_id;
}

int register_model_functions(sqlite3* db, const std::shared_ptr<Connection>& conn) {
  // Training runs SQL text and writes: never from a trigger, view or schema.
  for (int nargs : {2, 3})
    if (const int rc = create_function(db, "bebr_train", nargs, SQLITE_DIRECTONLY, conn, fn_train); rc != SQLITE_OK)
      return rc;
  return create_function(db, "bebr_import_model", 2, SQLITE_DIRECTONLY, conn, fn_import);
}

}  // namespace bebr::ext
