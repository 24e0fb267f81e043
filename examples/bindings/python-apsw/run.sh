#!/usr/bin/env bash
# Runs knn.py: run.sh EXTENSION WORKDIR DATADIR (scripts/test-bindings.sh). Exit 77: skipped.
# packages: python3-apsw
set -euo pipefail
/usr/bin/python3 -c 'import apsw' 2>/dev/null || { echo "no apsw for /usr/bin/python3 (python3-apsw)" >&2; exit 77; }
exec /usr/bin/python3 "$(dirname "$0")/knn.py" "$1" "$3"
