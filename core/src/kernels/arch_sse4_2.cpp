// The kernel table for xsimd::sse4_2, compiled with that architecture's flags (see CMakeLists.txt).
#include "kernels-inl.hpp"

namespace bebr::detail {

const Kernels& kernels_sse4_2() noexcept {
  static const Kernels table = make_kernels<xsimd::sse4_2>("sse4_2");
  return table;
}

}  // namespace bebr::detail
