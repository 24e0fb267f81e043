#!/usr/bin/env bash
# Runs knn.py: run.sh EXTENSION WORKDIR DATADIR (scripts/test-bindings.sh). Exit 77: skipped.
# packages: python3
set -euo pipefail
# Debian's python3: a pyenv or other source-built python3 first on PATH may lack extension loading.
[ -x /usr/bin/python3 ] || { echo "no /usr/bin/python3" >&2; exit 77; }
exec /usr/bin/python3 "$(dirname "$0")/knn.py" "$1" "$3"
