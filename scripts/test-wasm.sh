#!/usr/bin/env bash
# The WebAssembly build (cmake/wasm.cmake) and its tests under node: every SQL golden file of
# sql/tests against bebr linked statically with a current SQLite (the amalgamation better-sqlite3
# ships, scripts/sqlite-current.sh), and the core unit tests, at the ref level (xsimd 8.1 has no
# wasm arch). Not part of .ci/run yet (docs/install.md, "WebAssembly").
#   bash scripts/test-wasm.sh          # build-wasm/
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh emscripten
{ command -v node && command -v npm; } >/dev/null || bash scripts/deps.sh nodejs npm
amalgamation="$(BEBR_SQLITE_SHELL_NPM= bash scripts/sqlite-current.sh build-wasm-sqlite)"
node="$(command -v node)"
# Node 18 and later have a built-in fetch that emscripten 3.1.6's loader mistakes for a browser's.
emcmake cmake -S . -B build-wasm -DCMAKE_BUILD_TYPE=Release -DBEBR_WERROR=ON -DBEBR_BUILD_TESTS=ON \
  -DBEBR_SQLITE_AMALGAMATION="$amalgamation" "-DCMAKE_CROSSCOMPILING_EMULATOR=$node;--no-experimental-fetch" >/dev/null
# emcc's optimizer needs Debian's node modules, which a node from elsewhere does not search.
NODE_PATH=/usr/share/nodejs cmake --build build-wasm -j"$(nproc)"
ctest --test-dir build-wasm -j"$(nproc)" --output-on-failure
