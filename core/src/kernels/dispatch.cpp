// Runtime choice of the kernel table: the best level this CPU runs, or the one BEBR_SIMD names.
#include <cstdlib>

#include <xsimd/xsimd.hpp>

#include "kernels.hpp"

namespace bebr {
namespace detail {
#if defined(BEBR_HAVE_SSE2)
const Kernels& kernels_sse2() noexcept;
#endif
#if defined(BEBR_HAVE_SSE4_2)
const Kernels& kernels_sse4_2() noexcept;
#endif
#if defined(BEBR_HAVE_AVX2)
const Kernels& kernels_avx2() noexcept;
#endif
#if defined(BEBR_HAVE_AVX512)
const Kernels& kernels_avx512() noexcept;
#endif
#if defined(BEBR_HAVE_NEON64)
const Kernels& kernels_neon64() noexcept;
#endif
}  // namespace detail

namespace {

struct Level {
  const char* name;
  const Kernels* (*table)() noexcept;  // nullptr when the CPU cannot run it
};

// [[maybe_unused]]: a build with no x86 level (ref only, as WASM) calls neither check.
[[maybe_unused]] bool cpu_has_popcnt() noexcept {
#if defined(__x86_64__) || defined(__i386__)
  return __builtin_cpu_supports("popcnt");
#else
  return true;
#endif
}

// VL, VPOPCNTDQ, BITALG and VNNI, beyond what xsimd's avx512bw checks (F, CD, DQ, BW).
[[maybe_unused]] bool cpu_has_avx512_popcounts() noexcept {
#if defined(__x86_64__) || defined(__i386__)
  return __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512vpopcntdq") &&
         __builtin_cpu_supports("avx512bitalg") && __builtin_cpu_supports("avx512vnni") &&
         __builtin_cpu_supports("popcnt");
#else
  return false;
#endif
}

// Compiled levels, weakest first.
const std::vector<Level>& levels() {
  static const std::vector<Level> all = [] {
    std::vector<Level> v;
    v.push_back({"ref", []() noexcept -> const Kernels* { return &ref::kernels(); }});
#if defined(BEBR_HAVE_SSE2)
    v.push_back({"sse2", []() noexcept -> const Kernels* {
                   return xsimd::available_architectures().sse2 ? &detail::kernels_sse2() : nullptr;
                 }});
#endif
#if defined(BEBR_HAVE_SSE4_2)
    v.push_back({"sse4_2", []() noexcept -> const Kernels* {
                   return xsimd::available_architectures().sse4_2 && cpu_has_popcnt() ? &detail::kernels_sse4_2()
                                                                                      : nullptr;
                 }});
#endif
#if defined(BEBR_HAVE_AVX2)
    v.push_back({"avx2", []() noexcept -> const Kernels* {
                   return xsimd::available_architectures().avx2 && cpu_has_popcnt() ? &detail::kernels_avx2() : nullptr;
                 }});
#endif
#if defined(BEBR_HAVE_AVX512)
    v.push_back({"avx512", []() noexcept -> const Kernels* {
                   return xsimd::available_architectures().avx512bw && cpu_has_avx512_popcounts()
                              ? &detail::kernels_avx512()
                              : nullptr;
                 }});
#endif
#if defined(BEBR_HAVE_NEON64)
    v.push_back({"neon64", []() noexcept -> const Kernels* {
                   return xsimd::available_architectures().neon64 ? &detail::kernels_neon64() : nullptr;
                 }});
#endif
    return v;
  }();
  return all;
}

struct Active {
  const Kernels* table;
  std::string reason;
};

const Active& active() {
  static const Active chosen = [] {
    const Kernels* best = &ref::kernels();
    for (const Level& l : levels())
      if (const Kernels* t = l.table()) best = t;
    if (const char* forced = std::getenv("BEBR_SIMD"); forced && *forced) {
      if (const Kernels* t = kernels_for(forced)) return Active{t, std::string("BEBR_SIMD=") + forced};
      return Active{
          best, std::string("best available (BEBR_SIMD=") + forced + " is not compiled or not supported by this CPU)"};
    }
    return Active{best, "best available"};
  }();
  return chosen;
}

}  // namespace

std::vector<std::string> compiled_levels() {
  std::vector<std::string> names;
  for (const Level& l : levels()) names.emplace_back(l.name);
  return names;
}

std::vector<std::string> available_levels() {
  std::vector<std::string> names;
  for (const Level& l : levels())
    if (l.table()) names.emplace_back(l.name);
  return names;
}

const Kernels* kernels_for(const std::string& level) noexcept {
  for (const Level& l : levels())
    if (level == l.name) return l.table();
  return nullptr;
}

const Kernels& kernels() noexcept { return *active().table; }

std::string active_reason() { return active().reason; }

}  // namespace bebr
