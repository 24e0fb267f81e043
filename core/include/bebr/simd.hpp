// Compatibility shim, to be deleted once ext/ and the tests no longer call kernels directly:
// the kernel table moved to the private core/src/kernels/kernels.hpp, the level names to
// bebr/simd_levels.hpp. New code includes one of those (core) or bebr/search.hpp (everyone else).
#pragma once

#include "../../src/kernels/kernels.hpp"
#include "bebr/simd_levels.hpp"
