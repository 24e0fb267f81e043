// --bebr-only: bebr's own scan figures without the peers, for iterating on the kernels and for
// bench/compare.sh: bits 1, 2 and 4 at k = 10, bits 1 at k = 1000, and the first query, against
// the floor of this run. With --figures FILE every figure also goes to FILE, one
// "name<TAB>value" line each (inserts and bytes on disk of every bits too).
#include <cstdio>

#include "harness.hpp"

namespace bebr::bench {
namespace {

// The one-bit table: k=10 against the floor, inserts and bytes, k=1000 against k=10 paired,
// the first query. Returns the k=10 median.
double one_bit(const Options& o, const std::string& p, std::size_t dim, double code_bytes, double ins,
               std::vector<Row>& rows) {
  char note[160];
  Db db(p, {o.ext});
  const Floored f = floored_query_ms(o, db, kKnnSql, dim, 10, code_bytes);
  const double bytes = file_bytes(p);
  std::snprintf(note, sizeof note, "%s; insert %.0fk rows/s; %.3fx the code bytes on disk", floor_note(f.ratio).c_str(),
                ins / 1e3, bytes / code_bytes);
  rows.push_back({"bebr bits=1, k=10", f.ms, note});
  figure(o, "bits=1 k=10 ms", f.ms.median);
  figure(o, "bits=1 k=10 x floor", f.ratio);
  figure(o, "bits=1 insert rows/s", ins);
  figure(o, "bits=1 file bytes", bytes);
  const Stat k1000 = query_ms(o, db, kKnnSql, dim, 1000, false, o.queries);
  const double paired = paired_ratio(o, db, dim, 10, 1000);
  std::snprintf(note, sizeof note, "%.2fx k=10 (median of paired ratios)", paired);
  rows.push_back({"bebr bits=1, k=1000", k1000, note});
  figure(o, "bits=1 k=1000 ms", k1000.median);
  figure(o, "bits=1 k=1000 / k=10 paired", paired);
  const Stat first = first_query_ms(o, p, dim, false);
  rows.push_back({"bebr first query after open", first, ""});
  figure(o, "bits=1 first query ms", first.median);
  return f.ms.median;
}

// A K-bit table at p against the one-bit table at p1 (k=10 median `one`).
void k_bits(const Options& o, const std::string& p, const std::string& p1, std::size_t dim, int bits, double code_bytes,
            double ins, double one, std::vector<Row>& rows) {
  char note[160];
  const std::string b = "bits=" + std::to_string(bits);
  Db db(p, {o.ext});  // open (its cache resident) through the pairs, as it always was
  const Floored f = floored_query_ms(o, db, kKnnSql, dim, 10, code_bytes * bits);
  double paired = 0;
  {
    Db both(p1, {o.ext});
    paired = paired_bits_ratio(o, both, p, dim, bits);
  }
  std::snprintf(note, sizeof note,
                "%.2fx K x the bits=1 figure (median of paired ratios), %.2fx as the ratio of the medians", paired,
                f.ms.median / (bits * one));
  rows.push_back({"bebr " + b + ", k=10", f.ms, std::string(note) + "; " + floor_note(f.ratio) + " of K-bit codes"});
  figure(o, b + " k=10 ms", f.ms.median);
  figure(o, b + " k=10 / (K x bits=1) paired", paired);
  figure(o, b + " k=10 x floor", f.ratio);
  figure(o, b + " insert rows/s", ins);
  figure(o, b + " file bytes", file_bytes(p));
}

}  // namespace

void bebr_only(const Options& o, std::size_t dim, std::size_t n, double gbs) {
  const std::string tag = std::to_string(dim) + "_" + std::to_string(n);
  const double code_bytes = static_cast<double>(n) * dim / 8, floor_ms = code_bytes / (gbs * 1e9) * 1e3;
  std::vector<Row> rows;
  char note[160];
  std::snprintf(note, sizeof note, "%.1f MB of codes at %.1f GB/s", code_bytes / 1e6, gbs);
  rows.push_back(single("memory-bandwidth floor", floor_ms, note));
  figure(o, "floor ms", floor_ms);
  double one = 0;
  const std::string p1 = o.dir + "/bebr_b1_" + tag + ".db";
  for (int bits : {1, 2, 4}) {
    const std::string p = o.dir + "/bebr_b" + std::to_string(bits) + "_" + tag + ".db";
    const double ins = build_bebr(o, p, n, dim, "bits=" + std::to_string(bits));
    if (bits == 1) {
      one = one_bit(o, p, dim, code_bytes, ins, rows);
    } else {
      k_bits(o, p, p1, dim, bits, code_bytes, ins, one, rows);
      std::remove(p.c_str());
    }
  }
  std::remove(p1.c_str());
  print_table("### bebr only, " + std::to_string(n) + " x " + std::to_string(dim) + "-d, one thread, through SQL", rows,
              "ms/query");
}

}  // namespace bebr::bench
