#!/usr/bin/env bash
# One prepared check of the GPU parts of fsdpshard, for a machine with an NVIDIA GPU
# (the lent H200: root, no network, CUDA 13 + PyTorch in python3, maybe no MPI).
#
#   launch/device-check.sh            (from the repository root; ~2-8 minutes)
#   DEVICE_CHECK_SECONDS=500           overall deadline (default 500 s)
# Through the device tool: run(command="launch/device-check.sh", timeout_s=560); the log
# and summary come back under $OUT.
#
# Two independent stages, cheapest first, so a failure or a timeout in the second still
# leaves the first one's answer:
#   1. standalone: nvcc builds tests/mpi/nccl_check.cpp with only the CUDA/NCCL sources
#      (no MPI, no LibTorch) and runs it: cast kernels vs cast_math.h and vs the CPU cast
#      (src/plan/cast.cpp) on every 16-bit pattern and ~4M float32 values, and the NCCL
#      staging path on one GPU (a one-rank communicator exchanging with itself, 1 B .. 512 MiB).
#   2. project: CMake with -DFSDPSHARD_NCCL=ON (LibTorch from python3's torch when no
#      system one), then nccl_check under mpirun with 1 rank (the nccl backend runs the
#      shared suite; Communicator::cast against the CPU cast for every dtype pair, on the
#      device for the kernel pairs; the executor over nccl casting on the device, output bit
#      for bit the CPU cast's; casts also compared with torch) and 2 ranks (NCCL refuses two
#      ranks on one GPU: the backend must refuse on every rank with a clear message; on 2
#      GPUs the same checks with rank 1 casting and sending), and the comm checks of ctest.
#      Skipped, with the reason, where a dependency is missing.
# Everything is logged (set -x) to $OUT/device-check.log (or build-device/); the last
# lines are a PASS/FAIL/SKIP summary. Exit code 0 only if nothing FAILed.
set -uo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$ROOT/build-device
LOG_DIR=${OUT:-$BUILD}
mkdir -p "$BUILD" "$LOG_DIR"
exec > >(tee "$LOG_DIR/device-check.log") 2>&1
cd "$ROOT"

declare -a SUMMARY=()
record() {  # record NAME STATUS DETAIL
  SUMMARY+=("$(printf '%-4s %-34s %s' "$2" "$1" "${3:-}")")
  echo "=== $2: $1 ${3:-}"
}
step() { echo; echo "################ $* ################"; }

export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMPI_MCA_btl_vader_single_copy_mechanism=none
export PATH=/usr/local/cuda/bin:$PATH
JOBS=$(nproc)
# One deadline for the whole script (the lent machine allows 10 minutes a command): each
# step gets what is left, so the summary is always printed.
DEADLINE=$((SECONDS + ${DEVICE_CHECK_SECONDS:-500}))
budget() {  # budget MAX: seconds for the next step, at most MAX, leaving 20 s for the summary
  local left=$((DEADLINE - SECONDS - 20))
  [ $left -lt 1 ] && left=1
  [ $left -lt $1 ] && echo $left || echo $1
}

step "environment"
set -x
uname -a
nvidia-smi -L || true
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv || true
command -v nvcc cmake ninja mpirun mpicxx g++ python3 || true
nvcc --version | tail -2 || true
python3 -c 'import torch; print("torch", torch.__version__, "cuda", torch.version.cuda, "gpus", torch.cuda.device_count())' || true
set +x

# NCCL: the CUDA toolkit's, a system one, or the one in the nvidia-nccl-cu13 wheel.
find_nccl() {
  local candidates=("${CUDA_HOME:-/usr/local/cuda}" /usr/local/cuda /usr)
  local wheel
  wheel=$(python3 -c 'import nvidia.nccl, os; print(os.path.dirname(nvidia.nccl.__file__) if nvidia.nccl.__file__ else list(nvidia.nccl.__path__)[0])' 2>/dev/null) && candidates+=("$wheel")
  for prefix in "${candidates[@]}"; do
    [ -f "$prefix/include/nccl.h" ] || continue
    for lib in "$prefix/lib64" "$prefix/lib" "$prefix/lib/x86_64-linux-gnu" /usr/lib/x86_64-linux-gnu; do
      if ls "$lib"/libnccl.so* >/dev/null 2>&1; then
        NCCL_INC=$prefix/include NCCL_LIB=$lib
        NCCL_SO=$(ls "$lib"/libnccl.so* | head -1)
        return 0
      fi
    done
  done
  return 1
}

step "1. standalone nccl_check (nvcc, CUDA + NCCL only)"
if ! command -v nvcc >/dev/null; then
  record "standalone build" FAIL "nvcc not found"
elif ! find_nccl; then
  record "standalone build" FAIL "nccl.h/libnccl.so not found (CUDA_HOME, /usr, nvidia-nccl wheel)"
