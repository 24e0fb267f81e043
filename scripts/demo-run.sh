#!/usr/bin/env bash
# Runs the demo with an already built extension: scripts/demo-run.sh [BUILD_DIR] (default build).
# Run from the project root; the demo reads examples/data/bible.
set -euo pipefail
cd "$(dirname "$0")/.."
build="${1:-build}"
exec sqlite3 :memory: -cmd ".load ${build}/bebr" ".read sql/demo.sql"
