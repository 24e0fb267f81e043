// The kernel table for xsimd::neon64, compiled with that architecture's flags (see CMakeLists.txt).
#include "kernels-inl.hpp"

namespace bebr::detail {

const Kernels& kernels_neon64() noexcept {
  static const Kernels table = make_kernels<xsimd::neon64>("neon64");
  return table;
}

}  // namespace bebr::detail
