// The bebr virtual table: codes stored in the database, kNN by SDC, optional exact rescoring.
//
//   CREATE VIRTUAL TABLE docs USING bebr(embedding float[1024], bits=2, metric=cosine,
//                                        model='bible_c2', store_vectors=1);
//   INSERT INTO docs(rowid, embedding) VALUES (1, :vec);           -- binarized on insert
//   SELECT rowid, distance FROM docs WHERE embedding MATCH :q AND k = 10;
//   SELECT rowid, distance FROM docs WHERE embedding MATCH :q ORDER BY distance LIMIT 10;
//   SELECT rowid, distance FROM docs WHERE embedding MATCH :q AND k = 10 AND rescore = 40;
//
// Shadow tables (declared in xShadowName): <name>_info(key PRIMARY KEY, value) holds the
// configuration (and the model BLOB, so the table never depends on bebr_models afterwards);
// <name>_codes(rowid INTEGER PRIMARY KEY, code BLOB) one headerless code body per row;
// <name>_vectors(rowid INTEGER PRIMARY KEY, vector BLOB) the float32 vectors when
// store_vectors=1. All writes are plain SQL on them, inside the caller's transaction.
//
// Plan encoding (xBestIndex -> xFilter), idxNum bits:
//   1  kNN: argv[0] = the MATCH query (vector or code)
//   2  k = ? given      (next argv)        4  LIMIT given (next argv; used when k is absent)
//   8  rescore = ? given (next argv)       16 rowid = ? point lookup (argv[0])
//   0  full scan in rowid order
#include <algorithm>
#include <cstring>

#include "bebr/knn.hpp"
#include "bebr/vector.hpp"
#include "common.hpp"

namespace bebr::ext {
namespace {

constexpr const char* kModule = "bebr";
enum Column { kVector = 0, kDistance = 1, kK = 2, kRescore = 3 };
enum Plan { kKnn = 1, kHasK = 2, kHasLimit = 4, kHasRescore = 8, kPoint = 16 };

struct Config {
  std::string column = "embedding";
  std::uint32_t dim = 0;
  std::uint32_t bits = 0;  // 0: not given
  Metric metric = Metric::cosine;
  std::string model_name;
  std::vector<std::uint8_t> model;  // the model BLOB, empty for raw
  bool store_vectors = false;
};

struct Table : sqlite3_vtab {
  sqlite3* db = nullptr;
  std::string schema, name;
  Config cfg;
  std::shared_ptr<const Binarizer> binarizer;

