// The bebr measurements every benchmark mode runs: table builds with timed inserts, timed kNN
// queries (against the floor, paired by k and by bits), the first query and the peak resident
// set of a query process (harness.hpp).
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <fstream>

#include "harness.hpp"

extern char** environ;

namespace bebr::bench {

double timed_inserts(Db& db, Db::Stmt& ins, std::size_t n, std::size_t bytes,
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
      ins.bind(1, static_cast<long long>(first + i + 1)).bind_static(2, blobs.data() + i * bytes, bytes);
      ins.step();
      ins.reset();
    }
    secs += now() - t0;
  }
  t0 = now();
  db.exec("COMMIT");
  secs += now() - t0;
  return static_cast<double>(n) / secs;
}

double build_bebr(const Options& o, const std::string& path, std::size_t n, std::size_t dim,
                  const std::string& options) {
  std::remove(path.c_str());
  Db db(path, {o.ext});
  db.exec("CREATE VIRTUAL TABLE t USING bebr(e float[" + std::to_string(dim) + "], " + options + ")");
  auto ins = db.prepare("INSERT INTO t(rowid, e) VALUES (?1, ?2)");
  return timed_inserts(db, ins, n, dim * 4,
                       [&](std::size_t i, std::uint8_t* out) { row(1, i, dim, reinterpret_cast<float*>(out)); });
}

Stat query_ms(const Options& o, Db& db, const std::string& sql, std::size_t dim, long long k, bool bits, int queries) {
  auto q = db.prepare(sql);
  std::vector<float> x(dim);
  std::vector<std::uint8_t> b(dim / 8);
  std::uint64_t next = 0;
  return measure(o.runs, [&] {
    double total = 0;
    for (int i = 0; i < queries; ++i) {
      row(2, next++, dim, x.data());
      if (bits) {
        sign_bits(x.data(), dim, b.data());
        q.bind_static(1, b.data(), b.size());
      } else {
        q.bind_static(1, x.data(), dim * 4);
      }
      q.bind(2, k);
      const double t0 = now();
      q.drain();
      total += now() - t0;
    }
    return total / queries * 1e3;
  });
}

Stat first_query_ms(const Options& o, const std::string& path, std::size_t dim, bool mmap) {
  return measure(3, [&] {
    Db db(path, {o.ext});
    if (mmap) db.exec("PRAGMA mmap_size = 1073741824");
    auto q = db.prepare("SELECT rowid, distance FROM t WHERE e MATCH ?1 AND k = 10");
    std::vector<float> x(dim);
    row(3, 0, dim, x.data());
    q.bind_static(1, x.data(), dim * 4);
    const double t0 = now();
    q.drain();
    return (now() - t0) * 1e3;
  });
}

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

double paired_ratio(const Options& o, Db& db, std::size_t dim, long long k1, long long k2) {
  auto q = db.prepare(kKnnSql);
  std::vector<float> x(dim);
  std::vector<double> r;
  const auto once = [&](long long k) {
    q.bind_static(1, x.data(), dim * 4).bind(2, k);
    const double t0 = now();
    q.drain();
    return now() - t0;
  };
  for (int i = 0; i < o.runs * o.queries; ++i) {
    row(4, static_cast<std::uint64_t>(i), dim, x.data());
    const double a = once(k1), b = once(k2);
    r.push_back(b / a);
  }
  std::sort(r.begin(), r.end());
  return r[r.size() / 2];
}

double paired_bits_ratio(const Options& o, Db& one, const std::string& kbits_path, std::size_t dim, int bits) {
  one.prepare("ATTACH ?1 AS kb").bind(1, kbits_path).drain();
  std::vector<double> r;
  {
    auto a = one.prepare("SELECT rowid, distance FROM main.t WHERE e MATCH ?1 AND k = 10");
    auto b = one.prepare("SELECT rowid, distance FROM kb.t WHERE e MATCH ?1 AND k = 10");
    std::vector<float> x(dim);
    const auto once = [&](Db::Stmt& q) {
      q.bind_static(1, x.data(), dim * 4);
      const double t0 = now();
      q.drain();
      return now() - t0;
    };
    row(5, 0, dim, x.data());
    once(a);  // both caches resident before the first pair
    once(b);
    for (int i = 0; i < o.runs * o.queries; ++i) {
      row(5, static_cast<std::uint64_t>(i), dim, x.data());
      const double t1 = once(a), tk = once(b);
      r.push_back(tk / (bits * t1));
    }
  }  // the statements end before DETACH
  one.exec("DETACH kb");
  std::sort(r.begin(), r.end());
  return r[r.size() / 2];
}

int rss_probe(const std::string& ext, const std::string& path, std::size_t dim, int queries) {
  Db db(path, {ext});
  auto q = db.prepare("SELECT rowid, distance FROM t WHERE e MATCH ?1 AND k = 10");
  std::vector<float> x(dim);
  for (int i = 0; i < queries; ++i) {
    row(777, static_cast<std::uint64_t>(i), dim, x.data());
    q.bind_static(1, x.data(), dim * 4);
    q.drain();
  }
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

}  // namespace bebr::bench
