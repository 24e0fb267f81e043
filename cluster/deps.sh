#!/usr/bin/env bash
# Installs what the dqlite cluster needs from Debian, idempotently (scripts/deps.sh): libdqlite
# for bebr-dqlite-node, the dqlite shell (go-dqlite), Go and Debian's go-dqlite sources for the
# Go client example and the cluster tests (tests/cluster/).
#   bash cluster/deps.sh
set -euo pipefail
exec bash "$(dirname "$0")/../scripts/deps.sh" pkg-config libdqlite-dev go-dqlite golang-go \
  golang-github-canonical-go-dqlite-dev golang-github-mattn-go-sqlite3-dev
