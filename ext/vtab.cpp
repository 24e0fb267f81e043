// The bebr virtual table: codes stored in the database in chunks, kNN by SDC over a resident
// cache, filters on metadata inside the scan, optional exact rescoring.
//
//   CREATE VIRTUAL TABLE docs USING bebr(embedding float[1024], book text, chapter integer,
//                                        +passage text, model='bible_c2', store_vectors=1);
//   INSERT INTO docs(rowid, embedding, book, chapter, passage) VALUES (...);
//   SELECT rowid, distance, passage FROM docs
//    WHERE embedding MATCH :q AND k = 10 AND book IN ('John', 'Mark') AND rescore = 40;
//   INSERT INTO docs(docs) VALUES ('optimize');   -- compact the chunks
//
// Storage is in table_store.{hpp,cpp}; docs/architecture.md documents the shadow tables and
// the plan encoding below.
//
// Plan encoding (xBestIndex -> xFilter). idxNum bits:
//   1  kNN: argv[0] = the MATCH query (vector or code)
//   2  k = ? given       (next argv)        4  LIMIT given (next argv; used when k is absent)
//   neither 2 nor 4: every row streamed nearest first (ORDER BY distance LIMIT on SQLite 3.40)
//   8  rescore = ? given (next argv)       16 rowid = ? point lookup (argv[0])
//   32 k or rescore without MATCH: an error
//   0  full scan in rowid order
// With bit 1, idxStr lists the filters whose values follow in argv, in order, as "<op><column>,"
// where op is one of = ! < { > } (=, !=, <, <=, >, >=) or I (IN, all values at once) and column
// is a metadata column index or -1 for the rowid.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "bebr/knn.hpp"
#include "bebr/vector.hpp"
#include "store/store.hpp"

namespace bebr::ext {
namespace {

constexpr const char* kModule = "bebr";
enum Column { kVector = 0, kDistance = 1, kK = 2, kRescore = 3, kCommand = 4, kFirstMeta = 5 };
enum Plan { kKnn = 1, kHasK = 2, kHasLimit = 4, kHasRescore = 8, kPoint = 16, kMisuse = 32 };

struct Table : sqlite3_vtab {
  std::unique_ptr<Store> store;
  sqlite3* db = nullptr;
  std::string schema;
  std::shared_ptr<const Binarizer> binarizer;
  std::vector<std::uint32_t> compatible_ids;  // models recorded compatible with ours, seen so far
  const TableConfig& cfg() const { return store->config(); }
  int first_aux() const { return kFirstMeta + static_cast<int>(cfg().metadata.size()); }
};

struct Cursor : sqlite3_vtab_cursor {
  std::vector<Neighbor> rows;  // kNN and point results; a min-heap when `stream`
  bool stream = false;         // kNN without k: every row, nearest first, popped one by one
  Stmt scan;                   // full scan: rowid, metadata..., auxiliary...
  bool scan_done = false;
  Stmt fetch;                  // one row's rowid, metadata..., auxiliary...
  std::int64_t fetched = 0;
  bool has_fetched = false;
  Stmt vector;
  bool has_distance = false;
  sqlite3_int64 k = 0, rescore = 0;
  std::size_t at = 0;
};

// ---- Declaration ------------------------------------------------------------------------------

std::string trim(std::string s) {
  const auto sp = [](unsigned char c) { return std::isspace(c) != 0; };
  while (!s.empty() && sp(s.back())) s.pop_back();
  std::size_t i = 0;
  while (i < s.size() && sp(s[i])) ++i;
  return s.substr(i);
}

std::string unquote(std::string s) {
  if (s.size() >= 2 && (s.front() == '\'' || s.front() == '"' || s.front() == '`') && s.back() == s.front())
    s = s.substr(1, s.size() - 2);
  else if (s.size() >= 2 && s.front() == '[' && s.back() == ']')
    s = s.substr(1, s.size() - 2);
  return s;
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char ch) { return std::tolower(ch); });
  return s;
}

// "name type" -> (name, type); the name may be quoted.
std::pair<std::string, std::string> split_column(const std::string& arg) {
  if (!arg.empty() && (arg[0] == '"' || arg[0] == '`' || arg[0] == '[')) {
    const char close = arg[0] == '[' ? ']' : arg[0];
    const auto end = arg.find(close, 1);
    if (end == std::string::npos) fail("unterminated column name in '" + arg + "'");
    return {arg.substr(1, end - 1), trim(arg.substr(end + 1))};
  }
  const auto sp = arg.find_first_of(" \t\n");
  if (sp == std::string::npos) return {arg, ""};
  return {arg.substr(0, sp), trim(arg.substr(sp))};
}

std::uint32_t parse_uint(const std::string& key, const std::string& value, long lo, long hi) {
  char* end = nullptr;
  const long n = std::strtol(value.c_str(), &end, 10);
  if (value.empty() || *end || n < lo || n > hi)
    fail(key + " must be an integer in " + std::to_string(lo) + ".." + std::to_string(hi) + "; got '" + value + "'");
  return static_cast<std::uint32_t>(n);
}

