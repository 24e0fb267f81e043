// bebr_train(name, select_sql [, options_json]) -> JSON text describing the stored model: the
// options (a JSON object read with SQLite's json_each), the training query's rows (all of them
// for center, a uniform sample for mlp), progress lines and interruption, and the JSON it returns
// and stores with the model (built by SQLite's json_object, ext/json.hpp). The model is stored by
// ext/models.cpp; the training itself is core's (bebr/train.hpp).
//
//   SELECT bebr_train('bible_c', 'SELECT embedding FROM passages', '{"kind":"center","bits":2}');
//   -> {"name":"bible_c","version":1,"kind":"center","dim":1024,"bits":2,"rows":2124,"model_id":...}
//   SELECT bebr_train('bible_m', 'SELECT embedding FROM passages', '{"kind":"mlp","bits":4,"dim":512}');
//   -> {...,"code_dim":512,"seconds":61.2,"history":{"rows":2124,"epochs":10,"seconds":61.1,"loss":[...]}}
#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <limits>
#include <random>
#include <unistd.h>

#include "bebr/train.hpp"
#include "json.hpp"
#include "models.hpp"

namespace bebr::ext {
namespace {

[[noreturn]] void throw_interrupted() { throw Error(Errc::interrupted, "interrupted; no model was stored"); }

struct TrainOptions {
  std::string kind = "center";
  std::uint32_t bits = 1;
  MlpOptions mlp;
  std::uint64_t sample = 50000;  // mlp: rows kept for training (uniform reservoir sample)
  std::string compatible_with;   // mlp: the model whose codes the new model's codes search
  bool bits_given = false;
  int progress = -1;  // -1: when stderr is a terminal
};

// Options come as a JSON object; SQLite's own JSON functions parse it.
TrainOptions parse_options(sqlite3* db, sqlite3_value* options) {
  TrainOptions o;
  if (!options) return o;
  if (sqlite3_value_type(options) != SQLITE_TEXT)
    fail(std::string("third argument must be a JSON object of options; got ") + type_name(options));
  Stmt s = prepare(db, "SELECT json_valid(?1) AND json_type(?1) = 'object'");
  sqlite3_bind_value(s.get(), 1, options);
  if (const int rc = sqlite3_step(s.get()); rc == SQLITE_INTERRUPT) throw_interrupted();
  else if (rc != SQLITE_ROW || sqlite3_column_int(s.get(), 0) != 1)
    fail("third argument must be a JSON object of options such as '{\"kind\":\"center\",\"bits\":2}'; got '" +
         text_of(options) + "'");
  std::vector<std::string> mlp_only;
  Stmt each = prepare(db, "SELECT key, type, value FROM json_each(?1)");
  sqlite3_bind_value(each.get(), 1, options);
  int rc;
  while ((rc = sqlite3_step(each.get())) == SQLITE_ROW) {
    const std::string key = reinterpret_cast<const char*>(sqlite3_column_text(each.get(), 0));
    const std::string type = reinterpret_cast<const char*>(sqlite3_column_text(each.get(), 1));
    const char* text = reinterpret_cast<const char*>(sqlite3_column_text(each.get(), 2));
    const std::string value = text ? text : "null";
    // An integer option in [lo, hi].
    const auto integer = [&](sqlite3_int64 lo, sqlite3_int64 hi) {
      const sqlite3_int64 v = sqlite3_column_int64(each.get(), 2);
      if (type != "integer" || v < lo || v > hi)
        fail("option " + key + " must be an integer in " + std::to_string(lo) + ".." + std::to_string(hi) + "; got " +
             value);
      return v;
    };
    const auto real = [&](double lo, double hi) {
      const double v = sqlite3_column_double(each.get(), 2);
      if ((type != "integer" && type != "real") || !(v > lo && v <= hi))
        fail("option " + key + " must be a number in (" + json_number(lo) + ", " + json_number(hi) + "]; got " + value);
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
      else if (key == "seed")
        o.mlp.seed = static_cast<std::uint64_t>(integer(0, std::numeric_limits<sqlite3_int64>::max()));
      else if (key == "sample")
        o.sample = static_cast<std::uint64_t>(integer(2, std::numeric_limits<sqlite3_int64>::max()));
      else if (key == "compatible_with") {
        if (type != "text" || value.empty()) fail("option compatible_with must be a model name (text); got " + value);
        o.compatible_with = value;
      } else if (key == "lr") o.mlp.lr = real(0, 1);
      else if (key == "tau") o.mlp.tau = real(0, 10);
      else if (key == "similarity") o.mlp.similarity = real(-1e-300, 1000);
      else if (key == "contrastive") o.mlp.contrastive = real(-1e-300, 1000);
      else
        fail("unknown option '" + key +
             "'; expected kind, bits, progress, or for kind mlp: dim, hidden, epochs, "
             "batch, neighbours, lr, tau, similarity, contrastive, seed, threads, sample, compatible_with");
    }
  }
  if (rc == SQLITE_INTERRUPT) throw_interrupted();
  if (rc != SQLITE_DONE) fail_sqlite(db, rc);
  if (o.kind != "center" && o.kind != "mlp") fail("unknown kind '" + o.kind + "'; expected 'center' or 'mlp'");
  if (o.kind == "center") {
    if (!mlp_only.empty()) fail("option " + mlp_only.front() + " applies to kind 'mlp' only");
    return o;
  }
  if (o.mlp.similarity == 0 && o.mlp.contrastive == 0)
    fail("options similarity and contrastive are both 0; nothing to train");
  o.mlp.bits = o.bits;
  return o;
}

// The resolved options of an mlp training, as stored in bebr_models.options.
std::string mlp_options_json(sqlite3* db, const TrainOptions& o, const MlpTraining& t) {
  const ModelHeader m = t.model.model_header();
  JsonObject j;
  j.add("kind", "mlp").add("bits", sqlite3_int64{m.bits}).add("dim", sqlite3_int64{m.dim});
  if (!o.compatible_with.empty())
    j.add("compatible_with", o.compatible_with)
        .add("compatible_id", sqlite3_int64{m.compatible_id})
        .add("adapter_hidden", sqlite3_int64{m.adapter_hidden});
  return j.add("hidden", sqlite3_int64{m.hidden})
      .add("epochs", sqlite3_int64{t.epochs})
      .add("batch", sqlite3_int64{o.mlp.batch})
      .add("neighbours", sqlite3_int64{o.mlp.neighbours})
      .add_number("lr", t.lr)
      .add_number("tau", o.mlp.tau)
      .add_number("similarity", o.mlp.similarity)
      .add_number("contrastive", o.mlp.contrastive)
      .add("seed", static_cast<sqlite3_int64>(o.mlp.seed))
      .add("sample", static_cast<sqlite3_int64>(o.sample))
      .text(db);
}

// Rows of the training query: all of them (center: as a running mean) or a uniform sample of at
// most `sample` rows (mlp).
struct TrainingData {
  std::uint32_t dim = 0, old_dim = 0;
  std::uint64_t rows = 0;  // rows the query returned
  std::unique_ptr<MeanAccumulator> mean;
  std::vector<float> kept, kept_old;  // mlp: sample rows x dim (and x old_dim with compatible_with)
};

// Skips white space, semicolons and SQL comments (-- to the end of the line, /* */).
const char* skip_blank(const char* p) {
  for (;;) {
    if (std::isspace(static_cast<unsigned char>(*p)) || *p == ';') ++p;
    else if (std::strncmp(p, "--", 2) == 0)
      while (*p && *p != '\n') ++p;
    else if (std::strncmp(p, "/*", 2) == 0) {
      const char* end = std::strstr(p + 2, "*/");
      p = end ? end + 2 : p + std::strlen(p);
    } else return p;
  }
}

// While the training query runs, the connection is PRAGMA query_only (as it was before, after):
// a function inside the query that writes (another extension's, PRAGMA optimize through
// pragma_optimize) fails instead of writing.
class QueryOnly {
 public:
  explicit QueryOnly(sqlite3* db) : db_(db) {
    Stmt s = prepare(db, "PRAGMA query_only");
    const int rc = sqlite3_step(s.get());
    if (rc == SQLITE_INTERRUPT) throw_interrupted();
    if (rc != SQLITE_ROW) fail_sqlite(db, rc);
    was_ = sqlite3_column_int(s.get(), 0) != 0;
    if (!was_ && sqlite3_exec(db, "PRAGMA query_only = 1", nullptr, nullptr, nullptr) != SQLITE_OK) {
      // The flag is set as the PRAGMA compiles: an interrupt while it runs leaves it set, and so
      // does the PRAGMA that clears it (which is what ends it).
      const bool interrupted = sqlite3_errcode(db) == SQLITE_INTERRUPT;
      const std::string why = sqlite3_errmsg(db);
      sqlite3_exec(db, "PRAGMA query_only = 0", nullptr, nullptr, nullptr);
      if (interrupted) throw_interrupted();
      fail("cannot make the connection query_only for the training query: " + why);
    }
  }
  ~QueryOnly() {
    if (!was_) sqlite3_exec(db_, "PRAGMA query_only = 0", nullptr, nullptr, nullptr);
  }
  QueryOnly(const QueryOnly&) = delete;
  QueryOnly& operator=(const QueryOnly&) = delete;

