// Allocation failures at every point of a bebr table's life (SQLite's malloc tests, fts5's
// fault-injection suites): a script that loads the extension, creates a table with metadata,
// inserts rows (one statement and one transaction), runs kNN queries with filters (plain,
// streamed, rescored) and optimizes, run once per N with allocation N failing, alone or with
// every one after it, for N = 1, 2, ... until a run sees no failure. Every run must end in
// success, SQLITE_NOMEM or a clean error (never a crash, never "internal error"); then, with
// failures off, the database must pass PRAGMA integrity_check, hold exactly the rows of the
// statements that succeeded, and answer the kNN queries as a brute-force SQL scan over them,
// on the same connection and on a fresh one. Under the sanitizers LeakSanitizer also checks
// that the failure paths free what they allocated.
//
// Two allocators and the file system fail, each in its own test cases:
//   - SQLite's (sqlite3_config(SQLITE_CONFIG_MALLOC), lookaside off so every allocation goes
//     through it): sqlite3_malloc in bebr and everything SQLite allocates for bebr's SQL;
//   - C++'s (this program replaces the global operator new, which the loaded extension also
//     calls): every std::string, std::vector and make_unique in bebr, each becoming
//     std::bad_alloc inside bebr's guards;
//   - the database's I/O (tests/ext/fault_vfs.hpp, the default VFS wrapped): a read, write,
//     sync, truncate or size call answers SQLITE_IOERR_*.
// Its own program: SQLITE_CONFIG_MALLOC must be set before sqlite3_initialize.
#include <catch2/catch.hpp>
#include <sqlite3.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>
#include <set>
#include <string>
#include <unistd.h>
#include <vector>

#include "ext/fault_vfs.hpp"

namespace {

// The allocation to fail: countdown > 0 counts allocations down while armed; the one that
// brings it to 0 fails, and with `persistent` every one after it. Plain globals: the test is
// single-threaded.
struct Faults {
  bool armed = false;
  bool persistent = false;
  long countdown = 0;
  long failed = 0;  // failures injected in this run
  bool fail_now() noexcept {
    if (!armed) return false;
    if (countdown <= 0) {
      if (!persistent || failed == 0) return false;
    } else if (--countdown > 0) {
      return false;
    }
    ++failed;
    return true;
  }
};
Faults sqlite_faults, new_faults, io_faults;

sqlite3_mem_methods default_mem;
void* fault_malloc(int n) { return sqlite_faults.fail_now() ? nullptr : default_mem.xMalloc(n); }
void* fault_realloc(void* p, int n) { return sqlite_faults.fail_now() ? nullptr : default_mem.xRealloc(p, n); }

// SQLite's allocator wrapped, before anything initializes SQLite.
void install_sqlite_faults() {
  static bool done = false;
  if (done) return;
  done = true;
  REQUIRE(sqlite3_shutdown() == SQLITE_OK);
  REQUIRE(sqlite3_config(SQLITE_CONFIG_GETMALLOC, &default_mem) == SQLITE_OK);
  sqlite3_mem_methods m = default_mem;
  m.xMalloc = fault_malloc;
  m.xRealloc = fault_realloc;
  REQUIRE(sqlite3_config(SQLITE_CONFIG_MALLOC, &m) == SQLITE_OK);
  REQUIRE(sqlite3_config(SQLITE_CONFIG_LOOKASIDE, 0, 0) == SQLITE_OK);
  REQUIRE(sqlite3_initialize() == SQLITE_OK);
  bebr::testing::FaultVfs::install([] { return io_faults.fail_now(); });
}

void* new_or_null(std::size_t n) noexcept {
  if (new_faults.fail_now()) return nullptr;
  return std::malloc(n ? n : 1);
}
void* new_aligned_or_null(std::size_t n, std::align_val_t a) noexcept {
  if (new_faults.fail_now()) return nullptr;
  const auto align = static_cast<std::size_t>(a);
  return std::aligned_alloc(align, (n + align - 1) / align * align);
}

}  // namespace

