// The bebr benchmark suite: exact binary kNN through SQL against sqlite-vec (the npm package's
// prebuilt vec0.so, a bit[d] table, the same SQLite) and FAISS IndexBinaryFlat (Debian's
// libfaiss, one thread), with the memory-bandwidth floor measured in the same run; insert
// speed, database bytes per vector, first-query and resident memory; recall@10 on the real
// datasets. Every figure is the median of --runs runs (min-max beside it), and every ratio is
// between figures of this run. bench/run.sh installs the peers, builds and runs it.
//
//   bebr_bench --ext build-bench/bebr --vec0 bench/.peers/.../vec0.so --dir /tmp/bebr-bench
//              [--sizes 100000,1000000] [--dims 768,1024] [--runs 5] [--queries 10] [--data DIR]
//              [--bebr-only 1]   (bebr's scan figures alone, no peers: for kernel work)
#include <faiss/IndexBinaryFlat.h>
#include <omp.h>
#include <spawn.h>
#include <sqlite3.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <functional>
#include <map>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "testing.hpp"

extern char** environ;

namespace {

double now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

struct Stat {
  double median = 0, min = 0, max = 0;
};

// Runs f `runs` times; f returns one figure per run.
Stat measure(int runs, const std::function<double()>& f) {
  std::vector<double> v;
  for (int r = 0; r < runs; ++r) v.push_back(f());
  std::sort(v.begin(), v.end());
  return {v[v.size() / 2], v.front(), v.back()};
}

std::string fmt(const Stat& s, int digits = 2) {
  char b[96];
  std::snprintf(b, sizeof b, "%.*f (%.*f-%.*f)", digits, s.median, digits, s.min, digits, s.max);
  return b;
}

// Seeded uniform floats in [-1, 1): row i of a dataset is a pure function of (seed, i).
void row(std::uint64_t seed, std::uint64_t i, std::size_t dim, float* out) {
  std::uint64_t s = seed * 0x9e3779b97f4a7c15ull + i * 0xd1b54a32d192ed03ull;
  for (std::size_t j = 0; j < dim; ++j) {
    std::uint64_t z = (s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    z ^= z >> 31;
    out[j] = static_cast<float>(static_cast<double>(z >> 11) * (2.0 / 9007199254740992.0) - 1.0);
  }
}

// Sign bits, least significant bit first (sqlite-vec's and FAISS's order): bit j = x_j > 0.
void sign_bits(const float* x, std::size_t dim, std::uint8_t* out) {
  std::memset(out, 0, dim / 8);
  for (std::size_t j = 0; j < dim; ++j)
    if (x[j] > 0) out[j / 8] |= static_cast<std::uint8_t>(1u << (j % 8));
}

class Db {
 public:
  Db(const std::string& path, const std::vector<std::string>& extensions) {
    if (sqlite3_open(path.c_str(), &db_) != SQLITE_OK) throw std::runtime_error("cannot open " + path);
    sqlite3_enable_load_extension(db_, 1);
    for (const auto& e : extensions) {
      char* err = nullptr;
      if (sqlite3_load_extension(db_, e.c_str(), nullptr, &err) != SQLITE_OK) {
        const std::string msg = err ? err : "?";
        sqlite3_free(err);
        throw std::runtime_error("cannot load " + e + ": " + msg);
      }
    }
  }
  ~Db() { sqlite3_close(db_); }
  sqlite3* get() const { return db_; }
  void exec(const std::string& sql) {
    char* err = nullptr;
    if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
      const std::string msg = err ? err : "?";
      sqlite3_free(err);
      throw std::runtime_error(sql + ": " + msg);
    }
  }
  sqlite3_stmt* prepare(const std::string& sql) {
    sqlite3_stmt* s = nullptr;
    if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &s, nullptr) != SQLITE_OK)
      throw std::runtime_error(sql + ": " + sqlite3_errmsg(db_));
    return s;
  }
  std::string text(const std::string& sql) {
    sqlite3_stmt* s = prepare(sql);
    std::string out = sqlite3_step(s) == SQLITE_ROW && sqlite3_column_text(s, 0)
                          ? reinterpret_cast<const char*>(sqlite3_column_text(s, 0))
                          : "";
    sqlite3_finalize(s);
    return out;
  }
  // Steps a bound query to the end; returns the rows.
  int run(sqlite3_stmt* s) {
    int n = 0, rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) ++n;
    if (rc != SQLITE_DONE) throw std::runtime_error(sqlite3_errmsg(db_));
    sqlite3_reset(s);
    return n;
  }

 private:
  sqlite3* db_ = nullptr;
};

