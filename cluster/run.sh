#!/usr/bin/env bash
# A local dqlite cluster of bebr-dqlite-node processes on loopback, joined and ready:
#   bash cluster/run.sh 3        # installs and builds what is missing, starts nodes 1-3
#   bash cluster/run.sh stop     # stops them (SIGTERM; each node exits cleanly)
# Node i listens on 127.0.0.1:$((BEBR_CLUSTER_PORT + i)) (BEBR_CLUSTER_PORT, default 9000) and
# keeps its Raft log in $BEBR_CLUSTER_DIR/n<i> (default build/cluster), its log in n<i>.log
# there; BEBR_CLUSTER_NODE names another bebr-dqlite-node than build/'s. Starting again after a
# stop restarts the same cluster with its data. BEBR_CLUSTER_ARGS: extra arguments for every
# node, e.g. "--latency-ms 20" for a new leader in under a second where dqlite's default
# timeouts take 5-10 s (docs/cluster.md says what that costs). A client:
#   dqlite -s 127.0.0.1:9001,127.0.0.1:9002,127.0.0.1:9003 bible.db
#   bash cluster/example/run.sh 127.0.0.1:9001,127.0.0.1:9002,127.0.0.1:9003
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
dir=${BEBR_CLUSTER_DIR:-$root/build/cluster}
port=${BEBR_CLUSTER_PORT:-9000}
usage() { echo "usage: $0 N (1 to 9 nodes) | stop" >&2; exit 2; }
[ $# -eq 1 ] || usage

if [ "$1" = stop ]; then
  shopt -s nullglob
  for pidfile in "$dir"/n*.pid; do
    pid=$(cat "$pidfile")
    if kill -TERM "$pid" 2>/dev/null; then
      for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      echo "stopped node $(basename "$pidfile" .pid | tr -d n) (pid $pid)"
    fi
    rm -f "$pidfile"
  done
  exit 0
fi
[[ "$1" =~ ^[1-9]$ ]] || usage
n=$1

node=${BEBR_CLUSTER_NODE:-$root/build/bebr-dqlite-node}
if [ ! -x "$node" ] && [ -z "${BEBR_CLUSTER_NODE:-}" ]; then
  bash "$root/cluster/deps.sh"
  cmake -S "$root" -B "$root/build" -DCMAKE_BUILD_TYPE=Release >/dev/null
  cmake --build "$root/build" -j2 --target bebr-dqlite-node
fi
mkdir -p "$dir"
addresses=$(for i in $(seq "$n"); do printf '127.0.0.1:%d,' $((port + i)); done)
addresses=${addresses%,}
for i in $(seq "$n"); do
  if [ -f "$dir/n$i.pid" ] && kill -0 "$(cat "$dir/n$i.pid")" 2>/dev/null; then
    echo "node $i already running (pid $(cat "$dir/n$i.pid"))"
    continue
  fi
  : > "$dir/n$i.log"
  # shellcheck disable=SC2086
  nohup "$node" --id "$i" --address "127.0.0.1:$((port + i))" --dir "$dir/n$i" --cluster "$addresses" \
    ${BEBR_CLUSTER_ARGS:-} >> "$dir/n$i.log" 2>&1 < /dev/null &
  echo $! > "$dir/n$i.pid"
done
for i in $(seq "$n"); do
  for _ in $(seq 300); do
    grep -q ' ready$' "$dir/n$i.log" && break
    kill -0 "$(cat "$dir/n$i.pid")" 2>/dev/null || { cat "$dir/n$i.log" >&2; echo "node $i exited" >&2; exit 1; }
    sleep 0.1
  done
  grep -q ' ready$' "$dir/n$i.log" || { cat "$dir/n$i.log" >&2; echo "node $i not ready in 30 s" >&2; exit 1; }
done
echo "cluster of $n ready: $addresses (logs and data in $dir)"
echo "  shell:   dqlite -s $addresses bible.db"
echo "  example: bash cluster/example/run.sh $addresses"
echo "  stop:    bash cluster/run.sh stop"