// The global operator new, failing when new_faults says so (operator delete: free, to match).
// GCC cannot see that new_or_null allocates with malloc, so it flags the free() below once it
// inlines a container's new/delete pair (RelWithDebInfo): the pair does match.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
void* operator new(std::size_t n) {
  if (void* p = new_or_null(n)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t n) { return operator new(n); }
void* operator new(std::size_t n, const std::nothrow_t&) noexcept { return new_or_null(n); }
void* operator new[](std::size_t n, const std::nothrow_t&) noexcept { return new_or_null(n); }
void* operator new(std::size_t n, std::align_val_t a) {
  if (void* p = new_aligned_or_null(n, a)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t n, std::align_val_t a) { return operator new(n, a); }
void* operator new(std::size_t n, std::align_val_t a, const std::nothrow_t&) noexcept {
  return new_aligned_or_null(n, a);
}
void* operator new[](std::size_t n, std::align_val_t a, const std::nothrow_t&) noexcept {
  return new_aligned_or_null(n, a);
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t, const std::nothrow_t&) noexcept { std::free(p); }

namespace {

constexpr int kDim = 8;

// A fixed vector for row `id` (or the query, id < 0), as JSON: no randomness to seed.
std::string vector_json(long long id) {
  std::string s = "[";
  for (int j = 0; j < kDim; ++j) {
    const long long x = (id * 7919 + j * 104729 + 13) % 201 - 100;
    s += (j ? ", " : "") + std::to_string(x) + ".5";
  }
  return s + "]";
}

std::string row_values(long long id) {
  return "(" + std::to_string(id) + ", '" + vector_json(id) + "', '" + "abc"[id % 3] + "', " + std::to_string(id % 5) +
         ", 'note " + std::to_string(id) + "')";
}

// One step of the script: its SQL and the rowids it adds or removes when it succeeds.
struct Step {
  std::string sql;
  std::set<long long> added, removed;
  bool load = false;   // load the extension instead of running SQL
  bool query = false;  // a kNN query: its rows are checked against the oracle
};

const char* const kCreate =
    "CREATE VIRTUAL TABLE v USING bebr(e float[8], tag text, g integer, +note text, bits=2, "
    "store_vectors=1, chunk_size=64)";
const char* const kKnn = "SELECT rowid, distance FROM v WHERE e MATCH ?1 AND k = 7 AND tag IN ('a', 'b') AND g >= 1";
const char* const kStreamed = "SELECT rowid, distance FROM v WHERE e MATCH ?1 AND rowid != 3 ORDER BY distance LIMIT 4";
const char* const kRescored = "SELECT rowid, distance FROM v WHERE e MATCH ?1 AND k = 3 AND rescore = 6";
// The oracles: SDC distances of the stored vectors' codes, or exact distances of the vectors.
const std::string kSdc = "bebr_sdc_distance(bebr_binarize(?1, 2), bebr_binarize(e, 2))";
const std::string kKnnOracle =
    "SELECT rowid, " + kSdc + " AS d FROM v WHERE tag IN ('a', 'b') AND g >= 1 ORDER BY d, rowid LIMIT 7";
const std::string kStreamedOracle = "SELECT rowid, " + kSdc + " AS d FROM v WHERE rowid != 3 ORDER BY d, rowid LIMIT 4";
const std::string kRescoredOracle = "SELECT rowid, bebr_distance(?1, e) AS x FROM (SELECT rowid, e, " + kSdc +
                                    " AS d FROM v ORDER BY d, rowid LIMIT 6) ORDER BY x, rowid LIMIT 3";

std::vector<Step> script() {
  std::vector<Step> steps;
  steps.push_back({"", {}, {}, true, false});
  steps.push_back({kCreate, {}, {}, false, false});
  Step run{"INSERT INTO v(rowid, e, tag, g, note) VALUES ", {}, {}, false, false};
  for (long long id = 1; id <= 70; ++id) {  // a run of rowids: ranged chunks 0 and 1
    run.sql += (id > 1 ? ", " : "") + row_values(id);
    run.added.insert(id);
  }
  steps.push_back(run);
  // Scattered rowids (listed chunks), an update and a delete, in one transaction.
  Step txn{"BEGIN; ", {}, {}, false, false};
  for (long long id : {1000LL, 5003LL, 77777LL, 123456789LL, 200LL, 9LL * 64 + 5}) {
    txn.sql += "INSERT INTO v(rowid, e, tag, g, note) VALUES " + row_values(id) + "; ";
    txn.added.insert(id);
  }
  txn.sql += "UPDATE v SET g = 4, tag = 'b' WHERE rowid = 10; DELETE FROM v WHERE rowid BETWEEN 20 AND 24; COMMIT";
  txn.removed = {20, 21, 22, 23, 24};
  steps.push_back(txn);
  steps.push_back({kKnn, {}, {}, false, true});
  steps.push_back({kStreamed, {}, {}, false, true});
  steps.push_back({kRescored, {}, {}, false, true});
  steps.push_back({"INSERT INTO v(v) VALUES ('optimize')", {}, {}, false, false});
  steps.push_back({kKnn, {}, {}, false, true});
  return steps;
}

using Rows = std::vector<std::pair<long long, double>>;
constexpr std::size_t kMaxRows = 16;  // more than any query returns

const std::string& query_vector() {
  static const std::string q = vector_json(-1);
  return q;
}

// Runs a query with the query vector bound into `rows` (reserved: no operator new while a run
// is armed); returns SQLite's result.
int run_query(sqlite3* db, const std::string& sql, Rows& rows) {
  rows.clear();
  sqlite3_stmt* s = nullptr;
  int rc = sqlite3_prepare_v2(db, sql.c_str(), -1, &s, nullptr);
  if (rc == SQLITE_OK) {
    rc = sqlite3_bind_text(s, 1, query_vector().c_str(), -1, SQLITE_STATIC);
    while (rc == SQLITE_OK && (rc = sqlite3_step(s)) == SQLITE_ROW) {
      if (rows.size() < rows.capacity()) rows.emplace_back(sqlite3_column_int64(s, 0), sqlite3_column_double(s, 1));
      rc = SQLITE_OK;
    }
    if (rc == SQLITE_DONE) rc = SQLITE_OK;
  }
  sqlite3_finalize(s);
  return rc;
}

Rows query_rows(sqlite3* db, const std::string& sql) {
  Rows rows;
  rows.reserve(kMaxRows);
  REQUIRE(run_query(db, sql, rows) == SQLITE_OK);
  return rows;
}

// Loads the extension; its error message, if any, goes into `message` (reserved: no
// operator new while a run is armed).

int load(sqlite3* db, std::string* message = nullptr) {
  char* err = nullptr;
  const int rc = sqlite3_load_extension(db, BEBR_EXTENSION_PATH, "sqlite3_bebr_init", &err);
  if (message && err) message->assign(err, std::min<std::size_t>(std::strlen(err), message->capacity()));
  sqlite3_free(err);
  return rc;
}

// The outcome of one armed run: how far it got. Allocated before the run is armed.
struct Run {
  int failed_step = -1;  // the first step that failed, -1: none
  int rc = SQLITE_OK;
  std::string message;
  std::vector<Rows> answers;  // rows of the queries that succeeded, by step
  explicit Run(std::size_t steps) : answers(steps) {
    message.reserve(512);
    for (Rows& a : answers) a.reserve(kMaxRows);
  }
};

// The script, stopping at the first step that fails. Allocates nothing itself.
void run_script(sqlite3* db, const std::vector<Step>& steps, Run& r) {
  for (std::size_t i = 0; i < steps.size() && r.failed_step < 0; ++i) {
    const Step& s = steps[i];
    int rc = SQLITE_OK;
    if (s.load) rc = load(db, &r.message);
    else if (s.query) rc = run_query(db, s.sql, r.answers[i]);
    else rc = sqlite3_exec(db, s.sql.c_str(), nullptr, nullptr, nullptr);
    if (rc != SQLITE_OK) {
      r.failed_step = static_cast<int>(i);
      r.rc = rc;
      const char* m = sqlite3_errmsg(db);
      if (!s.load) r.message.assign(m, std::min<std::size_t>(std::strlen(m), r.message.capacity()));
    }
  }
}

// A clean failure: out of memory, or an error whose message says what went wrong (and never
// that bebr has a bug).
void check_clean(const Run& r) {
  if (r.failed_step < 0) return;
  INFO("step " << r.failed_step << " failed with " << r.rc << ": " << r.message);
  const bool nomem = r.rc == SQLITE_NOMEM || r.message.find("out of memory") != std::string::npos;
  CHECK((nomem || r.rc == SQLITE_ERROR || r.rc == SQLITE_CONSTRAINT || (r.rc & 0xff) == SQLITE_IOERR));
  CHECK(r.message.find("corrupt") == std::string::npos);
  CHECK(r.message.find("internal error") == std::string::npos);
}

std::string one_text(sqlite3* db, const std::string& sql) {
  sqlite3_stmt* s = nullptr;
  std::string out = "(error)";
  if (sqlite3_prepare_v2(db, sql.c_str(), -1, &s, nullptr) == SQLITE_OK && sqlite3_step(s) == SQLITE_ROW) {
    const auto* t = sqlite3_column_text(s, 0);
    out = t ? reinterpret_cast<const char*>(t) : "NULL";
  }
  sqlite3_finalize(s);
  return out;
}

void check_same(const Rows& got, const Rows& want) {
  REQUIRE(got.size() == want.size());
  for (std::size_t i = 0; i < got.size(); ++i) {
    CHECK(got[i].first == want[i].first);
    CHECK(got[i].second == Approx(want[i].second).margin(1e-12));
  }
}

// With failures off: the database is intact and holds the rows of the steps that succeeded;
// every query gives the oracle's answer, and so did the armed run's queries that succeeded.
void check_after(sqlite3* db, const std::vector<Step>& steps, const Run& r) {
  CHECK(one_text(db, "PRAGMA integrity_check") == "ok");
  const int done = r.failed_step < 0 ? static_cast<int>(steps.size()) : r.failed_step;
  if (done < 2) {  // no table: none of its shadow tables either
    CHECK(one_text(db, "SELECT count(*) FROM sqlite_schema WHERE name LIKE 'v%'") == "0");
    return;
  }
  std::set<long long> want;
  for (int i = 0; i < done; ++i) {
    for (long long id : steps[i].added) want.insert(id);
    for (long long id : steps[i].removed) want.erase(id);
  }
  std::set<long long> have;
  sqlite3_stmt* s = nullptr;
  REQUIRE(sqlite3_prepare_v2(db, "SELECT rowid FROM v", -1, &s, nullptr) == SQLITE_OK);
  while (sqlite3_step(s) == SQLITE_ROW) have.insert(sqlite3_column_int64(s, 0));
  sqlite3_finalize(s);
  CHECK(have == want);
  CHECK(one_text(db, "SELECT count(*) FROM v WHERE g = 4 AND tag = 'b' AND rowid = 10") == (done > 3 ? "1" : "0"));
  for (const auto& [query, oracle] : {std::pair<std::string, std::string>{kKnn, kKnnOracle},
                                      {kStreamed, kStreamedOracle},
                                      {kRescored, kRescoredOracle}}) {
    INFO(query);
    const Rows want_rows = query_rows(db, oracle);
    check_same(query_rows(db, query), want_rows);
    for (std::size_t i = 0; i < steps.size(); ++i)
      if (steps[i].query && steps[i].sql == query && static_cast<int>(i) < done) check_same(r.answers[i], want_rows);
  }
}

std::string temp_path() {
  const char* dir = std::getenv("TMPDIR");
  return std::string(dir && *dir ? dir : "/tmp") + "/bebr_faults_" + std::to_string(getpid()) + ".db";
}

// Runs the script once per N with allocation N of `faults` failing, until one run sees no
// failure; returns how many runs that took.
long every_failure(Faults& faults, long cap) {
  const std::vector<Step> steps = script();
  const std::string path = temp_path();
  query_vector();
  // core's kernels() picks the SIMD level on its first use, allocating inside a noexcept
  // function; this connection makes that first use before the runs (which therefore do not
  // test it), and keeps the extension loaded throughout.
  sqlite3* keeper = nullptr;
  REQUIRE(sqlite3_open(":memory:", &keeper) == SQLITE_OK);
  sqlite3_enable_load_extension(keeper, 1);
  REQUIRE(load(keeper) == SQLITE_OK);
  REQUIRE(sqlite3_exec(keeper, "SELECT bebr_debug()", nullptr, nullptr, nullptr) == SQLITE_OK);
  std::set<std::string> messages;  // how the failed runs ended, each once
  long n = 1;
  for (; n <= cap; ++n) {
    INFO("call " << n << " fails");
    std::remove(path.c_str());
    std::remove((path + "-journal").c_str());
    sqlite3* db = nullptr;
    REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
    sqlite3_enable_load_extension(db, 1);
    // Speed only, for the allocators; for I/O, a page cache of 10 pages and every sync, so that
    // reads and syncs reach the file system too.
    const char* pragmas =
        &faults == &io_faults ? "PRAGMA synchronous = FULL; PRAGMA cache_size = 10" : "PRAGMA synchronous = OFF";
    REQUIRE(sqlite3_exec(db, pragmas, nullptr, nullptr, nullptr) == SQLITE_OK);
    Run r(steps.size());
    faults.failed = 0;
    faults.countdown = n;
    faults.armed = true;
    run_script(db, steps, r);
    faults.armed = false;
    check_clean(r);
    if (r.failed_step >= 0)
      messages.insert("step " + std::to_string(r.failed_step) + ": rc " + std::to_string(r.rc) + " " + r.message);
    if (sqlite3_get_autocommit(db) == 0) sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
    if (r.failed_step == 0) REQUIRE(load(db) == SQLITE_OK);
    check_after(db, steps, r);
    REQUIRE(sqlite3_close(db) == SQLITE_OK);
    // A fresh connection sees the same: nothing lived only in the first one's memory.
    REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
    sqlite3_enable_load_extension(db, 1);
    REQUIRE(load(db) == SQLITE_OK);
    check_after(db, steps, r);
    REQUIRE(sqlite3_close(db) == SQLITE_OK);
    if (faults.failed == 0) {
      REQUIRE(r.failed_step < 0);
      break;
    }
  }
  std::remove(path.c_str());
  sqlite3_close(keeper);
  CHECK(n <= cap);
  for (const auto& m : messages) std::printf("  failed at %s\n", m.c_str());
  return n;
}

// Fails allocation N of `faults`, alone or with every one after it, for N = 1, 2, ...
void every_failure_of(Faults& faults, const char* name, bool persistent) {
  install_sqlite_faults();
  faults.persistent = persistent;
  const long runs = every_failure(faults, 200000);
  std::printf("%s: %ld runs, call N failing%s, the last with none\n", name, runs,
              persistent ? " and every one after it" : "");
}

}  // namespace

TEST_CASE("each SQLite allocation failing ends cleanly and leaves a consistent table", "[faults]") {
  every_failure_of(sqlite_faults, "SQLite allocator", false);
}
TEST_CASE("SQLite allocations failing from each on end cleanly and leave a consistent table", "[faults]") {
  every_failure_of(sqlite_faults, "SQLite allocator", true);
}
TEST_CASE("each operator new failing ends cleanly and leaves a consistent table", "[faults]") {
  every_failure_of(new_faults, "operator new", false);
}
TEST_CASE("operator new failing from each on ends cleanly and leaves a consistent table", "[faults]") {
  every_failure_of(new_faults, "operator new", true);
}
TEST_CASE("each I/O call failing ends cleanly and leaves a consistent table", "[faults]") {
  every_failure_of(io_faults, "I/O", false);
}
TEST_CASE("I/O failing from each call on ends cleanly and leaves a consistent table", "[faults]") {
  every_failure_of(io_faults, "I/O", true);
}