double file_bytes(const std::string& path) {
  struct stat st {};
  return stat(path.c_str(), &st) == 0 ? static_cast<double>(st.st_size) : 0.0;
}

struct Options {
  std::string ext, vec0, dir = "/tmp/bebr-bench", data;
  std::vector<std::size_t> sizes{100000, 1000000}, dims{768, 1024};
  int runs = 5, queries = 10;
  bool bebr_only = false;
};

std::vector<std::size_t> list(const std::string& s) {
  std::vector<std::size_t> out;
  std::size_t at = 0;
  while (at < s.size()) {
    const auto comma = s.find(',', at);
    out.push_back(std::stoul(s.substr(at, comma - at)));
    at = comma == std::string::npos ? s.size() : comma + 1;
  }
  return out;
}

// Sequential read of a buffer far larger than the caches: the floor of any scan. The machine is
// shared and its bandwidth drifts, so the kNN figure that is compared with the floor also reads
// the buffer once before each of its runs (floored_query_ms).
class Probe {
 public:
  Probe() : buf_((std::size_t{1} << 30) / 8, 1) {}
  double once() {  // GB/s of one pass
    const double t0 = now();
    std::uint64_t a = 0, b = 0, c = 0, d = 0;
    for (std::size_t i = 0; i < buf_.size(); i += 4) {
      a += buf_[i];
      b += buf_[i + 1];
      c += buf_[i + 2];
      d += buf_[i + 3];
    }
    const double t = now() - t0;
    if (a + b + c + d == 42) std::puts("");  // keep the sums
    return static_cast<double>(buf_.size() * 8) / t / 1e9;
  }
  double gbs(int runs) {
    return measure(runs, [&] { return once(); }).median;
  }

 private:
  std::vector<std::uint64_t> buf_;
};

Probe& probe() {
  static Probe p;
  return p;
}

// The mode run in a fresh process for --rss: open, query, report the peak resident set.
int rss_probe(const std::string& ext, const std::string& path, std::size_t dim, int queries) {
  Db db(path, {ext});
  sqlite3_stmt* q = db.prepare("SELECT rowid, distance FROM t WHERE e MATCH ?1 AND k = 10");
  std::vector<float> x(dim);
  for (int i = 0; i < queries; ++i) {
    row(777, static_cast<std::uint64_t>(i), dim, x.data());
    sqlite3_bind_blob(q, 1, x.data(), static_cast<int>(dim * 4), SQLITE_STATIC);
    db.run(q);
  }
  sqlite3_finalize(q);
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  std::printf("%ld\n", u.ru_maxrss);  // KiB
  return 0;
}

double spawn_rss_mib(const std::string& ext, const std::string& path, std::size_t dim) {
  char self[4096];
  const ssize_t len = readlink("/proc/self/exe", self, sizeof self - 1);
  if (len <= 0) return 0;
  self[len] = 0;
  const std::string out = path + ".rss";
  const std::string cmd = std::string(self) + " --rss " + ext + " " + path + " " + std::to_string(dim) + " > " + out;
  const char* argv[] = {"/bin/sh", "-c", cmd.c_str(), nullptr};
  pid_t pid;
  if (posix_spawn(&pid, "/bin/sh", nullptr, nullptr, const_cast<char**>(argv), environ) != 0) return 0;
  int status = 0;
  waitpid(pid, &status, 0);
  std::ifstream f(out);
  double kib = 0;
  f >> kib;
  std::remove(out.c_str());
  return kib / 1024.0;
}

struct Row {
  std::string what;
  Stat ms;
  std::string note;
  bool single = false;  // one figure (a ratio, a size, one measurement): no min-max
  bool absent = false;  // not measurable (the note says why)
};

Row single(const std::string& what, double value, const std::string& note) {
  return Row{what, {value, value, value}, note, true, false};
}

void print_table(const std::string& title, const std::vector<Row>& rows, const std::string& unit) {
  std::printf("\n%s\n\n| measure | %s, median (min-max) | ratio / note |\n| --- | ---: | --- |\n", title.c_str(), unit.c_str());
  for (const Row& r : rows) {
    char v[64];
    std::snprintf(v, sizeof v, "%.2f", r.ms.median);
    std::printf("| %s | %s | %s |\n", r.what.c_str(), r.absent ? "n/a" : r.single ? v : fmt(r.ms).c_str(), r.note.c_str());
  }
  std::fflush(stdout);
}

std::string ratio(double a, double b, const char* what) {
  char s[96];
  std::snprintf(s, sizeof s, "%.2fx %s", a / b, what);
  return s;
}

