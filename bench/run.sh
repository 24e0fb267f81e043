#!/usr/bin/env bash
# The benchmark suite in one command: installs its peers (Debian's FAISS and gnuplot, sqlite-vec's
# prebuilt extension from npm), builds bebr and the suite in Release, runs it, prints the tables
# and draws bench/ms-per-query.png. Timings need a quiet machine; the figures in bench/README.md
# come from this command.
#   bash bench/run.sh                         # 100k and 1M vectors at 768 and 1024 dims
#   bash bench/run.sh --sizes 100000 --dims 768 --runs 5 --queries 10
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh libfaiss-dev libopenblas-dev gnuplot-nox
if ! command -v npm >/dev/null; then bash scripts/deps.sh npm; fi
peers=bench/.peers
vec0="$peers/node_modules/sqlite-vec-linux-x64/vec0.so"
if [ ! -f "$vec0" ]; then
  mkdir -p "$peers"
  npm install --silent --no-save --no-audit --no-fund --prefix "$peers" sqlite-vec-linux-x64@0.1.9 >/dev/null
fi
cmake -S . -B build-bench -DCMAKE_BUILD_TYPE=Release -DBEBR_BUILD_TESTS=OFF -DBEBR_BUILD_BENCH=ON >/dev/null
cmake --build build-bench -j"$(nproc)" --target bebr bebr_bench >/dev/null
dir="${TMPDIR:-/tmp}/bebr-bench"
mkdir -p "$dir"
build-bench/bench/bebr_bench --ext build-bench/bebr --vec0 "$vec0" --dir "$dir" "$@" | tee "$dir/results.md"
if [ "$(wc -l < "$dir/plot.dat")" -gt 2 ]; then
  gnuplot -e "data='$dir/plot.dat'; out='bench/ms-per-query.png'" bench/plot.gp
  echo "plot: bench/ms-per-query.png"
fi
