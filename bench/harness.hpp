// The benchmark suite's shared parts: timing and statistics, the seeded data, the memory
// bandwidth probe, the result tables, and the bebr measurements every mode runs (runs.cpp).
// main.cpp reads the options and runs the modes: the full suite against the peers (suite.cpp,
// recall.cpp) or bebr's scan alone (bebr_only.cpp). bench/README.md says what each figure is.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "ext/db.hpp"

namespace bebr::bench {

using testing::Db;

// ---- timing and statistics (harness.cpp) ----

double now();  // seconds, steady clock

struct Stat {
  double median = 0, min = 0, max = 0;
};

// Runs f `runs` times; f returns one figure per run.
Stat measure(int runs, const std::function<double()>& f);
std::string fmt(const Stat& s, int digits = 2);  // "median (min-max)"

// ---- data ----

// Seeded uniform floats in [-1, 1): row i of a dataset is a pure function of (seed, i).
void row(std::uint64_t seed, std::uint64_t i, std::size_t dim, float* out);
// Sign bits, least significant bit first (sqlite-vec's and FAISS's order): bit j = x_j > 0.
void sign_bits(const float* x, std::size_t dim, std::uint8_t* out);
double file_bytes(const std::string& path);  // 0 when absent

// ---- options ----

struct Options {
  std::string ext, vec0, dir = "/tmp/bebr-bench", data;
  std::vector<std::size_t> sizes{100000, 1000000}, dims{768, 1024};
  int runs = 5, queries = 10;
  bool bebr_only = false;
  std::string figures;  // --figures FILE: the bebr-only figures appended as "name<TAB>value" lines
};

std::vector<std::size_t> list(const std::string& s);  // "100000,1000000"

// Appends one figure to o.figures (nothing when it is empty): what bench/compare.sh reads.
void figure(const Options& o, const std::string& name, double value);

// ---- the floor ----

// Sequential read of a buffer far larger than the caches: the floor of any scan. The machine is
// shared and its bandwidth drifts, so the kNN figure that is compared with the floor also reads
// the buffer once before each of its runs (floored_query_ms).
class Probe {
 public:
  Probe();
  double once();  // GB/s of one pass
  double gbs(int runs);

 private:
  std::vector<std::uint64_t> buf_;
};

Probe& probe();  // one 1 GiB buffer a process

// ---- tables ----

struct Row {
  std::string what;
  Stat ms;
  std::string note;
  bool single = false;  // one figure (a ratio, a size, one measurement): no min-max
  bool absent = false;  // not measurable (the note says why)
};

Row single(const std::string& what, double value, const std::string& note);
void print_table(const std::string& title, const std::vector<Row>& rows, const std::string& unit);
std::string ratio(double a, double b, const char* what);  // "1.23x what"
std::string floor_note(double r);                         // "1.23x the floor (median of per-run ratios)"

// ---- bebr measurements (runs.cpp) ----

// The kNN statement every bebr figure times: ?1 the query vector, ?2 k.
inline constexpr char kKnnSql[] = "SELECT rowid, distance FROM t WHERE e MATCH ?1 AND k = ?2";

// Inserts rows 1..n in one transaction through `ins` (?1 rowid, ?2 a BLOB of `bytes` bytes that
// make(i, out) writes). Blobs are made in batches outside the timed part: only BEGIN, the
// inserts and COMMIT count. Returns rows/s.
double timed_inserts(Db& db, Db::Stmt& ins, std::size_t n, std::size_t bytes,
                     const std::function<void(std::size_t, std::uint8_t*)>& make);

// A bebr table t of n random vectors (seed 1) at `path`; returns insert rows/s (one
// transaction, prepared statement).
double build_bebr(const Options& o, const std::string& path, std::size_t n, std::size_t dim,
                  const std::string& options);

// ms per query of `sql` (?1 the query, ?2 k) over `queries` queries per run, o.runs runs; bits:
// the query bound as sign bits (sqlite-vec) instead of floats.
Stat query_ms(const Options& o, Db& db, const std::string& sql, std::size_t dim, long long k, bool bits, int queries);

// The first kNN query of a fresh connection (it builds the resident cache), 3 times; with
// mmap_size set, SQLite hands the pages over from the mapping instead of a pread each.
Stat first_query_ms(const Options& o, const std::string& path, std::size_t dim, bool mmap);

// ms per query as query_ms, and the median over runs of (that run's ms / the floor read just
// before it): the ratio to the floor with both sides measured under the same load.
struct Floored {
  Stat ms;
  double ratio = 0;
};
Floored floored_query_ms(const Options& o, Db& db, const std::string& sql, std::size_t dim, long long k,
                         double code_bytes);

// The median over o.runs x o.queries pairs of (ms at k2 / ms at k1), the two queries of a pair
// run back to back with the same query vector: both sides under the same load.
double paired_ratio(const Options& o, Db& db, std::size_t dim, long long k1, long long k2);

// The median over o.runs x o.queries pairs of (ms on the K-bit table / (K x ms on the one-bit
// table)), the two queries of a pair back to back with the same query vector. `one` holds the
// one-bit table t; the K-bit database is attached to it as kb.
double paired_bits_ratio(const Options& o, Db& one, const std::string& kbits_path, std::size_t dim, int bits);

// The mode run in a fresh process for --rss: open, query, print the peak resident set (KiB).
int rss_probe(const std::string& ext, const std::string& path, std::size_t dim, int queries);
// Runs rss_probe in a child process of this binary; returns MiB (0 when it could not).
double spawn_rss_mib(const std::string& ext, const std::string& path, std::size_t dim);

// ---- the modes ----

// bebr against sqlite-vec and FAISS at one size (suite.cpp); the k=10 figures of 768-d go to
// `plot` for bench/plot.gp.
void speed(const Options& o, std::size_t dim, std::size_t n, double gbs, std::map<std::string, double>& plot);
// Recall@10 on the real datasets, bebr center against Hamming on sign bits (recall.cpp).
void recall(const Options& o);
// bebr's own scan figures, no peers (bebr_only.cpp).
void bebr_only(const Options& o, std::size_t dim, std::size_t n, double gbs);

}  // namespace bebr::bench
