#!/usr/bin/env bash
# Installs the Debian packages bebr needs to build, test and run its demo. Idempotent: does
# nothing when they are all present. Uses sudo when not root.
#   bash scripts/deps.sh                  # build, tests, demo
#   bash scripts/deps.sh pkg...           # those as well (bench/run.sh adds its peers)
set -euo pipefail
packages=(cmake g++ make libsqlite3-dev sqlite3 libxsimd-dev catch2 libeigen3-dev python3 "$@")
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "installing: ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
fi