  std::string shadow(const char* suffix) const {
    char* s = sqlite3_mprintf("\"%w\".\"%w_%s\"", schema.c_str(), name.c_str(), suffix);
    std::string out(s);
    sqlite3_free(s);
    return out;
  }
};

struct Cursor : sqlite3_vtab_cursor {
  std::vector<Neighbor> rows;
  bool has_distance = false;
  sqlite3_int64 k = 0, rescore = 0;
  std::size_t at = 0;
};

std::string trim(std::string s) {
  const auto sp = [](unsigned char c) { return std::isspace(c) != 0; };
  while (!s.empty() && sp(s.back())) s.pop_back();
  std::size_t i = 0;
  while (i < s.size() && sp(s[i])) ++i;
  return s.substr(i);
}

std::string unquote(std::string s) {
  if (s.size() >= 2 && (s.front() == '\'' || s.front() == '"') && s.back() == s.front()) s = s.substr(1, s.size() - 2);
  return s;
}

Config parse_declaration(sqlite3* db, int argc, const char* const* argv) {
  Config c;
  bool have_vector = false, have_metric = false, have_store = false, have_model = false;
  for (int i = 3; i < argc; ++i) {
    const std::string arg = trim(argv[i]);
    if (const auto eq = arg.find('='); eq != std::string::npos) {
      const std::string key = trim(arg.substr(0, eq)), value = unquote(trim(arg.substr(eq + 1)));
      const auto once = [&](bool& seen) {
        if (seen) fail("option " + key + " is given twice");
        seen = true;
      };
      if (key == "bits") {
        if (c.bits) fail("option bits is given twice");
        char* end = nullptr;
        const long b = std::strtol(value.c_str(), &end, 10);
        if (value.empty() || *end || b < 1 || b > 8) fail("bits must be an integer in 1..8; got '" + value + "'");
        c.bits = static_cast<std::uint32_t>(b);
      } else if (key == "metric") {
        once(have_metric);
        const auto m = parse_metric(value);
        if (!m) fail("unknown metric '" + value + "'; expected cosine, ip or l2");
        c.metric = *m;
      } else if (key == "model") {
        once(have_model);
        c.model_name = value;
      } else if (key == "store_vectors") {
        once(have_store);
        if (value != "0" && value != "1") fail("store_vectors must be 0 or 1; got '" + value + "'");
        c.store_vectors = value == "1";
      } else {
        fail("unknown option '" + key + "'; expected bits, metric, model or store_vectors");
      }
      continue;
    }
    // A vector column: <name> float[<dim>]
    const auto sp = arg.find_first_of(" \t");
    const std::string col = sp == std::string::npos ? arg : arg.substr(0, sp);
    const std::string type = sp == std::string::npos ? "" : trim(arg.substr(sp));
    std::string lower = type;
    std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char ch) { return std::tolower(ch); });
    if (lower.rfind("float[", 0) != 0 || lower.back() != ']')
      fail("column '" + arg + "' is not supported; expected a vector column such as 'embedding float[768]' "
           "(metadata and auxiliary columns are not available yet)");
    if (have_vector) fail("only one vector column is supported; got a second, '" + col + "'");
    const std::string digits = lower.substr(6, lower.size() - 7);
    char* end = nullptr;
    const long dim = std::strtol(digits.c_str(), &end, 10);
    if (digits.empty() || *end || dim < 1 || dim > kMaxDim)
      fail("vector dimension must be in 1.." + std::to_string(kMaxDim) + "; got '" + digits + "'");
    c.column = unquote(col);
    c.dim = static_cast<std::uint32_t>(dim);
    have_vector = true;
  }
  if (!have_vector) fail("expected a vector column such as 'embedding float[768]'");
  if (have_model) {
    const auto model = load_model_by_name(db, c.model_name);
    if (model->shape().dim != c.dim)
      throw Error(Errc::mismatch, "model '" + c.model_name + "' has dimension " + std::to_string(model->shape().dim) +
                                      "; the table's vector column has " + std::to_string(c.dim));
    if (c.bits && c.bits != model->shape().bits)
      throw Error(Errc::mismatch, "bits=" + std::to_string(c.bits) + " but model '" + c.model_name + "' codes with " +
                                      std::to_string(model->shape().bits) + " bits; leave bits out to use the model's");
    c.bits = model->shape().bits;
    c.model = model->serialize();
  }
  if (!c.bits) c.bits = 1;
  return c;
}

void exec(sqlite3* db, const std::string& sql) {
  char* err = nullptr;
  if (sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
    std::string msg = err ? err : "?";
    sqlite3_free(err);
    fail(msg);
  }
}

void write_info(Table& t) {
  exec(t.db, "CREATE TABLE " + t.shadow("info") + "(key TEXT PRIMARY KEY, value) WITHOUT ROWID");
  exec(t.db, "CREATE TABLE " + t.shadow("codes") + "(rowid INTEGER PRIMARY KEY, code BLOB NOT NULL)");
  if (t.cfg.store_vectors) exec(t.db, "CREATE TABLE " + t.shadow("vectors") + "(rowid INTEGER PRIMARY KEY, vector BLOB NOT NULL)");
  Stmt s = prepare(t.db, "INSERT INTO " + t.shadow("info") + "(key, value) VALUES (?1, ?2)");
  const auto put_text = [&](const char* k, const std::string& v) {
    sqlite3_bind_text(s.get(), 1, k, -1, SQLITE_STATIC);
    sqlite3_bind_text(s.get(), 2, v.c_str(), -1, SQLITE_TRANSIENT);
    if (sqlite3_step(s.get()) != SQLITE_DONE) fail(sqlite3_errmsg(t.db));
    sqlite3_reset(s.get());
  };
  put_text("format", "1");
  put_text("column", t.cfg.column);
  put_text("dim", std::to_string(t.cfg.dim));
  put_text("bits", std::to_string(t.cfg.bits));
  put_text("metric", metric_name(t.cfg.metric));
  put_text("store_vectors", t.cfg.store_vectors ? "1" : "0");
  put_text("model_name", t.cfg.model_name);
  sqlite3_bind_text(s.get(), 1, "model", -1, SQLITE_STATIC);
  sqlite3_bind_blob64(s.get(), 2, t.cfg.model.data(), t.cfg.model.size(), SQLITE_TRANSIENT);
  if (sqlite3_step(s.get()) != SQLITE_DONE) fail(sqlite3_errmsg(t.db));
}

