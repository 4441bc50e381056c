#!/usr/bin/env bash
# Installs fsdpshard from BUILD into a fresh prefix, builds examples/musicgen_lm against it
# with find_package(fsdpshard) as a consumer would, runs it on the exported fixture and
# has Python run the same forward (tests/python/musicgen_lm.py).
# Usage: example_test.sh SOURCE_DIR BUILD_DIR WORK_DIR PYTHON FIXTURES
set -euo pipefail
SOURCE=$1 BUILD=$2 WORK=$3 PYTHON=$4 FIXTURES=$5
rm -rf "$WORK"
mkdir -p "$WORK"
cmake --install "$BUILD" --prefix "$WORK/prefix" >/dev/null
launcher=()
if command -v ccache >/dev/null 2>&1; then launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache); fi
cmake -S "$SOURCE/examples/musicgen_lm" -B "$WORK/build" -DCMAKE_PREFIX_PATH="$WORK/prefix" \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo "${launcher[@]}" >/dev/null
cmake --build "$WORK/build" -j "${FSDPSHARD_JOBS:-2}" >/dev/null
"$WORK/build/musicgen_lm" "$FIXTURES/exported/state_dict.bin" "$WORK/logits.pt"
"$PYTHON" "$SOURCE/tests/python/musicgen_lm.py" "$FIXTURES/exported/state_dict.bin" "$WORK/logits.pt"
