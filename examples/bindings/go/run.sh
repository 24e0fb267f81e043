#!/usr/bin/env bash
# Builds and runs knn.go: run.sh EXTENSION WORKDIR DATADIR (scripts/test-bindings.sh). Exit 77:
# skipped. Offline, in GOPATH mode against Debian's Go sources in /usr/share/gocode.
# packages: golang-go golang-github-mattn-go-sqlite3-dev
set -euo pipefail
command -v go >/dev/null && [ -d /usr/share/gocode/src/github.com/mattn/go-sqlite3 ] ||
  { echo "no go or mattn/go-sqlite3 sources (golang-go, golang-github-mattn-go-sqlite3-dev)" >&2; exit 77; }
out="$2/go"
mkdir -p "$out"
# -tags libsqlite3: link the system libsqlite3 instead of the copy bundled in go-sqlite3.
GOPATH=/usr/share/gocode GO111MODULE=off GOFLAGS= GOPROXY=off GOCACHE="$out/cache" \
  go build -tags libsqlite3 -o "$out/knn" "$(dirname "$0")/knn.go"
exec "$out/knn" "$1" "$3"