void read_info(Table& t) {
  Stmt s = prepare(t.db, "SELECT key, value FROM " + t.shadow("info"));
  while (sqlite3_step(s.get()) == SQLITE_ROW) {
    const std::string key = reinterpret_cast<const char*>(sqlite3_column_text(s.get(), 0));
    const char* v = reinterpret_cast<const char*>(sqlite3_column_text(s.get(), 1));
    const std::string value = v ? v : "";
    if (key == "column") t.cfg.column = value;
    else if (key == "dim") t.cfg.dim = static_cast<std::uint32_t>(std::stoul(value));
    else if (key == "bits") t.cfg.bits = static_cast<std::uint32_t>(std::stoul(value));
    else if (key == "metric") t.cfg.metric = parse_metric(value).value_or(Metric::cosine);
    else if (key == "store_vectors") t.cfg.store_vectors = value == "1";
    else if (key == "model_name") t.cfg.model_name = value;
    else if (key == "model") {
      const auto* p = static_cast<const std::uint8_t*>(sqlite3_column_blob(s.get(), 1));
      t.cfg.model.assign(p, p + sqlite3_column_bytes(s.get(), 1));
    }
  }
  if (t.cfg.dim < 1 || t.cfg.bits < 1 || t.cfg.bits > kMaxBits)
    throw Error(Errc::corrupt, "the table's " + t.name + "_info shadow table is missing or corrupt");
}

int x_init(sqlite3* db, int argc, const char* const* argv, sqlite3_vtab** out, char** err, bool create) {
  auto t = std::make_unique<Table>();
  std::memset(static_cast<sqlite3_vtab*>(t.get()), 0, sizeof(sqlite3_vtab));
  try {
    t->db = db;
    t->schema = argv[1];
    t->name = argv[2];
    if (create) {
      t->cfg = parse_declaration(db, argc, argv);
      write_info(*t);
    } else {
      read_info(*t);
    }
    t->binarizer = t->cfg.model.empty() ? std::make_shared<Binarizer>(Binarizer::raw(t->cfg.dim, t->cfg.bits))
                                        : std::make_shared<Binarizer>(Binarizer::parse(t->cfg.model));
    char* decl = sqlite3_mprintf("CREATE TABLE x(\"%w\" BLOB, distance REAL HIDDEN, k INTEGER HIDDEN, rescore INTEGER HIDDEN)",
                                 t->cfg.column.c_str());
    const int rc = sqlite3_declare_vtab(db, decl);
    sqlite3_free(decl);
    if (rc != SQLITE_OK) fail(std::string("cannot declare the table: ") + sqlite3_errmsg(db));
    sqlite3_vtab_config(db, SQLITE_VTAB_CONSTRAINT_SUPPORT, 1);
  } catch (const Error& e) {
    *err = sqlite3_mprintf("%s: %s", kModule, e.what());
    return SQLITE_ERROR;
  } catch (const std::bad_alloc&) {
    return SQLITE_NOMEM;
  } catch (const std::exception& e) {
    *err = sqlite3_mprintf("bebr internal error: %s", e.what());
    return SQLITE_ERROR;
  }
  *out = t.release();
  return SQLITE_OK;
}

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
    for (const char* s : {"info", "codes", "vectors"}) exec(t->db, "DROP TABLE IF EXISTS " + t->shadow(s));
    return SQLITE_OK;
  });
  if (rc == SQLITE_OK) delete t;
  return rc;
}

