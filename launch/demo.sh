#!/usr/bin/env bash
# The newcomer's demo: installs what is missing, builds, writes a small AudioCraft-style
# FSDP checkpoint (2 ranks) with real PyTorch under demo-out/, and runs fsdpshard on it.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${FSDPSHARD_BUILD_DIR:-$ROOT/build}
OUT=${FSDPSHARD_DEMO_DIR:-$ROOT/demo-out}
PY=${FSDPSHARD_PYTHON:-/usr/bin/python3}   # Debian's python3 has torch + omegaconf
BIN=$BUILD/fsdpshard

"$ROOT/launch/setup.sh"
"$ROOT/launch/build.sh" "$BUILD"

if [[ $(id -u) -eq 0 ]]; then
  export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
fi

# 1. An FSDP checkpoint as AudioCraft writes it: checkpoint.th (rank 0, holds the full
#    fp16 fsdp_best_state) and checkpoint.th.1 (rank 1). Rewritten only when the generator changed.
GEN=$ROOT/benchmarks/make_checkpoint.py
if [[ ! -f "$OUT/checkpoint.th" || ! -f "$OUT/checkpoint.th.1" \
      || "$GEN" -nt "$OUT/checkpoint.th" || "$ROOT/tests/fixtures/audiocraft_like.py" -nt "$OUT/checkpoint.th" ]]; then
  echo "== writing a MusicGen-style FSDP checkpoint (world size 2) with PyTorch into $OUT"
  "$PY" "$GEN" --scale mini --kind fsdp --world 2 --all-ranks --seed 0 -o "$OUT/checkpoint.th"
fi
ls -l "$OUT"

# 2. What is in it (fsdpshard never imports or runs anything from the file).
echo
echo "== $BIN inspect $OUT/checkpoint.th"
"$BIN" inspect "$OUT/checkpoint.th"

# 3. The main job: gather the full best state into one loadable checkpoint.
# ---- GATHER SPOT: when `fsdpshard gather` is ready, replace this block with e.g.
#   "$ROOT/launch/fsdpshard-mpirun.sh" 2 gather "$OUT/checkpoint.th" -o "$OUT/gathered.th" --force
#   "$BIN" inspect "$OUT/gathered.th"
#   "$PY" -c "import torch; sd = torch.load('$OUT/gathered.th', weights_only=False); print(sorted(sd))"
echo
echo "== (gather is not wired into the demo yet; see the GATHER SPOT in launch/demo.sh)"
