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

int compare(const Value& a, const Value& b) {
  if (a.kind == Value::text) return a.s.compare(b.s) < 0 ? -1 : a.s == b.s ? 0 : 1;
  if (a.kind == Value::integer && b.kind == Value::integer) return a.i < b.i ? -1 : a.i > b.i;
  if (a.kind == Value::integer) return compare_int_real(a.i, b.r);
  if (b.kind == Value::integer) return -compare_int_real(b.i, a.r);
  return a.r < b.r ? -1 : a.r > b.r;
}

bool Condition::test(const Value& v) const {
  if (v.kind == Value::null || values.empty()) return false;
  if (op == 'I') return std::binary_search(values.begin(), values.end(), v, less);
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

std::optional<Value> operand(const TableConfig& cfg, int column, sqlite3_value* v) {
  const bool text = column >= 0 && cfg.metadata[column].type == ColumnType::text;
  const std::string name = column < 0 ? std::string("rowid") : cfg.metadata[column].name;
  if (sqlite3_value_type(v) == SQLITE_NULL) return std::nullopt;
  if (text) {
    if (sqlite3_value_type(v) != SQLITE_TEXT) fail("filter on " + name + ": expected text; got " + type_name(v));
    return Value::copy(v);
  }
  const int type = sqlite3_value_numeric_type(v);
  if (type != SQLITE_INTEGER && type != SQLITE_FLOAT)
    fail("filter on " + name + ": expected a number; got " + type_name(v));
  return Value::copy(v);
}

std::vector<Condition> parse_filters(const TableConfig& cfg, const char* idx, sqlite3_value** argv, int& a) {
  std::vector<Condition> out;
  for (const char* p = idx; p && *p;) {
    Condition c;
    c.op = *p++;
    c.column = static_cast<int>(std::strtol(p, const_cast<char**>(&p), 10));
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
    } else if (auto o = operand(cfg, c.column, v)) {
      c.values.push_back(std::move(*o));
    }
    out.push_back(std::move(c));
  }
  return out;
}

}  // namespace bebr::ext::vtab
