# The WebAssembly build (emscripten; scripts/test-wasm.sh, docs/install.md):
#   emcmake cmake -S . -B build-wasm -DBEBR_SQLITE_AMALGAMATION="$(bash scripts/sqlite-current.sh)"
# There is no dlopen, so no loadable bebr.so: the build makes the static libraries (libbebr.a,
# libbebr_core.a), linked with SQLite into node programs that register bebr as embedding does.
# Included by CMakeLists.txt in place of its find_package calls when EMSCRIPTEN is set.
#
# The headers of xsimd, Eigen and Catch2 come from the host (Debian's -dev packages: all
# header-only). Their CMake configs name /usr/include, which would put glibc's headers ahead of
# emscripten's libc, so each library's own directory is linked into the build tree and named there.
if(NOT BEBR_SQLITE_AMALGAMATION)
  message(FATAL_ERROR "the WASM build needs -DBEBR_SQLITE_AMALGAMATION=<dir> (scripts/sqlite-current.sh): "
                      "no system SQLite exists for wasm")
endif()

set(bebr_host_headers "${CMAKE_BINARY_DIR}/host-headers")
file(MAKE_DIRECTORY "${bebr_host_headers}")
# bebr_host_header(<var> <header under the include dir> <subdirectory to link>)
function(bebr_host_header var header subdir)
  find_path(${var} ${header} PATHS /usr/include /usr/local/include NO_DEFAULT_PATH NO_CMAKE_FIND_ROOT_PATH)
  if(NOT ${var})
    message(FATAL_ERROR "the WASM build needs the host's ${header} (apt-get install the -dev package)")
  endif()
  file(CREATE_LINK "${${var}}/${subdir}" "${bebr_host_headers}/${subdir}" SYMBOLIC)
endfunction()
bebr_host_header(BEBR_XSIMD_INCLUDE xsimd/xsimd.hpp xsimd)
bebr_host_header(BEBR_CATCH2_INCLUDE catch2/catch.hpp catch2)
find_path(BEBR_EIGEN_INCLUDE Eigen/Core PATHS /usr/include/eigen3 /usr/local/include/eigen3
          NO_DEFAULT_PATH NO_CMAKE_FIND_ROOT_PATH)
if(NOT BEBR_EIGEN_INCLUDE)
  message(FATAL_ERROR "the WASM build needs the host's Eigen 3 headers (libeigen3-dev)")
endif()

add_library(xsimd INTERFACE IMPORTED)
target_include_directories(xsimd SYSTEM INTERFACE "${bebr_host_headers}")
add_library(Eigen3::Eigen INTERFACE IMPORTED)
target_include_directories(Eigen3::Eigen SYSTEM INTERFACE "${BEBR_EIGEN_INCLUDE}")
add_library(Catch2::Catch2 INTERFACE IMPORTED)
target_include_directories(Catch2::Catch2 SYSTEM INTERFACE "${bebr_host_headers}")

# Exceptions on for every translation unit and at every link (a global option, because it is
# part of the ABI: code built without it aborts at the first throw, so the first SQL error would
# end the program instead of becoming SQLite's error). Programs read the host's files directly
# (NODERAWFS: the .test files, the bundled data) and grow their memory as SQLite asks.
add_compile_options(-fexceptions)
add_link_options(-fexceptions -sNODERAWFS=1 -sALLOW_MEMORY_GROWTH=1 -sEXIT_RUNTIME=1)

# No OpenMP (no threads in a plain node wasm program), no cluster node, nothing to install.
set(BEBR_OPENMP OFF CACHE BOOL "" FORCE)
set(BEBR_CLUSTER OFF CACHE BOOL "" FORCE)