// Inserts rows 1..n in one transaction through `ins` (?1 rowid, ?2 a BLOB of `bytes` bytes that
// make(i, out) writes). Blobs are made in batches outside the timed part: only BEGIN, the
// inserts and COMMIT count. Returns rows/s.
double timed_inserts(Db& db, sqlite3_stmt* ins, std::size_t n, std::size_t bytes,
                     const std::function<void(std::size_t, std::uint8_t*)>& make) {
  constexpr std::size_t kBatch = 4096;
  std::vector<std::uint8_t> blobs(kBatch * bytes);
  double secs = 0, t0 = now();
  db.exec("BEGIN");
  secs += now() - t0;
  for (std::size_t first = 0; first < n; first += kBatch) {
    const std::size_t m = std::min(kBatch, n - first);
    for (std::size_t i = 0; i < m; ++i) make(first + i, blobs.data() + i * bytes);
    t0 = now();
    for (std::size_t i = 0; i < m; ++i) {
      sqlite3_bind_int64(ins, 1, static_cast<sqlite3_int64>(first + i + 1));
      sqlite3_bind_blob(ins, 2, blobs.data() + i * bytes, static_cast<int>(bytes), SQLITE_STATIC);
      if (sqlite3_step(ins) != SQLITE_DONE) throw std::runtime_error(sqlite3_errmsg(db.get()));
      sqlite3_reset(ins);
    }
    secs += now() - t0;
  }
  t0 = now();
  db.exec("COMMIT");
  secs += now() - t0;
  return static_cast<double>(n) / secs;
}

// A bebr table of n random vectors; returns insert rows/s (one transaction, prepared statement).
double build_bebr(const Options& o, const std::string& path, std::size_t n, std::size_t dim, const std::string& options) {
  std::remove(path.c_str());
  Db db(path, {o.ext});
  db.exec("CREATE VIRTUAL TABLE t USING bebr(e float[" + std::to_string(dim) + "], " + options + ")");
  sqlite3_stmt* ins = db.prepare("INSERT INTO t(rowid, e) VALUES (?1, ?2)");
  const double rate = timed_inserts(db, ins, n, dim * 4, [&](std::size_t i, std::uint8_t* out) {
    row(1, i, dim, reinterpret_cast<float*>(out));
  });
  sqlite3_finalize(ins);
  return rate;
}

// ms per query of `sql` (?1 the query, ?2 k) over o.queries queries per run.
Stat query_ms(const Options& o, Db& db, const std::string& sql, std::size_t dim, long long k, bool bits,
              int queries) {
  sqlite3_stmt* q = db.prepare(sql);
  std::vector<float> x(dim);
  std::vector<std::uint8_t> b(dim / 8);
  std::uint64_t next = 0;
  const Stat s = measure(o.runs, [&] {
    double total = 0;
    for (int i = 0; i < queries; ++i) {
      row(2, next++, dim, x.data());
      if (bits) {
        sign_bits(x.data(), dim, b.data());
        sqlite3_bind_blob(q, 1, b.data(), static_cast<int>(b.size()), SQLITE_STATIC);
      } else {
        sqlite3_bind_blob(q, 1, x.data(), static_cast<int>(dim * 4), SQLITE_STATIC);
      }
      sqlite3_bind_int64(q, 2, k);
      const double t0 = now();
      db.run(q);
      total += now() - t0;
    }
    return total / queries * 1e3;
  });
  sqlite3_finalize(q);
  return s;
}

// The first kNN query of a fresh connection (it builds the resident cache), 3 times; with
// mmap_size set, SQLite hands the pages over from the mapping instead of a pread each.
Stat first_query_ms(const Options& o, const std::string& path, std::size_t dim, bool mmap) {
  return measure(3, [&] {
    Db db(path, {o.ext});
    if (mmap) db.exec("PRAGMA mmap_size = 1073741824");
    sqlite3_stmt* q = db.prepare("SELECT rowid, distance FROM t WHERE e MATCH ?1 AND k = 10");
    std::vector<float> x(dim);
    row(3, 0, dim, x.data());
    sqlite3_bind_blob(q, 1, x.data(), static_cast<int>(dim * 4), SQLITE_STATIC);
    const double t0 = now();
    db.run(q);
    const double ms = (now() - t0) * 1e3;
    sqlite3_finalize(q);
    return ms;
  });
}

