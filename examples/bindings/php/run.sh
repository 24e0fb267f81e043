#!/usr/bin/env bash
# Runs knn.php: run.sh EXTENSION WORKDIR DATADIR (scripts/test-bindings.sh). Exit 77: skipped.
# packages: php-cli php-sqlite3
set -euo pipefail
command -v php >/dev/null && php -r 'exit(class_exists("SQLite3") ? 0 : 1);' ||
  { echo "no php with the SQLite3 class (php-cli, php-sqlite3)" >&2; exit 77; }
# SQLite3::loadExtension() loads only from sqlite3.extension_dir, by file name.
dir=$(cd "$(dirname "$1")" && pwd)
exec php -d sqlite3.extension_dir="$dir" "$(dirname "$0")/knn.php" "$(basename "$1")" "$3"
