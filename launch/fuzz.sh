#!/usr/bin/env bash
# Builds the libFuzzer targets of tests/fuzz (clang, ASan + UBSan, in build-fuzz/) and runs
# each for a bounded time, seeded from the test fixtures and the hostile corpus.
#   launch/fuzz.sh [seconds-per-target]        (default 60)
# Fails on any crash, leak, timeout, out-of-memory or sanitizer report; the reproducer is
# kept in build-fuzz/fuzz-runs/<target>/ (replay: build-fuzz/tests/fuzz/<target> FILE).
# FSDPSHARD_FUZZ_JOBS targets run side by side (default: 2).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SECONDS_PER_TARGET=${1:-60}
BUILD=${FSDPSHARD_FUZZ_BUILD_DIR:-$ROOT/build-fuzz}
JOBS=${FSDPSHARD_FUZZ_JOBS:-2}
PYTHON=${FSDPSHARD_PYTHON:-/usr/bin/python3}
TARGETS=(fuzz_unpickle fuzz_zip_reader fuzz_safetensors_header fuzz_safetensors_file fuzz_checkpoint
         fuzz_yaml_config fuzz_selection)

FSDPSHARD_QUIET_SETUP=1 "$ROOT/launch/setup.sh"
# clang and its fuzzer/sanitizer runtimes (Debian: clang + libclang-rt-<version>-dev).
if ! command -v clang++ >/dev/null 2>&1 ||
   ! ls /usr/lib/llvm-*/lib/clang/*/lib/linux/libclang_rt.fuzzer-x86_64.a >/dev/null 2>&1; then
  if [[ $(id -u) -ne 0 ]]; then
    echo "fuzz: needs clang and libclang-rt-dev; as root: apt-get install -y clang libclang-rt-14-dev" >&2
    exit 1
  fi
  echo "fuzz: installing clang and its runtimes"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends clang "libclang-rt-$(clang --version 2>/dev/null | sed -n 's/.*version \([0-9]*\).*/\1/p' | head -1 || echo 14)-dev" ||
    apt-get install -y -qq --no-install-recommends clang libclang-rt-14-dev
fi

# shellcheck source=launch/ccache.sh
source "$ROOT/launch/ccache.sh"
if [[ ! -f "$BUILD/CMakeCache.txt" ]]; then
  CC=clang CXX=clang++ cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DFSDPSHARD_FUZZ=ON -DFSDPSHARD_TESTS=OFF -DFSDPSHARD_NCCL=OFF "${CCACHE_LAUNCHER[@]}" >/dev/null
fi
cmake --build "$BUILD" --target fuzz_all -j "${FSDPSHARD_JOBS:-$(nproc)}"

# Seeds: the fixtures (made by real PyTorch) and the hostile corpus, cut per target.
RUNS=$BUILD/fuzz-runs
rm -rf "$RUNS"
mkdir -p "$RUNS"
"$PYTHON" "$ROOT/tests/fixtures/make_fixtures.py" "$BUILD/fixtures" >/dev/null
"$PYTHON" "$ROOT/tests/hostile/make_hostile.py" "$RUNS/hostile" >/dev/null
"$PYTHON" "$ROOT/tests/fuzz/make_seeds.py" "$RUNS/seeds" "$BUILD/fixtures" "$RUNS/hostile"

# UBSan stops at the first report (-fno-sanitize-recover); ASan checks leaks at exit.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:symbolize=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

run_target() {
  local target=$1 dir=$RUNS/$1
  mkdir -p "$dir/corpus"
  cp "$RUNS/seeds/$target"/* "$dir/corpus/" 2>/dev/null || true
  # -max_len: the seeds go up to 256 KiB; -timeout: one input taking 10 s is a hang.
  (cd "$dir" && "$BUILD/tests/fuzz/$target" -max_total_time="$SECONDS_PER_TARGET" -max_len=262144 \
     -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 corpus >"$dir/log.txt" 2>&1)
}

failed=()
pids=()
names=()
for target in "${TARGETS[@]}"; do
  run_target "$target" &
  pids+=($!)
  names+=("$target")
  if ((${#pids[@]} >= JOBS)); then
    if ! wait "${pids[0]}"; then failed+=("${names[0]}"); fi
    pids=("${pids[@]:1}")
    names=("${names[@]:1}")
  fi
done
for i in "${!pids[@]}"; do
  if ! wait "${pids[$i]}"; then failed+=("${names[$i]}"); fi
done

for target in "${TARGETS[@]}"; do
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$RUNS/$target/log.txt" | tail -1)
  echo "fuzz: $target: ${runs:-?} inputs in ${SECONDS_PER_TARGET} s"
done
if ((${#failed[@]} > 0)); then
  for target in "${failed[@]}"; do
    echo "fuzz: FAILED: $target (log: $RUNS/$target/log.txt)" >&2
    grep -E "ERROR:|SUMMARY:|runtime error" "$RUNS/$target/log.txt" | head -5 >&2 || true
    ls "$RUNS/$target"/crash-* "$RUNS/$target"/leak-* "$RUNS/$target"/timeout-* "$RUNS/$target"/oom-* 2>/dev/null >&2 || true
  done
  exit 1
fi
echo "fuzz: all ${#TARGETS[@]} targets ran ${SECONDS_PER_TARGET} s each without a finding"