// ms per query as query_ms, and the median over runs of (that run's ms / the floor read just
// before it): the ratio to the floor with both sides measured under the same load.
struct Floored {
  Stat ms;
  double ratio = 0;
};
Floored floored_query_ms(const Options& o, Db& db, const std::string& sql, std::size_t dim, long long k,
                         double code_bytes) {
  std::vector<double> ratios;
  Options one = o;
  one.runs = 1;
  const Stat s = measure(o.runs, [&] {
    const double floor_ms = code_bytes / (probe().once() * 1e9) * 1e3;
    const double ms = query_ms(one, db, sql, dim, k, false, o.queries).median;
    ratios.push_back(ms / floor_ms);
    return ms;
  });
  std::sort(ratios.begin(), ratios.end());
  return {s, ratios[ratios.size() / 2]};
}

// The median over o.runs x o.queries pairs of (ms at k2 / ms at k1), the two queries of a pair
// run back to back with the same query vector: both sides under the same load.
double paired_ratio(const Options& o, Db& db, std::size_t dim, long long k1, long long k2) {
  sqlite3_stmt* q = db.prepare("SELECT rowid, distance FROM t WHERE e MATCH ?1 AND k = ?2");
  std::vector<float> x(dim);
  std::vector<double> r;
  const auto once = [&](long long k) {
    sqlite3_bind_blob(q, 1, x.data(), static_cast<int>(dim * 4), SQLITE_STATIC);
    sqlite3_bind_int64(q, 2, k);
    const double t0 = now();
    db.run(q);
    return now() - t0;
  };
  for (int i = 0; i < o.runs * o.queries; ++i) {
    row(4, static_cast<std::uint64_t>(i), dim, x.data());
    const double a = once(k1), b = once(k2);
    r.push_back(b / a);
  }
  sqlite3_finalize(q);
  std::sort(r.begin(), r.end());
  return r[r.size() / 2];
}

// The median over o.runs x o.queries pairs of (ms on the K-bit table / (K x ms on the one-bit
// table)), the two queries of a pair back to back with the same query vector. `one` holds the
// one-bit table t; the K-bit database is attached to it as kb.
double paired_bits_ratio(const Options& o, Db& one, const std::string& kbits_path, std::size_t dim, int bits) {
  sqlite3_stmt* a = one.prepare("SELECT rowid, distance FROM main.t WHERE e MATCH ?1 AND k = 10");
  sqlite3_stmt* b = nullptr;
  {
    sqlite3_stmt* at = one.prepare("ATTACH ?1 AS kb");
    sqlite3_bind_text(at, 1, kbits_path.c_str(), -1, SQLITE_TRANSIENT);
    one.run(at);
    sqlite3_finalize(at);
    b = one.prepare("SELECT rowid, distance FROM kb.t WHERE e MATCH ?1 AND k = 10");
  }
  std::vector<float> x(dim);
  const auto once = [&](sqlite3_stmt* q) {
    sqlite3_bind_blob(q, 1, x.data(), static_cast<int>(dim * 4), SQLITE_STATIC);
    const double t0 = now();
    one.run(q);
    return now() - t0;
  };
  row(5, 0, dim, x.data());
  once(a);  // both caches resident before the first pair
  once(b);
  std::vector<double> r;
  for (int i = 0; i < o.runs * o.queries; ++i) {
    row(5, static_cast<std::uint64_t>(i), dim, x.data());
    const double t1 = once(a), tk = once(b);
    r.push_back(tk / (bits * t1));
  }
  sqlite3_finalize(a);
  sqlite3_finalize(b);
  one.exec("DETACH kb");
  std::sort(r.begin(), r.end());
  return r[r.size() / 2];
}

std::string floor_note(double r) {
  char b[96];
  std::snprintf(b, sizeof b, "%.2fx the floor (median of per-run ratios)", r);
  return b;
}

