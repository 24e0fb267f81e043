// Writes to the bebr table (write.hpp).
#include "write.hpp"

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <optional>

#include "bebr/vector.hpp"

namespace bebr::ext::vtab {
namespace {

int conflict(Table& t, const std::string& column) {
  sqlite3_free(t.zErrMsg);
  t.zErrMsg = sqlite3_mprintf("UNIQUE constraint failed: %s.%s", t.store->name().c_str(), column.c_str());
  return t.zErrMsg ? SQLITE_CONSTRAINT : SQLITE_NOMEM;
}

// The row written by an INSERT or UPDATE: each column from argv, or from the old row when an
// UPDATE leaves it unchanged.
RowData build_row(const Table& t, sqlite3_value** argv, const RowData* old) {
  const TableConfig& cfg = t.cfg();
  const auto unchanged = [&](int col) { return old && sqlite3_value_nochange(argv[2 + col]); };
  RowData row;
  if (unchanged(kVector)) {
    row.body = old->body;
    row.vector = old->vector;
  } else {
    const std::vector<float> x = vector_value(cfg.column, cfg.dim, argv[2 + kVector]);
    row.body.resize(body_bytes(t.store->binarizer().shape()));
    t.store->binarizer().encode_body(x, row.body.data());
    if (cfg.store_vectors) row.vector = floats_to_blob(x);
  }
  for (std::size_t j = 0; j < cfg.metadata.size(); ++j) {
    const int col = kFirstMeta + static_cast<int>(j);
    row.meta.push_back(unchanged(col) ? old->meta[j] : metadata_value(cfg.metadata[j], argv[2 + col]));
  }
  for (std::size_t j = 0; j < cfg.auxiliary.size(); ++j) {
    const int col = t.first_aux() + static_cast<int>(j);
    row.aux.push_back(unchanged(col) ? old->aux[j] : auxiliary_value(cfg.auxiliary[j], argv[2 + col]));
  }
  if (cfg.primary_key && row.aux[0].kind == Value::null)
    fail("column " + cfg.auxiliary[0].name + " is the table's primary key; expected " +
         (cfg.auxiliary[0].type == ColumnType::text ? "a text value" : "an integer") + ", got NULL");
  return row;
}

// 'recode' or 'recode=<model>': the table's rows coded again from their stored vectors under the
// latest version of its model's name, or the model (name or name@version) given. The new model
// must code vectors of the table's dimension into codes of the same kind, width and bits (the
// chunks keep their layout). A line a second on stderr when it is a terminal, as bebr_train.
void recode(Table& t, std::string spec) {
  Store& store = *t.store;
  store.refresh();
  const TableConfig& cfg = t.cfg();
  const std::string table = store.name();
  if (cfg.model_name.empty())
    fail("recode: table " + table + " has no model (created without model=); expected a table made with model='name'");
  if (!cfg.store_vectors)
    fail("recode: table " + table + " keeps no vectors to code again (created without store_vectors=1); re-create it " +
         "with store_vectors=1 and model='name@V', and insert the rows again");
  if (spec.empty()) spec = cfg.model_name;
  const StoredModel m = load_model(t.db, spec, t.schema);
  const std::string what = "recode: model '" + m.name + "@" + std::to_string(m.version) + "'";
  const CodeShape& now = store.binarizer().shape();
  const CodeShape& next = m.binarizer->shape();
  if (m.binarizer->input_dim() != cfg.dim)
    throw Error(Errc::mismatch, what + " codes " + std::to_string(m.binarizer->input_dim()) + "-d vectors; table " +
                                    table + " holds " + std::to_string(cfg.dim) + "-d vectors");
  if (next.bits != now.bits || next.dim != now.dim || next.kind != now.kind)
    throw Error(Errc::mismatch,
                what + " makes " + kind_name(next.kind) + " codes of " + std::to_string(next.dim) + " dimensions and " +
                    std::to_string(next.bits) + " bits; table " + table + " stores " + kind_name(now.kind) +
                    " codes of " + std::to_string(now.dim) + " dimensions and " + std::to_string(now.bits) +
                    " bits, and a recode keeps the codes' size: create a table with model='" + m.name + "@" +
                    std::to_string(m.version) + "' and insert the rows there");
  keep_model_in(t.db, t.schema, m);
  const bool print = isatty(2) != 0;
  const auto start = std::chrono::steady_clock::now();
  double last = 0;
  store.recode(m.binarizer, m.name, m.version, [&](std::size_t done, std::size_t total) {
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (!print || (s - last < 1.0 && done < total)) return;
    last = s;
    std::fprintf(stderr, "bebr recode %s: %zu/%zu rows, %.0f s\n", table.c_str(), done, total, s);
  });
}

}  // namespace

int delete_row(Table& t, sqlite3_value* rowid) {
  const std::int64_t id = sqlite3_value_int64(rowid);
  if (const auto at = t.store->find(id)) t.store->remove(id, *at);
  return SQLITE_OK;
}

int run_command(Table& t, sqlite3_value* command) {
  const char* cmd = reinterpret_cast<const char*>(sqlite3_value_text(command));
  const std::string c = cmd ? cmd : "";
  if (c == "optimize") {
    t.store->optimize();
    return SQLITE_OK;
  }
  if (c == "integrity-check") {
    t.store->check_integrity();
    return SQLITE_OK;
  }
  if (c == "recode" || c.rfind("recode=", 0) == 0) {
    recode(t, c.size() > 7 ? c.substr(7) : "");
    return SQLITE_OK;
  }
  fail("unknown command '" + c + "'; expected 'optimize', 'integrity-check', 'recode' or 'recode=<model>'");
}

int write_row(Table& t, sqlite3_value** argv, sqlite3_int64* out_rowid) {
  Store& store = *t.store;
  store.refresh();  // the model as the database has it, to encode with
  const bool is_update = sqlite3_value_type(argv[0]) != SQLITE_NULL;
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
  const RowData row = build_row(t, argv, old ? &*old : nullptr);

  if (rowid_given && (!is_update || rowid != old_id)) {
    if (const auto taken = store.find(rowid)) {
      if (sqlite3_vtab_on_conflict(t.db) != SQLITE_REPLACE) return conflict(t, "rowid");
      store.remove(rowid, *taken);
      if (is_update) old_at = store.find(old_id);  // unchanged, but re-read after a removal
    }
  }
  // Another row with the same primary key: refused, or replaced under OR REPLACE (before any
  // removal above, which only OR REPLACE makes).
  if (t.cfg().primary_key)
    if (const auto owner = store.find_key(row.aux[0]); owner && (!is_update || *owner != old_id)) {
      if (sqlite3_vtab_on_conflict(t.db) != SQLITE_REPLACE) return conflict(t, t.cfg().auxiliary[0].name);
      if (const auto at = store.find(*owner)) store.remove(*owner, *at);
      if (is_update) old_at = store.find(old_id);
    }
  if (is_update) store.remove(old_id, *old_at);
  *out_rowid = store.insert(rowid_given ? std::optional<std::int64_t>(rowid) : std::nullopt, row);
  return SQLITE_OK;
}

}  // namespace bebr::ext::vtab
