// Queries of the bebr table (query.hpp): kNN, point lookups and full scans.
#include "query.hpp"

#include <algorithm>
#include <cstring>
#include <limits>

#include "bebr/search.hpp"
#include "bebr/vector.hpp"
#include "filters.hpp"
#include "plan.hpp"

namespace bebr::ext::vtab {
namespace {

bool is_code(sqlite3_value* v) {
  return sqlite3_value_type(v) == SQLITE_BLOB && sqlite3_value_bytes(v) >= 4 &&
         std::memcmp(sqlite3_value_blob(v), "BEBR", 4) == 0;
}

sqlite3_int64 count_arg(sqlite3_value* v, const char* what) {
  if (sqlite3_value_type(v) != SQLITE_INTEGER) fail(std::string(what) + " must be an integer; got " + type_name(v));
  const sqlite3_int64 n = sqlite3_value_int64(v);
  if (n < 0) fail(std::string(what) + " must be >= 0; got " + std::to_string(n));
  return n;
}

// Whether a query code made by model `id` may search the table's codes: recorded compatible
// with the table's model (looked up once per table and model).
void require_compatible(Table& t, std::uint32_t id) {
  const std::uint32_t own = t.store->binarizer().shape().model_id;
  if (t.compatible_for != own) {  // re-coded since: what was compatible with the old model is not
    t.compatible_ids.clear();
    t.compatible_for = own;
  }
  if (std::find(t.compatible_ids.begin(), t.compatible_ids.end(), id) != t.compatible_ids.end()) return;
  if (compatible_id_of(t.db, id) == own) {
    t.compatible_ids.push_back(id);
    return;
  }
  throw Error(Errc::mismatch, "MATCH query code was made by model " + describe_model(t.db, id) +
                                  ", which is not recorded as compatible with this table's model " +
                                  describe_model(t.db, own) +
                                  "; code the query with the table's version (bebr_binarize(:q, 'name@version')) "
                                  "or train one with compatible_with");
}

// A filter on the primary key (`id = ?`, `id IN (...)`) as the filter on the rowids of the rows
// with those keys: none of them, when no row has one.
Condition key_filter(Table& t, const Condition& keys) {
  Condition c;
  c.column = -1;
  c.op = 'I';
  for (const Value& key : keys.values)
    if (const auto rowid = t.store->find_key(key)) {
      Value r;
      r.kind = Value::integer;
      r.i = *rowid;
      c.values.push_back(r);
    }
  std::sort(c.values.begin(), c.values.end(), [](const Value& a, const Value& b) { return a.i < b.i; });
  return c;
}

// A kNN query's arguments, read from argv in the plan's order (plan.hpp).
struct KnnArgs {
  sqlite3_value* match = nullptr;
  std::vector<std::uint8_t> query;  // the MATCH operand as a code of the table's shape
  std::vector<Condition> filters;  // on the rowid and metadata
  std::vector<Condition> bounds;   // upper bounds on the distance (distance < x, distance <= x)
  bool need_meta = false;          // some filter reads a metadata column
};

KnnArgs read_knn_args(Table& t, Cursor& cur, int plan, const char* idx, sqlite3_value** argv) {
  const TableConfig& cfg = t.cfg();
  KnnArgs k;
  int a = 0;
  k.match = argv[a++];
  k.query = query_code(t, k.match);
  // Without k (SQLite 3.40 does not pass LIMIT along with MATCH), every row is kept and
  // handed out nearest first, so ORDER BY distance LIMIT N stops after N of them.
  cur.stream = !(plan & (kHasK | kHasLimit));
  cur.k = cur.stream ? std::numeric_limits<sqlite3_int64>::max() : count_arg(argv[a++], plan & kHasK ? "k" : "LIMIT");
  cur.rescore = plan & kHasRescore ? count_arg(argv[a++], "rescore") : 0;
  // A LIMIT is not k for rescore: SQLite passes it to the plan on some versions only, so
  // rescore without k is an error on every version.
  if (cur.rescore && !(plan & kHasK)) fail("rescore needs 'k = N' to know how many results to re-rank for");
  if (cur.rescore && !cfg.store_vectors) fail("rescore needs the float vectors; create the table with store_vectors=1");
  for (auto& f : parse_filters(t.db, cfg, idx, argv, a)) {
    if (f.column == -3) f = key_filter(t, f);
    (f.column == -2 ? k.bounds : k.filters).push_back(std::move(f));
  }
  // bebr's own tests first, so a row they reject never costs a statement step (SqlTest); then
  // LIKE and GLOB, which reject most rows a collation's range derived from them would.
  const auto rank = [](const Condition& f) { return !f.sql ? 0 : f.op == 'L' || f.op == 'G' ? 1 : 2; };
  std::stable_sort(k.filters.begin(), k.filters.end(),
                   [&](const Condition& a, const Condition& b) { return rank(a) < rank(b); });
  for (const auto& f : k.filters) k.need_meta |= f.column >= 0;
  return k;
}

bool within(const std::vector<Condition>& bounds, double d) {
  Value v;
  v.kind = Value::real;
  v.r = d;
  for (const auto& b : bounds)
    if (!b.test(v)) return false;
  return true;
}

// The scan: every valid code that passes the filters, by SDC distance to the query. Streaming,
// all of them within the distance bounds into cur.rows unordered; otherwise the best
// max(k, rescore), sorted (the bounds apply after: an upper bound keeps a prefix of them).
void scan(Table& t, Cursor& cur, ScanState& sdc, const std::vector<Condition>& filters,
          const std::vector<Condition>& bounds, bool need_meta) {
  TopK top(cur.stream ? 0 : static_cast<std::size_t>(std::max(cur.k, cur.rescore)));
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
      sdc.stream(
          c.codes, c.chunk.valid.data(), c.rowids, [&](std::size_t s) { return passes(c, s); },
          [&](double d, std::int64_t rowid) {
            if (within(bounds, d)) cur.rows.push_back({d, rowid});
          });
    });
  } else if (top.capacity()) {
    const KeyBounds& bounds = t.store->key_bounds();
    t.store->scan(need_meta, !sdc.query().hamming(), [&](const ChunkView& c) {
      sdc.scan(c.codes, bounds, c.chunk.valid.data(), c.rowids, top, [&](std::size_t s) { return passes(c, s); });
    });
    sdc.finish(top);
  }
  if (!cur.stream) cur.rows = top.take();
}