void speed(const Options& o, std::size_t dim, std::size_t n, double gbs, std::map<std::string, double>& plot) {
  const std::string tag = std::to_string(dim) + "_" + std::to_string(n);
  const std::string bpath = o.dir + "/bebr_" + tag + ".db", vpath = o.dir + "/vec_" + tag + ".db";
  const double code_bytes = static_cast<double>(n) * dim / 8;
  const double floor_ms = code_bytes / (gbs * 1e9) * 1e3;
  std::vector<Row> rows, build;
  char note[160];

  // bebr, 1 bit per dimension (raw binarizer, cosine SDC), no stored floats.
  const double bebr_ins = build_bebr(o, bpath, n, dim, "bits=1");
  const double bebr_size = file_bytes(bpath);
  const Stat first = first_query_ms(o, bpath, dim, false), first_mmap = first_query_ms(o, bpath, dim, true);
  std::map<long long, Stat> bebr_k, vec_k, faiss_k;
  std::map<long long, double> bebr_floor;
  double k1000_over_k10 = 0;
  {
    Db db(bpath, {o.ext});
    k1000_over_k10 = paired_ratio(o, db, dim, 10, 1000);
    for (long long k : {10LL, 100LL, 1000LL, 10000LL}) {
      const Floored f = floored_query_ms(o, db, "SELECT rowid, distance FROM t WHERE e MATCH ?1 AND k = ?2", dim, k, code_bytes);
      bebr_k[k] = f.ms;
      bebr_floor[k] = f.ratio;
    }
  }

  // sqlite-vec: bit[d] table, Hamming distance, default pragmas.
  double vec_ins = 0, vec_size = 0;
  {
    std::remove(vpath.c_str());
    Db db(vpath, {o.vec0});
    db.exec("CREATE VIRTUAL TABLE t USING vec0(e bit[" + std::to_string(dim) + "])");
    sqlite3_stmt* ins = db.prepare("INSERT INTO t(rowid, e) VALUES (?1, vec_bit(?2))");
    std::vector<float> x(dim);
    vec_ins = timed_inserts(db, ins, n, dim / 8, [&](std::size_t i, std::uint8_t* out) {
      row(1, i, dim, x.data());
      sign_bits(x.data(), dim, out);
    });
    sqlite3_finalize(ins);
  }
  vec_size = file_bytes(vpath);
  {
    Db db(vpath, {o.vec0});
    for (long long k : {10LL, 100LL, 1000LL})  // sqlite-vec caps k at 4096
      vec_k[k] = query_ms(o, db, "SELECT rowid, distance FROM t WHERE e MATCH vec_bit(?1) AND k = ?2", dim, k, true,
                          k >= 1000 ? 1 : o.queries);
  }

  // FAISS IndexBinaryFlat, one thread.
  {
    faiss::IndexBinaryFlat index(static_cast<int>(dim));
    std::vector<float> x(dim);
    std::vector<std::uint8_t> codes(static_cast<std::size_t>(code_bytes));
    for (std::size_t i = 0; i < n; ++i) {
      row(1, i, dim, x.data());
      sign_bits(x.data(), dim, codes.data() + i * dim / 8);
    }
    index.add(static_cast<faiss::IndexBinary::idx_t>(n), codes.data());
    std::vector<std::uint8_t> q(dim / 8);
    for (long long k : {10LL, 100LL, 1000LL, 10000LL}) {
      std::vector<std::int32_t> dist(static_cast<std::size_t>(k));
      std::vector<faiss::IndexBinary::idx_t> labels(static_cast<std::size_t>(k));
      std::uint64_t next = 0;
      faiss_k[k] = measure(o.runs, [&] {
        double total = 0;
        for (int i = 0; i < o.queries; ++i) {
          row(2, next++, dim, x.data());
          sign_bits(x.data(), dim, q.data());
          const double t0 = now();
          index.search(1, q.data(), k, dist.data(), labels.data());
          total += now() - t0;
        }
        return total / o.queries * 1e3;
      });
    }
  }

  std::snprintf(note, sizeof note, "%.1f MB of codes at %.1f GB/s", code_bytes / 1e6, gbs);
  rows.push_back(single("memory-bandwidth floor", floor_ms, note));
  for (long long k : {10LL, 100LL, 1000LL, 10000LL}) {
    const std::string ks = "k=" + std::to_string(k);
    std::string r = floor_note(bebr_floor[k]);
    if (vec_k.count(k)) r += "; sqlite-vec " + ratio(vec_k[k].median, bebr_k[k].median, "slower");
    r += "; FAISS " + ratio(faiss_k[k].median, bebr_k[k].median, "slower");
    rows.push_back({"bebr bits=1, " + ks, bebr_k[k], r});
    if (vec_k.count(k)) rows.push_back({"sqlite-vec bit[" + std::to_string(dim) + "], " + ks, vec_k[k], ""});
    else rows.push_back(Row{"sqlite-vec bit[" + std::to_string(dim) + "], " + ks, {}, "not supported (k <= 4096)", false, true});
    rows.push_back({"FAISS IndexBinaryFlat, " + ks, faiss_k[k], ""});
  }
  rows.push_back({"bebr first query after open (builds the cache)", first,
                  ratio(first.median, vec_k[10].median, "one sqlite-vec query")});
  rows.push_back({"bebr first query after open, PRAGMA mmap_size = 1 GiB", first_mmap,
                  ratio(first_mmap.median, vec_k[10].median, "one sqlite-vec query")});
  rows.push_back(single("bebr k=1000 / k=10", k1000_over_k10,
                         "median of paired ratios (the two queries back to back); " +
                             ratio(bebr_k[1000].median, bebr_k[10].median, "as the ratio of the medians above")));
  print_table("### kNN, " + std::to_string(n) + " x " + std::to_string(dim) + "-d, one thread, through SQL", rows, "ms/query");

  std::snprintf(note, sizeof note, "database %.1f bytes/vector = %.3fx the %zu code bytes", bebr_size / n,
                bebr_size / code_bytes, dim / 8);
  build.push_back(single("bebr insert, bits=1", bebr_ins / 1e3, note));
  std::snprintf(note, sizeof note, "database %.1f bytes/vector = %.3fx the code bytes", vec_size / n, vec_size / code_bytes);
  build.push_back(single("sqlite-vec insert, bit[d]", vec_ins / 1e3, note));
  print_table("### Insert, " + std::to_string(n) + " x " + std::to_string(dim) + "-d (one transaction, prepared statement)",
              build, "thousand rows/s");

  if (dim == 768) {
    plot["bebr_" + std::to_string(n)] = bebr_k[10].median;
    plot["vec_" + std::to_string(n)] = vec_k[10].median;
    plot["faiss_" + std::to_string(n)] = faiss_k[10].median;
    plot["floor_" + std::to_string(n)] = floor_ms;
  }
  if (dim == 768 && n == o.sizes.back()) {
    // Bits 2 and 4, rescoring over stored vectors, and the resident memory of a query process.
    std::vector<Row> more;
    const double rss = spawn_rss_mib(o.ext, bpath, dim);
    std::snprintf(note, sizeof note, "= %.2fx the code MiB + 30 MiB", (rss - 30) / (code_bytes / 1048576.0));
    more.push_back(single("peak RSS of a query process, bits=1 (MiB)", rss, note));
    for (int bits : {2, 4}) {
      const std::string p = o.dir + "/bebr_b" + std::to_string(bits) + "_" + tag + ".db";
      build_bebr(o, p, n, dim, "bits=" + std::to_string(bits));
      double paired = 0;
      {
        Db both(bpath, {o.ext});
        paired = paired_bits_ratio(o, both, p, dim, bits);
      }
      Db db(p, {o.ext});
      const Stat s = query_ms(o, db, "SELECT rowid, distance FROM t WHERE e MATCH ?1 AND k = ?2", dim, 10, false, o.queries);
      std::snprintf(note, sizeof note, "%.2fx K x the bits=1 figure (median of paired ratios); %.2fx as the ratio of the medians",
                    paired, s.median / (bits * bebr_k[10].median));
      more.push_back({"bebr bits=" + std::to_string(bits) + ", k=10", s, note});
      std::remove(p.c_str());
    }
    {
      const std::string p = o.dir + "/bebr_sv_" + tag + ".db";
      build_bebr(o, p, n, dim, "bits=1, store_vectors=1");
      Db db(p, {o.ext});
      const Stat plain = query_ms(o, db, "SELECT rowid, distance FROM t WHERE e MATCH ?1 AND k = ?2", dim, 10, false, o.queries);
      const Stat re = query_ms(o, db, "SELECT rowid, distance FROM t WHERE e MATCH ?1 AND k = ?2 AND rescore = 40", dim, 10,
                               false, o.queries);
      more.push_back({"bebr bits=1, k=10, floats stored", plain, ""});
      more.push_back({"bebr bits=1, k=10, rescore=40", re, ratio(re.median, plain.median, "the same without rescore")});
      std::remove(p.c_str());
    }
    print_table("### More, " + std::to_string(n) + " x 768-d", more, "ms/query");
  }
  std::remove(bpath.c_str());
  std::remove(vpath.c_str());
}

