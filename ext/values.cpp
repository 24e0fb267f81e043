// sqlite3_value -> core types and column values, with the error messages users see.
#include <algorithm>
#include <cerrno>
#include <clocale>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "bebr/vector.hpp"
#include "common.hpp"
#include "values.hpp"

namespace bebr::ext {

const char* type_name(sqlite3_value* v) noexcept {
  switch (sqlite3_value_type(v)) {
    case SQLITE_INTEGER: return "integer";
    case SQLITE_FLOAT: return "real";
    case SQLITE_TEXT: return "text";
    case SQLITE_BLOB: return "blob";
    default: return "null";
  }
}

std::vector<float> vector_arg(sqlite3_value* v, const std::string& what) {
  std::vector<float> x;
  const int type = sqlite3_value_type(v);
  if (type == SQLITE_BLOB) {
    const auto* p = static_cast<const std::uint8_t*>(sqlite3_value_blob(v));
    const auto n = static_cast<std::size_t>(sqlite3_value_bytes(v));
    if (n % 4 != 0)
      fail(what + " is a BLOB of " + std::to_string(n) + " bytes; expected float32 vector bytes (a multiple of 4)");
    x = floats_from_blob({p, n});
  } else if (type == SQLITE_TEXT) {
    const char* p = reinterpret_cast<const char*>(sqlite3_value_text(v));
    const auto n = static_cast<std::size_t>(sqlite3_value_bytes(v));
    try {
      x = parse_json_vector(std::string_view(p, n));
    } catch (const Error& e) {
      fail(what + " " + e.what());
    }
  } else {
    fail(what + " must be a vector; expected a float32 BLOB or JSON array text, got " + type_name(v));
  }
  if (x.empty()) fail(what + " is an empty vector; expected at least 1 float");
  if (x.size() > kMaxDim)
    fail(what + " has " + std::to_string(x.size()) + " floats; expected at most " + std::to_string(kMaxDim));
  if (const long bad = first_non_finite(x); bad >= 0)
    fail(what + " has NaN or Inf at element " + std::to_string(bad) + "; expected finite floats");
  return x;
}

CodeView code_arg(sqlite3_value* v, const std::string& what) {
  if (sqlite3_value_type(v) != SQLITE_BLOB)
    fail(what + " must be a bebr code; expected a BLOB from bebr_binarize, got " + type_name(v));
  const auto* p = static_cast<const std::uint8_t*>(sqlite3_value_blob(v));
  const auto n = static_cast<std::size_t>(sqlite3_value_bytes(v));
  try {
    return parse_code({p, n}, what);
  } catch (const Error& e) {
    // A float32 vector whose first float is about 2.08e11 has the code magic "BEBR" as its
    // bytes: say so, since whoever passed it meant a vector.
    if (e.code() != Errc::corrupt || n < 4 || n % 4 != 0 || std::memcmp(p, "BEBR", 4) != 0) throw;
    throw Error(Errc::corrupt, std::string(e.what()) +
                                   " (a BLOB starting with the bytes 'BEBR' is read as a code; if it is a float32 "
                                   "vector, pass it as JSON text)");
  }
}

Metric metric_arg(sqlite3_value* v, const std::string& what) {
  if (sqlite3_value_type(v) != SQLITE_TEXT)
    fail(what + " must be a metric name; expected 'cosine', 'ip' or 'l2', got " + type_name(v));
  const std::string name(reinterpret_cast<const char*>(sqlite3_value_text(v)),
                         static_cast<std::size_t>(sqlite3_value_bytes(v)));
  if (const auto m = parse_metric(name)) return *m;
  fail(what + " is an unknown metric '" + name + "'; expected 'cosine', 'ip' or 'l2'");
}

Stmt prepare(sqlite3* db, const std::string& sql) {
  sqlite3_stmt* s = nullptr;
  if (const int rc = sqlite3_prepare_v2(db, sql.c_str(), -1, &s, nullptr); rc != SQLITE_OK) {
    sqlite3_finalize(s);
    if (rc == SQLITE_NOMEM) throw std::bad_alloc();
    throw Error(Errc::internal, std::string("SQL error: ") + sqlite3_errmsg(db));
  }
  return Stmt(s);
}

void exec(sqlite3* db, const std::string& sql) {
  char* err = nullptr;
  if (sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
    const SqliteString owned(err);  // freed even when the message cannot be copied
    fail(err ? err : sqlite3_errmsg(db));
  }
}

void step_done(sqlite3* db, sqlite3_stmt* s) {
  if (sqlite3_step(s) != SQLITE_DONE) fail(sqlite3_errmsg(db));
}

namespace {
void destroy_holder(void* p) noexcept { delete static_cast<std::shared_ptr<Connection>*>(p); }
}  // namespace

int create_function(sqlite3* db, const char* name, int nargs, int flags, const std::shared_ptr<Connection>& conn,
                    void (*fn)(sqlite3_context*, int, sqlite3_value**)) {
  // Each registration owns a reference, so SQLite may drop them in any order.
  auto* holder = new std::shared_ptr<Connection>(conn);
  return sqlite3_create_function_v2(db, name, nargs, SQLITE_UTF8 | flags, holder, fn, nullptr, nullptr,
                                    &destroy_holder);
}

Connection& connection_of(sqlite3_context* ctx) noexcept {
  return **static_cast<std::shared_ptr<Connection>*>(sqlite3_user_data(ctx));
}

// ---- Value ------------------------------------------------------------------------------------

Value Value::copy(sqlite3_value* v) {
  Value out;
  switch (sqlite3_value_type(v)) {
    case SQLITE_INTEGER:
      out.kind = integer;
      out.i = sqlite3_value_int64(v);
      break;
    case SQLITE_FLOAT:
      out.kind = real;
      out.r = sqlite3_value_double(v);
      break;
    case SQLITE_TEXT:
      out.kind = text;
      out.s.assign(reinterpret_cast<const char*>(sqlite3_value_text(v)),
                   static_cast<std::size_t>(sqlite3_value_bytes(v)));
      break;
    case SQLITE_BLOB:
      out.kind = blob;
      if (sqlite3_value_bytes(v) > 0)
        out.s.assign(static_cast<const char*>(sqlite3_value_blob(v)), static_cast<std::size_t>(sqlite3_value_bytes(v)));
      break;
    default: break;
  }
  return out;
}

Value Value::copy_column(sqlite3_stmt* s, int col) { return copy(sqlite3_column_value(s, col)); }

void Value::bind(sqlite3_stmt* st, int index) const {
  switch (kind) {
    case null: sqlite3_bind_null(st, index); break;
    case integer: sqlite3_bind_int64(st, index, i); break;
    case real: sqlite3_bind_double(st, index, r); break;
    case text: sqlite3_bind_text64(st, index, s.data(), s.size(), SQLITE_TRANSIENT, SQLITE_UTF8); break;
    case blob: sqlite3_bind_blob64(st, index, s.data(), s.size(), SQLITE_TRANSIENT); break;
  }
}

void Value::result(sqlite3_context* ctx) const {
  switch (kind) {
    case null: sqlite3_result_null(ctx); break;
    case integer: sqlite3_result_int64(ctx, i); break;
    case real: sqlite3_result_double(ctx, r); break;
    case text: sqlite3_result_text64(ctx, s.data(), s.size(), SQLITE_TRANSIENT, SQLITE_UTF8); break;
    case blob: sqlite3_result_blob64(ctx, s.data(), s.size(), SQLITE_TRANSIENT); break;
  }
}

const char* column_type_name(ColumnType t) noexcept {
  switch (t) {
    case ColumnType::integer: return "integer";
    case ColumnType::real: return "float";
    case ColumnType::text: return "text";
    case ColumnType::boolean: return "boolean";
    case ColumnType::any: return "any";
  }
  return "?";
}

// ---- Column typing ----------------------------------------------------------------------------

namespace {

// What SQLite's numeric affinity makes of text ('3' -> 3, ' 2.5 ' -> 2.5, 'one' stays text),
// as a plain column of INTEGER or REAL affinity stores it: blanks around, an optional sign,
// digits with at most one '.', an optional exponent; an integer beyond int64 becomes a real.
// Parsed here rather than by sqlite3_value_numeric_type on a copy of the argument: on a value
// from sqlite3_value_dup (no connection) that call crashes inside SQLite 3.53.
struct Numeric {
  int type = SQLITE_TEXT;
  std::int64_t i = 0;
  double r = 0;
};
Numeric numeric_affinity(sqlite3_value* v) {
  std::string_view s(reinterpret_cast<const char*>(sqlite3_value_text(v)),
                     static_cast<std::size_t>(sqlite3_value_bytes(v)));
  const auto blank = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\f' || c == '\r' || c == '\v'; };
  while (!s.empty() && blank(s.front())) s.remove_prefix(1);
  while (!s.empty() && blank(s.back())) s.remove_suffix(1);
  const auto digit = [](char c) { return c >= '0' && c <= '9'; };
  std::size_t k = 0, digits = 0;
  bool point = false, exponent = false;
  if (k < s.size() && (s[k] == '+' || s[k] == '-')) ++k;
  for (; k < s.size() && (digit(s[k]) || (s[k] == '.' && !point)); ++k) {
    if (s[k] == '.') point = true;
    else ++digits;
  }
  if (digits > 0 && k < s.size() && (s[k] == 'e' || s[k] == 'E')) {
    std::size_t e = k + 1, exp_digits = 0;
    if (e < s.size() && (s[e] == '+' || s[e] == '-')) ++e;
    for (; e < s.size() && digit(s[e]); ++e) ++exp_digits;
    if (exp_digits > 0) {
      exponent = true;
      k = e;
    }
  }
  Numeric n;
  if (digits == 0 || k != s.size()) return n;
  std::string text(s);  // NUL-terminated for strtoll/strtod
  if (!point && !exponent) {
    errno = 0;
    char* end = nullptr;
    const long long x = std::strtoll(text.c_str(), &end, 10);
    if (errno != ERANGE && end == text.c_str() + text.size()) {
      n.type = SQLITE_INTEGER;
      n.i = x;
      return n;
    }
  }
  // strtod reads the locale's decimal point; the grammar above admitted only '.'.
  const char locale_point = *std::localeconv()->decimal_point;
  if (locale_point != '.') std::replace(text.begin(), text.end(), '.', locale_point);
  n.type = SQLITE_FLOAT;
  n.r = std::strtod(text.c_str(), nullptr);
  return n;
}

// The integer a real without a fraction stands for (SQLite's INTEGER affinity), if any.
std::optional<std::int64_t> integral(double d) noexcept {
  // In range before the cast (casting Inf or 1e300 to int64 is undefined), then integral.
  if (d >= -9223372036854775808.0 && d < 9223372036854775808.0 &&
      d == static_cast<double>(static_cast<std::int64_t>(d)))
    return static_cast<std::int64_t>(d);
  return std::nullopt;
}

Value integer_value(std::int64_t i) {
  Value out;
  out.kind = Value::integer;
  out.i = i;
  return out;
}

std::string quoted_text(sqlite3_value* v) {
  const auto n = static_cast<std::size_t>(sqlite3_value_bytes(v));
  std::string s(reinterpret_cast<const char*>(sqlite3_value_text(v)), std::min<std::size_t>(n, 40));
  return "'" + s + (n > 40 ? "...'" : "'");
}

}  // namespace

// Numbers and text that reads as a number go to integer, float and boolean columns as SQLite's
// numeric affinity converts them; anything else is refused with what came in.
Value metadata_value(const ColumnDef& c, sqlite3_value* v) {
  const int type = sqlite3_value_type(v);
  if (type == SQLITE_NULL) return Value{};
  const std::string what = "column " + c.name;
  if (type == SQLITE_TEXT &&
      (c.type == ColumnType::integer || c.type == ColumnType::real || c.type == ColumnType::boolean)) {
    const Numeric n = numeric_affinity(v);
    const std::string expected = c.type == ColumnType::real ? "a number" : "an integer";
    if (n.type == SQLITE_TEXT && c.type == ColumnType::boolean)
      fail(what + " is boolean; expected 0, 1, TRUE or FALSE, got text " + quoted_text(v));
    if (n.type == SQLITE_TEXT)
      fail(what + " is " + column_type_name(c.type) + "; got text " + quoted_text(v) + ", which does not read as " +
           expected);
    std::optional<std::int64_t> i = n.type == SQLITE_INTEGER ? std::optional<std::int64_t>(n.i) : integral(n.r);
    if (c.type == ColumnType::real) {
      Value out;
      out.kind = Value::real;
      out.r = n.type == SQLITE_INTEGER ? static_cast<double>(n.i) : n.r;
      if (!std::isfinite(out.r)) fail(what + " is float; got an infinite value (expected a finite number)");
      return out;
    }
    if (!i) fail(what + " is " + column_type_name(c.type) + "; got text " + quoted_text(v) + " with a fraction");
    if (c.type == ColumnType::boolean && *i != 0 && *i != 1)
      fail(what + " is boolean; expected 0, 1, TRUE or FALSE, got text " + quoted_text(v));
    return integer_value(*i);
  }
  switch (c.type) {
    case ColumnType::integer: {
      if (type == SQLITE_INTEGER) return Value::copy(v);
      if (type == SQLITE_FLOAT)
        if (const auto i = integral(sqlite3_value_double(v))) return integer_value(*i);
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

std::vector<float> vector_value(const std::string& column, std::uint32_t dim, sqlite3_value* v) {
  if (sqlite3_value_type(v) == SQLITE_NULL) fail("column " + column + " must not be NULL; expected a vector");
  std::vector<float> x = vector_arg(v, "column " + column);
  if (x.size() != dim)
    throw Error(Errc::mismatch,
                "column " + column + " has " + std::to_string(x.size()) + " floats; expected " + std::to_string(dim));
  return x;
}

}  // namespace bebr::ext
