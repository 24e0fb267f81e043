#!/usr/bin/env bash
# The .deb (docs/install.md): CPack packs a built tree, the package is unpacked into an empty
# directory (dpkg-deb -x, no root needed) and the sqlite3 shell loads the extension from there
# and runs a kNN query.
#   bash scripts/test-deb.sh BUILD_DIR WORK_DIR [SQLITE3_SHELL]
# WORK_DIR is emptied first; the shell defaults to sqlite3.
set -euo pipefail
build="$(cd "$1" && pwd)"
work="$2"
shell="${3:-sqlite3}"
rm -rf "$work"
mkdir -p "$work"
work="$(cd "$work" && pwd)"
(cd "$build" && cpack -G DEB -B "$work/pkg" >"$work/cpack.log") || { cat "$work/cpack.log"; exit 1; }
deb="$(find "$work/pkg" -maxdepth 1 -name '*.deb' -print -quit)"
[ -n "$deb" ] || { echo "cpack made no .deb"; cat "$work/cpack.log"; exit 1; }
echo "$(basename "$deb"): $(stat -c %s "$deb") bytes"
dpkg-deb -f "$deb" Package Version Architecture Depends
dpkg-deb -c "$deb" | awk '{ print "  " $NF }'
dpkg-deb -x "$deb" "$work/root"
so="$(find "$work/root" -name bebr.so -print -quit)"
[ -n "$so" ] || { echo "no bebr.so in the package"; exit 1; }
out="$("$shell" -bail :memory: -cmd ".load ${so%.so}" \
  "CREATE VIRTUAL TABLE t USING bebr(v float[4], bits=1);" \
  "INSERT INTO t(rowid, v) VALUES (1, '[1,1,1,1]'), (2, '[-1,-1,-1,-1]'), (3, '[1,1,1,-1]');" \
  "SELECT bebr_version();" \
  "SELECT rowid FROM t WHERE v MATCH '[1,1,1,1]' AND k = 2;")"
echo "$out" | sed 's/^/  /'
echo "$out" | head -n 1 | grep -q '^[0-9]*\.[0-9]*\.[0-9]*$' && [ "$(echo "$out" | tail -n +2)" = "$(printf '1\n3')" ] || { echo "unexpected output from the packaged extension"; exit 1; }
echo "ok: loaded ${so#"$work/root"} with $("$shell" -version | cut -d' ' -f1)"