// --bebr-only: bebr's own scan figures without the peers, for iterating on the kernels: bits 1, 2
// and 4 at k = 10, bits 1 at k = 1000, and the first query, against the floor of this run.
void bebr_only(const Options& o, std::size_t dim, std::size_t n, double gbs) {
  const std::string tag = std::to_string(dim) + "_" + std::to_string(n);
  const double code_bytes = static_cast<double>(n) * dim / 8, floor_ms = code_bytes / (gbs * 1e9) * 1e3;
  const std::string sql = "SELECT rowid, distance FROM t WHERE e MATCH ?1 AND k = ?2";
  std::vector<Row> rows;
  char note[160];
  std::snprintf(note, sizeof note, "%.1f MB of codes at %.1f GB/s", code_bytes / 1e6, gbs);
  rows.push_back(single("memory-bandwidth floor", floor_ms, note));
  double one = 0;
  const std::string p1 = o.dir + "/bebr_b1_" + tag + ".db";
  for (int bits : {1, 2, 4}) {
    const std::string p = o.dir + "/bebr_b" + std::to_string(bits) + "_" + tag + ".db";
    const double ins = build_bebr(o, p, n, dim, "bits=" + std::to_string(bits));
    Db db(p, {o.ext});
    const Floored f = floored_query_ms(o, db, sql, dim, 10, code_bytes * bits);
    const Stat s = f.ms;
    if (bits == 1) {
      one = s.median;
      std::snprintf(note, sizeof note, "%s; insert %.0fk rows/s; %.3fx the code bytes on disk",
                    floor_note(f.ratio).c_str(), ins / 1e3, file_bytes(p) / code_bytes);
      rows.push_back({"bebr bits=1, k=10", s, note});
      const Stat k1000 = query_ms(o, db, sql, dim, 1000, false, o.queries);
      char paired[96];
      std::snprintf(paired, sizeof paired, "%.2fx k=10 (median of paired ratios)", paired_ratio(o, db, dim, 10, 1000));
      rows.push_back({"bebr bits=1, k=1000", k1000, paired});
    } else {
      double paired = 0;
      {
        Db both(p1, {o.ext});
        paired = paired_bits_ratio(o, both, p, dim, bits);
      }
      std::snprintf(note, sizeof note, "%.2fx K x the bits=1 figure (median of paired ratios), %.2fx as the ratio of the medians",
                    paired, s.median / (bits * one));
      rows.push_back({"bebr bits=" + std::to_string(bits) + ", k=10", s, std::string(note) + "; " + floor_note(f.ratio) + " of K-bit codes"});
    }
    if (bits == 1) {
      const Stat first = first_query_ms(o, p, dim, false);
      rows.push_back({"bebr first query after open", first, ""});
    }
    if (bits > 1) std::remove(p.c_str());
  }
  std::remove(p1.c_str());
  print_table("### bebr only, " + std::to_string(n) + " x " + std::to_string(dim) + "-d, one thread, through SQL", rows,
              "ms/query");
}

