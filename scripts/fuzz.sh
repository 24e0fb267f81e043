#!/usr/bin/env bash
# The libFuzzer targets (fuzz/): builds them with Debian's clang (ASan + UBSan + fuzzer
# coverage) in build-fuzz/, then runs each for a bounded time over a copy of its committed
# corpus (fuzz/corpus/<name>), with memory capped so that a parse which believes a header and
# allocates too much is a finding. Exit status non-zero on any crash, leak, UB report, timeout
# or excess memory; the input that caused it is kept in build-fuzz/findings/.
#   bash scripts/fuzz.sh                 # every target, 30 s each (what CI runs)
#   bash scripts/fuzz.sh --seconds 3600  # a longer run
#   bash scripts/fuzz.sh --seconds 60 sql model   # some targets
# Prints per target: executions, coverage (libFuzzer's cov and ft), corpus size.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=30
targets=()
while [ $# -gt 0 ]; do
  case "$1" in
    --seconds) seconds=$2; shift 2 ;;
    -*) echo "fuzz.sh: unknown option $1" >&2; exit 2 ;;
    *) targets+=("$1"); shift ;;
  esac
done
[ ${#targets[@]} -gt 0 ] || targets=(vector code model declaration sql)
bash scripts/deps.sh clang libclang-rt-14-dev
dir=build-fuzz
launcher=()
command -v ccache >/dev/null && launcher=(-DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
CC=clang CXX=clang++ cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DBEBR_FUZZ=ON -DBEBR_BUILD_TESTS=OFF \
  -DBEBR_WERROR=ON "${launcher[@]}" >/dev/null
cmake --build "$dir" -j"$(nproc)" --target $(printf 'fuzz_%s ' "${targets[@]}")
mkdir -p "$dir/findings"
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
failed=0
for t in "${targets[@]}"; do
  work="$dir/corpus-$t"
  rm -rf "$work" && mkdir -p "$work" && cp fuzz/corpus/"$t"/* "$work"/
  log="$dir/fuzz-$t.log"
  # -rss_limit_mb/-malloc_limit_mb: a 40-byte BLOB must not cost a gigabyte.
  if "$dir/fuzz/fuzz_$t" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=1024 -malloc_limit_mb=512 \
       -max_len=4096 -artifact_prefix="$dir/findings/$t-" -print_final_stats=1 "$work" >"$log" 2>&1; then
    status=ok
  else
    status=FAILED
    failed=1
  fi
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  cov=$(grep -o 'cov: [0-9]* ft: [0-9]*' "$log" | tail -1 || true)
  echo "fuzz_$t: $status, ${execs:-?} executions in ${seconds} s, ${cov:-no coverage line}, corpus $(ls "$work" | wc -l) inputs"
  [ "$status" = ok ] || { grep -E 'ERROR|SUMMARY|fuzz_[a-z]*:|==[0-9]+==' "$log" | head -20; ls "$dir"/findings/"$t"-* 2>/dev/null; }
done
exit $failed
