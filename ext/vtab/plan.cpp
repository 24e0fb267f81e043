// xBestIndex of the bebr table: the kNN, point, misuse and full-scan plans (plan.hpp has the
// encoding).
#include "plan.hpp"

#include <string>

#include "table.hpp"

namespace bebr::ext::vtab {
namespace {

// The filter op of an SQLite constraint op (plan.hpp), or 0 when bebr does not filter by it.
char op_code(unsigned char op) {
  switch (op) {
    case SQLITE_INDEX_CONSTRAINT_EQ: return '=';
    case SQLITE_INDEX_CONSTRAINT_NE: return '!';
    case SQLITE_INDEX_CONSTRAINT_LT: return '<';
    case SQLITE_INDEX_CONSTRAINT_LE: return '{';
    case SQLITE_INDEX_CONSTRAINT_GT: return '>';
    case SQLITE_INDEX_CONSTRAINT_GE: return '}';
    case SQLITE_INDEX_CONSTRAINT_ISNULL: return 'N';
    case SQLITE_INDEX_CONSTRAINT_ISNOTNULL: return 'n';
    case SQLITE_INDEX_CONSTRAINT_IS: return 'S';
    case SQLITE_INDEX_CONSTRAINT_ISNOT: return 's';
    case SQLITE_INDEX_CONSTRAINT_LIKE: return 'L';
    case SQLITE_INDEX_CONSTRAINT_GLOB: return 'G';
    default: return 0;
  }
}

// Whether constraint i is `key = ?` on the primary key, compared as bebr compares it: an
// integer key, or a text one under BINARY (a key under NOCASE is SQLite's to check).
bool key_equality(const Table& t, sqlite3_index_info* info, int i) {
  const auto& c = info->aConstraint[i];
  if (c.iColumn != t.key_column() || c.op != SQLITE_INDEX_CONSTRAINT_EQ) return false;
  if (t.cfg().auxiliary[0].type == ColumnType::integer) return true;
  const char* coll = sqlite3_vtab_collation(info, i);
  return !coll || sqlite3_stricmp(coll, "BINARY") == 0;
}

// The constraints a plan can use (their index in aConstraint, -1: none).
struct Usable {
  int match = -1, k = -1, limit = -1, offset = -1, rescore = -1, rowid = -1, key = -1;
  bool any_match = false;        // a MATCH on the vector column, usable or not
  bool unusable_knn = false;     // k or rescore whose value comes from a table not yet scanned
  const char* misuse = nullptr;  // a constraint on k or rescore that is not one equality
};

Usable find_usable(const Table& t, const sqlite3_index_info* info) {
  Usable u;
  for (int i = 0; i < info->nConstraint; ++i) {
    const auto& c = info->aConstraint[i];
    if (c.op == SQLITE_INDEX_CONSTRAINT_MATCH && c.iColumn == kVector) u.any_match = true;
    if (!c.usable && c.op == SQLITE_INDEX_CONSTRAINT_EQ && (c.iColumn == kK || c.iColumn == kRescore))
      u.unusable_knn = true;
    if ((c.iColumn == kK || c.iColumn == kRescore) && c.op != SQLITE_INDEX_CONSTRAINT_EQ)
      u.misuse = c.iColumn == kK ? "k takes one equality (k = N); got another comparison"
                                 : "rescore takes one equality (rescore = N); got another comparison";
    if (!c.usable) continue;
    if (c.op == SQLITE_INDEX_CONSTRAINT_EQ && (c.iColumn == kK || c.iColumn == kRescore)) {
      int& slot = c.iColumn == kK ? u.k : u.rescore;
      if (slot >= 0)
        u.misuse = c.iColumn == kK ? "k takes one equality (k = N); got two"
                                   : "rescore takes one equality (rescore = N); got two";
      else if (sqlite3_vtab_in(const_cast<sqlite3_index_info*>(info), i, -1))
        u.misuse = c.iColumn == kK ? "k takes one equality (k = N); got IN (...)"
                                   : "rescore takes one equality (rescore = N); got IN (...)";
      slot = i;
    } else if (c.op == SQLITE_INDEX_CONSTRAINT_MATCH && c.iColumn == kVector && u.match < 0) u.match = i;
    else if (c.op == SQLITE_INDEX_CONSTRAINT_LIMIT) u.limit = i;
    else if (c.op == SQLITE_INDEX_CONSTRAINT_OFFSET) u.offset = i;
    else if (c.op == SQLITE_INDEX_CONSTRAINT_EQ && c.iColumn == -1 && u.rowid < 0) u.rowid = i;
    else if (u.key < 0 && key_equality(t, const_cast<sqlite3_index_info*>(info), i)) u.key = i;
  }
  return u;
}

// Hands constraints to xFilter in argv order, each omitted from SQLite's own checks.
struct Args {
  sqlite3_index_info* info;
  int n = 0;
  void use(int i) {
    info->aConstraintUsage[i].argvIndex = ++n;
    info->aConstraintUsage[i].omit = 1;
  }
};

// A filter constraint the kNN plan applies in its scan (and so omits from SQLite's checks): a
// comparison, null test, LIKE or GLOB on a metadata column or the rowid, or an upper bound on
// the distance, or an equality (or IN) on the primary key.
bool scan_filter(const Table& t, const sqlite3_index_info* info, int i) {
  const auto& c = info->aConstraint[i];
  if (!c.usable) return false;
  if (c.iColumn == kDistance) return c.op == SQLITE_INDEX_CONSTRAINT_LT || c.op == SQLITE_INDEX_CONSTRAINT_LE;
  if (c.iColumn == t.key_column()) return key_equality(t, const_cast<sqlite3_index_info*>(info), i);
  const int nmeta = static_cast<int>(t.cfg().metadata.size());
  const bool meta = c.iColumn >= kFirstMeta && c.iColumn < kFirstMeta + nmeta;
  return (meta || c.iColumn == -1) && op_code(c.op);
}

// The collation of a comparison on a text or untyped metadata column when it is not BINARY (bebr's own
// byte order), else "".
std::string collation(const Table& t, sqlite3_index_info* info, int i) {
  const auto& c = info->aConstraint[i];
  const char op = op_code(c.op);
  if (c.iColumn < kFirstMeta || c.iColumn >= t.first_aux() || op == 'L' || op == 'G' || op == 'N' || op == 'n')
    return "";
  // Text columns, and columns without a type (which may hold text): a number or a blob compares
  // the same under any collation, so SQLite deciding those too changes nothing.
  const ColumnType type = t.cfg().metadata[static_cast<std::size_t>(c.iColumn - kFirstMeta)].type;
  if (type != ColumnType::text && type != ColumnType::any) return "";
  const char* coll = sqlite3_vtab_collation(info, i);
  return !coll || sqlite3_stricmp(coll, "BINARY") == 0 ? "" : coll;
}

// Whether a LIMIT that SQLite passes along with MATCH (SQLite 3.38 and later may) can serve as
// k: only when the rows come out in the order the LIMIT counts (no ORDER BY, or distance
// ascending alone), there is no OFFSET, and every other constraint is applied in the scan (one
// that SQLite checks afterwards would drop rows from the k). Otherwise the plan streams every
// row nearest first and SQLite sorts and limits them: the right rows on every SQLite version.
bool limit_is_k(const Table& t, const sqlite3_index_info* info, const Usable& u) {
  if (u.offset >= 0) return false;
  if (info->nOrderBy > 1) return false;
  if (info->nOrderBy == 1 && (info->aOrderBy[0].iColumn != kDistance || info->aOrderBy[0].desc)) return false;
  for (int i = 0; i < info->nConstraint; ++i) {
    const auto& c = info->aConstraint[i];
    if (!c.usable || i == u.match || i == u.k || i == u.rescore || i == u.limit) continue;
    if (!scan_filter(t, info, i)) return false;
  }
  return true;
}

// The kNN plan: MATCH, then k or LIMIT, rescore, and the filters (idxStr).
int knn_plan(const Table& t, sqlite3_index_info* info, const Usable& u) {
  if (u.unusable_knn) return SQLITE_CONSTRAINT;
  Args args{info};
  int plan = kKnn;
  args.use(u.match);
  if (u.k >= 0) {
    plan |= kHasK;
    args.use(u.k);
  } else if (u.limit >= 0 && limit_is_k(t, info, u)) {
    plan |= kHasLimit;
    args.use(u.limit);
  }
  if (u.rescore >= 0) {
    plan |= kHasRescore;
    args.use(u.rescore);
  }
  const int nmeta = static_cast<int>(t.cfg().metadata.size());
  std::string filters;
  for (int i = 0; i < info->nConstraint; ++i) {
    const auto& c = info->aConstraint[i];
    if (!scan_filter(t, info, i)) continue;
    const bool meta = c.iColumn >= kFirstMeta && c.iColumn < kFirstMeta + nmeta;
    char op = c.iColumn == kDistance ? (c.op == SQLITE_INDEX_CONSTRAINT_LT ? '<' : '{') : op_code(c.op);
    if (op == '=' && sqlite3_vtab_in(info, i, -1)) {
      sqlite3_vtab_in(info, i, 1);
      op = 'I';
    }
    args.use(i);
    const int column = meta                          ? c.iColumn - kFirstMeta
                       : c.iColumn == kDistance       ? -2
                       : c.iColumn == t.key_column() ? -3
                                                      : -1;
    filters += op + std::to_string(column);
    // A text comparison under another collation is decided by SQLite through that collation
    // (filters.hpp): `= 'x' COLLATE NOCASE`, and the NOCASE range SQLite derives from a LIKE.
    if (const std::string coll = collation(t, info, i); !coll.empty())
      filters += "@" + std::to_string(coll.size()) + ":" + coll;
    filters += ",";
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

}  // namespace

int x_best_index(sqlite3_vtab* v, sqlite3_index_info* info) noexcept {
  const auto& t = *static_cast<const Table*>(v);
  return guard_vtab(v, kModule, [&] {
    const Usable u = find_usable(t, info);
    if (u.misuse) fail(u.misuse);
    if (u.match >= 0) return knn_plan(t, info, u);
    if (u.any_match) return SQLITE_CONSTRAINT;  // a MATCH that cannot be used in this plan
    Args args{info};
    // One row by its rowid, or by its primary key (an index lookup first: a little dearer).
    if (u.rowid >= 0 || u.key >= 0) {
      args.use(u.rowid >= 0 ? u.rowid : u.key);
      info->idxNum = u.rowid >= 0 ? kPoint : kPointKey;
      info->estimatedCost = u.rowid >= 0 ? 1 : 2;
      info->estimatedRows = 1;
      info->idxFlags = SQLITE_INDEX_SCAN_UNIQUE;
      return SQLITE_OK;
    }
    info->idxNum = 0;
    if (u.k >= 0 || u.rescore >= 0) {
      info->idxNum = kMisuse;
      args.use(u.k >= 0 ? u.k : u.rescore);
    }
    info->estimatedCost = 1e6;
    if (info->nOrderBy == 1 && info->aOrderBy[0].iColumn == -1 && !info->aOrderBy[0].desc) info->orderByConsumed = 1;
    return SQLITE_OK;
  });
}

}  // namespace bebr::ext::vtab