// Recall@10 against exact cosine ground truth: bebr (center, SDC) at 1, 2 and 4 bits against
// Hamming on sign bits (what sqlite-vec's bit[] and FAISS's binary indexes compute).
void recall(const Options& o) {
  const std::pair<const char*, std::size_t> sets[] = {
      {"bible-web-bge-large-1024", 1024}, {"sap-fiori-docs-minilm-384", 384}, {"fashion-mnist-784", 784}};
  std::printf("\n### Recall@10 against exact float search (held-out queries, no rescore)\n\n");
  std::printf("| dataset | bebr center 1 bit | 2 bits | 4 bits | sqlite-vec bit[] (Hamming, sign bits) |\n");
  std::printf("| --- | ---: | ---: | ---: | ---: |\n");
  for (const auto& [name, dim] : sets) {
    const auto d = bebr::testing::load_dataset(name, dim);
    if (!d) {
      std::printf("| %s | skipped: not under %s | | | |\n", name, bebr::testing::data_dir().c_str());
      continue;
    }
    const std::size_t nq = std::min<std::size_t>(d->q, 1000);
    Db db(":memory:", {o.ext, o.vec0});
    db.exec("CREATE TABLE base(id INTEGER PRIMARY KEY, v BLOB)");
    sqlite3_stmt* load = db.prepare("INSERT INTO base SELECT i, vector FROM bebr_vectors(?1, " + std::to_string(dim) + ")");
    sqlite3_bind_blob64(load, 1, d->base.data(), d->base.size() * 4, SQLITE_STATIC);
    db.run(load);
    sqlite3_finalize(load);
    const auto score = [&](const std::string& sql) {
      sqlite3_stmt* q = db.prepare(sql);
      double hits = 0;
      for (std::size_t i = 0; i < nq; ++i) {
        sqlite3_bind_blob(q, 1, d->queries.data() + i * dim, static_cast<int>(dim * 4), SQLITE_STATIC);
        std::set<long long> truth(d->gt.begin() + static_cast<std::ptrdiff_t>(i * 100),
                                  d->gt.begin() + static_cast<std::ptrdiff_t>(i * 100 + 10));
        int rc;
        while ((rc = sqlite3_step(q)) == SQLITE_ROW) hits += truth.count(sqlite3_column_int64(q, 0));
        sqlite3_reset(q);
      }
      sqlite3_finalize(q);
      return hits / (10.0 * nq);
    };
    double r[3];
    for (int b = 0; b < 3; ++b) {
      const std::string bits = std::to_string(1 << b), m = "c" + bits;
      db.exec("SELECT bebr_train('" + m + "', 'SELECT v FROM base', '{\"kind\":\"center\",\"bits\":" + bits + "}')");
      db.exec("DROP TABLE IF EXISTS t; CREATE VIRTUAL TABLE t USING bebr(e float[" + std::to_string(dim) + "], model='" +
              m + "'); INSERT INTO t(rowid, e) SELECT id, v FROM base");
      r[b] = score("SELECT rowid FROM t WHERE e MATCH ?1 AND k = 10");
    }
    db.exec("CREATE VIRTUAL TABLE h USING vec0(e bit[" + std::to_string(dim) + "]);"
            "INSERT INTO h(rowid, e) SELECT id, vec_quantize_binary(v) FROM base");
    const double h = score("SELECT rowid FROM h WHERE e MATCH vec_quantize_binary(?1) AND k = 10");
    std::printf("| %s (%zu x %zu, %zu queries) | %.3f | %.3f | %.3f | %.3f |\n", name, d->n, dim, nq, r[0], r[1], r[2], h);
    std::fflush(stdout);
  }
}

