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
//              [--figures FILE]  (with --bebr-only 1: each figure as a "name<TAB>value" line)
//
// Built without BEBR_BENCH_PEERS (bebr_scan_bench: no FAISS, no sqlite-vec) it runs the
// --bebr-only figures alone and needs no --vec0; bench/compare.sh uses it.
#ifdef BEBR_BENCH_PEERS
#include <faiss/IndexBinaryFlat.h>
#include <omp.h>
#endif
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <stdexcept>

#include "harness.hpp"

namespace {

using namespace bebr::bench;

std::string cpu_model() {
  std::ifstream f("/proc/cpuinfo");
  std::string line;
  while (std::getline(f, line))
    if (line.rfind("model name", 0) == 0) return line.substr(line.find(':') + 2);
  return "?";
}

Options parse(int argc, char** argv) {
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
    else if (k == "--figures") o.figures = v;
    else throw std::runtime_error("unknown option " + k);
  }
#ifdef BEBR_BENCH_PEERS
  if (o.ext.empty() || o.vec0.empty()) throw std::runtime_error("usage: bebr_bench --ext PATH --vec0 PATH [options]");
#else
  if (o.ext.empty() || !o.bebr_only)
    throw std::runtime_error("usage: bebr_scan_bench --ext PATH --bebr-only 1 [options] (built without the peers)");
#endif
  return o;
}

// The header: machine, builds and peers, the bandwidth of this run.
void print_header(const Options& o, Db& info, double gbs) {
  std::string simd = info.text("SELECT bebr_debug()");
  if (const auto at = simd.find("simd active: "); at != std::string::npos)
    simd = simd.substr(at, simd.find('\n', at) - at);
  std::printf("## bebr benchmark\n\n- machine: %s, %ld cores; SQLite %s\n- bebr %s, %s\n", cpu_model().c_str(),
              sysconf(_SC_NPROCESSORS_ONLN), sqlite3_libversion(), info.text("SELECT bebr_version()").c_str(),
              simd.c_str());
#ifdef BEBR_BENCH_PEERS
  std::printf("- sqlite-vec %s (npm sqlite-vec-linux-x64); FAISS %d.%d.%d (Debian libfaiss-dev), 1 thread\n",
              info.text("SELECT vec_version()").c_str(), FAISS_VERSION_MAJOR, FAISS_VERSION_MINOR, FAISS_VERSION_PATCH);
#else
  std::printf("- no peers (bebr_scan_bench)\n");
#endif
  std::printf(
      "- memory read bandwidth, one thread: %.1f GB/s (1 GiB sequential read, median of %d)\n"
      "- %d runs of %d queries per figure (1 query per run for sqlite-vec at k >= 1000); SQLite default pragmas "
      "(mmap_size 0, cache_size -2000)\n",
      gbs, o.runs, o.runs, o.queries);
}

#ifdef BEBR_BENCH_PEERS
// Every size against the peers, recall, and bench/plot.gp's data.
void full_suite(const Options& o, double gbs) {
  std::map<std::string, double> plot;
  for (std::size_t dim : o.dims)
    for (std::size_t n : o.sizes) speed(o, dim, n, gbs, plot);
  recall(o);
  std::ofstream dat(o.dir + "/plot.dat");
  dat << "# N bebr sqlite-vec faiss floor (ms/query, k=10, 768-d)\n";
  for (std::size_t n : o.sizes)
    dat << n << " " << plot["bebr_" + std::to_string(n)] << " " << plot["vec_" + std::to_string(n)] << " "
        << plot["faiss_" + std::to_string(n)] << " " << plot["floor_" + std::to_string(n)] << "\n";
}
#endif

}  // namespace

int main(int argc, char** argv) {
  try {
    if (argc >= 5 && std::string(argv[1]) == "--rss") return rss_probe(argv[2], argv[3], std::stoul(argv[4]), 20);
    const Options o = parse(argc, argv);
    mkdir(o.dir.c_str(), 0755);
    std::vector<std::string> extensions{o.ext};
#ifdef BEBR_BENCH_PEERS
    omp_set_num_threads(1);
    extensions.push_back(o.vec0);
#endif
    Db info(":memory:", extensions);
    const double gbs = probe().gbs(o.runs);
    print_header(o, info, gbs);
    if (o.bebr_only) {
      for (std::size_t dim : o.dims)
        for (std::size_t n : o.sizes) bebr_only(o, dim, n, gbs);
      return 0;
    }
#ifdef BEBR_BENCH_PEERS
    full_suite(o, gbs);
#endif
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bebr_bench: %s\n", e.what());
    return 1;
  }
}
