#!/usr/bin/env bash
# The release package: a Release build with the static C++ runtime (BEBR_STATIC_RUNTIME) in
# build-package/, its bebr.so checked for what it needs from the host (scripts/check-symbols.sh,
# GLIBC_ at most BEBR_GLIBC_MAX), then the .deb made and loaded from a clean directory and the
# installed tree embedded (scripts/test-deb.sh, scripts/test-install.sh), and the Python wheel
# and the npm pair made of the same .so and tested (scripts/test-packages.sh). docs/install.md.
#   bash scripts/package.sh        # leaves build-package/deb-test/pkg/bebr_<version>_<arch>.deb
#                                  # and build-package/packages-test/dist/ (wheel, npm tarballs)
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
dir=build-package
cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=Release -DBEBR_WERROR=ON -DBEBR_BUILD_TESTS=OFF \
      -DBEBR_STATIC_RUNTIME=ON >/dev/null
cmake --build "$dir" -j"$(nproc)"
glibc_max="$(sed -n 's/^BEBR_GLIBC_MAX:STRING=//p' "$dir/CMakeCache.txt")"
bash scripts/check-symbols.sh "$dir/bebr.so" "$glibc_max"
bash scripts/test-deb.sh "$dir" "$dir/deb-test"
bash scripts/test-install.sh "$dir" "$dir/install-test"
# better-sqlite3 as the binding tests built it (build/bindings, scripts/test.sh), when it is there.
[ -n "${BEBR_BETTER_SQLITE3:-}" ] || [ ! -d build/bindings/node/node_modules/better-sqlite3 ] ||
  export BEBR_BETTER_SQLITE3="$PWD/build/bindings/node/node_modules"
bash scripts/test-packages.sh "$dir" "$dir/packages-test"
