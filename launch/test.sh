#!/usr/bin/env bash
# Installs what is missing, builds, runs the whole test suite (ctest) in build/.
# Extra arguments go to ctest, e.g. launch/test.sh -R Inspect
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${FSDPSHARD_BUILD_DIR:-$ROOT/build}

"$ROOT/launch/setup.sh"
"$ROOT/launch/build.sh" "$BUILD"
# The torch 2.x tests (FSDP resume, huggingface_hub, torch 2.x loaders) run here too: the
# cached venv is created when missing, and a test that cannot find it fails, not skips.
FSDPSHARD_TORCH2_PYTHON=$("$ROOT/launch/torch2-venv.sh")
export FSDPSHARD_TORCH2_PYTHON FSDPSHARD_REQUIRE_TORCH2=1

if [[ $(id -u) -eq 0 ]]; then
  # Open MPI refuses to run as root without these (the tests start mpirun).
  export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
fi
# Containers often forbid the cross-memory-attach Open MPI's shared-memory transport uses.
export OMPI_MCA_btl_vader_single_copy_mechanism=${OMPI_MCA_btl_vader_single_copy_mechanism:-none}

cd "$BUILD"
ctest --output-on-failure -j "${FSDPSHARD_TEST_JOBS:-2}" "$@"
