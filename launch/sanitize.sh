#!/usr/bin/env bash
# Builds the whole test suite with AddressSanitizer + UndefinedBehaviorSanitizer
# (-DFSDPSHARD_SANITIZE=ON, gcc, NCCL off) in build-asan/ and runs ctest there.
#   launch/sanitize.sh [ctest args]       e.g. launch/sanitize.sh -R 'Pickle|Zip'
# Any ASan/UBSan report fails the test that triggered it (the sanitizers abort).
# FSDPSHARD_SKIP_BIG_TESTS=1 (set by .ci/run) skips the 4 GiB zip64 write: plain I/O,
# 80 s under ASan, and launch/test.sh runs it.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${FSDPSHARD_ASAN_BUILD_DIR:-$ROOT/build-asan}

FSDPSHARD_QUIET_SETUP=1 "$ROOT/launch/setup.sh"
# shellcheck source=launch/ccache.sh
source "$ROOT/launch/ccache.sh"
if [[ ! -f "$BUILD/CMakeCache.txt" ]]; then
  # -O1 keeps the instrumented binaries reasonably quick; NCCL off: nvcc takes no -fsanitize.
  cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS_DEBUG="-g -O1" \
    -DFSDPSHARD_SANITIZE=ON -DFSDPSHARD_NCCL=OFF "${CCACHE_LAUNCHER[@]}" >/dev/null
fi
# The torch 2.x tests run here too, as in launch/test.sh: a missing venv fails them.
FSDPSHARD_TORCH2_PYTHON=$("$ROOT/launch/torch2-venv.sh")
export FSDPSHARD_TORCH2_PYTHON FSDPSHARD_REQUIRE_TORCH2=1
if [[ $(id -u) -eq 0 ]]; then
  export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
fi
export OMPI_MCA_btl_vader_single_copy_mechanism=${OMPI_MCA_btl_vader_single_copy_mechanism:-none}
# Keep Open MPI's plugins loaded until exit, so LeakSanitizer can name them (mca_*.so).
export OMPI_MCA_mca_base_component_disable_dlclose=1
# abort_on_error: a report kills the process (a test sees a crash, never a pass);
# LibTorch and Open MPI keep per-process allocations until exit (tests/sanitize/lsan.supp).
export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1:detect_odr_violation=0}
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$ROOT/tests/sanitize/lsan.supp:print_suppressions=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

# The options are exported before building: gtest_discover_tests runs the instrumented
# test binary at build time to list its tests.
cmake --build "$BUILD" -j "${FSDPSHARD_JOBS:-$(nproc)}"

# Processes started by mpirun run without LeakSanitizer: Open MPI's plugins allocate at
# init from code without frame pointers, so their leaks cannot be attributed (or
# suppressed) by library; ASan and UBSan still stop them at the first error. Open MPI
# hands mca_base_env_list to every rank it starts; the test processes that start mpirun
# keep leak detection.
export OMPI_MCA_mca_base_env_list="ASAN_OPTIONS=$ASAN_OPTIONS:detect_leaks=0"
cd "$BUILD"
exec ctest --output-on-failure -j "${FSDPSHARD_TEST_JOBS:-2}" "$@"
