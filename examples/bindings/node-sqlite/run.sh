#!/usr/bin/env bash
# Runs knn.mjs on Node's built-in node:sqlite: run.sh EXTENSION WORKDIR DATADIR
# (scripts/test-bindings.sh). Exit 77: skipped, where Node is older than 22.13 (Debian 12: 18).
# packages: (node: scripts/test-bindings.sh installs Debian's when absent)
set -euo pipefail
command -v node >/dev/null || { echo "no node" >&2; exit 77; }
v=$(node -p 'process.versions.node')
node -e 'require("node:sqlite").DatabaseSync.prototype.loadExtension || process.exit(1)' 2>/dev/null ||
  { echo "node $v has no node:sqlite with loadExtension (needs Node >= 22.13)" >&2; exit 77; }
exec node --no-warnings "$(dirname "$0")/knn.mjs" "$1" "$3"
