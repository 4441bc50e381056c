#!/usr/bin/env bash
# Configures (once) and builds fsdpshard: launch/build.sh [build-dir]   (default: build/)
# Extra CMake options for the first configure: FSDPSHARD_CMAKE_ARGS="-DFSDPSHARD_NCCL=OFF ..."
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${1:-$ROOT/build}
JOBS=${FSDPSHARD_JOBS:-$(nproc)}

# shellcheck source=launch/ccache.sh
source "$ROOT/launch/ccache.sh"
if [[ ! -f "$BUILD/CMakeCache.txt" ]]; then
  # shellcheck disable=SC2086
  cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo "${CCACHE_LAUNCHER[@]}" ${FSDPSHARD_CMAKE_ARGS:-}
fi
cmake --build "$BUILD" -j "$JOBS"
