#!/usr/bin/env bash
# All the tests: install dependencies, build with warnings as errors, run every test (unit,
# SQL golden files, examples, the demo, recall on ../shared/data when present).
#   bash scripts/test.sh              # Release build in build/
#   bash scripts/test.sh --sanitize   # AddressSanitizer + UndefinedBehaviorSanitizer, in build-asan/
#   bash scripts/test.sh --sqlite-current   # Release, on the current SQLite that better-sqlite3
#                                           # bundles (scripts/sqlite-current.sh), in build-sqlite-current/
set -euo pipefail
cd "$(dirname "$0")/.."
# The layout rules first (docs/design.md, Shape): a second, not a build.
bash scripts/check-layout.sh
bash scripts/deps.sh
# libdqlite, go-dqlite and Go for the "cluster: <name>" tests (tests/cluster/, docs/cluster.md).
bash cluster/deps.sh
if [ "${1:-}" = "--sanitize" ]; then
  dir=build-asan
  cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DBEBR_WERROR=ON -DBEBR_SANITIZE=ON -DBEBR_BUILD_TESTS=ON >/dev/null
  # intercept_tls_get_addr=0: without it GCC 12's LeakSanitizer, at exit, walks a dynamic-TLS
  # entry left by a library loaded and unloaded again (SQLite dlopens bebr.so per connection) and
  # its tracer crashes ("DTLS ... Tracer caught signal 11"); leaks are checked all the same.
  export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:intercept_tls_get_addr=0 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
elif [ "${1:-}" = "--sqlite-current" ]; then
  dir=build-sqlite-current
  command -v npm >/dev/null || bash scripts/deps.sh npm
  amalgamation="$(bash scripts/sqlite-current.sh "$dir/sqlite-current")"
  cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=Release -DBEBR_WERROR=ON -DBEBR_BUILD_TESTS=ON \
        -DBEBR_SQLITE_AMALGAMATION="$amalgamation" >"$dir/configure.log" || { cat "$dir/configure.log"; exit 1; }
  # Which SQLite the tests run on, and which tests cannot reach it (ctest lists those as skipped).
  sed -n 's/^-- bebr: //p' "$dir/configure.log"
else
  dir=build
  # The language bindings' toolchains, for the "binding: <name>" tests (examples/bindings/).
  bash scripts/test-bindings.sh --install-only
  # BEBR_BUILD_TESTS explicitly: the demo configures the same directory with it OFF.
  cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=Release -DBEBR_WERROR=ON -DBEBR_BUILD_TESTS=ON >/dev/null
fi
cmake --build "$dir" -j"$(nproc)"
ctest --test-dir "$dir" -j"$(nproc)" --output-on-failure --no-tests=error
