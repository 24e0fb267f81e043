// Comparisons shared by the virtual-table tests: rows of (rowid, distance) against an oracle's.
#pragma once

#include <catch2/catch.hpp>

#include <utility>
#include <vector>

#include "db.hpp"

namespace bebr::testing {

inline std::vector<std::pair<long long, double>> rows_of(Db::Stmt& s) {
  std::vector<std::pair<long long, double>> out;
  while (s.step()) out.emplace_back(s.integer(0), s.real(1));
  return out;
}

// The same rowids in the same order, and the same distances.
inline void check_same(const std::vector<std::pair<long long, double>>& got,
                       const std::vector<std::pair<long long, double>>& want) {
  REQUIRE(got.size() == want.size());
  for (std::size_t i = 0; i < got.size(); ++i) {
    CHECK(got[i].first == want[i].first);
    CHECK(got[i].second == Approx(want[i].second).margin(1e-12));
  }
}

}  // namespace bebr::testing