std::string cpu_model() {
  std::ifstream f("/proc/cpuinfo");
  std::string line;
  while (std::getline(f, line))
    if (line.rfind("model name", 0) == 0) return line.substr(line.find(':') + 2);
  return "?";
}

}  // namespace

int main(int argc, char** argv) {
  try {
    if (argc >= 5 && std::string(argv[1]) == "--rss") return rss_probe(argv[2], argv[3], std::stoul(argv[4]), 20);
    Options o;
    for (int i = 1; i + 1 < argc; i += 2) {
      const std::string k = argv[i], v = argv[i + 1];
      if (k == "--ext") o.ext = v;
      else if (k == "--vec0") o.vec0 = v;
      else if (k == "--dir") o.dir = v;
      else if (k == "--sizes") o.sizes = list(v);
      else if (k == "--dims") o.dims = list(v);
      else if (k == "--runs") o.runs = std::stoi(v);
      else if (k == "--queries") o.queries = std::stoi(v);
      else if (k == "--data") setenv("BEBR_DATA_DIR", v.c_str(), 1);
      else if (k == "--bebr-only") o.bebr_only = v == "1";
      else throw std::runtime_error("unknown option " + k);
    }
    if (o.ext.empty() || o.vec0.empty()) throw std::runtime_error("usage: bebr_bench --ext PATH --vec0 PATH [options]");
    mkdir(o.dir.c_str(), 0755);
    omp_set_num_threads(1);
    Db info(":memory:", {o.ext, o.vec0});
    const double gbs = probe().gbs(o.runs);
    std::string simd = info.text("SELECT bebr_debug()");
    if (const auto at = simd.find("simd active: "); at != std::string::npos) simd = simd.substr(at, simd.find('\n', at) - at);
    std::printf("## bebr benchmark\n\n- machine: %s, %ld cores; SQLite %s\n- bebr %s, %s\n- sqlite-vec %s (npm sqlite-vec-linux-x64); FAISS %d.%d.%d (Debian libfaiss-dev), 1 thread\n"
                "- memory read bandwidth, one thread: %.1f GB/s (1 GiB sequential read, median of %d)\n"
                "- %d runs of %d queries per figure (1 query per run for sqlite-vec at k >= 1000); SQLite default pragmas (mmap_size 0, cache_size -2000)\n",
                cpu_model().c_str(), sysconf(_SC_NPROCESSORS_ONLN), sqlite3_libversion(), info.text("SELECT bebr_version()").c_str(),
                simd.c_str(), info.text("SELECT vec_version()").c_str(), FAISS_VERSION_MAJOR,
                FAISS_VERSION_MINOR, FAISS_VERSION_PATCH, gbs, o.runs, o.runs, o.queries);
    std::map<std::string, double> plot;
    if (o.bebr_only) {
      for (std::size_t dim : o.dims)
        for (std::size_t n : o.sizes) bebr_only(o, dim, n, gbs);
      return 0;
    }
    for (std::size_t dim : o.dims)
      for (std::size_t n : o.sizes) speed(o, dim, n, gbs, plot);
    recall(o);
    std::ofstream dat(o.dir + "/plot.dat");
    dat << "# N bebr sqlite-vec faiss floor (ms/query, k=10, 768-d)\n";
    for (std::size_t n : o.sizes)
      dat << n << " " << plot["bebr_" + std::to_string(n)] << " " << plot["vec_" + std::to_string(n)] << " "
          << plot["faiss_" + std::to_string(n)] << " " << plot["floor_" + std::to_string(n)] << "\n";
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bebr_bench: %s\n", e.what());
    return 1;
  }
}
