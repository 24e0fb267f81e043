// The active SIMD level's name for bebr/simd_levels.hpp (the other level queries live beside the
// dispatch in core/src/kernels/dispatch.cpp).
#include "bebr/simd_levels.hpp"

#include "kernels/kernels.hpp"

namespace bebr {

const char* active_level() noexcept { return kernels().name; }

}  // namespace bebr
