// Parsing CREATE VIRTUAL TABLE ... USING bebr(...) arguments (declaration.hpp).
#include "declaration.hpp"

#include <algorithm>
#include <cctype>
#include <cstdlib>

#include "table.hpp"

namespace bebr::ext::vtab {
namespace {

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
  else if (s.size() >= 2 && s.front() == '[' && s.back() == ']') s = s.substr(1, s.size() - 2);
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

// Which arguments were given so far: each may be given once.
struct Seen {
  bool vector = false, metric = false, store = false, model = false, chunk = false, cache = false;
};

// Words separated by single spaces: "text  PRIMARY\tkey" -> "text primary key" (lower case).
std::string words(const std::string& s) {
  std::string out;
  for (const char ch : lower(s)) {
    if (!std::isspace(static_cast<unsigned char>(ch))) out += ch;
    else if (!out.empty() && out.back() != ' ') out += ' ';
  }
  if (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

// `name text primary key` or `name integer primary key`: a unique key besides the rowid, kept
// as the first auxiliary column. False when `type` does not end in "primary key".
bool parse_primary_key(TableConfig& c, const std::string& name, const std::string& type) {
  const std::string w = words(type);
  const std::string suffix = "primary key";
  if (w != suffix && (w.size() < suffix.size() + 1 || w.compare(w.size() - suffix.size() - 1, std::string::npos,
                                                                  " " + suffix) != 0))
    return false;
  if (c.primary_key) fail("only one primary key column is supported; got a second, '" + name + "'");
  const std::string t = w == suffix ? "" : w.substr(0, w.size() - suffix.size() - 1);
  ColumnDef d{name, ColumnType::text};
  if (t == "integer" || t == "int") d.type = ColumnType::integer;
  else if (t != "text")
    fail("primary key column '" + name + "' must be text or integer ('" + name + " text primary key'); got '" +
         type + "'");
  c.auxiliary.insert(c.auxiliary.begin(), d);
  c.primary_key = true;
  return true;
}

// One `key=value` option.
void parse_option(TableConfig& c, Seen& seen, const std::string& key, const std::string& value) {
  const auto once = [&](bool& given) {
    if (given) fail("option " + key + " is given twice");
    given = true;
  };
  if (key == "bits") {
    if (c.bits) fail("option bits is given twice");
    c.bits = parse_uint("bits", value, 1, kMaxBits);
  } else if (key == "metric") {
    once(seen.metric);
    const auto m = parse_metric(value);
    if (!m) fail("unknown metric '" + value + "'; expected cosine, ip or l2");
    c.metric = *m;
  } else if (key == "model") {
    once(seen.model);
    c.model_name = value;
  } else if (key == "store_vectors") {
    once(seen.store);
    c.store_vectors = parse_flag(key, value);
  } else if (key == "chunk_size") {
    once(seen.chunk);
    c.chunk_size = parse_uint("chunk_size", value, 64, 65536);
    if (c.chunk_size % 64) fail("chunk_size must be a multiple of 64; got " + value);
  } else if (key == "cache") {
    once(seen.cache);
    c.cache = parse_flag(key, value);
  } else {
    fail("unknown option '" + key + "'; expected bits, metric, model, store_vectors, chunk_size or cache");
  }
}

// An auxiliary column: `+name [type]`.
void parse_auxiliary(TableConfig& c, const std::string& arg) {
  auto [name, type] = split_column(trim(arg.substr(1)));
  if (name.empty()) fail("auxiliary column '" + arg + "' has no name");
  const std::string t = lower(type);
  ColumnDef d{name, ColumnType::any};
  if (t == "text") d.type = ColumnType::text;
  else if (t == "integer" || t == "int") d.type = ColumnType::integer;
  else if (t == "float" || t == "real" || t == "double") d.type = ColumnType::real;
  else if (t == "blob" || t.empty() || t == "any") d.type = ColumnType::any;
  else
    fail("auxiliary column '" + name + "' has unknown type '" + type +
         "'; expected text, integer, float, blob or none");
  c.auxiliary.push_back(d);
}

// The vector column `name float[dim]` or a metadata column `name [type]` (no type: any value).
void parse_column(TableConfig& c, Seen& seen, const std::string& arg) {
  auto [name, type] = split_column(arg);
  const std::string t = lower(type);
  if (t.rfind("float[", 0) == 0 && t.back() == ']') {
    if (seen.vector) fail("only one vector column is supported; got a second, '" + name + "'");
    const std::string digits = t.substr(6, t.size() - 7);
    c.dim = parse_uint("vector dimension", digits, 1, kMaxDim);
    c.column = name;
    seen.vector = true;
    return;
  }
  if (parse_primary_key(c, name, type)) return;
  ColumnDef d{name, ColumnType::any};
  if (t == "integer" || t == "int") d.type = ColumnType::integer;
  else if (t == "float" || t == "real" || t == "double") d.type = ColumnType::real;
  else if (t == "text") d.type = ColumnType::text;
  else if (t == "boolean" || t == "bool") d.type = ColumnType::boolean;
  else if (t.empty() || t == "any" || t == "blob") d.type = ColumnType::any;  // no affinity: any value, as given
  else
    fail("column '" + arg +
         "' is not supported; expected a vector column ('embedding float[768]'), a metadata "
         "column ('name [integer|float|text|boolean]'), an auxiliary column ('+name [type]') or a primary "
         "key ('id text primary key')");
  c.metadata.push_back(d);
}

// model=: the model's bits and reference (name, version, id, shape), after checking it against
// the vector column and bits=. 'name@V' names a version; the latest otherwise. The model row is
// kept in the table's own database (copied there from another one that has it), where the
// table finds it when something must be encoded.
void apply_model(sqlite3* db, const std::string& schema, TableConfig& c) {
  const StoredModel m = load_model(db, c.model_name, schema);
  const auto& model = m.binarizer;
  const std::string what = "model '" + m.name + "@" + std::to_string(m.version) + "'";
  if (model->input_dim() != c.dim)
    throw Error(Errc::mismatch, what + " has dimension " + std::to_string(model->input_dim()) +
                                    "; the table's vector column has " + std::to_string(c.dim));
  if (c.bits && c.bits != model->shape().bits)
    throw Error(Errc::mismatch, "bits=" + std::to_string(c.bits) + " but " + what + " codes with " +
                                    std::to_string(model->shape().bits) + " bits; leave bits out to use the model's");
  keep_model_in(db, schema, m);
  c.bits = model->shape().bits;
  c.model_name = m.name;
  c.model_version = m.version;
  c.model_id = model->shape().model_id;
  c.model_kind = model->shape().kind;
  c.code_dim = model->shape().dim;
}

std::string declared_type(ColumnType t) {
  switch (t) {
    case ColumnType::integer:
    case ColumnType::boolean: return " INTEGER";
    case ColumnType::real: return " REAL";
    case ColumnType::text: return " TEXT";
    case ColumnType::any: return "";
  }
  return "";
}

}  // namespace

// Names that no declared column may take (the table's own name is the command column).
void check_names(const TableConfig& c, const std::string& table) {
  std::vector<std::string> names{lower(c.column), "distance", "k", "rescore", lower(table)};
  const auto add = [&](const std::string& n) {
    const std::string l = lower(n);
    if (std::find(names.begin(), names.end(), l) != names.end()) {
      if (l == lower(table))
        fail("a column may not be named '" + n + "' like the table: that name is the command column");
      if (l == "distance" || l == "k" || l == "rescore")
        fail("column name '" + n +
             "' is reserved; expected a name other than distance, k and rescore (hidden "
             "columns of every bebr table)");
      fail("column name '" + n + "' is used twice; expected each column name once (case-insensitive)");
    }
    names.push_back(l);
  };
  for (const auto& m : c.metadata) add(m.name);
  for (const auto& a : c.auxiliary) add(a.name);
}

TableConfig parse_declaration(sqlite3* db, const std::string& table, int argc, const char* const* argv) {
  TableConfig c;
  Seen seen;
  for (int i = 3; i < argc; ++i) {
    const std::string arg = trim(argv[i]);
    if (arg.empty()) fail("empty argument in the declaration");
    if (const auto eq = arg.find('='); eq != std::string::npos && arg[0] != '+')
      parse_option(c, seen, lower(trim(arg.substr(0, eq))), unquote(trim(arg.substr(eq + 1))));
    else if (arg[0] == '+') parse_auxiliary(c, arg);
    else parse_column(c, seen, arg);
  }
  if (!seen.vector) fail("expected a vector column such as 'embedding float[768]'");
  check_names(c, table);
  if (seen.model) apply_model(db, argc > 1 ? argv[1] : "main", c);
  if (!c.bits) c.bits = 1;
  return c;
}

std::string declare_sql(const TableConfig& c, const std::string& table) {
  std::string decl = "CREATE TABLE x(\"" + c.column +
                     "\" BLOB, distance REAL HIDDEN, k INTEGER HIDDEN, "
                     "rescore INTEGER HIDDEN, \"" +
                     table + "\" HIDDEN";
  for (const auto& m : c.metadata) decl += ", \"" + m.name + "\"" + declared_type(m.type);
  for (const auto& a : c.auxiliary) decl += ", \"" + a.name + "\"" + declared_type(a.type);
  decl += ")";
  for (const auto& n : {c.column, table})
    if (n.find('"') != std::string::npos) fail("names may not contain a double quote: '" + n + "'");
  for (const auto* cols : {&c.metadata, &c.auxiliary})
    for (const auto& col : *cols)
      if (col.name.find('"') != std::string::npos) fail("names may not contain a double quote: '" + col.name + "'");
  return decl;
}

}  // namespace bebr::ext::vtab
