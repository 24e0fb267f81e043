#!/usr/bin/env bash
# The Python wheel and the npm package pair (docs/install.md), made from a built bebr.so and
# tested as a user would install them:
# - packages/python -> bebr-<version>-py3-none-<platform>.whl, built offline with Debian's
#   setuptools and wheel (pip wheel --no-build-isolation --no-index), installed into a fresh
#   venv of /usr/bin/python3 and tested there (packages/python/tests), again in a venv that
#   sees Debian's numpy, and refused clearly by a Python on PATH that cannot load extensions;
# - packages/npm -> sqlite-bebr-<version>.tgz and sqlite-bebr-linux-x64-<version>.tgz (npm
#   pack), installed together into an empty directory and tested with better-sqlite3 12
#   (packages/npm/test/test.js);
# - the Python and JS examples of docs/install.md run, their shown output checked.
#   bash scripts/test-packages.sh BUILD_DIR WORK_DIR
# BUILD_DIR holds bebr.so (scripts/package.sh passes its static-runtime build); WORK_DIR is
# emptied first and keeps the packages in WORK_DIR/dist. better-sqlite3 is built from source
# once into BUILD_DIR/npm-better-sqlite3, or taken from BEBR_BETTER_SQLITE3 (a node_modules
# folder that has it, e.g. build/bindings/node/node_modules from the binding tests).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "$1" && pwd)
work=$2
so="$build/bebr.so"
[ -f "$so" ] || { echo "test-packages: no $so" >&2; exit 2; }
pkgs=(python3-venv python3-pip python3-setuptools python3-wheel python3-numpy unzip)
command -v node >/dev/null || pkgs+=(nodejs)
command -v npm >/dev/null || pkgs+=(npm)
[ -f /usr/include/node/node.h ] || pkgs+=(libnode-dev)
bash "$root/scripts/deps.sh" "${pkgs[@]}"
rm -rf "$work"
mkdir -p "$work/dist"
work=$(cd "$work" && pwd)
dist="$work/dist"
start=$SECONDS

version=$(sed -n 's/^CMAKE_PROJECT_VERSION:STATIC=//p' "$build/CMakeCache.txt")
[ -n "$version" ] || { echo "test-packages: no CMAKE_PROJECT_VERSION in $build/CMakeCache.txt" >&2; exit 2; }
# Every package states the version by hand; all must say the CMake project's.
for f in packages/python/pyproject.toml packages/python/bebr/__init__.py \
         packages/npm/sqlite-bebr/package.json packages/npm/sqlite-bebr-linux-x64/package.json; do
  grep -Eq "(version|__version__)\"? ?[=:] ?\"$version\"" "$root/$f" ||
    { echo "test-packages: $f does not state version $version" >&2; exit 1; }
done
grep -q "\"sqlite-bebr-linux-x64\": \"$version\"" "$root/packages/npm/sqlite-bebr/package.json" ||
  { echo "test-packages: sqlite-bebr's optionalDependencies do not name $version" >&2; exit 1; }

# ---- The wheel -------------------------------------------------------------------------------
# Its platform tag says what the .so needs. manylinux_2_<m>_<arch> promises that it needs glibc
# 2.<m> at most and only the libraries of the manylinux policy (libc, libm, libdl, librt,
# libpthread, the loader; libstdc++ and libgcc_s too, within version limits that this script
# does not check, so a shared-runtime build gets linux_<arch>). libgomp is not among them (auditwheel would copy it into the wheel), so a build with OpenMP
# gets linux_<arch>, the tag that promises nothing beyond a Linux of this architecture: pip
# installs it, PyPI would refuse it. -DBEBR_OPENMP=OFF gives the manylinux tag.
arch=$(uname -m)
needed=$(readelf -d "$so" | sed -n 's/.*(NEEDED).*\[\(.*\)\]$/\1/p')
glibc=$(readelf -V --wide "$so" | grep -o 'GLIBC_2\.[0-9]*' | sort -V | tail -n 1)
plat="manylinux_2_${glibc#GLIBC_2.}_$arch"
for lib in $needed; do
  case "$lib" in
    libc.so.6 | libm.so.6 | libdl.so.2 | librt.so.1 | libpthread.so.0 | ld-linux-*.so.2) ;;
    *) plat="linux_$arch"; echo "wheel: $lib is outside the manylinux policy: tag $plat" ;;
  esac
done
src="$work/python-src"
cp -r "$root/packages/python" "$src"
rm -rf "$src/tests"
cp "$so" "$src/bebr/bebr.so"
(cd "$src" && BEBR_WHEEL_PLATFORM=$plat /usr/bin/python3 -m pip wheel --quiet --no-build-isolation \
   --no-index --no-deps -w "$dist" . >"$work/wheel.log" 2>&1) || { cat "$work/wheel.log"; exit 1; }
whl="$dist/bebr-$version-py3-none-$plat.whl"
[ -f "$whl" ] || { echo "test-packages: expected $whl; made: $(ls "$dist")" >&2; exit 1; }
echo "$(basename "$whl"): $(stat -c %s "$whl") bytes"
unzip -Z1 "$whl" | sed 's/^/  /'
unzip -p "$whl" "bebr-$version.dist-info/WHEEL" | grep -qx "Root-Is-Purelib: false" ||
  { echo "test-packages: the wheel says it is pure" >&2; exit 1; }
cmp <(unzip -p "$whl" bebr/bebr.so) "$so" || { echo "test-packages: the wheel's bebr.so differs" >&2; exit 1; }

