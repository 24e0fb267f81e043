// The filters of a kNN query (filters.hpp).
#include "filters.hpp"

#include <algorithm>
#include <cstdint>
#include <cstdlib>

namespace bebr::ext::vtab {
namespace {
bool less(const Value& a, const Value& b) { return compare(a, b) < 0; }

// An integer against a float, exactly, as SQLite compares them (sqlite3IntFloatCompare without
// long double): never through a double that rounds the integer (2^53 + 1 is not 2^53.0).
int compare_int_real(std::int64_t i, double r) {
  if (r < -9223372036854775808.0) return 1;
  if (r >= 9223372036854775808.0) return -1;
  const auto y = static_cast<std::int64_t>(r);  // toward zero; exact where |r| >= 2^53
  if (i != y) return i < y ? -1 : 1;
  const double s = static_cast<double>(i);  // exact: |i| <= |r|, an integer below 2^53 or r itself
  return s < r ? -1 : s > r;
}
}  // namespace

namespace {
// SQLite's order of values of different kinds: NULL, then numbers, then text, then blobs.
int kind_rank(Value::Kind k) {
  switch (k) {
    case Value::null: return 0;
    case Value::integer:
    case Value::real: return 1;
    case Value::text: return 2;
    case Value::blob: return 3;
  }
  return 0;
}
}  // namespace

int compare(const Value& a, const Value& b) {
  const int ra = kind_rank(a.kind), rb = kind_rank(b.kind);
  if (ra != rb) return ra < rb ? -1 : 1;
  switch (ra) {
    case 0: return 0;
    case 1:
      if (a.kind == Value::integer && b.kind == Value::integer) return a.i < b.i ? -1 : a.i > b.i;
      if (a.kind == Value::integer) return compare_int_real(a.i, b.r);
      if (b.kind == Value::integer) return -compare_int_real(b.i, a.r);
      return a.r < b.r ? -1 : a.r > b.r;
    default: {  // text (BINARY) and blobs alike: bytes as unsigned, then the shorter first
      const int c = a.s.compare(b.s);
      return c < 0 ? -1 : c > 0;
    }
  }
}

SqlTest::SqlTest(sqlite3* db, const std::string& sql, std::vector<Value> operands)
    : stmt_(prepare(db, sql)), operands_(std::move(operands)) {}

bool SqlTest::step() {
  const int rc = sqlite3_step(stmt_.get());
  if (rc != SQLITE_ROW) {
    const std::string msg = sqlite3_errmsg(sqlite3_db_handle(stmt_.get()));
    sqlite3_reset(stmt_.get());
    if (rc == SQLITE_NOMEM) throw std::bad_alloc();
    fail(msg);
  }
  // NULL (a NULL operand) is no more a match than 0.
  const bool yes = sqlite3_column_type(stmt_.get(), 0) != SQLITE_NULL && sqlite3_column_int64(stmt_.get(), 0) != 0;
  sqlite3_reset(stmt_.get());
  return yes;
}

bool SqlTest::test(const Value& v) {
  std::string key(1, static_cast<char>(v.kind));
  if (v.kind == Value::integer) key.append(reinterpret_cast<const char*>(&v.i), sizeof v.i);
  else if (v.kind == Value::real) key.append(reinterpret_cast<const char*>(&v.r), sizeof v.r);
  else key += v.s;
  if (const auto it = seen_.find(key); it != seen_.end()) return it->second;
  bool match = false;
  v.bind(stmt_.get(), 1);
  for (const Value& o : operands_) {
    o.bind(stmt_.get(), 2);
    if ((match = step())) break;
  }
  seen_.emplace(std::move(key), match);
  return match;
}

bool Condition::test(const Value& v) const {
  const bool null = v.kind == Value::null;
  switch (op) {
    case 'N': return null;
    case 'n': return !null;
    case 'S':
    case 's':
      if (values.empty()) return null == (op == 'S');
      if (null) return op == 's';
      break;
    default:
      if (null || values.empty()) return false;
  }
  if (sql) return sql->test(v);
  if (op == 'I') return std::binary_search(values.begin(), values.end(), v, less);
  const int c = compare(v, values[0]);
  switch (op) {
    case '=':
    case 'S': return c == 0;
    case '!':
    case 's': return c != 0;
    case '<': return c < 0;
    case '{': return c <= 0;
    case '>': return c > 0;
    case '}': return c >= 0;
  }
  return false;
}

std::optional<Value> operand(const TableConfig& cfg, int column, sqlite3_value* v) {
  if (column == -3) return key_operand(cfg.auxiliary[0], v);
  const bool text = column >= 0 && cfg.metadata[column].type == ColumnType::text;
  const std::string name = column == -2 ? std::string("distance") : column < 0 ? std::string("rowid") : cfg.metadata[column].name;
  if (sqlite3_value_type(v) == SQLITE_NULL) return std::nullopt;
  // A column without a type has no affinity: the operand compares as it came, of any kind,
  // as SQLite compares it with the stored value (compare), never converted ('5' is not 5).
  if (column >= 0 && cfg.metadata[column].type == ColumnType::any) return Value::copy(v);
  if (text) {
    if (sqlite3_value_type(v) != SQLITE_TEXT) fail("filter on " + name + ": expected text; got " + type_name(v));
    return Value::copy(v);
  }
  const int type = sqlite3_value_numeric_type(v);
  if (type != SQLITE_INTEGER && type != SQLITE_FLOAT)
    fail("filter on " + name + ": expected a number; got " + type_name(v));
  return Value::copy(v);
}

std::optional<Value> key_operand(const ColumnDef& key, sqlite3_value* v) {
  const int type = sqlite3_value_type(v);
  if (type == SQLITE_NULL) return std::nullopt;
  // The key column's affinity, as SQLite applies it to a comparison with a column of that type:
  // a number compared with a text key is compared as its text, text with an integer key as the
  // number it reads as (when it reads as one).
  if (key.type == ColumnType::text && (type == SQLITE_INTEGER || type == SQLITE_FLOAT)) {
    Value out;
    out.kind = Value::text;
    const auto* text = reinterpret_cast<const char*>(sqlite3_value_text(v));
    if (!text) throw std::bad_alloc();
    out.s = text;
    return out;
  }
  if (key.type == ColumnType::integer && type == SQLITE_TEXT) sqlite3_value_numeric_type(v);
  return Value::copy(v);
}

namespace {
// The SQL that decides condition `c` (SqlTest), or "" when bebr decides it itself.
std::string sql_of(const Condition& c) {
  if (c.op == 'L') return "SELECT like(?2, ?1)";
  if (c.op == 'G') return "SELECT glob(?2, ?1)";
  if (c.collation.empty()) return "";
  const char* op = nullptr;
  switch (c.op) {
    case '=':
    case 'I': op = "="; break;
    case '!': op = "!="; break;
    case '<': op = "<"; break;
    case '{': op = "<="; break;
    case '>': op = ">"; break;
    case '}': op = ">="; break;
    case 'S': op = "IS"; break;
    case 's': op = "IS NOT"; break;
    default: return "";
  }
  std::string name;
  for (const char ch : c.collation) name += ch == '"' ? std::string("\"\"") : std::string(1, ch);
  return std::string("SELECT ?1 ") + op + " ?2 COLLATE \"" + name + "\"";
}
}  // namespace

std::vector<Condition> parse_filters(sqlite3* db, const TableConfig& cfg, const char* idx, sqlite3_value** argv,
                                     int& a) {
  std::vector<Condition> out;
  for (const char* p = idx; p && *p;) {
    Condition c;
    c.op = *p++;
    c.column = static_cast<int>(std::strtol(p, const_cast<char**>(&p), 10));
    if (*p == '@') {  // @<length>:<collation name>
      const auto n = static_cast<std::size_t>(std::strtoul(p + 1, const_cast<char**>(&p), 10));
      c.collation.assign(p + 1, n);
      p += 1 + n;
    }
    ++p;  // ','
    sqlite3_value* v = argv[a++];
    if (c.op == 'I') {
      sqlite3_value* x = nullptr;
      int rc = sqlite3_vtab_in_first(v, &x);
      for (; rc == SQLITE_OK && x; rc = sqlite3_vtab_in_next(v, &x))
        if (auto o = operand(cfg, c.column, x)) c.values.push_back(std::move(*o));
      // A list cut short would filter by part of it: out of memory is an error, not the end.
      if (rc == SQLITE_NOMEM) throw std::bad_alloc();
      if (rc != SQLITE_OK && rc != SQLITE_DONE)
        throw Error(Errc::internal, std::string("cannot read the IN list: ") + sqlite3_errstr(rc));
      std::sort(c.values.begin(), c.values.end(), less);
    } else if (c.op == 'N' || c.op == 'n') {
      // no operand: SQLite passes a NULL in its place
    } else if (c.op == 'L' || c.op == 'G') {
      // Any pattern SQLite's like() takes; a NULL one matches nothing (x LIKE NULL is NULL).
      if (sqlite3_value_type(v) != SQLITE_NULL) c.values.push_back(Value::copy(v));
    } else if (auto o = operand(cfg, c.column, v)) {
      c.values.push_back(std::move(*o));
    }
    if (const std::string sql = sql_of(c); !sql.empty() && !c.values.empty())
      c.sql = std::make_shared<SqlTest>(db, sql, c.values);
    out.push_back(std::move(c));
  }
  return out;
}

}  // namespace bebr::ext::vtab