int x_best_index(sqlite3_vtab*, sqlite3_index_info* info) noexcept {
  int match = -1, k = -1, limit = -1, rescore = -1, rowid = -1;
  for (int i = 0; i < info->nConstraint; ++i) {
    const auto& c = info->aConstraint[i];
    if (!c.usable) continue;
    if (c.op == SQLITE_INDEX_CONSTRAINT_MATCH && c.iColumn == kVector) match = i;
    else if (c.op == SQLITE_INDEX_CONSTRAINT_EQ && c.iColumn == kK) k = i;
    else if (c.op == SQLITE_INDEX_CONSTRAINT_EQ && c.iColumn == kRescore) rescore = i;
    else if (c.op == SQLITE_INDEX_CONSTRAINT_LIMIT) limit = i;
    else if (c.op == SQLITE_INDEX_CONSTRAINT_EQ && c.iColumn == -1) rowid = i;
  }
  int argv = 0;
  const auto use = [&](int i) {
    info->aConstraintUsage[i].argvIndex = ++argv;
    info->aConstraintUsage[i].omit = 1;
  };
  if (match >= 0) {
    int plan = kKnn;
    use(match);
    if (k >= 0) {
      plan |= kHasK;
      use(k);
    } else if (limit >= 0) {
      plan |= kHasLimit;
      use(limit);
    }
    if (rescore >= 0) {
      plan |= kHasRescore;
      use(rescore);
    }
    info->idxNum = plan;
    info->estimatedCost = 1000;
    if (info->nOrderBy == 1 && info->aOrderBy[0].iColumn == kDistance && !info->aOrderBy[0].desc)
      info->orderByConsumed = 1;
    return SQLITE_OK;
  }
  for (int i = 0; i < info->nConstraint; ++i)  // MATCH, k or rescore that cannot be used now
    if (info->aConstraint[i].iColumn == kVector && info->aConstraint[i].op == SQLITE_INDEX_CONSTRAINT_MATCH)
      return SQLITE_CONSTRAINT;
  if (rowid >= 0) {
    use(rowid);
    info->idxNum = kPoint;
    info->estimatedCost = 1;
    info->estimatedRows = 1;
    info->idxFlags = SQLITE_INDEX_SCAN_UNIQUE;
    return SQLITE_OK;
  }
  info->idxNum = 0;
  info->estimatedCost = 1e6;
  if (info->nOrderBy == 1 && info->aOrderBy[0].iColumn == -1 && !info->aOrderBy[0].desc) info->orderByConsumed = 1;
  return SQLITE_OK;
}

int x_open(sqlite3_vtab*, sqlite3_vtab_cursor** out) noexcept {
  auto* c = new (std::nothrow) Cursor();
  if (!c) return SQLITE_NOMEM;
  *out = c;
  return SQLITE_OK;
}

int x_close(sqlite3_vtab_cursor* c) noexcept {
  delete static_cast<Cursor*>(c);
  return SQLITE_OK;
}

// The MATCH operand: a code of the table's shape, or a vector binarized with its binarizer.
std::vector<std::uint8_t> query_code(const Table& t, sqlite3_value* v) {
  if (sqlite3_value_type(v) == SQLITE_BLOB && sqlite3_value_bytes(v) >= 4 &&
      std::memcmp(sqlite3_value_blob(v), "BEBR", 4) == 0) {
    const CodeView c = code_arg(v, "MATCH query");
    require_same_shape(t.binarizer->shape(), c.shape);
    const auto* p = static_cast<const std::uint8_t*>(sqlite3_value_blob(v));
    return std::vector<std::uint8_t>(p, p + sqlite3_value_bytes(v));
  }
  if (sqlite3_value_type(v) == SQLITE_NULL) fail("MATCH query is NULL; expected a vector of " + std::to_string(t.cfg.dim) + " floats");
  const std::vector<float> x = vector_arg(v, "MATCH query");
  if (x.size() != t.cfg.dim)
    throw Error(Errc::mismatch, "MATCH query has " + std::to_string(x.size()) + " floats; expected " +
                                    std::to_string(t.cfg.dim) + ", the dimension of column " + t.cfg.column);
  return t.binarizer->encode_blob(x);
}