// Re-ranks cur.rows by the exact float distance of their stored vectors to the query: a code
// query against its reconstruction, a vector query against itself.
void rescore(Table& t, Cursor& cur, sqlite3_value* match, const CodeView& qv) {
  const TableConfig& cfg = t.cfg();
  const std::vector<float> qf = is_code(match) ? t.store->binarizer().decode(qv) : vector_arg(match, "MATCH query");
  Stmt v = prepare(t.db, "SELECT vector FROM " + t.store->shadow("vectors") + " WHERE rowid = ?1");
  for (Neighbor& n : cur.rows) {
    sqlite3_bind_int64(v.get(), 1, n.rowid);
    if (sqlite3_step(v.get()) != SQLITE_ROW)
      throw Error(Errc::corrupt, "the stored vector of row " + std::to_string(n.rowid) + " is missing");
    const auto* p = static_cast<const std::uint8_t*>(sqlite3_column_blob(v.get(), 0));
    const std::vector<float> f = floats_from_blob({p, static_cast<std::size_t>(sqlite3_column_bytes(v.get(), 0))});
    if (f.size() != cfg.dim)
      throw Error(Errc::corrupt, "the stored vector of row " + std::to_string(n.rowid) + " has the wrong length");
    if (first_non_finite(f) >= 0)  // INSERT stores finite vectors only: a damaged file, never a distance
      throw Error(Errc::corrupt, "the stored vector of row " + std::to_string(n.rowid) + " holds NaN or Inf");
    n.distance = float_distance(qf, f, cfg.metric);
    sqlite3_reset(v.get());
  }
  std::sort(cur.rows.begin(), cur.rows.end());
}

