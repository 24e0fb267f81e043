#!/usr/bin/env bash
# Installs better-sqlite3 12 from npm (once per WORKDIR, built from source against the system
# Node's headers) and runs knn.js: run.sh EXTENSION WORKDIR DATADIR (scripts/test-bindings.sh).
# Exit 77: skipped. The first run compiles SQLite and the addon: minutes.
# packages: (node, npm and Node's headers: scripts/test-bindings.sh installs them when absent)
set -euo pipefail
command -v node >/dev/null && command -v npm >/dev/null && [ -f /usr/include/node/node.h ] ||
  { echo "no node, npm or /usr/include/node/node.h (nodejs, npm, libnode-dev)" >&2; exit 77; }
major=$(node -p 'process.versions.node.split(".")[0]')
[ "$major" -ge 20 ] || { echo "better-sqlite3 12 needs Node >= 20, found $(node --version)" >&2; exit 77; }
out="$2/node"
mkdir -p "$out"
if ! NODE_PATH="$out/node_modules" node -e 'require("better-sqlite3")' 2>/dev/null; then
  (cd "$out" && npm_config_nodedir=/usr npm install --no-save --no-audit --no-fund --loglevel=error \
     better-sqlite3@12 >&2)
fi
NODE_PATH="$out/node_modules" exec node "$(dirname "$0")/knn.js" "$1" "$3"
