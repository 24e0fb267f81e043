// The full suite at one size: bebr against sqlite-vec (a bit[d] table in the npm package's
// prebuilt vec0.so, the same SQLite) and FAISS IndexBinaryFlat (one thread) over the same
// vectors' sign bits, with the memory-bandwidth floor; inserts and bytes on disk; at the largest
// 768-d size also bits 2 and 4, rescoring, and the resident memory of a query process.
#include <faiss/IndexBinaryFlat.h>

#include <cstdio>

#include "harness.hpp"

namespace bebr::bench {
namespace {

constexpr long long kKs[] = {10, 100, 1000, 10000};

// One size's files and the figures derived from it alone.
struct Size {
  std::size_t n, dim;
  std::string tag, bpath, vpath;  // bebr's and sqlite-vec's database files
  double code_bytes, floor_ms;
};

Size size_of(const Options& o, std::size_t n, std::size_t dim, double gbs) {
  const std::string tag = std::to_string(dim) + "_" + std::to_string(n);
  const double code_bytes = static_cast<double>(n) * dim / 8;
  return {n,
          dim,
          tag,
          o.dir + "/bebr_" + tag + ".db",
          o.dir + "/vec_" + tag + ".db",
          code_bytes,
          code_bytes / (gbs * 1e9) * 1e3};
}

struct BebrFigures {
  double ins = 0, size = 0, k1000_over_k10 = 0;
  Stat first, first_mmap;
  std::map<long long, Stat> k;
  std::map<long long, double> floor;  // per-run ratios to the floor, median
};

struct VecFigures {
  double ins = 0, size = 0;
  std::map<long long, Stat> k;  // k <= 4096 only
};

// bebr, 1 bit per dimension (raw binarizer, cosine SDC), no stored floats; the table stays at
// s.bpath for the later steps.
BebrFigures measure_bebr(const Options& o, const Size& s) {
  BebrFigures f;
  f.ins = build_bebr(o, s.bpath, s.n, s.dim, "bits=1");
  f.size = file_bytes(s.bpath);
  f.first = first_query_ms(o, s.bpath, s.dim, false);
  f.first_mmap = first_query_ms(o, s.bpath, s.dim, true);
  Db db(s.bpath, {o.ext});
  f.k1000_over_k10 = paired_ratio(o, db, s.dim, 10, 1000);
  for (long long k : kKs) {
    const Floored fl = floored_query_ms(o, db, kKnnSql, s.dim, k, s.code_bytes);
    f.k[k] = fl.ms;
    f.floor[k] = fl.ratio;
  }
  return f;
}

// sqlite-vec: bit[d] table, Hamming distance, default pragmas.
VecFigures measure_vec0(const Options& o, const Size& s) {
  VecFigures f;
  {
    std::remove(s.vpath.c_str());
    Db db(s.vpath, {o.vec0});
    db.exec("CREATE VIRTUAL TABLE t USING vec0(e bit[" + std::to_string(s.dim) + "])");
    auto ins = db.prepare("INSERT INTO t(rowid, e) VALUES (?1, vec_bit(?2))");
    std::vector<float> x(s.dim);
    f.ins = timed_inserts(db, ins, s.n, s.dim / 8, [&](std::size_t i, std::uint8_t* out) {
      row(1, i, s.dim, x.data());
      sign_bits(x.data(), s.dim, out);
    });
  }
  f.size = file_bytes(s.vpath);
  Db db(s.vpath, {o.vec0});
  for (long long k : {10LL, 100LL, 1000LL})  // sqlite-vec caps k at 4096
    f.k[k] = query_ms(o, db, "SELECT rowid, distance FROM t WHERE e MATCH vec_bit(?1) AND k = ?2", s.dim, k, true,
                      k >= 1000 ? 1 : o.queries);
  return f;
}

// FAISS IndexBinaryFlat over the sign bits, one thread (main sets OpenMP's), one query a call.
std::map<long long, Stat> measure_faiss(const Options& o, const Size& s) {
  std::map<long long, Stat> out;
  faiss::IndexBinaryFlat index(static_cast<int>(s.dim));
  std::vector<float> x(s.dim);
  std::vector<std::uint8_t> codes(static_cast<std::size_t>(s.code_bytes));
  for (std::size_t i = 0; i < s.n; ++i) {
    row(1, i, s.dim, x.data());
    sign_bits(x.data(), s.dim, codes.data() + i * s.dim / 8);
  }
  index.add(static_cast<faiss::IndexBinary::idx_t>(s.n), codes.data());
  std::vector<std::uint8_t> q(s.dim / 8);
  for (long long k : kKs) {
    std::vector<std::int32_t> dist(static_cast<std::size_t>(k));
    std::vector<faiss::IndexBinary::idx_t> labels(static_cast<std::size_t>(k));
    std::uint64_t next = 0;
    out[k] = measure(o.runs, [&] {
      double total = 0;
      for (int i = 0; i < o.queries; ++i) {
        row(2, next++, s.dim, x.data());
        sign_bits(x.data(), s.dim, q.data());
        const double t0 = now();
        index.search(1, q.data(), k, dist.data(), labels.data());
        total += now() - t0;
      }
      return total / o.queries * 1e3;
    });
  }
  return out;
}

void print_knn(const Size& s, double gbs, const BebrFigures& b, const VecFigures& v,
               const std::map<long long, Stat>& faiss) {
  std::vector<Row> rows;
  char note[160];
  std::snprintf(note, sizeof note, "%.1f MB of codes at %.1f GB/s", s.code_bytes / 1e6, gbs);
  rows.push_back(single("memory-bandwidth floor", s.floor_ms, note));
  const std::string bit = "sqlite-vec bit[" + std::to_string(s.dim) + "], ";
  for (long long k : kKs) {
    const std::string ks = "k=" + std::to_string(k);
    const Stat& mine = b.k.at(k);
    std::string r = floor_note(b.floor.at(k));
    if (v.k.count(k)) r += "; sqlite-vec " + ratio(v.k.at(k).median, mine.median, "slower");
    r += "; FAISS " + ratio(faiss.at(k).median, mine.median, "slower");
    rows.push_back({"bebr bits=1, " + ks, mine, r});
    if (v.k.count(k)) rows.push_back({bit + ks, v.k.at(k), ""});
    else rows.push_back(Row{bit + ks, {}, "not supported (k <= 4096)", false, true});
    rows.push_back({"FAISS IndexBinaryFlat, " + ks, faiss.at(k), ""});
  }
  const double one_vec = v.k.at(10).median;
  rows.push_back({"bebr first query after open (builds the cache)", b.first,
                  ratio(b.first.median, one_vec, "one sqlite-vec query")});
  rows.push_back({"bebr first query after open, PRAGMA mmap_size = 1 GiB", b.first_mmap,
                  ratio(b.first_mmap.median, one_vec, "one sqlite-vec query")});
  rows.push_back(single("bebr k=1000 / k=10", b.k1000_over_k10,
                        "median of paired ratios (the two queries back to back); " +
                            ratio(b.k.at(1000).median, b.k.at(10).median, "as the ratio of the medians above")));
  print_table("### kNN, " + std::to_string(s.n) + " x " + std::to_string(s.dim) + "-d, one thread, through SQL", rows,
              "ms/query");
}

void print_inserts(const Size& s, const BebrFigures& b, const VecFigures& v) {
  std::vector<Row> build;
  char note[160];
  std::snprintf(note, sizeof note, "database %.1f bytes/vector = %.3fx the %zu code bytes", b.size / s.n,
                b.size / s.code_bytes, s.dim / 8);
  build.push_back(single("bebr insert, bits=1", b.ins / 1e3, note));
  std::snprintf(note, sizeof note, "database %.1f bytes/vector = %.3fx the code bytes", v.size / s.n,
                v.size / s.code_bytes);
  build.push_back(single("sqlite-vec insert, bit[d]", v.ins / 1e3, note));
  print_table(
      "### Insert, " + std::to_string(s.n) + " x " + std::to_string(s.dim) + "-d (one transaction, prepared statement)",
      build, "thousand rows/s");
}

// Bits 2 and 4 against the one-bit table at s.bpath (k=10 per-query figure `one_ms`), rescoring
// over stored vectors, and the resident memory of a query process.
void print_more(const Options& o, const Size& s, double one_ms) {
  std::vector<Row> more;
  char note[160];
  const double rss = spawn_rss_mib(o.ext, s.bpath, s.dim);
  std::snprintf(note, sizeof note, "= %.2fx the code MiB + 30 MiB", (rss - 30) / (s.code_bytes / 1048576.0));
  more.push_back(single("peak RSS of a query process, bits=1 (MiB)", rss, note));
  for (int bits : {2, 4}) {
    const std::string p = o.dir + "/bebr_b" + std::to_string(bits) + "_" + s.tag + ".db";
    build_bebr(o, p, s.n, s.dim, "bits=" + std::to_string(bits));
    double paired = 0;
    {
      Db both(s.bpath, {o.ext});
      paired = paired_bits_ratio(o, both, p, s.dim, bits);
    }
    Db db(p, {o.ext});
    const Stat k10 = query_ms(o, db, kKnnSql, s.dim, 10, false, o.queries);
    std::snprintf(note, sizeof note,
                  "%.2fx K x the bits=1 figure (median of paired ratios); %.2fx as the ratio of the medians", paired,
                  k10.median / (bits * one_ms));
    more.push_back({"bebr bits=" + std::to_string(bits) + ", k=10", k10, note});
    std::remove(p.c_str());
  }
  {
    const std::string p = o.dir + "/bebr_sv_" + s.tag + ".db";
    build_bebr(o, p, s.n, s.dim, "bits=1, store_vectors=1");
    Db db(p, {o.ext});
    const Stat plain = query_ms(o, db, kKnnSql, s.dim, 10, false, o.queries);
    const Stat re = query_ms(o, db, std::string(kKnnSql) + " AND rescore = 40", s.dim, 10, false, o.queries);
    more.push_back({"bebr bits=1, k=10, floats stored", plain, ""});
    more.push_back({"bebr bits=1, k=10, rescore=40", re, ratio(re.median, plain.median, "the same without rescore")});
    std::remove(p.c_str());
  }
  print_table("### More, " + std::to_string(s.n) + " x 768-d", more, "ms/query");
}

}  // namespace

void speed(const Options& o, std::size_t dim, std::size_t n, double gbs, std::map<std::string, double>& plot) {
  const Size s = size_of(o, n, dim, gbs);
  const BebrFigures b = measure_bebr(o, s);
  const VecFigures v = measure_vec0(o, s);
  const std::map<long long, Stat> faiss = measure_faiss(o, s);
  print_knn(s, gbs, b, v, faiss);
  print_inserts(s, b, v);
  if (dim == 768) {
    plot["bebr_" + std::to_string(n)] = b.k.at(10).median;
    plot["vec_" + std::to_string(n)] = v.k.at(10).median;
    plot["faiss_" + std::to_string(n)] = faiss.at(10).median;
    plot["floor_" + std::to_string(n)] = s.floor_ms;
  }
  if (dim == 768 && n == o.sizes.back()) print_more(o, s, b.k.at(10).median);
  std::remove(s.bpath.c_str());
  std::remove(s.vpath.c_str());
}

}  // namespace bebr::bench
