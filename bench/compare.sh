#!/usr/bin/env bash
# Two builds of bebr measured side by side: REV (built in a temporary git worktree) and the
# current tree (uncommitted changes included), each run through the same benchmark binary
# (bebr_scan_bench of the current tree: bench/run.sh's --bebr-only figures, no peers) on the
# same seeded data, alternately old new old new ... Prints, for every figure, the median of
# each build and the median of the paired ratios new/old (pair i = old run i, new run i).
# Needs only what the extension needs (no FAISS, no sqlite-vec, no npm).
#   bash bench/compare.sh                      # against the origin of the restructure (issue 15)
#   bash bench/compare.sh main~1 --pairs 7
#   BEBR_SIMD=avx2 bash bench/compare.sh       # both builds at one forced SIMD level
#   bash bench/compare.sh REV --sizes 100000 --dims 768 --runs 5 --queries 10
# Builds go to build-compare/ (ccache is used when installed); run files to $TMPDIR.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

# The last commit before the restructure of issue 15 began.
origin=73d22dbf40f7d4e0f97071f56bf25aac1a9f5fb9
rev=$origin
pairs=5
sizes=1000000
dims=768
bench_args=()
if [ $# -gt 0 ] && [ "${1#--}" = "$1" ]; then rev=$1; shift; fi
while [ $# -gt 0 ]; do
  case "$1" in
    --pairs) pairs=$2; shift 2 ;;
    --sizes) sizes=$2; shift 2 ;;
    --dims) dims=$2; shift 2 ;;
    --runs|--queries) bench_args+=("$1" "$2"); shift 2 ;;
    *) echo "compare.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
[ "$pairs" -ge 1 ] || { echo "compare.sh: --pairs must be >= 1" >&2; exit 2; }
old_sha=$(git rev-parse --verify --quiet "$rev^{commit}") || { echo "compare.sh: no commit '$rev'" >&2; exit 2; }
new_desc="working tree at $(git rev-parse --short HEAD)"
git diff --quiet HEAD -- 2>/dev/null || new_desc="$new_desc, with uncommitted changes"

out=build-compare
mkdir -p "$out"
cmake_args=(-DCMAKE_BUILD_TYPE=Release -DBEBR_BUILD_TESTS=OFF)
if command -v ccache >/dev/null; then
  cmake_args+=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache)
fi

# The old build: a detached worktree of REV, removed once its extension is copied out (the copy
# keeps the file name bebr.so, from which SQLite derives the entry point). Its build directory
# stays, at the same paths, so that a second comparison recompiles from ccache.
tree="$out/old-src"
cleanup() {
  git worktree remove --force "$root/$tree" 2>/dev/null || rm -rf "${root:?}/$tree"
  git worktree prune
}
trap cleanup EXIT
cleanup
git worktree add --detach --force "$tree" "$old_sha" >/dev/null 2>&1
echo "building $rev ($old_sha) ..." >&2
cmake -S "$tree" -B "$out/old-build" "${cmake_args[@]}" -DBEBR_BUILD_BENCH=OFF >/dev/null
cmake --build "$out/old-build" -j"$(nproc)" --target bebr >/dev/null
mkdir -p "$out/old"
cp "$out/old-build/bebr.so" "$out/old/bebr.so"
cleanup
trap - EXIT

echo "building the current tree ..." >&2
cmake -S . -B "$out/new" "${cmake_args[@]}" -DBEBR_BUILD_BENCH=ON >/dev/null
cmake --build "$out/new" -j"$(nproc)" --target bebr bebr_scan_bench >/dev/null
bench="$out/new/bench/bebr_scan_bench"

runs="${TMPDIR:-/tmp}/bebr-compare"
rm -rf "$runs"
mkdir -p "$runs/db"
for i in $(seq 1 "$pairs"); do
  for side in old new; do
    echo "pair $i of $pairs: $side" >&2
    ext="$out/$side/bebr.so"
    "$bench" --ext "$ext" --dir "$runs/db" --sizes "$sizes" --dims "$dims" --bebr-only 1 \
      --figures "$runs/$side-$i.tsv" ${bench_args[@]+"${bench_args[@]}"} > "$runs/$side-$i.md"
  done
done
rm -rf "$runs/db"

python3 - "$runs" "$pairs" "$rev" "$old_sha" "$new_desc" "$sizes" "$dims" "${BEBR_SIMD:-}" <<'EOF'
import os, re, statistics, sys

runs, pairs, rev, old_sha, new_desc, sizes, dims, forced = sys.argv[1:]
pairs = int(pairs)

def figures(side, i):
    out = {}
    with open(os.path.join(runs, f"{side}-{i}.tsv")) as f:
        for line in f:
            name, value = line.rstrip("\n").split("\t")
            out[name] = float(value)
    return out

def header(side, what):
    with open(os.path.join(runs, f"{side}-1.md")) as f:
        for line in f:
            if line.startswith(what):
                return line.strip()[2:]
    return "?"

old = [figures("old", i) for i in range(1, pairs + 1)]
new = [figures("new", i) for i in range(1, pairs + 1)]
names = [n for n in old[0] if all(n in r for r in old + new)]

def bandwidth(side, i):
    with open(os.path.join(runs, f"{side}-{i}.md")) as f:
        m = re.search(r"bandwidth, one thread: ([0-9.]+) GB/s", f.read())
    return m.group(1) if m else "?"

print(f"## bebr: {rev} against the current tree, {pairs} pairs\n")
print(f"- old: {rev} = {old_sha}")
print(f"- new: {new_desc}")
print(f"- {header('old', '- machine')}")
print(f"- old {header('old', '- bebr')}; new {header('new', '- bebr')}" + (f" (BEBR_SIMD={forced})" if forced else ""))
print(f"- data: {sizes} x {dims}-d seeded vectors, the same in every run; order old new old new ...")
print("- bandwidth probe, GB/s, old/new by pair: " +
      ", ".join(f"{bandwidth('old', i)}/{bandwidth('new', i)}" for i in range(1, pairs + 1)))
print()
print(f"| figure | old, median | new, median | new/old, median of {pairs} paired ratios (min-max) |")
print("| --- | ---: | ---: | ---: |")
outside = []
for n in names:
    a = [r[n] for r in old]
    b = [r[n] for r in new]
    ratios = sorted(y / x for x, y in zip(a, b) if x != 0)
    med = statistics.median(ratios) if ratios else float("nan")
    fmt = (lambda v: f"{v:.0f}") if ("bytes" in n or "rows/s" in n) else (lambda v: f"{v:.3f}")
    spread = f" ({ratios[0]:.3f}-{ratios[-1]:.3f})" if ratios else ""
    print(f"| {n} | {fmt(statistics.median(a))} | {fmt(statistics.median(b))} | {med:.3f}{spread} |")
    if n != "floor ms" and not (0.97 <= med <= 1.03):
        outside.append(f"{n} ({med:.3f})")
print()
print("outside 0.97-1.03: " + (", ".join(outside) if outside else "none"))
EOF
echo "runs: $runs" >&2
