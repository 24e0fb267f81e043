#!/usr/bin/env bash
# Runs the demo with an already built extension: scripts/demo-run.sh [BUILD_DIR] (default build).
# Run from the project root; the demo reads examples/data/bible. BEBR_SQLITE3_SHELL names
# another sqlite3 shell to run it in (the tests do, on an amalgamation).
set -euo pipefail
cd "$(dirname "$0")/.."
build="${1:-build}"
exec "${BEBR_SQLITE3_SHELL:-sqlite3}" :memory: -cmd ".load ${build}/bebr" ".read sql/demo.sql"