else
  echo "NCCL: include $NCCL_INC, library $NCCL_SO"
  set -x
  # Link the library file itself: the wheel ships libnccl.so.2 without the libnccl.so link.
  if nvcc -std=c++17 -O2 -arch=sm_90 -DFSDPSHARD_NCCL_CHECK_STANDALONE \
      -I include -I src -I tests -I "$NCCL_INC" \
      tests/mpi/nccl_check.cpp src/comm/nccl/cast_kernels.cu src/comm/nccl/device_caster.cpp \
      src/comm/nccl/nccl_channel.cpp src/comm/nccl/cuda_check.cpp src/plan/cast.cpp \
      src/util/dtype.cpp src/util/error.cpp \
      "$NCCL_SO" -Xlinker -rpath -Xlinker "$NCCL_LIB" -o "$BUILD/nccl_check_standalone"; then
    set +x
    record "standalone build" PASS
    set -x
    timeout $(budget 180) "$BUILD/nccl_check_standalone"
    code=$?
    set +x
    case $code in
      0) record "standalone nccl_check" PASS "casts + staging on 1 GPU" ;;
      77) record "standalone nccl_check" SKIP "no CUDA device visible" ;;
      124) record "standalone nccl_check" FAIL "timed out" ;;
      *) record "standalone nccl_check" FAIL "exit code $code (see FAIL/ERROR lines above)" ;;
    esac
  else
    set +x
    record "standalone build" FAIL "nvcc failed (see above)"
  fi
fi

step "2. project build with -DFSDPSHARD_NCCL=ON"
prefix_path=$(python3 -c 'import torch; print(torch.utils.cmake_prefix_path)' 2>/dev/null || true)
generator=()
command -v ninja >/dev/null && generator=(-G Ninja)
set -x
timeout $(budget 150) cmake -S "$ROOT" -B "$BUILD/project" "${generator[@]}" -DCMAKE_BUILD_TYPE=Release \
  -DFSDPSHARD_NCCL=ON -DCMAKE_CUDA_ARCHITECTURES=90 -DFSDPSHARD_TEST_BIG_MESSAGES=ON \
  -DFSDPSHARD_PYTHON="$(command -v python3)" ${prefix_path:+-DCMAKE_PREFIX_PATH="$prefix_path"} \
  > "$BUILD/configure.log" 2>&1
configured=$?
set +x
if [ $configured -ne 0 ]; then
  tail -30 "$BUILD/configure.log"
  missing=$(grep -oE "Could NOT find [A-Za-z0-9_:-]+|Could not find a package configuration file provided by \"[^\"]+\"|package '[^']+' not found|No package '[^']+' found" "$BUILD/configure.log" | sort -u | tr '\n' ';')
  record "project configure" SKIP "configure failed: ${missing:-see $BUILD/configure.log}"
else
  record "project configure" PASS
  set -x
  timeout $(budget 300) cmake --build "$BUILD/project" -j "$JOBS" --target nccl_check comm_mpi_check \
    > "$BUILD/build.log" 2>&1
  built=$?
  set +x
  if [ $built -ne 0 ]; then
    grep -E "error|Error" "$BUILD/build.log" | head -30
    record "project build" FAIL "exit $built (see $BUILD/build.log)"
  else
    record "project build" PASS
    for np in 1 2; do
      set -x
      timeout $(budget 120) mpirun --oversubscribe -np $np "$BUILD/project/tests/nccl_check"
      code=$?
      set +x
      case $code in
        0) record "nccl_check np=$np" PASS "$([ $np = 1 ] && echo 'suite over nccl' || echo 'refused: 2 ranks, 1 GPU')" ;;
        77) record "nccl_check np=$np" SKIP "no CUDA device visible" ;;
        *) record "nccl_check np=$np" FAIL "exit code $code" ;;
      esac
    done
    set -x
    # The mpirun checks of ctest (comm_mpi_check 1..4 ranks, 2.1 GiB, abort); the unit
    # tests need no GPU and run in CI.
    (cd "$BUILD/project" && timeout $(budget 180) ctest -R 'comm_mpi|nccl_check' --output-on-failure)
    code=$?
    set +x
    [ $code -eq 0 ] && record "ctest comm_mpi|nccl_check" PASS || record "ctest comm_mpi|nccl_check" FAIL "exit code $code"
  fi
fi

echo
echo "################ device-check summary ################"
printf '%s\n' "${SUMMARY[@]}" | tee "$LOG_DIR/summary.txt"
if printf '%s\n' "${SUMMARY[@]}" | grep -q '^FAIL'; then
  echo "device-check: FAIL"
  exit 1
fi
echo "device-check: PASS (SKIP lines say what could not be checked here)"
