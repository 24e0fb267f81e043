#!/usr/bin/env bash
# The main job: install dependencies, build bebr, and run the kNN demo on the bundled Bible
# passages through the sqlite3 shell.   bash scripts/demo.sh
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DBEBR_BUILD_TESTS=OFF >/dev/null
cmake --build build -j"$(nproc)" --target bebr >/dev/null
exec scripts/demo-run.sh build
