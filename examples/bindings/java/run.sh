#!/usr/bin/env bash
# Runs Knn.java: run.sh EXTENSION WORKDIR DATADIR (scripts/test-bindings.sh). Exit 77: skipped.
# packages: default-jdk-headless libxerial-sqlite-jdbc-java
set -euo pipefail
jar=/usr/share/java/sqlite-jdbc.jar
command -v javac >/dev/null && [ -f "$jar" ] ||
  { echo "no javac or $jar (default-jdk-headless, libxerial-sqlite-jdbc-java)" >&2; exit 77; }
out="$2/java"
mkdir -p "$out"
javac -d "$out" -cp "$jar" "$(dirname "$0")/Knn.java"
exec java -cp "$out:$jar" Knn "$1" "$3"
