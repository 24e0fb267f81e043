#!/usr/bin/env bash
# Builds and runs knn.go against a running cluster: run.sh HOST:PORT,... [WORKDIR]. Offline, in
# GOPATH mode against Debian's Go sources in /usr/share/gocode (bash cluster/deps.sh installs
# them). Exit 77: no Go or no go-dqlite sources.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
command -v go >/dev/null && [ -d /usr/share/gocode/src/github.com/canonical/go-dqlite ] ||
  { echo "no go or go-dqlite sources (golang-go, golang-github-canonical-go-dqlite-dev: bash cluster/deps.sh)" >&2; exit 77; }
out=${2:-${TMPDIR:-/tmp}/bebr-cluster-example}
mkdir -p "$out"
GOPATH=/usr/share/gocode GO111MODULE=off GOFLAGS= GOPROXY=off GOCACHE="$out/cache" \
  go build -o "$out/knn" "$here/knn.go"
exec "$out/knn" "$1" "$here/../../examples/data/bible"
