// Runs a test command with the SIMD level forced, or reports the run skipped. The library falls
// back to the best level when BEBR_SIMD names one this build lacks or this CPU cannot run, so a
// forced-level run would pass by testing that level again; through this launcher it exits 77
// instead (ctest SKIP_RETURN_CODE: reported as skipped), saying why.
//   bebr_at_level avx512 ./bebr_core_tests "[kernels]"
//   skipped: SIMD level avx512 is compiled into this build but this CPU cannot run it (...)
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "bebr/simd_levels.hpp"

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: bebr_at_level LEVEL COMMAND [ARGS...]\n");
    return 2;
  }
  const std::string level = argv[1];
  std::string compiled, available;
  bool in_build = false, runs = false;
  for (const std::string& l : bebr::compiled_levels()) {
    compiled += " " + l;
    in_build |= l == level;
  }
  for (const std::string& l : bebr::available_levels()) {
    available += " " + l;
    runs |= l == level;
  }
  if (!runs) {
    std::printf("skipped: SIMD level %s %s (compiled:%s; this CPU runs:%s)\n", level.c_str(),
                in_build ? "is compiled into this build but this CPU cannot run it" : "is not compiled into this build",
                compiled.c_str(), available.c_str());
    return 77;
  }
  setenv("BEBR_SIMD", level.c_str(), 1);
  execv(argv[2], argv + 2);
  std::perror(argv[2]);
  return 127;
}
