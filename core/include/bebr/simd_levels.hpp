// The SIMD levels of this build and this CPU, by name: what bebr_debug() reports. The kernels
// themselves are private to core (core/src/kernels/kernels.hpp).
//
//   for (const std::string& level : bebr::available_levels()) ...   // "ref", "sse2", ..., "avx512"
//   std::string line = std::string(bebr::active_level()) + " (" + bebr::active_reason() + ")";
//
// The active level is chosen once per process: the best this CPU runs, or the one the
// environment variable BEBR_SIMD=ref|sse2|sse4_2|avx2|avx512|neon64 names (tests, benchmarks).
#pragma once

#include <string>
#include <vector>

namespace bebr {

// Names of the levels compiled into this build, e.g. {"ref", "sse2", "sse4_2", "avx2"}.
std::vector<std::string> compiled_levels();
// Names of the compiled levels this CPU can run.
std::vector<std::string> available_levels();
// The name of the active level ("avx2").
const char* active_level() noexcept;
// Why the active level was chosen ("best available" or "BEBR_SIMD=...").
std::string active_reason();

}  // namespace bebr