sqlite3_int64 count_arg(sqlite3_value* v, const char* what) {
  if (sqlite3_value_type(v) != SQLITE_INTEGER)
    fail(std::string(what) + " must be an integer; got " + type_name(v));
  const sqlite3_int64 n = sqlite3_value_int64(v);
  if (n < 0) fail(std::string(what) + " must be >= 0; got " + std::to_string(n));
  return n;
}

void knn(Table& t, Cursor& cur, int plan, sqlite3_value** argv) {
  int a = 0;
  const std::vector<std::uint8_t> q = query_code(t, argv[a++]);
  if (!(plan & (kHasK | kHasLimit)))
    fail("a kNN query needs 'k = N' with 'MATCH' ('ORDER BY distance LIMIT N' needs SQLite 3.41 or later)");
  cur.k = count_arg(argv[a++], plan & kHasK ? "k" : "LIMIT");
  cur.rescore = plan & kHasRescore ? count_arg(argv[a++], "rescore") : 0;
  if (cur.rescore && !t.cfg.store_vectors)
    fail("rescore needs the float vectors; create the table with store_vectors=1");
  const CodeView qv = parse_code(q, "MATCH query");
  const SdcQuery sdc(qv, t.cfg.metric);
  const std::size_t keep = static_cast<std::size_t>(std::max(cur.k, cur.rescore));
  TopK top(keep);
  Stmt s = prepare(t.db, "SELECT rowid, code FROM " + t.shadow("codes"));
  const std::size_t body = body_bytes(t.binarizer->shape());
  int rc;
  while ((rc = sqlite3_step(s.get())) == SQLITE_ROW) {
    if (static_cast<std::size_t>(sqlite3_column_bytes(s.get(), 1)) != body)
      throw Error(Errc::corrupt, "a stored code has the wrong size; the " + t.name + "_codes shadow table is corrupt");
    double d;
    sdc.distances(static_cast<const std::uint8_t*>(sqlite3_column_blob(s.get(), 1)), body, 1, &d);
    top.push(d, sqlite3_column_int64(s.get(), 0));
  }
  if (rc != SQLITE_DONE) fail(sqlite3_errmsg(t.db));
  cur.rows = top.take();
  if (cur.rescore) {
    // A code query is rescored against its reconstruction, a vector query against itself.
    const bool code_query = sqlite3_value_type(argv[0]) == SQLITE_BLOB &&
                            std::memcmp(sqlite3_value_blob(argv[0]), "BEBR", 4) == 0;
    const std::vector<float> qf = code_query ? t.binarizer->decode(qv) : vector_arg(argv[0], "MATCH query");
    Stmt v = prepare(t.db, "SELECT vector FROM " + t.shadow("vectors") + " WHERE rowid = ?1");
    for (Neighbor& n : cur.rows) {
      sqlite3_bind_int64(v.get(), 1, n.rowid);
      if (sqlite3_step(v.get()) != SQLITE_ROW) throw Error(Errc::corrupt, "a stored vector is missing");
      const auto* p = static_cast<const std::uint8_t*>(sqlite3_column_blob(v.get(), 0));
      const std::vector<float> f = floats_from_blob({p, static_cast<std::size_t>(sqlite3_column_bytes(v.get(), 0))});
      n.distance = float_distance(qf, f, t.cfg.metric);
      sqlite3_reset(v.get());
    }
    std::sort(cur.rows.begin(), cur.rows.end());
  }
  if (cur.rows.size() > static_cast<std::size_t>(cur.k)) cur.rows.resize(static_cast<std::size_t>(cur.k));
  cur.has_distance = true;
}

int x_filter(sqlite3_vtab_cursor* base, int plan, const char*, int, sqlite3_value** argv) noexcept {
  auto* cur = static_cast<Cursor*>(base);
  auto& t = *static_cast<Table*>(cur->pVtab);
  return guard_vtab(cur->pVtab, kModule, [&] {
    cur->rows.clear();
    cur->at = 0;
    cur->has_distance = false;
    if (plan & kKnn) {
      knn(t, *cur, plan, argv);
      return SQLITE_OK;
    }
    Stmt s = plan & kPoint ? prepare(t.db, "SELECT rowid FROM " + t.shadow("codes") + " WHERE rowid = ?1")
                           : prepare(t.db, "SELECT rowid FROM " + t.shadow("codes") + " ORDER BY rowid");
    if (plan & kPoint) sqlite3_bind_value(s.get(), 1, argv[0]);
    while (sqlite3_step(s.get()) == SQLITE_ROW) cur->rows.push_back({0.0, sqlite3_column_int64(s.get(), 0)});
    return SQLITE_OK;
  });
}