# A fresh venv (no system packages: no numpy), then one that sees Debian's numpy.
py_tests() {  # VENV LABEL
  "$1/bin/python" -m pip install --quiet --no-index --no-deps "$whl"
  (cd "$work" && "$1/bin/python" -m unittest discover -s "$root/packages/python/tests" -v) \
    >"$work/$2.log" 2>&1 || { cat "$work/$2.log"; echo "python ($2): FAILED"; exit 1; }
  echo "python ($2): $(tail -n 3 "$work/$2.log" | grep -E '^(OK|FAILED)')"
}
/usr/bin/python3 -m venv "$work/venv"
py_tests "$work/venv" venv
grep -q "test_dtypes .* skipped" "$work/venv.log" || { echo "test-packages: numpy seen in the fresh venv" >&2; exit 1; }
/usr/bin/python3 -m venv --system-site-packages "$work/venv-numpy"
py_tests "$work/venv-numpy" venv-numpy
grep -q "test_dtypes .* ok" "$work/venv-numpy.log" || { echo "test-packages: the numpy tests did not run" >&2; exit 1; }

# A Python whose sqlite3 cannot load extensions (pyenv's, python.org's builds) gets a clear
# error, not an AttributeError: the installed package on its path.
other=$(command -v python3 || true)
if [ -n "$other" ] && [ "$other" != /usr/bin/python3 ] &&
   ! "$other" -c 'import sqlite3; sqlite3.connect(":memory:").enable_load_extension' 2>/dev/null; then
  mkdir "$work/plain" && unzip -q "$whl" -d "$work/plain"
  out=$(cd "$work" && PYTHONPATH="$work/plain" "$other" -c \
    'import sqlite3, bebr; bebr.load(sqlite3.connect(":memory:"))' 2>&1 || true)
  echo "$out" | grep -q "bebr.LoadError: bebr.load: this Python's sqlite3 module cannot load extensions" ||
    { echo "python ($other): FAILED: expected bebr's LoadError, got:"; echo "$out"; exit 1; }
  echo "python ($other, no extension loading): LoadError as expected"
else
  echo "python without extension loading: skipped: every python3 on PATH can load extensions"
fi

# ---- The npm pair ----------------------------------------------------------------------------
cp -r "$root/packages/npm" "$work/npm-src"
cp "$so" "$work/npm-src/sqlite-bebr-linux-x64/bebr.so"
for p in sqlite-bebr-linux-x64 sqlite-bebr; do
  (cd "$work/npm-src/$p" && npm pack --silent --pack-destination "$dist" >/dev/null)
  tgz="$dist/$p-$version.tgz"
  [ -f "$tgz" ] || { echo "test-packages: npm pack made no $tgz" >&2; exit 1; }
  echo "$(basename "$tgz"): $(stat -c %s "$tgz") bytes: $(tar -tzf "$tgz" | sed 's|^package/||' | sort | tr '\n' ' ')"
done
modules=${BEBR_BETTER_SQLITE3:-$build/npm-better-sqlite3/node_modules}
if ! NODE_PATH="$modules" node -e 'require("better-sqlite3")' 2>/dev/null; then
  modules="$build/npm-better-sqlite3/node_modules"
  mkdir -p "$build/npm-better-sqlite3"
  echo "better-sqlite3: building from source into $modules (minutes, once)"
  (cd "$build/npm-better-sqlite3" && npm_config_nodedir=/usr npm install --no-save --no-audit --no-fund \
     --loglevel=error better-sqlite3@12 >"$work/better-sqlite3.log" 2>&1) ||
    { cat "$work/better-sqlite3.log"; exit 1; }
fi
app="$work/npm-app"
mkdir -p "$app"
echo '{ "name": "bebr-package-test", "private": true }' >"$app/package.json"
# Both tarballs at once: the platform package satisfies sqlite-bebr's optional dependency.
(cd "$app" && npm install --no-audit --no-fund --loglevel=error "$dist/sqlite-bebr-$version.tgz" \
   "$dist/sqlite-bebr-linux-x64-$version.tgz" >"$work/npm-install.log" 2>&1) ||
  { cat "$work/npm-install.log"; exit 1; }
cp "$root/packages/npm/test/test.js" "$app/"
(cd "$app" && NODE_PATH="$modules" node --test test.js >"$work/npm-test.log" 2>&1) ||
  { cat "$work/npm-test.log"; echo "npm: FAILED"; exit 1; }
echo "npm: $(grep -E '^# (pass|fail) ' "$work/npm-test.log" | tr '\n' ' ')"

# ---- docs/install.md's examples --------------------------------------------------------------
# After each marker line: the code block, then the block of what it prints.
doc_block() {  # LANG N: the Nth fenced block after the LANG example's marker
  awk -v m="<!-- $1 example: run by scripts/test-packages.sh -->" -v want="$2" '
    $0 == m { f = 1; next }
    f && /^```/ { n++; if (n > 2 * want) exit; next }
    f && n == 2 * want - 1' "$root/docs/install.md"
}
check_doc() {  # LANG FILE COMMAND...
  local lang=$1 file=$2; shift 2
  doc_block "$lang" 1 >"$file"
  [ -s "$file" ] || { echo "docs/install.md: no $lang example"; exit 1; }
  local got; got=$(cd "$(dirname "$file")" && "$@" "$file" 2>&1) ||
    { echo "docs/install.md $lang example: FAILED:"; echo "$got"; exit 1; }
  [ "$got" = "$(doc_block "$lang" 2)" ] ||
    { echo "docs/install.md $lang example: FAILED: it printed"; echo "$got"; exit 1; }
  echo "docs/install.md $lang example: ok"
}
check_doc python "$work/doc_example.py" "$work/venv/bin/python"
check_doc js "$app/doc_example.js" env NODE_PATH="$modules" node
echo "packages: $((SECONDS - start)) s"
