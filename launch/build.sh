#!/usr/bin/env bash
# Configures (once) and builds fsdpshard: launch/build.sh [build-dir]   (default: build/)
# Extra CMake options for the first configure: FSDPSHARD_CMAKE_ARGS="-DFSDPSHARD_NCCL=OFF ..."
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${1:-$ROOT/build}
JOBS=${FSDPSHARD_JOBS:-$(nproc)}

LAUNCHER=()
if command -v ccache >/dev/null 2>&1; then
  # Several checkouts (worktrees, CI's fresh clone) then share compiled objects.
  LAUNCHER=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache)
fi
if [[ ! -f "$BUILD/CMakeCache.txt" ]]; then
  # shellcheck disable=SC2086
  cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo "${LAUNCHER[@]}" ${FSDPSHARD_CMAKE_ARGS:-}
fi
cmake --build "$BUILD" -j "$JOBS"
