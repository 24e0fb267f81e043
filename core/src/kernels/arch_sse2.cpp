// The kernel table for xsimd::sse2, compiled with that architecture's flags (see CMakeLists.txt).
#include "kernels-inl.hpp"

namespace bebr::detail {

const Kernels& kernels_sse2() noexcept {
  static const Kernels table = make_kernels<xsimd::sse2>("sse2");
  return table;
}

}  // namespace bebr::detail
