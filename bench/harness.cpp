// Timing, statistics, the seeded data, the bandwidth probe and the result tables of the
// benchmark suite (harness.hpp).
#include "harness.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>

namespace bebr::bench {

double now() { return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count(); }

Stat measure(int runs, const std::function<double()>& f) {
  std::vector<double> v;
  for (int r = 0; r < runs; ++r) v.push_back(f());
  std::sort(v.begin(), v.end());
  return {v[v.size() / 2], v.front(), v.back()};
}

std::string fmt(const Stat& s, int digits) {
  char b[96];
  std::snprintf(b, sizeof b, "%.*f (%.*f-%.*f)", digits, s.median, digits, s.min, digits, s.max);
  return b;
}

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

void sign_bits(const float* x, std::size_t dim, std::uint8_t* out) {
  std::memset(out, 0, dim / 8);
  for (std::size_t j = 0; j < dim; ++j)
    if (x[j] > 0) out[j / 8] |= static_cast<std::uint8_t>(1u << (j % 8));
}

double file_bytes(const std::string& path) {
  struct stat st {};
  return stat(path.c_str(), &st) == 0 ? static_cast<double>(st.st_size) : 0.0;
}

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

void figure(const Options& o, const std::string& name, double value) {
  if (o.figures.empty()) return;
  char v[64];
  std::snprintf(v, sizeof v, "%.9g", value);
  std::ofstream(o.figures, std::ios::app) << name << '\t' << v << '\n';
}

Probe::Probe() : buf_((std::size_t{1} << 30) / 8, 1) {}

double Probe::once() {
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

double Probe::gbs(int runs) {
  return measure(runs, [&] { return once(); }).median;
}

Probe& probe() {
  static Probe p;
  return p;
}

Row single(const std::string& what, double value, const std::string& note) {
  return Row{what, {value, value, value}, note, true, false};
}

void print_table(const std::string& title, const std::vector<Row>& rows, const std::string& unit) {
  std::printf("\n%s\n\n| measure | %s, median (min-max) | ratio / note |\n| --- | ---: | --- |\n", title.c_str(),
              unit.c_str());
  for (const Row& r : rows) {
    char v[64];
    std::snprintf(v, sizeof v, "%.2f", r.ms.median);
    std::printf("| %s | %s | %s |\n", r.what.c_str(),
                r.absent   ? "n/a"
                : r.single ? v
                           : fmt(r.ms).c_str(),
                r.note.c_str());
  }
  std::fflush(stdout);
}

std::string ratio(double a, double b, const char* what) {
  char s[96];
  std::snprintf(s, sizeof s, "%.2fx %s", a / b, what);
  return s;
}

std::string floor_note(double r) {
  char b[96];
  std::snprintf(b, sizeof b, "%.2fx the floor (median of per-run ratios)", r);
  return b;
}

}  // namespace bebr::bench