int x_next(sqlite3_vtab_cursor* c) noexcept {
  ++static_cast<Cursor*>(c)->at;
  return SQLITE_OK;
}
int x_eof(sqlite3_vtab_cursor* c) noexcept {
  auto* cur = static_cast<Cursor*>(c);
  return cur->at >= cur->rows.size();
}

int x_column(sqlite3_vtab_cursor* base, sqlite3_context* ctx, int col) noexcept {
  auto* cur = static_cast<Cursor*>(base);
  auto& t = *static_cast<Table*>(cur->pVtab);
  return guard_vtab(cur->pVtab, kModule, [&] {
    const Neighbor& n = cur->rows[cur->at];
    switch (col) {
      case kVector: {
        if (!t.cfg.store_vectors) {
          sqlite3_result_null(ctx);
          break;
        }
        Stmt s = prepare(t.db, "SELECT vector FROM " + t.shadow("vectors") + " WHERE rowid = ?1");
        sqlite3_bind_int64(s.get(), 1, n.rowid);
        if (sqlite3_step(s.get()) == SQLITE_ROW) sqlite3_result_value(ctx, sqlite3_column_value(s.get(), 0));
        break;
      }
      case kDistance:
        if (cur->has_distance) sqlite3_result_double(ctx, n.distance);
        break;
      case kK:
        if (cur->has_distance) sqlite3_result_int64(ctx, cur->k);
        break;
      case kRescore:
        if (cur->has_distance) sqlite3_result_int64(ctx, cur->rescore);
        break;
    }
    return SQLITE_OK;
  });
}

int x_rowid(sqlite3_vtab_cursor* c, sqlite3_int64* rowid) noexcept {
  auto* cur = static_cast<Cursor*>(c);
  *rowid = cur->rows[cur->at].rowid;
  return SQLITE_OK;
}

void delete_row(Table& t, sqlite3_int64 rowid) {
  for (const char* s : {"codes", "vectors"}) {
    if (std::string(s) == "vectors" && !t.cfg.store_vectors) continue;
    Stmt d = prepare(t.db, "DELETE FROM " + t.shadow(s) + " WHERE rowid = ?1");
    sqlite3_bind_int64(d.get(), 1, rowid);
    if (sqlite3_step(d.get()) != SQLITE_DONE) fail(sqlite3_errmsg(t.db));
  }
}

bool row_exists(Table& t, sqlite3_int64 rowid) {
  Stmt s = prepare(t.db, "SELECT 1 FROM " + t.shadow("codes") + " WHERE rowid = ?1");
  sqlite3_bind_int64(s.get(), 1, rowid);
  return sqlite3_step(s.get()) == SQLITE_ROW;
}