void knn(Table& t, Cursor& cur, int plan, const char* idx, sqlite3_value** argv) {
  const KnnArgs args = read_knn_args(t, cur, plan, idx, argv);
  const CodeView qv = parse_code(args.query, "MATCH query");
  const BoundQuery bound(qv, t.cfg().metric);
  ScanState sdc(bound);
  scan(t, cur, sdc, args.filters, args.bounds, args.need_meta);
  cur.has_distance = true;
  if (cur.stream) {
    std::make_heap(cur.rows.begin(), cur.rows.end(), nearest_last);
    return;
  }
  if (cur.rescore) rescore(t, cur, args.match, qv);
  // The bounds hold for the distance shown: the re-ranked one under rescore. The rows are in
  // ascending order, so those within an upper bound are a prefix: the k nearest within it.
  if (!args.bounds.empty())
    cur.rows.erase(std::find_if(cur.rows.begin(), cur.rows.end(),
                                [&](const Neighbor& n) { return !within(args.bounds, n.distance); }),
                   cur.rows.end());
  if (cur.rows.size() > static_cast<std::size_t>(cur.k)) cur.rows.resize(static_cast<std::size_t>(cur.k));
}

// A full scan: rowid order, from the shadow tables (or, with no column but the codes, the chunks).
void full_scan(Table& t, Cursor& cur) {
  const std::string select = t.store->row_select();
  if (select.empty()) {
    for (const std::int64_t id : t.store->rowids()) cur.rows.push_back({0.0, id});
    return;
  }
  cur.scan = prepare(t.db, select + " ORDER BY " + row_key(t));
  const int rc = sqlite3_step(cur.scan.get());
  if (rc != SQLITE_ROW && rc != SQLITE_DONE) fail_sqlite(t.db, rc);
  cur.scan_done = rc == SQLITE_DONE;
}

}  // namespace

std::vector<std::uint8_t> query_code(Table& t, sqlite3_value* v) {
  if (is_code(v)) {
    CodeView c = code_arg(v, "MATCH query");
    const CodeShape& own = t.store->binarizer().shape();
    const auto* p = static_cast<const std::uint8_t*>(sqlite3_value_blob(v));
    std::vector<std::uint8_t> code(p, p + sqlite3_value_bytes(v));
    if (c.shape.kind == BinarizerKind::mlp && own.kind == BinarizerKind::mlp && c.shape.model_id != own.model_id &&
        c.shape.dim == own.dim && c.shape.bits == own.bits) {
      require_compatible(t, c.shape.model_id);
      set_model_id(code, own.model_id);
      c.shape.model_id = own.model_id;
    }
    require_same_model_shape(t.db, own, c.shape);
    return code;
  }
  if (sqlite3_value_type(v) == SQLITE_NULL)
    fail("MATCH query is NULL; expected a vector of " + std::to_string(t.cfg().dim) + " floats");
  const std::vector<float> x = vector_arg(v, "MATCH query");
  if (x.size() != t.cfg().dim)
    throw Error(Errc::mismatch, "MATCH query has " + std::to_string(x.size()) + " floats; expected " +
                                    std::to_string(t.cfg().dim) + ", the dimension of column " + t.cfg().column);
  return t.store->binarizer().encode_blob(x);
}

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
    t.store->refresh();  // the model as the database has it (a recode, its rollback)
    if (plan & kMisuse) fail("k and rescore apply only to a kNN query: add '" + t.cfg().column + " MATCH :query'");
    if (plan & kKnn) {
      knn(t, *cur, plan, idx, argv);
    } else if (plan & kPoint) {
      if (sqlite3_value_numeric_type(argv[0]) == SQLITE_INTEGER) {
        const std::int64_t id = sqlite3_value_int64(argv[0]);
        if (t.store->find(id)) cur->rows.push_back({0.0, id});
      }
    } else if (plan & kPointKey) {
      if (const auto key = key_operand(t.cfg().auxiliary[0], argv[0]))
        if (const auto id = t.store->find_key(*key))
          if (t.store->find(*id)) cur->rows.push_back({0.0, *id});
    } else {
      full_scan(t, *cur);
    }
    return SQLITE_OK;
  });
}

}  // namespace bebr::ext::vtab