 private:
  sqlite3* db_;
  bool was_ = false;
};

// The training query, prepared: one SELECT (WITH and VALUES too), read-only. Nothing else is
// prepared, because preparing some statements acts at once (PRAGMA locking_mode, secure_delete,
// mmap_size, wal_autocheckpoint take effect while they compile), so the first keyword is checked
// before, and what follows the statement must be blanks, semicolons and comments.
Stmt prepare_training_query(sqlite3* db, const std::string& sql) {
  const char* start = skip_blank(sql.c_str());
  const char* word_end = start;
  while (std::isalpha(static_cast<unsigned char>(*word_end))) ++word_end;
  std::string word(start, word_end);
  for (char& c : word) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  if (!*start) fail("training query is empty; expected a SELECT returning one vector column");
  if (word != "SELECT" && word != "WITH" && word != "VALUES")
    fail("training query must be read-only, one SELECT statement; expected SELECT, WITH or VALUES first, got '" +
         std::string(start, std::min<std::size_t>(std::strlen(start), word.empty() ? 1 : 20)) + "'");
  sqlite3_stmt* raw = nullptr;
  const char* tail = nullptr;
  if (sqlite3_prepare_v2(db, start, -1, &raw, &tail) != SQLITE_OK) {
    sqlite3_finalize(raw);
    fail(std::string("training query does not compile: ") + sqlite3_errmsg(db));
  }
  Stmt q(raw);
  if (!q) fail("training query is empty; expected a SELECT returning one vector column");
  if (tail && *skip_blank(tail)) fail("training query must be a single statement");
  if (!sqlite3_stmt_readonly(q.get())) fail("training query must be read-only (a SELECT)");
  return q;
}

TrainingData read_training_rows(sqlite3* db, sqlite3_value* sql_arg, const TrainOptions& opt) {
  const QueryOnly query_only(db);
  Stmt q = prepare_training_query(db, text_of(sql_arg));
  const bool pairs = !opt.compatible_with.empty();
  if (!pairs && sqlite3_column_count(q.get()) != 1)
    fail("training query must return exactly one column (the vectors); it returns " +
         std::to_string(sqlite3_column_count(q.get())));
  if (pairs && sqlite3_column_count(q.get()) != 2)
    fail(
        "with compatible_with the training query must return two columns (each item's new vector, then its "
        "old vector); it returns " +
        std::to_string(sqlite3_column_count(q.get())));

  TrainingData d;
  const bool keep = opt.kind == "mlp";
  std::mt19937_64 rng(opt.mlp.seed);
  // Column c of row `row`: a vector of the same length as that column's first.
  const auto column = [&](int c, std::uint64_t row, std::uint32_t& dim) {
    sqlite3_value* v = sqlite3_column_value(q.get(), c);
    const std::string where =
        "training query row " + std::to_string(row) + (pairs ? (c ? " (old vector)" : " (new vector)") : "");
    if (sqlite3_value_type(v) == SQLITE_NULL) fail(where + " is NULL; expected a vector");
    std::vector<float> x = vector_arg(v, where);
    if (row == 1) {
      dim = static_cast<std::uint32_t>(x.size());
    } else if (x.size() != dim) {
      throw Error(Errc::mismatch, "training query rows have mixed dimensions" +
                                      std::string(pairs ? (c ? " (old vectors)" : " (new vectors)") : "") +
                                      "; row 1 has " + std::to_string(dim) + " floats, row " + std::to_string(row) +
                                      " has " + std::to_string(x.size()));
    }
    return x;
  };
  // Reservoir sampling (Vitter's algorithm R): every row is kept with probability sample / rows.
  const auto reservoir = [&](std::vector<float>& kept, const std::vector<float>& x, std::int64_t slot) {
    if (slot < 0) kept.insert(kept.end(), x.begin(), x.end());
    else
      std::copy(x.begin(), x.end(),
                kept.begin() + static_cast<std::ptrdiff_t>(static_cast<std::size_t>(slot) * x.size()));
  };
  const TrainingQueryScope in_query;
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
  if (rc == SQLITE_INTERRUPT) throw_interrupted();
  if (rc != SQLITE_DONE) fail(std::string("training query failed: ") + sqlite3_errmsg(db));
  if (!d.mean) fail("training query returned no rows; expected at least one vector");
  if (keep && d.rows < 2) fail("training query returned 1 row; kind 'mlp' needs at least 2 vectors");
  return d;
}

// Progress lines on stderr (the shell's and a script's terminal), at most one a second, in every
// phase of a training, and a check for sqlite3_interrupt (Ctrl-C in the shell,
// Connection.interrupt() in Python) at every report: stepping a statement while the flag is set
// fails with SQLITE_INTERRUPT. Core reports at least every ~1e9 operations, so an interrupt acts
// within about a second. The time left is estimated from the steps alone (the phases before
// them are not steps), once one is done.
class TrainingMonitor {
 public:
  TrainingMonitor(sqlite3* db, std::string name, bool print) : name_(std::move(name)), print_(print) {
    probe_ = prepare(db, "SELECT 1");
  }
  bool operator()(const MlpProgress& p) {
    const int rc = sqlite3_step(probe_.get());
    sqlite3_reset(probe_.get());
    if (rc == SQLITE_INTERRUPT) return false;
    if (!print_ || (p.seconds - last_ < 1.0 && p.phase == phase_ && !(p.phase == MlpPhase::steps && p.step == 1)))
      return true;
    last_ = p.seconds;
    phase_ = p.phase;
    if (p.phase != MlpPhase::steps) {
      std::fprintf(stderr, "bebr_train %s: %s, %llu/%llu rows, %.0f s\n", name_.c_str(), phase_name(p.phase),
                   static_cast<unsigned long long>(p.done), static_cast<unsigned long long>(p.total), p.seconds);
      return true;
    }
    std::string loss = "-", left = "";
    char buf[64];
    if (p.epoch_steps) {
      std::snprintf(buf, sizeof buf, "%.4f", p.epoch_loss);
      loss = buf;
    }
    if (p.step) {
      std::snprintf(buf, sizeof buf, ", about %.0f s left", p.phase_seconds / double(p.step) * double(p.steps - p.step));
      left = buf;
    }
    std::fprintf(stderr, "bebr_train %s: epoch %u/%u, step %llu/%llu, loss %s, %.0f s%s\n", name_.c_str(), p.epoch,
                 p.epochs, static_cast<unsigned long long>(p.step), static_cast<unsigned long long>(p.steps),
                 loss.c_str(), p.seconds, left.c_str());
    return true;
  }

