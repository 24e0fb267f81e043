#!/usr/bin/env bash
# The cluster's user path, as docs/cluster.md shows it: cluster/run.sh 3 starts a cluster,
# cluster/example/run.sh (knn.go, go-dqlite) loads the bible passages into it and prints the
# filtered kNN with rescore, which must be what the sqlite3 shell prints for the same SQL on one
# node (examples/bindings/shell/knn.sql); the dqlite shell then counts the rows by testament,
# which must match rows.tsv; cluster/run.sh stop stops every node.
#   bash tests/cluster/example.sh BUILDDIR        # exit 77: skipped (no node, Go or go-dqlite)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=$(cd "$1" && pwd)
data="$root/examples/data/bible"
[ -x "$build/bebr-dqlite-node" ] ||
  { echo "bebr cluster test skipped: no bebr-dqlite-node in $build (libdqlite-dev absent: bash cluster/deps.sh)"; exit 77; }
command -v dqlite >/dev/null ||
  { echo "bebr cluster test skipped: no dqlite shell (go-dqlite: bash cluster/deps.sh)"; exit 77; }
# Three consecutive free loopback ports after a base.
port=$(/usr/bin/python3 - <<'PY'
import random, socket
for _ in range(100):
    base = random.randrange(20000, 60000)
    try:
        socks = []
        for i in (1, 2, 3):
            s = socket.socket(); s.bind(("127.0.0.1", base + i)); socks.append(s)
        print(base); break
    except OSError:
        pass
    finally:
        for s in socks: s.close()
PY
)
export BEBR_CLUSTER_DIR="$build/cluster-tests/example" BEBR_CLUSTER_PORT=$port BEBR_CLUSTER_NODE="$build/bebr-dqlite-node"
rm -rf "$BEBR_CLUSTER_DIR"
trap 'bash "$root/cluster/run.sh" stop >/dev/null' EXIT
bash "$root/cluster/run.sh" 3
servers="127.0.0.1:$((port + 1)),127.0.0.1:$((port + 2)),127.0.0.1:$((port + 3))"

set +e
bash "$root/cluster/example/run.sh" "$servers" "$build/cluster-tests/example-go" > "$BEBR_CLUSTER_DIR/got.txt"
rc=$?
set -e
[ $rc -ne 77 ] || exit 77
[ $rc -eq 0 ] || { echo "cluster/example/run.sh failed ($rc)"; exit 1; }
(cd "$data" && sqlite3 -bail :memory: -cmd ".load $build/bebr" ".read $root/examples/bindings/shell/knn.sql") \
  > "$BEBR_CLUSTER_DIR/want.txt"
[ "$(wc -l < "$BEBR_CLUSTER_DIR/want.txt")" -eq 5 ] || { echo "the sqlite3 shell reference printed no 5 rows"; exit 1; }
if ! diff "$BEBR_CLUSTER_DIR/got.txt" "$BEBR_CLUSTER_DIR/want.txt"; then
  echo "FAILED: the cluster example's kNN differs from the sqlite3 shell's (above: < cluster, > shell)"
  exit 1
fi
echo "the example through the cluster prints what the sqlite3 shell prints:"
cat "$BEBR_CLUSTER_DIR/got.txt"

# The dqlite shell of go-dqlite: rows by testament against rows.tsv (the base split).
got=$(dqlite -s "$servers" bible.db "SELECT testament, count(*) FROM bible GROUP BY testament ORDER BY testament")
want=$(awk -F'\t' 'NR > 1 && $1 == "base" {n[$8]++} END {for (t in n) print t "|" n[t]}' "$data/rows.tsv" | sort)
if [ "$got" != "$want" ]; then
  echo "FAILED: the dqlite shell counts"; echo "$got"; echo "rows.tsv counts"; echo "$want"
  exit 1
fi
echo "the dqlite shell counts the rows by testament as rows.tsv does: $(echo $got)"
