#!/usr/bin/env bash
# Runs knn.tcl: run.sh EXTENSION WORKDIR DATADIR (scripts/test-bindings.sh). Exit 77: skipped.
# packages: tcl libsqlite3-tcl
set -euo pipefail
command -v tclsh >/dev/null && echo 'package require sqlite3' | tclsh >/dev/null 2>&1 ||
  { echo "no tclsh with the sqlite3 package (tcl, libsqlite3-tcl)" >&2; exit 77; }
exec tclsh "$(dirname "$0")/knn.tcl" "$1" "$3"