int x_update(sqlite3_vtab* v, int argc, sqlite3_value** argv, sqlite3_int64* out_rowid) noexcept {
  auto& t = *static_cast<Table*>(v);
  return guard_vtab(v, kModule, [&] {
    if (argc == 1) {
      delete_row(t, sqlite3_value_int64(argv[0]));
      return SQLITE_OK;
    }
    for (int c = kDistance; c <= kRescore; ++c)
      if (sqlite3_value_type(argv[2 + c]) != SQLITE_NULL)
        fail("the hidden columns distance, k and rescore are for queries; they cannot be written");
    sqlite3_value* vec = argv[2 + kVector];
    if (sqlite3_value_type(vec) == SQLITE_NULL) fail("column " + t.cfg.column + " must not be NULL; expected a vector");
    const std::vector<float> x = vector_arg(vec, "column " + t.cfg.column);
    if (x.size() != t.cfg.dim)
      throw Error(Errc::mismatch, "column " + t.cfg.column + " has " + std::to_string(x.size()) + " floats; expected " +
                                      std::to_string(t.cfg.dim));
    const bool is_update = sqlite3_value_type(argv[0]) != SQLITE_NULL;
    const bool rowid_given = sqlite3_value_type(argv[1]) != SQLITE_NULL;
    if (rowid_given && sqlite3_value_type(argv[1]) != SQLITE_INTEGER)
      fail(std::string("rowid must be an integer; got ") + type_name(argv[1]));
    sqlite3_int64 rowid = rowid_given ? sqlite3_value_int64(argv[1]) : 0;
    if (is_update) {
      const sqlite3_int64 old = sqlite3_value_int64(argv[0]);
      if (rowid != old && row_exists(t, rowid)) {
        if (sqlite3_vtab_on_conflict(t.db) != SQLITE_REPLACE) return SQLITE_CONSTRAINT;
        delete_row(t, rowid);
      }
      delete_row(t, old);
    } else if (rowid_given && row_exists(t, rowid)) {
      if (sqlite3_vtab_on_conflict(t.db) != SQLITE_REPLACE) {
        sqlite3_free(v->zErrMsg);
        v->zErrMsg = sqlite3_mprintf("UNIQUE constraint failed: %s.rowid", t.name.c_str());
        return SQLITE_CONSTRAINT;
      }
      delete_row(t, rowid);
    }
    std::vector<std::uint8_t> body(body_bytes(t.binarizer->shape()));
    t.binarizer->encode_body(x, body.data());
    Stmt ins = prepare(t.db, "INSERT INTO " + t.shadow("codes") + "(rowid, code) VALUES (?1, ?2)");
    if (rowid_given) sqlite3_bind_int64(ins.get(), 1, rowid);
    sqlite3_bind_blob64(ins.get(), 2, body.data(), body.size(), SQLITE_TRANSIENT);
    if (sqlite3_step(ins.get()) != SQLITE_DONE) fail(sqlite3_errmsg(t.db));
    rowid = sqlite3_last_insert_rowid(t.db);
    if (t.cfg.store_vectors) {
      std::vector<std::uint8_t> bytes(4 * x.size());
      for (std::size_t j = 0; j < x.size(); ++j) store_f32(bytes.data() + 4 * j, x[j]);
      Stmt vi = prepare(t.db, "INSERT INTO " + t.shadow("vectors") + "(rowid, vector) VALUES (?1, ?2)");
      sqlite3_bind_int64(vi.get(), 1, rowid);
      sqlite3_bind_blob64(vi.get(), 2, bytes.data(), bytes.size(), SQLITE_TRANSIENT);
      if (sqlite3_step(vi.get()) != SQLITE_DONE) fail(sqlite3_errmsg(t.db));
    }
    *out_rowid = rowid;
    return SQLITE_OK;
  });
}

int x_rename(sqlite3_vtab* v, const char* new_name) noexcept {
  auto& t = *static_cast<Table*>(v);
  return guard_vtab(v, kModule, [&] {
    for (const char* s : {"info", "codes", "vectors"}) {
      if (std::string(s) == "vectors" && !t.cfg.store_vectors) continue;
      char* sql = sqlite3_mprintf("ALTER TABLE \"%w\".\"%w_%s\" RENAME TO \"%w_%s\"", t.schema.c_str(), t.name.c_str(), s,
                                  new_name, s);
      std::string q(sql);
      sqlite3_free(sql);
      exec(t.db, q);
    }
    t.name = new_name;
    return SQLITE_OK;
  });
}

int x_shadow_name(const char* suffix) noexcept {
  for (const char* s : {"info", "codes", "vectors"})
    if (sqlite3_stricmp(suffix, s) == 0) return 1;
  return 0;
}

sqlite3_module make_module() {
  sqlite3_module m{};
  m.iVersion = 3;
  m.xCreate = x_create;
  m.xConnect = x_connect;
  m.xBestIndex = x_best_index;
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
  m.xRename = x_rename;
  m.xShadowName = x_shadow_name;
  return m;
}

const sqlite3_module kBebrModule = make_module();

}  // namespace

int register_bebr_table(sqlite3* db) { return sqlite3_create_module(db, kModule, &kBebrModule, nullptr); }

}  // namespace bebr::ext
