#!/usr/bin/env bash
# Fetches a current SQLite for the tests: the amalgamation that better-sqlite3 bundles, taken
# from the npm registry at test time into a cache under the build tree (never committed), and
# prints the directory that holds it. Everything else goes to stderr.
#   bash scripts/sqlite-current.sh [CACHE_DIR]       # default build-sqlite-current/sqlite-current
#   cmake ... -DBEBR_SQLITE_AMALGAMATION="$(bash scripts/sqlite-current.sh)"
# The printed directory holds sqlite3.c, sqlite3.h, sqlite3ext.h, defines.txt (better-sqlite3's
# compile options, one a line, from its deps/defines.gypi), version.txt, origin.txt and, when the
# npm package sqlite3 ships one no newer than that amalgamation, shell.c (SQLite's command-line
# shell, from its sqlite-autoconf tarball) so the tests that drive a shell run on this SQLite too.
# Environment: BEBR_SQLITE_NPM (default better-sqlite3@12), BEBR_SQLITE_SHELL_NPM (default
# sqlite3@6; empty: no shell.c). A version already in the cache is not fetched again; when the
# registry cannot be reached, the newest cached one is used.
set -euo pipefail
cd "$(dirname "$0")/.."
cache="${1:-build-sqlite-current/sqlite-current}"
spec="${BEBR_SQLITE_NPM-better-sqlite3@12}"
shell_spec="${BEBR_SQLITE_SHELL_NPM-sqlite3@6}"
name="${spec%@*}"
mkdir -p "$cache"
cache="$(cd "$cache" && pwd)"
log() { echo "sqlite-current: $*" >&2; }

# The newest version of an npm spec (npm view lists every version in the range).
resolve() {
  npm view "$1" version --json 2>/dev/null |
    node -e 'const v = JSON.parse(require("fs").readFileSync(0, "utf8")); console.log([].concat(v).filter((x) => typeof x === "string").join("\n"))' |
    sort -V | tail -n 1
}

# Packs an npm spec into a temporary directory and prints the tarball's path.
pack() {
  local dest
  dest="$(mktemp -d "$cache/pack.XXXXXX")"
  (cd "$dest" && npm pack "$1" --silent >/dev/null)
  ls "$dest"/*.tgz
}

version="$(resolve "$spec" || true)"
if [ -z "$version" ]; then
  dir="$(find "$cache" -mindepth 2 -maxdepth 2 -path "*/${name//\//+}-*/version.txt" | sort -V | tail -n 1)"
  dir="${dir%/version.txt}"
  if [ -z "$dir" ]; then
    log "cannot resolve $spec and nothing is cached"
    exit 1
  fi
  log "cannot resolve $spec; using the cached $(basename "$dir")"
  echo "$dir"
  exit 0
fi
dir="$cache/${name//\//+}-$version"
if [ ! -f "$dir/version.txt" ]; then
  log "fetching $name@$version"
  rm -rf "$dir" "$cache"/pack.*
  tgz="$(pack "$name@$version")"
  mkdir -p "$dir.tmp"
  tar -xzf "$tgz" -C "$dir.tmp" --strip-components=1 package/deps
  src="$dir.tmp/deps/sqlite3"
  # Older releases ship the amalgamation compressed; take whichever form is there.
  for f in sqlite3.c sqlite3.h sqlite3ext.h; do
    if [ -f "$src/$f" ]; then cp "$src/$f" "$dir.tmp/"
    elif [ -f "$src/$f.gz" ]; then gzip -dc "$src/$f.gz" >"$dir.tmp/$f"
    else log "$name@$version has no deps/sqlite3/$f"; exit 1
    fi
  done
  sed -n "s/^ *'\([A-Z_][A-Za-z0-9_]*\(=[^']*\)\?\)',\$/\1/p" "$dir.tmp/deps/defines.gypi" >"$dir.tmp/defines.txt"
  [ -s "$dir.tmp/defines.txt" ] || { log "no compile options found in deps/defines.gypi"; exit 1; }
  sed -n 's/^#define SQLITE_VERSION  *"\(.*\)"$/\1/p' "$dir.tmp/sqlite3.h" >"$dir.tmp/version.txt"
  echo "sqlite3.c, sqlite3.h, sqlite3ext.h, defines.txt: npm $name@$version (deps/)" >"$dir.tmp/origin.txt"
  rm -rf "$dir.tmp/deps" "$(dirname "$tgz")"
  mv "$dir.tmp" "$dir"
fi
sqlite_version="$(cat "$dir/version.txt")"

# shell.c from another package's sqlite-autoconf tarball: the shell compiled against this
# amalgamation's header, so it must not be newer than it (an older shell only calls older APIs).
if [ -n "$shell_spec" ] && [ ! -f "$dir/shell.c" ] && [ ! -f "$dir/no-shell.txt" ]; then
  if shell_tgz="$(pack "$shell_spec" 2>/dev/null)"; then
    auto="$(tar -tzf "$shell_tgz" | grep -m1 '^package/deps/sqlite-autoconf-[0-9]*\.tar\.gz$' || true)"
    if [ -n "$auto" ]; then
      num="$(basename "$auto" .tar.gz)"
      num="${num#sqlite-autoconf-}"
      shell_version="$((10#${num:0:1})).$((10#${num:1:2})).$((10#${num:3:2}))"
      if [ "$(printf '%s\n%s\n' "$shell_version" "$sqlite_version" | sort -V | tail -n 1)" = "$sqlite_version" ]; then
        tar -xzOf "$shell_tgz" "$auto" | tar -xzO --wildcards '*/shell.c' >"$dir/shell.c.tmp"
        mv "$dir/shell.c.tmp" "$dir/shell.c"
        echo "shell.c: SQLite $shell_version's, from npm $shell_spec ($(basename "$shell_tgz"), $(basename "$auto"))" >>"$dir/origin.txt"
      else
        echo "$shell_spec ships SQLite $shell_version, newer than $sqlite_version" >"$dir/no-shell.txt"
      fi
    else
      echo "$shell_spec ships no sqlite-autoconf tarball" >"$dir/no-shell.txt"
    fi
    rm -rf "$(dirname "$shell_tgz")"
  else
    log "cannot fetch $shell_spec; no shell this time"
  fi
fi
[ -f "$dir/no-shell.txt" ] && log "no shell.c: $(cat "$dir/no-shell.txt")"
log "SQLite $sqlite_version from $name@$version in $dir"
echo "$dir"
