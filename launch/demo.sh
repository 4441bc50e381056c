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

# 3. The main job: gather the full best state into one checkpoint that AudioCraft's
#    continue_from (or plain torch.load) reads, on 2 ranks under mpirun.
echo
echo "== launch/fsdpshard-mpirun.sh 2 gather $OUT/checkpoint.th -o $OUT/gathered.th"
"$ROOT/launch/fsdpshard-mpirun.sh" 2 gather "$OUT/checkpoint.th" -o "$OUT/gathered.th" --force
echo
echo "== $BIN inspect $OUT/gathered.th"
"$BIN" inspect "$OUT/gathered.th"

# 4. Check with PyTorch that the gathered weights are the FSDP best state, bit for bit.
echo
echo "== checking with PyTorch"
"$PY" - "$OUT/checkpoint.th" "$OUT/gathered.th" <<'PYEOF'
import sys, torch
kw = {"map_location": "cpu"}
if tuple(int(x) for x in torch.__version__.split("+")[0].split(".")[:2]) >= (1, 13):
    kw["weights_only"] = False
src = torch.load(sys.argv[1], **kw)["fsdp_best_state"]["model"]
out = torch.load(sys.argv[2], **kw)["best_state"]["model"]
assert list(src) == list(out), "keys differ"
for k in src:
    assert src[k].dtype == out[k].dtype and src[k].shape == out[k].shape and torch.equal(src[k], out[k]), k
print(f"ok: torch.load reads {len(out)} tensors, identical to fsdp_best_state['model']")
PYEOF
