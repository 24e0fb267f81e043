#!/usr/bin/env bash
# The installed tree works for embedding (docs/install.md): `cmake --install` of a built tree
# into a fresh prefix, then examples/embed built against that prefix twice, through
# find_package(bebr) and through pkg-config, and each program run and its output checked.
#   bash scripts/test-install.sh BUILD_DIR WORK_DIR
# WORK_DIR is emptied first. Compilers: the environment's cc/c++ (CC, CXX).
set -euo pipefail
src="$(cd "$(dirname "$0")/.." && pwd)"
build="$1"
work="$2"
rm -rf "$work"
mkdir -p "$work"
work="$(cd "$work" && pwd)"
prefix="$work/prefix"
cmake --install "$build" --prefix "$prefix" >"$work/install.log"
for f in bebr.so libbebr.a libbebr_core.a cmake/bebr/bebrConfig.cmake pkgconfig/bebr.pc; do
  [ -n "$(find "$prefix" -path "*/$f" -print -quit)" ] || { echo "not installed: $f"; cat "$work/install.log"; exit 1; }
done
echo "installed: $(cd "$prefix" && find . -type f | sort | tr '\n' ' ')"

# What the program must print after its first line (SQLite's and bebr's versions).
expected="$(printf 'cats\nkittens\ntrucks')"
check() {
  local out
  out="$("$1")"
  echo "$out" | sed 's/^/  /'
  echo "$out" | head -n 1 | grep -q '^sqlite 3\.[0-9.]*|bebr [0-9.]*$' || { echo "$2: unexpected first line"; exit 1; }
  [ "$(echo "$out" | tail -n +2)" = "$expected" ] || { echo "$2: expected $(echo $expected)"; exit 1; }
  echo "$2: ok"
}

cmake -S "$src/examples/embed" -B "$work/embed" -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH="$prefix" \
      >"$work/embed-configure.log" || { cat "$work/embed-configure.log"; exit 1; }
cmake --build "$work/embed" >"$work/embed-build.log" || { cat "$work/embed-build.log"; exit 1; }
check "$work/embed/embed" "find_package(bebr)"

pc_dir="$(dirname "$(find "$prefix" -name bebr.pc -print -quit)")"
flags="$(PKG_CONFIG_PATH="$pc_dir" pkg-config --cflags --libs bebr)"
echo "pkg-config --cflags --libs bebr: $flags"
# shellcheck disable=SC2086
"${CC:-cc}" "$src/examples/embed/embed.c" $flags -o "$work/embed-pc"
check "$work/embed-pc" "pkg-config bebr"
