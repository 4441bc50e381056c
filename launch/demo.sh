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

# 3. The main job, as a fine-tuning preparation: gather the full best state into one
#    checkpoint that AudioCraft's continue_from (or plain torch.load) reads, dropping the
#    description conditioner (to re-initialise it) and patching xp.cfg, on 2 ranks.
GATHER=(gather "$OUT/checkpoint.th" -o "$OUT/gathered.th" --force
        --exclude 'condition_provider.conditioners.description*'
        --set optim.lr=1e-5 --set optim.epochs=50 --set dataset.train.path=/data/ft)
echo
echo "== launch/fsdpshard-mpirun.sh 2 ${GATHER[*]}"
"$ROOT/launch/fsdpshard-mpirun.sh" 2 "${GATHER[@]}"
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
pkg = torch.load(sys.argv[2], **kw)
out = pkg["best_state"]["model"]
kept = [k for k in src if not k.startswith("condition_provider.conditioners.description")]
assert list(out) == kept, "keys differ"
for k in kept:
    assert src[k].dtype == out[k].dtype and src[k].shape == out[k].shape and torch.equal(src[k], out[k]), k
cfg = pkg["xp.cfg"]
assert cfg.optim.lr == 1e-5 and cfg.optim.epochs == 50 and cfg.dataset.train.path == "/data/ft", "cfg not patched"
print(f"ok: torch.load reads {len(out)} tensors, identical to fsdp_best_state['model'] without the "
      f"{len(src) - len(kept)} description-conditioner tensors; xp.cfg is a {type(cfg).__name__} with "
      f"optim.lr={cfg.optim.lr}, optim.epochs={cfg.optim.epochs}, dataset.train.path={cfg.dataset.train.path}")
PYEOF
