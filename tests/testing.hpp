// Helpers shared by the tests and the benchmarks: seeded random data, the dataset loader, and
// the skip report.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <random>
#include <string>
#include <vector>

namespace bebr::testing {

inline std::vector<float> random_vector(std::mt19937_64& rng, std::size_t dim, float mean = 0.f) {
  std::normal_distribution<float> g(mean, 1.f);
  std::vector<float> v(dim);
  for (auto& x : v) x = g(rng);
  return v;
}

// The oracle metric, in double: "cosine" (1 - cos, 1 if either is zero), "ip" (-<a, b>), "l2".
inline double exact_distance(const std::vector<float>& a, const std::vector<float>& b, const std::string& metric) {
  double ab = 0, aa = 0, bb = 0, d2 = 0;
  for (std::size_t j = 0; j < a.size(); ++j) {
    ab += double{a[j]} * b[j];
    aa += double{a[j]} * a[j];
    bb += double{b[j]} * b[j];
    d2 += (double{a[j]} - b[j]) * (double{a[j]} - b[j]);
  }
  if (metric == "ip") return -ab;
  if (metric == "l2") return std::sqrt(d2);
  return (aa > 0 && bb > 0) ? 1 - ab / std::sqrt(aa * bb) : 1.0;
}

inline std::vector<std::uint8_t> random_bytes(std::mt19937_64& rng, std::size_t n) {
  std::vector<std::uint8_t> b(n);
  for (auto& x : b) x = static_cast<std::uint8_t>(rng());
  return b;
}

template <class T>
std::optional<std::vector<T>> read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return std::nullopt;
  f.seekg(0, std::ios::end);
  const auto bytes = static_cast<std::size_t>(f.tellg());
  f.seekg(0);
  std::vector<T> out(bytes / sizeof(T));
  f.read(reinterpret_cast<char*>(out.data()), static_cast<std::streamsize>(out.size() * sizeof(T)));
  return out;
}

// A dataset of ../shared/data (README there): base, queries, exact cosine ground truth.
struct Dataset {
  std::string name;
  std::size_t dim = 0, n = 0, q = 0;
  std::vector<float> base, queries;
  std::vector<std::int32_t> gt;  // q x 100
};

inline std::string data_dir() {
  if (const char* env = std::getenv("BEBR_DATA_DIR")) return env;
#ifdef BEBR_DATA_DIR
  return BEBR_DATA_DIR;
#else
  return "../shared/data";
#endif
}

// The path of the first file of dataset `name` that cannot be opened, or "" when all can.
inline std::string missing_dataset_file(const std::string& name) {
  for (const char* file : {"base.f32", "queries.f32", "gt.i32"}) {
    const std::string path = data_dir() + "/" + name + "/" + file;
    if (!std::ifstream(path, std::ios::binary)) return path;
  }
  return "";
}

inline std::optional<Dataset> load_dataset(const std::string& name, std::size_t dim) {
  const std::string dir = data_dir() + "/" + name + "/";
  auto base = read_file<float>(dir + "base.f32");
  auto queries = read_file<float>(dir + "queries.f32");
  auto gt = read_file<std::int32_t>(dir + "gt.i32");
  if (!base || !queries || !gt) return std::nullopt;
  Dataset d{name,          dim, base->size() / dim, queries->size() / dim, std::move(*base), std::move(*queries),
            std::move(*gt)};
  return d;
}

// A test that cannot run here (its data is absent) prints this line and returns without
// asserting; ctest reports it as skipped (SKIP_REGULAR_EXPRESSION in tests/CMakeLists.txt).
// Catch 2 has no skip of its own, and exiting with a skip code would also end the other test
// cases of a binary run by hand.
inline constexpr char kSkipMarker[] = "bebr test skipped: ";
inline void report_skipped(const std::string& why) {
  std::printf("%s%s\n", kSkipMarker, why.c_str());
  std::fflush(stdout);
}

}  // namespace bebr::testing
