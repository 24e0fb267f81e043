// The kernel table for xsimd::avx2, compiled with that architecture's flags (see CMakeLists.txt).
#include "kernels-inl.hpp"

namespace bebr::detail {

const Kernels& kernels_avx2() noexcept {
  static const Kernels table = make_kernels<xsimd::avx2>("avx2");
  return table;
}

}  // namespace bebr::detail
