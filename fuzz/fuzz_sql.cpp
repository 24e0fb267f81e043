// libFuzzer target: SQL statements over a bebr table, checked against a plain table holding the
// same rows (the oracle). The input is a program: each byte picks a write (insert, replace,
// update, delete, a range delete), a transaction step (BEGIN, COMMIT, ROLLBACK, SAVEPOINT,
// ROLLBACK TO, RELEASE), 'optimize', or a kNN query whose rowids and distances must equal
// brute-force SDC over the plain table, with the query's k, rescore and filter taken from the
// input. Any difference, a statement that fails on one table but not the other, a crash, a leak
// or undefined behaviour is a finding.
#include <sqlite3.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <utility>
#include <vector>

extern "C" int sqlite3_bebr_init(sqlite3* db, char** err, const sqlite3_api_routines* api);

namespace {

constexpr int kDim = 8;

// The input, read a byte at a time; zeros once it runs out.
struct Input {
  const std::uint8_t* p;
  std::size_t n;
  std::uint8_t next() {
    if (n == 0) return 0;
    --n;
    return *p++;
  }
  bool done() const { return n == 0; }
};

[[noreturn]] void finding(const std::string& what) {
  std::fprintf(stderr, "fuzz_sql: %s\n", what.c_str());
  std::abort();
}

struct Stmt {
  sqlite3_stmt* s = nullptr;
  Stmt(sqlite3* db, const std::string& sql) {
    if (sqlite3_prepare_v2(db, sql.c_str(), -1, &s, nullptr) != SQLITE_OK)
      finding("cannot prepare " + sql + ": " + sqlite3_errmsg(db));
  }
  ~Stmt() { sqlite3_finalize(s); }
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;
};

// Runs sql on each table name (substituted for "$"), binding the same values; both must succeed
// or both fail.
void both(sqlite3* db, const std::string& sql, const std::vector<float>* x, long long id, int g, int tag) {
  int rc[2];
  for (int t = 0; t < 2; ++t) {
    std::string s = sql;
    for (std::size_t at; (at = s.find('$')) != std::string::npos;) s.replace(at, 1, t ? "p" : "v");
    Stmt st(db, s);
    if (x) sqlite3_bind_blob(st.s, 1, x->data(), kDim * 4, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st.s, 2, id);
    if (g >= 0) sqlite3_bind_int(st.s, 3, g);
    if (tag >= 0) sqlite3_bind_text(st.s, 4, tag ? "b" : "a", 1, SQLITE_STATIC);
    while ((rc[t] = sqlite3_step(st.s)) == SQLITE_ROW) {
    }
  }
  if ((rc[0] == SQLITE_DONE) != (rc[1] == SQLITE_DONE))
    finding("'" + sql + "' gave " + std::to_string(rc[0]) + " on bebr and " + std::to_string(rc[1]) + " on the oracle");
}

std::vector<float> vector_of(Input& in) {
  std::vector<float> x(kDim);
  for (float& v : x) v = static_cast<float>(static_cast<std::int8_t>(in.next())) / 16.f;
  return x;
}

std::vector<std::pair<long long, double>> rows(sqlite3* db, const std::string& sql, const std::vector<float>& q, int k,
                                               int rescore) {
  Stmt st(db, sql);
  sqlite3_bind_blob(st.s, 1, q.data(), kDim * 4, SQLITE_TRANSIENT);
  sqlite3_bind_int(st.s, 2, k);
  sqlite3_bind_int(st.s, 3, rescore);
  std::vector<std::pair<long long, double>> out;
  int rc;
  while ((rc = sqlite3_step(st.s)) == SQLITE_ROW)
    out.emplace_back(sqlite3_column_int64(st.s, 0), sqlite3_column_double(st.s, 1));
  if (rc != SQLITE_DONE) finding(sql + ": " + sqlite3_errmsg(db));
  return out;
}

void query(sqlite3* db, Input& in, int bits, const char* metric) {
  static const char* const filters[] = {
      "", "g = 2", "g < 2", "g IN (0, 3)", "tag = 'a'", "tag = 'b' AND g >= 1", "rowid IN (1, 2, 3, 5, 8, 13, 21, 34)"};
  const std::vector<float> q = vector_of(in);
  const int k = in.next() % 40 + 1, rescore = in.next() % 3 == 0 ? 6 : 0;
  const std::string filter = filters[in.next() % (sizeof filters / sizeof *filters)];
  const std::string and_f = filter.empty() ? "" : " AND " + filter, where_f = filter.empty() ? "" : " WHERE " + filter;
  const std::string b = std::to_string(bits), m = std::string("'") + metric + "'";
  const auto got =
      rows(db, "SELECT rowid, distance FROM v WHERE e MATCH ?1 AND k = ?2 AND rescore = ?3" + and_f, q, k, rescore);
  const std::string sdc = "bebr_sdc_distance(bebr_binarize(?1, " + b + "), bebr_binarize(e, " + b + "), " + m + ")";
  std::string oracle = "SELECT rowid, " + sdc + " AS d FROM p" + where_f + " ORDER BY d, rowid LIMIT ?2 + 0*?3";
  if (rescore)
    oracle = "SELECT rowid, bebr_distance(?1, e, " + m + ") AS x FROM (SELECT rowid, e, " + sdc + " AS d FROM p" +
             where_f + " ORDER BY d, rowid LIMIT max(?2, ?3)) ORDER BY x, rowid LIMIT ?2";
  const auto want = rows(db, oracle, q, k, rescore);
  if (got.size() != want.size())
    finding("k = " + std::to_string(k) + " filter '" + filter + "': " + std::to_string(got.size()) + " rows, oracle " +
            std::to_string(want.size()));
  for (std::size_t i = 0; i < got.size(); ++i)
    if (got[i].first != want[i].first || std::fabs(got[i].second - want[i].second) > 1e-12)
      finding("row " + std::to_string(i) + ": rowid " + std::to_string(got[i].first) + " at " +
              std::to_string(got[i].second) + ", oracle rowid " + std::to_string(want[i].first) + " at " +
              std::to_string(want[i].second));
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  sqlite3_auto_extension(reinterpret_cast<void (*)()>(sqlite3_bebr_init));
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  Input in{data, size};
  static const int bit_choices[] = {1, 2, 4, 8};
  static const char* const metrics[] = {"cosine", "l2", "ip"};
  const std::uint8_t setup = in.next();
  const int bits = bit_choices[setup % 4];
  const char* metric = metrics[(setup / 4) % 3];
  const int cache = (setup / 12) % 2;
  sqlite3* db = nullptr;
  if (sqlite3_open(":memory:", &db) != SQLITE_OK) finding("cannot open a database");
  const std::string create =
      "CREATE VIRTUAL TABLE v USING bebr(e float[8], g integer, tag text, bits=" + std::to_string(bits) +
      ", metric=" + metric + ", store_vectors=1, chunk_size=64, cache=" + std::to_string(cache) + ");" +
      "CREATE TABLE p(rowid INTEGER PRIMARY KEY, e BLOB, g INTEGER, tag TEXT);";
  if (sqlite3_exec(db, create.c_str(), nullptr, nullptr, nullptr) != SQLITE_OK)
    finding(std::string("cannot create the tables: ") + sqlite3_errmsg(db));
  int depth = 0;  // open savepoints
  for (int ops = 0; !in.done() && ops < 200; ++ops) {
    const int op = in.next() % 16;
    const long long id = static_cast<long long>(in.next() % 160) - 10;
    if (op < 5) {
      const auto x = vector_of(in);
      const std::uint8_t meta = in.next();
      both(db, "INSERT OR REPLACE INTO $(e, rowid, g, tag) VALUES (?1, ?2, ?3, ?4)", &x, id,
           meta % 6 == 5 ? -1 : meta % 5, meta / 6 % 3 == 2 ? -1 : meta / 6 % 3);
    } else if (op == 5) {
      both(db, "DELETE FROM $ WHERE rowid = ?2", nullptr, id, -1, -1);
    } else if (op == 6) {
      const auto x = vector_of(in);
      both(db, "UPDATE $ SET e = ?1 WHERE rowid = ?2", &x, id, -1, -1);
    } else if (op == 7) {
      both(db, "UPDATE $ SET g = ?3 WHERE rowid = ?2", nullptr, id, in.next() % 5, -1);
    } else if (op == 8) {
      both(db, "DELETE FROM $ WHERE rowid BETWEEN ?2 AND ?2 + 30", nullptr, id, -1, -1);
    } else if (op == 9) {
      sqlite3_exec(db, depth ? "ROLLBACK" : "BEGIN", nullptr, nullptr, nullptr);
      depth = sqlite3_get_autocommit(db) ? 0 : 1;
    } else if (op == 10) {
      sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr);
      depth = 0;
    } else if (op == 11) {
      sqlite3_exec(db, ("SAVEPOINT s" + std::to_string(depth)).c_str(), nullptr, nullptr, nullptr);
      ++depth;
    } else if (op == 12 && depth > 0) {
      const int to = static_cast<int>(id % depth);
      sqlite3_exec(db, ((id & 1 ? "RELEASE s" : "ROLLBACK TO s") + std::to_string(to)).c_str(), nullptr, nullptr,
                   nullptr);
      if (id & 1) depth = sqlite3_get_autocommit(db) ? 0 : to;
    } else if (op == 13) {
      if (sqlite3_exec(db, "INSERT INTO v(v) VALUES ('optimize')", nullptr, nullptr, nullptr) != SQLITE_OK)
        finding(std::string("optimize failed: ") + sqlite3_errmsg(db));
    } else {
      query(db, in, bits, metric);
    }
  }
  query(db, in, bits, metric);
  sqlite3_close(db);
  return 0;
}