bool parse_flag(const std::string& key, const std::string& value) {
  if (value != "0" && value != "1") fail(key + " must be 0 or 1; got '" + value + "'");
  return value == "1";
}

// Names that no declared column may take (the table's own name is the command column).
void check_names(const TableConfig& c, const std::string& table) {
  std::vector<std::string> names{lower(c.column), "distance", "k", "rescore", lower(table)};
  const auto add = [&](const std::string& n) {
    const std::string l = lower(n);
    if (std::find(names.begin(), names.end(), l) != names.end()) {
      if (l == lower(table)) fail("a column may not be named '" + n + "' like the table: that name is the command column");
      fail("column name '" + n + "' is used twice (distance, k and rescore are reserved)");
    }
    names.push_back(l);
  };
  for (const auto& m : c.metadata) add(m.name);
  for (const auto& a : c.auxiliary) add(a.name);
}

TableConfig parse_declaration(sqlite3* db, const std::string& table, int argc, const char* const* argv) {
  TableConfig c;
  bool have_vector = false, have_metric = false, have_store = false, have_model = false, have_chunk = false,
       have_cache = false;
  for (int i = 3; i < argc; ++i) {
    const std::string arg = trim(argv[i]);
    if (arg.empty()) fail("empty argument in the declaration");
    if (const auto eq = arg.find('='); eq != std::string::npos && arg[0] != '+') {
      const std::string key = lower(trim(arg.substr(0, eq))), value = unquote(trim(arg.substr(eq + 1)));
      const auto once = [&](bool& seen) {
        if (seen) fail("option " + key + " is given twice");
        seen = true;
      };
      if (key == "bits") {
        if (c.bits) fail("option bits is given twice");
        c.bits = parse_uint("bits", value, 1, kMaxBits);
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
        c.store_vectors = parse_flag(key, value);
      } else if (key == "chunk_size") {
        once(have_chunk);
        c.chunk_size = parse_uint("chunk_size", value, 64, 65536);
        if (c.chunk_size % 64) fail("chunk_size must be a multiple of 64; got " + value);
      } else if (key == "cache") {
        once(have_cache);
        c.cache = parse_flag(key, value);
      } else {
        fail("unknown option '" + key + "'; expected bits, metric, model, store_vectors, chunk_size or cache");
      }
      continue;
    }
    if (arg[0] == '+') {  // auxiliary column: +name [type]
      auto [name, type] = split_column(trim(arg.substr(1)));
      if (name.empty()) fail("auxiliary column '" + arg + "' has no name");
      const std::string t = lower(type);
      ColumnDef d{name, ColumnType::any};
      if (t == "text") d.type = ColumnType::text;
      else if (t == "integer" || t == "int") d.type = ColumnType::integer;
      else if (t == "float" || t == "real" || t == "double") d.type = ColumnType::real;
      else if (t == "blob" || t.empty() || t == "any") d.type = ColumnType::any;
      else fail("auxiliary column '" + name + "' has unknown type '" + type + "'; expected text, integer, float, blob or none");
      c.auxiliary.push_back(d);
      continue;
    }
    auto [name, type] = split_column(arg);
    const std::string t = lower(type);
    if (t.rfind("float[", 0) == 0 && t.back() == ']') {
      if (have_vector) fail("only one vector column is supported; got a second, '" + name + "'");
      const std::string digits = t.substr(6, t.size() - 7);
      c.dim = parse_uint("vector dimension", digits, 1, kMaxDim);
      c.column = name;
      have_vector = true;
      continue;
    }
    ColumnDef d{name, ColumnType::any};
    if (t == "integer" || t == "int") d.type = ColumnType::integer;
    else if (t == "float" || t == "real" || t == "double") d.type = ColumnType::real;
    else if (t == "text") d.type = ColumnType::text;
    else if (t == "boolean" || t == "bool") d.type = ColumnType::boolean;
    else
      fail("column '" + arg + "' is not supported; expected a vector column ('embedding float[768]'), a metadata "
           "column ('name integer|float|text|boolean') or an auxiliary column ('+name [type]')");
    c.metadata.push_back(d);
  }
  if (!have_vector) fail("expected a vector column such as 'embedding float[768]'");
  check_names(c, table);
  if (have_model) {
    const auto model = load_model_by_name(db, c.model_name);
    if (model->input_dim() != c.dim)
      throw Error(Errc::mismatch, "model '" + c.model_name + "' has dimension " + std::to_string(model->input_dim()) +
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

std::string declared_type(ColumnType t) {
  switch (t) {
    case ColumnType::integer: case ColumnType::boolean: return " INTEGER";
    case ColumnType::real: return " REAL";
    case ColumnType::text: return " TEXT";
    case ColumnType::any: return "";
  }
  return "";
}

int x_init(sqlite3* db, int argc, const char* const* argv, sqlite3_vtab** out, char** err, bool create) {
  auto t = std::make_unique<Table>();
  std::memset(static_cast<sqlite3_vtab*>(t.get()), 0, sizeof(sqlite3_vtab));
  try {
    t->db = db;
    t->schema = argv[1];
    const std::string name = argv[2];
    TableConfig cfg = create ? parse_declaration(db, name, argc, argv) : Store::read_config(db, argv[1], name);
    t->binarizer = cfg.model.empty() ? std::make_shared<Binarizer>(Binarizer::raw(cfg.dim, cfg.bits))
                                     : std::make_shared<Binarizer>(Binarizer::parse(cfg.model));
    t->store = std::make_unique<Store>(db, t->schema, name, cfg, t->binarizer);
    if (create) t->store->create();
    std::string decl = "CREATE TABLE x(\"" + cfg.column + "\" BLOB, distance REAL HIDDEN, k INTEGER HIDDEN, "
                       "rescore INTEGER HIDDEN, \"" + name + "\" HIDDEN";
    for (const auto& m : cfg.metadata) decl += ", \"" + m.name + "\"" + declared_type(m.type);
    for (const auto& a : cfg.auxiliary) decl += ", \"" + a.name + "\"" + declared_type(a.type);
    decl += ")";
    for (const auto& n : {cfg.column, name})
      if (n.find('"') != std::string::npos) fail("names may not contain a double quote: '" + n + "'");
    for (const auto& cols : {cfg.metadata, cfg.auxiliary})
      for (const auto& c : cols)
        if (c.name.find('"') != std::string::npos) fail("names may not contain a double quote: '" + c.name + "'");
    if (sqlite3_declare_vtab(db, decl.c_str()) != SQLITE_OK)
      fail(std::string("cannot declare the table: ") + sqlite3_errmsg(db));
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
    t->store->drop();
    return SQLITE_OK;
  });
  if (rc == SQLITE_OK) delete t;
  return rc;
}

// ---- Planning ---------------------------------------------------------------------------------

char op_code(unsigned char op) {
  switch (op) {
    case SQLITE_INDEX_CONSTRAINT_EQ: return '=';
    case SQLITE_INDEX_CONSTRAINT_NE: return '!';
    case SQLITE_INDEX_CONSTRAINT_LT: return '<';
    case SQLITE_INDEX_CONSTRAINT_LE: return '{';
    case SQLITE_INDEX_CONSTRAINT_GT: return '>';
    case SQLITE_INDEX_CONSTRAINT_GE: return '}';
    default: return 0;
  }
}

int x_best_index(sqlite3_vtab* v, sqlite3_index_info* info) noexcept {
  auto& t = *static_cast<Table*>(v);
  return guard_vtab(v, kModule, [&] {
    const int nmeta = static_cast<int>(t.cfg().metadata.size());
    int match = -1, k = -1, limit = -1, rescore = -1, rowid = -1;
    bool any_match = false, unusable_knn = false;
    for (int i = 0; i < info->nConstraint; ++i) {
      const auto& c = info->aConstraint[i];
      if (c.op == SQLITE_INDEX_CONSTRAINT_MATCH && c.iColumn == kVector) any_match = true;
      // k or rescore whose value comes from a table not yet scanned: this plan cannot apply it.
      if (!c.usable && c.op == SQLITE_INDEX_CONSTRAINT_EQ && (c.iColumn == kK || c.iColumn == kRescore))
        unusable_knn = true;
      if (!c.usable) continue;
      if (c.op == SQLITE_INDEX_CONSTRAINT_MATCH && c.iColumn == kVector && match < 0) match = i;
      else if (c.op == SQLITE_INDEX_CONSTRAINT_EQ && c.iColumn == kK) k = i;
      else if (c.op == SQLITE_INDEX_CONSTRAINT_EQ && c.iColumn == kRescore) rescore = i;
      else if (c.op == SQLITE_INDEX_CONSTRAINT_LIMIT) limit = i;
      else if (c.op == SQLITE_INDEX_CONSTRAINT_EQ && c.iColumn == -1 && rowid < 0) rowid = i;
    }
    int argv = 0;
    const auto use = [&](int i) {
      info->aConstraintUsage[i].argvIndex = ++argv;
      info->aConstraintUsage[i].omit = 1;
    };
    if (match >= 0) {
      if (unusable_knn) return SQLITE_CONSTRAINT;
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
      std::string filters;
      for (int i = 0; i < info->nConstraint; ++i) {
        const auto& c = info->aConstraint[i];
        const bool meta = c.iColumn >= kFirstMeta && c.iColumn < kFirstMeta + nmeta;
        if (!c.usable || !(meta || c.iColumn == -1)) continue;
        char op = op_code(c.op);
        if (!op) continue;
        if (op == '=' && sqlite3_vtab_in(info, i, -1)) {
          sqlite3_vtab_in(info, i, 1);
          op = 'I';
        }
        use(i);
        filters += op + std::to_string(meta ? c.iColumn - kFirstMeta : -1) + ",";
      }
      info->idxNum = plan;
      if (!filters.empty()) {
        info->idxStr = sqlite3_mprintf("%s", filters.c_str());
        if (!info->idxStr) return SQLITE_NOMEM;
        info->needToFreeIdxStr = 1;
      }
      info->estimatedCost = 1000;
      if (info->nOrderBy == 1 && info->aOrderBy[0].iColumn == kDistance && !info->aOrderBy[0].desc)
        info->orderByConsumed = 1;
      return SQLITE_OK;
    }
    if (any_match) return SQLITE_CONSTRAINT;  // a MATCH that cannot be used in this plan
    if (rowid >= 0) {
      use(rowid);
      info->idxNum = kPoint;
      info->estimatedCost = 1;
      info->estimatedRows = 1;
      info->idxFlags = SQLITE_INDEX_SCAN_UNIQUE;
      return SQLITE_OK;
    }
    info->idxNum = 0;
    if (k >= 0 || rescore >= 0) {
      info->idxNum = kMisuse;
      use(k >= 0 ? k : rescore);
    }
    info->estimatedCost = 1e6;
    if (info->nOrderBy == 1 && info->aOrderBy[0].iColumn == -1 && !info->aOrderBy[0].desc) info->orderByConsumed = 1;
    return SQLITE_OK;
  });
}

// ---- Filters ----------------------------------------------------------------------------------

// Numbers compare as numbers, text by bytes (BINARY collation). Both values are non-NULL and of
// the same class (checked when the filter is built).
int compare(const Value& a, const Value& b) {
  if (a.kind == Value::text) return a.s.compare(b.s) < 0 ? -1 : a.s == b.s ? 0 : 1;
  if (a.kind == Value::integer && b.kind == Value::integer) return a.i < b.i ? -1 : a.i > b.i;
  const double x = a.kind == Value::integer ? static_cast<double>(a.i) : a.r;
  const double y = b.kind == Value::integer ? static_cast<double>(b.i) : b.r;
  return x < y ? -1 : x > y;
}

struct Condition {
  int column;   // metadata index, or -1 for the rowid
  char op;      // = ! < { > } I
  std::vector<Value> values;  // one, or the sorted IN list; empty: matches nothing (NULL)
  bool test(const Value& v) const {
    if (v.kind == Value::null || values.empty()) return false;
    if (op == 'I')
      return std::binary_search(values.begin(), values.end(), v,
                                [](const Value& a, const Value& b) { return compare(a, b) < 0; });
    const int c = compare(v, values[0]);
    switch (op) {
      case '=': return c == 0;
      case '!': return c != 0;
      case '<': return c < 0;
      case '{': return c <= 0;
      case '>': return c > 0;
      case '}': return c >= 0;
    }
    return false;
  }
};

// A filter operand as a Value of the column's class; a NULL operand yields nullopt.
std::optional<Value> operand(const Table& t, int column, sqlite3_value* v) {
  const bool text = column >= 0 && t.cfg().metadata[column].type == ColumnType::text;
  const std::string name = column < 0 ? std::string("rowid") : t.cfg().metadata[column].name;
  if (sqlite3_value_type(v) == SQLITE_NULL) return std::nullopt;
  if (text) {
    if (sqlite3_value_type(v) != SQLITE_TEXT)
      fail("filter on " + name + ": expected text; got " + type_name(v));
    return Value::copy(v);
  }
  const int type = sqlite3_value_numeric_type(v);
  if (type != SQLITE_INTEGER && type != SQLITE_FLOAT)
    fail("filter on " + name + ": expected a number; got " + type_name(v));
  return Value::copy(v);
}

std::vector<Condition> parse_filters(const Table& t, const char* idx, sqlite3_value** argv, int& a) {
  std::vector<Condition> out;
  for (const char* p = idx; p && *p;) {
    Condition c;
    c.op = *p++;
    c.column = static_cast<int>(std::strtol(p, const_cast<char**>(&p), 10));
    ++p;  // ','
    sqlite3_value* v = argv[a++];
    if (c.op == 'I') {
      sqlite3_value* x = nullptr;
      for (int rc = sqlite3_vtab_in_first(v, &x); rc == SQLITE_OK && x; rc = sqlite3_vtab_in_next(v, &x))
        if (auto o = operand(t, c.column, x)) c.values.push_back(std::move(*o));
      std::sort(c.values.begin(), c.values.end(), [](const Value& l, const Value& r) { return compare(l, r) < 0; });
    } else if (auto o = operand(t, c.column, v)) {
      c.values.push_back(std::move(*o));
    }
    out.push_back(std::move(c));
  }
  return out;
}

// ---- Queries ----------------------------------------------------------------------------------

int x_open(sqlite3_vtab*, sqlite3_vtab_cursor** out) noexcept { return open_cursor<Cursor>(out); }

int x_close(sqlite3_vtab_cursor* c) noexcept {
  delete static_cast<Cursor*>(c);
  return SQLITE_OK;
}

bool is_code(sqlite3_value* v) {
  return sqlite3_value_type(v) == SQLITE_BLOB && sqlite3_value_bytes(v) >= 4 &&
         std::memcmp(sqlite3_value_blob(v), "BEBR", 4) == 0;
}

// The MATCH operand: a code of the table's shape (or of a model recorded compatible with the
// table's, relabelled as the table's), or a vector binarized with its binarizer.
std::vector<std::uint8_t> query_code(Table& t, sqlite3_value* v) {
  if (is_code(v)) {
    CodeView c = code_arg(v, "MATCH query");
    const CodeShape& own = t.binarizer->shape();
    const auto* p = static_cast<const std::uint8_t*>(sqlite3_value_blob(v));
    std::vector<std::uint8_t> code(p, p + sqlite3_value_bytes(v));
    if (c.shape.kind == BinarizerKind::mlp && own.kind == BinarizerKind::mlp && c.shape.model_id != own.model_id &&
        c.shape.dim == own.dim && c.shape.bits == own.bits) {
      const std::uint32_t id = c.shape.model_id;
      bool known = std::find(t.compatible_ids.begin(), t.compatible_ids.end(), id) != t.compatible_ids.end();
      if (!known && compatible_id_of(t.db, id) == own.model_id) {
        t.compatible_ids.push_back(id);
        known = true;
      }
      if (!known)
        throw Error(Errc::mismatch, "MATCH query code was made by model id " + std::to_string(id) +
                                        ", which is not recorded as compatible with this table's model (id " +
                                        std::to_string(own.model_id) + "); train it with compatible_with");
      store_u32(code.data() + 12, own.model_id);
      c.shape.model_id = own.model_id;
    }
    require_same_shape(own, c.shape);
    return code;
  }
  if (sqlite3_value_type(v) == SQLITE_NULL)
    fail("MATCH query is NULL; expected a vector of " + std::to_string(t.cfg().dim) + " floats");
  const std::vector<float> x = vector_arg(v, "MATCH query");
  if (x.size() != t.cfg().dim)
    throw Error(Errc::mismatch, "MATCH query has " + std::to_string(x.size()) + " floats; expected " +
                                    std::to_string(t.cfg().dim) + ", the dimension of column " + t.cfg().column);
  return t.binarizer->encode_blob(x);
}

// Heap order for streamed results: the nearest (smallest distance, then rowid) on top.
bool nearest_last(const Neighbor& a, const Neighbor& b) { return b < a; }

sqlite3_int64 count_arg(sqlite3_value* v, const char* what) {
  if (sqlite3_value_type(v) != SQLITE_INTEGER) fail(std::string(what) + " must be an integer; got " + type_name(v));
  const sqlite3_int64 n = sqlite3_value_int64(v);
  if (n < 0) fail(std::string(what) + " must be >= 0; got " + std::to_string(n));
  return n;
}

void knn(Table& t, Cursor& cur, int plan, const char* idx, sqlite3_value** argv) {
  const TableConfig& cfg = t.cfg();
  int a = 0;
  sqlite3_value* match = argv[a++];
  const std::vector<std::uint8_t> q = query_code(t, match);
  // Without k (SQLite 3.40 does not pass LIMIT along with MATCH), every row is kept and
  // handed out nearest first, so ORDER BY distance LIMIT N stops after N of them.
  cur.stream = !(plan & (kHasK | kHasLimit));
  cur.k = cur.stream ? std::numeric_limits<sqlite3_int64>::max() : count_arg(argv[a++], plan & kHasK ? "k" : "LIMIT");
  cur.rescore = plan & kHasRescore ? count_arg(argv[a++], "rescore") : 0;
  if (cur.stream && cur.rescore) fail("rescore needs 'k = N' to know how many results to re-rank for");
  if (cur.rescore && !cfg.store_vectors) fail("rescore needs the float vectors; create the table with store_vectors=1");
  const std::vector<Condition> filters = parse_filters(t, idx, argv, a);
  bool need_meta = false;
  for (const auto& f : filters) need_meta |= f.column >= 0;

  const CodeView qv = parse_code(q, "MATCH query");
  const SdcQuery sdc(qv, cfg.metric);
  TopK top(cur.stream ? 0 : static_cast<std::size_t>(std::max(cur.k, cur.rescore)));
  std::vector<double> dist(cfg.chunk_size);
  Value rowid_value;
  rowid_value.kind = Value::integer;
  const auto passes = [&](const ChunkView& c, std::size_t s) {
    for (const auto& f : filters) {
      if (f.column < 0) {
        rowid_value.i = c.rowids[s];
        if (!f.test(rowid_value)) return false;
      } else if (!f.test(c.chunk.meta[static_cast<std::size_t>(f.column)][s])) {
        return false;
      }
    }
    return true;
  };
  if (cur.stream) {
    t.store->scan(need_meta, false, [&](const ChunkView& c) {
      sdc.distances(c.codes, dist.data());
      for (std::size_t w = 0; w < c.chunk.valid.size(); ++w)
        for (std::uint64_t bits = c.chunk.valid[w]; bits; bits &= bits - 1) {
          const std::size_t s = 64 * w + static_cast<std::size_t>(__builtin_ctzll(bits));
          if (passes(c, s)) cur.rows.push_back({dist[s], c.rowids[s]});
        }
    });
  } else if (top.capacity()) {
    const KeyBounds& bounds = t.store->key_bounds();
    t.store->scan(need_meta, !sdc.hamming(), [&](const ChunkView& c) {
      sdc.scan(c.codes, bounds, c.chunk.valid.data(), c.rowids, top, [&](std::size_t s) { return passes(c, s); });
    });
    sdc.finish(top);
  }
  if (cur.stream) {
    std::make_heap(cur.rows.begin(), cur.rows.end(), nearest_last);
    cur.has_distance = true;
    return;
  }
  cur.rows = top.take();
  if (cur.rescore) {
    // A code query is rescored against its reconstruction, a vector query against itself.
    const std::vector<float> qf = is_code(match) ? t.binarizer->decode(qv) : vector_arg(match, "MATCH query");
    Stmt v = prepare(t.db, "SELECT vector FROM " + t.store->shadow("vectors") + " WHERE rowid = ?1");
    for (Neighbor& n : cur.rows) {
      sqlite3_bind_int64(v.get(), 1, n.rowid);
      if (sqlite3_step(v.get()) != SQLITE_ROW) throw Error(Errc::corrupt, "the stored vector of row " + std::to_string(n.rowid) + " is missing");
      const auto* p = static_cast<const std::uint8_t*>(sqlite3_column_blob(v.get(), 0));
      const std::vector<float> f = floats_from_blob({p, static_cast<std::size_t>(sqlite3_column_bytes(v.get(), 0))});
      if (f.size() != cfg.dim) throw Error(Errc::corrupt, "the stored vector of row " + std::to_string(n.rowid) + " has the wrong length");
      n.distance = float_distance(qf, f, cfg.metric);
      sqlite3_reset(v.get());
    }
    std::sort(cur.rows.begin(), cur.rows.end());
  }
  if (cur.rows.size() > static_cast<std::size_t>(cur.k)) cur.rows.resize(static_cast<std::size_t>(cur.k));
  cur.has_distance = true;
}

// The rowid column of Store::row_select: r.rowid with metadata, x.rowid without.
std::string row_key(const Table& t) { return t.cfg().metadata.empty() ? "x.rowid" : "r.rowid"; }

int x_filter(sqlite3_vtab_cursor* base, int plan, const char* idx, int, sqlite3_value** argv) noexcept {
  auto* cur = static_cast<Cursor*>(base);
  auto& t = *static_cast<Table*>(cur->pVtab);
  return guard_vtab(cur->pVtab, kModule, [&] {
    cur->rows.clear();
    cur->stream = false;
    cur->scan.reset();
    cur->scan_done = false;
    cur->has_fetched = false;
    cur->at = 0;
    cur->has_distance = false;
    if (plan & kMisuse) fail("k and rescore apply only to a kNN query: add '" + t.cfg().column + " MATCH :query'");
    if (plan & kKnn) {
      knn(t, *cur, plan, idx, argv);
      return SQLITE_OK;
    }
    if (plan & kPoint) {
      if (sqlite3_value_numeric_type(argv[0]) == SQLITE_INTEGER) {
        const std::int64_t id = sqlite3_value_int64(argv[0]);
        if (t.store->find(id)) cur->rows.push_back({0.0, id});
      }
      return SQLITE_OK;
    }
    const std::string select = t.store->row_select();
    if (select.empty()) {  // no column but the codes: the rowids come from the chunks
      for (const std::int64_t id : t.store->rowids()) cur->rows.push_back({0.0, id});
      return SQLITE_OK;
    }
    cur->scan = prepare(t.db, select + " ORDER BY " + row_key(t));
    const int rc = sqlite3_step(cur->scan.get());
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) fail(sqlite3_errmsg(t.db));
    cur->scan_done = rc == SQLITE_DONE;
    return SQLITE_OK;
  });
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
  sqlite3_reset(cur.fetch.get());
  sqlite3_bind_int64(cur.fetch.get(), 1, id);
  if (sqlite3_step(cur.fetch.get()) != SQLITE_ROW)
    throw Error(Errc::corrupt, "row " + std::to_string(id) + " has no entry in " + t.store->name() +
                                   (t.cfg().metadata.empty() ? "_auxiliary" : "_rowids"));
  cur.fetched = id;
  cur.has_fetched = true;
  return cur.fetch.get();
}

int x_column(sqlite3_vtab_cursor* base, sqlite3_context* ctx, int col) noexcept {
  auto* cur = static_cast<Cursor*>(base);
  auto& t = *static_cast<Table*>(cur->pVtab);
  return guard_vtab(cur->pVtab, kModule, [&] {
    if (col != kDistance && col >= kVector && col <= kCommand && sqlite3_vtab_nochange(ctx)) return SQLITE_OK;
    switch (col) {
      case kVector: {
        if (!t.cfg().store_vectors) break;  // NULL: only the code is stored
        if (!cur->vector) cur->vector = prepare(t.db, "SELECT vector FROM " + t.store->shadow("vectors") + " WHERE rowid = ?1");
        sqlite3_reset(cur->vector.get());
        sqlite3_bind_int64(cur->vector.get(), 1, current_rowid(*cur));
        if (sqlite3_step(cur->vector.get()) == SQLITE_ROW) sqlite3_result_value(ctx, sqlite3_column_value(cur->vector.get(), 0));
        break;
      }
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

// A metadata value checked against its column's type.
Value metadata_value(const ColumnDef& c, sqlite3_value* v) {
  const int type = sqlite3_value_type(v);
  if (type == SQLITE_NULL) return Value{};
  const std::string what = "column " + c.name;
  switch (c.type) {
    case ColumnType::integer: {
      if (type == SQLITE_INTEGER) return Value::copy(v);
      if (type == SQLITE_FLOAT) {
        const double d = sqlite3_value_double(v);
        // In range before the cast (casting Inf or 1e300 to int64 is undefined), then integral.
        if (d >= -9223372036854775808.0 && d < 9223372036854775808.0 &&
            d == static_cast<double>(static_cast<std::int64_t>(d))) {
          Value out;
          out.kind = Value::integer;
          out.i = static_cast<std::int64_t>(d);
          return out;
        }
      }
      fail(what + " is integer; got " + type_name(v) + (type == SQLITE_FLOAT ? " with a fraction" : ""));
    }
    case ColumnType::real: {
      if (type != SQLITE_INTEGER && type != SQLITE_FLOAT) fail(what + " is float; got " + type_name(v));
      Value out;
      out.kind = Value::real;
      out.r = sqlite3_value_double(v);
      if (!std::isfinite(out.r)) fail(what + " is float; got an infinite value (expected a finite number)");
      return out;
    }
    case ColumnType::text:
      if (type != SQLITE_TEXT) fail(what + " is text; got " + type_name(v));
      return Value::copy(v);
    case ColumnType::boolean:
      if (type != SQLITE_INTEGER || (sqlite3_value_int64(v) != 0 && sqlite3_value_int64(v) != 1))
        fail(what + " is boolean; expected 0, 1, TRUE or FALSE");
      return Value::copy(v);
    case ColumnType::any: return Value::copy(v);
  }
  return Value::copy(v);
}

Value auxiliary_value(const ColumnDef& c, sqlite3_value* v) {
  if (c.type == ColumnType::any || sqlite3_value_type(v) == SQLITE_NULL) return Value::copy(v);
  return metadata_value(c, v);
}

void run_command(Table& t, sqlite3_value* v) {
  const char* cmd = reinterpret_cast<const char*>(sqlite3_value_text(v));
  const std::string c = cmd ? cmd : "";
  if (c == "optimize") {
    t.store->optimize();
    return;
  }
  fail("unknown command '" + c + "'; expected 'optimize'");
}

int conflict(Table& t) {
  sqlite3_free(t.zErrMsg);
  t.zErrMsg = sqlite3_mprintf("UNIQUE constraint failed: %s.rowid", t.store->name().c_str());
  return SQLITE_CONSTRAINT;
}

int x_update(sqlite3_vtab* v, int argc, sqlite3_value** argv, sqlite3_int64* out_rowid) noexcept {
  auto& t = *static_cast<Table*>(v);
  return guard_vtab(v, kModule, [&] {
    Store& store = *t.store;
    const TableConfig& cfg = t.cfg();
    if (argc == 1) {
      const std::int64_t id = sqlite3_value_int64(argv[0]);
      if (const auto at = store.find(id)) store.remove(id, *at);
      return SQLITE_OK;
    }
    const bool is_update = sqlite3_value_type(argv[0]) != SQLITE_NULL;
    sqlite3_value* command = argv[2 + kCommand];
    if (!sqlite3_value_nochange(command) && sqlite3_value_type(command) != SQLITE_NULL) {
      if (is_update) fail("the " + store.name() + " column takes commands in INSERT only");
      run_command(t, command);
      return SQLITE_OK;
    }
    for (int c : {kDistance, kK, kRescore})
      if (!sqlite3_value_nochange(argv[2 + c]) && sqlite3_value_type(argv[2 + c]) != SQLITE_NULL)
        fail("the hidden columns distance, k and rescore are for queries; they cannot be written");
    const bool rowid_given = sqlite3_value_type(argv[1]) != SQLITE_NULL;
    if (rowid_given && sqlite3_value_type(argv[1]) != SQLITE_INTEGER)
      fail(std::string("rowid must be an integer; got ") + type_name(argv[1]));
    const std::int64_t rowid = rowid_given ? sqlite3_value_int64(argv[1]) : 0;

    // The old row, when an UPDATE keeps some of its columns.
    std::optional<Location> old_at;
    std::optional<RowData> old;
    const std::int64_t old_id = is_update ? sqlite3_value_int64(argv[0]) : 0;
    if (is_update) {
      old_at = store.find(old_id);
      if (!old_at) return SQLITE_OK;  // gone already
      old = store.read_row(old_id, *old_at);
    }
    const auto unchanged = [&](int col) { return is_update && sqlite3_value_nochange(argv[2 + col]); };

    RowData row;
    sqlite3_value* vec = argv[2 + kVector];
    if (unchanged(kVector)) {
      row.body = old->body;
      row.vector = old->vector;
    } else {
      if (sqlite3_value_type(vec) == SQLITE_NULL) fail("column " + cfg.column + " must not be NULL; expected a vector");
      const std::vector<float> x = vector_arg(vec, "column " + cfg.column);
      if (x.size() != cfg.dim)
        throw Error(Errc::mismatch, "column " + cfg.column + " has " + std::to_string(x.size()) + " floats; expected " +
                                        std::to_string(cfg.dim));
      row.body.resize(body_bytes(t.binarizer->shape()));
      t.binarizer->encode_body(x, row.body.data());
      if (cfg.store_vectors) {
        row.vector.resize(4 * x.size());
        for (std::size_t j = 0; j < x.size(); ++j) store_f32(row.vector.data() + 4 * j, x[j]);
      }
    }
    for (std::size_t j = 0; j < cfg.metadata.size(); ++j) {
      const int col = kFirstMeta + static_cast<int>(j);
      row.meta.push_back(unchanged(col) ? old->meta[j] : metadata_value(cfg.metadata[j], argv[2 + col]));
    }
    for (std::size_t j = 0; j < cfg.auxiliary.size(); ++j) {
      const int col = t.first_aux() + static_cast<int>(j);
      row.aux.push_back(unchanged(col) ? old->aux[j] : auxiliary_value(cfg.auxiliary[j], argv[2 + col]));
    }

    if (rowid_given && (!is_update || rowid != old_id)) {
      if (const auto taken = store.find(rowid)) {
        if (sqlite3_vtab_on_conflict(t.db) != SQLITE_REPLACE) return conflict(t);
        store.remove(rowid, *taken);
        if (is_update) old_at = store.find(old_id);  // unchanged, but re-read after a removal
      }
    }
    if (is_update) store.remove(old_id, *old_at);
    *out_rowid = store.insert(rowid_given ? std::optional<std::int64_t>(rowid) : std::nullopt, row);
    return SQLITE_OK;
  });
}

// ---- Transactions, rename, shadow names -------------------------------------------------------

int x_begin(sqlite3_vtab*) noexcept { return SQLITE_OK; }
int x_sync(sqlite3_vtab* v) noexcept {
  auto* t = static_cast<Table*>(v);
  return guard_vtab(v, kModule, [&] {
    t->store->flush();
    return SQLITE_OK;
  });
}
int x_commit(sqlite3_vtab* v) noexcept {
  static_cast<Table*>(v)->store->release(0);  // every savepoint ends with the transaction
  return SQLITE_OK;
}
int x_rollback(sqlite3_vtab* v) noexcept {
  static_cast<Table*>(v)->store->rollback();
  return SQLITE_OK;
}
// SQLite calls these for user savepoints and for the statement journal of each statement inside
// a transaction. xSavepoint comes before the savepoint exists, so a flush there belongs to the
// enclosing level.
int x_savepoint(sqlite3_vtab* v, int level) noexcept {
  auto* t = static_cast<Table*>(v);
  return guard_vtab(v, kModule, [&] {
    t->store->savepoint(level);
    return SQLITE_OK;
  });
}
int x_release(sqlite3_vtab* v, int level) noexcept {
  static_cast<Table*>(v)->store->release(level);
  return SQLITE_OK;
}
int x_rollback_to(sqlite3_vtab* v, int level) noexcept {
  static_cast<Table*>(v)->store->rollback_to(level);
  return SQLITE_OK;
}

int x_rename(sqlite3_vtab* v, const char* new_name) noexcept {
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

int register_bebr_table(sqlite3* db) { return sqlite3_create_module(db, kModule, &kBebrModule, nullptr); }

}  // namespace bebr::ext
