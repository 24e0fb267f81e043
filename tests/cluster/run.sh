#!/usr/bin/env bash
# Builds tests/cluster/ (Go, GOPATH mode against Debian's sources in /usr/share/gocode, offline)
# and runs one of its tests against a build's bebr-dqlite-node and bebr.so:
#   bash tests/cluster/run.sh BUILDDIR contract|failover|catchup|nobebr|bench [N]
# BEBR_CLUSTER_EXTENSION names the bebr.so the local reference loads (default BUILDDIR's): a
# sanitizer build's node runs against a plain build's extension so.
# Exit 77 (ctest: skipped), with the reason, when the node was not built (no libdqlite-dev) or
# Go or the go-dqlite sources are absent: bash cluster/deps.sh installs them.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "$1" && pwd)
shift
[ -x "$build/bebr-dqlite-node" ] ||
  { echo "bebr cluster test skipped: no bebr-dqlite-node in $build (libdqlite-dev absent: bash cluster/deps.sh)"; exit 77; }
for d in canonical/go-dqlite mattn/go-sqlite3; do
  command -v go >/dev/null && [ -d "/usr/share/gocode/src/github.com/$d" ] ||
    { echo "bebr cluster test skipped: no go or no $d sources (bash cluster/deps.sh)"; exit 77; }
done
work="$build/cluster-tests"
mkdir -p "$work"
# One build at a time: ctest runs these tests in parallel and they share the binary.
(
  flock 9
  cd "$here"
  GOPATH=/usr/share/gocode GO111MODULE=off GOFLAGS= GOPROXY=off GOCACHE="$build/go-cache" \
    go build -tags libsqlite3 -o "$work/clustertest" .
) 9> "$work/build.lock"
exec "$work/clustertest" "$build/bebr-dqlite-node" "${BEBR_CLUSTER_EXTENSION:-$build/bebr.so}" "$here/../../examples/data/bible" \
  "$work/$1" "$@"
