#!/usr/bin/env bash
# Runs knn.rb: run.sh EXTENSION WORKDIR DATADIR (scripts/test-bindings.sh). Exit 77: skipped.
# packages: ruby ruby-sqlite3
set -euo pipefail
command -v ruby >/dev/null && ruby -e 'require "sqlite3"' 2>/dev/null ||
  { echo "no ruby with the sqlite3 gem (ruby-sqlite3)" >&2; exit 77; }
exec ruby "$(dirname "$0")/knn.rb" "$1" "$3"