 private:
  std::string name_;
  bool print_;
  Stmt probe_;
  double last_ = -1;
  MlpPhase phase_ = MlpPhase::start;
};

// compatible_with: the old model, checked before any data is read; null without the option.
std::shared_ptr<const Binarizer> compatible_model(sqlite3* db, const TrainOptions& opt) {
  if (opt.compatible_with.empty()) return nullptr;
  std::shared_ptr<const Binarizer> old = load_model_by_name(db, opt.compatible_with);
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
  return old;
}

// What a training made, to store: the model, its resolved options and (mlp) its history.
struct Trained {
  std::shared_ptr<const Binarizer> model;
  std::string options, history;  // JSON text; history "" for center
};

Trained train(sqlite3* db, const std::string& name, const TrainOptions& opt, const TrainingData& data,
              const std::shared_ptr<const Binarizer>& old) {
  if (opt.kind == "center")
    return {std::make_shared<Binarizer>(Binarizer::center(data.mean->mean(), opt.bits)),
            JsonObject().add("kind", "center").add("bits", sqlite3_int64{opt.bits}).text(db), ""};
  const std::size_t kept = data.kept.size() / data.dim;
  TrainingMonitor monitor(db, name, opt.progress < 0 ? isatty(2) != 0 : opt.progress == 1);
  const auto run = [&] {
    if (!old) return train_mlp(data.kept, kept, data.dim, opt.mlp, std::ref(monitor));
    if (data.old_dim != old->input_dim())
      throw Error(Errc::mismatch, "the training query's old vectors have " + std::to_string(data.old_dim) +
                                      " floats; model '" + opt.compatible_with + "' takes " +
                                      std::to_string(old->input_dim()));
    return train_compatible(data.kept, data.kept_old, kept, data.dim, *old, opt.mlp, std::ref(monitor));
  };
  MlpTraining t = run();
  std::string options = mlp_options_json(db, opt, t);
  std::string history = JsonObject()
                            .add("rows", static_cast<sqlite3_int64>(kept))
                            .add("epochs", sqlite3_int64{t.epochs})
                            .add_number("seconds", t.seconds)
                            .add_json("loss", json_number_array(t.loss))
                            .text(db);
  return {std::make_shared<Binarizer>(std::move(t.model)), std::move(options), std::move(history)};
}

// bebr_train(name, select_sql [, options_json]) -> JSON text describing the stored model.
void fn_train(sqlite3_context* ctx, int argc, sqlite3_value** argv) noexcept {
  guard_scalar(ctx, "bebr_train", [&] {
    refuse_in_training_query("bebr_train");
    const NestedSql nested("bebr_train");
    sqlite3* db = sqlite3_context_db_handle(ctx);
    for (int i = 0; i < 2; ++i)
      if (sqlite3_value_type(argv[i]) != SQLITE_TEXT)
        fail(std::string(i == 0 ? "first argument (model name)" : "second argument (training query)") +
             " must be text; got " + type_name(argv[i]));
    const std::string name = text_of(argv[0]);
    check_model_name(name);
    const TrainOptions opt = parse_options(db, argc > 2 ? argv[2] : nullptr);
    const auto started = std::chrono::steady_clock::now();
    const std::shared_ptr<const Binarizer> old = compatible_model(db, opt);
    const TrainingData data = read_training_rows(db, argv[1], opt);
    const Trained t = train(db, name, opt, data, old);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    // The answer is built before the model is stored, and nothing that an interrupt can stop runs
    // after it: a stored model is always reported. The version, which storing picks, replaces -1
    // (the first "version":-1 is the key's: a string value escapes its quotes).
    JsonObject out;
    out.add("name", name)
        .add("version", sqlite3_int64{-1})
        .add("kind", opt.kind)
        .add("dim", sqlite3_int64{data.dim})
        .add("bits", sqlite3_int64{t.model->shape().bits})
        .add("rows", static_cast<sqlite3_int64>(data.rows))
        .add("model_id", sqlite3_int64{t.model->shape().model_id});
    if (opt.kind == "mlp")
      out.add("code_dim", sqlite3_int64{t.model->shape().dim})
          .add_number("seconds", seconds)
          .add_json("history", t.history);
    std::string json = out.text(db);
    const sqlite3_int64 version = store_model(db, name, *t.model, data.dim, t.options, data.rows, seconds, t.history);
    constexpr std::string_view kPlaceholder = "\"version\":-1";
    json.replace(json.find(kPlaceholder), kPlaceholder.size(), "\"version\":" + std::to_string(version));
    sqlite3_result_text(ctx, json.c_str(), static_cast<int>(json.size()), SQLITE_TRANSIENT);
  });
}

}  // namespace

int register_train_function(sqlite3* db, const std::shared_ptr<Connection>& conn) {
  // Training runs SQL text and writes: never from a trigger, view or schema.
  for (int nargs : {2, 3})
    if (const int rc = create_function(db, "bebr_train", nargs, SQLITE_DIRECTONLY, conn, fn_train); rc != SQLITE_OK)
      return rc;
  return SQLITE_OK;
}

}  // namespace bebr::ext
