#!/usr/bin/env bash
# Runs every language binding's example (examples/bindings/<name>/run.sh) against a built bebr
# and compares each one's output with the sqlite3 shell's for the same SQL
# (examples/bindings/shell/knn.sql). One line per binding: ok, FAILED or skipped: why.
#   bash scripts/test-bindings.sh build/bebr.so               # installs the toolchains, runs all
#   bash scripts/test-bindings.sh --no-install --only go build/bebr.so [WORKDIR]
#   bash scripts/test-bindings.sh --install-only     # the toolchains only (scripts/test.sh)
# WORKDIR (default: bindings/ next to the extension) holds what the examples build: better-sqlite3
# from npm, the Go and Rust programs, the Java classes. Exit status: 1 if any binding failed; with
# --only, 77 if that binding was skipped (its toolchain absent).
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
install=1 install_only=0 only=""
while [ $# -gt 0 ]; do
  case "$1" in
    --no-install) install=0; shift ;;
    --install-only) install_only=1; shift ;;
    --only) only="$2"; shift 2 ;;
    *) break ;;
  esac
done
[ $# -ge 1 ] || [ $install_only = 1 ] || { echo "usage: $0 [--no-install] [--only NAME] EXTENSION [WORKDIR]" >&2; exit 2; }
names=()
for d in "$root"/examples/bindings/*/run.sh; do names+=("$(basename "$(dirname "$d")")"); done
[ -z "$only" ] || names=("$only")

if [ "$install" = 1 ]; then
  # Each run.sh names its Debian packages on a "# packages:" line. Node comes from Debian only
  # when there is none (a machine's own Node, e.g. NodeSource's, is kept; it ships its headers).
  pkgs=(sqlite3)
  for n in "${names[@]}"; do
    pkgs+=($(sed -n 's/^# packages: \([a-z0-9 .+-]*\)$/\1/p' "$root/examples/bindings/$n/run.sh"))
  done
  command -v node >/dev/null || pkgs+=(nodejs)
  command -v npm >/dev/null || pkgs+=(npm)
  [ -f /usr/include/node/node.h ] || pkgs+=(libnode-dev)
  bash "$root/scripts/deps.sh" "${pkgs[@]}" || exit 1
fi
[ $install_only = 0 ] || exit 0
[ -f "$1" ] || { echo "test-bindings: no extension at $1" >&2; exit 2; }
ext=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
work=${2:-$(dirname "$ext")/bindings}
mkdir -p "$work"
work=$(cd "$work" && pwd)
data="$root/examples/data/bible"

# The expected output: the same SQL in the sqlite3 shell, on the system SQLite.
expected="$work/expected${only:+-$only}.txt"  # parallel --only runs share $work
(cd "$data" && sqlite3 -bail :memory: -cmd ".load $ext" ".read $root/examples/bindings/shell/knn.sql") \
  > "$expected" || { echo "test-bindings: the sqlite3 shell reference failed" >&2; exit 1; }
[ "$(wc -l < "$expected")" -eq 5 ] || { echo "test-bindings: the reference printed no 5 rows" >&2; exit 1; }

failed=0 skipped=0 start=$SECONDS
# docs/bindings.md shows this output: the block after its marker line must be it.
doc=$(awk '/<!-- bindings output: checked by scripts\/test-bindings.sh -->/ {f = 1; next}
           f && /^```$/ {if (n++) exit; next} f && n == 1' "$root/docs/bindings.md")
if [ "$doc" != "$(cat "$expected")" ]; then
  echo "docs/bindings.md: FAILED: its shown output differs from the sqlite3 shell's:"
  diff <(echo "$doc") "$expected" | sed 's/^/  /'
  failed=1
fi
for n in "${names[@]}"; do
  run="$root/examples/bindings/$n/run.sh"
  [ -f "$run" ] || { echo "$n: FAILED: no examples/bindings/$n/run.sh"; failed=1; continue; }
  t0=$SECONDS
  # Bounded: 15 minutes covers a first better-sqlite3 build from source on a busy 2-core machine.
  timeout 900 bash "$run" "$ext" "$work" "$data" > "$work/$n.out" 2> "$work/$n.err"
  rc=$?
  if [ $rc -eq 77 ]; then
    echo "$n: skipped: $(tail -1 "$work/$n.err")"
    skipped=1
  elif [ $rc -ne 0 ]; then
    echo "$n: FAILED (exit $rc, $((SECONDS - t0)) s):"; tail -20 "$work/$n.err" | sed 's/^/  /'
    failed=1
  elif ! diff -u "$expected" "$work/$n.out" > "$work/$n.diff"; then
    echo "$n: FAILED: output differs from the sqlite3 shell's:"; sed 's/^/  /' "$work/$n.diff"
    failed=1
  else
    echo "$n: ok ($((SECONDS - t0)) s)"
  fi
done
echo "bindings: $((SECONDS - start)) s in all"
[ $failed -eq 0 ] || exit 1
[ -z "$only" ] || [ $skipped -eq 0 ] || exit 77
exit 0
