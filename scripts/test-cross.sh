#!/usr/bin/env bash
# The suite on ARM, cross-built on this machine and run under qemu-user: installs Debian's cross
# g++ and the target's libraries (idempotent, as scripts/deps.sh), configures build-<arch> with
# the toolchain file cmake/<triple>.cmake and -Werror, builds, and runs ctest (every test under
# qemu through CMAKE_CROSSCOMPILING_EMULATOR; those that need a program of this machine to load
# the ARM library are reported skipped with the reason, tests/CMakeLists.txt).
#   bash scripts/test-cross.sh aarch64    # arm64: the neon64 level and ref
#   bash scripts/test-cross.sh armhf      # 32-bit ARM, hard float: ref only
# qemu runs the code, not the timing of ARM: no speed figure comes from here.
set -euo pipefail
cd "$(dirname "$0")/.."
arch="${1:-aarch64}"
case "$arch" in
  aarch64) deb=arm64 triple=aarch64-linux-gnu ;;
  armhf) deb=armhf triple=arm-linux-gnueabihf ;;
  *) echo "usage: bash scripts/test-cross.sh [aarch64|armhf]" >&2; exit 2 ;;
esac
bash scripts/deps.sh
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
# The target's packages are those of a foreign dpkg architecture.
added=0
if ! dpkg --print-foreign-architectures | grep -qx "$deb"; then
  $sudo dpkg --add-architecture "$deb"
  added=1
fi
packages=("g++-$triple" qemu-user "libsqlite3-dev:$deb" "libxsimd-dev:$deb")
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
elif [ "$added" = 1 ]; then
  $sudo apt-get update -qq
fi
dir="build-$arch"
mkdir -p "$dir"
cmake -S . -B "$dir" --toolchain "cmake/$triple.cmake" -DCMAKE_BUILD_TYPE=Release -DBEBR_WERROR=ON \
      -DBEBR_BUILD_TESTS=ON >"$dir/configure.log" || { cat "$dir/configure.log"; exit 1; }
# The tests this build reports skipped, and why.
sed -n 's/^-- bebr: //p' "$dir/configure.log"
cmake --build "$dir" -j"$(nproc)"
ctest --test-dir "$dir" -j"$(nproc)" --output-on-failure --no-tests=error
